//! Calls: a Twilio service made through the API speaks its code by `Channel=call`, digit by
//! digit and twice, in the chosen language, through AWS End User Messaging SMS and Voice
//! (its stand-in here), to landlines too; a language no voice speaks is 60331 (where calls
//! are placed at all: elsewhere every call is 60223); a call the
//! service refuses is a failed delivery; a deployment that names no origination identity
//! places none.

use otp_tests::{Deployment, VOICE_ORIGINATION, sms_to};
use serde_json::json;

use crate::twilio::{Service, twilio_request};
use crate::*;

/// A British landline.
const LANDLINE: &str = "+441212345678";
/// A French mobile.
const FRENCH: &str = "+33612345678";

/// A service its client made through Twilio's API, named "Acme", on `deployment`.
async fn service_on(deployment: Deployment) -> Service {
    let existing = Service::of_deployment(deployment, otp_shared::ports::Channel::Sms).await;
    let request = twilio_request("POST", "/v2/Services", existing.auth(), &[("FriendlyName", "Acme")]);
    let (status, body, _) = call_verify(&existing.deployment, request).await;
    assert_eq!(status, 201, "{body}");
    let sid = body["sid"].as_str().expect("a sid").to_owned();
    existing.with_sid(sid)
}

async fn create(service: &Service, form: &[(&str, &str)]) -> Answer {
    let path = format!("/v2/Services/{}/Verifications", service.sid);
    call_send_otp(&service.deployment, twilio_request("POST", &path, service.auth(), form)).await
}

/// The digits a call spoke, once.
fn spoken_code(spoken: &str) -> String {
    spoken
        .split(|c: char| !c.is_ascii_digit())
        .find(|run| run.len() >= 6)
        .unwrap_or_else(|| panic!("no code in {spoken:?}"))
        .to_owned()
}

#[tokio::test]
async fn a_call_speaks_the_code_twice_and_the_spoken_code_verifies() {
    let service = service_on(Deployment::new().await).await;
    let (status, body, _) = create(&service, &[("To", LANDLINE), ("Channel", "call")]).await;
    assert_eq!(
        (status, &body["channel"], &body["status"]),
        (201, &json!("call"), &json!("pending")),
        "{body}"
    );

    let calls = service.deployment.voice.accepted_for(LANDLINE);
    let [call] = calls.as_slice() else {
        panic!("one call: {calls:?}")
    };
    let code = spoken_code(&call.spoken);
    assert_eq!(
        call.spoken,
        format!("Here is your Acme verification code: {code}. Once more: {code}.")
    );
    assert_eq!(
        call.body.matches("<say-as interpret-as=\"digits\">").count(),
        2,
        "{}",
        call.body
    );
    assert_eq!(
        (call.voice_id.as_str(), call.origination_identity.as_str()),
        ("JOANNA", VOICE_ORIGINATION)
    );
    assert_eq!(
        (call.max_price_per_minute.as_deref(), call.time_to_live),
        (Some("0.10000"), Some(600))
    );
    assert!(sms_to(LANDLINE).is_empty(), "a call sends no SMS");
    assert!(service.deployment.voice.refusals().is_empty());

    let (status, body, _) = service.check(("To", LANDLINE), &code).await;
    assert_eq!(
        (status, &body["status"], &body["channel"]),
        (200, &json!("approved"), &json!("call")),
        "{body}"
    );
}

#[tokio::test]
async fn a_calls_language_follows_locale_then_country_and_one_no_voice_speaks_is_60331() {
    let service = service_on(Deployment::new().await).await;
    assert_eq!(create(&service, &[("To", FRENCH), ("Channel", "call")]).await.0, 201);
    let (_, spanish_to) = otp_tests::fresh_phone();
    let asked = [("To", spanish_to.as_str()), ("Channel", "call"), ("Locale", "es")];
    assert_eq!(create(&service, &asked).await.0, 201);
    let voice = |to: &str| {
        let calls = service.deployment.voice.accepted_for(to);
        calls.last().map(|call| (call.voice_id.clone(), call.spoken.clone()))
    };
    let (french_voice, french_words) = voice(FRENCH).expect("a call");
    assert_eq!(french_voice, "LEA");
    assert!(
        french_words.starts_with("Voici votre code de vérification Acme :"),
        "{french_words}"
    );
    assert_eq!(voice(&spanish_to).expect("a call").0, "LUCIA");

    // Hindi has a text but no voice; `xx` has neither: Twilio's 60331 for a call.
    let (_, unspoken) = otp_tests::fresh_phone();
    for tag in ["hi", "xx"] {
        let (status, body, _) = create(&service, &[("To", &unspoken), ("Channel", "call"), ("Locale", tag)]).await;
        assert_eq!((status, &body["code"]), (400, &json!(60331)), "{tag}: {body}");
    }
    assert!(service.deployment.voice.accepted_for(&unspoken).is_empty());
    // By SMS, Hindi is spoken of no voice and has its text.
    assert_eq!(
        create(&service, &[("To", &unspoken), ("Channel", "sms"), ("Locale", "hi")])
            .await
            .0,
        201
    );
}

