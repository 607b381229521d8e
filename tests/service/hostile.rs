//! Hostile input, generated: every route's event (from `events/`) with its body replaced by
//! any bytes or any JSON, huge or deeply nested, a field set to anything, unicode in every
//! field, odd headers and cookies. API Gateway's event must still decode, and every
//! function must answer it with a status below 500 in a shape `openapi.json` allows
//! (`answer` checks), without panicking.

use std::sync::OnceLock;

use otp_tests::audit::report;
use otp_tests::{Deployment, workspace_root};
use proptest::prelude::*;
use serde_json::{Value, json};

use crate::*;

/// The headers a hostile caller plays with.
const HEADERS: [&str; 8] = [
    "content-type",
    "user-jwt-token",
    "clientid",
    "clientsecret",
    "x-api-key",
    "cookie",
    "content-length",
    "accept",
];

/// A header or cookie value as HTTP can carry one, so as API Gateway can deliver it: any
/// unicode but control characters (HTTP parsers refuse those before any function runs).
const FIELD_VALUE: &str = "[^\\x00-\\x08\\x0A-\\x1F\\x7F]{0,200}";

/// Any JSON: scalars of every kind (unicode strings, huge numbers), nested arrays and objects.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}

/// One change to an event.
#[derive(Debug, Clone)]
enum Change {
    /// The body: any text, which need not be JSON.
    Text(String),
    /// The body: any JSON.
    Json(Value),
    /// One field of the event's own body (or a new one) set to anything.
    Field(String, Value),
    /// The body padded with whitespace past the size limit, or not.
    Padded(usize),
    /// The body nested this deep in arrays.
    Nested(usize),
    /// A header set to any text, or removed.
    Header(&'static str, Option<String>),
    /// API Gateway's cookies: any list of texts.
    Cookies(Vec<String>),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        any::<String>().prop_map(Change::Text),
        any_json().prop_map(Change::Json),
        (
            prop_oneof![
                Just("otp".to_owned()),
                Just("phone_number".to_owned()),
                Just("countryCode".to_owned()),
                Just("mobileNumber".to_owned()),
                Just("email".to_owned()),
                Just("phoneNumber".to_owned()),
                Just("phone-number".to_owned()),
                Just("userId".to_owned()),
                Just("authCode".to_owned()),
                Just("mediums".to_owned()),
                ".{0,10}",
            ],
            any_json()
        )
            .prop_map(|(field, value)| Change::Field(field, value)),
        (0usize..40_000).prop_map(Change::Padded),
        (1usize..3_000).prop_map(Change::Nested),
        (prop::sample::select(HEADERS.to_vec()), prop::option::of(FIELD_VALUE))
            .prop_map(|(name, value)| Change::Header(name, value)),
        prop::collection::vec(FIELD_VALUE, 0..4).prop_map(Change::Cookies),
    ]
}

/// The event file `name`, changed.
fn hostile_event(name: &str, changes: &[Change]) -> String {
    let file = workspace_root().join("events").join(format!("{name}.json"));
    let mut event: Value = serde_json::from_str(&std::fs::read_to_string(file).expect("event file")).expect("JSON");
    for change in changes {
        let body = event["body"].as_str().unwrap_or_default().to_owned();
        match change {
            Change::Text(text) => event["body"] = json!(text),
            Change::Json(value) => event["body"] = json!(value.to_string()),
            Change::Field(field, value) => {
                let mut parsed: Value = serde_json::from_str(&body).unwrap_or_else(|_| json!({}));
                if let Some(object) = parsed.as_object_mut() {
                    object.insert(field.clone(), value.clone());
                }
                event["body"] = json!(parsed.to_string());
            }
            Change::Padded(spaces) => event["body"] = json!(format!("{body}{}", " ".repeat(*spaces))),
            Change::Nested(depth) => event["body"] = json!(format!("{}{}", "[".repeat(*depth), "]".repeat(*depth))),
            Change::Header(name, Some(value)) => event["headers"][*name] = json!(value),
            Change::Header(name, None) => {
                if let Some(headers) = event["headers"].as_object_mut() {
                    headers.remove(*name);
                }
            }
            Change::Cookies(cookies) => event["cookies"] = json!(cookies),
        }
    }
    event.to_string()
}

/// One deployment and one runtime for every case (the local AWS is shared, and a case is
/// one request).
fn rig() -> &'static (tokio::runtime::Runtime, Deployment) {
    static RIG: OnceLock<(tokio::runtime::Runtime, Deployment)> = OnceLock::new();
    RIG.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime");
        let deployment = runtime.block_on(Deployment::new());
        (runtime, deployment)
    })
}

/// Proptest's settings for `cases` cases, with no file of past failures (a failure is
/// printed, shrunk, with its input).
fn cases(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

#[test]
fn no_input_makes_a_function_fail() {
    let config = cases(1_000);
    let names = crate::events::event_names();
    let routes = names.len();
    let generated = (prop::sample::select(names), prop::collection::vec(change(), 1..4));
    proptest!(config.clone(), |((name, changes) in generated)| {
        let event = hostile_event(&name, &changes);
        // API Gateway sends only what decodes; what decodes, every function must answer.
        let request = lambda_http::request::from_str(&event);
        prop_assert!(request.is_ok(), "the event did not decode: {:?}", request.err());
        let (runtime, deployment) = rig();
        let function = crate::events::function_of(&name);
        let (status, body, _) = runtime.block_on(call_function(deployment, function, request.expect("decoded")));
        prop_assert!(status < 500, "{name}: {status} {body}");
    });
    report(
        "hostile.txt",
        &format!(
            "hostile input: {} generated requests over the {routes} routes' events, each answered below 500 in a shape openapi.json allows",
            config.cases
        ),
    );
}

#[test]
fn any_bytes_as_an_event_are_refused_without_a_panic() {
    let config = cases(2_000);
    proptest!(config.clone(), |(bytes in prop::collection::vec(any::<u8>(), 0..512))| {
        let text = String::from_utf8_lossy(&bytes);
        // Whatever the runtime is handed, decoding answers, and never panics.
        let _ = lambda_http::request::from_str(&text);
    });
    report(
        "hostile-events.txt",
        &format!(
            "hostile events: {} arbitrary payloads decoded or refused, no panic",
            config.cases
        ),
    );
}
