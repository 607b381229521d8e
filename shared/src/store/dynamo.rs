use std::collections::HashMap;
use std::time::Duration;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::{DisplayErrorContext, SdkError};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, AttributeValue, BillingMode, Delete, KeySchemaElement, KeyType, Put, ReturnValue,
    ScalarAttributeType, TimeToLiveSpecification, TransactWriteItem, Update,
};
use rand::RngExt;

use crate::challenge::{Challenge, Handle, Located, Staging, State};
use crate::clock::UnixSeconds;
use crate::code::SealedCode;
use crate::destination::Destination;
use crate::policy::Profile;
use crate::ports::{
    Admission, ChallengeStore, Channel, ClientRecord, ClientRegistry, ConfigRegistry, Consumed, ContactKind, OtpConfig,
    Permission, QuotaStore, StoreError, UserDirectory,
};
use crate::quota::Charge;
use crate::scope::{Scope, UserRef, escape};

type Item = HashMap<String, AttributeValue>;

/// The table's partition key and TTL attribute names.
const PK: &str = "pk";
const TTL: &str = "ttl";

/// Optimistic writes to a contended budget: tries before reporting contention.
const QUOTA_TRIES: u32 = 12;
/// Re-reads of a link that changed under a consume.
const LINK_TRIES: u32 = 4;

#[derive(Debug, Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

fn unavailable<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    StoreError::Unavailable(DisplayErrorContext(error).to_string())
}

fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

fn b(value: &[u8]) -> AttributeValue {
    AttributeValue::B(value.to_vec().into())
}

fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

fn get_b<'a>(item: &'a Item, name: &str) -> Option<&'a [u8]> {
    item.get(name).and_then(|v| v.as_b().ok()).map(|blob| blob.as_ref())
}

fn challenge_pk(scope: &Scope, destination: &Destination) -> String {
    format!("CHALLENGE#{}#{}", scope.key(), destination.as_str())
}

fn quota_pk(charge: &Charge) -> String {
    format!("QUOTA#{}#{}", charge.rule.name, escape(&charge.subject))
}

fn challenge_id_pk(id: &str) -> String {
    format!("CHALLENGE_ID#{}", escape(id))
}

fn config_pk(uid: &str) -> String {
    format!("CONFIG#{}", escape(uid))
}

/// A destination as written by this store (already validated when it was written).
fn stored_destination(value: &str) -> Destination {
    if value.starts_with('+') {
        Destination::Phone(value.to_owned())
    } else {
        Destination::Email(value.to_owned())
    }
}

fn contact_pk(destination: &Destination) -> String {
    format!("CONTACT#{}", destination.as_str())
}

fn user_pk(user: &UserRef) -> String {
    format!("USER#{}", user.key())
}

fn client_pk(id: &str) -> String {
    format!("CLIENT#{}", escape(id))
}

/// The user attribute that holds a destination of this kind.
fn contact_attribute(destination: &Destination) -> &'static str {
    match destination {
        Destination::Phone(_) => "phone",
        Destination::Email(_) => "email",
    }
}

fn sealed_from(item: &Item, tag: &str, key: &str) -> Option<SealedCode> {
    Some(SealedCode {
        tag: get_b(item, tag)?.to_vec(),
        key_id: get_s(item, key)?.to_owned(),
    })
}

fn challenge_from(item: &Item) -> Option<Challenge> {
    Some(Challenge {
        id: get_s(item, "id")?.to_owned(),
        auth_code: get_s(item, "auth_code")?.to_owned(),
        state: match get_s(item, "state")? {
            "open" => State::Open,
            _ => State::Used,
        },
        attempts: get_n(item, "attempts")?,
        expires_at: get_n(item, "expires_at")?,
        code_length: get_n(item, "code_length")?,
        code: sealed_from(item, "code_tag", "code_key"),
    })
}

fn user_from(item: &Item) -> Option<UserRef> {
    Some(UserRef::new(get_s(item, "issuer")?, get_s(item, "user_id")?))
}

/// Whether a transaction was cancelled, and by which of its items (a condition) or by
/// contention with another transaction.
enum Cancelled {
    ConditionOf(Vec<usize>),
    Conflict,
}

