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

use crate::code::Code;
use crate::error::OtpError;
use crate::http::{Digits, json_response};
use crate::policy::CODE_LENGTH;

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
