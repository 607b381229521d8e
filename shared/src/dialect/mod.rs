//! The five products' HTTP dialects. Each parses its requests into the domain's terms,
//! calls the engine, and renders the outcome, errors included, in its own shapes: one
//! `render_error` per dialect is the only place its error bodies are written.
//!
//! A dialect hands its own reads (the caller's credentials, a configuration, the
//! registry) to the engine, which sends them beside its first round trip. Credentials
//! still answer first: a request whose body is malformed has its credentials checked
//! before the 400, so a 401 never depends on the body.

pub mod bizmagnets;
pub mod bridgekeeper;
pub mod kgen;
pub mod twilio;
mod unrouted;
pub mod zap;

pub use unrouted::{declared_operation, not_found, unrouted};

use std::future::Future;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Response};
use serde_json::Value;

use crate::app::App;
use crate::challenge::Sent;
use crate::code::{Code, Submitted};
use crate::destination::Destination;
use crate::engine::{Dispatch, Requester, SendOrder};
use crate::error::OtpError;
use crate::http::{Digits, json_response};
use crate::policy::CODE_LENGTH;
use crate::ports::{
    AttemptLog, ChallengeStore, ClientLimits, ClientRecord, ClientRegistry, ConversionStore, Delivery, QuotaStore,
    SpendStore,
};
use crate::scope::Scope;
use crate::tenant::Tenant;

/// The response of a successful call, or the dialect's rendering of its error; a call
/// still running at the request's `deadline` is cut there and answers 503.
pub(crate) async fn respond(
    deadline: std::time::Duration,
    work: impl Future<Output = Result<(StatusCode, Value), OtpError>>,
    render: impl Fn(&OtpError) -> Response<Body>,
) -> Response<Body> {
    match crate::backend::bounded(deadline, work).await {
        Ok((status, body)) => json_response(status, &body, None),
        Err(error) => render(&error),
    }
}

/// Who sent `request`: the tenant whose budgets it spends (docs/security.md, "Whose budgets"; an API
/// client as its credentials claim it, checked beside the first round trip) and its
/// source address.
pub(crate) fn requester(request: &lambda_http::Request, tenant: Tenant, dialect: &'static str) -> Requester {
    Requester {
        tenant,
        source_ip: crate::http::source_ip(request),
        dialect,
    }
}

/// A parsed part of a request, or its error once the credentials have had their say.
pub(crate) async fn parsed_after<T, C>(
    parsed: Result<T, OtpError>,
    credentials: impl Future<Output = Result<C, OtpError>>,
) -> Result<T, OtpError> {
    match parsed {
        Ok(value) => Ok(value),
        Err(error) => {
            credentials.await?;
            Err(error)
        }
    }
}

/// The limits of the client a request authenticated as, or the deployment's.
pub(crate) fn limits_of(client: Option<&ClientRecord>) -> ClientLimits {
    client.map(|record| record.limits).unwrap_or_default()
}

/// A send with the deployment's default code profile and the message for the
/// destination's kind (SMS to a phone, email to an address), its first round trip beside
/// `reads`, under the `limits` the reads give.
pub(crate) async fn send_default<S, D, T>(
    app: &App<S, D>,
    scope: Scope,
    destination: &Destination,
    requester: &Requester,
    reads: impl Future<Output = Result<T, OtpError>>,
    limits: impl FnOnce(&T) -> ClientLimits,
) -> Result<(T, Sent), OtpError>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + SpendStore + ClientRegistry,
    D: Delivery,
{
    let order = SendOrder {
        scope,
        destination: destination.clone(),
        requester,
        indexed_by_id: false,
        channel: None,
    };
    let dispatch = |reads: &T| Ok(default_dispatch(app, limits(reads)));
    app.otp
        .deliver(order, reads, dispatch, &app.delivery, |(), writing| {
            app.messages
                .for_destination(destination, writing, &crate::messages::Asked::default())
        })
        .await
}

/// A code by the deployment's default profile, to the destination the send names, by
/// its kind's channel.
pub(crate) fn default_dispatch<S, D>(app: &App<S, D>, limits: ClientLimits) -> Dispatch<()> {
    Dispatch {
        limits,
        profile: app.otp.policy.default_profile(),
        channel: None,
        to: None,
        message: (),
        service: None,
    }
}

/// A submitted code: a string keeps its digits as typed (at most the longest length
/// allowed), a number is padded back to the length of the challenge it is compared with
/// and has at most `number_digits` (the deployment's code length where every challenge
/// has it, the longest allowed where a configuration chooses).
pub(crate) fn submitted_code(digits: Digits, number_digits: u8) -> Result<Submitted, OtpError> {
    let longest = CODE_LENGTH.max as u8;
    match digits {
        Digits::Number(number) => Code::from_number(number, number_digits)
            .map(|_| Submitted::Number(number))
            .ok_or_else(|| OtpError::invalid("otp", format!("must have at most {number_digits} digits"))),
        Digits::Text(text) => Code::from_text(&text, longest)
            .map(Submitted::Typed)
            .ok_or_else(|| OtpError::invalid("otp", format!("must have at most {longest} digits"))),
    }
}