fn cancellation<R>(
    error: &SdkError<aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError, R>,
) -> Option<Cancelled> {
    let service = error.as_service_error()?;
    if service.is_transaction_in_progress_exception() {
        return Some(Cancelled::Conflict);
    }
    let aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError::TransactionCanceledException(
        cancelled,
    ) = service
    else {
        return None;
    };
    let failed: Vec<usize> = cancelled
        .cancellation_reasons()
        .iter()
        .enumerate()
        .filter(|(_, reason)| reason.code() == Some("ConditionalCheckFailed"))
        .map(|(index, _)| index)
        .collect();
    if failed.is_empty() {
        Some(Cancelled::Conflict)
    } else {
        Some(Cancelled::ConditionOf(failed))
    }
}

async fn back_off(try_number: u32) {
    let ceiling = 10 + 10 * u64::from(try_number);
    let pause = rand::rng().random_range(1..=ceiling);
    tokio::time::sleep(Duration::from_millis(pause)).await;
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn dynamodb(&self) -> &Client {
        &self.client
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    async fn get(&self, pk: String) -> Result<Option<Item>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .consistent_read(true)
            .send()
            .await
            .map_err(unavailable)?;
        Ok(output.item)
    }

    /// Reads a budget's log and version.
    async fn quota_log(&self, charge: &Charge) -> Result<(Vec<UnixSeconds>, Option<u64>), StoreError> {
        let Some(item) = self.get(quota_pk(charge)).await? else {
            return Ok((Vec::new(), None));
        };
        let hits = item
            .get("hits")
            .and_then(|v| v.as_l().ok())
            .map(|list| list.iter().filter_map(|v| v.as_n().ok()?.parse().ok()).collect())
            .unwrap_or_default();
        Ok((hits, get_n(&item, "ver")))
    }

    /// A put of a budget's new log, on condition that nobody wrote since it was read.
    fn quota_put(&self, charge: &Charge, hits: &[UnixSeconds], version: Option<u64>, now: UnixSeconds) -> Put {
        let mut put = Put::builder()
            .table_name(&self.table)
            .item(PK, s(quota_pk(charge)))
            .item("hits", AttributeValue::L(hits.iter().map(n).collect()))
            .item("ver", n(version.map_or(1, |v| v + 1)))
            .item(TTL, n(now + charge.rule.horizon()));
        put = match version {
            Some(version) => put
                .condition_expression("ver = :ver")
                .expression_attribute_values(":ver", n(version)),
            None => put.condition_expression("attribute_not_exists(pk)"),
        };
        put.build().expect("table, item and key are set")
    }

    /// Writes every item at once, or none. `Err(Ok(cancelled))`: a condition failed or
    /// another transaction came first, and nothing was written.
    async fn transact(&self, items: Vec<TransactWriteItem>) -> Result<Result<(), Cancelled>, StoreError> {
        match self
            .client
            .transact_write_items()
            .set_transact_items(Some(items))
            .send()
            .await
        {
            Ok(_) => Ok(Ok(())),
            Err(error) => match cancellation(&error) {
                Some(cancelled) => Ok(Err(cancelled)),
                None => Err(unavailable(error)),
            },
        }
    }

    /// Writes every put at once, or none; Ok(false) when another writer came first.
    async fn write_all(&self, puts: Vec<Put>) -> Result<bool, StoreError> {
        let items = puts
            .into_iter()
            .map(|put| TransactWriteItem::builder().put(put).build())
            .collect();
        Ok(self.transact(items).await?.is_ok())
    }

    /// Writes one put; Ok(false) when its condition failed.
    async fn put_one(&self, put: Put) -> Result<bool, StoreError> {
        let result = self
            .client
            .put_item()
            .table_name(put.table_name())
            .set_item(Some(put.item().clone()))
            .set_condition_expression(put.condition_expression().map(str::to_owned))
            .set_expression_attribute_names(put.expression_attribute_names().cloned())
            .set_expression_attribute_values(put.expression_attribute_values().cloned())
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error)
                if error
                    .as_service_error()
                    .is_some_and(|e| e.is_conditional_check_failed_exception()) =>
            {
                Ok(false)
            }
            Err(error) => Err(unavailable(error)),
        }
    }
}

