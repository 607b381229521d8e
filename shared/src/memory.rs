//! An in-memory implementation of the storage ports, for the engine's fast tests: every
//! call is one step under one lock, deciding on the same conditions as the DynamoDB
//! store's conditional writes (`store/`). The port contract suite (`port_contract.rs`)
//! runs against both, so neither can drift from the other. Never deployed.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::challenge::{Challenge, Handle, LiveCode, Located, Settlement, State};
use crate::clock::UnixSeconds;
use crate::code::SealedCode;
use crate::destination::Destination;
use crate::guard::{DAY, HOUR, PrefixTraffic, Tally, WINDOW_DAYS};
use crate::ports::{
    Admission, AttemptCount, ChallengeStore, ClientRecord, ClientRegistry, Consumed, ContactKind, ConversionStore,
    LinkState, QuotaStore, StoreError, UserDirectory,
};
use crate::quota::{CounterCharge, SlidingCharge};
use crate::scope::{Realm, Scope, UserRef};
use crate::test_destinations::{TestDestination, TestOwner, binding};

/// The store: one map per kind of item, as the table keys them.
#[derive(Debug, Default)]
pub struct MemoryStore {
    items: Mutex<Items>,
}

#[derive(Debug, Default)]
struct Items {
    /// By scope key and destination key.
    challenges: HashMap<(String, String), Challenge>,
    /// A challenge's id, where it lives.
    challenge_ids: HashMap<String, Located>,
    /// By rule and subject: the admissions, newest first.
    sliding: HashMap<(&'static str, String), Vec<UnixSeconds>>,
    /// By rule, subject and window.
    counters: HashMap<(&'static str, String, i64), u64>,
    /// By realm key and destination key: the owner, and the address as it was given.
    contacts: HashMap<(String, String), (UserRef, String)>,
    /// By user key: the user's phone and email on record.
    users: HashMap<String, Contacts>,
    clients: HashMap<String, ClientRecord>,
    /// By the binding of owner and destination, as the table keys them.
    test_destinations: HashMap<String, TestDestination>,
    /// The conversion guard's, by subject: the traffic, and its hours apart.
    guarded: HashMap<String, (PrefixTraffic, std::collections::BTreeMap<i64, Tally>)>,
    /// The spend cap's counters, by key.
    spend: HashMap<String, crate::spend::Micros>,
    /// Delivered messages, by id.
    attempts: HashMap<String, crate::attempts::SendAttempt>,
}

#[derive(Debug, Default)]
struct Contacts {
    phone: Option<Destination>,
    email: Option<Destination>,
}

impl Contacts {
    fn of(&self, kind: ContactKind) -> Option<&Destination> {
        match kind {
            ContactKind::Phone => self.phone.as_ref(),
            ContactKind::Email => self.email.as_ref(),
        }
    }

    fn of_mut(&mut self, kind: ContactKind) -> &mut Option<Destination> {
        match kind {
            ContactKind::Phone => &mut self.phone,
            ContactKind::Email => &mut self.email,
        }
    }
}

fn challenge_key(scope: &Scope, destination: &Destination) -> (String, String) {
    (scope.key(), destination.key().into_owned())
}

impl MemoryStore {
    fn items(&self) -> std::sync::MutexGuard<'_, Items> {
        self.items.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds a test destination (what `otp-admin test-destination add` writes).
    pub fn put_test_destination(&self, owner: &TestOwner, destination: &Destination, test: TestDestination) {
        self.items().test_destinations.insert(binding(owner, destination), test);
    }
}

impl Items {
    /// The open challenge `id` of a scope and destination, unexpired at `now`, under
    /// `max_attempts`: the condition of every write that changes a live challenge.
    fn open(
        &mut self,
        key: &(String, String),
        id: &str,
        now: UnixSeconds,
        max_attempts: u32,
    ) -> Option<&mut Challenge> {
        self.challenges.get_mut(key).filter(|challenge| {
            challenge.id == id
                && challenge.state == State::Open
                && challenge.expires_at > now
                && challenge.attempts < max_attempts
        })
    }

    /// Links `destination` to `user` in the user's realm: it leaves its previous owner's
    /// record, and the user's previous contact of its kind leaves the registry.
    fn link(&mut self, destination: &Destination, user: &UserRef) -> Option<UserRef> {
        let realm = user.realm().key();
        let kind = ContactKind::of(destination);
        let previous_owner = self
            .contacts
            .get(&(realm.clone(), destination.key().into_owned()))
            .map(|(owner, _)| owner.clone());
        let moved_from = previous_owner.filter(|owner| owner != user);
        if let Some(owner) = &moved_from {
            let record = self.users.entry(owner.key()).or_default().of_mut(kind);
            if record.as_ref() == Some(destination) {
                *record = None;
            }
        }
        let previous = self.users.entry(user.key()).or_default().of_mut(kind).take();
        if let Some(previous) = previous.filter(|previous| previous != destination) {
            let key = (realm.clone(), previous.key().into_owned());
            if self.contacts.get(&key).is_some_and(|(owner, _)| owner == user) {
                self.contacts.remove(&key);
            }
        }
        self.contacts.insert(
            (realm, destination.key().into_owned()),
            (user.clone(), destination.as_str().to_owned()),
        );
        *self.users.entry(user.key()).or_default().of_mut(kind) = Some(destination.clone());
        moved_from
    }
}

impl ChallengeStore for MemoryStore {
    async fn load(&self, scope: &Scope, destination: &Destination) -> Result<Option<Challenge>, StoreError> {
        Ok(self.items().challenges.get(&challenge_key(scope, destination)).cloned())
    }

    async fn put_live(&self, scope: &Scope, destination: &Destination, live: &LiveCode) -> Result<bool, StoreError> {
        let mut items = self.items();
        let key = challenge_key(scope, destination);
        if !live.opens {
            let Some(challenge) = items.open(&key, &live.challenge_id, live.now, live.max_attempts) else {
                return Ok(false);
            };
            challenge.code = Some(live.sealed.clone());
            challenge.code_length = live.code_length;
            challenge.expires_at = live.expires_at;
            challenge.sent_at = live.now;
            challenge.channel = Some(live.channel);
            challenge.attempt = live.attempt.clone();
            return Ok(true);
        }
        let replaces_what_was_read = match (&live.replaces, items.challenges.get(&key)) {
            (None, None) => true,
            (Some(previous), Some(found)) => found.id == *previous,
            _ => false,
        };
        if !replaces_what_was_read || live.indexed_by_id && items.challenge_ids.contains_key(&live.challenge_id) {
            return Ok(false);
        }
        if live.indexed_by_id {
            items.challenge_ids.insert(
                live.challenge_id.clone(),
                Located {
                    scope_key: scope.key(),
                    destination: destination.clone(),
                },
            );
        }
        items.challenges.insert(
            key,
            Challenge {
                id: live.challenge_id.clone(),
                auth_code: live.auth_code.clone(),
                state: State::Open,
                attempts: 0,
                expires_at: live.expires_at,
                code_length: live.code_length,
                code: Some(live.sealed.clone()),
                created_at: live.now,
                sent_at: live.now,
                settled_at: None,
                channel: Some(live.channel),
                attempt: live.attempt.clone(),
            },
        );
        Ok(true)
    }

    async fn locate(&self, challenge_id: &str) -> Result<Option<Located>, StoreError> {
        Ok(self.items().challenge_ids.get(challenge_id).cloned())
    }

    async fn count_attempt(
        &self,
        scope: &Scope,
        destination: &Destination,
        handle: &Handle,
        now: UnixSeconds,
        max_attempts: u32,
    ) -> Result<AttemptCount, StoreError> {
        let mut items = self.items();
        let Some(challenge) = items.challenges.get_mut(&challenge_key(scope, destination)) else {
            return Ok(AttemptCount::Refused(None));
        };
        if !handle.names(challenge)
            || challenge.state != State::Open
            || challenge.expires_at <= now
            || challenge.attempts >= max_attempts
            || challenge.code.is_none()
        {
            return Ok(AttemptCount::Refused(Some(challenge.clone())));
        }
        challenge.attempts += 1;
        Ok(AttemptCount::Counted(challenge.clone()))
    }

    async fn uncount_attempt(
        &self,
        scope: &Scope,
        destination: &Destination,
        challenge_id: &str,
    ) -> Result<(), StoreError> {
        if let Some(challenge) = self
            .items()
            .challenges
            .get_mut(&challenge_key(scope, destination))
            .filter(|challenge| challenge.id == challenge_id && challenge.attempts > 0)
        {
            challenge.attempts -= 1;
        }
        Ok(())
    }

    async fn settle(
        &self,
        scope: &Scope,
        destination: &Destination,
        challenge_id: &str,
        settlement: Settlement,
        now: UnixSeconds,
        max_attempts: u32,
    ) -> Result<Option<Challenge>, StoreError> {
        let mut items = self.items();
        let Some(challenge) = items.open(&challenge_key(scope, destination), challenge_id, now, max_attempts) else {
            return Ok(None);
        };
        challenge.state = match settlement {
            Settlement::Approve => State::Used,
            Settlement::Cancel => State::Canceled,
        };
        challenge.settled_at = Some(now);
        challenge.code = None;
        Ok(Some(challenge.clone()))
    }

    async fn consume(
        &self,
        scope: &Scope,
        destination: &Destination,
        challenge_id: &str,
        sealed: &SealedCode,
        now: UnixSeconds,
        link: Option<(&UserRef, &LinkState)>,
    ) -> Result<Consumed, StoreError> {
        let mut items = self.items();
        let Some(challenge) = items
            .challenges
            .get_mut(&challenge_key(scope, destination))
            .filter(|challenge| {
                challenge.id == challenge_id
                    && challenge.state == State::Open
                    && challenge.expires_at > now
                    && challenge.code.as_ref().is_some_and(|code| code.tag == sealed.tag)
            })
        else {
            return Ok(Consumed::AlreadyGone);
        };
        challenge.state = State::Used;
        challenge.settled_at = Some(now);
        challenge.code = None;
        // One step under the lock: the link is applied to the registry as it is now, which
        // is what the DynamoDB store's re-read converges to.
        let moved_from = link.and_then(|(user, _)| items.link(destination, user));
        Ok(Consumed::Used { moved_from })
    }
}

impl QuotaStore for MemoryStore {
    async fn take(&self, charge: &SlidingCharge, now: UnixSeconds) -> Result<Admission, StoreError> {
        let mut items = self.items();
        let slots = items
            .sliding
            .entry((charge.rule.name, charge.subject.clone()))
            .or_default();
        Ok(charge.rule.admit(slots, now).map(|admitted| *slots = admitted))
    }

    async fn give_back(&self, charge: &SlidingCharge, at: UnixSeconds) -> Result<(), StoreError> {
        let mut items = self.items();
        if let Some(slots) = items.sliding.get_mut(&(charge.rule.name, charge.subject.clone()))
            && let Some(after) = charge.rule.give_back(slots, at)
        {
            *slots = after;
        }
        Ok(())
    }

    async fn count(&self, charge: &CounterCharge, now: UnixSeconds) -> Result<u64, StoreError> {
        let mut items = self.items();
        let count = items
            .counters
            .entry((charge.rule.name, charge.subject.clone(), charge.rule.window(now)))
            .or_default();
        *count += 1;
        Ok(*count)
    }

    async fn uncount(&self, charge: &CounterCharge, at: UnixSeconds) -> Result<(), StoreError> {
        let mut items = self.items();
        if let Some(count) = items
            .counters
            .get_mut(&(charge.rule.name, charge.subject.clone(), charge.rule.window(at)))
            .filter(|count| **count > 0)
        {
            *count -= 1;
        }
        Ok(())
    }
}

/// One off the count `of` a day's and an hour's tallies, when the day has one (as the
/// table's condition says); the prefix's traffic when it did.
fn take_back<'a>(
    items: &'a mut Items,
    subject: &str,
    at: UnixSeconds,
    of: fn(&mut Tally) -> &mut u64,
) -> Option<&'a mut PrefixTraffic> {
    let (traffic, hours) = items.guarded.get_mut(subject)?;
    let day = of(traffic.days.get_mut(&at.div_euclid(DAY))?);
    *day = day.checked_sub(1)?;
    if let Some(hour) = hours.get_mut(&at.div_euclid(HOUR)) {
        let count = of(hour);
        *count = count.saturating_sub(1);
    }
    Some(traffic)
}

