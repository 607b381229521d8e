//! The conversion guard against SMS pumping: a tenant's sends to one number prefix are
//! refused for a while when too many of them go unverified, measured against what that
//! tenant verifies there. People who ask for a code mostly type it in; a pumper's
//! numbers never do, so the share of sends that convert is the signal every vendor's
//! fraud guard reads. Pure rules: the store keeps the counts, one item per tenant and
//! prefix, and this module decides from what one write returns.
//!
//! The thresholds, per tenant and prefix (docs/security.md, "Conversion guard"):
//! - a day (UTC) may have `max(floor, share x verified)` unverified sends, where
//!   `verified` is the count of the last 14 days, today included: 20 for a prefix the
//!   tenant has no history in, 200 where it verified 1,000;
//! - an hour may have a sixth of that (rounded up), so that a burst is stopped within
//!   the hour instead of spending the day's allowance at once;
//! - past either, sends there are refused for a cool-off of one hour, doubling on each
//!   repeat within a day of the last (two, four, eight, sixteen hours; at most a day).

use std::collections::{BTreeMap, BTreeSet};

use crate::clock::UnixSeconds;
use crate::destination::Destination;
use crate::digits::is_digits;
use crate::tenant::Tenant;

pub const DAY: i64 = 86_400;
pub const HOUR: i64 = 3_600;
/// The days whose verified sends set the allowance.
pub const WINDOW_DAYS: i64 = 14;
/// The longest cool-off.
const MAX_COOL_OFF: i64 = DAY;

/// What the guard does for a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardMode {
    /// Counts nothing, decides nothing.
    Off,
    /// Counts and decides, logs each would-be refusal, refuses nothing.
    Monitor,
    /// Refuses.
    Enforce,
}

impl GuardMode {
    pub fn name(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Monitor => "monitor",
            Self::Enforce => "enforce",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Off, Self::Monitor, Self::Enforce]
            .into_iter()
            .find(|mode| mode.name() == name)
    }
}

/// Who the guard leaves alone: numbers (E.164), number prefixes (`+447911`: the calling
/// code and national digits, written without a space), countries (ISO 3166 alpha-2) and
/// tenants (`client:<id>`, `issuer:...`, `public:<product>`, as logs name them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GuardAllow {
    pub numbers: BTreeSet<String>,
    pub prefixes: BTreeSet<String>,
    pub countries: BTreeSet<String>,
    pub tenants: BTreeSet<String>,
}

impl GuardAllow {
    /// A comma-separated list: each entry's form says what it is.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut allow = Self::default();
        for entry in list.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
            // A prefix as logs print it (`+44 7911`) is the same prefix.
            let entry = &entry.replace(' ', "");
            let digits = entry.strip_prefix('+').filter(|digits| is_digits(digits));
            if let Some(digits) = digits {
                match Destination::e164(entry) {
                    Ok(number) => allow.numbers.insert(number.as_str().to_owned()),
                    Err(_) if digits.len() < 15 => allow.prefixes.insert(entry.to_owned()),
                    Err(_) => return Err(format!("{entry} is neither a valid number nor a prefix")),
                };
            } else if entry.len() == 2 && entry.bytes().all(|b| b.is_ascii_alphabetic()) {
                allow.countries.insert(entry.to_ascii_uppercase());
            } else if ["client:", "issuer:", "public:"]
                .iter()
                .any(|kind| entry.starts_with(kind))
            {
                allow.tenants.insert(entry.to_owned());
            } else {
                return Err(format!(
                    "{entry} is no number (+E.164), prefix (+digits), country (two letters) or tenant (client:<id>, issuer:..., public:<product>)"
                ));
            }
        }
        Ok(allow)
    }

    fn allows(&self, tenant: &Tenant, destination: &Destination) -> bool {
        let number = destination.as_str();
        self.numbers.contains(number)
            || self.prefixes.iter().any(|prefix| number.starts_with(prefix.as_str()))
            // The region is parsed from the number: only where countries are listed.
            || (!self.countries.is_empty()
                && destination
                    .region()
                    .is_some_and(|region| self.countries.contains(&region)))
            || self.tenants.contains(&tenant.key())
    }
}

