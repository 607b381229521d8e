//! `otp-admin config ...`: OTP configurations (BizMagnets' configurations, Twilio's
//! services), each owned by one client.

use std::time::Duration;

use otp_shared::clock::{Clock, SystemClock};
use otp_shared::localization::{Localization, built_in_locale, by_locale};
use otp_shared::messages::{built_in_template, is_built_in};
use otp_shared::policy::Profile;
use otp_shared::ports::{
    Channel, ChannelSetup, ConfigRegistry, OtpConfig, ServiceAdded, ServiceFacts, WhatsAppTemplate,
};
use otp_shared::store::MAX_SERVICES_PER_CLIENT;
use serde_json::{Value, json};

use crate::{Admin, ChannelCommand, ConfigCommand, LanguageArgs, WhatsAppArgs};

pub(crate) async fn run(command: ConfigCommand, admin: &Admin) -> Result<Value, String> {
    match command {
        ConfigCommand::Create {
            client,
            channel,
            length,
            ttl,
            template,
            sender,
            whatsapp,
        } => {
            let channel = channel_of(&channel)?;
            let now = SystemClock.now();
            let config = checked(OtpConfig {
                uid: uuid::Uuid::new_v4().to_string(),
                client_id: client.clone(),
                channel,
                profile: Profile::new(length, Duration::from_secs(ttl))?,
                template,
                sender,
                whatsapp: whatsapp_of(channel, whatsapp, None)?,
                more_channels: Vec::new(),
                service: ServiceFacts {
                    created_at: Some(now),
                    updated_at: Some(now),
                    ..ServiceFacts::default()
                },
                localization: Localization::default(),
            })?;
            match admin.store.put_config(&config).await.map_err(|e| e.to_string())? {
                ServiceAdded::Added => {}
                ServiceAdded::NoSuchClient => return Err(format!("no client {client}")),
                ServiceAdded::Full => {
                    return Err(format!(
                        "client {client} has {MAX_SERVICES_PER_CLIENT} configurations, the most a client may have: delete one first"
                    ));
                }
            }
            Ok(json!({
                "otp_config_uid": config.uid,
                "service_sid": otp_shared::sid::of(otp_shared::sid::SERVICE, &config.uid),
            }))
        }
        ConfigCommand::List { client } => {
            let configs = admin
                .store
                .list_configs(client.as_deref())
                .await
                .map_err(|e| e.to_string())?;
            Ok(json!({"configs": configs.iter().map(shown).collect::<Vec<_>>()}))
        }
        ConfigCommand::Show { config } => Ok(shown(&existing(admin, &config).await?)),
        ConfigCommand::Update {
            config,
            channel,
            length,
            ttl,
            template,
            sender,
            whatsapp,
            languages,
        } => {
            let current = existing(admin, &config).await?;
            let localization = localized(current.localization.clone(), languages)?;
            let profile = Profile::new(
                length.unwrap_or(current.profile.code_length),
                ttl.map_or(current.profile.lifetime, Duration::from_secs),
            )?;
            let channel = channel.as_deref().map_or(Ok(current.channel), channel_of)?;
            if current.more_channel(channel).is_some() {
                return Err(format!(
                    "{} is one of the configuration's other channels: remove it first (config channel remove)",
                    channel.name()
                ));
            }
            let updated = checked(OtpConfig {
                channel,
                profile,
                template: template.unwrap_or(current.template),
                sender: sender.unwrap_or(current.sender),
                whatsapp: whatsapp_of(channel, whatsapp, current.whatsapp.as_ref())?,
                localization,
                ..current
            })?;
            if !admin.store.replace_config(&updated).await.map_err(|e| e.to_string())? {
                return Err(format!(
                    "no configuration {config}, or its channels changed meanwhile: show it and try again"
                ));
            }
            Ok(shown(&updated))
        }
        ConfigCommand::Channel(ChannelCommand::Set {
            config,
            channel,
            template,
            sender,
            whatsapp,
        }) => {
            let current = existing(admin, &config).await?;
            let channel = channel_of(&channel)?;
            if channel == current.channel {
                return Err(format!(
                    "{} is the configuration's default channel: change it with config update",
                    channel.name()
                ));
            }
            let present = current.more_channel(channel);
            // Checked as the configuration would send by it.
            let view = checked(OtpConfig {
                channel,
                template,
                sender,
                whatsapp: whatsapp_of(channel, whatsapp, present.and_then(|setup| setup.whatsapp.as_ref()))?,
                more_channels: Vec::new(),
                ..current.clone()
            })?;
            let setup = ChannelSetup {
                channel,
                template: view.template,
                sender: view.sender,
                whatsapp: view.whatsapp,
            };
            if !admin
                .store
                .set_config_channel(&config, &setup)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(format!(
                    "no configuration {config}, or its default channel changed meanwhile: show it and try again"
                ));
            }
            Ok(shown(&existing(admin, &config).await?))
        }
        ConfigCommand::Channel(ChannelCommand::Remove { config, channel }) => {
            let channel = channel_of(&channel)?;
            if !admin
                .store
                .remove_config_channel(&config, channel)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(format!(
                    "configuration {config} has no {} channel besides its default",
                    channel.name()
                ));
            }
            Ok(shown(&existing(admin, &config).await?))
        }
        ConfigCommand::Delete { config } => {
            let current = existing(admin, &config).await?;
            if !admin
                .store
                .delete_config(&current.client_id, &config)
                .await
                .map_err(|e| e.to_string())?
            {
                return Err(format!("no configuration {config}"));
            }
            Ok(json!({"otp_config_uid": config, "deleted": true}))
        }
        ConfigCommand::Index => {
            let indexed = admin
                .store
                .index_configs(SystemClock.now())
                .await
                .map_err(|e| e.to_string())?;
            Ok(json!({"indexed": indexed}))
        }
    }
}

