//! Delivery of codes: SMS through SNS, email through SESv2. A new channel (WhatsApp, a
//! voice call) is one more implementation of [`Delivery`](crate::ports::Delivery).

#[cfg(feature = "email")]
mod ses;
#[cfg(feature = "sms")]
mod sns;

#[cfg(feature = "email")]
pub use ses::SesEmail;
#[cfg(feature = "sms")]
pub use sns::SnsSms;

use crate::destination::Destination;
use crate::ports::{Delivery, DeliveryError, Message};

/// Routes each message to the channel for its destination's kind.
#[derive(Debug, Clone, Default)]
pub struct Courier {
    #[cfg(feature = "sms")]
    pub sms: Option<SnsSms>,
    #[cfg(feature = "email")]
    pub email: Option<SesEmail>,
}

impl Delivery for Courier {
    // Built without a channel (verify), nothing reads the message.
    #[cfg_attr(not(any(feature = "sms", feature = "email")), allow(unused_variables))]
    async fn deliver(&self, to: &Destination, message: &Message) -> Result<(), DeliveryError> {
        match to {
            #[cfg(feature = "sms")]
            Destination::Phone(_) => match &self.sms {
                Some(sms) => sms.deliver(to, message).await,
                None => Err(DeliveryError::NoChannel),
            },
            #[cfg(feature = "email")]
            Destination::Email(_) => match &self.email {
                Some(email) => email.deliver(to, message).await,
                None => Err(DeliveryError::NoChannel),
            },
            #[allow(unreachable_patterns)]
            _ => Err(DeliveryError::NoChannel),
        }
    }
}

/// A failed hand-over: how it failed (for `Retry-After`), and the SDK error with its
/// causes, for the log (never for the caller).
#[cfg(any(feature = "sms", feature = "email"))]
pub(crate) fn failed<E, R>(error: aws_sdk_dynamodb::error::SdkError<E, R>) -> DeliveryError
where
    E: std::error::Error + aws_sdk_dynamodb::error::ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    DeliveryError::Failed {
        outage: crate::backend::Outage::of(&error),
        detail: aws_sdk_dynamodb::error::DisplayErrorContext(error).to_string(),
    }
}
