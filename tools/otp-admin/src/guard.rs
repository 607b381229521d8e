//! `otp-admin guard status`: where the conversion guard holds sends now, and why.

use otp_shared::guard::{DAY, Tally, Thresholds, explain, split_subject, verified_in_window};
use otp_shared::http::rfc3339;
use serde_json::{Value, json};

use crate::{Admin, GuardCommand};

pub(crate) async fn run(command: GuardCommand, admin: &Admin) -> Result<Value, String> {
    match command {
        GuardCommand::Status => {
            let now = admin.clock.now();
            let mut blocks = admin.store.guard_blocks(now).await.map_err(|e| e.to_string())?;
            blocks.sort_by(|a, b| a.0.cmp(&b.0));
            // The thresholds are the product's, the same in every deployment.
            let thresholds = Thresholds::default();
            let entries: Vec<Value> = blocks
                .iter()
                .map(|(subject, traffic)| {
                    let (tenant, prefix) = split_subject(subject).unwrap_or((subject.as_str(), String::new()));
                    let until = traffic.blocked_until.unwrap_or(now);
                    let verified = verified_in_window(traffic, now);
                    let today = traffic.days.get(&now.div_euclid(DAY)).copied().unwrap_or_default();
                    let counts = |tally: Tally| json!({"sent": tally.sent, "verified": tally.verified});
                    json!({
                        "tenant": tenant,
                        "prefix": prefix,
                        "blocked_until": rfc3339(until),
                        "retry_after": until - now,
                        "cool_offs_in_a_row": traffic.blocks,
                        "why": explain(thresholds, traffic, now).name(),
                        "today": counts(today),
                        "this_hour": counts(traffic.hour),
                        "verified_in_14_days": verified,
                        "unverified_allowed": {
                            "day": thresholds.per_day(verified),
                            "hour": thresholds.per_hour(verified),
                        },
                    })
                })
                .collect();
            Ok(json!({"blocks": entries}))
        }
    }
}
