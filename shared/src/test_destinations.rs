//! Test destinations: a phone number or an address that always takes one known code, for
//! app-store reviewers and a customer's own CI. Nothing is delivered to one; its budgets
//! and attempts apply as to any destination. A deployment allows them only when its
//! operator opts in (`AllowTestDestinations`), and each belongs to one API client (or to
//! the requests that name none, such as Bridgekeeper's), until its expiry.
//!
//! The known code is kept like every other code: sealed under the code keys, never in
//! clear. A challenge opened for a test destination carries that seal, bound to the test
//! destination instead of to the challenge's id, so it verifies on whichever challenge the
//! destination has.

use crate::clock::UnixSeconds;
use crate::code::{Code, CodeKeys, SealedCode};
use crate::destination::Destination;
use crate::policy::CODE_LENGTH;
use crate::scope::escape;

/// Whose requests a test destination answers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum TestOwner {
    /// Requests authenticated as this API client.
    Client(String),
    /// Requests that name no API client: Bridgekeeper's, ZAP's without an API key, KGen's
    /// frontend surface (a user's JWT alone).
    Public,
}

impl TestOwner {
    /// The owner of a request that names `client` (unauthenticated until the request's
    /// credentials are checked, beside the lookup).
    pub fn of(client: Option<&str>) -> Self {
        client.map_or(Self::Public, |id| Self::Client(id.to_owned()))
    }

    fn key(&self) -> String {
        match self {
            Self::Client(id) => format!("client:{}", escape(id)),
            Self::Public => "public".to_owned(),
        }
    }
}

/// A test destination as stored: the seal of its code and when it stops applying.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestDestination {
    pub sealed: SealedCode,
    pub code_length: u8,
    pub expires_at: UnixSeconds,
}

impl TestDestination {
    /// The test destination of `owner` and `destination` taking `code` until `expires_at`.
    pub fn new(
        keys: &CodeKeys,
        owner: &TestOwner,
        destination: &Destination,
        code: &Code,
        expires_at: UnixSeconds,
    ) -> Self {
        let binding = binding(owner, destination);
        let mut sealed = keys.seal(&binding, code);
        sealed.bound_to = Some(binding);
        Self {
            sealed,
            code_length: code.reveal().len() as u8,
            expires_at,
        }
    }

    pub fn applies_at(&self, now: UnixSeconds) -> bool {
        now < self.expires_at
    }
}

/// The one string that names a test destination: its code is sealed to it, and the store
/// keys its item by it.
pub fn binding(owner: &TestOwner, destination: &Destination) -> String {
    format!("{}{}", bindings_of(owner), destination.key())
}

/// What every binding of `owner`'s test destinations starts with.
pub fn bindings_of(owner: &TestOwner) -> String {
    format!("TESTDEST#{}#", owner.key())
}

/// A known code an operator chose: digits only, as long as any code may be.
pub fn known_code(text: &str) -> Result<Code, String> {
    let digits = text.trim();
    match Code::from_text(digits, CODE_LENGTH.max as u8) {
        Some(code) if CODE_LENGTH.contains(digits.len() as u64) => Ok(code),
        _ => Err(format!(
            "a test code has {} to {} digits, nothing else",
            CODE_LENGTH.min, CODE_LENGTH.max
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "0123456789abcdef0123456789abcdef-t";

    #[test]
    fn a_test_code_verifies_on_any_challenge_of_its_destination_only() {
        let keys = CodeKeys::parse(KEY).unwrap();
        let phone = Destination::phone("+1", "2025550123").unwrap();
        let code = known_code("246810").unwrap();
        let owner = TestOwner::of(Some("ci"));
        let test = TestDestination::new(&keys, &owner, &phone, &code, 100);
        assert!(test.sealed.bound_to.is_some());
        assert!(keys.matches("any-challenge", &code, &test.sealed));
        assert!(keys.matches("another-challenge", &code, &test.sealed));
        assert!(!keys.matches("any-challenge", &known_code("246811").unwrap(), &test.sealed));
        // Another owner's, or another destination's, seal is another.
        let other_owner = TestDestination::new(&keys, &TestOwner::Public, &phone, &code, 100);
        assert_ne!(other_owner.sealed.tag, test.sealed.tag);
        assert_eq!(test.code_length, 6);
        assert!(test.applies_at(99));
        assert!(!test.applies_at(100));
    }

    #[test]
    fn owners_never_share_a_key() {
        let email = Destination::email("qa@example.com").unwrap();
        let keys = [
            binding(&TestOwner::Public, &email),
            binding(&TestOwner::Client("public".into()), &email),
            binding(&TestOwner::Client("a#b".into()), &email),
        ];
        assert_eq!(keys[0], "TESTDEST#public#qa@example.com");
        assert!(keys[1] != keys[0] && keys[2] != keys[1]);
        assert!(!keys[2].contains("a#b"));
    }

    #[test]
    fn known_codes_are_six_to_ten_digits() {
        assert!(known_code("123456").is_ok());
        assert!(known_code("1234567890").is_ok());
        for bad in ["12345", "12345678901", "12345a", "", "-12345"] {
            assert!(known_code(bad).is_err(), "{bad}");
        }
    }
}
