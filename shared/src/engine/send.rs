//! A send in two round trips and a delivery. First: the budgets and the challenge read,
//! beside the dialect's own reads. Then the message goes out. Last: one write makes the
//! delivered code the challenge's only verifiable one, so a code is never verifiable
//! before its message was accepted, whatever fails in between.

use std::future::Future;

use crate::challenge::{Challenge, Lifecycle, LiveCode, Sent};
use crate::clock::UnixSeconds;
use crate::code::Code;
use crate::destination::Destination;
use crate::error::OtpError;
use crate::messages::Writing;
use crate::policy::{CLEANUP_GRACE, Profile};
use crate::ports::{
    AttemptLog, ChallengeStore, Channel, ClientLimits, ClientRegistry, ConversionStore, Delivery, Message, QuotaStore,
    SpendStore,
};
use crate::scope::Scope;
use crate::telemetry::{Origin, SendOutcome, Status};
use crate::test_destinations::{TestDestination, TestOwner};

use super::budgets::{MessageCost, Spent};
use super::{Otp, Requester, new_auth_code};

/// Where a send goes and for whom: what its first round trip needs.
#[derive(Debug, Clone)]
pub struct SendOrder<'a> {
    pub scope: Scope,
    /// The destination as the request names it (or as a dialect guesses it before its
    /// reads say which of two the request meant: see [`Dispatch::to`]).
    pub destination: Destination,
    pub requester: &'a Requester,
    /// The challenge can be verified by its id alone (BizMagnets).
    pub indexed_by_id: bool,
    /// The channel the request names (Twilio's `Channel`), when it names one: a call may
    /// go to a landline, and is priced as a call.
    pub channel: Option<Channel>,
}

/// How a code goes out, as the first round trip's reads decided.
#[derive(Debug, Clone)]
pub struct Dispatch<M> {
    /// The budgets' limits of the client that asks (or the deployment's).
    pub limits: ClientLimits,
    /// The code's length and lifetime.
    pub profile: Profile,
    /// The channel a configuration names (WhatsApp rather than the SMS a phone would
    /// take); none: the destination's own.
    pub channel: Option<Channel>,
    /// Another destination than the order's, when the reads showed the request meant it:
    /// what the first was charged is given back and the send begins again there.
    pub to: Option<Destination>,
    /// What the message is written from (a configuration, a name), for `compose`.
    pub message: M,
    /// The OTP configuration it goes under (Twilio's service), by uid, for its attempt.
    pub service: Option<String>,
}

/// How a send ends, decided from what its first round trip read.
#[derive(Debug)]
pub enum Plan<M, A> {
    /// A code goes out.
    Deliver(Dispatch<M>),
    /// It costs what a send costs and delivers nothing (a destination of no known user),
    /// under these limits.
    Count(ClientLimits),
    /// It is not made after all: everything it spent is given back, and the dialect
    /// answers `A`.
    Withdraw(A),
}

/// What a send did.
#[derive(Debug)]
pub enum Ended<A> {
    Sent(Sent),
    Counted,
    Withdrawn(A),
}

/// A send after its first round trip: budgets spent and the challenge read. It ends in
/// `finish_send`, `finish_count` or `abandon` (which gives every budget back), which
/// [`Otp::send`] alone calls.
#[must_use = "a pending send holds spent budgets: finish or abandon it"]
#[derive(Debug)]
struct PendingSend {
    scope: Scope,
    destination: Destination,
    indexed_by_id: bool,
    /// The channel the request named.
    channel: Option<Channel>,
    spent: Spent,
    challenge: Option<Challenge>,
    /// The requester's test destination for `destination`, when one applies.
    test: Option<TestDestination>,
    origin: Origin,
    at: UnixSeconds,
    /// The requester's tenant, by key, whose attempt a delivery is.
    tenant: String,
}

impl PendingSend {
    /// The send goes by `channel` (its configuration's: WhatsApp rather than the SMS a
    /// phone number would take), as its counts and events say.
    fn going_by(mut self, channel: Channel) -> Self {
        self.origin = self.origin.by(Some(channel));
        self
    }
}

/// What a send makes live: a code it generates and delivers, or a test destination's
/// known code, already sealed, delivered to nobody.
enum Sealing {
    Fresh(Code),
    Known(TestDestination),
}

