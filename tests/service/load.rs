//! Load with invariants: 50 callers at once drive every dialect's sends and verifies
//! (2,500 sends and 12,000 verify attempts over 500 destinations, wrong and right codes
//! mixed, each right code submitted four times at once, one attempt more than a challenge
//! allows), then the table and the
//! delivered messages are checked: no challenge took more attempts than allowed, no code
//! verified twice, every accepted send delivered exactly one message and every message
//! belongs to an accepted send and is one attempt (converted when its code was), and
//! every budget (the spend cap's too) counts exactly what it admitted.
//! Throughput and latency go to the test report (`scripts/test.sh` prints them).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use lambda_http::Request;
use otp_shared::App;
use otp_shared::clock::Clock;
use otp_shared::delivery::Courier;
use otp_shared::destination::Destination;
use otp_shared::policy::Policy;
use otp_shared::ports::{Channel, ClientLimits, Delivery, DeliveryError, Message, Permission};
use otp_shared::store::DynamoStore;
use otp_tests::{Deployment, TestClient, answer, api_event, code_in, fresh_email, fresh_phone, user_token};
use serde_json::{Value, json};

use crate::*;

const DESTINATIONS: usize = 500;
const ROUNDS: usize = 4;
const CALLERS: usize = 50;
/// Each round, per destination: two wrong codes, then the right one four times at once:
/// six attempts at a challenge that allows five.
const RIGHT_COPIES: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    Kgen,
    BizMagnets,
    Zap,
    Bridgekeeper,
}

/// One destination and how its dialect's caller reaches it.
#[derive(Debug, Clone)]
struct Target {
    dialect: Dialect,
    /// As the request gives it (KGen and BizMagnets: the national number).
    given: String,
    /// As messages are addressed, and as the budgets key it.
    to: String,
    /// Its callers' own source address (callers without an API client have a budget each).
    ip: String,
    user: String,
    token: String,
}

impl Target {
    fn is_phone(&self) -> bool {
        self.to.starts_with('+')
    }
}

/// What the dialect's send gives back that its verify needs.
#[derive(Debug, Clone, Default)]
struct Opened {
    /// KGen's `authCode`, BizMagnets' `id`.
    handle: Value,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Send,
    Resend,
    Wrong,
    Right,
}

#[derive(Debug, Clone)]
struct Outcome {
    target: usize,
    round: usize,
    kind: Kind,
    status: u16,
    body: Value,
    took: Duration,
    /// The clock's hour when sent (counters are per hour).
    hour: i64,
}

struct Rig {
    deployment: Deployment,
    /// The sending functions' app, its delivery noting what was accepted.
    sender: App<DynamoStore, Noting<Courier>>,
    accepted: Accepted,
    client: TestClient,
    sms_config: String,
}

fn request(path: &str, headers: &[(&str, &str)], body: &Value, ip: &str) -> Request {
    lambda_http::request::from_str(&api_event(path, headers, &body.to_string(), ip)).expect("a valid event")
}

fn send_request(rig: &Rig, target: &Target, resend: bool) -> Request {
    let key = rig.client.api_key.as_str();
    let json = [("content-type", "application/json")];
    match target.dialect {
        Dialect::Kgen => {
            let route = if resend { "resend" } else { "register" };
            let headers = [json[0], ("user-jwt-token", target.token.as_str())];
            request(
                &format!("{FE}/{route}"),
                &headers,
                &phone_body(&target.given),
                &target.ip,
            )
        }
        Dialect::BizMagnets => request(
            &format!("/otp/{}/sendOTP", rig.sms_config),
            &[json[0], ("x-api-key", key)],
            &crate::bizmagnets::mobile(&target.given),
            &target.ip,
        ),
        Dialect::Zap => request(
            "/v1/otp",
            &[json[0], ("x-api-key", key)],
            &json!({"email": target.to, "userId": target.user}),
            &target.ip,
        ),
        Dialect::Bridgekeeper => {
            let field = if target.is_phone() { "phone-number" } else { "email" };
            let body = json!({field: target.to, "always-send": true});
            request(crate::bridgekeeper::SEND, &[], &body, &target.ip)
        }
    }
}

