//! A ready-to-use local setup: the table and SES identity, a client with every permission
//! and a Twilio API key, an SMS OTP configuration that sends by email too when asked and an
//! email one (BizMagnets' configurations, Twilio's services), a Bridgekeeper user with a
//! phone and an email on record, and JWTs of that user signed with the local `JWT_SECRET`:
//! one for KGen, a full Bridgekeeper session and a pending one.

use otp_admin::{Admin, execute};
use otp_shared::ports::Permission;
use otp_shared::settings::Settings;
use otp_shared::store::DynamoStore;
use serde_json::{Value, json};

/// The demo user's issuer (the local server's `BRIDGEKEEPER_ISSUERS`), id and contacts.
pub const DEMO_ISSUER: &str = "local-demo";
pub const DEMO_USER: &str = "demo-user";
pub const DEMO_PHONE: &str = "+919876543219";
pub const DEMO_EMAIL: &str = "demo@example.com";
/// The template of the demo's email and WhatsApp messages.
const SHORT_TEMPLATE: &str = "{code} is your {sender} code. It expires in {minutes} minutes.";
/// The demo's WhatsApp business number, as the stand-in takes it.
const DEMO_WHATSAPP_NUMBER: &str = "phone-number-id-0000000000000000000000000000demo";

async fn admin(words: &[&str], admin: &Admin) -> Result<Value, String> {
    let args: Vec<String> = words.iter().map(|w| w.to_string()).collect();
    execute(&args, admin)
        .await
        .map_err(|e| format!("otp-admin {}: {e}", words.join(" ")))
}

pub async fn provision(sdk: &aws_config::SdkConfig, store: &DynamoStore, settings: &Settings) -> Result<Value, String> {
    let tools = Admin {
        store: store.clone(),
        ses: aws_sdk_sesv2::Client::new(sdk),
        email_from: settings.email_from.clone(),
        code_keys: Some(settings.keys.clone()),
        spend: settings.spend.clone(),
        clock: std::sync::Arc::new(otp_shared::clock::SystemClock),
    };
    admin(&["init"], &tools).await?;
    // The demo calls every product's API, so it is granted every permission, by name: the
    // command grants nothing unless told.
    let every_permission = Permission::ALL.map(Permission::name).join(",");
    let client = admin(
        &[
            "client",
            "create",
            "--name",
            "Local demo",
            "--permissions",
            &every_permission,
        ],
        &tools,
    )
    .await?;
    let client_id = client["client_id"].as_str().unwrap_or_default().to_owned();
    // Twilio's SDKs in production authenticate with an API key rather than the auth token.
    let key = admin(
        &[
            "client",
            "key",
            "create",
            "--client",
            &client_id,
            "--name",
            "Local demo",
        ],
        &tools,
    )
    .await?;
    let config = admin(
        &[
            "config",
            "create",
            "--client",
            &client_id,
            "--channel",
            "sms",
            "--length",
            "6",
            "--ttl",
            "300",
            "--template",
            "Hi {name}, {code} is your {sender} code. It expires in {minutes} minutes.",
            "--sender",
            "DEMO",
        ],
        &tools,
    )
    .await?;
    // The SMS service sends by email too, when a request names that channel.
    let config_uid = config["otp_config_uid"].as_str().unwrap_or_default().to_owned();
    admin(
        &[
            "config",
            "channel",
            "set",
            "--config",
            &config_uid,
            "--channel",
            "email",
            "--template",
            SHORT_TEMPLATE,
            "--sender",
            "Demo",
        ],
        &tools,
    )
    .await?;
    let email_config = admin(
        &[
            "config",
            "create",
            "--client",
            &client_id,
            "--channel",
            "email",
            "--length",
            "6",
            "--ttl",
            "600",
            "--template",
            SHORT_TEMPLATE,
            "--sender",
            "Demo",
        ],
        &tools,
    )
    .await?;
    let whatsapp_config = admin(
        &[
            "config",
            "create",
            "--client",
            &client_id,
            "--channel",
            "whatsapp",
            "--length",
            "6",
            "--ttl",
            "300",
            "--template",
            SHORT_TEMPLATE,
            "--sender",
            "DEMO",
            "--whatsapp-phone-number-id",
            DEMO_WHATSAPP_NUMBER,
            "--whatsapp-template",
            "login_code",
            "--whatsapp-language",
            "en_US",
            "--fallback-to-sms",
            "true",
        ],
        &tools,
    )
    .await?;
    admin(
        &[
            "user",
            "import",
            "--product",
            "bridgekeeper",
            "--user-id",
            DEMO_USER,
            "--issuer",
            DEMO_ISSUER,
            "--phone",
            DEMO_PHONE,
            "--email",
            DEMO_EMAIL,
        ],
        &tools,
    )
    .await?;
    // The demo user's tokens: KGen's (no session claim), and Bridgekeeper's full and
    // pending sessions, by the deployment's session claim.
    let rule = settings.jwt.session_rule();
    let token = |session: Option<&str>| {
        let secret = std::env::var("JWT_SECRET").ok().filter(|s| !s.is_empty())?;
        let now = jsonwebtoken::get_current_timestamp();
        let mut claims =
            json!({"iss": DEMO_ISSUER, "sub": DEMO_USER, "user_id": DEMO_USER, "iat": now, "exp": now + 86_400});
        if let Some(value) = session {
            claims[rule.claim.as_str()] = json!(value);
        }
        jsonwebtoken::encode(
            &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
            &claims,
            &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
        )
        .ok()
    };
    let full = rule.full_values.first().map(String::as_str);
    let (jwt, qt_auth, tfa_auth) = (token(None), token(full), token(Some("pending")));
    Ok(json!({
        "client_id": client_id,
        "account_sid": client["account_sid"],
        "client_secret": client["client_secret"],
        "api_key": client["api_key"],
        "twilio_api_key": key["sid"],
        "twilio_api_secret": key["secret"],
        "otp_config_uid": config["otp_config_uid"],
        "email_config_uid": email_config["otp_config_uid"],
        "service_sid": config["service_sid"],
        "email_service_sid": email_config["service_sid"],
        "whatsapp_config_uid": whatsapp_config["otp_config_uid"],
        "jwt": jwt,
        "qt_auth": qt_auth,
        "tfa_auth": tfa_auth,
        "user": {"issuer": DEMO_ISSUER, "user_id": DEMO_USER, "phone": DEMO_PHONE, "email": DEMO_EMAIL},
    }))
}

