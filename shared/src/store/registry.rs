//! The registry of API clients (hashes of their secrets, permissions, own limits) and of
//! their OTP configurations (BizMagnets' `otp_config_uid`).

use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, Put};

use crate::destination::Destination;
use crate::policy::Profile;
use crate::ports::{
    ApiKey, Channel, ChannelSetup, ClientLimits, ClientRecord, ClientRegistry, IndexedService, OtpConfig, Permission,
    ServiceFacts, StoreError, WhatsAppTemplate,
};
use crate::test_destinations::{TestDestination, TestOwner};

use super::attributes::{
    CREATED_AT, FRIENDLY_NAME, Item, KEPT, PK, SERVICE_ATTRIBUTE_PREFIX, UPDATED_AT, b, client_pk, get_b, get_n, get_s,
    n, s,
};
use super::items::DynamoStore;

/// Each API key is an attribute of its client's item, named by this prefix and the key's
/// SID (a map of `name`, `secret_hash` and `created`): the one read that checks an auth
/// token checks a key too, and a key revoked is gone from the next read.
pub(super) const API_KEY_ATTRIBUTE_PREFIX: &str = "key#";

/// How many API keys a client's item holds: counted in the same write that adds or
/// removes one, so the cap holds however many operators add keys at once.
pub(super) const API_KEY_COUNT: &str = "api_key_count";

/// Most API keys a client may have at once (each about 150 bytes of its item, read by
/// every request of the client).
pub const MAX_API_KEYS_PER_CLIENT: u32 = 20;

/// The attribute that holds the key `sid`.
pub(super) fn api_key_attribute(sid: &str) -> String {
    format!("{API_KEY_ATTRIBUTE_PREFIX}{sid}")
}

/// An API key as its attribute's value.
pub(super) fn api_key_value(key: &ApiKey) -> AttributeValue {
    AttributeValue::M(
        [
            ("name".to_owned(), s(&key.name)),
            ("secret_hash".to_owned(), b(&key.secret_hash)),
            ("created".to_owned(), n(key.created)),
        ]
        .into(),
    )
}

/// The API keys a client's item holds, by SID; an entry that does not read whole is none.
fn api_keys_of(item: &Item) -> Vec<ApiKey> {
    let mut keys: Vec<ApiKey> = item
        .iter()
        .filter_map(|(attribute, value)| {
            let sid = attribute.strip_prefix(API_KEY_ATTRIBUTE_PREFIX)?;
            let fields = value.as_m().ok()?;
            Some(ApiKey {
                sid: sid.to_owned(),
                name: get_s(fields, "name")?.to_owned(),
                secret_hash: get_b(fields, "secret_hash")?.to_vec(),
                created: get_n(fields, "created")?,
            })
        })
        .collect();
    keys.sort_by(|a, b| (a.created, &a.sid).cmp(&(b.created, &b.sid)));
    keys
}

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
        keys: api_keys_of(item),
        permissions,
        limits: ClientLimits {
            sends_per_hour: get_n(item, "sends_per_hour"),
            sends_per_number_range_per_hour: get_n(item, "sends_per_number_range_per_hour"),
        },
        // Anything but an explicit false under `disabled` reads as disabled.
        disabled: item
            .get("disabled")
            .is_some_and(|v| v.as_bool().map_or(true, |disabled| *disabled)),
        services: services_of(item),
    })
}

/// An OTP configuration from its item; `uid` is the item's.
pub(super) fn config_from(uid: &str, item: &Item) -> Option<OtpConfig> {
    let profile = Profile::new(
        get_n(item, "code_length")?,
        Duration::from_secs(get_n(item, "lifetime")?),
    )
    .ok()?;
    let default = setup_from(Channel::parse(get_s(item, "channel")?)?, item)?;
    let mut more_channels: Vec<ChannelSetup> = item
        .iter()
        .filter_map(|(attribute, value)| {
            let channel = Channel::parse(attribute.strip_prefix(CHANNEL_ATTRIBUTE_PREFIX)?)?;
            // A channel that does not read whole is not enabled; the default is itself.
            (channel != default.channel)
                .then(|| setup_from(channel, value.as_m().ok()?))
                .flatten()
        })
        .collect();
    more_channels.sort_by_key(|setup| setup.channel.name());
    Some(OtpConfig {
        uid: uid.to_owned(),
        client_id: get_s(item, "client_id")?.to_owned(),
        channel: default.channel,
        profile,
        template: default.template,
        sender: default.sender,
        whatsapp: default.whatsapp,
        more_channels,
        service: facts_from(item),
    })
}

