//! The texts that carry codes. Templates are the deployment's (or an OTP configuration's);
//! the parts a caller may supply (a recipient's name, the name shown as the sender, such
//! as Twilio's `CustomFriendlyName`) are bounded and cleaned first.

use crate::code::Code;
use crate::destination::{Channel, Destination};
use crate::language::{self, Locale, Voice};
use crate::localization::Autofill;
use crate::policy::Profile;
use crate::ports::{Message, OtpConfig, SpokenCode};

/// The template a configuration made without one of its own carries: the built-in English
/// text, which stands for the built-in text in every language.
pub fn built_in_template() -> &'static str {
    crate::language::english().sms
}

/// The built-in template of services made before texts had languages: built in too.
const FORMER_BUILT_IN_TEMPLATE: &str = "Your {sender} verification code is: {code}";

/// Whether a configuration's template is the built-in one (sent in the chosen language)
/// rather than its operator's own text.
pub fn is_built_in(template: &str) -> bool {
    template == built_in_template() || template == FORMER_BUILT_IN_TEMPLATE
}

/// The name the deployment's own messages show as `{sender}` when none is set.
pub const DEFAULT_SENDER_NAME: &str = "OTP";
/// Characters of a caller-supplied name that reach a message.
pub const MAX_NAME_CHARS: usize = 64;

/// What a message is written for: its code, the code's profile, and the country of the
/// number it goes to (none for an email).
#[derive(Debug, Clone, Copy)]
pub struct Writing<'a> {
    pub code: &'a Code,
    pub profile: &'a Profile,
    pub country: Option<&'a str>,
}

/// What a request asks of its message beyond the code.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Asked {
    /// The language (Twilio's `Locale`): before the configuration's and the country's.
    pub locale: Option<Locale>,
    /// Android's app hash (Twilio's `AppHash`): before the configuration's.
    pub app_hash: Option<String>,
}

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
        // Control characters and XML's two non-characters could end a line or break a
        // call's SSML.
        .filter(|c| !c.is_control() && !matches!(c, '{' | '}' | '\u{FFFE}' | '\u{FFFF}'))
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

/// The deployment's own messages (those of no configuration): the built-in texts in the
/// chosen language, or the operator's one template in every language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Messages {
    /// The operator's SMS (and email) text; none: the built-in texts.
    pub sms_template: Option<String>,
    /// The operator's email subject; none: the built-in subject in the message's language.
    pub email_subject: Option<String>,
    /// What the deployment's own messages show as `{sender}`.
    pub sender_name: String,
}

impl Default for Messages {
    fn default() -> Self {
        Self {
            sms_template: None,
            email_subject: None,
            sender_name: DEFAULT_SENDER_NAME.to_owned(),
        }
    }
}

impl Messages {
    /// The deployment's message for a destination: an email to an address, a text to a
    /// phone, in the language `asked` for, else its number's country's, else English.
    pub fn for_destination(&self, destination: &Destination, writing: Writing<'_>, asked: &Asked) -> Message {
        let locale = language::choose(asked.locale, None, writing.country);
        let template = self.sms_template.as_deref().unwrap_or(locale.sms);
        let subject = self.subject(locale);
        match destination {
            Destination::Email(_) => email(template, subject, writing, "", &self.sender_name, None),
            Destination::Phone(_) => {
                let text = render(template, writing.code, writing.profile, "", &self.sender_name);
                let autofill = Autofill {
                    app_hash: asked.app_hash.clone(),
                    web_domain: None,
                };
                sms(autofill.appended_to(text, writing.code), subject)
            }
        }
    }

    /// The message of an OTP configuration for a named recipient, `shown_sender` as its
    /// `{sender}` (the configuration's own, or a name the request gives) while it goes out
    /// from the configuration's sender; by WhatsApp, its template with the code (the text
    /// is the SMS fallback). It writes in the language `asked` for, else its own, else the
    /// number's country's, else English: its own text for that locale, else the built-in
    /// text when its template is the built-in one, else its template.
    pub fn for_config(
        &self,
        config: &OtpConfig,
        writing: Writing<'_>,
        name: &str,
        shown_sender: &str,
        asked: &Asked,
    ) -> Message {
        let localization = &config.localization;
        // A configuration with no name to show (neither a friendly name nor a sender)
        // shows the deployment's.
        let shown_sender = match clean_name(shown_sender).is_empty() {
            true => self.sender_name.as_str(),
            false => shown_sender,
        };
        let locale = language::choose(asked.locale, localization.language, writing.country);
        let template = match localization.template(locale) {
            Some(own) => own,
            None if is_built_in(&config.template) => locale.sms,
            None => config.template.as_str(),
        };
        let subject = self.subject(locale);
        let mut message = match config.channel {
            Channel::Email => email(template, subject, writing, name, shown_sender, Some(shown_sender)),
            Channel::Call => call(language::spoken(locale), writing.code, shown_sender, subject),
            _ => {
                let text = render(template, writing.code, writing.profile, name, shown_sender);
                let autofill = Autofill {
                    app_hash: asked
                        .app_hash
                        .clone()
                        .or_else(|| localization.autofill.app_hash.clone()),
                    web_domain: localization.autofill.web_domain.clone(),
                };
                sms(autofill.appended_to(text, writing.code), subject)
            }
        };
        // No sender of its own: the deployment's (its SMS sender ID, its email identity).
        message.sender = (!config.sender.is_empty()).then(|| config.sender.clone());
        // WhatsApp: its approved template, in the language it names for the locale.
        message.whatsapp = config.whatsapp.clone().map(|mut template| {
            if let Some(language) = localization.whatsapp_languages.get(locale.tag) {
                template.language.clone_from(language);
            }
            crate::ports::WhatsAppCode {
                template,
                code: writing.code.clone(),
            }
        });
        message
    }

