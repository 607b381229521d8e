//! How an OTP configuration's messages follow languages: the language its requests get
//! when they ask for none, its operator's own text per locale, the WhatsApp template
//! language each locale sends in, and the autofill lines its SMS end with.

use std::collections::BTreeMap;

use crate::language::{self, Locale};

/// The longest text an operator may give one locale.
pub const MAX_TEMPLATE_CHARS: usize = 1_000;

/// A configuration's languages; the default is none of them (the built-in behaviour).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Localization {
    /// The language of its messages when a request names none, before the number's
    /// country's.
    pub language: Option<Locale>,
    /// Its own text per locale (by built-in tag), in place of its template there.
    pub templates: BTreeMap<&'static str, String>,
    /// The language its WhatsApp template is approved in for each locale (by built-in
    /// tag): `es` → `es_MX`. A locale not listed sends the template's own language.
    pub whatsapp_languages: BTreeMap<&'static str, String>,
    pub autofill: Autofill,
}

/// The lines an SMS ends with so that phones and browsers fill its code in themselves.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Autofill {
    /// Android's SMS Retriever: the app's 11-character hash, anywhere in the text.
    pub app_hash: Option<String>,
    /// The WebOTP API: the site's domain, read from the last line, `@domain #code`.
    pub web_domain: Option<String>,
}

impl Localization {
    /// Whether it changes nothing of the built-in behaviour.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Its own text for `locale`, if it has one.
    pub fn template(&self, locale: Locale) -> Option<&str> {
        self.templates.get(locale.tag).map(String::as_str)
    }

    /// Why it cannot be sent with, if it cannot.
    pub fn problem(&self) -> Option<String> {
        for (tag, text) in &self.templates {
            if !text.contains("{code}") {
                return Some(format!("the {tag} template must contain {{code}}"));
            }
            if text.chars().count() > MAX_TEMPLATE_CHARS {
                return Some(format!(
                    "the {tag} template has more than {MAX_TEMPLATE_CHARS} characters"
                ));
            }
        }
        if let Some((tag, _)) = self
            .whatsapp_languages
            .iter()
            .find(|(_, code)| !crate::whatsapp::is_template_language(code))
        {
            return Some(format!("the WhatsApp language of {tag} is a code such as es or es_MX"));
        }
        if self.autofill.app_hash.as_deref().is_some_and(|hash| !is_app_hash(hash)) {
            return Some("an app hash is Android's 11 characters of base64".to_owned());
        }
        if self
            .autofill
            .web_domain
            .as_deref()
            .is_some_and(|domain| !is_domain(domain))
        {
            return Some("a web domain is a host name such as example.com".to_owned());
        }
        None
    }
}

/// The built-in locale an operator names, or why there is none.
pub fn built_in_locale(tag: &str) -> Result<Locale, String> {
    language::find(tag).ok_or_else(|| format!("{tag} is not a built-in locale (docs/languages.md)"))
}

/// `tag=value` pairs by built-in tag (`es=...`), for a map of a configuration's.
pub fn by_locale(pairs: &[(String, String)]) -> Result<BTreeMap<&'static str, String>, String> {
    pairs
        .iter()
        .map(|(tag, value)| built_in_locale(tag).map(|locale| (locale.tag, value.clone())))
        .collect()
}

/// Whether `text` is an app hash as Android computes it: 11 characters of base64.
pub fn is_app_hash(text: &str) -> bool {
    text.len() == 11
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// Whether `text` is a host name a browser's origin can have: dot-separated labels of
/// lower-case letters, digits and inner hyphens.
pub fn is_domain(text: &str) -> bool {
    text.len() <= 253
        && text.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

impl Autofill {
    /// `text` with the app's hash on a line of its own, then the site's line last.
    pub fn appended_to(&self, mut text: String, code: &crate::code::Code) -> String {
        if self.app_hash.is_none() && self.web_domain.is_none() {
            return text;
        }
        text.push('\n');
        if let Some(hash) = &self.app_hash {
            text.push('\n');
            text.push_str(hash);
        }
        if let Some(domain) = &self.web_domain {
            text.push_str(&format!("\n@{domain} #{}", code.reveal()));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::code::Code;

    #[test]
    fn autofill_lines_end_the_text() {
        let code = Code::from_text("987654", 6).unwrap();
        let both = Autofill {
            app_hash: Some("FA+9qCX9VSu".into()),
            web_domain: Some("example.com".into()),
        };
        assert_eq!(
            both.appended_to("Code 987654".into(), &code),
            "Code 987654\n\nFA+9qCX9VSu\n@example.com #987654"
        );
        let site = Autofill {
            app_hash: None,
            web_domain: Some("example.com".into()),
        };
        assert_eq!(site.appended_to("Code".into(), &code), "Code\n\n@example.com #987654");
        assert_eq!(Autofill::default().appended_to("Code".into(), &code), "Code");
    }

    #[test]
    fn what_a_configuration_may_not_hold_is_named() {
        let mut localization = Localization::default();
        assert_eq!(localization.problem(), None);
        localization.templates.insert("es", "sin código".into());
        assert!(localization.problem().is_some_and(|p| p.contains("es template")));
        localization.templates.insert("es", "{code} es tu código".into());
        localization.whatsapp_languages.insert("es", "spanish".into());
        assert!(localization.problem().is_some_and(|p| p.contains("WhatsApp")));
        localization.whatsapp_languages.insert("es", "es_MX".into());
        localization.autofill.web_domain = Some("Example.com/login".into());
        assert!(localization.problem().is_some_and(|p| p.contains("web domain")));
        localization.autofill.web_domain = Some("login.example.com".into());
        localization.autofill.app_hash = Some("short".into());
        assert!(localization.problem().is_some_and(|p| p.contains("app hash")));
        localization.autofill.app_hash = Some("FA+9qCX9VSu".into());
        assert_eq!(localization.problem(), None);
        assert!(by_locale(&[("xx".into(), "x".into())]).is_err());
        assert_eq!(
            by_locale(&[("PT_br".into(), "x".into())])
                .unwrap()
                .keys()
                .collect::<Vec<_>>(),
            [&"pt-BR"]
        );
    }
}
