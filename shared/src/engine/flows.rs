//! The engine's decisions, fast: sends and verifies over the in-memory store (which keeps
//! the same port contract as DynamoDB), a manual clock and a delivery that keeps what it
//! is handed. The numbers asserted are the policy's defaults (docs/security.md).

use std::sync::{Arc, Mutex, PoisonError};

use futures_util::future::join_all;

use super::{Dispatch, Otp, SendOrder};
use crate::challenge::{Attempt, Checked, Handle, Sent, Verified};
use crate::clock::{Clock, ManualClock};
use crate::code::{Code, CodeKeys, Submitted};
use crate::destination::{Channel, Destination};
use crate::error::OtpError;
use crate::memory::MemoryStore;
use crate::policy::Policy;
use crate::ports::{ClientLimits, Delivery, DeliveryError, Message, UserDirectory};
use crate::scope::{Product, Realm, Scope, UserRef};
use crate::telemetry::Telemetry;
use crate::tenant::{Requester, Tenant};

/// What was delivered, to whom.
#[derive(Debug, Default)]
struct Outbox(Mutex<Vec<(Destination, String)>>);

impl Delivery for Outbox {
    async fn deliver(&self, to: &Destination, message: &Message) -> Result<Channel, DeliveryError> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((to.clone(), message.text.clone()));
        Ok(message.channel().unwrap_or(Channel::of(to)))
    }
}

impl Outbox {
    /// The code last delivered to `to` (the message's text is the code alone).
    fn last_code(&self, to: &Destination) -> String {
        let sent = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        let (_, code) = sent
            .iter()
            .rev()
            .find(|(destination, _)| destination == to)
            .expect("a code sent");
        code.clone()
    }
}

struct Rig {
    otp: Otp<MemoryStore>,
    clock: Arc<ManualClock>,
    outbox: Outbox,
    /// The API client that asks, and the scope of its challenges.
    client: Requester,
    scope: Scope,
    to: Destination,
}

/// An engine whose requests come from the API client `client`, about one phone number.
fn rig(client: &str) -> Rig {
    let clock = Arc::new(ManualClock::new(1_790_000_000));
    let otp = Otp {
        store: MemoryStore::default(),
        policy: Policy::default(),
        keys: CodeKeys::parse("0123456789abcdef0123456789abcdef").expect("a key"),
        numbers: Default::default(),
        guard: Default::default(),
        spend: Default::default(),
        allow_test_destinations: false,
        telemetry: Telemetry { metrics: false },
        clock: clock.clone() as Arc<dyn Clock>,
        suspects: Default::default(),
    };
    Rig {
        otp,
        clock,
        outbox: Outbox::default(),
        client: Requester {
            tenant: Tenant::Client(client.to_owned()),
            source_ip: "203.0.113.7".parse().ok(),
            dialect: "bizmagnets",
        },
        scope: Scope::Client(client.to_owned()),
        to: Destination::phone("+91", "9876543219").expect("a valid number"),
    }
}

fn user() -> UserRef {
    UserRef::new(Product::Kgen, "issuer", "asha")
}

impl Rig {
    async fn send(&self) -> Result<Sent, OtpError> {
        self.send_to(&self.to).await
    }

    async fn send_to(&self, to: &Destination) -> Result<Sent, OtpError> {
        self.send_by(to, &self.outbox, |code| code.reveal().to_owned()).await
    }

    /// A send to `to` through `delivery`, its message's text `text` makes of the code.
    async fn send_by<D: Delivery>(
        &self,
        to: &Destination,
        delivery: &D,
        text: impl Fn(&Code) -> String,
    ) -> Result<Sent, OtpError> {
        self.send_message(to, delivery, None, |code| Message {
            subject: String::new(),
            text: text(code),
            html: None,
            sender: None,
            whatsapp: None,
            voice: None,
        })
        .await
    }

