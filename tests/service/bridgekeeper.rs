//! Bridgekeeper: the five send-otp cases, cookies, verify-otp, update-with-otp
//! as the vendor's own client calls it, and answers that never tell whether a destination
//! has an account.

use std::sync::Arc;

use otp_shared::ports::UserDirectory;
use otp_shared::scope::{Product, UserRef};
use otp_tests::{
    Deployment, EVENTS_ISSUER, api_request, emails_to, fresh_email, fresh_phone, full_session, last_code,
    last_email_code, sms_to, user_token,
};
use serde_json::{Value, json};

use crate::*;

pub(crate) const SEND: &str = "/api/auth/v1/users/send-otp";
pub(crate) const VERIFY: &str = "/api/auth/v1/users/verify-otp";
pub(crate) const UPDATE: &str = "/api/auth/v1/users/update-with-otp";

/// A request as the vendor's documented curl sends it: no content type unless given, cookies if any.
pub(crate) fn request(
    path: &str,
    cookie: Option<&str>,
    content_type: Option<&str>,
    body: &str,
) -> lambda_http::Request {
    let mut headers = Vec::new();
    if let Some(content_type) = content_type {
        headers.push(("content-type", content_type));
    }
    if let Some(cookie) = cookie {
        headers.push(("cookie", cookie));
    }
    api_request(path, &headers, body)
}

fn sent() -> Value {
    json!({"message": "OTP sent"})
}

/// A deployment with a known user: (deployment, user, phone, email).
pub(crate) async fn with_user(id: &str) -> (Deployment, UserRef, String, String) {
    let deployment = Deployment::new().await;
    let user = UserRef::new(Product::Bridgekeeper, EVENTS_ISSUER, id);
    let (_, phone) = fresh_phone();
    let email = fresh_email();
    deployment.user(&user, &[&phone, &email]).await;
    (deployment, user, phone, email)
}

#[tokio::test]
async fn case_1_and_2_a_known_users_email_or_phone_without_a_session() {
    let (deployment, _, phone, email) = with_user("known").await;
    // Case 1: curl --data-raw sends a form content type; the body is JSON all the same.
    let body = json!({"email": email}).to_string();
    let answer = call_send_otp(
        &deployment,
        request(SEND, None, Some("application/x-www-form-urlencoded"), &body),
    )
    .await;
    assert_eq!((answer.0, answer.1), (200, sent()));
    let code = last_email_code(&email);
    let verify = json!({"email": email, "otp": code}).to_string();
    let (status, answer, _) = call_verify(&deployment, request(VERIFY, None, None, &verify)).await;
    assert_eq!((status, answer), (200, json!({"message": "OTP verified"})));

    // Case 2: the phone number, no content type at all.
    let body = json!({"phone-number": phone}).to_string();
    assert_eq!(
        call_send_otp(&deployment, request(SEND, None, None, &body)).await.0,
        200
    );
    let verify = json!({"phone-number": phone, "otp": last_code(&phone)}).to_string();
    assert_eq!(
        call_verify(&deployment, request(VERIFY, None, None, &verify)).await.0,
        200
    );
}

#[tokio::test]
async fn case_3_and_4_a_session_sends_to_the_contacts_on_record() {
    let (deployment, _, phone, email) = with_user("session").await;
    let cookie = format!("qt-auth={}", full_session("session"));
    // Case 3: only the cookie, no body: the email on record.
    let answer = call_send_otp(&deployment, request(SEND, Some(&cookie), None, "")).await;
    assert_eq!((answer.0, answer.1), (200, sent()));
    assert_eq!(emails_to(&email).len(), 1);
    assert!(sms_to(&phone).is_empty());
    let verify = json!({"otp": last_email_code(&email)}).to_string();
    assert_eq!(
        call_verify(&deployment, request(VERIFY, Some(&cookie), None, &verify))
            .await
            .0,
        200,
        "the email on record"
    );

    // Case 4: the medium asked for.
    let body = json!({"mediums": ["phone-number"]}).to_string();
    assert_eq!(
        call_send_otp(&deployment, request(SEND, Some(&cookie), None, &body))
            .await
            .0,
        200
    );
    assert_eq!(sms_to(&phone).len(), 1);
    let verify = json!({"phone-number": phone, "otp": last_code(&phone)}).to_string();
    assert_eq!(
        call_verify(&deployment, request(VERIFY, Some(&cookie), None, &verify))
            .await
            .0,
        200
    );

    // A medium not on record is a clear 400.
    let (deployment, user, _, _) = (
        Deployment::new().await,
        UserRef::new(Product::Bridgekeeper, EVENTS_ISSUER, "no-phone"),
        (),
        (),
    );
    deployment.user(&user, &[&fresh_email()]).await;
    let cookie = format!("qt-auth={}", full_session("no-phone"));
    let (status, answer, _) = call_send_otp(&deployment, request(SEND, Some(&cookie), None, &body)).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("phone-number"))
    );
}

