//! `otp-admin`: operator commands, each printing one JSON object.
//!
//! - `otp-admin init`: creates the table named by `TABLE_NAME` (with TTL) where the AWS
//!   SDK points, typically a local AWS through `AWS_ENDPOINT_URL`. In AWS the template
//!   creates the table.
//! - `otp-admin client create --name NAME`: registers an API client and prints its id and
//!   secret, once; only the secret's hash is stored.

use otp_shared::callers::{generate_secret, hash_secret};
use otp_shared::ports::{ClientRecord, ClientRegistry};
use otp_shared::store::{DynamoStore, create_table};
use serde_json::{Value, json};

pub const USAGE: &str = "usage: otp-admin init | otp-admin client create --name NAME";

/// Runs one command against `store`; the answer to print, or what went wrong.
pub async fn execute(args: &[String], store: &DynamoStore) -> Result<Value, String> {
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    match words.as_slice() {
        ["init"] => {
            let created = create_table(store.client(), store.table())
                .await
                .map_err(|error| error.to_string())?;
            Ok(json!({"table": store.table(), "created": created}))
        }
        ["client", "create", "--name", name] => {
            let name = name.trim();
            if name.is_empty() {
                return Err("--name must not be empty".to_owned());
            }
            let client_id = uuid::Uuid::new_v4().to_string();
            let client_secret = generate_secret();
            store
                .put_client(&ClientRecord {
                    id: client_id.clone(),
                    name: name.to_owned(),
                    secret_hash: hash_secret(&client_secret),
                })
                .await
                .map_err(|error| error.to_string())?;
            Ok(json!({"client_id": client_id, "client_secret": client_secret, "name": name}))
        }
        _ => Err(USAGE.to_owned()),
    }
}
