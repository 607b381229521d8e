//! Budgets, as pure rules. Each budget lives in one item of constant size and is decided
//! by one conditional write, without a read before it; this module says what the write
//! decides, and the store (`store::budgets`) says how.
//!
//! Two kinds:
//! - [`Sliding`]: at most `limit` admitted requests in any span of `per`, and at least
//!   `min_interval` between two of them: exact, with no edge effect. The item keeps the
//!   times of the last `limit` admissions, newest first (a shift register of at most
//!   [`MAX_SLOTS`] numbers). A request fits when the `limit`-th newest is at least `per`
//!   old and the newest at least `min_interval` old; admitting it shifts every time one
//!   place older and drops the oldest, which had already left the window.
//! - [`Counter`]: at most `limit` requests in each window of `per` aligned to the Unix
//!   epoch (for an hour: from hh:00:00 to hh:59:59 UTC). One counter item per window,
//!   incremented by `ADD`; any limit fits (a client's million sends an hour is one
//!   number). At a window's edge a burst may take one window's limit just before it and
//!   another just after: up to twice the limit within one `per`, never more.

use std::time::Duration;

use crate::clock::UnixSeconds;

/// The most admission times one sliding budget keeps: its largest limit.
pub const MAX_SLOTS: u32 = 20;

/// The rule refuses: try again in this many seconds (at least one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    pub retry_after: u64,
}

/// At most `limit` requests in any span of `per`, at least `min_interval` apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sliding {
    pub name: &'static str,
    pub limit: u32,
    pub per: Duration,
    pub min_interval: Option<Duration>,
}

/// At most `limit` requests in each epoch-aligned window of `per`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counter {
    pub name: &'static str,
    pub limit: u64,
    pub per: Duration,
}

/// A sliding rule applied to one subject (a destination, an address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlidingCharge {
    pub rule: Sliding,
    pub subject: String,
}

/// A counter applied to one subject (an API client, a number range).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CounterCharge {
    pub rule: Counter,
    pub subject: String,
}

fn seconds(duration: Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
}

impl Sliding {
    /// The slots a request at `now` must find free: the `limit`-th newest admission must
    /// be at or before this second.
    pub fn oldest_allowed(&self, now: UnixSeconds) -> UnixSeconds {
        now - seconds(self.per)
    }

    /// The newest admission must be at or before this second (the minimum interval).
    pub fn newest_allowed(&self, now: UnixSeconds) -> Option<UnixSeconds> {
        self.min_interval.map(|gap| now - seconds(gap))
    }

    /// How long the item is worth keeping after an admission at `now`.
    pub fn horizon(&self) -> i64 {
        seconds(self.per.max(self.min_interval.unwrap_or_default()))
    }

    /// Whether a request at `now` fits, given the admission times newest first (missing
    /// slots are free).
    pub fn check(&self, newest_first: &[UnixSeconds], now: UnixSeconds) -> Result<(), Exceeded> {
        let mut wait: i64 = 0;
        if let (Some(gap), Some(&newest)) = (self.min_interval, newest_first.first()) {
            wait = wait.max(newest + seconds(gap) - now);
        }
        if let Some(&limit_th) = newest_first.get(self.limit as usize - 1) {
            wait = wait.max(limit_th + seconds(self.per) - now);
        }
        if wait > 0 {
            Err(Exceeded {
                retry_after: wait as u64,
            })
        } else {
            Ok(())
        }
    }

    /// The slots after admitting a request at `now` (what the store's write does).
    pub fn admit(&self, newest_first: &[UnixSeconds], now: UnixSeconds) -> Result<Vec<UnixSeconds>, Exceeded> {
        self.check(newest_first, now)?;
        let mut next = Vec::with_capacity(self.limit as usize);
        next.push(now);
        next.extend(newest_first.iter().take(self.limit as usize - 1));
        Ok(next)
    }

    /// The slots after giving back one admission made at `at`, wherever later admissions
    /// have moved it: exact, so a request that gives back what it took leaves the budget
    /// as if it had never come. The slot freed at the end is free (zero): the time the
    /// admission displaced there had already left the window. None when no admission of
    /// that second is left (it has aged out of the register: nothing to give back).
    pub fn give_back(&self, newest_first: &[UnixSeconds], at: UnixSeconds) -> Option<Vec<UnixSeconds>> {
        let held = &newest_first[..newest_first.len().min(self.limit as usize)];
        let place = held.iter().position(|&admitted| admitted == at)?;
        let mut next: Vec<UnixSeconds> = held[..place].iter().chain(&held[place + 1..]).copied().collect();
        next.resize(self.limit as usize, 0);
        Some(next)
    }
}

impl Counter {
    /// The window `now` falls in.
    pub fn window(&self, now: UnixSeconds) -> i64 {
        now.div_euclid(seconds(self.per).max(1))
    }

