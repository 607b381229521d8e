//! A verify in one round trip on a wrong code and two on a right one. The first counts the
//! attempt on the challenge and the failure on its tenant's budget for the destination,
//! both before the comparison, beside the dialect's reads (credentials) and the registry
//! reads a link needs. The second, for a right code only, uses the code (and links the
//! destination) and gives the failure back.
//!
//! A failure is its tenant's (API.md, "Tenants"): nobody without a tenant's credentials
//! spends that tenant's budget for a destination. In a public tenant every failure spends
//! the destination's budget, so that known and unknown destinations look alike. In a JWT
//! issuer's tenant a failure against no live challenge of the caller's concerns nobody
//! else: a second write moves it to that user's own budget, so no user can spend what the
//! tenant's other users need for a destination.

use std::future::Future;

use crate::challenge::{Attempt, Challenge, Handle, Located, Verified};
use crate::clock::UnixSeconds;
use crate::destination::Destination;
use crate::error::OtpError;
use crate::ports::{ChallengeStore, Consumed, LinkState, QuotaStore, StoreError, UserDirectory};
use crate::quota::SlidingCharge;
use crate::telemetry::{Origin, Status, VerifyOutcome};
use crate::tenant::Tenant;

use super::{Otp, too_many};

/// The first round trip's answers, each as the store gave it.
struct Counted {
    budget: Result<crate::ports::Admission, StoreError>,
    challenge: Result<Option<Challenge>, StoreError>,
    located: Result<Option<Located>, StoreError>,
    link: Result<Option<LinkState>, StoreError>,
}

impl<S: ChallengeStore + QuotaStore + UserDirectory> Otp<S> {
    /// The tenant's budget of wrong codes for a destination (its mailbox).
    fn guess_charge(&self, tenant: &Tenant, destination: &Destination) -> SlidingCharge {
        SlidingCharge {
            rule: self.policy.guess_budget(),
            subject: tenant.subject(&destination.mailbox()),
        }
    }

    /// Verifies a code, at once with the dialect's `reads` (its caller's credentials).
    /// When `reads` fails, the attempt and the failure it counted are given back: a
    /// request that compares nothing costs nothing (a failed claim of an API client's
    /// credentials spends its address's budget instead).
    pub async fn verify<T>(
        &self,
        attempt: &Attempt,
        reads: impl Future<Output = Result<T, OtpError>>,
    ) -> Result<(T, Verified), OtpError> {
        let now = self.clock.now();
        let budget = self.guess_charge(&attempt.requester.tenant, &attempt.destination);
        let locate = async {
            match &attempt.handle {
                Handle::Id(id) => self.store.locate(id).await,
                _ => Ok(None),
            }
        };
        let link_state = async {
            match &attempt.link {
                Some(user) => self.store.link_state(&attempt.destination, user).await.map(Some),
                None => Ok(None),
            }
        };
        // Each store call's future is large: on the heap, so that deep request futures
        // stay well inside a thread's stack.
        let (reads, budget_taken, challenge, located, link) = tokio::join!(
            Box::pin(reads),
            Box::pin(self.store.take(&budget, now)),
            Box::pin(self.store.count_attempt(
                &attempt.scope,
                &attempt.destination,
                &attempt.handle,
                now,
                self.policy.attempts_per_challenge,
            )),
            Box::pin(locate),
            Box::pin(link_state)
        );
        let counted = Counted {
            budget: budget_taken,
            challenge,
            located,
            link,
        };
        let reads = match reads {
            Ok(reads) => reads,
            Err(error) => {
                tokio::join!(
                    self.give_back_verify(attempt, &budget, &counted, now),
                    self.charge_failed_claim(&attempt.requester, &error, now)
                );
                self.count_error(attempt, &error);
                return Err(error);
            }
        };
        let verified = Box::pin(self.decide(attempt, &budget, counted, now)).await;
        if let Err(error) = &verified {
            self.count_error(attempt, error);
        }
        Ok((reads, verified?))
    }

    /// Counts a verify the store failed (every other end is counted where it is decided).
    fn count_error(&self, attempt: &Attempt, error: &OtpError) {
        if matches!(error, OtpError::Unavailable { .. }) {
            self.telemetry.verify(
                Origin::of(attempt.requester.dialect, &attempt.destination),
                VerifyOutcome::Error,
            );
        }
    }

