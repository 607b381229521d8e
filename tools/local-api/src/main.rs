//! `otp-local`: every route of `template.yaml` on http://127.0.0.1, each request turned into
//! the API Gateway (HTTP API v2) event its function receives in AWS and answered by that
//! function's own handler, against the AWS the SDK points at (a local one). With a dev inbox
//! at `/_dev/inbox`. For local development without Docker; never deployed.
//!
//! Usage: otp-local [--port N] [--template PATH] [--demo]
//! `--demo` creates the table, the SES identity, a demo client, OTP configuration and user,
//! and prints their credentials with a signed demo JWT.

mod demo;
mod gateway;
mod inbox;
mod routes;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::http::{Response, StatusCode};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use otp_shared::App;
use otp_shared::app::{NoDelivery, courier, dynamo_store, sdk_config, system_clock};
use otp_shared::delivery::Courier;
use otp_shared::settings::Settings;
use otp_shared::store::DynamoStore;
use serde_json::json;

use crate::inbox::{Inbox, Recording};
use crate::routes::Route;

/// Everything a request needs: the routes and the functions' apps, built once.
struct Local {
    routes: Vec<Route>,
    sender: App<DynamoStore, Recording<Courier>>,
    checker: App<DynamoStore, NoDelivery>,
    inbox: Arc<Inbox>,
}

struct Options {
    port: u16,
    template: String,
    demo: bool,
}

