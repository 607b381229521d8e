//! The registry of API clients (hashes of their secrets, permissions, own limits) and of
//! their OTP configurations (BizMagnets' `otp_config_uid`).

use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, Put};

use crate::destination::Destination;
use crate::policy::Profile;
use crate::ports::{
    Channel, ClientLimits, ClientRecord, ClientRegistry, ConfigRegistry, OtpConfig, Permission, StoreError,
    WhatsAppTemplate,
};
use crate::test_destinations::{TestDestination, TestOwner};

use super::items::{DynamoStore, Item, PK, b, client_pk, config_pk, get_b, get_n, get_s, n, s};

/// A client record from its item; `id` is the item's.
pub(super) fn client_from(id: &str, item: &Item) -> Option<ClientRecord> {
    let permissions = item
        .get("permissions")
        .and_then(|v| v.as_l().ok())
        .map(|list| {
            list.iter()
                .filter_map(|v| v.as_s().ok())
                .filter_map(|name| Permission::parse(name))
                .collect()
        })
        .unwrap_or_default();
    Some(ClientRecord {
        id: id.to_owned(),
        name: get_s(item, "name")?.to_owned(),
        secret_hash: get_b(item, "secret_hash")?.to_vec(),
        api_key_hash: get_b(item, "api_key_hash").map(<[u8]>::to_vec),
        permissions,
        limits: ClientLimits {
            sends_per_hour: get_n(item, "sends_per_hour"),
            sends_per_number_range_per_hour: get_n(item, "sends_per_number_range_per_hour"),
        },
        // Anything but an explicit false under `disabled` reads as disabled.
        disabled: item
            .get("disabled")
            .is_some_and(|v| v.as_bool().map_or(true, |disabled| *disabled)),
    })
}

/// An OTP configuration from its item; `uid` is the item's.
pub(super) fn config_from(uid: &str, item: &Item) -> Option<OtpConfig> {
    let profile = Profile::new(
        get_n(item, "code_length")?,
        Duration::from_secs(get_n(item, "lifetime")?),
    )
    .ok()?;
    let channel = Channel::parse(get_s(item, "channel")?)?;
    // A WhatsApp configuration without its template is no configuration at all.
    let whatsapp = match channel {
        Channel::WhatsApp => Some(WhatsAppTemplate {
            phone_number_id: get_s(item, "wa_phone_number_id")?.to_owned(),
            name: get_s(item, "wa_template")?.to_owned(),
            language: get_s(item, "wa_language")?.to_owned(),
            fallback_to_sms: item
                .get("wa_fallback_sms")
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false),
        }),
        _ => None,
    };
    Some(OtpConfig {
        uid: uid.to_owned(),
        client_id: get_s(item, "client_id")?.to_owned(),
        channel,
        profile,
        template: get_s(item, "template")?.to_owned(),
        sender: get_s(item, "sender")?.to_owned(),
        whatsapp,
    })
}

/// The attributes that hold a configuration's WhatsApp template.
pub(super) const WHATSAPP_ATTRIBUTES: [&str; 4] =
    ["wa_phone_number_id", "wa_template", "wa_language", "wa_fallback_sms"];

/// The attributes of a configuration's WhatsApp template (none for another channel).
pub(super) fn whatsapp_attributes(config: &OtpConfig) -> Vec<(&'static str, AttributeValue)> {
    match &config.whatsapp {
        Some(template) => WHATSAPP_ATTRIBUTES
            .into_iter()
            .zip([
                s(&template.phone_number_id),
                s(&template.name),
                s(&template.language),
                AttributeValue::Bool(template.fallback_to_sms),
            ])
            .collect(),
        None => Vec::new(),
    }
}

impl ClientRegistry for DynamoStore {
    async fn client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
        Ok(self.get(client_pk(id)).await?.and_then(|item| client_from(id, &item)))
    }

    async fn put_client(&self, record: &ClientRecord) -> Result<(), StoreError> {
        let permissions = record.permissions.iter().map(|p| s(p.name())).collect();
        let mut put = Put::builder()
            .table_name(&self.table)
            .item(PK, s(client_pk(&record.id)))
            .item("name", s(&record.name))
            .item("secret_hash", b(&record.secret_hash))
            .item("permissions", AttributeValue::L(permissions))
            .condition_expression("attribute_not_exists(pk)");
        if let Some(hash) = &record.api_key_hash {
            put = put.item("api_key_hash", b(hash));
        }
        if record.disabled {
            put = put.item("disabled", AttributeValue::Bool(true));
        }
        if let Some(limit) = record.limits.sends_per_hour {
            put = put.item("sends_per_hour", n(limit));
        }
        if let Some(limit) = record.limits.sends_per_number_range_per_hour {
            put = put.item("sends_per_number_range_per_hour", n(limit));
        }
        if self.put_one(put.build().expect("complete put")).await? {
            Ok(())
        } else {
            Err(StoreError::inconsistent(format!("client {} already exists", record.id)))
        }
    }

    async fn test_destination(
        &self,
        owner: &TestOwner,
        destination: &Destination,
    ) -> Result<Option<TestDestination>, StoreError> {
        self.read_test_destination(owner, destination).await
    }
}

impl ConfigRegistry for DynamoStore {
    async fn config(&self, uid: &str) -> Result<Option<OtpConfig>, StoreError> {
        Ok(self.get(config_pk(uid)).await?.and_then(|item| config_from(uid, &item)))
    }

    async fn put_config(&self, config: &OtpConfig) -> Result<(), StoreError> {
        let mut put = Put::builder()
            .table_name(&self.table)
            .item(PK, s(config_pk(&config.uid)))
            .item("client_id", s(&config.client_id))
            .item("channel", s(config.channel.name()))
            .item("code_length", n(config.profile.code_length))
            .item("lifetime", n(config.profile.lifetime.as_secs()))
            .item("template", s(&config.template))
            .item("sender", s(&config.sender))
            .condition_expression("attribute_not_exists(pk)");
        for (name, value) in whatsapp_attributes(config) {
            put = put.item(name, value);
        }
        let put = put.build().expect("complete put");
        if self.put_one(put).await? {
            Ok(())
        } else {
            Err(StoreError::inconsistent(format!(
                "configuration {} already exists",
                config.uid
            )))
        }
    }
}
