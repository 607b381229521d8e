//! Bounded time on every AWS call, and what a failed call tells the caller.
//!
//! Every client gives up within its deadline, retries included, so a hung or slow backend
//! becomes a fast 503 with `Retry-After`, never the function's own timeout (a gateway
//! error the caller cannot read). A send that meets a hung store answers after one or two
//! store deadlines (its first round trip, then the give-back); one that meets a hung
//! provider, after the delivery deadline. Paths of more calls (a send that a verify raced,
//! a link that changed under a verify and is read again) are bounded as a whole: every
//! request answers by its own deadline (9 s), under the template's 10 s function timeout. What
//! it was doing then stops where it stands, which the design makes safe: no code is live
//! before its delivery, and a budget spent and not given back costs that one request.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};

use crate::ports::Outage;

/// How long one call to each backend may take, its retries included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// A DynamoDB call. Its requests take milliseconds when the table is well.
    pub store: Duration,
    /// An SMS or email hand-over to SNS or SESv2.
    pub delivery: Duration,
    /// A whole request, whatever its path: under the function's timeout (10 s in the
    /// template), less a second for the function's own work and the runtime's hand-over.
    pub request: Duration,
}

impl Default for Deadlines {
    fn default() -> Self {
        Self {
            store: Duration::from_millis(1_000),
            delivery: Duration::from_millis(3_000),
            request: Duration::from_millis(9_000),
        }
    }
}

/// The accepted range of either deadline.
pub const DEADLINE_RANGE_MS: std::ops::RangeInclusive<u64> = 100..=4_000;

/// The accepted range of the request deadline (Lambda allows a function 900 s at most).
pub const REQUEST_DEADLINE_RANGE_MS: std::ops::RangeInclusive<u64> = 1_000..=890_000;

impl Deadlines {
    /// A send's own calls in sequence: the first round trip, the delivery, the write that
    /// makes the code live, and a give-back.
    pub fn send_path(self) -> Duration {
        self.store * 3 + self.delivery
    }

    /// A send whose every call takes its whole deadline must still fit the request's.
    pub fn validate(self) -> Result<(), String> {
        if self.send_path() > self.request {
            return Err(format!(
                "three store deadlines and a delivery deadline ({} ms) exceed the {} ms a request \
                 may take: a slow send would be cut short",
                self.send_path().as_millis(),
                self.request.as_millis()
            ));
        }
        Ok(())
    }
}

/// `work`, or a 503 once it has taken `deadline`, the request's (see the module's comment).
pub async fn bounded<T>(
    deadline: Duration,
    work: impl std::future::Future<Output = Result<T, crate::error::OtpError>>,
) -> Result<T, crate::error::OtpError> {
    match tokio::time::timeout(deadline, work).await {
        Ok(result) => result,
        Err(_) => {
            tracing::error!(deadline_ms = deadline.as_millis() as u64, "request cut at its deadline");
            Err(crate::error::OtpError::Unavailable {
                retry_after: Outage::TimedOut.retry_after(),
            })
        }
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

/// An AWS End User Messaging Social client's configuration with its deadline and retries.
#[cfg(feature = "whatsapp")]
pub fn socialmessaging_config(
    sdk: &aws_config::SdkConfig,
    deadline: Duration,
) -> aws_sdk_socialmessaging::config::Builder {
    aws_sdk_socialmessaging::config::Builder::from(sdk)
        .timeout_config(timeouts(deadline))
        .retry_config(retries())
}

/// An AWS End User Messaging SMS and Voice client's configuration with its deadline and
/// retries.
#[cfg(feature = "voice")]
pub fn sms_voice_config(
    sdk: &aws_config::SdkConfig,
    deadline: Duration,
) -> aws_sdk_pinpointsmsvoicev2::config::Builder {
    aws_sdk_pinpointsmsvoicev2::config::Builder::from(sdk)
        .timeout_config(timeouts(deadline))
        .retry_config(retries())
}

/// Error codes by which AWS services say "slow down" (DynamoDB, SNS, SESv2, End User
/// Messaging Social and the shared ones).
const THROTTLING_CODES: [&str; 12] = [
    "ThrottlingException",
    "Throttling",
    "ThrottledException",
    "ProvisionedThroughputExceededException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "RequestThrottledException",
    "RequestThrottled",
    "SlowDown",
    "TransactionInProgressException",
    "KMSThrottling",
    // AWS End User Messaging Social.
    "ThrottledRequestException",
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
    fn a_send_fits_the_request_deadline() {
        assert_eq!(Deadlines::default().send_path(), Duration::from_secs(6));
        assert_eq!(Deadlines::default().validate(), Ok(()));
        let slow = Deadlines {
            store: Duration::from_millis(2_000),
            delivery: Duration::from_millis(3_500),
            ..Deadlines::default()
        };
        assert!(slow.validate().unwrap_err().contains("9500 ms"));
    }

    #[tokio::test]
    async fn a_request_is_cut_at_its_deadline() {
        let hung = std::future::pending::<Result<(), crate::error::OtpError>>();
        assert_eq!(
            bounded(Duration::from_millis(10), hung).await,
            Err(crate::error::OtpError::Unavailable { retry_after: 5 })
        );
        assert_eq!(bounded(Duration::from_millis(10), async { Ok(7) }).await, Ok(7));
    }

    fn service_error(code: &str) -> SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError, ()> {
        let metadata = aws_sdk_dynamodb::error::ErrorMetadata::builder().code(code).build();
        SdkError::service_error(
            aws_sdk_dynamodb::operation::update_item::UpdateItemError::generic(metadata),
            (),
        )
    }

    #[test]
    fn each_service_says_slow_down_in_its_own_words() {
        // DynamoDB, SNS, SESv2.
        for code in [
            "ThrottlingException",
            "ProvisionedThroughputExceededException",
            "Throttling",
            "TooManyRequestsException",
        ] {
            assert_eq!(Outage::of(&service_error(code)), Outage::Throttled, "{code}");
        }
        assert_eq!(Outage::of(&service_error("InternalServerError")), Outage::Failed);
        let slow: SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError, ()> =
            SdkError::timeout_error("slow");
        assert_eq!(Outage::of(&slow), Outage::TimedOut);
        assert!(Outage::Throttled.retry_after() < Outage::Failed.retry_after());
    }
}
