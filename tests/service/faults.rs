//! Backends failing as AWS fails (refused connections, hangs, throttling, 500s), one
//! service at a time behind a fault-injecting proxy, under every function that calls it:
//! a clean 5xx in the dialect's shape with `Retry-After`, within the request's time
//! bound, saying nothing internal; no code verifiable that was not delivered; budgets and
//! attempts exact afterwards; the next request after recovery works.

use std::time::{Duration, Instant};

use otp_shared::backend::Deadlines;
use otp_shared::policy::Policy;
use otp_shared::ports::Channel;
use otp_tests::proxy::{AwsProxy, Fault, Matching};
use otp_tests::{
    CLOSED_ENDPOINT, Deployment, Endpoints, TestClient, emails_to, fresh_email, fresh_phone, kgen_request, last_code,
    local_aws, sms_to, user_token,
};
use serde_json::json;

use crate::*;

/// The functions' own deadline for the service under fault (the others keep the test
/// support's patient ones: the local AWS queues parallel tests' requests).
fn production_deadline(service: &str) -> [(&'static str, String); 1] {
    let defaults = Deadlines::default();
    if service == "dynamodb" {
        [("OTP_STORE_DEADLINE_MS", defaults.store.as_millis().to_string())]
    } else {
        [("OTP_DELIVERY_DEADLINE_MS", defaults.delivery.as_millis().to_string())]
    }
}

/// How soon a request must answer when `service` fails: a store fault after its first
/// round trip and the give-back (two store deadlines), a delivery fault after the
/// delivery's deadline; with a second for the local AWS's own round trips.
fn bound(service: &str) -> Duration {
    let deadlines = Deadlines::default();
    let waited = if service == "dynamodb" {
        deadlines.store * 2
    } else {
        deadlines.delivery
    };
    waited + Duration::from_secs(1)
}

/// The `Retry-After` of a request the store failed with `fault`: soon after throttling
/// (an answer, or keys left unprocessed), later after an outage.
fn store_retry_after(fault: Fault) -> u64 {
    if matches!(fault, Fault::Throttle | Fault::Unprocessed) {
        2
    } else {
        5
    }
}

/// The destination's cooldown (the default policy): a failed delivery still counts, so
/// its 503 says to come back after it.
fn cooldown() -> u64 {
    Policy::default().send_cooldown.as_secs()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    Register,
    Resend,
    Verify,
    SendOtp,
    Generate,
}

/// A deployment whose `service` sits behind a fault proxy (`faulted`), another on the
/// same table and clock straight on the local AWS (`patient`: it sets up and checks), an
/// API client and its SMS and email configurations.
struct Rig {
    faulted: Deployment,
    patient: Deployment,
    proxy: AwsProxy,
    client: TestClient,
    sms_config: String,
    email_config: String,
}

/// `deadlines`: the faulted deployment's, the functions' own when a test measures time.
async fn rig_with(service: &str, deadlines: &[(&str, &str)]) -> Rig {
    let proxy = AwsProxy::start(local_aws().endpoint.clone(), Duration::ZERO)
        .await
        .expect("the proxy listens");
    let mut endpoints = Endpoints::default();
    match service {
        "dynamodb" => endpoints.dynamodb = Some(proxy.endpoint()),
        "sns" => endpoints.sns = Some(proxy.endpoint()),
        _ => endpoints.sesv2 = Some(proxy.endpoint()),
    }
    let patient = Deployment::new().await;
    let faulted = patient.sharing_table_with(deadlines, endpoints).await;
    let client = patient.client().await;
    let sms_config = patient.config(&client, Channel::Sms, 6, 300, "{code}").await;
    let email_config = patient.config(&client, Channel::Email, 6, 300, "{code}").await;
    Rig {
        faulted,
        patient,
        proxy,
        client,
        sms_config,
        email_config,
    }
}

/// A rig whose faulted service has the functions' own deadline.
async fn rig(service: &str) -> Rig {
    let [(name, value)] = production_deadline(service);
    rig_with(service, &[(name, value.as_str())]).await
}

/// A destination of the channel: `(as the request gives it, as messages are addressed)`.
fn destination(channel: Channel) -> (String, String) {
    match channel {
        Channel::Sms | Channel::WhatsApp | Channel::Call => fresh_phone(),
        Channel::Email => {
            let address = fresh_email();
            (address.clone(), address)
        }
    }
}

/// The messages delivered to a destination so far.
fn delivered(to: &str) -> usize {
    if to.starts_with('+') {
        sms_to(to).len()
    } else {
        emails_to(to).len()
    }
}

/// The function's send to a destination (KGen's register and resend on the frontend,
/// BizMagnets' sendOTP, ZAP's generate), by the channel asked.
async fn send(
    rig: &Rig,
    deployment: &Deployment,
    function: Function,
    channel: Channel,
    destination: &(String, String),
    user: &str,
) -> Answer {
    let (given, to) = (destination.0.as_str(), destination.1.as_str());
    match function {
        Function::Register | Function::Resend | Function::Verify => {
            let route = if function == Function::Resend {
                "resend"
            } else {
                "register"
            };
            let request = kgen_request(&format!("{FE}/{route}"), &user_token(user), None, &phone_body(given));
            if function == Function::Resend {
                call_resend(deployment, request).await
            } else {
                call_register(deployment, request).await
            }
        }
        Function::SendOtp => {
            let (uid, body) = match channel {
                Channel::Sms => (&rig.sms_config, crate::bizmagnets::mobile(given)),
                Channel::Email => (&rig.email_config, json!({"email": given})),
                Channel::WhatsApp => panic!("WhatsApp's faults are in whatsapp.rs"),
                Channel::Call => panic!("calls' faults are in calls.rs"),
            };
            let request = crate::bizmagnets::send_request(uid, &rig.client.api_key, &body);
            call_send_otp(deployment, request).await
        }
        Function::Generate => {
            let field = if channel == Channel::Sms {
                "phoneNumber"
            } else {
                "email"
            };
            // ZAP takes a phone number in E.164.
            let body = json!({field: to, "userId": user});
            call_generate(
                deployment,
                crate::zap::request("/v1/otp", Some(&rig.client.api_key), &body),
            )
            .await
        }
    }
}

/// Whether an answer is the function's success.
fn succeeded(function: Function, answer: &Answer) -> bool {
    let expected = if function == Function::SendOtp { 201 } else { 200 };
    answer.0 == expected
}

/// The failure every dialect gives for a backend fault, and nothing else: no detail
/// of what failed or where.
fn assert_clean_failure(function: Function, answer: &Answer, retry_after: u64, context: &str) {
    let (status, body, header) = answer;
    assert_eq!(
        header.as_deref(),
        Some(retry_after.to_string().as_str()),
        "{context}: {body}"
    );
    match function {
        Function::Register | Function::Resend | Function::Verify => {
            assert_eq!(
                (*status, body),
                (503, &json!({"message": "SERVICE_UNAVAILABLE"})),
                "{context}"
            );
        }
        Function::SendOtp => {
            assert_eq!(*status, 503, "{context}: {body}");
            let keys: Vec<&String> = body.as_object().expect("an object").keys().collect();
            assert_eq!(keys, ["error", "path", "status", "timestamp"], "{context}");
            assert_eq!(
                (&body["status"], &body["error"]),
                (&json!(503), &json!("Service Unavailable"))
            );
        }
        Function::Generate => {
            // ZAP's document answers every fault with 500.
            let expected = json!({"success": false, "data": "An error occurred processing the request"});
            assert_eq!((*status, body), (500, &expected), "{context}");
        }
    }
}

/// A send under `fault` of the service behind the proxy, then the same send once it heals.
async fn send_under_fault(rig: &Rig, service: &str, function: Function, channel: Channel, fault: Fault) {
    let context = format!("{service} {fault:?} under {function:?} ({channel:?})");
    let destination = destination(channel);
    let to = destination.1.clone();
    let user = format!("faulted-{}", uuid::Uuid::new_v4().simple());

    rig.proxy.fail(fault, Matching::every());
    let started = Instant::now();
    let answer = send(rig, &rig.faulted, function, channel, &destination, &user).await;
    let took = started.elapsed();
    rig.proxy.heal();

    let store_fault = service == "dynamodb";
    let retry_after = if store_fault {
        store_retry_after(fault)
    } else {
        // A failed delivery still spent the destination's budget (docs/security.md).
        cooldown()
    };
    assert_clean_failure(function, &answer, retry_after, &context);
    assert!(
        took < bound(service),
        "{context}: answered after {took:?}, the bound is {:?}",
        bound(service)
    );
    assert_eq!(delivered(&to), 0, "{context}: nothing was delivered");
    assert!(
        rig.patient
            .item_where(|pk| pk.starts_with("CHALLENGE#") && pk.ends_with(&format!("#{}", to.to_lowercase())))
            .await
            .is_none(),
        "{context}: no challenge exists, so no code is verifiable"
    );

    // A store that failed took nothing: the next send goes at once. A failed delivery
    // counted: the next goes after the cooldown.
    if !store_fault {
        rig.patient.clock.advance(cooldown() as i64);
    }
    let answer = send(rig, &rig.patient, function, channel, &destination, &user).await;
    assert!(succeeded(function, &answer), "{context}: after recovery: {answer:?}");
    assert_eq!(
        delivered(&to),
        1,
        "{context}: one message, from the send that succeeded"
    );
}

/// The sends of each function that reaches `service`, by channel.
fn senders(service: &str) -> Vec<(Function, Channel)> {
    match service {
        "dynamodb" => vec![
            (Function::Register, Channel::Sms),
            (Function::Resend, Channel::Sms),
            (Function::SendOtp, Channel::Sms),
            (Function::Generate, Channel::Email),
        ],
        "sns" => vec![
            (Function::Register, Channel::Sms),
            (Function::Resend, Channel::Sms),
            (Function::SendOtp, Channel::Sms),
            (Function::Generate, Channel::Sms),
        ],
        _ => vec![
            (Function::SendOtp, Channel::Email),
            (Function::Generate, Channel::Email),
        ],
    }
}

async fn every_fault_of(service: &str) {
    let rig = rig(service).await;
    let faults = if service == "dynamodb" {
        &Fault::DYNAMODB[..]
    } else {
        &Fault::ALL[..]
    };
    for &fault in faults {
        for (function, channel) in senders(service) {
            send_under_fault(&rig, service, function, channel, fault).await;
        }
    }
}

#[tokio::test]
async fn dynamodb_faults_under_every_send() {
    every_fault_of("dynamodb").await;
}

#[tokio::test]
async fn sns_faults_under_every_sms_send() {
    every_fault_of("sns").await;
}

#[tokio::test]
async fn sesv2_faults_under_every_email_send() {
    every_fault_of("sesv2").await;
}

#[tokio::test]
async fn dynamodb_faults_under_verify() {
    let rig = rig("dynamodb").await;
    for fault in Fault::DYNAMODB {
        let context = format!("dynamodb {fault:?} under verify");
        let (national, e164) = fresh_phone();
        let user = format!("verifier-{national}");
        let token = user_token(&user);
        let (status, body, _) = register_fe(&rig.patient, &token, &national).await;
        assert_eq!(status, 200, "{body}");
        let auth_code = body["authCode"].clone();
        let code = last_code(&e164);

        rig.proxy.take();
        rig.proxy.fail(fault, Matching::every());
        let started = Instant::now();
        let answer = verify_fe(&rig.faulted, &token, &national, &auth_code, json!(code)).await;
        let took = started.elapsed();
        rig.proxy.heal();
        if fault == Fault::Unprocessed {
            let batches = rig.proxy.take();
            let batches = batches.iter().filter(|seen| seen.operation == "dynamodb:BatchGetItem");
            assert_eq!(
                batches.count(),
                3,
                "{context}: the keys left were asked for again, twice"
            );
        }
        assert_clean_failure(Function::Verify, &answer, store_retry_after(fault), &context);
        assert!(took < bound("dynamodb"), "{context}: answered after {took:?}");

        // Nothing was counted: the attempt and the failure budget are as before.
        assert_eq!(rig.patient.attempts_on(&e164).await, 0, "{context}");
        let wrong = otp_tests::wrong_code_for(&code);
        let (status, _, _) = verify_fe(&rig.patient, &token, &national, &auth_code, json!(wrong)).await;
        assert_eq!(status, 400, "{context}");
        assert_eq!(rig.patient.attempts_on(&e164).await, 1, "{context}");
        let (status, _, _) = verify_fe(&rig.patient, &token, &national, &auth_code, json!(code)).await;
        assert_eq!(status, 200, "{context}: the code works after recovery");
    }
}

#[tokio::test]
async fn a_fault_between_a_sends_two_writes_leaves_no_live_undelivered_code() {
    let rig = rig_with("dynamodb", &[]).await;
    let (national, e164) = fresh_phone();
    let token = user_token("between-writes");

    // The first round trip passes, the SMS goes out, the write that makes it live fails.
    rig.proxy
        .fail(Fault::ServerError, Matching::operation("dynamodb:PutItem"));
    let answer = register_fe(&rig.faulted, &token, &national).await;
    rig.proxy.heal();
    // The send counted: its answer says to come back after the cooldown.
    assert_clean_failure(Function::Register, &answer, cooldown(), "the live write failing");
    assert_eq!(sms_to(&e164).len(), 1, "the message went out before the write");
    let undelivered = last_code(&e164);
    assert!(
        rig.patient.challenge_item("between-writes", &e164).await.is_none(),
        "the code it carries is not live"
    );

    rig.patient.clock.advance(cooldown() as i64);
    let (status, body, _) = register_fe(&rig.patient, &token, &national).await;
    assert_eq!(status, 200, "{body}");
    let code = last_code(&e164);
    let auth_code = body["authCode"].clone();
    if undelivered != code {
        let (status, _, _) = verify_fe(&rig.patient, &token, &national, &auth_code, json!(undelivered)).await;
        assert_eq!(status, 400, "the message of the failed send verifies nothing");
    }
    let (status, _, _) = verify_fe(&rig.patient, &token, &national, &auth_code, json!(code)).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_fault_between_a_verifys_two_writes_uses_no_code_twice() {
    let rig = rig_with("dynamodb", &[]).await;
    let (national, e164) = fresh_phone();
    let token = user_token("between-verify-writes");
    let (status, body, _) = register_fe(&rig.patient, &token, &national).await;
    assert_eq!(status, 200, "{body}");
    let auth_code = body["authCode"].clone();
    let code = last_code(&e164);

    // The attempt is counted, the code compared; the write that uses it (and links the
    // number to the user) fails.
    rig.proxy
        .fail(Fault::ServerError, Matching::operation("dynamodb:TransactWriteItems"));
    let answer = verify_fe(&rig.faulted, &token, &national, &auth_code, json!(code)).await;
    rig.proxy.heal();
    assert_clean_failure(Function::Verify, &answer, 5, "the use failing");

    let (status, _, _) = verify_fe(&rig.patient, &token, &national, &auth_code, json!(code)).await;
    assert_eq!(status, 200, "the code was not used: it still works, once");
    let (status, _, _) = verify_fe(&rig.patient, &token, &national, &auth_code, json!(code)).await;
    assert_eq!(status, 410, "and never twice");
}

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
    let (status, body, retry_after) = register_fe(&deployment, &token, &national).await;
    assert_eq!(
        (status, body, retry_after.as_deref()),
        (503, json!({"message": "SERVICE_UNAVAILABLE"}), Some("5"))
    );
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
    working.clock.advance(cooldown() as i64);
    let (status, body, _) = register_fe(&working, &token, &national).await;
    assert_eq!(status, 200, "{body}");
    let (status, _, _) = verify_fe(&working, &token, &national, &body["authCode"], json!(last_code(&e164))).await;
    assert_eq!(status, 200);
}
