//! Twilio Verify v2's shapes: the verification and verification-check resources, their
//! `VE` sids, and the error body `{"code", "message", "more_info", "status"}` with
//! Twilio's codes.

use crate::ports::Channel;
use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Value, json};

use crate::challenge::{Challenge, Lifecycle};
use crate::clock::UnixSeconds;
use crate::destination::Destination;
use crate::error::OtpError;
use crate::http::{json_response, rfc3339};
use crate::number_rules::RefusedNumber;

/// What a request was doing when it failed: Twilio names a refused send and a refused
/// check differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Create,
    Check,
    Other,
}

/// A Twilio error code, its HTTP status and message.
fn error_of(error: &OtpError, operation: Operation) -> (u32, StatusCode, String) {
    match error {
        OtpError::Invalid { field, reason } => (
            60200,
            StatusCode::BAD_REQUEST,
            format!("Invalid parameter `{field}`: {reason}"),
        ),
        OtpError::NumberRefused(RefusedNumber::Country(_)) => (
            60605,
            StatusCode::FORBIDDEN,
            "Verification delivery attempt blocked: SMS to this country is not enabled".to_owned(),
        ),
        OtpError::NumberRefused(refused) if refused.is_landline() => (
            60205,
            StatusCode::BAD_REQUEST,
            "SMS is not supported by landline phone number".to_owned(),
        ),
        OtpError::NumberRefused(refused) => (
            60200,
            StatusCode::BAD_REQUEST,
            format!("Invalid parameter `To`: {}", refused.reason()),
        ),
        // As Twilio answers a `Locale` it has no text for, and one its calls cannot speak.
        OtpError::UnsupportedLocale { tag, spoken: false } => (
            20404,
            StatusCode::NOT_FOUND,
            format!("Locale `{tag}` is not supported: send without it for the number's language"),
        ),
        OtpError::UnsupportedLocale { tag, spoken: true } => (
            60331,
            StatusCode::BAD_REQUEST,
            format!(
                "Locale `{tag}` is not supported by text-to-speech: call without it for English or the number's language"
            ),
        ),
        OtpError::Unauthorized => (20003, StatusCode::UNAUTHORIZED, "Authenticate".to_owned()),
        OtpError::Forbidden => (20403, StatusCode::FORBIDDEN, "Forbidden".to_owned()),
        OtpError::NotFound | OtpError::Gone | OtpError::WrongCode | OtpError::NotThisDestination => (
            20404,
            StatusCode::NOT_FOUND,
            "The requested resource was not found".to_owned(),
        ),
        OtpError::MethodNotAllowed => (20004, StatusCode::METHOD_NOT_ALLOWED, "Method not allowed".to_owned()),
        // Spent attempts of the verification a check named: 60202, as Twilio answers a
        // check past its attempts (a new verification can be sent once the cooldown
        // allows); anywhere else nothing is pending.
        OtpError::Spent { .. } if operation != Operation::Check => (
            20404,
            StatusCode::NOT_FOUND,
            "The requested resource was not found".to_owned(),
        ),
        OtpError::TooMany { .. } | OtpError::Spent { .. } => match operation {
            Operation::Create => (
                60203,
                StatusCode::TOO_MANY_REQUESTS,
                "Max send attempts reached".to_owned(),
            ),
            Operation::Check => (
                60202,
                StatusCode::TOO_MANY_REQUESTS,
                "Max check attempts reached".to_owned(),
            ),
            Operation::Other => (20429, StatusCode::TOO_MANY_REQUESTS, "Too many requests".to_owned()),
        },
        OtpError::RangeBlocked { .. } => (
            60410,
            StatusCode::FORBIDDEN,
            "Verification delivery attempt blocked: too many sends to this number range".to_owned(),
        ),
        OtpError::SpendCapped { .. } => (
            20429,
            StatusCode::TOO_MANY_REQUESTS,
            "Verification delivery attempt blocked: the deployment's SMS spend cap is reached".to_owned(),
        ),
        OtpError::Unavailable { .. } => (
            20503,
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable, try again later".to_owned(),
        ),
    }
}

