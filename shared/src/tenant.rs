//! Whose budgets a request spends (docs/security.md, "Whose budgets"). Every per-destination budget (the
//! cooldown, the sends per ten minutes, the wrong codes, the number range) is kept per
//! tenant, so that nothing one tenant's callers do changes what another's get: an
//! anonymous caller can spend only the public's budgets of the product it calls.

use std::fmt;
use std::net::IpAddr;

use crate::scope::{Product, Realm, Scope, escape};

/// Who asks: the tenant whose budgets a request spends, the address it came from (whose
/// own budget holds callers no API client vouches for), and the dialect that asked (for
/// the status events and metrics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requester {
    pub tenant: Tenant,
    pub source_ip: Option<IpAddr>,
    pub dialect: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tenant {
    /// An API client (KGen's proxy, BizMagnets, ZAP with a key, Twilio), by its id. Its
    /// credentials are checked beside a request's first round trip: until then the
    /// request only claims it (see `engine::budgets`).
    Client(String),
    /// The users of a product vouched for by one JWT issuer, on routes that take only a
    /// user's token (KGen's frontend, Bridgekeeper's sessions).
    Issuer(Realm),
    /// Anyone, through one product's routes (Bridgekeeper without a session, ZAP
    /// without a key).
    Public(Product),
}

impl Tenant {
    /// One string per tenant, unambiguous whatever an id or issuer contains: its parts
    /// are escaped and its first word says how many follow.
    pub fn key(&self) -> String {
        match self {
            Self::Client(id) => format!("client:{}", escape(id)),
            Self::Issuer(realm) => format!("issuer:{}", realm.key()),
            Self::Public(product) => format!("public:{}", product.name()),
        }
    }

    /// The API client a request claims, when its tenant is one.
    pub fn client(&self) -> Option<&str> {
        match self {
            Self::Client(id) => Some(id),
            _ => None,
        }
    }

    /// The subject of one of this tenant's budgets for `what` (a destination's mailbox,
    /// a number range, a user's scope): the tenant first, so no two tenants share one.
    pub fn subject(&self, what: &str) -> String {
        format!("{}:{}", self.key(), escape(what))
    }

    /// The subject of the budget of one user within this tenant (the scope that made a
    /// request), for failures that concern no one else.
    pub fn user_subject(&self, scope: &Scope) -> String {
        format!("{}:{}", self.key(), scope.key())
    }
}

impl fmt::Display for Tenant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.key())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scope::UserRef;

    #[test]
    fn tenants_never_share_a_subject() {
        let tenants = [
            Tenant::Client("42".into()),
            Tenant::Client("public:zap".into()),
            Tenant::Issuer(Realm::new(Product::Kgen, "https://id.example")),
            Tenant::Issuer(Realm::new(Product::Bridgekeeper, "https://id.example")),
            Tenant::Public(Product::Zap),
            Tenant::Public(Product::Bridgekeeper),
        ];
        let subjects: std::collections::HashSet<String> =
            tenants.iter().map(|tenant| tenant.subject("+919876543210")).collect();
        assert_eq!(subjects.len(), tenants.len());
        // An issuer spelled to look like another tenant's subject is still its own.
        let spelled = Tenant::Issuer(Realm::new(Product::Kgen, "x:+919876543210"));
        let plain = Tenant::Issuer(Realm::new(Product::Kgen, "x"));
        assert_ne!(spelled.subject("a"), plain.subject("+919876543210:a"));
        let user = Scope::User(UserRef::new(Product::Kgen, "x", "u"));
        assert_ne!(plain.user_subject(&user), plain.subject("+919876543210"));
        assert_eq!(Tenant::Client("c".into()).client(), Some("c"));
        assert_eq!(Tenant::Public(Product::Zap).client(), None);
    }
}