impl crate::ports::AttemptLog for MemoryStore {
    async fn record_attempt(&self, attempt: &crate::attempts::SendAttempt) -> Result<(), StoreError> {
        self.items().attempts.insert(attempt.id.clone(), attempt.clone());
        Ok(())
    }

    async fn convert_attempt(&self, id: &str, now: UnixSeconds) -> Result<(), StoreError> {
        if let Some(attempt) = self.items().attempts.get_mut(id) {
            attempt.converted = true;
            attempt.updated_at = now;
        }
        Ok(())
    }
}

impl crate::ports::AttemptReader for MemoryStore {
    async fn attempt(&self, tenant: &str, id: &str) -> Result<Option<crate::attempts::SendAttempt>, StoreError> {
        Ok(self.items().attempts.get(id).filter(|a| a.tenant == tenant).cloned())
    }

    async fn attempts_page(
        &self,
        tenant: &str,
        filter: &crate::attempts::AttemptFilter,
        size: usize,
        from: Option<&crate::attempts::Cursor>,
    ) -> Result<crate::attempts::AttemptPage, StoreError> {
        let mut kept: Vec<_> = self
            .items()
            .attempts
            .values()
            .filter(|a| a.tenant == tenant && filter.matches(a))
            .cloned()
            .collect();
        kept.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
        if let Some(cursor) = from {
            let position = kept.iter().position(|a| a.id == cursor.id).map_or(0, |at| at + 1);
            kept.drain(..position.min(kept.len()));
        }
        let more = kept.len() > size;
        kept.truncate(size);
        let next = kept.last().filter(|_| more).map(|last| crate::attempts::Cursor {
            day: last.created_at.div_euclid(DAY),
            created_at: last.created_at,
            id: last.id.clone(),
        });
        Ok(crate::attempts::AttemptPage { attempts: kept, next })
    }
}

