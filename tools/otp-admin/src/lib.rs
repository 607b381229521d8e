//! `otp-admin`: operator commands, each printing one JSON object.
//!
//! - `init`: creates the table named by `TABLE_NAME` (with TTL) where the AWS SDK points,
//!   typically a local AWS through `AWS_ENDPOINT_URL`, and the SES identity of
//!   `EMAIL_FROM` there. In AWS the template creates the table and the operator verifies
//!   the identity.
//! - `client create --name NAME [--permissions kgen-proxy,bizmagnets,zap,twilio]
//!   [--sends-per-hour N] [--sends-per-number-range-per-hour N]`: registers an API client;
//!   prints its id, secret and API key, once (only their hashes are stored). Limits not
//!   given are the deployment's.
//! - `client update --client ID [--sends-per-hour N|default]
//!   [--sends-per-number-range-per-hour N|default]`: changes a client's own limits
//!   (`default`: back to the deployment's); effective from the client's next request.
//! - `config create --client ID --channel sms|email --length N --ttl SECONDS --template
//!   TEXT --sender NAME`: an OTP configuration of that client (BizMagnets' `otp_config_uid`).
//! - `user import --user-id ID [--issuer ISS] [--phone E164] [--email ADDRESS]`: a user of
//!   the registry with the contacts on record.

use std::collections::{BTreeSet, HashMap};
use std::time::Duration;

use otp_shared::callers::{api_key, generate_secret, hash_secret};
use otp_shared::clock::{Clock, SystemClock};
use otp_shared::destination::Destination;
use otp_shared::policy::{
    CLIENT_SENDS_PER_HOUR, Profile, Range, SENDS_PER_NUMBER_RANGE_PER_HOUR as SENDS_PER_NUMBER_RANGE_PER_HOUR_RANGE,
};
use otp_shared::ports::{
    Channel, ClientLimits, ClientRecord, ClientRegistry, ConfigRegistry, OtpConfig, Permission, UserDirectory,
};
use otp_shared::scope::UserRef;
use otp_shared::store::{DynamoStore, create_table};
use serde_json::{Value, json};

pub const USAGE: &str = "usage:
  otp-admin init
  otp-admin client create --name NAME [--permissions kgen-proxy,bizmagnets,zap,twilio] [--sends-per-hour N] [--sends-per-number-range-per-hour N]
  otp-admin client update --client ID [--sends-per-hour N|default] [--sends-per-number-range-per-hour N|default]
  otp-admin config create --client ID --channel sms|email --length N --ttl SECONDS --template TEXT --sender NAME
  otp-admin user import --user-id ID [--issuer ISS] [--phone E164] [--email ADDRESS]";

/// What the commands work on.
#[derive(Debug, Clone)]
pub struct Admin {
    pub store: DynamoStore,
    pub ses: aws_sdk_sesv2::Client,
    /// The sender address of the deployment's email (`EMAIL_FROM`).
    pub email_from: Option<String>,
}

/// `--flag value` pairs, each flag at most once and only from `allowed`.
fn flags<'a>(words: &[&'a str], allowed: &[&str]) -> Result<HashMap<&'a str, &'a str>, String> {
    let mut parsed = HashMap::new();
    let mut rest = words.iter();
    while let Some(flag) = rest.next() {
        let name = flag
            .strip_prefix("--")
            .filter(|name| allowed.contains(name))
            .ok_or_else(|| format!("unexpected argument {flag}\n{USAGE}"))?;
        let value = rest.next().ok_or_else(|| format!("--{name} needs a value"))?;
        if parsed.insert(name, *value).is_some() {
            return Err(format!("--{name} given twice"));
        }
    }
    Ok(parsed)
}

fn required<'a>(flags: &HashMap<&str, &'a str>, name: &str) -> Result<&'a str, String> {
    flags
        .get(name)
        .map(|value| value.trim())
        .filter(|value| !value.is_empty())
        .ok_or_else(|| format!("--{name} is required"))
}

