//! Twilio's Services resource as applications call it at start-up: create a service,
//! fetch, list (paged), update and delete it, with the auth token or an API key; another
//! client's services are not found, and its page tokens page nothing.

use otp_shared::ports::{Channel, Permission};
use otp_tests::{Deployment, fresh_email, fresh_phone, last_code, last_email_code, sms_to};
use serde_json::{Value, json};

use crate::round_trips::{BATCH, TRANSACT, UPDATE, expected, metered};
use crate::twilio::{Service, api_key_of, twilio_request};
use crate::*;

/// Basic credentials: the client's id and secret, or one of its API keys.
type Credentials = (String, String);

async fn call(
    deployment: &Deployment,
    credentials: &Credentials,
    method: &str,
    path: &str,
    form: &[(&str, &str)],
) -> Answer {
    let auth = Some((credentials.0.as_str(), credentials.1.as_str()));
    call_verify(deployment, twilio_request(method, path, auth, form)).await
}

/// The path and query of a page URL the service handed out.
fn path_of(url: &str) -> String {
    let start = url.find("/v2/").expect("a URL of the API");
    url[start..].to_owned()
}

/// Every service a client lists, following the pages as Twilio's SDKs do.
async fn listed(deployment: &Deployment, credentials: &Credentials, page_size: usize) -> Vec<Value> {
    let mut services = Vec::new();
    let mut path = format!("/v2/Services?PageSize={page_size}");
    for _ in 0..100 {
        let (status, page, _) = call(deployment, credentials, "GET", &path, &[]).await;
        assert_eq!(status, 200, "{page}");
        assert_eq!(page["meta"]["key"], "services");
        assert_eq!(page["meta"]["page_size"], page_size);
        services.extend(page["services"].as_array().expect("a list").iter().cloned());
        match page["meta"]["next_page_url"].as_str() {
            Some(next) => path = path_of(next),
            None => return services,
        }
    }
    panic!("the pages never ended");
}

/// A created service's SID.
async fn created(deployment: &Deployment, credentials: &Credentials, form: &[(&str, &str)]) -> (String, Value) {
    let (status, body, _) = call(deployment, credentials, "POST", "/v2/Services", form).await;
    assert_eq!(status, 201, "{body}");
    (body["sid"].as_str().expect("a sid").to_owned(), body)
}

