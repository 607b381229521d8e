//! One-time codes: drawn uniformly from the OS-seeded CSPRNG, kept at rest only as
//! HMAC-SHA256 over the challenge id and the code under a server-side key, and checked in
//! constant time. A `Code` never prints its digits.

use std::fmt;

use aws_lc_rs::{digest, hmac};
use rand::RngExt;

use crate::digits::is_digits;

/// The digits of a code. Only delivery and sealing read them.
#[derive(Clone, PartialEq, Eq)]
pub struct Code(String);

impl Code {
    /// `length` digits, each uniform over 0..=9. `rand::rng()` is a ChaCha CSPRNG seeded
    /// from the operating system, and `random_range` samples without modulo bias.
    pub fn generate(length: u8) -> Self {
        let mut rng = rand::rng();
        let digits = (0..length)
            .map(|_| char::from(b'0' + rng.random_range(0..10u8)))
            .collect();
        Self(digits)
    }

    /// A code as the user typed it: digits only, at most `length` of them. Digits lost to a
    /// JSON number (leading zeros) are restored by `from_number`, not here.
    pub fn from_text(text: &str, length: u8) -> Option<Self> {
        let ok = is_digits(text) && text.len() <= usize::from(length);
        ok.then(|| Self(text.to_owned()))
    }

    /// A code that arrived as a JSON number: left-padded with zeros to `length`.
    pub fn from_number(number: u64, length: u8) -> Option<Self> {
        let text = format!("{number:0width$}", width = usize::from(length));
        (text.len() <= usize::from(length)).then_some(Self(text))
    }

    /// A stand-in that marks where the code goes when a template is laid out (for HTML).
    pub(crate) fn marker() -> Self {
        Self("\u{0}".to_owned())
    }

    /// The digits, for the message that delivers them.
    pub fn reveal(&self) -> &str {
        &self.0
    }
}

/// A code as a request submitted it. A JSON number has lost its leading zeros, which only
/// the challenge it is compared with can restore: a configuration chooses 6 to 10 digits,
/// so the deployment's length is not the challenge's.
#[derive(Clone, PartialEq, Eq)]
pub enum Submitted {
    /// Digits as typed.
    Typed(Code),
    /// A number: left-padded with zeros to the length of the challenge it is compared with.
    Number(u64),
}

impl Submitted {
    /// The code to compare with a challenge of `length` digits; None for a number of more
    /// digits than that (a wrong code).
    pub fn for_length(&self, length: u8) -> Option<Code> {
        match self {
            Self::Typed(code) => Some(code.clone()),
            Self::Number(number) => Code::from_number(*number, length),
        }
    }
}

impl From<Code> for Submitted {
    fn from(code: Code) -> Self {
        Self::Typed(code)
    }
}

impl fmt::Debug for Submitted {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Submitted(<redacted>)")
    }
}

impl fmt::Debug for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Code(<redacted>)")
    }
}

/// What is stored of a code: which key sealed it, and the tag.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedCode {
    pub key_id: String,
    pub tag: Vec<u8>,
    /// What the code is sealed to when it is not its challenge's id: a test destination
    /// (its known code verifies on any challenge of that destination).
    pub bound_to: Option<String>,
}

impl fmt::Debug for SealedCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedCode")
            .field("key_id", &self.key_id)
            // What it is bound to names a destination: only whether it is bound shows.
            .field("bound", &self.bound_to.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("OTP_HMAC_KEYS is empty: give at least one key")]
    Empty,
    #[error("OTP_HMAC_KEYS key {0} is shorter than 32 bytes")]
    TooShort(usize),
}

/// The HMAC keys, newest first: the newest seals, every one verifies, so keys rotate
/// without invalidating codes already sent.
#[derive(Clone)]
pub struct CodeKeys {
    keys: Vec<(String, hmac::Key)>,
}

impl fmt::Debug for CodeKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ids: Vec<&str> = self.keys.iter().map(|(id, _)| id.as_str()).collect();
        f.debug_struct("CodeKeys").field("ids", &ids).finish()
    }
}

/// Keys shorter than the HMAC-SHA256 output would weaken it.
const MIN_KEY_BYTES: usize = 32;

