//! Which phone numbers a code may go to: the deployment's countries, and the kinds of
//! number that belong to a person. SMS pumping (toll fraud through OTP endpoints) sends to
//! numbers whose operator shares the revenue of each message: premium rate and shared
//! cost ranges, and the non-geographic networks (satellite, international premium rate,
//! VoIP networks) that answer to no country's regulator. A code is worth sending only to a
//! number a person reads messages on, so by default only mobile numbers and the numbers
//! that may be mobile (where the plan does not tell, as in North America) are accepted.
//! The types are libphonenumber's, read from the number alone.

use std::collections::BTreeSet;

use crate::destination::Destination;
pub use crate::destination::NumberKind;

/// The kinds a call goes to, whatever kinds a deployment narrows its texts to: a mobile
/// and a landline both answer a call.
pub const CALLED_KINDS: [NumberKind; 3] = [NumberKind::Mobile, NumberKind::FixedLineOrMobile, NumberKind::FixedLine];

/// The kinds SMS and WhatsApp go to unless a deployment narrows them.
pub const MESSAGING_KINDS: [NumberKind; 2] = [NumberKind::Mobile, NumberKind::FixedLineOrMobile];

/// Why a number gets no code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefusedNumber {
    /// Of no country: satellite, international premium rate and the VoIP networks
    /// (libphonenumber's region `001`), whatever kind their plan gives them.
    NonGeographic,
    /// Of a country the deployment does not send to (ISO 3166 alpha-2, or `??` when the
    /// number's country cannot be told).
    Country(String),
    /// Of a kind the deployment does not send to.
    Kind(NumberKind),
}

impl RefusedNumber {
    /// The reason's name in logs and metrics.
    pub fn name(&self) -> &'static str {
        match self {
            Self::NonGeographic => "non_geographic",
            Self::Country(_) => "country",
            Self::Kind(kind) => kind.name(),
        }
    }

    /// Whether the number is a landline's (some APIs name that refusal apart).
    pub fn is_landline(&self) -> bool {
        *self == Self::Kind(NumberKind::FixedLine)
    }

    /// What an answer says of it, after the field's name.
    pub fn reason(&self) -> String {
        match self {
            Self::NonGeographic => "is a non-geographic number; codes go to numbers of a country only".to_owned(),
            Self::Country(_) => "is in a country this service does not send codes to".to_owned(),
            Self::Kind(kind) => format!("is {}; codes go to mobile numbers only", kind.described()),
        }
    }
}

/// The numbers SMS and WhatsApp go to: a country allow-list and the kinds of number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberRules {
    /// ISO 3166 alpha-2 codes; `None` allows every country.
    pub countries: Option<BTreeSet<String>>,
    /// The kinds accepted: some or all of [`MESSAGING_KINDS`].
    pub kinds: BTreeSet<NumberKind>,
}

impl Default for NumberRules {
    fn default() -> Self {
        Self {
            countries: None,
            kinds: MESSAGING_KINDS.into(),
        }
    }
}

impl NumberRules {
    /// Rules inside the defaults: `kinds` may only drop some of the messaging kinds.
    pub fn new(countries: Option<BTreeSet<String>>, kinds: BTreeSet<NumberKind>) -> Result<Self, String> {
        if kinds.is_empty() {
            return Err("at least one kind of number must be accepted".to_owned());
        }
        if let Some(kind) = kinds.iter().find(|kind| !MESSAGING_KINDS.contains(kind)) {
            return Err(format!(
                "{} numbers cannot receive codes; accepted: {}",
                kind.name(),
                MESSAGING_KINDS.map(NumberKind::name).join(", ")
            ));
        }
        Ok(Self { countries, kinds })
    }

    /// Whether a code may go to `destination` (an email always may; a landline only
    /// `by_call`), and the number's country as it parsed it (none for an email, or for a
    /// number no country claims).
    pub fn check(&self, destination: &Destination, by_call: bool) -> Result<Option<String>, RefusedNumber> {
        let numbering = match (destination, destination.numbering()) {
            (Destination::Email(_), _) => return Ok(None),
            (Destination::Phone(_), Some(numbering)) => numbering,
            // A number its own plan cannot read is no person's mobile.
            (Destination::Phone(_), None) => return Err(RefusedNumber::Kind(NumberKind::Unknown)),
        };
        let region = match numbering.region {
            Some(region) if region == NON_GEOGRAPHIC => return Err(RefusedNumber::NonGeographic),
            region => region,
        };
        if let Some(countries) = &self.countries
            && !region.as_ref().is_some_and(|region| countries.contains(region))
        {
            return Err(RefusedNumber::Country(region.unwrap_or_else(|| "??".to_owned())));
        }
        // A call reaches a line a text cannot; the deployment's kinds narrow texts.
        let callable = by_call && CALLED_KINDS.contains(&numbering.kind);
        match callable || self.kinds.contains(&numbering.kind) {
            true => Ok(region),
            false => Err(RefusedNumber::Kind(numbering.kind)),
        }
    }
}

