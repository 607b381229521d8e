//! The conversion guard's counts: one item per tenant and number prefix, each write one
//! `UpdateItem` that adds to the day's and the hour's counts by name (the day's number is
//! in the attribute's name, so no write ever resets a slot) and drops the names that
//! have left the window, returning the item for the guard to decide on. The item stays
//! small: the window's days and the last day's hours (a prefix that sends days apart
//! keeps those hours' names until its TTL, 15 days after its last send).

use aws_sdk_dynamodb::types::ReturnValue;

use crate::clock::UnixSeconds;
use crate::guard::{DAY, HOUR, PrefixTraffic, Spans, Tally, WINDOW_DAYS};
use crate::ports::{ConversionStore, StoreError};
use crate::scope::escape;

use super::attributes::{
    BLOCKED_UNTIL, BLOCKS, GUARD_DAY_SENT_PREFIX, GUARD_DAY_VERIFIED_PREFIX, GUARD_HOUR_SENT_PREFIX,
    GUARD_HOUR_VERIFIED_PREFIX, Item, PK, TTL, get_n, n, s,
};
use super::failures::{unavailable, written};
use super::items::DynamoStore;

/// The most names one `forget` drops: a long idle prefix's are dropped over a few sends.
const MOST_FORGOTTEN: usize = 40;

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

/// `REMOVE` of the names that leave the window as `now` begins, when the prefix sends
/// every day and every hour: the day that just left it and the hour before. Whatever a
/// prefix idle for longer keeps is seen in what the write returns, and forgotten beside
/// the send's delivery. Few names: each named in an update costs the local AWS time.
fn leaving(now: UnixSeconds) -> String {
    let (day, hour) = (now.div_euclid(DAY), now.div_euclid(HOUR));
    [
        day_sent(day - WINDOW_DAYS),
        day_verified(day - WINDOW_DAYS),
        hour_sent(hour - 1),
        hour_verified(hour - 1),
    ]
    .join(", ")
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
    let oldest_day = now.div_euclid(DAY) - WINDOW_DAYS + 1;
    for (name, value) in item {
        let Some(count) = value.as_n().ok().and_then(|v| v.parse::<u64>().ok()) else {
            continue;
        };
        let number = |prefix: &str| name.strip_prefix(prefix).and_then(|span| span.parse::<i64>().ok());
        // The hours' prefixes first: `hs` also starts like no day's, but be explicit.
        if let Some(span) = number(GUARD_HOUR_SENT_PREFIX).or_else(|| number(GUARD_HOUR_VERIFIED_PREFIX)) {
            if span != hour && !traffic.stale.hours.contains(&span) {
                traffic.stale.hours.push(span);
            }
        } else if let Some(day) = number(GUARD_DAY_SENT_PREFIX) {
            traffic.days.entry(day).or_default().sent = count;
        } else if let Some(day) = number(GUARD_DAY_VERIFIED_PREFIX) {
            traffic.days.entry(day).or_default().verified = count;
        }
    }
    traffic.stale.days = traffic.days.range(..oldest_day).map(|(day, _)| *day).collect();
    traffic.days.retain(|day, _| *day >= oldest_day);
    traffic
}

/// Kept while the window may still need it.
fn expiry(now: UnixSeconds) -> UnixSeconds {
    now + (WINDOW_DAYS + 1) * DAY
}

impl DynamoStore {
    /// Every tenant's prefix whose cool-off runs at `now`, by the guard's subject, with
    /// its traffic. Scans the table: an operator's command, never a request's path.
    pub async fn guard_blocks(&self, now: UnixSeconds) -> Result<Vec<(String, PrefixTraffic)>, StoreError> {
        let items = self.scan_prefix("GUARD#").await?;
        Ok(items
            .into_iter()
            .map(|(subject, item)| (subject, traffic_of(&item, now)))
            .filter(|(_, traffic)| traffic.blocked_until.is_some_and(|until| until > now))
            .collect())
    }
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
                leaving(now)
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
        let counts = [day_sent(day), hour_sent(hour)];
        let update = match block {
            None => self.take_one(guard_pk(subject), &counts, ""),
            Some((until, blocks)) => self
                .take_one(
                    guard_pk(subject),
                    &counts,
                    " SET #blocked_until = :until, #blocks = :blocks",
                )
                .expression_attribute_names("#blocks", BLOCKS)
                .expression_attribute_names("#blocked_until", BLOCKED_UNTIL)
                .expression_attribute_values(":blocks", n(blocks))
                .expression_attribute_values(":until", n(until)),
        };
        // Not written: nothing counted that day (the item was cleaned up).
        written(update.send().await).map(|_| ())
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

    async fn forget(&self, subject: &str, stale: &Spans) -> Result<(), StoreError> {
        let days = stale.days.iter().flat_map(|d| [day_sent(*d), day_verified(*d)]);
        let hours = stale.hours.iter().flat_map(|h| [hour_sent(*h), hour_verified(*h)]);
        let names: Vec<String> = days.chain(hours).take(MOST_FORGOTTEN).collect();
        if names.is_empty() {
            return Ok(());
        }
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(guard_pk(subject)))
            .update_expression(format!("REMOVE {}", names.join(", ")))
            .condition_expression(format!("attribute_exists({PK})"))
            .send()
            .await;
        // Not written: the item is gone, and what it held with it.
        written(result).map(|_| ())
    }

    async fn uncount_verified(&self, subject: &str, at: UnixSeconds) -> Result<(), StoreError> {
        let (day, hour) = (at.div_euclid(DAY), at.div_euclid(HOUR));
        let counts = [day_verified(day), hour_verified(hour)];
        let result = self.take_one(guard_pk(subject), &counts, "").send().await;
        written(result).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_write_drops_the_day_and_the_hour_that_just_left() {
        let now = 20_000 * DAY + 5 * HOUR;
        assert_eq!(
            leaving(now),
            format!(
                "{}, {}, {}, {}",
                day_sent(20_000 - WINDOW_DAYS),
                day_verified(20_000 - WINDOW_DAYS),
                hour_sent(now / HOUR - 1),
                hour_verified(now / HOUR - 1)
            )
        );
    }

    #[test]
    fn what_no_longer_counts_is_seen_as_stale() {
        let now = 20_000 * DAY + 5 * HOUR;
        let (day, hour) = (now / DAY, now / HOUR);
        let item: Item = [
            (day_sent(day), n(3)),
            (day_verified(day - WINDOW_DAYS + 1), n(2)),
            (day_sent(day - 40), n(9)),
            (hour_sent(hour), n(3)),
            (hour_sent(hour - 30), n(1)),
            (hour_verified(hour - 30), n(1)),
            (PK.to_owned(), s("GUARD#x")),
        ]
        .into_iter()
        .collect();
        let traffic = traffic_of(&item, now);
        assert_eq!(traffic.days.len(), 2);
        assert_eq!(traffic.hour, Tally { sent: 3, verified: 0 });
        assert_eq!(
            traffic.stale,
            Spans {
                days: vec![day - 40],
                hours: vec![hour - 30]
            }
        );
    }
}