/// The guard of a deployment: its modes, allow list and thresholds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GuardSettings {
    /// For the public tenants (anyone, through a product's anonymous routes).
    pub public: GuardMode,
    /// For the API clients and the issuers' users.
    pub others: GuardMode,
    /// Tenants with a mode of their own, by key (`client:<id>`).
    pub tenants: BTreeMap<String, GuardMode>,
    pub allow: GuardAllow,
    pub thresholds: Thresholds,
}

impl Default for GuardSettings {
    fn default() -> Self {
        Self {
            public: GuardMode::Enforce,
            others: GuardMode::Monitor,
            tenants: BTreeMap::new(),
            allow: GuardAllow::default(),
            thresholds: Thresholds::default(),
        }
    }
}

/// Where the guard counts a send: a tenant's number prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guarded {
    pub mode: GuardMode,
    /// The tenant's subject for the prefix: what the store keys the counts on. Never
    /// logged: with a masked number's last digits it could spell a short number whole.
    pub subject: String,
    /// The tenant, as logs name it.
    pub tenant: String,
    /// The prefix as logs show it (`+44 7911`): at most as many national digits as
    /// leave six of the number's hidden between it and a masked number's last four.
    pub prefix: String,
}

impl GuardSettings {
    /// Tenants' own modes: `client:abc=enforce,issuer:...=off`.
    pub fn parse_tenant_modes(list: &str) -> Result<BTreeMap<String, GuardMode>, String> {
        list.split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(|entry| {
                let (tenant, mode) = entry
                    .rsplit_once('=')
                    .ok_or_else(|| format!("{entry} is not <tenant>=<mode>"))?;
                let mode = GuardMode::parse(mode.trim())
                    .ok_or_else(|| format!("{entry}: the mode is off, monitor or enforce"))?;
                Ok((tenant.trim().to_owned(), mode))
            })
            .collect()
    }

    /// Whether and how the guard watches `tenant`'s sends to `destination` (a phone
    /// number outside the allow list, of a tenant whose mode is not `off`); `digits`:
    /// the national digits of a prefix.
    pub fn watch(&self, tenant: &Tenant, destination: &Destination, digits: u8) -> Option<Guarded> {
        let mode = match (self.tenants.get(&tenant.key()), tenant) {
            (Some(mode), _) => *mode,
            (None, Tenant::Public(_)) => self.public,
            (None, _) => self.others,
        };
        if mode == GuardMode::Off || self.allow.allows(tenant, destination) {
            return None;
        }
        let prefix = destination.number_range(digits)?;
        let (calling_code, head) = prefix.split_once(' ')?;
        let national_length = destination.as_str().len() - calling_code.len();
        let shown = head.len().min(national_length.saturating_sub(6));
        Some(Guarded {
            mode,
            subject: tenant.subject(&prefix),
            tenant: tenant.key(),
            prefix: format!("{calling_code} {}", &head[..shown]).trim_end().to_owned(),
        })
    }
}

/// Sends and verified sends in one span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub sent: u64,
    pub verified: u64,
}

impl Tally {
    pub fn unverified(self) -> u64 {
        self.sent.saturating_sub(self.verified)
    }
}

/// A tenant's traffic to one prefix, as its item stands once a send was counted.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrefixTraffic {
    /// By UTC day number (`now / DAY`): only the window's days matter.
    pub days: BTreeMap<i64, Tally>,
    /// The current hour's (`now / HOUR`).
    pub hour: Tally,
    /// Sends are refused until then.
    pub blocked_until: Option<UnixSeconds>,
    /// The cool-offs so far, for the next one's length.
    pub blocks: u32,
    /// Spans the item still holds that no longer count (a prefix idle for a while
    /// leaves some): to be dropped beside the send's later work.
    pub stale: Spans,
}

/// Days and hours, by number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spans {
    pub days: Vec<i64>,
    pub hours: Vec<i64>,
}

impl Spans {
    pub fn is_empty(&self) -> bool {
        self.days.is_empty() && self.hours.is_empty()
    }
}

