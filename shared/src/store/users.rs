//! The user registry, one per realm (a product's users of one issuer): a contact item per
//! destination and realm (its owner there) and a user item per user (one phone and one
//! email). Both sides always change together, in one transaction, under conditions on
//! what was read; a link therefore needs no read of its own beyond the two it makes
//! beside a verify's first write. A link touches its user's realm alone: it never moves a
//! contact away from another product's or issuer's user.

use aws_sdk_dynamodb::types::builders::{PutBuilder, UpdateBuilder};
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem, Update};

use crate::clock::UnixSeconds;
use crate::destination::Destination;
use crate::ports::{ContactKind, LinkState, StoreError, UserDirectory};
use crate::scope::{Realm, UserRef};

use super::attributes::{
    ADDRESS, EMAIL, ISSUER, LINKED_AT, PHONE, PK, PRODUCT, USER_ID, USER_KEY, contact_pk, get_s, n, s,
    stored_destination, user_from, user_pk,
};
use super::failures::back_off;
use super::items::DynamoStore;

/// Re-reads of a link that changed between read and write.
const LINK_TRIES: u32 = 4;

/// The user attribute that holds a destination of this kind.
pub(super) fn contact_attribute(destination: &Destination) -> &'static str {
    match destination {
        Destination::Phone(_) => PHONE,
        Destination::Email(_) => EMAIL,
    }
}

/// The writes that link a destination to a user, each conditional on what was read.
pub(super) struct LinkPlan {
    pub items: Vec<TransactWriteItem>,
    pub moved_from: Option<UserRef>,
}

impl DynamoStore {
    /// A destination has one owner and a user one destination of each kind: linking moves
    /// the destination from its previous owner and releases the user's previous one.
    /// `owner_contact`: the previous owner's contact of this kind, when it was read; when
    /// not, the registry's invariant says it is this destination (as the contact item
    /// recorded it), and the release's condition checks that.
    pub(super) fn link_plan(
        &self,
        destination: &Destination,
        user: &UserRef,
        state: &LinkState,
        owner_contact: Option<Option<String>>,
        now: UnixSeconds,
    ) -> LinkPlan {
        let realm = user.realm();
        let owner = state.owner.as_ref().map(|(owner, _)| owner);
        let mut items = Vec::new();
        let mut contact_put = self.contact_item(destination, user, now);
        contact_put = match owner {
            Some(owner) => contact_put
                .condition_expression(format!("{USER_KEY} = :owner"))
                .expression_attribute_values(":owner", s(owner.key())),
            None => contact_put.condition_expression(format!("attribute_not_exists({PK})")),
        };
        items.push(
            TransactWriteItem::builder()
                .put(contact_put.build().expect("complete put"))
                .build(),
        );

        let already_recorded = state
            .user_contact
            .as_deref()
            .is_some_and(|recorded| stored_destination(recorded) == *destination);
        if owner != Some(user) || !already_recorded {
            let mut user_update = self.contact_record(destination, user);
            user_update = match &state.user_contact {
                Some(previous) => user_update
                    .condition_expression("#contact = :previous")
                    .expression_attribute_values(":previous", s(previous)),
                None => user_update.condition_expression("attribute_not_exists(#contact)"),
            };
            items.push(
                TransactWriteItem::builder()
                    .update(user_update.build().expect("complete update"))
                    .build(),
            );
        }

        let attribute = contact_attribute(destination);
        let moved_from = owner.filter(|owner| *owner != user).cloned();
        if let Some(previous_owner) = &moved_from {
            let recorded = match owner_contact {
                Some(read) => read,
                None => Some(
                    state
                        .owner
                        .as_ref()
                        .and_then(|(_, address)| address.clone())
                        .unwrap_or_else(|| destination.as_str().to_owned()),
                ),
            };
            if let Some(recorded) = recorded.filter(|recorded| stored_destination(recorded) == *destination) {
                let release = Update::builder()
                    .table_name(&self.table)
                    .key(PK, s(user_pk(previous_owner)))
                    .update_expression("REMOVE #contact")
                    .condition_expression("#contact = :destination")
                    .expression_attribute_names("#contact", attribute)
                    .expression_attribute_values(":destination", s(recorded))
                    .build()
                    .expect("complete update");
                items.push(TransactWriteItem::builder().update(release).build());
            }
        }
        if let Some(previous) = state
            .user_contact
            .as_deref()
            .map(stored_destination)
            .filter(|previous| previous != destination)
        {
            let release = Delete::builder()
                .table_name(&self.table)
                .key(PK, s(contact_pk(&realm, &previous)))
                .condition_expression(format!("attribute_not_exists({PK}) OR {USER_KEY} = :user"))
                .expression_attribute_values(":user", s(user.key()))
                .build()
                .expect("complete delete");
            items.push(TransactWriteItem::builder().delete(release).build());
        }
        LinkPlan { items, moved_from }
    }

