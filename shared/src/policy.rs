//! The numbers of the OTP policy, each in this one place: defaults, and the ranges
//! inside which a deployment may move them (it may tighten, never loosen past them).

use std::time::Duration;

use crate::quota::{Counter, Sliding};

/// Inclusive bounds a configured value must fall within.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Range {
    pub min: u64,
    pub max: u64,
}

impl Range {
    pub const fn contains(&self, value: u64) -> bool {
        value >= self.min && value <= self.max
    }
}

/// Digits in a code. NIST SP 800-63B asks for at least 20 bits of entropy: 6 digits is the floor.
pub const CODE_LENGTH: Range = Range { min: 6, max: 10 };
pub const DEFAULT_CODE_LENGTH: u8 = 6;

/// Seconds a fresh code stays verifiable after its own send.
pub const CODE_LIFETIME_SECONDS: Range = Range { min: 60, max: 600 };
pub const DEFAULT_CODE_LIFETIME_SECONDS: u64 = 300;

/// Wrong codes a challenge absorbs before it is dead.
pub const ATTEMPTS_PER_CHALLENGE: Range = Range { min: 1, max: 10 };
pub const DEFAULT_ATTEMPTS_PER_CHALLENGE: u32 = 5;

/// One send per destination per this many seconds (may only grow).
pub const SEND_COOLDOWN_SECONDS: Range = Range { min: 30, max: 3_600 };
pub const DEFAULT_SEND_COOLDOWN_SECONDS: u64 = 30;

/// Sends per destination per ten minutes (Twilio Verify's figure; may only shrink).
pub const SENDS_PER_TEN_MINUTES: Range = Range { min: 1, max: 5 };
pub const DEFAULT_SENDS_PER_TEN_MINUTES: u32 = 5;

/// Wrong codes per destination per hour across all its challenges, so that opening new
/// challenges buys no extra guesses (may only shrink). The price: a stranger can lock a
/// destination out for up to this hour, and never longer.
pub const WRONG_CODES_PER_HOUR: Range = Range { min: 1, max: 10 };
pub const DEFAULT_WRONG_CODES_PER_HOUR: u32 = 10;

/// Sends per source IP address per hour, to blunt SMS pumping from one origin (may only shrink).
pub const SENDS_PER_IP_PER_HOUR: Range = Range { min: 1, max: 20 };
pub const DEFAULT_SENDS_PER_IP_PER_HOUR: u32 = 20;

/// Sends per API client per hour, the deployment's default for clients without their
/// own limit (may only shrink).
pub const SENDS_PER_CLIENT_PER_HOUR: Range = Range { min: 1, max: 1_000 };
pub const DEFAULT_SENDS_PER_CLIENT_PER_HOUR: u32 = 1_000;

/// Sends per hour an operator may grant one API client (`otp-admin client create|update
/// --sends-per-hour`), for a business that sends more than the default.
pub const CLIENT_SENDS_PER_HOUR: Range = Range { min: 1, max: 1_000_000 };

/// Sends per number range per hour: SMS pumping sends to many numbers of one premium
/// range, so a burst to one range stops long before a client's own limit. Per API client
/// (a client may be granted its own), and one for the callers without a client.
pub const SENDS_PER_NUMBER_RANGE_PER_HOUR: Range = Range { min: 1, max: 1_000_000 };
pub const DEFAULT_SENDS_PER_NUMBER_RANGE_PER_HOUR: u32 = 100;

/// What a number range is: the country calling code and this many first digits of the
/// national number (`+44 7911` for `+447911123456` with 4).
pub const NUMBER_RANGE_DIGITS: Range = Range { min: 1, max: 8 };
pub const DEFAULT_NUMBER_RANGE_DIGITS: u8 = 4;

/// How long a dead challenge lingers before DynamoDB TTL may delete it. TTL only cleans
/// up: expiry is enforced by the conditional writes, never by the item's absence.
pub const CLEANUP_GRACE: Duration = Duration::from_secs(24 * 3600);

/// What one kind of send issues: how long its codes are and how long they live. The
/// deployment's policy gives the default; an OTP configuration may choose within the ranges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Profile {
    pub code_length: u8,
    pub lifetime: Duration,
}

impl Profile {
    /// A profile inside the policy's ranges, or which of its numbers is not.
    pub fn new(code_length: u8, lifetime: Duration) -> Result<Self, String> {
        if !CODE_LENGTH.contains(u64::from(code_length)) {
            return Err(format!(
                "code length {code_length} is outside {}..={}",
                CODE_LENGTH.min, CODE_LENGTH.max
            ));
        }
        if !CODE_LIFETIME_SECONDS.contains(lifetime.as_secs()) {
            return Err(format!(
                "lifetime {} s is outside {}..={}",
                lifetime.as_secs(),
                CODE_LIFETIME_SECONDS.min,
                CODE_LIFETIME_SECONDS.max
            ));
        }
        Ok(Self { code_length, lifetime })
    }
}