fn options() -> Result<Options, String> {
    let mut options = Options {
        port: std::env::var("PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(3000),
        template: "template.yaml".to_owned(),
        demo: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--port" => {
                options.port = args
                    .next()
                    .and_then(|p| p.parse().ok())
                    .ok_or("--port takes a number")?
            }
            "--template" => options.template = args.next().ok_or("--template takes a path")?,
            "--demo" => options.demo = true,
            other => {
                return Err(format!(
                    "unexpected argument {other}; usage: otp-local [--port N] [--template PATH] [--demo]"
                ));
            }
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    // Logs go to standard error; standard output carries the one line that says where to go.
    let _ = tracing::subscriber::set_global_default(otp_shared::logging::subscriber(std::io::stderr));
    // A function runs on Lambda's main thread (8 MiB of stack); requests here run on
    // worker threads, given as much, since unoptimised builds of the SDK poll deep.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(8 * 1024 * 1024)
        .build();
    let runtime = match runtime {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("otp-local: no async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("otp-local: {reason}");
            ExitCode::FAILURE
        }
    }
}

/// The number the local server's calls come from (a fictional one), when none is named.
const LOCAL_VOICE_ORIGINATION: &str = "+12065550100";

async fn run() -> Result<(), String> {
    let options = options()?;
    let template = std::fs::read_to_string(&options.template).map_err(|e| format!("{}: {e}", options.template))?;
    let routes = routes::from_template(&template)?;
    let mut settings = Settings::from_env().map_err(|reason| format!("configuration refused: {reason}"))?;
    // Calls go to the voice stand-in from a number of its own, unless one is named.
    settings
        .voice_origination
        .get_or_insert_with(|| LOCAL_VOICE_ORIGINATION.to_owned());
    let sdk = sdk_config().await;
    let store = dynamo_store(&sdk, &settings);
    let demo = if options.demo {
        Some(demo::provision(&sdk, &store, &settings).await?)
    } else {
        None
    };

    // No local AWS emulates WhatsApp (End User Messaging Social): its stand-in serves
    // here, unless AWS_ENDPOINT_URL_SOCIALMESSAGING points elsewhere.
    let whatsapp = stand_ins::whatsapp::StandIn::start()
        .await
        .map_err(|e| format!("the WhatsApp stand-in cannot listen: {e}"))?;
    let mut courier = courier(&sdk, &settings);
    if std::env::var_os("AWS_ENDPOINT_URL_SOCIALMESSAGING").is_none() {
        let config = otp_shared::backend::socialmessaging_config(&sdk, settings.deadlines.delivery)
            .endpoint_url(whatsapp.url())
            .build();
        courier.whatsapp = Some(otp_shared::delivery::WhatsApp::new(
            aws_sdk_socialmessaging::Client::from_conf(config),
        ));
    }
    // Nor calls (End User Messaging SMS and Voice): their stand-in serves here, unless
    // AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2 points elsewhere.
    let voice = stand_ins::voice::StandIn::start()
        .await
        .map_err(|e| format!("the voice stand-in cannot listen: {e}"))?;
    if std::env::var_os("AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2").is_none() {
        let config = otp_shared::backend::sms_voice_config(&sdk, settings.deadlines.delivery)
            .endpoint_url(voice.url())
            .build();
        courier.voice = Some(otp_shared::delivery::Voice::new(
            aws_sdk_pinpointsmsvoicev2::Client::from_conf(config),
            settings.voice_origination.clone().unwrap_or_default(),
            settings.spend.call_per_minute,
        ));
    }
    let inbox = Arc::new(Inbox::default());
    let delivery = Recording {
        inner: courier,
        inbox: Arc::clone(&inbox),
    };
    let local = Arc::new(Local {
        routes,
        sender: App::new(settings.clone(), store.clone(), delivery, system_clock()),
        checker: App::new(settings, store, NoDelivery, system_clock()),
        inbox,
    });

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", options.port))
        .await
        .map_err(|e| format!("cannot listen on 127.0.0.1:{}: {e}", options.port))?;
    let address = listener.local_addr().map_err(|e| e.to_string())?;
    let url = format!("http://{address}");
    eprintln!(
        "\nServing {} routes of {} at {url}",
        local.routes.len(),
        options.template
    );
    eprintln!("Dev inbox: {url}/_dev/inbox (JSON: {url}/_dev/inbox.json). Ctrl-C stops.");
    if let Some(demo) = &demo {
        eprintln!("\n{}", demo::exports(&url, demo));
    }
    let aws = std::env::var("AWS_ENDPOINT_URL").unwrap_or_default();
    println!(
        "{}",
        json!({"url": url, "inbox": format!("{url}/_dev/inbox.json"), "aws": aws, "whatsapp": whatsapp.url(), "demo": demo})
    );

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|e| format!("cannot watch for SIGTERM: {e}"))?;
    let port = address.port();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, peer)) = accepted else { continue };
                let local = Arc::clone(&local);
                tokio::spawn(async move {
                    let service = service_fn(move |request| handle(Arc::clone(&local), port, peer, request));
                    let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
                });
            }
            _ = tokio::signal::ctrl_c() => break,
            _ = terminate.recv() => break,
        }
    }
    eprintln!("otp-local: stopped");
    Ok(())
}

/// The names this server answers to: loopback ones, bare or with its port.
const LOOPBACK_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// Whether `host` (a `Host` header, or the authority of an absolute request target) names
/// this server: one of [`LOOPBACK_NAMES`], bare or with `port`, the one it listens on.
///
/// Listening on loopback keeps other machines out, not other sites: a page of
/// `attacker.example` whose DNS answer is switched to 127.0.0.1 after it loads (DNS
/// rebinding) is, to the browser, same-origin with this server, and could read the dev
/// inbox (every code sent) and call the API. The browser still sends the attacker's name
/// in `Host`, which no loopback name matches: such requests are refused.
fn is_loopback_host(host: &str, port: u16) -> bool {
    let host = host.trim();
    LOOPBACK_NAMES
        .iter()
        .any(|name| host.eq_ignore_ascii_case(name) || host.eq_ignore_ascii_case(&format!("{name}:{port}")))
}

/// The 421 of a request that named another host, or none.
fn misdirected(port: u16) -> Response<Full<Bytes>> {
    gateway::plain(
        StatusCode::MISDIRECTED_REQUEST,
        &json!({"message": format!(
            "Misdirected Request: the local API answers only requests whose Host is {}, with or without \
             :{port}, so that no other site's page can reach it through its own DNS name",
            LOOPBACK_NAMES.join(", ")
        )}),
    )
}

