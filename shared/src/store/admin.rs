//! What only the operator's commands do with the registry: list it, rotate a client's
//! secrets, disable a client, change or delete a configuration, unlink a contact. Listing
//! scans the table (the registry has no index of its own): an operator's occasional
//! command, never a request's path.

use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, TransactWriteItem, Update};

use crate::destination::Destination;
use crate::ports::{ApiKey, Channel, ChannelSetup, ClientRecord, OtpConfig, StoreError, UserDirectory};
use crate::scope::{Realm, UserRef, unescape};

use super::attributes::{
    API_KEY_COUNT, API_KEY_HASH, CHANNEL, CLIENT_ID, CODE_LENGTH, DISABLED, Item, LIFETIME, LOCALIZATION, NAME,
    PERMISSIONS, PK, SECRET_HASH, SENDER, SENDS_PER_HOUR, SENDS_PER_NUMBER_RANGE_PER_HOUR, TEMPLATE, USER_KEY, b,
    client_pk, config_pk, contact_pk, n, s, user_pk,
};
use super::failures::{unavailable, written};
use super::items::DynamoStore;
use super::registry::{
    MAX_API_KEYS_PER_CLIENT, WHATSAPP_ATTRIBUTES, api_key_attribute, api_key_value, channel_attribute, channel_value,
    client_from, config_from, localization_value, whatsapp_attributes,
};

/// What adding an API key to a client came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyAdded {
    Added,
    NoSuchClient,
    /// The client already has [`MAX_API_KEYS_PER_CLIENT`] keys.
    Full,
}

impl DynamoStore {
    /// Every item whose key starts with `prefix`, with the rest of its key.
    pub(super) async fn scan_prefix(&self, prefix: &str) -> Result<Vec<(String, Item)>, StoreError> {
        let mut found = Vec::new();
        let mut start = None;
        loop {
            let page = self
                .client
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(#pk, :prefix)")
                .expression_attribute_names("#pk", PK)
                .expression_attribute_values(":prefix", s(prefix))
                .set_exclusive_start_key(start)
                .consistent_read(true)
                .send()
                .await
                .map_err(unavailable)?;
            for item in page.items.unwrap_or_default() {
                if let Some(rest) = item
                    .get(PK)
                    .and_then(|v| v.as_s().ok())
                    .and_then(|pk| pk.strip_prefix(prefix))
                {
                    found.push((unescape(rest), item.clone()));
                }
            }
            start = page.last_evaluated_key;
            if start.is_none() {
                return Ok(found);
            }
        }
    }

    /// Every API client, by id.
    pub async fn list_clients(&self) -> Result<Vec<ClientRecord>, StoreError> {
        let mut clients: Vec<ClientRecord> = self
            .scan_prefix("CLIENT#")
            .await?
            .iter()
            .filter_map(|(id, item)| client_from(id, item))
            .collect();
        clients.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(clients)
    }

    /// Every OTP configuration, of one client or of all, by uid.
    pub async fn list_configs(&self, client: Option<&str>) -> Result<Vec<OtpConfig>, StoreError> {
        let mut configs: Vec<OtpConfig> = self
            .scan_prefix("CONFIG#")
            .await?
            .iter()
            .filter_map(|(uid, item)| config_from(uid, item))
            .filter(|config| client.is_none_or(|client| config.client_id == client))
            .collect();
        configs.sort_by(|a, b| a.uid.cmp(&b.uid));
        Ok(configs)
    }

    /// Replaces a client's secret and API key hashes in one write: the old ones stop
    /// working with the next request (every request reads the record strongly
    /// consistent). False when there is no such client.
    pub async fn replace_client_secrets(
        &self,
        id: &str,
        secret_hash: &[u8],
        api_key_hash: &[u8],
    ) -> Result<bool, StoreError> {
        written(
            self.client
                .update_item()
                .table_name(&self.table)
                .key(PK, s(client_pk(id)))
                .update_expression(format!("SET {SECRET_HASH} = :secret, {API_KEY_HASH} = :key"))
                .condition_expression(format!("attribute_exists({PK})"))
                .expression_attribute_values(":secret", b(secret_hash))
                .expression_attribute_values(":key", b(api_key_hash))
                .send()
                .await,
        )
    }

    /// Adds an API key to a client, in one write that also counts it, under the cap: it
    /// works from the client's next request.
    pub async fn add_api_key(&self, client_id: &str, key: &ApiKey) -> Result<KeyAdded, StoreError> {
        let added = written(
            self.client
                .update_item()
                .table_name(&self.table)
                .key(PK, s(client_pk(client_id)))
                .update_expression("SET #key = :key ADD #count :one")
                .condition_expression(format!(
                    "attribute_exists({PK}) AND attribute_not_exists(#key) AND \
                     (attribute_not_exists(#count) OR #count < :max)"
                ))
                .expression_attribute_names("#key", api_key_attribute(&key.sid))
                .expression_attribute_names("#count", API_KEY_COUNT)
                .expression_attribute_values(":key", api_key_value(key))
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":max", n(MAX_API_KEYS_PER_CLIENT))
                .send()
                .await,
        )?;
        if added {
            return Ok(KeyAdded::Added);
        }
        // Which condition failed: the operator is told which (a fresh SID never repeats).
        let item = self.get(client_pk(client_id)).await?;
        Ok(if item.is_none() {
            KeyAdded::NoSuchClient
        } else {
            KeyAdded::Full
        })
    }

