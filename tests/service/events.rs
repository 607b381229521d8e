//! Every file in `events/` through its function's handler, as `sam local invoke -e` would.

use std::time::Duration;

use otp_shared::callers::hash_secret;
use otp_shared::policy::Profile;
use otp_shared::ports::{Channel, ClientRecord, ClientRegistry, ConfigRegistry, OtpConfig, Permission, UserDirectory};
use otp_shared::scope::{Product, UserRef};
use otp_tests::{
    Deployment, EVENTS_API_KEY_SECRET, EVENTS_CLIENT_ID, EVENTS_CLIENT_SECRET, EVENTS_CONFIG_UID, EVENTS_ISSUER,
    EVENTS_USER_ID, event, last_code, last_email_code, workspace_root,
};
use serde_json::{Value, json};

use crate::*;

/// The names of the files in `events/`, sorted.
pub(crate) fn event_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(workspace_root().join("events"))
        .expect("events/")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().trim_end_matches(".json").to_owned())
        .collect();
    names.sort();
    names
}

/// The function each event belongs to: its file is named after it (`verify-zap.json`).
pub(crate) fn function_of(name: &str) -> &'static str {
    ["register", "resend", "verify", "send-otp", "generate"]
        .into_iter()
        .find(|function| name == *function || name.starts_with(&format!("{function}-")))
        .unwrap_or_else(|| panic!("events/{name}.json belongs to no known function"))
}

/// A deployment that knows the events' client, its OTP configuration and user.
async fn deployment_for_events() -> Deployment {
    let deployment = Deployment::new().await;
    deployment
        .store
        .put_client(&ClientRecord {
            id: EVENTS_CLIENT_ID.into(),
            name: "events".into(),
            secret_hash: hash_secret(EVENTS_CLIENT_SECRET),
            api_key_hash: Some(hash_secret(EVENTS_API_KEY_SECRET)),
            keys: Vec::new(),
            permissions: Permission::ALL.into_iter().collect(),
            limits: Default::default(),
            disabled: false,
            services: Vec::new(),
        })
        .await
        .expect("client stored");
    deployment
        .store
        .put_config(&OtpConfig {
            uid: EVENTS_CONFIG_UID.into(),
            client_id: EVENTS_CLIENT_ID.into(),
            channel: Channel::Sms,
            profile: Profile::new(6, Duration::from_secs(300)).expect("in range"),
            template: "{code} is your {sender} code".into(),
            sender: "Acme".into(),
            whatsapp: None,
            more_channels: Vec::new(),
            service: Default::default(),
            localization: Default::default(),
        })
        .await
        .expect("configuration stored");
    deployment
}

/// The event `name` with `path` (when given) and its body's fields replaced.
fn event_with(name: &str, path: Option<&str>, fields: &[(&str, Value)]) -> lambda_http::Request {
    let file = workspace_root().join("events").join(format!("{name}.json"));
    let mut raw: Value = serde_json::from_str(&std::fs::read_to_string(file).expect("event file")).expect("JSON");
    let mut body: Value = serde_json::from_str(raw["body"].as_str().unwrap_or("{}")).expect("JSON body");
    for (field, value) in fields {
        body[*field] = value.clone();
    }
    raw["body"] = Value::String(body.to_string());
    if let Some(path) = path {
        raw["rawPath"] = json!(path);
        raw["requestContext"]["http"]["path"] = json!(path);
    }
    lambda_http::request::from_str(&raw.to_string()).expect("still a valid event")
}

#[tokio::test]
async fn every_event_file_has_a_function() {
    let names = event_names();
    assert_eq!(names.len(), 29);
    for name in &names {
        function_of(name);
        if let Err(mismatch) = otp_tests::openapi::check_request(&event(name)) {
            panic!("events/{name}.json disagrees with openapi.json: {mismatch}");
        }
    }
}

#[tokio::test]
async fn the_kgen_events_run_a_whole_flow() {
    for surface in ["", "-proxy"] {
        let deployment = deployment_for_events().await;
        let phone = "+919876543219";

        // Before any send, the documented verify names no challenge.
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

        let fields = [("authCode", auth_code.clone()), ("otp", json!(last_code(phone)))];
        let (status, body, _) = call_verify(&deployment, event_with(&format!("verify{surface}"), None, &fields)).await;
        let expected = if surface.is_empty() { 200 } else { 201 };
        assert_eq!(
            (status, body),
            (expected, json!({"message": "Users linked successfully"}))
        );
    }
}

