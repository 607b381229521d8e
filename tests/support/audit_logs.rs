//! Searches every line the functions logged in a test run for every secret the run made or
//! read (see `otp_tests::audit`): `audit-logs <OTP_TEST_REPORT_DIR>`. Prints what it
//! searched and exits non-zero on any leak.

use std::path::PathBuf;
use std::process::ExitCode;

use otp_tests::audit::{leaks, logs_in, secrets_in};

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: audit-logs <directory of the run's logs and secrets>");
        return ExitCode::from(2);
    };
    let (logs, secrets) = match (logs_in(&dir), secrets_in(&dir)) {
        (Ok(logs), Ok(secrets)) => (logs, secrets),
        (Err(error), _) | (_, Err(error)) => {
            eprintln!("audit-logs: {}: {error}", dir.display());
            return ExitCode::from(2);
        }
    };
    let lines = logs.lines().filter(|line| !line.trim().is_empty()).count();
    let found = leaks(&logs, &secrets);
    let mut kinds: Vec<&str> = secrets.iter().map(|secret| secret.kind.as_str()).collect();
    kinds.dedup();
    println!(
        "logs audited: {lines} lines searched for {} secrets ({}): {} leaks",
        secrets.len(),
        kinds.join(", "),
        found.len()
    );
    if lines == 0 {
        eprintln!("audit-logs: no log lines in {}: nothing was audited", dir.display());
        return ExitCode::FAILURE;
    }
    for leak in found.iter().take(20) {
        eprintln!("  {leak}");
    }
    if found.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
