//! Where a code goes: a phone number in E.164, validated for its country by
//! libphonenumber's rules, or an email address. Debug and Display mask the value, so a
//! destination cannot reach a log line in clear by accident.

use std::fmt;

use rlibphonenumber::{PHONE_NUMBER_UTIL, PhoneNumber, PhoneNumberFormat, PhoneNumberType, Region};

use crate::digits::is_digits;

/// Two destinations are equal when their [`key`](Destination::key)s are: `Asha@x.com`
/// and `asha@x.com` are one mailbox.
#[derive(Clone)]
pub enum Destination {
    /// `+` and up to 15 digits.
    Phone(String),
    /// Trimmed, its domain lower-cased, its local part as given (the message goes there).
    Email(String),
}

impl PartialEq for Destination {
    fn eq(&self, other: &Self) -> bool {
        matches!(
            (self, other),
            (Self::Phone(_), Self::Phone(_)) | (Self::Email(_), Self::Email(_))
        ) && self.key() == other.key()
    }
}

impl Eq for Destination {}

impl std::hash::Hash for Destination {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidDestination {
    #[error("not a valid country calling code")]
    CountryCode,
    #[error("not a valid phone number for its country")]
    PhoneNumber,
    #[error("not a valid email address")]
    Email,
}

/// Longest email address accepted (RFC 3696 with its erratum: 64 + 1 + 255).
pub const MAX_EMAIL_LENGTH: usize = 320;

/// A country calling code libphonenumber knows, written with or without `+` (`+91`, `91`).
pub fn calling_code(text: &str) -> Result<i32, InvalidDestination> {
    calling_code_regions(text).map(|(code, _)| code)
}

/// A calling code as `calling_code` reads it, and the regions that share it.
fn calling_code_regions(text: &str) -> Result<(i32, impl ExactSizeIterator<Item = Region>), InvalidDestination> {
    let text = text.trim();
    let digits = text.strip_prefix('+').unwrap_or(text);
    let code: i32 = Some(digits)
        .filter(|digits| is_digits(digits))
        .and_then(|digits| digits.parse().ok())
        .ok_or(InvalidDestination::CountryCode)?;
    let regions = PHONE_NUMBER_UTIL
        .get_regions_for_country_calling_code(code)
        .ok_or(InvalidDestination::CountryCode)?;
    Ok((code, regions))
}

/// Whether `number`, written nationally, is a valid number of some country: all that can be
/// said of a national number given without its calling code.
pub fn is_national_number_somewhere(number: &str) -> bool {
    let number = number.trim();
    !number.is_empty()
        && !number.starts_with('+')
        && PHONE_NUMBER_UTIL.get_supported_regions().any(|region| {
            PHONE_NUMBER_UTIL
                .parse(number, Some(region))
                .is_ok_and(|parsed| PHONE_NUMBER_UTIL.is_valid_number(&parsed))
        })
}

impl Destination {
    /// A national number (with or without its trunk `0`, or already carrying the same
    /// country code) and a calling code with or without `+`.
    pub fn phone(country_code: &str, number: &str) -> Result<Self, InvalidDestination> {
        let (code, regions) = calling_code_regions(country_code)?;
        let number = number.trim();
        if number.is_empty() || number.starts_with('+') {
            return Err(InvalidDestination::PhoneNumber);
        }
        // A nationally written number is parsed in the context of each region sharing the
        // calling code (`+1` is many countries); the first that validates wins.
        for region in regions {
            if let Ok(parsed) = PHONE_NUMBER_UTIL.parse(number, Some(region))
                && parsed.country_code == code
                && PHONE_NUMBER_UTIL.is_valid_number(&parsed)
            {
                return Ok(Self::from_parsed(&parsed));
            }
        }
        Err(InvalidDestination::PhoneNumber)
    }

    /// A full international number starting with `+`.
    pub fn e164(number: &str) -> Result<Self, InvalidDestination> {
        let number = number.trim();
        let digits = number.strip_prefix('+').ok_or(InvalidDestination::PhoneNumber)?;
        if !is_digits(digits) || digits.len() > 15 {
            return Err(InvalidDestination::PhoneNumber);
        }
        let parsed = PHONE_NUMBER_UTIL
            .parse(number, None)
            .map_err(|_| InvalidDestination::PhoneNumber)?;
        if !PHONE_NUMBER_UTIL.is_valid_number(&parsed) {
            return Err(InvalidDestination::PhoneNumber);
        }
        Ok(Self::from_parsed(&parsed))
    }

