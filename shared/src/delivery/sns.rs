use aws_sdk_sns::Client;
use aws_sdk_sns::types::MessageAttributeValue;

use crate::destination::Destination;
use crate::ports::{Channel, Delivery, DeliveryError, Message};

/// SMS through SNS `Publish` to a phone number, marked Transactional (routed for
/// reliability, as codes need, rather than for cost).
#[derive(Debug, Clone)]
pub struct SnsSms {
    client: Client,
    sender_id: Option<String>,
}

impl SnsSms {
    pub fn new(client: Client, sender_id: Option<String>) -> Self {
        Self { client, sender_id }
    }
}

fn string_attribute(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .expect("data type is set")
}

impl Delivery for SnsSms {
    async fn deliver(&self, to: &Destination, message: &Message) -> Result<Channel, DeliveryError> {
        let Destination::Phone(number) = to else {
            return Err(DeliveryError::NoChannel);
        };
        let mut publish = self
            .client
            .publish()
            .phone_number(number)
            .message(&message.text)
            .message_attributes("AWS.SNS.SMS.SMSType", string_attribute("Transactional"));
        if let Some(sender_id) = message.sender.as_ref().or(self.sender_id.as_ref()) {
            publish = publish.message_attributes("AWS.SNS.SMS.SenderID", string_attribute(sender_id));
        }
        publish.send().await.map(|_| Channel::Sms).map_err(super::failed)
    }
}
