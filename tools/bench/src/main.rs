//! `otp-bench`: runs each function's release binary as Lambda runs it, through the Runtime
//! API emulator, against the local AWS behind a fixed latency per request, and prints for
//! each operation: cold init (median of several starts), warm p50 and p99, CPU per
//! invocation, peak RSS, AWS requests and sequential round trips, DynamoDB write units,
//! and the artefact's size; beside the same figures of a bare function (the floor, run
//! first and again last) and each figure's ratio to it (to the mean of its two runs).
//!
//! Configured by the environment (`scripts/bench.sh` sets it): `BENCH_BIN_DIR` (the
//! release binaries), `BENCH_ZIP_DIR` (their zipped artefacts), `BENCH_SHORT=1` (a quick
//! run, for CI), `BENCH_LATENCY_MS` (added per AWS request, 5 by default), `BENCH_OUT`
//! (where the figures go as JSON), `OTP_PYTHON` (the Python with moto).

mod runtime;
mod scenario;
mod writes;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use otp_shared::App;
use otp_shared::callers::{api_key, generate_secret, hash_secret};
use otp_shared::clock::{Clock, ManualClock, SystemClock};
use otp_shared::policy::Profile;
use otp_shared::ports::{Channel, ClientLimits, ClientRecord, ClientRegistry, ConfigRegistry, OtpConfig, Permission};
use otp_shared::store::{DynamoStore, create_table};
use otp_tests::{EMAIL_FROM, EVENTS_JWT_SECRET, HMAC_KEYS, local_aws, sdk_config, settings};
use serde_json::{Value, json};

use otp_tests::proxy::{AwsProxy, Seen, round_trips};
use runtime::{Outcome, Runtime};
use scenario::{Fixtures, KeepCodes, Operation};

/// How much of each measurement a run makes.
#[derive(Debug, Clone, Copy)]
struct Plan {
    cold_starts: usize,
    warm_invocations: usize,
    latency: Duration,
}

/// The figures of one operation.
#[derive(Debug, Clone, Default)]
struct Figures {
    cold_init_ms: f64,
    /// The CPU time of the same inits (all threads): the work of init, without the
    /// scheduling noise of a wall clock on a shared machine.
    init_cpu_ms: f64,
    warm_p50_ms: f64,
    warm_p99_ms: f64,
    cpu_us: f64,
    /// The share of that CPU time spent in the kernel (system calls, loopback TCP).
    system_share: f64,
    peak_rss_mb: f64,
    requests: f64,
    dynamodb_round_trips: f64,
    round_trips: f64,
    write_units: f64,
    bootstrap_bytes: u64,
    zip_bytes: u64,
    operations: String,
}

fn env_or(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

fn median(values: &mut [f64]) -> f64 {
    percentile(values, 50.0)
}

fn percentile(values: &mut [f64], p: f64) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values[rank.clamp(1, values.len()) - 1]
}

