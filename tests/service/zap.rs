//! ZAP: generate by email or SMS on every form of its path, verify, and the
//! seed's validation rules.

use std::sync::Arc;

use otp_shared::ports::Permission;
use otp_tests::{
    Deployment, TestClient, api_request, emails_to, fresh_email, fresh_phone, last_code, last_email_code, sms_to,
};
use serde_json::{Value, json};

use crate::*;

pub(crate) fn request(path: &str, key: Option<&str>, body: &Value) -> lambda_http::Request {
    let mut headers = vec![("content-type", "application/json")];
    if let Some(key) = key {
        headers.push(("x-api-key", key));
    }
    api_request(path, &headers, &body.to_string())
}

pub(crate) async fn zap() -> (Deployment, TestClient) {
    let deployment = Deployment::new().await;
    let client = deployment.client_with(&[Permission::Zap]).await;
    (deployment, client)
}

#[tokio::test]
async fn every_form_of_the_path_reaches_generate() {
    let (deployment, client) = zap().await;
    for path in ["/v1/otp", "/v1/otp/", "/api/v1/otp", "/api/v1/otp/"] {
        let address = fresh_email();
        let body = json!({"email": address, "userId": "63fcedad5ab92b52bfbf5125"});
        let (status, answer, _) = call_generate(&deployment, request(path, Some(&client.api_key), &body)).await;
        assert_eq!(
            (status, answer),
            (200, json!({"success": true, "data": "OTP Generated"})),
            "{path}"
        );
        assert_eq!(emails_to(&address).len(), 1, "{path}");
    }
    let (status, _, _) = call_generate(&deployment, request("/v1/otpx", Some(&client.api_key), &json!({}))).await;
    assert_eq!(status, 404, "other paths that reach the function by the default route");
}

#[tokio::test]
async fn an_email_code_verifies_and_links_the_contact_to_the_user() {
    let (deployment, client) = zap().await;
    let address = fresh_email();
    let body = json!({"email": address, "userId": "u-42"});
    assert_eq!(
        call_generate(&deployment, request("/v1/otp/", Some(&client.api_key), &body))
            .await
            .0,
        200
    );
    let email = emails_to(&address).pop().expect("an email");
    assert_eq!(email.subject, "Your verification code");
    assert_eq!(email.source, otp_tests::EMAIL_FROM);
    let code = last_email_code(&address);

    let wrong = if code == "555555" { "666666" } else { "555555" };
    let verify = |otp: &str| {
        request(
            "/v1/otp/verify",
            Some(&client.api_key),
            &json!({"email": address, "userId": "u-42", "otp": otp}),
        )
    };
    let (status, answer, _) = call_verify(&deployment, verify(wrong)).await;
    assert_eq!((status, answer["success"].clone()), (400, json!(false)));
    let (status, answer, _) = call_verify(&deployment, verify(&code)).await;
    assert_eq!(
        (status, answer),
        (200, json!({"success": true, "data": "OTP Verified"}))
    );
    let contact = deployment
        .item_where(|pk| pk == format!("CONTACT#zap:{}#{address}", client.id))
        .await
        .expect("the contact is linked");
    assert_eq!(contact["user_id"].as_s().ok().map(String::as_str), Some("u-42"));
    let (status, answer, _) = call_verify(&deployment, verify(&code)).await;
    assert_eq!(
        (status, answer),
        (400, json!({"success": false, "data": "Invalid or expired OTP"})),
        "used"
    );
}

#[tokio::test]
async fn a_phone_gets_an_sms_and_both_go_by_email() {
    let (deployment, client) = zap().await;
    let (_, e164) = fresh_phone();
    let body = json!({"phoneNumber": e164, "UserId": "u-7"});
    assert_eq!(
        call_generate(&deployment, request("/api/v1/otp", Some(&client.api_key), &body))
            .await
            .0,
        200
    );
    let code = last_code(&e164);
    let verify = json!({"phoneNumber": e164, "userId": "u-7", "otp": code});
    assert_eq!(
        call_verify(
            &deployment,
            request("/api/v1/otp/verify", Some(&client.api_key), &verify)
        )
        .await
        .0,
        200
    );

    let address = fresh_email();
    let (_, other_phone) = fresh_phone();
    let both = json!({"phoneNumber": other_phone, "email": address, "userId": "u-8"});
    assert_eq!(
        call_generate(&deployment, request("/v1/otp", Some(&client.api_key), &both))
            .await
            .0,
        200
    );
    assert_eq!(emails_to(&address).len(), 1, "sent to the user's email");
    assert!(sms_to(&other_phone).is_empty(), "and not by SMS");
}