fn verify_request(rig: &Rig, target: &Target, opened: &Opened, code: &str) -> Request {
    let key = rig.client.api_key.as_str();
    let json = [("content-type", "application/json")];
    match target.dialect {
        Dialect::Kgen => {
            let headers = [json[0], ("user-jwt-token", target.token.as_str())];
            let body = verify_body(&target.given, &opened.handle, json!(code));
            request(&format!("{FE}/verify"), &headers, &body, &target.ip)
        }
        Dialect::BizMagnets => request(
            &format!("/otp/{}/verifyOTP", opened.handle.as_str().unwrap_or_default()),
            &[json[0], ("x-api-key", key)],
            &crate::bizmagnets::verify_body(&target.given, code),
            &target.ip,
        ),
        Dialect::Zap => request(
            "/v1/otp/verify",
            &[json[0], ("x-api-key", key)],
            &json!({"email": target.to, "userId": target.user, "otp": code}),
            &target.ip,
        ),
        Dialect::Bridgekeeper => {
            let field = if target.is_phone() { "phone-number" } else { "email" };
            let body = json!({field: target.to, "otp": code});
            request(crate::bridgekeeper::VERIFY, &[], &body, &target.ip)
        }
    }
}

/// Whose budgets a target's requests spend: the rig's client for the dialects with a key,
/// KGen's users of the tokens' issuer, Bridgekeeper's public.
fn tenant_of(rig: &Rig, dialect: Dialect) -> otp_shared::tenant::Tenant {
    use otp_shared::scope::{Product, Realm};
    use otp_shared::tenant::Tenant;
    match dialect {
        Dialect::BizMagnets | Dialect::Zap => Tenant::Client(rig.client.id.clone()),
        Dialect::Kgen => Tenant::Issuer(Realm::new(Product::Kgen, otp_tests::EVENTS_ISSUER)),
        Dialect::Bridgekeeper => Tenant::Public(Product::Bridgekeeper),
    }
}

/// The status of each dialect's accepted send and right code.
fn success(dialect: Dialect, kind: Kind) -> u16 {
    match (dialect, kind) {
        (Dialect::BizMagnets, Kind::Send) => 201,
        _ => 200,
    }
}

/// What a call was, for the checks: whose, in which round, of which kind, in which hour.
#[derive(Debug, Clone, Copy)]
struct Tag {
    target: usize,
    round: usize,
    kind: Kind,
    hour: i64,
}

/// One caller's request through its function, timed.
async fn call(rig: Arc<Rig>, function: &'static str, request: Request, tag: Tag) -> Outcome {
    let started = Instant::now();
    let app = &rig.sender;
    let (status, body, _) = match function {
        "register" => answer(request, |r| register::http_handler::function_handler(app, r)).await,
        "resend" => answer(request, |r| resend::http_handler::function_handler(app, r)).await,
        "send-otp" => answer(request, |r| send_otp::http_handler::function_handler(app, r)).await,
        "generate" => answer(request, |r| generate::http_handler::function_handler(app, r)).await,
        _ => call_verify(&rig.deployment, request).await,
    };
    Outcome {
        target: tag.target,
        round: tag.round,
        kind: tag.kind,
        status,
        body,
        took: started.elapsed(),
        hour: tag.hour,
    }
}

fn send_function(dialect: Dialect, resend: bool) -> &'static str {
    match dialect {
        Dialect::Kgen if resend => "resend",
        Dialect::Kgen => "register",
        Dialect::BizMagnets | Dialect::Bridgekeeper => "send-otp",
        Dialect::Zap => "generate",
    }
}

/// The texts of the messages SNS and SESv2 accepted, by destination, oldest first.
#[derive(Debug, Clone, Default)]
struct Accepted(Arc<Mutex<HashMap<String, Vec<String>>>>);

impl Accepted {
    fn snapshot(&self) -> HashMap<String, Vec<String>> {
        self.0.lock().expect("accepted messages").clone()
    }
}

/// The functions' delivery, noting each message once the provider accepted it (what
/// the local AWS records as sent, without reading its whole state back each round).
#[derive(Debug, Clone)]
struct Noting<D> {
    inner: D,
    accepted: Accepted,
}

