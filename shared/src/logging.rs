//! One JSON line per event, carrying the Lambda request id from the runtime's invocation
//! span. Destinations are logged masked (their Display), and codes, secrets and tokens
//! have no Display at all.

use tracing_subscriber::fmt::MakeWriter;

/// The JSON subscriber writing to `writer`; `RUST_LOG` filters (default `info`).
pub fn subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_span_list(true)
        .flatten_event(true)
        .with_target(false)
        .with_writer(writer)
        .finish()
}

/// Installs the JSON subscriber on standard output, where Lambda collects it.
pub fn init() {
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout));
}
