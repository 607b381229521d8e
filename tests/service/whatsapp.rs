//! WhatsApp OTP configurations (BizMagnets' own channel, and Twilio's `whatsapp`): the
//! approved authentication template through AWS End User Messaging Social, checked by a
//! stand-in as the service documents it; SMS when WhatsApp refuses the recipient and the
//! configuration says so; failures that lose nothing.

use otp_shared::ports::Channel;
use otp_tests::{CLOSED_ENDPOINT, Deployment, Endpoints, TestClient, captured_logs, code_in, fresh_phone, sms_to};
use serde_json::{Value, json};

use crate::bizmagnets::{mobile, send_request, verify_body, verify_request};
use crate::round_trips::metered;
use crate::*;

const PHONE_NUMBER_ID: &str = "phone-number-id-0123456789abcdef0123456789abcdef";

/// `otp-admin config create` of `client` on `channel`, 6 digits for 300 s, and `more`.
fn config_create<'a>(client: &'a str, channel: &'a str, more: &[&'a str]) -> Vec<&'a str> {
    let mut words = vec![
        "config",
        "create",
        "--client",
        client,
        "--channel",
        channel,
        "--length",
        "6",
        "--ttl",
        "300",
    ];
    words.extend_from_slice(more);
    words
}

/// The WhatsApp flags: the SMS sender of a fallback, the number id, template and language.
fn whatsapp_flags<'a>(sender: &'a str, number_id: &'a str, template: &'a str, language: &'a str) -> [&'a str; 8] {
    [
        "--sender",
        sender,
        "--whatsapp-phone-number-id",
        number_id,
        "--whatsapp-template",
        template,
        "--whatsapp-language",
        language,
    ]
}

/// A WhatsApp configuration of `client`, made as an operator makes it; its uid.
pub(crate) async fn whatsapp_config(deployment: &Deployment, client: &TestClient, fallback: bool) -> String {
    let fallback = fallback.to_string();
    let mut more = vec!["--template", "{code} is your {sender} code"];
    more.extend(whatsapp_flags("ACME", PHONE_NUMBER_ID, "login_code", "en_US"));
    more.extend(["--fallback-to-sms", &fallback]);
    let created = deployment
        .admin(&config_create(&client.id, "whatsapp", &more))
        .await
        .expect("configuration created");
    created["otp_config_uid"].as_str().expect("a uid").to_owned()
}

async fn send(deployment: &Deployment, client: &TestClient, uid: &str, national: &str) -> Answer {
    call_send_otp(deployment, send_request(uid, &client.api_key, &mobile(national))).await
}

async fn verify(deployment: &Deployment, client: &TestClient, id: &str, national: &str, code: &str) -> u16 {
    call_verify(
        deployment,
        verify_request(id, &client.api_key, &verify_body(national, code)),
    )
    .await
    .0
}

#[tokio::test]
async fn a_whatsapp_configuration_sends_its_template_with_the_code() {
    let deployment = Deployment::new().await;
    let client = deployment.client().await;
    let uid = whatsapp_config(&deployment, &client, false).await;
    let (national, e164) = fresh_phone();

    // The budgets, the key and configuration, then the message, then the code made live.
    let ((status, body, _), usage) = metered(&deployment, send(&deployment, &client, &uid, &national)).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(usage.to("socialmessaging"), 1);
    assert_eq!(
        (usage.to("sns"), usage.dynamodb_round_trips, usage.round_trips),
        (0, 2, 3)
    );
    assert!(sms_to(&e164).is_empty(), "no SMS besides");

    let accepted = deployment.whatsapp.accepted_for(&e164);
    assert_eq!(accepted.len(), 1, "{:?}", deployment.whatsapp.refusals());
    let message = &accepted[0];
    otp_tests::audit::note_codes(&message.code);
    assert_eq!(message.origination_phone_number_id, PHONE_NUMBER_ID);
    assert_eq!(
        (message.template.as_str(), message.language.as_str()),
        ("login_code", "en_US")
    );
    assert_eq!(message.code.len(), 6);
    assert_eq!(
        message.button_code, message.code,
        "the copy-code button carries the code"
    );
    assert!(message.meta_api_version.starts_with('v'));

    let id = body["id"].as_str().expect("an id");
    let wrong = if message.code == "000000" { "111111" } else { "000000" };
    assert_eq!(verify(&deployment, &client, id, &national, wrong).await, 403);
    assert_eq!(verify(&deployment, &client, id, &national, &message.code).await, 200);

    let masked = format!("+91******{}", &e164[e164.len() - 4..]);
    let channels: Vec<Value> = captured_logs()
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["message"] == "challenge status" && line["destination"] == masked.as_str())
        .map(|line| line["channel"].clone())
        .collect();
    assert_eq!(
        channels,
        [json!("whatsapp"), json!("whatsapp")],
        "pending, then approved"
    );
}

