//! KGen and its rewards proxy: the flows of its API documents and the service's rules.

use otp_tests::{Deployment, fresh_phone, kgen_request, last_code, sms_to, user_token};
use serde_json::{Value, json};

use crate::*;

#[tokio::test]
async fn register_then_verify_links_the_phone() {
    let deployment = Deployment::new().await;
    let (national, e164) = fresh_phone();
    let token = user_token("asha");

    let (status, body, _) = register_fe(&deployment, &token, &national).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["isNewUser"], true);
    let auth_code = body["authCode"].clone();
    let auth_text = auth_code.as_str().expect("authCode is a string");
    assert!(auth_text.len() == 4 && !auth_text.starts_with('0') && auth_text.bytes().all(|b| b.is_ascii_digit()));

    let messages = sms_to(&e164);
    assert_eq!(messages.len(), 1, "one SMS to the E.164 number");
    let code = last_code(&e164);
    assert_eq!(code.len(), 6);

    let (status, body, _) = verify_fe(&deployment, &token, &national, &auth_code, json!(code)).await;
    assert_eq!((status, body), (200, json!({"message": "Users linked successfully"})));

    // Linked now: the next register for this phone is not a new user's, whoever asks.
    deployment.clock.advance(31);
    let (status, body, _) = register_fe(&deployment, &user_token("someone-else"), &national).await;
    assert_eq!(status, 200);
    assert_eq!(body["isNewUser"], false);

    // The code is used: a second verify of it fails.
    let (status, body, _) = verify_fe(&deployment, &token, &national, &auth_code, json!(code)).await;
    assert_eq!((status, body), (410, json!({"message": "OTP_EXPIRED"})));
}

#[tokio::test]
async fn the_proxy_checks_client_credentials_and_answers_201() {
    let deployment = Deployment::new().await;
    let client = deployment.client().await;
    let (id, secret) = (client.id.clone(), client.secret.clone());
    let (national, e164) = fresh_phone();
    let token = user_token("ravi");
    let credentials = Some((id.as_str(), secret.as_str()));

    let register = kgen_request(
        &format!("{PROXY}/register"),
        &token,
        credentials,
        &phone_body(&national),
    );
    let (status, body, _) = call_register(&deployment, register).await;
    assert_eq!(status, 200, "{body}");
    let auth_code = body["authCode"].clone();
    let code = last_code(&e164);

    let wrong_secret = Some((id.as_str(), "0".repeat(64)));
    let request = kgen_request(
        &format!("{PROXY}/verify"),
        &token,
        wrong_secret.as_ref().map(|(i, s)| (*i, s.as_str())),
        &verify_body(&national, &auth_code, json!(code)),
    );
    assert_eq!(call_verify(&deployment, request).await.0, 401);

    let request = kgen_request(
        &format!("{PROXY}/verify"),
        &token,
        credentials,
        &verify_body(&national, &auth_code, json!(code)),
    );
    let (status, body, _) = call_verify(&deployment, request).await;
    assert_eq!((status, body), (201, json!({"message": "Users linked successfully"})));
}

