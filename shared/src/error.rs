//! What can go wrong, in the domain's words. Each dialect renders these in its own shape,
//! in one place per dialect.

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OtpError {
    /// The request is malformed: `field` says which part, `reason` how.
    #[error("invalid {field}: {reason}")]
    Invalid { field: &'static str, reason: String },
    /// The deployment sends no code to this number: its country, or its kind (premium
    /// rate, landline, non-geographic...), by the number rules.
    #[error("number refused: {}", .0.name())]
    NumberRefused(crate::number_rules::RefusedNumber),
    /// The request asks for a language with no built-in text (Twilio's `Locale`), or, for
    /// a call (`spoken`), one no voice speaks.
    #[error("locale {tag} is not supported")]
    UnsupportedLocale { tag: String, spoken: bool },
    /// The caller's credentials failed.
    #[error("unauthorized")]
    Unauthorized,
    /// A request riding on a browser's session cookie came from a site not allowed to use
    /// it (cross-site request forgery): refused before the cookie is read.
    #[error("cross-site request refused")]
    Forbidden,
    /// The code is not the challenge's (one attempt spent).
    #[error("wrong code")]
    WrongCode,
    /// A challenge named by id was verified with another destination than its own (one
    /// attempt spent).
    #[error("not this challenge's destination")]
    NotThisDestination,
    /// The route, or a resource it names (an OTP configuration), does not exist for this caller.
    #[error("not found")]
    NotFound,
    /// A route of the service reached with another method than the one it takes.
    #[error("method not allowed")]
    MethodNotAllowed,
    /// The challenge is expired, used, unknown or someone else's: all look alike.
    #[error("challenge expired or unknown")]
    Gone,
    /// The challenge the request named has no attempts left; a new code can be sent once
    /// the destination's cooldown allows (this many seconds). Only a caller that named it
    /// is told: to anyone else it is `Gone`.
    #[error("no attempts left, send a new code after {retry_after} s")]
    Spent { retry_after: u64 },
    /// A send rule or the failure budget refuses; try again after this many seconds.
    #[error("too many requests, retry after {retry_after} s")]
    TooMany { retry_after: u64 },
    /// The destination's number range has had its hour's sends (the rule against SMS
    /// pumping): a send rule too, which a dialect may name apart.
    #[error("number range blocked, retry after {retry_after} s")]
    RangeBlocked { retry_after: u64 },
    /// The deployment's, the tenant's or the country's estimated spend reached its cap:
    /// no SMS or WhatsApp code goes out until the cap's window (a UTC month, an hour)
    /// starts afresh, this many seconds on.
    #[error("spend cap reached, retry after {retry_after} s")]
    SpendCapped { retry_after: u64 },
    /// A backend (store or delivery) failed, throttled or did not answer in time; nothing
    /// half-made was left behind. Try again after this many seconds.
    #[error("backend unavailable, retry after {retry_after} s")]
    Unavailable { retry_after: u64 },
}

impl OtpError {
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field,
            reason: reason.into(),
        }
    }
}

impl From<crate::ports::StoreError> for OtpError {
    fn from(error: crate::ports::StoreError) -> Self {
        match error {
            // Contention on a budget is a burst against one subject: a short back-off fits.
            crate::ports::StoreError::Contended => Self::TooMany { retry_after: 1 },
            crate::ports::StoreError::Unavailable { outage, detail } => {
                tracing::error!(outage = %outage, error = %detail, "store unavailable");
                Self::Unavailable {
                    retry_after: outage.retry_after(),
                }
            }
        }
    }
}
