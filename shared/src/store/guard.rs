//! The conversion guard's counts: one item per tenant and number prefix, each write one
//! `UpdateItem` that adds to the day's and the hour's counts by name (the day's number is
//! in the attribute's name, so no write ever resets a slot) and drops the names that
//! have left the window, returning the item for the guard to decide on. The item stays
//! small: the window's days and the last day's hours (a prefix that sends days apart
//! keeps those hours' names until its TTL, 15 days after its last send).

use aws_sdk_dynamodb::types::ReturnValue;

use crate::clock::UnixSeconds;
use crate::guard::{DAY, HOUR, PrefixTraffic, Tally, WINDOW_DAYS};
use crate::ports::{ConversionStore, StoreError};
use crate::scope::escape;

use super::attributes::{
    BLOCKED_UNTIL, BLOCKS, GUARD_DAY_SENT_PREFIX, GUARD_DAY_VERIFIED_PREFIX, GUARD_HOUR_SENT_PREFIX,
    GUARD_HOUR_VERIFIED_PREFIX, Item, PK, TTL, get_n, n, s,
};
use super::failures::{unavailable, written};
use super::items::DynamoStore;

/// Days past the window whose names each write drops: a prefix idle longer than this
/// and its TTL together keeps a few stale names, which the guard ignores.
const DROPPED_DAYS: i64 = 16;
/// Hours before the current one whose names each write drops.
const DROPPED_HOURS: i64 = 24;

fn guard_pk(subject: &str) -> String {
    format!("GUARD#{}", escape(subject))
}

fn day_sent(day: i64) -> String {
    format!("{GUARD_DAY_SENT_PREFIX}{day}")
}

fn day_verified(day: i64) -> String {
    format!("{GUARD_DAY_VERIFIED_PREFIX}{day}")
}

fn hour_sent(hour: i64) -> String {
    format!("{GUARD_HOUR_SENT_PREFIX}{hour}")
}

fn hour_verified(hour: i64) -> String {
    format!("{GUARD_HOUR_VERIFIED_PREFIX}{hour}")
}

/// `REMOVE` of the names that have left the window by `now`.
fn stale(now: UnixSeconds) -> String {
    let (day, hour) = (now.div_euclid(DAY), now.div_euclid(HOUR));
    let days = (day - WINDOW_DAYS - DROPPED_DAYS + 1..=day - WINDOW_DAYS).flat_map(|d| [day_sent(d), day_verified(d)]);
    let hours = (hour - DROPPED_HOURS..hour).flat_map(|h| [hour_sent(h), hour_verified(h)]);
    days.chain(hours).collect::<Vec<_>>().join(", ")
}

/// The item's traffic at `now`: its days by name, and the current hour's counts.
fn traffic_of(item: &Item, now: UnixSeconds) -> PrefixTraffic {
    let hour = now.div_euclid(HOUR);
    let mut traffic = PrefixTraffic {
        hour: Tally {
            sent: get_n(item, &hour_sent(hour)).unwrap_or(0),
            verified: get_n(item, &hour_verified(hour)).unwrap_or(0),
        },
        blocked_until: get_n(item, BLOCKED_UNTIL),
        blocks: get_n(item, BLOCKS).unwrap_or(0),
        ..Default::default()
    };
    for (name, value) in item {
        let Some(count) = value.as_n().ok().and_then(|v| v.parse::<u64>().ok()) else {
            continue;
        };
        let day = |prefix: &str| name.strip_prefix(prefix).and_then(|day| day.parse::<i64>().ok());
        if let Some(day) = day(GUARD_DAY_SENT_PREFIX) {
            traffic.days.entry(day).or_default().sent = count;
        } else if let Some(day) = day(GUARD_DAY_VERIFIED_PREFIX) {
            traffic.days.entry(day).or_default().verified = count;
        }
    }
    traffic
}

