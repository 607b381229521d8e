//! The narrow interfaces the domain needs from the outside world. The DynamoDB store and the
//! SNS / SES senders implement them; correctness under concurrency lives behind them, in
//! single conditional writes.

use std::future::Future;

use crate::challenge::{Challenge, Handle, LiveCode, Located, Settlement};
use crate::clock::UnixSeconds;
use crate::code::SealedCode;
pub use crate::destination::Channel;
use crate::destination::Destination;
use crate::quota::{CounterCharge, Exceeded, SlidingCharge};
use crate::scope::{Realm, Scope, UserRef};
use crate::test_destinations::{TestDestination, TestOwner};
pub use crate::whatsapp::{WhatsAppCode, WhatsAppTemplate};

/// Why a backend did not serve a call; it says when the caller should come back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// The service refused for load (throttling), after the SDK's own retries.
    Throttled,
    /// No answer within the deadline, or no connection at all.
    TimedOut,
    /// The service failed or refused the call otherwise.
    Failed,
}

impl Outage {
    /// The `Retry-After` of the 503 this outage answers: throttling passes quickly (the
    /// SDK already backed off); a backend that hangs or fails needs longer.
    pub const fn retry_after(self) -> u64 {
        match self {
            Self::Throttled => 2,
            Self::TimedOut | Self::Failed => 5,
        }
    }

    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Throttled => "throttled",
            Self::TimedOut => "timed out",
            Self::Failed => "failed",
        }
    }
}

impl std::fmt::Display for Outage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// Items kept changing under a write, and retrying did not settle it.
    #[error("concurrent update, retry")]
    Contended,
    /// The store could not be reached in time, throttled, or refused the request.
    #[error("store {outage}: {detail}")]
    Unavailable { outage: Outage, detail: String },
}

/// What a consume did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consumed {
    /// This call used the code (and linked the destination, when asked).
    Used { moved_from: Option<UserRef> },
    /// Another call used it first, or the challenge changed: nothing was written.
    AlreadyGone,
}

/// What counting an attempt found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptCount {
    /// The attempt counted: the challenge as it now stands.
    Counted(Challenge),
    /// Nothing counted: the challenge as it stood (none; or not the one named, not open,
    /// expired, out of attempts or without a live code), read by the same write.
    Refused(Option<Challenge>),
}

/// What linking a destination to a user must know, read beside the first write of a
/// verify: the destination's owner and the user's contact of the same kind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LinkState {
    /// The user the destination is linked to, and the destination as that user has it
    /// on record (an address keeps the case it was given in).
    pub owner: Option<(UserRef, Option<String>)>,
    /// The user's own contact of the destination's kind, as on record.
    pub user_contact: Option<String>,
}

pub trait ChallengeStore: Send + Sync {
    /// The challenge of this scope and destination, if any item exists (open or dead).
    fn load(
        &self,
        scope: &Scope,
        destination: &Destination,
    ) -> impl Future<Output = Result<Option<Challenge>, StoreError>> + Send;

