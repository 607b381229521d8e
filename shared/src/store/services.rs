//! OTP configurations as Twilio's Services resource keeps them: each configuration item,
//! and an index of them on its client's item (`service#<uid>`, when it was made), so that
//! the read that checks a client's credentials lists its services too, with no scan and
//! no index of the table's own. A configuration and its index entry are written and
//! deleted together, in one transaction of those two items only: a client's item is
//! written by nothing else a request does (its counters are items of their own).

use aws_sdk_dynamodb::types::builders::UpdateBuilder;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update};
use futures_util::future::join_all;

use crate::ports::{ConfigRegistry, OtpConfig, ServiceAdded, ServiceFacts, StoreError};

use super::attributes::{
    CHANNEL, CLIENT_ID, CODE_LENGTH, CREATED_AT, DISABLED, FRIENDLY_NAME, KEPT, LIFETIME, LOCALIZATION, PK, SENDER,
    SERVICE_ATTRIBUTE_PREFIX, SERVICE_COUNT, TEMPLATE, UPDATED_AT, client_pk, config_pk, get_n, get_s, n, s,
};
use super::failures::{Cancelled, back_off, written};
use super::items::DynamoStore;
use super::registry::{channel_attribute, channel_value, config_from, localization_value, whatsapp_attributes};

/// Most configurations (services) a client may have: each about 50 bytes of its item,
/// which every request of the client reads.
pub const MAX_SERVICES_PER_CLIENT: u32 = 50;

/// Tries of a transaction that met another writer's.
const TRIES: u32 = 3;

fn service_attribute(uid: &str) -> String {
    format!("{SERVICE_ATTRIBUTE_PREFIX}{uid}")
}

fn kept_value(facts: &ServiceFacts) -> AttributeValue {
    AttributeValue::M(
        facts
            .kept
            .iter()
            .map(|(name, value)| (name.clone(), s(value)))
            .collect(),
    )
}

/// A configuration's whole item, in `table`.
fn config_put(table: &str, config: &OtpConfig) -> Put {
    let mut put = Put::builder()
        .table_name(table)
        .item(PK, s(config_pk(&config.uid)))
        .item(CLIENT_ID, s(&config.client_id))
        .item(CHANNEL, s(config.channel.name()))
        .item(CODE_LENGTH, n(config.profile.code_length))
        .item(LIFETIME, n(config.profile.lifetime.as_secs()))
        .item(TEMPLATE, s(&config.template))
        .item(SENDER, s(&config.sender))
        .condition_expression(format!("attribute_not_exists({PK})"));
    for (name, value) in whatsapp_attributes(config.whatsapp.as_ref()) {
        put = put.item(name, value);
    }
    for setup in &config.more_channels {
        put = put.item(channel_attribute(setup.channel), channel_value(setup));
    }
    if let Some(localization) = localization_value(&config.localization) {
        put = put.item(LOCALIZATION, localization);
    }
    let facts = &config.service;
    if let Some(name) = &facts.friendly_name {
        put = put.item(FRIENDLY_NAME, s(name));
    }
    if !facts.kept.is_empty() {
        put = put.item(KEPT, kept_value(facts));
    }
    if let Some(at) = facts.created_at {
        put = put.item(CREATED_AT, n(at));
    }
    if let Some(at) = facts.updated_at {
        put = put.item(UPDATED_AT, n(at));
    }
    put.build().expect("complete put")
}

impl DynamoStore {
    /// Adds every configuration made before clients kept an index of them to its
    /// client's index (when it was made: now), each in a transaction that checks the
    /// configuration is still there, so no entry outlives what it names. Every one is
    /// indexed, even past the most a client may have (that client then makes no new one
    /// until it has fewer). The number added.
    pub async fn index_configs(&self, now: crate::clock::UnixSeconds) -> Result<usize, StoreError> {
        let mut added = 0;
        for (uid, item) in self.scan_prefix("CONFIG#").await? {
            let Some(client) = get_s(&item, CLIENT_ID) else {
                continue;
            };
            let still_there = ConditionCheck::builder()
                .table_name(&self.table)
                .key(PK, s(config_pk(&uid)))
                .condition_expression(format!("{CLIENT_ID} = :client"))
                .expression_attribute_values(":client", s(client))
                .build()
                .expect("complete check");
            let entry = self
                .index_entry(client, &uid, get_n(&item, CREATED_AT).unwrap_or(now))
                .condition_expression(format!("attribute_exists({PK}) AND attribute_not_exists(#entry)"))
                .build()
                .expect("complete update");
            let items = vec![
                TransactWriteItem::builder().condition_check(still_there).build(),
                TransactWriteItem::builder().update(entry).build(),
            ];
            // Indexed already, deleted meanwhile, or its client gone: nothing to add.
            if let Ok(()) = self.transact_settled(items).await? {
                added += 1;
            }
        }
        Ok(added)
    }

    /// A transaction, tried again while another writer's came first.
    async fn transact_settled(&self, items: Vec<TransactWriteItem>) -> Result<Result<(), Vec<usize>>, StoreError> {
        for try_number in 1..=TRIES {
            match self.transact(items.clone()).await? {
                Ok(()) => return Ok(Ok(())),
                Err(Cancelled::ConditionOf(failed)) => return Ok(Err(failed)),
                Err(Cancelled::Conflict) => back_off(try_number).await,
            }
        }
        Err(StoreError::Contended)
    }
}

