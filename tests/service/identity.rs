//! Sessions and users, attacked as a reviewer attacked them: a pending second factor stays
//! pending, each product's users and challenges are its own, cookie routes refuse other
//! sites, and tokens are checked to the letter. Each test is one finding of that review.

use otp_shared::scope::{Product, UserRef};
use otp_tests::{
    Deployment, EVENTS_ISSUER, api_request, emails_to, fresh_email, fresh_phone, last_code, last_email_code, now,
    session_token, sms_to, token_with,
};
use serde_json::{Value, json};

use crate::bridgekeeper::{SEND, UPDATE, VERIFY, request};
use crate::*;

/// A deployment with a Bridgekeeper user who has a phone and an email on record.
async fn bridgekeeper_user(id: &str) -> (Deployment, String, String) {
    let deployment = Deployment::new().await;
    let (_, phone) = fresh_phone();
    let email = fresh_email();
    deployment
        .user(
            &UserRef::new(Product::Bridgekeeper, EVENTS_ISSUER, id),
            &[&phone, &email],
        )
        .await;
    (deployment, phone, email)
}

fn invalid_otp() -> Value {
    json!({"error": {"message": "Invalid OTP"}})
}

fn national(e164: &str) -> &str {
    e164.trim_start_matches("+91")
}

/// Finding 1: a code a KGen register opened for the same user was taken by Bridgekeeper's
/// verify-otp as the pending session's second factor.
#[tokio::test]
async fn a_second_factor_cannot_be_passed_with_a_code_opened_through_kgen() {
    let (deployment, _, _) = bridgekeeper_user("bypass-victim").await;
    let pending = session_token("bypass-victim", Some("pending"));
    let (attackers_national, attackers_phone) = fresh_phone();

    // The pending token itself is refused on KGen's routes.
    let (status, answer, _) = register_fe(&deployment, &pending, &attackers_national).await;
    assert_eq!((status, answer), (401, json!({"message": "UN_AUTHORIZED"})));
    assert!(sms_to(&attackers_phone).is_empty());

    // A KGen token of the same issuer and user (no session claim) opens a challenge in
    // KGen's product: its code is nothing to Bridgekeeper.
    let kgen_token = session_token("bypass-victim", None);
    let (status, _, _) = register_fe(&deployment, &kgen_token, &attackers_national).await;
    assert_eq!(status, 200);
    let code = last_code(&attackers_phone);
    let cookie = format!("tfa-auth={pending}");
    let verify = json!({"phone-number": attackers_phone, "otp": code}).to_string();
    assert_eq!(
        call_verify(&deployment, request(VERIFY, Some(&cookie), None, &verify)).await,
        (401, invalid_otp(), None),
        "the second factor stays pending"
    );
    // Nor does a full session's verify-otp take it.
    let full = format!("qt-auth={}", session_token("bypass-victim", Some("done")));
    assert_eq!(
        call_verify(&deployment, request(VERIFY, Some(&full), None, &verify)).await,
        (401, invalid_otp(), None)
    );
}

