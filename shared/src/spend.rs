//! The spend cap: what SMS and WhatsApp codes are estimated to cost, counted per UTC
//! calendar month for the deployment and for each tenant, and per clock hour for each
//! country, so that sends stop once a cap is reached instead of an alarm merely saying
//! so. Pure rules: the store adds each send's estimate to its counters in the send's
//! first round trip, and this module decides from the totals those writes return.
//!
//! The caps (docs/security.md, "Spend cap"):
//! - the deployment's month: `OTP_SPEND_MONTHLY_USD`;
//! - each tenant's month: a share of it (`OTP_SPEND_TENANT_PERCENT`), and a smaller share
//!   for the public tenants (`OTP_SPEND_PUBLIC_PERCENT`), so that anonymous callers
//!   cannot spend what the API clients need;
//! - each country's hour, across the deployment: a share of the month
//!   (`OTP_SPEND_COUNTRY_HOURLY_PERCENT`), so that a burst to one country is stopped
//!   within the hour.
//!
//! Every counter is split into [`SHARDS`] items, each holding its share of the cap, and
//! a send adds to one of them at random: a counter that every send of the deployment
//! touches would otherwise be one hot item. A shard refuses once its share is spent, so
//! sends stop a little before the whole cap (when the last shards fill), never after it.

use std::collections::BTreeMap;

use crate::clock::{UnixSeconds, civil_from_days, days_from_civil};
use crate::destination::Destination;
use crate::guard::HOUR;
use crate::tenant::Tenant;

/// Millionths of a US dollar: prices and spend in whole numbers.
pub type Micros = u64;

const MICROS_PER_USD: f64 = 1_000_000.0;

/// The items each counter is split into.
pub const SHARDS: u32 = 8;

/// What a segment costs where the price table names no price of its own (5 US cents):
/// an estimate at the high end of what AWS End User Messaging charges for most
/// countries, so that the cap errs towards stopping early.
const DEFAULT_OTHER: Micros = 50_000;

/// The price table as the configuration writes the default.
pub const DEFAULT_PRICES: &str = "*=0.05";

/// How long a month's counters are kept past its end, for the operator to read.
const KEPT_AFTER: i64 = 35 * 86_400;

/// The price of one SMS segment per country (ISO 3166 alpha-2), in US dollars, with
/// one for every other country (`*`). A WhatsApp message is priced as one segment of its
/// number's country.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prices {
    by_country: BTreeMap<String, Micros>,
    other: Micros,
}

impl Default for Prices {
    fn default() -> Self {
        Self {
            by_country: BTreeMap::new(),
            other: DEFAULT_OTHER,
        }
    }
}

impl Prices {
    /// `US=0.0088,GB=0.04,*=0.05`; without `*`, other countries take the default's.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut prices = Self::default();
        for entry in list.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
            let (country, price) = entry
                .split_once('=')
                .ok_or_else(|| format!("{entry} is not <country>=<US dollars>"))?;
            let price = usd(price.trim()).ok_or_else(|| format!("{entry}: the price is not a number of US dollars"))?;
            match country.trim() {
                "*" => prices.other = price,
                code if code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()) => {
                    prices.by_country.insert(code.to_ascii_uppercase(), price);
                }
                code => return Err(format!("{code} is neither * nor an ISO 3166 alpha-2 code")),
            }
        }
        Ok(prices)
    }

    /// One segment's price to a number of `region`.
    pub fn per_segment(&self, region: Option<&str>) -> Micros {
        region
            .and_then(|region| self.by_country.get(region))
            .copied()
            .unwrap_or(self.other)
    }
}

/// US dollars as written (`0.0088`), in millionths, up to $100; None for a negative,
/// absurd or malformed figure.
pub fn usd(text: &str) -> Option<Micros> {
    let value: f64 = text.parse().ok()?;
    (value.is_finite() && (0.0..=100.0).contains(&value)).then(|| (value * MICROS_PER_USD).round() as Micros)
}

/// Millionths of a dollar as AWS writes a price: dollars with five decimals (`0.10000`).
pub fn usd_text(micros: Micros) -> String {
    format!("{}.{:05}", micros / 1_000_000, micros % 1_000_000 / 10)
}

/// Millionths of a dollar as dollars, for logs and metrics.
pub fn in_usd(micros: Micros) -> f64 {
    micros as f64 / MICROS_PER_USD
}

/// GSM 03.38's basic characters: one septet each.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
    ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// Its extension: an escape and the character, two septets each.
const GSM_EXTENDED: &str = "^{}\\[~]|€\u{c}";