#[tokio::test]
async fn case_5_unknown_destinations_look_the_same_and_cost_the_same() {
    let deployment = Deployment::new().await;
    let stranger = fresh_email();
    let body = json!({"email": stranger}).to_string();
    let answer = call_send_otp(&deployment, request(SEND, None, None, &body)).await;
    assert_eq!(
        (answer.0, answer.1),
        (200, sent()),
        "the same answer as for a known user"
    );
    assert!(emails_to(&stranger).is_empty(), "but nothing is sent");
    // The request spent the destination's budget like a send.
    let (status, answer, retry_after) = call_send_otp(&deployment, request(SEND, None, None, &body)).await;
    assert_eq!(
        (status, answer),
        (429, json!({"error": {"message": "Too many requests"}}))
    );
    assert_eq!(retry_after.as_deref(), Some("30"));

    deployment.clock.advance(30);
    let always = json!({"email": stranger, "always-send": true}).to_string();
    assert_eq!(
        call_send_otp(&deployment, request(SEND, None, None, &always)).await,
        (200, sent(), None)
    );
    assert_eq!(emails_to(&stranger).len(), 1, "always-send sends");
    let verify = json!({"email": stranger, "otp": last_email_code(&stranger)}).to_string();
    assert_eq!(
        call_verify(&deployment, request(VERIFY, None, None, &verify)).await.0,
        200
    );
}

#[tokio::test]
async fn cookies_are_verified_and_qt_auth_wins() {
    let (deployment, _, _, email) = with_user("cookie").await;
    let token = user_token("cookie");
    let tfa = format!("tfa-auth={token}");
    assert_eq!(
        call_send_otp(&deployment, request(SEND, Some(&tfa), None, "")).await.0,
        200
    );
    assert_eq!(emails_to(&email).len(), 1);

    deployment.clock.advance(30);
    let both = format!("tfa-auth=garbage; qt-auth={token}");
    assert_eq!(
        call_send_otp(&deployment, request(SEND, Some(&both), None, "")).await.0,
        200,
        "qt-auth wins"
    );

    let expired = otp_tests::token_with(json!({"iss": EVENTS_ISSUER, "sub": "cookie", "exp": otp_tests::now() - 300}));
    for cookie in [
        "qt-auth=garbage".to_owned(),
        format!("qt-auth={expired}"),
        format!("qt-auth=garbage; tfa-auth={token}"),
    ] {
        let body = json!({"email": email}).to_string();
        let (status, answer, _) = call_send_otp(&deployment, request(SEND, Some(&cookie), None, &body)).await;
        assert_eq!(
            (status, answer),
            (401, json!({"error": {"message": "Unauthorized"}})),
            "{cookie}"
        );
        let verify = json!({"email": email, "otp": "123456"}).to_string();
        assert_eq!(
            call_verify(&deployment, request(VERIFY, Some(&cookie), None, &verify))
                .await
                .0,
            401
        );
    }
}

