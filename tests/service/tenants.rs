//! Budgets per tenant (docs/security.md, "Whose budgets"): the attacks of the review that found every
//! per-destination budget shared by all the callers of a deployment. Nothing a request
//! does, anonymous or with failed credentials, spends what another tenant's users need.

use std::sync::Arc;

use otp_shared::clock::Clock;
use otp_shared::ports::{Channel, Permission};
use otp_tests::proxy::AwsProxy;
use otp_tests::{
    Deployment, Endpoints, api_event, emails_to, fresh_email, fresh_phone, last_code, local_aws, sms_to, user_token,
};
use serde_json::{Value, json};

use crate::bridgekeeper::{SEND, VERIFY};
use crate::twilio::Service;
use crate::*;

/// A slow link to the table: a round trip takes this long each way.
const LINK: std::time::Duration = std::time::Duration::from_millis(300);

/// An address no test's requests come from but these.
const ELSEWHERE: &str = "198.51.100.7";

/// A deployment with a Twilio service (its client's SMS configuration).
async fn twilio_service(deployment: Deployment) -> Service {
    let client = deployment.client().await;
    let sid = deployment
        .config(&client, Channel::Sms, 6, 600, "Your {sender} code is {code}")
        .await;
    Service::of(deployment, client, sid)
}

/// A Bridgekeeper request without a session, from `source_ip`.
fn anonymous(path: &str, body: &Value, source_ip: &str) -> lambda_http::Request {
    lambda_http::request::from_str(&api_event(path, &[], &body.to_string(), source_ip)).expect("a valid event")
}

/// A BizMagnets sendOTP with `key`, from `source_ip`.
fn bizmagnets_send(uid: &str, key: &str, body: &Value, source_ip: &str) -> lambda_http::Request {
    let headers = [("content-type", "application/json"), ("x-api-key", key)];
    let event = api_event(&format!("/otp/{uid}/sendOTP"), &headers, &body.to_string(), source_ip);
    lambda_http::request::from_str(&event).expect("a valid event")
}

/// A BizMagnets client whose address may send twice an hour, its SMS configuration, a
/// number and a send body for it, and a key that claims the client with a wrong secret.
struct Victim {
    deployment: Deployment,
    victim: otp_tests::TestClient,
    uid: String,
    phone: String,
    body: Value,
    junk: String,
}

async fn victim() -> Victim {
    let deployment = Deployment::with(&[("OTP_SENDS_PER_IP_PER_HOUR", "2")], Endpoints::default()).await;
    let victim = deployment.client_with(&[Permission::Bizmagnets]).await;
    let uid = deployment
        .config(&victim, Channel::Sms, 6, 300, "{code} is your {sender} code")
        .await;
    let (national, phone) = fresh_phone();
    let body = json!({"name": "Asha", "mobileNumber": national, "countryCode": "+91"});
    let junk = format!("{}.{}", victim.id, "0".repeat(64));
    Victim {
        deployment,
        victim,
        uid,
        phone,
        body,
        junk,
    }
}

/// `count` sendOTPs with `junk` credentials from elsewhere, each refused (401).
async fn failed_claims(deployment: &Deployment, uid: &str, junk: &str, body: &Value, count: usize) {
    for _ in 0..count {
        let (status, _, _) = call_send_otp(deployment, bizmagnets_send(uid, junk, body, ELSEWHERE)).await;
        assert_eq!(status, 401);
    }
}

/// The admissions a sliding budget holds (its non-free slots), for the item of `rule`
/// whose key names `naming`.
async fn admissions(deployment: &Deployment, rule: &str, naming: &str) -> usize {
    let prefix = format!("SLIDE#{rule}#");
    let Some(item) = deployment
        .item_where(|pk| pk.starts_with(&prefix) && pk.contains(naming))
        .await
    else {
        return 0;
    };
    item.iter()
        .filter(|(name, value)| {
            name.starts_with('n') && name[1..].parse::<u32>().is_ok() && value.as_n().is_ok_and(|n| n != "0")
        })
        .count()
}

