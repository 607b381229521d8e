//! Status events and metrics: every challenge transition is one `challenge status` log
//! event, and counts by dialect, channel and outcome, with delivery latency, come out as
//! CloudWatch Embedded Metric Format documents, exactly as many as happened.

use std::collections::BTreeMap;

use otp_shared::telemetry::{Emf, NAMESPACE, install};
use otp_tests::{CLOSED_ENDPOINT, Deployment, Endpoints, captured_logs, fresh_phone, last_code, user_token};
use serde_json::{Value, json};

use crate::*;

/// The process's recorder (a process has one): only this test turns metrics on.
fn recorder() -> Emf {
    static RECORDER: std::sync::OnceLock<Emf> = std::sync::OnceLock::new();
    *RECORDER.get_or_init(|| install("otp-test").expect("no other recorder is installed"))
}

/// Each metric of the documents written since the last write, by name and dimensions:
/// a count's sum, or a latency's number of values.
fn written(recorder: &Emf) -> BTreeMap<(String, Vec<(String, String)>), f64> {
    let mut buffer = Vec::new();
    recorder.write_to(&mut buffer).expect("written");
    let mut metrics = BTreeMap::new();
    for line in String::from_utf8(buffer).expect("UTF-8").lines() {
        let document: Value = serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        let directive = &document["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], NAMESPACE);
        assert!(document["_aws"]["Timestamp"].is_u64());
        let dimensions: Vec<(String, String)> = directive["Dimensions"][0]
            .as_array()
            .expect("one dimension set")
            .iter()
            .map(|name| {
                let name = name.as_str().expect("a name");
                (name.to_owned(), document[name].as_str().expect("a value").to_owned())
            })
            .collect();
        for metric in directive["Metrics"].as_array().expect("metrics") {
            let name = metric["Name"].as_str().expect("a name").to_owned();
            let value = match &document[&name] {
                Value::Array(values) => values.len() as f64,
                other => other.as_f64().expect("a number"),
            };
            *metrics.entry((name, dimensions.clone())).or_insert(0.0) += value;
        }
    }
    metrics
}

fn key(name: &str, dimensions: &[(&str, &str)]) -> (String, Vec<(String, String)>) {
    let mut all: Vec<(String, String)> = vec![("Service".into(), "otp-test".into())];
    all.extend(dimensions.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    (name.to_owned(), all)
}

fn sends(outcome: &str) -> (String, Vec<(String, String)>) {
    key(
        "Sends",
        &[("Dialect", "kgen"), ("Channel", "sms"), ("Outcome", outcome)],
    )
}

fn verifications(outcome: &str) -> (String, Vec<(String, String)>) {
    key(
        "Verifications",
        &[("Dialect", "kgen"), ("Channel", "sms"), ("Outcome", outcome)],
    )
}

/// The `challenge status` events logged for `e164`, in order: (status, challenge id).
fn statuses(e164: &str) -> Vec<(String, String)> {
    let masked = format!("+91******{}", &e164[e164.len() - 4..]);
    captured_logs()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["message"] == "challenge status" && line["destination"] == masked.as_str())
        .map(|line| {
            assert_eq!((&line["dialect"], &line["channel"]), (&json!("kgen"), &json!("sms")));
            (
                line["status"].as_str().unwrap_or_default().to_owned(),
                line["challenge_id"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[tokio::test]
async fn every_transition_is_one_event_and_every_outcome_is_counted() {
    let settings = [("OTP_METRICS", "true"), ("OTP_MAX_ATTEMPTS", "2")];
    let deployment = Deployment::with(&settings, Endpoints::default()).await;
    let recorder = recorder();
    written(&recorder);
    let token = user_token("observed");
    let (national, e164) = fresh_phone();

    // Sent, then refused by the cooldown; two wrong codes spend the attempts; then the
    // challenge is gone.
    let (status, opened, _) = register_fe(&deployment, &token, &national).await;
    assert_eq!(status, 200);
    assert_eq!(register_fe(&deployment, &token, &national).await.0, 429);
    let code = last_code(&e164);
    let wrong = otp_tests::wrong_code_for(&code);
    let auth_code = opened["authCode"].clone();
    for expected in [400, 400, 410] {
        let status = verify_fe(&deployment, &token, &national, &auth_code, json!(wrong))
            .await
            .0;
        assert_eq!(status, expected);
    }

    // A new challenge: its code expires unused, and the next send replaces it.
    deployment.clock.advance(31);
    assert_eq!(register_fe(&deployment, &token, &national).await.0, 200);
    deployment.clock.advance(301);
    let (_, third, _) = register_fe(&deployment, &token, &national).await;
    let code = last_code(&e164);
    let (status, _, _) = verify_fe(&deployment, &token, &national, &third["authCode"], json!(code)).await;
    assert_eq!(status, 200);

    // A delivery that fails.
    let failing = deployment
        .sharing_table_with(
            &settings,
            Endpoints {
                sns: Some(CLOSED_ENDPOINT.into()),
                ..Default::default()
            },
        )
        .await;
    let (other_national, other) = fresh_phone();
    assert_eq!(register_fe(&failing, &token, &other_national).await.0, 503);

    // A store that does not answer: neither a send nor a verify is decided.
    let storeless = deployment
        .sharing_table_with(
            &settings,
            Endpoints {
                dynamodb: Some(CLOSED_ENDPOINT.into()),
                ..Default::default()
            },
        )
        .await;
    let (lost_national, _) = fresh_phone();
    assert_eq!(register_fe(&storeless, &token, &lost_national).await.0, 503);
    let status = verify_fe(&storeless, &token, &lost_national, &json!("1234"), json!("123456"))
        .await
        .0;
    assert_eq!(status, 503);

    let metrics = written(&recorder);
    let expected: BTreeMap<_, f64> = [
        (sends("sent"), 3.0),
        (sends("refused"), 1.0),
        (sends("failed"), 1.0),
        (sends("error"), 1.0),
        (verifications("error"), 1.0),
        (key("DeliveryFailures", &[]), 1.0),
        (key("DeliveryLatency", &[("Dialect", "kgen"), ("Channel", "sms")]), 4.0),
        (verifications("wrong_code"), 1.0),
        (verifications("max_attempts_reached"), 1.0),
        (verifications("no_challenge"), 1.0),
        (verifications("approved"), 1.0),
        // By country, for conversion: three messages went out, one was verified.
        (key("PhoneSends", &[("Country", "IN")]), 3.0),
        (key("PhoneVerifications", &[("Country", "IN")]), 1.0),
        // Each one segment at the default 5 cents.
        (key("EstimatedSpendMicroUsd", &[]), 150_000.0),
    ]
    .into_iter()
    .collect();
    assert_eq!(metrics, expected);

    let events = statuses(&e164);
    let names: Vec<&str> = events.iter().map(|(status, _)| status.as_str()).collect();
    assert_eq!(
        names,
        [
            "pending",
            "max_attempts_reached",
            "pending",
            "expired",
            "pending",
            "approved"
        ]
    );
    // Each transition names its challenge: the first opened and ran out, the second
    // expired, the third was approved.
    assert_eq!(events[0].1, events[1].1);
    assert_eq!(events[2].1, events[3].1);
    assert_eq!(events[4].1, events[5].1);
    assert!(events[0].1 != events[2].1 && events[2].1 != events[4].1);
    let failed: Vec<String> = statuses(&other).into_iter().map(|(status, _)| status).collect();
    assert_eq!(failed, ["failed"]);

    // Nothing more was recorded since.
    assert!(written(&recorder).is_empty());
}