impl<D: Delivery> Delivery for Noting<D> {
    async fn deliver(&self, to: &Destination, message: &Message) -> Result<Channel, DeliveryError> {
        let channel = self.inner.deliver(to, message).await?;
        otp_tests::audit::note_codes(&message.text);
        let mut accepted = self.accepted.0.lock().expect("accepted messages");
        accepted
            .entry(to.as_str().to_owned())
            .or_default()
            .push(message.text.clone());
        Ok(channel)
    }
}

/// A code that is not `right` (and not `other`): one digit changed.
fn wrong_code(right: &str, position: usize) -> String {
    right
        .char_indices()
        .map(|(i, c)| {
            if i == position % right.len() {
                char::from(b'0' + (c.to_digit(10).unwrap_or(0) as u8 + 1) % 10)
            } else {
                c
            }
        })
        .collect()
}

fn targets() -> Vec<Target> {
    (0..DESTINATIONS)
        .map(|i| {
            let dialect = [Dialect::Kgen, Dialect::BizMagnets, Dialect::Zap, Dialect::Bridgekeeper][i % 4];
            let phone = match dialect {
                Dialect::Kgen | Dialect::BizMagnets => true,
                Dialect::Zap => false,
                Dialect::Bridgekeeper => i % 8 == 3,
            };
            let (given, to) = if phone {
                fresh_phone()
            } else {
                let address = fresh_email();
                (address.clone(), address)
            };
            let user = format!("load-{}", uuid::Uuid::new_v4().simple());
            Target {
                dialect,
                given,
                to,
                ip: format!("10.{}.{}.{}", i / 65_536, (i / 256) % 256, i % 256),
                token: user_token(&user),
                user,
            }
        })
        .collect()
}

/// Runs the jobs with `CALLERS` of them in flight at once.
async fn drive<F>(jobs: Vec<F>) -> Vec<Outcome>
where
    F: std::future::Future<Output = Outcome>,
{
    futures_util::stream::iter(jobs)
        .buffer_unordered(CALLERS)
        .collect()
        .await
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p / 100.0) * (sorted.len() as f64 - 1.0)).round() as usize;
    sorted.get(rank).copied().unwrap_or_default()
}

