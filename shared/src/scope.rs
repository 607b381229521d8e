//! Who a challenge belongs to, and whose users a registry entry names. Products keep their
//! users and challenges apart: only the scope that opened a challenge, through its own
//! product's routes, can resend or verify it; to anyone else it is unknown.

use std::fmt;

/// The products whose users and challenges are kept apart (docs/security.md, "Whose budgets").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Product {
    /// KGen's frontend and its rewards proxy: one product.
    Kgen,
    Bridgekeeper,
    Zap,
    /// The client APIs (BizMagnets and Twilio), which share a client's challenges.
    ClientApi,
}

impl Product {
    /// The products that keep users (the client APIs link none).
    pub const WITH_USERS: [Product; 3] = [Product::Kgen, Product::Bridgekeeper, Product::Zap];

    pub fn name(self) -> &'static str {
        match self {
            Self::Kgen => "kgen",
            Self::Bridgekeeper => "bridgekeeper",
            Self::Zap => "zap",
            Self::ClientApi => "client-api",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        [Self::Kgen, Self::Bridgekeeper, Self::Zap, Self::ClientApi]
            .into_iter()
            .find(|product| product.name() == name)
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One set of users: a product's users vouched for by one issuer (a JWT's `iss`, or for
/// ZAP the API client). A destination has at most one owner per realm, and nothing done
/// in one realm touches another's.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Realm {
    pub product: Product,
    pub issuer: String,
}

impl Realm {
    pub fn new(product: Product, issuer: impl Into<String>) -> Self {
        Self {
            product,
            issuer: issuer.into(),
        }
    }

    /// One string per realm, unambiguous whatever the issuer contains. The product comes
    /// from the route, never from a token, so no `iss` can spell another product's realm.
    pub fn key(&self) -> String {
        format!("{}:{}", self.product.name(), escape(&self.issuer))
    }
}

/// A user as a realm knows it: users of different products or issuers never collide.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct UserRef {
    pub product: Product,
    pub issuer: String,
    pub id: String,
}

impl UserRef {
    pub fn new(product: Product, issuer: impl Into<String>, id: impl Into<String>) -> Self {
        Self {
            product,
            issuer: issuer.into(),
            id: id.into(),
        }
    }

    /// The realm whose user this is.
    pub fn realm(&self) -> Realm {
        Realm::new(self.product, self.issuer.clone())
    }

    /// One string per user, unambiguous whatever the issuer and id contain.
    pub fn key(&self) -> String {
        format!("{}:{}", self.realm().key(), escape(&self.id))
    }
}

impl fmt::Debug for UserRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserRef({})", self.key())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A user of a product (a JWT's, or ZAP's `userId` within its client).
    User(UserRef),
    /// A contact that user is adding to its account (Bridgekeeper's update-with-otp):
    /// apart from the user's own scope, so that a code sent to a destination of the
    /// caller's choosing proves only that destination, never the user's second factor.
    NewContact(UserRef),
    /// An API client of the client APIs (BizMagnets and Twilio), by its id.
    Client(String),
    /// Nobody in particular, within a product (Bridgekeeper's anonymous flows).
    Anonymous(Product),
}

impl Scope {
    pub fn key(&self) -> String {
        match self {
            Self::User(user) => format!("user:{}", user.key()),
            Self::NewContact(user) => format!("new-contact:{}", user.key()),
            // Unchanged since client scopes were the client APIs' alone: their open
            // challenges outlive the deploy that made products explicit.
            Self::Client(id) => format!("client:{}", escape(id)),
            Self::Anonymous(product) => format!("anonymous:{}", product.name()),
        }
    }

    /// The product whose routes may resend or verify this scope's challenges.
    pub fn product(&self) -> Product {
        match self {
            Self::User(user) | Self::NewContact(user) => user.product,
            Self::Client(_) => Product::ClientApi,
            Self::Anonymous(product) => *product,
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
        let a = UserRef::new(Product::Kgen, "iss:a", "b");
        let b = UserRef::new(Product::Kgen, "iss", "a:b");
        assert_ne!(a.key(), b.key());
        assert_ne!(Scope::User(a).key(), Scope::Client("iss:a:b".into()).key());
        assert_eq!(escape("a#b%c"), "a%23b%25c");
    }

    #[test]
    fn products_never_share_a_user_or_a_scope() {
        // The same issuer and id in each product: four users, four scopes.
        let keys: std::collections::HashSet<String> = Product::WITH_USERS
            .into_iter()
            .map(|product| Scope::User(UserRef::new(product, "https://id.example", "42")).key())
            .chain([
                Scope::Anonymous(Product::Bridgekeeper).key(),
                Scope::Client("42".into()).key(),
            ])
            .collect();
        assert_eq!(keys.len(), 5);
        // ZAP's users are its clients' (`zap:<client>`): a JWT issuer spelled like that
        // is a KGen user all the same.
        let zap = UserRef::new(Product::Zap, "client-1", "u");
        let spelled = UserRef::new(Product::Kgen, "zap:client-1", "u");
        assert_ne!(zap.key(), spelled.key());
        assert_ne!(zap.realm().key(), spelled.realm().key());
        for product in [Product::Kgen, Product::Bridgekeeper, Product::Zap, Product::ClientApi] {
            assert_eq!(Product::parse(product.name()), Some(product));
        }
    }
}
