//! A loopback proxy in front of the local AWS that adds a fixed latency to every request,
//! so that round trips show in the time an invocation takes as they do in AWS, and that
//! records each request: its service and operation, when it left and ended, and for
//! DynamoDB writes, the keys of the items it wrote (their sizes, read from the table at
//! the end, give the write units: the benchmark's items keep a constant size).

use std::convert::Infallible;
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
use serde_json::Value;
use tokio::net::TcpListener;

/// One request that went through the proxy.
#[derive(Debug, Clone)]
pub struct Seen {
    /// `dynamodb:UpdateItem`, `sns:Publish`, `sesv2:SendEmail`.
    pub operation: String,
    pub started: Instant,
    pub ended: Instant,
    /// DynamoDB writes: the key of each item written, and whether in a transaction.
    pub writes: Vec<(String, bool)>,
}

#[derive(Debug, Default)]
struct Log(Vec<Seen>);

/// The proxy: its address, and what it saw since the last `take`.
#[derive(Debug, Clone)]
pub struct LatencyProxy {
    pub address: SocketAddr,
    log: Arc<Mutex<Log>>,
}

fn operation_of(headers: &hyper::HeaderMap, path: &str, body: &[u8]) -> String {
    let target = headers.get("x-amz-target").and_then(|v| v.to_str().ok());
    let (service, operation) = otp_tests::meter::wire_operation(target, path, body);
    format!("{service}:{operation}")
}

fn key_of(request: &Value, field: &str) -> Option<String> {
    request.get(field)?.get("pk")?.get("S")?.as_str().map(str::to_owned)
}

/// The items a DynamoDB write touches, by key, and whether inside a transaction.
fn writes_of(operation: &str, body: &[u8]) -> Vec<(String, bool)> {
    let Ok(request) = serde_json::from_slice::<Value>(body) else {
        return Vec::new();
    };
    let mut writes = Vec::new();
    match operation {
        "dynamodb:PutItem" => {
            if let Some(key) = key_of(&request, "Item") {
                writes.push((key, false));
            }
        }
        "dynamodb:UpdateItem" | "dynamodb:DeleteItem" => {
            if let Some(key) = key_of(&request, "Key") {
                writes.push((key, false));
            }
        }
        "dynamodb:TransactWriteItems" => {
            for item in request["TransactItems"].as_array().into_iter().flatten() {
                if let Some(put) = item.get("Put") {
                    if let Some(key) = key_of(put, "Item") {
                        writes.push((key, true));
                    }
                } else if let Some((_, action)) = item.as_object().and_then(|o| o.iter().next())
                    && let Some(key) = key_of(action, "Key")
                {
                    writes.push((key, true));
                }
            }
        }
        _ => {}
    }
    writes
}

impl LatencyProxy {
    /// Listens on a free loopback port and forwards to `upstream` after `latency`.
    pub async fn start(upstream: String, latency: Duration) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let log = Arc::new(Mutex::new(Log::default()));
        let client: Client<HttpConnector, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
        let recording = Arc::clone(&log);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let (client, log, upstream) = (client.clone(), Arc::clone(&recording), upstream.clone());
                tokio::spawn(async move {
                    let service = service_fn(move |request: Request<Incoming>| {
                        forward(client.clone(), Arc::clone(&log), upstream.clone(), latency, request)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { address, log })
    }

    /// Everything seen since the last call, oldest first.
    pub fn take(&self) -> Vec<Seen> {
        std::mem::take(&mut self.log.lock().expect("proxy log").0)
    }
}

async fn forward(
    client: Client<HttpConnector, Full<Bytes>>,
    log: Arc<Mutex<Log>>,
    upstream: String,
    latency: Duration,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    let (parts, body) = request.into_parts();
    let body = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    let path_and_query = parts.uri.path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let operation = operation_of(&parts.headers, parts.uri.path(), &body);
    let writes = writes_of(&operation, &body);
    tokio::time::sleep(latency).await;

    let mut upstream_request = Request::builder()
        .method(parts.method.clone())
        .uri(format!("{upstream}{path_and_query}"));
    for (name, value) in &parts.headers {
        upstream_request = upstream_request.header(name, value);
    }
    let answer = match upstream_request.body(Full::new(body)) {
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
    log.lock().expect("proxy log").0.push(Seen {
        operation,
        started,
        ended: Instant::now(),
        writes,
    });
    Ok(response)
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_name_their_items() {
        let body = json!({"TransactItems": [
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "A"}}}},
            {"Update": {"TableName": "t", "Key": {"pk": {"S": "B"}}}}
        ]})
        .to_string();
        let writes = writes_of("dynamodb:TransactWriteItems", body.as_bytes());
        assert_eq!(writes, vec![("A".to_owned(), true), ("B".to_owned(), true)]);
    }
}