    /// A send to `to` through `delivery` by the channel the request names, of the message
    /// `message` makes of the code.
    async fn send_message<D: Delivery>(
        &self,
        to: &Destination,
        delivery: &D,
        channel: Option<Channel>,
        message: impl Fn(&Code) -> Message,
    ) -> Result<Sent, OtpError> {
        let order = SendOrder {
            scope: self.scope.clone(),
            destination: to.clone(),
            requester: &self.client,
            indexed_by_id: false,
            channel,
        };
        let dispatch = Dispatch {
            limits: ClientLimits::default(),
            profile: self.otp.policy.default_profile(),
            channel: None,
            to: None,
            message: (),
            service: None,
        };
        let compose = |_: &(), writing: crate::messages::Writing<'_>| message(writing.code);
        let reads = async { Ok::<_, OtpError>(()) };
        let (_, sent) = self
            .otp
            .deliver(order, reads, |_| Ok(dispatch), delivery, compose)
            .await?;
        Ok(sent)
    }

    /// A send that goes out, and the code it delivered.
    async fn sent(&self) -> (Sent, String) {
        let sent = self.send().await.expect("sent");
        (sent, self.outbox.last_code(&self.to))
    }

    async fn verify(&self, sent: &Sent, code: &str) -> Result<Verified, OtpError> {
        self.otp
            .verify(&self.attempt(sent, code), async { Ok::<_, OtpError>(()) })
            .await
            .map(|(_, verified)| verified)
    }

    async fn check(&self, sent: &Sent, code: &str) -> Result<Checked, OtpError> {
        self.otp
            .check(&self.attempt(sent, code), async { Ok::<_, OtpError>(()) })
            .await
            .map(|(_, checked)| checked)
    }

    /// A verify of `code` on the challenge `sent` names, linking the destination to the user.
    fn attempt(&self, sent: &Sent, code: &str) -> Attempt {
        self.attempt_at(&self.to, sent, code)
    }

    fn attempt_at(&self, to: &Destination, sent: &Sent, code: &str) -> Attempt {
        Attempt {
            scope: self.scope.clone(),
            destination: to.clone(),
            handle: Handle::AuthCode(sent.auth_code.clone()),
            code: Submitted::Typed(Code::from_text(code, 10).expect("digits")),
            link: Some(user()),
            requester: self.client.clone(),
        }
    }
}

/// A code that is not `code`, of its length.
fn wrong(code: &str) -> String {
    code.chars().map(|digit| if digit == '0' { '1' } else { '0' }).collect()
}

#[tokio::test]
async fn a_right_code_verifies_once_and_links_the_destination() {
    let rig = rig("acme");
    let (sent, code) = rig.sent().await;
    assert_eq!(code.len(), 6);
    let verified = rig.verify(&sent, &code).await.expect("verified");
    assert_eq!(
        (verified.challenge_id, verified.moved_from),
        (sent.challenge_id.clone(), None)
    );
    let owner = rig
        .otp
        .store
        .owner_of(&Realm::new(Product::Kgen, "issuer"), &rig.to)
        .await;
    assert_eq!(owner.expect("read"), Some(user()));
    assert!(
        matches!(rig.verify(&sent, &code).await, Err(OtpError::Gone)),
        "used once"
    );
}

#[tokio::test]
async fn five_wrong_codes_spend_the_challenge() {
    let rig = rig("acme");
    let (sent, code) = rig.sent().await;
    for _ in 0..5 {
        assert!(matches!(
            rig.verify(&sent, &wrong(&code)).await,
            Err(OtpError::WrongCode)
        ));
    }
    // Spent, as only the caller that named it is told: a new code in 30 s, the cooldown.
    assert!(
        matches!(rig.verify(&sent, &code).await, Err(OtpError::Spent { retry_after: 30 })),
        "the right code after the fifth wrong one"
    );
}

