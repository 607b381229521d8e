//! `otp-admin test-destination ...`: the phone numbers and addresses that take a known
//! code, per client, where the deployment allows them (`AllowTestDestinations`).

use otp_shared::clock::{Clock, SystemClock, UnixSeconds};
use otp_shared::http::rfc3339;
use otp_shared::ports::ClientRegistry;
use otp_shared::test_destinations::{TestDestination, TestOwner, known_code};
use serde_json::{Value, json};

use crate::users::contact_of;
use crate::{Admin, OwnerArgs, TestDestinationCommand};

/// How far ahead a test destination may expire: it is a standing exception to delivery,
/// so it is renewed on purpose, not forgotten.
const MAX_DAYS_AHEAD: i64 = 366;
const DAY: i64 = 86_400;

pub(crate) async fn run(command: TestDestinationCommand, admin: &Admin) -> Result<Value, String> {
    match command {
        TestDestinationCommand::Add {
            owner,
            to,
            code,
            expires,
        } => {
            let keys = admin
                .code_keys
                .as_ref()
                .ok_or("OTP_HMAC_KEYS is required: the deployment's code keys, newest first, seal the test code")?;
            let owner = owner_of(&owner, admin).await?;
            let destination = contact_of(&to)?;
            let code = known_code(&code)?;
            let now = SystemClock.now();
            let expires_at = expiry(&expires, now)?;
            let test = TestDestination::new(keys, &owner, &destination, &code, expires_at);
            admin
                .store
                .put_test_destination(&owner, &destination, &test, now)
                .await
                .map_err(|e| e.to_string())?;
            Ok(json!({
                "owner": owner_json(&owner),
                "destination": destination.as_str(),
                "code_length": test.code_length,
                "expires_at": rfc3339(expires_at),
            }))
        }
        TestDestinationCommand::List { owner } => {
            let owner = owner_of(&owner, admin).await?;
            let listed = admin
                .store
                .list_test_destinations(&owner)
                .await
                .map_err(|e| e.to_string())?;
            let now = SystemClock.now();
            let entries: Vec<Value> = listed
                .iter()
                .map(|test| {
                    let mut entry = json!({
                        "destination": test.destination.as_str(),
                        "code_length": test.code_length,
                        "added_at": rfc3339(test.added_at),
                        "expires_at": rfc3339(test.expires_at),
                        "expired": test.expires_at <= now,
                    });
                    // Sealed under a key the deployment no longer has: its code verifies
                    // nothing until it is added again.
                    if let Some(keys) = &admin.code_keys {
                        entry["key_retired"] = json!(!keys.knows(&test.key_id));
                    }
                    entry
                })
                .collect();
            Ok(json!({"owner": owner_json(&owner), "test_destinations": entries}))
        }
        TestDestinationCommand::Remove { owner, to } => {
            let owner = owner_of(&owner, admin).await?;
            let destination = contact_of(&to)?;
            let removed = admin
                .store
                .remove_test_destination(&owner, &destination)
                .await
                .map_err(|e| e.to_string())?;
            if !removed {
                return Err(format!("{to} is not a test destination of {}", owner_json(&owner)));
            }
            Ok(json!({"owner": owner_json(&owner), "destination": destination.as_str(), "removed": true}))
        }
    }
}

/// The owner the flags name; a client must exist.
async fn owner_of(args: &OwnerArgs, admin: &Admin) -> Result<TestOwner, String> {
    match &args.client {
        Some(id) => {
            let client = admin.store.client(id).await.map_err(|e| e.to_string())?;
            client.ok_or_else(|| format!("no client {id}"))?;
            Ok(TestOwner::Client(id.clone()))
        }
        None => Ok(TestOwner::Public),
    }
}

fn owner_json(owner: &TestOwner) -> Value {
    match owner {
        TestOwner::Client(id) => json!({"client": id}),
        TestOwner::Public => json!("public"),
    }
}

/// `YYYY-MM-DD`: the test destination applies through that day (UTC), which must be
/// after today and at most `MAX_DAYS_AHEAD` days ahead.
fn expiry(date: &str, now: UnixSeconds) -> Result<UnixSeconds, String> {
    let refused =
        || format!("--expires {date}: a date YYYY-MM-DD, after today and at most {MAX_DAYS_AHEAD} days ahead");
    let day = day_number(date.trim()).ok_or_else(refused)?;
    let expires_at = (day + 1) * DAY;
    let today = now.div_euclid(DAY);
    if day <= today || day > today + MAX_DAYS_AHEAD {
        return Err(refused());
    }
    Ok(expires_at)
}

/// Days since 1970-01-01 of a proleptic Gregorian `YYYY-MM-DD`, if it is a real date.
fn day_number(date: &str) -> Option<i64> {
    let mut parts = date.split('-');
    let (year, month, day) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || year.len() != 4 || month.len() != 2 || day.len() != 2 {
        return None;
    }
    let (year, month, day): (i64, i64, i64) = (year.parse().ok()?, month.parse().ok()?, day.parse().ok()?);
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if !(1..=12).contains(&month) || day < 1 || day > month_days[(month - 1) as usize] {
        return None;
    }
    // Days from civil (the inverse of the calendar in `rfc3339`).
    let shifted_year = if month <= 2 { year - 1 } else { year };
    let era = shifted_year.div_euclid(400);
    let year_of_era = shifted_year - era * 400;
    let month_index = (month + 9) % 12;
    let day_of_year = (153 * month_index + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    Some(era * 146_097 + day_of_era - 719_468)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_days_since_the_epoch() {
        assert_eq!(day_number("1970-01-01"), Some(0));
        assert_eq!(day_number("2000-03-01"), Some(11_017));
        assert_eq!(
            day_number("2024-02-29").map(|d| rfc3339(d * DAY)),
            Some("2024-02-29T00:00:00Z".into())
        );
        for bad in [
            "2023-02-29",
            "2026-13-01",
            "2026-1-01",
            "26-01-01",
            "2026-01-01T00",
            "tomorrow",
        ] {
            assert_eq!(day_number(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_test_destination_expires_after_its_last_day_within_a_year() {
        let now = day_number("2026-11-28").unwrap() * DAY + 3_600;
        assert_eq!(
            expiry("2026-11-29", now).map(rfc3339),
            Ok("2026-11-30T00:00:00Z".to_owned())
        );
        assert!(expiry("2026-11-28", now).is_err(), "today is too soon");
        assert!(expiry("2027-11-29", now).is_ok());
        assert!(expiry("2027-11-30", now).is_err(), "more than a year ahead");
    }
}
