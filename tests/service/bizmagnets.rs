//! BizMagnets: sendOTP and verifyOTP by challenge id, with an API key.

use std::sync::Arc;

use otp_shared::ports::{Channel, Permission};
use otp_tests::{Deployment, TestClient, api_request, code_in, emails_to, fresh_email, fresh_phone, last_code, sms_to};
use serde_json::{Value, json};

use crate::*;

pub(crate) fn send_request(uid: &str, key: &str, body: &Value) -> lambda_http::Request {
    api_request(
        &format!("/otp/{uid}/sendOTP"),
        &[("content-type", "application/json"), ("x-api-key", key)],
        &body.to_string(),
    )
}

pub(crate) fn verify_request(id: &str, key: &str, body: &Value) -> lambda_http::Request {
    api_request(
        &format!("/otp/{id}/verifyOTP"),
        &[("content-type", "application/json"), ("x-api-key", key)],
        &body.to_string(),
    )
}

pub(crate) fn mobile(national: &str) -> Value {
    json!({"name": "Asha", "mobileNumber": national, "countryCode": "+91"})
}

pub(crate) fn verify_body(national: &str, otp: &str) -> Value {
    json!({"otp": otp, "mobileNumber": national, "countryCode": "+91"})
}

/// A deployment with a client and its SMS configuration.
pub(crate) async fn shop() -> (Deployment, TestClient, String) {
    let deployment = Deployment::new().await;
    let client = deployment.client().await;
    let uid = deployment
        .config(&client, Channel::Sms, 6, 300, "Hi {name}, {code} is your {sender} code")
        .await;
    (deployment, client, uid)
}

/// Asserts the vendor's error shape for `status` on `path`.
fn assert_spring(answer: &Answer, status: u16, path: &str) {
    let (actual, body, _) = answer;
    assert_eq!(*actual, status, "{body}");
    assert_eq!(body["status"], status);
    assert_eq!(body["path"], path);
    assert!(body["error"].is_string());
    let timestamp = body["timestamp"].as_str().expect("timestamp");
    assert!(
        timestamp.len() == 20 && timestamp.ends_with('Z') && &timestamp[10..11] == "T",
        "{timestamp}"
    );
}

#[tokio::test]
async fn send_then_verify_by_id() {
    let (deployment, client, uid) = shop().await;
    let (national, e164) = fresh_phone();
    let (status, body, _) = call_send_otp(&deployment, send_request(&uid, &client.api_key, &mobile(&national))).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["message"], "success");
    let id = body["id"].as_str().expect("id").to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "the id is a UUID");
    let text = sms_to(&e164).pop().expect("an SMS");
    let code = code_in(&text);
    assert_eq!(
        text,
        format!("Hi Asha, {code} is your Acme code"),
        "the configuration's template"
    );

    let (status, body, _) = call_verify(
        &deployment,
        verify_request(&id, &client.api_key, &verify_body(&national, &code)),
    )
    .await;
    assert_eq!((status, body), (200, json!({"id": id, "message": "success"})));
    let path = format!("/otp/{id}/verifyOTP");
    let used = call_verify(
        &deployment,
        verify_request(&id, &client.api_key, &verify_body(&national, &code)),
    )
    .await;
    assert_spring(&used, 410, &path);
}

