//! What a Twilio request says: its route, its form, its credentials, its `To` and
//! `Channel`, and the URL it reached the service by.

use crate::language::{self, Locale};
use crate::localization::is_app_hash;
use crate::messages::clean_name;
use std::collections::HashMap;

use base64::Engine as _;
use lambda_http::{Body, Request};

use crate::destination::Destination;
use crate::error::OtpError;
use crate::http::{MAX_BODY_BYTES, header, route_path};

/// The routes: the Services resource, and the verifications under one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Route<'a> {
    /// `/v2/Services`: list (`GET`) and create (`POST`).
    Services,
    /// `/v2/Services/{ServiceSid}`: fetch, update and delete.
    Service {
        service: &'a str,
    },
    Create {
        service: &'a str,
    },
    Check {
        service: &'a str,
    },
    /// A verification named by its sid, or by its `To`.
    Verification {
        service: &'a str,
        named: &'a str,
    },
}

pub(super) fn route(request: &Request) -> Option<Route<'_>> {
    let path = route_path(request);
    if path == "/v2/Services" {
        return Some(Route::Services);
    }
    let rest = path.strip_prefix("/v2/Services/")?;
    let mut segments = rest.split('/');
    let service = segments.next().filter(|s| !s.is_empty())?;
    let route = match (segments.next(), segments.next()) {
        (None, _) => Route::Service { service },
        (Some("Verifications"), None) => Route::Create { service },
        (Some("VerificationCheck"), None) => Route::Check { service },
        (Some("Verifications"), Some(named)) if !named.is_empty() => Route::Verification { service, named },
        _ => return None,
    };
    segments.next().is_none().then_some(route)
}

/// A query parameter of the request's URL (its first value), percent-decoded.
pub(super) fn query(request: &Request, name: &str) -> Option<String> {
    form_urlencoded::parse(request.uri().query()?.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

/// A form-encoded body's parameters (`application/x-www-form-urlencoded`, as Twilio's
/// API takes them), each with every value it was given.
#[derive(Debug, Default)]
pub(super) struct Form(HashMap<String, Vec<String>>);

impl Form {
    /// A parameter's value; one given twice is refused rather than guessed.
    pub(super) fn get(&self, name: &'static str) -> Result<Option<&str>, OtpError> {
        match self.0.get(name).map(Vec::as_slice) {
            None => Ok(None),
            Some([value]) => Ok(Some(value.as_str())),
            Some(_) => Err(OtpError::invalid(name, "is given more than once")),
        }
    }

    pub(super) fn required(&self, name: &'static str) -> Result<&str, OtpError> {
        self.get(name)?.ok_or_else(|| OtpError::invalid(name, "is required"))
    }
}

/// The request's form. Parameters of Twilio's API that this service does not use are
/// accepted and ignored, as Twilio ignores unknown ones.
pub(super) fn form(request: &Request) -> Result<Form, OtpError> {
    let bytes: &[u8] = match request.body() {
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(OtpError::invalid("body", format!("larger than {MAX_BODY_BYTES} bytes")));
    }
    let form_type = header(request, "content-type").is_some_and(|value| {
        value
            .split(';')
            .next()
            .is_some_and(|kind| kind.trim().eq_ignore_ascii_case("application/x-www-form-urlencoded"))
    });
    if !form_type && !bytes.is_empty() {
        return Err(OtpError::invalid(
            "Content-Type",
            "must be application/x-www-form-urlencoded",
        ));
    }
    let mut parameters = Form::default();
    for (name, value) in form_urlencoded::parse(bytes) {
        parameters
            .0
            .entry(name.into_owned())
            .or_default()
            .push(value.into_owned());
    }
    Ok(parameters)
}

/// HTTP Basic credentials: the account SID (an API client's id) and the auth token (its
/// secret), or an API key's SID and its secret.
pub(super) fn basic_credentials(request: &Request) -> Option<(String, String)> {
    let (scheme, encoded) = header(request, "authorization")?.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// The client the credentials name (by its id, its account SID or an API key's secret),
/// not yet checked: what the send budgets count on.
pub(super) fn claimed_account(request: &Request) -> Option<String> {
    basic_credentials(request).and_then(|(username, password)| crate::callers::claimed_by_basic(&username, &password))
}

/// `To`: an E.164 number (SMS) or an email address (which may begin with `+` too).
pub(super) fn destination(to: &str) -> Result<Destination, OtpError> {
    if !to.contains('@') && to.trim_start().starts_with('+') {
        Destination::e164(to).map_err(|_| OtpError::invalid("To", "is not a valid E.164 phone number"))
    } else {
        Destination::email(to).map_err(|_| OtpError::invalid("To", "is not a valid phone number or email address"))
    }
}

/// `Channel`: one of Twilio's; only those the service enables send.
pub(super) fn requested_channel(parameters: &Form) -> Result<&str, OtpError> {
    let channel = parameters.required("Channel")?;
    match channel {
        "sms" | "email" | "whatsapp" | "call" | "sna" | "auto" => Ok(channel),
        _ => Err(OtpError::invalid(
            "Channel",
            "must be one of sms, email, whatsapp, call, sna, auto",
        )),
    }
}

/// `Locale`: a language with a built-in text (and, when it is to be `spoken` by a call, a
/// voice), else what Twilio answers for one it lacks.
pub(super) fn locale(tag: &str, spoken: bool) -> Result<Locale, OtpError> {
    match language::find(tag) {
        Some(locale) if !spoken || language::voice(locale).is_some() => Ok(locale),
        _ => Err(OtpError::UnsupportedLocale {
            tag: clean_name(tag),
            spoken,
        }),
    }
}

/// `AppHash`: Android's 11-character hash of the app, which its SMS Retriever reads.
pub(super) fn app_hash(hash: &str) -> Result<String, OtpError> {
    match is_app_hash(hash) {
        true => Ok(hash.to_owned()),
        false => Err(OtpError::invalid("AppHash", "must be the app's 11-character hash")),
    }
}

/// `https://host` as the request reached it.
pub(super) fn base_url(request: &Request) -> String {
    let host = header(request, "host").unwrap_or("localhost");
    let scheme = header(request, "x-forwarded-proto").unwrap_or("https");
    format!("{scheme}://{host}")
}

/// A path segment as sent (`%2B15017122661` is `+15017122661`).
pub(super) fn percent_decoded(segment: &str) -> String {
    form_urlencoded::parse(format!("x={}", segment.replace('+', "%2B")).as_bytes())
        .next()
        .map(|(_, value)| value.into_owned())
        .unwrap_or_default()
}
