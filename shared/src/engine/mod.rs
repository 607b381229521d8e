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

use std::sync::Arc;

use rand::RngExt;

use crate::clock::Clock;
use crate::code::CodeKeys;
use crate::error::OtpError;
use crate::guard::GuardSettings;
use crate::number_rules::NumberRules;
use crate::policy::Policy;
use crate::quota::Exceeded;
use crate::spend::SpendSettings;
use crate::telemetry::Telemetry;

pub use crate::tenant::Requester;
pub use send::{Dispatch, Ended, Plan, SendOrder};
pub use suspects::Suspects;

/// The engine: policy, keys and clock over a store.
#[derive(Debug)]
pub struct Otp<S> {
    pub store: S,
    pub policy: Policy,
    pub keys: CodeKeys,
    /// The phone numbers codes go to (countries, kinds of number).
    pub numbers: NumberRules,
    /// The conversion guard against SMS pumping.
    pub guard: GuardSettings,
    /// The caps on what SMS and WhatsApp codes are estimated to cost.
    pub spend: SpendSettings,
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
}
