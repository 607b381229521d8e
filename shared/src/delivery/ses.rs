use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::types::{Body, Content, Destination as SesDestination, EmailContent, Message as SesMessage};

use crate::destination::Destination;
use crate::ports::{Channel, Delivery, DeliveryError, Message};

/// Email through SESv2 `SendEmail`, from a verified sender identity.
#[derive(Debug, Clone)]
pub struct SesEmail {
    client: Client,
    from: String,
}

impl SesEmail {
    pub fn new(client: Client, from: impl Into<String>) -> Self {
        Self {
            client,
            from: from.into(),
        }
    }
}

fn content(text: &str) -> Content {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .expect("data is set")
}

impl Delivery for SesEmail {
    async fn deliver(&self, to: &Destination, message: &Message) -> Result<Channel, DeliveryError> {
        let Destination::Email(address) = to else {
            return Err(DeliveryError::NoChannel);
        };
        let mut body = Body::builder().text(content(&message.text));
        if let Some(html) = &message.html {
            body = body.html(content(html));
        }
        let email = EmailContent::builder()
            .simple(
                SesMessage::builder()
                    .subject(content(&message.subject))
                    .body(body.build())
                    .build(),
            )
            .build();
        // A display name in a quoted phrase; characters that could break out are dropped.
        let from = match &message.sender {
            Some(name) => {
                let name: String = name
                    .chars()
                    .filter(|c| !c.is_control() && !"\"\\<>".contains(*c))
                    .collect();
                format!("\"{name}\" <{}>", self.from)
            }
            None => self.from.clone(),
        };
        self.client
            .send_email()
            .from_email_address(from)
            .destination(SesDestination::builder().to_addresses(address).build())
            .content(email)
            .send()
            .await
            .map(|_| Channel::Email)
            .map_err(super::failed)
    }
}
