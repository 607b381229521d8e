//! Everything a function needs, built once at init and borrowed by every invocation.

use std::sync::Arc;

use crate::callers::JwtVerifier;
use crate::challenge::Otp;
use crate::clock::{Clock, SystemClock};
use crate::code::Code;
use crate::policy::Policy;
use crate::ports::Message;
use crate::settings::Settings;
use crate::store::DynamoStore;

/// The engine with its store, a delivery (none for verify), the JWT keys and the message
/// templates.
#[derive(Debug)]
pub struct App<S, D> {
    pub otp: Otp<S>,
    pub delivery: D,
    pub jwt: JwtVerifier,
    pub sms_template: String,
}

/// A function that sends nothing (verify) carries this in place of a delivery.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDelivery;

impl<S, D> App<S, D> {
    pub fn new(settings: Settings, store: S, delivery: D, clock: Arc<dyn Clock>) -> Self {
        Self {
            otp: Otp {
                store,
                policy: settings.policy,
                keys: settings.keys,
                sms_countries: settings.sms_countries,
                clock,
            },
            delivery,
            jwt: settings.jwt,
            sms_template: settings.sms_template,
        }
    }

    pub fn store(&self) -> &S {
        &self.otp.store
    }

    /// The text message carrying `code`.
    pub fn sms(&self, code: &Code, policy: &Policy) -> Message {
        let minutes = policy.code_lifetime.as_secs().div_ceil(60);
        let text = self
            .sms_template
            .replace("{minutes}", &minutes.to_string())
            .replace("{code}", code.reveal());
        Message {
            subject: "Your verification code".to_owned(),
            text,
            html: None,
        }
    }
}

/// The AWS SDK configuration from the environment (region, credentials, and
/// `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` for a local AWS). Credentials are
/// resolved lazily, on first use, so init does no network I/O.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The DynamoDB store on the configured table.
pub fn dynamo_store(sdk: &aws_config::SdkConfig, settings: &Settings) -> DynamoStore {
    DynamoStore::new(aws_sdk_dynamodb::Client::new(sdk), settings.table_name.clone())
}

/// SMS delivery through SNS.
#[cfg(feature = "sms")]
pub fn sms_courier(sdk: &aws_config::SdkConfig, settings: &Settings) -> crate::delivery::Courier {
    crate::delivery::Courier {
        sms: Some(crate::delivery::SnsSms::new(
            aws_sdk_sns::Client::new(sdk),
            settings.sms_sender_id.clone(),
        )),
        ..Default::default()
    }
}

/// Reads the settings or ends the process with the reason: a function that cannot be
/// configured must fail its init, loudly, rather than answer wrongly.
pub fn settings_or_exit() -> Settings {
    match Settings::from_env() {
        Ok(settings) => settings,
        Err(reason) => {
            tracing::error!(reason = %reason, "configuration refused");
            eprintln!("configuration refused: {reason}");
            std::process::exit(2);
        }
    }
}

/// The clock of a deployed function.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// A function that sends SMS: the store, SNS, and the settings of the environment.
#[cfg(feature = "sms")]
pub async fn sms_app_from_env() -> App<DynamoStore, crate::delivery::Courier> {
    let settings = settings_or_exit();
    let sdk = sdk_config().await;
    let store = dynamo_store(&sdk, &settings);
    let courier = sms_courier(&sdk, &settings);
    App::new(settings, store, courier, system_clock())
}

/// A function that only checks codes: the store alone.
pub async fn checking_app_from_env() -> App<DynamoStore, NoDelivery> {
    let settings = settings_or_exit();
    let sdk = sdk_config().await;
    let store = dynamo_store(&sdk, &settings);
    App::new(settings, store, NoDelivery, system_clock())
}
