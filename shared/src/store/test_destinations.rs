//! Test destinations: one item each, keyed by what its code is sealed to (owner and
//! destination), read beside a send's first write when the deployment allows them, and
//! written only by the operator's commands. `ttl` is the expiry: DynamoDB deletes an
//! expired one in its own time, and the engine never applies one past its expiry.

use aws_sdk_dynamodb::types::AttributeValue;

use crate::clock::UnixSeconds;
use crate::code::SealedCode;
use crate::destination::Destination;
use crate::ports::StoreError;
use crate::test_destinations::{TestDestination, TestOwner, binding, bindings_of};

use super::attributes::{
    ADDED_AT, CODE_KEY, CODE_LENGTH, CODE_TAG, DESTINATION, EXPIRES_AT, Item, PK, TTL, b, get_b, get_n, get_s, n, s,
    stored_destination,
};
use super::failures::{unavailable, written};
use super::items::DynamoStore;

/// A test destination from its item; its key is what the code is sealed to.
fn test_destination_from(item: &Item) -> Option<TestDestination> {
    Some(TestDestination {
        sealed: SealedCode {
            key_id: get_s(item, CODE_KEY)?.to_owned(),
            tag: get_b(item, CODE_TAG)?.to_vec(),
            bound_to: Some(get_s(item, PK)?.to_owned()),
        },
        code_length: get_n(item, CODE_LENGTH)?,
        expires_at: get_n(item, EXPIRES_AT)?,
    })
}

/// A test destination as an operator lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedTestDestination {
    pub destination: Destination,
    pub code_length: u8,
    pub expires_at: UnixSeconds,
    pub added_at: UnixSeconds,
    /// The id of the code key its code is sealed under.
    pub key_id: String,
}

impl DynamoStore {
    /// The test destination `owner` has for `destination`, expired or not.
    pub(super) async fn read_test_destination(
        &self,
        owner: &TestOwner,
        destination: &Destination,
    ) -> Result<Option<TestDestination>, StoreError> {
        Ok(self
            .get(binding(owner, destination))
            .await?
            .as_ref()
            .and_then(test_destination_from))
    }

    /// Adds, or replaces, `owner`'s test destination for `destination`.
    pub async fn put_test_destination(
        &self,
        owner: &TestOwner,
        destination: &Destination,
        test: &TestDestination,
        now: UnixSeconds,
    ) -> Result<(), StoreError> {
        let key = binding(owner, destination);
        if test.sealed.bound_to.as_deref() != Some(key.as_str()) {
            return Err(StoreError::inconsistent(
                "the code is sealed to another test destination",
            ));
        }
        self.client
            .put_item()
            .table_name(&self.table)
            .item(PK, s(key))
            .item(DESTINATION, s(destination.as_str()))
            .item(CODE_TAG, b(&test.sealed.tag))
            .item(CODE_KEY, s(&test.sealed.key_id))
            .item(CODE_LENGTH, n(test.code_length))
            .item(EXPIRES_AT, n(test.expires_at))
            .item(ADDED_AT, n(now))
            .item(TTL, n(test.expires_at))
            .send()
            .await
            .map_err(unavailable)?;
        Ok(())
    }

    /// Every test destination of `owner`, expired ones included until DynamoDB deletes them.
    pub async fn list_test_destinations(&self, owner: &TestOwner) -> Result<Vec<ListedTestDestination>, StoreError> {
        let prefix = bindings_of(owner);
        let mut listed: Vec<ListedTestDestination> = self
            .scan_prefix(&prefix)
            .await?
            .iter()
            .filter_map(|(_, item)| {
                Some(ListedTestDestination {
                    destination: stored_destination(get_s(item, DESTINATION)?),
                    code_length: get_n(item, CODE_LENGTH)?,
                    expires_at: get_n(item, EXPIRES_AT)?,
                    added_at: get_n(item, ADDED_AT)?,
                    key_id: get_s(item, CODE_KEY)?.to_owned(),
                })
            })
            .collect();
        listed.sort_by(|a, b| a.destination.key().cmp(&b.destination.key()));
        Ok(listed)
    }

    /// Removes `owner`'s test destination for `destination`; false when there was none.
    pub async fn remove_test_destination(
        &self,
        owner: &TestOwner,
        destination: &Destination,
    ) -> Result<bool, StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, AttributeValue::S(binding(owner, destination)))
            .condition_expression(format!("attribute_exists({PK})"))
            .send()
            .await;
        written(result)
    }
}
