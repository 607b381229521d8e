//! The stand-in for AWS End User Messaging Social's `SendWhatsAppMessage`.
//!
//! It checks each request as the service documents it (`POST /v1/whatsapp/send`, a SigV4
//! signature for `social-messaging`, a JSON body of exactly `originationPhoneNumberId`,
//! `message` and `metaApiVersion`, each in its documented form), and the message inside
//! as the WhatsApp Cloud API takes an authentication template (the code as the body's
//! parameter and as the copy-code button's). A request that passes is recorded and
//! answered `{"messageId": ...}`; one that does not gets the service's
//! `ValidationException`, so a test sees the difference. A recipient it is told WhatsApp
//! does not reach, or a template it is told Meta does not have, gets
//! `InvalidParametersException` with Meta's error, as the service passes one on.

use std::collections::HashSet;

use base64::Engine;
use hyper::http::request::Parts;
use hyper::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{Answer, Service, header, signed_json};

/// The documented limits of `message` (bytes, after base64 decoding).
const MESSAGE_BYTES: std::ops::RangeInclusive<usize> = 1..=2_048_000;

/// A WhatsApp message the stand-in accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub message_id: String,
    pub origination_phone_number_id: String,
    pub meta_api_version: String,
    /// The recipient as the message names it (digits, with or without `+`).
    pub to: String,
    pub template: String,
    pub language: String,
    /// The body's parameter: the code.
    pub code: String,
    /// The copy-code button's parameter (the same code, when the message is right).
    pub button_code: String,
}

/// AWS End User Messaging Social's WhatsApp messages.
#[derive(Debug)]
pub struct WhatsApp;

/// What WhatsApp is told to refuse: recipients it does not reach, templates Meta lacks.
#[derive(Debug, Default)]
pub struct Refused {
    unreachable: HashSet<String>,
    unknown_templates: HashSet<String>,
}

impl Service for WhatsApp {
    type Accepted = Accepted;
    type Refused = Refused;

    fn check(parts: &Parts, body: &[u8]) -> Result<Accepted, String> {
        check(parts, body)
    }

    /// As the service passes Meta's refusals on.
    fn refusal(refused: &Refused, accepted: &Accepted) -> Option<Answer> {
        let meta = if refused.unknown_templates.contains(&accepted.template) {
            "(#132001) Template name does not exist in the translation"
        } else if refused.unreachable.contains(accepted.to.trim_start_matches('+')) {
            "(#131026) Message undeliverable"
        } else {
            return None;
        };
        Some(error(StatusCode::BAD_REQUEST, "InvalidParametersException", meta))
    }

    fn took(accepted: &Accepted) -> Answer {
        crate::json_answer(
            StatusCode::OK,
            "application/json",
            &json!({"messageId": accepted.message_id}),
        )
    }

    fn invalid(reason: &str) -> Answer {
        error(StatusCode::BAD_REQUEST, "ValidationException", reason)
    }
}

/// The running WhatsApp stand-in (for `AWS_ENDPOINT_URL_SOCIALMESSAGING`).
pub type StandIn = crate::StandIn<WhatsApp>;

impl StandIn {
    /// The messages accepted for `to` (E.164), oldest first.
    pub fn accepted_for(&self, to: &str) -> Vec<Accepted> {
        let digits = to.trim_start_matches('+');
        self.accepted()
            .into_iter()
            .filter(|message| message.to.trim_start_matches('+') == digits)
            .collect()
    }

    /// From now on, a message to `to` (E.164) is refused as WhatsApp refuses a number it
    /// does not reach.
    pub fn unreachable(&self, to: &str) {
        let digits = to.trim_start_matches('+').to_owned();
        self.refuse(|refused| {
            refused.unreachable.insert(digits);
        });
    }

    /// From now on, a message of the template `name` is refused as Meta refuses a
    /// template it does not have (a configuration's mistake, not the recipient's).
    pub fn unknown_template(&self, name: &str) {
        self.refuse(|refused| {
            refused.unknown_templates.insert(name.to_owned());
        });
    }
}

/// An error as the service's REST-JSON protocol answers one.
fn error(status: StatusCode, kind: &str, message: &str) -> Answer {
    let mut response = crate::json_answer(status, "application/json", &json!({"message": message}));
    response
        .headers_mut()
        .insert("x-amzn-errortype", kind.parse().expect("header value"));
    response
}