async fn handle(
    local: Arc<Local>,
    port: u16,
    peer: SocketAddr,
    request: hyper::Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let host = request
        .headers()
        .get(hyper::header::HOST)
        .and_then(|host| host.to_str().ok());
    // An absolute request target (`GET http://host/path`) names the host too, and HTTP
    // gives it precedence over the header: both must be loopback.
    let target_host = request.uri().authority().map(|authority| authority.as_str());
    let named_here = host.is_some_and(|host| is_loopback_host(host, port))
        && target_host.is_none_or(|target| is_loopback_host(target, port));
    if !named_here {
        return Ok(misdirected(port));
    }

    let method = request.method().as_str().to_owned();
    let path = request.uri().path().to_owned();
    let query = request.uri().query().unwrap_or_default().to_owned();

    if method == "GET" && path == "/_dev/inbox" {
        let mut response = Response::new(Full::new(Bytes::from(inbox::page(&local.inbox.messages()))));
        response.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            hyper::header::HeaderValue::from_static("text/html; charset=utf-8"),
        );
        return Ok(response);
    }
    if method == "GET" && path == "/_dev/inbox.json" {
        return Ok(gateway::plain(
            StatusCode::OK,
            &json!({"messages": local.inbox.messages()}),
        ));
    }

    let (parts, body) = request.into_parts();
    let Ok(body) = Limited::new(body, gateway::MAX_PAYLOAD_BYTES).collect().await else {
        return Ok(gateway::plain(
            StatusCode::PAYLOAD_TOO_LARGE,
            &json!({"message": "Request Entity Too Large"}),
        ));
    };
    let body = body.to_bytes();
    let Some(matched) = routes::find(&local.routes, &method, &path) else {
        return Ok(gateway::plain(StatusCode::NOT_FOUND, &json!({"message": "Not Found"})));
    };
    let event = gateway::event(&method, &path, &query, &parts.headers, &body, peer, &matched);
    let Ok(event) = lambda_http::request::from_str(&event.to_string()) else {
        return Ok(gateway::plain(
            StatusCode::BAD_REQUEST,
            &json!({"message": "Bad Request"}),
        ));
    };
    let answer = match matched.route.function.as_str() {
        "register" => register::http_handler::function_handler(&local.sender, event).await,
        "resend" => resend::http_handler::function_handler(&local.sender, event).await,
        "verify" => verify::http_handler::function_handler(&local.checker, event).await,
        "send-otp" => send_otp::http_handler::function_handler(&local.sender, event).await,
        "generate" => generate::http_handler::function_handler(&local.sender, event).await,
        other => Err(format!("template.yaml names a function this server does not have: {other}").into()),
    };
    Ok(match answer {
        Ok(answer) => gateway::response(answer),
        // What API Gateway answers when a function fails.
        Err(_) => gateway::plain(
            StatusCode::INTERNAL_SERVER_ERROR,
            &json!({"message": "Internal Server Error"}),
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::is_loopback_host;

    #[test]
    fn only_loopback_names_of_its_own_port_are_answered() {
        for host in [
            "localhost",
            "localhost:3000",
            "LocalHost:3000",
            "127.0.0.1",
            "127.0.0.1:3000",
            "[::1]",
            "[::1]:3000",
        ] {
            assert!(is_loopback_host(host, 3000), "{host}");
        }
        for host in [
            "attacker.example",
            "attacker.example:3000",
            "localhost:3001",
            "127.0.0.1:30000",
            "localhost.attacker.example",
            "127.0.0.1.nip.io:3000",
            "[::1]:3001",
            "0.0.0.0:3000",
            "",
        ] {
            assert!(!is_loopback_host(host, 3000), "{host}");
        }
    }
}