#[tokio::test]
async fn parallel_guesses_spend_no_more_than_the_attempts() {
    let rig = rig("acme");
    let (sent, code) = rig.sent().await;
    let guess = wrong(&code);
    let answers = join_all((0..20).map(|_| rig.verify(&sent, &guess))).await;
    let tally = |what: fn(&Result<Verified, OtpError>) -> bool| answers.iter().filter(|answer| what(answer)).count();
    let compared = tally(|answer| matches!(answer, Err(OtpError::WrongCode)));
    let spent = tally(|answer| matches!(answer, Err(OtpError::Spent { .. })));
    let refused = tally(|answer| matches!(answer, Err(OtpError::TooMany { .. })));
    // Ten pass the destination's failure budget; of those, five are compared.
    assert_eq!((compared, spent, refused), (5, 5, 10), "{answers:?}");
    let after = rig.verify(&sent, &code).await;
    assert!(matches!(after, Err(OtpError::TooMany { .. })), "{after:?}");
}

#[tokio::test]
async fn a_resend_keeps_the_challenge_and_only_its_new_code_verifies() {
    let rig = rig("acme");
    let (first, old) = rig.sent().await;
    assert!(
        matches!(rig.send().await, Err(OtpError::TooMany { retry_after: 30 })),
        "the cooldown"
    );
    rig.clock.advance(30);
    let (second, new) = rig.sent().await;
    assert_eq!(
        (second.auth_code.as_str(), second.opened),
        (first.auth_code.as_str(), false)
    );
    if new != old {
        assert!(matches!(rig.verify(&second, &old).await, Err(OtpError::WrongCode)));
    }
    rig.verify(&second, &new).await.expect("the new code verifies");
}

#[tokio::test]
async fn five_sends_in_ten_minutes_then_the_destination_waits() {
    let rig = rig("acme");
    for _ in 0..5 {
        rig.send().await.expect("sent");
        rig.clock.advance(30);
    }
    // The first of the five went out 150 s ago: the sixth fits 450 s from now.
    assert!(matches!(rig.send().await, Err(OtpError::TooMany { retry_after: 450 })));
    rig.clock.advance(450);
    rig.send().await.expect("sent once the window has passed");
}

#[tokio::test]
async fn an_expired_code_verifies_nothing() {
    let rig = rig("acme");
    let (sent, code) = rig.sent().await;
    rig.clock.advance(300);
    assert!(matches!(rig.verify(&sent, &code).await, Err(OtpError::Gone)));
}

#[tokio::test]
async fn ten_wrong_codes_an_hour_close_the_destination_to_its_tenant() {
    let rig = rig("acme");
    for _ in 0..2 {
        let (sent, code) = rig.sent().await;
        for _ in 0..5 {
            assert!(matches!(
                rig.verify(&sent, &wrong(&code)).await,
                Err(OtpError::WrongCode)
            ));
        }
        rig.clock.advance(60);
    }
    let (sent, code) = rig.sent().await;
    assert!(
        matches!(rig.verify(&sent, &code).await, Err(OtpError::TooMany { .. })),
        "even the right code, within the hour"
    );
    // Another tenant's challenge for the same number is not closed by these.
    let other = Rig {
        client: Requester {
            tenant: Tenant::Client("globex".to_owned()),
            ..rig.client.clone()
        },
        scope: Scope::Client("globex".to_owned()),
        ..rig
    };
    let (sent, code) = other.sent().await;
    other.verify(&sent, &code).await.expect("verified in another tenant");
}

