//! The Bridgekeeper dialect: `POST /api/auth/v1/users/send-otp` and `.../verify-otp`, with
//! an optional `qt-auth` / `tfa-auth` cookie, and `.../update-with-otp`, the verify step of
//! the vendor's own browser client, which requires a full session's cookie. The anonymous
//! answers never tell whether a destination belongs to an account. Every answer is JSON,
//! errors and wrong routes included: that client parses each one.
//!
//! Sessions fail closed: a token is a full session only when its session claim says so;
//! any other is a pending one (password done, second factor not), which sends only to the
//! contacts on record, passes verify-otp only with a code so sent, and changes no
//! contact. A request with a session cookie from a site not allowed is refused before
//! the cookie is read. Bridgekeeper's users are its own, of the issuers the deployment
//! names for it.

use std::convert::Infallible;

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use crate::app::App;
use crate::challenge::{Attempt, Handle};
use crate::cross_site::Reached;
use crate::destination::Destination;
use crate::engine::{Plan, Requester, SendOrder};
use crate::error::OtpError;
use crate::http::{ContentTypeRule, Fields, cookie, header, json_object, json_response, route_path};
use crate::messages::Asked;
use crate::number_rules::RefusedNumber;
use crate::ports::{
    AttemptLog, ChallengeStore, ClientLimits, ClientRegistry, ContactKind, ConversionStore, Delivery, QuotaStore,
    SpendStore, UserDirectory,
};
use crate::scope::{Product, Realm, Scope, UserRef};
use crate::tenant::Tenant;

/// This dialect's name in status events and metrics.
const DIALECT: &str = "bridgekeeper";

/// Whether a path is under the dialect's prefix, where every answer, a wrong route's
/// too, is in its shape.
pub fn is_under_prefix(request: &Request) -> bool {
    route_path(request).starts_with("/api/auth/v1/users/")
}

/// Every error as `{"error": {"message": ...}}`.
pub fn render_error(error: &OtpError) -> Response<Body> {
    let (status, message, retry_after) = match error {
        OtpError::Invalid { field, reason } => (StatusCode::BAD_REQUEST, format!("{field} {reason}"), None),
        OtpError::UnsupportedLocale { .. } => (StatusCode::BAD_REQUEST, error.to_string(), None),
        OtpError::NumberRefused(RefusedNumber::Country(_)) => (
            StatusCode::BAD_REQUEST,
            "phone-number: SMS to this country is not enabled".to_owned(),
            None,
        ),
        OtpError::NumberRefused(refused) => (
            StatusCode::BAD_REQUEST,
            format!("phone-number {}", refused.reason()),
            None,
        ),
        OtpError::Unauthorized => (StatusCode::UNAUTHORIZED, "Unauthorized".to_owned(), None),
        OtpError::Forbidden => (StatusCode::FORBIDDEN, "Forbidden".to_owned(), None),
        OtpError::WrongCode | OtpError::Gone | OtpError::Spent { .. } | OtpError::NotThisDestination => {
            (StatusCode::UNAUTHORIZED, "Invalid OTP".to_owned(), None)
        }
        OtpError::NotFound => (StatusCode::NOT_FOUND, "Not found".to_owned(), None),
        OtpError::MethodNotAllowed => (StatusCode::METHOD_NOT_ALLOWED, "Method not allowed".to_owned(), None),
        OtpError::TooMany { retry_after }
        | OtpError::RangeBlocked { retry_after }
        | OtpError::SpendCapped { retry_after } => (
            StatusCode::TOO_MANY_REQUESTS,
            "Too many requests".to_owned(),
            Some(*retry_after),
        ),
        OtpError::Unavailable { retry_after } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "Service unavailable".to_owned(),
            Some(*retry_after),
        ),
    };
    json_response(status, &json!({"error": {"message": message}}), retry_after)
}

/// A signed-in user, as a session cookie says.
struct Session {
    user: UserRef,
    /// The token says the sign-in is complete; otherwise a second factor is pending.
    full: bool,
}

/// Whose budgets a request spends: the session's issuer (Bridgekeeper's users of it), or
/// without a session Bridgekeeper's public.
fn tenant(session: Option<&Session>) -> Tenant {
    match session {
        Some(session) => Tenant::Issuer(session.user.realm()),
        None => Tenant::Public(Product::Bridgekeeper),
    }
}

