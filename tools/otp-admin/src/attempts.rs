//! `otp-admin attempts list|summary`: any tenant's delivered messages, and how many of
//! them converted, read through the attempts' index.

use otp_shared::attempts::{AttemptFilter, Conversion, summarise};
use otp_shared::guard::DAY;
use otp_shared::http::rfc3339;
use otp_shared::ports::AttemptReader;
use otp_shared::spend::in_usd;
use serde_json::{Value, json};

use crate::{Admin, AttemptsArgs, AttemptsCommand};

/// The filter of `days` back from now, of one country when named.
fn filter_of(args: &AttemptsArgs, admin: &Admin) -> AttemptFilter {
    let now = admin.clock.now();
    let today = now - now.rem_euclid(DAY);
    AttemptFilter {
        after: today - (i64::from(args.days) - 1) * DAY,
        before: now + 1,
        country: args.country.clone(),
        ..AttemptFilter::default()
    }
}

fn conversion_json(conversion: Conversion) -> Value {
    json!({
        "attempts": conversion.attempts,
        "converted": conversion.converted,
        "unconverted": conversion.unconverted(),
        "conversion_rate_percentage": conversion.rate_percent(),
    })
}

pub(crate) async fn run(command: AttemptsCommand, admin: &Admin) -> Result<Value, String> {
    match command {
        AttemptsCommand::List { of, status, limit } => {
            let filter = AttemptFilter {
                converted: status.map(|status| status == "converted"),
                ..filter_of(&of, admin)
            };
            let page = admin
                .store
                .attempts_page(&of.tenant, &filter, usize::from(limit), None)
                .await
                .map_err(|e| e.to_string())?;
            let attempts: Vec<Value> = page
                .attempts
                .iter()
                .map(|attempt| {
                    json!({
                        "sid": attempt.sid(),
                        "created": rfc3339(attempt.created_at),
                        "to": attempt.to,
                        "country": attempt.country,
                        "channel": attempt.channel.name(),
                        "converted": attempt.converted,
                        "service": attempt.service,
                        "challenge_id": attempt.challenge_id,
                        "price_usd": attempt.price.map(in_usd),
                    })
                })
                .collect();
            Ok(json!({"tenant": of.tenant, "attempts": attempts, "more": page.next.is_some()}))
        }
        AttemptsCommand::Summary { of } => {
            let (all, by_country) = summarise(&admin.store, &of.tenant, &filter_of(&of, admin))
                .await
                .map_err(|e| e.to_string())?;
            let by_country: serde_json::Map<String, Value> = by_country
                .into_iter()
                .map(|(country, conversion)| (country, conversion_json(conversion)))
                .collect();
            let mut answer = conversion_json(all);
            answer["tenant"] = json!(of.tenant);
            answer["days"] = json!(of.days);
            answer["by_country"] = Value::Object(by_country);
            Ok(answer)
        }
    }
}