#[tokio::test]
async fn anonymous_wrong_codes_lock_no_tenant_out_of_a_number() {
    let service = twilio_service(Deployment::new().await).await;
    let deployment = &service.deployment;
    let (national, phone) = fresh_phone();
    // Eleven anonymous guesses at a number nobody sent a code to: Bridgekeeper's public
    // spends its own budget for the number, and refuses the eleventh.
    let guess = json!({"phone-number": phone, "otp": "123456"});
    for _ in 0..10 {
        let (status, _, _) = call_verify(deployment, anonymous(VERIFY, &guess, ELSEWHERE)).await;
        assert_eq!(status, 401, "no code was sent: Invalid OTP");
    }
    let (status, _, _) = call_verify(deployment, anonymous(VERIFY, &guess, ELSEWHERE)).await;
    assert_eq!(status, 429, "the public's budget for the number is spent");

    // The Twilio client's user gets a code and checks it.
    let (status, body, _) = service.create(&phone, "sms").await;
    assert_eq!(status, 201, "{body}");
    let (status, body, _) = service.check(("To", &phone), &last_code(&phone)).await;
    assert_eq!((status, &body["status"]), (200, &json!("approved")), "{body}");

    // And so does a KGen user, signed in with a JWT.
    let token = user_token("kgen-user");
    let (status, body, _) = register_fe(deployment, &token, &national).await;
    assert_eq!(status, 200, "{body}");
    let code = last_code(&phone);
    let (status, body, _) = verify_fe(deployment, &token, &national, &body["authCode"], json!(code)).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test]
async fn silent_anonymous_sends_spend_nothing_a_client_needs() {
    let service = twilio_service(Deployment::new().await).await;
    let deployment = &service.deployment;
    let (_, phone) = fresh_phone();
    // Bridgekeeper without a session, to a number of no user: nothing is delivered, and
    // the answer is the same as for a user's number.
    let send = json!({"phone-number": phone});
    let (status, _, _) = call_send_otp(deployment, anonymous(SEND, &send, ELSEWHERE)).await;
    assert_eq!(status, 200);
    let (status, _, retry_after) = call_send_otp(deployment, anonymous(SEND, &send, ELSEWHERE)).await;
    assert_eq!(
        (status, retry_after.as_deref()),
        (429, Some("30")),
        "the public's cooldown"
    );
    assert!(sms_to(&phone).is_empty());

    // The client's own send to that number goes out at once.
    let (status, body, _) = service.create(&phone, "sms").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(sms_to(&phone).len(), 1);
}

#[tokio::test]
async fn anonymous_sends_fill_no_other_tenants_number_range() {
    let deployment = Deployment::with(&[("OTP_SENDS_PER_NUMBER_RANGE_PER_HOUR", "3")], Endpoints::default()).await;
    // +91 9876 5xxxxx: one range of four national digits. Silent sends from a few
    // addresses fill Bridgekeeper's public range budget...
    for (i, national) in ["9876510001", "9876510002", "9876510003"].into_iter().enumerate() {
        let send = json!({"phone-number": format!("+91{national}")});
        let source = format!("198.51.100.{}", 20 + i);
        let (status, _, _) = call_send_otp(&deployment, anonymous(SEND, &send, &source)).await;
        assert_eq!(status, 200, "{national}");
    }
    let send = json!({"phone-number": "+919876510004"});
    let (status, _, _) = call_send_otp(&deployment, anonymous(SEND, &send, "198.51.100.30")).await;
    assert_eq!(status, 429, "the public's range budget is spent");

    // ...and KGen's users of an issuer still get codes there: their budget is their own.
    let token = user_token("in-range");
    let (status, body, _) = register_fe(&deployment, &token, "9876510005").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(sms_to("+919876510005").len(), 1);
}

