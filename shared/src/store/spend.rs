//! The spend cap's counters: one item per shard of a cap's window, each write one
//! `UpdateItem` that adds a send's estimate and returns the total, for `spend.rs` to
//! decide on. A take-back subtracts only what the item still holds.

use crate::ports::{SpendStore, StoreError};
use crate::spend::{Micros, SpendCounter};

use super::attributes::{PK, SPENT, get_n, n, s};
use super::failures::written;
use super::items::DynamoStore;

fn spend_pk(counter: &SpendCounter) -> String {
    format!("SPEND#{}", counter.key)
}

impl DynamoStore {
    /// What each of `counters` holds (nothing counted: zero), read at once.
    pub async fn spend_totals(&self, counters: &[SpendCounter]) -> Result<Vec<Micros>, StoreError> {
        let items = futures_util::future::join_all(counters.iter().map(|counter| self.get(spend_pk(counter)))).await;
        items
            .into_iter()
            .map(|item| Ok(item?.as_ref().and_then(|item| get_n(item, SPENT)).unwrap_or(0)))
            .collect()
    }
}

impl SpendStore for DynamoStore {
    async fn add_spend(&self, counter: &SpendCounter, amount: Micros) -> Result<Micros, StoreError> {
        self.add_and_read(spend_pk(counter), SPENT, amount, counter.expires())
            .await
    }

    async fn take_back_spend(&self, counter: &SpendCounter, amount: Micros) -> Result<(), StoreError> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(spend_pk(counter)))
            .update_expression(format!("ADD {SPENT} :minus"))
            .condition_expression(format!("{SPENT} >= :amount"))
            .expression_attribute_values(":minus", n(-i128::from(amount)))
            .expression_attribute_values(":amount", n(amount))
            .send()
            .await;
        // Not written: the counter holds less (it was cleaned up), nothing to take back.
        written(result).map(|_| ())
    }
}
