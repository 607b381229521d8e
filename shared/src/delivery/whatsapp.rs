use aws_sdk_socialmessaging::Client;
use aws_sdk_socialmessaging::operation::send_whats_app_message::SendWhatsAppMessageError;
use aws_sdk_socialmessaging::primitives::Blob;
use serde_json::json;

use crate::destination::Destination;
use crate::ports::{DeliveryError, WhatsAppCode};

/// The Graph API version the messages are written for.
const META_API_VERSION: &str = "v20.0";

/// WhatsApp through AWS End User Messaging Social's `SendWhatsAppMessage`: an approved
/// authentication template, the code as its body's parameter and its copy-code button's.
#[derive(Debug, Clone)]
pub struct WhatsApp {
    client: Client,
}

impl WhatsApp {
    pub fn new(client: Client) -> Self {
        Self { client }
    }

    /// Sends `whatsapp` to `to`. A recipient the service or Meta refuses (a number not on
    /// WhatsApp, or not reachable) is `RecipientRefused`, which a configuration may fall
    /// back from; anything else (throttling, time-outs, access, configuration) is a failure.
    pub async fn send(&self, to: &Destination, whatsapp: &WhatsAppCode) -> Result<(), DeliveryError> {
        let Destination::Phone(number) = to else {
            return Err(DeliveryError::NoChannel);
        };
        let result = self
            .client
            .send_whats_app_message()
            .origination_phone_number_id(&whatsapp.template.phone_number_id)
            .meta_api_version(META_API_VERSION)
            .message(Blob::new(message(number, whatsapp)))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            // Only the error's code is kept: the service's message may quote the number.
            Err(error) => match error.as_service_error() {
                Some(
                    refusal @ (SendWhatsAppMessageError::InvalidParametersException(_)
                    | SendWhatsAppMessageError::ValidationException(_)),
                ) => Err(DeliveryError::RecipientRefused(
                    refusal.meta().code().unwrap_or("refused").to_owned(),
                )),
                _ => Err(super::failed(error)),
            },
        }
    }
}

/// The WhatsApp Cloud API message of an authentication template: the code fills the
/// body's one parameter and the copy-code button's.
fn message(number: &str, whatsapp: &WhatsAppCode) -> Vec<u8> {
    let code = whatsapp.code.reveal();
    json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": number,
        "type": "template",
        "template": {
            "name": whatsapp.template.name,
            "language": {"code": whatsapp.template.language},
            "components": [
                {"type": "body", "parameters": [{"type": "text", "text": code}]},
                {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": code}]},
            ],
        },
    })
    .to_string()
    .into_bytes()
}
