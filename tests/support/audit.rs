//! What the functions must never log, searched for in everything they logged during a test
//! run: the codes delivered, HMAC keys, client secrets and API keys, JWTs, and destinations
//! in clear.
//!
//! The test support notes each secret as it makes or reads one (tokens, client
//! credentials, destinations, the codes of delivered messages). With `OTP_TEST_REPORT_DIR`
//! set (`scripts/test.sh` sets it), the functions' log lines and those secrets also go to
//! files there, one pair per test process, and the `audit-logs` binary searches the whole
//! run's lines for the whole run's secrets once every test is done.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// A secret the logs must not show, and what kind it is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Secret {
    pub kind: String,
    pub value: String,
}

/// The directory of the run's report (its logs and secrets, the load figures), if any.
pub fn report_dir() -> Option<PathBuf> {
    std::env::var_os("OTP_TEST_REPORT_DIR").map(PathBuf::from)
}

fn process_file(prefix: &str, extension: &str) -> Option<std::fs::File> {
    let dir = report_dir()?;
    std::fs::create_dir_all(&dir).ok()?;
    let path = dir.join(format!("{prefix}-{}.{extension}", std::process::id()));
    std::fs::OpenOptions::new().create(true).append(true).open(path).ok()
}

/// Prints a line of the test report and keeps it in the report's `file`, for
/// `scripts/test.sh` to print once every test is done.
pub fn report(file: &str, line: &str) {
    eprintln!("{line}");
    if let Some(dir) = report_dir() {
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join(file), format!("{line}\n"));
    }
}

/// This process's log file in the audit directory (none without one).
pub(crate) fn log_file() -> Option<std::fs::File> {
    process_file("functions", "jsonl")
}

struct Ledger {
    noted: BTreeSet<Secret>,
    file: Option<std::fs::File>,
}

/// Notes a secret the logs must not show.
pub fn note(kind: &str, value: &str) {
    // Short values (a 4-digit test code, an empty field) would match by chance.
    if value.len() < 6 {
        return;
    }
    static LEDGER: OnceLock<Mutex<Ledger>> = OnceLock::new();
    let ledger = LEDGER.get_or_init(|| {
        Mutex::new(Ledger {
            noted: BTreeSet::new(),
            file: process_file("secrets", "tsv"),
        })
    });
    let mut ledger = ledger.lock().expect("secrets ledger");
    let secret = Secret {
        kind: kind.to_owned(),
        value: value.to_owned(),
    };
    if ledger.noted.insert(secret)
        && let Some(file) = ledger.file.as_mut()
    {
        let _ = writeln!(file, "{kind}\t{value}");
    }
}

/// Notes every code a delivered message carries (runs of six or more digits).
pub fn note_codes(text: &str) {
    for code in text.split(|c: char| !c.is_ascii_digit()).filter(|word| word.len() >= 6) {
        note("code", code);
    }
}

/// The secrets noted in `dir` by every test process of the run, and the constants of the
/// test support (the HMAC key, the events' secrets).
pub fn secrets_in(dir: &Path) -> std::io::Result<Vec<Secret>> {
    let mut secrets: BTreeSet<Secret> = [
        ("hmac key", crate::HMAC_KEYS),
        ("jwt secret", crate::EVENTS_JWT_SECRET),
        ("client secret", crate::EVENTS_CLIENT_SECRET),
        ("api key secret", crate::EVENTS_API_KEY_SECRET),
    ]
    .into_iter()
    .map(|(kind, value)| Secret {
        kind: kind.to_owned(),
        value: value.to_owned(),
    })
    .collect();
    for text in files_in(dir, "secrets-")? {
        secrets.extend(text.lines().filter_map(|line| {
            let (kind, value) = line.split_once('\t')?;
            Some(Secret {
                kind: kind.to_owned(),
                value: value.to_owned(),
            })
        }));
    }
    Ok(secrets.into_iter().collect())
}

/// Every log line written in `dir` by the run's test processes.
pub fn logs_in(dir: &Path) -> std::io::Result<String> {
    Ok(files_in(dir, "functions-")?.concat())
}

fn files_in(dir: &Path, prefix: &str) -> std::io::Result<Vec<String>> {
    let mut texts = Vec::new();
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with(prefix))
        {
            texts.push(std::fs::read_to_string(path)?);
        }
    }
    Ok(texts)
}

/// Fields whose values the service makes itself and that carry nothing of a request
/// (times, ids of its own, an API client's and a service's UUIDs): left out of the search, where their
/// digits could spell any code or number.
const OWN_FIELDS: [&str; 6] = [
    "timestamp",
    "challenge_id",
    "client",
    "service",
    "requestId",
    "xrayTraceId",
];

/// The text of a log line that the search covers: every value but `OWN_FIELDS`, with
/// every hyphenated UUID standing alone (a tenant's client or issuer, a user's reference,
/// inside any value) taken out. About one UUID in 32 holds a run of nine decimal digits
/// in its last group of twelve hex digits, which would read as a number in clear; no
/// code, destination or other secret the run notes is written in a UUID's shape, so the
/// secrets are searched for in this text too.
fn searched(line: &Value) -> String {
    without_uuids(&values_of(line))
}