/// The `Retry-After` a store failure answers with (and logs it, as every store failure).
fn retry_after_of(error: crate::ports::StoreError) -> u64 {
    match OtpError::from(error) {
        OtpError::Unavailable { retry_after }
        | OtpError::TooMany { retry_after }
        | OtpError::RangeBlocked { retry_after } => retry_after,
        _ => 1,
    }
}

/// Writes before giving up when the challenge changed between its read and the write
/// that makes a delivered code live (a verify used or spent it meanwhile).
const LIVE_TRIES: usize = 2;

impl<S: ChallengeStore + QuotaStore + ConversionStore + SpendStore + AttemptLog + ClientRegistry> Otp<S> {
    /// A send, whole: its first round trip (every budget spent and the challenge read, at
    /// once with the dialect's `reads`), then what `plan` decides from those reads: a
    /// code delivered (the message `compose` writes from the plan's `message`), a send
    /// counted and nothing delivered, or nothing at all, everything spent given back.
    /// When `reads` or `plan` fails, everything spent is given back and its error
    /// returned.
    pub async fn send<T, M, A, D: Delivery>(
        &self,
        order: SendOrder<'_>,
        reads: impl Future<Output = Result<T, OtpError>>,
        plan: impl FnOnce(&T) -> Result<Plan<M, A>, OtpError>,
        delivery: &D,
        compose: impl Fn(&M, Writing<'_>) -> Message,
    ) -> Result<(T, Ended<A>), OtpError> {
        let requester = order.requester;
        let (reads, pending) = self.begin_send(order, reads).await?;
        let dispatch = match plan(&reads) {
            Ok(Plan::Deliver(dispatch)) => dispatch,
            Ok(Plan::Count(limits)) => {
                self.finish_count(pending, &limits).await?;
                return Ok((reads, Ended::Counted));
            }
            Ok(Plan::Withdraw(answer)) => {
                self.abandon(pending).await;
                return Ok((reads, Ended::Withdrawn(answer)));
            }
            Err(error) => {
                self.abandon(pending).await;
                return Err(error);
            }
        };
        let sent = self.dispatch(pending, requester, dispatch, delivery, compose).await?;
        Ok((reads, Ended::Sent(sent)))
    }

    /// A send whose plan always delivers ([`Self::send`] with `dispatch` as its plan), and
    /// the code it sent.
    pub async fn deliver<T, M, D: Delivery>(
        &self,
        order: SendOrder<'_>,
        reads: impl Future<Output = Result<T, OtpError>>,
        dispatch: impl FnOnce(&T) -> Result<Dispatch<M>, OtpError>,
        delivery: &D,
        compose: impl Fn(&M, Writing<'_>) -> Message,
    ) -> Result<(T, Sent), OtpError> {
        let requester = order.requester;
        let (reads, pending) = self.begin_send(order, reads).await?;
        match dispatch(&reads) {
            Ok(dispatch) => {
                let sent = self.dispatch(pending, requester, dispatch, delivery, compose).await?;
                Ok((reads, sent))
            }
            Err(error) => {
                self.abandon(pending).await;
                Err(error)
            }
        }
    }

    /// Ends a send as `dispatch` says: at the destination it names instead, when it names
    /// another (what the first was charged is given back and the send begins again
    /// there), by its channel and profile, the message written from its `message`.
    async fn dispatch<M, D: Delivery>(
        &self,
        mut pending: PendingSend,
        requester: &Requester,
        dispatch: Dispatch<M>,
        delivery: &D,
        compose: impl Fn(&M, Writing<'_>) -> Message,
    ) -> Result<Sent, OtpError> {
        if let Some(to) = dispatch.to.as_ref().filter(|to| **to != pending.destination) {
            let order = SendOrder {
                scope: pending.scope.clone(),
                destination: to.clone(),
                requester,
                indexed_by_id: pending.indexed_by_id,
                channel: pending.channel,
            };
            self.abandon(pending).await;
            pending = self.begin_send(order, async { Ok(()) }).await?.1;
        }
        if let Some(channel) = dispatch.channel {
            pending = pending.going_by(channel);
        }
        self.finish_send(
            pending,
            delivery,
            &dispatch.limits,
            &dispatch.profile,
            dispatch.service.as_deref(),
            |writing| compose(&dispatch.message, writing),
        )
        .await
    }

    /// The first round trip of the send `order` names: every budget spent and the
    /// challenge read, at once with the dialect's `reads` (its caller's credentials,
    /// configuration, registry) and, where the deployment allows them, the requester's
    /// test destination. When `reads` fails, everything spent is given back (a failed
    /// claim spends its address's budget instead) and its error returned.
    async fn begin_send<T>(
        &self,
        order: SendOrder<'_>,
        reads: impl Future<Output = Result<T, OtpError>>,
    ) -> Result<(T, PendingSend), OtpError> {
        let SendOrder {
            scope,
            destination,
            requester,
            indexed_by_id,
            channel,
        } = order;
        // The number's country, parsed once: for the spend estimate and the message's
        // language. A call may go to a landline.
        let by_call = channel == Some(Channel::Call);
        let country = match self.numbers.check(&destination, by_call) {
            Ok(country) => country,
            Err(refused) => {
                // The caller's own failures (credentials) still come first, and a failed
                // claim costs what it costs elsewhere.
                if let Err(error) = reads.await {
                    self.charge_failed_claim(requester, &error, self.clock.now()).await;
                    return Err(error);
                }
                tracing::info!(
                    destination = %destination,
                    dialect = requester.dialect,
                    reason = refused.name(),
                    "number refused"
                );
                self.telemetry
                    .send(Origin::of(requester.dialect, &destination), SendOutcome::Refused);
                self.telemetry.number_refused(refused.name());
                return Err(OtpError::NumberRefused(refused));
            }
        };
        let at = self.clock.now();
        let reads = self.claim_checked_first(requester, reads, at).await?;
        // Each store call's future is large: on the heap, so that deep request futures
        // stay well inside a thread's stack.
        let owner = TestOwner::of(requester.tenant.client());
        let test_lookup = async {
            match self.allow_test_destinations {
                true => self.store.test_destination(&owner, &destination).await,
                false => Ok(None),
            }
        };
        let (reads, spent, loaded, test) = tokio::join!(
            Box::pin(reads),
            Box::pin(self.spend_send(&destination, country.as_deref(), by_call, requester, at)),
            Box::pin(self.store.load(&scope, &destination)),
            Box::pin(test_lookup)
        );
        let outcome = match (reads, loaded, test) {
            (Err(error), _, _) => Err(error),
            (_, Err(error), _) | (_, _, Err(error)) => Err(error.into()),
            (Ok(reads), Ok(challenge), Ok(test)) => Ok((reads, challenge, test.filter(|test| test.applies_at(at)))),
        };
        let origin = Origin::of(requester.dialect, &destination);
        if let Err(OtpError::Unavailable { .. }) = &outcome {
            self.telemetry.send(origin, SendOutcome::Error);
        }
        match outcome {
            Ok((reads, challenge, test)) => Ok((
                reads,
                PendingSend {
                    scope,
                    destination,
                    indexed_by_id,
                    channel,
                    spent,
                    challenge,
                    test,
                    origin,
                    at,
                    tenant: requester.tenant.key(),
                },
            )),
            Err(error) => {
                tokio::join!(
                    self.give_back_send(&spent, false),
                    self.charge_failed_claim(requester, &error, at)
                );
                Err(error)
            }
        }
    }

    /// Ends a send that will not happen (its request turned out invalid): every budget
    /// it spent is given back.
    async fn abandon(&self, pending: PendingSend) {
        self.give_back_send(&pending.spent, false).await;
    }

    /// Ends a send that must cost what a send costs but deliver nothing (a destination of
    /// no known user): the budgets decide, nothing is written or sent.
    async fn finish_count(&self, pending: PendingSend, limits: &ClientLimits) -> Result<(), OtpError> {
        self.admit(&pending, limits).await?;
        tracing::info!(destination = %pending.destination, "send counted, nothing sent");
        self.telemetry.send(pending.origin, SendOutcome::NotSent);
        Ok(())
    }

    /// Ends a send: the budgets decide under the client's `limits`, a fresh code goes out
    /// (on the open challenge, keeping its handle and attempts, or on a new one), and
    /// once delivered it becomes the challenge's one verifiable code. Budgets count
    /// requests, not deliveries: a failed delivery keeps what it spent. A test
    /// destination gets nothing: its known code becomes the verifiable one.
    async fn finish_send<D: Delivery>(
        &self,
        pending: PendingSend,
        delivery: &D,
        limits: &ClientLimits,
        profile: &Profile,
        service: Option<&str>,
        compose: impl Fn(Writing<'_>) -> Message,
    ) -> Result<Sent, OtpError> {
        self.admit(&pending, limits).await?;
        let PendingSend {
            scope,
            destination,
            indexed_by_id,
            channel: _,
            challenge,
            test,
            origin,
            at,
            spent,
            tenant,
        } = pending;
        // From here on the send has counted against the destination's budget: a failure
        // says to come back once its cooldown has passed, not sooner (a 429 would meet it).
        let after_cooldown = |retry_after: u64| OtpError::Unavailable {
            retry_after: retry_after.max(self.policy.send_cooldown.as_secs()),
        };
        // `delivered`: the message went out, with its country and estimate when to a phone.
        let (sealing, outcome, origin, delivered) = match test {
            Some(test) => {
                tracing::info!(destination = %destination, "test destination: nothing delivered, its known code is live");
                (Sealing::Known(test), SendOutcome::TestDestination, origin, None)
            }
            None => {
                let code_length = match &challenge {
                    Some(open) if open.is_open(at, self.policy.attempts_per_challenge) => open.code_length,
                    _ => profile.code_length,
                };
                let code = Code::generate(code_length);
                let message = compose(Writing {
                    code: &code,
                    profile,
                    country: spent.country(),
                });
                // Counted under the channel it was meant for, until one took it.
                let meant = message.channel();
                let origin = origin.by(meant);
                let started = std::time::Instant::now();
                // An SMS is priced by its segments, a WhatsApp message as one, a call as
                // a call.
                let cost = match meant {
                    Some(Channel::Call) => MessageCost::Call,
                    Some(_) => MessageCost::Segments(1),
                    None => MessageCost::Segments(crate::spend::segments(&message.text)),
                };
                // Meanwhile: what the guard's item keeps that no longer counts goes, and
                // the spend counts what the message costs past its estimate.
                let (delivered, (), extra) = tokio::join!(
                    delivery.deliver(&destination, &message),
                    self.forget_stale(&spent),
                    self.add_to_estimate(&spent, cost)
                );
                self.telemetry.delivery_latency(origin, started.elapsed());
                let channel = match delivered {
                    Ok(channel) => channel,
                    Err(error) => {
                        tracing::error!(destination = %destination, error = %error, "delivery failed; no code made verifiable");
                        self.telemetry.send(origin, SendOutcome::Failed);
                        self.uncount_undelivered(&spent, extra).await;
                        let open = challenge
                            .as_ref()
                            .filter(|c| c.is_open(at, self.policy.attempts_per_challenge));
                        self.telemetry
                            .status(Status::Failed, origin, open.map(|c| c.id.as_str()), &destination);
                        return Err(after_cooldown(error.retry_after()));
                    }
                };
                let phone = self.count_phone_sent(&spent, extra);
                (
                    Sealing::Fresh(code),
                    SendOutcome::Sent,
                    origin.by(Some(channel)),
                    Some(phone),
                )
            }
        };

        // The message went out, but its code cannot be made live: counted as the store's error.
        let not_live = |retry_after: u64| {
            self.telemetry.send(origin, SendOutcome::Error);
            after_cooldown(retry_after)
        };
        // A delivered message is an attempt, recorded beside the first write that makes
        // its code live (whether or not a later one has to).
        let attempt_id = delivered.as_ref().map(|_| crate::attempts::new_id());
        let mut to_record = delivered.map(|phone| crate::attempts::SendAttempt {
            id: attempt_id.clone().unwrap_or_default(),
            tenant,
            service: service.map(str::to_owned),
            challenge_id: String::new(),
            channel: origin.channel,
            to: destination.as_str().to_owned(),
            country: phone.as_ref().map(|(region, _)| region.clone()),
            created_at: at,
            updated_at: at,
            converted: false,
            price: phone.map(|(_, price)| price),
        });
        let mut current = challenge;
        for _ in 0..LIVE_TRIES {
            let mut live = self.live_code(current.as_ref(), &sealing, profile, at, indexed_by_id, origin.channel);
            live.attempt = attempt_id.clone();
            let write = Box::pin(self.store.put_live(&scope, &destination, &live));
            let written = match to_record.take() {
                Some(mut attempt) => {
                    attempt.challenge_id = live.challenge_id.clone();
                    let (written, recorded) = tokio::join!(write, self.store.record_attempt(&attempt));
                    if let Err(error) = recorded {
                        tracing::warn!(error = %error, "a delivered message's attempt was not recorded");
                    }
                    written
                }
                None => write.await,
            };
            if written.map_err(|error| not_live(retry_after_of(error)))? {
                tracing::info!(
                    destination = %destination,
                    challenge_id = %live.challenge_id,
                    opened = live.opens,
                    "code sent"
                );
                self.telemetry.send(origin, outcome);
                if live.opens {
                    // The challenge it replaces ended unused: its expiry is seen now, once
                    // (only this write replaced it).
                    if let Some(replaced) = &current
                        && replaced.lifecycle(at, self.policy.attempts_per_challenge) == Lifecycle::Expired
                    {
                        let by = origin.by(replaced.channel);
                        self.telemetry
                            .status(Status::Expired, by, Some(&replaced.id), &destination);
                    }
                    self.telemetry
                        .status(Status::Pending, origin, Some(&live.challenge_id), &destination);
                }
                let opened_at = match &current {
                    Some(refreshed) if !live.opens => refreshed.created_at,
                    _ => at,
                };
                return Ok(Sent {
                    challenge_id: live.challenge_id,
                    auth_code: live.auth_code,
                    opened: live.opens,
                    opened_at,
                    sent_at: at,
                    channel: origin.channel,
                });
            }
            // A verify used or spent the challenge since it was read: read it again.
            let loaded = self.store.load(&scope, &destination).await;
            current = loaded.map_err(|error| not_live(retry_after_of(error)))?;
        }
        tracing::error!(destination = %destination, "the challenge kept changing; the delivered code is not live");
        Err(not_live(1))
    }

    /// The budgets' verdict; a refused request gets back what it spent.
    async fn admit(&self, pending: &PendingSend, limits: &ClientLimits) -> Result<(), OtpError> {
        if let Err(refused) = self.verdict(&pending.spent, limits) {
            // The guard logged its own refusal.
            if let (OtpError::TooMany { retry_after } | OtpError::RangeBlocked { retry_after }, false) =
                (&refused.error, refused.by_guard)
            {
                tracing::info!(destination = %pending.destination, retry_after, "send refused by a budget");
            }
            self.telemetry.send(pending.origin, SendOutcome::Refused);
            self.give_back_send(&pending.spent, refused.by_guard).await;
            return Err(refused.error);
        }
        Ok(())
    }

    /// The write that makes a code live: a refresh of the open challenge `current`, or a
    /// new challenge in place of the dead (or absent) one.
    fn live_code(
        &self,
        current: Option<&Challenge>,
        sealing: &Sealing,
        profile: &Profile,
        at: UnixSeconds,
        indexed_by_id: bool,
        channel: Channel,
    ) -> LiveCode {
        let max_attempts = self.policy.attempts_per_challenge;
        let (challenge_id, auth_code, opens) = match current {
            Some(open) if open.is_open(at, max_attempts) => (open.id.clone(), open.auth_code.clone(), false),
            dead => (
                uuid::Uuid::new_v4().to_string(),
                new_auth_code(dead.map(|c| c.auth_code.as_str())),
                true,
            ),
        };
        let expires_at = at + profile.lifetime.as_secs() as i64;
        let (sealed, code_length) = match sealing {
            Sealing::Fresh(code) => (self.keys.seal(&challenge_id, code), code.reveal().len() as u8),
            Sealing::Known(test) => (test.sealed.clone(), test.code_length),
        };
        LiveCode {
            sealed,
            replaces: current.map(|c| c.id.clone()),
            challenge_id,
            auth_code,
            code_length,
            now: at,
            expires_at,
            cleanup_at: expires_at + CLEANUP_GRACE.as_secs() as i64,
            opens,
            max_attempts,
            indexed_by_id,
            channel,
            attempt: None,
        }
    }
}
