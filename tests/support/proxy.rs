//! A loopback proxy in front of the local AWS. It records every request (its service and
//! operation, when it left and ended, its body), can add a fixed latency to each (so that
//! round trips show in wall time, as in AWS), and can fail the requests a test names, as
//! AWS fails: refusing connections, hanging, throttling or answering 500, each in the
//! wire shape of the service asked (DynamoDB's JSON, SNS's XML, SESv2's REST errors).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;

use crate::meter::wire_operation;

/// How the proxy fails a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The connection is reset: refused before a request is read, dropped after.
    Refuse,
    /// The request is read and never answered.
    Hang,
    /// The service's own "slow down" error.
    Throttle,
    /// An internal server error (500) in the service's shape.
    ServerError,
    /// DynamoDB reads none of a `BatchGetItem`'s keys and hands them all back as
    /// unprocessed, as it does under throttling. Other requests pass.
    Unprocessed,
}

impl Fault {
    /// The faults of every service.
    pub const ALL: [Fault; 4] = [Fault::Refuse, Fault::Hang, Fault::Throttle, Fault::ServerError];
    /// DynamoDB's: every service's, and a batch of reads left unprocessed.
    pub const DYNAMODB: [Fault; 5] = [
        Fault::Refuse,
        Fault::Hang,
        Fault::Throttle,
        Fault::ServerError,
        Fault::Unprocessed,
    ];
}

/// One request that went through the proxy.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `dynamodb:UpdateItem`, `sns:Publish`, `sesv2:SendEmail`.
    pub operation: String,
    pub started: Instant,
    pub ended: Instant,
    pub body: Bytes,
    /// The proxy failed it rather than forwarding it.
    pub failed: Option<Fault>,
}

/// Which requests a fault hits: those of an operation (`dynamodb:TransactWriteItems`),
/// those whose body contains a text (an item key's prefix), or every one.
#[derive(Debug, Clone, Default)]
pub struct Matching {
    pub operation: Option<&'static str>,
    pub body_contains: Option<&'static str>,
}

impl Matching {
    pub fn every() -> Self {
        Self::default()
    }

    pub fn operation(operation: &'static str) -> Self {
        Self {
            operation: Some(operation),
            body_contains: None,
        }
    }

    fn hits(&self, operation: &str, body: &[u8]) -> bool {
        self.operation.is_none_or(|wanted| wanted == operation)
            && self
                .body_contains
                .is_none_or(|text| body.windows(text.len()).any(|window| window == text.as_bytes()))
    }
}

#[derive(Debug, Default)]
struct State {
    seen: Vec<Seen>,
    fault: Option<(Fault, Matching)>,
}

/// The proxy: its address, what it saw since the last `take`, and the fault it injects.
#[derive(Debug, Clone)]
pub struct AwsProxy {
    pub address: SocketAddr,
    state: Arc<Mutex<State>>,
}

/// How long a hung request is held before its connection is dropped (longer than any
/// deadline under test).
const HANG: Duration = Duration::from_secs(30);

impl AwsProxy {
    /// Listens on a free loopback port and forwards to `upstream`, each request after
    /// `latency`.
    pub async fn start(upstream: String, latency: Duration) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let state = Arc::new(Mutex::new(State::default()));
        let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let shared = Arc::clone(&state);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let refuse_all = matches!(
                    &shared.lock().expect("proxy state").fault,
                    Some((
                        Fault::Refuse,
                        Matching {
                            operation: None,
                            body_contains: None
                        }
                    ))
                );
                if refuse_all {
                    // A reset, as from a port nothing listens on.
                    let _ = stream.set_zero_linger();
                    drop(stream);
                    continue;
                }
                let (client, state, upstream) = (client.clone(), Arc::clone(&shared), upstream.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        handle(client.clone(), Arc::clone(&state), upstream.clone(), latency, request)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { address, state })
    }

    /// The proxy's URL, for an SDK endpoint.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Fails the requests `matching` selects with `fault`, until `heal`.
    pub fn fail(&self, fault: Fault, matching: Matching) {
        self.state.lock().expect("proxy state").fault = Some((fault, matching));
    }

    /// Forwards every request again.
    pub fn heal(&self) {
        self.state.lock().expect("proxy state").fault = None;
    }

    /// Everything seen since the last call, oldest first.
    pub fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut self.state.lock().expect("proxy state").seen)
    }
}