/// Nanoseconds the process has spent on a CPU, all its threads together.
fn cpu_ns(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|task| std::fs::read_to_string(task.path().join("schedstat")).ok())
        .filter_map(|stat| stat.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

/// The process's user and system CPU time, in clock ticks (100 a second).
fn user_system_ticks(pid: u32) -> (u64, u64) {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name (which may hold spaces) are space-separated.
    let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = after.split_whitespace().collect();
    let field = |i: usize| fields.get(i).and_then(|v| v.parse().ok()).unwrap_or(0);
    (field(11), field(12))
}

/// The process's peak resident set, in MiB.
fn peak_rss_mb(pid: u32) -> f64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmHWM:"))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The table, the email identity, an API client allowed a million sends an hour, and its
/// configuration.
async fn fixtures(endpoint: &str, table: &str) -> Result<Fixtures, String> {
    let config = sdk_config(endpoint);
    let dynamodb = aws_sdk_dynamodb::Client::new(&config);
    create_table(&dynamodb, table).await.map_err(|e| e.to_string())?;
    let _ = aws_sdk_sesv2::Client::new(&config)
        .create_email_identity()
        .email_identity(EMAIL_FROM)
        .send()
        .await;
    let store = DynamoStore::new(dynamodb, table);
    let client_id = uuid::Uuid::new_v4().to_string();
    let key_secret = generate_secret();
    store
        .put_client(&ClientRecord {
            id: client_id.clone(),
            name: "benchmark".into(),
            secret_hash: hash_secret(&generate_secret()),
            api_key_hash: Some(hash_secret(&key_secret)),
            keys: Vec::new(),
            permissions: Permission::ALL.into_iter().collect(),
            limits: ClientLimits {
                sends_per_hour: Some(1_000_000),
                sends_per_number_range_per_hour: Some(1_000_000),
            },
            disabled: false,
            services: Vec::new(),
        })
        .await
        .map_err(|e| e.to_string())?;
    let config_uid = uuid::Uuid::new_v4().to_string();
    store
        .put_config(&OtpConfig {
            uid: config_uid.clone(),
            client_id: client_id.clone(),
            channel: Channel::Sms,
            profile: Profile::new(6, Duration::from_secs(300))?,
            template: "Hi {name}, {code} is your {sender} code.".into(),
            sender: "Bench".into(),
            whatsapp: None,
            more_channels: Vec::new(),
            service: Default::default(),
            localization: Default::default(),
        })
        .await
        .map_err(|e| e.to_string())?;

    Ok(Fixtures {
        api_key: api_key(&client_id, &key_secret),
        config_uid,
        prepared: Vec::new(),
    })
}

/// The open challenges `operation` needs, opened just before it runs, a minute in the
/// past (so a resend now is past the destination's cooldown): one per run, and one more
/// for the warm-up.
async fn prepare_for(
    operation: Operation,
    endpoint: &str,
    table: &str,
    plan: &Plan,
) -> Result<Vec<scenario::Prepared>, String> {
    if !matches!(
        operation,
        Operation::Resend | Operation::VerifyWrong | Operation::VerifyRight
    ) {
        return Ok(Vec::new());
    }
    let store = DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk_config(endpoint)), table);
    let clock = Arc::new(ManualClock::new(SystemClock.now() - 60));
    // The longest lifetime: the runs must end before the first of these codes expires.
    let app = App::new(
        settings(table, &[("OTP_TTL_SECONDS", "600")]),
        store,
        KeepCodes::default(),
        clock,
    );
    let started = Instant::now();
    let prepared = scenario::prepare(&app, plan.warm_invocations + 1).await?;
    eprintln!(
        "  {} challenges opened in {:.1} s",
        prepared.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(prepared)
}

/// A function process under the emulator, with the environment Lambda gives it.
fn spawn(binary: &Path, runtime: &Runtime, aws: &str, table: &str) -> Result<tokio::process::Child, String> {
    tokio::process::Command::new(binary)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime.address.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", "bench")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "/aws/lambda/bench")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "bench")
        .env("AWS_SECRET_ACCESS_KEY", "bench")
        .env("AWS_ENDPOINT_URL", aws)
        .env("TABLE_NAME", table)
        .env("OTP_HMAC_KEYS", HMAC_KEYS)
        .env("JWT_SECRET", EVENTS_JWT_SECRET)
        .env("EMAIL_FROM", EMAIL_FROM)
        .env("RUST_LOG", "info")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("start {}: {e}", binary.display()))
}

/// The status of a lambda_http response document.
fn status_of(outcome: &Outcome) -> Option<u16> {
    match outcome {
        Outcome::Response(document) => serde_json::from_str::<Value>(document)
            .ok()?
            .get("statusCode")?
            .as_u64()
            .map(|s| s as u16),
        Outcome::Error(_) => None,
    }
}

/// What every measurement shares.
struct Bench {
    plan: Plan,
    bin_dir: PathBuf,
    zip_dir: PathBuf,
    proxy: AwsProxy,
    table: String,
    fixtures: Fixtures,
}

/// The cold starts of one operation: each init's wall time (to the first `GET /next`)
/// and CPU time, in milliseconds.
#[derive(Debug, Clone, Default)]
struct ColdStarts {
    inits: Vec<f64>,
    init_cpus: Vec<f64>,
}

/// One cold start of `operation`'s binary. Init reads nothing from the table.
async fn cold_start(bench: &Bench, operation: Operation, starts: &mut ColdStarts) -> Result<(), String> {
    let binary = bench.bin_dir.join(operation.binary());
    let aws = format!("http://{}", bench.proxy.address);
    let runtime = Runtime::start().await.map_err(|e| e.to_string())?;
    let started = Instant::now();
    let mut child = spawn(&binary, &runtime, &aws, "otp-bench-cold-start")?;
    runtime.ready(Duration::from_secs(10)).await?;
    starts.inits.push(started.elapsed().as_secs_f64() * 1_000.0);
    if let Some(pid) = child.id() {
        starts.init_cpus.push(cpu_ns(pid) as f64 / 1e6);
    }
    let _ = child.kill().await;
    Ok(())
}

