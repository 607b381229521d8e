//! The table's items as this store writes them: their type, their keys, and the
//! attribute values every port reads and writes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::destination::Destination;
use crate::scope::{Product, Realm, Scope, UserRef, escape};

pub(super) type Item = HashMap<String, AttributeValue>;

/// The table's partition key and TTL attribute names.
pub(super) const PK: &str = "pk";
pub(super) const TTL: &str = "ttl";

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

/// Each configuration of a client is an attribute of its item, named by this prefix and
/// the configuration's uid, holding when it was made.
pub(super) const SERVICE_ATTRIBUTE_PREFIX: &str = "service#";

/// The attributes of what the Services resource says of a configuration.
pub(super) const FRIENDLY_NAME: &str = "friendly_name";
pub(super) const KEPT: &str = "kept";
pub(super) const CREATED_AT: &str = "created_at";
pub(super) const UPDATED_AT: &str = "updated_at";