/// The request as the service documents it, or why not.
fn check(parts: &Parts, body: &[u8]) -> Result<Accepted, String> {
    if parts.method != Method::POST || parts.uri.path() != "/v1/whatsapp/send" {
        return Err(format!(
            "{} {} is not SendWhatsAppMessage",
            parts.method,
            parts.uri.path()
        ));
    }
    if !header(parts, "content-type").starts_with("application/json") {
        return Err("the body must be application/json".to_owned());
    }
    let fields = signed_json(parts, body, "social-messaging")?;
    let mut names: Vec<&str> = fields.keys().map(String::as_str).collect();
    names.sort_unstable();
    if names != ["message", "metaApiVersion", "originationPhoneNumberId"] {
        return Err(format!(
            "the body must have exactly message, metaApiVersion and originationPhoneNumberId, not {names:?}"
        ));
    }
    let text = |name: &str| fields[name].as_str().ok_or(format!("{name} must be a string"));
    let origination = text("originationPhoneNumberId")?;
    if !is_phone_number_id(origination) {
        return Err(format!(
            "originationPhoneNumberId {origination} is neither phone-number-id-... nor its ARN"
        ));
    }
    let version = text("metaApiVersion")?;
    let digits = version.strip_prefix('v').unwrap_or_default();
    if digits.is_empty()
        || !digits
            .split('.')
            .all(|part| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("metaApiVersion {version} is not v{{VersionNumber}}"));
    }
    let message = base64::engine::general_purpose::STANDARD
        .decode(text("message")?)
        .map_err(|_| "message is not base64".to_owned())?;
    if !MESSAGE_BYTES.contains(&message.len()) {
        return Err(format!("message has {} bytes", message.len()));
    }
    let message: Value =
        serde_json::from_slice(&message).map_err(|_| "message is not a JSON message object".to_owned())?;
    let template = authentication_template(&message)?;
    Ok(Accepted {
        message_id: uuid::Uuid::new_v4().to_string(),
        origination_phone_number_id: origination.to_owned(),
        meta_api_version: version.to_owned(),
        ..template
    })
}

fn is_phone_number_id(text: &str) -> bool {
    let id = match text.strip_prefix("arn:") {
        // arn:<partition>:social-messaging:<region>:<account>:phone-number-id/<id>
        Some(arn) => {
            let parts: Vec<&str> = arn.splitn(5, ':').collect();
            match parts.as_slice() {
                [_, "social-messaging", _, account, resource]
                    if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) =>
                {
                    resource.strip_prefix("phone-number-id/")
                }
                _ => None,
            }
        }
        None => text.strip_prefix("phone-number-id-"),
    };
    id.is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// The parts of a WhatsApp Cloud API authentication-template message, or why it is not one.
fn authentication_template(message: &Value) -> Result<Accepted, String> {
    let field = |path: &str| -> Result<&str, String> {
        message
            .pointer(path)
            .and_then(Value::as_str)
            .ok_or(format!("the message has no {path}"))
    };
    if field("/messaging_product")? != "whatsapp" || field("/type")? != "template" {
        return Err("the message must be a WhatsApp template message".to_owned());
    }
    let to = field("/to")?;
    let digits = to.trim_start_matches('+');
    if digits.is_empty() || digits.len() > 15 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("to {to} is not a phone number"));
    }
    let components = message
        .pointer("/template/components")
        .and_then(Value::as_array)
        .ok_or("the template has no components")?;
    let parameter = |component: &Value| {
        component["parameters"]
            .as_array()
            .filter(|parameters| parameters.len() == 1 && parameters[0]["type"] == "text")
            .and_then(|parameters| parameters[0]["text"].as_str())
            .map(str::to_owned)
    };
    let body = components
        .iter()
        .find(|component| component["type"] == "body")
        .and_then(parameter)
        .ok_or("the template's body must have the code as its one text parameter")?;
    let button = components
        .iter()
        .find(|c| c["type"] == "button" && c["sub_type"] == "url" && c["index"] == "0")
        .and_then(parameter)
        .ok_or("an authentication template's copy-code button (url, index 0) must have the code as its parameter")?;
    Ok(Accepted {
        message_id: String::new(),
        origination_phone_number_id: String::new(),
        meta_api_version: String::new(),
        to: to.to_owned(),
        template: field("/template/name")?.to_owned(),
        language: field("/template/language/code")?.to_owned(),
        code: body,
        button_code: button,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_number_ids_take_both_documented_forms() {
        assert!(is_phone_number_id("phone-number-id-0123456789abcdef0123456789abcdef"));
        assert!(is_phone_number_id(
            "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/0123abc"
        ));
        for bad in [
            "",
            "phone-number-id-",
            "0123",
            "arn:aws:sns:us-east-1:123456789012:phone-number-id/1",
            "phone-number-id-a/b",
        ] {
            assert!(!is_phone_number_id(bad), "{bad}");
        }
    }

    #[test]
    fn a_template_needs_the_code_in_its_body_and_its_button() {
        let message = json!({
            "messaging_product": "whatsapp", "to": "+919876543219", "type": "template",
            "template": {"name": "otp", "language": {"code": "en_US"}, "components": [
                {"type": "body", "parameters": [{"type": "text", "text": "123456"}]},
                {"type": "button", "sub_type": "url", "index": "0", "parameters": [{"type": "text", "text": "123456"}]}
            ]}
        });
        let accepted = authentication_template(&message).unwrap();
        assert_eq!(
            (accepted.code.as_str(), accepted.button_code.as_str()),
            ("123456", "123456")
        );
        let mut without_button = message.clone();
        without_button["template"]["components"].as_array_mut().unwrap().pop();
        assert!(authentication_template(&without_button).unwrap_err().contains("button"));
    }
}