    fn from_parsed(parsed: &PhoneNumber) -> Self {
        Self::Phone(PHONE_NUMBER_UTIL.format(parsed, PhoneNumberFormat::E164).into_owned())
    }

    /// An address with one `@`, a plausible local part and a dotted domain; the domain is
    /// lower-cased (it is case-insensitive), the local part kept as given (it may not be).
    pub fn email(address: &str) -> Result<Self, InvalidDestination> {
        let address = address.trim();
        if address.is_empty() || address.len() > MAX_EMAIL_LENGTH {
            return Err(InvalidDestination::Email);
        }
        let (local, domain) = address.rsplit_once('@').ok_or(InvalidDestination::Email)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = domain.len() <= 255
            && labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && !tld.chars().all(|c| c.is_ascii_digit()));
        if !local_ok || !domain_ok {
            return Err(InvalidDestination::Email);
        }
        Ok(Self::Email(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    /// The value in clear, as given: where a message goes. Never logged.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Phone(value) | Self::Email(value) => value,
        }
    }

    /// The canonical form every challenge and registry entry is keyed on: the E.164
    /// number, or the address case-folded whole. The local part of an address may
    /// be case-sensitive by the letter of RFC 5321, but no mailbox provider in use treats
    /// it so; keying on it as given would let one inbox be flooded through its variants.
    pub fn key(&self) -> std::borrow::Cow<'_, str> {
        match self {
            Self::Phone(number) => std::borrow::Cow::Borrowed(number),
            Self::Email(address) if address.bytes().any(|b| b.is_ascii_uppercase()) => {
                std::borrow::Cow::Owned(address.to_ascii_lowercase())
            }
            Self::Email(address) => std::borrow::Cow::Borrowed(address),
        }
    }