/// Runs one command; the answer to print, or what went wrong.
pub async fn execute(args: &[String], admin: &Admin) -> Result<Value, String> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["init"] => init(admin).await,
        ["client", "create", rest @ ..] => {
            create_client(
                admin,
                &flags(
                    rest,
                    &["name", "permissions", SENDS_PER_HOUR, SENDS_PER_NUMBER_RANGE_PER_HOUR],
                )?,
            )
            .await
        }
        ["client", "update", rest @ ..] => {
            update_client(
                admin,
                &flags(rest, &["client", SENDS_PER_HOUR, SENDS_PER_NUMBER_RANGE_PER_HOUR])?,
            )
            .await
        }
        ["config", "create", rest @ ..] => {
            create_config(
                admin,
                &flags(rest, &["client", "channel", "length", "ttl", "template", "sender"])?,
            )
            .await
        }
        ["user", "import", rest @ ..] => {
            import_user(admin, &flags(rest, &["user-id", "issuer", "phone", "email"])?).await
        }
        _ => Err(USAGE.to_owned()),
    }
}

async fn init(admin: &Admin) -> Result<Value, String> {
    let store = &admin.store;
    let created = create_table(store.dynamodb(), store.table())
        .await
        .map_err(|error| error.to_string())?;
    let mut answer = json!({"table": store.table(), "created": created});
    if let Some(from) = &admin.email_from {
        let exists = match admin.ses.get_email_identity().email_identity(from).send().await {
            Ok(_) => true,
            Err(error) if error.as_service_error().is_some_and(|e| e.is_not_found_exception()) => false,
            Err(error) => {
                return Err(format!(
                    "SES identity {from}: {}",
                    aws_sdk_sesv2::error::DisplayErrorContext(error)
                ));
            }
        };
        if !exists {
            let created = admin.ses.create_email_identity().email_identity(from).send().await;
            match created {
                Ok(_) => {}
                // Created meanwhile by another caller: the identity is there, as wanted.
                Err(error)
                    if error
                        .as_service_error()
                        .is_some_and(|e| e.is_already_exists_exception()) => {}
                Err(error) => {
                    return Err(format!(
                        "SES identity {from}: {}",
                        aws_sdk_sesv2::error::DisplayErrorContext(error)
                    ));
                }
            }
        }
        let identity_created = !exists;
        answer["email_identity"] = json!({"identity": from, "created": identity_created});
    }
    Ok(answer)
}

const SENDS_PER_HOUR: &str = "sends-per-hour";
const SENDS_PER_NUMBER_RANGE_PER_HOUR: &str = "sends-per-number-range-per-hour";

/// A client's own limit from `--NAME`: absent keeps `current`, `default` clears it.
fn limit_flag(
    flags: &HashMap<&str, &str>,
    name: &str,
    range: Range,
    current: Option<u32>,
) -> Result<Option<u32>, String> {
    match flags.get(name).map(|value| value.trim()) {
        None => Ok(current),
        Some("default") => Ok(None),
        Some(text) => {
            let value: u64 = text
                .parse()
                .map_err(|_| format!("--{name} is a whole number or `default`"))?;
            if !range.contains(value) {
                return Err(format!("--{name} {value} is outside {}..={}", range.min, range.max));
            }
            Ok(Some(value as u32))
        }
    }
}

