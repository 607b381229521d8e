//! Callers whose own budget refused them lately: addresses whose claims of an API
//! client's credentials kept failing, and users of an issuer who spent their own budget
//! of failures. Their next requests settle that budget before they touch any of a
//! tenant's, so that a flood from them cannot hold a tenant's budget even for the one
//! round trip a request takes to learn its own fate. Everyone else keeps the one round
//! trip. This is a per-instance memory of refusals the store decided, never a rule of its
//! own: a new instance simply learns them again, one refusal each.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::clock::UnixSeconds;

/// The most callers remembered at once; the oldest refusals go first past it.
const MOST: usize = 10_000;

#[derive(Debug, Default)]
pub struct Suspects {
    until: Mutex<HashMap<String, UnixSeconds>>,
}

impl Suspects {
    /// Remembers that `who`'s own budget refuses it until `until`.
    pub fn mark(&self, who: String, until: UnixSeconds, now: UnixSeconds) {
        let mut until_of = self.until.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if until_of.len() >= MOST {
            until_of.retain(|_, until| *until > now);
            if until_of.len() >= MOST
                && let Some(soonest) = until_of
                    .iter()
                    .min_by_key(|(_, until)| **until)
                    .map(|(who, _)| who.clone())
            {
                until_of.remove(&soonest);
            }
        }
        until_of.insert(who, until);
    }

    /// Whether `who`'s own budget refused it lately and may still.
    pub fn is_suspect(&self, who: &str, now: UnixSeconds) -> bool {
        let until_of = self.until.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        until_of.get(who).is_some_and(|until| *until > now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suspect_is_one_until_its_budget_allows_it_again() {
        let suspects = Suspects::default();
        assert!(!suspects.is_suspect("address:198.51.100.7", 100));
        suspects.mark("address:198.51.100.7".into(), 160, 100);
        assert!(suspects.is_suspect("address:198.51.100.7", 159));
        assert!(!suspects.is_suspect("address:198.51.100.7", 160));
        assert!(!suspects.is_suspect("address:198.51.100.8", 100));
    }

    #[test]
    fn memory_is_bounded() {
        let suspects = Suspects::default();
        for i in 0..(MOST + 10) {
            suspects.mark(format!("user:{i}"), 1_000 + i as i64, 0);
        }
        assert!(suspects.until.lock().unwrap().len() <= MOST);
        assert!(
            suspects.is_suspect(&format!("user:{}", MOST + 9), 0),
            "the newest is kept"
        );
    }
}