#[tokio::test]
async fn a_check_says_what_it_counted_and_only_the_namer_hears_spent() {
    let rig = rig("acme");
    let (sent, code) = rig.sent().await;
    for attempts in 1..=5 {
        match rig.check(&sent, &wrong(&code)).await {
            Ok(Checked::Wrong(counted)) => assert_eq!(
                (counted.id.as_str(), counted.attempts),
                (sent.challenge_id.as_str(), attempts)
            ),
            other => panic!("a wrong code, counted: {other:?}"),
        }
    }
    let another = Sent {
        auth_code: if sent.auth_code == "1000" { "1001" } else { "1000" }.to_owned(),
        ..sent.clone()
    };
    assert!(
        matches!(rig.check(&another, &code).await, Err(OtpError::Gone)),
        "a caller naming another authCode learns nothing of this challenge"
    );
    assert!(matches!(
        rig.check(&sent, &code).await,
        Err(OtpError::Spent { retry_after: 30 })
    ));
    rig.clock.advance(30);
    let (resent, code) = rig.sent().await;
    assert!(resent.opened, "a spent challenge is replaced by the next send");
    match rig.check(&resent, &code).await {
        Ok(Checked::Approved(verified)) => {
            assert_eq!(
                (verified.challenge.id, verified.challenge.attempts),
                (resent.challenge_id, 1)
            );
        }
        other => panic!("the new code, approved: {other:?}"),
    }
}

/// The conversion guard's rig: a client whose sends the guard watches in `mode`.
fn guarded(mode: crate::guard::GuardMode) -> Rig {
    let mut rig = rig("pumped");
    rig.otp.guard.others = mode;
    rig
}

/// The `n`-th number of the prefix `+91 98765`.
fn in_prefix(n: u32) -> Destination {
    Destination::phone("+91", &format!("98765{n:05}")).expect("a valid number")
}

#[tokio::test]
async fn unverified_sends_to_one_prefix_are_refused_within_the_hour() {
    let rig = guarded(crate::guard::GuardMode::Enforce);
    // The hour allows 4 unverified sends where the tenant has verified nothing yet.
    for n in 0..4 {
        rig.send_to(&in_prefix(n)).await.expect("within the allowance");
    }
    let refused = rig.send_to(&in_prefix(4)).await;
    assert!(
        matches!(refused, Err(OtpError::RangeBlocked { retry_after: 3_600 })),
        "{refused:?}"
    );
    // The cool-off holds every number of the prefix, then lets go; the next runs twice as long.
    rig.clock.advance(1_800);
    assert!(matches!(
        rig.send_to(&in_prefix(5)).await,
        Err(OtpError::RangeBlocked { retry_after: 1_800 })
    ));
    rig.clock.advance(1_800);
    rig.send_to(&in_prefix(6))
        .await
        .expect("the cool-off ended, a new hour began");
    for n in 7..10 {
        rig.send_to(&in_prefix(n))
            .await
            .expect("within the new hour's allowance");
    }
    assert!(matches!(
        rig.send_to(&in_prefix(10)).await,
        Err(OtpError::RangeBlocked { retry_after: 7_200 })
    ));
    // Another prefix of the same tenant is not held.
    rig.send_to(&Destination::phone("+91", "9123456789").unwrap())
        .await
        .expect("another prefix");
}

#[tokio::test]
async fn sends_that_convert_flow() {
    let rig = guarded(crate::guard::GuardMode::Enforce);
    for n in 0..40 {
        let to = in_prefix(n);
        let sent = rig.send_to(&to).await.expect("converting traffic is never held");
        let code = rig.outbox.last_code(&to);
        rig.otp
            .verify(&rig.attempt_at(&to, &sent, &code), async { Ok::<_, OtpError>(()) })
            .await
            .expect("verified");
    }
}

#[tokio::test]
async fn monitor_refuses_nothing() {
    let rig = guarded(crate::guard::GuardMode::Monitor);
    for n in 0..30 {
        rig.send_to(&in_prefix(n)).await.expect("monitor only logs");
    }
}

#[tokio::test]
async fn a_right_code_submitted_at_once_many_times_counts_one_verified_send() {
    use crate::ports::ConversionStore;
    let rig = guarded(crate::guard::GuardMode::Monitor);
    let (sent, code) = rig.sent().await;
    let attempts: Vec<_> = (0..5).map(|_| rig.attempt(&sent, &code)).collect();
    let results = join_all(
        attempts
            .iter()
            .map(|attempt| rig.otp.verify(attempt, async { Ok::<_, OtpError>(()) })),
    )
    .await;
    assert_eq!(results.iter().filter(|result| result.is_ok()).count(), 1);
    let watched = rig
        .otp
        .guard
        .watch(&rig.client.tenant, &rig.to, rig.otp.policy.number_range_digits)
        .expect("watched");
    let traffic = rig
        .otp
        .store
        .count_guarded_send(&watched.subject, rig.clock.now())
        .await
        .expect("counted");
    assert_eq!(traffic.hour.verified, 1, "{traffic:?}");
}

