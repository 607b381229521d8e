//! Attempts: one item per delivered message (`ATTEMPT#<id>`), written beside the write
//! that makes its code live and marked converted beside a right code's use. The index
//! `attempts_by_day` keys each on its tenant and UTC day, sorted by when it was made: a
//! listing queries the tenant's days, newest first, and never scans. Items expire 30 days
//! on (TTL deletes them lazily: listings filter by date themselves).

use aws_sdk_dynamodb::types::AttributeValue;

use crate::attempts::{AttemptFilter, AttemptPage, Cursor, KEPT, SendAttempt, day_of};
use crate::clock::UnixSeconds;
use crate::destination::Channel;
use crate::ports::{AttemptLog, AttemptReader, StoreError};
use crate::scope::escape;

use super::attributes::{
    ATTEMPTS_DAY, ATTEMPTS_INDEX, CHALLENGE_ID, CHANNEL, CONVERTED, COUNTRY, CREATED_AT, Item, PK, PRICE, SERVICE,
    TENANT, TO, TTL, UPDATED_AT, get_n, get_s, n, s,
};
use super::failures::{unavailable, written};
use super::items::DynamoStore;

/// Items a listing reads at most per query: a page is at most this many, and a filter
/// that keeps few reads on in further queries.
const MOST_PER_QUERY: i32 = 100;

pub(super) fn attempt_pk(id: &str) -> String {
    format!("ATTEMPT#{}", escape(id))
}

/// The index's partition of a tenant's day.
fn attempts_day(tenant: &str, day: i64) -> String {
    format!("{tenant}#{}", day_of(day * 86_400))
}

fn attempt_from(item: &Item) -> Option<SendAttempt> {
    let flag = |name: &str| item.get(name).and_then(|v| v.as_bool().ok()).copied();
    Some(SendAttempt {
        id: get_s(item, PK)?.strip_prefix("ATTEMPT#")?.to_owned(),
        tenant: get_s(item, TENANT)?.to_owned(),
        service: get_s(item, SERVICE).map(str::to_owned),
        challenge_id: get_s(item, CHALLENGE_ID)?.to_owned(),
        channel: Channel::parse(get_s(item, CHANNEL)?)?,
        to: get_s(item, TO)?.to_owned(),
        country: get_s(item, COUNTRY).map(str::to_owned),
        created_at: get_n(item, CREATED_AT)?,
        updated_at: get_n(item, UPDATED_AT)?,
        converted: flag(CONVERTED).unwrap_or(false),
        price: get_n(item, PRICE),
    })
}

impl AttemptLog for DynamoStore {
    async fn record_attempt(&self, attempt: &SendAttempt) -> Result<(), StoreError> {
        let mut put = self
            .client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(attempt_pk(&attempt.id)))
            .item(TENANT, s(&attempt.tenant))
            .item(CHALLENGE_ID, s(&attempt.challenge_id))
            .item(CHANNEL, s(attempt.channel.name()))
            .item(TO, s(&attempt.to))
            .item(CREATED_AT, n(attempt.created_at))
            .item(UPDATED_AT, n(attempt.updated_at))
            .item(CONVERTED, AttributeValue::Bool(attempt.converted))
            .item(
                ATTEMPTS_DAY,
                s(attempts_day(&attempt.tenant, attempt.created_at.div_euclid(86_400))),
            )
            .item(TTL, n(attempt.created_at + KEPT));
        for (name, value) in [(SERVICE, &attempt.service), (COUNTRY, &attempt.country)] {
            if let Some(value) = value {
                put = put.item(name, s(value));
            }
        }
        if let Some(price) = attempt.price {
            put = put.item(PRICE, n(price));
        }
        put.send().await.map_err(unavailable)?;
        Ok(())
    }

    async fn convert_attempt(&self, id: &str, now: UnixSeconds) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(attempt_pk(id)))
            .update_expression(format!("SET {CONVERTED} = :yes, {UPDATED_AT} = :now"))
            .condition_expression(format!("attribute_exists({PK})"))
            .expression_attribute_values(":yes", AttributeValue::Bool(true))
            .expression_attribute_values(":now", n(now))
            .send()
            .await;
        // Not written: it is gone (past the days kept), nothing to mark.
        written(result).map(|_| ())
    }
}

impl AttemptReader for DynamoStore {
    async fn attempt(&self, tenant: &str, id: &str) -> Result<Option<SendAttempt>, StoreError> {
        let item = self.get(attempt_pk(id)).await?;
        Ok(item
            .as_ref()
            .and_then(attempt_from)
            .filter(|attempt| attempt.tenant == tenant))
    }

    async fn attempts_page(
        &self,
        tenant: &str,
        filter: &AttemptFilter,
        size: usize,
        from: Option<&Cursor>,
    ) -> Result<AttemptPage, StoreError> {
        let mut page = AttemptPage::default();
        let days = filter.days();
        let mut days = days
            .iter()
            .skip_while(|day| from.is_some_and(|cursor| **day > cursor.day));
        let mut start: Option<Item> = from.map(|cursor| {
            Item::from([
                (PK.to_owned(), s(attempt_pk(&cursor.id))),
                (ATTEMPTS_DAY.to_owned(), s(attempts_day(tenant, cursor.day))),
                (CREATED_AT.to_owned(), n(cursor.created_at)),
            ])
        });
        let mut day = days.next().copied();
        while let Some(current) = day {
            let output = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(ATTEMPTS_INDEX)
                .key_condition_expression(format!(
                    "{ATTEMPTS_DAY} = :day AND {CREATED_AT} BETWEEN :after AND :before"
                ))
                .expression_attribute_values(":day", s(attempts_day(tenant, current)))
                .expression_attribute_values(":after", n(filter.after))
                .expression_attribute_values(":before", n(filter.before - 1))
                .scan_index_forward(false)
                .limit(MOST_PER_QUERY)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(unavailable)?;
            let items = output.items.unwrap_or_default();
            for (index, item) in items.iter().enumerate() {
                let Some(attempt) = attempt_from(item).filter(|attempt| filter.matches(attempt)) else {
                    continue;
                };
                page.attempts.push(attempt);
                if page.attempts.len() == size {
                    let more_today = index + 1 < items.len() || output.last_evaluated_key.is_some();
                    let last = page.attempts.last().expect("just pushed");
                    let more = more_today || days.clone().next().is_some();
                    page.next = more.then(|| Cursor {
                        day: current,
                        created_at: last.created_at,
                        id: last.id.clone(),
                    });
                    return Ok(page);
                }
            }
            // The rest of the day, or the next day from its newest.
            match output.last_evaluated_key {
                Some(key) => start = Some(key),
                None => day = days.next().copied(),
            }
        }
        Ok(page)
    }
}
