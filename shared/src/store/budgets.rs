//! Budgets: each decided by one `UpdateItem` on an item of constant size, with no read
//! before it and no retry. A sliding budget is a shift register of the last admissions
//! (newest in `n0`): the write's condition is the rule, and its `ALL_OLD` on refusal tells
//! when a request fits. A counter is one `ADD` on the item of the current window.
//!
//! A give-back is exact: it takes out one admission of its second wherever later
//! admissions have moved it, guessing the newest place first and, when another request
//! came in between, the place the refusal's `ALL_OLD` shows.
//!
//! DynamoDB evaluates every operand of an update against the item as it was, so the
//! shift `SET n2 = n1, n1 = n0, n0 = :now` moves each time one place; the actions are
//! written oldest first so that an evaluator going left to right agrees.

use aws_sdk_dynamodb::types::ReturnValuesOnConditionCheckFailure;

use crate::clock::UnixSeconds;
use crate::ports::{Admission, QuotaStore, StoreError};
use crate::quota::{CounterCharge, Exceeded, SlidingCharge};
use crate::scope::escape;

use super::attributes::{COUNT, Item, PK, SLOT_PREFIX, TTL, get_n, n, s};
use super::failures::{back_off, conditional_failed, item_before, unavailable, written};
use super::items::DynamoStore;

fn sliding_pk(charge: &SlidingCharge) -> String {
    format!("SLIDE#{}#{}", charge.rule.name, escape(&charge.subject))
}

fn counter_pk(charge: &CounterCharge, window: i64) -> String {
    format!("COUNT#{}#{}#{window}", charge.rule.name, escape(&charge.subject))
}

/// The attribute of a sliding budget's `place`-th newest admission: `n0`, `n1`, ...
fn slot(place: u32) -> String {
    format!("{SLOT_PREFIX}{place}")
}

/// The admissions a sliding budget's item holds, newest first (a missing slot is free).
fn slots(item: &Item, limit: u32) -> Vec<UnixSeconds> {
    (0..limit).map_while(|i| get_n(item, &slot(i))).collect()
}

/// `SET n{L-1} = n{L-2}, ..., n1 = n0, n0 = :now`: every admission one place older.
fn shift_in(limit: u32) -> String {
    let mut actions: Vec<String> = (1..limit)
        .rev()
        .map(|i| format!("{} = if_not_exists({}, :free)", slot(i), slot(i - 1)))
        .collect();
    actions.push(format!("{} = :now", slot(0)));
    actions.push("#ttl = :ttl".to_owned());
    format!("SET {}", actions.join(", "))
}

/// `SET n{i} = n{i+1}, ..., n{L-2} = n{L-1}, n{L-1} = :free`: the admission at place `i`
/// taken out, every older one a place newer.
fn shift_out(limit: u32, place: u32) -> String {
    let mut actions: Vec<String> = (place + 1..limit)
        .map(|i| format!("{} = if_not_exists({}, :free)", slot(i - 1), slot(i)))
        .collect();
    actions.push(format!("{} = :free", slot(limit - 1)));
    format!("SET {}", actions.join(", "))
}

/// Places a give-back tries: each retry follows an admission that moved its own, after a
/// short random pause, so that a burst of admissions on one budget cannot outrun it.
const GIVE_BACK_TRIES: u32 = 8;

impl QuotaStore for DynamoStore {
    async fn take(&self, charge: &SlidingCharge, now: UnixSeconds) -> Result<Admission, StoreError> {
        let rule = &charge.rule;
        let (last, newest) = (slot(rule.limit - 1), slot(0));
        // The `limit`-th newest admission has left the window, and the newest is at least
        // the minimum interval old.
        let mut condition = format!("(attribute_not_exists({last}) OR {last} <= :oldest)");
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(sliding_pk(charge)))
            .update_expression(shift_in(rule.limit))
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":ttl", n(now + rule.horizon()))
            .expression_attribute_values(":oldest", n(rule.oldest_allowed(now)))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if rule.limit > 1 {
            update = update.expression_attribute_values(":free", n(0));
        }
        if let Some(newest_allowed) = rule.newest_allowed(now) {
            condition.push_str(&format!(" AND (attribute_not_exists({newest}) OR {newest} <= :newest)"));
            update = update.expression_attribute_values(":newest", n(newest_allowed));
        }
        match update.condition_expression(condition).send().await {
            Ok(_) => Ok(Ok(())),
            Err(error) if conditional_failed(&error) => {
                let old = item_before(&error);
                let admissions = slots(&old, rule.limit);
                // The refusal as the rule explains it, to the second.
                Ok(Err(rule
                    .check(&admissions, now)
                    .err()
                    .unwrap_or(Exceeded { retry_after: 1 })))
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn give_back(&self, charge: &SlidingCharge, at: UnixSeconds) -> Result<(), StoreError> {
        let limit = charge.rule.limit;
        let mut place = 0;
        for try_number in 1..=GIVE_BACK_TRIES {
            let result = self
                .client
                .update_item()
                .table_name(&self.table)
                .key(PK, s(sliding_pk(charge)))
                .update_expression(shift_out(limit, place))
                .condition_expression(format!("{} = :at", slot(place)))
                .expression_attribute_values(":at", n(at))
                .expression_attribute_values(":free", n(0))
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
                .send()
                .await;
            match result {
                Ok(_) => return Ok(()),
                Err(error) if conditional_failed(&error) => {
                    // Another admission came in between: this one is further down now,
                    // or has aged out of the register (then nothing of it is held).
                    match slots(&item_before(&error), limit)
                        .iter()
                        .position(|&admitted| admitted == at)
                    {
                        Some(found) => place = found as u32,
                        None => return Ok(()),
                    }
                    back_off(try_number).await;
                }
                Err(error) => return Err(unavailable(error)),
            }
        }
        Err(StoreError::inconsistent(
            "a budget kept changing while one admission was given back",
        ))
    }

    async fn count(&self, charge: &CounterCharge, now: UnixSeconds) -> Result<u64, StoreError> {
        let window = charge.rule.window(now);
        let per = i64::try_from(charge.rule.per.as_secs()).unwrap_or(i64::MAX);
        let ttl = charge.rule.window_end(window) + per;
        self.add_and_read(counter_pk(charge, window), COUNT, 1, ttl).await
    }

    async fn uncount(&self, charge: &CounterCharge, at: UnixSeconds) -> Result<(), StoreError> {
        let pk = counter_pk(charge, charge.rule.window(at));
        let result = self.take_one(pk, &[COUNT.to_owned()], "").send().await;
        // Not written: nothing counted in that window (it was cleaned up).
        written(result).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifts_move_every_admission_one_place() {
        assert_eq!(
            shift_in(3),
            "SET n2 = if_not_exists(n1, :free), n1 = if_not_exists(n0, :free), n0 = :now, #ttl = :ttl"
        );
        assert_eq!(shift_in(1), "SET n0 = :now, #ttl = :ttl");
        assert_eq!(
            shift_out(3, 0),
            "SET n0 = if_not_exists(n1, :free), n1 = if_not_exists(n2, :free), n2 = :free"
        );
        assert_eq!(shift_out(3, 1), "SET n1 = if_not_exists(n2, :free), n2 = :free");
        assert_eq!(shift_out(3, 2), "SET n2 = :free");
        assert_eq!(shift_out(1, 0), "SET n0 = :free");
    }
}