    fn subject(&self, locale: Locale) -> String {
        self.email_subject.clone().unwrap_or_else(|| locale.subject.to_owned())
    }
}

/// A call: the voice's phrase, the code digit by digit, a pause, then both again. The text
/// is the words it says.
fn call(voice: &Voice, code: &Code, sender: &str, subject: String) -> Message {
    let sender = clean_name(sender);
    let digits = code.reveal();
    let spoken_digits: Vec<String> = digits.chars().map(String::from).collect();
    let first = voice.first.replace("{sender}", &sender);
    let text = format!(
        "{first} {digits}. {again} {digits}.",
        digits = spoken_digits.join(" "),
        again = voice.again
    );
    let said = |phrase: &str| {
        format!(
            "{} <break time=\"300ms\"/><prosody rate=\"slow\"><say-as interpret-as=\"digits\">{digits}</say-as></prosody>.",
            escape_html(phrase)
        )
    };
    let ssml = format!(
        "<speak>{} <break time=\"1s\"/>{}</speak>",
        said(&first),
        said(voice.again)
    );
    Message {
        voice: Some(SpokenCode {
            voice_id: voice.voice_id,
            ssml,
        }),
        ..sms(text, subject)
    }
}

/// A text message; the other kinds are one with more.
fn sms(text: String, subject: String) -> Message {
    Message {
        subject,
        text,
        html: None,
        sender: None,
        whatsapp: None,
        voice: None,
    }
}