fn values_of(line: &Value) -> String {
    match line {
        Value::Object(fields) => fields
            .iter()
            .filter(|(name, _)| !OWN_FIELDS.contains(&name.as_str()))
            .map(|(name, value)| format!("{name}={} ", values_of(value)))
            .collect(),
        Value::Array(values) => values.iter().map(values_of).collect::<Vec<_>>().join(" "),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// `text` with each hyphenated UUID in it replaced by `<uuid>`.
/// A UUID stands alone: no letter or digit touches it on either side (a number of more
/// digits than a UUID's group is not hidden by reading its tail as one).
fn without_uuids(text: &str) -> String {
    const LENGTH: usize = 36;
    let word = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(next) = rest.chars().next() {
        let candidate = rest.get(..LENGTH).filter(|c| {
            c.as_bytes()[8] == b'-' && !word(kept.chars().next_back()) && !word(rest[LENGTH..].chars().next())
        });
        if candidate.is_some_and(|c| uuid::Uuid::try_parse(c).is_ok()) {
            kept.push_str("<uuid>");
            rest = &rest[LENGTH..];
        } else {
            kept.push(next);
            rest = &rest[next.len_utf8()..];
        }
    }
    kept
}

/// Whether `needle` occurs in `text` not inside a longer run of digits (a code of six
/// digits is not found inside a ten-digit count).
fn occurs(text: &str, needle: &str) -> bool {
    let digits = needle.bytes().all(|b| b.is_ascii_digit());
    text.match_indices(needle).any(|(at, _)| {
        if !digits {
            return true;
        }
        let before = text[..at].bytes().next_back();
        let after = text[at + needle.len()..].bytes().next();
        !before.is_some_and(|b| b.is_ascii_digit()) && !after.is_some_and(|b| b.is_ascii_digit())
    })
}

/// What was found where it must not be: one description per leak.
pub fn leaks(logs: &str, secrets: &[Secret]) -> Vec<String> {
    let mut found = Vec::new();
    for (number, line) in logs.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        let Ok(parsed) = serde_json::from_str::<Value>(line) else {
            found.push(format!("line {}: not a JSON line", number + 1));
            continue;
        };
        let text = searched(&parsed);
        for secret in secrets.iter().filter(|secret| occurs(&text, &secret.value)) {
            found.push(format!("line {}: a {} in clear", number + 1, secret.kind));
        }
        if text.contains("eyJ") {
            found.push(format!("line {}: something like a JWT", number + 1));
        }
        // A destination is logged masked: its local part or middle digits are `*`s.
        if text.match_indices('@').any(|(at, _)| !text[..at].ends_with('*')) {
            found.push(format!("line {}: an address not masked", number + 1));
        }
        let longest_digits = text
            .split(|c: char| !c.is_ascii_digit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        if longest_digits >= 9 {
            found.push(format!("line {}: a run of {longest_digits} digits", number + 1));
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(kind: &str, value: &str) -> Secret {
        Secret {
            kind: kind.into(),
            value: value.into(),
        }
    }

    #[test]
    fn masked_lines_pass() {
        let line = r#"{"timestamp":"2026-11-28T08:00:00.123456Z","level":"INFO","message":"code sent","destination":"+91******3219","challenge_id":"c6af9ac6-1234-5678-9a41-93e8deadbe11","spans":[{"requestId":"123456-abc"}]}"#;
        let email = r#"{"message":"code sent","destination":"a***@example.com","limit":1000000}"#;
        let secrets = [secret("code", "123456"), secret("code", "000000")];
        assert_eq!(leaks(&format!("{line}\n{email}\n"), &secrets), Vec::<String>::new());
    }

    #[test]
    fn every_kind_of_leak_is_found() {
        let secrets = [secret("code", "482913"), secret("client secret", "s3cr3t-value")];
        let logs = [
            r#"{"message":"wrong code 482913"}"#,
            r#"{"message":"bad","detail":"s3cr3t-value"}"#,
            r#"{"message":"token eyJhbGciOiJIUzI1NiJ9.e30.x"}"#,
            r#"{"message":"sent","destination":"asha@example.com"}"#,
            r#"{"message":"sent","destination":"+919876543219"}"#,
            "plain text",
        ]
        .join("\n");
        let found = leaks(&logs, &secrets);
        for expected in [
            "line 1: a code in clear",
            "line 2: a client secret in clear",
            "line 3: something like a JWT",
            "line 4: an address not masked",
            "line 5: a run of 12 digits",
            "line 6: not a JSON line",
        ] {
            assert!(found.iter().any(|leak| leak == expected), "{expected} not in {found:?}");
        }
    }

    #[test]
    fn the_services_uuids_are_not_numbers_in_clear() {
        let tenant = r#"{"message":"guard refused a send","tenant":"client:f114b120-18ae-4107-b12b-575862453498","prefix":"+91 7000"}"#;
        let moved = r#"{"message":"moved","from":"UserRef(kgen:d5b2e760-1b6c-4296-a89f-104219876543:old)"}"#;
        let beside = r#"{"message":"sent","error":"id f114b120-18ae-4107-b12b-575862453498 to +919876543219"}"#;
        let secrets = [secret("code", "758624")];
        assert_eq!(leaks(&format!("{tenant}\n{moved}\n"), &secrets), Vec::<String>::new());
        assert_eq!(leaks(beside, &secrets), ["line 1: a run of 12 digits"]);
        // A number whose tail could be read as a UUID is still a number in clear.
        let tail = r#"{"message":"sent","error":"+919876543210-1234-1234-1234-123456789012"}"#;
        assert_eq!(leaks(tail, &secrets), ["line 1: a run of 12 digits"]);
    }

    #[test]
    fn a_code_inside_a_longer_number_is_not_that_code() {
        assert!(!occurs("count=14829130", "482913"));
        assert!(occurs("code 482913.", "482913"));
    }
}