/// The SMS segments a text takes: in GSM-7, 160 septets fit one and each part of a
/// longer one holds 153; any other character makes it UCS-2, 70 code units in one and 67
/// a part.
pub fn segments(text: &str) -> u32 {
    let septets: Option<usize> = text
        .chars()
        .map(|c| {
            if GSM_BASIC.contains(c) {
                Some(1)
            } else if GSM_EXTENDED.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (units, single, part) = match septets {
        Some(septets) => (septets, 160, 153),
        None => (text.encode_utf16().count(), 70, 67),
    };
    let parts = if units <= single { 1 } else { units.div_ceil(part) };
    u32::try_from(parts).unwrap_or(u32::MAX)
}

/// Which cap a counter keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cap {
    /// The deployment's month.
    Deployment,
    /// The tenant's month.
    Tenant,
    /// The number's country's hour, across the deployment.
    CountryHour,
}

impl Cap {
    pub fn name(self) -> &'static str {
        match self {
            Self::Deployment => "deployment",
            Self::Tenant => "tenant",
            Self::CountryHour => "country-hour",
        }
    }
}

/// The caps of a deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendSettings {
    pub prices: Prices,
    /// The deployment's estimated spend per UTC calendar month, in whole US dollars.
    pub monthly_usd: u64,
    /// Each API client's and issuer's share of it, in percent.
    pub tenant_percent: u8,
    /// Each public tenant's share of it, in percent.
    pub public_percent: u8,
    /// What one country may take of it in one clock hour, in percent.
    pub country_hourly_percent: u8,
    /// A call's estimate: the most a minute of it may cost (the price cap each call is
    /// placed with); a call speaking a code twice takes less than a minute.
    pub call_per_minute: Micros,
}

pub const DEFAULT_MONTHLY_USD: u64 = 1_000;
pub const MONTHLY_USD: std::ops::RangeInclusive<u64> = 1..=10_000_000;
pub const DEFAULT_TENANT_PERCENT: u64 = 100;
pub const DEFAULT_PUBLIC_PERCENT: u64 = 50;
pub const DEFAULT_COUNTRY_HOURLY_PERCENT: u64 = 10;
pub const PERCENT: std::ops::RangeInclusive<u64> = 1..=100;
/// A call's default price cap per minute: $0.10.
pub const DEFAULT_CALL_PER_MINUTE: Micros = 100_000;

impl Default for SpendSettings {
    fn default() -> Self {
        Self {
            prices: Prices::default(),
            monthly_usd: DEFAULT_MONTHLY_USD,
            tenant_percent: DEFAULT_TENANT_PERCENT as u8,
            public_percent: DEFAULT_PUBLIC_PERCENT as u8,
            country_hourly_percent: DEFAULT_COUNTRY_HOURLY_PERCENT as u8,
            call_per_minute: DEFAULT_CALL_PER_MINUTE,
        }
    }
}

/// One shard of one cap's counter for one window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendCounter {
    pub cap: Cap,
    /// What the store keys the shard on: the cap, its window, the shard and, for a
    /// tenant's, the tenant last (whatever its key holds, no two counters share one).
    pub key: String,
    /// The shard's share of the cap.
    pub limit: Micros,
    /// The first second of the next window, when the cap starts afresh.
    pub window_end: UnixSeconds,
}

impl SpendCounter {
    /// When the store may drop the shard: a while past its window, for the operator to read.
    pub fn expires(&self) -> UnixSeconds {
        self.window_end + KEPT_AFTER
    }
}

/// The region a number of no country is priced and counted under.
pub const NO_COUNTRY: &str = "ZZ";

/// What one send is estimated to cost, and the counters it adds to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpendOrder {
    /// The number's country (ISO 3166 alpha-2; `ZZ` where it has none).
    pub region: String,
    /// One segment to the number's country: all the first round trip knows. A longer
    /// message adds its further segments as it goes out.
    pub per_segment: Micros,
    pub counters: Vec<SpendCounter>,
}

impl SpendSettings {
    /// The deployment's monthly cap in millionths of a dollar, `percent` of it.
    fn share(&self, percent: u8) -> Micros {
        self.monthly_usd.saturating_mul(MICROS_PER_USD as u64) / 100 * u64::from(percent)
    }

