//! `otp-admin`: the table for local use, and API clients stored by hash only.

use otp_shared::callers::authenticate_client;
use otp_shared::store::DynamoStore;
use otp_tests::{local_aws, sdk_config};

fn args(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

#[tokio::test]
async fn init_creates_the_table_once_and_clients_are_stored_hashed() {
    let sdk = sdk_config(&local_aws().endpoint).await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = format!("otp-admin-{}", uuid::Uuid::new_v4().simple());
    let store = DynamoStore::new(client.clone(), table.clone());

    let answer = otp_admin::execute(&args(&["init"]), &store).await.expect("init");
    assert_eq!(answer["created"], true);
    let ttl = client
        .describe_time_to_live()
        .table_name(&table)
        .send()
        .await
        .expect("TTL described");
    let ttl = ttl.time_to_live_description().expect("TTL description");
    assert_eq!(ttl.attribute_name(), Some("ttl"));
    let again = otp_admin::execute(&args(&["init"]), &store).await.expect("init again");
    assert_eq!(again["created"], false);

    let created = otp_admin::execute(&args(&["client", "create", "--name", "Rewards"]), &store)
        .await
        .expect("client created");
    let id = created["client_id"].as_str().expect("client_id");
    let secret = created["client_secret"].as_str().expect("client_secret");
    assert_eq!(secret.len(), 64, "a 256-bit secret");
    let record = authenticate_client(&store, Some(id), Some(secret))
        .await
        .expect("credentials work");
    assert_eq!(record.name, "Rewards");
    let mut tampered = secret.to_owned();
    let last = tampered.pop().expect("non-empty");
    tampered.push(if last == '0' { '1' } else { '0' });
    assert!(authenticate_client(&store, Some(id), Some(&tampered)).await.is_err());

    let items = client
        .scan()
        .table_name(&table)
        .send()
        .await
        .expect("scan")
        .items
        .unwrap_or_default();
    let dump = format!("{items:?}");
    assert!(!dump.contains(secret), "the secret is not stored");

    assert!(otp_admin::execute(&args(&["client", "create"]), &store).await.is_err());
    assert!(otp_admin::execute(&args(&["frobnicate"]), &store).await.is_err());
}
