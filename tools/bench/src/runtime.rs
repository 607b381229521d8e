//! A Lambda Runtime API emulator: what a function's runtime client talks to on Lambda.
//! It serves `GET /runtime/invocation/next` (an event, once the harness has one),
//! `POST /runtime/invocation/{id}/response` and `.../error`, and `POST /runtime/init/error`
//! (version `2018-06-01`), so a release binary runs here exactly as it runs on Lambda.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::{Mutex, Notify, mpsc, oneshot};

/// How an invocation ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The function's response document (for lambda_http: status, headers, body).
    Response(String),
    /// The function reported an error for this invocation, or for its init.
    Error(String),
}

struct Invocation {
    request_id: String,
    event: String,
    reply: oneshot::Sender<Outcome>,
}

struct Shared {
    queue: Mutex<mpsc::Receiver<Invocation>>,
    waiting: Mutex<std::collections::HashMap<String, oneshot::Sender<Outcome>>>,
    /// Signalled whenever a function asks for its next event: it is initialised and idle.
    asked: Notify,
    init_error: Mutex<Option<String>>,
}

/// One emulated Runtime API, for one function process at a time.
pub struct Runtime {
    pub address: SocketAddr,
    queue: mpsc::Sender<Invocation>,
    shared: Arc<Shared>,
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

async fn serve(shared: Arc<Shared>, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    let body = request
        .into_body()
        .collect()
        .await
        .map(|collected| collected.to_bytes())
        .unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    let Some(route) = path.strip_prefix("/2018-06-01/runtime/") else {
        return Ok(text(StatusCode::NOT_FOUND, "unknown path"));
    };
    match (method, route) {
        (Method::GET, "invocation/next") => {
            shared.asked.notify_one();
            let invocation = shared.queue.lock().await.recv().await;
            let Some(invocation) = invocation else {
                return Ok(text(StatusCode::GONE, "no more invocations"));
            };
            shared
                .waiting
                .lock()
                .await
                .insert(invocation.request_id.clone(), invocation.reply);
            let deadline = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() + 10_000)
                .unwrap_or_default();
            let mut response = text(StatusCode::OK, invocation.event);
            let headers = response.headers_mut();
            let set = |headers: &mut hyper::HeaderMap, name: &'static str, value: String| {
                if let Ok(value) = value.parse() {
                    headers.insert(name, value);
                }
            };
            set(headers, "lambda-runtime-aws-request-id", invocation.request_id);
            set(headers, "lambda-runtime-deadline-ms", deadline.to_string());
            set(
                headers,
                "lambda-runtime-invoked-function-arn",
                "arn:aws:lambda:us-east-1:123456789012:function:bench".to_owned(),
            );
            set(
                headers,
                "lambda-runtime-trace-id",
                "Root=1-00000000-000000000000000000000000".to_owned(),
            );
            set(headers, "content-type", "application/json".to_owned());
            Ok(response)
        }
        (Method::POST, "init/error") => {
            *shared.init_error.lock().await = Some(body);
            shared.asked.notify_one();
            Ok(text(StatusCode::ACCEPTED, "{}"))
        }
        (Method::POST, route) => {
            let outcome = match route.strip_prefix("invocation/").and_then(|rest| rest.rsplit_once('/')) {
                Some((id, "response")) => Some((id.to_owned(), Outcome::Response(body))),
                Some((id, "error")) => Some((id.to_owned(), Outcome::Error(body))),
                _ => None,
            };
            let Some((id, outcome)) = outcome else {
                return Ok(text(StatusCode::NOT_FOUND, "unknown path"));
            };
            match shared.waiting.lock().await.remove(&id) {
                Some(reply) => {
                    let _ = reply.send(outcome);
                    Ok(text(StatusCode::ACCEPTED, "{}"))
                }
                None => Ok(text(StatusCode::BAD_REQUEST, "unknown request id")),
            }
        }
        _ => Ok(text(StatusCode::NOT_FOUND, "unknown path")),
    }
}

impl Runtime {
    /// Listens on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let (queue, receiver) = mpsc::channel(1);
        let shared = Arc::new(Shared {
            queue: Mutex::new(receiver),
            waiting: Mutex::new(Default::default()),
            asked: Notify::new(),
            init_error: Mutex::new(None),
        });
        let serving = Arc::clone(&shared);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let shared = Arc::clone(&serving);
                tokio::spawn(async move {
                    let service = service_fn(move |request| serve(Arc::clone(&shared), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { address, queue, shared })
    }

    /// Waits until the function asks for an event (its init is done), or reports an init
    /// error, for at most `limit`.
    pub async fn ready(&self, limit: Duration) -> Result<(), String> {
        let asked = self.shared.asked.notified();
        if tokio::time::timeout(limit, asked).await.is_err() {
            return Err("the function never asked for an event".to_owned());
        }
        match self.shared.init_error.lock().await.take() {
            Some(error) => Err(format!("init failed: {error}")),
            None => Ok(()),
        }
    }

    /// Hands `event` to the function and waits for its outcome; the time is from the
    /// hand-over to the function's answer, as Lambda bills it.
    pub async fn invoke(&self, event: String) -> Result<(Outcome, Duration), String> {
        let (reply, outcome) = oneshot::channel();
        let request_id = uuid::Uuid::new_v4().to_string();
        let started = Instant::now();
        self.queue
            .send(Invocation {
                request_id,
                event,
                reply,
            })
            .await
            .map_err(|_| "the emulator stopped".to_owned())?;
        let outcome = tokio::time::timeout(Duration::from_secs(30), outcome)
            .await
            .map_err(|_| "no answer within 30 s".to_owned())?
            .map_err(|_| "the invocation was dropped".to_owned())?;
        Ok((outcome, started.elapsed()))
    }
}
