//! Backends failing: clean 5xx answers, nothing internal said, nothing half-made left.

use otp_tests::{CLOSED_ENDPOINT, Deployment, Endpoints, fresh_phone, kgen_request, last_code, sms_to, user_token};
use serde_json::json;

use crate::*;

#[tokio::test]
async fn dynamodb_unreachable_is_a_clean_503() {
    let deployment = Deployment::with(
        &[],
        Endpoints {
            dynamodb: Some(CLOSED_ENDPOINT.into()),
            ..Default::default()
        },
    )
    .await;
    let (national, e164) = fresh_phone();
    let token = user_token("offline");
    let (status, body, _) = register_fe(&deployment, &token, &national).await;
    assert_eq!((status, body), (503, json!({"message": "SERVICE_UNAVAILABLE"})));
    assert!(sms_to(&e164).is_empty(), "nothing was sent");
    let (status, body, _) = verify_fe(&deployment, &token, &national, &json!("1234"), json!("123456")).await;
    assert_eq!((status, body), (503, json!({"message": "SERVICE_UNAVAILABLE"})));
    let (id, secret) = ("client", "secret");
    let request = kgen_request(
        &format!("{PROXY}/register"),
        &token,
        Some((id, secret)),
        &phone_body(&national),
    );
    assert_eq!(call_register(&deployment, request).await.0, 503);
}

#[tokio::test]
async fn an_sns_failure_leaves_no_live_code() {
    let failing = Deployment::with(
        &[],
        Endpoints {
            sns: Some(CLOSED_ENDPOINT.into()),
            ..Default::default()
        },
    )
    .await;
    let (national, e164) = fresh_phone();
    let token = user_token("unlucky");
    let (status, body, _) = register_fe(&failing, &token, &national).await;
    assert_eq!((status, body), (503, json!({"message": "SERVICE_UNAVAILABLE"})));
    assert!(sms_to(&e164).is_empty());

    // Nothing is written before a delivery succeeds: no challenge, so no code, exists.
    assert!(failing.challenge_item("unlucky", &e164).await.is_none());
    for guess in ["000000", "123456"] {
        let (status, _, _) = verify_fe(&failing, &token, &national, &json!("1234"), json!(guess)).await;
        assert_eq!(status, 410, "nothing verifies after an undelivered send");
    }

    // The failed send still spent the destination's budget.
    let (status, _, _) = register_fe(&failing, &token, &national).await;
    assert_eq!(status, 429);

    // Once delivery works, a later send makes a code of the same challenge live.
    let working = failing.sharing_table(Endpoints::default()).await;
    working.clock.advance(30);
    let (status, body, _) = register_fe(&working, &token, &national).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = verify_fe(&working, &token, &national, &body["authCode"], json!(last_code(&e164))).await;
    assert_eq!(status, 200);
}
