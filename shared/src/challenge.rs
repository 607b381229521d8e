//! The challenge lifecycle: open or refresh on send, deliver, then verify with the attempt
//! counted before the comparison and the code used at most once.

use std::collections::BTreeSet;
use std::net::IpAddr;
use std::sync::Arc;

use rand::RngExt;

use crate::clock::{Clock, UnixSeconds};
use crate::code::{Code, CodeKeys, SealedCode};
use crate::destination::Destination;
use crate::error::OtpError;
use crate::policy::{Policy, Profile};
use crate::ports::{ChallengeStore, Consumed, Delivery, Message, QuotaStore};
use crate::quota::{Charge, Exceeded};
use crate::scope::{Scope, UserRef};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Open,
    Used,
}

/// A challenge as stored: at most one per scope and destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// Unique id (a UUID): what the code is sealed to, and BizMagnets' `id`.
    pub id: String,
    /// KGen's `authCode`: names the challenge for its destination; not a secret.
    pub auth_code: String,
    pub state: State,
    pub attempts: u32,
    /// The current code stops verifying at this second.
    pub expires_at: UnixSeconds,
    pub code_length: u8,
    /// The verifiable code, once its delivery succeeded.
    pub code: Option<SealedCode>,
}

impl Challenge {
    /// Open: not used, not expired, attempts left. A dead challenge is replaced on the next send.
    pub fn is_open(&self, now: UnixSeconds, max_attempts: u32) -> bool {
        self.state == State::Open && self.expires_at > now && self.attempts < max_attempts
    }
}

/// How a request names the challenge it verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handle {
    /// KGen's `authCode`.
    AuthCode(String),
    /// BizMagnets' `id`.
    Id(String),
    /// Whichever challenge is open for the scope and destination (ZAP, Bridgekeeper).
    Open,
}

/// A fresh code about to be sent: refreshing `challenge_id` (when `replaces` is that same
/// id) or opening it anew.
#[derive(Debug, Clone)]
pub struct Staging {
    pub challenge_id: String,
    pub auth_code: String,
    pub sealed: SealedCode,
    pub code_length: u8,
    pub now: UnixSeconds,
    pub expires_at: UnixSeconds,
    pub cleanup_at: UnixSeconds,
    /// True when this send opens a new challenge.
    pub opens: bool,
    /// The id of the item this write expects to find (None: no item at all).
    pub expects: Option<String>,
    /// The attempt ceiling a refreshed challenge must still be under.
    pub max_attempts: u32,
}

/// What a send did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub challenge_id: String,
    pub auth_code: String,
    pub opened: bool,
}

/// What a successful verify did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub challenge_id: String,
    /// When the destination was linked away from another user.
    pub moved_from: Option<UserRef>,
}

/// A verify request, already parsed and authenticated.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub scope: Scope,
    pub destination: Destination,
    pub handle: Handle,
    pub code: Code,
    /// Link the destination to this user when the code is right.
    pub link: Option<UserRef>,
}

/// Countries SMS may go to; `None` allows every country.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SmsCountries(pub Option<BTreeSet<String>>);

impl SmsCountries {
    pub fn allows(&self, destination: &Destination) -> bool {
        match (&self.0, destination) {
            (None, _) | (_, Destination::Email(_)) => true,
            (Some(allowed), phone) => phone.region().is_some_and(|region| allowed.contains(&region)),
        }
    }
}

/// Who asks for a send, for the budgets beyond the destination's own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Requester {
    pub source_ip: Option<IpAddr>,
    /// The API client that asked, if any.
    pub client: Option<String>,
}

/// Where a challenge id (BizMagnets' `id`) points: its scope and destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub scope_key: String,
    pub destination: Destination,
}

/// The engine: policy, keys and clock over a store.
#[derive(Debug)]
pub struct Otp<S> {
    pub store: S,
    pub policy: Policy,
    pub keys: CodeKeys,
    pub sms_countries: SmsCountries,
    pub clock: Arc<dyn Clock>,
}

/// How often a send re-reads and retries when another write changed the challenge.
const STAGE_RETRIES: usize = 3;

fn new_auth_code(previous: Option<&str>) -> String {
    let mut rng = rand::rng();
    loop {
        // Four digits without a leading zero, as the product issues them.
        let candidate = rng.random_range(1000..=9999u16).to_string();
        if Some(candidate.as_str()) != previous {
            return candidate;
        }
    }
}

fn too_many(exceeded: Exceeded) -> OtpError {
    OtpError::TooMany {
        retry_after: exceeded.retry_after,
    }
}

impl<S: ChallengeStore + QuotaStore> Otp<S> {
    /// Every budget a send request spends: the destination's (cooldown and cap), its
    /// source address's and its API client's.
    fn send_charges(&self, destination: &Destination, requester: &Requester) -> Vec<Charge> {
        let mut charges = vec![Charge {
            rule: self.policy.send_quota(),
            subject: destination.as_str().to_owned(),
        }];
        if let Some(ip) = requester.source_ip {
            charges.push(Charge {
                rule: self.policy.ip_send_quota(),
                subject: ip.to_string(),
            });
        }
        if let Some(client) = &requester.client {
            charges.push(Charge {
                rule: self.policy.client_send_quota(),
                subject: client.clone(),
            });
        }
        charges
    }

