//! Stand-ins for the AWS services no local AWS emulates, each served on a loopback port for
//! the tests and the local server: [`whatsapp`] for AWS End User Messaging Social's
//! `SendWhatsAppMessage`, [`voice`] for AWS End User Messaging SMS and Voice's
//! `SendVoiceMessage`. Each checks every request against the service's documented shape,
//! records what it accepts, and refuses the rest as the service would.

pub mod voice;
pub mod whatsapp;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

/// Serves `answer` on a free loopback port, on the current tokio runtime, each request
/// with the stand-in's `state`; returns the address.
pub(crate) async fn serve<S, F, A>(state: Arc<Mutex<S>>, answer: F) -> std::io::Result<SocketAddr>
where
    S: Send + 'static,
    F: Fn(Arc<Mutex<S>>, Request<Incoming>) -> A + Copy + Send + Sync + 'static,
    A: Future<Output = Result<Response<Full<Bytes>>, hyper::Error>> + Send + 'static,
{
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let state = Arc::clone(&state);
            tokio::spawn(async move {
                let service = service_fn(move |request| answer(Arc::clone(&state), request));
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    Ok(address)
}

/// A JSON answer of `content_type`.
pub(crate) fn json_answer(status: StatusCode, content_type: &str, body: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert("content-type", content_type.parse().expect("header value"));
    response
}
