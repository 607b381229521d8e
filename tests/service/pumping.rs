//! SMS pumping: sends to numbers whose operator shares each message's revenue. Every
//! product refuses them before anything is spent or sent, in its own shape.

use otp_shared::ports::Channel;
use otp_tests::{Deployment, kgen_request, sms_to, user_token};
use serde_json::json;

use crate::bridgekeeper::{SEND, request};
use crate::twilio::{Service, twilio_error, without_message};
use crate::*;

/// What a pumper sends to: international premium rate (+979), Iridium satellite (+881),
/// a VoIP network (+883) and one of +882, and national premium rate in the US and the UK.
const PUMPED: [&str; 6] = [
    "+979123456789",
    "+881612345678",
    "+8823421234",
    "+883510012345",
    "+19002345678",
    "+449091234567",
];

#[tokio::test]
async fn anonymous_always_send_to_premium_and_non_geographic_numbers_sends_nothing() {
    let deployment = Deployment::new().await;
    for number in PUMPED {
        let body = json!({"phone-number": number, "always-send": true}).to_string();
        let (status, answer, retry_after) = call_send_otp(&deployment, request(SEND, None, None, &body)).await;
        assert_eq!((status, retry_after), (400, None), "{number}: {answer}");
        let message = answer["error"]["message"].as_str().unwrap_or_default();
        assert!(message.starts_with("phone-number is "), "{number}: {message}");
        assert!(sms_to(number).is_empty(), "{number} got a message");
    }
}

#[tokio::test]
async fn twilio_names_a_landline_60205_and_other_refused_numbers_60200() {
    let service = Service::new(Channel::Sms).await;
    let landline = "+441212345678";
    assert_eq!(
        without_message(&service.create(landline, "sms").await),
        twilio_error(60205, 400)
    );
    for number in PUMPED {
        assert_eq!(
            without_message(&service.create(number, "sms").await),
            twilio_error(60200, 400),
            "{number}"
        );
    }
    assert!(sms_to(landline).is_empty());
    // A refused number spent nothing: the client's next send goes out.
    assert_eq!(service.create("+447911123456", "sms").await.0, 201);
}

#[tokio::test]
async fn kgen_answers_a_refused_number_as_an_invalid_request() {
    let deployment = Deployment::new().await;
    let token = user_token("pumped");
    let body = json!({"phone_number": "9002345678", "countryCode": "+1"});
    let (status, answer, _) = call_register(
        &deployment,
        kgen_request(&format!("{FE}/register"), &token, None, &body),
    )
    .await;
    assert_eq!(
        (status, answer),
        (
            400,
            json!({"message": "INVALID_REQUEST", "detail": "phone_number is a premium rate number; codes go to mobile numbers only"})
        )
    );
    assert!(sms_to("+19002345678").is_empty());
}
