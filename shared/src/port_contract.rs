//! What every implementation of the storage ports must do, as one suite: the in-memory
//! store's unit tests and the service tests against DynamoDB (the local AWS) both run
//! it, so the engine's fast tests decide over the same conditions that hold in AWS.
//!
//! Each check works on items of its own `run` (scopes, realms and budget subjects named
//! by it), so several runs share one table.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::challenge::{Handle, LiveCode, Located, Settlement, State};
use crate::clock::UnixSeconds;
use crate::code::SealedCode;
use crate::destination::{Channel, Destination};
use crate::ports::{
    AttemptCount, ChallengeStore, ClientLimits, ClientRecord, ClientRegistry, Consumed, ContactKind, ConversionStore,
    QuotaStore,
};
use crate::ports::{AttemptLog, AttemptReader, Permission, SpendStore, UserDirectory};
use crate::quota::{Counter, CounterCharge, Exceeded, Sliding, SlidingCharge};
use crate::scope::{Product, Realm, Scope, UserRef};
use crate::test_destinations::TestOwner;

/// Every check, one after another.
pub async fn check_all<S>(store: &S, run: &str, now: UnixSeconds)
where
    S: ChallengeStore
        + QuotaStore
        + ConversionStore
        + SpendStore
        + AttemptLog
        + AttemptReader
        + UserDirectory
        + ClientRegistry,
{
    a_challenge_lives_counts_and_is_used_once(store, run, now).await;
    a_dead_challenge_counts_nothing_and_is_replaced_as_read(store, run, now).await;
    sliding_budgets_admit_refuse_and_give_back_exactly(store, run, now).await;
    counters_count_per_window_and_give_back(store, run, now).await;
    the_guard_counts_days_hours_and_cool_offs(store, run, now).await;
    spend_adds_up_and_takes_back_only_what_it_holds(store, run, now).await;
    attempts_are_listed_per_tenant_newest_first_and_converted(store, run, now).await;
    a_destination_has_one_owner_per_realm(store, run, now).await;
    a_used_code_links_its_destination_in_the_same_step(store, run, now).await;
    a_client_is_written_once(store, run).await;
}

fn sealed(tag: &str) -> SealedCode {
    SealedCode {
        key_id: "k1".to_owned(),
        tag: tag.as_bytes().to_vec(),
        bound_to: None,
    }
}

/// A delivered code: a new challenge replacing `replaces` (`opens`), or a refresh of `id`.
fn live(id: &str, tag: &str, now: UnixSeconds, opens: bool, replaces: Option<&str>) -> LiveCode {
    LiveCode {
        challenge_id: id.to_owned(),
        auth_code: "4821".to_owned(),
        sealed: sealed(tag),
        code_length: 6,
        now,
        expires_at: now + 300,
        cleanup_at: now + 300 + 86_400,
        opens,
        replaces: replaces.map(str::to_owned),
        max_attempts: 5,
        indexed_by_id: opens,
        channel: Channel::Sms,
        attempt: (!tag.is_empty()).then(|| format!("attempt-{tag}")),
    }
}

fn email(run: &str, name: &str) -> Destination {
    Destination::email(&format!("{name}.{run}@example.com")).expect("a valid address")
}

fn phone(national: &str) -> Destination {
    Destination::phone("+91", national).expect("a valid number")
}

