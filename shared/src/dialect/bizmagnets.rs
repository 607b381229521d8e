//! The BizMagnets dialect: `POST /otp/{otp_config_uid}/sendOTP` and
//! `POST /otp/{otp_uid}/verifyOTP`, with an `X-API-KEY`; errors in Spring's shape.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use crate::app::App;
use crate::callers::authenticate_api_key;
use crate::challenge::{Attempt, Handle};
use crate::destination::{Destination, InvalidDestination};
use crate::error::OtpError;
use crate::http::{ContentTypeRule, Fields, header, json_object, json_response, rfc3339, route_path};
use crate::ports::{ChallengeStore, Channel, ClientRegistry, ConfigRegistry, Delivery, Permission, QuotaStore};
use crate::scope::Scope;

/// The path parameter before `suffix` (`/otp/{it}/sendOTP`).
fn path_parameter<'a>(request: &'a Request, suffix: &str) -> Option<&'a str> {
    let path = route_path(request).strip_suffix(suffix)?;
    let (before, parameter) = path.rsplit_once('/')?;
    (before.ends_with("/otp") && !parameter.is_empty()).then_some(parameter)
}

/// Whether a request is BizMagnets' send.
pub fn is_send(request: &Request) -> bool {
    path_parameter(request, "/sendOTP").is_some()
}

/// Whether a request is BizMagnets' verify.
pub fn is_verify(request: &Request) -> bool {
    path_parameter(request, "/verifyOTP").is_some()
}

/// Every error as the seed shows it: `{"timestamp", "status", "error", "path"}`, with
/// `status` the HTTP status (403 for a wrong code or mobile number, 410 for a dead challenge).
pub fn render_error(error: &OtpError, path: &str, now: i64) -> Response<Body> {
    let (status, retry_after) = match error {
        OtpError::Invalid { .. } | OtpError::CountryNotAllowed => (StatusCode::BAD_REQUEST, None),
        OtpError::Unauthorized => (StatusCode::UNAUTHORIZED, None),
        OtpError::WrongCode | OtpError::NotThisDestination => (StatusCode::FORBIDDEN, None),
        OtpError::Gone => (StatusCode::GONE, None),
        OtpError::NotFound => (StatusCode::NOT_FOUND, None),
        OtpError::TooMany { retry_after } => (StatusCode::TOO_MANY_REQUESTS, Some(*retry_after)),
        OtpError::Unavailable => (StatusCode::SERVICE_UNAVAILABLE, None),
    };
    let body = json!({
        "timestamp": rfc3339(now),
        "status": status.as_u16(),
        "error": status.canonical_reason().unwrap_or("Error"),
        "path": path,
    });
    json_response(status, &body, retry_after)
}

fn destination(fields: &Fields, channel: Channel) -> Result<Destination, OtpError> {
    match channel {
        Channel::Email => Destination::email(fields.string("email")?)
            .map_err(|_| OtpError::invalid("email", "is not a valid email address")),
        Channel::Sms => {
            Destination::phone(fields.string("countryCode")?, fields.string("mobileNumber")?).map_err(|error| {
                match error {
                    InvalidDestination::CountryCode => {
                        OtpError::invalid("countryCode", "is not a valid country calling code")
                    }
                    _ => OtpError::invalid("mobileNumber", "is not a valid phone number for its country"),
                }
            })
        }
    }
}

/// sendOTP: a code by the configuration's channel, template and sender; 201 with the
/// challenge `id`.
pub async fn send<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ChallengeStore + QuotaStore + ClientRegistry + ConfigRegistry,
    D: Delivery,
{
    let result = async {
        let client = authenticate_api_key(app.store(), header(&request, "X-API-KEY"), Permission::Bizmagnets).await?;
        let uid = path_parameter(&request, "/sendOTP").ok_or(OtpError::NotFound)?;
        let fields = json_object(&request, ContentTypeRule::RequireJson, false)?;
        let name = match fields.0.get("name") {
            None | Some(serde_json::Value::Null) => "",
            Some(_) => fields.string("name")?,
        };
        let config = app
            .store()
            .config(uid)
            .await?
            .filter(|config| config.client_id == client.id)
            .ok_or(OtpError::NotFound)?;
        let destination = destination(&fields, config.channel)?;
        let requester = super::requester(&request, Some(client.id.clone()));
        let sent = app
            .otp
            .send(
                &app.delivery,
                &Scope::Client(client.id),
                &destination,
                &config.profile,
                &requester,
                |code, profile| {
                    app.messages
                        .from_template(&config.template, code, profile, name, Some(&config.sender))
                },
            )
            .await?;
        Ok((
            StatusCode::CREATED,
            json!({"id": sent.challenge_id, "message": "success"}),
        ))
    }
    .await;
    let now = app.otp.clock.now();
    super::respond(result, |error| render_error(error, request.uri().path(), now))
}

/// verifyOTP: the code of the challenge the path names, for its mobile number (or email).
pub async fn verify<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ChallengeStore + QuotaStore + ClientRegistry,
{
    let result = async {
        let client = authenticate_api_key(app.store(), header(&request, "X-API-KEY"), Permission::Bizmagnets).await?;
        let id = path_parameter(&request, "/verifyOTP").ok_or(OtpError::NotFound)?;
        let fields = json_object(&request, ContentTypeRule::RequireJson, false)?;
        let channel = if fields.0.contains_key("email") {
            Channel::Email
        } else {
            Channel::Sms
        };
        let destination = destination(&fields, channel)?;
        let code = super::submitted_code(fields.digits("otp")?, app.otp.policy.code_length)?;
        let attempt = Attempt {
            scope: Scope::Client(client.id),
            destination,
            handle: Handle::Id(id.to_owned()),
            code,
            link: None,
        };
        let verified = app.otp.verify(&attempt).await?;
        Ok((
            StatusCode::OK,
            json!({"id": verified.challenge_id, "message": "success"}),
        ))
    }
    .await;
    let now = app.otp.clock.now();
    super::respond(result, |error| render_error(error, request.uri().path(), now))
}
