//! Counts what a deployment asks of AWS: every request, by service and operation, and how
//! many sequential round trips they took. An interceptor on each SDK client of the
//! deployment sees each request leave and its attempt end; a round trip begins whenever a
//! request leaves while none is in flight, so requests sent together (`join!`) count as
//! one round trip and requests sent one after another as one each. Deterministic: it
//! counts what the code awaits, not how long anything took.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_sdk_dynamodb::error::BoxError;

/// What one operation cost, as a test asserts it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Usage {
    /// Every request as `service:Operation`, sorted.
    pub requests: Vec<String>,
    /// Sequential round trips to any service (deliveries included).
    pub round_trips: usize,
    /// Sequential round trips to DynamoDB alone.
    pub dynamodb_round_trips: usize,
}

impl Usage {
    /// How many requests went to `service`.
    pub fn to(&self, service: &str) -> usize {
        self.requests
            .iter()
            .filter(|r| r.split(':').next() == Some(service))
            .count()
    }
}

#[derive(Debug, Default)]
struct State {
    requests: Vec<String>,
    /// Each DynamoDB request: its operation and body (the keys a read names, the items
    /// of a transaction).
    dynamodb: Vec<(String, String)>,
    in_flight: usize,
    dynamodb_in_flight: usize,
    round_trips: usize,
    dynamodb_round_trips: usize,
}

/// The meter of one deployment, shared by its SDK clients.
#[derive(Debug, Clone, Default)]
pub struct Meter(Arc<Mutex<State>>);

/// The meter as one SDK client's interceptor: it knows its client's service, since a
/// finished attempt no longer carries its request.
#[derive(Debug, Clone)]
pub struct Tap {
    meter: Meter,
    service: &'static str,
}

impl Meter {
    /// The interceptor for the client of `service` (`dynamodb`, `sns`, `sesv2`).
    pub fn tap(&self, service: &'static str) -> Tap {
        Tap {
            meter: self.clone(),
            service,
        }
    }

    /// Forgets everything counted so far.
    pub fn reset(&self) {
        *self.0.lock().expect("meter") = State::default();
    }

    /// How many DynamoDB reads since the last reset named a key containing `text` (an
    /// item key's prefix): what a batched read asked for.
    pub fn reads_naming(&self, text: &str) -> usize {
        let state = self.0.lock().expect("meter");
        state
            .dynamodb
            .iter()
            .filter(|(operation, body)| operation == "BatchGetItem" && body.contains(text))
            .count()
    }

    /// The IAM actions the requests since the last reset needed: a transaction needs
    /// those of its items (`dynamodb:PutItem` for a `Put`), SESv2 is `ses:`, End User
    /// Messaging Social `social-messaging:`.
    pub fn iam_actions(&self) -> BTreeSet<String> {
        let state = self.0.lock().expect("meter");
        let mut actions: BTreeSet<String> = state
            .requests
            .iter()
            .filter_map(|request| request.split_once(':'))
            .filter(|(_, operation)| *operation != "TransactWriteItems")
            .map(|(service, operation)| {
                let prefix = match service {
                    "sesv2" => "ses",
                    "socialmessaging" => "social-messaging",
                    other => other,
                };
                format!("{prefix}:{operation}")
            })
            .collect();
        for (_, body) in state
            .dynamodb
            .iter()
            .filter(|(operation, _)| operation == "TransactWriteItems")
        {
            let body: serde_json::Value = serde_json::from_str(body).unwrap_or_default();
            for item in body["TransactItems"].as_array().into_iter().flatten() {
                for kind in item.as_object().into_iter().flat_map(|item| item.keys()) {
                    let action = match kind.as_str() {
                        "ConditionCheck" => "ConditionCheckItem".to_owned(),
                        other => format!("{other}Item"),
                    };
                    actions.insert(format!("dynamodb:{action}"));
                }
            }
        }
        actions
    }

    /// What was counted since the last reset.
    pub fn usage(&self) -> Usage {
        let state = self.0.lock().expect("meter");
        let mut requests = state.requests.clone();
        requests.sort();
        Usage {
            requests,
            round_trips: state.round_trips,
            dynamodb_round_trips: state.dynamodb_round_trips,
        }
    }
}

/// The service and operation of an AWS request, from what goes on the wire: DynamoDB's
/// `X-Amz-Target`, SESv2's and End User Messaging Social's paths, SNS's `Action` form field.
pub fn wire_operation(target: Option<&str>, path: &str, body: &[u8]) -> (&'static str, String) {
    if let Some(target) = target {
        return ("dynamodb", target.rsplit('.').next().unwrap_or(target).to_owned());
    }
    if path.contains("/v2/email/outbound-emails") {
        return ("sesv2", "SendEmail".to_owned());
    }
    if path.ends_with("/v1/whatsapp/send") {
        return ("socialmessaging", "SendWhatsAppMessage".to_owned());
    }
    let body = std::str::from_utf8(body).unwrap_or("");
    match body.split('&').find_map(|pair| pair.strip_prefix("Action=")) {
        Some(action) => ("sns", action.to_owned()),
        None => ("other", path.to_owned()),
    }
}

fn operation(request: &aws_sdk_dynamodb::config::http::HttpRequest) -> String {
    let body = request.body().bytes().unwrap_or_default();
    wire_operation(request.headers().get("x-amz-target"), request.uri(), body).1
}

impl Intercept for Tap {
    fn name(&self) -> &'static str {
        "Meter"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = operation(context.request());
        let mut state = self.meter.0.lock().expect("meter");
        if state.in_flight == 0 {
            state.round_trips += 1;
        }
        state.in_flight += 1;
        if self.service == "dynamodb" {
            if state.dynamodb_in_flight == 0 {
                state.dynamodb_round_trips += 1;
            }
            state.dynamodb_in_flight += 1;
        }
        if self.service == "dynamodb" {
            let body = context.request().body().bytes().unwrap_or_default();
            state
                .dynamodb
                .push((operation.clone(), String::from_utf8_lossy(body).into_owned()));
        }
        state.requests.push(format!("{}:{operation}", self.service));
        Ok(())
    }

    fn read_after_attempt(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut state = self.meter.0.lock().expect("meter");
        state.in_flight = state.in_flight.saturating_sub(1);
        if self.service == "dynamodb" {
            state.dynamodb_in_flight = state.dynamodb_in_flight.saturating_sub(1);
        }
        Ok(())
    }
}