impl DynamoStore {
    /// The write that adds `uid`, made at `created`, to `client`'s index and counts it;
    /// its condition is the caller's.
    fn index_entry(&self, client: &str, uid: &str, created: i64) -> UpdateBuilder {
        Update::builder()
            .table_name(&self.table)
            .key(PK, s(client_pk(client)))
            .update_expression("SET #entry = :created ADD #count :one")
            .expression_attribute_names("#entry", service_attribute(uid))
            .expression_attribute_names("#count", SERVICE_COUNT)
            .expression_attribute_values(":created", n(created))
            .expression_attribute_values(":one", n(1))
    }

    /// The write that takes `uid` out of `client`'s index (only when it names it).
    fn unindex_update(&self, client: &str, uid: &str) -> Update {
        Update::builder()
            .table_name(&self.table)
            .key(PK, s(client_pk(client)))
            .update_expression("REMOVE #entry ADD #count :minus_one")
            .condition_expression("attribute_exists(#entry)")
            .expression_attribute_names("#entry", service_attribute(uid))
            .expression_attribute_names("#count", SERVICE_COUNT)
            .expression_attribute_values(":minus_one", n(-1))
            .build()
            .expect("complete update")
    }

    /// Takes `uid` out of `client`'s index, alone: false when the index does not name it.
    async fn unindex(&self, client: &str, uid: &str) -> Result<bool, StoreError> {
        self.update_one(self.unindex_update(client, uid)).await
    }
}

impl ConfigRegistry for DynamoStore {
    async fn config(&self, uid: &str) -> Result<Option<OtpConfig>, StoreError> {
        Ok(self.get(config_pk(uid)).await?.and_then(|item| config_from(uid, &item)))
    }

    async fn configs(&self, uids: &[String]) -> Result<Vec<OtpConfig>, StoreError> {
        // Started together: one `BatchGetItem` (or several at once past its 100 keys).
        let reads = join_all(uids.iter().map(|uid| self.get(config_pk(uid)))).await;
        let mut configs = Vec::with_capacity(uids.len());
        for (uid, read) in uids.iter().zip(reads) {
            if let Some(config) = read?.and_then(|item| config_from(uid, &item)) {
                configs.push(config);
            }
        }
        Ok(configs)
    }

    async fn put_config(&self, config: &OtpConfig) -> Result<ServiceAdded, StoreError> {
        let created = config.service.created_at.unwrap_or_default();
        let index = self
            .index_entry(&config.client_id, &config.uid, created)
            // A client disabled since its credentials were read makes nothing.
            .condition_expression(format!(
                "attribute_exists({PK}) AND (attribute_not_exists({DISABLED}) OR {DISABLED} = :false) \
                 AND (attribute_not_exists(#count) OR #count < :max)"
            ))
            .expression_attribute_values(":max", n(MAX_SERVICES_PER_CLIENT))
            .expression_attribute_values(":false", AttributeValue::Bool(false))
            .build()
            .expect("complete update");
        let items = vec![
            TransactWriteItem::builder()
                .put(config_put(&self.table, config))
                .build(),
            TransactWriteItem::builder().update(index).build(),
        ];
        match self.transact_settled(items).await? {
            Ok(()) => Ok(ServiceAdded::Added),
            Err(failed) if failed.contains(&0) => Err(StoreError::inconsistent(format!(
                "configuration {} already exists",
                config.uid
            ))),
            Err(_) => {
                // The client is gone or disabled, or its index is full: its item says which.
                let client = self.get(client_pk(&config.client_id)).await?;
                let found = client.and_then(|item| super::registry::client_from(&config.client_id, &item));
                Ok(match found {
                    Some(client) if !client.disabled => ServiceAdded::Full,
                    _ => ServiceAdded::NoSuchClient,
                })
            }
        }
    }

    async fn update_service(&self, config: &OtpConfig) -> Result<bool, StoreError> {
        let facts = &config.service;
        let mut set = vec![format!("{CODE_LENGTH} = :length"), "#kept = :kept".to_owned()];
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(config_pk(&config.uid)))
            .condition_expression(format!("{CLIENT_ID} = :client"))
            .expression_attribute_names("#kept", KEPT)
            .expression_attribute_values(":client", s(&config.client_id))
            .expression_attribute_values(":length", n(config.profile.code_length))
            .expression_attribute_values(":kept", kept_value(facts));
        if let Some(name) = &facts.friendly_name {
            set.push("#name = :name".to_owned());
            update = update
                .expression_attribute_names("#name", FRIENDLY_NAME)
                .expression_attribute_values(":name", s(name));
        }
        if let Some(at) = facts.updated_at {
            set.push("#updated = :updated".to_owned());
            update = update
                .expression_attribute_names("#updated", UPDATED_AT)
                .expression_attribute_values(":updated", n(at));
        }
        written(update.update_expression(format!("SET {}", set.join(", "))).send().await)
    }

    async fn delete_config(&self, client: &str, uid: &str) -> Result<bool, StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .key(PK, s(config_pk(uid)))
            .condition_expression(format!("{CLIENT_ID} = :client"))
            .expression_attribute_values(":client", s(client))
            .build()
            .expect("complete delete");
        let unindex = self.unindex_update(client, uid);
        let items = vec![
            TransactWriteItem::builder().delete(delete).build(),
            TransactWriteItem::builder().update(unindex).build(),
        ];
        match self.transact_settled(items).await? {
            Ok(()) => Ok(true),
            // Not the client's, or gone: an entry of the client's index that outlived its
            // configuration is taken out all the same.
            Err(failed) if failed.contains(&0) => self.unindex(client, uid).await,
            // A configuration made before its client kept an index: deleted alone.
            Err(_) => written(
                self.client
                    .delete_item()
                    .table_name(&self.table)
                    .key(PK, s(config_pk(uid)))
                    .condition_expression(format!("{CLIENT_ID} = :client"))
                    .expression_attribute_values(":client", s(client))
                    .send()
                    .await,
            ),
        }
    }
}