    /// The first second after `window`.
    pub fn window_end(&self, window: i64) -> UnixSeconds {
        (window + 1) * seconds(self.per).max(1)
    }

    /// Whether the request that made the window's count `count` is admitted; if not, it
    /// fits once this window ends.
    pub fn decide(&self, count: u64, now: UnixSeconds) -> Result<(), Exceeded> {
        if count <= self.limit {
            Ok(())
        } else {
            Err(self.exceeded(now))
        }
    }

    /// The refusal of a request at `now`: the next window starts afresh.
    pub fn exceeded(&self, now: UnixSeconds) -> Exceeded {
        Exceeded {
            retry_after: (self.window_end(self.window(now)) - now).max(1) as u64,
        }
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
        let slots = rule.admit(&[], T0).unwrap();
        assert_eq!(rule.check(&slots, T0 + 1), Err(Exceeded { retry_after: 29 }));
        assert_eq!(rule.check(&slots, T0 + 29), Err(Exceeded { retry_after: 1 }));
        assert_eq!(rule.check(&slots, T0 + 30), Ok(()));
    }

    #[test]
    fn five_sends_per_ten_minutes_sliding_with_no_edge() {
        let rule = Policy::default().send_quota();
        let mut slots = Vec::new();
        for i in 0..5 {
            slots = rule.admit(&slots, T0 + i * 30).unwrap();
        }
        assert_eq!(slots.len(), 5, "constant size: one slot per admission the limit allows");
        // The sixth, 30 s after the fifth, waits for the first to leave the ten-minute window.
        let sixth = T0 + 150;
        assert_eq!(rule.check(&slots, sixth), Err(Exceeded { retry_after: 450 }));
        assert_eq!(rule.check(&slots, T0 + 599), Err(Exceeded { retry_after: 1 }));
        slots = rule.admit(&slots, T0 + 600).unwrap();
        assert_eq!(slots.len(), 5);
        // Any span of ten minutes holds at most five: the next waits for the second to leave.
        assert_eq!(rule.check(&slots, T0 + 629), Err(Exceeded { retry_after: 1 }));
        assert_eq!(rule.check(&slots, T0 + 630), Ok(()));
    }

    #[test]
    fn ten_failures_per_hour_and_no_longer() {
        let rule = Policy::default().guess_budget();
        let mut slots = Vec::new();
        for i in 0..10 {
            slots = rule.admit(&slots, T0 + i).unwrap();
        }
        assert_eq!(rule.check(&slots, T0 + 10), Err(Exceeded { retry_after: 3_590 }));
        assert_eq!(rule.check(&slots, T0 + 3_600), Ok(()));
    }

    #[test]
    fn a_give_back_is_exact_wherever_the_admission_stands() {
        let rule = Policy::default().guess_budget();
        let mut slots = Vec::new();
        for i in 0..10 {
            slots = rule.admit(&slots, T0 + i).unwrap();
        }
        assert!(rule.check(&slots, T0 + 20).is_err());
        let given = rule.give_back(&slots, T0 + 9).unwrap();
        assert_eq!(rule.check(&given, T0 + 20), Ok(()));
        // Later admissions moved it: still exactly that one admission is given back.
        let given = rule.give_back(&slots, T0 + 3).unwrap();
        assert_eq!(given.len(), 10);
        assert!(!given.contains(&(T0 + 3)));
        assert_eq!(given.iter().filter(|&&slot| slot == 0).count(), 1);
        assert_eq!(rule.check(&given, T0 + 20), Ok(()), "one place is free again");
        assert_eq!(rule.give_back(&slots, T0 - 1), None, "nothing of that second is held");
    }

    #[test]
    fn a_smaller_limit_reads_the_newest_slots() {
        let wide = Sliding {
            name: "t",
            limit: 5,
            per: Duration::from_secs(600),
            min_interval: None,
        };
        let mut slots = Vec::new();
        for i in 0..5 {
            slots = wide.admit(&slots, T0 + i).unwrap();
        }
        let narrow = Sliding { limit: 2, ..wide };
        assert_eq!(narrow.check(&slots, T0 + 10), Err(Exceeded { retry_after: 593 }));
    }

    #[test]
    fn counters_refuse_past_the_limit_until_the_window_ends() {
        let rule = Counter {
            name: "client",
            limit: 1_000_000,
            per: Duration::from_secs(3_600),
        };
        let hour_start = 1_699_999_200; // a multiple of 3,600
        assert_eq!(rule.window(hour_start), rule.window(hour_start + 3_599));
        assert_ne!(rule.window(hour_start), rule.window(hour_start + 3_600));
        assert_eq!(rule.decide(1_000_000, hour_start + 10), Ok(()));
        assert_eq!(
            rule.decide(1_000_001, hour_start + 10),
            Err(Exceeded { retry_after: 3_590 })
        );
        assert_eq!(
            rule.decide(1_000_001, hour_start + 3_599),
            Err(Exceeded { retry_after: 1 })
        );
    }
}