pub async fn a_challenge_lives_counts_and_is_used_once<S: ChallengeStore>(store: &S, run: &str, now: UnixSeconds) {
    let scope = &Scope::Client(format!("{run}-lives"));
    let to = &email(run, "lives");
    let id = &format!("{run}-lives-1");
    assert_eq!(store.load(scope, to).await.expect("load"), None, "nothing yet");
    assert_eq!(
        store
            .count_attempt(scope, to, &Handle::Open, now, 5)
            .await
            .expect("count"),
        AttemptCount::Refused(None),
        "nothing to count on"
    );
    assert!(
        store
            .put_live(scope, to, &live(id, "a", now, true, None))
            .await
            .expect("open")
    );
    assert!(
        !store
            .put_live(scope, to, &live(id, "b", now, true, None))
            .await
            .expect("open again"),
        "a new challenge replaces only the item that was read (none)"
    );
    assert_eq!(
        store.locate(id).await.expect("locate"),
        Some(Located {
            scope_key: scope.key(),
            destination: to.clone(),
        })
    );
    let loaded = store.load(scope, to).await.expect("load").expect("the challenge");
    assert_eq!(
        (loaded.state, loaded.attempts, loaded.expires_at),
        (State::Open, 0, now + 300)
    );
    assert_eq!(loaded.code, Some(sealed("a")));
    assert_eq!(
        loaded.attempt.as_deref(),
        Some("attempt-a"),
        "the attempt that delivered it"
    );

    // Attempts: counted only on the challenge named, one at a time, up to the ceiling.
    let count = |handle: Handle, max: u32| async move {
        store.count_attempt(scope, to, &handle, now, max).await.expect("count")
    };
    let counted = |count: AttemptCount| match count {
        AttemptCount::Counted(challenge) => Some(challenge.attempts),
        AttemptCount::Refused(_) => None,
    };
    assert_eq!(
        counted(count(Handle::AuthCode("1111".into()), 5).await),
        None,
        "another authCode"
    );
    assert_eq!(
        counted(count(Handle::Id("another".into()), 5).await),
        None,
        "another id"
    );
    assert_eq!(
        counted(count(Handle::LocatedId("another".into()), 5).await),
        None,
        "another located id"
    );
    assert_eq!(counted(count(Handle::AuthCode("4821".into()), 5).await), Some(1));
    assert_eq!(counted(count(Handle::Id(id.clone()), 5).await), Some(2));
    assert_eq!(counted(count(Handle::Open, 5).await), Some(3));
    store.uncount_attempt(scope, to, id).await.expect("uncount");
    store.uncount_attempt(scope, to, "another").await.expect("uncount");
    assert_eq!(
        counted(count(Handle::Open, 2).await),
        None,
        "3 given back to 2: a ceiling of 2 is reached"
    );
    assert_eq!(counted(count(Handle::Open, 4).await), Some(3));
    // What a refusal saw: the challenge as it stood, whatever refused the attempt.
    match count(Handle::Open, 3).await {
        AttemptCount::Refused(Some(stood)) => assert_eq!((stood.id.as_str(), stood.attempts), (id.as_str(), 3)),
        other => panic!("refused at its ceiling, as it stood: {other:?}"),
    }

    // A refresh: the new code replaces the old, on the same challenge.
    assert!(
        !store
            .put_live(scope, to, &live("another", "c", now, false, None))
            .await
            .expect("refresh"),
        "a refresh names its challenge"
    );
    assert!(
        store
            .put_live(scope, to, &live(id, "c", now + 1, false, None))
            .await
            .expect("refresh")
    );
    let refreshed = store.load(scope, to).await.expect("load").expect("the challenge");
    assert_eq!(
        (refreshed.attempts, refreshed.sent_at, refreshed.created_at),
        (3, now + 1, now)
    );
    assert_eq!(refreshed.code, Some(sealed("c")));
    assert_eq!(
        refreshed.attempt.as_deref(),
        Some("attempt-c"),
        "a refresh's attempt replaces it"
    );

    // Used once: the old code never, the new one once.
    let consume = |tag: &'static str| async move {
        store
            .consume(scope, to, id, &sealed(tag), now + 2, None)
            .await
            .expect("consume")
    };
    assert_eq!(consume("a").await, Consumed::AlreadyGone, "the replaced code");
    assert_eq!(consume("c").await, Consumed::Used { moved_from: None });
    assert_eq!(consume("c").await, Consumed::AlreadyGone, "used once");
    let used = store.load(scope, to).await.expect("load").expect("the challenge");
    assert_eq!(
        (used.state, used.code, used.settled_at),
        (State::Used, None, Some(now + 2))
    );
    assert_eq!(
        counted(count(Handle::Open, 5).await),
        None,
        "a used challenge counts nothing"
    );
}