/// An error body of Twilio's, with `Retry-After` where the error has one.
pub fn error(code: u32, status: StatusCode, message: &str, retry_after: Option<u64>) -> Response<Body> {
    let body = json!({
        "code": code,
        "message": message,
        "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
        "status": status.as_u16(),
    });
    json_response(status, &body, retry_after)
}

/// Every error of the dialect in Twilio's shape; a 401 says which scheme it wants.
pub fn render_error(failure: &OtpError, operation: Operation) -> Response<Body> {
    let (code, status, message) = error_of(failure, operation);
    let retry_after = match failure {
        OtpError::TooMany { retry_after }
        | OtpError::Spent { retry_after }
        | OtpError::RangeBlocked { retry_after }
        | OtpError::SpendCapped { retry_after }
        | OtpError::Unavailable { retry_after } => Some(*retry_after),
        _ => None,
    };
    let mut response = error(code, status, &message, retry_after);
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            lambda_http::http::header::WWW_AUTHENTICATE,
            lambda_http::http::HeaderValue::from_static("Basic realm=\"Twilio API\""),
        );
    }
    response
}

/// A configuration that has no such channel (Twilio's 60223).
pub fn channel_disabled(channel: &str) -> Response<Body> {
    error(
        60223,
        StatusCode::BAD_REQUEST,
        &format!("Delivery channel disabled: {channel}"),
        None,
    )
}

/// A verification's sid: `VE` and the challenge id's 32 hex digits.
pub fn verification_sid(challenge_id: &str) -> String {
    format!("VE{}", challenge_id.replace('-', ""))
}

/// The challenge id a `VE` sid names, if it is one.
pub fn challenge_id(sid: &str) -> Option<String> {
    let hex = sid.strip_prefix("VE")?;
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let hex = hex.to_ascii_lowercase();
    Some(format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    ))
}

fn status_name(lifecycle: Lifecycle) -> &'static str {
    match lifecycle {
        Lifecycle::Pending => "pending",
        Lifecycle::Approved => "approved",
        Lifecycle::Canceled => "canceled",
        Lifecycle::Expired => "expired",
        Lifecycle::MaxAttemptsReached => "max_attempts_reached",
    }
}

/// Who and what a resource belongs to, in Twilio's forms (`AC...`, `VA...`).
#[derive(Debug, Clone)]
pub struct Owner {
    pub account_sid: String,
    pub service_sid: String,
    /// `https://host` as the request reached it, for the resource's `url`.
    pub base_url: String,
}

impl Owner {
    /// The owner of a client's service, named by either form of its uid.
    pub fn new(client_id: &str, service: &str, base_url: String) -> Self {
        use crate::sid::{ACCOUNT, SERVICE, config_uid, shown};
        Self {
            account_sid: shown(ACCOUNT, client_id).into_owned(),
            service_sid: shown(SERVICE, &config_uid(service)).into_owned(),
            base_url,
        }
    }
}

/// A verification as it stands.
#[derive(Debug, Clone, Copy)]
pub struct Verification<'a> {
    pub challenge_id: &'a str,
    pub destination: &'a Destination,
    pub lifecycle: Lifecycle,
    pub created_at: UnixSeconds,
    pub sent_at: UnixSeconds,
    pub updated_at: UnixSeconds,
    /// The channel its latest code went by (SMS after a WhatsApp service fell back).
    pub channel: Channel,
}

impl<'a> Verification<'a> {
    /// The verification of `challenge`, of a service whose channel is `service_channel`.
    pub fn of(
        challenge: &'a Challenge,
        destination: &'a Destination,
        now: UnixSeconds,
        max_attempts: u32,
        service_channel: Channel,
    ) -> Self {
        Self {
            channel: challenge.channel.unwrap_or(service_channel),
            challenge_id: &challenge.id,
            destination,
            lifecycle: challenge.lifecycle(now, max_attempts),
            created_at: challenge.created_at,
            sent_at: challenge.sent_at,
            updated_at: challenge.updated_at(),
        }
    }