    async fn decide(
        &self,
        attempt: &Attempt,
        budget: &SlidingCharge,
        counted: Counted,
        now: UnixSeconds,
    ) -> Result<Verified, OtpError> {
        let store_error = (counted.budget.as_ref().err())
            .or(counted.challenge.as_ref().err())
            .or(counted.located.as_ref().err())
            .or(counted.link.as_ref().err())
            .cloned();
        if let Some(error) = store_error {
            self.give_back_verify(attempt, budget, &counted, now).await;
            return Err(error.into());
        }
        let (Ok(admission), Ok(challenge), Ok(located), Ok(link)) =
            (counted.budget, counted.challenge, counted.located, counted.link)
        else {
            // Every store error returned above.
            return Err(OtpError::Unavailable {
                retry_after: crate::backend::Outage::Failed.retry_after(),
            });
        };
        let origin = Origin::of(attempt.requester.dialect, &attempt.destination);
        if challenge.is_none() && matches!(attempt.requester.tenant, Tenant::Issuer(_)) {
            return Box::pin(self.user_failure(attempt, budget, admission.is_ok(), now)).await;
        }
        if let Err(exceeded) = admission {
            self.telemetry.verify(origin, VerifyOutcome::Refused);
            // Refused before any comparison: the attempt counted beside it is given back.
            if let Some(challenge) = &challenge {
                self.uncount(attempt, &challenge.id).await;
            }
            tracing::info!(destination = %attempt.destination, "verify refused by the failure budget");
            return Err(too_many(exceeded));
        }

        let Some(challenge) = challenge else {
            if let Some(found) = located
                && found.scope_key == attempt.scope.key()
                && found.destination != attempt.destination
            {
                // The failure belongs to the challenge's own destination.
                if let Err(error) = self.store.give_back(budget, now).await {
                    tracing::warn!(error = %error, "failure budget not given back");
                }
                return Box::pin(self.wrong_destination(attempt, &found.destination, now)).await;
            }
            // Unknown, expired, used or spent: nothing compared, but the failure still
            // counts, so that budgets say nothing about which destinations have challenges.
            tracing::info!(destination = %attempt.destination, "verify of an unknown or dead challenge");
            self.telemetry.verify(origin, VerifyOutcome::NoChallenge);
            return Err(OtpError::Gone);
        };

        // Counted under the channel its code went by.
        let origin = origin.by(challenge.channel);
        let Some(sealed) = challenge.code.as_ref() else {
            self.telemetry.verify(origin, VerifyOutcome::NoChallenge);
            return Err(OtpError::Gone);
        };
        // A test destination's known code verifies only while the deployment allows them.
        let allowed = sealed.bound_to.is_none() || self.allow_test_destinations;
        if sealed.bound_to.is_some() && !self.keys.knows(&sealed.key_id) {
            tracing::warn!(
                destination = %attempt.destination,
                "a test destination's code is sealed under a key no longer configured: add it again"
            );
        }
        // A number that lost its leading zeros is padded to this challenge's own length.
        let right = attempt
            .code
            .for_length(challenge.code_length)
            .is_some_and(|code| self.keys.matches(&challenge.id, &code, sealed));
        if !allowed || !right {
            tracing::info!(
                destination = %attempt.destination,
                challenge_id = %challenge.id,
                attempts = challenge.attempts,
                "wrong code"
            );
            self.wrong_code_spent(origin, &challenge, &attempt.destination);
            return Err(OtpError::WrongCode);
        }

        // A right code is no failure: the budget is given back beside the use.
        let linking = attempt.link.as_ref().zip(link.as_ref());
        let (consumed, given_back) = tokio::join!(
            Box::pin(self.store.consume(
                &attempt.scope,
                &attempt.destination,
                &challenge.id,
                sealed,
                now,
                linking,
            )),
            Box::pin(self.store.give_back(budget, now))
        );
        if let Err(error) = given_back {
            tracing::warn!(error = %error, "failure budget not given back after a right code");
        }
        let Consumed::Used { moved_from } = consumed? else {
            tracing::info!(challenge_id = %challenge.id, "code already used");
            self.telemetry.verify(origin, VerifyOutcome::NoChallenge);
            return Err(OtpError::Gone);
        };
        if let Some(previous) = &moved_from {
            tracing::warn!(
                destination = %attempt.destination,
                from = ?previous,
                to = ?attempt.link,
                "destination moved to another user after proof of possession"
            );
        }
        tracing::info!(
            destination = %attempt.destination,
            challenge_id = %challenge.id,
            test_destination = sealed.bound_to.is_some(),
            "code verified"
        );
        self.telemetry.verify(origin, VerifyOutcome::Approved);
        self.telemetry
            .status(Status::Approved, origin, Some(&challenge.id), &attempt.destination);
        Ok(Verified {
            challenge_id: challenge.id,
            moved_from,
        })
    }

