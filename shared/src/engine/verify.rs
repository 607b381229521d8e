//! A verify in one round trip on a wrong code and two on a right one. The first counts the
//! attempt on the challenge and the failure on its tenant's budget for the destination,
//! both before the comparison, beside the dialect's reads (credentials) and the registry
//! reads a link needs. The second, for a right code only, uses the code (and links the
//! destination) and gives the failure back.
//!
//! A failure is its tenant's (docs/security.md, "Whose budgets"): nobody without a tenant's credentials
//! spends that tenant's budget for a destination. In a public tenant every failure spends
//! the destination's budget, so that known and unknown destinations look alike. In a JWT
//! issuer's tenant every failure also spends the user's own budget, taken in the same
//! round trip, which refuses a user past it before anything of the tenant's is kept; a
//! failure against no live challenge of the caller's concerns nobody else, and a second
//! write gives the tenant's back, so no user spends what the tenant's other users need
//! for a destination they have no code for.

use std::future::Future;

use crate::challenge::{Attempt, Challenge, Checked, Handle, Lifecycle, Located, Verified};
use crate::clock::UnixSeconds;
use crate::destination::Destination;
use crate::error::OtpError;
use crate::guard::Guarded;
use crate::ports::{
    AttemptCount, AttemptLog, ChallengeStore, Consumed, ConversionStore, LinkState, QuotaStore, StoreError,
    UserDirectory,
};
use crate::quota::SlidingCharge;
use crate::telemetry::{Origin, Status, VerifyOutcome};
use crate::tenant::Tenant;

use super::{Otp, too_many};

/// The first round trip's answers, each as the store gave it.
struct Counted {
    budget: Result<crate::ports::Admission, StoreError>,
    /// In an issuer's tenant, the user's own budget of failures, and what it answered
    /// (taken beside the rest, or before it for a user it refused lately).
    users_own: Option<(SlidingCharge, Result<crate::ports::Admission, StoreError>)>,
    /// The challenge as its attempt was counted (none when nothing was counted)...
    challenge: Result<Option<Challenge>, StoreError>,
    /// ...and, when nothing was, the challenge as it stood.
    stood: Option<Challenge>,
    located: Result<Option<Located>, StoreError>,
    link: Result<Option<LinkState>, StoreError>,
}

impl<S: ChallengeStore + QuotaStore + ConversionStore + AttemptLog + UserDirectory> Otp<S> {
    /// The tenant's budget of wrong codes for a destination (its mailbox).
    fn guess_charge(&self, tenant: &Tenant, destination: &Destination) -> SlidingCharge {
        SlidingCharge {
            rule: self.policy.guess_budget(),
            subject: tenant.subject(&destination.mailbox()),
        }
    }

    /// In an issuer's tenant, the budget of failures of the user who asks: the one that
    /// decides failures against no live challenge of theirs, and that bounds what any
    /// one user may try.
    fn users_own_charge(&self, attempt: &Attempt) -> Option<SlidingCharge> {
        let tenant = &attempt.requester.tenant;
        matches!(tenant, Tenant::Issuer(_)).then(|| SlidingCharge {
            rule: self.policy.guess_budget(),
            subject: tenant.user_subject(&attempt.scope),
        })
    }

    /// Verifies a code: [`Self::check`], with a wrong code as the error every dialect but
    /// Twilio's renders it as.
    pub async fn verify<T>(
        &self,
        attempt: &Attempt,
        reads: impl Future<Output = Result<T, OtpError>>,
    ) -> Result<(T, Verified), OtpError> {
        match self.check(attempt, reads).await? {
            (reads, Checked::Approved(verified)) => Ok((reads, verified)),
            (_, Checked::Wrong(_)) => Err(OtpError::WrongCode),
        }
    }

