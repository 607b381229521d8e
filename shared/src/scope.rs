//! Who a challenge belongs to. Only the scope that opened a challenge can resend or verify
//! it; to anyone else it is unknown.

use std::fmt;

/// A user as an issuer of JWTs knows it: users of different issuers never collide.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UserRef {
    pub issuer: String,
    pub id: String,
}

impl UserRef {
    pub fn new(issuer: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            id: id.into(),
        }
    }

    /// One string per user, unambiguous whatever the issuer and id contain.
    pub fn key(&self) -> String {
        format!("{}:{}", escape(&self.issuer), escape(&self.id))
    }
}

impl fmt::Debug for UserRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserRef({})", self.key())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The user of a verified JWT.
    User(UserRef),
    /// A contact that user is adding to its account (Bridgekeeper's update-with-otp):
    /// apart from the user's own scope, so that a code sent to a destination of the
    /// caller's choosing proves only that destination, never the user's second factor.
    NewContact(UserRef),
    /// An API client, by its id.
    Client(String),
    /// Nobody in particular (a product's anonymous flows).
    Anonymous,
}

impl Scope {
    pub fn key(&self) -> String {
        match self {
            Self::User(user) => format!("user:{}", user.key()),
            Self::NewContact(user) => format!("new-contact:{}", user.key()),
            Self::Client(id) => format!("client:{}", escape(id)),
            Self::Anonymous => "anonymous".to_owned(),
        }
    }
}

/// Escapes the separators used in keys, so that distinct parts never render alike.
pub fn escape(part: &str) -> String {
    part.replace('%', "%25").replace(':', "%3A").replace('#', "%23")
}

/// The part `escape` was given.
pub fn unescape(escaped: &str) -> String {
    escaped.replace("%23", "#").replace("%3A", ":").replace("%25", "%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unescape_undoes_escape() {
        for part in ["plain", "a:b#c%d", "%3A", "%25%23", "::##%%"] {
            assert_eq!(unescape(&escape(part)), part, "{part}");
        }
    }

    #[test]
    fn keys_are_unambiguous() {
        let a = UserRef::new("iss:a", "b");
        let b = UserRef::new("iss", "a:b");
        assert_ne!(a.key(), b.key());
        assert_ne!(Scope::User(a).key(), Scope::Client("iss:a:b".into()).key());
        assert_eq!(escape("a#b%c"), "a%23b%25c");
    }
}