    /// A failure against no live challenge in a JWT issuer's tenant: moved from the
    /// tenant's budget for the destination (given back, when it was taken) to the budget
    /// of the user who made it, which alone decides. Nothing was compared.
    async fn user_failure(
        &self,
        attempt: &Attempt,
        budget: &SlidingCharge,
        taken: bool,
        now: UnixSeconds,
    ) -> Result<Verified, OtpError> {
        let users_own = SlidingCharge {
            rule: self.policy.guess_budget(),
            subject: attempt.requester.tenant.user_subject(&attempt.scope),
        };
        let given_back = async {
            if taken && let Err(error) = self.store.give_back(budget, now).await {
                tracing::warn!(error = %error, "failure budget not given back");
            }
        };
        let (_, admission) = tokio::join!(given_back, Box::pin(self.store.take(&users_own, now)));
        let origin = Origin::of(attempt.requester.dialect, &attempt.destination);
        if let Err(exceeded) = admission? {
            self.telemetry.verify(origin, VerifyOutcome::Refused);
            tracing::info!(destination = %attempt.destination, "verify refused by the user's own failure budget");
            return Err(too_many(exceeded));
        }
        tracing::info!(destination = %attempt.destination, "verify of an unknown or dead challenge");
        self.telemetry.verify(origin, VerifyOutcome::NoChallenge);
        Err(OtpError::Gone)
    }

    /// Gives back what a request that compared nothing counted.
    async fn give_back_verify(&self, attempt: &Attempt, budget: &SlidingCharge, counted: &Counted, now: UnixSeconds) {
        let budget_back = async {
            if matches!(counted.budget, Ok(Ok(())))
                && let Err(error) = self.store.give_back(budget, now).await
            {
                tracing::warn!(error = %error, "failure budget not given back");
            }
        };
        let attempt_back = async {
            if let Ok(Some(challenge)) = &counted.challenge {
                self.uncount(attempt, &challenge.id).await;
            }
        };
        tokio::join!(budget_back, attempt_back);
    }

    /// Counts a wrong code on `challenge` (as counted), under `origin` (the channel its
    /// code went by): the one that spent its last attempt is the challenge's
    /// `max_attempts_reached` transition.
    fn wrong_code_spent(&self, origin: Origin, challenge: &Challenge, destination: &Destination) {
        if challenge.attempts >= self.policy.attempts_per_challenge {
            self.telemetry.verify(origin, VerifyOutcome::MaxAttemptsReached);
            self.telemetry
                .status(Status::MaxAttemptsReached, origin, Some(&challenge.id), destination);
        } else {
            self.telemetry.verify(origin, VerifyOutcome::WrongCode);
        }
    }

    async fn uncount(&self, attempt: &Attempt, challenge_id: &str) {
        if let Err(error) = self
            .store
            .uncount_attempt(&attempt.scope, &attempt.destination, challenge_id)
            .await
        {
            tracing::warn!(error = %error, "an attempt that compared nothing was not given back");
        }
    }

    /// A challenge named by id, verified with another destination than its own: a failed
    /// attempt on that challenge and its destination's budget, with nothing compared.
    async fn wrong_destination(
        &self,
        attempt: &Attempt,
        real: &Destination,
        now: UnixSeconds,
    ) -> Result<Verified, OtpError> {
        let budget = self.guess_charge(&attempt.requester.tenant, real);
        let (taken, counted) = tokio::join!(
            Box::pin(self.store.take(&budget, now)),
            Box::pin(self.store.count_attempt(
                &attempt.scope,
                real,
                &attempt.handle,
                now,
                self.policy.attempts_per_challenge,
            ))
        );
        let counted = counted?;
        let origin = Origin::of(attempt.requester.dialect, real);
        if let Err(exceeded) = taken? {
            self.telemetry.verify(origin, VerifyOutcome::Refused);
            if let Some(challenge) = &counted
                && let Err(error) = self.store.uncount_attempt(&attempt.scope, real, &challenge.id).await
            {
                tracing::warn!(error = %error, "an attempt that compared nothing was not given back");
            }
            return Err(too_many(exceeded));
        }
        match counted {
            Some(challenge) => {
                tracing::info!(
                    destination = %real,
                    challenge_id = %challenge.id,
                    attempts = challenge.attempts,
                    "verify with another destination than the challenge's"
                );
                self.wrong_code_spent(origin.by(challenge.channel), &challenge, real);
                Err(OtpError::NotThisDestination)
            }
            None => {
                self.telemetry.verify(origin, VerifyOutcome::NoChallenge);
                Err(OtpError::Gone)
            }
        }
    }
}