    /// The counters a send of `tenant` to `destination` at `now` adds to, each in its
    /// `shard` (taken below [`SHARDS`]: one pick for all, so that caps of equal shares
    /// fill alike). None for an email: SES's price (a
    /// hundredth of a cent) is no one's revenue, so no one pumps it.
    pub fn order(
        &self,
        tenant: &Tenant,
        destination: &Destination,
        country: Option<&str>,
        by_call: bool,
        now: UnixSeconds,
        shard: u32,
    ) -> Option<SpendOrder> {
        let Destination::Phone(_) = destination else {
            return None;
        };
        let region = country.unwrap_or(NO_COUNTRY).to_owned();
        let tenant_key = tenant.key();
        let public = matches!(tenant, Tenant::Public(_));
        let counters = [
            Counted::Deployment,
            Counted::Tenant {
                key: &tenant_key,
                public,
            },
            Counted::CountryHour(&region),
        ]
        .iter()
        .map(|counted| self.counter(counted, now, shard))
        .collect();
        Some(SpendOrder {
            per_segment: match by_call {
                true => self.call_per_minute,
                false => self.prices.per_segment(Some(&region)),
            },
            region,
            counters,
        })
    }

    /// The whole cap of what `counted` counts, in millionths of a dollar.
    pub fn cap(&self, counted: &Counted) -> Micros {
        self.share(match counted {
            Counted::Deployment => 100,
            Counted::Tenant { public: true, .. } => self.public_percent,
            Counted::Tenant { public: false, .. } => self.tenant_percent,
            Counted::CountryHour(_) => self.country_hourly_percent,
        })
    }

    /// One shard (taken below [`SHARDS`]) of the counter of `counted`'s window at `now`.
    pub fn counter(&self, counted: &Counted, now: UnixSeconds, shard: u32) -> SpendCounter {
        let shard = shard % SHARDS;
        let (month, month_end) = month_of(now);
        let hour = now.div_euclid(HOUR);
        let (cap, key, window_end) = match counted {
            Counted::Deployment => (Cap::Deployment, format!("deployment#{month}#{shard}"), month_end),
            Counted::Tenant { key, .. } => (Cap::Tenant, format!("tenant#{month}#{shard}#{key}"), month_end),
            Counted::CountryHour(region) => (
                Cap::CountryHour,
                format!("country-hour#{region}#{hour}#{shard}"),
                (hour + 1) * HOUR,
            ),
        };
        SpendCounter {
            cap,
            key,
            limit: self.cap(counted) / u64::from(SHARDS),
            window_end,
        }
    }

    /// Every shard of the counter of `counted`'s window at `now`: what the operator reads.
    pub fn shards(&self, counted: &Counted, now: UnixSeconds) -> Vec<SpendCounter> {
        (0..SHARDS).map(|shard| self.counter(counted, now, shard)).collect()
    }
}

