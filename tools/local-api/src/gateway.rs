//! What API Gateway (HTTP API, payload format 2.0) does between a client and a function:
//! the event it builds from a request, and the HTTP response it makes of the answer.

use std::net::SocketAddr;

use hyper::body::Bytes;
use hyper::http::{HeaderMap, Response, StatusCode};
use lambda_http::Body;
use serde_json::{Map, Value, json};

use crate::routes::Matched;

/// API Gateway refuses larger payloads (10 MB); so does the local API.
pub const MAX_PAYLOAD_BYTES: usize = 10 * 1024 * 1024;

/// The event API Gateway hands the function for this request.
pub fn event(
    method: &str,
    path: &str,
    query: &str,
    headers: &HeaderMap,
    body: &[u8],
    peer: SocketAddr,
    matched: &Matched<'_>,
) -> Value {
    // Header names are lower-cased and repeated values joined by commas; cookies travel
    // apart, in `cookies`.
    let mut joined: Map<String, Value> = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == hyper::header::COOKIE {
            cookies.extend(value.split(';').map(|c| Value::String(c.trim().to_owned())));
            continue;
        }
        joined
            .entry(name.as_str().to_owned())
            .and_modify(|existing| {
                if let Value::String(text) = existing {
                    text.push(',');
                    text.push_str(&value);
                }
            })
            .or_insert(Value::String(value));
    }
    // API Gateway says which scheme the client used, whatever the client sent; the
    // local server is plain HTTP (resources' URLs, such as a page's next, are built on it).
    joined.insert("x-forwarded-proto".to_owned(), Value::String("http".to_owned()));
    let user_agent = joined
        .get("user-agent")
        .cloned()
        .unwrap_or(Value::String(String::new()));
    let (body, encoded) = match std::str::from_utf8(body) {
        Ok(text) => (text.to_owned(), false),
        Err(_) => (base64_encode(body), true),
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or_default();
    let route_key = matched.route.key();
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": query,
        "headers": joined,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": "127.0.0.1",
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": peer.ip().to_string(),
                "userAgent": user_agent,
            },
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": route_key,
            "stage": "$default",
            "time": "",
            "timeEpoch": now,
        },
        "isBase64Encoded": encoded,
    });
    if !cookies.is_empty() {
        event["cookies"] = Value::Array(cookies);
    }
    // As API Gateway gives them: decoded, a name given twice with its values comma-joined.
    let mut parameters: Map<String, Value> = Map::new();
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        parameters
            .entry(name.into_owned())
            .and_modify(|existing| {
                if let Value::String(text) = existing {
                    text.push(',');
                    text.push_str(&value);
                }
            })
            .or_insert(Value::String(value.into_owned()));
    }
    if !parameters.is_empty() {
        event["queryStringParameters"] = Value::Object(parameters);
    }
    if !body.is_empty() {
        event["body"] = Value::String(body);
    }
    if !matched.parameters.is_empty() {
        let parameters: Map<String, Value> = matched
            .parameters
            .iter()
            .map(|(name, value)| (name.clone(), Value::String(value.clone())))
            .collect();
        event["pathParameters"] = Value::Object(parameters);
    }
    event
}

fn base64_encode(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The HTTP response of a function's answer.
pub fn response(answer: lambda_http::Response<Body>) -> Response<http_body_util::Full<Bytes>> {
    let (parts, body) = answer.into_parts();
    let bytes = match body {
        Body::Empty => Bytes::new(),
        Body::Text(text) => Bytes::from(text),
        Body::Binary(bytes) => Bytes::from(bytes),
        _ => Bytes::new(),
    };
    let mut response = Response::new(http_body_util::Full::new(bytes));
    *response.status_mut() = parts.status;
    *response.headers_mut() = parts.headers;
    response
}

/// A JSON answer of the local API itself (API Gateway's 404, a payload too large).
pub fn plain(status: StatusCode, body: &Value) -> Response<http_body_util::Full<Bytes>> {
    let mut response = Response::new(http_body_util::Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::routes::Route;

    #[test]
    fn events_are_shaped_as_api_gateway_shapes_them() {
        let route = Route {
            method: "POST".into(),
            path: "/otp/{otp_uid}/verifyOTP".into(),
            function: "verify".into(),
        };
        let matched = Matched {
            route: &route,
            parameters: vec![("otp_uid".into(), "abc".into())],
        };
        let mut headers = HeaderMap::new();
        headers.insert("Content-Type", "application/json".parse().unwrap());
        headers.append("X-Multi", "a".parse().unwrap());
        headers.append("X-Multi", "b".parse().unwrap());
        headers.insert("Cookie", "qt-auth=t; other=1".parse().unwrap());
        let peer: SocketAddr = "127.0.0.1:5555".parse().unwrap();
        let event = event(
            "POST",
            "/otp/abc/verifyOTP",
            "",
            &headers,
            br#"{"otp":"1"}"#,
            peer,
            &matched,
        );
        assert_eq!(event["routeKey"], "POST /otp/{otp_uid}/verifyOTP");
        assert_eq!(event["headers"]["x-multi"], "a,b");
        assert_eq!(event["cookies"], json!(["qt-auth=t", "other=1"]));
        assert!(event["headers"].get("cookie").is_none());
        assert_eq!(event["pathParameters"]["otp_uid"], "abc");
        assert_eq!(event["requestContext"]["http"]["sourceIp"], "127.0.0.1");

        let request = lambda_http::request::from_str(&event.to_string()).unwrap();
        assert_eq!(request.uri().path(), "/otp/abc/verifyOTP");
        assert_eq!(request.headers()["cookie"], "qt-auth=t; other=1");
        assert_eq!(base64_encode(b"\xff\x00a"), "/wBh");
    }
}