    /// Makes a delivered code the challenge's one verifiable code, in one write: on the
    /// open challenge it refreshes, or as a new challenge replacing the item that was read.
    /// Ok(false) when the item is no longer as read (nothing was written).
    fn put_live(
        &self,
        scope: &Scope,
        destination: &Destination,
        live: &LiveCode,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Where the challenge with this id lives, if it exists.
    fn locate(&self, challenge_id: &str) -> impl Future<Output = Result<Option<Located>, StoreError>> + Send;

    /// Counts one attempt, atomically and only while the challenge is open, named by
    /// `handle`, unexpired at `now`, carries a verifiable code and has fewer than
    /// `max_attempts`. Returns the challenge as counted, or as it stood when any of that
    /// fails.
    fn count_attempt(
        &self,
        scope: &Scope,
        destination: &Destination,
        handle: &Handle,
        now: UnixSeconds,
        max_attempts: u32,
    ) -> impl Future<Output = Result<AttemptCount, StoreError>> + Send;

    /// Gives back an attempt counted for a request that then compared nothing (refused by
    /// its caller's credentials or a budget).
    fn uncount_attempt(
        &self,
        scope: &Scope,
        destination: &Destination,
        challenge_id: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Settles the open challenge `challenge_id` without a code (its owner approves or
    /// cancels it), in one conditional write: only while it is open, unexpired and has
    /// attempts left. Returns it as settled, or None when it was not in that state.
    fn settle(
        &self,
        scope: &Scope,
        destination: &Destination,
        challenge_id: &str,
        settlement: Settlement,
        now: UnixSeconds,
        max_attempts: u32,
    ) -> impl Future<Output = Result<Option<Challenge>, StoreError>> + Send;

    /// Uses the code, once: only while it is still `sealed` and unexpired. With `link`,
    /// the destination becomes that user's in the same transaction (`state` as read).
    fn consume(
        &self,
        scope: &Scope,
        destination: &Destination,
        challenge_id: &str,
        sealed: &SealedCode,
        now: UnixSeconds,
        link: Option<(&UserRef, &LinkState)>,
    ) -> impl Future<Output = Result<Consumed, StoreError>> + Send;
}

/// Whether a budget has room.
pub type Admission = Result<(), Exceeded>;

/// Budgets, each one conditional write on an item of constant size.
pub trait QuotaStore: Send + Sync {
    /// Admits one request at `now` on a sliding budget, or says when one fits.
    fn take(
        &self,
        charge: &SlidingCharge,
        now: UnixSeconds,
    ) -> impl Future<Output = Result<Admission, StoreError>> + Send;

    /// Gives back the admission made at `at`, while it is still the newest.
    fn give_back(&self, charge: &SlidingCharge, at: UnixSeconds)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Counts one request in the window of `now`; returns the window's count with it.
    fn count(&self, charge: &CounterCharge, now: UnixSeconds) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Takes back one request counted in the window of `at`.
    fn uncount(&self, charge: &CounterCharge, at: UnixSeconds) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The conversion guard's counts (`guard.rs`): one item per tenant and number prefix,
/// keyed on the guard's subject, each write one `ADD` with no read before it.
pub trait ConversionStore: Send + Sync {
    /// Counts a send at `now`; returns the prefix's traffic with it.
    fn count_guarded_send(
        &self,
        subject: &str,
        now: UnixSeconds,
    ) -> impl Future<Output = Result<crate::guard::PrefixTraffic, StoreError>> + Send;

    /// Takes back a send counted at `at` (its request was refused, or its delivery
    /// failed); when `block` says until when and the how many-th in a row, the guard's
    /// cool-off starts.
    fn uncount_guarded_send(
        &self,
        subject: &str,
        at: UnixSeconds,
        block: Option<(UnixSeconds, u32)>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Counts a send verified at `now`.
    fn count_verified(&self, subject: &str, now: UnixSeconds) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Drops the counts of spans that no longer count.
    fn forget(&self, subject: &str, stale: &crate::guard::Spans)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Takes back a verified send counted at `at` (another submission of the same code
    /// used it first).
    fn uncount_verified(&self, subject: &str, at: UnixSeconds) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The spend cap's counters (`spend.rs`): one item per shard of a cap's window, each
/// write one `ADD` with no read before it.
pub trait SpendStore: Send + Sync {
    /// Adds `amount` to `counter`; returns its total with it.
    fn add_spend(
        &self,
        counter: &crate::spend::SpendCounter,
        amount: crate::spend::Micros,
    ) -> impl Future<Output = Result<crate::spend::Micros, StoreError>> + Send;

    /// Takes back `amount` added to `counter` (its send was refused, or not delivered);
    /// nothing when the counter holds less (it was cleaned up).
    fn take_back_spend(
        &self,
        counter: &crate::spend::SpendCounter,
        amount: crate::spend::Micros,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Where delivered messages are recorded, and marked converted (`attempts.rs`).
pub trait AttemptLog: Send + Sync {
    /// Records a delivered message.
    fn record_attempt(
        &self,
        attempt: &crate::attempts::SendAttempt,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Marks an attempt converted at `now` (its code was verified); nothing when it is
    /// gone (past the days kept).
    fn convert_attempt(&self, id: &str, now: UnixSeconds) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// How a tenant's attempts are read back: one by id, or a page of a filter's, newest
/// first, by the index of the tenant's days (never a scan).
pub trait AttemptReader: Send + Sync {
    /// The tenant's attempt `id`; none when it is another tenant's or gone.
    fn attempt(
        &self,
        tenant: &str,
        id: &str,
    ) -> impl Future<Output = Result<Option<crate::attempts::SendAttempt>, StoreError>> + Send;

    /// At most `size` of the tenant's attempts that `filter` keeps, from `from` on.
    fn attempts_page(
        &self,
        tenant: &str,
        filter: &crate::attempts::AttemptFilter,
        size: usize,
        from: Option<&crate::attempts::Cursor>,
    ) -> impl Future<Output = Result<crate::attempts::AttemptPage, StoreError>> + Send;
}

/// The two kinds of contact a user has on record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContactKind {
    Phone,
    Email,
}

impl ContactKind {
    /// The kind of contact a destination is.
    pub fn of(destination: &Destination) -> Self {
        match destination {
            Destination::Phone(_) => Self::Phone,
            Destination::Email(_) => Self::Email,
        }
    }
}

/// The registry of users, one per realm (a product's users of one issuer): nothing asked
/// of one realm says anything of another's.
pub trait UserDirectory: Send + Sync {
    /// The user of `realm` a destination is linked to.
    fn owner_of(
        &self,
        realm: &Realm,
        destination: &Destination,
    ) -> impl Future<Output = Result<Option<UserRef>, StoreError>> + Send;

    /// The user's contact of this kind, if on record.
    fn contact_of(
        &self,
        user: &UserRef,
        kind: ContactKind,
    ) -> impl Future<Output = Result<Option<Destination>, StoreError>> + Send;

    /// What a link of `destination` to `user` must know, in the user's realm (two reads
    /// at once).
    fn link_state(
        &self,
        destination: &Destination,
        user: &UserRef,
    ) -> impl Future<Output = Result<LinkState, StoreError>> + Send;

    /// Links a destination to a user (moving it from any previous owner of the user's
    /// realm), outside a verify: for importing users.
    fn link(
        &self,
        destination: &Destination,
        user: &UserRef,
        now: UnixSeconds,
    ) -> impl Future<Output = Result<Option<UserRef>, StoreError>> + Send;
}

/// What an API client may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Permission {
    /// KGen's rewards proxy (`clientID` and `clientSecret`).
    KgenProxy,
    /// BizMagnets' sendOTP and verifyOTP (`X-API-KEY`).
    Bizmagnets,
    /// ZAP's generate and verify (`X-API-KEY`).
    Zap,
    /// Twilio Verify v2 (HTTP Basic: the client's id and secret).
    Twilio,
}

impl Permission {
    pub const ALL: [Permission; 4] = [
        Permission::KgenProxy,
        Permission::Bizmagnets,
        Permission::Zap,
        Permission::Twilio,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Self::KgenProxy => "kgen-proxy",
            Self::Bizmagnets => "bizmagnets",
            Self::Zap => "zap",
            Self::Twilio => "twilio",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// A client's own send limits; None takes the deployment's.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientLimits {
    pub sends_per_hour: Option<u32>,
    pub sends_per_number_range_per_hour: Option<u32>,
}

/// A registered API client: only the hashes of its secret and API keys are kept.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientRecord {
    pub id: String,
    pub name: String,
    pub secret_hash: Vec<u8>,
    /// The `X-API-KEY` of BizMagnets and ZAP.
    pub api_key_hash: Option<Vec<u8>>,
    /// Twilio's API keys (`SK...` and a secret, in Basic auth), each revocable alone.
    pub keys: Vec<ApiKey>,
    pub permissions: std::collections::BTreeSet<Permission>,
    pub limits: ClientLimits,
    /// A disabled client's credentials are refused, whatever they are.
    pub disabled: bool,
    /// Its OTP configurations (Twilio's services), by uid, oldest first: the index the
    /// Services resource lists from, read with the credentials it is listed under.
    pub services: Vec<IndexedService>,
}

/// A configuration as its client's index holds it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct IndexedService {
    /// When it was made (or indexed, for one made before the index).
    pub created: UnixSeconds,
    pub uid: String,
}

impl ClientRecord {
    /// The key of this client that `sid` names.
    pub fn key(&self, sid: &str) -> Option<&ApiKey> {
        self.keys.iter().find(|key| key.sid == sid)
    }
}

/// One of a client's API keys: it stands for the client as its auth token does, until
/// revoked. Only the hash of its secret is kept.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// `SK` and 32 hex digits.
    pub sid: String,
    pub name: String,
    pub secret_hash: Vec<u8>,
    /// When it was made.
    pub created: crate::clock::UnixSeconds,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey")
            .field("sid", &self.sid)
            .field("name", &self.name)
            .field("created", &self.created)
            .finish_non_exhaustive()
    }
}

impl std::fmt::Debug for ClientRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientRecord")
            .field("id", &self.id)
            .field("name", &self.name)
            .field("permissions", &self.permissions)
            .field("disabled", &self.disabled)
            .field("limits", &self.limits)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

pub trait ClientRegistry: Send + Sync {
    fn client(&self, id: &str) -> impl Future<Output = Result<Option<ClientRecord>, StoreError>> + Send;
    fn put_client(&self, record: &ClientRecord) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// The test destination `owner` has for `destination`, expired or not: read beside a
    /// send's first write, only where the deployment allows test destinations.
    fn test_destination(
        &self,
        owner: &TestOwner,
        destination: &Destination,
    ) -> impl Future<Output = Result<Option<TestDestination>, StoreError>> + Send;
}

/// A client's OTP configuration (BizMagnets' `otp_config_uid`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OtpConfig {
    pub uid: String,
    pub client_id: String,
    pub channel: Channel,
    pub profile: crate::policy::Profile,
    /// Message text: `{code}`, `{minutes}`, `{name}` and `{sender}` are replaced.
    pub template: String,
    /// Shown as the sender: an SMS sender ID, or an email's display name.
    pub sender: String,
    /// The WhatsApp template of a `whatsapp` configuration (and only of one).
    pub whatsapp: Option<WhatsAppTemplate>,
    /// The other channels it sends by when a request names them (Twilio's `Channel`),
    /// each with its own template and sender; `channel` is the default, which requests
    /// that name none use.
    pub more_channels: Vec<ChannelSetup>,
    /// What Twilio's Services resource says of it beyond the above.
    pub service: ServiceFacts,
    /// How its messages follow languages, and the autofill lines its SMS end with.
    pub localization: crate::localization::Localization,
}

/// A configuration as Twilio's Services resource shows it, beyond how it sends.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceFacts {
    /// Twilio's `FriendlyName`: the name its messages show as `{sender}`.
    pub friendly_name: Option<String>,
    /// The parameters of Twilio's API that map onto nothing here, as sent, by name.
    pub kept: std::collections::BTreeMap<String, String>,
    pub created_at: Option<UnixSeconds>,
    pub updated_at: Option<UnixSeconds>,
}

/// What making a service came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceAdded {
    Added,
    NoSuchClient,
    /// The client already has the most services one may have.
    Full,
}

/// How a configuration sends by one channel besides its default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSetup {
    pub channel: Channel,
    pub template: String,
    pub sender: String,
    /// For `whatsapp`, its template.
    pub whatsapp: Option<WhatsAppTemplate>,
}

impl OtpConfig {
    /// The configuration as it sends by `channel`: itself for its default channel, the
    /// channel's own template and sender for another it enables, None for one it lacks.
    pub fn by(&self, channel: Channel) -> Option<OtpConfig> {
        if channel == self.channel {
            return Some(self.clone());
        }
        let setup = self.more_channel(channel)?;
        Some(OtpConfig {
            channel,
            template: setup.template.clone(),
            sender: setup.sender.clone(),
            whatsapp: setup.whatsapp.clone(),
            more_channels: Vec::new(),
            ..self.clone()
        })
    }

    /// The name its messages show as `{sender}`: its friendly name (Twilio's), else its
    /// sender.
    pub fn shown_name(&self) -> &str {
        self.service.friendly_name.as_deref().unwrap_or(&self.sender)
    }

    /// How it sends by `channel` when that is one of its channels besides the default.
    pub fn more_channel(&self, channel: Channel) -> Option<&ChannelSetup> {
        self.more_channels.iter().find(|setup| setup.channel == channel)
    }

    /// Every channel it sends by, its default first.
    pub fn channels(&self) -> Vec<Channel> {
        std::iter::once(self.channel)
            .chain(self.more_channels.iter().map(|setup| setup.channel))
            .collect()
    }
}

pub trait ConfigRegistry: Send + Sync {
    fn config(&self, uid: &str) -> impl Future<Output = Result<Option<OtpConfig>, StoreError>> + Send;
    /// Several configurations at once (one round trip), in the order asked; those gone
    /// are left out.
    fn configs(&self, uids: &[String]) -> impl Future<Output = Result<Vec<OtpConfig>, StoreError>> + Send;
    /// Makes a configuration and adds it to its client's index, in one transaction, under
    /// the most a client may have.
    fn put_config(&self, config: &OtpConfig) -> impl Future<Output = Result<ServiceAdded, StoreError>> + Send;
    /// Replaces what Twilio's Services resource may change of `config` (its code length,
    /// its friendly name, the parameters kept): false when it is not `config.client_id`'s.
    fn update_service(&self, config: &OtpConfig) -> impl Future<Output = Result<bool, StoreError>> + Send;
    /// Deletes `client`'s configuration `uid` and its entry in the client's index: false
    /// when it is not the client's.
    fn delete_config(&self, client: &str, uid: &str) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// A message to deliver. The code appears in it, so it is never logged.
#[derive(Clone, PartialEq, Eq)]
pub struct Message {
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    /// Overrides the deployment's sender (SMS sender ID, email display name).
    pub sender: Option<String>,
    /// To a phone, by this WhatsApp template with the code as its parameter (the text
    /// being the SMS fallback).
    pub whatsapp: Option<WhatsAppCode>,
    /// To a phone, by a call that speaks this (the text being the words it says).
    pub voice: Option<SpokenCode>,
}

/// What a call says: SSML for the voice that speaks it, the code in it (which its Debug
/// never shows).
#[derive(Clone, PartialEq, Eq)]
pub struct SpokenCode {
    /// The voice, as AWS End User Messaging SMS and Voice names it (`JOANNA`).
    pub voice_id: &'static str,
    pub ssml: String,
}

impl std::fmt::Debug for SpokenCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpokenCode")
            .field("voice_id", &self.voice_id)
            .finish_non_exhaustive()
    }
}

impl Message {
    /// The channel the message itself goes by, when it names one (a call, a WhatsApp
    /// template); none: its destination's own (SMS, email).
    pub fn channel(&self) -> Option<Channel> {
        match (&self.voice, &self.whatsapp) {
            (Some(_), _) => Some(Channel::Call),
            (None, Some(_)) => Some(Channel::WhatsApp),
            (None, None) => None,
        }
    }
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Message")
            .field("subject", &self.subject)
            .field("whatsapp", &self.whatsapp.as_ref().map(|whatsapp| &whatsapp.template))
            .field("voice", &self.voice.as_ref().map(|voice| voice.voice_id))
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// This deployment has no channel for the destination's kind.
    #[error("no channel for this kind of destination")]
    NoChannel,
    /// The channel refused the recipient itself (WhatsApp: a number it does not reach).
    #[error("recipient refused: {0}")]
    RecipientRefused(String),
    /// The provider refused, throttled, or did not answer in time.
    #[error("delivery {outage}: {detail}")]
    Failed { outage: Outage, detail: String },
}

impl StoreError {
    /// A failure of the store's own making (an answer it cannot use), not the service's.
    pub fn inconsistent(detail: impl Into<String>) -> Self {
        Self::Unavailable {
            outage: Outage::Failed,
            detail: detail.into(),
        }
    }
}

impl DeliveryError {
    /// The `Retry-After` of the 503 this failure answers.
    pub fn retry_after(&self) -> u64 {
        match self {
            Self::NoChannel | Self::RecipientRefused(_) => Outage::Failed.retry_after(),
            Self::Failed { outage, .. } => outage.retry_after(),
        }
    }
}

pub trait Delivery: Send + Sync {
    /// Hands the message over; the channel that took it (WhatsApp, or SMS when it fell
    /// back).
    fn deliver(
        &self,
        to: &Destination,
        message: &Message,
    ) -> impl Future<Output = Result<Channel, DeliveryError>> + Send;
}
