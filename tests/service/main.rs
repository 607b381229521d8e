//! The functions end to end: handlers in-process, the real AWS SDK, a local AWS.

mod admin;
mod attacks;
mod attempts;
mod batched_reads;
mod bizmagnets;
mod bridgekeeper;
mod budgets;
mod calls;
mod events;
mod faults;
mod hostile;
mod identity;
mod kgen;
mod languages;
mod load;
mod local_aws;
mod logs;
mod migration;
mod permissions;
mod port_contract;
mod pumping;
mod round_trips;
mod spend;
mod telemetry;
mod tenants;
mod test_destinations;
mod twilio;
mod twilio_services;
mod whatsapp;
mod zap;

use lambda_http::Request;
use otp_tests::{Deployment, answer, kgen_request};
use serde_json::{Value, json};

pub const FE: &str = "/fe/users/auth/otp";
pub const PROXY: &str = "/api/proxy/auth/otp";

/// A status, a JSON body and the `Retry-After` header.
pub type Answer = (u16, Value, Option<String>);

pub async fn call_register(deployment: &Deployment, request: Request) -> Answer {
    answer(request, |request| {
        register::http_handler::function_handler(&deployment.sender, request)
    })
    .await
}

pub async fn call_resend(deployment: &Deployment, request: Request) -> Answer {
    answer(request, |request| {
        resend::http_handler::function_handler(&deployment.sender, request)
    })
    .await
}

pub async fn call_verify(deployment: &Deployment, request: Request) -> Answer {
    answer(request, |request| {
        verify::http_handler::function_handler(&deployment.checker, request)
    })
    .await
}

pub async fn call_send_otp(deployment: &Deployment, request: Request) -> Answer {
    answer(request, |request| {
        send_otp::http_handler::function_handler(&deployment.sender, request)
    })
    .await
}

pub async fn call_generate(deployment: &Deployment, request: Request) -> Answer {
    answer(request, |request| {
        generate::http_handler::function_handler(&deployment.sender, request)
    })
    .await
}

/// Runs a request through the function named (as `template.yaml` and `events.rs` name them).
pub async fn call_function(deployment: &Deployment, function: &str, request: Request) -> Answer {
    match function {
        "register" => call_register(deployment, request).await,
        "resend" => call_resend(deployment, request).await,
        "send-otp" => call_send_otp(deployment, request).await,
        "generate" => call_generate(deployment, request).await,
        "verify" => call_verify(deployment, request).await,
        other => panic!("no function {other}"),
    }
}

/// Runs every request through the verify function at once, on parallel tasks; returns
/// the statuses.
pub async fn verify_all_at_once(deployment: &std::sync::Arc<Deployment>, requests: Vec<Request>) -> Vec<u16> {
    let mut tasks = tokio::task::JoinSet::new();
    for request in requests {
        let deployment = std::sync::Arc::clone(deployment);
        tasks.spawn(async move { call_verify(&deployment, request).await.0 });
    }
    let mut statuses = Vec::new();
    while let Some(status) = tasks.join_next().await {
        statuses.push(status.expect("task ran"));
    }
    statuses
}

pub fn phone_body(national: &str) -> Value {
    json!({"phone_number": national, "countryCode": "+91"})
}

pub fn verify_body(national: &str, auth_code: &Value, otp: Value) -> Value {
    json!({"phone_number": national, "countryCode": "+91", "authCode": auth_code, "otp": otp})
}

/// Registers `national` for the user of `token` on the frontend surface; returns the answer.
pub async fn register_fe(deployment: &Deployment, token: &str, national: &str) -> Answer {
    call_register(
        deployment,
        kgen_request(&format!("{FE}/register"), token, None, &phone_body(national)),
    )
    .await
}

/// Verifies on the frontend surface.
pub async fn verify_fe(deployment: &Deployment, token: &str, national: &str, auth_code: &Value, otp: Value) -> Answer {
    call_verify(
        deployment,
        kgen_request(
            &format!("{FE}/verify"),
            token,
            None,
            &verify_body(national, auth_code, otp),
        ),
    )
    .await
}

/// The number attribute `name` of an item.
pub fn number(item: &std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>, name: &str) -> i64 {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{name} is not a number attribute"))
}