fn limits_flags(flags: &HashMap<&str, &str>, current: ClientLimits) -> Result<ClientLimits, String> {
    Ok(ClientLimits {
        sends_per_hour: limit_flag(flags, SENDS_PER_HOUR, CLIENT_SENDS_PER_HOUR, current.sends_per_hour)?,
        sends_per_number_range_per_hour: limit_flag(
            flags,
            SENDS_PER_NUMBER_RANGE_PER_HOUR,
            SENDS_PER_NUMBER_RANGE_PER_HOUR_RANGE,
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

async fn update_client(admin: &Admin, flags: &HashMap<&str, &str>) -> Result<Value, String> {
    let client_id = required(flags, "client")?;
    let record = admin
        .store
        .client(client_id)
        .await
        .map_err(|error| error.to_string())?
        .ok_or_else(|| format!("no client {client_id}"))?;
    let limits = limits_flags(flags, record.limits)?;
    if !admin
        .store
        .set_client_limits(client_id, &limits)
        .await
        .map_err(|error| error.to_string())?
    {
        return Err(format!("no client {client_id}"));
    }
    Ok(json!({"client_id": client_id, "limits": limits_json(&limits)}))
}

async fn create_client(admin: &Admin, flags: &HashMap<&str, &str>) -> Result<Value, String> {
    let name = required(flags, "name")?;
    let permissions: BTreeSet<Permission> = match flags.get("permissions") {
        None => Permission::ALL.into_iter().collect(),
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(|p| {
                Permission::parse(p).ok_or_else(|| format!("unknown permission {p}: use kgen-proxy, bizmagnets, zap"))
            })
            .collect::<Result<_, _>>()?,
    };
    if permissions.is_empty() {
        return Err("--permissions names none".to_owned());
    }
    let limits = limits_flags(flags, ClientLimits::default())?;
    let client_id = uuid::Uuid::new_v4().to_string();
    let client_secret = generate_secret();
    let key_secret = generate_secret();
    admin
        .store
        .put_client(&ClientRecord {
            id: client_id.clone(),
            name: name.to_owned(),
            secret_hash: hash_secret(&client_secret),
            api_key_hash: Some(hash_secret(&key_secret)),
            permissions: permissions.clone(),
            limits,
        })
        .await
        .map_err(|error| error.to_string())?;
    Ok(json!({
        "client_id": client_id,
        "client_secret": client_secret,
        "api_key": api_key(&client_id, &key_secret),
        "name": name,
        "permissions": permissions.iter().map(|p| p.name()).collect::<Vec<_>>(),
        "limits": limits_json(&limits),
    }))
}

/// An SMS sender ID: 1 to 11 letters and digits, at least one letter.
fn valid_sender_id(sender: &str) -> bool {
    (1..=11).contains(&sender.len())
        && sender.bytes().all(|b| b.is_ascii_alphanumeric())
        && sender.bytes().any(|b| b.is_ascii_alphabetic())
}

async fn create_config(admin: &Admin, flags: &HashMap<&str, &str>) -> Result<Value, String> {
    let client_id = required(flags, "client")?;
    let channel = Channel::parse(required(flags, "channel")?).ok_or("--channel is sms or email")?;
    let length: u8 = required(flags, "length")?
        .parse()
        .map_err(|_| "--length is a number of digits")?;
    let ttl: u64 = required(flags, "ttl")?
        .parse()
        .map_err(|_| "--ttl is a number of seconds")?;
    let profile = Profile::new(length, Duration::from_secs(ttl))?;
    let template = required(flags, "template")?;
    if !template.contains("{code}") {
        return Err("--template must contain {code}".to_owned());
    }
    let sender = required(flags, "sender")?;
    match channel {
        Channel::Sms if !valid_sender_id(sender) => {
            return Err("--sender of an sms configuration is an SMS sender ID: 1 to 11 letters and digits".to_owned());
        }
        Channel::Email if sender.chars().count() > 64 || sender.chars().any(char::is_control) => {
            return Err("--sender of an email configuration is a display name of at most 64 characters".to_owned());
        }
        _ => {}
    }
    if admin
        .store
        .client(client_id)
        .await
        .map_err(|e| e.to_string())?
        .is_none()
    {
        return Err(format!("no client {client_id}"));
    }
    let uid = uuid::Uuid::new_v4().to_string();
    admin
        .store
        .put_config(&OtpConfig {
            uid: uid.clone(),
            client_id: client_id.to_owned(),
            channel,
            profile,
            template: template.to_owned(),
            sender: sender.to_owned(),
        })
        .await
        .map_err(|error| error.to_string())?;
    Ok(json!({"otp_config_uid": uid}))
}

async fn import_user(admin: &Admin, flags: &HashMap<&str, &str>) -> Result<Value, String> {
    let user = UserRef::new(
        flags.get("issuer").copied().unwrap_or_default().trim(),
        required(flags, "user-id")?,
    );
    let mut contacts = Vec::new();
    if let Some(phone) = flags.get("phone") {
        contacts.push(Destination::e164(phone).map_err(|_| format!("--phone {phone} is not an E.164 number"))?);
    }
    if let Some(email) = flags.get("email") {
        contacts.push(Destination::email(email).map_err(|_| format!("--email {email} is not an email address"))?);
    }
    if contacts.is_empty() {
        return Err("give --phone, --email or both".to_owned());
    }
    let now = SystemClock.now();
    let mut linked = Vec::new();
    for contact in &contacts {
        let moved_from = admin.store.link(contact, &user, now).await.map_err(|e| e.to_string())?;
        linked.push(json!({
            "contact": contact.as_str(),
            "moved_from": moved_from.map(|previous| json!({"issuer": previous.issuer, "user_id": previous.id})),
        }));
    }
    Ok(json!({"user": {"issuer": user.issuer, "user_id": user.id}, "linked": linked}))
}
