//! SMS pumping: sends to numbers whose operator shares each message's revenue. Every
//! product refuses them before anything is spent or sent, in its own shape.

use otp_shared::ports::Channel;
use otp_tests::{Deployment, kgen_request, sms_to, user_token};
use serde_json::json;

use crate::bridgekeeper::{SEND, request};
use crate::twilio::{Service, twilio_error, without_message};
use crate::*;

/// What a pumper sends to: international premium rate (+979), Iridium satellite (+881),
/// a VoIP network (+883) and one of +882, and national premium rate in the US and the UK.
const PUMPED: [&str; 6] = [
    "+979123456789",
    "+881612345678",
    "+8823421234",
    "+883510012345",
    "+19002345678",
    "+449091234567",
];

#[tokio::test]
async fn anonymous_always_send_to_premium_and_non_geographic_numbers_sends_nothing() {
    let deployment = Deployment::new().await;
    for number in PUMPED {
        let body = json!({"phone-number": number, "always-send": true}).to_string();
        let (status, answer, retry_after) = call_send_otp(&deployment, request(SEND, None, None, &body)).await;
        assert_eq!((status, retry_after), (400, None), "{number}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("phone-number is "), "{number}: {message}");
        assert!(sms_to(number).is_empty(), "{number} got a message");
    }
}

#[tokio::test]
async fn twilio_names_a_landline_60205_and_other_refused_numbers_60200() {
    let service = Service::new(Channel::Sms).await;
    let landline = "+441212345678";
    assert_eq!(
        without_message(&service.create(landline, "sms").await),
        twilio_error(60205, 400)
    );
    for number in PUMPED {
        assert_eq!(
            without_message(&service.create(number, "sms").await),
            twilio_error(60200, 400),
            "{number}"
        );
    }
    assert!(sms_to(landline).is_empty());
    // A refused number spent nothing: the client's next send goes out.
    assert_eq!(service.create("+447911123456", "sms").await.0, 201);
}

#[tokio::test]
async fn kgen_answers_a_refused_number_as_an_invalid_request() {
    let deployment = Deployment::new().await;
    let token = user_token("pumped");
    let body = json!({"phone_number": "9002345678", "countryCode": "+1"});
    let (status, answer, _) = call_register(
        &deployment,
        kgen_request(&format!("{FE}/register"), &token, None, &body),
    )
    .await;
    assert_eq!(
        (status, answer),
        (
            400,
            json!({"message": "INVALID_REQUEST", "detail": "phone_number is a premium rate number; codes go to mobile numbers only"})
        )
    );
    assert!(sms_to("+19002345678").is_empty());
}

/// Numbers of one prefix: `+91 7<lane>001` and five more digits.
fn in_prefix(lane: u32, n: u32) -> String {
    format!("+917{lane}001{n:05}")
}

/// Creates until Twilio refuses; returns how many went out and the refusal.
async fn create_until_refused(service: &Service, lane: u32, most: u32) -> (u32, Option<Answer>) {
    for n in 0..most {
        let answer = service.create(&in_prefix(lane, n), "sms").await;
        if answer.0 != 201 {
            return (n, Some(answer));
        }
    }
    (most, None)
}

/// The guard's log lines about one prefix.
fn guard_lines(prefix: &str) -> Vec<serde_json::Value> {
    otp_tests::captured_logs()
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|line| line["prefix"] == prefix)
        .collect()
}

/// `otp-admin guard status`: the operator sees each held prefix, until when and why.
#[tokio::test]
async fn the_operator_sees_each_held_prefix_and_why() {
    let overrides = [("OTP_GUARD_MODE", "enforce")];
    let service = Service::of_deployment(Deployment::with(&overrides, Default::default()).await, Channel::Sms).await;
    let (sent, refusal) = create_until_refused(&service, 4, 10).await;
    assert_eq!((sent, refusal.map(|answer| answer.0)), (4, Some(403)));
    let status = service
        .deployment
        .admin(&["guard", "status"])
        .await
        .expect("guard status");
    let blocks = status["blocks"].as_array().expect("a list");
    assert_eq!(blocks.len(), 1, "{status}");
    let block = &blocks[0];
    assert_eq!(block["tenant"], format!("client:{}", service.client.id));
    assert_eq!(block["prefix"], "+91 7400");
    assert_eq!(block["why"], "unverified_hour");
    assert_eq!(block["cool_offs_in_a_row"], 1);
    assert_eq!(block["this_hour"], json!({"sent": 4, "verified": 0}));
    assert_eq!(block["unverified_allowed"], json!({"day": 20, "hour": 4}));
    assert_eq!(block["retry_after"], 3_600, "{block}");
}