/// Every operation's cold starts, in rounds of one start each: a machine whose speed
/// drifts during the run weighs on every operation alike.
async fn cold_starts_of(bench: &Bench, operations: &[Operation]) -> Result<Vec<ColdStarts>, String> {
    let mut starts = vec![ColdStarts::default(); operations.len()];
    for _ in 0..bench.plan.cold_starts {
        for (operation, starts) in operations.iter().zip(starts.iter_mut()) {
            cold_start(bench, *operation, starts).await?;
        }
    }
    Ok(starts)
}

/// One operation's figures, from its binary (its cold starts already made); the keys it
/// wrote go to `writes`.
async fn measure(
    bench: &Bench,
    operation: Operation,
    mut starts: ColdStarts,
    writes: &mut Vec<(String, bool)>,
) -> Result<Figures, String> {
    let Bench {
        plan,
        bin_dir,
        zip_dir,
        proxy,
        table,
        fixtures,
    } = bench;
    let binary = bin_dir.join(operation.binary());
    let aws = format!("http://{}", proxy.address);

    let runtime = Runtime::start().await.map_err(|e| e.to_string())?;
    let mut child = spawn(&binary, &runtime, &aws, table)?;
    runtime.ready(Duration::from_secs(10)).await?;
    let pid = child.id().ok_or("the function exited")?;
    // One invocation first, so that the runs measure a warm function with its
    // connections open (the last prepared challenge is the warm-up's).
    let warmup = scenario::event(operation, plan.warm_invocations, fixtures);
    runtime.invoke(warmup).await?;
    proxy.take();

    let cpu_before = cpu_ns(pid);
    let ticks_before = user_system_ticks(pid);
    let mut latencies = Vec::with_capacity(plan.warm_invocations);
    let mut seen_per_invocation: Vec<Vec<Seen>> = Vec::with_capacity(plan.warm_invocations);
    for index in 0..plan.warm_invocations {
        let event = scenario::event(operation, index, fixtures);
        let (outcome, took) = runtime.invoke(event).await?;
        let status = status_of(&outcome);
        if status != Some(operation.expected_status()) {
            return Err(format!("{}: answered {outcome:?}", operation.name()));
        }
        latencies.push(took.as_secs_f64() * 1_000.0);
        seen_per_invocation.push(proxy.take());
    }
    let cpu = cpu_ns(pid).saturating_sub(cpu_before);
    let ticks_after = user_system_ticks(pid);
    let (user, system) = (
        ticks_after.0.saturating_sub(ticks_before.0) as f64,
        ticks_after.1.saturating_sub(ticks_before.1) as f64,
    );
    let rss = peak_rss_mb(pid);
    let _ = child.kill().await;

    let n = plan.warm_invocations.max(1) as f64;
    let requests = seen_per_invocation.iter().map(Vec::len).sum::<usize>() as f64 / n;
    let dynamodb_round_trips = seen_per_invocation
        .iter()
        .map(|seen| round_trips(seen, Some("dynamodb")))
        .sum::<usize>() as f64
        / n;
    let all_round_trips = seen_per_invocation
        .iter()
        .map(|seen| round_trips(seen, None))
        .sum::<usize>() as f64
        / n;
    let mut operations: Vec<String> = seen_per_invocation
        .first()
        .map(|seen| seen.iter().map(|s| s.operation.clone()).collect())
        .unwrap_or_default();
    operations.sort();
    let start = writes.len();
    for seen in seen_per_invocation.iter().flatten() {
        writes.extend(writes::items_written(seen));
    }
    let size = |path: PathBuf| std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    Ok(Figures {
        cold_init_ms: median(&mut starts.inits),
        init_cpu_ms: median(&mut starts.init_cpus),
        warm_p50_ms: percentile(&mut latencies.clone(), 50.0),
        warm_p99_ms: percentile(&mut latencies, 99.0),
        cpu_us: cpu as f64 / 1_000.0 / n,
        system_share: if user + system > 0.0 {
            system / (user + system)
        } else {
            0.0
        },
        peak_rss_mb: rss,
        requests,
        dynamodb_round_trips,
        round_trips: all_round_trips,
        // Filled in once the items' sizes are known.
        write_units: (writes.len() - start) as f64,
        bootstrap_bytes: size(bin_dir.join(operation.binary())),
        zip_bytes: size(zip_dir.join(format!("{}.zip", operation.binary()))),
        operations: summarise(&operations),
    })
}

