//! The Twilio Verify v2 dialect, for the clients teams already run (Twilio's SDKs with the
//! Verify base URL replaced): `POST /v2/Services/{ServiceSid}/Verifications` (send-otp),
//! `POST .../VerificationCheck`, `GET` and `POST .../Verifications/{Sid}` (verify).
//!
//! Form-encoded requests, HTTP Basic auth with an API client's id and secret as account
//! SID and auth token, or with one of its API keys (`SK...` and the key's secret); the
//! Service SID names an OTP configuration of that client. The client's verifications are
//! its own scope, shared by its services. The security rules stay the service's:
//! attempts, budgets and hashing are those of every other dialect.

mod attempts;
mod render;
mod request;
mod services;

use std::future::Future;

use lambda_http::http::{Method, StatusCode};
use lambda_http::{Body, Request, Response};

use crate::app::App;
use crate::callers::authenticate_basic;
use crate::challenge::{Attempt, Checked, Handle, Lifecycle, Settlement};
use crate::destination::Destination;
use crate::engine::{Dispatch, Ended, Plan, SendOrder};
use crate::error::OtpError;
use crate::http::json_response;
use crate::messages::{Asked, Writing};
use crate::ports::{
    AttemptLog, ChallengeStore, Channel, ClientRecord, ClientRegistry, ConfigRegistry, ConversionStore, Delivery,
    OtpConfig, Permission, QuotaStore, SpendStore, UserDirectory,
};
use crate::scope::Scope;
use crate::tenant::Tenant;

pub use attempts::serve as attempts;
pub use render::{Operation, challenge_id, render_error, verification_sid};
use render::{Owner, Verification, channel_disabled};
use request::{
    Route, app_hash, base_url, basic_credentials, claimed_account, destination, form, locale, percent_decoded,
    requested_channel, route,
};
pub use services::serve as services;

/// This dialect's name in status events and metrics.
const DIALECT: &str = "twilio";

/// Whether a path is under Twilio's `/v2/`, where every answer, a route's this service
/// does not serve too, is in Twilio's error shape (its SDKs parse every answer).
pub fn is_under_prefix(request: &Request) -> bool {
    crate::http::route_path(request).starts_with("/v2/")
}

/// The client the Basic credentials name, checked (one read): its record holds its
/// index of services too.
async fn account<S: ClientRegistry, D>(app: &App<S, D>, request: &Request) -> Result<ClientRecord, OtpError> {
    let credentials = basic_credentials(request);
    let (id, secret) = credentials
        .as_ref()
        .map(|(id, secret)| (Some(id.as_str()), Some(secret.as_str())))
        .unwrap_or((None, None));
    authenticate_basic(app.store(), id, secret, Permission::Twilio).await
}

/// The credentials' check and the service's configuration, read at once; the
/// configuration must be the client's own (another's is not found).
async fn account_and_service<S: ClientRegistry + ConfigRegistry, D>(
    app: &App<S, D>,
    request: &Request,
    service: &str,
) -> Result<(ClientRecord, OtpConfig), OtpError> {
    let (client, config) = tokio::join!(account(app, request), async {
        app.store().config(&crate::sid::config_uid(service)).await
    });
    let (client, config) = (client?, config?);
    let config = config
        .filter(|config| config.client_id == client.id)
        .ok_or(OtpError::NotFound)?;
    Ok((client, config))
}

/// The resource answer of a request that `work` settles; errors in Twilio's shape.
async fn answer<S, D>(
    app: &App<S, D>,
    operation: Operation,
    work: impl Future<Output = Result<Response<Body>, OtpError>>,
) -> Response<Body> {
    match crate::backend::bounded(app.request_deadline, work).await {
        Ok(response) => response,
        Err(failure) => render_error(&failure, operation),
    }
}

