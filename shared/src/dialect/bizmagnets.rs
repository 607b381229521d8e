//! The BizMagnets dialect: `POST /otp/{otp_config_uid}/sendOTP` and
//! `POST /otp/{otp_uid}/verifyOTP`, with an `X-API-KEY`; errors in Spring's shape.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::json;

use crate::app::App;
use crate::callers::{authenticate_api_key, claimed_client};
use crate::challenge::{Attempt, Handle};
use crate::destination::{Destination, InvalidDestination, calling_code, is_national_number_somewhere};
use crate::engine::{Dispatch, SendOrder};
use crate::error::OtpError;
use crate::http::{ContentTypeRule, Fields, header, json_object, json_response, rfc3339, route_path};
use crate::messages::{Asked, Writing};
use crate::ports::{
    AttemptLog, ChallengeStore, Channel, ClientRecord, ClientRegistry, ConfigRegistry, ConversionStore, Delivery,
    OtpConfig, Permission, QuotaStore, SpendStore, UserDirectory,
};
use crate::scope::Scope;
use crate::tenant::Tenant;

/// This dialect's name in status events and metrics.
const DIALECT: &str = "bizmagnets";

/// The path parameter before `suffix` (`/otp/{it}/sendOTP`).
fn path_parameter<'a>(request: &'a Request, suffix: &str) -> Option<&'a str> {
    let path = route_path(request).strip_suffix(suffix)?;
    let (before, parameter) = path.rsplit_once('/')?;
    (before.ends_with("/otp") && !parameter.is_empty()).then_some(parameter)
}

/// Every error as the vendor's document shows it: `{"timestamp", "status", "error", "path"}`, with
/// `status` the HTTP status (403 for a wrong code or mobile number, 410 for a dead challenge).
pub fn render_error(error: &OtpError, path: &str, now: i64) -> Response<Body> {
    let (status, retry_after) = match error {
        OtpError::Invalid { .. } | OtpError::NumberRefused(_) | OtpError::UnsupportedLocale { .. } => {
            (StatusCode::BAD_REQUEST, None)
        }
        OtpError::Unauthorized => (StatusCode::UNAUTHORIZED, None),
        OtpError::Forbidden => (StatusCode::FORBIDDEN, None),
        OtpError::WrongCode | OtpError::NotThisDestination => (StatusCode::FORBIDDEN, None),
        OtpError::Gone | OtpError::Spent { .. } => (StatusCode::GONE, None),
        OtpError::NotFound => (StatusCode::NOT_FOUND, None),
        OtpError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, None),
        OtpError::TooMany { retry_after }
        | OtpError::RangeBlocked { retry_after }
        | OtpError::SpendCapped { retry_after } => (StatusCode::TOO_MANY_REQUESTS, Some(*retry_after)),
        OtpError::Unavailable { retry_after } => (StatusCode::SERVICE_UNAVAILABLE, Some(*retry_after)),
    };
    let body = json!({
        "timestamp": rfc3339(now),
        "status": status.as_u16(),
        "error": status.canonical_reason().unwrap_or("Error"),
        "path": path,
    });
    json_response(status, &body, retry_after)
}

/// The destination of `channel`. The fields of the other channel may come as well (the
/// configuration decides which count), but never with a bad value: an email must be an
/// address, a mobile number and a calling code strings.
fn destination(fields: &Fields, channel: Channel) -> Result<Destination, OtpError> {
    let present = |name: &str| fields.0.get(name).is_some_and(|v| !v.is_null());
    match channel {
        Channel::Sms | Channel::WhatsApp | Channel::Call if present("email") => {
            Destination::email(fields.string("email")?)
                .map_err(|_| OtpError::invalid("email", "is not a valid email address"))?;
        }
        // A number given beside an email is valid with its calling code, or, alone, a
        // valid number of some country.
        Channel::Email => match (present("mobileNumber"), present("countryCode")) {
            (true, true) => {
                phone(fields)?;
            }
            (true, false) if !is_national_number_somewhere(fields.string("mobileNumber")?) => {
                return Err(OtpError::invalid("mobileNumber", "is not a phone number"));
            }
            (false, true) => {
                calling_code(fields.string("countryCode")?).map_err(|_| not_a_calling_code())?;
            }
            _ => {}
        },
        _ => {}
    }
    match channel {
        Channel::Email => Destination::email(fields.string("email")?)
            .map_err(|_| OtpError::invalid("email", "is not a valid email address")),
        Channel::Sms | Channel::WhatsApp | Channel::Call => phone(fields),
    }
}

/// The number `countryCode` and `mobileNumber` name.
fn phone(fields: &Fields) -> Result<Destination, OtpError> {
    Destination::phone(fields.string("countryCode")?, fields.string("mobileNumber")?).map_err(|error| match error {
        InvalidDestination::CountryCode => not_a_calling_code(),
        _ => OtpError::invalid("mobileNumber", "is not a valid phone number for its country"),
    })
}

fn not_a_calling_code() -> OtpError {
    OtpError::invalid("countryCode", "is not a valid country calling code")
}

/// The channel a body names: a mobile number, else an email. Only a guess until the
/// configuration is read (its channel decides), so the budgets can be spent beside it.
fn channel_of_body(fields: &Fields) -> Channel {
    let present = |name: &str| fields.0.get(name).is_some_and(|v| !v.is_null());
    if present("mobileNumber") || !present("email") {
        Channel::Sms
    } else {
        Channel::Email
    }
}