    /// The contact item that says `destination` is `user`'s in the user's realm (its
    /// condition is the caller's).
    pub(super) fn contact_item(&self, destination: &Destination, user: &UserRef, now: UnixSeconds) -> PutBuilder {
        Put::builder()
            .table_name(&self.table)
            .item(PK, s(contact_pk(&user.realm(), destination)))
            .item(USER_KEY, s(user.key()))
            .item(PRODUCT, s(user.product.name()))
            .item(ISSUER, s(&user.issuer))
            .item(USER_ID, s(&user.id))
            .item(ADDRESS, s(destination.as_str()))
            .item(LINKED_AT, n(now))
    }

    /// The update that records `destination` on `user`'s record as its contact of that
    /// kind (`#contact`; its condition is the caller's).
    pub(super) fn contact_record(&self, destination: &Destination, user: &UserRef) -> UpdateBuilder {
        Update::builder()
            .table_name(&self.table)
            .key(PK, s(user_pk(user)))
            .update_expression(
                "SET #product = :product, #issuer = :issuer, #user_id = :user_id, #contact = :destination",
            )
            .expression_attribute_names("#contact", contact_attribute(destination))
            .expression_attribute_names("#product", PRODUCT)
            .expression_attribute_names("#issuer", ISSUER)
            .expression_attribute_names("#user_id", USER_ID)
            .expression_attribute_values(":product", s(user.product.name()))
            .expression_attribute_values(":issuer", s(&user.issuer))
            .expression_attribute_values(":user_id", s(&user.id))
            .expression_attribute_values(":destination", s(destination.as_str()))
    }

    /// The previous owner's contact of the destination's kind, as on record.
    pub(super) async fn owner_contact(
        &self,
        destination: &Destination,
        state: &LinkState,
    ) -> Result<Option<String>, StoreError> {
        let Some((owner, _)) = &state.owner else {
            return Ok(None);
        };
        Ok(self
            .get(user_pk(owner))
            .await?
            .as_ref()
            .and_then(|item| get_s(item, contact_attribute(destination)))
            .map(str::to_owned))
    }
}

impl UserDirectory for DynamoStore {
    async fn owner_of(&self, realm: &Realm, destination: &Destination) -> Result<Option<UserRef>, StoreError> {
        Ok(self
            .get(contact_pk(realm, destination))
            .await?
            .as_ref()
            .and_then(user_from)
            // Only the realm's own users are ever written here; anything else is no owner.
            .filter(|owner| owner.realm() == *realm))
    }

    async fn contact_of(&self, user: &UserRef, kind: ContactKind) -> Result<Option<Destination>, StoreError> {
        let attribute = match kind {
            ContactKind::Phone => PHONE,
            ContactKind::Email => EMAIL,
        };
        Ok(self
            .get(user_pk(user))
            .await?
            .as_ref()
            .and_then(|item| get_s(item, attribute))
            .map(stored_destination))
    }

    async fn link_state(&self, destination: &Destination, user: &UserRef) -> Result<LinkState, StoreError> {
        let (contact, user_item) = tokio::join!(
            self.get(contact_pk(&user.realm(), destination)),
            self.get(user_pk(user))
        );
        let (contact, user_item) = (contact?, user_item?);
        Ok(LinkState {
            owner: contact
                .as_ref()
                .and_then(|item| Some((user_from(item)?, get_s(item, ADDRESS).map(str::to_owned)))),
            user_contact: user_item
                .as_ref()
                .and_then(|item| get_s(item, contact_attribute(destination)))
                .map(str::to_owned),
        })
    }

    async fn link(
        &self,
        destination: &Destination,
        user: &UserRef,
        now: UnixSeconds,
    ) -> Result<Option<UserRef>, StoreError> {
        for try_number in 0..LINK_TRIES {
            let state = self.link_state(destination, user).await?;
            let owner_contact = self.owner_contact(destination, &state).await?;
            let plan = self.link_plan(destination, user, &state, Some(owner_contact), now);
            match self.transact(plan.items).await? {
                Ok(()) => return Ok(plan.moved_from),
                // A link changed between read and write: read again.
                Err(_) => back_off(try_number).await,
            }
        }
        Err(StoreError::Contended)
    }
}
