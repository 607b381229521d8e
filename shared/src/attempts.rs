//! Attempts: each message a send delivered, with whether its code was verified (Twilio's
//! Verification Attempts). Written beside the send's second round trip (the write that
//! makes the code live), marked converted beside a right code's use, never on a wrong
//! code's path; kept 30 days, and listed per tenant and UTC day.

use crate::clock::{UnixSeconds, civil_from_days};
use crate::destination::Channel;
use crate::spend::Micros;

/// How long an attempt is kept.
pub const KEPT: i64 = 30 * 86_400;

/// The SID prefix of an attempt.
pub const SID: &str = "VL";

/// One delivered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendAttempt {
    /// A UUID (its SID is `VL` and its 32 hex digits).
    pub id: String,
    /// The tenant whose send it was, by key (`client:<id>`).
    pub tenant: String,
    /// The OTP configuration it was sent under (Twilio's service), by uid.
    pub service: Option<String>,
    /// The challenge whose code it carried (Twilio's verification).
    pub challenge_id: String,
    pub channel: Channel,
    /// The destination as messages are addressed (E.164, or the address).
    pub to: String,
    /// The number's country (ISO 3166 alpha-2); none for an email.
    pub country: Option<String>,
    pub created_at: UnixSeconds,
    pub updated_at: UnixSeconds,
    /// Its code was verified.
    pub converted: bool,
    /// What it is estimated to cost (`spend.rs`); none for an email.
    pub price: Option<Micros>,
}

impl SendAttempt {
    /// Its SID: `VL` and its id's 32 hex digits.
    pub fn sid(&self) -> String {
        crate::sid::shown(SID, &self.id).into_owned()
    }
}

/// A new attempt's id.
pub fn new_id() -> String {
    uuid::Uuid::new_v4().to_string()
}

/// The UTC day of `at`, as attempts are listed by: `2026-12-06`.
pub fn day_of(at: UnixSeconds) -> String {
    let (year, month, day) = civil_from_days(at.div_euclid(86_400));
    format!("{year:04}-{month:02}-{day:02}")
}

/// Which of a tenant's attempts a listing wants: created in `[after, before)` (within the
/// 30 days kept), and each filter given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttemptFilter {
    pub after: UnixSeconds,
    pub before: UnixSeconds,
    pub to: Option<String>,
    pub country: Option<String>,
    pub channel: Option<Channel>,
    pub service: Option<String>,
    pub challenge_id: Option<String>,
    pub converted: Option<bool>,
    /// Numbers starting with these digits (`+44791`).
    pub prefix: Option<String>,
}

impl AttemptFilter {
    /// Every attempt of the days kept at `now`.
    pub fn kept_at(now: UnixSeconds) -> Self {
        Self {
            after: now - KEPT,
            before: now + 1,
            ..Self::default()
        }
    }

    pub fn matches(&self, attempt: &SendAttempt) -> bool {
        let equal = |wanted: &Option<String>, value: Option<&str>| wanted.as_deref().is_none_or(|w| Some(w) == value);
        (self.after..self.before).contains(&attempt.created_at)
            && equal(&self.to, Some(&attempt.to))
            && equal(&self.country, attempt.country.as_deref())
            && self.channel.is_none_or(|channel| channel == attempt.channel)
            && equal(&self.service, attempt.service.as_deref())
            && equal(&self.challenge_id, Some(&attempt.challenge_id))
            && self.converted.is_none_or(|converted| converted == attempt.converted)
            && self
                .prefix
                .as_deref()
                .is_none_or(|prefix| attempt.to.starts_with(prefix))
    }

    /// The UTC days the filter spans, newest first.
    pub fn days(&self) -> Vec<i64> {
        let first = self.after.div_euclid(86_400);
        let last = (self.before - 1).div_euclid(86_400);
        (first..=last).rev().collect()
    }
}

/// Where a listing goes on: the day it was reading, and the last attempt it gave there
/// (newest first: the next is older).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub day: i64,
    pub created_at: UnixSeconds,
    pub id: String,
}