impl crate::ports::SpendStore for MemoryStore {
    async fn add_spend(
        &self,
        counter: &crate::spend::SpendCounter,
        amount: crate::spend::Micros,
    ) -> Result<crate::spend::Micros, StoreError> {
        let mut items = self.items();
        let total = items.spend.entry(counter.key.clone()).or_default();
        *total += amount;
        Ok(*total)
    }

    async fn take_back_spend(
        &self,
        counter: &crate::spend::SpendCounter,
        amount: crate::spend::Micros,
    ) -> Result<(), StoreError> {
        if let Some(total) = self
            .items()
            .spend
            .get_mut(&counter.key)
            .filter(|total| **total >= amount)
        {
            *total -= amount;
        }
        Ok(())
    }
}

impl ConversionStore for MemoryStore {
    async fn count_guarded_send(&self, subject: &str, now: UnixSeconds) -> Result<PrefixTraffic, StoreError> {
        let mut items = self.items();
        let (traffic, hours) = items.guarded.entry(subject.to_owned()).or_default();
        // What has left the window goes, as the table's write drops it.
        let (day, hour) = (now.div_euclid(DAY), now.div_euclid(HOUR));
        traffic.days.retain(|kept, _| *kept > day - WINDOW_DAYS);
        hours.retain(|kept, _| *kept >= hour);
        traffic.days.entry(day).or_default().sent += 1;
        let hour = hours.entry(hour).or_default();
        hour.sent += 1;
        traffic.hour = *hour;
        Ok(traffic.clone())
    }

