//! Test destinations: added with `otp-admin`, they take their known code and get no
//! message, only where the deployment allows them; budgets, attempts, ownership and expiry
//! apply as the README says.

use otp_admin::execute;
use otp_shared::ports::Permission;
use otp_tests::{Deployment, Endpoints, TestClient, audit, captured_logs, fresh_email, fresh_phone, sms_to};
use serde_json::{Value, json};

use crate::round_trips::{BATCH, PUT, RECORDED, SPEND, UPDATE, expected, metered};
use crate::zap::request;
use crate::*;

const KNOWN_CODE: &str = "246810";
const ALLOWED: [(&str, &str); 1] = [("OTP_ALLOW_TEST_DESTINATIONS", "true")];

/// The last day a test destination added now applies: tomorrow (UTC).
fn tomorrow() -> String {
    otp_shared::http::rfc3339(otp_tests::now() + 86_400)[..10].to_owned()
}

/// `otp-admin test-destination add` for `owner` (its flags), of `to` with `code` until
/// `expires`.
fn add_words<'a>(owner: &[&'a str], to: &'a str, code: &'a str, expires: &'a str) -> Vec<&'a str> {
    let mut words = vec!["test-destination", "add"];
    words.extend_from_slice(owner);
    words.extend(["--to", to, "--code", code, "--expires", expires]);
    words
}

async fn add(deployment: &Deployment, owner: &[&str], to: &str) {
    audit::note("test code", KNOWN_CODE);
    let expires = tomorrow();
    let added = deployment
        .admin(&add_words(owner, to, KNOWN_CODE, &expires))
        .await
        .expect("test destination added");
    assert_eq!(added["destination"], to);
    assert_eq!(added["code_length"], 6);
}

async fn zap_deployment(overrides: &[(&str, &str)]) -> (Deployment, TestClient) {
    let deployment = Deployment::with(overrides, Endpoints::default()).await;
    let client = deployment.client_with(&[Permission::Zap]).await;
    (deployment, client)
}

async fn generate(deployment: &Deployment, client: &TestClient, phone: &str) -> Answer {
    let body = json!({"phoneNumber": phone, "userId": "reviewer"});
    call_generate(deployment, request("/v1/otp", Some(&client.api_key), &body)).await
}

async fn verify(deployment: &Deployment, client: &TestClient, phone: &str, code: &str) -> u16 {
    let body = json!({"phoneNumber": phone, "userId": "reviewer", "otp": code});
    call_verify(deployment, request("/v1/otp/verify", Some(&client.api_key), &body))
        .await
        .0
}

#[tokio::test]
async fn a_test_destination_takes_its_known_code_and_gets_no_message() {
    let (deployment, client) = zap_deployment(&ALLOWED).await;
    let (_, phone) = fresh_phone();
    add(&deployment, &["--client", &client.id], &phone).await;

    // The first round trip reads the test destination beside the budgets (in the batch of
    // the request's reads): still two.
    let (answer, usage) = metered(&deployment, generate(&deployment, &client, &phone)).await;
    assert_eq!(answer.0, 200, "{}", answer.1);
    assert_eq!(
        usage,
        expected(&[(BATCH, 1), (UPDATE, 4 + SPEND), (PUT, 1)], 2, 2),
        "no delivery"
    );
    assert_eq!(deployment.meter.reads_naming("TESTDEST#"), 1);
    assert!(sms_to(&phone).is_empty(), "nothing is delivered to a test destination");

    // Attempts apply: a wrong code is counted like any other.
    assert_eq!(verify(&deployment, &client, &phone, "135790").await, 400);
    assert_eq!(deployment.attempts_on(&phone).await, 1);
    assert_eq!(verify(&deployment, &client, &phone, KNOWN_CODE).await, 200);
    assert_eq!(verify(&deployment, &client, &phone, KNOWN_CODE).await, 400, "used once");

    // Budgets apply: a second send within the cooldown is refused.
    assert_eq!(generate(&deployment, &client, &phone).await.0, 429);
    // Once the cooldown has passed, a new challenge takes the same known code.
    deployment.clock.advance(31);
    assert_eq!(generate(&deployment, &client, &phone).await.0, 200);
    assert_eq!(verify(&deployment, &client, &phone, KNOWN_CODE).await, 200);
    assert!(sms_to(&phone).is_empty());

    let masked = format!("+91******{}", &phone[phone.len() - 4..]);
    let logs = captured_logs();
    let uses: Vec<Value> = logs
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["destination"] == masked.as_str())
        .collect();
    let sends = uses
        .iter()
        .filter(|line| {
            line["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("test destination"))
        })
        .count();
    let verified = uses
        .iter()
        .filter(|line| line["message"] == "code verified" && line["test_destination"] == true)
        .count();
    assert_eq!((sends, verified), (2, 2), "every use is logged");
}

#[tokio::test]
async fn test_destinations_are_off_unless_the_deployment_allows_them() {
    let (deployment, client) = zap_deployment(&[]).await;
    let (_, phone) = fresh_phone();
    add(&deployment, &["--client", &client.id], &phone).await;
    let (answer, usage) = metered(&deployment, generate(&deployment, &client, &phone)).await;
    assert_eq!(answer.0, 200);
    // Delivered: its attempt recorded too.
    assert_eq!(usage.to("dynamodb"), 6 + SPEND + RECORDED.1, "{usage:?}");
    assert_eq!(
        deployment.meter.reads_naming("TESTDEST#"),
        0,
        "no lookup where they are not allowed"
    );
    assert_eq!(sms_to(&phone).len(), 1, "delivered as to any destination");
    assert_eq!(verify(&deployment, &client, &phone, KNOWN_CODE).await, 400);

    // A challenge opened while they were allowed stops taking the known code once they
    // are not.
    let allowing = deployment.sharing_table_with(&ALLOWED, Endpoints::default()).await;
    let (_, other) = fresh_phone();
    add(&deployment, &["--client", &client.id], &other).await;
    assert_eq!(generate(&allowing, &client, &other).await.0, 200);
    assert_eq!(verify(&deployment, &client, &other, KNOWN_CODE).await, 400);
}

