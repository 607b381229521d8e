//! What each operation of each dialect asks of AWS: its requests, and how many sequential
//! round trips they take. A send: at most two to DynamoDB plus the delivery (the budgets
//! and the challenge read, beside the caller's reads; then the write that makes the
//! delivered code live). A verify: one on a wrong code, two on a right one. The reads
//! of a round trip leave as one request, a `BatchGetItem`. A send to a phone number also
//! counts in the conversion guard's item of its tenant and prefix, beside the budgets
//! (given back with them when refused), and a right code counts there beside its use:
//! one more `UpdateItem` each, in a round trip they already take. A phone send adds its
//! estimated cost to the spend cap's counters beside them too ([`SPEND`]), and takes it
//! back with the budgets when refused. A delivered message is recorded as an attempt
//! beside the write that makes its code live ([`RECORDED`]), and a right code marks it
//! converted beside its use ([`CONVERTED`]).

use std::future::Future;

use otp_shared::ports::Channel;
use otp_tests::{
    Deployment, Usage, fresh_email, fresh_phone, full_session, kgen_request, last_code, last_email_code, user_token,
};
use serde_json::json;

use crate::*;

/// The usage a test expects: `(request, how many)`, and the round trips.
pub(crate) fn expected(requests: &[(&str, usize)], dynamodb_round_trips: usize, round_trips: usize) -> Usage {
    let mut list: Vec<String> = requests
        .iter()
        .flat_map(|(request, times)| std::iter::repeat_n((*request).to_owned(), *times))
        .collect();
    list.sort();
    Usage {
        requests: list,
        round_trips,
        dynamodb_round_trips,
    }
}

/// Runs one call with the deployment's meter reset before it.
pub(crate) async fn metered(deployment: &Deployment, call: impl Future<Output = Answer>) -> (Answer, Usage) {
    deployment.meter.reset();
    let answer = call.await;
    (answer, deployment.meter.usage())
}

/// A delivered message's attempt, written beside the write that makes its code live.
pub(crate) const RECORDED: (&str, usize) = (PUT, 1);

/// A right code's attempt marked converted, beside the code's use.
pub(crate) const CONVERTED: (&str, usize) = (UPDATE, 1);

/// The spend cap's counters a phone send adds to: the deployment's month, its tenant's
/// month and its country's hour, one `UpdateItem` each.
pub(crate) const SPEND: usize = 3;

pub(crate) const BATCH: &str = "dynamodb:BatchGetItem";
pub(crate) const UPDATE: &str = "dynamodb:UpdateItem";
pub(crate) const PUT: &str = "dynamodb:PutItem";
pub(crate) const TRANSACT: &str = "dynamodb:TransactWriteItems";
pub(crate) const SMS: &str = "sns:Publish";
pub(crate) const EMAIL: &str = "sesv2:SendEmail";

