//! Storage: one DynamoDB table, written only through conditional writes, and through
//! transactions only where one request's own items must change together (a used code and
//! the registry link it proves; a configuration and its client's index of them). Items that many requests share (budgets) are never in a
//! transaction: two transactions touching one item at once fail with a conflict, where
//! two single writes are simply applied one after the other.
//!
//! Key design (single table, partition key `pk` only, string):
//!
//! | item | `pk` | attributes |
//! |---|---|---|
//! | challenge | `CHALLENGE#<scope>#<destination key>` | `id`, `auth_code`, `state`, `attempts`, `expires_at`, `code_length`, `code_tag`/`code_key` (the verifiable code's seal), `sent_at`, `ttl` |
//! | challenge id | `CHALLENGE_ID#<id>` | `scope`, `destination` (BizMagnets verifies by id) |
//! | sliding budget | `SLIDE#<rule>#<subject>` (the subject names its tenant first: `client:<id>:<destination>`) | `n0`..`n19`: the last admissions, newest first; `ttl` |
//! | counter | `COUNT#<rule>#<subject>#<window>` | `n`: requests counted in that window; `ttl` |
//! | conversion guard | `GUARD#<tenant>:<number prefix>` | `s<day>`/`v<day>`: sends and verified sends of a UTC day; `hs<hour>`/`hv<hour>`: of an hour; `blocked_until`, `blocks`: the cool-off; `ttl` |
//! | spend counter | `SPEND#<cap>#<window>#<shard>[#<tenant>]` (`deployment#2026-12#3`, `tenant#2026-12#0#client:abc`, `country-hour#IN#<hour>#5`) | `spent`: the window's estimated spend in millionths of a US dollar; `ttl` |
//! | attempt | `ATTEMPT#<id>` | `tenant`, `service`, `challenge_id`, `channel`, `to`, `country`, `created_at`, `updated_at`, `converted`, `price` (millionths of a dollar), `attempts_day` (`<tenant>#<UTC day>`: the key of the index `attempts_by_day`, sorted by `created_at`), `ttl` (30 days) |
//! | contact | `CONTACT#<product>:<issuer>#<destination key>` | `user_key`, `product`, `issuer`, `user_id`, `address`, `linked_at` |
//! | user | `USER#<product>:<issuer>:<user id>` | `product`, `issuer`, `user_id`, `phone`, `email` (as given) |
//! | client | `CLIENT#<client id>` | `name`, `secret_hash`, `api_key_hash`, `permissions`, `sends_per_hour`, `sends_per_number_range_per_hour`, `key#<SK sid>` (an API key: `name`, `secret_hash`, `created`), `api_key_count`, `service#<config uid>` (when that configuration was made: the index of its services), `service_count` |
//! | configuration | `CONFIG#<uid>` | `client_id`, `channel` (the default), `code_length`, `lifetime`, `template`, `sender`, `wa_*` (WhatsApp's template), `channel#<name>` (another channel: `template`, `sender`, `wa_*`), `friendly_name`, `kept` (Twilio's parameters kept as sent), `created_at`, `updated_at` |
//! | test destination | `TESTDEST#client:<client id>#<destination key>` or `TESTDEST#public#<destination key>` | `destination`, `code_tag`/`code_key` (the known code's seal), `code_length`, `expires_at`, `added_at`, `ttl` |
//!
//! A destination key is the E.164 number or the case-folded address. Scope, issuer and
//! user ids are escaped (`%`, `:`, `#`) so keys never collide. `ttl` (epoch seconds) lets
//! DynamoDB delete dead challenges and idle budgets; it deletes lazily, so every rule is
//! enforced in the write that applies it, never by absence.

mod admin;
mod attempts;
mod attributes;
mod budgets;
mod challenges;
mod failures;
mod guard;
mod items;
mod migration;
mod reads;
mod registry;
mod services;
mod spend;
mod table;
mod test_destinations;
mod users;

pub use admin::KeyAdded;
pub use items::DynamoStore;
pub use migration::{LegacyContact, Placement};
pub use registry::MAX_API_KEYS_PER_CLIENT;
pub use services::MAX_SERVICES_PER_CLIENT;
pub use table::create_table;
pub use test_destinations::ListedTestDestination;
