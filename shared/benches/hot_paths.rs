//! The CPU work of one request, measured: code generation, sealing and checking a code,
//! phone normalisation, JWT verification, a budget decision. Prints nanoseconds per
//! operation and the process's peak memory. Run: `cargo bench -p otp-shared`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use otp_shared::callers::JwtVerifier;
use otp_shared::code::{Code, CodeKeys};
use otp_shared::destination::Destination;
use otp_shared::policy::Policy;

/// Runs `work` repeatedly for about a second; returns nanoseconds per call.
fn measure(name: &str, mut work: impl FnMut()) {
    for _ in 0..100 {
        work();
    }
    let mut iterations = 0u64;
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(1) {
        for _ in 0..100 {
            work();
        }
        iterations += 100;
    }
    let per_call = start.elapsed().as_nanos() as f64 / iterations as f64;
    println!("{name:<44} {per_call:>12.0} ns/op {:>12} ops", iterations);
}

/// Peak resident memory of this process, from the kernel.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|line| line.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() {
    // Before anything else touches a phone number: the first one of a process loads the
    // numbering metadata, which a function's first request pays once.
    let first = Instant::now();
    black_box(Destination::phone("+91", black_box("09876543219")).ok());
    let first_phone = first.elapsed();

    let keys = CodeKeys::parse("bench-hmac-key-0123456789abcdef0123456789abcdef").expect("key");
    let code = Code::generate(6);
    let sealed = keys.seal("3f0c1c36-8f3e-4d0e-9a52-7d3c9a0b1e21", &code);
    let secret = "bench-jwt-secret-0123456789abcdef";
    let verifier = JwtVerifier::new(Some(secret), None, None).expect("verifier");
    let exp = jsonwebtoken::get_current_timestamp() + 3_600;
    let token = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &serde_json::json!({"iss": "bench", "sub": "user", "exp": exp}),
        &jsonwebtoken::EncodingKey::from_secret(secret.as_bytes()),
    )
    .expect("token");
    let rule = Policy::default().guess_budget();
    let hits: Vec<i64> = (0..9).map(|i| 1_700_000_000 + i * 60).collect();

    println!("{:<44} {:>15} {:>16}", "operation", "time", "iterations");
    println!(
        "{:<44} {:>12.0} ns once per process",
        "first phone number (loads the metadata)",
        first_phone.as_nanos() as f64
    );
    measure("generate a 6-digit code", || {
        black_box(Code::generate(6));
    });
    measure("seal a code (HMAC-SHA256)", || {
        black_box(keys.seal(black_box("3f0c1c36-8f3e-4d0e-9a52-7d3c9a0b1e21"), &code));
    });
    measure("check a code (constant time)", || {
        black_box(keys.matches("3f0c1c36-8f3e-4d0e-9a52-7d3c9a0b1e21", black_box(&code), &sealed));
    });
    measure("normalise a national phone number (+91)", || {
        black_box(Destination::phone("+91", black_box("09876543219")).ok());
    });
    measure("validate an E.164 number", || {
        black_box(Destination::e164(black_box("+2348011111111")).ok());
    });
    measure("validate an email address", || {
        black_box(Destination::email(black_box("Asha.K@Example.COM")).ok());
    });
    measure("verify an HS256 JWT", || {
        black_box(verifier.verify(black_box(&token)).ok());
    });
    measure("decide a failure budget (10 per hour)", || {
        black_box(rule.admit(black_box(&hits), 1_700_000_600).ok());
    });
    match peak_rss_kib() {
        Some(kib) => println!("peak resident memory of this process: {kib} KiB"),
        None => println!("peak resident memory: not available on this system"),
    }
}
