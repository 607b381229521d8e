//! Challenges: at most one item per scope and destination. A delivered code becomes live
//! in one write; an attempt is counted by one conditional `ADD` before any comparison;
//! a code is used by one conditional write (in a transaction with the registry link it
//! proves, when there is one).

use aws_sdk_dynamodb::types::{Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};

use crate::challenge::{Challenge, Handle, LiveCode, Located, Settlement, State};
use crate::clock::UnixSeconds;
use crate::code::SealedCode;
use crate::destination::Destination;
use crate::ports::{AttemptCount, ChallengeStore, Channel, Consumed, LinkState, StoreError, UserDirectory};
use crate::scope::{Scope, UserRef};

use super::attributes::{
    ATTEMPT, ATTEMPTS, AUTH_CODE, CANCELED_AT, CHANNEL, CODE_FOR, CODE_KEY, CODE_LENGTH, CODE_TAG, CREATED_AT,
    DESTINATION, EXPIRES_AT, ID, Item, PK, SCOPE, SENT_AT, STATE, TTL, USED_AT, b, challenge_id_pk, challenge_pk,
    get_b, get_n, get_s, n, s, stored_destination,
};
use super::failures::{Cancelled, back_off, conditional_failed, item_before, unavailable, written};
use super::items::DynamoStore;

const OPEN: &str = "open";
const USED: &str = "used";
const CANCELED: &str = "canceled";

/// Re-reads of a link that changed under a consume.
const LINK_TRIES: u32 = 4;

