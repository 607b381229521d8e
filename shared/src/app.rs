//! Everything a function needs, built once at init and borrowed by every invocation.

use std::sync::Arc;

use crate::callers::JwtVerifier;
use crate::clock::{Clock, SystemClock};
use crate::engine::Otp;
use crate::messages::Messages;
use crate::settings::{BridgekeeperSettings, Settings};
use crate::store::DynamoStore;

/// The engine with its store, a delivery (none for verify), the JWT keys and the message
/// templates.
#[derive(Debug)]
pub struct App<S, D> {
    pub otp: Otp<S>,
    pub delivery: D,
    pub jwt: JwtVerifier,
    pub messages: Messages,
    /// ZAP's routes require an API key with the `zap` permission (unless opted out).
    pub zap_requires_api_key: bool,
    /// Bridgekeeper's issuers and the sites that may use its session cookies.
    pub bridgekeeper: BridgekeeperSettings,
    /// How long a whole request may take (its AWS clients have their own deadlines).
    pub request_deadline: std::time::Duration,
    /// The deployment places calls (it names an origination identity for them).
    pub calls: bool,
    /// The EMF recorder a deployed function flushes after each invocation (None: metrics
    /// off, or not a deployed function).
    pub metrics: Option<crate::telemetry::Emf>,
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
                numbers: settings.numbers,
                guard: settings.guard,
                spend: settings.spend,
                allow_test_destinations: settings.allow_test_destinations,
                suspects: Default::default(),
                telemetry: crate::telemetry::Telemetry {
                    metrics: settings.metrics,
                },
                clock,
            },
            delivery,
            jwt: settings.jwt,
            messages: settings.messages,
            zap_requires_api_key: settings.zap_requires_api_key,
            bridgekeeper: settings.bridgekeeper,
            request_deadline: settings.deadlines.request,
            calls: settings.voice_origination.is_some(),
            metrics: None,
        }
    }

    pub fn store(&self) -> &S {
        &self.otp.store
    }
}

/// The AWS SDK configuration by the SDK's default chains (environment, profiles, SSO, role
/// assumption, instance metadata), for the tools that run on an operator's or a
/// developer's machine. A deployed function takes its configuration from what Lambda
/// gives it instead ([`crate::function_config`]). Credentials are resolved lazily, on
/// first use, so this does no network I/O.
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await
}

/// The DynamoDB store on the configured table, each call within the store's deadline.
pub fn dynamo_store(sdk: &aws_config::SdkConfig, settings: &Settings) -> DynamoStore {
    let config = crate::backend::dynamodb_config(sdk, settings.deadlines.store).build();
    DynamoStore::new(aws_sdk_dynamodb::Client::from_conf(config), settings.table_name.clone())
}

/// Delivery through SNS (SMS) and, when the function sends email, SESv2, each hand-over
/// within the delivery deadline.
#[cfg(feature = "sms")]
pub fn courier(sdk: &aws_config::SdkConfig, settings: &Settings) -> crate::delivery::Courier {
    let deadline = settings.deadlines.delivery;
    crate::delivery::Courier {
        sms: Some(crate::delivery::SnsSms::new(
            aws_sdk_sns::Client::from_conf(crate::backend::sns_config(sdk, deadline).build()),
            settings.sms_sender_id.clone(),
        )),
        #[cfg(feature = "email")]
        email: settings.email_from.as_ref().map(|from| {
            crate::delivery::SesEmail::new(
                aws_sdk_sesv2::Client::from_conf(crate::backend::sesv2_config(sdk, deadline).build()),
                from.clone(),
            )
        }),
        #[cfg(feature = "whatsapp")]
        whatsapp: Some(crate::delivery::WhatsApp::new(
            aws_sdk_socialmessaging::Client::from_conf(crate::backend::socialmessaging_config(sdk, deadline).build()),
        )),
        // Calls go out only from an origination identity the operator named.
        #[cfg(feature = "voice")]
        voice: settings.voice_origination.as_ref().map(|origination| {
            crate::delivery::Voice::new(
                aws_sdk_pinpointsmsvoicev2::Client::from_conf(crate::backend::sms_voice_config(sdk, deadline).build()),
                origination.clone(),
                settings.spend.call_per_minute,
            )
        }),
    }
}

/// Reads the settings or ends the process with the reason: a function that cannot be
/// configured must fail its init, loudly, rather than answer wrongly.
pub fn settings_or_exit() -> Settings {
    let settings = Settings::from_env().and_then(|settings| {
        if cfg!(feature = "email") && settings.email_from.is_none() {
            Err("EMAIL_FROM is required by the functions that send email".to_owned())
        } else {
            Ok(settings)
        }
    });
    match settings {
        Ok(settings) => {
            for caution in settings.cautions() {
                tracing::warn!(caution = %caution, "configuration allows more than it may mean to");
            }
            settings
        }
        Err(reason) => {
            tracing::error!(reason = %reason, "configuration refused");
            eprintln!("configuration refused: {reason}");
            std::process::exit(2);
        }
    }
}

/// The EMF recorder of a deployed function, when its settings turn metrics on.
fn metrics_of(settings: &Settings) -> Option<crate::telemetry::Emf> {
    settings
        .metrics
        .then(|| crate::telemetry::install(&settings.service_name))
        .flatten()
}

/// The clock of a deployed function.
pub fn system_clock() -> Arc<dyn Clock> {
    Arc::new(SystemClock)
}

/// A function that sends: the store, SNS (and SESv2 when built with email), and the
/// settings of the environment.
#[cfg(feature = "sms")]
pub fn sending_app_from_env() -> App<DynamoStore, crate::delivery::Courier> {
    let settings = settings_or_exit();
    let sdk = crate::function_config::function_sdk_config();
    let store = dynamo_store(&sdk, &settings);
    let courier = courier(&sdk, &settings);
    let metrics = metrics_of(&settings);
    App {
        metrics,
        ..App::new(settings, store, courier, system_clock())
    }
}

/// A function that only checks codes: the store alone.
pub fn checking_app_from_env() -> App<DynamoStore, NoDelivery> {
    let settings = settings_or_exit();
    let sdk = crate::function_config::function_sdk_config();
    let store = dynamo_store(&sdk, &settings);
    let metrics = metrics_of(&settings);
    App {
        metrics,
        ..App::new(settings, store, NoDelivery, system_clock())
    }
}
