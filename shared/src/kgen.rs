//! The KGen dialect (and its rewards proxy): `/fe/users/auth/otp/*` and
//! `/api/proxy/auth/otp/*`. Parses, calls the engine, renders; nothing else.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use crate::app::App;
use crate::callers::authenticate_client;
use crate::challenge::{Attempt, Handle};
use crate::code::Code;
use crate::destination::{Destination, InvalidDestination};
use crate::error::OtpError;
use crate::http::{ContentTypeRule, Digits, Fields, header, json_object, json_response};
use crate::ports::{ChallengeStore, ClientRegistry, Delivery, QuotaStore, UserDirectory};
use crate::scope::{Scope, UserRef};

/// Which of the two KGen surfaces a request came through.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Surface {
    /// `/fe/...`: the user's JWT alone.
    Frontend,
    /// `/api/proxy/...`: client credentials as well; verify answers 201.
    Proxy,
}

impl Surface {
    pub fn of(request: &Request) -> Self {
        if request.uri().path().contains("/api/proxy/") {
            Self::Proxy
        } else {
            Self::Frontend
        }
    }
}

/// Every error in KGen's shape: `{"message": CODE}`, with `detail` for a bad request.
pub fn render_error(error: &OtpError) -> Response<Body> {
    let (status, body, retry_after) = match error {
        OtpError::Invalid { field, reason } => (
            StatusCode::BAD_REQUEST,
            json!({"message": "INVALID_REQUEST", "detail": format!("{field} {reason}")}),
            None,
        ),
        OtpError::CountryNotAllowed => (
            StatusCode::BAD_REQUEST,
            json!({"message": "INVALID_REQUEST", "detail": "phone_number: SMS to this country is not enabled"}),
            None,
        ),
        OtpError::Unauthorized => (StatusCode::UNAUTHORIZED, json!({"message": "UN_AUTHORIZED"}), None),
        OtpError::WrongCode => (StatusCode::BAD_REQUEST, json!({"message": "INVALID_OTP"}), None),
        OtpError::Gone => (StatusCode::GONE, json!({"message": "OTP_EXPIRED"}), None),
        OtpError::TooMany { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"message": "TOO_MANY_REQUESTS"}),
            Some(*retry_after),
        ),
        OtpError::Unavailable => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"message": "SERVICE_UNAVAILABLE"}),
            None,
        ),
    };
    json_response(status, &body, retry_after)
}

fn respond(result: Result<(StatusCode, Value), OtpError>) -> Response<Body> {
    match result {
        Ok((status, body)) => json_response(status, &body, None),
        Err(error) => render_error(&error),
    }
}

/// The caller: client credentials first on the proxy surface, then the user's JWT.
async fn caller<S: ClientRegistry, D>(app: &App<S, D>, request: &Request) -> Result<UserRef, OtpError> {
    if Surface::of(request) == Surface::Proxy {
        authenticate_client(
            app.store(),
            header(request, "clientID"),
            header(request, "clientSecret"),
        )
        .await?;
    }
    let token = header(request, "user-jwt-token").ok_or(OtpError::Unauthorized)?;
    app.jwt.verify(token)
}

fn phone(fields: &Fields) -> Result<Destination, OtpError> {
    let number = fields.string("phone_number")?;
    let country = fields.string("countryCode")?;
    Destination::phone(country, number).map_err(|error| match error {
        InvalidDestination::CountryCode => OtpError::invalid("countryCode", "is not a valid country calling code"),
        _ => OtpError::invalid("phone_number", "is not a valid phone number for its country"),
    })
}

/// register and resend: both send a fresh code on the open challenge or open one.
pub async fn send<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ChallengeStore + QuotaStore + UserDirectory + ClientRegistry,
    D: Delivery,
{
    respond(
        async {
            let user = caller(app, &request).await?;
            let fields = json_object(&request, ContentTypeRule::RequireJson, false)?;
            let destination = phone(&fields)?;
            // Read before sending, so that a failure here sends nothing.
            let is_new_user = app.store().owner_of(&destination).await?.is_none();
            let sent = app
                .otp
                .send(&app.delivery, &Scope::User(user), &destination, |code, policy| {
                    app.sms(code, policy)
                })
                .await?;
            Ok((
                StatusCode::OK,
                json!({"authCode": sent.auth_code, "isNewUser": is_new_user}),
            ))
        }
        .await,
    )
}

/// verify: checks the code of the challenge `authCode` names, and links the phone number
/// to the caller's user.
pub async fn verify<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ChallengeStore + QuotaStore + ClientRegistry,
{
    let surface = Surface::of(&request);
    respond(
        async {
            let user = caller(app, &request).await?;
            let fields = json_object(&request, ContentTypeRule::RequireJson, false)?;
            let destination = phone(&fields)?;
            let auth_code = match fields.digits("authCode")? {
                Digits::Number(number) => number.to_string(),
                Digits::Text(text) => text,
            };
            let length = app.otp.policy.code_length;
            let code = match fields.digits("otp")? {
                Digits::Number(number) => Code::from_number(number, length),
                Digits::Text(text) => Code::from_text(&text, length),
            }
            .ok_or_else(|| OtpError::invalid("otp", format!("must have at most {length} digits")))?;
            let attempt = Attempt {
                scope: Scope::User(user.clone()),
                destination,
                handle: Handle::AuthCode(auth_code),
                code,
                link: Some(user),
            };
            app.otp.verify(&attempt).await?;
            let status = match surface {
                Surface::Frontend => StatusCode::OK,
                Surface::Proxy => StatusCode::CREATED,
            };
            Ok((status, json!({"message": "Users linked successfully"})))
        }
        .await,
    )
}