#[tokio::test]
async fn a_refused_recipient_gets_an_sms_only_where_the_configuration_falls_back() {
    let deployment = Deployment::new().await;
    let client = deployment.client().await;
    let falling_back = whatsapp_config(&deployment, &client, true).await;
    let strict = whatsapp_config(&deployment, &client, false).await;

    let (national, e164) = fresh_phone();
    deployment.whatsapp.unreachable(&e164);
    let (status, body, _) = send(&deployment, &client, &falling_back, &national).await;
    assert_eq!(status, 201, "{body}");
    let texts = sms_to(&e164);
    assert_eq!(texts.len(), 1, "the configuration's text, by SMS");
    assert!(texts[0].ends_with("is your ACME code"), "{}", texts[0]);
    assert!(deployment.whatsapp.accepted_for(&e164).is_empty());
    let id = body["id"].as_str().expect("an id");
    let challenge = deployment
        .item_where(|pk| pk.starts_with("CHALLENGE#") && pk.ends_with(&e164))
        .await
        .expect("a challenge");
    assert_eq!(
        challenge["channel"].as_s().ok().map(String::as_str),
        Some("sms"),
        "the channel that took it"
    );
    assert_eq!(
        verify(&deployment, &client, id, &national, &code_in(&texts[0])).await,
        200
    );
    let masked = format!("+91******{}", &e164[e164.len() - 4..]);
    let logs = captured_logs();
    let lines: Vec<Value> = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["destination"] == masked.as_str())
        .collect();
    assert!(lines.iter().any(
        |line| line["message"] == "WhatsApp refused the recipient; sending by SMS"
            && line["reason"] == "WhatsApp error 131026"
    ));
    let channels: Vec<&Value> = lines
        .iter()
        .filter(|line| line["message"] == "challenge status")
        .map(|line| &line["channel"])
        .collect();
    assert_eq!(channels, [&json!("sms"), &json!("sms")]);

    // A refusal of the configuration's own (a template Meta does not have) never falls
    // back: it is a failure to fix, not a recipient to reach otherwise.
    let broken = {
        let uid = whatsapp_config(&deployment, &client, true).await;
        deployment
            .admin(&[
                "config",
                "update",
                "--config",
                &uid,
                "--whatsapp-template",
                "missing_template",
            ])
            .await
            .expect("updated");
        deployment.whatsapp.unknown_template("missing_template");
        uid
    };
    let (national, e164) = fresh_phone();
    let (status, _, _) = send(&deployment, &client, &broken, &national).await;
    assert_eq!(status, 503);
    assert!(sms_to(&e164).is_empty(), "no SMS for the configuration's mistake");

    // Without the fallback: a 503, no message, no live code, and the budget spent.
    let (national, e164) = fresh_phone();
    deployment.whatsapp.unreachable(&e164);
    let (status, body, retry_after) = send(&deployment, &client, &strict, &national).await;
    assert_eq!((status, body["status"].clone()), (503, json!(503)));
    assert!(retry_after.is_some());
    assert!(sms_to(&e164).is_empty());
    assert!(
        deployment
            .item_where(|pk| pk.starts_with("CHALLENGE#") && pk.ends_with(&e164))
            .await
            .is_none(),
        "nothing is verifiable"
    );
    assert_eq!(send(&deployment, &client, &strict, &national).await.0, 429);
    assert!(
        deployment.whatsapp.refusals().is_empty(),
        "every request had the documented shape"
    );
}