impl CodeKeys {
    /// Comma-separated secrets, newest first.
    pub fn parse(list: &str) -> Result<Self, KeyError> {
        let secrets: Vec<&str> = list.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        if secrets.is_empty() {
            return Err(KeyError::Empty);
        }
        let mut keys = Vec::with_capacity(secrets.len());
        for (position, secret) in secrets.into_iter().enumerate() {
            if secret.len() < MIN_KEY_BYTES {
                return Err(KeyError::TooShort(position + 1));
            }
            // The id names the key in each stored item without revealing it.
            let fingerprint = digest::digest(&digest::SHA256, secret.as_bytes());
            let id: String = fingerprint.as_ref()[..6].iter().map(|b| format!("{b:02x}")).collect();
            keys.push((id, hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes())));
        }
        Ok(Self { keys })
    }

    fn message(challenge_id: &str, code: &Code) -> Vec<u8> {
        // The id has a fixed shape without NUL, so the separator keeps the pair unambiguous.
        let mut message = Vec::with_capacity(challenge_id.len() + 1 + code.0.len());
        message.extend_from_slice(challenge_id.as_bytes());
        message.push(0);
        message.extend_from_slice(code.0.as_bytes());
        message
    }

    /// Seals under the newest key.
    pub fn seal(&self, challenge_id: &str, code: &Code) -> SealedCode {
        let (id, key) = &self.keys[0];
        let tag = hmac::sign(key, &Self::message(challenge_id, code));
        SealedCode {
            key_id: id.clone(),
            tag: tag.as_ref().to_vec(),
            bound_to: None,
        }
    }

    /// Whether the key `key_id` is still one of these (a seal under a retired key verifies
    /// nothing).
    pub fn knows(&self, key_id: &str) -> bool {
        self.keys.iter().any(|(id, _)| id == key_id)
    }

    /// The message of a tag over `parts` for `purpose`: each part ends in a NUL, which no
    /// part contains, so distinct parts never read alike.
    fn tagged(purpose: &str, parts: &[&str]) -> Vec<u8> {
        let mut message = Vec::new();
        for part in std::iter::once(purpose).chain(parts.iter().copied()) {
            message.extend_from_slice(part.as_bytes());
            message.push(0);
        }
        message
    }

    /// A tag over `parts` under the newest key, for a value the service hands out and
    /// must know again as its own (a page token): 32 hex digits (128 bits).
    pub fn tag(&self, purpose: &str, parts: &[&str]) -> String {
        let (_, key) = &self.keys[0];
        let tag = hmac::sign(key, &Self::tagged(purpose, parts));
        tag.as_ref()[..16].iter().map(|byte| format!("{byte:02x}")).collect()
    }

    /// Whether `tag` is `tag(purpose, parts)` under any of the keys; constant time.
    pub fn knows_tag(&self, purpose: &str, parts: &[&str], tag: &str) -> bool {
        let message = Self::tagged(purpose, parts);
        self.keys.iter().any(|(_, key)| {
            let expected: String = hmac::sign(key, &message).as_ref()[..16]
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect();
            aws_lc_rs::constant_time::verify_slices_are_equal(expected.as_bytes(), tag.as_bytes()).is_ok()
        })
    }

    /// Whether `code` is the one sealed for `challenge_id` (or for what the seal is bound
    /// to instead); constant time in the tag.
    pub fn matches(&self, challenge_id: &str, code: &Code, sealed: &SealedCode) -> bool {
        let sealed_to = sealed.bound_to.as_deref().unwrap_or(challenge_id);
        self.keys
            .iter()
            .find(|(id, _)| *id == sealed.key_id)
            .is_some_and(|(_, key)| hmac::verify(key, &Self::message(sealed_to, code), &sealed.tag).is_ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY_A: &str = "0123456789abcdef0123456789abcdef-a";
    const KEY_B: &str = "0123456789abcdef0123456789abcdef-b";

    #[test]
    fn generated_codes_have_the_length_and_only_digits() {
        for length in 6..=10 {
            let code = Code::generate(length);
            assert_eq!(code.reveal().len(), usize::from(length));
            assert!(code.reveal().bytes().all(|b| b.is_ascii_digit()));
        }
    }

    #[test]
    fn digits_are_uniform() {
        // 60,000 digits: each of ten should be near 6,000; a modulo bias or a stuck
        // generator moves at least one far outside ±8 %.
        let mut counts = [0u32; 10];
        for _ in 0..10_000 {
            for b in Code::generate(6).reveal().bytes() {
                counts[usize::from(b - b'0')] += 1;
            }
        }
        for (digit, count) in counts.iter().enumerate() {
            assert!((5_520..=6_480).contains(count), "digit {digit} drawn {count} times");
        }
    }

    #[test]
    fn codes_do_not_print() {
        let code = Code::from_text("123456", 6).unwrap();
        assert!(!format!("{code:?}").contains("123456"));
    }

    #[test]
    fn numbers_regain_their_leading_zeros() {
        assert_eq!(Code::from_number(12345, 6).unwrap().reveal(), "012345");
        assert_eq!(Code::from_number(0, 6).unwrap().reveal(), "000000");
        assert_eq!(Code::from_number(1_000_000, 6), None);
        assert_eq!(Code::from_text("1234567", 6), None);
        assert_eq!(Code::from_text("12a456", 6), None);
        assert_eq!(Code::from_text("", 6), None);
        assert_eq!(Code::from_text("-12345", 6), None);
    }

    #[test]
    fn a_sealed_code_matches_only_its_challenge_and_digits() {
        let keys = CodeKeys::parse(KEY_A).unwrap();
        let code = Code::from_text("123456", 6).unwrap();
        let sealed = keys.seal("challenge-1", &code);
        assert_eq!(sealed.tag.len(), 32);
        assert!(keys.matches("challenge-1", &code, &sealed));
        assert!(!keys.matches("challenge-2", &code, &sealed));
        assert!(!keys.matches("challenge-1", &Code::from_text("123457", 6).unwrap(), &sealed));
        // A keyless hash of the same input is not what is stored.
        let plain = digest::digest(&digest::SHA256, b"challenge-1\x00123456");
        assert_ne!(plain.as_ref(), sealed.tag.as_slice());
    }

    #[test]
    fn keys_rotate_newest_seals_all_verify() {
        let old = CodeKeys::parse(KEY_A).unwrap();
        let code = Code::generate(6);
        let sealed_before = old.seal("c", &code);
        let rotated = CodeKeys::parse(&format!("{KEY_B},{KEY_A}")).unwrap();
        assert!(rotated.matches("c", &code, &sealed_before));
        let sealed_after = rotated.seal("c", &code);
        assert_ne!(sealed_after.key_id, sealed_before.key_id);
        assert!(!old.matches("c", &code, &sealed_after));
        // A retired key verifies nothing.
        let retired = CodeKeys::parse(KEY_B).unwrap();
        assert!(!retired.matches("c", &code, &sealed_before));
    }

    #[test]
    fn weak_key_lists_are_refused() {
        assert_eq!(CodeKeys::parse(" , ").unwrap_err(), KeyError::Empty);
        assert_eq!(
            CodeKeys::parse(&format!("{KEY_A},short")).unwrap_err(),
            KeyError::TooShort(2)
        );
    }

    #[test]
    fn tags_name_their_parts_and_survive_rotation() {
        let keys = CodeKeys::parse(KEY_A).unwrap();
        let tag = keys.tag("page", &["client-1", "42"]);
        assert_eq!(tag.len(), 32);
        assert!(keys.knows_tag("page", &["client-1", "42"], &tag));
        assert!(!keys.knows_tag("page", &["client-2", "42"], &tag), "another client's");
        assert!(
            !keys.knows_tag("page", &["client-1", "4", "2"], &tag),
            "parts do not run together"
        );
        assert!(!keys.knows_tag("other", &["client-1", "42"], &tag), "another purpose's");
        let rotated = CodeKeys::parse(&format!("{KEY_B},{KEY_A}")).unwrap();
        assert!(rotated.knows_tag("page", &["client-1", "42"], &tag));
        assert!(
            !CodeKeys::parse(KEY_B)
                .unwrap()
                .knows_tag("page", &["client-1", "42"], &tag)
        );
    }
}