/// An email: the subject, the template as plain text, and the same text in HTML with the
/// code set apart.
fn email(
    template: &str,
    subject: String,
    writing: Writing<'_>,
    name: &str,
    shown: &str,
    sender: Option<&str>,
) -> Message {
    let text = render(template, writing.code, writing.profile, name, shown);
    let marker = "\u{0}";
    let html_body = escape_html(&render(template, &Code::marker(), writing.profile, name, shown)).replace(
        marker,
        &format!(
            "<strong style=\"font-size:1.4em;letter-spacing:0.2em\">{}</strong>",
            writing.code.reveal()
        ),
    );
    let html = format!("<!doctype html><html><body style=\"font-family:sans-serif\"><p>{html_body}</p></body></html>");
    Message {
        html: Some(html),
        sender: sender.map(str::to_owned),
        ..sms(text, subject)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn profile() -> Profile {
        Profile::new(6, Duration::from_secs(300)).unwrap()
    }

    fn writing<'a>(code: &'a Code, profile: &'a Profile, country: Option<&'a str>) -> Writing<'a> {
        Writing { code, profile, country }
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
        let profile = profile();
        let message = email(
            "Dear {name}: {code}",
            "Subject".to_owned(),
            writing(&code, &profile, None),
            "<b>Eve</b>",
            "Acme",
            Some("Acme"),
        );
        assert_eq!(message.text, "Dear <b>Eve</b>: 987654");
        let html = message.html.unwrap();
        assert!(html.contains("Dear &lt;b&gt;Eve&lt;/b&gt;: <strong"));
        assert!(html.contains(">987654</strong>"));
        assert_eq!(message.sender.as_deref(), Some("Acme"));
    }

    #[test]
    fn the_deployment_writes_in_the_asked_then_the_country_language() {
        let code = Code::from_text("987654", 6).unwrap();
        let profile = profile();
        let messages = Messages::default();
        let phone = Destination::Phone("+33612345678".into());
        let french = messages.for_destination(&phone, writing(&code, &profile, Some("FR")), &Asked::default());
        let expected = render(
            language::find("fr").unwrap().sms,
            &code,
            &profile,
            "",
            DEFAULT_SENDER_NAME,
        );
        assert_eq!(french.text, expected);
        let asked = Asked {
            locale: language::find("es"),
            app_hash: None,
        };
        let spanish = messages.for_destination(&phone, writing(&code, &profile, Some("FR")), &asked);
        assert_eq!(
            spanish.text,
            render(language::find("es").unwrap().sms, &code, &profile, "", "OTP")
        );
        let mail = Destination::Email("a@example.com".into());
        let english = messages.for_destination(&mail, writing(&code, &profile, None), &Asked::default());
        assert_eq!(english.subject, language::english().subject);
        assert!(english.text.starts_with("987654 is your OTP verification code."));
    }

    #[test]
    fn an_operator_template_is_sent_in_every_language() {
        let code = Code::from_text("987654", 6).unwrap();
        let profile = profile();
        let messages = Messages {
            sms_template: Some("Code {code}".into()),
            email_subject: Some("Code".into()),
            sender_name: "Acme".into(),
        };
        let phone = Destination::Phone("+33612345678".into());
        let message = messages.for_destination(&phone, writing(&code, &profile, Some("FR")), &Asked::default());
        assert_eq!(
            (message.text.as_str(), message.subject.as_str()),
            ("Code 987654", "Code")
        );
    }

    #[test]
    fn whatsapp_sends_its_template_in_the_language_the_configuration_maps_the_locale_to() {
        let code = Code::from_text("987654", 6).unwrap();
        let profile = profile();
        let template = crate::whatsapp::WhatsAppTemplate {
            phone_number_id: "phone-number-id-1".into(),
            name: "login_code".into(),
            language: "en_US".into(),
            fallback_to_sms: true,
        };
        let mut config = OtpConfig {
            uid: "u".into(),
            client_id: "c".into(),
            channel: Channel::WhatsApp,
            profile,
            template: built_in_template().into(),
            sender: String::new(),
            whatsapp: Some(template),
            more_channels: Vec::new(),
            service: Default::default(),
            localization: Default::default(),
        };
        config.localization.whatsapp_languages.insert("es", "es_MX".into());
        let sent = |asked: &Asked, country| {
            let message = Messages::default().for_config(&config, writing(&code, &profile, country), "", "Acme", asked);
            (message.whatsapp.expect("a template").template.language, message.text)
        };
        let spanish = Asked {
            locale: language::find("es"),
            app_hash: None,
        };
        let (language, fallback) = sent(&spanish, Some("IN"));
        assert_eq!(language, "es_MX");
        assert_eq!(
            fallback,
            render(language::find("es").unwrap().sms, &code, &profile, "", "Acme")
        );
        // Spanish by the number's country too; a locale it does not map keeps the template's own.
        assert_eq!(sent(&Asked::default(), Some("MX")).0, "es_MX");
        assert_eq!(sent(&Asked::default(), Some("FR")).0, "en_US");
    }

    #[test]
    fn a_call_speaks_the_code_digit_by_digit_twice_in_the_chosen_voice() {
        let code = Code::from_text("012345", 6).unwrap();
        let profile = profile();
        let mut config = OtpConfig {
            uid: "u".into(),
            client_id: "c".into(),
            channel: Channel::Call,
            profile,
            template: built_in_template().into(),
            sender: String::new(),
            whatsapp: None,
            more_channels: Vec::new(),
            service: Default::default(),
            localization: Default::default(),
        };
        let spoken = |config: &OtpConfig, asked: &Asked, country| {
            Messages::default().for_config(config, writing(&code, &profile, country), "", "Acme & Co", asked)
        };
        let french = spoken(&config, &Asked::default(), Some("FR"));
        let voice = french.voice.expect("a call");
        assert_eq!(voice.voice_id, "LEA");
        assert_eq!(
            voice.ssml,
            "<speak>Voici votre code de vérification Acme &amp; Co : <break time=\"300ms\"/><prosody rate=\"slow\">\
             <say-as interpret-as=\"digits\">012345</say-as></prosody>. <break time=\"1s\"/>Je répète : \
             <break time=\"300ms\"/><prosody rate=\"slow\"><say-as interpret-as=\"digits\">012345</say-as></prosody>.</speak>"
        );
        assert_eq!(
            french.text,
            "Voici votre code de vérification Acme & Co : 0 1 2 3 4 5. Je répète : 0 1 2 3 4 5."
        );
        // No name to show: the deployment's.
        let unnamed = Messages::default().for_config(
            &config,
            writing(&code, &profile, Some("FR")),
            "",
            " ",
            &Asked::default(),
        );
        assert!(
            unnamed.text.starts_with("Voici votre code de vérification OTP :"),
            "{}",
            unnamed.text
        );
        // A language no voice speaks, by the country or the configuration: English.
        config.localization.language = language::find("hi");
        assert_eq!(
            spoken(&config, &Asked::default(), Some("FR")).voice.unwrap().voice_id,
            "JOANNA"
        );
    }
}
