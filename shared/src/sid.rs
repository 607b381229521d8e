//! Twilio's forms of this service's ids. Twilio's SDKs check an account SID (`AC` and 32
//! hex digits) and a Service SID (`VA` and 32 hex digits) before they send anything, so a
//! client's id and a configuration's uid, both UUIDs, have a SID form too: the same 128
//! bits, so nothing is stored twice and no read maps one to the other. Either form is
//! taken wherever the id is; within the service every id is its UUID.

use std::borrow::Cow;

/// An account SID: an API client.
pub const ACCOUNT: &str = "AC";
/// A Service SID: an OTP configuration.
pub const SERVICE: &str = "VA";
/// An API key's SID: one of a client's keys (see [`crate::callers::authenticate_basic`]).
pub const KEY: &str = "SK";

/// `prefix` and the UUID's 32 hex digits, when `id` is a UUID as the service issues them
/// (lower-case, hyphenated); None for any other id (one an operator chose).
pub fn of(prefix: &str, id: &str) -> Option<String> {
    let uuid = uuid::Uuid::try_parse(id).ok()?;
    (uuid.hyphenated().to_string() == id).then(|| format!("{prefix}{}", uuid.simple()))
}

/// The UUID a SID of `prefix` stands for: `prefix` and exactly 32 lower-case hex digits,
/// as Twilio writes them.
pub fn uuid_of(prefix: &str, sid: &str) -> Option<String> {
    if !is_sid(prefix, sid) {
        return None;
    }
    Some(
        uuid::Uuid::try_parse(&sid[prefix.len()..])
            .ok()?
            .hyphenated()
            .to_string(),
    )
}

/// Whether `given` is a SID of `prefix` as Twilio writes them: `prefix` and exactly 32
/// lower-case hex digits.
pub fn is_sid(prefix: &str, given: &str) -> bool {
    given
        .strip_prefix(prefix)
        .is_some_and(|digits| digits.len() == 32 && digits.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

/// An id as the service keeps it: a SID of `prefix` as its UUID, anything else as given.
pub fn canonical<'a>(prefix: &str, given: &'a str) -> Cow<'a, str> {
    match uuid_of(prefix, given) {
        Some(uuid) => Cow::Owned(uuid),
        None => Cow::Borrowed(given),
    }
}

/// An id as Twilio's resources show it: its SID of `prefix` when it has one.
pub fn shown<'a>(prefix: &str, id: &'a str) -> Cow<'a, str> {
    match of(prefix, id) {
        Some(sid) => Cow::Owned(sid),
        None => Cow::Borrowed(id),
    }
}

/// A client's id from either of its forms.
pub fn client_id(given: &str) -> Cow<'_, str> {
    canonical(ACCOUNT, given)
}

/// A configuration's uid from either of its forms.
pub fn config_uid(given: &str) -> Cow<'_, str> {
    canonical(SERVICE, given)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UUID: &str = "5a706684-851f-4a27-b0d1-284155d8f862";

    #[test]
    fn a_uuid_and_its_sid_are_one_id() {
        let sid = of(ACCOUNT, UUID).unwrap();
        assert_eq!(sid, "AC5a706684851f4a27b0d1284155d8f862");
        assert_eq!(uuid_of(ACCOUNT, &sid).as_deref(), Some(UUID));
        assert_eq!(client_id(&sid), UUID);
        assert_eq!(client_id(UUID), UUID);
        assert_eq!(shown(SERVICE, UUID), "VA5a706684851f4a27b0d1284155d8f862");
        assert_eq!(config_uid("VA5a706684851f4a27b0d1284155d8f862"), UUID);
    }

    #[test]
    fn a_sid_is_its_prefix_and_32_lower_case_hex_digits() {
        let key = "SK5a706684851f4a27b0d1284155d8f862";
        assert!(is_sid(KEY, key));
        assert!(!is_sid(KEY, &key.to_uppercase()));
        assert!(!is_sid(KEY, &key[..33]));
        assert!(!is_sid(ACCOUNT, key));
    }

    #[test]
    fn other_ids_keep_their_one_form() {
        assert_eq!(of(ACCOUNT, "local-demo-client"), None);
        assert_eq!(shown(ACCOUNT, "local-demo-client"), "local-demo-client");
        assert_eq!(
            of(ACCOUNT, &UUID.to_uppercase()),
            None,
            "not as the service issues them"
        );
        for not_a_sid in [
            "AC5A706684851F4A27B0D1284155D8F862",
            "AC5a706684851f4a27b0d1284155d8f86",
            "AC5a706684851f4a27b0d1284155d8f8622",
            "VA5a706684851f4a27b0d1284155d8f862",
            "AC5a706684-851f-4a27-b0d1-284155d8f862",
            "ACzz706684851f4a27b0d1284155d8f862",
        ] {
            assert_eq!(client_id(not_a_sid), not_a_sid, "{not_a_sid}");
        }
    }
}
