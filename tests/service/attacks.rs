//! The attacks the security model names: parallel guesses, parallel reuse, codes at rest.

use std::sync::Arc;

use otp_tests::{Deployment, fresh_phone, kgen_request, last_code, user_token};
use serde_json::json;

use crate::*;

/// Fires `count` KGen verifies of `otp` at once; returns their statuses.
async fn verify_in_parallel(
    deployment: &Arc<Deployment>,
    token: &str,
    national: &str,
    auth_code: &serde_json::Value,
    otp: &str,
    count: usize,
) -> Vec<u16> {
    let requests = (0..count)
        .map(|_| {
            kgen_request(
                &format!("{FE}/verify"),
                token,
                None,
                &verify_body(national, auth_code, json!(otp)),
            )
        })
        .collect();
    verify_all_at_once(deployment, requests).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_parallel_wrong_guesses_get_five_attempts() {
    let deployment = Arc::new(Deployment::new().await);
    let (national, e164) = fresh_phone();
    let token = user_token("target");
    let (_, body, _) = register_fe(&deployment, &token, &national).await;
    let auth_code = body["authCode"].clone();
    let code = last_code(&e164);
    let wrong = if code == "123456" { "654321" } else { "123456" };

    let statuses = verify_in_parallel(&deployment, &token, &national, &auth_code, wrong, 50).await;
    let count = |status: u16| statuses.iter().filter(|&&s| s == status).count();
    assert!(statuses.iter().all(|s| [400, 410, 429].contains(s)), "{statuses:?}");
    // At most the challenge's limit compared (400). Once it was spent, the user's failures
    // against no live challenge went to the user's own budget (docs/security.md, "Whose budgets"), which
    // admitted at most ten (410). Everything else compared nothing (429).
    assert!(count(400) <= 5, "at most the challenge's limit compared: {statuses:?}");
    assert!(count(410) <= 10, "the user's own budget: {statuses:?}");
    assert!(count(429) >= 35, "{statuses:?}");

    let item = deployment
        .challenge_item("target", &e164)
        .await
        .expect("challenge item");
    assert_eq!(
        number(&item, "attempts"),
        count(400) as i64,
        "an attempt stays counted only where a code was compared"
    );
    let attempts = number(&item, "attempts");
    // The right code after: the user's own budget holds every failure it admitted (each
    // compared one, each against no live challenge), exactly; at ten it refuses (429).
    // Below that, a spent challenge is gone (410) and one with attempts left verifies.
    let (status, body, _) = verify_fe(&deployment, &token, &national, &auth_code, json!(code)).await;
    let expected = match (count(400) + count(410) >= 10, count(400) == 5) {
        (true, _) => 429,
        (false, true) => 410,
        (false, false) => 200,
    };
    assert_eq!(status, expected, "{body} after {statuses:?}");
    if status == 200 {
        return;
    }
    let item = deployment
        .challenge_item("target", &e164)
        .await
        .expect("challenge item");
    assert_eq!(
        number(&item, "attempts"),
        attempts,
        "a refused verify touches no challenge"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ten_parallel_right_codes_succeed_once() {
    let deployment = Arc::new(Deployment::new().await);
    let (national, e164) = fresh_phone();
    let token = user_token("racer");
    let (_, body, _) = register_fe(&deployment, &token, &national).await;
    let auth_code = body["authCode"].clone();
    let code = last_code(&e164);

    let statuses = verify_in_parallel(&deployment, &token, &national, &auth_code, &code, 10).await;
    assert_eq!(statuses.iter().filter(|&&s| s == 200).count(), 1, "{statuses:?}");
    assert!(statuses.iter().all(|s| [200, 410, 429].contains(s)), "{statuses:?}");
    let (status, _, _) = verify_fe(&deployment, &token, &national, &auth_code, json!(code)).await;
    assert_eq!(status, 410, "used codes stay used");
}

#[tokio::test]
async fn the_table_holds_no_code_in_clear() {
    let deployment = Deployment::new().await;
    let (national, e164) = fresh_phone();
    let token = user_token("dump");
    let (_, body, _) = register_fe(&deployment, &token, &national).await;
    let code = last_code(&e164);
    // A wrong guess too: it must not be stored either.
    let wrong = if code == "424242" { "242424" } else { "424242" };
    verify_fe(&deployment, &token, &national, &body["authCode"], json!(wrong)).await;

    let items = deployment.scan().await;
    assert!(!items.is_empty());
    for item in &items {
        for (name, value) in item {
            let text = match value {
                aws_sdk_dynamodb::types::AttributeValue::S(s) | aws_sdk_dynamodb::types::AttributeValue::N(s) => {
                    s.clone()
                }
                aws_sdk_dynamodb::types::AttributeValue::B(blob) => String::from_utf8_lossy(blob.as_ref()).into_owned(),
                other => format!("{other:?}"),
            };
            for secret in [&code, &wrong.to_owned()] {
                let allowed_in_key = name == "pk" && e164.contains(secret.as_str());
                assert!(
                    allowed_in_key || !text.contains(secret.as_str()),
                    "{name} holds a code in clear"
                );
            }
        }
    }
    let challenge = deployment.challenge_item("dump", &e164).await.expect("challenge item");
    let tag = challenge["code_tag"].as_b().expect("a tag is stored");
    assert_eq!(tag.as_ref().len(), 32, "an HMAC-SHA256 tag");
}
