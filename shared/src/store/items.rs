//! The store's handle on its table: one item's read, and single conditional writes and
//! transactions.

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::DisplayErrorContext;
use aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder;
use aws_sdk_dynamodb::types::{Put, ReturnValue, TransactWriteItem};

use crate::ports::{Outage, StoreError};

use super::attributes::{Item, PK, TTL, get_n, n, s};
use super::failures::{Cancelled, cancellation, cancelled_by_throttling, unavailable, written};
use super::reads::ReadBatches;

#[derive(Debug, Clone)]
pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) table: String,
    pub(super) reads: ReadBatches,
}

/// DynamoDB's longest partition key, in bytes.
const MAX_KEY_BYTES: usize = 2048;

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
            reads: ReadBatches::default(),
        }
    }

    pub fn dynamodb(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// `ADD amount` to `count` of the item `pk`, its TTL set to `ttl`; returns the count
    /// with it: one request adds and reads, so the caller decides on what it admitted.
    pub(super) async fn add_and_read(&self, pk: String, count: &str, amount: u64, ttl: i64) -> Result<u64, StoreError> {
        let output = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .update_expression(format!("ADD {count} :amount SET #ttl = :ttl"))
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":amount", n(amount))
            .expression_attribute_values(":ttl", n(ttl))
            // The whole (small) item: a write that adds nothing returns no updated count.
            .return_values(ReturnValue::AllNew)
            .send()
            .await
            .map_err(unavailable)?;
        output
            .attributes
            .as_ref()
            .and_then(|item| get_n(item, count))
            .ok_or_else(|| StoreError::inconsistent("a count returned no total"))
    }

    /// `ADD -1` to each of `counts` of the item `pk` while the first is above zero, and
    /// `then` after it (a `SET` clause, whose names and values the caller adds): one
    /// counted request taken back. Not written, by `written`: nothing was counted there
    /// (the item was cleaned up), nothing to take back.
    pub(super) fn take_one(&self, pk: String, counts: &[String], then: &str) -> UpdateItemFluentBuilder {
        let added: Vec<String> = counts.iter().map(|count| format!("{count} :minus_one")).collect();
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .update_expression(format!("ADD {}{then}", added.join(", ")))
            .condition_expression(format!("{} > :zero", counts[0]))
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":zero", n(0))
    }

    /// One item by key, strongly consistent; read together with the other gets started
    /// at the same time (`reads.rs`).
    pub(super) async fn get(&self, pk: String) -> Result<Option<Item>, StoreError> {
        // No item has a longer key: a request naming one (an id from a header or a path)
        // names nothing, rather than making DynamoDB refuse the request.
        if pk.len() > MAX_KEY_BYTES {
            return Ok(None);
        }
        // On the heap: a batch's future nests several more, and the request futures that
        // await a get are deep already.
        Box::pin(self.reads.get(&self.client, &self.table, pk)).await
    }

    /// Writes every item at once, or none. `Err(Ok(cancelled))`: a condition failed or
    /// another transaction came first, and nothing was written.
    pub(super) async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Result<(), Cancelled>, StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(Ok(())),
            Err(error) if cancelled_by_throttling(&error) => Err(StoreError::Unavailable {
                outage: Outage::Throttled,
                detail: DisplayErrorContext(error).to_string(),
            }),
            Err(error) => match cancellation(&error) {
                Some(cancelled) => Ok(Err(cancelled)),
                None => Err(unavailable(error)),
            },
        }
    }

    /// Writes one update built for a transaction, alone; Ok(false) when its condition
    /// failed.
    pub(super) async fn update_one(&self, update: aws_sdk_dynamodb::types::Update) -> Result<bool, StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(update.table_name())
            .set_key(Some(update.key().clone()))
            .update_expression(update.update_expression())
            .set_condition_expression(update.condition_expression().map(str::to_owned))
            .set_expression_attribute_names(update.expression_attribute_names().cloned())
            .set_expression_attribute_values(update.expression_attribute_values().cloned())
            .send()
            .await;
        written(result)
    }

    /// Writes one put; Ok(false) when its condition failed.
    pub(super) async fn put_one(&self, put: Put) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(put.table_name())
            .set_item(Some(put.item().clone()))
            .set_condition_expression(put.condition_expression().map(str::to_owned))
            .set_expression_attribute_names(put.expression_attribute_names().cloned())
            .set_expression_attribute_values(put.expression_attribute_values().cloned())
            .send()
            .await;
        written(result)
    }
}
