//! Twilio's Verification Attempts, each client's own: `GET /v2/Attempts` (filtered, newest
//! first, a page at a time), `GET /v2/Attempts/{Sid}` and `GET /v2/Attempts/Summary`
//! (how many of the filter's attempts converted). Attempts are read through the index of
//! the client's days (`attempts.rs`), never by a scan.

use lambda_http::http::StatusCode;
use lambda_http::{Body, Request, Response};
use serde_json::{Value, json};

use crate::App;
use crate::attempts::{AttemptFilter, Cursor, KEPT, SID, SendAttempt, summarise};
use crate::clock::{UnixSeconds, parse_rfc3339, rfc3339};
use crate::destination::{Channel, Destination};
use crate::digits::is_digits;
use crate::error::OtpError;
use crate::http::{json_response, route_path};
use crate::ports::{AttemptReader, ClientRegistry};
use crate::routes::Operation as Route;
use crate::spend::in_usd;
use crate::tenant::Tenant;

use super::render::{Operation, verification_sid};
use super::request::base_url;
use super::services::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, number_parameter};
use super::{account, answer};

const PAGE_TOKEN_PURPOSE: &str = "twilio-attempts-page";
/// Pages a listing may skip without a token (`Page=N` alone): each is read and dropped.
const MAX_SKIPPED_PAGES: usize = 20;

/// An attempt as Twilio's resource shows it.
fn resource(attempt: &SendAttempt, account_sid: &str, base: &str) -> Value {
    let sid = attempt.sid();
    json!({
        "sid": sid,
        "account_sid": account_sid,
        "service_sid": attempt.service.as_deref().map(|uid| crate::sid::shown(crate::sid::SERVICE, uid)),
        "verification_sid": verification_sid(&attempt.challenge_id),
        "date_created": rfc3339(attempt.created_at),
        "date_updated": rfc3339(attempt.updated_at),
        "conversion_status": if attempt.converted { "converted" } else { "unconverted" },
        "channel": attempt.channel.name(),
        "price": attempt.price.map(|price| json!({"value": format!("{:.4}", in_usd(price)), "currency": "usd"})),
        "channel_data": {"to": attempt.to},
        "url": format!("{base}/v2/Attempts/{sid}"),
    })
}

/// A query parameter, when given and not empty (an empty filter filters nothing).
fn query(request: &Request, name: &str) -> Option<String> {
    super::request::query(request, name).filter(|value| !value.is_empty())
}

/// A date-time parameter (ISO 8601), or its default; given empty, it is no date-time.
fn time_parameter(request: &Request, name: &'static str, default: UnixSeconds) -> Result<UnixSeconds, OtpError> {
    match super::request::query(request, name) {
        None => Ok(default),
        Some(text) => parse_rfc3339(&text).ok_or_else(|| OtpError::invalid(name, "must be an ISO 8601 date-time")),
    }
}

/// A filter parameter, when given: what `parse` makes of it, else refused as `problem`.
fn parsed<T>(
    request: &Request,
    name: &'static str,
    parse: impl FnOnce(&str) -> Option<T>,
    problem: &str,
) -> Result<Option<T>, OtpError> {
    query(request, name)
        .map(|value| parse(&value).ok_or_else(|| OtpError::invalid(name, problem)))
        .transpose()
}