#[tokio::test]
async fn an_unreachable_service_is_a_failure_not_a_refusal() {
    let deployment = Deployment::with(
        &[],
        Endpoints {
            socialmessaging: Some(CLOSED_ENDPOINT.into()),
            ..Default::default()
        },
    )
    .await;
    let client = deployment.client().await;
    let uid = whatsapp_config(&deployment, &client, true).await;
    let (national, e164) = fresh_phone();
    let (status, _, retry_after) = send(&deployment, &client, &uid, &national).await;
    assert_eq!(status, 503);
    assert!(retry_after.is_some());
    assert!(
        sms_to(&e164).is_empty(),
        "an outage is not the recipient's refusal: no SMS"
    );
}

#[tokio::test]
async fn twilio_services_of_the_whatsapp_channel_send_by_whatsapp() {
    let deployment = Deployment::new().await;
    let client = deployment.client().await;
    let sid = whatsapp_config(&deployment, &client, false).await;
    let service = crate::twilio::Service::of(deployment, client, sid);
    let (_, e164) = fresh_phone();
    let (status, body, _) = service.create(&e164, "whatsapp").await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["channel"], "whatsapp");
    let accepted = service.deployment.whatsapp.accepted_for(&e164);
    assert_eq!(accepted.len(), 1);
    otp_tests::audit::note_codes(&accepted[0].code);
    let (status, checked, _) = service.check(("To", &e164), &accepted[0].code).await;
    assert_eq!(
        (status, checked["status"].clone(), checked["channel"].clone()),
        (200, json!("approved"), json!("whatsapp"))
    );
    let (status, body, _) = service.create(&e164, "sms").await;
    assert_eq!(
        (status, body["code"].clone()),
        (400, json!(60223)),
        "the service's channel only"
    );
}

#[tokio::test]
async fn otp_admin_keeps_whatsapp_configurations_whole() {
    let deployment = Deployment::new().await;
    let client = deployment.client().await;
    let uid = whatsapp_config(&deployment, &client, true).await;
    let shown = deployment
        .admin(&["config", "show", "--config", &uid])
        .await
        .expect("shown");
    assert_eq!(
        shown["whatsapp"],
        json!({"phone_number_id": PHONE_NUMBER_ID, "template": "login_code", "language": "en_US", "fallback_to_sms": true})
    );
    let updated = deployment
        .admin(&["config", "update", "--config", &uid, "--whatsapp-language", "pt_BR"])
        .await
        .expect("updated");
    assert_eq!(updated["whatsapp"]["language"], "pt_BR");
    assert_eq!(updated["whatsapp"]["template"], "login_code", "the rest stays");
    // Back to SMS: the template goes with the channel.
    let sms = deployment
        .admin(&["config", "update", "--config", &uid, "--channel", "sms"])
        .await
        .expect("updated");
    assert_eq!(
        (sms["channel"].clone(), sms["whatsapp"].clone()),
        (json!("sms"), Value::Null)
    );
    let item = deployment
        .item_where(|pk| pk == format!("CONFIG#{uid}"))
        .await
        .expect("stored");
    assert!(!item.contains_key("wa_template"));
    let config = otp_shared::ports::ConfigRegistry::config(&deployment.store, &uid)
        .await
        .expect("read");
    assert_eq!(config.map(|c| c.channel), Some(Channel::Sms));

    let refusals = [
        (vec!["--sender", "ACME"], "needs --whatsapp-phone-number-id"),
        (whatsapp_flags("ACME", "123", "t", "en").to_vec(), "phone-number-id-"),
        (
            whatsapp_flags("ACME", PHONE_NUMBER_ID, "Login Code", "en").to_vec(),
            "lower-case",
        ),
        (
            whatsapp_flags("ACME", PHONE_NUMBER_ID, "t", "english").to_vec(),
            "en_US",
        ),
        (whatsapp_flags("A B", PHONE_NUMBER_ID, "t", "en").to_vec(), "sender ID"),
    ];
    for (flags, reason) in refusals {
        let mut more = vec!["--template", "{code}"];
        more.extend(flags);
        let error = deployment
            .admin(&config_create(&client.id, "whatsapp", &more))
            .await
            .expect_err("refused");
        assert!(error.contains(reason), "{more:?}: {error}");
    }
    let on_sms = config_create(
        &client.id,
        "sms",
        &["--template", "{code}", "--sender", "ACME", "--whatsapp-template", "t"],
    );
    let error = deployment.admin(&on_sms).await.expect_err("refused");
    assert!(error.contains("for a whatsapp configuration"), "{error}");
}