pub async fn a_dead_challenge_counts_nothing_and_is_replaced_as_read<S: ChallengeStore>(
    store: &S,
    run: &str,
    now: UnixSeconds,
) {
    let scope = &Scope::Client(format!("{run}-dead"));
    let to = &email(run, "dead");
    let first = format!("{run}-dead-1");
    assert!(
        store
            .put_live(scope, to, &live(&first, "a", now, true, None))
            .await
            .expect("open")
    );
    let after_expiry = now + 300;
    assert_eq!(
        store
            .count_attempt(scope, to, &Handle::Open, after_expiry, 5)
            .await
            .expect("count"),
        AttemptCount::Refused(store.load(scope, to).await.expect("load")),
        "expired: refused, as it stood"
    );
    assert_eq!(
        store
            .consume(scope, to, &first, &sealed("a"), after_expiry, None)
            .await
            .expect("consume"),
        Consumed::AlreadyGone
    );
    assert!(
        !store
            .put_live(scope, to, &live(&first, "b", after_expiry, false, None))
            .await
            .expect("refresh"),
        "an expired challenge is not refreshed"
    );

    // Settled by its owner, once, and only while open.
    let second = &format!("{run}-dead-2");
    assert!(
        !store
            .put_live(scope, to, &live(second, "b", now, true, Some("another")))
            .await
            .expect("replace"),
        "a replacement names the item it read"
    );
    assert!(
        store
            .put_live(scope, to, &live(second, "b", now, true, Some(&first)))
            .await
            .expect("replace")
    );
    let settle = |settlement| async move {
        store
            .settle(scope, to, second, settlement, now + 1, 5)
            .await
            .expect("settle")
            .map(|challenge| (challenge.state, challenge.settled_at, challenge.code))
    };
    assert_eq!(
        settle(Settlement::Cancel).await,
        Some((State::Canceled, Some(now + 1), None))
    );
    assert_eq!(settle(Settlement::Approve).await, None, "settled once");
}

fn sliding(run: &str) -> SlidingCharge {
    SlidingCharge {
        rule: Sliding {
            name: "contract",
            limit: 2,
            per: Duration::from_secs(60),
            min_interval: Some(Duration::from_secs(10)),
        },
        subject: format!("{run}-subject"),
    }
}

pub async fn sliding_budgets_admit_refuse_and_give_back_exactly<S: QuotaStore>(store: &S, run: &str, now: UnixSeconds) {
    let charge = sliding(run);
    let take = |at: UnixSeconds| {
        let charge = charge.clone();
        async move { store.take(&charge, at).await.expect("take") }
    };
    assert_eq!(take(now).await, Ok(()));
    assert_eq!(
        take(now + 1).await,
        Err(Exceeded { retry_after: 9 }),
        "the minimum interval"
    );
    assert_eq!(take(now + 10).await, Ok(()));
    assert_eq!(take(now + 20).await, Err(Exceeded { retry_after: 40 }), "two a minute");
    // Given back exactly: the budget is as if the request at now + 10 had never come.
    store.give_back(&charge, now + 10).await.expect("give back");
    store
        .give_back(&charge, now + 15)
        .await
        .expect("nothing of that second to give back");
    assert_eq!(take(now + 20).await, Ok(()));
    assert_eq!(take(now + 30).await, Err(Exceeded { retry_after: 30 }));
}

pub async fn counters_count_per_window_and_give_back<S: QuotaStore>(store: &S, run: &str, now: UnixSeconds) {
    let charge = CounterCharge {
        rule: Counter {
            name: "contract",
            limit: 3,
            per: Duration::from_secs(3_600),
        },
        subject: format!("{run}-counted"),
    };
    let window_start = charge.rule.window_end(charge.rule.window(now)) - 3_600;
    let count = |at: UnixSeconds| {
        let charge = charge.clone();
        async move { store.count(&charge, at).await.expect("count") }
    };
    assert_eq!(count(window_start).await, 1);
    assert_eq!(count(window_start + 1).await, 2);
    store.uncount(&charge, window_start).await.expect("uncount");
    assert_eq!(count(window_start + 2).await, 2);
    assert_eq!(count(window_start + 3_600).await, 1, "the next window starts afresh");
    store.uncount(&charge, window_start + 3_600).await.expect("uncount");
    store
        .uncount(&charge, window_start + 3_600)
        .await
        .expect("never below zero");
    assert_eq!(count(window_start + 3_601).await, 1);
}

