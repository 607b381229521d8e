use aws_sdk_socialmessaging::Client;
use aws_sdk_socialmessaging::primitives::Blob;
use serde_json::json;

use crate::destination::Destination;
use crate::ports::{DeliveryError, WhatsAppCode};
use crate::whatsapp::recipient_refusal;

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

    /// Sends `whatsapp` to `to`. A refusal that names one of Meta's recipient errors (a
    /// number not on WhatsApp, or not reachable) is `RecipientRefused`, which a
    /// configuration may fall back from; anything else (a wrong template, language or
    /// number id, throttling, time-outs, access) is a failure. A message WhatsApp accepts
    /// and fails later is reported by Meta's status events, not here: it does not fall back.
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
            // Only Meta's error code is kept: the message may quote the number.
            Err(error) => match error
                .as_service_error()
                .and_then(|refusal| refusal.meta().message())
                .and_then(recipient_refusal)
            {
                Some(code) => Err(DeliveryError::RecipientRefused(format!("WhatsApp error {code}"))),
                None => Err(super::failed(error)),
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
