//! What the service tells its operator without an extra network call: one structured log
//! event per challenge transition, and counts and latencies as CloudWatch metrics in the
//! Embedded Metric Format, written to standard output beside the logs (CloudWatch Logs
//! turns each such line into metric data). Every name, dimension and outcome lives here.
//!
//! The engine records through the `metrics` facade; a function installs the EMF recorder
//! at init and flushes it once per invocation. Where no recorder is installed (tests, the
//! local server), or metrics are turned off, recording costs nothing.

use std::future::Future;
use std::time::Duration;

use crate::destination::Destination;
use crate::ports::Channel;

/// The namespace every metric of the service is in; the `Service` dimension (the stack's
/// name) tells deployments apart.
pub const NAMESPACE: &str = "OtpService";

/// A send's end, as counted in `Sends`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendOutcome {
    /// The message was accepted for delivery and its code is live.
    Sent,
    /// A test destination: nothing delivered, its known code is live.
    TestDestination,
    /// Counted by the budgets, nothing sent (a destination of no known user).
    NotSent,
    /// A budget refused it.
    Refused,
    /// The provider refused it or did not answer in time: no code is live.
    Failed,
    /// The store failed or did not answer in time (before the delivery, or after it:
    /// then the message went out but its code is not live).
    Error,
}

impl SendOutcome {
    pub fn name(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::TestDestination => "test_destination",
            Self::NotSent => "not_sent",
            Self::Refused => "refused",
            Self::Failed => "failed",
            Self::Error => "error",
        }
    }
}

/// A verify's end (or an owner's settlement), as counted in `Verifications`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerifyOutcome {
    Approved,
    WrongCode,
    /// A wrong code that spent the challenge's last attempt.
    MaxAttemptsReached,
    /// No live challenge: unknown, expired, used, spent or another caller's.
    NoChallenge,
    /// The destination's failure budget refused it before any comparison.
    Refused,
    /// Its owner canceled it.
    Canceled,
    /// The store failed or did not answer in time: nothing was decided.
    Error,
}

impl VerifyOutcome {
    pub fn name(self) -> &'static str {
        match self {
            Self::Approved => "approved",
            Self::WrongCode => "wrong_code",
            Self::MaxAttemptsReached => "max_attempts_reached",
            Self::NoChallenge => "no_challenge",
            Self::Refused => "refused",
            Self::Canceled => "canceled",
            Self::Error => "error",
        }
    }
}

/// A challenge's transition, each logged once as a `challenge status` event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Opened: its first code is out.
    Pending,
    Approved,
    Canceled,
    /// Its code's lifetime ended unused; logged when the next send to its destination
    /// replaces it (one left alone is deleted by TTL without an event).
    Expired,
    MaxAttemptsReached,
    /// Its delivery failed: no code of this send is live.
    Failed,
}

impl Status {
    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Canceled => "canceled",
            Self::Expired => "expired",
            Self::MaxAttemptsReached => "max_attempts_reached",
            Self::Failed => "failed",
        }
    }
}

/// Where a transition or a count happened: the dialect that asked, and the channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    pub dialect: &'static str,
    pub channel: Channel,
}

impl Origin {
    pub fn of(dialect: &'static str, destination: &Destination) -> Self {
        Self {
            dialect,
            channel: Channel::of(destination),
        }
    }

    /// The same origin by `channel` (the one a code went by), when it is known.
    pub fn by(self, channel: Option<Channel>) -> Self {
        Self {
            channel: channel.unwrap_or(self.channel),
            ..self
        }
    }
}

/// The engine's recorder: logs every transition, and counts when metrics are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Telemetry {
    pub metrics: bool,
}

impl Telemetry {
    /// One `challenge status` event (always logged, whether metrics are on or not).
    pub fn status(&self, status: Status, origin: Origin, challenge_id: Option<&str>, destination: &Destination) {
        tracing::info!(
            status = status.name(),
            challenge_id = challenge_id.unwrap_or_default(),
            destination = %destination,
            channel = origin.channel.name(),
            dialect = origin.dialect,
            "challenge status"
        );
    }

    pub fn send(&self, origin: Origin, outcome: SendOutcome) {
        if !self.metrics {
            return;
        }
        metrics::counter!(
            "Sends",
            "Dialect" => origin.dialect,
            "Channel" => origin.channel.name(),
            "Outcome" => outcome.name()
        )
        .increment(1);
        if outcome == SendOutcome::Failed {
            // Alarms watch this one series, whatever the dialect and channel.
            metrics::counter!("DeliveryFailures").increment(1);
        }
    }