    async fn uncount_guarded_send(
        &self,
        subject: &str,
        at: UnixSeconds,
        block: Option<(UnixSeconds, u32)>,
    ) -> Result<(), StoreError> {
        let mut items = self.items();
        if let Some(traffic) = take_back(&mut items, subject, at, |tally| &mut tally.sent)
            && let Some((until, blocks)) = block
        {
            traffic.blocked_until = Some(until);
            traffic.blocks = blocks;
        }
        Ok(())
    }

    /// This store drops what left the window as it counts: nothing is ever stale.
    async fn forget(&self, _subject: &str, _stale: &crate::guard::Spans) -> Result<(), StoreError> {
        Ok(())
    }

    async fn uncount_verified(&self, subject: &str, at: UnixSeconds) -> Result<(), StoreError> {
        take_back(&mut self.items(), subject, at, |tally| &mut tally.verified);
        Ok(())
    }

    async fn count_verified(&self, subject: &str, now: UnixSeconds) -> Result<(), StoreError> {
        let mut items = self.items();
        let (traffic, hours) = items.guarded.entry(subject.to_owned()).or_default();
        traffic.days.entry(now.div_euclid(DAY)).or_default().verified += 1;
        hours.entry(now.div_euclid(HOUR)).or_default().verified += 1;
        Ok(())
    }
}