// Some ten minutes against the local AWS, which serves one request at a time: run alone,
// after the other tests, by `scripts/test.sh` (or `cargo test -- --ignored load::`).
#[tokio::test]
#[ignore = "the load run: scripts/test.sh runs it after the other tests"]
async fn fifty_callers_and_every_invariant_holds() {
    let deployment = Deployment::new().await;
    // One client for BizMagnets and ZAP, with room for the whole run.
    let limits = ClientLimits {
        sends_per_hour: Some(1_000_000),
        sends_per_number_range_per_hour: Some(1_000_000),
    };
    let client = deployment.client_limited(&Permission::ALL, limits).await;
    let sms_config = deployment.config(&client, Channel::Sms, 6, 300, "{code}").await;
    let accepted = Accepted::default();
    let delivery = Noting {
        inner: deployment.sender.delivery.clone(),
        accepted: accepted.clone(),
    };
    let sender = App::new(
        otp_tests::settings(&deployment.table, &[]),
        deployment.store.clone(),
        delivery,
        deployment.clock.clone(),
    );
    let rig = Arc::new(Rig {
        deployment,
        sender,
        accepted,
        client,
        sms_config,
    });
    let targets = targets();
    let mut outcomes: Vec<Outcome> = Vec::new();
    let mut violations: Vec<String> = Vec::new();
    let mut busy = Duration::ZERO;
    let mut last_round_start = 0;

    for round in 0..ROUNDS {
        let clock = &rig.deployment.clock;
        last_round_start = clock.now();
        let mut opened: Vec<Opened> = vec![Opened::default(); targets.len()];

        // Every destination's send, then KGen's resends past the cooldown.
        for resend in [false, true] {
            if resend {
                clock.advance(31);
            }
            let hour = clock.now().div_euclid(3_600);
            let jobs: Vec<_> = targets
                .iter()
                .enumerate()
                .filter(|(_, target)| !resend || target.dialect == Dialect::Kgen)
                .map(|(index, target)| {
                    let request = send_request(&rig, target, resend);
                    let kind = if resend { Kind::Resend } else { Kind::Send };
                    let tag = Tag {
                        target: index,
                        round,
                        kind,
                        hour,
                    };
                    call(Arc::clone(&rig), send_function(target.dialect, resend), request, tag)
                })
                .collect();
            let started = Instant::now();
            let sent = drive(jobs).await;
            busy += started.elapsed();
            for outcome in &sent {
                let target = &targets[outcome.target];
                if outcome.status != success(target.dialect, Kind::Send) {
                    violations.push(format!(
                        "{:?} send to {} refused: {} {}",
                        target.dialect, target.to, outcome.status, outcome.body
                    ));
                } else if outcome.kind == Kind::Send {
                    opened[outcome.target].handle = match target.dialect {
                        Dialect::Kgen => outcome.body["authCode"].clone(),
                        Dialect::BizMagnets => outcome.body["id"].clone(),
                        _ => Value::Null,
                    };
                }
            }
            outcomes.extend(sent);
        }

        // Two wrong codes (for KGen, one of them the code its resend replaced), then the
        // right one three times at once.
        let delivered = rig.accepted.snapshot();
        let hour = clock.now().div_euclid(3_600);
        let mut wrong_jobs = Vec::new();
        let mut right_jobs = Vec::new();
        for (index, target) in targets.iter().enumerate() {
            let texts = delivered.get(&target.to).cloned().unwrap_or_default();
            let Some(latest) = texts.last() else {
                violations.push(format!("nothing delivered to {}", target.to));
                continue;
            };
            let right = code_in(latest);
            let mut wrongs = vec![wrong_code(&right, 0), wrong_code(&right, 3)];
            if target.dialect == Dialect::Kgen
                && let Some(replaced) = texts.len().checked_sub(2).map(|i| code_in(&texts[i]))
                && replaced != right
            {
                wrongs[0] = replaced;
            }
            let guesses = wrongs
                .into_iter()
                .map(|code| (Kind::Wrong, code))
                .chain(std::iter::repeat_n((Kind::Right, right.clone()), RIGHT_COPIES));
            for (kind, code) in guesses {
                let request = verify_request(&rig, target, &opened[index], &code);
                let tag = Tag {
                    target: index,
                    round,
                    kind,
                    hour,
                };
                let job = call(Arc::clone(&rig), "verify", request, tag);
                // The copies of a right code stay next to each other: they run at once.
                if kind == Kind::Wrong {
                    wrong_jobs.push(job);
                } else {
                    right_jobs.push(job);
                }
            }
        }
        for jobs in [wrong_jobs, right_jobs] {
            let started = Instant::now();
            outcomes.extend(drive(jobs).await);
            busy += started.elapsed();
        }

        // A new hour: every budget and challenge of this round is behind.
        clock.advance(3_600);
    }

    // Every attempt answered as the code deserved, and each right code worked once.
    let mut used: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for outcome in outcomes.iter().filter(|o| matches!(o.kind, Kind::Wrong | Kind::Right)) {
        let target = &targets[outcome.target];
        if outcome.status >= 500 {
            violations.push(format!(
                "{:?} verify answered {}: {}",
                target.dialect, outcome.status, outcome.body
            ));
        }
        let succeeded = outcome.status == success(target.dialect, Kind::Right);
        if succeeded && outcome.kind == Kind::Wrong {
            violations.push(format!("a wrong code verified for {}", target.to));
        }
        if succeeded {
            *used.entry((outcome.target, outcome.round)).or_default() += 1;
        }
    }
    for (index, target) in targets.iter().enumerate() {
        for round in 0..ROUNDS {
            let times = used.get(&(index, round)).copied().unwrap_or(0);
            if times != 1 {
                violations.push(format!(
                    "round {round}: the right code of {} verified {times} times",
                    target.to
                ));
            }
        }
    }

    // Every accepted send delivered exactly one message, and every message is one's.
    let delivered = rig.accepted.snapshot();
    let mut accepted: HashMap<usize, usize> = HashMap::new();
    for outcome in outcomes.iter().filter(|o| matches!(o.kind, Kind::Send | Kind::Resend)) {
        if outcome.status == success(targets[outcome.target].dialect, Kind::Send) {
            *accepted.entry(outcome.target).or_default() += 1;
        }
    }
    for (index, target) in targets.iter().enumerate() {
        let messages = delivered.get(&target.to).map_or(0, Vec::len);
        let sends = accepted.get(&index).copied().unwrap_or(0);
        if messages != sends {
            violations.push(format!("{}: {sends} accepted sends, {messages} messages", target.to));
        }
    }

    // The table: attempts within the limit, and each budget counting what it admitted.
    let items = rig.deployment.scan().await;
    let pk = |item: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>| {
        item.get("pk").and_then(|v| v.as_s().ok()).cloned().unwrap_or_default()
    };
    let mut challenges = 0;
    for item in items.iter().filter(|item| pk(item).starts_with("CHALLENGE#")) {
        challenges += 1;
        let attempts = number(item, "attempts");
        if attempts > i64::from(Policy::default().attempts_per_challenge) {
            violations.push(format!("{} took {attempts} attempts", pk(item)));
        }
    }
    let counters: HashMap<String, i64> = items
        .iter()
        .filter(|item| pk(item).starts_with("COUNT#"))
        .map(|item| (pk(item), number(item, "n")))
        .collect();
    let mut expected_counters: HashMap<String, i64> = HashMap::new();
    for outcome in outcomes.iter().filter(|o| matches!(o.kind, Kind::Send | Kind::Resend)) {
        let target = &targets[outcome.target];
        if outcome.status != success(target.dialect, Kind::Send) {
            continue;
        }
        let tenant = tenant_of(&rig, target.dialect);
        if let Some(client) = tenant.client() {
            let key = format!("COUNT#send-client#{client}#{}", outcome.hour);
            *expected_counters.entry(key).or_default() += 1;
        }
        if let Some(range) = Destination::e164(&target.to).ok().and_then(|d| d.number_range(4)) {
            let subject = otp_shared::scope::escape(&tenant.subject(&range));
            let key = format!("COUNT#send-range#{subject}#{}", outcome.hour);
            *expected_counters.entry(key).or_default() += 1;
        }
    }
    if counters != expected_counters {
        let differing: Vec<_> = expected_counters
            .iter()
            .filter(|(key, n)| counters.get(*key) != Some(*n))
            .take(5)
            .collect();
        violations.push(format!(
            "{} counters, {} expected; differing: {differing:?}",
            counters.len(),
            expected_counters.len()
        ));
    }
    // Attempts: one per delivered message; converted, one per approved code.
    let messages: usize = delivered.values().map(Vec::len).sum();
    let attempts: Vec<_> = items.iter().filter(|item| pk(item).starts_with("ATTEMPT#")).collect();
    let converted = attempts
        .iter()
        .filter(|item| item.get("converted").and_then(|v| v.as_bool().ok()) == Some(&true))
        .count();
    let approved = outcomes
        .iter()
        .filter(|o| o.kind == Kind::Right && o.status == success(targets[o.target].dialect, Kind::Right))
        .count();
    if attempts.len() != messages || converted != approved {
        violations.push(format!(
            "{} attempts for {messages} messages; {converted} converted for {approved} approved codes",
            attempts.len()
        ));
    }
    // The spend: each accepted send to a phone (one segment at the default price, 5
    // cents) in the month's counters and in its country's hours, exactly once.
    let phone_sends = outcomes
        .iter()
        .filter(|o| matches!(o.kind, Kind::Send | Kind::Resend))
        .filter(|o| targets[o.target].is_phone() && o.status == success(targets[o.target].dialect, Kind::Send))
        .count() as i64;
    for cap in ["deployment", "country-hour"] {
        let spent: i64 = items
            .iter()
            .filter(|item| pk(item).starts_with(&format!("SPEND#{cap}#")))
            .map(|item| number(item, "spent"))
            .sum();
        if spent != phone_sends * 50_000 {
            violations.push(format!(
                "the {cap} spend holds {spent} millionths of a dollar, {phone_sends} phone sends admitted"
            ));
        }
    }
    // Sliding budgets hold the admissions of the last round (each round is an hour apart).
    let admitted_since = |item: &HashMap<String, aws_sdk_dynamodb::types::AttributeValue>| {
        (0..20)
            .filter_map(|i| {
                item.get(&format!("n{i}"))
                    .and_then(|v| v.as_n().ok())
                    .and_then(|v| v.parse::<i64>().ok())
            })
            .filter(|at| *at >= last_round_start)
            .count()
    };
    let slides: HashMap<String, usize> = items
        .iter()
        .filter(|item| pk(item).starts_with("SLIDE#"))
        .map(|item| (pk(item), admitted_since(item)))
        .collect();
    let last = ROUNDS - 1;
    for (index, target) in targets.iter().enumerate() {
        let sends = outcomes
            .iter()
            .filter(|o| o.target == index && o.round == last && matches!(o.kind, Kind::Send | Kind::Resend))
            .filter(|o| o.status == success(target.dialect, Kind::Send))
            .count();
        let mailbox = Destination::e164(&target.to)
            .or_else(|_| Destination::email(&target.to))
            .map(|d| d.mailbox().into_owned())
            .unwrap_or_default();
        // Each budget of a destination is its tenant's (the dialect's caller).
        let escaped = otp_shared::scope::escape(&tenant_of(&rig, target.dialect).subject(&mailbox));
        let destination = slides.get(&format!("SLIDE#send#{escaped}")).copied().unwrap_or(0);
        if destination != sends {
            violations.push(format!(
                "{}: the send budget holds {destination}, {sends} admitted",
                target.to
            ));
        }
        if matches!(target.dialect, Dialect::Kgen | Dialect::Bridgekeeper) {
            let address = slides
                .get(&format!("SLIDE#send-ip#{}", otp_shared::scope::escape(&target.ip)))
                .copied()
                .unwrap_or(0);
            if address != sends {
                violations.push(format!(
                    "{}: the address budget holds {address}, {sends} admitted",
                    target.ip
                ));
            }
        }
        // The failure budget keeps each wrong code and gives a right one back exactly; a
        // copy of a right code that found the challenge used is a failure, kept where the
        // tenant keeps failures against no live challenge (not in an issuer's).
        let wrong = outcomes
            .iter()
            .filter(|o| o.target == index && o.round == last && o.kind == Kind::Wrong)
            .count();
        let failures = slides.get(&format!("SLIDE#guess#{escaped}")).copied().unwrap_or(0);
        if failures < wrong || failures > wrong + RIGHT_COPIES {
            violations.push(format!(
                "{}: the failure budget holds {failures}, {wrong} wrong codes",
                target.to
            ));
        }
    }

    // The figures.
    let mut latencies: Vec<Duration> = outcomes.iter().map(|o| o.took).collect();
    latencies.sort();
    let sends = outcomes
        .iter()
        .filter(|o| matches!(o.kind, Kind::Send | Kind::Resend))
        .count();
    let verifies = outcomes.len() - sends;
    let figures = format!(
        "load: {CALLERS} callers, {sends} sends and {verifies} verify attempts over {DESTINATIONS} destinations \
         (every dialect, SMS and email), {challenges} challenges: {:.0} requests/s, p50 {:.1} ms, p99 {:.1} ms \
         (against the local AWS, one request at a time); {} invariant violations",
        outcomes.len() as f64 / busy.as_secs_f64(),
        percentile(&latencies, 50.0).as_secs_f64() * 1e3,
        percentile(&latencies, 99.0).as_secs_f64() * 1e3,
        violations.len(),
    );
    otp_tests::audit::report("load.txt", &figures);
    assert!(
        sends >= 2_000 && verifies >= 10_000,
        "{sends} sends, {verifies} verifies"
    );
    assert!(
        violations.is_empty(),
        "{} violations, first: {:#?}",
        violations.len(),
        &violations[..violations.len().min(20)]
    );
}