/// The spend cap's rig: a client of a deployment whose month allows `monthly_usd` at the
/// default price of 5 cents a segment, each country `hourly_percent` of it an hour.
fn capped(monthly_usd: u64, hourly_percent: u8) -> Rig {
    let mut rig = rig("spender");
    rig.otp.spend.monthly_usd = monthly_usd;
    rig.otp.spend.country_hourly_percent = hourly_percent;
    rig
}

/// Sends to `count` numbers of the prefix from the `from`-th on: how many went out, and
/// the refusals.
async fn sends_to_many(rig: &Rig, from: u32, count: u32) -> (u32, Vec<OtpError>) {
    let mut sent = 0;
    let mut refusals = Vec::new();
    for n in from..from + count {
        match rig.send_to(&in_prefix(n)).await {
            Ok(_) => sent += 1,
            Err(error) => refusals.push(error),
        }
    }
    (sent, refusals)
}

/// A delivery that the provider refuses.
struct Refusing;

impl Delivery for Refusing {
    async fn deliver(&self, _: &Destination, _: &Message) -> Result<Channel, DeliveryError> {
        Err(DeliveryError::Failed {
            outage: crate::ports::Outage::Failed,
            detail: "refused".to_owned(),
        })
    }
}

/// Seconds from the rig's clock to the next UTC month.
fn to_next_month(rig: &Rig) -> u64 {
    let now = rig.clock.now();
    (crate::spend::month_of(now).1 - now) as u64
}

#[tokio::test]
async fn sends_stop_at_the_monthly_cap_until_the_month_turns() {
    // $1 a month at 5 cents: 20 sends, in 8 shards of 2 (a third would pass a shard's share).
    let rig = capped(1, 100);
    let (sent, refusals) = sends_to_many(&rig, 0, 40).await;
    assert!((8..=16).contains(&sent), "{sent} sent");
    assert_eq!(
        rig.outbox.0.lock().unwrap().len(),
        sent as usize,
        "only what was admitted went out"
    );
    let month_end = to_next_month(&rig);
    assert!(
        refusals
            .iter()
            .all(|error| matches!(error, OtpError::SpendCapped { retry_after } if *retry_after == month_end)),
        "{refusals:?}"
    );
    rig.clock.advance(month_end as i64);
    rig.send_to(&in_prefix(100)).await.expect("a new month, a new cap");
}

#[tokio::test]
async fn a_country_is_held_for_the_hour_and_the_others_go_on() {
    // $100 a month, 1% of it ($1) for a country's hour: at most 16 sends there.
    let rig = capped(100, 1);
    let (sent, refusals) = sends_to_many(&rig, 0, 40).await;
    assert!((8..=16).contains(&sent), "{sent} sent");
    let to_next_hour = 3_600 - rig.clock.now().rem_euclid(3_600) as u64;
    assert!(
        refusals
            .iter()
            .all(|error| matches!(error, OtpError::SpendCapped { retry_after } if *retry_after == to_next_hour)),
        "{refusals:?}"
    );
    rig.send_to(&Destination::e164("+447911123456").expect("valid"))
        .await
        .expect("another country's hour");
    rig.clock.advance(to_next_hour as i64);
    rig.send_to(&in_prefix(100)).await.expect("a new hour");
}