#[tokio::test]
async fn failed_verifies_look_alike_and_unknown_destinations_spend_the_budget() {
    let (deployment, _, _, email) = with_user("guessed").await;
    let body = json!({"email": email}).to_string();
    assert_eq!(
        call_send_otp(&deployment, request(SEND, None, None, &body)).await.0,
        200
    );
    let code = last_email_code(&email);
    let wrong = if code == "246810" { "135791" } else { "246810" };
    let invalid = json!({"error": {"message": "Invalid OTP"}});
    let verify = json!({"email": email, "otp": wrong}).to_string();
    assert_eq!(
        call_verify(&deployment, request(VERIFY, None, None, &verify)).await,
        (401, invalid.clone(), None)
    );

    let stranger = fresh_email();
    for _ in 0..10 {
        let verify = json!({"email": stranger, "otp": "123456"}).to_string();
        let (status, answer, _) = call_verify(&deployment, request(VERIFY, None, None, &verify)).await;
        assert_eq!(
            (status, answer),
            (401, invalid.clone()),
            "an unknown destination fails like a known one"
        );
    }
    let verify = json!({"email": stranger, "otp": "123456"}).to_string();
    let (status, _, retry_after) = call_verify(&deployment, request(VERIFY, None, None, &verify)).await;
    assert_eq!(status, 429, "the failure budget counts unknown destinations too");
    assert!(retry_after.is_some());

    for bad in [
        "",
        "{",
        r#"{"otp": "123456"}"#,
        r#"{"email": "x", "otp": "123456"}"#,
        r#"{"email": "a@b.co"}"#,
    ] {
        assert_eq!(
            call_verify(&deployment, request(VERIFY, None, None, bad)).await.0,
            400,
            "{bad}"
        );
    }
    for bad in [
        "{",
        r#"{"always-send": "yes", "email": "a@b.co"}"#,
        r#"{"phone-number": "98765"}"#,
        "{}",
        // Both are validated when both come, though the email wins.
        r#"{"email": "a@b.co", "phone-number": "98765"}"#,
    ] {
        assert_eq!(
            call_send_otp(&deployment, request(SEND, None, None, bad)).await.0,
            400,
            "{bad}"
        );
    }
    // In a session, a bad `mediums` is refused even beside a named destination.
    let cookie = format!("qt-auth={}", full_session("guessed"));
    let bad = json!({"email": fresh_email(), "mediums": [{}]}).to_string();
    assert_eq!(
        call_send_otp(&deployment, request(SEND, Some(&cookie), None, &bad))
            .await
            .0,
        400
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_get_five_attempts() {
    let (deployment, _, phone, _) = with_user("parallel").await;
    let deployment = Arc::new(deployment);
    let body = json!({"phone-number": phone}).to_string();
    assert_eq!(
        call_send_otp(&deployment, request(SEND, None, None, &body)).await.0,
        200
    );
    let code = last_code(&phone);
    let wrong = if code == "777777" { "787878" } else { "777777" };
    let guess = json!({"phone-number": phone, "otp": wrong}).to_string();
    let requests = (0..30).map(|_| request(VERIFY, None, None, &guess)).collect();
    let statuses = verify_all_at_once(&deployment, requests).await;
    assert!(statuses.iter().all(|s| [401, 429].contains(s)), "{statuses:?}");
    // The failure budget admits ten; the twenty others compare nothing.
    assert_eq!(statuses.iter().filter(|&&s| s == 429).count(), 20, "{statuses:?}");
    assert!(deployment.attempts_on(&phone).await <= 5);
    let right = json!({"phone-number": phone, "otp": code}).to_string();
    let status = call_verify(&deployment, request(VERIFY, None, None, &right)).await.0;
    assert!(status == 401 || status == 429, "the right code fails after: {status}");
}

#[tokio::test]
async fn update_with_otp_proves_a_new_phone_and_links_it_to_the_session_user() {
    let (deployment, user, _, _) = with_user("updating").await;
    let cookie = format!("qt-auth={}", full_session("updating"));
    let (_, new_phone) = fresh_phone();
    let owner = || async {
        let phone = otp_shared::destination::Destination::e164(&new_phone).expect("valid");
        deployment
            .store
            .owner_of(&user.realm(), &phone)
            .await
            .expect("registry read")
    };

    // The client's send step: the session and the number being added.
    let body = json!({"phone-number": new_phone}).to_string();
    let answer = call_send_otp(&deployment, request(SEND, Some(&cookie), None, &body)).await;
    assert_eq!((answer.0, answer.1), (200, sent()));
    assert_eq!(
        sms_to(&new_phone).len(),
        1,
        "the code goes to the number named, not the one on record"
    );
    let code = last_code(&new_phone);

    let invalid = json!({"error": {"message": "Invalid OTP"}});
    let wrong = if code == "424242" { "242424" } else { "424242" };
    let update = |otp: &str| json!({"otp": otp, "user": {"phone-number": new_phone, "name": "Asha"}}).to_string();
    assert_eq!(
        call_verify(&deployment, request(UPDATE, Some(&cookie), None, &update(wrong))).await,
        (401, invalid.clone(), None)
    );
    assert_eq!(owner().await, None, "a wrong code links nothing");

    // Without the cookie, or with one that fails, the right code does nothing.
    for cookie in [None, Some("qt-auth=garbage")] {
        assert_eq!(
            call_verify(&deployment, request(UPDATE, cookie, None, &update(&code))).await,
            (401, json!({"error": {"message": "Unauthorized"}}), None),
            "{cookie:?}"
        );
    }
    assert_eq!(owner().await, None);

    let (status, answer, _) = call_verify(&deployment, request(UPDATE, Some(&cookie), None, &update(&code))).await;
    assert_eq!(
        (status, answer),
        (
            200,
            json!({"message": "User updated", "user": {"phone-number": new_phone}})
        )
    );
    assert_eq!(owner().await, Some(user), "the number is the user's now");
    assert_eq!(
        call_verify(&deployment, request(UPDATE, Some(&cookie), None, &update(&code))).await,
        (401, invalid, None),
        "a code is used once"
    );
}

#[tokio::test]
async fn update_with_otp_takes_only_the_sessions_own_codes() {
    let (deployment, _, _, email) = with_user("owner").await;
    let cookie = format!("qt-auth={}", full_session("owner"));
    // Without `user`, the email on record: the code the cookie alone asked for.
    assert_eq!(
        call_send_otp(&deployment, request(SEND, Some(&cookie), None, ""))
            .await
            .0,
        200
    );
    let body = json!({"otp": last_email_code(&email)}).to_string();
    assert_eq!(
        call_verify(
            &deployment,
            request(UPDATE, Some(&cookie), Some("application/json"), &body)
        )
        .await,
        (200, json!({"message": "User updated", "user": {"email": email}}), None)
    );

    // A code sent without a session (or in another user's) is not this session's to use.
    let stranger = fresh_email();
    let always = json!({"email": stranger, "always-send": true}).to_string();
    assert_eq!(
        call_send_otp(&deployment, request(SEND, None, None, &always)).await.0,
        200
    );
    let code = last_email_code(&stranger);
    let body = json!({"otp": code, "user": {"email": stranger}}).to_string();
    assert_eq!(
        call_verify(&deployment, request(UPDATE, Some(&cookie), None, &body)).await,
        (401, json!({"error": {"message": "Invalid OTP"}}), None)
    );
    // The anonymous send spent the public's budget; the sessions' issuer has its own,
    // whose cooldown holds across all of its users.
    let named = json!({"email": stranger}).to_string();
    let other = format!("qt-auth={}", full_session("someone-else"));
    assert_eq!(
        call_send_otp(&deployment, request(SEND, Some(&other), None, &named))
            .await
            .0,
        200,
        "another tenant than the public"
    );
    let third = format!("qt-auth={}", full_session("a-third"));
    assert_eq!(
        call_send_otp(&deployment, request(SEND, Some(&third), None, &named))
            .await
            .0,
        429,
        "the address's cooldown holds across the issuer's sessions"
    );

    for bad in [
        "",
        "{",
        r#"{"user": {"email": "a@b.co"}}"#,
        r#"{"otp": "12a456"}"#,
        r#"{"otp": "123456", "user": "a@b.co"}"#,
        r#"{"otp": "123456", "user": {"email": "not an address"}}"#,
    ] {
        let (status, answer, _) = call_verify(&deployment, request(UPDATE, Some(&cookie), None, bad)).await;
        assert_eq!(status, 400, "{bad}: {answer}");
        assert!(answer["error"]["message"].is_string(), "{bad}: {answer}");
    }
}

/// A request to `path` with another method than the routes take, as the `$default` route
/// would hand it to a function.
fn with_method(method: &str, path: &str) -> lambda_http::Request {
    let mut event: Value = serde_json::from_str(&otp_tests::api_event(path, &[], "", "203.0.113.10")).expect("JSON");
    event["routeKey"] = json!("$default");
    event["requestContext"]["routeKey"] = json!("$default");
    event["requestContext"]["http"]["method"] = json!(method);
    lambda_http::request::from_str(&event.to_string()).expect("a valid event")
}

#[tokio::test]
async fn wrong_methods_and_paths_answer_json_in_the_dialects_shape() {
    let deployment = Deployment::new().await;
    for path in [SEND, VERIFY, UPDATE] {
        let (status, answer, _) = call_generate(&deployment, with_method("GET", path)).await;
        assert_eq!(
            (status, answer),
            (405, json!({"error": {"message": "Method not allowed"}})),
            "GET {path}"
        );
    }
    let response = generate::http_handler::function_handler(&deployment.sender, with_method("PUT", UPDATE))
        .await
        .expect("handlers never fail");
    assert_eq!(response.headers()["allow"], "POST");
    assert_eq!(response.headers()["content-type"], "application/json");

    // Every dialect's routes answer another method in the dialect's own shape.
    for (path, body) in [
        ("/fe/users/auth/otp/register", json!({"message": "METHOD_NOT_ALLOWED"})),
        ("/v1/otp", json!({"success": false, "data": "Method not allowed"})),
        (
            "/api/v1/otp/verify",
            json!({"success": false, "data": "Method not allowed"}),
        ),
    ] {
        assert_eq!(
            call_generate(&deployment, with_method("TRACE", path)).await,
            (405, body, None),
            "{path}"
        );
    }
    let (status, answer, _) = call_generate(&deployment, with_method("DELETE", "/otp/abc/sendOTP")).await;
    assert_eq!(
        (status, &answer["status"], &answer["path"]),
        (405, &json!(405), &json!("/otp/abc/sendOTP"))
    );

    let (status, answer, _) = call_generate(&deployment, with_method("POST", "/api/auth/v1/users/login")).await;
    assert_eq!((status, answer), (404, json!({"error": {"message": "Not found"}})));
    let (status, answer, _) = call_generate(&deployment, with_method("POST", &format!("{SEND}/"))).await;
    assert_eq!(status, 404, "a final / matches no route: {answer}");
    assert_eq!(answer["error"]["message"], "Not found");
}

#[tokio::test]
async fn a_code_sent_where_the_session_chose_never_passes_verify_otp() {
    // A full session names a phone of its own: the code proves that phone to
    // update-with-otp, and nothing to verify-otp, which a site may use as a second factor.
    let (deployment, user, phone_on_record, _) = with_user("second-factor").await;
    let cookie = format!("qt-auth={}", full_session("second-factor"));
    let (_, chosen) = fresh_phone();
    let body = json!({"phone-number": chosen}).to_string();
    assert_eq!(
        call_send_otp(&deployment, request(SEND, Some(&cookie), None, &body))
            .await
            .0,
        200
    );
    let code = last_code(&chosen);
    let verify = json!({"phone-number": chosen, "otp": code}).to_string();
    assert_eq!(
        call_verify(&deployment, request(VERIFY, Some(&cookie), None, &verify)).await,
        (401, json!({"error": {"message": "Invalid OTP"}}), None)
    );
    let update = json!({"otp": code, "user": {"phone-number": chosen}}).to_string();
    let (status, _, _) = call_verify(&deployment, request(UPDATE, Some(&cookie), None, &update)).await;
    assert_eq!(status, 200, "the same code still proves the phone for an update");
    let phone = otp_shared::destination::Destination::e164(&chosen).expect("valid");
    assert_eq!(
        deployment.store.owner_of(&user.realm(), &phone).await.expect("read"),
        Some(user.clone())
    );

    // The phone is now the one on record (the earlier one released); asked for by
    // `mediums`, its code is what verify-otp takes.
    let on_record = deployment
        .store
        .contact_of(&user, otp_shared::ports::ContactKind::Phone)
        .await;
    assert_eq!(on_record.expect("read"), Some(phone));
    let released = otp_shared::destination::Destination::e164(&phone_on_record).expect("valid");
    assert_eq!(
        deployment.store.owner_of(&user.realm(), &released).await.expect("read"),
        None
    );
    deployment.clock.advance(30);
    let mediums = json!({"mediums": ["phone-number"]}).to_string();
    assert_eq!(
        call_send_otp(&deployment, request(SEND, Some(&cookie), None, &mediums))
            .await
            .0,
        200
    );
    let verify = json!({"phone-number": chosen, "otp": last_code(&chosen)}).to_string();
    assert_eq!(
        call_verify(&deployment, request(VERIFY, Some(&cookie), None, &verify))
            .await
            .0,
        200
    );
}