    /// Checks a code, at once with the dialect's `reads` (its caller's credentials): what
    /// the comparison found, with the challenge as counted; an error when nothing was
    /// compared. When `reads` fails, the attempt and the failure it counted are given
    /// back: a request that compares nothing costs nothing (a failed claim of an API
    /// client's credentials spends its address's budget instead).
    pub async fn check<T>(
        &self,
        attempt: &Attempt,
        reads: impl Future<Output = Result<T, OtpError>>,
    ) -> Result<(T, Checked), OtpError> {
        let now = self.clock.now();
        let reads = self.claim_checked_first(&attempt.requester, reads, now).await?;
        let budget = self.guess_charge(&attempt.requester.tenant, &attempt.destination);
        let users_own = self.users_own_charge(attempt);
        // A user whose own budget refused them lately settles it before anything else.
        let mut settled_first = None;
        if let Some(charge) = users_own.as_ref().filter(|charge| self.is_suspect_user(charge, now)) {
            let admission = self.store.take(charge, now).await?;
            if let Err(exceeded) = admission {
                self.refused_by_own_budget(attempt, charge, exceeded, now);
                return Err(too_many(exceeded));
            }
            settled_first = Some(Ok(admission));
        }
        let locate = async {
            match &attempt.handle {
                // An id alone may be sent with another destination than its challenge's.
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
        let own_taken = async {
            match (&users_own, settled_first) {
                (_, Some(settled)) => Some(settled),
                (Some(charge), None) => Some(self.store.take(charge, now).await),
                (None, None) => None,
            }
        };
        // Each store call's future is large: on the heap, so that deep request futures
        // stay well inside a thread's stack.
        let (reads, budget_taken, own_taken, challenge, located, link) = tokio::join!(
            Box::pin(reads),
            Box::pin(self.store.take(&budget, now)),
            Box::pin(own_taken),
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
        let (challenge, stood) = match challenge {
            Ok(AttemptCount::Counted(counted)) => (Ok(Some(counted)), None),
            Ok(AttemptCount::Refused(stood)) => (Ok(None), stood),
            Err(error) => (Err(error), None),
        };
        let counted = Counted {
            budget: budget_taken,
            users_own: users_own.zip(own_taken),
            challenge,
            stood,
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

    /// What the memory of refusals calls the user whose own budget this is.
    fn user_suspect(users_own: &SlidingCharge) -> String {
        format!("user:{}", users_own.subject)
    }

    /// Whether the user this budget is of was refused by it lately.
    fn is_suspect_user(&self, users_own: &SlidingCharge, now: UnixSeconds) -> bool {
        self.suspects.is_suspect(&Self::user_suspect(users_own), now)
    }

    /// A verify its user's own budget refused: remembered, so that the user's next
    /// requests settle it first, and counted.
    fn refused_by_own_budget(
        &self,
        attempt: &Attempt,
        users_own: &SlidingCharge,
        exceeded: crate::quota::Exceeded,
        now: UnixSeconds,
    ) {
        let until = now + exceeded.retry_after.max(1) as i64;
        self.suspects.mark(Self::user_suspect(users_own), until, now);
        let origin = Origin::of(attempt.requester.dialect, &attempt.destination);
        self.telemetry.verify(origin, VerifyOutcome::Refused);
        tracing::info!(destination = %attempt.destination, "verify refused by the user's own failure budget");
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
    ) -> Result<Checked, OtpError> {
        let own_error = counted.users_own.as_ref().and_then(|(_, taken)| taken.as_ref().err());
        let store_error = (counted.budget.as_ref().err())
            .or(own_error)
            .or(counted.challenge.as_ref().err())
            .or(counted.located.as_ref().err())
            .or(counted.link.as_ref().err())
            .cloned();
        if let Some(error) = store_error {
            self.give_back_verify(attempt, budget, &counted, now).await;
            return Err(error.into());
        }
        let users_own = match &counted.users_own {
            Some((charge, Ok(admission))) => Some((charge.clone(), *admission)),
            _ => None,
        };
        let (Ok(admission), Ok(challenge), Ok(located), Ok(link)) =
            (counted.budget, counted.challenge, counted.located, counted.link)
        else {
            // Every store error returned above.
            return Err(OtpError::Unavailable {
                retry_after: crate::ports::Outage::Failed.retry_after(),
            });
        };
        let stood = counted.stood;
        let origin = Origin::of(attempt.requester.dialect, &attempt.destination);
        let tenant_taken = admission.is_ok();
        if let Some((charge, Err(exceeded))) = &users_own {
            // The user's own budget is spent: nothing of the tenant's is kept.
            self.refused_by_own_budget(attempt, charge, *exceeded, now);
            tokio::join!(
                self.give_back_taken(tenant_taken.then_some(budget), now),
                self.uncount_if(attempt, challenge.as_ref())
            );
            return Err(too_many(*exceeded));
        }
        let own_taken = users_own.as_ref().map(|(charge, _)| charge);
        if challenge.is_none() && own_taken.is_some() {
            // No live challenge of the caller's: the failure concerns the user alone,
            // whose own budget holds it; the tenant's is given back.
            self.give_back_taken(tenant_taken.then_some(budget), now).await;
            tracing::info!(destination = %attempt.destination, "verify of an unknown or dead challenge");
            self.telemetry.verify(origin, VerifyOutcome::NoChallenge);
            return Err(self.dead_or_spent(&attempt.handle, stood.as_ref(), now));
        }
        if let Err(exceeded) = admission {
            self.telemetry.verify(origin, VerifyOutcome::Refused);
            // Refused before any comparison: the attempt counted beside it is given back,
            // and so is the user's own failure.
            tokio::join!(
                self.uncount_if(attempt, challenge.as_ref()),
                self.give_back_taken(own_taken, now)
            );
            tracing::info!(destination = %attempt.destination, "verify refused by the failure budget");
            return Err(too_many(exceeded));
        }

        let Some(challenge) = challenge else {
            if let Some(found) = located
                && found.scope_key == attempt.scope.key()
                && found.destination != attempt.destination
            {
                // The failure belongs to the challenge's own destination.
                self.give_back_taken(Some(budget), now).await;
                return Err(Box::pin(self.wrong_destination(attempt, &found.destination, now)).await);
            }
            // Unknown, expired, used or spent: nothing compared, but the failure still
            // counts, so that budgets say nothing about which destinations have challenges.
            tracing::info!(destination = %attempt.destination, "verify of an unknown or dead challenge");
            self.telemetry.verify(origin, VerifyOutcome::NoChallenge);
            return Err(self.dead_or_spent(&attempt.handle, stood.as_ref(), now));
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
            return Ok(Checked::Wrong(challenge));
        }

        // A right code is no failure: the budget is given back beside the use, and the
        // conversion guard counts a verified send there.
        let linking = attempt.link.as_ref().zip(link.as_ref());
        let watched = self.guard.watch(
            &attempt.requester.tenant,
            &attempt.destination,
            self.policy.number_range_digits,
        );
        let (consumed, _, _, _, ()) = tokio::join!(
            Box::pin(self.store.consume(
                &attempt.scope,
                &attempt.destination,
                &challenge.id,
                sealed,
                now,
                linking,
            )),
            self.give_back_taken(Some(budget), now),
            self.give_back_taken(own_taken, now),
            self.count_converted(watched.as_ref(), now),
            self.convert_attempt(challenge.attempt.as_deref(), now)
        );
        let moved_from = match consumed {
            Ok(Consumed::Used { moved_from }) => moved_from,
            Ok(Consumed::AlreadyGone) => {
                tracing::info!(challenge_id = %challenge.id, "code already used");
                self.telemetry.verify(origin, VerifyOutcome::NoChallenge);
                self.uncount_converted(watched.as_ref(), now).await;
                return Err(OtpError::Gone);
            }
            Err(error) => {
                self.uncount_converted(watched.as_ref(), now).await;
                return Err(error.into());
            }
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
        if self.telemetry.metrics
            && let Some(country) = attempt.destination.region()
        {
            self.telemetry.phone_verified(&country);
        }
        self.telemetry
            .status(Status::Approved, origin, Some(&challenge.id), &attempt.destination);
        Ok(Checked::Approved(Verified {
            challenge_id: challenge.id.clone(),
            moved_from,
            challenge,
        }))
    }

    /// Counts a verified send for the conversion guard, where it watches the tenant's
    /// sends to the destination; a failure is logged (the code was right either way).
    async fn count_converted(&self, watched: Option<&Guarded>, now: UnixSeconds) {
        let Some(watched) = watched else {
            return;
        };
        if let Err(error) = self.store.count_verified(&watched.subject, now).await {
            tracing::warn!(error = %error, prefix = %watched.prefix, "a verified send was not counted");
        }
    }

    /// Marks the attempt that delivered a right code converted; a failure is logged (the
    /// code was right either way). Parallel right codes mark it alike.
    async fn convert_attempt(&self, attempt: Option<&str>, now: UnixSeconds) {
        if let Some(attempt) = attempt
            && let Err(error) = self.store.convert_attempt(attempt, now).await
        {
            tracing::warn!(error = %error, "a verified attempt was not marked converted");
        }
    }

    /// Takes back the verified send counted beside a use that did not happen (another
    /// submission of the code used it first): parallel right codes count one.
    async fn uncount_converted(&self, watched: Option<&Guarded>, at: UnixSeconds) {
        let Some(watched) = watched else {
            return;
        };
        if let Err(error) = self.store.uncount_verified(&watched.subject, at).await {
            tracing::warn!(error = %error, prefix = %watched.prefix, "a verified send stayed counted");
        }
    }

    /// Gives back what a request that compared nothing counted.
    async fn give_back_verify(&self, attempt: &Attempt, budget: &SlidingCharge, counted: &Counted, now: UnixSeconds) {
        let own = counted
            .users_own
            .as_ref()
            .filter(|(_, taken)| matches!(taken, Ok(Ok(()))))
            .map(|(charge, _)| charge);
        let challenge = counted.challenge.as_ref().ok().and_then(Option::as_ref);
        tokio::join!(
            self.give_back_taken(matches!(counted.budget, Ok(Ok(()))).then_some(budget), now),
            self.give_back_taken(own, now),
            self.uncount_if(attempt, challenge)
        );
    }

    /// Gives back the failure a budget took, when one was taken (`charge`); a give-back
    /// that fails is logged, not raised: the request is answered either way.
    async fn give_back_taken(&self, charge: Option<&SlidingCharge>, now: UnixSeconds) {
        if let Some(charge) = charge
            && let Err(error) = Box::pin(self.store.give_back(charge, now)).await
        {
            tracing::warn!(error = %error, "failure budget not given back");
        }
    }

    /// Gives back the attempt counted on `challenge`, when one was.
    async fn uncount_if(&self, attempt: &Attempt, challenge: Option<&Challenge>) {
        if let Some(challenge) = challenge {
            self.uncount(attempt, &challenge.id).await;
        }
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
    async fn wrong_destination(&self, attempt: &Attempt, real: &Destination, now: UnixSeconds) -> OtpError {
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
        let (counted, taken) = match (counted, taken) {
            (Ok(counted), Ok(taken)) => (counted, taken),
            (Err(error), _) | (_, Err(error)) => return error.into(),
        };
        let origin = Origin::of(attempt.requester.dialect, real);
        if let Err(exceeded) = taken {
            self.telemetry.verify(origin, VerifyOutcome::Refused);
            if let AttemptCount::Counted(challenge) = &counted
                && let Err(error) = self.store.uncount_attempt(&attempt.scope, real, &challenge.id).await
            {
                tracing::warn!(error = %error, "an attempt that compared nothing was not given back");
            }
            return too_many(exceeded);
        }
        match counted {
            AttemptCount::Counted(challenge) => {
                tracing::info!(
                    destination = %real,
                    challenge_id = %challenge.id,
                    attempts = challenge.attempts,
                    "verify with another destination than the challenge's"
                );
                self.wrong_code_spent(origin.by(challenge.channel), &challenge, real);
                OtpError::NotThisDestination
            }
            AttemptCount::Refused(stood) => {
                self.telemetry.verify(origin, VerifyOutcome::NoChallenge);
                self.dead_or_spent(&attempt.handle, stood.as_ref(), now)
            }
        }
    }

    /// Why no attempt was counted, as the caller may be told: the challenge it named has
    /// no attempts left (a new code can be sent once the destination's cooldown allows),
    /// or none it named is live.
    fn dead_or_spent(&self, handle: &Handle, stood: Option<&Challenge>, now: UnixSeconds) -> OtpError {
        let max_attempts = self.policy.attempts_per_challenge;
        match stood {
            Some(challenge)
                if handle.names(challenge)
                    && challenge.lifecycle(now, max_attempts) == Lifecycle::MaxAttemptsReached =>
            {
                OtpError::Spent {
                    retry_after: self.policy.send_cooldown.as_secs(),
                }
            }
            _ => OtpError::Gone,
        }
    }
}