async fn whole_lifecycle(credentials_of: impl AsyncFnOnce(&Service) -> Credentials) {
    let existing = Service::new(Channel::Sms).await;
    let credentials = credentials_of(&existing).await;
    let deployment = &existing.deployment;
    let account_sid = otp_shared::sid::of(otp_shared::sid::ACCOUNT, &existing.client.id);

    // Created as applications do at start-up; Twilio's other parameters kept as sent.
    let form = [
        ("FriendlyName", "Acme Shop"),
        ("CodeLength", "8"),
        ("LookupEnabled", "true"),
        ("Push.IncludeDate", "true"),
        ("Totp.Skew", "2"),
        ("TtsName", "Polly.Joanna"),
        ("SomethingTwilioLacks", "ignored"),
    ];
    let (sid, service) = created(deployment, &credentials, &form).await;
    assert!(sid.starts_with("VA") && sid.len() == 34, "{sid}");
    assert_eq!(service["account_sid"], json!(account_sid));
    assert_eq!(service["friendly_name"], "Acme Shop");
    assert_eq!(service["code_length"], 8);
    assert_eq!(service["lookup_enabled"], true);
    assert_eq!(service["push"]["include_date"], true);
    assert_eq!(service["totp"]["skew"], 2);
    assert_eq!(service["tts_name"], "Polly.Joanna");
    assert_eq!(
        service["psd2_enabled"], false,
        "a parameter not sent shows Twilio's default"
    );
    assert!(service.get("SomethingTwilioLacks").is_none());
    assert!(
        service["url"]
            .as_str()
            .is_some_and(|url| url.ends_with(&format!("/v2/Services/{sid}")))
    );
    assert!(
        service["links"]["verifications"]
            .as_str()
            .is_some_and(|url| url.ends_with("/Verifications"))
    );

    // It sends by SMS and by email, in its friendly name, with codes of its length.
    let auth = Some((credentials.0.as_str(), credentials.1.as_str()));
    let send = |to: &str, channel: &str| {
        let request = twilio_request(
            "POST",
            &format!("/v2/Services/{sid}/Verifications"),
            auth,
            &[("To", to), ("Channel", channel)],
        );
        async move { call_send_otp(deployment, request).await }
    };
    let check = |to: &str, code: &str| {
        let request = twilio_request(
            "POST",
            &format!("/v2/Services/{sid}/VerificationCheck"),
            auth,
            &[("To", to), ("Code", code)],
        );
        async move { call_verify(deployment, request).await }
    };
    let (_, phone) = fresh_phone();
    let (status, body, _) = send(&phone, "sms").await;
    assert_eq!(status, 201, "{body}");
    let code = last_code(&phone);
    assert_eq!(code.len(), 8);
    assert_built_in_english(&sms_to(&phone), &code, "Acme Shop");
    let (status, body, _) = check(&phone, &code).await;
    assert_eq!((status, &body["status"]), (200, &json!("approved")), "{body}");
    let email = fresh_email();
    assert_eq!(send(&email, "email").await.0, 201);
    let code = last_email_code(&email);
    assert_eq!(check(&email, &code).await.1["status"], "approved");

    // Fetched as created; updated where the request says, the rest kept.
    let path = format!("/v2/Services/{sid}");
    let (status, fetched, _) = call(deployment, &credentials, "GET", &path, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(fetched["friendly_name"], "Acme Shop");
    let update = [("FriendlyName", "Acme"), ("CodeLength", "7"), ("Totp.Skew", "1")];
    let (status, updated, _) = call(deployment, &credentials, "POST", &path, &update).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(
        (
            &updated["friendly_name"],
            &updated["code_length"],
            &updated["totp"]["skew"]
        ),
        (&json!("Acme"), &json!(7), &json!(1))
    );
    assert_eq!(updated["lookup_enabled"], true, "kept from the create");
    assert_eq!(updated["date_created"], service["date_created"]);

    // Listed with the service made before, oldest first, a page at a time.
    let sids: Vec<Value> = listed(deployment, &credentials, 1)
        .await
        .iter()
        .map(|s| s["sid"].clone())
        .collect();
    let before = otp_shared::sid::of(otp_shared::sid::SERVICE, &existing.sid);
    assert_eq!(sids, [json!(before), json!(sid)]);

    // Deleted: gone at once, and its sends with it.
    let (status, body, _) = call(deployment, &credentials, "DELETE", &path, &[]).await;
    assert_eq!((status, body), (204, Value::Null));
    let (status, body, _) = call(deployment, &credentials, "GET", &path, &[]).await;
    assert_eq!((status, &body["code"]), (404, &json!(20404)));
    assert_eq!(send(&fresh_phone().1, "sms").await.0, 404);
    let (status, _, _) = call(deployment, &credentials, "DELETE", &path, &[]).await;
    assert_eq!(status, 404, "deleted once");
    assert_eq!(listed(deployment, &credentials, 50).await.len(), 1);
}

#[tokio::test]
async fn a_client_creates_fetches_lists_updates_and_deletes_its_services() {
    whole_lifecycle(async |service| (service.client.id.clone(), service.client.secret.clone())).await;
}

#[tokio::test]
async fn an_api_key_manages_services_as_the_auth_token_does() {
    whole_lifecycle(async |service| api_key_of(&service.deployment, &service.client.id).await).await;
}

#[tokio::test]
async fn another_clients_services_are_not_found_and_its_page_tokens_page_nothing() {
    let owner = Service::new(Channel::Sms).await;
    let deployment = &owner.deployment;
    let owner_credentials = (owner.client.id.clone(), owner.client.secret.clone());
    created(deployment, &owner_credentials, &[("FriendlyName", "Second")]).await;
    let stranger = deployment.client_with(&[Permission::Twilio]).await;
    let stranger_credentials = (stranger.id.clone(), stranger.secret.clone());

    let path = format!("/v2/Services/{}", owner.sid);
    for (method, form) in [
        ("GET", &[][..]),
        ("POST", &[("FriendlyName", "Mine")][..]),
        ("DELETE", &[][..]),
    ] {
        let (status, body, _) = call(deployment, &stranger_credentials, method, &path, form).await;
        assert_eq!((status, &body["code"]), (404, &json!(20404)), "{method}");
    }
    assert!(listed(deployment, &stranger_credentials, 50).await.is_empty());

    // The owner's next page, asked for with the stranger's credentials, or altered.
    let (_, page, _) = call(deployment, &owner_credentials, "GET", "/v2/Services?PageSize=1", &[]).await;
    let next = path_of(page["meta"]["next_page_url"].as_str().expect("a second page"));
    let (status, body, _) = call(deployment, &stranger_credentials, "GET", &next, &[]).await;
    assert_eq!((status, &body["code"]), (404, &json!(20404)), "{body}");
    let altered = next.replace("PageToken=PT", "PageToken=PT1");
    let (status, _, _) = call(deployment, &owner_credentials, "GET", &altered, &[]).await;
    assert_eq!(status, 404);
    let (status, page, _) = call(deployment, &owner_credentials, "GET", &next, &[]).await;
    assert_eq!((status, page["services"].as_array().map(Vec::len)), (200, Some(1)));
    assert_eq!(page["meta"]["page"], 1);
    assert!(page["meta"]["previous_page_url"].is_string());
}

#[tokio::test]
async fn parameters_are_checked_as_twilio_names_them() {
    let service = Service::new(Channel::Sms).await;
    let deployment = &service.deployment;
    let credentials = (service.client.id.clone(), service.client.secret.clone());
    for (form, field) in [
        (&[("FriendlyName", "Acme"), ("CodeLength", "5")][..], "CodeLength"),
        (&[("FriendlyName", "Acme"), ("CodeLength", "4")][..], "CodeLength"),
        (&[("FriendlyName", "Acme"), ("CodeLength", "11")][..], "CodeLength"),
        (&[("CodeLength", "6")][..], "FriendlyName"),
        (
            &[("FriendlyName", "A name much longer than Twilio takes")][..],
            "FriendlyName",
        ),
        (
            &[("FriendlyName", "Acme"), ("LookupEnabled", "yes")][..],
            "LookupEnabled",
        ),
        (&[("FriendlyName", "Acme"), ("Totp.Skew", "one")][..], "Totp.Skew"),
        // Numbers as Twilio writes them: no sign, no leading zero, at most 18 digits.
        (&[("FriendlyName", "Acme"), ("CodeLength", "+6")][..], "CodeLength"),
        (&[("FriendlyName", "Acme"), ("CodeLength", "06")][..], "CodeLength"),
        (&[("FriendlyName", "Acme"), ("Totp.Skew", "+5")][..], "Totp.Skew"),
        (
            &[("FriendlyName", "Acme"), ("Totp.TimeStep", "1234567890123456789")][..],
            "Totp.TimeStep",
        ),
    ] {
        let (status, body, _) = call(deployment, &credentials, "POST", "/v2/Services", form).await;
        assert_eq!((status, &body["code"]), (400, &json!(60200)), "{form:?}: {body}");
        let message = body["message"].as_str().unwrap_or_default();
        assert!(message.contains(field), "{message}");
    }
    let (_, body, _) = call(
        deployment,
        &credentials,
        "POST",
        "/v2/Services",
        &[("FriendlyName", "Acme"), ("CodeLength", "5")],
    )
    .await;
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains("at least 6")),
        "the deployment's minimum is named: {body}"
    );
    // Credentials answer before the body.
    let wrong = (service.client.id.clone(), "not-the-secret".to_owned());
    let (status, _, _) = call(deployment, &wrong, "POST", "/v2/Services", &[("CodeLength", "5")]).await;
    assert_eq!(status, 401);
    let (status, _, _) = call(deployment, &credentials, "GET", "/v2/Services?PageSize=0", &[]).await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn a_client_has_at_most_fifty_services() {
    let service = Service::new(Channel::Sms).await;
    let deployment = &service.deployment;
    let credentials = (service.client.id.clone(), service.client.secret.clone());
    // One made by the operator, then forty-nine by the API.
    for i in 1..50 {
        created(deployment, &credentials, &[("FriendlyName", &format!("Shop {i}"))]).await;
    }
    let (status, body, _) = call(
        deployment,
        &credentials,
        "POST",
        "/v2/Services",
        &[("FriendlyName", "One more")],
    )
    .await;
    assert_eq!((status, &body["code"]), (403, &json!(21102)), "{body}");
    assert_eq!(listed(deployment, &credentials, 1000).await.len(), 50);
}

