//! Languages: the built-in texts, one per locale Twilio Verify lists for SMS, and which
//! of them a send is written in (docs/languages.md).

mod countries;
mod texts;
mod voices;

use countries::COUNTRY_LOCALES;
use texts::TEXTS;
use voices::VOICES;

/// A locale's built-in texts.
#[derive(Debug, PartialEq, Eq)]
pub struct Texts {
    /// Twilio's tag for it (`pt-BR`), as its `Locale` names it.
    pub tag: &'static str,
    /// Its English name.
    pub name: &'static str,
    /// The SMS, and an email's body: `{code}`, `{sender}` and `{minutes}` are replaced.
    pub sms: &'static str,
    /// An email's subject.
    pub subject: &'static str,
}

/// A built-in locale.
pub type Locale = &'static Texts;

/// How a call speaks a locale: the voice (as AWS End User Messaging SMS and Voice names
/// it) and what it says before the code, the first time and again (`{sender}` replaced).
#[derive(Debug, PartialEq, Eq)]
pub struct Voice {
    pub tag: &'static str,
    pub voice_id: &'static str,
    pub first: &'static str,
    pub again: &'static str,
}

/// The voice that speaks `locale`, if one does.
pub fn voice(locale: Locale) -> Option<&'static Voice> {
    VOICES.iter().find(|voice| voice.tag == locale.tag)
}

/// Every locale a call can speak, sorted by tag.
pub fn voices() -> &'static [Voice] {
    VOICES
}

/// The voice a call in `locale` speaks in: its own, else English's. (A request that asks
/// for a locale no voice speaks is refused before it is sent: Twilio's `Locale`.)
pub fn spoken(locale: Locale) -> &'static Voice {
    voice(locale).or_else(|| voice(english())).expect("English is spoken")
}

/// Every built-in locale, sorted by tag.
pub fn all() -> &'static [Texts] {
    TEXTS
}

/// English: the language of last resort.
pub fn english() -> Locale {
    find("en").expect("English is built in")
}

/// The built-in locale a tag names: Twilio's tags, in any case, with `-` or `_`.
pub fn find(tag: &str) -> Option<Locale> {
    TEXTS
        .iter()
        .find(|texts| texts.tag.len() == tag.len() && texts.tag.bytes().zip(tag.bytes()).all(same_tag_byte))
}

fn same_tag_byte((ours, theirs): (u8, u8)) -> bool {
    let theirs = if theirs == b'_' { b'-' } else { theirs };
    ours.eq_ignore_ascii_case(&theirs)
}

/// The locale a country's numbers get (ISO 3166 alpha-2), if it is not English.
pub fn of_country(region: &str) -> Option<Locale> {
    let index = COUNTRY_LOCALES
        .binary_search_by(|(country, _)| country.cmp(&region))
        .ok()?;
    find(COUNTRY_LOCALES[index].1)
}

/// The locale a message is written in: the one the request asks for, else the one its
/// configuration names, else its number's country's (an email has none), else English.
pub fn choose(requested: Option<Locale>, configured: Option<Locale>, country: Option<&str>) -> Locale {
    requested
        .or(configured)
        .or_else(|| country.and_then(of_country))
        .unwrap_or_else(english)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spend::segments;

    /// A text as a typical send renders it.
    fn rendered(sms: &str) -> String {
        sms.replace("{code}", "123456")
            .replace("{sender}", "Acme Shop")
            .replace("{minutes}", "10")
    }

    #[test]
    fn every_text_names_the_code_the_sender_and_the_lifetime_once() {
        for texts in all() {
            for placeholder in ["{code}", "{sender}", "{minutes}"] {
                assert_eq!(texts.sms.matches(placeholder).count(), 1, "{} {placeholder}", texts.tag);
            }
            let rest = rendered(texts.sms);
            assert!(!rest.contains(['{', '}']), "{}: a stray brace", texts.tag);
            assert!(
                !rest.chars().any(char::is_control),
                "{}: a control character",
                texts.tag
            );
            assert_eq!(rest.trim(), rest, "{}: surrounding space", texts.tag);
            assert!(
                !texts.subject.is_empty() && !texts.subject.contains(['{', '}']),
                "{}",
                texts.tag
            );
        }
    }

    #[test]
    fn every_text_fits_one_segment() {
        for texts in all() {
            assert_eq!(
                segments(&rendered(texts.sms)),
                1,
                "{}: {}",
                texts.tag,
                rendered(texts.sms)
            );
        }
    }

    #[test]
    fn the_list_is_sorted_unique_and_each_country_names_a_built_in_locale() {
        assert!(TEXTS.windows(2).all(|pair| pair[0].tag < pair[1].tag));
        assert!(COUNTRY_LOCALES.windows(2).all(|pair| pair[0].0 < pair[1].0));
        for (country, tag) in COUNTRY_LOCALES {
            assert!(find(tag).is_some(), "{country} names {tag}");
            assert_ne!(*tag, "en", "{country}: English needs no row");
        }
    }

    #[test]
    fn every_voice_speaks_a_built_in_locale_and_names_the_sender_once() {
        assert!(VOICES.windows(2).all(|pair| pair[0].tag < pair[1].tag));
        for voice in voices() {
            assert!(
                find(voice.tag).is_some_and(|locale| locale.tag == voice.tag),
                "{}",
                voice.tag
            );
            assert_eq!(voice.first.matches("{sender}").count(), 1, "{}", voice.tag);
            assert!(!voice.again.contains(['{', '}', '<', '>', '&']), "{}", voice.tag);
            assert!(!voice.first.contains(['<', '>', '&']), "{}", voice.tag);
            assert!(!voice.voice_id.is_empty() && voice.voice_id.bytes().all(|b| b.is_ascii_uppercase()));
        }
    }

    #[test]
    fn a_call_speaks_the_chosen_language_else_english() {
        let spoken_tag = |tag: &str| spoken(find(tag).expect("built in")).tag;
        assert_eq!(spoken_tag("es"), "es");
        assert_eq!(spoken_tag("pt-BR"), "pt-BR");
        // Hindi and Thai have texts but no voice.
        assert_eq!(spoken_tag("hi"), "en");
        assert_eq!(spoken_tag("th"), "en");
    }

    #[test]
    fn tags_are_found_in_any_case_and_either_separator() {
        assert_eq!(find("pt-BR").map(|t| t.tag), Some("pt-BR"));
        assert_eq!(find("PT_br").map(|t| t.tag), Some("pt-BR"));
        assert_eq!(find("zh-hk").map(|t| t.tag), Some("zh-HK"));
        assert_eq!(find("xx"), None);
        assert_eq!(find("pt-B"), None);
        assert_eq!(find(""), None);
    }

    #[test]
    fn the_request_comes_first_then_the_configuration_then_the_country() {
        let spanish = find("es");
        let german = find("de");
        assert_eq!(choose(spanish, german, Some("FR")).tag, "es");
        assert_eq!(choose(None, german, Some("FR")).tag, "de");
        assert_eq!(choose(None, None, Some("FR")).tag, "fr");
        assert_eq!(choose(None, None, Some("GB")).tag, "en");
        assert_eq!(choose(None, None, None).tag, "en");
        assert_eq!(choose(None, None, Some("BR")).tag, "pt-BR");
    }
}