#[tokio::test]
async fn resend_replaces_the_code_on_the_same_challenge() {
    let deployment = Deployment::new().await;
    let (national, e164) = fresh_phone();
    let token = user_token("meera");

    let (_, body, _) = register_fe(&deployment, &token, &national).await;
    let auth_code = body["authCode"].clone();
    let first = last_code(&e164);

    deployment.clock.advance(30);
    let resend = kgen_request(&format!("{FE}/resend"), &token, None, &phone_body(&national));
    let (status, body, _) = call_resend(&deployment, resend).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["authCode"], auth_code, "resend keeps the challenge");
    assert_eq!(sms_to(&e164).len(), 2);
    let second = last_code(&e164);

    if first != second {
        let (status, body, _) = verify_fe(&deployment, &token, &national, &auth_code, json!(first)).await;
        assert_eq!(
            (status, body),
            (400, json!({"message": "INVALID_OTP"})),
            "the old code stopped working"
        );
    }
    let (status, _, _) = verify_fe(&deployment, &token, &national, &auth_code, json!(second)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn resend_with_no_open_challenge_opens_one() {
    let deployment = Deployment::new().await;
    let (national, e164) = fresh_phone();
    let token = user_token("kiran");
    let resend = kgen_request(&format!("{FE}/resend"), &token, None, &phone_body(&national));
    let (status, body, _) = call_resend(&deployment, resend).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["isNewUser"], true);
    let (status, _, _) = verify_fe(
        &deployment,
        &token,
        &national,
        &body["authCode"],
        json!(last_code(&e164)),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_numeric_otp_that_lost_its_leading_zero_still_verifies() {
    let deployment = Deployment::new().await;
    let (national, e164) = fresh_phone();
    let token = user_token("zero");
    let (_, body, _) = register_fe(&deployment, &token, &national).await;
    let auth_code = body["authCode"].clone();
    // Resend until a code starts with 0 (one in ten does), spaced to stay within the send rules
    // (per destination, and 20 an hour from one address).
    let mut code = last_code(&e164);
    for _ in 0..80 {
        if code.starts_with('0') {
            break;
        }
        deployment.clock.advance(181);
        let resend = kgen_request(&format!("{FE}/resend"), &token, None, &phone_body(&national));
        let (status, body, _) = call_resend(&deployment, resend).await;
        assert_eq!(status, 200, "{body}");
        code = last_code(&e164);
    }
    assert!(code.starts_with('0'), "no code with a leading zero in 80 sends");
    let as_number: u64 = code.parse().expect("digits");
    let numeric_auth_code: u64 = auth_code.as_str().expect("string").parse().expect("digits");
    let (status, body, _) = verify_fe(
        &deployment,
        &token,
        &national,
        &json!(numeric_auth_code),
        json!(as_number),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn five_wrong_codes_spend_the_challenge() {
    let deployment = Deployment::new().await;
    let (national, e164) = fresh_phone();
    let token = user_token("five");
    let (_, body, _) = register_fe(&deployment, &token, &national).await;
    let auth_code = body["authCode"].clone();
    let code = last_code(&e164);
    let wrong = if code == "111111" { "222222" } else { "111111" };
    for _ in 0..5 {
        let (status, body, _) = verify_fe(&deployment, &token, &national, &auth_code, json!(wrong)).await;
        assert_eq!((status, body), (400, json!({"message": "INVALID_OTP"})));
    }
    let (status, body, _) = verify_fe(&deployment, &token, &national, &auth_code, json!(code)).await;
    assert_eq!((status, body), (410, json!({"message": "OTP_EXPIRED"})));

    // Resending on a spent challenge opens a new one: fresh authCode, fresh attempts.
    deployment.clock.advance(30);
    let (status, body, _) = register_fe(&deployment, &token, &national).await;
    assert_eq!(status, 200);
    let (status, _, _) = verify_fe(
        &deployment,
        &token,
        &national,
        &body["authCode"],
        json!(last_code(&e164)),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_resend_does_not_reset_the_attempts() {
    let deployment = Deployment::new().await;
    let (national, e164) = fresh_phone();
    let token = user_token("carry");
    let (_, body, _) = register_fe(&deployment, &token, &national).await;
    let auth_code = body["authCode"].clone();
    let wrong = if last_code(&e164) == "000000" {
        "000001"
    } else {
        "000000"
    };
    for _ in 0..4 {
        let (status, _, _) = verify_fe(&deployment, &token, &national, &auth_code, json!(wrong)).await;
        assert_eq!(status, 400);
    }
    deployment.clock.advance(30);
    let resend = kgen_request(&format!("{FE}/resend"), &token, None, &phone_body(&national));
    let (status, body, _) = call_resend(&deployment, resend).await;
    assert_eq!((status, &body["authCode"]), (200, &auth_code));
    let item = deployment.challenge_item("carry", &e164).await.expect("challenge item");
    assert_eq!(number(&item, "attempts"), 4, "attempts carried over");
}

#[tokio::test]
async fn a_code_expires_after_its_lifetime() {
    let deployment = Deployment::new().await;
    let (national, e164) = fresh_phone();
    let token = user_token("late");
    let (_, body, _) = register_fe(&deployment, &token, &national).await;
    let auth_code = body["authCode"].clone();
    let code = last_code(&e164);
    deployment.clock.advance(300);
    let (status, body, _) = verify_fe(&deployment, &token, &national, &auth_code, json!(code)).await;
    assert_eq!((status, body), (410, json!({"message": "OTP_EXPIRED"})));
}

#[tokio::test]
async fn a_code_verifies_until_the_last_second_of_its_lifetime() {
    let deployment = Deployment::new().await;
    let (national, e164) = fresh_phone();
    let token = user_token("just-in-time");
    let (_, body, _) = register_fe(&deployment, &token, &national).await;
    deployment.clock.advance(299);
    let (status, _, _) = verify_fe(
        &deployment,
        &token,
        &national,
        &body["authCode"],
        json!(last_code(&e164)),
    )
    .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn sends_are_limited_by_cooldown_and_cap() {
    let deployment = Deployment::new().await;
    let (national, _) = fresh_phone();
    let token = user_token("spam");
    assert_eq!(register_fe(&deployment, &token, &national).await.0, 200);

    let (status, body, retry_after) = register_fe(&deployment, &token, &national).await;
    assert_eq!((status, body), (429, json!({"message": "TOO_MANY_REQUESTS"})));
    assert_eq!(retry_after.as_deref(), Some("30"));

    // The cooldown is per destination: another user gets no way around it.
    let (status, _, _) = register_fe(&deployment, &user_token("other"), &national).await;
    assert_eq!(status, 429);

    for _ in 0..4 {
        deployment.clock.advance(30);
        assert_eq!(register_fe(&deployment, &token, &national).await.0, 200);
    }
    // Five sends in two minutes: the sixth waits until the first leaves the ten-minute window.
    deployment.clock.advance(30);
    let (status, _, retry_after) = register_fe(&deployment, &token, &national).await;
    assert_eq!(status, 429);
    assert_eq!(retry_after.as_deref(), Some("450"));
    deployment.clock.advance(450);
    assert_eq!(register_fe(&deployment, &token, &national).await.0, 200);
}

#[tokio::test]
async fn malformed_requests_are_400_and_cost_nothing() {
    let deployment = Deployment::new().await;
    let (national, e164) = fresh_phone();
    let token = user_token("typo");
    let (_, body, _) = register_fe(&deployment, &token, &national).await;
    let auth_code = body["authCode"].clone();
    let code = last_code(&e164);

    let verify_path = format!("{FE}/verify");
    let raw = |body: &str, content_type: &str| {
        otp_tests::api_request(
            &verify_path,
            &[("content-type", content_type), ("user-jwt-token", &token)],
            body,
        )
    };
    let cases: Vec<(&str, lambda_http::Request)> = vec![
        ("bad JSON", raw("{\"phone_number\": ", "application/json")),
        ("not an object", raw("[1, 2]", "application/json")),
        ("empty", raw("", "application/json")),
        ("wrong content type", raw(&verify_body(&national, &auth_code, json!(code)).to_string(), "text/plain")),
        (
            "oversized",
            raw(
                &json!({"phone_number": national, "countryCode": "+91", "authCode": auth_code, "otp": code, "pad": "x".repeat(16 * 1024)}).to_string(),
                "application/json",
            ),
        ),
        ("missing otp", kgen_request(&verify_path, &token, None, &json!({"phone_number": national, "countryCode": "+91", "authCode": auth_code}))),
        ("missing phone", kgen_request(&verify_path, &token, None, &json!({"countryCode": "+91", "authCode": auth_code, "otp": code}))),
        ("phone as number", kgen_request(&verify_path, &token, None, &json!({"phone_number": 9876543219u64, "countryCode": "+91", "authCode": auth_code, "otp": code}))),
        ("invalid phone", kgen_request(&verify_path, &token, None, &verify_body("12345", &auth_code, json!(code)))),
        ("fractional otp", kgen_request(&verify_path, &token, None, &verify_body(&national, &auth_code, json!(596097.5)))),
        ("negative otp", kgen_request(&verify_path, &token, None, &verify_body(&national, &auth_code, json!(-1)))),
        ("exponent otp", kgen_request(&verify_path, &token, None, &verify_body(&national, &auth_code, serde_json::from_str::<Value>("1e6").unwrap()))),
        ("too many digits", kgen_request(&verify_path, &token, None, &verify_body(&national, &auth_code, json!("1234567")))),
        ("too large a number", kgen_request(&verify_path, &token, None, &verify_body(&national, &auth_code, json!(1_000_000)))),
        ("otp as bool", kgen_request(&verify_path, &token, None, &verify_body(&national, &auth_code, json!(true)))),
        ("letters in otp", kgen_request(&verify_path, &token, None, &verify_body(&national, &auth_code, json!("12a456")))),
    ];
    for (name, request) in cases {
        let (status, body, _) = call_verify(&deployment, request).await;
        assert_eq!(status, 400, "{name}: {body}");
        assert_eq!(body["message"], "INVALID_REQUEST", "{name}");
        assert!(body["detail"].is_string(), "{name}: a detail says what is wrong");
    }
    let (_, body, _) = call_verify(
        &deployment,
        kgen_request(
            &verify_path,
            &token,
            None,
            &json!({"countryCode": "+91", "authCode": auth_code, "otp": code}),
        ),
    )
    .await;
    assert!(
        body["detail"].as_str().unwrap_or_default().contains("phone_number"),
        "{body}"
    );

    let item = deployment.challenge_item("typo", &e164).await.expect("challenge item");
    assert_eq!(number(&item, "attempts"), 0, "malformed requests cost no attempt");
    let (status, _, _) = verify_fe(&deployment, &token, &national, &auth_code, json!(code)).await;
    assert_eq!(status, 200);

    // The send routes validate the same way.
    let register_path = format!("{FE}/register");
    for body in [
        json!({"phone_number": national}),
        json!({"phone_number": national, "countryCode": "+999"}),
        json!({"phone_number": "1", "countryCode": "+91"}),
    ] {
        let (status, answer, _) = call_register(&deployment, kgen_request(&register_path, &token, None, &body)).await;
        assert_eq!((status, &answer["message"]), (400, &json!("INVALID_REQUEST")), "{body}");
    }
}

#[tokio::test]
async fn bad_credentials_are_401() {
    let deployment = Deployment::new().await;
    let client = deployment.client().await;
    let (id, secret) = (client.id.clone(), client.secret.clone());
    let (national, _) = fresh_phone();
    let path = format!("{FE}/register");
    let body = phone_body(&national);
    let expired =
        otp_tests::token_with(json!({"iss": otp_tests::EVENTS_ISSUER, "sub": "u", "exp": otp_tests::now() - 300}));
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &json!({"iss": otp_tests::EVENTS_ISSUER, "sub": "u", "exp": otp_tests::now() + 300}),
        &jsonwebtoken::EncodingKey::from_secret(b"not-the-deployment-secret-at-all"),
    )
    .expect("token");
    let unsigned = format!(
        "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.{}.",
        jsonwebtoken_payload(&json!({"iss": otp_tests::EVENTS_ISSUER, "sub": "u", "exp": otp_tests::now() + 300}))
    );
    let requests = vec![
        (
            "no token",
            otp_tests::api_request(&path, &[("content-type", "application/json")], &body.to_string()),
        ),
        ("expired", kgen_request(&path, &expired, None, &body)),
        ("wrong signature", kgen_request(&path, &forged, None, &body)),
        ("alg none", kgen_request(&path, &unsigned, None, &body)),
        ("garbage", kgen_request(&path, "abc.def.ghi", None, &body)),
        (
            "proxy without client",
            kgen_request(&format!("{PROXY}/register"), &user_token("u"), None, &body),
        ),
        (
            "proxy with a wrong secret",
            kgen_request(
                &format!("{PROXY}/register"),
                &user_token("u"),
                Some((&id, &secret[1..])),
                &body,
            ),
        ),
        (
            "proxy with an unknown client",
            kgen_request(
                &format!("{PROXY}/register"),
                &user_token("u"),
                Some(("nobody", &secret)),
                &body,
            ),
        ),
    ];
    for (name, request) in requests {
        let (status, answer, _) = call_register(&deployment, request).await;
        assert_eq!((status, answer), (401, json!({"message": "UN_AUTHORIZED"})), "{name}");
    }
    let verify_path = format!("{FE}/verify");
    let request = kgen_request(
        &verify_path,
        &forged,
        None,
        &verify_body(&national, &json!("1234"), json!("123456")),
    );
    assert_eq!(call_verify(&deployment, request).await.0, 401);
    assert!(
        otp_tests::sms_to(&format!("+91{national}")).is_empty(),
        "nothing was sent"
    );
}

fn jsonwebtoken_payload(claims: &Value) -> String {
    use base64::Engine;
    // A token no library would sign: its segments are encoded by hand.
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(claims.to_string())
}

#[tokio::test]
async fn a_challenge_is_unknown_to_another_user() {
    let deployment = Deployment::new().await;
    let (national, e164) = fresh_phone();
    let owner = user_token("owner");
    let (_, body, _) = register_fe(&deployment, &owner, &national).await;
    let auth_code = body["authCode"].clone();
    let code = last_code(&e164);
    let (status, body, _) = verify_fe(&deployment, &user_token("intruder"), &national, &auth_code, json!(code)).await;
    assert_eq!((status, body), (410, json!({"message": "OTP_EXPIRED"})));
    // A wrong authCode names no challenge either.
    let other_auth = if auth_code == "1234" { "4321" } else { "1234" };
    let (status, _, _) = verify_fe(&deployment, &owner, &national, &json!(other_auth), json!(code)).await;
    assert_eq!(status, 410);
    let (status, _, _) = verify_fe(&deployment, &owner, &national, &auth_code, json!(code)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_destination_gets_ten_wrong_codes_an_hour_across_challenges() {
    let deployment = Deployment::new().await;
    let (national, e164) = fresh_phone();
    // Two users open two challenges on one phone and spend five wrong codes each.
    for user in ["first", "second"] {
        let token = user_token(user);
        let (status, body, _) = register_fe(&deployment, &token, &national).await;
        assert_eq!(status, 200, "{body}");
        let auth_code = body["authCode"].clone();
        let wrong = if last_code(&e164) == "999999" {
            "888888"
        } else {
            "999999"
        };
        for _ in 0..5 {
            assert_eq!(
                verify_fe(&deployment, &token, &national, &auth_code, json!(wrong))
                    .await
                    .0,
                400
            );
        }
        deployment.clock.advance(30);
    }
    // A third challenge gets no more guesses, not even a right one, for the rest of the hour.
    let token = user_token("third");
    let (_, body, _) = register_fe(&deployment, &token, &national).await;
    let auth_code = body["authCode"].clone();
    let code = last_code(&e164);
    let (status, body, retry_after) = verify_fe(&deployment, &token, &national, &auth_code, json!(code)).await;
    assert_eq!((status, body), (429, json!({"message": "TOO_MANY_REQUESTS"})));
    let wait: i64 = retry_after.expect("Retry-After").parse().expect("seconds");
    assert!((3_500..=3_600).contains(&wait), "{wait}");
    // The lock-out ends with the hour; the third challenge expired meanwhile, so a send opens another.
    deployment.clock.advance(wait);
    let (status, body, _) = register_fe(&deployment, &token, &national).await;
    assert_eq!(status, 200, "{body}");
    let (status, body, _) = verify_fe(
        &deployment,
        &token,
        &national,
        &body["authCode"],
        json!(last_code(&e164)),
    )
    .await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn a_phone_moves_to_the_user_who_proves_it() {
    let deployment = Deployment::new().await;
    let (national, e164) = fresh_phone();
    for user in ["previous-owner", "new-owner"] {
        let token = user_token(user);
        let (status, body, _) = register_fe(&deployment, &token, &national).await;
        assert_eq!(status, 200);
        assert_eq!(body["isNewUser"], user == "previous-owner");
        let (status, _, _) = verify_fe(
            &deployment,
            &token,
            &national,
            &body["authCode"],
            json!(last_code(&e164)),
        )
        .await;
        assert_eq!(status, 200);
        deployment.clock.advance(30);
    }
    let items = deployment.scan().await;
    let find = |pk: String| items.iter().find(|item| item["pk"].as_s().ok() == Some(&pk)).cloned();
    // KGen's registry of the token's issuer.
    let issuer = otp_tests::EVENTS_ISSUER;
    let contact = find(format!("CONTACT#kgen:{issuer}#{e164}")).expect("contact item");
    assert_eq!(contact["user_id"].as_s().ok().map(String::as_str), Some("new-owner"));
    let new_owner = find(format!("USER#kgen:{issuer}:new-owner")).expect("new owner");
    assert_eq!(new_owner["phone"].as_s().ok(), Some(&e164));
    let previous = find(format!("USER#kgen:{issuer}:previous-owner")).expect("previous owner");
    assert!(
        !previous.contains_key("phone"),
        "the previous owner no longer has the phone"
    );
}

#[tokio::test]
async fn a_new_phone_releases_the_users_previous_one() {
    let deployment = Deployment::new().await;
    let token = user_token("switcher");
    let (first_national, first) = fresh_phone();
    let (second_national, second) = fresh_phone();
    for (national, e164) in [(&first_national, &first), (&second_national, &second)] {
        let (_, body, _) = register_fe(&deployment, &token, national).await;
        let (status, _, _) = verify_fe(&deployment, &token, national, &body["authCode"], json!(last_code(e164))).await;
        assert_eq!(status, 200);
    }
    // The first phone is free again: a new user's.
    deployment.clock.advance(30);
    let (_, body, _) = register_fe(&deployment, &user_token("another"), &first_national).await;
    assert_eq!(body["isNewUser"], Value::Bool(true));
    let (_, body, _) = register_fe(&deployment, &user_token("another"), &second_national).await;
    assert_eq!(body["isNewUser"], Value::Bool(false));
}

#[tokio::test]
async fn sms_go_only_to_the_allowed_countries() {
    let deployment = Deployment::with(&[("SMS_ALLOWED_COUNTRIES", "IN")], Default::default()).await;
    let token = user_token("abroad");
    let body = json!({"phone_number": "7911123456", "countryCode": "+44"});
    let (status, answer, _) = call_register(
        &deployment,
        kgen_request(&format!("{FE}/register"), &token, None, &body),
    )
    .await;
    assert_eq!((status, &answer["message"]), (400, &json!("INVALID_REQUEST")));
    assert!(
        answer["detail"].as_str().is_some_and(|d| d.contains("country")),
        "{answer}"
    );
    assert!(otp_tests::sms_to("+447911123456").is_empty(), "nothing was sent");
    let (national, _) = fresh_phone();
    assert_eq!(
        register_fe(&deployment, &token, &national).await.0,
        200,
        "India is allowed"
    );
}

#[tokio::test]
async fn sends_are_limited_per_source_address_and_per_client() {
    // Tightened limits (allowed by the policy) keep the test short; the defaults are unit-tested.
    let deployment = Deployment::with(
        &[
            ("OTP_SENDS_PER_IP_PER_HOUR", "3"),
            ("OTP_SENDS_PER_CLIENT_PER_HOUR", "2"),
        ],
        Default::default(),
    )
    .await;
    let token = user_token("many-phones");
    for _ in 0..3 {
        let (national, _) = fresh_phone();
        assert_eq!(register_fe(&deployment, &token, &national).await.0, 200);
    }
    let (national, _) = fresh_phone();
    let (status, _, retry_after) = register_fe(&deployment, &token, &national).await;
    assert_eq!(
        status, 429,
        "a fourth destination from the same address within the hour"
    );
    assert!(retry_after.is_some());

    // Per client: once the address's hour has passed, the client's third send is refused
    // (the address would still allow it: its limit is three).
    let client = deployment.client().await;
    let credentials = Some((client.id.as_str(), client.secret.as_str()));
    deployment.clock.advance(3_600);
    for expected in [200, 200, 429] {
        let (national, _) = fresh_phone();
        let request = kgen_request(
            &format!("{PROXY}/register"),
            &token,
            credentials,
            &phone_body(&national),
        );
        assert_eq!(call_register(&deployment, request).await.0, expected);
    }
}