/// Shell lines that put the demo's credentials in the environment.
pub fn exports(url: &str, demo: &Value) -> String {
    let field = |name: &str| demo[name].as_str().unwrap_or_default().to_owned();
    format!(
        "Demo credentials (paste into your shell):\n  export API={url}\n  export JWT={}\n  export CLIENT_ID={}\n  \
         export CLIENT_SECRET={}\n  export API_KEY={}\n  export OTP_CONFIG_UID={}\n  \
         export WHATSAPP_CONFIG_UID={}\n\
         Bridgekeeper's session cookies of the demo user (a full session; a second factor pending):\n  \
         export QT_AUTH={}\n  export TFA_AUTH={}\n\
         For Twilio's SDKs (the client's account SID and secret, its SMS-and-email and its email service's \
         Service SIDs):\n  \
         export TWILIO_ACCOUNT_SID={}\n  export TWILIO_AUTH_TOKEN={}\n  export VERIFY_SERVICE_SID={}\n  \
         export VERIFY_EMAIL_SERVICE_SID={}\n\
         Or, as production code authenticates, with an API key of the client:\n  \
         export TWILIO_API_KEY={}\n  export TWILIO_API_SECRET={}\n\
         The demo user ({DEMO_ISSUER}/{DEMO_USER}) has {DEMO_PHONE} and {DEMO_EMAIL} on record in Bridgekeeper.\n",
        field("jwt"),
        field("client_id"),
        field("client_secret"),
        field("api_key"),
        field("otp_config_uid"),
        field("whatsapp_config_uid"),
        field("qt_auth"),
        field("tfa_auth"),
        field("account_sid"),
        field("client_secret"),
        field("service_sid"),
        field("email_service_sid"),
        field("twilio_api_key"),
        field("twilio_api_secret"),
    )
}