fn challenge_from(item: &Item) -> Option<Challenge> {
    // A challenge whose code was used, or never made live, has no seal.
    let code = match (get_b(item, CODE_TAG), get_s(item, CODE_KEY)) {
        (Some(tag), Some(key_id)) => Some(SealedCode {
            tag: tag.to_vec(),
            key_id: key_id.to_owned(),
            bound_to: get_s(item, CODE_FOR).map(str::to_owned),
        }),
        _ => None,
    };
    let sent_at = get_n(item, SENT_AT)?;
    Some(Challenge {
        id: get_s(item, ID)?.to_owned(),
        auth_code: get_s(item, AUTH_CODE)?.to_owned(),
        // A state this code does not know is no challenge at all: never taken for a used
        // (approved) one.
        state: match get_s(item, STATE)? {
            OPEN => State::Open,
            USED => State::Used,
            CANCELED => State::Canceled,
            _ => return None,
        },
        attempts: get_n(item, ATTEMPTS)?,
        expires_at: get_n(item, EXPIRES_AT)?,
        code_length: get_n(item, CODE_LENGTH)?,
        code,
        sent_at,
        // Items written before it was kept: their latest send is what is known.
        created_at: get_n(item, CREATED_AT).unwrap_or(sent_at),
        settled_at: get_n(item, USED_AT).or_else(|| get_n(item, CANCELED_AT)),
        channel: get_s(item, CHANNEL).and_then(Channel::parse),
        attempt: get_s(item, ATTEMPT).map(str::to_owned),
    })
}

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
            .update_expression(format!(
                "SET #state = :used, {USED_AT} = :now REMOVE {CODE_TAG}, {CODE_KEY}, {CODE_FOR}"
            ))
            .condition_expression(format!(
                "{ID} = :id AND #state = :open AND {CODE_TAG} = :tag AND {EXPIRES_AT} > :now"
            ))
            .expression_attribute_names("#state", STATE)
            .expression_attribute_values(":used", s(USED))
            .expression_attribute_values(":open", s(OPEN))
            .expression_attribute_values(":id", s(challenge_id))
            .expression_attribute_values(":tag", b(&sealed.tag))
            .expression_attribute_values(":now", n(now))
            .build()
            .expect("table, key and expression are set")
    }

    /// A new challenge with its code live, replacing exactly the item that was read.
    async fn open_live(&self, scope: &Scope, destination: &Destination, live: &LiveCode) -> Result<bool, StoreError> {
        let mut put = Put::builder()
            .table_name(&self.table)
            .item(PK, s(challenge_pk(scope, destination)))
            .item(ID, s(&live.challenge_id))
            .item(AUTH_CODE, s(&live.auth_code))
            .item(STATE, s(OPEN))
            .item(ATTEMPTS, n(0))
            .item(CODE_LENGTH, n(live.code_length))
            .item(CHANNEL, s(live.channel.name()))
            .item(EXPIRES_AT, n(live.expires_at))
            .item(SENT_AT, n(live.now))
            .item(CREATED_AT, n(live.now))
            .item(CODE_TAG, b(&live.sealed.tag))
            .item(CODE_KEY, s(&live.sealed.key_id))
            .item(TTL, n(live.cleanup_at));
        if let Some(bound_to) = &live.sealed.bound_to {
            put = put.item(CODE_FOR, s(bound_to));
        }
        if let Some(attempt) = &live.attempt {
            put = put.item(ATTEMPT, s(attempt));
        }
        put = match &live.replaces {
            Some(previous) => put
                .condition_expression(format!("{ID} = :previous"))
                .expression_attribute_values(":previous", s(previous)),
            None => put.condition_expression(format!("attribute_not_exists({PK})")),
        };
        let put = put.build().expect("complete put");
        if !live.indexed_by_id {
            return self.put_one(put).await;
        }
        // Its id leads back to it (BizMagnets verifies by id alone): both or neither.
        let pointer = Put::builder()
            .table_name(&self.table)
            .item(PK, s(challenge_id_pk(&live.challenge_id)))
            .item(SCOPE, s(scope.key()))
            .item(DESTINATION, s(destination.key()))
            .item(TTL, n(live.cleanup_at))
            .condition_expression(format!("attribute_not_exists({PK})"))
            .build()
            .expect("complete put");
        let items = [put, pointer]
            .into_iter()
            .map(|put| TransactWriteItem::builder().put(put).build())
            .collect();
        Ok(self.transact(items).await?.is_ok())
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

    async fn put_live(&self, scope: &Scope, destination: &Destination, live: &LiveCode) -> Result<bool, StoreError> {
        if live.opens {
            return self.open_live(scope, destination, live).await;
        }
        // The previous code stops working now; the delivered one works from now on, and
        // its attempt (if any) is the one a right code converts.
        let mut sets = String::new();
        let mut removes = Vec::new();
        match &live.sealed.bound_to {
            Some(_) => sets.push_str(&format!(", {CODE_FOR} = :for")),
            None => removes.push(CODE_FOR),
        }
        match &live.attempt {
            Some(_) => sets.push_str(&format!(", {ATTEMPT} = :attempt")),
            None => removes.push(ATTEMPT),
        }
        let removes = match removes.is_empty() {
            true => String::new(),
            false => format!(" REMOVE {}", removes.join(", ")),
        };
        let mut update = self
            .challenge_update(scope, destination)
            .update_expression(format!(
                "SET {CODE_TAG} = :tag, {CODE_KEY} = :key, {CODE_LENGTH} = :length, {EXPIRES_AT} = :expires, \
                 {SENT_AT} = :now, #ttl = :ttl, {CHANNEL} = :channel{sets}{removes}"
            ))
            .condition_expression(format!(
                "{ID} = :id AND #state = :open AND {EXPIRES_AT} > :now AND {ATTEMPTS} < :max"
            ))
            .expression_attribute_names("#state", STATE)
            .expression_attribute_names("#ttl", TTL)
            .expression_attribute_values(":tag", b(&live.sealed.tag))
            .expression_attribute_values(":key", s(&live.sealed.key_id))
            .expression_attribute_values(":length", n(live.code_length))
            .expression_attribute_values(":channel", s(live.channel.name()))
            .expression_attribute_values(":expires", n(live.expires_at))
            .expression_attribute_values(":now", n(live.now))
            .expression_attribute_values(":ttl", n(live.cleanup_at))
            .expression_attribute_values(":id", s(&live.challenge_id))
            .expression_attribute_values(":open", s(OPEN))
            .expression_attribute_values(":max", n(live.max_attempts));
        if let Some(bound_to) = &live.sealed.bound_to {
            update = update.expression_attribute_values(":for", s(bound_to));
        }
        if let Some(attempt) = &live.attempt {
            update = update.expression_attribute_values(":attempt", s(attempt));
        }
        written(update.send().await)
    }

    async fn locate(&self, challenge_id: &str) -> Result<Option<Located>, StoreError> {
        Ok(self.get(challenge_id_pk(challenge_id)).await?.and_then(|item| {
            Some(Located {
                scope_key: get_s(&item, SCOPE)?.to_owned(),
                destination: stored_destination(get_s(&item, DESTINATION)?),
            })
        }))
    }

    async fn count_attempt(
        &self,
        scope: &Scope,
        destination: &Destination,
        handle: &Handle,
        now: UnixSeconds,
        max_attempts: u32,
    ) -> Result<AttemptCount, StoreError> {
        let (handle_condition, handle_attribute, handle_value) = match handle {
            Handle::AuthCode(code) => ("#handle = :handle AND ", AUTH_CODE, code.as_str()),
            Handle::Id(id) | Handle::LocatedId(id) => ("#handle = :handle AND ", ID, id.as_str()),
            Handle::Open => ("", "", ""),
        };
        // One conditional increment: of any number of parallel guesses, at most
        // `max_attempts` ever get past this line.
        let mut update = self
            .challenge_update(scope, destination)
            .update_expression(format!("ADD {ATTEMPTS} :one"))
            .condition_expression(format!(
                "{handle_condition}#state = :open AND {EXPIRES_AT} > :now AND {ATTEMPTS} < :max \
                 AND attribute_exists({CODE_TAG})"
            ))
            .expression_attribute_names("#state", STATE)
            .expression_attribute_values(":open", s(OPEN))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":max", n(max_attempts))
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        if !handle_condition.is_empty() {
            update = update
                .expression_attribute_names("#handle", handle_attribute)
                .expression_attribute_values(":handle", s(handle_value));
        }
        match update.send().await {
            Ok(output) => match output.attributes.as_ref().and_then(challenge_from) {
                Some(counted) => Ok(AttemptCount::Counted(counted)),
                None => Err(StoreError::inconsistent("a counted attempt returned no challenge")),
            },
            Err(error) if conditional_failed(&error) => {
                let before = item_before(&error);
                Ok(AttemptCount::Refused(challenge_from(&before)))
            }
            Err(error) => Err(unavailable(error)),
        }
    }

    async fn uncount_attempt(
        &self,
        scope: &Scope,
        destination: &Destination,
        challenge_id: &str,
    ) -> Result<(), StoreError> {
        let result = self
            .challenge_update(scope, destination)
            .update_expression(format!("ADD {ATTEMPTS} :minus_one"))
            .condition_expression(format!("{ID} = :id AND {ATTEMPTS} > :zero"))
            .expression_attribute_values(":id", s(challenge_id))
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        // Not written: another request's attempt, or nothing counted.
        written(result).map(|_| ())
    }

    async fn settle(
        &self,
        scope: &Scope,
        destination: &Destination,
        challenge_id: &str,
        settlement: Settlement,
        now: UnixSeconds,
        max_attempts: u32,
    ) -> Result<Option<Challenge>, StoreError> {
        let (state, stamp) = match settlement {
            Settlement::Approve => (USED, USED_AT),
            Settlement::Cancel => (CANCELED, CANCELED_AT),
        };
        let result = self
            .challenge_update(scope, destination)
            .update_expression(format!(
                "SET #state = :settled, {stamp} = :now REMOVE {CODE_TAG}, {CODE_KEY}, {CODE_FOR}"
            ))
            .condition_expression(format!(
                "{ID} = :id AND #state = :open AND {EXPIRES_AT} > :now AND {ATTEMPTS} < :max"
            ))
            .expression_attribute_names("#state", STATE)
            .expression_attribute_values(":settled", s(state))
            .expression_attribute_values(":open", s(OPEN))
            .expression_attribute_values(":id", s(challenge_id))
            .expression_attribute_values(":now", n(now))
            .expression_attribute_values(":max", n(max_attempts))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
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
        link: Option<(&UserRef, &LinkState)>,
    ) -> Result<Consumed, StoreError> {
        let Some((user, state)) = link else {
            let update = self.consume_update(scope, destination, challenge_id, sealed, now);
            return Ok(match self.update_one(update).await? {
                true => Consumed::Used { moved_from: None },
                false => Consumed::AlreadyGone,
            });
        };
        // The link as read beside the attempt; read again only if it changed since.
        let mut state = state.clone();
        let mut owner_contact = None;
        for try_number in 0..LINK_TRIES {
            let plan = self.link_plan(destination, user, &state, owner_contact.clone(), now);
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
                Err(Cancelled::ConditionOf(failed)) if failed.contains(&0) => return Ok(Consumed::AlreadyGone),
                // A link changed between read and write: read it again, whole.
                Err(_) => {
                    back_off(try_number).await;
                    state = self.link_state(destination, user).await?;
                    owner_contact = Some(self.owner_contact(destination, &state).await?);
                }
            }
        }
        Err(StoreError::Contended)
    }
}