/// Finding 2: a pending session sent a code to a phone of its choosing, linked it with
/// update-with-otp, and from then on its second factor went to that phone.
#[tokio::test]
async fn a_pending_session_never_changes_a_contact_and_sends_only_to_contacts_on_record() {
    let (deployment, victims_phone, _) = bridgekeeper_user("rewrite-victim").await;
    let cookie = format!("tfa-auth={}", session_token("rewrite-victim", Some("pending")));
    let (_, attackers_phone) = fresh_phone();

    // A destination not on record: the same answer, and nothing goes out.
    let body = json!({"phone-number": attackers_phone}).to_string();
    let answer = call_send_otp(&deployment, request(SEND, Some(&cookie), None, &body)).await;
    assert_eq!((answer.0, answer.1), (200, json!({"message": "OTP sent"})));
    assert!(sms_to(&attackers_phone).is_empty(), "nothing delivered off the record");

    // update-with-otp refuses a pending session, whatever the code.
    let update = json!({"otp": "123456", "user": {"phone-number": attackers_phone}}).to_string();
    assert_eq!(
        call_verify(&deployment, request(UPDATE, Some(&cookie), None, &update)).await,
        (401, json!({"error": {"message": "Unauthorized"}}), None)
    );
    // Even a pending token in the qt-auth cookie is a pending session.
    let disguised = format!("qt-auth={}", session_token("rewrite-victim", None));
    assert_eq!(
        call_verify(&deployment, request(UPDATE, Some(&disguised), None, &update)).await,
        (401, json!({"error": {"message": "Unauthorized"}}), None),
        "a token that does not say its second factor is done is pending (not a wrong code)"
    );

    // The number on record, named, gets its code, and verify-otp takes it.
    deployment.clock.advance(30);
    let body = json!({"phone-number": victims_phone}).to_string();
    assert_eq!(
        call_send_otp(&deployment, request(SEND, Some(&cookie), None, &body))
            .await
            .0,
        200
    );
    let verify = json!({"phone-number": victims_phone, "otp": last_code(&victims_phone)}).to_string();
    assert_eq!(
        call_verify(&deployment, request(VERIFY, Some(&cookie), None, &verify))
            .await
            .0,
        200
    );

    // KGen links a phone to its own user of that issuer: Bridgekeeper's record is
    // untouched, and the next second factor goes to the victim's phone.
    let kgen_token = session_token("rewrite-victim", None);
    let (attackers_national, _) = (national(&attackers_phone).to_owned(), ());
    let (status, registered, _) = register_fe(&deployment, &kgen_token, &attackers_national).await;
    assert_eq!(status, 200);
    let (status, _, _) = verify_fe(
        &deployment,
        &kgen_token,
        &attackers_national,
        &registered["authCode"],
        json!(last_code(&attackers_phone)),
    )
    .await;
    assert_eq!(status, 200);
    deployment.clock.advance(30);
    let sent_before = sms_to(&attackers_phone).len();
    let mediums = json!({"mediums": ["phone-number"]}).to_string();
    assert_eq!(
        call_send_otp(&deployment, request(SEND, Some(&cookie), None, &mediums))
            .await
            .0,
        200
    );
    assert_eq!(sms_to(&attackers_phone).len(), sent_before, "nothing to the attacker");
    assert_eq!(sms_to(&victims_phone).len(), 2, "the victim's phone, as on record");
}

/// Finding 3: one registry for every product and issuer.
#[tokio::test]
async fn each_product_and_issuer_has_users_of_its_own() {
    let (deployment, victims_phone, _) = bridgekeeper_user("registry-victim").await;
    let client = deployment.client_with(&[otp_shared::ports::Permission::Zap]).await;

    // KGen's isNewUser says nothing of Bridgekeeper's users, and a KGen verify links the
    // phone to KGen's user alone.
    let kgen_token = session_token("someone", None);
    let (_, answer, _) = register_fe(&deployment, &kgen_token, national(&victims_phone)).await;
    assert_eq!(answer["isNewUser"], json!(true), "{answer}");
    let (status, _, _) = verify_fe(
        &deployment,
        &kgen_token,
        national(&victims_phone),
        &answer["authCode"],
        json!(last_code(&victims_phone)),
    )
    .await;
    assert_eq!(status, 200);

    // A ZAP verify of the victim's phone links it to ZAP's user only.
    let body = json!({"phoneNumber": victims_phone, "userId": "zap-user"});
    deployment.clock.advance(30);
    let (status, _, _) = call_generate(
        &deployment,
        crate::zap::request("/v1/otp", Some(&client.api_key), &body),
    )
    .await;
    assert_eq!(status, 200);
    let mut verify = body.clone();
    verify["otp"] = json!(last_code(&victims_phone));
    let (status, _, _) = call_verify(
        &deployment,
        crate::zap::request("/v1/otp/verify", Some(&client.api_key), &verify),
    )
    .await;
    assert_eq!(status, 200);
    // Bridgekeeper still knows the phone as its user's: a session's send goes there.
    deployment.clock.advance(30);
    let cookie = format!("qt-auth={}", session_token("registry-victim", Some("done")));
    let mediums = json!({"mediums": ["phone-number"]}).to_string();
    let (status, answer, _) = call_send_otp(&deployment, request(SEND, Some(&cookie), None, &mediums)).await;
    assert_eq!(status, 200, "the phone is still on record: {answer}");

    // A JWT whose issuer spells ZAP's client is not ZAP's user: the phone is new to it.
    let spelled = token_with(json!({
        "iss": format!("zap:{}", client.id), "sub": "zap-user", "user_id": "zap-user", "exp": now() + 600,
    }));
    deployment.clock.advance(30);
    let (_, answer, _) = register_fe(&deployment, &spelled, national(&victims_phone)).await;
    assert_eq!(answer["isNewUser"], json!(true), "{answer}");
}

/// A Bridgekeeper request with a full session's cookie and these headers.
fn cross_site(path: &str, cookie: &str, headers: &[(&str, &str)], body: &str) -> lambda_http::Request {
    let mut all = vec![
        ("cookie", cookie),
        ("host", "otp.example.com"),
        ("x-forwarded-proto", "https"),
    ];
    all.extend_from_slice(headers);
    api_request(path, &all, body)
}