/// The filter a listing or a summary asks for, within the 30 days kept.
fn filter_of(request: &Request, now: UnixSeconds, listing: bool) -> Result<AttemptFilter, OtpError> {
    let kept = AttemptFilter::kept_at(now);
    let after = time_parameter(request, "DateCreatedAfter", kept.after)?.max(kept.after);
    let before = time_parameter(request, "DateCreatedBefore", kept.before)?
        .min(kept.before)
        .max(after);
    let channel = parsed(request, "Channel", Channel::parse, "unknown")?;
    let country = parsed(
        request,
        "Country",
        |code| (code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic())).then(|| code.to_ascii_uppercase()),
        "must be an ISO 3166 alpha-2 code",
    )?;
    let service = query(request, "VerifyServiceSid").map(|sid| crate::sid::config_uid(&sid).into_owned());
    let mut filter = AttemptFilter {
        after,
        before,
        channel,
        country,
        service,
        ..AttemptFilter::default()
    };
    if listing {
        // As messages are addressed; anything else is matched as given (and matches none).
        filter.to = query(request, "ChannelData.To").map(|to| {
            Destination::e164(&to)
                .or_else(|_| Destination::email(&to))
                .map_or(to, |to| to.as_str().to_owned())
        });
        filter.challenge_id = parsed(request, "VerificationSid", super::challenge_id, "must be a VE sid")?;
        filter.converted = parsed(
            request,
            "Status",
            |status| match status {
                "converted" => Some(true),
                "unconverted" => Some(false),
                _ => None,
            },
            "must be converted or unconverted",
        )?;
    } else {
        filter.prefix = parsed(
            request,
            "DestinationPrefix",
            |prefix| {
                let digits = prefix.strip_prefix('+').unwrap_or(prefix);
                (is_digits(digits) && digits.len() < 15).then(|| format!("+{digits}"))
            },
            "must be digits of a number (+44791)",
        )?;
    }
    Ok(filter)
}

/// The token that names a place in a listing to `client` alone: the cursor, and a tag
/// over both.
fn token<S, D>(app: &App<S, D>, client: &str, cursor: &Cursor) -> String {
    let place = cursor.encode();
    let tag = app.otp.keys.tag(PAGE_TOKEN_PURPOSE, &[client, &place]);
    format!("PT{place}_{tag}")
}

/// The place a token names, when it is one this deployment gave `client`.
fn from_token<S, D>(app: &App<S, D>, client: &str, token: &str) -> Option<Cursor> {
    let (place, tag) = token.strip_prefix("PT")?.rsplit_once('_')?;
    app.otp
        .keys
        .knows_tag(PAGE_TOKEN_PURPOSE, &[client, place], tag)
        .then(|| Cursor::decode(place))?
}

/// A listing page's URL: the filter's parameters as sent, the page's own.
fn page_url(base: &str, request: &Request, size: usize, page: usize, token: Option<&str>) -> String {
    let mut url = form_urlencoded::Serializer::new(String::new());
    if let Some(sent) = request.uri().query() {
        for (name, value) in form_urlencoded::parse(sent.as_bytes()) {
            if !matches!(name.as_ref(), "PageSize" | "Page" | "PageToken") {
                url.append_pair(&name, &value);
            }
        }
    }
    url.append_pair("PageSize", &size.to_string());
    url.append_pair("Page", &page.to_string());
    if let Some(token) = token {
        url.append_pair("PageToken", token);
    }
    format!("{base}/v2/Attempts?{}", url.finish())
}