#[tokio::test]
async fn a_landline_takes_a_call_but_no_sms() {
    let service = service_on(Deployment::new().await).await;
    let (status, body, _) = create(&service, &[("To", LANDLINE), ("Channel", "sms")]).await;
    assert_eq!((status, &body["code"]), (400, &json!(60205)), "{body}");
    assert_eq!(create(&service, &[("To", LANDLINE), ("Channel", "call")]).await.0, 201);
    // Premium numbers stay refused, by call too.
    let (status, body, _) = create(&service, &[("To", "+19002345678"), ("Channel", "call")]).await;
    assert_eq!((status, &body["code"]), (400, &json!(60200)), "{body}");
    assert!(service.deployment.voice.accepted_for("+19002345678").is_empty());
}

#[tokio::test]
async fn a_call_the_service_refuses_is_a_failed_delivery_and_nothing_verifies() {
    let service = service_on(Deployment::new().await).await;
    service.deployment.voice.opted_out(LANDLINE);
    let (status, body, retry_after) = create(&service, &[("To", LANDLINE), ("Channel", "call")]).await;
    assert_eq!((status, &body["code"]), (503, &json!(20503)), "{body}");
    assert!(retry_after.is_some());
    let (status, _, _) = service.check(("To", LANDLINE), "000000").await;
    assert_eq!(status, 404, "no verification is pending after a failed call");
}

#[tokio::test]
async fn a_deployment_that_names_no_origination_identity_places_no_calls() {
    // Its services made through the API have no call channel.
    let deployment = Deployment::with(&[("OTP_VOICE_ORIGINATION_IDENTITY", "")], Default::default()).await;
    let service = service_on(deployment).await;
    let (status, body, _) = create(&service, &[("To", LANDLINE), ("Channel", "call")]).await;
    assert_eq!((status, &body["code"]), (400, &json!(60223)), "{body}");
    // Whatever language it asks for, one no voice speaks or none at all.
    for tag in ["hi", "xx"] {
        let (status, body, _) = create(&service, &[("To", LANDLINE), ("Channel", "call"), ("Locale", tag)]).await;
        assert_eq!((status, &body["code"]), (400, &json!(60223)), "{tag}: {body}");
    }
    assert!(service.deployment.voice.accepted().is_empty());

    // A service that has one, sent through a deployment that no longer names an identity.
    let calling = service_on(Deployment::new().await).await;
    let without = calling
        .deployment
        .sharing_table_with(&[("OTP_VOICE_ORIGINATION_IDENTITY", "")], Default::default())
        .await;
    let path = format!("/v2/Services/{}/Verifications", calling.sid);
    let request = twilio_request("POST", &path, calling.auth(), &[("To", LANDLINE), ("Channel", "call")]);
    let (status, body, _) = call_send_otp(&without, request).await;
    assert_eq!((status, &body["code"]), (400, &json!(60223)), "{body}");
    assert!(without.voice.accepted().is_empty() && calling.deployment.voice.accepted().is_empty());
}

#[tokio::test]
async fn an_unreachable_voice_service_is_a_failed_delivery_that_says_when_to_come_back() {
    let deployment = Deployment::with(
        &[],
        otp_tests::Endpoints {
            sms_voice: Some(otp_tests::CLOSED_ENDPOINT.into()),
            ..Default::default()
        },
    )
    .await;
    let service = service_on(deployment).await;
    let (status, body, retry_after) = create(&service, &[("To", LANDLINE), ("Channel", "call")]).await;
    assert_eq!((status, &body["code"]), (503, &json!(20503)), "{body}");
    assert!(retry_after.is_some_and(|seconds| !seconds.is_empty()));
    assert_eq!(service.check(("To", LANDLINE), "000000").await.0, 404);
}
