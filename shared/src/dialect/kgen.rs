//! The KGen dialect (and its rewards proxy): `/fe/users/auth/otp/*` and
//! `/api/proxy/auth/otp/*`. Parses, calls the engine, renders; nothing else.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use crate::app::App;
use crate::callers::authenticate_client;
use crate::challenge::{Attempt, Handle};
use crate::code::Code;
use crate::destination::{Destination, InvalidDestination};
use crate::error::OtpError;
use crate::http::{ContentTypeRule, Digits, Fields, header, json_object, json_response};
use crate::number_rules::RefusedNumber;
use crate::ports::{
    AttemptLog, ChallengeStore, ClientRecord, ClientRegistry, ConversionStore, Delivery, Permission, QuotaStore,
    SpendStore, UserDirectory,
};
use crate::scope::{Product, Scope, UserRef};
use crate::tenant::Tenant;

/// This dialect's name in status events and metrics.
const DIALECT: &str = "kgen";

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
        OtpError::UnsupportedLocale { .. } => (
            StatusCode::BAD_REQUEST,
            json!({"message": "INVALID_REQUEST", "detail": error.to_string()}),
            None,
        ),
        OtpError::NumberRefused(RefusedNumber::Country(_)) => (
            StatusCode::BAD_REQUEST,
            json!({"message": "INVALID_REQUEST", "detail": "phone_number: SMS to this country is not enabled"}),
            None,
        ),
        OtpError::NumberRefused(refused) => (
            StatusCode::BAD_REQUEST,
            json!({"message": "INVALID_REQUEST", "detail": format!("phone_number {}", refused.reason())}),
            None,
        ),
        OtpError::Unauthorized => (StatusCode::UNAUTHORIZED, json!({"message": "UN_AUTHORIZED"}), None),
        OtpError::Forbidden => (StatusCode::FORBIDDEN, json!({"message": "FORBIDDEN"}), None),
        OtpError::WrongCode | OtpError::NotThisDestination => {
            (StatusCode::BAD_REQUEST, json!({"message": "INVALID_OTP"}), None)
        }
        OtpError::NotFound => (StatusCode::NOT_FOUND, json!({"message": "NOT_FOUND"}), None),
        OtpError::MethodNotAllowed => (
            StatusCode::METHOD_NOT_ALLOWED,
            json!({"message": "METHOD_NOT_ALLOWED"}),
            None,
        ),
        OtpError::Gone | OtpError::Spent { .. } => (StatusCode::GONE, json!({"message": "OTP_EXPIRED"}), None),
        OtpError::TooMany { retry_after }
        | OtpError::RangeBlocked { retry_after }
        | OtpError::SpendCapped { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            json!({"message": "TOO_MANY_REQUESTS"}),
            Some(*retry_after),
        ),
        OtpError::Unavailable { retry_after } => (
            StatusCode::SERVICE_UNAVAILABLE,
            json!({"message": "SERVICE_UNAVAILABLE"}),
            Some(*retry_after),
        ),
    };
    json_response(status, &body, retry_after)
}

/// The caller: KGen's user of the JWT (checked here: no I/O), and on the proxy surface the
/// client its `clientID` names, by its id whichever form it came in (its credentials are
/// checked by [`client_check`]). A token
/// that says its bearer's second factor is pending is refused: KGen has no sessions, and
/// such a token must not stand in for a signed-in user anywhere.
fn caller<S, D>(app: &App<S, D>, request: &Request) -> Result<(UserRef, Option<String>), OtpError> {
    let client_id = match Surface::of(request) {
        Surface::Proxy => {
            Some(crate::sid::client_id(header(request, "clientID").ok_or(OtpError::Unauthorized)?).into_owned())
        }
        Surface::Frontend => None,
    };
    let token = app
        .jwt
        .verify(header(request, "user-jwt-token").ok_or(OtpError::Unauthorized)?)?;
    if !token.is_settled() {
        tracing::info!("a pending session's token refused: KGen takes signed-in users only");
        return Err(OtpError::Unauthorized);
    }
    Ok((token.user(Product::Kgen), client_id))
}