/// How a configuration sends by `channel`, from the attributes that say so: the item's
/// own for its default channel, a map of the same names for another.
fn setup_from(channel: Channel, fields: &Item) -> Option<ChannelSetup> {
    // WhatsApp without its template is no channel at all.
    let whatsapp = match channel {
        Channel::WhatsApp => Some(WhatsAppTemplate {
            phone_number_id: get_s(fields, "wa_phone_number_id")?.to_owned(),
            name: get_s(fields, "wa_template")?.to_owned(),
            language: get_s(fields, "wa_language")?.to_owned(),
            fallback_to_sms: fields
                .get("wa_fallback_sms")
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false),
        }),
        _ => None,
    };
    Some(ChannelSetup {
        channel,
        template: get_s(fields, "template")?.to_owned(),
        sender: get_s(fields, "sender")?.to_owned(),
        whatsapp,
    })
}

/// Each channel a configuration enables besides its default is an attribute of its item,
/// named by this prefix and the channel's name (a map of `template`, `sender` and, for
/// whatsapp, the WhatsApp attributes): the one read of the configuration reads them all.
pub(super) const CHANNEL_ATTRIBUTE_PREFIX: &str = "channel#";

/// The attribute that holds `channel`'s setup, when it is not the default.
pub(super) fn channel_attribute(channel: Channel) -> String {
    format!("{CHANNEL_ATTRIBUTE_PREFIX}{}", channel.name())
}

/// A channel's setup as its attribute's value.
pub(super) fn channel_value(setup: &ChannelSetup) -> AttributeValue {
    let mut fields: Item = [
        ("template".to_owned(), s(&setup.template)),
        ("sender".to_owned(), s(&setup.sender)),
    ]
    .into();
    for (name, value) in whatsapp_attributes(setup.whatsapp.as_ref()) {
        fields.insert(name.to_owned(), value);
    }
    AttributeValue::M(fields)
}

/// The attributes that hold a configuration's WhatsApp template.
pub(super) const WHATSAPP_ATTRIBUTES: [&str; 4] =
    ["wa_phone_number_id", "wa_template", "wa_language", "wa_fallback_sms"];

/// The attributes of a channel's WhatsApp template (none for another channel).
pub(super) fn whatsapp_attributes(template: Option<&WhatsAppTemplate>) -> Vec<(&'static str, AttributeValue)> {
    match template {
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
        if !record.keys.is_empty() {
            put = put.item(API_KEY_COUNT, n(record.keys.len()));
        }
        for key in &record.keys {
            put = put.item(api_key_attribute(&key.sid), api_key_value(key));
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

/// The configurations a client's item indexes, oldest first.
pub(super) fn services_of(item: &Item) -> Vec<IndexedService> {
    let mut services: Vec<IndexedService> = item
        .iter()
        .filter_map(|(attribute, value)| {
            Some(IndexedService {
                uid: attribute.strip_prefix(SERVICE_ATTRIBUTE_PREFIX)?.to_owned(),
                created: value.as_n().ok()?.parse().ok()?,
            })
        })
        .collect();
    services.sort();
    services
}

/// What the Services resource says of a configuration, from its item.
pub(super) fn facts_from(item: &Item) -> ServiceFacts {
    ServiceFacts {
        friendly_name: get_s(item, FRIENDLY_NAME).map(str::to_owned),
        kept: item
            .get(KEPT)
            .and_then(|value| value.as_m().ok())
            .map(|kept| {
                kept.iter()
                    .filter_map(|(name, value)| Some((name.clone(), value.as_s().ok()?.clone())))
                    .collect()
            })
            .unwrap_or_default(),
        created_at: get_n(item, CREATED_AT),
        updated_at: get_n(item, UPDATED_AT),
    }
}