/// libphonenumber's region for the numbers of no country.
const NON_GEOGRAPHIC: &str = "001";

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(number: &str) -> Result<(), RefusedNumber> {
        let destination = Destination::e164(number).unwrap_or_else(|_| panic!("{number} is valid"));
        NumberRules::default().check(&destination, false).map(|_| ())
    }

    #[test]
    fn mobile_numbers_and_those_that_may_be_pass() {
        for number in [
            "+919876543219",
            "+447911123456",
            "+2348011111111",
            "+14155552671",
            "+16135550123",
            "+12025550123",
        ] {
            assert_eq!(refusal(number), Ok(()), "{number}");
        }
        assert_eq!(
            NumberRules::default().check(&Destination::email("a@b.co").unwrap(), false),
            Ok(None)
        );
    }

    #[test]
    fn numbers_of_no_country_are_refused_whatever_their_kind() {
        // International premium rate, Inmarsat and Iridium satellite and a network of
        // +882 (typed mobile by their plans), two VoIP networks, and the universal
        // freephone and shared cost numbers.
        for number in [
            "+979123456789",
            "+870301234567",
            "+881612345678",
            "+8823421234",
            "+883510012345",
            "+878101234567890",
            "+80012345678",
            "+80812345678",
        ] {
            assert_eq!(refusal(number), Err(RefusedNumber::NonGeographic), "{number}");
        }
    }

    #[test]
    fn premium_and_other_kinds_are_refused_by_kind() {
        let cases = [
            ("+19002345678", NumberKind::PremiumRate),
            ("+449091234567", NumberKind::PremiumRate),
            ("+18002345678", NumberKind::TollFree),
            ("+441212345678", NumberKind::FixedLine),
            ("+390236618300", NumberKind::FixedLine),
            ("+445612345678", NumberKind::Voip),
            ("+447012345678", NumberKind::PersonalNumber),
            ("+447640123456", NumberKind::Pager),
            ("+445512345678", NumberKind::Uan),
        ];
        for (number, kind) in cases {
            assert_eq!(refusal(number), Err(RefusedNumber::Kind(kind)), "{number}");
        }
        assert!(RefusedNumber::Kind(NumberKind::FixedLine).is_landline());
        assert!(!RefusedNumber::Kind(NumberKind::PremiumRate).is_landline());
    }

    #[test]
    fn a_call_may_go_to_a_landline_and_to_nothing_else_refused() {
        let rules = NumberRules::default();
        let landline = Destination::e164("+441212345678").unwrap();
        assert_eq!(rules.check(&landline, true), Ok(Some("GB".to_owned())));
        for (number, kind) in [
            ("+19002345678", NumberKind::PremiumRate),
            ("+445612345678", NumberKind::Voip),
        ] {
            let destination = Destination::e164(number).unwrap();
            assert_eq!(
                rules.check(&destination, true),
                Err(RefusedNumber::Kind(kind)),
                "{number}"
            );
        }
        // Texts narrowed to mobiles: a call still reaches a US number of either kind.
        let mobile_only = NumberRules::new(None, [NumberKind::Mobile].into()).unwrap();
        let either = Destination::e164("+14155552671").unwrap();
        assert!(mobile_only.check(&either, false).is_err());
        assert_eq!(mobile_only.check(&either, true), Ok(Some("US".to_owned())));
        let only_india = NumberRules::new(Some(["IN".to_owned()].into()), MESSAGING_KINDS.into()).unwrap();
        assert_eq!(
            only_india.check(&landline, true),
            Err(RefusedNumber::Country("GB".to_owned()))
        );
    }

    #[test]
    fn the_country_list_narrows() {
        let only_india = NumberRules::new(Some(["IN".to_owned()].into()), MESSAGING_KINDS.into()).unwrap();
        let india = Destination::phone("+91", "9876543219").unwrap();
        let uk = Destination::phone("+44", "7400123456").unwrap();
        assert_eq!(
            only_india.check(&india, false),
            Ok(Some("IN".to_owned())),
            "the country, as parsed"
        );
        assert_eq!(
            only_india.check(&uk, false),
            Err(RefusedNumber::Country("GB".to_owned()))
        );
        assert_eq!(
            only_india.check(&Destination::email("a@b.co").unwrap(), false),
            Ok(None)
        );
        // A number of no country is refused as such, not as a country off the list.
        assert_eq!(
            only_india.check(&Destination::e164("+979123456789").unwrap(), false),
            Err(RefusedNumber::NonGeographic)
        );
    }

    #[test]
    fn rules_may_only_narrow_the_kinds() {
        let mobile_only = NumberRules::new(None, [NumberKind::Mobile].into()).unwrap();
        assert_eq!(
            mobile_only.check(&Destination::e164("+14155552671").unwrap(), false),
            Err(RefusedNumber::Kind(NumberKind::FixedLineOrMobile))
        );
        assert_eq!(
            mobile_only.check(&Destination::e164("+447400123456").unwrap(), false),
            Ok(Some("GB".to_owned()))
        );
        for kind in [NumberKind::PremiumRate, NumberKind::FixedLine, NumberKind::Voip] {
            let error = NumberRules::new(None, [NumberKind::Mobile, kind].into()).unwrap_err();
            assert!(error.contains(kind.name()), "{error}");
        }
        assert!(NumberRules::new(None, BTreeSet::new()).is_err());
    }

    #[test]
    fn kinds_are_named_both_ways() {
        for kind in NumberKind::ALL {
            assert_eq!(NumberKind::parse(kind.name()), Some(kind));
        }
        assert_eq!(NumberKind::parse("landline"), None);
    }
}
