//! Delivery of codes: SMS through SNS, email through SESv2, WhatsApp through AWS End User
//! Messaging Social and calls through AWS End User Messaging SMS and Voice (both send-otp
//! only). Each function links only the clients it calls.

#[cfg(feature = "email")]
mod ses;
#[cfg(feature = "sms")]
mod sns;
#[cfg(feature = "voice")]
mod voice;
#[cfg(feature = "whatsapp")]
mod whatsapp;

#[cfg(feature = "email")]
pub use ses::SesEmail;
#[cfg(feature = "sms")]
pub use sns::SnsSms;
#[cfg(feature = "voice")]
pub use voice::Voice;
#[cfg(feature = "whatsapp")]
pub use whatsapp::WhatsApp;

#[cfg(any(feature = "sms", feature = "email", feature = "voice"))]
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
#[cfg(any(feature = "sms", feature = "email", feature = "voice"))]
use aws_types::request_id::RequestId;

use crate::destination::Destination;
use crate::ports::{Channel, Delivery, DeliveryError, Message};

/// Routes each message to its channel: a call when the message is spoken, WhatsApp when it
/// is a WhatsApp template (falling back to SMS when its configuration says so and WhatsApp
/// refuses the recipient), otherwise SMS to a phone and email to an address.
#[derive(Debug, Clone, Default)]
pub struct Courier {
    #[cfg(feature = "sms")]
    pub sms: Option<SnsSms>,
    #[cfg(feature = "email")]
    pub email: Option<SesEmail>,
    #[cfg(feature = "whatsapp")]
    pub whatsapp: Option<WhatsApp>,
    #[cfg(feature = "voice")]
    pub voice: Option<Voice>,
}

impl Courier {
    #[cfg_attr(not(any(feature = "sms", feature = "email")), allow(unused_variables))]
    async fn by_destination(&self, to: &Destination, message: &Message) -> Result<Channel, DeliveryError> {
        match to {
            #[cfg(feature = "sms")]
            Destination::Phone(_) => match &self.sms {
                Some(sms) => sms.deliver(to, message).await,
                None => Err(DeliveryError::NoChannel),
            },
            #[cfg(feature = "email")]
            Destination::Email(_) => match &self.email {
                Some(email) => email.deliver(to, message).await,
                None => Err(DeliveryError::NoChannel),
            },
            #[allow(unreachable_patterns)]
            _ => Err(DeliveryError::NoChannel),
        }
    }
}

impl Delivery for Courier {
    async fn deliver(&self, to: &Destination, message: &Message) -> Result<Channel, DeliveryError> {
        if let Some(spoken) = &message.voice {
            // A function built without calls (only send-otp has them) cannot place one.
            #[cfg(feature = "voice")]
            return match &self.voice {
                Some(voice) => voice.call(to, spoken).await.map(|()| Channel::Call),
                None => Err(DeliveryError::NoChannel),
            };
            #[cfg(not(feature = "voice"))]
            {
                let _ = spoken;
                return Err(DeliveryError::NoChannel);
            }
        }
        let Some(whatsapp) = &message.whatsapp else {
            return self.by_destination(to, message).await;
        };
        #[cfg(feature = "whatsapp")]
        {
            let Some(sender) = &self.whatsapp else {
                return Err(DeliveryError::NoChannel);
            };
            match sender.send(to, whatsapp).await {
                Ok(()) => Ok(Channel::WhatsApp),
                Err(DeliveryError::RecipientRefused(reason)) if whatsapp.template.fallback_to_sms => {
                    tracing::warn!(destination = %to, reason = %reason, "WhatsApp refused the recipient; sending by SMS");
                    self.by_destination(to, message).await
                }
                Err(error) => Err(error),
            }
        }
        // A function built without WhatsApp (only send-otp has it) cannot send one.
        #[cfg(not(feature = "whatsapp"))]
        {
            let _ = whatsapp;
            Err(DeliveryError::NoChannel)
        }
    }
}

/// A failed hand-over: how it failed (for `Retry-After`), and what the log may say of it
/// (never the caller).
///
/// The log gets the kind of failure and, when the provider answered, the HTTP status, the
/// provider's error code and its request id (by which AWS support finds the call), but
/// never the provider's message. SNS, SES and End User Messaging Social quote the recipient
/// there (`Invalid parameter: PhoneNumber Reason: +919876543219 ...`, an address SES
/// refused, Meta's text about a number), in forms no pattern can be trusted to catch
/// (spaced, without its `+`, JSON- or URL-escaped): masking them as `Destination` masks
/// itself would miss some, so the message is dropped, not masked. The code says what went
/// wrong, the request id finds the rest, and the log line already names the destination,
/// masked.
#[cfg(any(feature = "sms", feature = "email", feature = "voice"))]
pub(crate) fn failed<E>(error: SdkError<E>) -> DeliveryError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    DeliveryError::Failed {
        outage: crate::ports::Outage::of(&error),
        detail: logged_detail(&error),
    }
}