#[tokio::test]
async fn failed_credentials_spend_nothing_of_the_client_they_name() {
    let Victim {
        deployment,
        victim,
        uid,
        phone,
        body,
        junk,
    } = victim().await;
    failed_claims(&deployment, &uid, &junk, &body, 3).await;
    // The client's budgets are untouched: its own send goes out at once, counted once.
    let (status, answer, _) = call_send_otp(
        &deployment,
        bizmagnets_send(&uid, &victim.api_key, &body, "203.0.113.50"),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(sms_to(&phone).len(), 1);
    let window = deployment.clock.now().div_euclid(3_600);
    let counted = deployment
        .item_where(|pk| pk == format!("COUNT#send-client#{}#{window}", victim.id))
        .await
        .expect("the client's counter");
    assert_eq!(number(&counted, "n"), 1, "only the client's own send counts");

    // The failed claims spent their address's budget instead, as anonymous sends do.
    let stranger = json!({"phone-number": fresh_phone().1});
    let (status, _, retry_after) = call_send_otp(&deployment, anonymous(SEND, &stranger, ELSEWHERE)).await;
    assert_eq!((status, retry_after.as_deref()), (429, Some("3600")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_credentials_give_back_exactly_when_a_real_request_came_between() {
    let deployment = Deployment::new().await;
    let victim = deployment.client_with(&[Permission::Bizmagnets]).await;
    let uid = deployment
        .config(&victim, Channel::Sms, 6, 300, "{code} is your {sender} code")
        .await;
    let (national, phone) = fresh_phone();
    let (status, sent, _) = call_send_otp(
        &deployment,
        crate::bizmagnets::send_request(&uid, &victim.api_key, &crate::bizmagnets::mobile(&national)),
    )
    .await;
    assert_eq!(status, 201, "{sent}");
    let id = sent["id"].as_str().expect("an id").to_owned();
    let wrong = crate::bizmagnets::verify_body(&national, otp_tests::wrong_code_for(&last_code(&phone)));

    // A junk verify through a slow link to the table: its budget is taken at once and
    // given back only after its credentials fail, a round trip of the link later...
    let link = AwsProxy::start(local_aws().endpoint.clone(), LINK)
        .await
        .expect("a proxy");
    let slow = Arc::new(
        deployment
            .sharing_table(Endpoints {
                dynamodb: Some(link.endpoint()),
                ..Endpoints::default()
            })
            .await,
    );
    let junk = format!("{}.{}", victim.id, "0".repeat(64));
    let junk_verify = {
        let (slow, request) = (Arc::clone(&slow), crate::bizmagnets::verify_request(&id, &junk, &wrong));
        tokio::spawn(async move { call_verify(&slow, request).await.0 })
    };
    // ...and in between, a second later, the client's own wrong code takes the same budget.
    tokio::time::sleep(LINK * 3 / 2).await;
    deployment.clock.advance(1);
    let (status, _, _) = call_verify(
        &deployment,
        crate::bizmagnets::verify_request(&id, &victim.api_key, &wrong),
    )
    .await;
    assert_eq!(status, 403, "a wrong code, compared");
    assert_eq!(junk_verify.await.expect("the junk verify ran"), 401);
    assert_eq!(
        admissions(&deployment, "guess", &phone[1..]).await,
        1,
        "the client's failure budget holds its own failure and nothing of the junk"
    );
    assert_eq!(
        deployment.attempts_on(&phone).await,
        1,
        "nor did the junk keep an attempt"
    );
}

#[tokio::test]
async fn a_users_failures_against_no_challenge_spend_only_their_own_budget() {
    let deployment = Deployment::new().await;
    let (national, _) = fresh_phone();
    // A user of the same issuer guesses at a number they never had a code for.
    let prowler = user_token("prowler");
    for _ in 0..10 {
        let (status, _, _) = verify_fe(&deployment, &prowler, &national, &json!("1234"), json!("123456")).await;
        assert_eq!(status, 410, "no challenge of theirs");
    }
    let (status, _, _) = verify_fe(&deployment, &prowler, &national, &json!("1234"), json!("123456")).await;
    assert_eq!(status, 429, "their own failure budget is spent");

    // The number's owner, of the same issuer, proves it.
    let owner = user_token("owner");
    let (status, body, _) = register_fe(&deployment, &owner, &national).await;
    assert_eq!(status, 200, "{body}");
    let code = last_code(&format!("+91{national}"));
    let (status, answer, _) = verify_fe(&deployment, &owner, &national, &body["authCode"], json!(code)).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn one_mailbox_has_one_budget_whatever_address_reaches_it() {
    let (deployment, client) = crate::zap::zap().await;
    let local = format!("asha{}", uuid::Uuid::new_v4().simple());
    let tagged = format!("{local}+news@gmail.com");
    otp_tests::audit::note("email address", &tagged);
    let send = |address: &str| {
        crate::zap::request(
            "/v1/otp",
            Some(&client.api_key),
            &json!({"email": address, "userId": "asha"}),
        )
    };
    let (status, _, _) = call_generate(&deployment, send(&tagged)).await;
    assert_eq!(status, 200);
    assert_eq!(emails_to(&tagged).len(), 1, "delivered to the address as given");
    // The same Gmail mailbox, dotted and at googlemail.com: the same cooldown.
    let dotted = format!("{}.{}@googlemail.com", &local[..2], &local[2..]);
    otp_tests::audit::note("email address", &dotted);
    let (status, _, retry_after) = call_generate(&deployment, send(&dotted)).await;
    assert_eq!((status, retry_after.as_deref()), (429, Some("30")));
    assert!(emails_to(&dotted).is_empty());
    // Another provider's mailbox with a tag: one budget too.
    let elsewhere = fresh_email();
    let (status, _, _) = call_generate(&deployment, send(&elsewhere)).await;
    assert_eq!(status, 200);
    let (user, domain) = elsewhere.split_once('@').expect("an address");
    let (status, _, _) = call_generate(&deployment, send(&format!("{user}+x@{domain}"))).await;
    assert_eq!(status, 429);
}

#[tokio::test]
async fn an_address_past_its_failed_claims_touches_nothing_of_the_client() {
    let Victim {
        deployment,
        victim,
        uid,
        phone,
        body,
        junk,
    } = victim().await;
    // Two failed claims fit the address's budget; the third is past it.
    failed_claims(&deployment, &uid, &junk, &body, 3).await;
    // From then on a claim from that address is checked first: it reads the client and
    // spends the address's budget, and writes nothing of the client's.
    let (answer, usage) = crate::round_trips::metered(
        &deployment,
        call_send_otp(&deployment, bizmagnets_send(&uid, &junk, &body, ELSEWHERE)),
    )
    .await;
    assert_eq!(answer.0, 401);
    let expected =
        crate::round_trips::expected(&[(crate::round_trips::BATCH, 1), (crate::round_trips::UPDATE, 1)], 2, 2);
    assert_eq!(usage, expected);
    // The client's own request from its own address goes out, and its real claims were
    // never held back.
    let (status, answer, _) = call_send_otp(
        &deployment,
        bizmagnets_send(&uid, &victim.api_key, &body, "203.0.113.50"),
    )
    .await;
    assert_eq!(status, 201, "{answer}");
    assert_eq!(sms_to(&phone).len(), 1);
}

#[tokio::test]
async fn a_user_past_their_own_failures_touches_nothing_of_the_issuers() {
    let deployment = Deployment::new().await;
    let (national, _) = fresh_phone();
    let prowler = user_token("flooder");
    let auth_code = json!("1234");
    let guess = || verify_fe(&deployment, &prowler, &national, &auth_code, json!("123456"));
    for _ in 0..10 {
        assert_eq!(guess().await.0, 410);
    }
    assert_eq!(guess().await.0, 429, "the user's own budget is spent");
    // From then on the user's own budget is settled first, alone: nothing of the
    // issuer's budget for the number is taken, even for a round trip.
    let (answer, usage) = crate::round_trips::metered(&deployment, guess()).await;
    assert_eq!(answer.0, 429);
    assert_eq!(
        usage,
        crate::round_trips::expected(&[(crate::round_trips::UPDATE, 1)], 1, 1)
    );
    assert_eq!(
        admissions(&deployment, "guess", &format!("91{national}")).await,
        0,
        "the issuer's budget for the number holds nothing of theirs"
    );
}