#[tokio::test]
async fn refused_and_undelivered_sends_give_their_spend_back() {
    let rig = capped(1, 100);
    for n in 0..40 {
        let failed = rig
            .send_by(&in_prefix(n), &Refusing, |code| code.reveal().to_owned())
            .await;
        assert!(matches!(failed, Err(OtpError::Unavailable { .. })), "{failed:?}");
    }
    // The cooldown refuses each number's second send at once.
    rig.send_to(&in_prefix(0)).await.expect_err("within the cooldown");
    rig.clock.advance(30);
    let (sent, _) = sends_to_many(&rig, 0, 40).await;
    assert!(sent >= 8, "only {sent} sent: the failed sends kept their spend");
}

#[tokio::test]
async fn a_long_message_costs_each_of_its_segments() {
    // Two segments (161 characters) cost 10 cents: one send per shard of 12.5 cents.
    let rig = capped(1, 100);
    let mut sent = 0;
    for n in 0..40 {
        let long = |code: &Code| format!("{}{}", code.reveal(), "x".repeat(155));
        if rig.send_by(&in_prefix(n), &rig.outbox, long).await.is_ok() {
            sent += 1;
        }
    }
    assert!((1..=8).contains(&sent), "{sent} sent");
}

#[tokio::test]
async fn a_call_costs_its_price_cap_whichever_round_trip_knew_it_was_one() {
    let rig = rig("caller");
    let call = |code: &Code| Message {
        subject: String::new(),
        text: code.reveal().to_owned(),
        html: None,
        sender: None,
        whatsapp: None,
        voice: Some(crate::ports::SpokenCode {
            voice_id: "JOANNA",
            ssml: format!("<speak>{}</speak>", code.reveal()),
        }),
    };
    // Named by the request (Twilio's `Channel=call`), then by a configuration read beside
    // the first round trip, which priced a text.
    rig.send_message(&in_prefix(0), &rig.outbox, Some(Channel::Call), call)
        .await
        .expect("called");
    rig.send_message(&in_prefix(1), &rig.outbox, None, call)
        .await
        .expect("called");
    let attempts = listed(&rig, None).await;
    let prices: Vec<Option<u64>> = attempts.iter().map(|attempt| attempt.price).collect();
    let cap = rig.otp.spend.call_per_minute;
    assert_eq!(prices, [Some(cap), Some(cap)]);
    assert!(
        attempts.iter().all(|attempt| attempt.channel == Channel::Call),
        "{attempts:?}"
    );
}

/// The rig's client's attempts, newest first (`converted`: only those, or the others).
async fn listed(rig: &Rig, converted: Option<bool>) -> Vec<crate::attempts::SendAttempt> {
    use crate::ports::AttemptReader;
    let filter = crate::attempts::AttemptFilter {
        converted,
        ..crate::attempts::AttemptFilter::kept_at(rig.clock.now())
    };
    let page = rig
        .otp
        .store
        .attempts_page(&rig.client.tenant.key(), &filter, 10, None)
        .await;
    page.expect("listed").attempts
}

#[tokio::test]
async fn each_delivery_is_an_attempt_and_only_a_right_code_converts_it() {
    let rig = rig("acme");
    let (first, _) = rig.sent().await;
    rig.clock.advance(31);
    let (resent, code) = rig.sent().await;
    assert_eq!(
        first.challenge_id, resent.challenge_id,
        "a resend refreshes the challenge"
    );
    assert!(matches!(
        rig.verify(&resent, &wrong(&code)).await,
        Err(OtpError::WrongCode)
    ));
    let attempts = listed(&rig, None).await;
    assert_eq!(attempts.len(), 2, "one per delivered message");
    assert!(
        attempts
            .iter()
            .all(|a| a.challenge_id == first.challenge_id && !a.converted)
    );
    assert_eq!(attempts[0].country.as_deref(), Some("IN"));
    assert_eq!(attempts[0].price, Some(50_000));
    rig.verify(&resent, &code).await.expect("verified");
    let converted = listed(&rig, Some(true)).await;
    assert_eq!(converted.len(), 1, "the message whose code was verified");
    assert_eq!(converted[0].id, attempts[0].id, "the newest");
}
