//! Rate rules as sliding-window logs: the pure decision, given the times of the requests a
//! rule has already admitted. Storage keeps the log and applies a decision atomically.

use std::time::Duration;

use crate::clock::UnixSeconds;

/// At most `limit` admitted requests in any span of `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub limit: u32,
    pub per: Duration,
}

/// One named budget: an optional minimum gap between requests and any number of windows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: &'static str,
    pub min_interval: Option<Duration>,
    pub windows: Vec<Window>,
}

/// A rule applied to one subject (a destination, an address, a client).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub rule: Rule,
    pub subject: String,
}

/// The rule refuses: try again in this many seconds (at least one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    pub retry_after: u64,
}

impl Rule {
    /// The longest span any part of the rule looks back over: older hits can be forgotten.
    pub fn horizon(&self) -> i64 {
        let longest_window = self.windows.iter().map(|w| w.per).max().unwrap_or_default();
        let gap = self.min_interval.unwrap_or_default();
        longest_window.max(gap).as_secs() as i64
    }

    /// Hits still inside the horizon, oldest first.
    pub fn recent(&self, hits: &[UnixSeconds], now: UnixSeconds) -> Vec<UnixSeconds> {
        let cutoff = now - self.horizon();
        let mut kept: Vec<UnixSeconds> = hits.iter().copied().filter(|&t| t > cutoff).collect();
        kept.sort_unstable();
        kept
    }

    /// Whether one more request at `now` fits, given the admitted `hits`.
    pub fn check(&self, hits: &[UnixSeconds], now: UnixSeconds) -> Result<(), Exceeded> {
        let hits = self.recent(hits, now);
        let mut wait: i64 = 0;
        if let (Some(gap), Some(&last)) = (self.min_interval, hits.last()) {
            wait = wait.max(last + gap.as_secs() as i64 - now);
        }
        for window in &self.windows {
            let span = window.per.as_secs() as i64;
            let inside: Vec<UnixSeconds> = hits.iter().copied().filter(|&t| t > now - span).collect();
            let limit = window.limit as usize;
            if inside.len() >= limit {
                // The request fits once enough of the oldest hits have left the window.
                let frees_a_place = inside[inside.len() - limit];
                wait = wait.max(frees_a_place + span - now);
            }
        }
        if wait > 0 {
            Err(Exceeded {
                retry_after: wait as u64,
            })
        } else {
            Ok(())
        }
    }

    /// The log after admitting one more request at `now`, or why it cannot be admitted.
    pub fn admit(&self, hits: &[UnixSeconds], now: UnixSeconds) -> Result<Vec<UnixSeconds>, Exceeded> {
        self.check(hits, now)?;
        let mut next = self.recent(hits, now);
        next.push(now);
        Ok(next)
    }

    /// The log with one admitted request at `at` given back (a correct code is no failure).
    pub fn refund(&self, hits: &[UnixSeconds], at: UnixSeconds, now: UnixSeconds) -> Vec<UnixSeconds> {
        let mut next = self.recent(hits, now);
        if let Some(position) = next.iter().rposition(|&t| t == at) {
            next.remove(position);
        }
        next
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::Policy;

    const T0: UnixSeconds = 1_700_000_000;

    #[test]
    fn cooldown_between_sends() {
        let rule = Policy::default().send_quota();
        let log = rule.admit(&[], T0).unwrap();
        assert_eq!(rule.check(&log, T0 + 1), Err(Exceeded { retry_after: 29 }));
        assert_eq!(rule.check(&log, T0 + 29), Err(Exceeded { retry_after: 1 }));
        assert_eq!(rule.check(&log, T0 + 30), Ok(()));
    }

    #[test]
    fn five_sends_per_ten_minutes_sliding() {
        let rule = Policy::default().send_quota();
        let mut log = Vec::new();
        for i in 0..5 {
            log = rule.admit(&log, T0 + i * 30).unwrap();
        }
        // The sixth, 30 s after the fifth, waits for the first to leave the ten-minute window.
        let sixth = T0 + 150;
        assert_eq!(rule.check(&log, sixth), Err(Exceeded { retry_after: 450 }));
        assert_eq!(rule.check(&log, T0 + 599), Err(Exceeded { retry_after: 1 }));
        assert_eq!(rule.check(&log, T0 + 600), Ok(()));
    }

    #[test]
    fn ten_failures_per_hour_and_no_longer() {
        let rule = Policy::default().guess_budget();
        let mut log = Vec::new();
        for i in 0..10 {
            log = rule.admit(&log, T0 + i).unwrap();
        }
        assert_eq!(rule.check(&log, T0 + 10), Err(Exceeded { retry_after: 3_590 }));
        assert_eq!(rule.check(&log, T0 + 3_600), Ok(()));
        // Old hits are forgotten, so the log never grows past the horizon.
        assert_eq!(rule.recent(&log, T0 + 3_605).len(), 4);
    }

    #[test]
    fn refund_gives_back_one_hit() {
        let rule = Policy::default().guess_budget();
        let log = rule.admit(&[T0, T0], T0 + 5).unwrap();
        assert_eq!(rule.refund(&log, T0 + 5, T0 + 6), vec![T0, T0]);
        assert_eq!(rule.refund(&log, T0, T0 + 6), vec![T0, T0 + 5]);
        assert_eq!(rule.refund(&log, T0 + 99, T0 + 6), log);
    }
}