/// The session a cookie carries: `qt-auth` wins over `tfa-auth`. A request with a cookie
/// from a site that may not use it is refused before the token is read; a token that
/// fails verification, or whose issuer Bridgekeeper does not serve, is refused, never
/// taken for an anonymous request.
fn session<S, D>(app: &App<S, D>, request: &Request) -> Result<Option<Session>, OtpError> {
    let Some(token) = cookie(request, "qt-auth").or_else(|| cookie(request, "tfa-auth")) else {
        return Ok(None);
    };
    let origin = header(request, "origin");
    let reached = Reached {
        host: header(request, "host"),
        scheme: header(request, "x-forwarded-proto"),
    };
    if !app
        .bridgekeeper
        .allowed_origins
        .admit(origin, header(request, "sec-fetch-site"), &reached)
    {
        tracing::warn!(
            origin = origin.unwrap_or("none"),
            "cross-site request with a session cookie refused"
        );
        return Err(OtpError::Forbidden);
    }
    let token = app.jwt.verify(token)?;
    if !app.bridgekeeper.issuers.contains(&token.issuer) {
        tracing::info!("a session of an issuer Bridgekeeper does not serve refused");
        return Err(OtpError::Unauthorized);
    }
    Ok(Some(Session {
        full: token.is_full_session(),
        user: token.user(Product::Bridgekeeper),
    }))
}

/// The realms of Bridgekeeper's users: one per issuer the deployment names for it.
fn realms<S, D>(app: &App<S, D>) -> impl Iterator<Item = Realm> + '_ {
    (app.bridgekeeper.issuers.iter()).map(|issuer| Realm::new(Product::Bridgekeeper, issuer.clone()))
}

fn kind_of(medium: &str) -> Result<ContactKind, OtpError> {
    match medium {
        "email" => Ok(ContactKind::Email),
        "phone-number" => Ok(ContactKind::Phone),
        _ => Err(OtpError::invalid(
            "mediums",
            "may contain \"email\" and \"phone-number\" only",
        )),
    }
}

/// The destination a request names in its body: the email, else the phone number. Both
/// are validated when both come, so a bad value is never silently ignored.
fn named_destination(fields: &Fields) -> Result<Option<Destination>, OtpError> {
    let present = |name: &str| fields.0.get(name).is_some_and(|v| !v.is_null());
    let phone = if present("phone-number") {
        let phone = fields.string("phone-number")?;
        Some(
            Destination::e164(phone)
                .map_err(|_| OtpError::invalid("phone-number", "is not a valid international number (+ and digits)"))?,
        )
    } else {
        None
    };
    let email = if present("email") {
        let email = fields.string("email")?;
        Some(Destination::email(email).map_err(|_| OtpError::invalid("email", "is not a valid email address"))?)
    } else {
        None
    };
    Ok(email.or(phone))
}