/// The policy a deployment runs with, validated against the ranges above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    pub code_length: u8,
    pub code_lifetime: Duration,
    pub attempts_per_challenge: u32,
    pub send_cooldown: Duration,
    pub sends_per_ten_minutes: u32,
    pub wrong_codes_per_hour: u32,
    pub sends_per_ip_per_hour: u32,
    pub sends_per_client_per_hour: u32,
    pub sends_per_number_range_per_hour: u32,
    pub number_range_digits: u8,
}

impl Default for Policy {
    fn default() -> Self {
        Self {
            code_length: DEFAULT_CODE_LENGTH,
            code_lifetime: Duration::from_secs(DEFAULT_CODE_LIFETIME_SECONDS),
            attempts_per_challenge: DEFAULT_ATTEMPTS_PER_CHALLENGE,
            send_cooldown: Duration::from_secs(DEFAULT_SEND_COOLDOWN_SECONDS),
            sends_per_ten_minutes: DEFAULT_SENDS_PER_TEN_MINUTES,
            wrong_codes_per_hour: DEFAULT_WRONG_CODES_PER_HOUR,
            sends_per_ip_per_hour: DEFAULT_SENDS_PER_IP_PER_HOUR,
            sends_per_client_per_hour: DEFAULT_SENDS_PER_CLIENT_PER_HOUR,
            sends_per_number_range_per_hour: DEFAULT_SENDS_PER_NUMBER_RANGE_PER_HOUR,
            number_range_digits: DEFAULT_NUMBER_RANGE_DIGITS,
        }
    }
}

impl Policy {
    /// Checks every number against its range; the error names the first one out of range.
    pub fn validate(&self) -> Result<(), String> {
        let checks = [
            ("OTP_CODE_LENGTH", u64::from(self.code_length), CODE_LENGTH),
            ("OTP_TTL_SECONDS", self.code_lifetime.as_secs(), CODE_LIFETIME_SECONDS),
            (
                "OTP_MAX_ATTEMPTS",
                u64::from(self.attempts_per_challenge),
                ATTEMPTS_PER_CHALLENGE,
            ),
            (
                "OTP_SEND_COOLDOWN_SECONDS",
                self.send_cooldown.as_secs(),
                SEND_COOLDOWN_SECONDS,
            ),
            (
                "OTP_SENDS_PER_TEN_MINUTES",
                u64::from(self.sends_per_ten_minutes),
                SENDS_PER_TEN_MINUTES,
            ),
            (
                "OTP_WRONG_CODES_PER_HOUR",
                u64::from(self.wrong_codes_per_hour),
                WRONG_CODES_PER_HOUR,
            ),
            (
                "OTP_SENDS_PER_IP_PER_HOUR",
                u64::from(self.sends_per_ip_per_hour),
                SENDS_PER_IP_PER_HOUR,
            ),
            (
                "OTP_SENDS_PER_CLIENT_PER_HOUR",
                u64::from(self.sends_per_client_per_hour),
                SENDS_PER_CLIENT_PER_HOUR,
            ),
            (
                "OTP_SENDS_PER_NUMBER_RANGE_PER_HOUR",
                u64::from(self.sends_per_number_range_per_hour),
                SENDS_PER_NUMBER_RANGE_PER_HOUR,
            ),
            (
                "OTP_NUMBER_RANGE_DIGITS",
                u64::from(self.number_range_digits),
                NUMBER_RANGE_DIGITS,
            ),
        ];
        for (name, value, range) in checks {
            if !range.contains(value) {
                return Err(format!("{name}={value} is outside {}..={}", range.min, range.max));
            }
        }
        Ok(())
    }

    /// The send rule for one destination: a cooldown between sends and a cap per ten
    /// minutes, exact over any span.
    pub fn send_quota(&self) -> Sliding {
        Sliding {
            name: "send",
            limit: self.sends_per_ten_minutes,
            per: Duration::from_secs(600),
            min_interval: Some(self.send_cooldown),
        }
    }

    /// The send budget of one source IP address, exact over any hour.
    pub fn ip_send_quota(&self) -> Sliding {
        Sliding {
            name: "send-ip",
            limit: self.sends_per_ip_per_hour,
            per: Duration::from_secs(3_600),
            min_interval: None,
        }
    }