#[tokio::test]
async fn kgen_register_resend_and_verify() {
    let deployment = Deployment::new().await;
    let token = user_token("metered");
    let (national, e164) = fresh_phone();

    // Budgets (destination, address, number range), the challenge and `isNewUser` at
    // once; the SMS; the new challenge with its code live.
    let ((status, body, _), usage) = metered(&deployment, register_fe(&deployment, &token, &national)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        usage,
        expected(&[(BATCH, 1), (UPDATE, 4 + SPEND), (PUT, 1), (SMS, 1), RECORDED], 2, 3)
    );

    // A refused send gives back what it took (the address's and the range's budgets).
    let ((status, _, _), usage) = metered(&deployment, register_fe(&deployment, &token, &national)).await;
    assert_eq!(status, 429);
    assert_eq!(usage, expected(&[(BATCH, 1), (UPDATE, 7 + 2 * SPEND)], 2, 2));

    // A resend refreshes the open challenge in place.
    deployment.clock.advance(30);
    let resend = kgen_request(&format!("{FE}/resend"), &token, None, &phone_body(&national));
    let ((status, _, _), usage) = metered(&deployment, call_resend(&deployment, resend)).await;
    assert_eq!(status, 200);
    assert_eq!(
        usage,
        expected(&[(BATCH, 1), (UPDATE, 5 + SPEND), (SMS, 1), RECORDED], 2, 3)
    );

    // A wrong code: the failure (the issuer's for the number, and the user's own) and the
    // attempt counted, the registry read for the link, all in one round trip.
    let auth_code = body["authCode"].clone();
    let ((status, _, _), usage) = metered(
        &deployment,
        verify_fe(&deployment, &token, &national, &auth_code, json!("000000")),
    )
    .await;
    let code = last_code(&e164);
    if code != "000000" {
        assert_eq!(status, 400);
        assert_eq!(usage, expected(&[(BATCH, 1), (UPDATE, 3)], 1, 1));
    }

    // A right code: then the code used and the link made in one transaction, and both
    // failures given back beside it.
    let ((status, _, _), usage) = metered(
        &deployment,
        verify_fe(&deployment, &token, &national, &auth_code, json!(code)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        usage,
        expected(&[(BATCH, 1), (UPDATE, 6), (TRANSACT, 1), CONVERTED], 2, 2)
    );
}

#[tokio::test]
async fn kgen_proxy_reads_the_client_beside_the_budgets() {
    let deployment = Deployment::new().await;
    let client = deployment.client().await;
    let credentials = Some((client.id.as_str(), client.secret.as_str()));
    let token = user_token("metered-proxy");
    let (national, e164) = fresh_phone();
    let register = kgen_request(
        &format!("{PROXY}/register"),
        &token,
        credentials,
        &phone_body(&national),
    );
    let ((status, body, _), usage) = metered(&deployment, call_register(&deployment, register)).await;
    assert_eq!(status, 200, "{body}");
    // The client's credentials and its counter replace the address's budget.
    assert_eq!(
        usage,
        expected(&[(BATCH, 1), (UPDATE, 4 + SPEND), (PUT, 1), (SMS, 1), RECORDED], 2, 3)
    );

    let verify = kgen_request(
        &format!("{PROXY}/verify"),
        &token,
        credentials,
        &verify_body(&national, &body["authCode"], json!(last_code(&e164))),
    );
    let ((status, _, _), usage) = metered(&deployment, call_verify(&deployment, verify)).await;
    assert_eq!(status, 201);
    assert_eq!(
        usage,
        expected(&[(BATCH, 1), (UPDATE, 4), (TRANSACT, 1), CONVERTED], 2, 2)
    );

    // Wrong credentials: everything counted beside the check (the client's destination,
    // counter and range) is given back, and the source address's budget spent instead,
    // all in one more round trip.
    let bad = Some((client.id.as_str(), "not-the-secret"));
    let (other, _) = fresh_phone();
    let register = kgen_request(&format!("{PROXY}/register"), &token, bad, &phone_body(&other));
    let ((status, _, _), usage) = metered(&deployment, call_register(&deployment, register)).await;
    assert_eq!(status, 401);
    assert_eq!(usage, expected(&[(BATCH, 1), (UPDATE, 9 + 2 * SPEND)], 2, 2));
}

#[tokio::test]
async fn a_users_verify_against_no_challenge_gives_the_issuers_failure_back() {
    let deployment = Deployment::new().await;
    let token = user_token("no-challenge");
    let (national, _) = fresh_phone();
    // The attempt (none to count), the issuer's and the user's own failure budgets and
    // the registry read for the link; then the issuer's given back, in one round trip.
    let ((status, _, _), usage) = metered(
        &deployment,
        verify_fe(&deployment, &token, &national, &json!("1234"), json!("123456")),
    )
    .await;
    assert_eq!(status, 410);
    assert_eq!(usage, expected(&[(BATCH, 1), (UPDATE, 4)], 2, 2));
}

#[tokio::test]
async fn bizmagnets_send_and_verify() {
    let (deployment, client, uid) = crate::bizmagnets::shop().await;
    let (national, e164) = fresh_phone();
    let send = crate::bizmagnets::send_request(&uid, &client.api_key, &crate::bizmagnets::mobile(&national));
    let ((status, body, _), usage) = metered(&deployment, call_send_otp(&deployment, send)).await;
    assert_eq!(status, 201, "{body}");
    // Key, configuration, budgets and challenge at once; the SMS; the challenge and its
    // id pointer written together.
    assert_eq!(
        usage,
        expected(
            &[(BATCH, 1), (UPDATE, 4 + SPEND), (TRANSACT, 1), (SMS, 1), RECORDED],
            2,
            3
        )
    );
    let id = body["id"].as_str().expect("id").to_owned();

    let code = last_code(&e164);
    let wrong = otp_tests::wrong_code_for(&code);
    let verify = |otp: &str| {
        crate::bizmagnets::verify_request(&id, &client.api_key, &crate::bizmagnets::verify_body(&national, otp))
    };
    let ((status, _, _), usage) = metered(&deployment, call_verify(&deployment, verify(wrong))).await;
    assert_eq!(status, 403);
    assert_eq!(usage, expected(&[(BATCH, 1), (UPDATE, 2)], 1, 1));
    let ((status, _, _), usage) = metered(&deployment, call_verify(&deployment, verify(&code))).await;
    assert_eq!(status, 200);
    assert_eq!(usage, expected(&[(BATCH, 1), (UPDATE, 5), CONVERTED], 2, 2));
}

#[tokio::test]
async fn zap_generate_and_verify() {
    let (deployment, client) = crate::zap::zap().await;
    let address = fresh_email();
    let body = json!({"email": address, "userId": "metered"});
    let generate = crate::zap::request("/v1/otp", Some(&client.api_key), &body);
    let ((status, _, _), usage) = metered(&deployment, call_generate(&deployment, generate)).await;
    assert_eq!(status, 200);
    assert_eq!(
        usage,
        expected(&[(BATCH, 1), (UPDATE, 2), (PUT, 1), (EMAIL, 1), RECORDED], 2, 3)
    );

    let code = last_email_code(&address);
    let wrong = otp_tests::wrong_code_for(&code);
    let verify = |otp: &str| {
        crate::zap::request(
            "/v1/otp/verify",
            Some(&client.api_key),
            &json!({"email": address, "userId": "metered", "otp": otp}),
        )
    };
    let ((status, _, _), usage) = metered(&deployment, call_verify(&deployment, verify(wrong))).await;
    assert_eq!(status, 400);
    assert_eq!(usage, expected(&[(BATCH, 1), (UPDATE, 2)], 1, 1));
    let ((status, _, _), usage) = metered(&deployment, call_verify(&deployment, verify(&code))).await;
    assert_eq!(status, 200);
    assert_eq!(
        usage,
        expected(&[(BATCH, 1), (UPDATE, 3), (TRANSACT, 1), CONVERTED], 2, 2)
    );
}

#[tokio::test]
async fn bridgekeeper_sends_and_verifies() {
    use crate::bridgekeeper::{SEND, UPDATE as UPDATE_WITH_OTP, VERIFY, request, with_user};
    let (deployment, _, phone, email) = with_user("metered").await;

    // A known user's phone, no session: the registry read beside the budgets.
    let body = json!({"phone-number": phone}).to_string();
    let ((status, _, _), usage) = metered(
        &deployment,
        call_send_otp(&deployment, request(SEND, None, None, &body)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        usage,
        expected(&[(BATCH, 1), (UPDATE, 4 + SPEND), (PUT, 1), (SMS, 1), RECORDED], 2, 3)
    );

    // Nobody's address: the same first round trip, and nothing after it.
    let nobody = json!({"email": fresh_email()}).to_string();
    let ((status, _, _), usage) = metered(
        &deployment,
        call_send_otp(&deployment, request(SEND, None, None, &nobody)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(usage, expected(&[(BATCH, 1), (UPDATE, 2)], 1, 1));

    let code = last_code(&phone);
    let wrong = otp_tests::wrong_code_for(&code);
    let guess = |otp: &str| {
        request(
            VERIFY,
            None,
            None,
            &json!({"phone-number": phone, "otp": otp}).to_string(),
        )
    };
    let ((status, _, _), usage) = metered(&deployment, call_verify(&deployment, guess(wrong))).await;
    assert_eq!(status, 401);
    assert_eq!(usage, expected(&[(UPDATE, 2)], 1, 1));
    let ((status, _, _), usage) = metered(&deployment, call_verify(&deployment, guess(&code))).await;
    assert_eq!(status, 200);
    assert_eq!(usage, expected(&[(UPDATE, 5), CONVERTED], 2, 2));

    // A pending second factor naming its phone on record: the record is read beside the
    // budgets, so a send's two round trips; naming another phone, the first alone.
    deployment.clock.advance(30);
    let pending = format!("tfa-auth={}", otp_tests::session_token("metered", Some("pending")));
    let ((status, _, _), usage) = metered(
        &deployment,
        call_send_otp(&deployment, request(SEND, Some(&pending), None, &body)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        usage,
        expected(&[(BATCH, 1), (UPDATE, 4 + SPEND), (PUT, 1), (SMS, 1), RECORDED], 2, 3)
    );
    let elsewhere = json!({"phone-number": fresh_phone().1}).to_string();
    let ((status, _, _), usage) = metered(
        &deployment,
        call_send_otp(&deployment, request(SEND, Some(&pending), None, &elsewhere)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(usage, expected(&[(BATCH, 1), (UPDATE, 4 + SPEND)], 1, 1));

    // In a session, the destination is the one on record: it is read first, so this
    // send takes one more round trip than the others.
    let cookie = format!("qt-auth={}", full_session("metered"));
    let ((status, _, _), usage) = metered(
        &deployment,
        call_send_otp(&deployment, request(SEND, Some(&cookie), None, "{}")),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        usage,
        expected(&[(BATCH, 2), (UPDATE, 2), (PUT, 1), (EMAIL, 1), RECORDED], 3, 4)
    );
    assert!(!otp_tests::emails_to(&email).is_empty());

    // Both mediums: the two contacts are read in one round trip, the two sends go together.
    deployment.clock.advance(30);
    let both = json!({"mediums": ["email", "phone-number"]}).to_string();
    let ((status, _, _), usage) = metered(
        &deployment,
        call_send_otp(&deployment, request(SEND, Some(&cookie), None, &both)),
    )
    .await;
    assert_eq!(status, 200);
    // One for both contacts and two for the sends, which overlap (so possibly fewer);
    // reading the contacts one by one would make four.
    assert!(usage.dynamodb_round_trips <= 3, "{usage:?}");
    let deliveries: Vec<&String> = usage.requests.iter().filter(|r| !r.starts_with("dynamodb:")).collect();
    assert_eq!(deliveries, [EMAIL, SMS], "{usage:?}");

    // update-with-otp, as the vendor's client proves a new number: the send in the session,
    // then a wrong code in one round trip and the right one, with its link, in two.
    let (_, new_phone) = fresh_phone();
    let body = json!({"phone-number": new_phone}).to_string();
    let ((status, _, _), usage) = metered(
        &deployment,
        call_send_otp(&deployment, request(SEND, Some(&cookie), None, &body)),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        usage,
        expected(&[(BATCH, 1), (UPDATE, 4 + SPEND), (PUT, 1), (SMS, 1), RECORDED], 2, 3)
    );
    let code = last_code(&new_phone);
    let wrong = otp_tests::wrong_code_for(&code);
    let update = |otp: &str| {
        request(
            UPDATE_WITH_OTP,
            Some(&cookie),
            None,
            &json!({"otp": otp, "user": {"phone-number": new_phone}}).to_string(),
        )
    };
    let ((status, _, _), usage) = metered(&deployment, call_verify(&deployment, update(wrong))).await;
    assert_eq!(status, 401);
    assert_eq!(usage, expected(&[(BATCH, 1), (UPDATE, 3)], 1, 1));
    let ((status, _, _), usage) = metered(&deployment, call_verify(&deployment, update(&code))).await;
    assert_eq!(status, 200);
    assert_eq!(
        usage,
        expected(&[(BATCH, 1), (UPDATE, 6), (TRANSACT, 1), CONVERTED], 2, 2)
    );
}

#[tokio::test]
async fn bizmagnets_email_configurations_count_the_same() {
    let deployment = Deployment::new().await;
    let client = deployment.client().await;
    let uid = deployment.config(&client, Channel::Email, 8, 600, "{code}").await;
    let address = fresh_email();
    let send = crate::bizmagnets::send_request(&uid, &client.api_key, &json!({"email": address}));
    let ((status, _, _), usage) = metered(&deployment, call_send_otp(&deployment, send)).await;
    assert_eq!(status, 201);
    // An address has no number range.
    assert_eq!(
        usage,
        expected(&[(BATCH, 1), (UPDATE, 2), (TRANSACT, 1), (EMAIL, 1), RECORDED], 2, 3)
    );
}

#[tokio::test]
async fn twilio_creates_and_checks() {
    let by_auth_token = crate::twilio::Service::new(Channel::Sms).await;
    twilio_counts(&by_auth_token).await;
    // An API key costs what the auth token does: the client's one read checks either.
    let by_api_key = crate::twilio::Service::with_api_key(Channel::Sms).await;
    twilio_counts(&by_api_key).await;
}

async fn twilio_counts(service: &crate::twilio::Service) {
    let deployment = &service.deployment;
    let (_, phone) = fresh_phone();
    let ((status, created, _), usage) = metered(deployment, service.create(&phone, "sms")).await;
    assert_eq!(status, 201);
    let sid = created["sid"].as_str().expect("a sid").to_owned();
    // Credentials, configuration, budgets and the challenge at once; the delivery; then
    // the challenge and its sid together.
    assert_eq!(
        usage,
        expected(
            &[(BATCH, 1), (UPDATE, 4 + SPEND), (TRANSACT, 1), (SMS, 1), RECORDED],
            2,
            3
        )
    );
    let code = last_code(&phone);
    let wrong = otp_tests::wrong_code_for(&code);
    let ((status, _, _), usage) = metered(deployment, service.check(("To", &phone), wrong)).await;
    assert_eq!(status, 200);
    assert_eq!(usage, expected(&[(BATCH, 1), (UPDATE, 2)], 1, 1));
    // By sid: the sid's destination beside the credentials, then the attempt, whose write
    // reads the challenge it counts on (or as it stood, when it refuses).
    let ((status, _, _), usage) = metered(deployment, service.check(("VerificationSid", &sid), wrong)).await;
    assert_eq!(status, 200);
    assert_eq!(usage, expected(&[(BATCH, 1), (UPDATE, 2)], 2, 2));
    let ((status, _, _), usage) = metered(deployment, service.check(("To", &phone), &code)).await;
    assert_eq!(status, 200);
    assert_eq!(usage, expected(&[(BATCH, 1), (UPDATE, 5), CONVERTED], 2, 2));
}