impl QuotaStore for DynamoStore {
    async fn peek(&self, charge: &Charge, now: UnixSeconds) -> Result<Admission, StoreError> {
        let (hits, _) = self.quota_log(charge).await?;
        Ok(charge.rule.check(&hits, now))
    }

    async fn spend(&self, charges: &[Charge], now: UnixSeconds) -> Result<Admission, StoreError> {
        for try_number in 0..QUOTA_TRIES {
            let mut puts = Vec::with_capacity(charges.len());
            for charge in charges {
                let (hits, version) = self.quota_log(charge).await?;
                match charge.rule.admit(&hits, now) {
                    Ok(next) => puts.push(self.quota_put(charge, &next, version, now)),
                    Err(exceeded) => return Ok(Err(exceeded)),
                }
            }
            let written = if puts.len() == 1 {
                self.put_one(puts.remove(0)).await?
            } else {
                self.write_all(puts).await?
            };
            if written {
                return Ok(Ok(()));
            }
            back_off(try_number).await;
        }
        Err(StoreError::Contended)
    }

    async fn refund(&self, charge: &Charge, at: UnixSeconds, now: UnixSeconds) -> Result<(), StoreError> {
        for try_number in 0..QUOTA_TRIES {
            let (hits, version) = self.quota_log(charge).await?;
            if version.is_none() {
                return Ok(());
            }
            let next = charge.rule.refund(&hits, at, now);
            if self.put_one(self.quota_put(charge, &next, version, now)).await? {
                return Ok(());
            }
            back_off(try_number).await;
        }
        Err(StoreError::Contended)
    }
}

const OPEN: &str = "open";
const USED: &str = "used";

impl DynamoStore {
    fn challenge_update(
        &self,
        scope: &Scope,
        destination: &Destination,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.client
            .update_item()
            .table_name(&self.table)
            .key(PK, s(challenge_pk(scope, destination)))
    }

    /// The update that uses a code, as a transaction item.
    fn consume_update(
        &self,
        scope: &Scope,
        destination: &Destination,
        challenge_id: &str,
        sealed: &SealedCode,
        now: UnixSeconds,
    ) -> Update {
        Update::builder()
            .table_name(&self.table)
            .key(PK, s(challenge_pk(scope, destination)))
            .update_expression("SET #state = :used, used_at = :now REMOVE code_tag, code_key")
            .condition_expression("id = :id AND #state = :open AND code_tag = :tag AND expires_at > :now")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":used", s(USED))
            .expression_attribute_values(":open", s(OPEN))
            .expression_attribute_values(":id", s(challenge_id))
            .expression_attribute_values(":tag", b(&sealed.tag))
            .expression_attribute_values(":now", n(now))
            .build()
            .expect("table, key and expression are set")
    }
}

fn conditional_failed<E: ConditionalFailure, R>(error: &SdkError<E, R>) -> bool {
    error
        .as_service_error()
        .is_some_and(ConditionalFailure::is_condition_failure)
}

trait ConditionalFailure {
    fn is_condition_failure(&self) -> bool;
}