#[tokio::test]
async fn every_validation_rule_is_a_400() {
    let (deployment, client) = zap().await;
    let long_email = format!("{}@{}.com", "a".repeat(64), "b".repeat(252));
    let cases = [
        ("no userId", json!({"email": "a@b.co"})),
        ("empty userId", json!({"email": "a@b.co", "userId": ""})),
        ("userId not a string", json!({"email": "a@b.co", "userId": 5})),
        ("neither contact", json!({"userId": "u"})),
        ("email over 320", json!({"email": long_email, "userId": "u"})),
        ("invalid email", json!({"email": "not-an-email", "userId": "u"})),
        (
            "phone without +",
            json!({"phoneNumber": "2348011111111", "userId": "u"}),
        ),
        (
            "phone over 15 digits",
            json!({"phoneNumber": "+2348011111111123", "userId": "u"}),
        ),
        ("invalid phone", json!({"phoneNumber": "+23480", "userId": "u"})),
        (
            "bad phone beside an email",
            json!({"email": "a@b.co", "phoneNumber": "12", "userId": "u"}),
        ),
        (
            "bad UserId beside a userId",
            json!({"email": "a@b.co", "userId": "u", "UserId": 5}),
        ),
        ("blank userId", json!({"email": "a@b.co", "userId": "   "})),
        ("null userId", json!({"email": "a@b.co", "userId": null})),
        (
            "null contacts",
            json!({"email": null, "phoneNumber": null, "userId": "u"}),
        ),
    ];
    for (name, body) in cases {
        let (status, answer, _) = call_generate(&deployment, request("/v1/otp", Some(&client.api_key), &body)).await;
        assert_eq!(
            (status, answer["success"].clone()),
            (400, json!(false)),
            "{name}: {answer}"
        );
        assert!(
            answer["data"].as_str().is_some_and(|d| !d.is_empty()),
            "{name}: says what is wrong"
        );
    }
    let not_json = api_request(
        "/v1/otp",
        &[("content-type", "application/json"), ("x-api-key", &client.api_key)],
        "{",
    );
    assert_eq!(call_generate(&deployment, not_json).await.0, 400);
    let no_type = api_request(
        "/v1/otp",
        &[("x-api-key", &client.api_key)],
        r#"{"email": "a@b.co", "userId": "u"}"#,
    );
    assert_eq!(
        call_generate(&deployment, no_type).await.0,
        400,
        "the documented API: a missing content type is a 400"
    );
    let text = api_request(
        "/v1/otp",
        &[("content-type", "text/plain"), ("x-api-key", &client.api_key)],
        r#"{"email": "a@b.co", "userId": "u"}"#,
    );
    assert_eq!(call_generate(&deployment, text).await.0, 400);
}

#[tokio::test]
async fn keys_are_required_unless_the_deployment_opts_out() {
    let (deployment, _) = zap().await;
    let body = json!({"email": fresh_email(), "userId": "u"});
    let (status, answer, _) = call_generate(&deployment, request("/v1/otp", None, &body)).await;
    assert_eq!(
        (status, answer),
        (401, json!({"success": false, "data": "Unauthorized"}))
    );
    assert_eq!(
        call_generate(&deployment, request("/v1/otp", Some("x.y"), &body))
            .await
            .0,
        401
    );
    let bizmagnets_only = deployment.client_with(&[Permission::Bizmagnets]).await;
    assert_eq!(
        call_generate(&deployment, request("/v1/otp", Some(&bizmagnets_only.api_key), &body))
            .await
            .0,
        401
    );
    let verify = json!({"email": "a@b.co", "userId": "u", "otp": "123456"});
    assert_eq!(
        call_verify(&deployment, request("/v1/otp/verify", None, &verify))
            .await
            .0,
        401
    );

    let open = Deployment::with(&[("ZAP_REQUIRE_API_KEY", "false")], Default::default()).await;
    let address = fresh_email();
    let body = json!({"email": address, "userId": "u"});
    assert_eq!(call_generate(&open, request("/v1/otp", None, &body)).await.0, 200);
    let verify = json!({"email": address, "userId": "u", "otp": last_email_code(&address)});
    assert_eq!(
        call_verify(&open, request("/v1/otp/verify", None, &verify)).await.0,
        200
    );
}