/// What the log says of a failed call: see [`failed`].
#[cfg(any(feature = "sms", feature = "email", feature = "voice"))]
fn logged_detail<E>(error: &SdkError<E>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    // From the answer's header, else from the error the SDK parsed out of it.
    let request_id = error
        .request_id()
        .or_else(|| error.as_service_error().and_then(|refusal| refusal.meta().request_id()))
        .filter(|id| is_token(id))
        .unwrap_or("(none)");
    match error {
        SdkError::ServiceError(refusal) => {
            let code = refusal.err().code().filter(|code| is_token(code)).unwrap_or("(none)");
            format!(
                "the provider refused: code {code}, HTTP {}, request id {request_id}",
                refusal.raw().status().as_u16()
            )
        }
        // The parser's reason may quote the answer, and so the recipient: left out.
        SdkError::ResponseError(answer) => format!(
            "an answer the SDK could not read: HTTP {}, request id {request_id}",
            answer.raw().status().as_u16()
        ),
        // No answer came: the causes are the SDK's and the connection's own (a deadline, a
        // refused connection, a failed DNS lookup), which quote nothing of the request.
        SdkError::TimeoutError(_) | SdkError::DispatchFailure(_) => DisplayErrorContext(error).to_string(),
        // Never sent; the SDK's reason may quote the input it refused, the recipient among it.
        SdkError::ConstructionFailure(_) => "the SDK could not build the request".to_owned(),
        _ => "an SDK failure of a kind this version does not know".to_owned(),
    }
}

/// Whether a provider's error code or request id reads as one: up to 128 ASCII letters,
/// digits and `-_.:#`. Anything else in their place (prose, an address, a `+` number) is
/// withheld like the message.
#[cfg(any(feature = "sms", feature = "email", feature = "voice"))]
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 128
        && text
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b"-_.:#".contains(&byte))
}

#[cfg(all(test, feature = "sms"))]
mod tests {
    use aws_sdk_sns::config::http::HttpResponse;
    use aws_sdk_sns::error::{ErrorMetadata, SdkError};
    use aws_sdk_sns::operation::publish::PublishError;

    use super::failed;
    use crate::ports::{DeliveryError, Outage};

    const REQUEST_ID: &str = "5f9c0c2e-8d3a-4b7e-9a51-2d6f0e8b4c11";

    /// A provider's refusal as the SDK hands it over: the code and message it parsed from
    /// the answer, the answer's status, and the request id in its header.
    fn refused(status: u16, code: &str, message: &str) -> SdkError<PublishError> {
        let metadata = ErrorMetadata::builder().code(code).message(message).build();
        let mut answer = HttpResponse::new(status.try_into().expect("a status code"), "".into());
        answer.headers_mut().insert("x-amzn-requestid", REQUEST_ID);
        SdkError::service_error(PublishError::generic(metadata), answer)
    }

    #[test]
    fn a_providers_message_stays_out_of_the_log_but_its_code_and_request_id_do_not() {
        let message = "Invalid parameter: PhoneNumber Reason: +919876543219 is not valid to publish to; \
                       bounced: someone@example.com";
        let error = failed(refused(400, "InvalidParameter", message));
        assert!(matches!(
            error,
            DeliveryError::Failed {
                outage: Outage::Failed,
                ..
            }
        ));
        // Its Display is what the log line carries (`error = %error`).
        let logged = error.to_string();
        for quoted in ["9876543219", "someone", "example.com", "Reason"] {
            assert!(!logged.contains(quoted), "{quoted:?} reached the log: {logged}");
        }
        for kept in ["code InvalidParameter", "HTTP 400", REQUEST_ID] {
            assert!(logged.contains(kept), "{kept:?} is not in the log: {logged}");
        }
    }

    #[test]
    fn a_code_that_is_not_one_is_withheld_too() {
        let logged = failed(refused(500, "+919876543219", "")).to_string();
        assert!(!logged.contains("9876543219"), "{logged}");
        assert!(logged.contains("code (none)"), "{logged}");
        assert!(logged.contains(REQUEST_ID), "{logged}");
    }

    #[test]
    fn a_failure_without_an_answer_keeps_its_causes_and_an_unbuilt_request_its_secrets() {
        let slow: SdkError<PublishError> = SdkError::timeout_error("no answer within 1s");
        let logged = failed(slow).to_string();
        assert!(logged.contains("no answer within 1s"), "{logged}");
        let unbuilt: SdkError<PublishError> = SdkError::construction_failure("phone_number +919876543219 refused");
        let logged = failed(unbuilt).to_string();
        assert!(!logged.contains("9876543219"), "{logged}");
        assert!(logged.contains("could not build the request"), "{logged}");
    }
}