/// A configuration's languages with the flags given applied.
fn localized(mut current: Localization, given: LanguageArgs) -> Result<Localization, String> {
    let optional = |text: String| Some(text.trim().to_owned()).filter(|text| !text.is_empty());
    if let Some(tag) = given.language {
        current.language = match optional(tag) {
            Some(tag) => Some(built_in_locale(&tag)?),
            None => None,
        };
    }
    for (tag, text) in by_locale(&given.locale_templates)? {
        match text.is_empty() {
            true => current.templates.remove(tag),
            false => current.templates.insert(tag, text),
        };
    }
    for (tag, code) in by_locale(&given.whatsapp_locales)? {
        match code.trim().is_empty() {
            true => current.whatsapp_languages.remove(tag),
            false => current.whatsapp_languages.insert(tag, code.trim().to_owned()),
        };
    }
    if let Some(domain) = given.web_domain {
        current.autofill.web_domain = optional(domain);
    }
    if let Some(hash) = given.app_hash {
        current.autofill.app_hash = optional(hash);
    }
    match current.problem() {
        Some(problem) => Err(problem),
        None => Ok(current),
    }
}

fn channel_of(name: &str) -> Result<Channel, String> {
    Channel::parse(name).ok_or_else(|| "--channel is sms, email, whatsapp or call".to_owned())
}

/// The WhatsApp template of a configuration on `channel`: the flags given over the
/// `current` template; none, and no such flag, for another channel.
fn whatsapp_of(
    channel: Channel,
    given: WhatsAppArgs,
    current: Option<&WhatsAppTemplate>,
) -> Result<Option<WhatsAppTemplate>, String> {
    if channel != Channel::WhatsApp {
        let named = given.whatsapp_phone_number_id.is_some()
            || given.whatsapp_template.is_some()
            || given.whatsapp_language.is_some()
            || given.fallback_to_sms.is_some();
        return match named {
            true => Err("the --whatsapp-* and --fallback-to-sms flags are for a whatsapp configuration".to_owned()),
            false => Ok(None),
        };
    }
    let required = |given: Option<String>, current: Option<&String>, flag: &str| {
        given
            .or_else(|| current.cloned())
            .ok_or_else(|| format!("a whatsapp configuration needs {flag}"))
    };
    let template = WhatsAppTemplate {
        phone_number_id: required(
            given.whatsapp_phone_number_id,
            current.map(|c| &c.phone_number_id),
            "--whatsapp-phone-number-id",
        )?,
        name: required(given.whatsapp_template, current.map(|c| &c.name), "--whatsapp-template")?,
        language: required(
            given.whatsapp_language,
            current.map(|c| &c.language),
            "--whatsapp-language",
        )?,
        fallback_to_sms: given
            .fallback_to_sms
            .or(current.map(|c| c.fallback_to_sms))
            .unwrap_or(false),
    };
    match template.problem() {
        Some(problem) => Err(problem),
        None => Ok(Some(template)),
    }
}