/// Create: a code by the channel the request names, with that channel's template and
/// sender (60223 for a channel the service lacks). A create while a verification
/// is pending re-sends on the same sid, as Twilio does; 201 with the verification.
pub async fn create<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + SpendStore + ClientRegistry + ConfigRegistry,
    D: Delivery,
{
    let Some(Route::Create { service }) = route(&request) else {
        return render_error(&OtpError::NotFound, Operation::Create);
    };
    let work = async {
        let claimed = claimed_account(&request).ok_or(OtpError::Unauthorized)?;
        let parsed = form(&request).and_then(|parameters| {
            let destination = destination(parameters.required("To")?)?;
            let channel = requested_channel(&parameters)?.to_owned();
            // An empty friendly name is none: the service's name is shown.
            let friendly_name = match parameters.get("CustomFriendlyName")?.filter(|name| !name.is_empty()) {
                Some(name) if name.chars().count() > 30 => {
                    return Err(OtpError::invalid(
                        "CustomFriendlyName",
                        "must have at most 30 characters",
                    ));
                }
                name => name.map(str::to_owned),
            };
            // A call the deployment cannot place is refused as such (60223), whatever
            // its language: its `Locale` is not read.
            let spoken = channel == Channel::Call.name();
            let placed = !spoken || app.calls;
            let asked = Asked {
                locale: parameters
                    .get("Locale")?
                    .filter(|tag| !tag.is_empty() && placed)
                    .map(|tag| locale(tag, spoken))
                    .transpose()?,
                app_hash: parameters
                    .get("AppHash")?
                    .filter(|hash| !hash.is_empty())
                    .map(app_hash)
                    .transpose()?,
            };
            Ok((destination, channel, friendly_name, asked))
        });
        let (destination, channel, friendly_name, asked) =
            super::parsed_after(parsed, account_and_service(app, &request, service)).await?;
        let requester = super::requester(&request, Tenant::Client(claimed.clone()), DIALECT);
        let order = SendOrder {
            scope: Scope::Client(claimed.clone()),
            destination: destination.clone(),
            requester: &requester,
            indexed_by_id: true,
            channel: Channel::parse(&channel),
        };
        // The service as it sends by the channel the request names (60223 for one it
        // lacks), to a destination of that channel's kind. A friendly name (the
        // request's, else the service's) is the name the message shows; the sender (an SMS
        // sender ID, an email's display name) stays the service's.
        let plan = |(client, config): &(ClientRecord, OtpConfig)| {
            // A call needs the deployment's origination identity as well.
            let Some(config) = Channel::parse(&channel)
                .filter(|named| *named != Channel::Call || app.calls)
                .and_then(|named| config.by(named))
            else {
                return Ok(Plan::Withdraw(channel_disabled(&channel)));
            };
            if Channel::of(&destination).reaches_phones() != config.channel.reaches_phones() {
                let wrong_kind = OtpError::invalid("To", format!("must be an address for the {channel} channel"));
                return Ok(Plan::Withdraw(render_error(&wrong_kind, Operation::Create)));
            }
            let shown_name = friendly_name.clone().unwrap_or_else(|| config.shown_name().to_owned());
            Ok(Plan::Deliver(Dispatch {
                limits: client.limits,
                profile: config.profile,
                channel: Some(config.channel),
                to: None,
                service: Some(config.uid.clone()),
                message: (config, shown_name),
            }))
        };
        let compose = |(config, shown_name): &(OtpConfig, String), writing: Writing<'_>| {
            app.messages.for_config(config, writing, "", shown_name, &asked)
        };
        let reads = account_and_service(app, &request, service);
        let ((client, _), sent) = match app.otp.send(order, reads, plan, &app.delivery, compose).await? {
            (reads, Ended::Sent(sent)) => (reads, sent),
            (_, Ended::Withdrawn(answer)) => return Ok(answer),
            (_, Ended::Counted) => unreachable!("a create's plan never only counts"),
        };
        let verification = Verification {
            challenge_id: &sent.challenge_id,
            destination: &destination,
            lifecycle: Lifecycle::Pending,
            created_at: sent.opened_at,
            sent_at: sent.sent_at,
            updated_at: sent.sent_at,
            channel: sent.channel,
        };
        let owner = Owner::new(&client.id, service, base_url(&request));
        Ok(json_response(StatusCode::CREATED, &verification.resource(&owner), None))
    };
    answer(app, Operation::Create, work).await
}

