//! WhatsApp as an OTP configuration names it: an authentication template approved by Meta
//! for the business account, the number that sends it (as AWS End User Messaging Social
//! names it), and whether SMS takes over when WhatsApp refuses the recipient.

/// A WhatsApp authentication template approved for the business account, and the number
/// that sends it, as AWS End User Messaging Social names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsAppTemplate {
    /// `phone-number-id-...` (or its ARN): the business number that sends.
    pub phone_number_id: String,
    /// The template's name, as approved by Meta.
    pub name: String,
    /// Its language, as approved (`en_US`, `pt_BR`).
    pub language: String,
    /// When WhatsApp refuses the recipient (not on WhatsApp, not reachable), send the
    /// configuration's text by SMS instead, in the same request and budgets.
    pub fallback_to_sms: bool,
}

impl WhatsAppTemplate {
    /// Why the names cannot be what the service and Meta take, if they cannot.
    pub fn problem(&self) -> Option<String> {
        let id = self
            .phone_number_id
            .strip_prefix("phone-number-id-")
            .or_else(|| self.phone_number_id.split_once(":phone-number-id/").map(|(_, id)| id));
        if !id.is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())) {
            return Some("the WhatsApp phone number id is phone-number-id-<id> (or its ARN)".to_owned());
        }
        // Meta's template names: lower-case letters, digits and underscores, up to 512.
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 512
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !name_ok {
            return Some("a WhatsApp template name has lower-case letters, digits and underscores".to_owned());
        }
        if !is_template_language(&self.language) {
            return Some("a WhatsApp template language is a code such as en or en_US".to_owned());
        }
        None
    }
}

/// Whether `code` is a language a WhatsApp template is approved in: `en`, `en_US`, `zh_CN`.
pub fn is_template_language(code: &str) -> bool {
    let lower = |part: &str| part.len() == 2 && part.bytes().all(|b| b.is_ascii_lowercase());
    match code.split_once('_') {
        Some((lang, region)) => {
            lower(lang) && (2..=3).contains(&region.len()) && region.bytes().all(|b| b.is_ascii_uppercase())
        }
        None => lower(code),
    }
}

/// A WhatsApp template message carrying a code (which its Debug never shows).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WhatsAppCode {
    pub template: WhatsAppTemplate,
    pub code: crate::code::Code,
}

/// Meta's error codes for a recipient WhatsApp cannot take (as the send call reports
/// them, in its message: `(#131026) Message undeliverable`): not on WhatsApp or not
/// reachable (131026), not among a test number's allowed recipients (131030), the sender
/// itself (131021). Any other refusal (a template, a language or a number id that is
/// wrong, an access or a quota) is the configuration's or the service's, never fallen
/// back from.
pub const RECIPIENT_REFUSALS: [&str; 3] = ["131026", "131030", "131021"];

/// The recipient error of Meta's that a refusal's message names, if it names one.
pub fn recipient_refusal(message: &str) -> Option<&'static str> {
    RECIPIENT_REFUSALS
        .into_iter()
        .find(|code| message.contains(&format!("#{code}")) || message.contains(&format!("code {code}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn template() -> WhatsAppTemplate {
        WhatsAppTemplate {
            phone_number_id: "phone-number-id-0123abc".into(),
            name: "login_code".into(),
            language: "en_US".into(),
            fallback_to_sms: true,
        }
    }

    #[test]
    fn names_are_checked_as_the_service_and_meta_take_them() {
        assert_eq!(template().problem(), None);
        let arn = WhatsAppTemplate {
            phone_number_id: "arn:aws:social-messaging:us-east-1:123456789012:phone-number-id/0123abc".into(),
            ..template()
        };
        assert_eq!(arn.problem(), None);
        for bad in [
            WhatsAppTemplate {
                phone_number_id: "0123".into(),
                ..template()
            },
            WhatsAppTemplate {
                name: "Login Code".into(),
                ..template()
            },
            WhatsAppTemplate {
                language: "english".into(),
                ..template()
            },
        ] {
            assert!(bad.problem().is_some(), "{bad:?}");
        }
        assert_eq!(
            WhatsAppTemplate {
                language: "pt".into(),
                ..template()
            }
            .problem(),
            None
        );
    }

    #[test]
    fn only_recipient_errors_are_refusals_of_the_recipient() {
        assert_eq!(recipient_refusal("(#131026) Message undeliverable"), Some("131026"));
        assert_eq!(
            recipient_refusal("Meta returned error code 131030: Recipient not in allowed list"),
            Some("131030")
        );
        assert_eq!(
            recipient_refusal("(#132001) Template name does not exist in the translation"),
            None
        );
        assert_eq!(recipient_refusal("Invalid parameter"), None);
    }
}