/// `GET /v2/Attempts`: the client's attempts the filter keeps, newest first.
async fn list<S: ClientRegistry + AttemptReader, D>(
    app: &App<S, D>,
    request: &Request,
) -> Result<Response<Body>, OtpError> {
    let client = account(app, request).await?;
    let filter = filter_of(request, app.otp.clock.now(), true)?;
    let size = number_parameter(request, "PageSize", DEFAULT_PAGE_SIZE, 1..=MAX_PAGE_SIZE)?;
    let page = number_parameter(request, "Page", 0, 0..=usize::MAX >> 1)?;
    let tenant = Tenant::Client(client.id.clone()).key();
    let sent_token = query(request, "PageToken");
    let mut from = match &sent_token {
        // A token this deployment did not give this client names no page of its.
        Some(token) => Some(from_token(app, &client.id, token).ok_or(OtpError::NotFound)?),
        None => None,
    };
    // `Page=N` without a token: the pages before it are read and dropped.
    let skipped = if sent_token.is_none() { page } else { 0 };
    // Further pages are reached by the token of the page before (`next_page_url`).
    if skipped > MAX_SKIPPED_PAGES {
        return Err(OtpError::NotFound);
    }
    let mut found = app.store().attempts_page(&tenant, &filter, size, from.as_ref()).await?;
    for _ in 0..skipped {
        from = found.next.clone();
        if from.is_none() {
            found.attempts.clear();
            break;
        }
        found = app.store().attempts_page(&tenant, &filter, size, from.as_ref()).await?;
    }
    let base = base_url(request);
    let account_sid = crate::sid::shown(crate::sid::ACCOUNT, &client.id);
    let attempts: Vec<Value> = found
        .attempts
        .iter()
        .map(|attempt| resource(attempt, &account_sid, &base))
        .collect();
    let next = found
        .next
        .as_ref()
        .map(|cursor| page_url(&base, request, size, page + 1, Some(&token(app, &client.id, cursor))));
    // Newest first from the start: the first page is the way back.
    let previous = (page > 0).then(|| page_url(&base, request, size, 0, None));
    let body = json!({
        "attempts": attempts,
        "meta": {
            "page": page,
            "page_size": size,
            "first_page_url": page_url(&base, request, size, 0, None),
            "previous_page_url": previous,
            "url": page_url(&base, request, size, page, sent_token.as_deref()),
            "next_page_url": next,
            "key": "attempts",
        }
    });
    Ok(json_response(StatusCode::OK, &body, None))
}

/// `GET /v2/Attempts/{Sid}`: one of the client's attempts.
async fn one<S: ClientRegistry + AttemptReader, D>(
    app: &App<S, D>,
    request: &Request,
) -> Result<Response<Body>, OtpError> {
    let client = account(app, request).await?;
    let sid = route_path(request).strip_prefix("/v2/Attempts/").unwrap_or_default();
    let id = crate::sid::uuid_of(SID, sid).ok_or(OtpError::NotFound)?;
    let tenant = Tenant::Client(client.id.clone()).key();
    let attempt = app.store().attempt(&tenant, &id).await?.ok_or(OtpError::NotFound)?;
    // Kept no longer than it is listed, whenever TTL deletes it.
    if attempt.created_at <= app.otp.clock.now() - KEPT {
        return Err(OtpError::NotFound);
    }
    let account_sid = crate::sid::shown(crate::sid::ACCOUNT, &client.id);
    let body = resource(&attempt, &account_sid, &base_url(request));
    Ok(json_response(StatusCode::OK, &body, None))
}

/// `GET /v2/Attempts/Summary`: how many of the filter's attempts converted.
async fn summary<S: ClientRegistry + AttemptReader, D>(
    app: &App<S, D>,
    request: &Request,
) -> Result<Response<Body>, OtpError> {
    let client = account(app, request).await?;
    let filter = filter_of(request, app.otp.clock.now(), false)?;
    let tenant = Tenant::Client(client.id.clone()).key();
    let (conversion, _) = summarise(app.store(), &tenant, &filter).await?;
    let body = json!({
        "total_attempts": conversion.attempts,
        "total_converted": conversion.converted,
        "total_unconverted": conversion.unconverted(),
        "conversion_rate_percentage": conversion.rate_percent(),
        "url": format!("{}/v2/Attempts/Summary", base_url(request)),
    });
    Ok(json_response(StatusCode::OK, &body, None))
}

/// The Attempts resource, by the route API Gateway chose.
pub async fn serve<S, D>(app: &App<S, D>, request: Request, route: Route) -> Response<Body>
where
    S: ClientRegistry + AttemptReader,
{
    answer(app, Operation::Other, async {
        match route {
            Route::TwilioAttempts => list(app, &request).await,
            Route::TwilioAttempt => one(app, &request).await,
            _ => summary(app, &request).await,
        }
    })
    .await
}
