//! The texts that carry codes. Templates are the deployment's (or an OTP configuration's);
//! the parts a caller may supply (a recipient's name, the name shown as the sender, such
//! as Twilio's `CustomFriendlyName`) are bounded and cleaned first.

use crate::code::Code;
use crate::policy::Profile;
use crate::ports::Message;

/// The default SMS text. `{code}` and `{minutes}` are replaced.
pub const DEFAULT_SMS_TEMPLATE: &str =
    "{code} is your verification code. It expires in {minutes} minutes. Do not share it.";
/// The default email subject.
pub const DEFAULT_EMAIL_SUBJECT: &str = "Your verification code";
/// Characters of a caller-supplied name that reach a message.
pub const MAX_NAME_CHARS: usize = 64;

/// Fills a template. Placeholders: `{code}`, `{minutes}`, `{name}`, `{sender}`.
pub fn render(template: &str, code: &Code, profile: &Profile, name: &str, sender: &str) -> String {
    let minutes = profile.lifetime.as_secs().div_ceil(60).to_string();
    // The code goes in last, so that no other value can smuggle a placeholder into it.
    template
        .replace("{minutes}", &minutes)
        .replace("{name}", &clean_name(name))
        .replace("{sender}", &clean_name(sender))
        .replace("{code}", code.reveal())
}

/// A name as it may appear in a message: printable, single-line, bounded, no braces.
pub fn clean_name(name: &str) -> String {
    name.chars()
        .filter(|c| !c.is_control() && *c != '{' && *c != '}')
        .take(MAX_NAME_CHARS)
        .collect::<String>()
        .trim()
        .to_owned()
}

/// Text made safe to place in HTML, as content or in a quoted attribute.
pub fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// The message templates of a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Messages {
    pub sms_template: String,
    pub email_subject: String,
}

impl Default for Messages {
    fn default() -> Self {
        Self {
            sms_template: DEFAULT_SMS_TEMPLATE.to_owned(),
            email_subject: DEFAULT_EMAIL_SUBJECT.to_owned(),
        }
    }
}

impl Messages {
    /// A text message, from the deployment's template.
    pub fn sms(&self, code: &Code, profile: &Profile) -> Message {
        Message {
            subject: self.email_subject.clone(),
            text: render(&self.sms_template, code, profile, "", ""),
            html: None,
            sender: None,
            whatsapp: None,
        }
    }

    /// An email: the subject, the template as plain text, and the same text in HTML with the
    /// code set apart.
    pub fn email(&self, code: &Code, profile: &Profile) -> Message {
        self.from_template(&self.sms_template, code, profile, "", None)
    }

    /// The deployment's message for a destination: an email to an address, a text to a phone.
    pub fn for_destination(
        &self,
        destination: &crate::destination::Destination,
        code: &Code,
        profile: &Profile,
    ) -> Message {
        match destination {
            crate::destination::Destination::Email(_) => self.email(code, profile),
            crate::destination::Destination::Phone(_) => self.sms(code, profile),
        }
    }

    /// A message from an OTP configuration's template, for a named recipient.
    pub fn from_template(
        &self,
        template: &str,
        code: &Code,
        profile: &Profile,
        name: &str,
        sender: Option<&str>,
    ) -> Message {
        let text = render(template, code, profile, name, sender.unwrap_or_default());
        let marker = "\u{0}";
        let html_body = escape_html(&render(
            template,
            &Code::marker(),
            profile,
            name,
            sender.unwrap_or_default(),
        ))
        .replace(
            marker,
            &format!(
                "<strong style=\"font-size:1.4em;letter-spacing:0.2em\">{}</strong>",
                code.reveal()
            ),
        );
        let html =
            format!("<!doctype html><html><body style=\"font-family:sans-serif\"><p>{html_body}</p></body></html>");
        Message {
            subject: self.email_subject.clone(),
            text,
            html: Some(html),
            sender: sender.map(str::to_owned),
            whatsapp: None,
        }
    }

    /// The message of an OTP configuration for a named recipient, `shown_sender` as its
    /// `{sender}` (the configuration's own, or a name the request gives) while it goes out
    /// from the configuration's sender; by WhatsApp, its template with the code (the text
    /// is the SMS fallback).
    pub fn for_config(
        &self,
        config: &crate::ports::OtpConfig,
        code: &Code,
        profile: &Profile,
        name: &str,
        shown_sender: &str,
    ) -> Message {
        let mut message = self.from_template(&config.template, code, profile, name, Some(shown_sender));
        // No sender of its own: the deployment's (its SMS sender ID, its email identity).
        message.sender = (!config.sender.is_empty()).then(|| config.sender.clone());
        message.whatsapp = config.whatsapp.clone().map(|template| crate::ports::WhatsAppCode {
            template,
            code: code.clone(),
        });
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn profile() -> Profile {
        Profile::new(6, Duration::from_secs(300)).unwrap()
    }

    #[test]
    fn templates_are_filled_and_names_cleaned() {
        let code = Code::from_text("012345", 6).unwrap();
        let text = render(
            "Hi {name}, {code} from {sender} ({minutes} min)",
            &code,
            &profile(),
            "Asha\n{code}",
            "Acme\r\n{name}",
        );
        assert_eq!(text, "Hi Ashacode, 012345 from Acmename (5 min)");
        let long = "x".repeat(200);
        assert_eq!(clean_name(&long).len(), MAX_NAME_CHARS);
    }

    #[test]
    fn emails_carry_text_and_escaped_html() {
        let code = Code::from_text("987654", 6).unwrap();
        let message =
            Messages::default().from_template("Dear {name}: {code}", &code, &profile(), "<b>Eve</b>", Some("Acme"));
        assert_eq!(message.text, "Dear <b>Eve</b>: 987654");
        let html = message.html.unwrap();
        assert!(html.contains("Dear &lt;b&gt;Eve&lt;/b&gt;: <strong"));
        assert!(html.contains(">987654</strong>"));
        assert_eq!(message.sender.as_deref(), Some("Acme"));
        assert_eq!(message.subject, DEFAULT_EMAIL_SUBJECT);
    }
}
