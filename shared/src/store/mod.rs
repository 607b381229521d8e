//! Storage: one DynamoDB table, written only through conditional writes and transactions.
//!
//! Key design (single table, partition key `pk` only, string):
//!
//! | item | `pk` | attributes |
//! |---|---|---|
//! | challenge | `CHALLENGE#<scope>#<destination>` | `id`, `auth_code`, `state`, `attempts`, `expires_at`, `code_length`, `code_tag`/`code_key` (verifiable code), `pending_tag`/`pending_key` (code in delivery), `sent_at`, `ttl` |
//! | budget | `QUOTA#<rule>#<subject>` | `hits` (admitted request times), `ver` (optimistic lock), `ttl` |
//! | contact | `CONTACT#<destination>` | `user_key`, `issuer`, `user_id`, `linked_at` |
//! | user | `USER#<issuer>:<user id>` | `issuer`, `user_id`, `phone`, `email` |
//! | client | `CLIENT#<client id>` | `name`, `secret_hash`, `created_at` |
//!
//! Scope, issuer and user ids are escaped (`%`, `:`, `#`) so keys never collide. `ttl`
//! (epoch seconds) lets DynamoDB delete dead challenges and idle budgets; it deletes
//! lazily, so every rule is enforced in the write that applies it, never by absence.

mod dynamo;

pub use dynamo::{DynamoStore, create_table};