pub async fn attempts_are_listed_per_tenant_newest_first_and_converted<S: AttemptLog + AttemptReader>(
    store: &S,
    run: &str,
    now: UnixSeconds,
) {
    use crate::attempts::{AttemptFilter, SendAttempt, new_id};
    let tenant = format!("client:{run}-attempts");
    let other = format!("client:{run}-other");
    // Seven attempts over three days, one an hour apart within each, and one of another tenant.
    let made: Vec<SendAttempt> = (0..7)
        .map(|n| {
            let at = now - (n / 3) * 86_400 - (n % 3) * 3_600;
            SendAttempt {
                id: new_id(),
                tenant: tenant.clone(),
                service: Some("svc".to_owned()),
                challenge_id: format!("challenge-{n}"),
                channel: if n == 4 { Channel::Email } else { Channel::Sms },
                to: if n == 4 {
                    format!("{run}@example.com")
                } else {
                    format!("+4479111234{n:02}")
                },
                country: (n != 4).then(|| "GB".to_owned()),
                created_at: at,
                updated_at: at,
                converted: false,
                price: (n != 4).then_some(50_000),
            }
        })
        .collect();
    for attempt in &made {
        store.record_attempt(attempt).await.expect("recorded");
    }
    let mut theirs = made[0].clone();
    theirs.id = new_id();
    theirs.tenant = other.clone();
    store.record_attempt(&theirs).await.expect("recorded");
    store.convert_attempt(&made[1].id, now + 5).await.expect("converted");
    store
        .convert_attempt(&new_id(), now)
        .await
        .expect("gone: nothing to mark");

    let read = store
        .attempt(&tenant, &made[1].id)
        .await
        .expect("read")
        .expect("its own");
    assert_eq!((read.converted, read.updated_at), (true, now + 5));
    assert_eq!(read.price, Some(50_000));
    assert_eq!(
        store.attempt(&tenant, &theirs.id).await.expect("read"),
        None,
        "another tenant's"
    );

    // Pages of three, newest first, across the days, then a filter.
    let all = AttemptFilter::kept_at(now);
    let mut listed = Vec::new();
    let mut from = None;
    loop {
        let page = store
            .attempts_page(&tenant, &all, 3, from.as_ref())
            .await
            .expect("a page");
        assert!(page.attempts.len() <= 3);
        listed.extend(page.attempts.iter().map(|a| a.id.clone()));
        match page.next {
            Some(next) => from = Some(next),
            None => break,
        }
        assert!(listed.len() < 10, "paging ends");
    }
    let expected: Vec<String> = made.iter().map(|a| a.id.clone()).collect();
    assert_eq!(listed, expected);
    let converted = AttemptFilter {
        converted: Some(true),
        ..all.clone()
    };
    let page = store
        .attempts_page(&tenant, &converted, 10, None)
        .await
        .expect("a page");
    assert_eq!(page.attempts.iter().map(|a| &a.id).collect::<Vec<_>>(), [&made[1].id]);
    let yesterday = AttemptFilter {
        after: now - 86_400 - 7_200,
        before: now - 86_400 + 1,
        channel: Some(Channel::Sms),
        ..all
    };
    let page = store
        .attempts_page(&tenant, &yesterday, 10, None)
        .await
        .expect("a page");
    let ids: Vec<&String> = page.attempts.iter().map(|a| &a.id).collect();
    assert_eq!(ids, [&made[3].id, &made[5].id], "made[4] is an email");
    assert_eq!(page.next, None);
}

pub async fn spend_adds_up_and_takes_back_only_what_it_holds<S: SpendStore>(store: &S, run: &str, now: UnixSeconds) {
    let counter = |key: &str| crate::spend::SpendCounter {
        cap: crate::spend::Cap::Deployment,
        key: format!("deployment#{run}#{key}"),
        limit: 100_000,
        window_end: now + 3_600,
    };
    let (one, other) = (counter("0"), counter("1"));
    assert_eq!(store.add_spend(&one, 50_000).await.expect("added"), 50_000);
    assert_eq!(store.add_spend(&one, 8_800).await.expect("added"), 58_800);
    assert_eq!(
        store.add_spend(&other, 1).await.expect("added"),
        1,
        "a shard of its own"
    );
    store.take_back_spend(&one, 50_000).await.expect("taken back");
    // More than it holds: nothing is taken, and it never goes below zero.
    store.take_back_spend(&one, 10_000).await.expect("nothing to take");
    store
        .take_back_spend(&counter("2"), 10_000)
        .await
        .expect("nothing was added");
    assert_eq!(store.add_spend(&one, 0).await.expect("read by adding nothing"), 8_800);
    assert_eq!(store.add_spend(&counter("2"), 0).await.expect("read"), 0);
}