async fn handle(
    client: Client<HttpConnector, Full<Bytes>>,
    state: Arc<Mutex<State>>,
    upstream: String,
    latency: Duration,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    let target = parts.headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    let (service, operation) = wire_operation(target, parts.uri.path(), &body);
    let operation = format!("{service}:{operation}");
    let fault = match &state.lock().expect("proxy state").fault {
        Some((Fault::Unprocessed, _)) if operation != "dynamodb:BatchGetItem" => None,
        Some((fault, matching)) if matching.hits(&operation, &body) => Some(*fault),
        _ => None,
    };
    let record = |failed: Option<Fault>| {
        state.lock().expect("proxy state").seen.push(Seen {
            operation: operation.clone(),
            started,
            ended: Instant::now(),
            body: body.clone(),
            failed,
        });
    };
    match fault {
        Some(Fault::Refuse) => {
            record(Some(Fault::Refuse));
            // An error from the service ends the connection without an answer.
            return Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "refused"));
        }
        Some(Fault::Hang) => {
            record(Some(Fault::Hang));
            tokio::time::sleep(HANG).await;
            return Err(std::io::Error::new(std::io::ErrorKind::TimedOut, "hung"));
        }
        Some(Fault::Unprocessed) => {
            tokio::time::sleep(latency).await;
            record(Some(Fault::Unprocessed));
            return Ok(all_unprocessed(&body));
        }
        Some(fault) => {
            tokio::time::sleep(latency).await;
            record(Some(fault));
            return Ok(error_response(service, fault));
        }
        None => {}
    }

    tokio::time::sleep(latency).await;
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let mut upstream_request = Request::builder()
        .method(parts.method.clone())
        .uri(format!("{upstream}{path_and_query}"));
    for (name, value) in &parts.headers {
        upstream_request = upstream_request.header(name, value);
    }
    let answer = match upstream_request.body(Full::new(body.clone())) {
        Ok(request) => client.request(request).await.ok(),
        Err(_) => None,
    };
    let response = match answer {
        Some(response) => {
            let (parts, body) = response.into_parts();
            let body = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
            Response::from_parts(parts, Full::new(body))
        }
        None => {
            let mut response = Response::new(Full::new(Bytes::from_static(b"upstream failed")));
            *response.status_mut() = StatusCode::BAD_GATEWAY;
            response
        }
    };
    record(None);
    Ok(response)
}

/// A `BatchGetItem`'s answer that read nothing: every key it asked for, unprocessed.
fn all_unprocessed(request: &[u8]) -> Response<Full<Bytes>> {
    let asked: serde_json::Value = serde_json::from_slice(request).unwrap_or_default();
    let body = serde_json::json!({"Responses": {}, "UnprocessedKeys": asked["RequestItems"]});
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/x-amz-json-1.0"),
    );
    response
}

/// A throttling or internal error as `service` sends it on the wire.
fn error_response(service: &str, fault: Fault) -> Response<Full<Bytes>> {
    let throttled = fault == Fault::Throttle;
    let (status, content_type, error_type, body) = match service {
        "dynamodb" => {
            let (status, kind) = if throttled {
                (400, "ThrottlingException")
            } else {
                (500, "InternalServerError")
            };
            let body = format!(r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{kind}","message":"injected"}}"#);
            (status, "application/x-amz-json-1.0", None, body)
        }
        "sns" => {
            let (status, side, code) = if throttled {
                (400, "Sender", "Throttling")
            } else {
                (500, "Receiver", "InternalError")
            };
            let body = format!(
                "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>{side}</Type>\
                 <Code>{code}</Code><Message>injected</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
            );
            (status, "text/xml", None, body)
        }
        _ => {
            let (status, kind) = if throttled {
                (429, "TooManyRequestsException")
            } else {
                (500, "InternalFailure")
            };
            (
                status,
                "application/json",
                Some(kind),
                r#"{"message":"injected"}"#.to_owned(),
            )
        }
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static(content_type),
    );
    headers.insert("x-amzn-requestid", hyper::header::HeaderValue::from_static("fault"));
    if let Some(kind) = error_type {
        headers.insert("x-amzn-errortype", hyper::header::HeaderValue::from_static(kind));
    }
    response
}

/// Sequential round trips among `seen`: a request that left while none was in flight
/// starts one. `only`: count requests of that service alone.
pub fn round_trips(seen: &[Seen], only: Option<&str>) -> usize {
    let mut requests: Vec<&Seen> = seen
        .iter()
        .filter(|s| only.is_none_or(|service| s.operation.starts_with(&format!("{service}:"))))
        .collect();
    requests.sort_by_key(|s| s.started);
    let mut trips = 0;
    let mut busy_until: Option<Instant> = None;
    for request in requests {
        if busy_until.is_none_or(|until| request.started >= until) {
            trips += 1;
            busy_until = Some(request.ended);
        } else if let Some(until) = busy_until {
            busy_until = Some(until.max(request.ended));
        }
    }
    trips
}
