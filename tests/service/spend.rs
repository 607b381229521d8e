//! The spend cap: a pumper who spreads anonymous sends over many number prefixes (one
//! each, which the conversion guard lets through) is stopped by the public's share of
//! the deployment's month, while an API client's sends go on; then the month's cap stops
//! every send, until the month turns.

use otp_shared::clock::Clock;
use otp_shared::ports::Channel;
use otp_tests::{Deployment, sms_to};
use serde_json::{Value, json};

use crate::bridgekeeper::{SEND, request};
use crate::twilio::{Service, twilio_error, without_message};
use crate::*;

/// A number of its own prefix (`+91 98<lane>`), which the guard has seen nothing of.
fn in_own_prefix(lane: u32) -> String {
    format!("+9198{lane:02}012345")
}

#[tokio::test]
async fn anonymous_sends_stop_at_the_public_share_and_every_send_at_the_month_cap() {
    // $1 a month at the default 5 cents a segment, in 8 shards of 12.5 cents: the public
    // may take half (6.25 cents a shard: one send each), a country all of it an hour.
    let overrides = [
        ("OTP_SPEND_MONTHLY_USD", "1"),
        ("OTP_SPEND_COUNTRY_HOURLY_PERCENT", "100"),
    ];
    let service = Service::of_deployment(Deployment::with(&overrides, Default::default()).await, Channel::Sms).await;
    let deployment = &service.deployment;
    let now = deployment.clock.now();
    let to_next_month = (otp_shared::spend::month_of(now).1 - now).to_string();

    let mut public_sent = 0;
    let mut public_refusals = Vec::new();
    for lane in 0..16 {
        let to = in_own_prefix(lane);
        let body = json!({"phone-number": to, "always-send": true}).to_string();
        let (status, answer, retry_after) = call_send_otp(deployment, request(SEND, None, None, &body)).await;
        match status {
            200 => {
                assert_eq!(sms_to(&to).len(), 1, "{to}");
                public_sent += 1;
            }
            _ => {
                assert!(sms_to(&to).is_empty(), "{to} was refused but sent");
                public_refusals.push((status, answer, retry_after));
            }
        }
    }
    assert!((1..=8).contains(&public_sent), "{public_sent} anonymous sends");
    for refusal in &public_refusals {
        assert_eq!(
            refusal,
            &(
                429,
                json!({"error": {"message": "Too many requests"}}),
                Some(to_next_month.clone())
            )
        );
    }

    // The client's sends still go: every shard has room for its first.
    let mut client_sent = 0;
    let refusal = loop {
        let to = in_own_prefix(20 + client_sent);
        let answer = service.create(&to, "sms").await;
        if answer.0 != 201 {
            assert!(sms_to(&to).is_empty(), "{to} was refused but sent");
            break answer;
        }
        client_sent += 1;
        assert!(client_sent <= 20, "the month's cap never refused");
    };
    assert!(client_sent >= 1, "the public's share left the client nothing");
    assert_eq!(without_message(&refusal), twilio_error(20429, 429));
    assert_eq!(refusal.2.as_deref(), Some(to_next_month.as_str()));
    // Never past the cap: $1 is 20 single-segment messages.
    assert!(public_sent + client_sent <= 20, "{public_sent} + {client_sent} sent");
    let logged = otp_tests::captured_logs()
        .lines()
        .filter(|line| line.contains("spend cap reached: send refused"))
        .count();
    assert!(logged > public_refusals.len(), "each refusal is logged: {logged}");

    // What the operator reads: the month against the cap, the public's share, the
    // country's hour; each at most its cap, and every send counted.
    let public = "public:bridgekeeper";
    let client = format!("client:{}", service.client.id);
    let status = deployment
        .admin(&[
            "spend",
            "status",
            "--tenant",
            public,
            "--tenant",
            &client,
            "--country",
            "in",
        ])
        .await
        .expect("spend status");
    let sent = f64::from(public_sent + client_sent);
    let usd = |value: &Value| value.as_f64().expect("dollars");
    assert!((usd(&status["spent_usd"]) - sent * 0.05).abs() < 1e-9, "{status}");
    assert_eq!(usd(&status["cap_usd"]), 1.0);
    assert_eq!(status["tenants"][0]["tenant"], public);
    assert!((usd(&status["tenants"][0]["spent_usd"]) - f64::from(public_sent) * 0.05).abs() < 1e-9);
    assert_eq!(usd(&status["tenants"][0]["cap_usd"]), 0.5);
    assert!((usd(&status["tenants"][1]["spent_usd"]) - f64::from(client_sent) * 0.05).abs() < 1e-9);
    assert_eq!(status["countries"][0]["country"], "IN");
    assert!((usd(&status["countries"][0]["spent_usd"]) - sent * 0.05).abs() < 1e-9);
    assert_eq!(status["month"], otp_shared::spend::month_of(now).0);

    // A new month, a new cap.
    deployment.clock.advance(to_next_month.parse::<i64>().expect("seconds"));
    assert_eq!(service.create(&in_own_prefix(60), "sms").await.0, 201);
}