impl ConditionalFailure for aws_sdk_dynamodb::operation::update_item::UpdateItemError {
    fn is_condition_failure(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

impl ConditionalFailure for aws_sdk_dynamodb::operation::put_item::PutItemError {
    fn is_condition_failure(&self) -> bool {
        self.is_conditional_check_failed_exception()
    }
}

impl ChallengeStore for DynamoStore {
    async fn load(&self, scope: &Scope, destination: &Destination) -> Result<Option<Challenge>, StoreError> {
        Ok(self
            .get(challenge_pk(scope, destination))
            .await?
            .as_ref()
            .and_then(challenge_from))
    }

    async fn stage(&self, scope: &Scope, destination: &Destination, staging: &Staging) -> Result<(), StoreError> {
        if staging.opens {
            let mut put = Put::builder()
                .table_name(&self.table)
                .item(PK, s(challenge_pk(scope, destination)))
                .item("id", s(&staging.challenge_id))
                .item("auth_code", s(&staging.auth_code))
                .item("state", s(OPEN))
                .item("attempts", n(0))
                .item("code_length", n(staging.code_length))
                .item("expires_at", n(staging.expires_at))
                .item("sent_at", n(staging.now))
                .item("pending_tag", b(&staging.sealed.tag))
                .item("pending_key", s(&staging.sealed.key_id))
                .item(TTL, n(staging.cleanup_at));
            // A new challenge replaces exactly the dead item that was read, or none.
            put = match &staging.expects {
                Some(previous) => put
                    .condition_expression("id = :previous")
                    .expression_attribute_values(":previous", s(previous)),
                None => put.condition_expression("attribute_not_exists(pk)"),
            };
            // Its id leads back to it (BizMagnets verifies by id alone).
            let pointer = Put::builder()
                .table_name(&self.table)
                .item(PK, s(challenge_id_pk(&staging.challenge_id)))
                .item("scope", s(scope.key()))
                .item("destination", s(destination.as_str()))
                .item(TTL, n(staging.cleanup_at))
                .condition_expression("attribute_not_exists(pk)");
            let puts = vec![
                put.build().expect("complete put"),
                pointer.build().expect("complete put"),
            ];
            if self.write_all(puts).await? {
                Ok(())
            } else {
                Err(StoreError::Contended)
            }
        } else {
            // The previous code stops working now; the new one works once delivered.
            self.challenge_update(scope, destination)
                .update_expression(
                    "SET pending_tag = :tag, pending_key = :key, expires_at = :expires, sent_at = :now, #ttl = :ttl \
                     REMOVE code_tag, code_key",
                )
                .condition_expression("id = :id AND #state = :open AND expires_at > :now AND attempts < :max")
                .expression_attribute_names("#state", "state")
                .expression_attribute_names("#ttl", TTL)
                .expression_attribute_values(":tag", b(&staging.sealed.tag))
                .expression_attribute_values(":key", s(&staging.sealed.key_id))
                .expression_attribute_values(":expires", n(staging.expires_at))
                .expression_attribute_values(":now", n(staging.now))
                .expression_attribute_values(":ttl", n(staging.cleanup_at))
                .expression_attribute_values(":id", s(&staging.challenge_id))
                .expression_attribute_values(":open", s(OPEN))
                .expression_attribute_values(":max", n(staging.max_attempts))
                .send()
                .await
                .map(|_| ())
                .map_err(|error| {
                    if conditional_failed(&error) {
                        StoreError::Contended
                    } else {
                        unavailable(error)
                    }
                })
        }
    }

    async fn activate(
        &self,
        scope: &Scope,
        destination: &Destination,
        challenge_id: &str,
        sealed: &SealedCode,
    ) -> Result<bool, StoreError> {
        let result = self
            .challenge_update(scope, destination)
            .update_expression("SET code_tag = pending_tag, code_key = pending_key REMOVE pending_tag, pending_key")
            .condition_expression("id = :id AND #state = :open AND pending_tag = :tag")
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":id", s(challenge_id))
            .expression_attribute_values(":open", s(OPEN))
            .expression_attribute_values(":tag", b(&sealed.tag))
            .send()
            .await;
        match result {
            Ok(_) => Ok(true),
            Err(error) if conditional_failed(&error) => Ok(false),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn locate(&self, challenge_id: &str) -> Result<Option<Located>, StoreError> {
        Ok(self.get(challenge_id_pk(challenge_id)).await?.and_then(|item| {
            Some(Located {
                scope_key: get_s(&item, "scope")?.to_owned(),
                destination: stored_destination(get_s(&item, "destination")?),
            })
        }))
    }

    async fn withdraw(
        &self,
        scope: &Scope,
        destination: &Destination,
        challenge_id: &str,
        sealed: &SealedCode,
    ) -> Result<(), StoreError> {
        let result = self
            .challenge_update(scope, destination)
            .update_expression("REMOVE pending_tag, pending_key")
            .condition_expression("id = :id AND pending_tag = :tag")
            .expression_attribute_values(":id", s(challenge_id))
            .expression_attribute_values(":tag", b(&sealed.tag))
            .send()
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(error) if conditional_failed(&error) => Ok(()),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn count_attempt(
        &self,
        scope: &Scope,
        destination: &Destination,
        handle: &Handle,
        now: UnixSeconds,
        max_attempts: u32,
    ) -> Result<Option<Challenge>, StoreError> {
        let (handle_condition, handle_attribute, handle_value) = match handle {
            Handle::AuthCode(code) => ("#handle = :handle AND ", "auth_code", code.as_str()),
            Handle::Id(id) => ("#handle = :handle AND ", "id", id.as_str()),
            Handle::Open => ("", "", ""),
        };
        // One conditional increment: of any number of parallel guesses, at most
        // `max_attempts` ever get past this line.
        let mut update = self
            .challenge_update(scope, destination)
            .update_expression("ADD attempts :one")
            .condition_expression(format!(
                "{handle_condition}#state = :open AND expires_at > :now AND attempts < :max \
                 AND attribute_exists(code_tag)"
            ))
            .expression_attribute_names("#state", "state")
            .expression_attribute_values(":open", s(OPEN))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":max", n(max_attempts))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew);
        if !handle_condition.is_empty() {
            update = update
                .expression_attribute_names("#handle", handle_attribute)
                .expression_attribute_values(":handle", s(handle_value));
        }
        let result = update.send().await;
        match result {
            Ok(output) => Ok(output.attributes.as_ref().and_then(challenge_from)),
            Err(error) if conditional_failed(&error) => Ok(None),
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn consume(
        &self,
        scope: &Scope,
        destination: &Destination,
        challenge_id: &str,
        sealed: &SealedCode,
        now: UnixSeconds,
        link: Option<&UserRef>,
    ) -> Result<Consumed, StoreError> {
        let Some(user) = link else {
            let update = self.consume_update(scope, destination, challenge_id, sealed, now);
            let result = self
                .client
                .update_item()
                .table_name(update.table_name())
                .set_key(Some(update.key().clone()))
                .update_expression(update.update_expression())
                .set_condition_expression(update.condition_expression().map(str::to_owned))
                .set_expression_attribute_names(update.expression_attribute_names().cloned())
                .set_expression_attribute_values(update.expression_attribute_values().cloned())
                .send()
                .await;
            return match result {
                Ok(_) => Ok(Consumed::Used { moved_from: None }),
                Err(error) if conditional_failed(&error) => Ok(Consumed::AlreadyGone),
                Err(error) => Err(unavailable(error)),
            };
        };
        for try_number in 0..LINK_TRIES {
            let plan = self.link_plan(destination, user, now).await?;
            let mut items = vec![
                TransactWriteItem::builder()
                    .update(self.consume_update(scope, destination, challenge_id, sealed, now))
                    .build(),
            ];
            items.extend(plan.items);
            match self.transact(items).await? {
                Ok(()) => {
                    return Ok(Consumed::Used {
                        moved_from: plan.moved_from,
                    });
                }
                // The challenge's own condition: used by another call, or expired.
                Err(Cancelled::ConditionOf(items)) if items.contains(&0) => return Ok(Consumed::AlreadyGone),
                // A link changed between read and write: read again.
                Err(_) => back_off(try_number).await,
            }
        }
        Err(StoreError::Contended)
    }
}

/// The writes that link a destination to a user, each conditional on what was read.
struct LinkPlan {
    items: Vec<TransactWriteItem>,
    moved_from: Option<UserRef>,
}

impl DynamoStore {
    /// A destination has one owner and a user one destination of each kind: linking moves
    /// the destination from its previous owner and releases the user's previous one.
    async fn link_plan(
        &self,
        destination: &Destination,
        user: &UserRef,
        now: UnixSeconds,
    ) -> Result<LinkPlan, StoreError> {
        let attribute = contact_attribute(destination);
        let contact = self.get(contact_pk(destination)).await?;
        let owner = contact.as_ref().and_then(user_from);
        let user_item = self.get(user_pk(user)).await?;
        let previous_destination = user_item
            .as_ref()
            .and_then(|item| get_s(item, attribute))
            .map(str::to_owned);

        let mut items = Vec::new();
        let mut contact_put = Put::builder()
            .table_name(&self.table)
            .item(PK, s(contact_pk(destination)))
            .item("user_key", s(user.key()))
            .item("issuer", s(&user.issuer))
            .item("user_id", s(&user.id))
            .item("linked_at", n(now));
        contact_put = match &owner {
            Some(owner) => contact_put
                .condition_expression("user_key = :owner")
                .expression_attribute_values(":owner", s(owner.key())),
            None => contact_put.condition_expression("attribute_not_exists(pk)"),
        };
        items.push(
            TransactWriteItem::builder()
                .put(contact_put.build().expect("complete put"))
                .build(),
        );

        if owner.as_ref() != Some(user) || previous_destination.as_deref() != Some(destination.as_str()) {
            let mut user_update = Update::builder()
                .table_name(&self.table)
                .key(PK, s(user_pk(user)))
                .update_expression("SET issuer = :issuer, user_id = :user_id, #contact = :destination")
                .expression_attribute_names("#contact", attribute)
                .expression_attribute_values(":issuer", s(&user.issuer))
                .expression_attribute_values(":user_id", s(&user.id))
                .expression_attribute_values(":destination", s(destination.as_str()));
            user_update = match &previous_destination {
                Some(previous) => user_update
                    .condition_expression("#contact = :previous")
                    .expression_attribute_values(":previous", s(previous)),
                None => user_update.condition_expression("attribute_not_exists(#contact)"),
            };
            items.push(
                TransactWriteItem::builder()
                    .update(user_update.build().expect("complete update"))
                    .build(),
            );
        }

        let moved_from = owner.filter(|owner| owner != user);
        if let Some(previous_owner) = &moved_from {
            let previous_owner_item = self.get(user_pk(previous_owner)).await?;
            if previous_owner_item.as_ref().and_then(|item| get_s(item, attribute)) == Some(destination.as_str()) {
                let release = Update::builder()
                    .table_name(&self.table)
                    .key(PK, s(user_pk(previous_owner)))
                    .update_expression("REMOVE #contact")
                    .condition_expression("#contact = :destination")
                    .expression_attribute_names("#contact", attribute)
                    .expression_attribute_values(":destination", s(destination.as_str()))
                    .build()
                    .expect("complete update");
                items.push(TransactWriteItem::builder().update(release).build());
            }
        }
        if let Some(previous) = previous_destination.filter(|previous| previous != destination.as_str()) {
            let release = Delete::builder()
                .table_name(&self.table)
                .key(PK, s(format!("CONTACT#{previous}")))
                .condition_expression("attribute_not_exists(pk) OR user_key = :user")
                .expression_attribute_values(":user", s(user.key()))
                .build()
                .expect("complete delete");
            items.push(TransactWriteItem::builder().delete(release).build());
        }
        Ok(LinkPlan { items, moved_from })
    }
}

impl UserDirectory for DynamoStore {
    async fn owner_of(&self, destination: &Destination) -> Result<Option<UserRef>, StoreError> {
        Ok(self.get(contact_pk(destination)).await?.as_ref().and_then(user_from))
    }

    async fn contact_of(&self, user: &UserRef, kind: ContactKind) -> Result<Option<Destination>, StoreError> {
        let attribute = match kind {
            ContactKind::Phone => "phone",
            ContactKind::Email => "email",
        };
        Ok(self
            .get(user_pk(user))
            .await?
            .as_ref()
            .and_then(|item| get_s(item, attribute))
            .map(stored_destination))
    }

    async fn link(
        &self,
        destination: &Destination,
        user: &UserRef,
        now: UnixSeconds,
    ) -> Result<Option<UserRef>, StoreError> {
        for try_number in 0..LINK_TRIES {
            let plan = self.link_plan(destination, user, now).await?;
            match self.transact(plan.items).await? {
                Ok(()) => return Ok(plan.moved_from),
                // A link changed between read and write: read again.
                Err(_) => back_off(try_number).await,
            }
        }
        Err(StoreError::Contended)
    }
}

impl ClientRegistry for DynamoStore {
    async fn client(&self, id: &str) -> Result<Option<ClientRecord>, StoreError> {
        Ok(self.get(client_pk(id)).await?.and_then(|item| {
            let permissions = item
                .get("permissions")
                .and_then(|v| v.as_l().ok())
                .map(|list| {
                    list.iter()
                        .filter_map(|v| v.as_s().ok())
                        .filter_map(|name| Permission::parse(name))
                        .collect()
                })
                .unwrap_or_default();
            Some(ClientRecord {
                id: id.to_owned(),
                name: get_s(&item, "name")?.to_owned(),
                secret_hash: get_b(&item, "secret_hash")?.to_vec(),
                api_key_hash: get_b(&item, "api_key_hash").map(<[u8]>::to_vec),
                permissions,
            })
        }))
    }

    async fn put_client(&self, record: &ClientRecord) -> Result<(), StoreError> {
        let permissions = record.permissions.iter().map(|p| s(p.name())).collect();
        let mut put = Put::builder()
            .table_name(&self.table)
            .item(PK, s(client_pk(&record.id)))
            .item("name", s(&record.name))
            .item("secret_hash", b(&record.secret_hash))
            .item("permissions", AttributeValue::L(permissions))
            .condition_expression("attribute_not_exists(pk)");
        if let Some(hash) = &record.api_key_hash {
            put = put.item("api_key_hash", b(hash));
        }
        if self.put_one(put.build().expect("complete put")).await? {
            Ok(())
        } else {
            Err(StoreError::Unavailable(format!("client {} already exists", record.id)))
        }
    }
}

impl ConfigRegistry for DynamoStore {
    async fn config(&self, uid: &str) -> Result<Option<OtpConfig>, StoreError> {
        Ok(self.get(config_pk(uid)).await?.and_then(|item| {
            let profile = Profile::new(
                get_n(&item, "code_length")?,
                Duration::from_secs(get_n(&item, "lifetime")?),
            )
            .ok()?;
            Some(OtpConfig {
                uid: uid.to_owned(),
                client_id: get_s(&item, "client_id")?.to_owned(),
                channel: Channel::parse(get_s(&item, "channel")?)?,
                profile,
                template: get_s(&item, "template")?.to_owned(),
                sender: get_s(&item, "sender")?.to_owned(),
            })
        }))
    }

    async fn put_config(&self, config: &OtpConfig) -> Result<(), StoreError> {
        let put = Put::builder()
            .table_name(&self.table)
            .item(PK, s(config_pk(&config.uid)))
            .item("client_id", s(&config.client_id))
            .item("channel", s(config.channel.name()))
            .item("code_length", n(config.profile.code_length))
            .item("lifetime", n(config.profile.lifetime.as_secs()))
            .item("template", s(&config.template))
            .item("sender", s(&config.sender))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .expect("complete put");
        if self.put_one(put).await? {
            Ok(())
        } else {
            Err(StoreError::Unavailable(format!(
                "configuration {} already exists",
                config.uid
            )))
        }
    }
}

/// Creates the table (on demand, `pk` string key) and turns on TTL; an existing table is
/// left as it is. For local use: in AWS the template creates it.
pub async fn create_table(client: &Client, table: &str) -> Result<bool, StoreError> {
    let created = client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name(PK)
                .attribute_type(ScalarAttributeType::S)
                .build()
                .expect("complete definition"),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name(PK)
                .key_type(KeyType::Hash)
                .build()
                .expect("complete key"),
        )
        .send()
        .await;
    let created = match created {
        Ok(_) => true,
        Err(error)
            if error
                .as_service_error()
                .is_some_and(|e| e.is_resource_in_use_exception()) =>
        {
            false
        }
        Err(error) => return Err(unavailable(error)),
    };
    if created {
        client
            .update_time_to_live()
            .table_name(table)
            .time_to_live_specification(
                TimeToLiveSpecification::builder()
                    .attribute_name(TTL)
                    .enabled(true)
                    .build()
                    .expect("complete specification"),
            )
            .send()
            .await
            .map_err(unavailable)?;
    }
    Ok(created)
}