/// The simulation the security model's figures come from (docs/security.md, "Conversion
/// guard"): a burst, a prefix that converts, `monitor`, an allow-listed number and the
/// public's anonymous sends.
#[tokio::test]
async fn pumping_simulation() {
    let allowed = in_prefix(0, 99_999);
    let overrides = [("OTP_GUARD_MODE", "enforce"), ("OTP_GUARD_ALLOW", allowed.as_str())];
    let enforced = Service::of_deployment(Deployment::with(&overrides, Default::default()).await, Channel::Sms).await;
    let range_budget = 100;

    // A burst of unverified sends to one prefix: refused within the hour, long before the
    // number range's own budget; Twilio's 60410 with the cool-off in Retry-After.
    let (burst_sent, refusal) = create_until_refused(&enforced, 0, range_budget).await;
    let (status, body, retry_after) = refusal.expect("the burst is refused");
    assert_eq!(without_message(&(status, body, None)), twilio_error(60410, 403));
    assert_eq!(retry_after.as_deref(), Some("3600"));
    assert_eq!(burst_sent, 4, "the hour's allowance where nothing converted yet");
    assert!(sms_to(&in_prefix(0, burst_sent)).is_empty());
    // The allow-listed number of that prefix still gets its code.
    assert_eq!(enforced.create(&allowed, "sms").await.0, 201);
    let refusals = guard_lines("+91 7000")
        .into_iter()
        .filter(|line| line["message"] == "guard refused a send")
        .count();
    assert_eq!(refusals, 1, "every refusal is one log line");

    // A prefix whose codes are verified is never held.
    let mut control_sent = 0;
    for n in 0..40 {
        let to = in_prefix(1, n);
        assert_eq!(enforced.create(&to, "sms").await.0, 201, "{to}");
        let (status, checked, _) = enforced.check(("To", &to), &otp_tests::last_code(&to)).await;
        assert_eq!((status, &checked["status"]), (200, &json!("approved")));
        control_sent += 1;
    }

    // `monitor`, a client's default: nothing refused, each would-be refusal logged.
    let monitored = Service::new(Channel::Sms).await;
    let (monitored_sent, refusal) = create_until_refused(&monitored, 2, 30).await;
    assert_eq!((monitored_sent, refusal), (30, None));
    let would = guard_lines("+91 7200")
        .into_iter()
        .filter(|line| line["message"] == "guard would refuse a send")
        .count();
    assert_eq!(would, 26, "each send past the hour's 4 is logged");

    // The public's anonymous sends (enforced by default) are held the same way,
    // whether or not a message goes out.
    let deployment = Deployment::new().await;
    let mut public_sent = 0;
    let public_refused = loop {
        let body = json!({"phone-number": in_prefix(3, public_sent), "always-send": true}).to_string();
        let (status, answer, retry_after) = call_send_otp(&deployment, request(SEND, None, None, &body)).await;
        if status != 200 {
            break (status, answer, retry_after);
        }
        public_sent += 1;
    };
    assert_eq!(
        public_refused,
        (
            429,
            json!({"error": {"message": "Too many requests"}}),
            Some("3600".to_owned())
        )
    );
    assert_eq!(public_sent, 4);

    otp_tests::audit::report(
        "pumping.txt",
        &format!(
            "pumping: a burst of unverified sends to one prefix was refused after {burst_sent} (the range budget: {range_budget} an hour), \
             for 1 h; an allow-listed number there was sent; a prefix whose codes were verified sent {control_sent} of {control_sent}; \
             monitor sent {monitored_sent} of {monitored_sent} and logged {would} would-be refusals; the public's anonymous sends were refused after {public_sent}\n"
        ),
    );
}
