//! Twilio's Services resource over a client's OTP configurations: `POST` and `GET`
//! `/v2/Services` (create, list), `GET`, `POST` and `DELETE` `/v2/Services/{Sid}`.
//!
//! A service is a configuration: `FriendlyName` is the name its messages show, and
//! `CodeLength` its codes' length (at least this deployment's minimum, 6). Twilio's other
//! parameters of a service map onto nothing here; they are kept as sent and shown back.
//! A service made here sends by SMS and by email, with the deployment's senders. Only the
//! client's own services exist for it: another client's is not found (20404). The list
//! comes from the index on the client's own item, read with its credentials; its page
//! tokens are tagged with the deployment's keys and the client's id, so no token pages
//! through another client's services, or anywhere its tag does not vouch for.

use std::collections::BTreeMap;

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};
use serde_json::{Map, Value, json};

use crate::app::App;
use crate::digits::is_digits;
use crate::error::OtpError;
use crate::http::{json_response, rfc3339};
use crate::messages::built_in_template;
use crate::policy::{CODE_LENGTH, Profile};
use crate::ports::{
    Channel, ChannelSetup, ClientRegistry, ConfigRegistry, IndexedService, OtpConfig, ServiceAdded, ServiceFacts,
};
use crate::sid::{ACCOUNT, SERVICE, shown};
use crate::store::MAX_SERVICES_PER_CLIENT;

use super::render::{Operation, error, render_error};
use super::request::{Form, Route, base_url, form, query, route};

/// The channels a service made here sends by besides SMS: email with the deployment's
/// identity, and calls where the deployment places them; each with the built-in texts, in
/// each message's language (`{sender}`: its friendly name).
fn more_channels(calls: bool) -> Vec<ChannelSetup> {
    let built_in = |channel| ChannelSetup {
        channel,
        template: built_in_template().to_owned(),
        sender: String::new(),
        whatsapp: None,
    };
    let mut channels = vec![built_in(Channel::Email)];
    if calls {
        channels.push(built_in(Channel::Call));
    }
    channels
}

/// The longest `FriendlyName` Twilio's API takes.
const MAX_FRIENDLY_NAME_CHARS: usize = 32;
/// The longest value of a parameter kept as sent (Twilio's are SIDs, names, origins):
/// every list reads them back, 24 at most per service.
const MAX_KEPT_CHARS: usize = 128;
/// The most digits of a number kept as sent: any such number fits a signed 64-bit integer,
/// as Twilio's do.
const MAX_KEPT_DIGITS: usize = 18;
/// Twilio's page sizes.
pub(super) const DEFAULT_PAGE_SIZE: usize = 50;
pub(super) const MAX_PAGE_SIZE: usize = 1000;
/// The highest page number taken (Twilio's `Page` is the caller's own count).
const MAX_PAGE: usize = 1_000_000;
/// What a page token's tag is for, so that no other tag of the keys passes for one.
const PAGE_TOKEN_PURPOSE: &str = "twilio-services-page";

/// How Twilio types a parameter kept as sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Flag,
    Number,
    Text,
}

/// Twilio's parameters of a service that map onto nothing here: the parameter, where the
/// resource shows it (dotted: nested), and its type.
const KEPT: [(&str, &str, Kind); 24] = [
    ("LookupEnabled", "lookup_enabled", Kind::Flag),
    ("SkipSmsToLandlines", "skip_sms_to_landlines", Kind::Flag),
    ("DtmfInputRequired", "dtmf_input_required", Kind::Flag),
    ("TtsName", "tts_name", Kind::Text),
    ("Psd2Enabled", "psd2_enabled", Kind::Flag),
    ("DoNotShareWarningEnabled", "do_not_share_warning_enabled", Kind::Flag),
    ("CustomCodeEnabled", "custom_code_enabled", Kind::Flag),
    ("Push.IncludeDate", "push.include_date", Kind::Flag),
    ("Push.ApnCredentialSid", "push.apn_credential_sid", Kind::Text),
    ("Push.FcmCredentialSid", "push.fcm_credential_sid", Kind::Text),
    ("Totp.Issuer", "totp.issuer", Kind::Text),
    ("Totp.TimeStep", "totp.time_step", Kind::Number),
    ("Totp.CodeLength", "totp.code_length", Kind::Number),
    ("Totp.Skew", "totp.skew", Kind::Number),
    ("DefaultTemplateSid", "default_template_sid", Kind::Text),
    ("Whatsapp.MsgServiceSid", "whatsapp.msg_service_sid", Kind::Text),
    ("Whatsapp.From", "whatsapp.from", Kind::Text),
    (
        "VerifyEventSubscriptionEnabled",
        "verify_event_subscription_enabled",
        Kind::Flag,
    ),
    ("Passkeys.RelyingParty.Id", "passkeys.relying_party.id", Kind::Text),
    ("Passkeys.RelyingParty.Name", "passkeys.relying_party.name", Kind::Text),
    (
        "Passkeys.RelyingParty.Origins",
        "passkeys.relying_party.origins",
        Kind::Text,
    ),
    (
        "Passkeys.AuthenticatorAttachment",
        "passkeys.authenticator_attachment",
        Kind::Text,
    ),
    (
        "Passkeys.DiscoverableCredentials",
        "passkeys.discoverable_credentials",
        Kind::Text,
    ),
    ("Passkeys.UserVerification", "passkeys.user_verification", Kind::Text),
];

