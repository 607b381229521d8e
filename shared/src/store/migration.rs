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

use super::items::{
    DynamoStore, ISSUER, Item, PK, PRODUCT, USER_ID, contact_pk, get_s, s, stored_destination, unavailable, user_pk,
};
use super::users::contact_attribute;

/// A contact as it was linked before realms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyContact {
    /// The item's key, to delete it once placed.
    pub pk: String,
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
            let (Some(pk), Some(address), Some(issuer), Some(user_id)) = (
                get_s(&item, PK),
                get_s(&item, "address"),
                get_s(&item, ISSUER),
                get_s(&item, USER_ID),
            ) else {
                continue;
            };
            found.push(LegacyContact {
                pk: pk.to_owned(),
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
            .condition_expression("attribute_not_exists(pk)")
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
        if self.transact(items).await?.is_ok() {
            return Ok(Placement::Linked);
        }
        // Something is there: this user's link from an earlier run, or a newer link.
        let (contact, record) = tokio::join!(self.get(contact_pk(&realm, destination)), self.get(user_pk(user)));
        let owned_here = contact?.and_then(|item| get_s(&item, "user_key").map(str::to_owned)) == Some(user.key());
        let recorded_here = record?
            .and_then(|item| get_s(&item, attribute).map(stored_destination))
            .is_some_and(|recorded| recorded == *destination);
        Ok(if owned_here && recorded_here {
            Placement::AlreadyThere
        } else {
            Placement::Kept
        })
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
            Err(error) if super::items::conditional_failed(&error) => Ok(()),
            Err(error) => Err(unavailable(error)),
        }
    }
}