/// `3 GetItem, 2 UpdateItem, 1 Publish`.
fn summarise(operations: &[String]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for operation in operations {
        let name = operation.split(':').nth(1).unwrap_or(operation).to_owned();
        match counts.iter_mut().find(|(n, _)| *n == name) {
            Some((_, count)) => *count += 1,
            None => counts.push((name, 1)),
        }
    }
    counts
        .iter()
        .map(|(name, count)| format!("{count} {name}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every item's size, by key, as the table holds them now.
async fn item_sizes(endpoint: &str, table: &str) -> HashMap<String, usize> {
    let client = aws_sdk_dynamodb::Client::new(&sdk_config(endpoint));
    let mut sizes = HashMap::new();
    let mut start = None;
    loop {
        let Ok(page) = client
            .scan()
            .table_name(table)
            .set_exclusive_start_key(start)
            .send()
            .await
        else {
            break;
        };
        for item in page.items() {
            let Some(key) = item.get("pk").and_then(|v| v.as_s().ok()) else {
                continue;
            };
            let size: usize = item
                .iter()
                .map(|(name, value)| name.len() + attribute_size(value))
                .sum();
            sizes.insert(key.clone(), size);
        }
        start = page.last_evaluated_key().cloned();
        if start.is_none() {
            break;
        }
    }
    sizes
}

fn attribute_size(value: &aws_sdk_dynamodb::types::AttributeValue) -> usize {
    use aws_sdk_dynamodb::types::AttributeValue as V;
    match value {
        V::S(s) => s.len(),
        V::N(n) => n.trim_start_matches('-').len().div_ceil(2) + 1,
        V::B(b) => b.as_ref().len(),
        V::L(list) => 3 + list.iter().map(|v| 1 + attribute_size(v)).sum::<usize>(),
        V::M(map) => 3 + map.iter().map(|(k, v)| 1 + k.len() + attribute_size(v)).sum::<usize>(),
        _ => 1,
    }
}

/// Write units: one per KB of the item written (at least one), twice in a transaction.
fn write_units(writes: &[(String, bool)], sizes: &HashMap<String, usize>) -> f64 {
    writes
        .iter()
        .map(|(key, transactional)| {
            let size = sizes.get(key).copied().unwrap_or(1);
            let units = size.div_ceil(1024).max(1) as f64;
            if *transactional { 2.0 * units } else { units }
        })
        .sum()
}

fn ratio(value: f64, floor: f64) -> String {
    if floor > 0.0 {
        format!("{:.2}x", value / floor)
    } else {
        "-".to_owned()
    }
}

/// The floor the ratios divide by: the mean of its runs (first and last), so that a
/// machine that drifts during the run weighs on both sides alike.
fn floor_of(results: &[(Operation, Figures)]) -> Figures {
    let runs: Vec<&Figures> = results
        .iter()
        .filter(|(operation, _)| *operation == Operation::Floor)
        .map(|(_, figures)| figures)
        .collect();
    let Some(first) = runs.first() else {
        return Figures::default();
    };
    let mean = |figure: fn(&Figures) -> f64| runs.iter().map(|f| figure(f)).sum::<f64>() / runs.len() as f64;
    Figures {
        cold_init_ms: mean(|f| f.cold_init_ms),
        init_cpu_ms: mean(|f| f.init_cpu_ms),
        cpu_us: mean(|f| f.cpu_us),
        ..(*first).clone()
    }
}

/// An operation's name in the table; the floor's second run says it is.
fn label(results: &[(Operation, Figures)], index: usize) -> String {
    let operation = results[index].0;
    let earlier = results[..index].iter().any(|(other, _)| *other == operation);
    if earlier {
        format!("{}, again at the end", operation.name())
    } else {
        operation.name().to_owned()
    }
}

fn print(results: &[(Operation, Figures)], plan: &Plan) {
    let floor = floor_of(results);
    println!(
        "\n{} cold starts and {} warm invocations each; {} ms added to every AWS request\n",
        plan.cold_starts,
        plan.warm_invocations,
        plan.latency.as_millis()
    );
    println!(
        "| operation | cold init ms | init CPU ms | warm p50 ms | warm p99 ms | CPU us/inv (kernel share) | peak RSS MiB | AWS requests | DynamoDB round trips | all round trips | write units | bootstrap MB | zip MB |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for (index, (_, f)) in results.iter().enumerate() {
        println!(
            "| {} | {:.1} ({}) | {:.1} ({}) | {:.1} | {:.1} | {:.0} ({:.0}%; {} per DynamoDB round trip, {} per AWS request) | {:.1} | {:.0}: {} | {:.0} | {:.0} | {:.0} | {:.2} ({}) | {:.2} |",
            label(results, index),
            f.cold_init_ms,
            ratio(f.cold_init_ms, floor.cold_init_ms),
            f.init_cpu_ms,
            ratio(f.init_cpu_ms, floor.init_cpu_ms),
            f.warm_p50_ms,
            f.warm_p99_ms,
            f.cpu_us,
            f.system_share * 100.0,
            ratio(f.cpu_us / f.dynamodb_round_trips.max(1.0), floor.cpu_us),
            ratio(f.cpu_us / f.requests.max(1.0), floor.cpu_us / floor.requests.max(1.0)),
            f.peak_rss_mb,
            f.requests,
            f.operations,
            f.dynamodb_round_trips,
            f.round_trips,
            f.write_units,
            f.bootstrap_bytes as f64 / 1e6,
            ratio(f.bootstrap_bytes as f64, floor.bootstrap_bytes as f64),
            f.zip_bytes as f64 / 1e6,
        );
    }
}

fn to_json(results: &[(Operation, Figures)], plan: &Plan) -> Value {
    json!({
        "cold_starts": plan.cold_starts,
        "warm_invocations": plan.warm_invocations,
        "latency_ms": plan.latency.as_millis() as u64,
        "operations": results.iter().enumerate().map(|(index, (operation, f))| json!({
            "operation": label(results, index),
            "binary": operation.binary(),
            "cold_init_ms": f.cold_init_ms,
            "init_cpu_ms": f.init_cpu_ms,
            "warm_p50_ms": f.warm_p50_ms,
            "warm_p99_ms": f.warm_p99_ms,
            "cpu_us_per_invocation": f.cpu_us,
            "cpu_kernel_share": f.system_share,
            "peak_rss_mib": f.peak_rss_mb,
            "aws_requests": f.requests,
            "requests": f.operations,
            "dynamodb_round_trips": f.dynamodb_round_trips,
            "round_trips": f.round_trips,
            "write_units": f.write_units,
            "bootstrap_bytes": f.bootstrap_bytes,
            "zip_bytes": f.zip_bytes,
        })).collect::<Vec<_>>(),
    })
}

async fn run() -> Result<(), String> {
    let short = env_or("BENCH_SHORT", "0") == "1";
    let latency_ms: u64 = env_or("BENCH_LATENCY_MS", "5")
        .parse()
        .map_err(|_| "BENCH_LATENCY_MS is a number of milliseconds")?;
    let plan = Plan {
        cold_starts: if short { 3 } else { 11 },
        warm_invocations: if short { 20 } else { 250 },
        latency: Duration::from_millis(latency_ms),
    };
    let bin_dir = PathBuf::from(env_or("BENCH_BIN_DIR", "target/release"));
    let zip_dir = PathBuf::from(env_or("BENCH_ZIP_DIR", &bin_dir.display().to_string()));

    let endpoint = local_aws().endpoint.clone();
    let proxy = AwsProxy::start(endpoint.clone(), plan.latency)
        .await
        .map_err(|e| e.to_string())?;
    let mut bench = Bench {
        plan,
        bin_dir,
        zip_dir,
        proxy,
        table: String::new(),
        fixtures: Fixtures::default(),
    };

    // The floor first and again last: the ratios divide by the mean of both runs.
    let operations: Vec<Operation> = Operation::ALL.into_iter().chain([Operation::Floor]).collect();
    eprintln!("cold starts: {} rounds of every operation", bench.plan.cold_starts);
    let cold_starts = cold_starts_of(&bench, &operations).await?;
    let mut results = Vec::new();
    for (operation, starts) in operations.into_iter().zip(cold_starts) {
        eprintln!("measuring {}", operation.name());
        // A table of its own: the local AWS's transactions slow down as a table grows,
        // which DynamoDB's do not.
        bench.table = format!("otp-bench-{}", uuid::Uuid::new_v4().simple());
        bench.fixtures = fixtures(&endpoint, &bench.table).await?;
        bench.fixtures.prepared = prepare_for(operation, &endpoint, &bench.table, &bench.plan).await?;
        let mut writes = Vec::new();
        let mut figures = measure(&bench, operation, starts, &mut writes).await?;
        let sizes = item_sizes(&endpoint, &bench.table).await;
        figures.write_units = write_units(&writes, &sizes) / plan.warm_invocations.max(1) as f64;
        results.push((operation, figures));
    }
    print(&results, &plan);
    let out = env_or("BENCH_OUT", "target/bench.json");
    std::fs::write(
        &out,
        serde_json::to_string_pretty(&to_json(&results, &plan)).unwrap_or_default(),
    )
    .map_err(|e| format!("{out}: {e}"))?;
    eprintln!("\nfigures written to {out}");
    Ok(())
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build();
    let result = match runtime {
        Ok(runtime) => runtime.block_on(run()),
        Err(error) => Err(error.to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(reason) => {
            eprintln!("otp-bench: {reason}");
            ExitCode::FAILURE
        }
    }
}