#[tokio::test]
async fn the_bizmagnets_events_run_a_whole_flow() {
    let deployment = deployment_for_events().await;
    let (status, body, _) = call_verify(&deployment, event("verify-bizmagnets")).await;
    assert_eq!(
        (status, &body["status"]),
        (410, &json!(410)),
        "the event's id names no challenge here"
    );

    let (status, body, _) = call_send_otp(&deployment, event("send-otp-bizmagnets")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_owned();
    let path = format!("/otp/{id}/verifyOTP");
    let request = event_with(
        "verify-bizmagnets",
        Some(&path),
        &[("otp", json!(last_code("+919876543210")))],
    );
    let (status, body, _) = call_verify(&deployment, request).await;
    assert_eq!((status, body), (200, json!({"id": id, "message": "success"})));
}

#[tokio::test]
async fn the_zap_events_run_a_whole_flow() {
    let deployment = deployment_for_events().await;
    let (status, body, _) = call_verify(&deployment, event("verify-zap")).await;
    assert_eq!((status, body["success"].clone()), (400, json!(false)));

    let (status, body, _) = call_generate(&deployment, event("generate-zap")).await;
    assert_eq!((status, body), (200, json!({"success": true, "data": "OTP Generated"})));
    let (status, _, _) = call_generate(&deployment, event("generate-zap-phone")).await;
    assert_eq!(status, 200);
    assert!(!last_code("+2348011111111").is_empty());

    let request = event_with(
        "verify-zap",
        None,
        &[("otp", json!(last_email_code("adminuser@zap.com")))],
    );
    let (status, body, _) = call_verify(&deployment, request).await;
    assert_eq!((status, body), (200, json!({"success": true, "data": "OTP Verified"})));

    // The same flow on the routes without a trailing slash and under /api.
    deployment.clock.advance(30);
    let (status, body, _) = call_generate(&deployment, event("generate-zap-no-trailing-slash")).await;
    assert_eq!((status, body), (200, json!({"success": true, "data": "OTP Generated"})));
    let request = event_with(
        "verify-zap-api",
        None,
        &[("otp", json!(last_email_code("adminuser@zap.com")))],
    );
    let (status, body, _) = call_verify(&deployment, request).await;
    assert_eq!((status, body), (200, json!({"success": true, "data": "OTP Verified"})));
}

#[test]
fn every_route_of_the_template_has_an_event() {
    let keys: std::collections::BTreeSet<String> = std::fs::read_dir(workspace_root().join("events"))
        .expect("events/")
        .filter_map(|entry| entry.ok())
        .map(|entry| {
            let text = std::fs::read_to_string(entry.path()).expect("an event file");
            let event: Value = serde_json::from_str(&text).expect("JSON");
            let key = event["routeKey"].as_str().expect("a route key").to_owned();
            assert_eq!(event["requestContext"]["routeKey"], key.as_str(), "{:?}", entry.path());
            key
        })
        .collect();
    // The route table is the template's routes (the local server's tests check both).
    for route in otp_shared::routes::ROUTES.iter().map(|route| route.key()) {
        assert!(keys.contains(&route), "no event in events/ for the route {route}");
    }
}

#[tokio::test]
async fn the_bridgekeeper_events_run_a_whole_flow() {
    let deployment = deployment_for_events().await;
    let (status, body, _) = call_verify(&deployment, event("verify-bridgekeeper")).await;
    assert_eq!((status, body), (401, json!({"error": {"message": "Invalid OTP"}})));

    // Case 5: always-send to an address of no known user.
    let (status, body, _) = call_send_otp(&deployment, event("send-otp-bridgekeeper")).await;
    assert_eq!((status, body), (200, json!({"message": "OTP sent"})));
    let request = event_with(
        "verify-bridgekeeper",
        None,
        &[("otp", json!(last_email_code("jhondoe@gmail.com")))],
    );
    let (status, body, _) = call_verify(&deployment, request).await;
    assert_eq!((status, body), (200, json!({"message": "OTP verified"})));

    // Case 3: the session cookie alone sends to the user's email on record.
    let user = UserRef::new(Product::Bridgekeeper, EVENTS_ISSUER, EVENTS_USER_ID);
    deployment.user(&user, &["efkhei@example.com"]).await;
    let (status, body, _) = call_send_otp(&deployment, event("send-otp-bridgekeeper-session")).await;
    assert_eq!((status, body), (200, json!({"message": "OTP sent"})));
    assert!(!last_email_code("efkhei@example.com").is_empty());

    // The vendor's own client: before any code, the event's update-with-otp is refused;
    // after a send in the session, it proves the phone number and links it to the user.
    let (status, body, _) = call_verify(&deployment, event("verify-bridgekeeper-update")).await;
    assert_eq!((status, body), (401, json!({"error": {"message": "Invalid OTP"}})));
    let phone = "+919898989898";
    let request = event_with("send-otp-bridgekeeper-session", None, &[("phone-number", json!(phone))]);
    let (status, _, _) = call_send_otp(&deployment, request).await;
    assert_eq!(status, 200);
    let request = event_with("verify-bridgekeeper-update", None, &[("otp", json!(last_code(phone)))]);
    let (status, body, _) = call_verify(&deployment, request).await;
    assert_eq!(
        (status, body),
        (200, json!({"message": "User updated", "user": {"phone-number": phone}}))
    );
    let linked = otp_shared::destination::Destination::e164(phone).expect("valid");
    assert_eq!(
        deployment.store.owner_of(&user.realm(), &linked).await.expect("read"),
        Some(user)
    );
}

/// The event `name` with its form body replaced and its path (when given) set.
fn form_event_with(name: &str, path: Option<&str>, form: &[(&str, &str)]) -> lambda_http::Request {
    let file = workspace_root().join("events").join(format!("{name}.json"));
    let mut raw: Value = serde_json::from_str(&std::fs::read_to_string(file).expect("event file")).expect("JSON");
    raw["body"] = json!(
        form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form)
            .finish()
    );
    if let Some(path) = path {
        raw["rawPath"] = json!(path);
        raw["requestContext"]["http"]["path"] = json!(path);
    }
    lambda_http::request::from_str(&raw.to_string()).expect("still a valid event")
}