#[tokio::test]
async fn each_operation_takes_the_round_trips_it_needs() {
    let service = Service::new(Channel::Sms).await;
    let deployment = &service.deployment;
    let credentials = (service.client.id.clone(), service.client.secret.clone());
    // Create: the credentials, then the configuration and its index entry in one transaction.
    let ((status, body, _), usage) = metered(
        deployment,
        call(
            deployment,
            &credentials,
            "POST",
            "/v2/Services",
            &[("FriendlyName", "Acme")],
        ),
    )
    .await;
    assert_eq!(status, 201);
    assert_eq!(usage, expected(&[(BATCH, 1), (TRANSACT, 1)], 2, 2));
    let path = format!("/v2/Services/{}", body["sid"].as_str().expect("a sid"));
    // Fetch: the credentials and the configuration together.
    let (answer, usage) = metered(deployment, call(deployment, &credentials, "GET", &path, &[])).await;
    assert_eq!(answer.0, 200);
    assert_eq!(usage, expected(&[(BATCH, 1)], 1, 1));
    // List: the credentials (the index is on the client's item), then the page's items.
    let (answer, usage) = metered(deployment, call(deployment, &credentials, "GET", "/v2/Services", &[])).await;
    assert_eq!(answer.0, 200);
    assert_eq!(usage, expected(&[(BATCH, 2)], 2, 2));
    // Update: then one conditional write.
    let (answer, usage) = metered(
        deployment,
        call(deployment, &credentials, "POST", &path, &[("FriendlyName", "Acme 2")]),
    )
    .await;
    assert_eq!(answer.0, 200);
    assert_eq!(usage, expected(&[(BATCH, 1), (UPDATE, 1)], 2, 2));
    // Delete: then the configuration and its index entry in one transaction.
    let (answer, usage) = metered(deployment, call(deployment, &credentials, "DELETE", &path, &[])).await;
    assert_eq!(answer.0, 204);
    assert_eq!(usage, expected(&[(BATCH, 1), (TRANSACT, 1)], 2, 2));
}

