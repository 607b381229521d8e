//! The five products' HTTP dialects. Each parses its requests into the domain's terms,
//! calls the engine, and renders the outcome, errors included, in its own shapes: one
//! `render_error` per dialect is the only place its error bodies are written.

pub mod bizmagnets;
pub mod bridgekeeper;
pub mod kgen;
pub mod zap;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::{Value, json};

use crate::app::App;
use crate::challenge::{Requester, Sent};
use crate::code::Code;
use crate::destination::Destination;
use crate::error::OtpError;
use crate::http::{Digits, json_response};
use crate::policy::CODE_LENGTH;
use crate::ports::{ChallengeStore, Delivery, QuotaStore};
use crate::scope::Scope;

/// A route no dialect serves (a request that reached a function by the `$default` route).
pub fn not_found() -> Response<Body> {
    json_response(StatusCode::NOT_FOUND, &json!({"message": "Not Found"}), None)
}

/// The response of a successful call, or the dialect's rendering of its error.
pub(crate) fn respond(
    result: Result<(StatusCode, Value), OtpError>,
    render: impl Fn(&OtpError) -> Response<Body>,
) -> Response<Body> {
    match result {
        Ok((status, body)) => json_response(status, &body, None),
        Err(error) => render(&error),
    }
}

/// Who sent `request`, for the send budgets: its source address and API client.
pub(crate) fn requester(request: &lambda_http::Request, client: Option<String>) -> Requester {
    Requester {
        source_ip: crate::http::source_ip(request),
        client,
    }
}

/// A send with the deployment's default code profile and message for the destination's
/// kind (SMS to a phone, email to an address).
pub(crate) async fn send_default<S, D>(
    app: &App<S, D>,
    scope: &Scope,
    destination: &Destination,
    requester: &Requester,
) -> Result<Sent, OtpError>
where
    S: ChallengeStore + QuotaStore,
    D: Delivery,
{
    let profile = app.otp.policy.default_profile();
    app.otp
        .send(
            &app.delivery,
            scope,
            destination,
            &profile,
            requester,
            |code, profile| app.messages.for_destination(destination, code, profile),
        )
        .await
}

/// A submitted code, for the dialects whose challenges may have any configured length: a
/// string keeps its digits as typed, a number is padded back to `number_length`.
pub(crate) fn submitted_code(digits: Digits, number_length: u8) -> Result<Code, OtpError> {
    let longest = CODE_LENGTH.max as u8;
    match digits {
        Digits::Number(number) => Code::from_number(number, number_length),
        Digits::Text(text) => Code::from_text(&text, longest),
    }
    .ok_or_else(|| OtpError::invalid("otp", format!("must have at most {longest} digits")))
}
