//! How the table's calls fail: the store's errors from the SDK's, conditional writes'
//! outcomes, transactions' cancellations, and the pause before a retry.

use std::time::Duration;

use aws_sdk_dynamodb::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use rand::RngExt;

use crate::ports::{Outage, StoreError};

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

pub(super) fn cancellation<R>(
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
pub(super) fn cancelled_by_throttling<R>(
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

/// The item as it was when an update's condition failed (asked with `ALL_OLD`).
pub(super) fn item_before<R>(
    error: &SdkError<aws_sdk_dynamodb::operation::update_item::UpdateItemError, R>,
) -> super::attributes::Item {
    use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
    match error.as_service_error() {
        Some(UpdateItemError::ConditionalCheckFailedException(failed)) => failed.item().cloned().unwrap_or_default(),
        _ => Default::default(),
    }
}
