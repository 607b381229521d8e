//! The registry of API clients (hashes of their secrets, permissions, own limits) and of
//! their OTP configurations (BizMagnets' `otp_config_uid`).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_dynamodb::types::{AttributeValue, Put};

use crate::destination::Destination;
use crate::language;
use crate::localization::{Autofill, Localization};
use crate::policy::Profile;
use crate::ports::{
    ApiKey, Channel, ChannelSetup, ClientLimits, ClientRecord, ClientRegistry, IndexedService, OtpConfig, Permission,
    ServiceFacts, StoreError, WhatsAppTemplate,
};
use crate::test_destinations::{TestDestination, TestOwner};

use super::attributes::{
    API_KEY_COUNT, API_KEY_HASH, CHANNEL, CLIENT_ID, CODE_LENGTH, CREATED, CREATED_AT, DISABLED, FRIENDLY_NAME, Item,
    KEPT, L10N_APP_HASH, L10N_LANGUAGE, L10N_TEMPLATES, L10N_WA_LANGUAGES, L10N_WEB_DOMAIN, LIFETIME, LOCALIZATION,
    NAME, PERMISSIONS, PK, SECRET_HASH, SENDER, SENDS_PER_HOUR, SENDS_PER_NUMBER_RANGE_PER_HOUR,
    SERVICE_ATTRIBUTE_PREFIX, TEMPLATE, UPDATED_AT, WA_FALLBACK_SMS, WA_LANGUAGE, WA_PHONE_NUMBER_ID, WA_TEMPLATE, b,
    client_pk, get_b, get_n, get_s, n, s,
};
use super::items::DynamoStore;

/// Each API key is an attribute of its client's item, named by this prefix and the key's
/// SID (a map of `name`, `secret_hash` and `created`): the one read that checks an auth
/// token checks a key too, and a key revoked is gone from the next read.
pub(super) const API_KEY_ATTRIBUTE_PREFIX: &str = "key#";

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
            (NAME.to_owned(), s(&key.name)),
            (SECRET_HASH.to_owned(), b(&key.secret_hash)),
            (CREATED.to_owned(), n(key.created)),
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
                name: get_s(fields, NAME)?.to_owned(),
                secret_hash: get_b(fields, SECRET_HASH)?.to_vec(),
                created: get_n(fields, CREATED)?,
            })
        })
        .collect();
    keys.sort_by(|a, b| (a.created, &a.sid).cmp(&(b.created, &b.sid)));
    keys
}

/// A client record from its item; `id` is the item's.
pub(super) fn client_from(id: &str, item: &Item) -> Option<ClientRecord> {
    let permissions = item
        .get(PERMISSIONS)
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
        name: get_s(item, NAME)?.to_owned(),
        secret_hash: get_b(item, SECRET_HASH)?.to_vec(),
        api_key_hash: get_b(item, API_KEY_HASH).map(<[u8]>::to_vec),
        keys: api_keys_of(item),
        permissions,
        limits: ClientLimits {
            sends_per_hour: get_n(item, SENDS_PER_HOUR),
            sends_per_number_range_per_hour: get_n(item, SENDS_PER_NUMBER_RANGE_PER_HOUR),
        },
        // Anything but an explicit false under `disabled` reads as disabled.
        disabled: item
            .get(DISABLED)
            .is_some_and(|v| v.as_bool().map_or(true, |disabled| *disabled)),
        services: services_of(item),
    })
}

/// An OTP configuration from its item; `uid` is the item's.
pub(super) fn config_from(uid: &str, item: &Item) -> Option<OtpConfig> {
    let profile = Profile::new(get_n(item, CODE_LENGTH)?, Duration::from_secs(get_n(item, LIFETIME)?)).ok()?;
    let default = setup_from(Channel::parse(get_s(item, CHANNEL)?)?, item)?;
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
        client_id: get_s(item, CLIENT_ID)?.to_owned(),
        channel: default.channel,
        profile,
        template: default.template,
        sender: default.sender,
        whatsapp: default.whatsapp,
        more_channels,
        service: facts_from(item),
        localization: item
            .get(LOCALIZATION)
            .and_then(|value| value.as_m().ok())
            .map(localization_from)
            .unwrap_or_default(),
    })
}