#[tokio::test]
async fn a_code_is_bound_to_its_user_and_expires() {
    let (deployment, client) = zap().await;
    let address = fresh_email();
    let body = json!({"email": address, "userId": "owner"});
    assert_eq!(
        call_generate(&deployment, request("/v1/otp", Some(&client.api_key), &body))
            .await
            .0,
        200
    );
    let code = last_email_code(&address);
    let as_other = json!({"email": address, "userId": "intruder", "otp": code});
    assert_eq!(
        call_verify(&deployment, request("/v1/otp/verify", Some(&client.api_key), &as_other))
            .await
            .0,
        400
    );
    deployment.clock.advance(300);
    let as_owner = json!({"email": address, "userId": "owner", "otp": code});
    let (status, answer, _) =
        call_verify(&deployment, request("/v1/otp/verify", Some(&client.api_key), &as_owner)).await;
    assert_eq!((status, answer["data"].clone()), (400, json!("Invalid or expired OTP")));
    // The send rules apply: 429 with Retry-After in ZAP's shape.
    assert_eq!(
        call_generate(&deployment, request("/v1/otp", Some(&client.api_key), &body))
            .await
            .0,
        200
    );
    let (status, answer, retry_after) =
        call_generate(&deployment, request("/v1/otp", Some(&client.api_key), &body)).await;
    assert_eq!((status, answer["success"].clone()), (429, json!(false)));
    assert_eq!(retry_after.as_deref(), Some("30"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_get_five_attempts() {
    let (deployment, client) = zap().await;
    let deployment = Arc::new(deployment);
    let address = fresh_email();
    let body = json!({"email": address, "userId": "target"});
    assert_eq!(
        call_generate(&deployment, request("/v1/otp", Some(&client.api_key), &body))
            .await
            .0,
        200
    );
    let code = last_email_code(&address);
    let wrong = if code == "909090" { "080808" } else { "909090" };
    let guess = json!({"email": address, "userId": "target", "otp": wrong});
    let requests = (0..30)
        .map(|_| request("/v1/otp/verify", Some(&client.api_key), &guess))
        .collect();
    let statuses = verify_all_at_once(&deployment, requests).await;
    assert!(statuses.iter().all(|s| [400, 429].contains(s)), "{statuses:?}");
    // The failure budget admits ten; the twenty others compare nothing.
    assert_eq!(statuses.iter().filter(|&&s| s == 429).count(), 20, "{statuses:?}");
    assert!(deployment.attempts_on(&address).await <= 5);
    let right = json!({"email": address, "userId": "target", "otp": code});
    let status = call_verify(&deployment, request("/v1/otp/verify", Some(&client.api_key), &right))
        .await
        .0;
    assert!(status == 400 || status == 429, "the right code fails after: {status}");
}

#[tokio::test]
async fn a_null_field_is_a_field_left_out_and_an_integral_number_is_a_code() {
    let (deployment, client) = zap().await;
    let (_, e164) = fresh_phone();
    let body = json!({"phoneNumber": e164, "email": null, "userId": null, "UserId": "u-9"});
    let (status, answer, _) = call_generate(&deployment, request("/v1/otp", Some(&client.api_key), &body)).await;
    assert_eq!(status, 200, "{answer}");
    let code = last_code(&e164);
    // A code that starts with 0 loses it as a number: padded back to the code's length.
    let as_float: f64 = code.parse().expect("digits");
    let verify = json!({"phoneNumber": e164, "email": null, "userId": "u-9", "otp": as_float});
    let (status, answer, _) = call_verify(&deployment, request("/v1/otp/verify", Some(&client.api_key), &verify)).await;
    assert_eq!(
        (status, answer),
        (200, json!({"success": true, "data": "OTP Verified"}))
    );
}