/// Finding 4: a page on another site could make a logged-in browser send a code to the
/// attacker and link the attacker's phone.
#[tokio::test]
async fn cookie_routes_refuse_other_sites() {
    let (deployment, _, email) = bridgekeeper_user("browsing").await;
    let deployment = deployment
        .sharing_table_with(
            &[("BRIDGEKEEPER_ALLOWED_ORIGINS", "https://app.example.com")],
            Default::default(),
        )
        .await;
    let cookie = format!("qt-auth={}", session_token("browsing", Some("done")));
    let (_, attackers_phone) = fresh_phone();
    let forbidden = json!({"error": {"message": "Forbidden"}});
    let to_attacker = json!({"phone-number": attackers_phone}).to_string();
    for headers in [
        vec![("origin", "https://evil.example")],
        vec![("origin", "null")],
        vec![("sec-fetch-site", "cross-site")],
        vec![("origin", "https://otp.example.com.evil.example")],
        vec![("origin", "http://otp.example.com")],
    ] {
        let (status, answer, _) = call_send_otp(&deployment, cross_site(SEND, &cookie, &headers, &to_attacker)).await;
        assert_eq!((status, &answer), (403, &forbidden), "{headers:?}");
        let update = json!({"otp": "123456", "user": {"phone-number": attackers_phone}}).to_string();
        let (status, answer, _) = call_verify(&deployment, cross_site(UPDATE, &cookie, &headers, &update)).await;
        assert_eq!((status, &answer), (403, &forbidden), "{headers:?}");
        // Before the token is even read: a forged cookie is refused the same way.
        let (status, _, _) =
            call_send_otp(&deployment, cross_site(SEND, "qt-auth=garbage", &headers, &to_attacker)).await;
        assert_eq!(status, 403, "{headers:?}");
    }
    assert!(sms_to(&attackers_phone).is_empty(), "nothing went out");

    // The site itself, an allowed origin, a same-site fetch and a server without either
    // header all pass.
    for headers in [
        vec![("origin", "https://otp.example.com")],
        vec![("origin", "https://app.example.com")],
        vec![("sec-fetch-site", "same-origin")],
        vec![],
    ] {
        deployment.clock.advance(30);
        let (status, answer, _) = call_send_otp(&deployment, cross_site(SEND, &cookie, &headers, "")).await;
        assert_eq!(status, 200, "{headers:?}: {answer}");
    }
    assert_eq!(emails_to(&email).len(), 4);
    // Without a cookie nothing rides on the browser's session: no check.
    let anonymous = api_request(
        SEND,
        &[("origin", "https://evil.example")],
        &json!({"email": email}).to_string(),
    );
    deployment.clock.advance(30);
    assert_eq!(call_send_otp(&deployment, anonymous).await.0, 200);
    let verify = json!({"email": email, "otp": last_email_code(&email)}).to_string();
    let anonymous = api_request(VERIFY, &[("origin", "https://evil.example")], &verify);
    assert_eq!(call_verify(&deployment, anonymous).await.0, 200);
}

/// Finding 5: `nbf` ignored, and any length of `iss` reaching the table's keys.
#[tokio::test]
async fn tokens_not_yet_valid_or_with_an_overlong_issuer_are_refused() {
    let deployment = Deployment::new().await;
    let (national, phone) = fresh_phone();
    let early = token_with(json!({
        "iss": EVENTS_ISSUER, "sub": "early", "nbf": now() + 600, "exp": now() + 3_600,
    }));
    assert_eq!(
        register_fe(&deployment, &early, &national).await,
        (401, json!({"message": "UN_AUTHORIZED"}), None)
    );
    // Within the leeway a clock a little ahead is tolerated.
    let skewed = token_with(json!({
        "iss": EVENTS_ISSUER, "sub": "skewed", "nbf": now() + 10, "exp": now() + 3_600,
    }));
    assert_eq!(register_fe(&deployment, &skewed, &national).await.0, 200);
    let long = token_with(json!({"iss": "i".repeat(257), "sub": "long", "exp": now() + 3_600}));
    assert_eq!(
        register_fe(&deployment, &long, &national).await,
        (401, json!({"message": "UN_AUTHORIZED"}), None)
    );
    let at_limit = token_with(json!({"iss": "i".repeat(256), "sub": "long", "exp": now() + 3_600}));
    deployment.clock.advance(30);
    assert_eq!(register_fe(&deployment, &at_limit, &national).await.0, 200);
    assert_eq!(sms_to(&phone).len(), 2);
}
