//! `otp-admin client ...`: API clients, stored with the hashes of their secrets only.

use std::collections::BTreeSet;

use otp_shared::callers::{api_key, generate_key, generate_secret, hash_secret};
use otp_shared::clock::{Clock, SystemClock};
use otp_shared::policy::{CLIENT_SENDS_PER_HOUR, Range, SENDS_PER_NUMBER_RANGE_PER_HOUR};
use otp_shared::ports::{ApiKey, ClientLimits, ClientRecord, ClientRegistry, Permission};
use otp_shared::store::{KeyAdded, MAX_API_KEYS_PER_CLIENT};
use serde_json::{Value, json};

use crate::{Admin, ClientCommand, KeyCommand, LimitArg};

pub(crate) async fn run(command: ClientCommand, admin: &Admin) -> Result<Value, String> {
    match command {
        ClientCommand::Create {
            name,
            permissions,
            sends_per_hour,
            sends_per_number_range_per_hour,
        } => {
            let limits = limits(ClientLimits::default(), sends_per_hour, sends_per_number_range_per_hour)?;
            create(admin, &name, permissions, limits).await
        }
        ClientCommand::List => {
            let clients = admin.store.list_clients().await.map_err(|e| e.to_string())?;
            Ok(json!({"clients": clients.iter().map(shown).collect::<Vec<_>>()}))
        }
        ClientCommand::Show { client } => Ok(shown(&existing(admin, &client).await?)),
        ClientCommand::Update {
            client,
            name,
            permissions,
            sends_per_hour,
            sends_per_number_range_per_hour,
        } => {
            let mut record = existing(admin, &client).await?;
            record.limits = limits(record.limits, sends_per_hour, sends_per_number_range_per_hour)?;
            if let Some(name) = name {
                record.name = named(&name)?;
            }
            if let Some(permissions) = permissions {
                record.permissions = permitted(permissions)?;
            }
            let written = admin
                .store
                .set_client_settings(&record)
                .await
                .map_err(|e| e.to_string())?;
            if !written {
                return Err(format!("no client {client}"));
            }
            Ok(shown(&record))
        }
        ClientCommand::RotateSecret { client } => {
            let (secret, key_secret) = (generate_secret(), generate_secret());
            let replaced = admin
                .store
                .replace_client_secrets(&client, &hash_secret(&secret), &hash_secret(&key_secret))
                .await
                // The write may have landed with its answer lost: the old secret may be dead.
                .map_err(|e| format!("{e}; the secret may have been replaced: rotate again to get one that works"))?;
            if !replaced {
                return Err(format!("no client {client}"));
            }
            Ok(json!({
                "client_id": client,
                "client_secret": secret,
                "api_key": api_key(&client, &key_secret),
            }))
        }
        ClientCommand::Disable { client } => set_disabled(admin, &client, true).await,
        ClientCommand::Enable { client } => set_disabled(admin, &client, false).await,
        ClientCommand::Key(command) => keys(command, admin).await,
    }
}

/// Longest name of an API key, as Twilio's own.
const MAX_KEY_NAME_CHARS: usize = 64;

async fn keys(command: KeyCommand, admin: &Admin) -> Result<Value, String> {
    match command {
        KeyCommand::Create { client, name } => {
            let name = name.trim();
            if name.chars().count() > MAX_KEY_NAME_CHARS {
                return Err(format!("--name has at most {MAX_KEY_NAME_CHARS} characters"));
            }
            let (sid, secret) = generate_key(&client);
            let key = ApiKey {
                sid,
                name: name.to_owned(),
                secret_hash: hash_secret(&secret),
                created: SystemClock.now(),
            };
            match admin
                .store
                .add_api_key(&client, &key)
                .await
                .map_err(|e| e.to_string())?
            {
                KeyAdded::Added => {}
                KeyAdded::NoSuchClient => return Err(format!("no client {client}")),
                KeyAdded::Full => {
                    return Err(format!(
                        "client {client} has {MAX_API_KEYS_PER_CLIENT} keys, the most it may: revoke one first"
                    ));
                }
            }
            let mut answer = key_shown(&client, &key);
            answer["secret"] = json!(secret);
            Ok(answer)
        }
        KeyCommand::List { client } => {
            let record = existing(admin, &client).await?;
            Ok(json!({"keys": record.keys.iter().map(|key| key_shown(&record.id, key)).collect::<Vec<_>>()}))
        }
        KeyCommand::Revoke { client, key } => {
            let key = key.trim();
            if !admin
                .store
                .revoke_api_key(&client, key)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(format!("client {client} has no key {key}"));
            }
            Ok(json!({"client_id": client, "sid": key, "revoked": true}))
        }
    }
}