/// What a create or an update says of a service.
#[derive(Debug, Default)]
struct Asked {
    friendly_name: Option<String>,
    code_length: Option<u8>,
    kept: BTreeMap<String, String>,
}

/// The parameters of a create (`FriendlyName` required) or an update.
fn asked(parameters: &Form, creating: bool) -> Result<Asked, OtpError> {
    let friendly_name = match parameters.get("FriendlyName")? {
        None if creating => return Err(OtpError::invalid("FriendlyName", "is required")),
        None => None,
        Some(name) if name.trim().is_empty() => return Err(OtpError::invalid("FriendlyName", "must not be empty")),
        Some(name) if name.chars().count() > MAX_FRIENDLY_NAME_CHARS => {
            return Err(OtpError::invalid(
                "FriendlyName",
                format!("must have at most {MAX_FRIENDLY_NAME_CHARS} characters"),
            ));
        }
        Some(name) => Some(name.to_owned()),
    };
    let code_length = match parameters.get("CodeLength")? {
        None => None,
        Some(text) => {
            let (min, max) = (CODE_LENGTH.min, CODE_LENGTH.max);
            // Written as Twilio writes it: no sign, no leading zero.
            let length: u64 = Some(text)
                .filter(|text| is_digits(text) && !text.starts_with('0'))
                .and_then(|text| text.parse().ok())
                .ok_or_else(|| OtpError::invalid("CodeLength", "must be a whole number"))?;
            if length < min {
                return Err(OtpError::invalid(
                    "CodeLength",
                    format!("must be at least {min}: this deployment's codes have {min} to {max} digits"),
                ));
            }
            if length > max {
                return Err(OtpError::invalid("CodeLength", format!("must be at most {max}")));
            }
            Some(length as u8)
        }
    };
    let mut kept = BTreeMap::new();
    for (parameter, _, kind) in KEPT {
        let Some(value) = parameters.get(parameter)? else {
            continue;
        };
        let fits = match kind {
            Kind::Flag => value == "true" || value == "false",
            Kind::Number => {
                let digits = value.strip_prefix('-').unwrap_or(value);
                is_digits(digits) && digits.len() <= MAX_KEPT_DIGITS
            }
            Kind::Text => value.chars().count() <= MAX_KEPT_CHARS,
        };
        if !fits {
            let reason = match kind {
                Kind::Flag => "must be true or false".to_owned(),
                Kind::Number => format!("must be a whole number of at most {MAX_KEPT_DIGITS} digits"),
                Kind::Text => format!("must have at most {MAX_KEPT_CHARS} characters"),
            };
            return Err(OtpError::invalid(parameter, reason));
        }
        kept.insert(parameter.to_owned(), value.to_owned());
    }
    Ok(Asked {
        friendly_name,
        code_length,
        kept,
    })
}

