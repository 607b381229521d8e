//! The engine: sends and verifies over a store, a clock, the policy and the code keys.
//!
//! Every request costs as few sequential round trips as its rules allow. A send spends
//! its budgets and reads the challenge in one round trip, beside the dialect's own reads
//! (credentials, configuration, registry); delivers; then makes the code verifiable in a
//! second. A verify counts its attempt and its destination's failure in one round trip
//! and compares; only a right code takes a second (use the code, link the destination,
//! give the failure back). Whatever a refused or unauthenticated request took is given back.

mod budgets;
mod owned;
mod send;
mod suspects;
mod verify;

#[cfg(test)]
mod flows;

use std::collections::BTreeSet;
use std::sync::Arc;

use rand::RngExt;

use crate::clock::Clock;
use crate::code::CodeKeys;
use crate::destination::Destination;
use crate::error::OtpError;
use crate::policy::Policy;
use crate::quota::Exceeded;
use crate::telemetry::Telemetry;

pub use crate::tenant::Requester;
pub use send::{Dispatch, Ended, Plan, SendOrder};
pub use suspects::Suspects;

/// Countries SMS may go to; `None` allows every country.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmsCountries(pub Option<BTreeSet<String>>);

impl SmsCountries {
    pub fn allows(&self, destination: &Destination) -> bool {
        match (&self.0, destination) {
            (None, _) | (_, Destination::Email(_)) => true,
            (Some(allowed), phone) => phone.region().is_some_and(|region| allowed.contains(&region)),
        }
    }
}

/// The engine: policy, keys and clock over a store.
#[derive(Debug)]
pub struct Otp<S> {
    pub store: S,
    pub policy: Policy,
    pub keys: CodeKeys,
    pub sms_countries: SmsCountries,
    /// Whether this deployment's operator allows test destinations (off by default).
    pub allow_test_destinations: bool,
    pub telemetry: Telemetry,
    pub clock: Arc<dyn Clock>,
    /// Callers whose own budget refused them lately (this instance's memory).
    pub suspects: Suspects,
}

fn new_auth_code(previous: Option<&str>) -> String {
    let mut rng = rand::rng();
    loop {
        // Four digits without a leading zero, as the product issues them.
        let candidate = rng.random_range(1000..=9999u16).to_string();
        if Some(candidate.as_str()) != previous {
            return candidate;
        }
    }
}

fn too_many(exceeded: Exceeded) -> OtpError {
    OtpError::TooMany {
        retry_after: exceeded.retry_after.max(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_codes_have_four_digits_without_leading_zero_and_change() {
        for _ in 0..1_000 {
            let code = new_auth_code(Some("1000"));
            assert_eq!(code.len(), 4);
            assert!(!code.starts_with('0'));
            assert_ne!(code, "1000");
        }
    }

    #[test]
    fn sms_countries() {
        let india = Destination::phone("+91", "9876543219").unwrap();
        let uk = Destination::phone("+44", "7911123456").unwrap();
        let email = Destination::email("a@b.co").unwrap();
        let all = SmsCountries(None);
        assert!(all.allows(&india) && all.allows(&uk));
        let only_india = SmsCountries(Some(["IN".to_owned()].into()));
        assert!(only_india.allows(&india));
        assert!(!only_india.allows(&uk));
        assert!(only_india.allows(&email));
    }
}