/// The API key's check and the configuration, read at once; the configuration must be
/// the client's own.
async fn key_and_config<S: ClientRegistry + ConfigRegistry, D>(
    app: &App<S, D>,
    request: &Request,
    uid: &str,
) -> Result<(ClientRecord, OtpConfig), OtpError> {
    // Both run to their end (no request is abandoned); the key's answer comes first.
    let (client, config) = tokio::join!(
        authenticate_api_key(app.store(), header(request, "X-API-KEY"), Permission::Bizmagnets),
        async { app.store().config(&crate::sid::config_uid(uid)).await }
    );
    let (client, config) = (client?, config?);
    let config = config
        .filter(|config| config.client_id == client.id)
        .ok_or(OtpError::NotFound)?;
    Ok((client, config))
}

/// sendOTP: a code by the configuration's channel, template and sender; 201 with the
/// challenge `id`. The key and the configuration are read beside the budgets.
pub async fn send<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + SpendStore + ClientRegistry + ConfigRegistry,
    D: Delivery,
{
    let work = async {
        let api_key = header(&request, "X-API-KEY");
        let claimed = claimed_client(api_key).ok_or(OtpError::Unauthorized)?;
        let uid = path_parameter(&request, "/sendOTP").ok_or(OtpError::NotFound)?;
        let fields = json_object(&request, ContentTypeRule::RequireJson, false);
        let fields = super::parsed_after(fields, key_and_config(app, &request, uid)).await?;
        let name = match fields.0.get("name") {
            None | Some(serde_json::Value::Null) => "",
            Some(_) => super::parsed_after(fields.string("name"), key_and_config(app, &request, uid)).await?,
        };
        let mut guessed = channel_of_body(&fields);
        let guessed_destination = match destination(&fields, guessed) {
            Ok(destination) => destination,
            // The configuration says which fields count: its error is the one to give.
            Err(_) => {
                let (_, config) = key_and_config(app, &request, uid).await?;
                guessed = config.channel;
                destination(&fields, config.channel)?
            }
        };
        let requester = super::requester(&request, Tenant::Client(claimed.clone()), DIALECT);
        let order = SendOrder {
            scope: Scope::Client(claimed.clone()),
            destination: guessed_destination,
            requester: &requester,
            indexed_by_id: true,
            channel: None,
        };
        // The configuration says which of the body's destinations the request meant: when
        // the body named both kinds and the guess was wrong, the send goes to the other.
        let dispatch = |(client, config): &(ClientRecord, OtpConfig)| {
            let to = (config.channel.reaches_phones() != guessed.reaches_phones())
                .then(|| destination(&fields, config.channel))
                .transpose()?;
            Ok(Dispatch {
                limits: client.limits,
                profile: config.profile,
                channel: Some(config.channel),
                to,
                message: config.clone(),
                service: Some(config.uid.clone()),
            })
        };
        let compose = |config: &OtpConfig, writing: Writing<'_>| {
            app.messages
                .for_config(config, writing, name, config.shown_name(), &Asked::default())
        };
        let (_, sent) = app
            .otp
            .deliver(
                order,
                key_and_config(app, &request, uid),
                dispatch,
                &app.delivery,
                compose,
            )
            .await?;
        Ok((
            StatusCode::CREATED,
            json!({"id": sent.challenge_id, "message": "success"}),
        ))
    };
    super::respond(app.request_deadline, work, |error| {
        render_error(error, request.uri().path(), app.otp.clock.now())
    })
    .await
}

/// verifyOTP: the code of the challenge the path names, for its mobile number (or email).
/// The key is checked beside the attempt; a failed check gives the attempt back.
pub async fn verify<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + ClientRegistry + UserDirectory,
{
    let work = async {
        let api_key = header(&request, "X-API-KEY");
        let claimed = claimed_client(api_key).ok_or(OtpError::Unauthorized)?;
        let key_check = || authenticate_api_key(app.store(), api_key, Permission::Bizmagnets);
        let id = path_parameter(&request, "/verifyOTP").ok_or(OtpError::NotFound)?;
        let parsed = json_object(&request, ContentTypeRule::RequireJson, false).and_then(|fields| {
            let channel = if fields.0.get("email").is_some_and(|email| !email.is_null()) {
                Channel::Email
            } else {
                Channel::Sms
            };
            let destination = destination(&fields, channel)?;
            let code = super::submitted_code(fields.digits("otp")?, crate::policy::CODE_LENGTH.max as u8)?;
            Ok((destination, code))
        });
        let (destination, code) = super::parsed_after(parsed, key_check()).await?;
        let attempt = Attempt {
            scope: Scope::Client(claimed.clone()),
            destination,
            handle: Handle::Id(id.to_owned()),
            code,
            link: None,
            requester: super::requester(&request, Tenant::Client(claimed.clone()), DIALECT),
        };
        let (_, verified) = app.otp.verify(&attempt, key_check()).await?;
        Ok((
            StatusCode::OK,
            json!({"id": verified.challenge_id, "message": "success"}),
        ))
    };
    super::respond(app.request_deadline, work, |error| {
        render_error(error, request.uri().path(), app.otp.clock.now())
    })
    .await
}
