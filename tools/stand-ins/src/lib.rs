//! Stand-ins for the AWS services no local AWS emulates, each served on a loopback port for
//! the tests and the local server: [`whatsapp`] for AWS End User Messaging Social's
//! `SendWhatsAppMessage`, [`voice`] for AWS End User Messaging SMS and Voice's
//! `SendVoiceMessage`. Each checks every request against the service's documented shape,
//! records what it accepts, and refuses the rest as the service would.

pub mod voice;
pub mod whatsapp;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::http::request::Parts;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// An answer a stand-in gives.
pub type Answer = Response<Full<Bytes>>;

/// What a stand-in stands in for: how the service checks a request, what it answers, and
/// what else it refuses.
pub trait Service: Send + 'static {
    /// A request that passed, as it is recorded.
    type Accepted: Clone + Send + 'static;
    /// What the stand-in is told the service refuses beyond the documented shape (numbers
    /// that opted out, say).
    type Refused: Default + Send + 'static;

    /// The request as the service documents it, or why not.
    fn check(parts: &Parts, body: &[u8]) -> Result<Self::Accepted, String>;
    /// The service's answer to a well-formed request it refuses, if it does.
    fn refusal(refused: &Self::Refused, accepted: &Self::Accepted) -> Option<Answer>;
    /// The service's answer to a request it took.
    fn took(accepted: &Self::Accepted) -> Answer;
    /// The service's answer to a request that broke the documented shape.
    fn invalid(reason: &str) -> Answer;
}

struct Kept<S: Service> {
    accepted: Vec<S::Accepted>,
    refusals: Vec<String>,
    refused: S::Refused,
}

/// A running stand-in: its URL (for the service's `AWS_ENDPOINT_URL_...`), what it
/// accepted and what it refused.
pub struct StandIn<S: Service> {
    pub address: SocketAddr,
    kept: Arc<Mutex<Kept<S>>>,
}

impl<S: Service> Clone for StandIn<S> {
    fn clone(&self) -> Self {
        Self {
            address: self.address,
            kept: Arc::clone(&self.kept),
        }
    }
}

impl<S: Service> std::fmt::Debug for StandIn<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StandIn").field("address", &self.address).finish()
    }
}

impl<S: Service> StandIn<S> {
    /// Serves on a free loopback port, on the current tokio runtime.
    pub async fn start() -> std::io::Result<Self> {
        let kept = Arc::new(Mutex::new(Kept::<S> {
            accepted: Vec::new(),
            refusals: Vec::new(),
            refused: S::Refused::default(),
        }));
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        let serving = Arc::clone(&kept);
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    continue;
                };
                let kept = Arc::clone(&serving);
                tokio::spawn(async move {
                    let service = service_fn(move |request| answer(Arc::clone(&kept), request));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { address, kept })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.address)
    }

    /// Every request accepted so far, oldest first.
    pub fn accepted(&self) -> Vec<S::Accepted> {
        self.kept().accepted.clone()
    }

    /// Why each request that broke the documented shape was refused, oldest first.
    pub fn refusals(&self) -> Vec<String> {
        self.kept().refusals.clone()
    }

    /// Changes what the service refuses from now on.
    pub(crate) fn refuse(&self, change: impl FnOnce(&mut S::Refused)) {
        change(&mut self.kept().refused);
    }

    fn kept(&self) -> MutexGuard<'_, Kept<S>> {
        self.kept.lock().expect("stand-in state")
    }
}

async fn answer<S: Service>(kept: Arc<Mutex<Kept<S>>>, request: Request<Incoming>) -> Result<Answer, hyper::Error> {
    let (parts, body) = request.into_parts();
    let body = body.collect().await?.to_bytes();
    // Checked before the lock is taken: a check that panics fails its own request alone.
    let checked = S::check(&parts, &body);
    let mut kept = kept.lock().expect("stand-in state");
    Ok(match checked {
        Ok(accepted) => match S::refusal(&kept.refused, &accepted) {
            Some(refusal) => refusal,
            None => {
                let answer = S::took(&accepted);
                kept.accepted.push(accepted);
                answer
            }
        },
        Err(reason) => {
            let answer = S::invalid(&reason);
            kept.refusals.push(reason);
            answer
        }
    })
}

/// A request's header as text; empty when it is absent or not text.
pub(crate) fn header<'a>(parts: &'a Parts, name: &str) -> &'a str {
    parts
        .headers
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// The members of a JSON request signed (SigV4) for the service `signing_name`, or why
/// it is not one.
pub(crate) fn signed_json(
    parts: &Parts,
    body: &[u8],
    signing_name: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let authorization = header(parts, "authorization");
    if !authorization.starts_with("AWS4-HMAC-SHA256 ")
        || !authorization.contains(&format!("/{signing_name}/aws4_request"))
    {
        return Err(format!("the request must be signed (SigV4) for {signing_name}"));
    }
    match serde_json::from_slice(body) {
        Ok(serde_json::Value::Object(fields)) => Ok(fields),
        Ok(_) => Err("the body is not a JSON object".to_owned()),
        Err(_) => Err("the body is not JSON".to_owned()),
    }
}

/// A JSON answer of `content_type`.
pub(crate) fn json_answer(status: StatusCode, content_type: &str, body: &serde_json::Value) -> Answer {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", content_type.parse().expect("header value"));
    response
}