/// A configuration as a release before the index wrote it: its item alone.
async fn legacy_configuration(deployment: &Deployment, client: &str) -> String {
    legacy_configuration_named(deployment, client, &uuid::Uuid::new_v4().to_string()).await
}

/// The same, of the uid an operator chose.
async fn legacy_configuration_named(deployment: &Deployment, client: &str, uid: &str) -> String {
    use aws_sdk_dynamodb::types::AttributeValue::{N, S};
    deployment
        .store
        .dynamodb()
        .put_item()
        .table_name(deployment.store.table())
        .item("pk", S(format!("CONFIG#{uid}")))
        .item("client_id", S(client.to_owned()))
        .item("channel", S("sms".into()))
        .item("code_length", N("6".into()))
        .item("lifetime", N("300".into()))
        .item("template", S("{code} is your {sender} code".into()))
        .item("sender", S("Old".into()))
        .send()
        .await
        .expect("item written");
    uid.to_owned()
}

#[tokio::test]
async fn configurations_made_before_the_index_are_listed_once_indexed() {
    let service = Service::new(Channel::Sms).await;
    let deployment = &service.deployment;
    let credentials = (service.client.id.clone(), service.client.secret.clone());
    let legacy = legacy_configuration(deployment, &service.client.id).await;
    // Fetched, updated and used by its SID at once; listed once indexed.
    let path = format!("/v2/Services/{legacy}");
    assert_eq!(call(deployment, &credentials, "GET", &path, &[]).await.0, 200);
    assert_eq!(listed(deployment, &credentials, 50).await.len(), 1);
    let indexed = deployment.admin(&["config", "index"]).await.expect("indexed");
    assert_eq!(indexed, json!({"indexed": 1}));
    assert_eq!(listed(deployment, &credentials, 50).await.len(), 2);
    assert_eq!(
        deployment.admin(&["config", "index"]).await.expect("indexed"),
        json!({"indexed": 0}),
        "safe to run again"
    );

    // The operator's configurations are indexed as they are made and deleted.
    let made = deployment
        .admin(&[
            "config",
            "create",
            "--client",
            &service.client.id,
            "--channel",
            "sms",
            "--length",
            "6",
            "--ttl",
            "300",
            "--template",
            "{code} is your {sender} code",
            "--sender",
            "Acme",
        ])
        .await
        .expect("configuration made");
    let sid = made["service_sid"].as_str().expect("a sid").to_owned();
    let sids: Vec<Value> = listed(deployment, &credentials, 50)
        .await
        .iter()
        .map(|s| s["sid"].clone())
        .collect();
    assert!(sids.contains(&json!(sid)), "{sids:?}");
    deployment
        .admin(&["config", "delete", "--config", &sid])
        .await
        .expect("configuration deleted");
    assert_eq!(listed(deployment, &credentials, 50).await.len(), 2);

    // One never indexed is deleted all the same.
    let unindexed = legacy_configuration(deployment, &service.client.id).await;
    let path = format!("/v2/Services/{unindexed}");
    assert_eq!(call(deployment, &credentials, "DELETE", &path, &[]).await.0, 204);
    assert_eq!(call(deployment, &credentials, "GET", &path, &[]).await.0, 404);
}