/// What one spend counter counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counted<'a> {
    /// The deployment's month.
    Deployment,
    /// A tenant's month, by its key (`client:<id>`); a public tenant has a share of its own.
    Tenant { key: &'a str, public: bool },
    /// A country's hour (ISO 3166 alpha-2), across the deployment.
    CountryHour(&'a str),
}

/// The verdict on a send whose counters came to these totals (each once its estimate was
/// added): the first cap passed, and how long until its window starts afresh.
pub fn decide<'a>(
    totals: impl IntoIterator<Item = (&'a SpendCounter, Micros)>,
    now: UnixSeconds,
) -> Result<(), (Cap, u64)> {
    match totals.into_iter().find(|(counter, total)| *total > counter.limit) {
        Some((counter, _)) => Err((counter.cap, (counter.window_end - now).max(1) as u64)),
        None => Ok(()),
    }
}

/// `now`'s UTC month as `2026-12`, and the first second of the next.
pub fn month_of(now: UnixSeconds) -> (String, UnixSeconds) {
    let (year, month, _) = civil_from_days(now.div_euclid(86_400));
    let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    (
        format!("{year:04}-{month:02}"),
        days_from_civil(next_year, next_month, 1) * 86_400,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::Product;

    /// 2026-12-06T22:45:00Z.
    const NOW: UnixSeconds = 1_796_597_100;

    #[test]
    fn months_are_utc_calendar_months() {
        assert_eq!(month_of(NOW), ("2026-12".to_owned(), 1_798_761_600)); // 2027-01-01
        assert_eq!(month_of(1_798_761_599).0, "2026-12");
        assert_eq!(month_of(1_798_761_600).0, "2027-01");
        // February of a leap year ends on the 29th.
        assert_eq!(month_of(1_709_164_800), ("2024-02".to_owned(), 1_709_251_200));
        assert_eq!(month_of(0), ("1970-01".to_owned(), 2_678_400));
    }

    #[test]
    fn segments_count_gsm_septets_and_ucs2_units() {
        assert_eq!(segments("123456 is your verification code."), 1);
        assert_eq!(segments(&"a".repeat(160)), 1);
        assert_eq!(segments(&"a".repeat(161)), 2);
        assert_eq!(segments(&"a".repeat(306)), 2);
        assert_eq!(segments(&"a".repeat(307)), 3);
        // An extension character takes two septets.
        assert_eq!(segments(&"€".repeat(80)), 1);
        assert_eq!(segments(&"€".repeat(81)), 2);
        // One character outside GSM-7 makes the whole text UCS-2.
        assert_eq!(segments(&format!("{}ç", "a".repeat(69))), 1);
        assert_eq!(segments(&format!("{}ç", "a".repeat(70))), 2);
        assert_eq!(segments(&"क".repeat(134)), 2);
        assert_eq!(segments(&"क".repeat(135)), 3);
    }

    #[test]
    fn prices_are_per_country_with_one_for_the_rest() {
        let prices = Prices::parse("us=0.0088, GB=0.04,*=0.07").expect("parses");
        assert_eq!(prices.per_segment(Some("US")), 8_800);
        assert_eq!(prices.per_segment(Some("GB")), 40_000);
        assert_eq!(prices.per_segment(Some("IN")), 70_000);
        assert_eq!(Prices::default().per_segment(Some("IN")), 50_000);
        assert_eq!(Prices::parse("").expect("empty"), Prices::default());
        assert_eq!(Prices::parse(DEFAULT_PRICES).expect("the default"), Prices::default());
        for bad in ["US", "US=abc", "USA=0.01", "US=-1", "US=1000"] {
            assert!(Prices::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_phone_send_adds_to_the_deployment_its_tenant_and_its_country_hour() {
        let settings = SpendSettings::default();
        let phone = Destination::e164("+919876543210").expect("valid");
        let client = Tenant::Client("abc".to_owned());
        let order = settings
            .order(&client, &phone, Some("IN"), false, NOW, 11)
            .expect("a phone send");
        assert_eq!(order.per_segment, 50_000);
        let keys: Vec<&str> = order.counters.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "deployment#2026-12#3",
                "tenant#2026-12#3#client:abc",
                "country-hour#IN#499054#3"
            ]
        );
        // $1,000 a month in 8 shards; the client may take all of it, a country a tenth an hour.
        let limits: Vec<Micros> = order.counters.iter().map(|c| c.limit).collect();
        assert_eq!(limits, [125_000_000, 125_000_000, 12_500_000]);
        assert_eq!(order.counters[0].window_end, 1_798_761_600);
        assert_eq!(order.counters[2].window_end, NOW - NOW % 3_600 + 3_600);

        let public = settings
            .order(
                &Tenant::Public(Product::Bridgekeeper),
                &phone,
                Some("IN"),
                false,
                NOW,
                0,
            )
            .expect("a phone send");
        assert_eq!(public.counters[1].limit, 62_500_000);
        assert!(
            settings
                .order(
                    &client,
                    &Destination::email("a@b.co").expect("valid"),
                    None,
                    false,
                    NOW,
                    0
                )
                .is_none()
        );
    }

    #[test]
    fn a_call_is_estimated_at_its_price_cap_per_minute() {
        let settings = SpendSettings {
            call_per_minute: 250_000,
            ..SpendSettings::default()
        };
        let phone = Destination::e164("+441212345678").expect("valid");
        let client = Tenant::Client("abc".to_owned());
        let call = settings
            .order(&client, &phone, Some("GB"), true, NOW, 0)
            .expect("a phone send");
        assert_eq!(call.per_segment, 250_000);
        let text = settings
            .order(&client, &phone, Some("GB"), false, NOW, 0)
            .expect("a phone send");
        assert_eq!(text.per_segment, 50_000);
        assert_eq!(usd_text(100_000), "0.10000");
        assert_eq!(usd_text(12_345_678), "12.34567");
    }

    #[test]
    fn the_first_cap_passed_refuses_until_its_window_ends() {
        let order = SpendSettings::default()
            .order(
                &Tenant::Client("abc".to_owned()),
                &Destination::e164("+919876543210").expect("valid"),
                Some("IN"),
                false,
                NOW,
                0,
            )
            .expect("a phone send");
        let [deployment, tenant, hour] = &order.counters[..] else {
            panic!("three counters")
        };
        assert_eq!(decide([(deployment, 125_000_000), (tenant, 1), (hour, 1)], NOW), Ok(()));
        assert_eq!(
            decide([(deployment, 125_000_001), (tenant, 1), (hour, 1)], NOW),
            Err((Cap::Deployment, 1_798_761_600 - NOW as u64))
        );
        assert_eq!(
            decide([(deployment, 1), (tenant, 1), (hour, 12_500_001)], NOW),
            Err((Cap::CountryHour, 900))
        );
    }
}