pub async fn the_guard_counts_days_hours_and_cool_offs<S: ConversionStore>(store: &S, run: &str, now: UnixSeconds) {
    use crate::guard::{DAY, HOUR, Tally, WINDOW_DAYS};
    let subject = format!("{run}-guarded");
    let hour_start = now - now.rem_euclid(HOUR);
    let (day, yesterday) = (hour_start.div_euclid(DAY), hour_start.div_euclid(DAY) - 1);
    // Two weeks ago and yesterday: the first leaves the window as the second stays.
    let count = |at: UnixSeconds| {
        let subject = subject.clone();
        async move { store.count_guarded_send(&subject, at).await.expect("count") }
    };
    count(hour_start - WINDOW_DAYS * DAY).await;
    store
        .count_verified(&subject, hour_start - WINDOW_DAYS * DAY)
        .await
        .expect("verified");
    count(hour_start - DAY).await;
    store
        .count_verified(&subject, hour_start - DAY)
        .await
        .expect("verified");
    let first = count(hour_start).await;
    assert_eq!(first.hour, Tally { sent: 1, verified: 0 });
    assert_eq!(first.days.get(&day), Some(&Tally { sent: 1, verified: 0 }));
    assert_eq!(first.days.get(&yesterday), Some(&Tally { sent: 1, verified: 1 }));
    assert_eq!(crate::guard::verified_in_window(&first, hour_start), 1);
    assert_eq!((first.blocked_until, first.blocks), (None, 0));

    store.count_verified(&subject, hour_start + 1).await.expect("verified");
    let second = count(hour_start + 2).await;
    assert_eq!(second.hour, Tally { sent: 2, verified: 1 });
    // A refused send is taken back, and its cool-off kept.
    store
        .uncount_guarded_send(&subject, hour_start + 2, Some((hour_start + HOUR, 1)))
        .await
        .expect("uncount");
    let third = count(hour_start + 3).await;
    assert_eq!(third.hour, Tally { sent: 2, verified: 1 });
    assert_eq!((third.blocked_until, third.blocks), (Some(hour_start + HOUR), 1));
    // A verified send taken back (another submission used the code first).
    store.count_verified(&subject, hour_start + 4).await.expect("verified");
    store
        .uncount_verified(&subject, hour_start + 4)
        .await
        .expect("uncounted");
    assert_eq!(count(hour_start + 5).await.hour, Tally { sent: 3, verified: 1 });
    // What no longer counts is never in the window, and once forgotten is not seen again.
    let stale = count(hour_start + 6).await.stale;
    assert!(stale.days.iter().all(|old| *old <= day - WINDOW_DAYS), "{stale:?}");
    store.forget(&subject, &stale).await.expect("forgotten");
    assert_eq!(count(hour_start + 7).await.stale, crate::guard::Spans::default());
    // The next hour starts afresh; the day goes on.
    let next_hour = count(hour_start + HOUR).await;
    assert_eq!(next_hour.hour, Tally { sent: 1, verified: 0 });
    if hour_start.div_euclid(DAY) == (hour_start + HOUR).div_euclid(DAY) {
        assert_eq!(next_hour.days.get(&day), Some(&Tally { sent: 6, verified: 1 }));
    }
}