    pub fn verify(&self, origin: Origin, outcome: VerifyOutcome) {
        if self.metrics {
            metrics::counter!(
                "Verifications",
                "Dialect" => origin.dialect,
                "Channel" => origin.channel.name(),
                "Outcome" => outcome.name()
            )
            .increment(1);
        }
    }

    /// A refusal of the conversion guard, enforced or only logged (`monitor`).
    pub fn guard(&self, reason: crate::guard::GuardReason, enforced: bool) {
        if self.metrics {
            metrics::counter!(
                "GuardRefusals",
                "Reason" => reason.name(),
                "Mode" => if enforced { "enforce" } else { "monitor" }
            )
            .increment(1);
        }
    }

    /// A message to a phone that went out (SMS or WhatsApp), by its number's country, and
    /// what it is estimated to cost (`spend.rs`), in millionths of a US dollar: a counter
    /// adds whole numbers. With [`Self::phone_verified`], conversion by country.
    pub fn phone_sent(&self, country: &str, estimate: crate::spend::Micros) {
        if self.metrics {
            metrics::counter!("PhoneSends", "Country" => country.to_owned()).increment(1);
            metrics::counter!("EstimatedSpendMicroUsd").increment(estimate);
        }
    }

    /// A code sent to a phone that was verified, by its number's country.
    pub fn phone_verified(&self, country: &str) {
        if self.metrics {
            metrics::counter!("PhoneVerifications", "Country" => country.to_owned()).increment(1);
        }
    }

    /// A send the spend cap refused, by the cap it reached.
    pub fn spend_refused(&self, cap: crate::spend::Cap) {
        if self.metrics {
            metrics::counter!("SpendRefusals", "Cap" => cap.name()).increment(1);
        }
    }

    /// A number the number rules refused, by why.
    pub fn number_refused(&self, reason: &'static str) {
        if self.metrics {
            metrics::counter!("NumberRefusals", "Reason" => reason).increment(1);
        }
    }

    /// How long the provider took to accept (or refuse) a message.
    pub fn delivery_latency(&self, origin: Origin, elapsed: Duration) {
        if self.metrics {
            metrics::histogram!(
                "DeliveryLatency",
                "Dialect" => origin.dialect,
                "Channel" => origin.channel.name()
            )
            .record(elapsed.as_secs_f64() * 1_000.0);
        }
    }
}

/// The EMF recorder a function installed at init.
#[derive(Clone, Copy)]
pub struct Emf(&'static metrics_cloudwatch_embedded::Collector);

impl Emf {
    /// Writes what was recorded since the last write, one EMF document per line, and
    /// starts counting afresh.
    pub fn write_to(&self, writer: impl std::io::Write) -> std::io::Result<()> {
        self.0.flush(writer)
    }
}

impl std::fmt::Debug for Emf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Emf")
    }
}

/// Installs the EMF recorder of a function: every metric in `NAMESPACE`, with the
/// `Service` dimension. None when another recorder is installed already.
pub fn install(service: &str) -> Option<Emf> {
    let installed = metrics_cloudwatch_embedded::Builder::new()
        .cloudwatch_namespace(NAMESPACE)
        .with_dimension("Service", service.to_owned())
        .init();
    match installed {
        Ok(collector) => {
            metrics::describe_histogram!("DeliveryLatency", metrics::Unit::Milliseconds, "");
            metrics::describe_counter!("Sends", metrics::Unit::Count, "");
            metrics::describe_counter!("Verifications", metrics::Unit::Count, "");
            metrics::describe_counter!("DeliveryFailures", metrics::Unit::Count, "");
            Some(Emf(collector))
        }
        Err(error) => {
            tracing::error!(error = %error, "metrics recorder not installed; no metrics will be emitted");
            None
        }
    }
}

/// Runs one invocation, then writes what it recorded as EMF lines on standard output
/// (where Lambda collects them with the logs).
pub async fn flushed<T>(recorder: Option<Emf>, invocation: impl Future<Output = T>) -> T {
    let answer = invocation.await;
    if let Some(recorder) = recorder
        && let Err(error) = recorder.write_to(std::io::stdout().lock())
    {
        tracing::warn!(error = %error, "metrics not written");
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_stable() {
        // Alarms and dashboards name these: a change is a breaking change.
        assert_eq!(SendOutcome::TestDestination.name(), "test_destination");
        assert_eq!(VerifyOutcome::MaxAttemptsReached.name(), "max_attempts_reached");
        assert_eq!(Status::MaxAttemptsReached.name(), "max_attempts_reached");
        assert_eq!(
            Origin::of("kgen", &Destination::email("a@b.co").unwrap()).channel,
            Channel::Email
        );
    }
}