impl UserDirectory for MemoryStore {
    async fn owner_of(&self, realm: &Realm, destination: &Destination) -> Result<Option<UserRef>, StoreError> {
        Ok(self
            .items()
            .contacts
            .get(&(realm.key(), destination.key().into_owned()))
            .map(|(owner, _)| owner.clone()))
    }

    async fn contact_of(&self, user: &UserRef, kind: ContactKind) -> Result<Option<Destination>, StoreError> {
        Ok(self
            .items()
            .users
            .get(&user.key())
            .and_then(|contacts| contacts.of(kind).cloned()))
    }

    async fn link_state(&self, destination: &Destination, user: &UserRef) -> Result<LinkState, StoreError> {
        let items = self.items();
        let owner = items
            .contacts
            .get(&(user.realm().key(), destination.key().into_owned()))
            .map(|(owner, address)| (owner.clone(), Some(address.clone())));
        let user_contact = items
            .users
            .get(&user.key())
            .and_then(|contacts| contacts.of(ContactKind::of(destination)))
            .map(|contact| contact.as_str().to_owned());
        Ok(LinkState { owner, user_contact })
    }

    async fn link(
        &self,
        destination: &Destination,
        user: &UserRef,
        _now: UnixSeconds,
    ) -> Result<Option<UserRef>, StoreError> {
        Ok(self.items().link(destination, user))
    }
}

impl ClientRegistry for MemoryStore {
    async fn client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
        Ok(self.items().clients.get(id).cloned())
    }

    async fn put_client(&self, record: &ClientRecord) -> Result<(), StoreError> {
        let mut items = self.items();
        if items.clients.contains_key(&record.id) {
            return Err(StoreError::inconsistent(format!("client {} already exists", record.id)));
        }
        // A new client indexes no services yet, whatever the record says.
        let record = ClientRecord {
            services: Vec::new(),
            ..record.clone()
        };
        items.clients.insert(record.id.clone(), record);
        Ok(())
    }

    async fn test_destination(
        &self,
        owner: &TestOwner,
        destination: &Destination,
    ) -> Result<Option<TestDestination>, StoreError> {
        Ok(self
            .items()
            .test_destinations
            .get(&binding(owner, destination))
            .cloned())
    }
}
