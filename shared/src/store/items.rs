//! The store's handle on its table, the keys of its items, and the plumbing every port
//! shares: attribute values, single conditional writes, transactions and their failures.

use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use rand::RngExt;

use crate::backend::Outage;
use crate::destination::Destination;
use crate::ports::StoreError;
use crate::scope::{Product, Realm, Scope, UserRef, escape};

use super::reads::ReadBatches;

pub(super) type Item = HashMap<String, AttributeValue>;

/// The table's partition key and TTL attribute names.
pub(super) const PK: &str = "pk";
pub(super) const TTL: &str = "ttl";

#[derive(Debug, Clone)]
pub struct DynamoStore {
    pub(super) client: Client,
    pub(super) table: String,
    pub(super) reads: ReadBatches,
}

pub(super) fn unavailable<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable {
        outage: Outage::of(&error),
        detail: DisplayErrorContext(error).to_string(),
    }
}

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn b(value: &[u8]) -> AttributeValue {
    AttributeValue::B(value.to_vec().into())
}

pub(super) fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

/// DynamoDB's longest partition key, in bytes.
const MAX_KEY_BYTES: usize = 2048;

pub(super) fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

pub(super) fn get_b<'a>(item: &'a Item, name: &str) -> Option<&'a [u8]> {
    item.get(name).and_then(|v| v.as_b().ok()).map(|blob| blob.as_ref())
}

pub(super) fn challenge_pk(scope: &Scope, destination: &Destination) -> String {
    format!("CHALLENGE#{}#{}", scope.key(), destination.key())
}

pub(super) fn challenge_id_pk(id: &str) -> String {
    format!("CHALLENGE_ID#{}", escape(id))
}

pub(super) fn config_pk(uid: &str) -> String {
    format!("CONFIG#{}", escape(uid))
}

/// A destination's entry in one realm's registry. The realm's key always holds a `:`,
/// which no destination's does: no entry of a realm can be read as another's, nor as an
/// entry written before realms (`CONTACT#<destination>`, which `otp-admin user migrate`
/// moves).
pub(super) fn contact_pk(realm: &Realm, destination: &Destination) -> String {
    format!("CONTACT#{}#{}", realm.key(), destination.key())
}

/// A user's record: `USER#<product>:<issuer>:<id>` (two `:`; one before realms).
pub(super) fn user_pk(user: &UserRef) -> String {
    format!("USER#{}", user.key())
}

pub(super) fn client_pk(id: &str) -> String {
    format!("CLIENT#{}", escape(id))
}

/// A destination as written by this store (already validated when it was written).
pub(super) fn stored_destination(value: &str) -> Destination {
    if value.starts_with('+') {
        Destination::Phone(value.to_owned())
    } else {
        Destination::Email(value.to_owned())
    }
}

/// The attributes that name a user on a contact item and a user item.
pub(super) const PRODUCT: &str = "product";
pub(super) const ISSUER: &str = "issuer";
pub(super) const USER_ID: &str = "user_id";

/// The user an item names; None for an item written before realms (it has no product).
pub(super) fn user_from(item: &Item) -> Option<UserRef> {
    Some(UserRef::new(
        Product::parse(get_s(item, PRODUCT)?)?,
        get_s(item, ISSUER)?,
        get_s(item, USER_ID)?,
    ))
}

/// A conditional write's outcome: true when written, false when its condition failed
/// (and nothing was written); any other failure is the store's.
pub(super) fn written<T, E, R>(result: Result<T, SdkError<E, R>>) -> Result<bool, StoreError>
where
    E: ConditionalFailure + ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match result {
        Ok(_) => Ok(true),
        Err(error) if conditional_failed(&error) => Ok(false),
        Err(error) => Err(unavailable(error)),
    }
}

/// Whether a failed write failed on its condition (and nothing was written).
pub(super) fn conditional_failed<E: ConditionalFailure, R>(error: &SdkError<E, R>) -> bool {
    error
        .as_service_error()
        .is_some_and(ConditionalFailure::is_condition_failure)
}

pub(super) trait ConditionalFailure {
    fn is_condition_failure(&self) -> bool;
}

impl ConditionalFailure for aws_sdk_dynamodb::operation::update_item::UpdateItemError {
    fn is_condition_failure(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

impl ConditionalFailure for aws_sdk_dynamodb::operation::put_item::PutItemError {
    fn is_condition_failure(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

impl ConditionalFailure for aws_sdk_dynamodb::operation::delete_item::DeleteItemError {
    fn is_condition_failure(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

/// Whether a transaction was cancelled, and by which of its items (a condition) or by
/// contention with another transaction.
pub(super) enum Cancelled {
    ConditionOf(Vec<usize>),
    Conflict,
}

fn cancellation<R>(
    error: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> Option<Cancelled> {
    let service = error.as_service_error()?;
    if service.is_transaction_in_progress_exception() {
        return Some(Cancelled::Conflict);
    }
    let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(
        cancelled,
    ) = service
    else {
        return None;
    };
    let failed: Vec<usize> = cancelled
        .cancellation_reasons()
        .iter()
        .enumerate()
        .filter(|(_, reason)| reason.code() == Some("ConditionalCheckFailed"))
        .map(|(index, _)| index)
        .collect();
    if failed.is_empty() {
        Some(Cancelled::Conflict)
    } else {
        Some(Cancelled::ConditionOf(failed))
    }
}

/// Whether DynamoDB cancelled a transaction because an item's partition was throttled: the
/// table is overloaded, not raced, and retrying at once would only add to it.
fn cancelled_by_throttling<R>(
    error: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> bool {
    use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
    matches!(
        error.as_service_error(),
        Some(TransactWriteItemsError::TransactionCanceledException(cancelled))
            if cancelled.cancellation_reasons().iter().any(|reason| {
                matches!(reason.code(), Some("ThrottlingError" | "ProvisionedThroughputExceeded"))
            })
    )
}

/// A short random pause before re-reading items another writer changed.
pub(super) async fn back_off(try_number: u32) {
    let ceiling = 10 + 10 * u64::from(try_number);
    let pause = rand::rng().random_range(1..=ceiling);
    tokio::time::sleep(Duration::from_millis(pause)).await;
}

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
        Box::pin(self.get_batched(pk)).await
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