#[tokio::test]
async fn uids_an_operator_chose_page_and_entries_outliving_their_configuration_go() {
    let service = Service::new(Channel::Sms).await;
    let deployment = &service.deployment;
    let credentials = (service.client.id.clone(), service.client.secret.clone());
    for uid in ["shop-b", "shop-a", "Shop c/d"] {
        legacy_configuration_named(deployment, &service.client.id, uid).await;
    }
    deployment.admin(&["config", "index"]).await.expect("indexed");
    // Indexed in the same second: a page at a time, each once, whatever the uids.
    let sids: Vec<Value> = listed(deployment, &credentials, 1)
        .await
        .iter()
        .map(|s| s["sid"].clone())
        .collect();
    assert_eq!(sids.len(), 4, "{sids:?}");
    for uid in ["shop-a", "shop-b", "Shop c/d"] {
        assert!(sids.contains(&json!(uid)), "{uid}: {sids:?}");
    }

    // A configuration deleted behind the index's back: not listed, and its entry goes
    // with a delete, so the client may make another in its place.
    deployment
        .store
        .dynamodb()
        .delete_item()
        .table_name(deployment.store.table())
        .key("pk", aws_sdk_dynamodb::types::AttributeValue::S("CONFIG#shop-a".into()))
        .send()
        .await
        .expect("item deleted");
    assert_eq!(listed(deployment, &credentials, 50).await.len(), 3);
    assert_eq!(
        call(deployment, &credentials, "DELETE", "/v2/Services/shop-a", &[])
            .await
            .0,
        204
    );
    assert_eq!(
        call(deployment, &credentials, "DELETE", "/v2/Services/shop-a", &[])
            .await
            .0,
        404
    );
    let client = deployment
        .store
        .dynamodb()
        .get_item()
        .table_name(deployment.store.table())
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("CLIENT#{}", service.client.id)),
        )
        .send()
        .await
        .expect("client read")
        .item
        .expect("the client");
    assert!(!client.contains_key("service#shop-a"));
    assert_eq!(client["service_count"].as_n().ok().map(String::as_str), Some("3"));
}

#[tokio::test]
async fn bizmagnets_sends_on_a_service_in_its_friendly_name() {
    let service = Service::new(Channel::Sms).await;
    let deployment = &service.deployment;
    let credentials = (service.client.id.clone(), service.client.secret.clone());
    let (sid, _) = created(deployment, &credentials, &[("FriendlyName", "Acme Shop")]).await;
    let uid = otp_shared::sid::config_uid(&sid).into_owned();
    let (national, phone) = fresh_phone();
    let (status, body, _) = call_send_otp(
        deployment,
        crate::bizmagnets::send_request(&uid, &service.client.api_key, &crate::bizmagnets::mobile(&national)),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let code = last_code(&phone);
    assert_built_in_english(&sms_to(&phone), &code, "Acme Shop");
}

/// The one message a number got: the built-in English text, naming `sender`.
fn assert_built_in_english(texts: &[String], code: &str, sender: &str) {
    let expected = format!("{code} is your {sender} verification code. It expires in ");
    assert!(matches!(texts, [text] if text.starts_with(&expected)), "{texts:?}");
}
