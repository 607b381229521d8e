//! The ZAP dialect: `POST /v1/otp` (and `/api/v1/otp`, with or without a final `/`) to
//! generate, `.../verify` to verify; `{"success", "data"}` bodies.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use crate::app::App;
use crate::callers::{authenticate_api_key, claimed_client};
use crate::challenge::{Attempt, Handle};
use crate::destination::{Destination, MAX_EMAIL_LENGTH};
use crate::error::OtpError;
use crate::http::{ContentTypeRule, Fields, header, json_object, json_response};
use crate::number_rules::RefusedNumber;
use crate::ports::{
    AttemptLog, ChallengeStore, ClientRecord, ClientRegistry, ConversionStore, Delivery, Permission, QuotaStore,
    SpendStore, UserDirectory,
};
use crate::scope::{Product, Scope, UserRef};
use crate::tenant::Tenant;

/// This dialect's name in status events and metrics.
const DIALECT: &str = "zap";

/// Longest `userId` accepted.
const MAX_USER_ID_CHARS: usize = 256;

/// Every error as `{"success": false, "data": "<what went wrong>"}`.
pub fn render_error(error: &OtpError) -> Response<Body> {
    let (status, data, retry_after) = match error {
        OtpError::Invalid { field, reason } => (StatusCode::BAD_REQUEST, format!("{field} {reason}"), None),
        OtpError::UnsupportedLocale { .. } => (StatusCode::BAD_REQUEST, error.to_string(), None),
        OtpError::NumberRefused(RefusedNumber::Country(_)) => (
            StatusCode::BAD_REQUEST,
            "phoneNumber: SMS to this country is not enabled".to_owned(),
            None,
        ),
        OtpError::NumberRefused(refused) => (
            StatusCode::BAD_REQUEST,
            format!("phoneNumber {}", refused.reason()),
            None,
        ),
        OtpError::WrongCode | OtpError::Gone | OtpError::Spent { .. } | OtpError::NotThisDestination => {
            (StatusCode::BAD_REQUEST, "Invalid or expired OTP".to_owned(), None)
        }
        OtpError::Unauthorized => (StatusCode::UNAUTHORIZED, "Unauthorized".to_owned(), None),
        OtpError::Forbidden => (StatusCode::FORBIDDEN, "Forbidden".to_owned(), None),
        OtpError::NotFound => (StatusCode::NOT_FOUND, "Not found".to_owned(), None),
        OtpError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "Method not allowed".to_owned(), None),
        OtpError::TooMany { retry_after }
        | OtpError::RangeBlocked { retry_after }
        | OtpError::SpendCapped { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests, try again later".to_owned(),
            Some(*retry_after),
        ),
        // ZAP's document answers every fault with 500; the back-off rides on it.
        OtpError::Unavailable { retry_after } => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "An error occurred processing the request".to_owned(),
            Some(*retry_after),
        ),
    };
    json_response(status, &json!({"success": false, "data": data}), retry_after)
}

/// The platform user a request is about, within the calling client: `userId`, or `UserId`
/// as some clients spell it. `userId` wins when both come, but both must be valid.
fn user(fields: &Fields, client: Option<&str>) -> Result<UserRef, OtpError> {
    let present = |name: &str| fields.0.get(name).is_some_and(|v| !v.is_null());
    let checked = |key: &'static str| -> Result<String, OtpError> {
        let id = fields
            .string(key)
            .map_err(|_| OtpError::invalid(key, "must be a string"))?
            .trim();
        if id.is_empty() || id.chars().count() > MAX_USER_ID_CHARS {
            return Err(OtpError::invalid(
                key,
                format!("must have 1 to {MAX_USER_ID_CHARS} characters"),
            ));
        }
        Ok(id.to_owned())
    };
    let spelled_otherwise = if present("UserId") {
        Some(checked("UserId")?)
    } else {
        None
    };
    let id = if present("userId") {
        checked("userId")?
    } else {
        spelled_otherwise.ok_or_else(|| OtpError::invalid("userId", "is required and must be a string"))?
    };
    // ZAP's users are its clients' (the client stands where a JWT's issuer does), in a
    // product of their own: no token can name one.
    Ok(UserRef::new(Product::Zap, client.unwrap_or_default(), id))
}