/// The kinds of contact `mediums` asks for (email when absent), each once.
fn mediums(fields: &Fields) -> Result<Vec<ContactKind>, OtpError> {
    let mut kinds = Vec::new();
    match fields.0.get("mediums") {
        None | Some(Value::Null) => kinds.push(ContactKind::Email),
        Some(Value::Array(mediums)) if !mediums.is_empty() => {
            for medium in mediums {
                let kind = kind_of(medium.as_str().unwrap_or_default())?;
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
        }
        Some(_) => return Err(OtpError::invalid("mediums", "must be a non-empty array of strings")),
    }
    Ok(kinds)
}

/// The destinations of a logged-in user's send: the kinds of contact asked for.
async fn recorded_destinations<S: UserDirectory, D>(
    app: &App<S, D>,
    user: &UserRef,
    kinds: Vec<ContactKind>,
) -> Result<Vec<Destination>, OtpError> {
    // Both kinds are read together: one round trip however many mediums are asked for.
    let reads = kinds.into_iter().map(|kind| async move {
        app.store().contact_of(user, kind).await?.ok_or_else(|| {
            let medium = if kind == ContactKind::Email {
                "email"
            } else {
                "phone-number"
            };
            OtpError::invalid("mediums", format!("no {medium} on record for this user"))
        })
    });
    futures_util::future::try_join_all(reads).await
}

/// send-otp: the vendor's five cases. The answer is the same whether or not a user owns the
/// destination, and so is what the request spends.
pub async fn send<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + SpendStore + UserDirectory + ClientRegistry,
    D: Delivery,
{
    let work = async {
        let session = session(app, &request)?;
        // JSON whatever the Content-Type: the vendor's curl examples send a form type or none.
        let fields = json_object(&request, ContentTypeRule::AnyContentType, true)?;
        let always_send = match fields.0.get("always-send") {
            None | Some(Value::Null) => false,
            Some(Value::Bool(flag)) => *flag,
            Some(_) => return Err(OtpError::invalid("always-send", "must be true or false")),
        };
        let requester = super::requester(&request, tenant(session.as_ref()), DIALECT);
        let named = named_destination(&fields)?;
        // Checked whatever the case, though only a session without a named destination
        // uses it: a bad value is never silently ignored.
        let kinds = mediums(&fields)?;
        match (session, named) {
            // A full session proving a destination to add (the update-with-otp flow): the
            // code goes where the body says, in a scope only update-with-otp verifies, so
            // a code sent where the caller chose never passes verify-otp (a second factor).
            (Some(Session { user, full: true }), Some(destination)) => {
                super::send_default(
                    app,
                    Scope::NewContact(user),
                    &destination,
                    &requester,
                    async { Ok(()) },
                    |_| ClientLimits::default(),
                )
                .await?;
            }
            // A pending session naming a destination: a code goes only to the user's
            // contact of that kind on record (read beside the budgets), and the request
            // costs the same either way.
            (Some(Session { user, full: false }), Some(destination)) => {
                let kind = ContactKind::of(&destination);
                let on_record = async {
                    let recorded = app.store().contact_of(&user, kind).await?;
                    Ok(recorded.is_some_and(|recorded| recorded.key() == destination.key()))
                };
                if !send_or_count(app, Scope::User(user.clone()), &destination, &requester, on_record).await? {
                    tracing::info!(destination = %destination, "a pending session named a contact not on record");
                }
            }
            // Cases 3 and 4: the signed-in user's own email, or the mediums asked for
            // (read first: they say where the codes go), each sent at once.
            (Some(Session { user, .. }), None) => {
                let sends = recorded_destinations(app, &user, kinds)
                    .await?
                    .into_iter()
                    .map(|destination| {
                        let scope = Scope::User(user.clone());
                        let requester = &requester;
                        async move {
                            super::send_default(app, scope, &destination, requester, async { Ok(()) }, |_| {
                                ClientLimits::default()
                            })
                            .await
                        }
                    });
                for sent in futures_util::future::join_all(sends).await {
                    sent?;
                }
            }
            // Cases 1, 2 and 5: a code goes to a destination of a known user (of any of
            // Bridgekeeper's issuers), or to any with `always-send`; either way the request
            // costs the same, and the registry is read beside the budgets.
            (None, named) => {
                let destination =
                    named.ok_or_else(|| OtpError::invalid("email", "or phone-number is required without a session"))?;
                let known = async {
                    let owners = realms(app).map(|realm| {
                        let destination = &destination;
                        async move { app.store().owner_of(&realm, destination).await }
                    });
                    // Started together: one read of the registry however many issuers.
                    let owners = futures_util::future::try_join_all(owners).await?;
                    Ok(owners.iter().any(Option::is_some) || always_send)
                };
                send_or_count(
                    app,
                    Scope::Anonymous(Product::Bridgekeeper),
                    &destination,
                    &requester,
                    known,
                )
                .await?;
            }
        }
        Ok((StatusCode::OK, json!({"message": "OTP sent"})))
    };
    super::respond(app.request_deadline, work, render_error).await
}

/// A send that delivers only when `deliver` (read beside the budgets) says so, and
/// otherwise spends the same budgets and sends nothing: the answer and the cost tell
/// nobody which it was. Returns whether a code went out.
async fn send_or_count<S, D>(
    app: &App<S, D>,
    scope: Scope,
    destination: &Destination,
    requester: &Requester,
    deliver: impl std::future::Future<Output = Result<bool, OtpError>>,
) -> Result<bool, OtpError>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + SpendStore + ClientRegistry,
    D: Delivery,
{
    let order = SendOrder {
        scope,
        destination: destination.clone(),
        requester,
        indexed_by_id: false,
        channel: None,
    };
    let limits = ClientLimits::default();
    let plan = |deliver: &bool| {
        Ok(match deliver {
            true => Plan::<(), Infallible>::Deliver(super::default_dispatch(app, limits)),
            false => Plan::Count(limits),
        })
    };
    let (deliver, _) = app
        .otp
        .send(order, deliver, plan, &app.delivery, |(), writing| {
            app.messages.for_destination(destination, writing, &Asked::default())
        })
        .await?;
    Ok(deliver)
}

/// The code of a session's request, for the destination the caller names in `named` or,
/// without one, the user's email on record. Only `adding` (update-with-otp) takes the
/// codes sent to a named destination (the new-contact scope); verify-otp takes those sent
/// to the contacts on record.
async fn session_attempt<S: UserDirectory, D>(
    app: &App<S, D>,
    requester: Requester,
    user: UserRef,
    named: Option<Destination>,
    code: crate::code::Submitted,
    adding: bool,
) -> Result<Attempt, OtpError> {
    let (scope, destination) = match named {
        Some(destination) if adding => (Scope::NewContact(user.clone()), destination),
        Some(destination) => (Scope::User(user.clone()), destination),
        None => {
            let email = app
                .store()
                .contact_of(&user, ContactKind::Email)
                .await?
                .ok_or_else(|| OtpError::invalid("email", "is required: none on record for this user"))?;
            (Scope::User(user.clone()), email)
        }
    };
    let link = adding;
    Ok(Attempt {
        scope,
        destination,
        handle: Handle::Open,
        code,
        link: link.then_some(user),
        requester,
    })
}

/// update-with-otp: the signed-in user (a full session's cookie required) proves the
/// destination `user` names (`email` or `phone-number`, sent before with send-otp; without
/// one, the email on record), which is then linked to them. A pending session never
/// changes a contact: 401 `Unauthorized`. A wrong, expired, used or unknown code is the
/// same 401 `Invalid OTP`.
pub async fn update_with_otp<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + UserDirectory,
{
    let work = async {
        let session = session(app, &request)?.ok_or(OtpError::Unauthorized)?;
        if !session.full {
            tracing::info!("a pending session may not change a contact: update-with-otp refused");
            return Err(OtpError::Unauthorized);
        }
        let requester = super::requester(&request, tenant(Some(&session)), DIALECT);
        let user = session.user;
        let fields = json_object(&request, ContentTypeRule::AnyContentType, false)?;
        let code = super::submitted_code(fields.digits("otp")?, app.otp.policy.code_length)?;
        let named = match fields.0.get("user") {
            None | Some(Value::Null) => None,
            Some(Value::Object(user)) => named_destination(&Fields(user.clone()))?,
            Some(_) => return Err(OtpError::invalid("user", "must be an object")),
        };
        let attempt = session_attempt(app, requester, user, named, code, true).await?;
        app.otp.verify(&attempt, async { Ok(()) }).await?;
        let field = match attempt.destination {
            Destination::Phone(_) => "phone-number",
            Destination::Email(_) => "email",
        };
        Ok((
            StatusCode::OK,
            json!({"message": "User updated", "user": {field: attempt.destination.as_str()}}),
        ))
    };
    super::respond(app.request_deadline, work, render_error).await
}

/// verify-otp: a code for the named destination (or, in a session without one, the user's
/// email on record). Any failure is the same 401 `Invalid OTP`.
pub async fn verify<S, D>(app: &App<S, D>, request: Request) -> Response<Body>
where
    S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + UserDirectory,
{
    let work = async {
        let session = session(app, &request)?;
        let fields = json_object(&request, ContentTypeRule::AnyContentType, false)?;
        let code = super::submitted_code(fields.digits("otp")?, app.otp.policy.code_length)?;
        let named = named_destination(&fields)?;
        let requester = super::requester(&request, tenant(session.as_ref()), DIALECT);
        let attempt = match (session, named) {
            // Full or pending alike: only codes sent to contacts on record are in this
            // scope (a pending session's send to anything else sent nothing).
            (Some(session), named) => session_attempt(app, requester, session.user, named, code, false).await?,
            (None, Some(destination)) => Attempt {
                scope: Scope::Anonymous(Product::Bridgekeeper),
                destination,
                handle: Handle::Open,
                code,
                link: None,
                requester,
            },
            (None, None) => {
                return Err(OtpError::invalid(
                    "email",
                    "or phone-number is required without a session",
                ));
            }
        };
        app.otp.verify(&attempt, async { Ok(()) }).await?;
        Ok((StatusCode::OK, json!({"message": "OTP verified"})))
    };
    super::respond(app.request_deadline, work, render_error).await
}