    /// What the budgets of a destination are keyed on: the phone number, or the mailbox
    /// an address reaches. One mailbox answers to many addresses (a `+` sub-address;
    /// at Gmail any dots and the `googlemail.com` domain), and each would otherwise have
    /// budgets of its own, so one inbox could be flooded through its variants. Challenges
    /// and the registry keep the address ([`Self::key`]): only the budgets fold it.
    pub fn mailbox(&self) -> std::borrow::Cow<'_, str> {
        let key = self.key();
        let Self::Email(_) = self else {
            return key;
        };
        let Some((local, domain)) = key.rsplit_once('@') else {
            return key;
        };
        let local = local.split_once('+').map_or(local, |(mailbox, _tag)| mailbox);
        let (local, domain) = match domain {
            "gmail.com" | "googlemail.com" => (local.replace('.', ""), "gmail.com"),
            _ => (local.to_owned(), domain),
        };
        // A local part that is only a tag (`+x@d`) is its own mailbox, not an empty one.
        if local.is_empty() {
            return key;
        }
        std::borrow::Cow::Owned(format!("{local}@{domain}"))
    }

    /// The number range of a phone number: its calling code and the first `digits` of its
    /// national number (`+44 7911` for `+447911123456` and 4). None for an email.
    pub fn number_range(&self, digits: u8) -> Option<String> {
        let Self::Phone(number) = self else {
            return None;
        };
        let parsed = PHONE_NUMBER_UTIL.parse(number, None).ok()?;
        let calling_code = parsed.country_code.to_string();
        let national = number.strip_prefix('+')?.strip_prefix(calling_code.as_str())?;
        let prefix: String = national.chars().take(usize::from(digits)).collect();
        Some(format!("+{calling_code} {prefix}"))
    }

    /// The ISO region of a phone number (`IN`, `US`), for the SMS country allow-list.
    pub fn region(&self) -> Option<String> {
        match self {
            Self::Phone(number) => PHONE_NUMBER_UTIL
                .parse(number, None)
                .ok()
                .and_then(|parsed| PHONE_NUMBER_UTIL.get_region_for_number(&parsed))
                .map(|region| (*region.as_region_str()).to_owned()),
            Self::Email(_) => None,
        }
    }

    /// A phone number's region and kind; None for an email.
    pub fn numbering(&self) -> Option<Numbering> {
        let Self::Phone(number) = self else {
            return None;
        };
        let parsed = PHONE_NUMBER_UTIL.parse(number, None).ok()?;
        let region = PHONE_NUMBER_UTIL
            .get_region_for_number(&parsed)
            .map(|region| (*region.as_region_str()).to_owned());
        let kind = match PHONE_NUMBER_UTIL.get_number_type(&parsed) {
            PhoneNumberType::Mobile => NumberKind::Mobile,
            PhoneNumberType::FixedLineOrMobile => NumberKind::FixedLineOrMobile,
            PhoneNumberType::FixedLine => NumberKind::FixedLine,
            PhoneNumberType::TollFree => NumberKind::TollFree,
            PhoneNumberType::PremiumRate => NumberKind::PremiumRate,
            PhoneNumberType::SharedCost => NumberKind::SharedCost,
            PhoneNumberType::VoIP => NumberKind::Voip,
            PhoneNumberType::PersonalNumber => NumberKind::PersonalNumber,
            PhoneNumberType::Pager => NumberKind::Pager,
            PhoneNumberType::UAN => NumberKind::Uan,
            PhoneNumberType::VoiceMail => NumberKind::Voicemail,
            PhoneNumberType::Unknown => NumberKind::Unknown,
        };
        Some(Numbering { region, kind })
    }

    /// `+91******3219`, `a***@b.co`: enough to tell destinations apart in a log, not to use one.
    pub fn masked(&self) -> String {
        match self {
            Self::Phone(number) => {
                let chars: Vec<char> = number.chars().collect();
                let keep_tail = 4.min(chars.len());
                let keep_head = 3.min(chars.len() - keep_tail);
                let hidden = chars.len() - keep_head - keep_tail;
                let head: String = chars[..keep_head].iter().collect();
                let tail: String = chars[chars.len() - keep_tail..].iter().collect();
                format!("{head}{}{tail}", "*".repeat(hidden))
            }
            Self::Email(address) => match address.rsplit_once('@') {
                Some((local, domain)) => {
                    let first: String = local.chars().take(1).collect();
                    format!("{first}***@{domain}")
                }
                None => "***".to_owned(),
            },
        }
    }
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.masked())
    }
}

impl fmt::Debug for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Phone(_) => write!(f, "Phone({})", self.masked()),
            Self::Email(_) => write!(f, "Email({})", self.masked()),
        }
    }
}

/// A phone number's kind, by libphonenumber's numbering plans (its `PhoneNumberType`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NumberKind {
    Mobile,
    FixedLineOrMobile,
    FixedLine,
    TollFree,
    PremiumRate,
    SharedCost,
    Voip,
    PersonalNumber,
    Pager,
    Uan,
    Voicemail,
    Unknown,
}

impl NumberKind {
    pub const ALL: [NumberKind; 12] = [
        Self::Mobile,
        Self::FixedLineOrMobile,
        Self::FixedLine,
        Self::TollFree,
        Self::PremiumRate,
        Self::SharedCost,
        Self::Voip,
        Self::PersonalNumber,
        Self::Pager,
        Self::Uan,
        Self::Voicemail,
        Self::Unknown,
    ];

    /// The name in settings, logs and metrics.
    pub fn name(self) -> &'static str {
        match self {
            Self::Mobile => "mobile",
            Self::FixedLineOrMobile => "fixed_line_or_mobile",
            Self::FixedLine => "fixed_line",
            Self::TollFree => "toll_free",
            Self::PremiumRate => "premium_rate",
            Self::SharedCost => "shared_cost",
            Self::Voip => "voip",
            Self::PersonalNumber => "personal_number",
            Self::Pager => "pager",
            Self::Uan => "uan",
            Self::Voicemail => "voicemail",
            Self::Unknown => "unknown",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }

