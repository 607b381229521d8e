//! What the caller that owns a challenge may do besides sending and verifying: find it by
//! its id or its destination, and settle it (approve or cancel) without a code. Only a
//! dialect whose caller is the relying party itself (an API client over its own
//! verifications) offers these: to anyone else, another scope's challenge does not exist.

use crate::challenge::{Challenge, Settlement};
use crate::destination::Destination;
use crate::error::OtpError;
use crate::ports::ChallengeStore;
use crate::scope::Scope;
use crate::telemetry::{Origin, Status, VerifyOutcome};

use super::Otp;

impl<S: ChallengeStore> Otp<S> {
    /// The challenge `id` of `scope`, and its destination: None when there is none, or it
    /// is another scope's, or its destination has a newer challenge now (all look alike).
    pub async fn find(&self, scope: &Scope, id: &str) -> Result<Option<(Destination, Challenge)>, OtpError> {
        let Some(destination) = self.locate(scope, id).await? else {
            return Ok(None);
        };
        let challenge = self.store.load(scope, &destination).await?;
        Ok(challenge
            .filter(|challenge| challenge.id == id)
            .map(|challenge| (destination, challenge)))
    }

    /// The destination of the challenge `id` of `scope` (one read), if `scope` has one by
    /// that id.
    pub async fn locate(&self, scope: &Scope, id: &str) -> Result<Option<Destination>, OtpError> {
        Ok(self
            .store
            .locate(id)
            .await?
            .filter(|located| located.scope_key == scope.key())
            .map(|located| located.destination))
    }

    /// The challenge of `scope` for `destination`, open or not.
    pub async fn current(&self, scope: &Scope, destination: &Destination) -> Result<Option<Challenge>, OtpError> {
        Ok(self.store.load(scope, destination).await?)
    }

    /// Approves or cancels the open challenge `id` (for `dialect`): None when it is not
    /// open (used, canceled, expired or out of attempts).
    pub async fn settle(
        &self,
        scope: &Scope,
        destination: &Destination,
        id: &str,
        settlement: Settlement,
        dialect: &'static str,
    ) -> Result<Option<Challenge>, OtpError> {
        let now = self.clock.now();
        let settled = self
            .store
            .settle(
                scope,
                destination,
                id,
                settlement,
                now,
                self.policy.attempts_per_challenge,
            )
            .await?;
        if settled.is_some() {
            tracing::info!(destination = %destination, challenge_id = %id, ?settlement, "challenge settled by its owner");
            let (status, outcome) = match settlement {
                Settlement::Approve => (Status::Approved, VerifyOutcome::Approved),
                Settlement::Cancel => (Status::Canceled, VerifyOutcome::Canceled),
            };
            let origin = Origin::of(dialect, destination).by(settled.as_ref().and_then(|c| c.channel));
            self.telemetry.verify(origin, outcome);
            self.telemetry.status(status, origin, Some(id), destination);
        }
        Ok(settled)
    }
}
