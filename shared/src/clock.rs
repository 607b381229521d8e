//! Time as the domain sees it: whole seconds since the Unix epoch, from a clock that
//! tests can move (expiry and hourly windows are tested by turning the clock, not by sleeping).

use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::digits::is_digits;

pub type UnixSeconds = i64;

/// Days since 1970-01-01 as a UTC date (year, month, day), in the proleptic Gregorian
/// calendar (Howard Hinnant's days-to-civil).
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let day_of_era = z.rem_euclid(146_097);
    let year_of_era = (day_of_era - day_of_era / 1_460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    (year_of_era + era * 400 + i64::from(month <= 2), month, day)
}

/// A UTC date's days since 1970-01-01: the inverse of [`civil_from_days`].
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year.rem_euclid(400);
    let month = i64::from(month);
    let day_of_year = (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

/// Seconds since the epoch as an RFC 3339 UTC timestamp (`2024-10-22T11:28:35Z`).
pub fn rfc3339(unix_seconds: UnixSeconds) -> String {
    let (year, month, day) = civil_from_days(unix_seconds.div_euclid(86_400));
    let seconds = unix_seconds.rem_euclid(86_400);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        seconds / 3_600,
        seconds % 3_600 / 60,
        seconds % 60
    )
}

/// An ISO 8601 / RFC 3339 date-time (`2024-10-22T11:28:35Z`, with fractions of a second
/// or an offset such as `+05:30`), or a date alone (its midnight, UTC), as seconds since
/// the epoch; None for anything else.
pub fn parse_rfc3339(text: &str) -> Option<UnixSeconds> {
    let number = |part: &str| -> Option<u32> { is_digits(part).then(|| part.parse().ok())? };
    let (date, time) = match text.split_once(['T', 't', ' ']) {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let mut parts = date.splitn(3, '-');
    let (year, month, day) = (number(parts.next()?)?, number(parts.next()?)?, number(parts.next()?)?);
    if date.len() != 10 || !(1..=12).contains(&month) || day == 0 {
        return None;
    }
    let days = days_from_civil(i64::from(year), month, day);
    // A day past its month's end (`02-30`) is refused, not rolled over.
    if civil_from_days(days) != (i64::from(year), month, day) {
        return None;
    }
    let Some(time) = time else {
        return Some(days * 86_400);
    };
    let (clock, offset) = if let Some(clock) = time.strip_suffix(['Z', 'z']) {
        (clock, 0)
    } else {
        let at = time.rfind(['+', '-'])?;
        let (clock, zone) = time.split_at(at);
        let (hours, minutes) = zone[1..].split_once(':')?;
        let (hours, minutes) = (number(hours)?, number(minutes)?);
        if hours > 23 || minutes > 59 {
            return None;
        }
        let seconds = i64::from(hours * 3_600 + minutes * 60);
        (clock, if zone.starts_with('-') { -seconds } else { seconds })
    };
    let clock = clock.split_once('.').map_or(clock, |(whole, _)| whole);
    let mut fields = clock.splitn(3, ':');
    let (hour, minute, second) = (
        number(fields.next()?)?,
        number(fields.next()?)?,
        number(fields.next()?)?,
    );
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    Some(days * 86_400 + i64::from(hour * 3_600 + minute * 60 + second) - offset)
}

pub trait Clock: Send + Sync + std::fmt::Debug {
    fn now(&self) -> UnixSeconds;
}

#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> UnixSeconds {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs() as i64)
            .unwrap_or_default()
    }
}

/// A clock that stands still until told to move.
#[derive(Debug)]
pub struct ManualClock(AtomicI64);

impl ManualClock {
    pub fn new(now: UnixSeconds) -> Self {
        Self(AtomicI64::new(now))
    }

    /// Starts at the real time, so that tokens and items written by the tests look current.
    pub fn starting_now() -> Self {
        Self::new(SystemClock.now())
    }

    pub fn advance(&self, seconds: i64) {
        self.0.fetch_add(seconds, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> UnixSeconds {
        self.0.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_729_596_515), "2024-10-22T11:28:35Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn dates_and_times_parse_back() {
        for seconds in [0, 951_782_400, 1_729_596_515, 4_102_444_799] {
            assert_eq!(parse_rfc3339(&rfc3339(seconds)), Some(seconds));
        }
        assert_eq!(parse_rfc3339("2024-10-22T11:28:35.123Z"), Some(1_729_596_515));
        assert_eq!(parse_rfc3339("2024-10-22T16:58:35+05:30"), Some(1_729_596_515));
        assert_eq!(parse_rfc3339("2024-10-22T06:28:35-05:00"), Some(1_729_596_515));
        assert_eq!(parse_rfc3339("2024-10-22"), Some(1_729_555_200));
        for bad in [
            "",
            "2024-10",
            "2024-13-01",
            "2023-02-29",
            "2024-10-22T25:00:00Z",
            "2024-10-22T11:28Z",
            "yesterday",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        assert_eq!(days_from_civil(2024, 2, 29), 19_782);
        assert_eq!(civil_from_days(19_782), (2024, 2, 29));
    }
}
