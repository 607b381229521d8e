//! Challenges as the domain sees them: what is stored, how a request names one, and
//! what a send or a verify did. The engine that moves them is `engine`.

use crate::clock::UnixSeconds;
use crate::code::{SealedCode, Submitted};
use crate::destination::{Channel, Destination};
use crate::scope::{Scope, UserRef};
use crate::tenant::Requester;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Open,
    /// Its code was used (or the caller approved it without one, where a dialect allows).
    Used,
    /// Its caller withdrew it: no code of it verifies any more.
    Canceled,
}

/// Where a challenge stands, as a caller that owns it may be told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifecycle {
    /// A code is out and may still be verified.
    Pending,
    Approved,
    Canceled,
    Expired,
    /// Every attempt was spent on wrong codes.
    MaxAttemptsReached,
}

/// What the caller that owns an open challenge may settle it as, without a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    Approve,
    Cancel,
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
    /// When it was opened, and when its latest code went out.
    pub created_at: UnixSeconds,
    pub sent_at: UnixSeconds,
    /// When it was used or canceled.
    pub settled_at: Option<UnixSeconds>,
    /// The channel its latest code went by (unknown for items written before it was kept).
    pub channel: Option<Channel>,
    /// The attempt of its latest delivered code (none for a test destination's, or for
    /// items written before attempts were kept): what a right code marks converted.
    pub attempt: Option<String>,
}

impl Challenge {
    /// Open: not used, not expired, attempts left. A dead challenge is replaced on the next send.
    pub fn is_open(&self, now: UnixSeconds, max_attempts: u32) -> bool {
        self.state == State::Open && self.expires_at > now && self.attempts < max_attempts
    }

    pub fn lifecycle(&self, now: UnixSeconds, max_attempts: u32) -> Lifecycle {
        match self.state {
            State::Used => Lifecycle::Approved,
            State::Canceled => Lifecycle::Canceled,
            State::Open if self.attempts >= max_attempts => Lifecycle::MaxAttemptsReached,
            State::Open if self.expires_at <= now => Lifecycle::Expired,
            State::Open => Lifecycle::Pending,
        }
    }

    /// When anything last happened to it.
    pub fn updated_at(&self) -> UnixSeconds {
        self.settled_at.unwrap_or(self.sent_at).max(self.sent_at)
    }
}

/// How a request names the challenge it verifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Handle {
    /// KGen's `authCode`.
    AuthCode(String),
    /// BizMagnets' `id`.
    Id(String),
    /// A challenge id whose destination the request took from the id itself (Twilio's
    /// `VerificationSid`, located first): no other destination to tell it from.
    LocatedId(String),
    /// Whichever challenge is open for the scope and destination (ZAP, Bridgekeeper).
    Open,
}

impl Handle {
    /// Whether this handle names `challenge` (`Open`: whichever challenge its scope and
    /// destination have).
    pub fn names(&self, challenge: &Challenge) -> bool {
        match self {
            Self::AuthCode(code) => challenge.auth_code == *code,
            Self::Id(id) | Self::LocatedId(id) => challenge.id == *id,
            Self::Open => true,
        }
    }
}

/// What a send did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    pub challenge_id: String,
    pub auth_code: String,
    pub opened: bool,
    /// When the challenge was opened (now, or by an earlier send), and when this code went out.
    pub opened_at: UnixSeconds,
    pub sent_at: UnixSeconds,
    /// The channel that took the code.
    pub channel: Channel,
}

/// What a successful verify did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub challenge_id: String,
    /// When the destination was linked away from another user.
    pub moved_from: Option<UserRef>,
    /// The challenge as its attempt was counted, just before its code was used.
    pub challenge: Challenge,
}

/// What comparing a submitted code found, once an attempt was counted on a live challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Checked {
    /// The code was right: used, and the destination linked where asked.
    Approved(Verified),
    /// The code was wrong: the challenge as its attempt was counted (its attempts
    /// include this one).
    Wrong(Challenge),
}

/// A verify request, already parsed and authenticated.
#[derive(Debug, Clone)]
pub struct Attempt {
    pub scope: Scope,
    pub destination: Destination,
    pub handle: Handle,
    pub code: Submitted,
    /// Link the destination to this user when the code is right.
    pub link: Option<UserRef>,
    /// Who asks: whose budget its failure spends.
    pub requester: Requester,
}

/// Where a challenge id (BizMagnets' `id`) points: its scope and destination.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    pub scope_key: String,
    pub destination: Destination,
}

/// A delivered code about to become the challenge's one verifiable code: on the open
/// challenge `challenge_id` (refresh), or as a new challenge replacing the item that was
/// read (`replaces`: its id, or None when there was none).
#[derive(Debug, Clone)]
pub struct LiveCode {
    pub challenge_id: String,
    pub auth_code: String,
    pub sealed: SealedCode,
    pub code_length: u8,
    pub now: UnixSeconds,
    pub expires_at: UnixSeconds,
    pub cleanup_at: UnixSeconds,
    /// True when this send opens a new challenge.
    pub opens: bool,
    pub replaces: Option<String>,
    /// The attempt ceiling a refreshed challenge must still be under.
    pub max_attempts: u32,
    /// A pointer from the id to the challenge is written with it (verify by id alone).
    pub indexed_by_id: bool,
    /// The channel that took the code.
    pub channel: Channel,
    /// The attempt that delivered it (none for a test destination's known code).
    pub attempt: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

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
            created_at: 10,
            sent_at: 40,
            settled_at: None,
            channel: None,
            attempt: None,
        };
        assert!(challenge.is_open(99, 5));
        assert_eq!(challenge.lifecycle(99, 5), Lifecycle::Pending);
        assert_eq!(challenge.lifecycle(100, 5), Lifecycle::Expired);
        assert_eq!(challenge.lifecycle(99, 4), Lifecycle::MaxAttemptsReached);
        assert_eq!(challenge.updated_at(), 40);
        assert!(!challenge.is_open(100, 5));
        assert!(!challenge.is_open(99, 4));
        let used = Challenge {
            state: State::Used,
            settled_at: Some(70),
            ..challenge.clone()
        };
        assert!(!used.is_open(0, 5));
        assert_eq!(
            used.lifecycle(200, 5),
            Lifecycle::Approved,
            "used stays approved past expiry"
        );
        assert_eq!(used.updated_at(), 70);
        let canceled = Challenge {
            state: State::Canceled,
            ..challenge
        };
        assert!(!canceled.is_open(0, 5));
        assert_eq!(canceled.lifecycle(0, 5), Lifecycle::Canceled);
    }
}
