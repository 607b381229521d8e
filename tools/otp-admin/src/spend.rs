//! `otp-admin spend status`: the month's estimated spend against the caps.

use otp_shared::guard::HOUR;
use otp_shared::http::rfc3339;
use otp_shared::spend::{Counted, in_usd, month_of};
use serde_json::{Value, json};

use crate::{Admin, SpendCommand};

pub(crate) async fn run(command: SpendCommand, admin: &Admin) -> Result<Value, String> {
    let SpendCommand::Status { tenants, countries } = command;
    let now = admin.clock.now();
    let settings = &admin.spend;
    let mut counted = vec![Counted::Deployment];
    counted.extend(tenants.iter().map(|key| Counted::Tenant {
        key,
        public: key.starts_with("public:"),
    }));
    counted.extend(countries.iter().map(|country| Counted::CountryHour(country)));
    // Every shard of every counter, in one read.
    let shards: Vec<_> = counted.iter().flat_map(|of| settings.shards(of, now)).collect();
    let totals = admin.store.spend_totals(&shards).await.map_err(|e| e.to_string())?;
    let spent: Vec<u64> = totals
        .chunks(shards.len() / counted.len())
        .map(|c| c.iter().sum())
        .collect();
    let figures = |of: &Counted, spent: u64| json!({"spent_usd": in_usd(spent), "cap_usd": in_usd(settings.cap(of))});

    let mut answer = json!({});
    let mut tenant_rows = Vec::new();
    let mut country_rows = Vec::new();
    for (of, spent) in counted.iter().zip(spent) {
        match of {
            Counted::Deployment => answer = figures(of, spent),
            Counted::Tenant { key, .. } => {
                let mut row = figures(of, spent);
                row["tenant"] = json!(key);
                tenant_rows.push(row);
            }
            Counted::CountryHour(country) => {
                let mut row = figures(of, spent);
                row["country"] = json!(country);
                country_rows.push(row);
            }
        }
    }
    let (month, month_end) = month_of(now);
    answer["month"] = json!(month);
    answer["starts_afresh"] = json!(rfc3339(month_end));
    answer["hour"] = json!(rfc3339(now - now.rem_euclid(HOUR)));
    answer["tenants"] = json!(tenant_rows);
    answer["countries"] = json!(country_rows);
    Ok(answer)
}