    /// The verification resource (create, fetch, update).
    pub fn resource(&self, owner: &Owner) -> Value {
        let sid = verification_sid(self.challenge_id);
        let channel = self.channel.name();
        json!({
            "sid": sid,
            "service_sid": owner.service_sid,
            "account_sid": owner.account_sid,
            "to": self.destination.as_str(),
            "channel": channel,
            "status": status_name(self.lifecycle),
            "valid": self.lifecycle == Lifecycle::Approved,
            "lookup": {"carrier": null},
            "amount": null,
            "payee": null,
            // Only the latest send is kept; Twilio lists every one.
            "send_code_attempts": [{
                "attempt_sid": format!("VL{}", &sid[2..]),
                "channel": channel,
                "time": rfc3339(self.sent_at),
            }],
            "sna": null,
            "date_created": rfc3339(self.created_at),
            "date_updated": rfc3339(self.updated_at),
            "url": format!("{}/v2/Services/{}/Verifications/{sid}", owner.base_url, owner.service_sid),
        })
    }

    /// The verification-check resource.
    pub fn check(&self, owner: &Owner) -> Value {
        json!({
            "sid": verification_sid(self.challenge_id),
            "service_sid": owner.service_sid,
            "account_sid": owner.account_sid,
            "to": self.destination.as_str(),
            "channel": self.channel.name(),
            "status": status_name(self.lifecycle),
            "valid": self.lifecycle == Lifecycle::Approved,
            "amount": null,
            "payee": null,
            "sna_attempts_error_codes": [],
            "date_created": rfc3339(self.created_at),
            "date_updated": rfc3339(self.updated_at),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sids_carry_the_challenge_id() {
        let id = "105f9e0e-8798-41c1-b3e4-de85b4821d94";
        let sid = verification_sid(id);
        assert_eq!(sid, "VE105f9e0e879841c1b3e4de85b4821d94");
        assert_eq!(sid.len(), 34);
        assert_eq!(challenge_id(&sid).as_deref(), Some(id));
        let upper = format!("VE{}", sid[2..].to_uppercase());
        assert_eq!(challenge_id(&upper).as_deref(), Some(id), "hex in either case");
        for bad in [
            "",
            "VE",
            "XX105f9e0e879841c1b3e4de85b4821d94",
            "VE105f9e0e879841c1b3e4de85b4821d9z",
            "+15005550006",
        ] {
            assert_eq!(challenge_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn errors_have_twilios_codes() {
        let body = |response: Response<Body>| -> Value {
            match response.body() {
                Body::Text(text) => serde_json::from_str(text).unwrap(),
                _ => Value::Null,
            }
        };
        let sent = render_error(&OtpError::TooMany { retry_after: 30 }, Operation::Create);
        assert_eq!(sent.status(), 429);
        assert_eq!(sent.headers()["retry-after"], "30");
        assert_eq!(
            body(sent),
            json!({"code": 60203, "message": "Max send attempts reached",
                   "more_info": "https://www.twilio.com/docs/errors/60203", "status": 429})
        );
        assert_eq!(
            body(render_error(&OtpError::TooMany { retry_after: 1 }, Operation::Check))["code"],
            60202
        );
        assert_eq!(
            body(render_error(&OtpError::Unauthorized, Operation::Other))["code"],
            20003
        );
        assert_eq!(body(render_error(&OtpError::Gone, Operation::Check))["code"], 20404);
        assert_eq!(
            body(render_error(&OtpError::invalid("To", "is required"), Operation::Create))["code"],
            60200
        );
        assert_eq!(
            body(render_error(
                &OtpError::NumberRefused(RefusedNumber::Country("GB".to_owned())),
                Operation::Create
            ))["code"],
            60605
        );
    }
}