    /// As a person reads it: "a premium rate number".
    pub fn described(self) -> &'static str {
        match self {
            Self::Mobile => "a mobile number",
            Self::FixedLineOrMobile => "a number that may be mobile",
            Self::FixedLine => "a landline number",
            Self::TollFree => "a toll-free number",
            Self::PremiumRate => "a premium rate number",
            Self::SharedCost => "a shared cost number",
            Self::Voip => "a VoIP number",
            Self::PersonalNumber => "a personal (forwarding) number",
            Self::Pager => "a pager number",
            Self::Uan => "a universal access number",
            Self::Voicemail => "a voicemail access number",
            Self::Unknown => "a number of unknown type",
        }
    }
}

/// Where a phone number is and what kind it is, from its numbering plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Numbering {
    /// ISO 3166 alpha-2, or `001` for the networks of no country; None when no region
    /// claims the number.
    pub region: Option<String>,
    pub kind: NumberKind,
}

/// How an OTP configuration delivers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Channel {
    Sms,
    Email,
    /// An approved WhatsApp authentication template, to a phone number.
    WhatsApp,
    /// A voice call that speaks the code, to a phone number (a landline too).
    Call,
}

impl Channel {
    pub const ALL: [Channel; 4] = [Channel::Sms, Channel::Email, Channel::WhatsApp, Channel::Call];

