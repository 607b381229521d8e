//! The dev inbox: every SMS and email the local API delivered (through the real SNS and SES
//! clients, to the local AWS), newest first, as JSON and as a page. It lives in the local
//! server only; nothing of it is deployed.

use std::sync::{Arc, Mutex};

use otp_shared::destination::Destination;
use otp_shared::messages::escape_html;
use otp_shared::ports::{Channel, Delivery, DeliveryError, Message};
use serde_json::{Value, json};

/// The messages delivered so far, oldest first.
#[derive(Debug, Default)]
pub struct Inbox {
    delivered: Mutex<Vec<Value>>,
}

impl Inbox {
    fn record(&self, to: &Destination, message: &Message, channel: Channel) {
        let sent_at = otp_shared::http::rfc3339(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or_default(),
        );
        let entry = match (to, &message.whatsapp) {
            (Destination::Phone(number), Some(whatsapp)) if channel == Channel::WhatsApp => json!({
                "channel": "whatsapp", "to": number,
                "text": format!(
                    "template {} ({}), code {}",
                    whatsapp.template.name, whatsapp.template.language, whatsapp.code.reveal()
                ),
                "template": whatsapp.template.name, "language": whatsapp.template.language,
                "from": whatsapp.template.phone_number_id, "sent_at": sent_at,
            }),
            (Destination::Phone(number), _) if channel == Channel::Call => json!({
                "channel": "call", "to": number, "text": message.text,
                "voice": message.voice.as_ref().map(|voice| voice.voice_id),
                "ssml": message.voice.as_ref().map(|voice| voice.ssml.as_str()), "sent_at": sent_at,
            }),
            (Destination::Phone(number), _) => json!({
                "channel": "sms", "to": number, "text": message.text, "sent_at": sent_at,
            }),
            (Destination::Email(address), _) => json!({
                "channel": "email", "to": address, "subject": message.subject, "text": message.text,
                "html": message.html, "sender": message.sender, "sent_at": sent_at,
            }),
        };
        self.delivered.lock().expect("inbox lock").push(entry);
    }

    /// Newest first.
    pub fn messages(&self) -> Vec<Value> {
        let mut messages = self.delivered.lock().expect("inbox lock").clone();
        messages.reverse();
        messages
    }
}

/// A delivery that records what it delivered, in the inbox, once the provider accepted it.
#[derive(Debug, Clone)]
pub struct Recording<D> {
    pub inner: D,
    pub inbox: Arc<Inbox>,
}

impl<D: Delivery> Delivery for Recording<D> {
    async fn deliver(&self, to: &Destination, message: &Message) -> Result<Channel, DeliveryError> {
        let channel = self.inner.deliver(to, message).await?;
        self.inbox.record(to, message, channel);
        Ok(channel)
    }
}

/// The inbox as a page that refreshes itself.
pub fn page(messages: &[Value]) -> String {
    let text = |value: &Value| escape_html(value.as_str().unwrap_or_default());
    let mut rows = String::new();
    for message in messages {
        let content = match message["subject"].as_str() {
            Some(subject) => format!(
                "<strong>{}</strong><div class=\"text\">{}</div>",
                escape_html(subject),
                text(&message["text"])
            ),
            None => format!("<div class=\"text\">{}</div>", text(&message["text"])),
        };
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{content}</td></tr>\n",
            text(&message["sent_at"]),
            text(&message["channel"]),
            text(&message["to"]),
        ));
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=\"4\">Nothing sent yet.</td></tr>\n");
    }
    format!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"3\">\
         <title>OTP dev inbox</title><style>body{{font-family:sans-serif;margin:2em}}\
         table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.4em .8em;vertical-align:top;\
         text-align:left}}.text{{white-space:pre-wrap;font-family:monospace;margin-top:.3em}}</style></head>\
         <body><h1>Dev inbox</h1><p>What the local API delivered, newest first \
         (<a href=\"/_dev/inbox.json\">JSON</a>). Local only: never deployed.</p>\
         <table><tr><th>sent</th><th>channel</th><th>to</th><th>message</th></tr>\n{rows}</table></body></html>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_escapes_what_it_shows() {
        let shown = page(&[json!({"channel": "email", "to": "a@b.co", "subject": "<s>", "text": "<b>123456</b>"})]);
        assert!(shown.contains("&lt;s&gt;") && shown.contains("&lt;b&gt;123456&lt;/b&gt;"));
        assert!(page(&[]).contains("Nothing sent yet."));
    }
}