#[tokio::test]
async fn the_twilio_events_run_a_whole_flow() {
    let deployment = deployment_for_events().await;
    let invalid = |code: u32| json!(format!("https://www.twilio.com/docs/errors/{code}"));
    // Before any send, the events' check, fetch and update name nothing.
    for (name, function) in [
        ("verify-twilio-check", "verify"),
        ("verify-twilio-fetch", "verify"),
        ("verify-twilio-update", "verify"),
    ] {
        let (status, body, _) = call_function(&deployment, function, event(name)).await;
        assert_eq!((status, &body["more_info"]), (404, &invalid(20404)), "{name}");
    }
    let (status, body, _) = call_send_otp(&deployment, event("send-otp-twilio")).await;
    assert_eq!((status, &body["status"]), (201, &json!("pending")), "{body}");
    let sid = body["sid"].as_str().expect("a sid").to_owned();
    let code = last_code("+15017122661");
    let (status, body, _) = call_verify(
        &deployment,
        form_event_with("verify-twilio-check", None, &[("To", "+15017122661"), ("Code", &code)]),
    )
    .await;
    assert_eq!(
        (status, &body["status"], &body["sid"]),
        (200, &json!("approved"), &json!(sid))
    );
    let path = format!("/v2/Services/{EVENTS_CONFIG_UID}/Verifications/{sid}");
    let (status, body, _) = call_verify(&deployment, form_event_with("verify-twilio-fetch", Some(&path), &[])).await;
    assert_eq!((status, &body["status"]), (200, &json!("approved")));
    let (status, body, _) = call_verify(
        &deployment,
        form_event_with("verify-twilio-update", Some(&path), &[("Status", "canceled")]),
    )
    .await;
    assert_eq!(
        (status, &body["more_info"]),
        (404, &invalid(20404)),
        "an approved verification is settled"
    );
}

#[tokio::test]
async fn the_twilio_service_events_run_a_whole_flow() {
    let deployment = deployment_for_events().await;
    let (status, body, _) = call_verify(&deployment, event("verify-twilio-service-fetch")).await;
    assert_eq!((status, &body["code_length"]), (200, &json!(6)), "{body}");
    let (status, body, _) = call_verify(&deployment, event("verify-twilio-service-update")).await;
    assert_eq!((status, &body["friendly_name"]), (200, &json!("Acme")), "{body}");
    let (status, body, _) = call_verify(&deployment, event("verify-twilio-service-create")).await;
    assert_eq!((status, &body["friendly_name"]), (201, &json!("Acme Shop")), "{body}");
    let (status, body, _) = call_verify(&deployment, event("verify-twilio-service-list")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["services"].as_array().map(Vec::len), Some(2));
    assert_eq!(body["meta"]["page_size"], 20, "the event's query");
    let (status, _, _) = call_verify(&deployment, event("verify-twilio-service-delete")).await;
    assert_eq!(status, 204);
    let (status, body, _) = call_verify(&deployment, event("verify-twilio-service-fetch")).await;
    assert_eq!((status, &body["code"]), (404, &json!(20404)));
}