/// A configuration's languages from their map; what does not read (a locale no longer
/// built in) is left out.
fn localization_from(fields: &Item) -> Localization {
    let by_locale = |name: &str| -> BTreeMap<&'static str, String> {
        fields
            .get(name)
            .and_then(|value| value.as_m().ok())
            .map(|map| {
                map.iter()
                    .filter_map(|(tag, value)| Some((language::find(tag)?.tag, value.as_s().ok()?.clone())))
                    .collect()
            })
            .unwrap_or_default()
    };
    let text = |name: &str| get_s(fields, name).map(str::to_owned);
    Localization {
        language: get_s(fields, L10N_LANGUAGE).and_then(language::find),
        templates: by_locale(L10N_TEMPLATES),
        whatsapp_languages: by_locale(L10N_WA_LANGUAGES),
        autofill: Autofill {
            app_hash: text(L10N_APP_HASH),
            web_domain: text(L10N_WEB_DOMAIN),
        },
    }
}

/// A configuration's languages as their attribute's value; none when it has none.
pub(super) fn localization_value(localization: &Localization) -> Option<AttributeValue> {
    if localization.is_empty() {
        return None;
    }
    let by_locale = |map: &BTreeMap<&'static str, String>| {
        AttributeValue::M(map.iter().map(|(tag, value)| ((*tag).to_owned(), s(value))).collect())
    };
    let mut fields: Item = [
        (L10N_TEMPLATES.to_owned(), by_locale(&localization.templates)),
        (
            L10N_WA_LANGUAGES.to_owned(),
            by_locale(&localization.whatsapp_languages),
        ),
    ]
    .into();
    let texts = [
        (L10N_LANGUAGE, localization.language.map(|locale| locale.tag)),
        (L10N_APP_HASH, localization.autofill.app_hash.as_deref()),
        (L10N_WEB_DOMAIN, localization.autofill.web_domain.as_deref()),
    ];
    for (name, value) in texts {
        if let Some(value) = value {
            fields.insert(name.to_owned(), s(value));
        }
    }
    Some(AttributeValue::M(fields))
}

/// How a configuration sends by `channel`, from the attributes that say so: the item's
/// own for its default channel, a map of the same names for another.
fn setup_from(channel: Channel, fields: &Item) -> Option<ChannelSetup> {
    // WhatsApp without its template is no channel at all.
    let whatsapp = match channel {
        Channel::WhatsApp => Some(WhatsAppTemplate {
            phone_number_id: get_s(fields, WA_PHONE_NUMBER_ID)?.to_owned(),
            name: get_s(fields, WA_TEMPLATE)?.to_owned(),
            language: get_s(fields, WA_LANGUAGE)?.to_owned(),
            fallback_to_sms: fields
                .get(WA_FALLBACK_SMS)
                .and_then(|v| v.as_bool().ok())
                .copied()
                .unwrap_or(false),
        }),
        _ => None,
    };
    Some(ChannelSetup {
        channel,
        template: get_s(fields, TEMPLATE)?.to_owned(),
        sender: get_s(fields, SENDER)?.to_owned(),
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
        (TEMPLATE.to_owned(), s(&setup.template)),
        (SENDER.to_owned(), s(&setup.sender)),
    ]
    .into();
    for (name, value) in whatsapp_attributes(setup.whatsapp.as_ref()) {
        fields.insert(name.to_owned(), value);
    }
    AttributeValue::M(fields)
}

/// The attributes that hold a configuration's WhatsApp template.
pub(super) const WHATSAPP_ATTRIBUTES: [&str; 4] = [WA_PHONE_NUMBER_ID, WA_TEMPLATE, WA_LANGUAGE, WA_FALLBACK_SMS];

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
            .item(NAME, s(&record.name))
            .item(SECRET_HASH, b(&record.secret_hash))
            .item(PERMISSIONS, AttributeValue::L(permissions))
            .condition_expression(format!("attribute_not_exists({PK})"));
        if let Some(hash) = &record.api_key_hash {
            put = put.item(API_KEY_HASH, b(hash));
        }
        if !record.keys.is_empty() {
            put = put.item(API_KEY_COUNT, n(record.keys.len()));
        }
        for key in &record.keys {
            put = put.item(api_key_attribute(&key.sid), api_key_value(key));
        }
        if record.disabled {
            put = put.item(DISABLED, AttributeValue::Bool(true));
        }
        if let Some(limit) = record.limits.sends_per_hour {
            put = put.item(SENDS_PER_HOUR, n(limit));
        }
        if let Some(limit) = record.limits.sends_per_number_range_per_hour {
            put = put.item(SENDS_PER_NUMBER_RANGE_PER_HOUR, n(limit));
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