/// The Service resource of `config`, as `request` reached the service.
fn resource(config: &OtpConfig, base: &str) -> Value {
    let sid = shown(SERVICE, &config.uid).into_owned();
    let facts = &config.service;
    let name = facts.friendly_name.clone().unwrap_or_else(|| config.sender.clone());
    let mut service = json!({
        "sid": sid,
        "account_sid": shown(ACCOUNT, &config.client_id),
        "friendly_name": name,
        "code_length": config.profile.code_length,
        "lookup_enabled": false,
        "psd2_enabled": false,
        "skip_sms_to_landlines": false,
        "dtmf_input_required": false,
        "tts_name": null,
        "do_not_share_warning_enabled": false,
        "custom_code_enabled": false,
        "push": {"include_date": false, "apn_credential_sid": null, "fcm_credential_sid": null},
        "totp": {"issuer": name, "time_step": 30, "code_length": 6, "skew": 1},
        "default_template_sid": null,
        "whatsapp": {"msg_service_sid": null, "from": null},
        "passkeys": {
            "relying_party": {"id": null, "name": null, "origins": null},
            "authenticator_attachment": null,
            "discoverable_credentials": null,
            "user_verification": null
        },
        "verify_event_subscription_enabled": false,
        "date_created": facts.created_at.map(rfc3339),
        "date_updated": facts.updated_at.or(facts.created_at).map(rfc3339),
        "url": format!("{base}/v2/Services/{sid}"),
        "links": {
            "verification_checks": format!("{base}/v2/Services/{sid}/VerificationCheck"),
            "verifications": format!("{base}/v2/Services/{sid}/Verifications"),
            "rate_limits": format!("{base}/v2/Services/{sid}/RateLimits"),
            "messaging_configurations": format!("{base}/v2/Services/{sid}/MessagingConfigurations"),
            "entities": format!("{base}/v2/Services/{sid}/Entities"),
            "webhooks": format!("{base}/v2/Services/{sid}/Webhooks"),
            "access_tokens": format!("{base}/v2/Services/{sid}/AccessTokens"),
        }
    });
    for (parameter, shown_at, kind) in KEPT {
        let Some(value) = facts.kept.get(parameter) else {
            continue;
        };
        let value = match kind {
            Kind::Flag => json!(value == "true"),
            Kind::Number => value
                .parse::<i64>()
                .map_or_else(|_| json!(value), |number| json!(number)),
            Kind::Text => json!(value),
        };
        place(&mut service, shown_at, value);
    }
    service
}

/// A service's resource as the answer to `request`.
fn answer(status: StatusCode, config: &OtpConfig, request: &Request) -> Response<Body> {
    json_response(status, &resource(config, &base_url(request)), None)
}

/// `base` with the code length a request asks for, if any.
fn profile_with(base: Profile, code_length: Option<u8>) -> Result<Profile, OtpError> {
    Profile::new(code_length.unwrap_or(base.code_length), base.lifetime)
        .map_err(|reason| OtpError::invalid("CodeLength", reason))
}