    /// Revokes a client's API key: gone, and its count with it, in one write, so the
    /// client's next request with it is refused. False when the client has no such key.
    pub async fn revoke_api_key(&self, client_id: &str, sid: &str) -> Result<bool, StoreError> {
        written(
            self.client
                .update_item()
                .table_name(&self.table)
                .key(PK, s(client_pk(client_id)))
                .update_expression("REMOVE #key ADD #count :less")
                .condition_expression("attribute_exists(#key)")
                .expression_attribute_names("#key", api_key_attribute(sid))
                .expression_attribute_names("#count", API_KEY_COUNT)
                .expression_attribute_values(":less", n(-1))
                .send()
                .await,
        )
    }

    /// Disables (or enables again) a client. False when there is no such client.
    pub async fn set_client_disabled(&self, id: &str, disabled: bool) -> Result<bool, StoreError> {
        written(
            self.client
                .update_item()
                .table_name(&self.table)
                .key(PK, s(client_pk(id)))
                .update_expression(format!("SET {DISABLED} = :disabled"))
                .condition_expression(format!("attribute_exists({PK})"))
                .expression_attribute_values(":disabled", AttributeValue::Bool(disabled))
                .send()
                .await,
        )
    }

    /// Sets a client's name, permissions and own limits in one write (a limit left unset
    /// returns to the deployment's). False when there is no such client.
    pub async fn set_client_settings(&self, record: &ClientRecord) -> Result<bool, StoreError> {
        let permissions = record.permissions.iter().map(|p| s(p.name())).collect();
        let mut set = vec!["#name = :name".to_owned(), "#permissions = :permissions".to_owned()];
        let mut remove = Vec::new();
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(client_pk(&record.id)))
            .condition_expression(format!("attribute_exists({PK})"))
            .expression_attribute_names("#name", NAME)
            .expression_attribute_names("#permissions", PERMISSIONS)
            .expression_attribute_values(":name", s(&record.name))
            .expression_attribute_values(":permissions", AttributeValue::L(permissions));
        for (attribute, assignment, value) in [
            (
                SENDS_PER_HOUR,
                format!("{SENDS_PER_HOUR} = :per_hour"),
                record.limits.sends_per_hour,
            ),
            (
                SENDS_PER_NUMBER_RANGE_PER_HOUR,
                format!("{SENDS_PER_NUMBER_RANGE_PER_HOUR} = :per_range"),
                record.limits.sends_per_number_range_per_hour,
            ),
        ] {
            match value {
                Some(limit) => {
                    let placeholder = assignment.rsplit(' ').next().unwrap_or_default().to_owned();
                    set.push(assignment);
                    update = update.expression_attribute_values(placeholder, n(limit));
                }
                None => remove.push(attribute),
            }
        }
        let mut expression = format!("SET {}", set.join(", "));
        if !remove.is_empty() {
            expression.push_str(&format!(" REMOVE {}", remove.join(", ")));
        }
        written(update.update_expression(expression).send().await)
    }

    /// Replaces a configuration's settings (not its client). False when there is none of
    /// that uid and client.
    pub async fn replace_config(&self, config: &OtpConfig) -> Result<bool, StoreError> {
        let mut set = format!(
            "{CHANNEL} = :channel, {CODE_LENGTH} = :length, {LIFETIME} = :lifetime, {TEMPLATE} = :template, \
             {SENDER} = :sender"
        );
        let mut update = self
            .client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(config_pk(&config.uid)))
            // The new default may not be one of its other channels as well.
            .condition_expression(format!("{CLIENT_ID} = :client AND attribute_not_exists(#as_more)"))
            .expression_attribute_names("#as_more", channel_attribute(config.channel))
            .expression_attribute_values(":client", s(&config.client_id))
            .expression_attribute_values(":channel", s(config.channel.name()))
            .expression_attribute_values(":length", n(config.profile.code_length))
            .expression_attribute_values(":lifetime", n(config.profile.lifetime.as_secs()))
            .expression_attribute_values(":template", s(&config.template))
            .expression_attribute_values(":sender", s(&config.sender));
        let mut remove: Vec<&str> = Vec::new();
        let whatsapp = whatsapp_attributes(config.whatsapp.as_ref());
        if whatsapp.is_empty() {
            remove.extend(WHATSAPP_ATTRIBUTES);
        }
        for (name, value) in whatsapp {
            set.push_str(&format!(", {name} = :{name}"));
            update = update.expression_attribute_values(format!(":{name}"), value);
        }
        match localization_value(&config.localization) {
            Some(value) => {
                set.push_str(&format!(", {LOCALIZATION} = :{LOCALIZATION}"));
                update = update.expression_attribute_values(format!(":{LOCALIZATION}"), value);
            }
            None => remove.push(LOCALIZATION),
        }
        let expression = match remove.is_empty() {
            true => format!("SET {set}"),
            false => format!("SET {set} REMOVE {}", remove.join(", ")),
        };
        written(update.update_expression(expression).send().await)
    }

    /// Enables (or sets anew) a channel of a configuration besides its default, in one
    /// write: its next send by that channel uses it. False when there is no such
    /// configuration or `setup`'s channel is its default.
    pub async fn set_config_channel(&self, uid: &str, setup: &ChannelSetup) -> Result<bool, StoreError> {
        written(
            self.client
                .update_item()
                .table_name(&self.table)
                .key(PK, s(config_pk(uid)))
                .update_expression("SET #setup = :setup")
                .condition_expression(format!("attribute_exists({PK}) AND {CHANNEL} <> :channel"))
                .expression_attribute_names("#setup", channel_attribute(setup.channel))
                .expression_attribute_values(":setup", channel_value(setup))
                .expression_attribute_values(":channel", s(setup.channel.name()))
                .send()
                .await,
        )
    }

    /// Disables a channel of a configuration besides its default: its next request by
    /// that channel is refused. False when it had no such channel.
    pub async fn remove_config_channel(&self, uid: &str, channel: Channel) -> Result<bool, StoreError> {
        written(
            self.client
                .update_item()
                .table_name(&self.table)
                .key(PK, s(config_pk(uid)))
                .update_expression("REMOVE #setup")
                .condition_expression("attribute_exists(#setup)")
                .expression_attribute_names("#setup", channel_attribute(channel))
                .send()
                .await,
        )
    }

    /// Unlinks a contact from its user in `realm`: the contact item and the user's record
    /// of it go together. The user it was linked to, or None when it was nobody's there.
    pub async fn unlink(&self, realm: &Realm, destination: &Destination) -> Result<Option<UserRef>, StoreError> {
        let Some(owner) = self.owner_of(realm, destination).await? else {
            return Ok(None);
        };
        let attribute = super::users::contact_attribute(destination);
        let contact = Delete::builder()
            .table_name(&self.table)
            .key(PK, s(contact_pk(realm, destination)))
            .condition_expression(format!("{USER_KEY} = :user"))
            .expression_attribute_values(":user", s(owner.key()))
            .build()
            .expect("complete delete");
        let recorded = self
            .get(user_pk(&owner))
            .await?
            .and_then(|item| item.get(attribute).and_then(|v| v.as_s().ok()).cloned());
        let mut items = vec![TransactWriteItem::builder().delete(contact).build()];
        // The user's record names this contact (as given, in any case): it goes too.
        // Otherwise the record must still be as read, so that a link written meanwhile
        // is never left naming a contact that no longer exists.
        let naming = recorded
            .as_ref()
            .is_some_and(|recorded| super::attributes::stored_destination(recorded) == *destination);
        if naming {
            let release = Update::builder()
                .table_name(&self.table)
                .key(PK, s(user_pk(&owner)))
                .update_expression("REMOVE #contact")
                .condition_expression("#contact = :recorded")
                .expression_attribute_names("#contact", attribute)
                .expression_attribute_values(":recorded", s(recorded.clone().unwrap_or_default()))
                .build()
                .expect("complete update");
            items.push(TransactWriteItem::builder().update(release).build());
        } else {
            let unchanged = ConditionCheck::builder()
                .table_name(&self.table)
                .key(PK, s(user_pk(&owner)))
                .expression_attribute_names("#contact", attribute);
            let unchanged = match &recorded {
                Some(other) => unchanged
                    .condition_expression("#contact = :recorded")
                    .expression_attribute_values(":recorded", s(other)),
                None => unchanged.condition_expression("attribute_not_exists(#contact)"),
            };
            items.push(
                TransactWriteItem::builder()
                    .condition_check(unchanged.build().expect("complete check"))
                    .build(),
            );
        }
        match self.transact(items).await? {
            Ok(()) => Ok(Some(owner)),
            Err(_) => Err(StoreError::Contended),
        }
    }
}
