//! Bounded time on every AWS call, and what a failed call tells the caller.
//!
//! Every client gives up within its deadline, retries included, so a hung or slow backend
//! becomes a fast 503 with `Retry-After`, never the function's own timeout (a gateway
//! error the caller cannot read). The longest sequential path of any request is a send
//! that a verify raced: its first round trip, the delivery, the write that makes the code
//! live, one more read and write, and a give-back: five store deadlines and one delivery
//! deadline, 8 s with the defaults, under the 10 s the template gives a function. A send
//! that meets one hung backend answers after one or two of its deadlines.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

/// How long one call to each backend may take, its retries included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// A DynamoDB call. Its requests take milliseconds when the table is well.
    pub store: Duration,
    /// An SMS or email hand-over to SNS or SESv2.
    pub delivery: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            store: Duration::from_millis(1_000),
            delivery: Duration::from_millis(3_000),
        }
    }
}

/// The accepted range of either deadline.
pub const DEADLINE_RANGE_MS: std::ops::RangeInclusive<u64> = 100..=4_000;

/// What a request may spend waiting on AWS: the template's 10 s function timeout, less a
/// second for the function's own work and the runtime's hand-over.
pub const WAIT_BUDGET: Duration = Duration::from_secs(9);

impl Deadlines {
    /// The longest a request can wait on AWS (see the module's comment).
    pub fn longest_request(self) -> Duration {
        self.store * 5 + self.delivery
    }

    pub fn validate(self) -> Result<(), String> {
        if self.longest_request() > WAIT_BUDGET {
            return Err(format!(
                "five store deadlines and a delivery deadline ({} ms) exceed {} ms, \
                 and a request could outlast the function's timeout",
                self.longest_request().as_millis(),
                WAIT_BUDGET.as_millis()
            ));
        }
        Ok(())
    }
}

/// Attempts per call: the SDK retries throttling, timeouts and 5xx answers. A retried
/// SMS whose first attempt timed out after SNS took it may arrive twice, with one code.
pub const MAX_ATTEMPTS: u32 = 3;

/// Connect, read and per-attempt limits within the call's deadline: an attempt (its
/// connection included) may use half of it, so a hung connection leaves time for one
/// more attempt.
pub fn timeouts(deadline: Duration) -> TimeoutConfig {
    let attempt = deadline / 2;
    TimeoutConfig::builder()
        .connect_timeout(attempt)
        .read_timeout(attempt)
        .operation_attempt_timeout(attempt)
        .operation_timeout(deadline)
        .build()
}

/// The SDK's standard retries (throttling, transient errors), with back-offs short
/// enough to fit a deadline of a second.
pub fn retries() -> RetryConfig {
    RetryConfig::standard()
        .with_max_attempts(MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(25))
        .with_max_backoff(Duration::from_millis(250))
}

/// A DynamoDB client's configuration with its deadline and retries.
pub fn dynamodb_config(sdk: &aws_config::SdkConfig, deadline: Duration) -> aws_sdk_dynamodb::config::Builder {
    aws_sdk_dynamodb::config::Builder::from(sdk)
        .timeout_config(timeouts(deadline))
        .retry_config(retries())
}

/// An SNS client's configuration with its deadline and retries.
#[cfg(feature = "sms")]
pub fn sns_config(sdk: &aws_config::SdkConfig, deadline: Duration) -> aws_sdk_sns::config::Builder {
    aws_sdk_sns::config::Builder::from(sdk)
        .timeout_config(timeouts(deadline))
        .retry_config(retries())
}

/// An SESv2 client's configuration with its deadline and retries.
#[cfg(feature = "email")]
pub fn sesv2_config(sdk: &aws_config::SdkConfig, deadline: Duration) -> aws_sdk_sesv2::config::Builder {
    aws_sdk_sesv2::config::Builder::from(sdk)
        .timeout_config(timeouts(deadline))
        .retry_config(retries())
}

/// Why a backend did not serve a call; it says when the caller should come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// The service refused for load (throttling), after the SDK's own retries.
    Throttled,
    /// No answer within the deadline, or no connection at all.
    TimedOut,
    /// The service failed or refused the call otherwise.
    Failed,
}

/// Error codes by which AWS services say "slow down" (DynamoDB, SNS, SESv2 and the
/// shared ones).
const THROTTLING_CODES: [&str; 7] = [
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottledException",
];

impl Outage {
    /// Classifies a failed SDK call.
    pub fn of<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> Self {
        match error {
            SdkError::TimeoutError(_) => Self::TimedOut,
            SdkError::DispatchFailure(failure) if failure.is_timeout() || failure.is_io() => Self::TimedOut,
            SdkError::ServiceError(failure)
                if failure
                    .err()
                    .code()
                    .is_some_and(|code| THROTTLING_CODES.contains(&code)) =>
            {
                Self::Throttled
            }
            _ => Self::Failed,
        }
    }

    /// The `Retry-After` of the 503 this outage answers: throttling passes quickly (the
    /// SDK already backed off); a backend that hangs or fails needs longer.
    pub const fn retry_after(self) -> u64 {
        match self {
            Self::Throttled => 2,
            Self::TimedOut | Self::Failed => 5,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Throttled => "throttled",
            Self::TimedOut => "timed out",
            Self::Failed => "failed",
        }
    }
}

impl std::fmt::Display for Outage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_attempt_fits_the_deadline() {
        let deadline = Deadlines::default();
        for limit in [deadline.store, deadline.delivery] {
            let config = timeouts(limit);
            assert_eq!(config.operation_timeout(), Some(limit));
            assert!(
                config
                    .operation_attempt_timeout()
                    .is_some_and(|attempt| attempt * 2 <= limit)
            );
            assert!(config.connect_timeout().is_some_and(|connect| connect <= limit / 2));
            assert!(config.read_timeout().is_some_and(|read| read <= limit / 2));
        }
    }

    #[test]
    fn the_longest_request_ends_before_the_function_times_out() {
        assert_eq!(Deadlines::default().longest_request(), Duration::from_secs(8));
        assert_eq!(Deadlines::default().validate(), Ok(()));
        let slow = Deadlines {
            store: Duration::from_millis(1_500),
            delivery: Duration::from_millis(2_000),
        };
        assert!(slow.validate().unwrap_err().contains("9000 ms"));
    }

    #[test]
    fn throttling_is_told_apart_from_failure() {
        assert!(Outage::Throttled.retry_after() < Outage::Failed.retry_after());
    }
}