#[tokio::test]
async fn a_send_while_open_refreshes_the_same_id() {
    let (deployment, client, uid) = shop().await;
    let (national, e164) = fresh_phone();
    let (_, first, _) = call_send_otp(&deployment, send_request(&uid, &client.api_key, &mobile(&national))).await;
    deployment.clock.advance(30);
    let (status, second, _) = call_send_otp(&deployment, send_request(&uid, &client.api_key, &mobile(&national))).await;
    assert_eq!(status, 201);
    assert_eq!(first["id"], second["id"]);
    let id = second["id"].as_str().expect("id");
    let (status, _, _) = call_verify(
        &deployment,
        verify_request(id, &client.api_key, &verify_body(&national, &last_code(&e164))),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn email_configurations_send_mail_with_the_configured_length() {
    let deployment = Deployment::new().await;
    let client = deployment.client().await;
    let uid = deployment
        .config(&client, Channel::Email, 8, 60, "Dear {name}, your code: {code}")
        .await;
    let address = fresh_email();
    let body = json!({"name": "Ravi", "email": address});
    let (status, answer, _) = call_send_otp(&deployment, send_request(&uid, &client.api_key, &body)).await;
    assert_eq!(status, 201, "{answer}");
    let email = emails_to(&address).pop().expect("an email");
    assert_eq!(
        email.source,
        format!("\"Acme\" <{}>", otp_tests::EMAIL_FROM),
        "sent as the configured sender"
    );
    let code = code_in(&email.body);
    assert_eq!(code.len(), 8);
    assert!(email.body.contains("Dear Ravi"));

    // A number beside the email is not used, but not ignored: it must be one.
    let id = answer["id"].as_str().expect("id");
    for beside in [
        json!({"otp": code, "email": address, "mobileNumber": "\u{8}:"}),
        json!({"otp": code, "email": address, "mobileNumber": "123", "countryCode": "+91"}),
        json!({"otp": code, "email": address, "countryCode": "\u{3}O"}),
        json!({"otp": code, "email": address, "countryCode": "+999"}),
        // Without its calling code, a number must be one of some country's.
        json!({"otp": code, "email": address, "mobileNumber": "0"}),
        json!({"otp": code, "email": address, "mobileNumber": "1-"}),
    ] {
        let (status, refused, _) = call_verify(&deployment, verify_request(id, &client.api_key, &beside)).await;
        assert_eq!(status, 400, "{beside}: {refused}");
    }
    let beside = json!({"email": fresh_email(), "countryCode": "\u{3}O"});
    let (status, refused, _) = call_send_otp(&deployment, send_request(&uid, &client.api_key, &beside)).await;
    assert_eq!(status, 400, "{beside}: {refused}");

    // Its lifetime is the configuration's: 60 seconds.
    deployment.clock.advance(60);
    let request = verify_request(id, &client.api_key, &json!({"otp": code, "email": address}));
    assert_eq!(call_verify(&deployment, request).await.0, 410);
}

#[tokio::test]
async fn wrong_codes_and_wrong_numbers_are_403_and_cost_attempts() {
    let (deployment, client, uid) = shop().await;
    let (national, e164) = fresh_phone();
    let (_, body, _) = call_send_otp(&deployment, send_request(&uid, &client.api_key, &mobile(&national))).await;
    let id = body["id"].as_str().expect("id").to_owned();
    let code = last_code(&e164);
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let path = format!("/otp/{id}/verifyOTP");

    let answer = call_verify(
        &deployment,
        verify_request(&id, &client.api_key, &verify_body(&national, wrong)),
    )
    .await;
    assert_spring(&answer, 403, &path);
    assert_eq!(answer.1["error"], "Forbidden");
    // The right code with another number is not this challenge's: refused, and it costs.
    let (other, _) = fresh_phone();
    let answer = call_verify(
        &deployment,
        verify_request(&id, &client.api_key, &verify_body(&other, &code)),
    )
    .await;
    assert_spring(&answer, 403, &path);
    assert_eq!(deployment.attempts_on(&e164).await, 2);

    for _ in 0..3 {
        let answer = call_verify(
            &deployment,
            verify_request(&id, &client.api_key, &verify_body(&national, wrong)),
        )
        .await;
        assert_spring(&answer, 403, &path);
    }
    let spent = call_verify(
        &deployment,
        verify_request(&id, &client.api_key, &verify_body(&national, &code)),
    )
    .await;
    assert_spring(&spent, 410, &path);
}

#[tokio::test]
async fn unknown_expired_and_foreign_challenges_are_410() {
    let (deployment, client, uid) = shop().await;
    let (national, e164) = fresh_phone();
    let (_, body, _) = call_send_otp(&deployment, send_request(&uid, &client.api_key, &mobile(&national))).await;
    let id = body["id"].as_str().expect("id").to_owned();
    let code = last_code(&e164);

    let unknown = uuid::Uuid::new_v4().to_string();
    let answer = call_verify(
        &deployment,
        verify_request(&unknown, &client.api_key, &verify_body(&national, &code)),
    )
    .await;
    assert_spring(&answer, 410, &format!("/otp/{unknown}/verifyOTP"));

    let other_client = deployment.client().await;
    let answer = call_verify(
        &deployment,
        verify_request(&id, &other_client.api_key, &verify_body(&national, &code)),
    )
    .await;
    assert_spring(&answer, 410, &format!("/otp/{id}/verifyOTP"));

    deployment.clock.advance(300);
    let answer = call_verify(
        &deployment,
        verify_request(&id, &client.api_key, &verify_body(&national, &code)),
    )
    .await;
    assert_spring(&answer, 410, &format!("/otp/{id}/verifyOTP"));
}

#[tokio::test]
async fn keys_configurations_and_bodies_are_checked() {
    let (deployment, client, uid) = shop().await;
    let (national, _) = fresh_phone();
    let path = format!("/otp/{uid}/sendOTP");

    let answer = call_send_otp(&deployment, send_request(&uid, "not-a-key", &mobile(&national))).await;
    assert_spring(&answer, 401, &path);
    let no_key = api_request(
        &path,
        &[("content-type", "application/json")],
        &mobile(&national).to_string(),
    );
    assert_spring(&call_send_otp(&deployment, no_key).await, 401, &path);
    let zap_only = deployment.client_with(&[Permission::Zap]).await;
    assert_spring(
        &call_send_otp(&deployment, send_request(&uid, &zap_only.api_key, &mobile(&national))).await,
        401,
        &path,
    );

    // Another client's configuration, or none, is not found.
    let other = deployment.client().await;
    assert_spring(
        &call_send_otp(&deployment, send_request(&uid, &other.api_key, &mobile(&national))).await,
        404,
        &path,
    );
    let missing = uuid::Uuid::new_v4().to_string();
    let answer = call_send_otp(&deployment, send_request(&missing, &client.api_key, &mobile(&national))).await;
    assert_spring(&answer, 404, &format!("/otp/{missing}/sendOTP"));

    for body in [
        json!({"name": "Asha", "countryCode": "+91"}),
        json!({"name": "Asha", "mobileNumber": national}),
        json!({"name": "Asha", "mobileNumber": "123", "countryCode": "+91"}),
        json!({"name": 7, "mobileNumber": national, "countryCode": "+91"}),
        // An SMS configuration: an email beside the number is not used, but not ignored.
        json!({"mobileNumber": national, "countryCode": "+91", "email": "not an address"}),
        json!({"mobileNumber": national, "countryCode": "+91", "email": 5}),
    ] {
        assert_spring(
            &call_send_otp(&deployment, send_request(&uid, &client.api_key, &body)).await,
            400,
            &path,
        );
    }
    let not_json = api_request(
        &path,
        &[("content-type", "application/json"), ("x-api-key", &client.api_key)],
        "{",
    );
    assert_spring(&call_send_otp(&deployment, not_json).await, 400, &path);
    let form = api_request(
        &path,
        &[
            ("content-type", "application/x-www-form-urlencoded"),
            ("x-api-key", &client.api_key),
        ],
        &mobile(&national).to_string(),
    );
    assert_spring(&call_send_otp(&deployment, form).await, 400, &path);

    // The send rules: a second send within 30 s.
    assert_eq!(
        call_send_otp(&deployment, send_request(&uid, &client.api_key, &mobile(&national)))
            .await
            .0,
        201
    );
    let answer = call_send_otp(&deployment, send_request(&uid, &client.api_key, &mobile(&national))).await;
    assert_spring(&answer, 429, &path);
    assert_eq!(answer.2.as_deref(), Some("30"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_get_five_attempts() {
    let (deployment, client, uid) = shop().await;
    let deployment = Arc::new(deployment);
    let (national, e164) = fresh_phone();
    let (_, body, _) = call_send_otp(&deployment, send_request(&uid, &client.api_key, &mobile(&national))).await;
    let id = body["id"].as_str().expect("id").to_owned();
    let code = last_code(&e164);
    let wrong = if code == "123123" { "321321" } else { "123123" };
    let requests = (0..30)
        .map(|_| verify_request(&id, &client.api_key, &verify_body(&national, wrong)))
        .collect();
    let statuses = verify_all_at_once(&deployment, requests).await;
    let compared = statuses.iter().filter(|&&s| s == 403).count();
    assert!(compared <= 5, "{statuses:?}");
    // The failure budget admits ten; the twenty others compare nothing and count nothing.
    assert_eq!(statuses.iter().filter(|&&s| s == 429).count(), 20, "{statuses:?}");
    assert_eq!(deployment.attempts_on(&e164).await, compared as i64);
    let status = call_verify(
        &deployment,
        verify_request(&id, &client.api_key, &verify_body(&national, &code)),
    )
    .await
    .0;
    assert!(status == 410 || status == 429, "the right code fails after: {status}");
}

#[tokio::test]
async fn a_numeric_otp_is_padded_to_its_configurations_length() {
    let deployment = Deployment::with(
        &[("OTP_ALLOW_TEST_DESTINATIONS", "true")],
        otp_tests::Endpoints::default(),
    )
    .await;
    let client = deployment.client().await;
    let uid = deployment
        .config(&client, Channel::Sms, 8, 300, "{code} is your {sender} code")
        .await;
    // A known code of the configuration's eight digits, two of them leading zeros.
    let (national, phone) = fresh_phone();
    let known = "00135790";
    otp_tests::audit::note("test code", known);
    let expires = otp_shared::http::rfc3339(otp_tests::now() + 86_400)[..10].to_owned();
    let words = [
        "test-destination",
        "add",
        "--client",
        &client.id,
        "--to",
        &phone,
        "--code",
        known,
        "--expires",
        &expires,
    ];
    deployment.admin(&words).await.expect("test destination added");
    let (status, sent, _) = call_send_otp(&deployment, send_request(&uid, &client.api_key, &mobile(&national))).await;
    assert_eq!(status, 201, "{sent}");
    let id = sent["id"].as_str().expect("an id");
    // As a JSON number the code lost its zeros: padded back to the challenge's length.
    let body = json!({"otp": 135790, "mobileNumber": national, "countryCode": "+91"});
    let (status, answer, _) = call_verify(&deployment, verify_request(id, &client.api_key, &body)).await;
    assert_eq!(status, 200, "{answer}");
}