/// Check: `Code` with `To` or `VerificationSid`. 200 with `approved` for the right code,
/// `pending` for a wrong one while attempts are left; 60202 once they are spent, 20404
/// when no verification is pending.
pub async fn check<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + ClientRegistry + ConfigRegistry + UserDirectory,
{
    let Some(Route::Check { service }) = route(&request) else {
        return render_error(&OtpError::NotFound, Operation::Check);
    };
    let work = async {
        let claimed = claimed_account(&request).ok_or(OtpError::Unauthorized)?;
        let requester = super::requester(&request, Tenant::Client(claimed.clone()), DIALECT);
        let scope = Scope::Client(claimed);
        let parsed = form(&request).and_then(|parameters| {
            let code = parameters.required("Code")?;
            let code = crate::code::Code::from_text(code, crate::policy::CODE_LENGTH.max as u8)
                .ok_or_else(|| OtpError::invalid("Code", "must be 1 to 10 digits"))?;
            let named = match (parameters.get("VerificationSid")?, parameters.get("To")?) {
                // A `To` beside the sid is not read, but must be a destination.
                (Some(sid), to) => {
                    to.map(destination).transpose()?;
                    Named::Sid(sid.to_owned())
                }
                (None, Some(to)) => Named::To(destination(to)?),
                (None, None) => return Err(OtpError::invalid("To", "or VerificationSid is required")),
            };
            Ok((code, named))
        });
        let (code, named) = super::parsed_after(parsed, account_and_service(app, &request, service)).await?;
        // By sid, the verification's destination is found first, beside the credentials'
        // check (the attempt counts on that destination); by `To`, the check rides
        // beside the attempt.
        let (destination, handle, checked_account) = match named {
            Named::Sid(sid) => {
                let id = challenge_id(&sid).ok_or(OtpError::NotFound)?;
                let (account, located) =
                    tokio::join!(account_and_service(app, &request, service), app.otp.locate(&scope, &id));
                let account = account?;
                (
                    located?.ok_or(OtpError::NotFound)?,
                    Handle::LocatedId(id),
                    Some(account),
                )
            }
            Named::To(destination) => (destination, Handle::Open, None),
        };
        let reads = async {
            match checked_account {
                Some(account) => Ok(account),
                None => account_and_service(app, &request, service).await,
            }
        };
        let attempt = Attempt {
            scope: scope.clone(),
            destination: destination.clone(),
            handle,
            code: code.into(),
            link: None,
            requester,
        };
        let ((account, config), checked) = app.otp.check(&attempt, reads).await?;
        let now = app.otp.clock.now();
        let max_attempts = app.otp.policy.attempts_per_challenge;
        let verification = match &checked {
            Checked::Approved(verified) => Verification {
                lifecycle: Lifecycle::Approved,
                updated_at: now,
                ..Verification::of(&verified.challenge, &destination, now, max_attempts, config.channel)
            },
            // Still pending to Twilio's clients, even on the wrong code that spent the last
            // attempt: the next check answers 60202.
            Checked::Wrong(counted) => Verification {
                lifecycle: Lifecycle::Pending,
                ..Verification::of(counted, &destination, now, max_attempts, config.channel)
            },
        };
        let owner = Owner::new(&account.id, service, base_url(&request));
        Ok(json_response(StatusCode::OK, &verification.check(&owner), None))
    };
    answer(app, Operation::Check, work).await
}

/// How a check names its verification.
#[derive(Debug)]
enum Named {
    Sid(String),
    To(Destination),
}

/// Fetch (`GET`) and update (`POST`, `Status` = `canceled` | `approved`) of the
/// verification the path names by its sid or its `To`.
pub async fn verification<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ChallengeStore + ClientRegistry + ConfigRegistry,
{
    let Some(Route::Verification { service, named }) = route(&request) else {
        return render_error(&OtpError::NotFound, Operation::Other);
    };
    let work = async {
        let settlement = if request.method() == Method::POST {
            let parsed = form(&request).and_then(|parameters| match parameters.required("Status")? {
                "canceled" => Ok(Settlement::Cancel),
                "approved" => Ok(Settlement::Approve),
                _ => Err(OtpError::invalid("Status", "must be canceled or approved")),
            });
            Some(super::parsed_after(parsed, account_and_service(app, &request, service)).await?)
        } else {
            None
        };
        let scope = Scope::Client(claimed_account(&request).ok_or(OtpError::Unauthorized)?);
        let named = percent_decoded(named);
        // The verification is read beside the credentials' check (under the client they
        // claim; nothing of it is shown unless the check passes).
        let found = async {
            match challenge_id(&named) {
                Some(id) => app.otp.find(&scope, &id).await,
                None => match destination(&named) {
                    Ok(destination) => Ok(app
                        .otp
                        .current(&scope, &destination)
                        .await?
                        .map(|challenge| (destination, challenge))),
                    Err(_) => Ok(None),
                },
            }
        };
        let (account, found) = tokio::join!(account_and_service(app, &request, service), found);
        let (client, config) = account?;
        let (destination, challenge) = found?.ok_or(OtpError::NotFound)?;
        let challenge = match settlement {
            Some(settlement) => app
                .otp
                .settle(&scope, &destination, &challenge.id, settlement, DIALECT)
                .await?
                .ok_or(OtpError::NotFound)?,
            None => challenge,
        };
        let now = app.otp.clock.now();
        let verification = Verification::of(
            &challenge,
            &destination,
            now,
            app.otp.policy.attempts_per_challenge,
            config.channel,
        );
        let owner = Owner::new(&client.id, service, base_url(&request));
        Ok(json_response(StatusCode::OK, &verification.resource(&owner), None))
    };
    answer(app, Operation::Other, work).await
}