/// The allowance's numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Thresholds {
    /// Unverified sends a day allowed whatever the history.
    pub floor_per_day: u64,
    /// Percent of the window's verified sends allowed unverified a day.
    pub share_percent: u64,
}

impl Default for Thresholds {
    fn default() -> Self {
        Self {
            floor_per_day: 20,
            share_percent: 20,
        }
    }
}

impl Thresholds {
    /// Unverified sends allowed today, given the window's verified sends.
    pub fn per_day(self, verified: u64) -> u64 {
        self.floor_per_day
            .max(verified.saturating_mul(self.share_percent) / 100)
    }

    /// Unverified sends allowed in one hour: a sixth of the day's, rounded up.
    pub fn per_hour(self, verified: u64) -> u64 {
        self.per_day(verified).div_ceil(6)
    }
}

/// Why the guard refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GuardReason {
    /// An earlier refusal's cool-off still runs.
    CoolingOff,
    /// Today's unverified sends passed the day's allowance.
    Day,
    /// This hour's passed the hour's.
    Hour,
}

impl GuardReason {
    pub fn name(self) -> &'static str {
        match self {
            Self::CoolingOff => "cooling_off",
            Self::Day => "unverified_day",
            Self::Hour => "unverified_hour",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    /// Refused until `until`. `starts`: this refusal starts a cool-off, the prefix's how
    /// many-th in a row, to be kept (an earlier one still running starts none).
    Refuse {
        reason: GuardReason,
        until: UnixSeconds,
        starts: Option<u32>,
    },
}

/// The verified sends of the window ending today, at most its sends: a right code
/// submitted many times at once is used once but may be counted by each submission (the
/// count rides beside the use, adding no round trip), and never buys more allowance
/// than verifying every code would.
pub fn verified_in_window(traffic: &PrefixTraffic, now: UnixSeconds) -> u64 {
    let today = now.div_euclid(DAY);
    let window = traffic
        .days
        .range(today - WINDOW_DAYS + 1..=today)
        .map(|(_, tally)| *tally);
    let (sent, verified) = window.fold((0u64, 0u64), |(sent, verified), tally| {
        (sent + tally.sent, verified + tally.verified)
    });
    verified.min(sent)
}

/// Whether the send just counted in `traffic` may go out.
pub fn decide(thresholds: Thresholds, traffic: &PrefixTraffic, now: UnixSeconds) -> Verdict {
    if let Some(until) = traffic.blocked_until.filter(|until| *until > now) {
        return Verdict::Refuse {
            reason: GuardReason::CoolingOff,
            until,
            starts: None,
        };
    }
    let verified = verified_in_window(traffic, now);
    let today = traffic.days.get(&now.div_euclid(DAY)).copied().unwrap_or_default();
    let reason = if today.unverified() > thresholds.per_day(verified) {
        GuardReason::Day
    } else if traffic.hour.unverified() > thresholds.per_hour(verified) {
        GuardReason::Hour
    } else {
        return Verdict::Pass;
    };
    // One hour, doubling for each cool-off in a row (one that ended within a day of
    // this); at most a day.
    let recent = traffic.blocked_until.is_some_and(|until| now - until < DAY);
    let repeats = if recent { traffic.blocks } else { 0 };
    Verdict::Refuse {
        reason,
        until: now + (HOUR << repeats.min(5)).min(MAX_COOL_OFF),
        starts: Some(repeats + 1),
    }
}

/// Why a prefix's cool-off runs, as far as its counts still tell at `now`: the day's or
/// the hour's unverified sends at their allowance (the refused send was taken back, so
/// they stand at it), or, once the hour has turned, only the cool-off.
pub fn explain(thresholds: Thresholds, traffic: &PrefixTraffic, now: UnixSeconds) -> GuardReason {
    let verified = verified_in_window(traffic, now);
    let today = traffic.days.get(&now.div_euclid(DAY)).copied().unwrap_or_default();
    if today.unverified() >= thresholds.per_day(verified) {
        GuardReason::Day
    } else if traffic.hour.unverified() >= thresholds.per_hour(verified) {
        GuardReason::Hour
    } else {
        GuardReason::CoolingOff
    }
}

/// A guard subject (`<tenant key>:<prefix>`) as its tenant's key and its prefix.
pub fn split_subject(subject: &str) -> Option<(&str, String)> {
    let (tenant, prefix) = subject.rsplit_once(':')?;
    Some((tenant, crate::scope::unescape(prefix)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: UnixSeconds = 20_000 * DAY + 10 * HOUR;

    #[test]
    fn a_cool_off_is_explained_by_the_counts_that_still_stand_at_their_allowance() {
        let unverified = |sent| Tally { sent, verified: 0 };
        let thresholds = Thresholds::default();
        assert_eq!(
            explain(thresholds, &traffic(unverified(20), unverified(2), 0), NOW),
            GuardReason::Day
        );
        assert_eq!(
            explain(thresholds, &traffic(unverified(4), unverified(4), 0), NOW),
            GuardReason::Hour
        );
        assert_eq!(
            explain(thresholds, &traffic(unverified(4), unverified(0), 0), NOW),
            GuardReason::CoolingOff
        );
        let tenant = Tenant::Client("a:b".to_owned());
        let subject = tenant.subject("+44 7911");
        assert_eq!(
            split_subject(&subject),
            Some((tenant.key().as_str(), "+44 7911".to_owned()))
        );
    }

    fn traffic(today: Tally, hour: Tally, verified_before: u64) -> PrefixTraffic {
        let day = NOW / DAY;
        let mut days = BTreeMap::from([(day, today)]);
        days.insert(
            day - 3,
            Tally {
                sent: verified_before,
                verified: verified_before,
            },
        );
        PrefixTraffic {
            days,
            hour,
            ..Default::default()
        }
    }

    fn sent(sent: u64, verified: u64) -> Tally {
        Tally { sent, verified }
    }

    #[test]
    fn the_allowance_grows_with_what_converts() {
        let rules = Thresholds::default();
        assert_eq!((rules.per_day(0), rules.per_hour(0)), (20, 4));
        assert_eq!((rules.per_day(100), rules.per_hour(100)), (20, 4));
        assert_eq!((rules.per_day(1_000), rules.per_hour(1_000)), (200, 34));
    }

    #[test]
    fn verified_counts_past_the_sends_buy_nothing() {
        let inflated = traffic(sent(10, 500), sent(10, 500), 0);
        assert_eq!(verified_in_window(&inflated, NOW), 10);
    }

    #[test]
    fn a_burst_of_unverified_sends_is_refused_within_the_hour() {
        let rules = Thresholds::default();
        let fourth = traffic(sent(4, 0), sent(4, 0), 0);
        assert_eq!(decide(rules, &fourth, NOW), Verdict::Pass);
        let fifth = traffic(sent(5, 0), sent(5, 0), 0);
        assert_eq!(
            decide(rules, &fifth, NOW),
            Verdict::Refuse {
                reason: GuardReason::Hour,
                until: NOW + HOUR,
                starts: Some(1)
            }
        );
    }

    #[test]
    fn traffic_that_converts_flows() {
        let rules = Thresholds::default();
        // 500 sends this hour, 480 verified: 20 unverified, within 1,000 verified's 34.
        let converting = traffic(sent(500, 480), sent(500, 480), 1_000);
        assert_eq!(decide(rules, &converting, NOW), Verdict::Pass);
    }

    #[test]
    fn the_day_is_held_even_when_each_hour_stays_under() {
        let rules = Thresholds::default();
        let spread = traffic(sent(21, 0), sent(3, 0), 0);
        assert!(matches!(
            decide(rules, &spread, NOW),
            Verdict::Refuse {
                reason: GuardReason::Day,
                ..
            }
        ));
    }

    #[test]
    fn days_outside_the_window_do_not_count() {
        let day = NOW / DAY;
        let mut old = traffic(sent(0, 0), sent(0, 0), 0);
        old.days.insert(
            day - WINDOW_DAYS,
            Tally {
                sent: 10_000,
                verified: 10_000,
            },
        );
        assert_eq!(verified_in_window(&old, NOW), 0);
        old.days.insert(day - WINDOW_DAYS + 1, sent(7, 7));
        assert_eq!(verified_in_window(&old, NOW), 7);
    }

    #[test]
    fn a_cool_off_runs_and_grows_on_repeat() {
        let rules = Thresholds::default();
        let mut blocked = traffic(sent(1, 1), sent(1, 1), 0);
        blocked.blocked_until = Some(NOW + 60);
        blocked.blocks = 1;
        assert_eq!(
            decide(rules, &blocked, NOW),
            Verdict::Refuse {
                reason: GuardReason::CoolingOff,
                until: NOW + 60,
                starts: None
            }
        );
        // Blocked again an hour after the first ended: two hours, then four.
        let mut again = traffic(sent(30, 0), sent(5, 0), 0);
        again.blocked_until = Some(NOW - HOUR);
        again.blocks = 1;
        assert!(matches!(decide(rules, &again, NOW), Verdict::Refuse { until, .. } if until == NOW + 2 * HOUR));
        again.blocks = 2;
        assert!(matches!(decide(rules, &again, NOW), Verdict::Refuse { until, .. } if until == NOW + 4 * HOUR));
        again.blocks = 9;
        assert!(matches!(decide(rules, &again, NOW), Verdict::Refuse { until, .. } if until == NOW + DAY));
        // A day after the last ended, the count starts over, and is kept so.
        again.blocked_until = Some(NOW - DAY);
        assert!(matches!(
            decide(rules, &again, NOW),
            Verdict::Refuse { until, starts: Some(1), .. } if until == NOW + HOUR
        ));
    }

    #[test]
    fn the_allow_list_reads_each_entry_by_its_form() {
        let allow = GuardAllow::parse("+447911123456, +4479, +91 9876, gb, client:abc, public:bridgekeeper").unwrap();
        assert_eq!(allow.numbers, ["+447911123456".to_owned()].into());
        assert_eq!(allow.prefixes, ["+4479".to_owned(), "+919876".to_owned()].into());
        assert_eq!(allow.countries, ["GB".to_owned()].into());
        assert_eq!(allow.tenants.len(), 2);
        for bad in ["44", "+", "+44a", "x:y", "GBR"] {
            assert!(GuardAllow::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_guard_watches_phones_outside_the_allow_list_by_the_tenants_mode() {
        use crate::scope::Product;
        let settings = GuardSettings {
            allow: GuardAllow::parse("+4479,client:trusted").unwrap(),
            ..Default::default()
        };
        let india = Destination::e164("+919876543219").unwrap();
        let public = Tenant::Public(Product::Bridgekeeper);
        let client = Tenant::Client("c".to_owned());
        let watched = settings.watch(&public, &india, 4).unwrap();
        assert_eq!(
            (watched.mode, watched.prefix.as_str()),
            (GuardMode::Enforce, "+91 9876")
        );
        assert_eq!(watched.tenant, "public:bridgekeeper");
        // An eight-digit number shows two of its digits, so six stay hidden with the
        // masked number's last four.
        let singapore = Destination::e164("+6581234567").unwrap();
        let watched = settings.watch(&public, &singapore, 4).unwrap();
        assert_eq!(watched.prefix, "+65 81");
        assert!(watched.subject.ends_with("+65 8123"), "{}", watched.subject);
        assert_eq!(settings.watch(&client, &india, 4).unwrap().mode, GuardMode::Monitor);
        assert_eq!(settings.watch(&Tenant::Client("trusted".to_owned()), &india, 4), None);
        assert_eq!(
            settings.watch(&public, &Destination::e164("+447911123456").unwrap(), 4),
            None
        );
        assert_eq!(settings.watch(&public, &Destination::email("a@b.co").unwrap(), 4), None);
        let off = GuardSettings {
            public: GuardMode::Off,
            ..Default::default()
        };
        assert_eq!(off.watch(&public, &india, 4), None);
        let own = GuardSettings {
            tenants: GuardSettings::parse_tenant_modes("client:c=enforce").unwrap(),
            ..Default::default()
        };
        assert_eq!(own.watch(&client, &india, 4).unwrap().mode, GuardMode::Enforce);
        assert!(GuardSettings::parse_tenant_modes("client:c=strict").is_err());
        assert!(GuardSettings::parse_tenant_modes("client:c").is_err());
    }
}