/// An SMS sender ID: 1 to 11 letters and digits, at least one letter.
fn valid_sender_id(sender: &str) -> bool {
    (1..=11).contains(&sender.len())
        && sender.bytes().all(|b| b.is_ascii_alphanumeric())
        && sender.bytes().any(|b| b.is_ascii_alphabetic())
}

/// What `--template` takes for the built-in texts, in each message's language.
const BUILT_IN: &str = "built-in";

/// The configuration, if its template and sender suit its channel (`--template built-in`
/// standing for the built-in texts).
fn checked(mut config: OtpConfig) -> Result<OtpConfig, String> {
    if config.template == BUILT_IN {
        config.template = built_in_template().to_owned();
    }
    if !config.template.contains("{code}") {
        return Err("--template must contain {code}, or be built-in".to_owned());
    }
    match config.channel {
        // A call says the built-in phrases, in each call's language.
        Channel::Call if !is_built_in(&config.template) => {
            Err("a call speaks the built-in phrases in each language: give --template built-in".to_owned())
        }
        // Empty: the deployment's sender (as services made through Twilio's API have).
        Channel::Sms | Channel::WhatsApp if !config.sender.is_empty() && !valid_sender_id(&config.sender) => {
            Err(format!(
                "--sender of an {} configuration is an SMS sender ID: 1 to 11 letters and digits, or empty for the deployment's",
                config.channel.name()
            ))
        }
        Channel::Email if config.sender.chars().count() > 64 || config.sender.chars().any(char::is_control) => {
            Err("--sender of an email configuration is a display name of at most 64 characters".to_owned())
        }
        // A call speaks the built-in phrases from the deployment's origination identity.
        Channel::Call if !config.sender.is_empty() => {
            Err("a call goes out from the deployment's origination identity: leave --sender empty".to_owned())
        }
        _ => Ok(config),
    }
}

async fn existing(admin: &Admin, uid: &str) -> Result<OtpConfig, String> {
    admin
        .store
        .config(uid)
        .await
        .map_err(|e| e.to_string())?
        .ok_or_else(|| format!("no configuration {uid}"))
}

fn shown(config: &OtpConfig) -> Value {
    json!({
        "otp_config_uid": config.uid,
        // Twilio's Service SID (`VA` and the uid's 32 hex digits); either form works.
        "service_sid": otp_shared::sid::of(otp_shared::sid::SERVICE, &config.uid),
        "client_id": config.client_id,
        "channel": config.channel.name(),
        "length": config.profile.code_length,
        "ttl": config.profile.lifetime.as_secs(),
        "template": config.template,
        "sender": config.sender,
        "whatsapp": config.whatsapp.as_ref().map(whatsapp_shown),
        "channels": config.channels().iter().map(|channel| channel.name()).collect::<Vec<_>>(),
        "more_channels": config.more_channels.iter().map(|setup| (setup.channel.name().to_owned(), json!({
            "template": setup.template,
            "sender": setup.sender,
            "whatsapp": setup.whatsapp.as_ref().map(whatsapp_shown),
        }))).collect::<serde_json::Map<_, _>>(),
        "built_in_texts": is_built_in(&config.template),
        "language": config.localization.language.map(|locale| locale.tag),
        "locale_templates": config.localization.templates,
        "whatsapp_locales": config.localization.whatsapp_languages,
        "web_domain": config.localization.autofill.web_domain,
        "app_hash": config.localization.autofill.app_hash,
    })
}

fn whatsapp_shown(template: &WhatsAppTemplate) -> Value {
    json!({
        "phone_number_id": template.phone_number_id,
        "template": template.name,
        "language": template.language,
        "fallback_to_sms": template.fallback_to_sms,
    })
}
