//! Registry entries written before products kept their users apart: `CONTACT#<destination>`
//! and `USER#<issuer>:<user id>`, which name no product. `otp-admin user migrate` places each
//! legacy contact in the realms its user's issuer now serves, then deletes the legacy
//! items. A legacy item is told by the `product` attribute it lacks, and by its key: a
//! realm's keys always hold a `:` where a legacy contact's never does.

use aws_sdk_dynamodb::types::TransactWriteItem;

use crate::clock::UnixSeconds;
use crate::destination::Destination;
use crate::ports::StoreError;
use crate::scope::{Realm, UserRef};

use super::attributes::{
    ADDRESS, ISSUER, Item, PK, PRODUCT, USER_ID, USER_KEY, contact_pk, get_s, s, stored_destination, user_pk,
};
use super::failures::{Cancelled, back_off, unavailable};
use super::items::DynamoStore;
use super::users::contact_attribute;

/// Writes of one placement before giving up, when other writers keep interfering.
const PLACE_TRIES: u32 = 4;

/// A contact as it was linked before realms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyContact {
    /// The item's key, to delete it once placed.
    pub pk: String,
    /// The key of its user's legacy record.
    pub user_pk: String,
    /// The destination as its user gave it.
    pub destination: Destination,
    /// The `iss` of its user's tokens (`zap:<client>` for a ZAP user).
    pub issuer: String,
    pub user_id: String,
}

/// Where a legacy contact went in one realm.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// Linked to its user there.
    Linked,
    /// Already linked to its user there (a run that was cut short, run again).
    AlreadyThere,
    /// The realm has this destination linked to another user, or the user has another
    /// contact of its kind, linked since the deploy: the newer link stands.
    Kept,
}

fn is_legacy(item: &Item) -> bool {
    !item.contains_key(PRODUCT)
}

impl DynamoStore {
    /// Every legacy contact item.
    pub async fn legacy_contacts(&self) -> Result<Vec<LegacyContact>, StoreError> {
        let mut found = Vec::new();
        for (_, item) in self.scan_prefix("CONTACT#").await? {
            if !is_legacy(&item) {
                continue;
            }
            let (Some(pk), Some(user_key), Some(issuer), Some(user_id)) = (
                get_s(&item, PK),
                get_s(&item, USER_KEY),
                get_s(&item, ISSUER),
                get_s(&item, USER_ID),
            ) else {
                continue;
            };
            // Items written before the address was kept hold the destination in their key.
            let Some(address) = get_s(&item, ADDRESS).or_else(|| pk.strip_prefix("CONTACT#")) else {
                continue;
            };
            found.push(LegacyContact {
                pk: pk.to_owned(),
                user_pk: format!("USER#{user_key}"),
                destination: stored_destination(address),
                issuer: issuer.to_owned(),
                user_id: user_id.to_owned(),
            });
        }
        found.sort_by(|a, b| a.pk.cmp(&b.pk));
        Ok(found)
    }

    /// The keys of every legacy user item.
    pub async fn legacy_users(&self) -> Result<Vec<String>, StoreError> {
        let mut keys: Vec<String> = self
            .scan_prefix("USER#")
            .await?
            .into_iter()
            .filter(|(_, item)| is_legacy(item))
            .filter_map(|(_, item)| get_s(&item, PK).map(str::to_owned))
            .collect();
        keys.sort();
        Ok(keys)
    }

    /// Links a legacy contact to `user` in the user's realm, only where neither side has
    /// been linked since: the contact item must not exist, nor the user's contact of its
    /// kind. Both are written in one transaction, as every link is.
    pub async fn place_legacy(
        &self,
        destination: &Destination,
        user: &UserRef,
        now: UnixSeconds,
    ) -> Result<Placement, StoreError> {
        let realm: Realm = user.realm();
        let attribute = contact_attribute(destination);
        let contact = self
            .contact_item(destination, user, now)
            .condition_expression(format!("attribute_not_exists({PK})"))
            .build()
            .expect("complete put");
        let record = self
            .contact_record(destination, user)
            .condition_expression("attribute_not_exists(#contact)")
            .build()
            .expect("complete update");
        let items = vec![
            TransactWriteItem::builder().put(contact).build(),
            TransactWriteItem::builder().update(record).build(),
        ];
        for try_number in 0..PLACE_TRIES {
            match self.transact(items.clone()).await? {
                Ok(()) => return Ok(Placement::Linked),
                // Another writer touched an item at that moment: nothing is decided yet.
                Err(Cancelled::Conflict) => back_off(try_number).await,
                // Something is there: this user's link from an earlier run, or a newer
                // link. Only what the items now hold decides which.
                Err(Cancelled::ConditionOf(_)) => {
                    let (contact, record) =
                        tokio::join!(self.get(contact_pk(&realm, destination)), self.get(user_pk(user)));
                    let owner = contact?.and_then(|item| get_s(&item, USER_KEY).map(str::to_owned));
                    let recorded = record?.and_then(|item| get_s(&item, attribute).map(stored_destination));
                    match (owner, recorded) {
                        (Some(owner), Some(recorded)) if owner == user.key() && recorded == *destination => {
                            return Ok(Placement::AlreadyThere);
                        }
                        (None, None) => back_off(try_number).await,
                        _ => return Ok(Placement::Kept),
                    }
                }
            }
        }
        Err(StoreError::Contended)
    }

    /// Deletes a legacy item, only while it is still one (it has no product).
    pub async fn delete_legacy(&self, pk: &str) -> Result<(), StoreError> {
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .condition_expression("attribute_not_exists(#product)")
            .expression_attribute_names("#product", PRODUCT)
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if super::failures::conditional_failed(&error) => Ok(()),
            Err(error) => Err(unavailable(error)),
        }
    }
}
