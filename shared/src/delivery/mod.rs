//! Delivery of codes: SMS through SNS, email through SESv2, WhatsApp through AWS End User
//! Messaging Social (send-otp only). Each function links only the clients it calls.

#[cfg(feature = "email")]
mod ses;
#[cfg(feature = "sms")]
mod sns;
#[cfg(feature = "whatsapp")]
mod whatsapp;

#[cfg(feature = "email")]
pub use ses::SesEmail;
#[cfg(feature = "sms")]
pub use sns::SnsSms;
#[cfg(feature = "whatsapp")]
pub use whatsapp::WhatsApp;

use crate::destination::Destination;
use crate::ports::{Channel, Delivery, DeliveryError, Message};

/// Routes each message to its channel: WhatsApp when the message is a WhatsApp template
/// (falling back to SMS when its configuration says so and WhatsApp refuses the
/// recipient), otherwise SMS to a phone and email to an address.
#[derive(Debug, Clone, Default)]
pub struct Courier {
    #[cfg(feature = "sms")]
    pub sms: Option<SnsSms>,
    #[cfg(feature = "email")]
    pub email: Option<SesEmail>,
    #[cfg(feature = "whatsapp")]
    pub whatsapp: Option<WhatsApp>,
}

impl Courier {
    #[cfg_attr(not(any(feature = "sms", feature = "email")), allow(unused_variables))]
    async fn by_destination(&self, to: &Destination, message: &Message) -> Result<Channel, DeliveryError> {
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

impl Delivery for Courier {
    async fn deliver(&self, to: &Destination, message: &Message) -> Result<Channel, DeliveryError> {
        let Some(whatsapp) = &message.whatsapp else {
            return self.by_destination(to, message).await;
        };
        #[cfg(feature = "whatsapp")]
        {
            let Some(sender) = &self.whatsapp else {
                return Err(DeliveryError::NoChannel);
            };
            match sender.send(to, whatsapp).await {
                Ok(()) => Ok(Channel::WhatsApp),
                Err(DeliveryError::RecipientRefused(reason)) if whatsapp.template.fallback_to_sms => {
                    tracing::warn!(destination = %to, reason = %reason, "WhatsApp refused the recipient; sending by SMS");
                    self.by_destination(to, message).await
                }
                Err(error) => Err(error),
            }
        }
        // A function built without WhatsApp (only send-otp has it) cannot send one.
        #[cfg(not(feature = "whatsapp"))]
        {
            let _ = whatsapp;
            Err(DeliveryError::NoChannel)
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