/// An API key as the operator sees it: never its secret.
fn key_shown(client_id: &str, key: &ApiKey) -> Value {
    json!({
        "sid": key.sid,
        "client_id": client_id,
        "account_sid": otp_shared::sid::of(otp_shared::sid::ACCOUNT, client_id),
        "name": key.name,
        "created": key.created,
    })
}

/// A client as the operator sees it: never a secret (only hashes are stored).
fn shown(record: &ClientRecord) -> Value {
    json!({
        "client_id": record.id,
        // Twilio's SDKs take this form of the id (`AC` and its 32 hex digits) as the
        // account SID; either form works wherever the id does.
        "account_sid": otp_shared::sid::of(otp_shared::sid::ACCOUNT, &record.id),
        "name": record.name,
        "permissions": record.permissions.iter().map(|p| p.name()).collect::<Vec<_>>(),
        "limits": limits_json(&record.limits),
        "disabled": record.disabled,
        "api_keys": record.keys.iter().map(|key| key.sid.as_str()).collect::<Vec<_>>(),
    })
}

async fn existing(admin: &Admin, id: &str) -> Result<ClientRecord, String> {
    admin
        .store
        .client(id)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no client {id}"))
}

async fn set_disabled(admin: &Admin, id: &str, disabled: bool) -> Result<Value, String> {
    let written = admin
        .store
        .set_client_disabled(id, disabled)
        .await
        .map_err(|e| e.to_string())?;
    if !written {
        return Err(format!("no client {id}"));
    }
    Ok(json!({"client_id": id, "disabled": disabled}))
}

fn named(name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err("--name has 1 to 100 characters".to_owned());
    }
    Ok(name.to_owned())
}

fn permitted(permissions: Vec<Permission>) -> Result<BTreeSet<Permission>, String> {
    let permissions: BTreeSet<Permission> = permissions.into_iter().collect();
    if permissions.is_empty() {
        return Err(format!(
            "--permissions names none: name one or more of {}",
            crate::permission_names()
        ));
    }
    Ok(permissions)
}

/// One of a client's own limits: absent keeps `current`, `default` clears it.
fn limit(flag: &str, value: Option<LimitArg>, range: Range, current: Option<u32>) -> Result<Option<u32>, String> {
    match value {
        None => Ok(current),
        Some(LimitArg::Default) => Ok(None),
        Some(LimitArg::Value(value)) if range.contains(value) => Ok(Some(value as u32)),
        Some(LimitArg::Value(value)) => Err(format!("--{flag} {value} is outside {}..={}", range.min, range.max)),
    }
}

fn limits(
    current: ClientLimits,
    sends_per_hour: Option<LimitArg>,
    sends_per_number_range_per_hour: Option<LimitArg>,
) -> Result<ClientLimits, String> {
    Ok(ClientLimits {
        sends_per_hour: limit(
            "sends-per-hour",
            sends_per_hour,
            CLIENT_SENDS_PER_HOUR,
            current.sends_per_hour,
        )?,
        sends_per_number_range_per_hour: limit(
            "sends-per-number-range-per-hour",
            sends_per_number_range_per_hour,
            SENDS_PER_NUMBER_RANGE_PER_HOUR,
            current.sends_per_number_range_per_hour,
        )?,
    })
}

fn limits_json(limits: &ClientLimits) -> Value {
    json!({
        "sends_per_hour": limits.sends_per_hour.map_or(json!("default"), |v| json!(v)),
        "sends_per_number_range_per_hour": limits.sends_per_number_range_per_hour.map_or(json!("default"), |v| json!(v)),
    })
}

async fn create(
    admin: &Admin,
    name: &str,
    permissions: Vec<Permission>,
    limits: ClientLimits,
) -> Result<Value, String> {
    let name = named(name)?;
    // Never a default: clap requires `--permissions`, and a command built in code with
    // none is refused here, before anything is stored.
    let permissions = permitted(permissions)?;
    let client_id = uuid::Uuid::new_v4().to_string();
    let client_secret = generate_secret();
    let key_secret = generate_secret();
    let record = ClientRecord {
        id: client_id.clone(),
        name,
        secret_hash: hash_secret(&client_secret),
        api_key_hash: Some(hash_secret(&key_secret)),
        keys: Vec::new(),
        permissions,
        limits,
        disabled: false,
        services: Vec::new(),
    };
    admin
        .store
        .put_client(&record)
        .await
        .map_err(|error| error.to_string())?;
    let mut answer = shown(&record);
    answer["client_secret"] = json!(client_secret);
    answer["api_key"] = json!(api_key(&client_id, &key_secret));
    Ok(answer)
}