/// The destination: the email when given (codes go "to the user's email"), else the phone.
/// Both are validated when both are given, so a bad value is never silently ignored.
fn destination(fields: &Fields) -> Result<Destination, OtpError> {
    let present = |name: &str| fields.0.get(name).is_some_and(|v| !v.is_null());
    let phone = if present("phoneNumber") {
        let phone = fields.string("phoneNumber")?.trim();
        if !phone.starts_with('+') {
            return Err(OtpError::invalid("phoneNumber", "must start with +"));
        }
        Some(
            Destination::e164(phone)
                .map_err(|_| OtpError::invalid("phoneNumber", "must be a valid E.164 number of at most 15 digits"))?,
        )
    } else {
        None
    };
    let email = if present("email") {
        let email = fields.string("email")?;
        if email.chars().count() > MAX_EMAIL_LENGTH {
            return Err(OtpError::invalid(
                "email",
                format!("must be at most {MAX_EMAIL_LENGTH} characters"),
            ));
        }
        Some(Destination::email(email).map_err(|_| OtpError::invalid("email", "must be a valid email address"))?)
    } else {
        None
    };
    email
        .or(phone)
        .ok_or_else(|| OtpError::invalid("email", "or phoneNumber is required"))
}

/// The client the API key names, when the deployment requires one (not yet checked).
fn claimed<S, D>(app: &App<S, D>, request: &Request) -> Result<Option<String>, OtpError> {
    if !app.zap_requires_api_key {
        return Ok(None);
    }
    claimed_client(header(request, "X-API-KEY"))
        .map(Some)
        .ok_or(OtpError::Unauthorized)
}

/// Whose budgets a request spends: the client its key names, or ZAP's public when the
/// deployment takes requests without a key.
fn tenant(client: Option<&str>) -> Tenant {
    match client {
        Some(client) => Tenant::Client(client.to_owned()),
        None => Tenant::Public(Product::Zap),
    }
}

/// The API key's check, when the deployment requires one (one read).
async fn key_check<S: ClientRegistry, D>(app: &App<S, D>, request: &Request) -> Result<Option<ClientRecord>, OtpError> {
    if !app.zap_requires_api_key {
        return Ok(None);
    }
    authenticate_api_key(app.store(), header(request, "X-API-KEY"), Permission::Zap)
        .await
        .map(Some)
}

/// generate: a code to the user's email (or phone); 200 `OTP Generated`. The key is
/// checked beside the budgets.
pub async fn generate<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + SpendStore + ClientRegistry,
    D: Delivery,
{
    let work = async {
        let client = claimed(app, &request)?;
        let parsed = json_object(&request, ContentTypeRule::RequireJson, false)
            .and_then(|fields| Ok((user(&fields, client.as_deref())?, destination(&fields)?)));
        let (user, destination) = super::parsed_after(parsed, key_check(app, &request)).await?;
        let requester = super::requester(&request, tenant(client.as_deref()), DIALECT);
        super::send_default(
            app,
            Scope::User(user),
            &destination,
            &requester,
            key_check(app, &request),
            |record| super::limits_of(record.as_ref()),
        )
        .await?;
        Ok((StatusCode::OK, json!({"success": true, "data": "OTP Generated"})))
    };
    super::respond(app.request_deadline, work, render_error).await
}

/// verify: the generate body plus `otp`; links the contact to `userId`.
pub async fn verify<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + ClientRegistry + UserDirectory,
{
    let work = async {
        let client = claimed(app, &request)?;
        let parsed = json_object(&request, ContentTypeRule::RequireJson, false).and_then(|fields| {
            let user = user(&fields, client.as_deref())?;
            let destination = destination(&fields)?;
            let code = super::submitted_code(fields.digits("otp")?, app.otp.policy.code_length)?;
            Ok((user, destination, code))
        });
        let (user, destination, code) = super::parsed_after(parsed, key_check(app, &request)).await?;
        let attempt = Attempt {
            scope: Scope::User(user.clone()),
            destination,
            handle: Handle::Open,
            code,
            link: Some(user),
            requester: super::requester(&request, tenant(client.as_deref()), DIALECT),
        };
        app.otp.verify(&attempt, key_check(app, &request)).await?;
        Ok((StatusCode::OK, json!({"success": true, "data": "OTP Verified"})))
    };
    super::respond(app.request_deadline, work, render_error).await
}
