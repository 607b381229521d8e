//! The HTTP edge shared by every dialect: reading a bounded JSON body, reading headers and
//! fields with precise complaints, and writing JSON responses.

use lambda_http::http::{HeaderValue, StatusCode, header};
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value};

use crate::digits::is_digits;
use crate::error::OtpError;

/// Larger bodies are refused before parsing.
pub const MAX_BODY_BYTES: usize = 16 * 1024;

/// How strictly a route reads its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentTypeRule {
    /// `Content-Type` must be `application/json` (parameters such as charset allowed).
    RequireJson,
    /// The body is JSON whatever the header says (clients that send none, or a form type).
    AnyContentType,
}

/// The caller's address as API Gateway saw it.
pub fn source_ip(request: &Request) -> Option<std::net::IpAddr> {
    use lambda_http::RequestExt;
    use lambda_http::request::RequestContext;
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV2(context) => context.http.source_ip.as_deref()?.parse().ok(),
        #[allow(unreachable_patterns)]
        _ => None,
    }
}

/// The value of one cookie (`Cookie` header, as lambda_http joins API Gateway's `cookies`).
pub fn cookie<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request
        .headers()
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim())
}

/// The request's path without a trailing `/` (API Gateway routes declare none).
pub fn route_path(request: &Request) -> &str {
    let path = request.uri().path();
    if path.len() > 1 {
        path.trim_end_matches('/')
    } else {
        path
    }
}

/// A header's value as text, if present and readable.
pub fn header<'a>(request: &'a Request, name: &str) -> Option<&'a str> {
    request.headers().get(name).and_then(|value| value.to_str().ok())
}

fn is_json_type(request: &Request) -> bool {
    header(request, header::CONTENT_TYPE.as_str()).is_some_and(|value| {
        let media = value.split(';').next().unwrap_or_default().trim();
        media.eq_ignore_ascii_case("application/json")
    })
}

/// The body as a JSON object. An absent or empty body is an empty object only when
/// `allow_empty` (a route whose fields are all optional).
pub fn json_object(request: &Request, rule: ContentTypeRule, allow_empty: bool) -> Result<Fields, OtpError> {
    let bytes: &[u8] = match request.body() {
        Body::Empty => &[],
        Body::Text(text) => text.as_bytes(),
        Body::Binary(bytes) => bytes,
        _ => &[],
    };
    if bytes.len() > MAX_BODY_BYTES {
        return Err(OtpError::invalid("body", format!("larger than {MAX_BODY_BYTES} bytes")));
    }
    if rule == ContentTypeRule::RequireJson && !is_json_type(request) {
        return Err(OtpError::invalid("Content-Type", "must be application/json"));
    }
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return if allow_empty {
            Ok(Fields(Map::new()))
        } else {
            Err(OtpError::invalid("body", "a JSON object is required"))
        };
    }
    match serde_json::from_slice::<Value>(bytes) {
        Ok(Value::Object(map)) => Ok(Fields(map)),
        Ok(_) => Err(OtpError::invalid("body", "must be a JSON object")),
        Err(_) => Err(OtpError::invalid("body", "is not valid JSON")),
    }
}

/// The fields of a JSON body, read with a complaint that names the field.
#[derive(Debug, Clone, Default)]
pub struct Fields(pub Map<String, Value>);

impl Fields {
    /// A required string.
    pub fn string(&self, name: &'static str) -> Result<&str, OtpError> {
        match self.0.get(name) {
            Some(Value::String(text)) => Ok(text),
            None | Some(Value::Null) => Err(OtpError::invalid(name, "is required")),
            Some(_) => Err(OtpError::invalid(name, "must be a string")),
        }
    }

