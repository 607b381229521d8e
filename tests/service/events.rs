//! Every file in `events/` through its function's handler, as `sam local invoke -e` would.

use otp_shared::callers::hash_secret;
use otp_shared::ports::{ClientRecord, ClientRegistry, Permission};
use otp_tests::{Deployment, EVENTS_CLIENT_ID, EVENTS_CLIENT_SECRET, event, last_code, workspace_root};
use serde_json::{Value, json};

use crate::*;

/// The function each event belongs to.
fn function_of(name: &str) -> &'static str {
    match name {
        "register" | "register-proxy" => "register",
        "resend" | "resend-proxy" => "resend",
        "verify" | "verify-proxy" => "verify",
        other => panic!("events/{other}.json belongs to no known function"),
    }
}

async fn deployment_with_event_client() -> Deployment {
    let deployment = Deployment::new().await;
    deployment
        .store
        .put_client(&ClientRecord {
            id: EVENTS_CLIENT_ID.into(),
            name: "events".into(),
            secret_hash: hash_secret(EVENTS_CLIENT_SECRET),
            api_key_hash: None,
            permissions: Permission::ALL.into_iter().collect(),
        })
        .await
        .expect("client stored");
    deployment
}

/// The event `name` with its body's `authCode` and `otp` replaced.
fn verify_event_with(name: &str, auth_code: &Value, otp: &str) -> lambda_http::Request {
    let path = workspace_root().join("events").join(format!("{name}.json"));
    let mut raw: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("event file")).expect("JSON");
    let mut body: Value = serde_json::from_str(raw["body"].as_str().expect("a body")).expect("JSON body");
    body["authCode"] = auth_code.clone();
    body["otp"] = json!(otp);
    raw["body"] = Value::String(body.to_string());
    lambda_http::request::from_str(&raw.to_string()).expect("still a valid event")
}

#[tokio::test]
async fn every_event_file_has_a_function() {
    let mut names: Vec<String> = std::fs::read_dir(workspace_root().join("events"))
        .expect("events/")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().trim_end_matches(".json").to_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "register",
            "register-proxy",
            "resend",
            "resend-proxy",
            "verify",
            "verify-proxy"
        ]
    );
    for name in &names {
        function_of(name);
    }
}

#[tokio::test]
async fn the_kgen_events_run_a_whole_flow() {
    for surface in ["", "-proxy"] {
        let deployment = deployment_with_event_client().await;
        let phone = "+919876543219";

        // Before any send, the seed's verify names no challenge.
        let (status, body, _) = call_verify(&deployment, event(&format!("verify{surface}"))).await;
        assert_eq!(
            (status, body),
            (410, json!({"message": "OTP_EXPIRED"})),
            "verify{surface}"
        );

        let (status, body, _) = call_register(&deployment, event(&format!("register{surface}"))).await;
        assert_eq!(status, 200, "register{surface}: {body}");
        assert_eq!(body["isNewUser"], true);
        let auth_code = body["authCode"].clone();

        deployment.clock.advance(30);
        let (status, body, _) = call_resend(&deployment, event(&format!("resend{surface}"))).await;
        assert_eq!(status, 200, "resend{surface}: {body}");
        assert_eq!(body["authCode"], auth_code);

        let request = verify_event_with(&format!("verify{surface}"), &auth_code, &last_code(phone));
        let (status, body, _) = call_verify(&deployment, request).await;
        let expected = if surface.is_empty() { 200 } else { 201 };
        assert_eq!(
            (status, body),
            (expected, json!({"message": "Users linked successfully"}))
        );
        deployment.clock.advance(600);
    }
}