    pub fn name(self) -> &'static str {
        match self {
            Self::Sms => "sms",
            Self::Email => "email",
            Self::WhatsApp => "whatsapp",
            Self::Call => "call",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|channel| channel.name() == name)
    }

    /// Whether the channel reaches a phone number (SMS, WhatsApp, a call) rather than an
    /// address.
    pub fn reaches_phones(self) -> bool {
        !matches!(self, Self::Email)
    }

    /// The channel that reaches `destination`: SMS for a phone, email for an address.
    pub fn of(destination: &Destination) -> Self {
        match destination {
            Destination::Phone(_) => Self::Sms,
            Destination::Email(_) => Self::Email,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone(country: &str, number: &str) -> Result<String, InvalidDestination> {
        Destination::phone(country, number).map(|d| d.as_str().to_owned())
    }

    #[test]
    fn national_numbers_normalise_to_e164() {
        assert_eq!(phone("+91", "9876543219").unwrap(), "+919876543219");
        assert_eq!(phone("91", "9876543219").unwrap(), "+919876543219");
        assert_eq!(phone("+91", "09876543219").unwrap(), "+919876543219");
        assert_eq!(phone("+91", "919876543219").unwrap(), "+919876543219");
        assert_eq!(phone("+91", "98765 43219").unwrap(), "+919876543219");
        assert_eq!(phone("+44", "07911 123456").unwrap(), "+447911123456");
        assert_eq!(phone("+1", "(415) 555-2671").unwrap(), "+14155552671");
        assert_eq!(phone("+234", "8011111111").unwrap(), "+2348011111111");
        // An Italian landline keeps its leading zero in E.164.
        assert_eq!(phone("+39", "02 3661 8300").unwrap(), "+390236618300");
    }

    #[test]
    fn invalid_phones_are_refused() {
        assert_eq!(phone("+91", "12345"), Err(InvalidDestination::PhoneNumber));
        assert_eq!(phone("+91", "abcdefghij"), Err(InvalidDestination::PhoneNumber));
        assert_eq!(phone("+91", ""), Err(InvalidDestination::PhoneNumber));
        assert_eq!(phone("+999", "9876543219"), Err(InvalidDestination::CountryCode));
        assert_eq!(phone("", "9876543219"), Err(InvalidDestination::CountryCode));
        assert_eq!(phone("+9a", "9876543219"), Err(InvalidDestination::CountryCode));
        // A valid number of another country is not valid for this one.
        assert!(phone("+44", "9876543219").is_err());
    }

    #[test]
    fn calling_codes_are_ones_libphonenumber_knows() {
        assert_eq!(calling_code("+91"), Ok(91));
        assert_eq!(calling_code(" 1 "), Ok(1));
        for unknown in ["+999", "", "+", "++91", "9a", "\u{3}O", "-91"] {
            assert_eq!(
                calling_code(unknown),
                Err(InvalidDestination::CountryCode),
                "{unknown:?}"
            );
        }
    }

    #[test]
    fn national_numbers_without_a_calling_code_are_some_countrys() {
        for number in ["9876543219", "07400 123456", "(201) 555-0123"] {
            assert!(is_national_number_somewhere(number), "{number}");
        }
        for not_one in ["0", "1-", "", "+919876543219", "abcdefghij", "12"] {
            assert!(!is_national_number_somewhere(not_one), "{not_one:?}");
        }
    }

    #[test]
    fn international_numbers() {
        assert_eq!(Destination::e164("+2348011111111").unwrap().as_str(), "+2348011111111");
        assert!(Destination::e164("2348011111111").is_err());
        assert!(Destination::e164("+1234567890123456").is_err());
        assert!(Destination::e164("+91 12").is_err());
        assert_eq!(
            Destination::e164("+919876543219").unwrap().region().as_deref(),
            Some("IN")
        );
        // `+1` is many regions: the number's own is found.
        assert_eq!(
            Destination::e164("+14155552671").unwrap().region().as_deref(),
            Some("US")
        );
        assert_eq!(
            Destination::e164("+16135550123").unwrap().region().as_deref(),
            Some("CA")
        );
        assert_eq!(Destination::e164("+390236618300").unwrap().as_str(), "+390236618300");
    }

    #[test]
    fn emails_are_trimmed_and_their_domain_lowercased() {
        assert_eq!(
            Destination::email("  Asha.K@Example.COM ").unwrap().as_str(),
            "Asha.K@example.com"
        );
        for bad in [
            "",
            "a",
            "a@b",
            "@b.co",
            "a@@b.co",
            "a b@c.co",
            "a@-b.co",
            "a..b@c.co",
            "a@b.c",
        ] {
            assert_eq!(Destination::email(bad), Err(InvalidDestination::Email), "{bad}");
        }
        let long_local = format!("{}@b.co", "a".repeat(65));
        assert!(Destination::email(&long_local).is_err());
    }

    #[test]
    fn emails_key_case_folded_and_deliver_as_given() {
        let given = Destination::email("Asha@X.com").unwrap();
        let lower = Destination::email("asha@x.com").unwrap();
        assert_eq!(given.as_str(), "Asha@x.com");
        assert_eq!(given.key(), "asha@x.com");
        assert_eq!(given, lower, "one mailbox");
        assert_ne!(given, Destination::email("ashb@x.com").unwrap());
    }

    #[test]
    fn budgets_key_on_the_mailbox_and_challenges_on_the_address() {
        let mailbox = |address: &str| Destination::email(address).unwrap().mailbox().into_owned();
        assert_eq!(mailbox("Asha+News@Example.com"), "asha@example.com");
        assert_eq!(mailbox("a.sha+x@gmail.com"), "asha@gmail.com");
        assert_eq!(mailbox("A.S.H.A@GoogleMail.com"), "asha@gmail.com");
        assert_eq!(
            mailbox("a.sha@example.com"),
            "a.sha@example.com",
            "dots matter elsewhere"
        );
        assert_eq!(mailbox("+only@example.com"), "+only@example.com");
        let tagged = Destination::email("asha+news@gmail.com").unwrap();
        assert_eq!(tagged.key(), "asha+news@gmail.com", "challenges keep the address");
        assert_eq!(tagged.as_str(), "asha+news@gmail.com", "the message goes as given");
        let phone = Destination::e164("+447911123456").unwrap();
        assert_eq!(phone.mailbox(), phone.key());
    }

    #[test]
    fn number_ranges_are_the_calling_code_and_first_national_digits() {
        let uk = Destination::e164("+447911123456").unwrap();
        assert_eq!(uk.number_range(4).as_deref(), Some("+44 7911"));
        let india = Destination::phone("+91", "9876543219").unwrap();
        assert_eq!(india.number_range(3).as_deref(), Some("+91 987"));
        let us = Destination::e164("+14155552671").unwrap();
        assert_eq!(us.number_range(6).as_deref(), Some("+1 415555"));
        assert_eq!(Destination::email("a@b.co").unwrap().number_range(4), None);
    }

    #[test]
    fn masking_hides_the_middle() {
        let phone = Destination::phone("+91", "9876543219").unwrap();
        assert_eq!(phone.masked(), "+91******3219");
        assert_eq!(format!("{phone}"), "+91******3219");
        assert!(!format!("{phone:?}").contains("98765"));
        let email = Destination::email("asha@b.co").unwrap();
        assert_eq!(email.masked(), "a***@b.co");
    }
}