    fn guess_charge(&self, destination: &Destination) -> Charge {
        Charge {
            rule: self.policy.guess_budget(),
            subject: destination.as_str().to_owned(),
        }
    }

    /// Admits one send request: the destination must be in an allowed country, and every
    /// budget must have room. Budgets count requests, not deliveries: what is spent here
    /// stays spent whether a message then goes out, fails, or was never meant to.
    async fn admit_send(
        &self,
        destination: &Destination,
        requester: &Requester,
        now: UnixSeconds,
    ) -> Result<(), OtpError> {
        if !self.sms_countries.allows(destination) {
            return Err(OtpError::CountryNotAllowed);
        }
        if let Err(exceeded) = self
            .store
            .spend(&self.send_charges(destination, requester), now)
            .await?
        {
            tracing::info!(destination = %destination, retry_after = exceeded.retry_after, "send refused by quota");
            return Err(too_many(exceeded));
        }
        Ok(())
    }

    /// Spends a send request's budgets without sending anything: for a request that must
    /// look and cost the same as a send (a destination of no known user).
    pub async fn count_send(&self, destination: &Destination, requester: &Requester) -> Result<(), OtpError> {
        let now = self.clock.now();
        self.admit_send(destination, requester, now).await?;
        tracing::info!(destination = %destination, "send counted, nothing sent");
        Ok(())
    }

    /// Sends a fresh code to `destination` for `scope`: on the open challenge (same
    /// handle, attempts carried over) or on a new one. The budgets are spent first. The
    /// code becomes verifiable only once delivered.
    pub async fn send<D: Delivery>(
        &self,
        delivery: &D,
        scope: &Scope,
        destination: &Destination,
        profile: &Profile,
        requester: &Requester,
        compose: impl Fn(&Code, &Profile) -> Message,
    ) -> Result<Sent, OtpError> {
        let now = self.clock.now();
        self.admit_send(destination, requester, now).await?;

        let max_attempts = self.policy.attempts_per_challenge;
        let mut staged = None;
        for _ in 0..STAGE_RETRIES {
            let current = self.store.load(scope, destination).await?;
            let (challenge_id, auth_code, opens, code_length) = match &current {
                Some(open) if open.is_open(now, max_attempts) => {
                    (open.id.clone(), open.auth_code.clone(), false, open.code_length)
                }
                dead => (
                    uuid::Uuid::new_v4().to_string(),
                    new_auth_code(dead.as_ref().map(|c| c.auth_code.as_str())),
                    true,
                    profile.code_length,
                ),
            };
            let code = Code::generate(code_length);
            let sealed = self.keys.seal(&challenge_id, &code);
            let expires_at = now + profile.lifetime.as_secs() as i64;
            let staging = Staging {
                challenge_id,
                auth_code,
                sealed,
                code_length,
                now,
                expires_at,
                cleanup_at: expires_at + crate::policy::CLEANUP_GRACE.as_secs() as i64,
                opens,
                expects: current.map(|c| c.id),
                max_attempts,
            };
            match self.store.stage(scope, destination, &staging).await {
                Ok(()) => {
                    staged = Some((staging, code));
                    break;
                }
                Err(crate::ports::StoreError::Contended) => continue,
                Err(other) => return Err(other.into()),
            }
        }
        let Some((staging, code)) = staged else {
            return Err(OtpError::TooMany { retry_after: 1 });
        };

        let message = compose(&code, profile);
        if let Err(error) = delivery.deliver(destination, &message).await {
            tracing::error!(destination = %destination, error = %error, "delivery failed; code withdrawn");
            if let Err(withdraw) = self
                .store
                .withdraw(scope, destination, &staging.challenge_id, &staging.sealed)
                .await
            {
                // The staged code never verifies, so a failed clean-up leaves nothing live.
                tracing::warn!(error = %withdraw, "could not remove the undelivered code");
            }
            return Err(OtpError::Unavailable);
        }

        if !self
            .store
            .activate(scope, destination, &staging.challenge_id, &staging.sealed)
            .await?
        {
            tracing::warn!(destination = %destination, "a newer send replaced this code before activation");
            return Err(OtpError::Unavailable);
        }
        tracing::info!(
            destination = %destination,
            challenge_id = %staging.challenge_id,
            opened = staging.opens,
            "code sent"
        );
        Ok(Sent {
            challenge_id: staging.challenge_id,
            auth_code: staging.auth_code,
            opened: staging.opens,
        })
    }