    /// The failure budget of one destination, across all of its challenges, exact over any hour.
    pub fn guess_budget(&self) -> Sliding {
        Sliding {
            name: "guess",
            limit: self.wrong_codes_per_hour,
            per: Duration::from_secs(3_600),
            min_interval: None,
        }
    }

    /// The send budget of one API client per clock hour: its own limit, or the deployment's.
    pub fn client_send_quota(&self, own_limit: Option<u32>) -> Counter {
        Counter {
            name: "send-client",
            limit: u64::from(own_limit.unwrap_or(self.sends_per_client_per_hour)),
            per: Duration::from_secs(3_600),
        }
    }

    /// The send budget of one number range per clock hour, for one API client (its own
    /// limit, or the deployment's) or for the callers without one.
    pub fn number_range_quota(&self, own_limit: Option<u32>) -> Counter {
        Counter {
            name: "send-range",
            limit: u64::from(own_limit.unwrap_or(self.sends_per_number_range_per_hour)),
            per: Duration::from_secs(3_600),
        }
    }

    /// The code length and lifetime of sends that name no OTP configuration.
    pub fn default_profile(&self) -> Profile {
        Profile {
            code_length: self.code_length,
            lifetime: self.code_lifetime,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_the_documented_numbers() {
        let policy = Policy::default();
        assert_eq!(policy.code_length, 6);
        assert_eq!(policy.code_lifetime, Duration::from_secs(300));
        assert_eq!(policy.attempts_per_challenge, 5);
        assert_eq!(policy.send_cooldown, Duration::from_secs(30));
        assert_eq!(policy.sends_per_ten_minutes, 5);
        assert_eq!(policy.wrong_codes_per_hour, 10);
        assert_eq!(policy.sends_per_ip_per_hour, 20);
        assert_eq!(policy.sends_per_client_per_hour, 1_000);
        assert_eq!(policy.sends_per_number_range_per_hour, 100);
        assert_eq!(policy.number_range_digits, 4);
        assert_eq!(policy.validate(), Ok(()));
        // Every sliding budget fits the slots one item keeps.
        for rule in [policy.send_quota(), policy.ip_send_quota(), policy.guess_budget()] {
            assert!(rule.limit <= crate::quota::MAX_SLOTS);
        }
        assert!(SENDS_PER_IP_PER_HOUR.max <= u64::from(crate::quota::MAX_SLOTS));
        assert!(WRONG_CODES_PER_HOUR.max <= u64::from(crate::quota::MAX_SLOTS));
        assert!(SENDS_PER_TEN_MINUTES.max <= u64::from(crate::quota::MAX_SLOTS));
    }

    #[test]
    fn values_outside_the_ranges_are_refused() {
        let short_code = Policy {
            code_length: 5,
            ..Policy::default()
        };
        assert!(short_code.validate().unwrap_err().contains("OTP_CODE_LENGTH"));
        let long_life = Policy {
            code_lifetime: Duration::from_secs(601),
            ..Policy::default()
        };
        assert!(long_life.validate().unwrap_err().contains("OTP_TTL_SECONDS"));
        let many_attempts = Policy {
            attempts_per_challenge: 11,
            ..Policy::default()
        };
        assert!(many_attempts.validate().is_err());
        let short_cooldown = Policy {
            send_cooldown: Duration::from_secs(29),
            ..Policy::default()
        };
        assert!(short_cooldown.validate().is_err());
        let more_sends = Policy {
            sends_per_ten_minutes: 6,
            ..Policy::default()
        };
        assert!(more_sends.validate().is_err());
        let more_guesses = Policy {
            wrong_codes_per_hour: 11,
            ..Policy::default()
        };
        assert!(more_guesses.validate().is_err());
        let more_per_ip = Policy {
            sends_per_ip_per_hour: 21,
            ..Policy::default()
        };
        assert!(more_per_ip.validate().is_err());
        let more_per_client = Policy {
            sends_per_client_per_hour: 1_001,
            ..Policy::default()
        };
        assert!(more_per_client.validate().is_err());
        let wide_ranges = Policy {
            number_range_digits: 9,
            ..Policy::default()
        };
        assert!(wide_ranges.validate().unwrap_err().contains("OTP_NUMBER_RANGE_DIGITS"));
        assert!(Profile::new(5, Duration::from_secs(300)).is_err());
        assert!(Profile::new(6, Duration::from_secs(59)).is_err());
        assert!(Profile::new(10, Duration::from_secs(600)).is_ok());
        let tighter = Policy {
            code_length: 8,
            attempts_per_challenge: 3,
            ..Policy::default()
        };
        assert_eq!(tighter.validate(), Ok(()));
    }
}