/// Sets the value at a dotted path of `object`.
fn place(object: &mut Value, path: &str, value: Value) {
    let mut at = object;
    let mut names = path.split('.').peekable();
    while let Some(name) = names.next() {
        let Some(fields) = at.as_object_mut() else {
            return;
        };
        if names.peek().is_none() {
            fields.insert(name.to_owned(), value);
            return;
        }
        at = fields
            .entry(name.to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Where a page starts: the first service at or after this one, in the index's order.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PagePlace {
    created: i64,
    uid: String,
}

impl PagePlace {
    fn of(service: &IndexedService) -> Self {
        Self {
            created: service.created,
            uid: service.uid.clone(),
        }
    }

    /// The token that names this place to `client` alone: the uid exactly (in hex, so
    /// that any uid an operator chose fits a URL), and a tag over both.
    fn token<S, D>(&self, app: &App<S, D>, client: &str) -> String {
        let created = self.created.to_string();
        let uid: String = self.uid.bytes().map(|byte| format!("{byte:02x}")).collect();
        let tag = app.otp.keys.tag(PAGE_TOKEN_PURPOSE, &[client, &created, &self.uid]);
        format!("PT{created}-{uid}-{tag}")
    }

    /// The place a token names, when it is one this deployment gave `client`.
    fn from_token<S, D>(app: &App<S, D>, client: &str, token: &str) -> Option<Self> {
        let mut parts = token.strip_prefix("PT")?.splitn(3, '-');
        let (created, hex, tag) = (parts.next()?, parts.next()?, parts.next()?);
        if hex.len() % 2 != 0 || hex.len() > 2 * 256 {
            return None;
        }
        let bytes: Option<Vec<u8>> = (0..hex.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(hex.get(at..at + 2)?, 16).ok())
            .collect();
        let uid = String::from_utf8(bytes?).ok()?;
        if !app
            .otp
            .keys
            .knows_tag(PAGE_TOKEN_PURPOSE, &[client, created, &uid], tag)
        {
            return None;
        }
        Some(Self {
            created: created.parse().ok()?,
            uid,
        })
    }
}

/// A `GET /v2/Services` page's URL.
fn page_url(base: &str, size: usize, page: usize, token: Option<&str>) -> String {
    match token {
        Some(token) => format!("{base}/v2/Services?PageSize={size}&Page={page}&PageToken={token}"),
        None => format!("{base}/v2/Services?PageSize={size}&Page={page}"),
    }
}

/// A query parameter that is a whole number within `range`, or its default.
pub(super) fn number_parameter(
    request: &Request,
    name: &'static str,
    default: usize,
    range: std::ops::RangeInclusive<usize>,
) -> Result<usize, OtpError> {
    let Some(text) = query(request, name) else {
        return Ok(default);
    };
    text.parse::<usize>()
        .ok()
        .filter(|number| range.contains(number))
        .ok_or_else(|| {
            OtpError::invalid(
                name,
                format!("must be a whole number from {} to {}", range.start(), range.end()),
            )
        })
}

/// `GET /v2/Services`: the client's services, oldest first, a page at a time.
async fn list<S: ClientRegistry + ConfigRegistry, D>(
    app: &App<S, D>,
    request: &Request,
) -> Result<Response<Body>, OtpError> {
    let client = super::account(app, request).await?;
    let size = number_parameter(request, "PageSize", DEFAULT_PAGE_SIZE, 1..=MAX_PAGE_SIZE)?;
    let page = number_parameter(request, "Page", 0, 0..=MAX_PAGE)?;
    let index = &client.services;
    let token = query(request, "PageToken");
    let start = match &token {
        Some(token) => {
            // A token this deployment did not give this client names no page of its.
            let place = PagePlace::from_token(app, &client.id, token).ok_or(OtpError::NotFound)?;
            index.partition_point(|service| (service.created, &service.uid) < (place.created, &place.uid))
        }
        None => page.saturating_mul(size).min(index.len()),
    };
    let end = start.saturating_add(size).min(index.len());
    let uids: Vec<String> = index[start..end].iter().map(|service| service.uid.clone()).collect();
    let configs = app.store().configs(&uids).await?;
    let base = base_url(request);
    let services: Vec<Value> = configs
        .iter()
        .filter(|config| config.client_id == client.id)
        .map(|config| resource(config, &base))
        .collect();
    let token_at = |at: usize| PagePlace::of(&index[at]).token(app, &client.id);
    let next = (end < index.len()).then(|| page_url(&base, size, page + 1, Some(&token_at(end))));
    let previous = (start > 0).then(|| {
        let back = start.saturating_sub(size);
        page_url(&base, size, page.saturating_sub(1), Some(&token_at(back)))
    });
    let this = page_url(&base, size, page, token.as_deref());
    let body = json!({
        "services": services,
        "meta": {
            "page": page,
            "page_size": size,
            "first_page_url": page_url(&base, size, 0, None),
            "previous_page_url": previous,
            "url": this,
            "next_page_url": next,
            "key": "services",
        }
    });
    Ok(json_response(StatusCode::OK, &body, None))
}

/// `POST /v2/Services`: a new service of the client, sending by SMS, by email and, where
/// the deployment places them, by calls.
async fn create<S: ClientRegistry + ConfigRegistry, D>(
    app: &App<S, D>,
    request: &Request,
) -> Result<Response<Body>, OtpError> {
    let parsed = form(request).and_then(|parameters| asked(&parameters, true));
    let client = super::account(app, request).await?;
    let asked = parsed?;
    let now = app.otp.clock.now();
    let profile = profile_with(app.otp.policy.default_profile(), asked.code_length)?;
    let config = OtpConfig {
        uid: uuid::Uuid::new_v4().to_string(),
        client_id: client.id.clone(),
        channel: Channel::Sms,
        profile,
        template: built_in_template().to_owned(),
        // The deployment's senders: an SMS sender ID and a verified email identity are
        // the operator's to set up, not an API caller's.
        sender: String::new(),
        whatsapp: None,
        more_channels: more_channels(app.calls),
        service: ServiceFacts {
            friendly_name: asked.friendly_name,
            kept: asked.kept,
            created_at: Some(now),
            updated_at: Some(now),
        },
        localization: Default::default(),
    };
    match app.store().put_config(&config).await? {
        ServiceAdded::Added => {}
        // Gone since its credentials were read.
        ServiceAdded::NoSuchClient => return Err(OtpError::Unauthorized),
        ServiceAdded::Full => {
            return Ok(error(
                21102,
                StatusCode::FORBIDDEN,
                &format!("Reached maximum number of Services ({MAX_SERVICES_PER_CLIENT})"),
                None,
            ));
        }
    }
    tracing::info!(service = %config.uid, "service created");
    Ok(answer(StatusCode::CREATED, &config, request))
}

/// `POST /v2/Services/{Sid}`: what the request names changes; the rest stays.
async fn update<S: ClientRegistry + ConfigRegistry, D>(
    app: &App<S, D>,
    request: &Request,
    service: &str,
) -> Result<Response<Body>, OtpError> {
    let parsed = form(request).and_then(|parameters| asked(&parameters, false));
    let (_, current) = super::account_and_service(app, request, service).await?;
    let asked = parsed?;
    let profile = profile_with(current.profile, asked.code_length)?;
    let mut kept = current.service.kept.clone();
    kept.extend(asked.kept);
    let updated = OtpConfig {
        profile,
        service: ServiceFacts {
            friendly_name: asked.friendly_name.or(current.service.friendly_name.clone()),
            kept,
            updated_at: Some(app.otp.clock.now()),
            ..current.service.clone()
        },
        ..current
    };
    if !app.store().update_service(&updated).await? {
        return Err(OtpError::NotFound);
    }
    Ok(answer(StatusCode::OK, &updated, request))
}

/// `/v2/Services/{Sid}`: fetch (`GET`), update (`POST`) or delete (`DELETE`) one of the
/// client's services.
async fn one<S: ClientRegistry + ConfigRegistry, D>(
    app: &App<S, D>,
    request: &Request,
    service: &str,
) -> Result<Response<Body>, OtpError> {
    match *request.method() {
        Method::GET => {
            let (_, config) = super::account_and_service(app, request, service).await?;
            Ok(answer(StatusCode::OK, &config, request))
        }
        Method::POST => update(app, request, service).await,
        Method::DELETE => {
            let (client, uid) = match super::account_and_service(app, request, service).await {
                Ok((client, config)) => (client, config.uid),
                // No such configuration of the client's; its index may still name one
                // that is gone, which a delete then takes out.
                Err(OtpError::NotFound) => {
                    let client = super::account(app, request).await?;
                    let uid = crate::sid::config_uid(service).into_owned();
                    if !client.services.iter().any(|indexed| indexed.uid == uid) {
                        return Err(OtpError::NotFound);
                    }
                    (client, uid)
                }
                Err(error) => return Err(error),
            };
            if !app.store().delete_config(&client.id, &uid).await? {
                return Err(OtpError::NotFound);
            }
            tracing::info!(service = %uid, "service deleted");
            let mut response = Response::new(Body::Empty);
            *response.status_mut() = StatusCode::NO_CONTENT;
            Ok(response)
        }
        _ => Err(OtpError::MethodNotAllowed),
    }
}

/// The Services resource: `/v2/Services` and `/v2/Services/{Sid}`, by method.
pub async fn serve<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ClientRegistry + ConfigRegistry,
{
    let work = async {
        match route(&request) {
            Some(Route::Services) if request.method() == Method::GET => list(app, &request).await,
            Some(Route::Services) if request.method() == Method::POST => create(app, &request).await,
            Some(Route::Service { service }) => one(app, &request, service).await,
            _ => Err(OtpError::MethodNotAllowed),
        }
    };
    match crate::backend::bounded(app.request_deadline, work).await {
        Ok(response) => response,
        Err(failure) => render_error(&failure, Operation::Other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kept_parameters_land_where_twilio_shows_them() {
        let mut service = json!({"push": {"include_date": false}, "tts_name": null});
        place(&mut service, "push.include_date", json!(true));
        place(&mut service, "tts_name", json!("Polly.Joanna"));
        place(&mut service, "passkeys.relying_party.id", json!("example.com"));
        assert_eq!(service["push"]["include_date"], json!(true));
        assert_eq!(service["tts_name"], json!("Polly.Joanna"));
        assert_eq!(service["passkeys"]["relying_party"]["id"], json!("example.com"));
        // Every parameter has a place of its own.
        let places: std::collections::HashSet<&str> = KEPT.iter().map(|(_, at, _)| *at).collect();
        assert_eq!(places.len(), KEPT.len());
    }
}