    /// Verifies a code. The destination's failure budget and the challenge's attempt are
    /// both spent before the comparison; only a right code gives the budget back.
    pub async fn verify(&self, attempt: &Attempt) -> Result<Verified, OtpError> {
        let now = self.clock.now();
        if let Handle::Id(id) = &attempt.handle
            && let Some(found) = self.store.locate(id).await?
            && found.scope_key == attempt.scope.key()
            && found.destination != attempt.destination
        {
            return self.wrong_destination(attempt, &found.destination, now).await;
        }

        let budget = self.guess_charge(&attempt.destination);
        if let Err(exceeded) = self.store.peek(&budget, now).await? {
            tracing::info!(destination = %attempt.destination, "verify refused by the failure budget");
            return Err(too_many(exceeded));
        }

        let counted = self
            .store
            .count_attempt(
                &attempt.scope,
                &attempt.destination,
                &attempt.handle,
                now,
                self.policy.attempts_per_challenge,
            )
            .await?;
        let Some(challenge) = counted else {
            // Unknown, expired, used or spent: nothing compared, but the failure still counts,
            // so that budgets say nothing about which destinations have challenges.
            if let Err(error) = self.store.spend(&[budget], now).await {
                tracing::warn!(error = %error, "failure budget not charged");
            }
            tracing::info!(destination = %attempt.destination, "verify of an unknown or dead challenge");
            return Err(OtpError::Gone);
        };

        if let Err(exceeded) = self.store.spend(std::slice::from_ref(&budget), now).await? {
            tracing::info!(destination = %attempt.destination, "verify refused by the failure budget");
            return Err(too_many(exceeded));
        }

        let Some(sealed) = challenge.code.as_ref() else {
            return Err(OtpError::Gone);
        };
        if !self.keys.matches(&challenge.id, &attempt.code, sealed) {
            tracing::info!(
                destination = %attempt.destination,
                challenge_id = %challenge.id,
                attempts = challenge.attempts,
                "wrong code"
            );
            return Err(OtpError::WrongCode);
        }

        let consumed = self
            .store
            .consume(
                &attempt.scope,
                &attempt.destination,
                &challenge.id,
                sealed,
                now,
                attempt.link.as_ref(),
            )
            .await?;
        let Consumed::Used { moved_from } = consumed else {
            tracing::info!(challenge_id = %challenge.id, "code already used");
            return Err(OtpError::Gone);
        };
        if let Err(error) = self.store.refund(&budget, now, now).await {
            tracing::warn!(error = %error, "failure budget not refunded after a right code");
        }
        if let Some(previous) = &moved_from {
            tracing::warn!(
                destination = %attempt.destination,
                from = ?previous,
                to = ?attempt.link,
                "destination moved to another user after proof of possession"
            );
        }
        tracing::info!(destination = %attempt.destination, challenge_id = %challenge.id, "code verified");
        Ok(Verified {
            challenge_id: challenge.id,
            moved_from,
        })
    }

    /// A challenge named by id, verified with another destination than its own: a failed
    /// attempt on that challenge and its destination's budget, with nothing compared.
    async fn wrong_destination(
        &self,
        attempt: &Attempt,
        real: &Destination,
        now: UnixSeconds,
    ) -> Result<Verified, OtpError> {
        let budget = self.guess_charge(real);
        if let Err(exceeded) = self.store.peek(&budget, now).await? {
            return Err(too_many(exceeded));
        }
        let counted = self
            .store
            .count_attempt(
                &attempt.scope,
                real,
                &attempt.handle,
                now,
                self.policy.attempts_per_challenge,
            )
            .await?;
        if let Err(error) = self.store.spend(&[budget], now).await {
            tracing::warn!(error = %error, "failure budget not charged");
        }
        match counted {
            Some(challenge) => {
                tracing::info!(
                    destination = %real,
                    challenge_id = %challenge.id,
                    attempts = challenge.attempts,
                    "verify with another destination than the challenge's"
                );
                Err(OtpError::NotThisDestination)
            }
            None => Err(OtpError::Gone),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_codes_have_four_digits_without_leading_zero_and_change() {
        for _ in 0..1_000 {
            let code = new_auth_code(Some("1000"));
            assert_eq!(code.len(), 4);
            assert!(!code.starts_with('0'));
            assert_ne!(code, "1000");
        }
    }

    #[test]
    fn open_means_unused_unexpired_and_attempts_left() {
        let challenge = Challenge {
            id: "c".into(),
            auth_code: "1234".into(),
            state: State::Open,
            attempts: 4,
            expires_at: 100,
            code_length: 6,
            code: None,
        };
        assert!(challenge.is_open(99, 5));
        assert!(!challenge.is_open(100, 5));
        assert!(!challenge.is_open(99, 4));
        let used = Challenge {
            state: State::Used,
            ..challenge
        };
        assert!(!used.is_open(0, 5));
    }

    #[test]
    fn sms_countries() {
        let india = Destination::phone("+91", "9876543219").unwrap();
        let uk = Destination::phone("+44", "7911123456").unwrap();
        let email = Destination::email("a@b.co").unwrap();
        let all = SmsCountries(None);
        assert!(all.allows(&india) && all.allows(&uk));
        let only_india = SmsCountries(Some(["IN".to_owned()].into()));
        assert!(only_india.allows(&india));
        assert!(!only_india.allows(&uk));
        assert!(only_india.allows(&email));
    }
}