#[tokio::test]
async fn a_test_destination_answers_only_its_owner_and_only_until_it_expires() {
    let (deployment, client) = zap_deployment(&ALLOWED).await;
    let other_client = deployment.client_with(&[Permission::Zap]).await;
    let (_, phone) = fresh_phone();
    add(&deployment, &["--client", &client.id], &phone).await;

    assert_eq!(generate(&deployment, &other_client, &phone).await.0, 200);
    assert_eq!(sms_to(&phone).len(), 1, "another client's send is delivered");
    assert_eq!(verify(&deployment, &other_client, &phone, KNOWN_CODE).await, 400);

    // A public test destination answers requests that name no client.
    let open = deployment
        .sharing_table_with(
            &[
                ("OTP_ALLOW_TEST_DESTINATIONS", "true"),
                ("ZAP_REQUIRE_API_KEY", "false"),
            ],
            Endpoints::default(),
        )
        .await;
    let address = fresh_email();
    add(&deployment, &["--public"], &address).await;
    let body = json!({"email": address, "userId": "reviewer"});
    assert_eq!(call_generate(&open, request("/v1/otp", None, &body)).await.0, 200);
    assert!(otp_tests::emails_to(&address).is_empty());
    let check = json!({"email": address.to_uppercase(), "userId": "reviewer", "otp": KNOWN_CODE});
    assert_eq!(call_verify(&open, request("/v1/otp/verify", None, &check)).await.0, 200);

    // Past its last day, the owner's sends are delivered too.
    deployment.clock.advance(2 * 86_400);
    assert_eq!(generate(&deployment, &client, &phone).await.0, 200);
    assert_eq!(sms_to(&phone).len(), 2);
    assert_eq!(verify(&deployment, &client, &phone, KNOWN_CODE).await, 400);
}

#[tokio::test]
async fn otp_admin_lists_removes_and_refuses_what_it_must() {
    let (deployment, client) = zap_deployment(&ALLOWED).await;
    let (_, phone) = fresh_phone();
    let address = fresh_email();
    add(&deployment, &["--client", &client.id], &phone).await;
    add(&deployment, &["--client", &client.id], &address).await;

    let listed = deployment
        .admin(&["test-destination", "list", "--client", &client.id])
        .await
        .expect("listed");
    let destinations: Vec<&str> = listed["test_destinations"]
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|entry| entry["destination"].as_str())
        .collect();
    let mut wanted = vec![phone.as_str(), address.as_str()];
    wanted.sort_by_key(|d| d.to_ascii_lowercase());
    assert_eq!(destinations, wanted);
    assert_eq!(listed["test_destinations"][0]["expired"], false);
    assert_eq!(listed["test_destinations"][0]["key_retired"], false);
    assert!(!listed.to_string().contains(KNOWN_CODE), "the code is never shown");
    let item = deployment
        .item_where(|pk| pk.starts_with("TESTDEST#") && pk.ends_with(&phone))
        .await
        .expect("stored");
    assert!(
        item.values()
            .all(|value| value.as_s().map_or(true, |s| !s.contains(KNOWN_CODE))),
        "the code is stored sealed"
    );
    let public = deployment
        .admin(&["test-destination", "list", "--public"])
        .await
        .expect("listed");
    assert_eq!(public["test_destinations"], json!([]));

    let removed = deployment
        .admin(&["test-destination", "remove", "--client", &client.id, "--to", &phone])
        .await
        .expect("removed");
    assert_eq!(removed["removed"], true);
    assert_eq!(generate(&deployment, &client, &phone).await.0, 200);
    assert_eq!(sms_to(&phone).len(), 1, "a removed test destination is delivered to");

    let expires = tomorrow();
    let refusals = [
        (
            vec!["test-destination", "remove", "--client", &client.id, "--to", &phone],
            "not a test destination",
        ),
        (
            add_words(&["--client", "nobody"], &phone, KNOWN_CODE, &expires),
            "no client nobody",
        ),
        (add_words(&["--public"], &phone, "12345", &expires), "6 to 10 digits"),
        (
            add_words(&["--public"], &phone, KNOWN_CODE, "2020-01-01"),
            "after today",
        ),
        (
            add_words(&["--public"], "0123", KNOWN_CODE, &expires),
            "neither an E.164 number nor an address",
        ),
        (add_words(&[], &phone, KNOWN_CODE, &expires), "--client"),
        (
            vec!["test-destination", "list", "--public", "--client", &client.id],
            "cannot be used with",
        ),
    ];
    for (words, reason) in refusals {
        let error = deployment.admin(&words).await.expect_err("refused");
        assert!(error.contains(reason), "{words:?}: {error}");
    }
    let mut keyless = deployment.operator().await;
    keyless.code_keys = None;
    let words: Vec<String> = add_words(&["--public"], &phone, KNOWN_CODE, &expires)
        .iter()
        .map(|w| w.to_string())
        .collect();
    let error = execute(&words, &keyless).await.expect_err("refused");
    assert!(error.contains("OTP_HMAC_KEYS"), "{error}");
}