/// Whose budgets a request spends: the proxy's client, or on the frontend the token's
/// issuer (KGen's users of that issuer).
fn tenant(user: &UserRef, client_id: Option<&str>) -> Tenant {
    match client_id {
        Some(client) => Tenant::Client(client.to_owned()),
        None => Tenant::Issuer(user.realm()),
    }
}

/// The proxy surface's client credentials, checked (one read); none on the frontend.
async fn client_check<S: ClientRegistry, D>(
    app: &App<S, D>,
    request: &Request,
) -> Result<Option<ClientRecord>, OtpError> {
    if Surface::of(request) == Surface::Frontend {
        return Ok(None);
    }
    authenticate_client(
        app.store(),
        header(request, "clientID"),
        header(request, "clientSecret"),
        Permission::KgenProxy,
    )
    .await
    .map(Some)
}

fn phone(fields: &Fields) -> Result<Destination, OtpError> {
    let number = fields.string("phone_number")?;
    let country = fields.string("countryCode")?;
    Destination::phone(country, number).map_err(|error| match error {
        InvalidDestination::CountryCode => OtpError::invalid("countryCode", "is not a valid country calling code"),
        _ => OtpError::invalid("phone_number", "is not a valid phone number for its country"),
    })
}

/// register and resend: both send a fresh code on the open challenge or open one. The
/// client's credentials and `isNewUser` are read beside the budgets and the challenge.
pub async fn send<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + SpendStore + UserDirectory + ClientRegistry,
    D: Delivery,
{
    super::respond(
        app.request_deadline,
        async {
            let (user, client_id) = caller(app, &request)?;
            let parsed = json_object(&request, ContentTypeRule::RequireJson, false).and_then(|fields| phone(&fields));
            let destination = super::parsed_after(parsed, client_check(app, &request)).await?;
            let realm = user.realm();
            let reads = async {
                // Both run to their end (no request is abandoned); the credentials' answer
                // comes first. `isNewUser` speaks of KGen's users of the token's issuer only.
                let (client, owner) =
                    tokio::join!(client_check(app, &request), app.store().owner_of(&realm, &destination));
                Ok((client?, owner?.is_none()))
            };
            let requester = super::requester(&request, tenant(&user, client_id.as_deref()), DIALECT);
            let ((_, is_new_user), sent) = super::send_default(
                app,
                Scope::User(user),
                &destination,
                &requester,
                reads,
                |(client, _)| super::limits_of(client.as_ref()),
            )
            .await?;
            Ok((
                StatusCode::OK,
                json!({"authCode": sent.auth_code, "isNewUser": is_new_user}),
            ))
        },
        render_error,
    )
    .await
}

/// verify: checks the code of the challenge `authCode` names, and links the phone number
/// to the caller's user.
pub async fn verify<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + ClientRegistry + UserDirectory,
{
    let surface = Surface::of(&request);
    super::respond(
        app.request_deadline,
        async {
            let (user, client_id) = caller(app, &request)?;
            let parsed = json_object(&request, ContentTypeRule::RequireJson, false).and_then(|fields| {
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
                Ok((destination, auth_code, code))
            });
            let (destination, auth_code, code) = super::parsed_after(parsed, client_check(app, &request)).await?;
            let attempt = Attempt {
                scope: Scope::User(user.clone()),
                destination,
                handle: Handle::AuthCode(auth_code),
                code: code.into(),
                requester: super::requester(&request, tenant(&user, client_id.as_deref()), DIALECT),
                link: Some(user),
            };
            app.otp.verify(&attempt, client_check(app, &request)).await?;
            let status = match surface {
                Surface::Frontend => StatusCode::OK,
                Surface::Proxy => StatusCode::CREATED,
            };
            Ok((status, json!({"message": "Users linked successfully"})))
        },
        render_error,
    )
    .await
}