/// Kept while the window may still need it.
fn expiry(now: UnixSeconds) -> UnixSeconds {
    now + (WINDOW_DAYS + 1) * DAY
}

impl ConversionStore for DynamoStore {
    async fn count_guarded_send(&self, subject: &str, now: UnixSeconds) -> Result<PrefixTraffic, StoreError> {
        let (day, hour) = (now.div_euclid(DAY), now.div_euclid(HOUR));
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(guard_pk(subject)))
            .update_expression(format!(
                "ADD {} :one, {} :one SET #ttl = :ttl REMOVE {}",
                day_sent(day),
                hour_sent(hour),
                stale(now)
            ))
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ttl", n(expiry(now)))
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(unavailable)?;
        let item = output
            .attributes
            .ok_or_else(|| StoreError::inconsistent("the guard's count returned no item"))?;
        Ok(traffic_of(&item, now))
    }

    async fn uncount_guarded_send(
        &self,
        subject: &str,
        at: UnixSeconds,
        block: Option<(UnixSeconds, u32)>,
    ) -> Result<(), StoreError> {
        let (day, hour) = (at.div_euclid(DAY), at.div_euclid(HOUR));
        let Some((until, blocks)) = block else {
            return self.take_back(subject, day_sent(day), hour_sent(hour)).await;
        };
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(guard_pk(subject)))
            .update_expression(format!(
                "ADD {} :minus_one, {} :minus_one SET #blocked_until = :until, #blocks = :blocks",
                day_sent(day),
                hour_sent(hour)
            ))
            .condition_expression(format!("{} > :zero", day_sent(day)))
            .expression_attribute_names("#blocks", BLOCKS)
            .expression_attribute_names("#blocked_until", BLOCKED_UNTIL)
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":blocks", n(blocks))
            .expression_attribute_values(":until", n(until))
            .send()
            .await;
        // Not written: nothing counted that day (the item was cleaned up).
        written(result).map(|_| ())
    }

    async fn count_verified(&self, subject: &str, now: UnixSeconds) -> Result<(), StoreError> {
        let (day, hour) = (now.div_euclid(DAY), now.div_euclid(HOUR));
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(guard_pk(subject)))
            .update_expression(format!(
                "ADD {} :one, {} :one SET #ttl = :ttl",
                day_verified(day),
                hour_verified(hour)
            ))
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":ttl", n(expiry(now)))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    async fn uncount_verified(&self, subject: &str, at: UnixSeconds) -> Result<(), StoreError> {
        let (day, hour) = (at.div_euclid(DAY), at.div_euclid(HOUR));
        self.take_back(subject, day_verified(day), hour_verified(hour)).await
    }
}

impl DynamoStore {
    /// `ADD -1` to a day's and an hour's count, when the day has one (not written: the
    /// item was cleaned up, nothing to take back).
    async fn take_back(&self, subject: &str, day_name: String, hour_name: String) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(guard_pk(subject)))
            .update_expression(format!("ADD {day_name} :minus_one, {hour_name} :minus_one"))
            .condition_expression(format!("{day_name} > :zero"))
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        written(result).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_write_drops_what_left_the_window() {
        let now = 20_000 * DAY + 5 * HOUR;
        let expression = stale(now);
        let dropped: Vec<&str> = expression.split(", ").collect();
        assert!(dropped.contains(&day_sent(20_000 - WINDOW_DAYS).as_str()));
        assert!(dropped.contains(&day_verified(20_000 - WINDOW_DAYS - DROPPED_DAYS + 1).as_str()));
        assert!(!dropped.contains(&day_sent(20_000 - WINDOW_DAYS + 1).as_str()));
        assert!(dropped.contains(&hour_sent(now / HOUR - 1).as_str()));
        assert!(!dropped.contains(&hour_sent(now / HOUR).as_str()));
        // Well within DynamoDB's 4 KB expression.
        assert!(expression.len() < 2_000, "{}", expression.len());
    }
}