pub async fn a_destination_has_one_owner_per_realm<S: UserDirectory>(store: &S, run: &str, now: UnixSeconds) {
    let realm = Realm::new(Product::Kgen, format!("{run}-owners"));
    let asha = UserRef::new(Product::Kgen, format!("{run}-owners"), "asha");
    let ravi = UserRef::new(Product::Kgen, format!("{run}-owners"), "ravi");
    let (first, second) = (phone("9876543210"), phone("9876543211"));
    assert_eq!(store.owner_of(&realm, &first).await.expect("owner"), None);
    assert_eq!(
        store.link_state(&first, &asha).await.expect("state"),
        Default::default()
    );

    assert_eq!(store.link(&first, &asha, now).await.expect("link"), None);
    assert_eq!(store.owner_of(&realm, &first).await.expect("owner"), Some(asha.clone()));
    assert_eq!(
        store.contact_of(&asha, ContactKind::Phone).await.expect("contact"),
        Some(first.clone())
    );
    let state = store.link_state(&first, &asha).await.expect("state");
    assert_eq!(state.owner, Some((asha.clone(), Some(first.as_str().to_owned()))));
    assert_eq!(state.user_contact.as_deref(), Some(first.as_str()));

    // Linked to another user of the realm: it moves, and leaves the first user's record.
    assert_eq!(store.link(&first, &ravi, now).await.expect("link"), Some(asha.clone()));
    assert_eq!(
        store.contact_of(&asha, ContactKind::Phone).await.expect("contact"),
        None
    );
    assert_eq!(
        store.contact_of(&ravi, ContactKind::Phone).await.expect("contact"),
        Some(first.clone())
    );
    // A user has one phone: a new one releases the previous from the registry.
    assert_eq!(store.link(&second, &ravi, now).await.expect("link"), None);
    assert_eq!(store.owner_of(&realm, &first).await.expect("owner"), None);
    assert_eq!(
        store.owner_of(&realm, &second).await.expect("owner"),
        Some(ravi.clone())
    );
    let elsewhere = Realm::new(Product::Bridgekeeper, format!("{run}-owners"));
    assert_eq!(
        store.owner_of(&elsewhere, &second).await.expect("owner"),
        None,
        "realms are apart"
    );
}

pub async fn a_used_code_links_its_destination_in_the_same_step<S: ChallengeStore + UserDirectory>(
    store: &S,
    run: &str,
    now: UnixSeconds,
) {
    let realm = Realm::new(Product::Kgen, format!("{run}-links"));
    let asha = UserRef::new(Product::Kgen, format!("{run}-links"), "asha");
    let ravi = UserRef::new(Product::Kgen, format!("{run}-links"), "ravi");
    let to = phone("9876543212");
    assert_eq!(store.link(&to, &ravi, now).await.expect("link"), None);
    let scope = Scope::User(asha.clone());
    let id = format!("{run}-links-1");
    assert!(
        store
            .put_live(&scope, &to, &live(&id, "a", now, true, None))
            .await
            .expect("open")
    );
    let state = store.link_state(&to, &asha).await.expect("state");
    assert_eq!(
        store
            .consume(&scope, &to, &id, &sealed("a"), now, Some((&asha, &state)))
            .await
            .expect("consume"),
        Consumed::Used {
            moved_from: Some(ravi.clone())
        }
    );
    assert_eq!(store.owner_of(&realm, &to).await.expect("owner"), Some(asha.clone()));
    assert_eq!(
        store.contact_of(&ravi, ContactKind::Phone).await.expect("contact"),
        None
    );
    assert_eq!(
        store.contact_of(&asha, ContactKind::Phone).await.expect("contact"),
        Some(to.clone())
    );
}

pub async fn a_client_is_written_once<S: ClientRegistry>(store: &S, run: &str) {
    let id = format!("{run}-client");
    let record = ClientRecord {
        id: id.clone(),
        name: "contract".to_owned(),
        secret_hash: vec![1, 2, 3],
        api_key_hash: Some(vec![4, 5, 6]),
        keys: Vec::new(),
        permissions: BTreeSet::from([Permission::Bizmagnets, Permission::Twilio]),
        limits: ClientLimits {
            sends_per_hour: Some(50),
            sends_per_number_range_per_hour: None,
        },
        disabled: false,
        services: Vec::new(),
    };
    assert!(store.client(&id).await.expect("client").is_none());
    store.put_client(&record).await.expect("written");
    assert!(
        store.client(&id).await.expect("client") == Some(record.clone()),
        "read back as written"
    );
    assert!(store.put_client(&record).await.is_err(), "a client id is written once");
    let owner = TestOwner::Client(id);
    assert_eq!(
        store
            .test_destination(&owner, &email(run, "test"))
            .await
            .expect("test destination"),
        None
    );
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn the_memory_store_keeps_the_port_contract() {
        let store = crate::memory::MemoryStore::default();
        super::check_all(&store, "memory", 1_790_000_000).await;
    }
}