impl Cursor {
    /// `<day>.<created_at>.<id>`: what a page token carries (with its tag).
    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.day, self.created_at, self.id)
    }

    pub fn decode(text: &str) -> Option<Self> {
        let mut parts = text.splitn(3, '.');
        Some(Self {
            day: parts.next()?.parse().ok()?,
            created_at: parts.next()?.parse().ok()?,
            id: uuid::Uuid::try_parse(parts.next()?).ok()?.to_string(),
        })
    }
}

/// A page of attempts, newest first, and where the next starts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AttemptPage {
    pub attempts: Vec<SendAttempt>,
    pub next: Option<Cursor>,
}

/// Sends and conversions of the attempts a summary counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Conversion {
    pub attempts: u64,
    pub converted: u64,
}

impl Conversion {
    pub fn add(&mut self, attempt: &SendAttempt) {
        self.attempts += 1;
        self.converted += u64::from(attempt.converted);
    }

    pub fn unconverted(self) -> u64 {
        self.attempts - self.converted
    }

    /// The share converted, in percent with two decimals (`"66.67"`), as Twilio writes it.
    pub fn rate_percent(self) -> String {
        match self.attempts {
            0 => "0".to_owned(),
            attempts => format!("{:.2}", self.converted as f64 * 100.0 / attempts as f64),
        }
    }
}

/// The conversion of every attempt of `tenant` that `filter` keeps, in all and by
/// country (an email's under none), read a page of the index at a time.
pub async fn summarise<S: crate::ports::AttemptReader>(
    store: &S,
    tenant: &str,
    filter: &AttemptFilter,
) -> Result<(Conversion, std::collections::BTreeMap<String, Conversion>), crate::ports::StoreError> {
    /// The most a page of the index holds.
    const PAGE: usize = 1_000;
    let mut all = Conversion::default();
    let mut by_country = std::collections::BTreeMap::new();
    let mut from = None;
    loop {
        let page = store.attempts_page(tenant, filter, PAGE, from.as_ref()).await?;
        for attempt in &page.attempts {
            all.add(attempt);
            if let Some(country) = &attempt.country {
                by_country
                    .entry(country.clone())
                    .or_insert_with(Conversion::default)
                    .add(attempt);
            }
        }
        match page.next {
            Some(next) => from = Some(next),
            None => return Ok((all, by_country)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attempt(created_at: UnixSeconds) -> SendAttempt {
        SendAttempt {
            id: "0b8f2bcd-4cf3-4a1e-9d6a-6a1c2f9b7e01".to_owned(),
            tenant: "client:abc".to_owned(),
            service: Some("svc".to_owned()),
            challenge_id: "ch".to_owned(),
            channel: Channel::Sms,
            to: "+447911123456".to_owned(),
            country: Some("GB".to_owned()),
            created_at,
            updated_at: created_at,
            converted: false,
            price: Some(50_000),
        }
    }

    #[test]
    fn filters_keep_what_they_name() {
        let now = 1_796_597_100;
        let mut filter = AttemptFilter::kept_at(now);
        assert!(filter.matches(&attempt(now)));
        assert!(!filter.matches(&attempt(now - KEPT - 1)));
        filter.country = Some("GB".to_owned());
        filter.prefix = Some("+44791".to_owned());
        filter.channel = Some(Channel::Sms);
        assert!(filter.matches(&attempt(now)));
        filter.converted = Some(true);
        assert!(!filter.matches(&attempt(now)));
        assert_eq!(filter.days().len(), 31);
        assert_eq!(filter.days()[0], now.div_euclid(86_400));
        assert_eq!(attempt(now).sid(), "VL0b8f2bcd4cf34a1e9d6a6a1c2f9b7e01");
        assert_eq!(day_of(now), "2026-12-06");
    }

    #[test]
    fn cursors_and_rates_read_back() {
        let cursor = Cursor {
            day: 20_428,
            created_at: 1_765_000_000,
            id: "0b8f2bcd-4cf3-4a1e-9d6a-6a1c2f9b7e01".to_owned(),
        };
        assert_eq!(Cursor::decode(&cursor.encode()), Some(cursor));
        assert_eq!(Cursor::decode("1.2.not-a-uuid"), None);
        let rate = Conversion {
            attempts: 3,
            converted: 2,
        };
        assert_eq!((rate.rate_percent(), rate.unconverted()), ("66.67".to_owned(), 1));
        assert_eq!(Conversion::default().rate_percent(), "0");
    }
}
