//! One JSON line per event, carrying the Lambda request id from the runtime's invocation
//! span. Destinations are logged masked (their Display), and codes, secrets and tokens
//! have no Display at all.

use tracing_subscriber::filter::Targets;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;

/// The JSON subscriber writing to `writer`, filtered by `RUST_LOG` (default `info`).
pub fn subscriber<W>(writer: W) -> impl tracing::Subscriber + Send + Sync
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = std::env::var("RUST_LOG").ok().and_then(|value| filter_from(&value));
    tracing_subscriber::fmt()
        .json()
        // The target filter below decides; the builder's own default would stop at info.
        .with_max_level(tracing::level_filters::LevelFilter::TRACE)
        .with_current_span(false)
        .with_span_list(true)
        .flatten_event(true)
        .with_target(false)
        .with_writer(writer)
        .finish()
        .with(filter.unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO)))
}

/// `RUST_LOG` as a level (`warn`) or levels by target (`info,aws_smithy_runtime=warn`).
/// Targets and levels only: a per-event check of the level and the target's prefix, with
/// no span or field matching. A value that does not parse leaves the default.
fn filter_from(value: &str) -> Option<Targets> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    value.parse().ok()
}

/// Installs the JSON subscriber on standard output, where Lambda collects it.
pub fn init() {
    let _ = tracing::subscriber::set_global_default(subscriber(std::io::stdout));
}

#[cfg(test)]
mod tests {
    use super::filter_from;
    use tracing::Level;
    use tracing::level_filters::LevelFilter;

    #[test]
    fn a_bare_level_sets_the_default() {
        let filter = filter_from("warn").expect("a level parses");
        assert_eq!(filter.default_level(), Some(LevelFilter::WARN));
        assert!(!filter.would_enable("otp_shared::engine", &Level::INFO));
        assert!(filter.would_enable("otp_shared::engine", &Level::WARN));
    }

    #[test]
    fn levels_by_target_apply_to_the_target_and_its_modules() {
        let filter = filter_from("info,aws_smithy_runtime=warn").expect("directives parse");
        assert!(filter.would_enable("otp_shared::engine", &Level::INFO));
        assert!(!filter.would_enable("aws_smithy_runtime::client::orchestrator", &Level::INFO));
        assert!(filter.would_enable("aws_smithy_runtime::client::orchestrator", &Level::WARN));
    }

    #[test]
    fn an_empty_or_malformed_value_leaves_the_default() {
        assert!(filter_from("  ").is_none());
        assert!(filter_from("otp_shared=loud").is_none());
    }
}
