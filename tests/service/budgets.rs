//! Budgets at scale and at their edges: one client's parallel sends, a client allowed a
//! million sends an hour, the number-range rule against SMS pumping, canonical email
//! keys, and refusals that give back what they took.

use std::sync::Arc;

use aws_sdk_dynamodb::types::AttributeValue;
use otp_shared::clock::Clock;
use otp_shared::ports::{ClientLimits, Permission};
use otp_tests::{Deployment, emails_to, fresh_email, last_email_code, local_aws, sdk_config, user_token};
use serde_json::json;

use crate::*;

/// The hour window (epoch-aligned) of a deployment's clock, and the seconds left in it.
fn hour_window(deployment: &Deployment) -> (i64, u64) {
    let now = deployment.clock.now();
    (now.div_euclid(3_600), (3_600 - now.rem_euclid(3_600)) as u64)
}

/// The count of a counter budget in the current hour.
async fn counter(deployment: &Deployment, rule: &str, subject: &str) -> i64 {
    let (window, _) = hour_window(deployment);
    let item = deployment
        .item_where(|pk| pk == format!("COUNT#{rule}#{subject}#{window}"))
        .await
        .unwrap_or_else(|| panic!("no {rule} counter for {subject}"));
    number(&item, "n")
}

fn zap_send(key: &str, address: &str, user: &str) -> lambda_http::Request {
    crate::zap::request("/v1/otp", Some(key), &json!({"email": address, "userId": user}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_hundred_parallel_sends_of_one_client_all_succeed() {
    let deployment = Arc::new(Deployment::new().await);
    let client = deployment.client_with(&[Permission::Zap]).await;
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..200 {
        let deployment = Arc::clone(&deployment);
        let key = client.api_key.clone();
        tasks.spawn(async move {
            let address = fresh_email();
            let answer = call_generate(&deployment, zap_send(&key, &address, &format!("user-{i}"))).await;
            (answer.0, answer.1)
        });
    }
    let mut statuses = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (status, body) = joined.expect("task ran");
        assert_eq!(status, 200, "{body}");
        statuses.push(status);
    }
    assert_eq!(statuses.len(), 200);
    // No retry loop, no lost update: the client's counter is exact.
    assert_eq!(counter(&deployment, "send-client", &client.id).await, 200);
}

#[tokio::test]
async fn a_client_allowed_a_million_sends_an_hour_gets_them_and_no_more() {
    let deployment = Deployment::new().await;
    let client = deployment
        .client_limited(
            &[Permission::Zap],
            ClientLimits {
                sends_per_hour: Some(1_000_000),
                sends_per_number_range_per_hour: None,
            },
        )
        .await;
    // As if 999,999 sends had gone out this hour.
    let (window, seconds_left) = hour_window(&deployment);
    aws_sdk_dynamodb::Client::new(&sdk_config(&local_aws().endpoint))
        .put_item()
        .table_name(&deployment.table)
        .item(
            "pk",
            AttributeValue::S(format!("COUNT#send-client#{}#{window}", client.id)),
        )
        .item("n", AttributeValue::N("999999".into()))
        .send()
        .await
        .expect("counter seeded");

    let (status, body, _) = call_generate(&deployment, zap_send(&client.api_key, &fresh_email(), "a")).await;
    assert_eq!(status, 200, "the millionth send: {body}");
    let (status, _, retry_after) = call_generate(&deployment, zap_send(&client.api_key, &fresh_email(), "b")).await;
    assert_eq!(status, 429, "the millionth and first");
    assert_eq!(
        retry_after,
        Some(seconds_left.to_string()),
        "until the next hour, to the second"
    );
    assert_eq!(
        counter(&deployment, "send-client", &client.id).await,
        1_000_000,
        "the refusal gave its count back"
    );
}

#[tokio::test]
async fn a_burst_to_one_number_range_stops_at_the_range_budget() {
    let deployment = Deployment::with(&[("OTP_SENDS_PER_NUMBER_RANGE_PER_HOUR", "3")], Default::default()).await;
    let token = user_token("pumper");
    let (_, seconds_left) = hour_window(&deployment);
    // +91 9876 5xxxxx: one range of four national digits.
    for national in ["9876500001", "9876500002", "9876500003"] {
        let (status, body, _) = register_fe(&deployment, &token, national).await;
        assert_eq!(status, 200, "{national}: {body}");
    }
    let (status, _, retry_after) = register_fe(&deployment, &token, "9876500004").await;
    assert_eq!(status, 429, "a fourth number of the same range");
    assert_eq!(retry_after, Some(seconds_left.to_string()));
    assert!(otp_tests::sms_to("+919876500004").is_empty(), "nothing was sent");
    let other = loop {
        let (national, _) = otp_tests::fresh_phone();
        if !national.starts_with("9876") {
            break national;
        }
    };
    let (status, body, _) = register_fe(&deployment, &token, &other).await;
    assert_eq!(status, 200, "another range is not affected: {body}");
}

#[tokio::test]
async fn an_address_in_any_case_is_one_mailbox() {
    let (deployment, client) = crate::zap::zap().await;
    let local = format!("Asha.{}", uuid::Uuid::new_v4().simple());
    let given = format!("{local}@Example.com");
    let lower = format!("{}@example.com", local.to_ascii_lowercase());
    let (status, _, _) = call_generate(&deployment, zap_send(&client.api_key, &given, "asha")).await;
    assert_eq!(status, 200);
    // Delivered to the address as given (its domain lower-cased: that part is caseless).
    let delivered_to = format!("{local}@example.com");
    assert_eq!(emails_to(&delivered_to).len(), 1);
    // The same mailbox in other case: the same cooldown, and the same challenge.
    let (status, _, retry_after) = call_generate(&deployment, zap_send(&client.api_key, &lower, "asha")).await;
    assert_eq!((status, retry_after.as_deref()), (429, Some("30")));
    let code = last_email_code(&delivered_to);
    let verify = crate::zap::request(
        "/v1/otp/verify",
        Some(&client.api_key),
        &json!({"email": lower, "userId": "asha", "otp": code}),
    );
    assert_eq!(call_verify(&deployment, verify).await.0, 200);
    // The registry links the mailbox once, whatever the case.
    let contacts = deployment.scan().await;
    let linked: Vec<_> = contacts
        .iter()
        .filter_map(|item| item.get("pk")?.as_s().ok())
        .filter(|pk| pk.starts_with("CONTACT#") && pk.to_ascii_lowercase().contains(&local.to_ascii_lowercase()))
        .collect();
    // ZAP's users are its client's.
    assert_eq!(linked, vec![&format!("CONTACT#zap:{}#{lower}", client.id)]);
}

#[tokio::test]
async fn a_refused_send_gives_back_what_it_took() {
    let deployment = Deployment::with(&[("OTP_SENDS_PER_IP_PER_HOUR", "2")], Default::default()).await;
    let token = user_token("refused");
    let (first, _) = otp_tests::fresh_phone();
    assert_eq!(register_fe(&deployment, &token, &first).await.0, 200);
    // Refused by the destination's cooldown: the address's budget is given back...
    let (status, _, retry_after) = register_fe(&deployment, &token, &first).await;
    assert_eq!((status, retry_after.as_deref()), (429, Some("30")));
    // ...so a second destination still fits the address's two an hour...
    let (second, _) = otp_tests::fresh_phone();
    assert_eq!(register_fe(&deployment, &token, &second).await.0, 200);
    // ...and a third does not: exactly two were spent.
    let (third, _) = otp_tests::fresh_phone();
    let (status, _, retry_after) = register_fe(&deployment, &token, &third).await;
    assert_eq!((status, retry_after.as_deref()), (429, Some("3600")));
}