    /// A required non-negative integer, given as a JSON number or a string of digits; its
    /// text keeps a string's leading zeros. A number is one by its value, as JSON Schema
    /// counts it: `173.0` is 173.
    pub fn digits(&self, name: &'static str) -> Result<Digits, OtpError> {
        match self.0.get(name) {
            Some(Value::Number(number)) => number
                .as_u64()
                .or_else(|| {
                    // Integral, and below 2^64 (the first f64 past u64::MAX).
                    number
                        .as_f64()
                        .filter(|value| value.fract() == 0.0 && (0.0..18_446_744_073_709_551_616.0).contains(value))
                        .map(|value| value as u64)
                })
                .map(Digits::Number)
                .ok_or_else(|| OtpError::invalid(name, "must be a non-negative integer")),
            Some(Value::String(text)) if is_digits(text) => Ok(Digits::Text(text.clone())),
            Some(Value::String(_)) => Err(OtpError::invalid(name, "must contain digits only")),
            None | Some(Value::Null) => Err(OtpError::invalid(name, "is required")),
            Some(_) => Err(OtpError::invalid(name, "must be a number or a string of digits")),
        }
    }
}

/// Digits as they arrived: a JSON number has lost its leading zeros, a string has not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Digits {
    Number(u64),
    Text(String),
}

pub use crate::clock::rfc3339;

/// A JSON response, with `Retry-After` when given.
pub fn json_response(status: StatusCode, body: &Value, retry_after: Option<u64>) -> Response<Body> {
    let mut response = Response::new(Body::Text(body.to_string()));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if let Some(seconds) = retry_after {
        headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn request(content_type: Option<&str>, body: &str) -> Request {
        let mut builder = lambda_http::http::Request::builder().method("POST").uri("/x");
        if let Some(content_type) = content_type {
            builder = builder.header("content-type", content_type);
        }
        builder.body(Body::Text(body.to_owned())).unwrap()
    }

    #[test]
    fn bodies_are_bounded_typed_and_parsed() {
        let ok = request(Some("application/json; charset=utf-8"), r#"{"a": "b"}"#);
        assert_eq!(
            json_object(&ok, ContentTypeRule::RequireJson, false)
                .unwrap()
                .string("a")
                .unwrap(),
            "b"
        );
        let form = request(Some("application/x-www-form-urlencoded"), r#"{"a": "b"}"#);
        assert!(json_object(&form, ContentTypeRule::RequireJson, false).is_err());
        assert!(json_object(&form, ContentTypeRule::AnyContentType, false).is_ok());
        let big = request(
            Some("application/json"),
            &format!(r#"{{"a": "{}"}}"#, "x".repeat(MAX_BODY_BYTES)),
        );
        assert_eq!(
            json_object(&big, ContentTypeRule::RequireJson, false).unwrap_err(),
            OtpError::invalid("body", "larger than 16384 bytes")
        );
        for bad in ["{", "[]", "\"x\"", ""] {
            assert!(
                json_object(
                    &request(Some("application/json"), bad),
                    ContentTypeRule::RequireJson,
                    false
                )
                .is_err()
            );
        }
        assert!(json_object(&request(None, ""), ContentTypeRule::AnyContentType, true).is_ok());
    }

    #[test]
    fn digits_accept_integers_and_digit_strings_only() {
        let fields = Fields(
            json!({"n": 596097, "s": "012345", "f": 596097.5, "neg": -1, "e": 1e6, "big": 1e20, "x": "12a", "b": true})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(fields.digits("n").unwrap(), Digits::Number(596097));
        assert_eq!(fields.digits("s").unwrap(), Digits::Text("012345".into()));
        // An integral number written with a fraction or an exponent is that integer.
        assert_eq!(fields.digits("e").unwrap(), Digits::Number(1_000_000));
        for bad in ["f", "neg", "big", "x", "b", "missing"] {
            assert!(fields.digits(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cookies_and_paths() {
        let request = lambda_http::http::Request::builder()
            .uri("/v1/otp/")
            .header("cookie", "a=1; qt-auth=tok.en.sig ; tfa-auth=x")
            .body(Body::Empty)
            .unwrap();
        assert_eq!(cookie(&request, "qt-auth"), Some("tok.en.sig"));
        assert_eq!(cookie(&request, "tfa-auth"), Some("x"));
        assert_eq!(cookie(&request, "b"), None);
        assert_eq!(route_path(&request), "/v1/otp");
    }

    #[test]
    fn responses_carry_json_and_retry_after() {
        let response = json_response(StatusCode::TOO_MANY_REQUESTS, &json!({"m": 1}), Some(0));
        assert_eq!(response.headers()["retry-after"], "1");
        assert_eq!(response.headers()["content-type"], "application/json");
    }
}
