//! Who is calling: users by JWT (keys per issuer, algorithm pinned by the key) and API
//! clients by id and secret (only a hash of the secret is stored, compared in constant time).

use std::collections::HashMap;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, VerificationAlgorithm,
};
use aws_lc_rs::{constant_time, digest};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::error::OtpError;
use crate::ports::{ClientRecord, ClientRegistry, Permission};
use crate::scope::UserRef;

/// Seconds of clock skew tolerated on `exp` between the issuer and this service.
const JWT_LEEWAY_SECONDS: u64 = 30;

#[derive(Clone)]
struct PinnedKey {
    algorithm: Algorithm,
    key: DecodingKey,
}

/// The keys JWTs are checked with: per issuer, or one issuer-agnostic shared secret.
#[derive(Clone, Default)]
pub struct JwtVerifier {
    issuers: HashMap<String, PinnedKey>,
    any_issuer: Option<PinnedKey>,
    audience: Option<String>,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuers", &self.issuers.keys().collect::<Vec<_>>())
            .field("any_issuer", &self.any_issuer.is_some())
            .field("audience", &self.audience)
            .finish()
    }
}

/// One issuer's entry in `JWT_KEYS`.
#[derive(Deserialize)]
#[serde(tag = "alg")]
enum IssuerKey {
    HS256 { secret: String },
    RS256 { pem: String },
    ES256 { pem: String },
}

#[derive(Deserialize)]
struct UnverifiedClaims {
    iss: Option<String>,
}

#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    user_id: Option<serde_json::Value>,
}

impl JwtVerifier {
    /// `shared_secret`: `JWT_SECRET`, an HS256 key for every issuer. `issuer_keys`:
    /// `JWT_KEYS`, a JSON object from issuer to `{"alg": "HS256", "secret": ...}`,
    /// `{"alg": "RS256", "pem": ...}` or `{"alg": "ES256", "pem": ...}`.
    pub fn new(shared_secret: Option<&str>, issuer_keys: Option<&str>, audience: Option<&str>) -> Result<Self, String> {
        let mut verifier = Self {
            audience: audience.map(str::to_owned),
            ..Self::default()
        };
        if let Some(secret) = shared_secret {
            verifier.any_issuer = Some(PinnedKey {
                algorithm: Algorithm::HS256,
                key: DecodingKey::from_secret(secret.as_bytes()),
            });
        }
        if let Some(json) = issuer_keys {
            let entries: HashMap<String, IssuerKey> =
                serde_json::from_str(json).map_err(|error| format!("JWT_KEYS is not valid: {error}"))?;
            for (issuer, entry) in entries {
                let pinned = match entry {
                    IssuerKey::HS256 { secret } => PinnedKey {
                        algorithm: Algorithm::HS256,
                        key: DecodingKey::from_secret(secret.as_bytes()),
                    },
                    IssuerKey::RS256 { pem } => PinnedKey {
                        algorithm: Algorithm::RS256,
                        key: DecodingKey::from_rsa_der(
                            &public_key_der(&pem, &RSA_PKCS1_2048_8192_SHA256, &["PUBLIC KEY", "RSA PUBLIC KEY"])
                                .map_err(|error| format!("JWT_KEYS: RS256 key of {issuer}: {error}"))?,
                        ),
                    },
                    IssuerKey::ES256 { pem } => PinnedKey {
                        algorithm: Algorithm::ES256,
                        key: DecodingKey::from_ec_der(
                            &public_key_der(&pem, &ECDSA_P256_SHA256_FIXED, &["PUBLIC KEY"])
                                .map_err(|error| format!("JWT_KEYS: ES256 key of {issuer}: {error}"))?,
                        ),
                    },
                };
                verifier.issuers.insert(issuer, pinned);
            }
        }
        if verifier.any_issuer.is_none() && verifier.issuers.is_empty() {
            return Err("set JWT_SECRET or JWT_KEYS: no key would verify user tokens".to_owned());
        }
        Ok(verifier)
    }

    /// The user a token speaks for, after checking its signature with the key of its
    /// issuer (only that key's algorithm is accepted), its expiry and, when configured,
    /// its audience. Every failure is the same `Unauthorized`.
    pub fn verify(&self, token: &str) -> Result<UserRef, OtpError> {
        let unverified: UnverifiedClaims =
            jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|_| OtpError::Unauthorized)?;
        let issuer_key = unverified.iss.as_deref().and_then(|iss| self.issuers.get(iss));
        let (pinned, required_issuer) = match (issuer_key, &self.any_issuer) {
            (Some(pinned), _) => (pinned, unverified.iss.as_deref()),
            (None, Some(shared)) => (shared, None),
            (None, None) => return Err(OtpError::Unauthorized),
        };
        let mut validation = Validation::new(pinned.algorithm);
        validation.algorithms = vec![pinned.algorithm];
        validation.leeway = JWT_LEEWAY_SECONDS;
        validation.set_required_spec_claims(&["exp"]);
        if let Some(issuer) = required_issuer {
            validation.set_issuer(&[issuer]);
        }
        match &self.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        let claims = jsonwebtoken::decode::<Claims>(token, &pinned.key, &validation)
            .map_err(|error| {
                tracing::info!(reason = %error.kind_name(), "token refused");
                OtpError::Unauthorized
            })?
            .claims;
        let user_id = match claims.user_id {
            Some(serde_json::Value::String(id)) if !id.is_empty() => Some(id),
            Some(serde_json::Value::Number(id)) => Some(id.to_string()),
            _ => claims.sub.filter(|sub| !sub.is_empty()),
        }
        .ok_or(OtpError::Unauthorized)?;
        Ok(UserRef::new(claims.iss.unwrap_or_default(), user_id))
    }
}

/// A public key's DER from its PEM text, checked against the algorithm it is pinned to:
/// a key of another type or curve, or an RSA key under 2,048 bits, is refused here, when
/// the function starts, rather than token by token. The DER (an X.509
/// `SubjectPublicKeyInfo`, or PKCS#1 for `RSA PUBLIC KEY`) is what aws-lc-rs verifies with.
fn public_key_der(
    text: &str,
    algorithm: &'static dyn VerificationAlgorithm,
    labels: &[&str],
) -> Result<Vec<u8>, String> {
    let block = pem::parse(text).map_err(|error| format!("not PEM: {error}"))?;
    if !labels.contains(&block.tag()) {
        return Err(format!(
            "a PEM block labelled {}, not {}",
            block.tag(),
            labels.join(" or ")
        ));
    }
    ParsedPublicKey::new(algorithm, block.contents()).map_err(|error| format!("not a key for it: {error}"))?;
    Ok(block.into_contents())
}

trait KindName {
    fn kind_name(&self) -> String;
}

impl KindName for jsonwebtoken::errors::Error {
    fn kind_name(&self) -> String {
        // The kind only: the token itself must not reach the log.
        format!("{:?}", self.kind())
    }
}

/// The stored form of a client secret: its SHA-256. Secrets are 256-bit random strings,
/// so a fast hash is enough (there is no dictionary to try).
pub fn hash_secret(secret: &str) -> Vec<u8> {
    digest::digest(&digest::SHA256, secret.as_bytes()).as_ref().to_vec()
}

/// A fresh secret: 32 bytes from the system CSPRNG, hex-encoded.
pub fn generate_secret() -> String {
    let mut bytes = [0u8; 32];
    aws_lc_rs::rand::fill(&mut bytes).expect("the system random source is available");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Checks a client's id and secret, and that it may call `permission`. An unknown id
/// costs the same hash and comparison as a known one, so timing does not tell which ids exist.
pub async fn authenticate_client<R: ClientRegistry>(
    registry: &R,
    id: Option<&str>,
    secret: Option<&str>,
    permission: Permission,
) -> Result<ClientRecord, OtpError> {
    let (Some(id), Some(secret)) = (id, secret) else {
        return Err(OtpError::Unauthorized);
    };
    let record = registry.client(id).await?;
    let stored = record.as_ref().map(|r| r.secret_hash.as_slice());
    admit(record.as_ref(), stored, secret, permission)?;
    Ok(record.expect("admitted records exist"))
}

/// Checks an API key (`<client id>.<secret>`, as `otp-admin client create` prints it) and
/// that its client may call `permission`.
pub async fn authenticate_api_key<R: ClientRegistry>(
    registry: &R,
    api_key: Option<&str>,
    permission: Permission,
) -> Result<ClientRecord, OtpError> {
    let (id, secret) = api_key
        .and_then(|key| key.trim().split_once('.'))
        .ok_or(OtpError::Unauthorized)?;
    let record = registry.client(id).await?;
    let stored = record.as_ref().and_then(|r| r.api_key_hash.as_deref());
    admit(record.as_ref(), stored, secret, permission)?;
    Ok(record.expect("admitted records exist"))
}

/// The client an API key claims to be (its part before the dot), not yet checked: what a
/// request's budgets are counted on beside the check, and given back if it fails.
pub fn claimed_client(api_key: Option<&str>) -> Option<&str> {
    api_key
        .and_then(|key| key.trim().split_once('.'))
        .map(|(id, _)| id)
        .filter(|id| is_plausible_client_id(id))
}

/// Longest client id the service issues or accepts (it issues UUIDs).
pub const MAX_CLIENT_ID_CHARS: usize = 128;

/// Whether `id` could be a client's: budgets are counted on a claimed id before it is
/// checked, so one that no client can have is refused at once.
pub fn is_plausible_client_id(id: &str) -> bool {
    !id.is_empty() && id.chars().count() <= MAX_CLIENT_ID_CHARS
}

/// The API key of a client: its id and a secret, joined by a dot.
pub fn api_key(client_id: &str, secret: &str) -> String {
    format!("{client_id}.{secret}")
}

fn admit(
    record: Option<&ClientRecord>,
    stored: Option<&[u8]>,
    presented: &str,
    permission: Permission,
) -> Result<(), OtpError> {
    let presented = hash_secret(presented);
    let unknown = vec![0u8; presented.len()];
    let equal = constant_time::verify_slices_are_equal(&presented, stored.unwrap_or(&unknown)).is_ok();
    match record {
        Some(record) if equal && stored.is_some() && record.disabled => {
            tracing::info!(client = %record.id, "client disabled");
            Err(OtpError::Unauthorized)
        }
        Some(record) if equal && stored.is_some() && record.permissions.contains(&permission) => Ok(()),
        Some(record) if equal && stored.is_some() => {
            tracing::info!(client = %record.id, permission = permission.name(), "client lacks the permission");
            Err(OtpError::Unauthorized)
        }
        _ => {
            tracing::info!("client credentials refused");
            Err(OtpError::Unauthorized)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    const SECRET: &str = "a-shared-secret-of-enough-length!";

    fn exp_in(seconds: i64) -> i64 {
        jsonwebtoken::get_current_timestamp() as i64 + seconds
    }

    fn hs256(secret: &str, claims: serde_json::Value) -> String {
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    }

    #[test]
    fn a_valid_token_names_its_user_within_its_issuer() {
        let verifier = JwtVerifier::new(Some(SECRET), None, None).unwrap();
        let token = hs256(
            SECRET,
            json!({"iss": "kgen", "sub": "s", "user_id": "u1", "exp": exp_in(60)}),
        );
        assert_eq!(verifier.verify(&token).unwrap(), UserRef::new("kgen", "u1"));
        let only_sub = hs256(SECRET, json!({"iss": "kgen", "sub": "s", "exp": exp_in(60)}));
        assert_eq!(verifier.verify(&only_sub).unwrap(), UserRef::new("kgen", "s"));
        let nobody = hs256(SECRET, json!({"iss": "kgen", "exp": exp_in(60)}));
        assert_eq!(verifier.verify(&nobody), Err(OtpError::Unauthorized));
    }

    #[test]
    fn expired_forged_unsigned_and_exp_less_tokens_are_refused() {
        let verifier = JwtVerifier::new(Some(SECRET), None, None).unwrap();
        let expired = hs256(SECRET, json!({"sub": "u", "exp": exp_in(-120)}));
        assert_eq!(verifier.verify(&expired), Err(OtpError::Unauthorized));
        let forged = hs256(
            "another-secret-another-secret-xx",
            json!({"sub": "u", "exp": exp_in(60)}),
        );
        assert_eq!(verifier.verify(&forged), Err(OtpError::Unauthorized));
        let no_exp = hs256(SECRET, json!({"sub": "u"}));
        assert_eq!(verifier.verify(&no_exp), Err(OtpError::Unauthorized));
        // alg "none": a header and claims with an empty signature.
        let none = format!(
            "{}.{}.",
            "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0", "eyJzdWIiOiJ1IiwiZXhwIjo0MTAyNDQ0ODAwfQ"
        );
        assert_eq!(verifier.verify(&none), Err(OtpError::Unauthorized));
        assert_eq!(verifier.verify("not a token"), Err(OtpError::Unauthorized));
    }

    #[test]
    fn issuers_keys_are_separate_and_pin_the_algorithm() {
        let keys = json!({"issuer-a": {"alg": "HS256", "secret": "secret-of-issuer-a-secret-of-iss"}}).to_string();
        let verifier = JwtVerifier::new(None, Some(&keys), Some("otp")).unwrap();
        let good = hs256(
            "secret-of-issuer-a-secret-of-iss",
            json!({"iss": "issuer-a", "sub": "u", "aud": "otp", "exp": exp_in(60)}),
        );
        assert_eq!(verifier.verify(&good).unwrap(), UserRef::new("issuer-a", "u"));
        // Signed with issuer a's key but claiming issuer b: no key for b.
        let other_issuer = hs256(
            "secret-of-issuer-a-secret-of-iss",
            json!({"iss": "issuer-b", "sub": "u", "aud": "otp", "exp": exp_in(60)}),
        );
        assert_eq!(verifier.verify(&other_issuer), Err(OtpError::Unauthorized));
        let wrong_audience = hs256(
            "secret-of-issuer-a-secret-of-iss",
            json!({"iss": "issuer-a", "sub": "u", "aud": "else", "exp": exp_in(60)}),
        );
        assert_eq!(verifier.verify(&wrong_audience), Err(OtpError::Unauthorized));
        let hs384 = encode(
            &Header::new(Algorithm::HS384),
            &json!({"iss": "issuer-a", "sub": "u", "aud": "otp", "exp": exp_in(60)}),
            &EncodingKey::from_secret(b"secret-of-issuer-a-secret-of-iss"),
        )
        .unwrap();
        assert_eq!(verifier.verify(&hs384), Err(OtpError::Unauthorized));
    }

    /// PEM armour for a DER document (standard base64, 64 columns).
    fn pem(label: &str, der: &[u8]) -> String {
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = encoded
            .as_bytes()
            .chunks(64)
            .map(|l| std::str::from_utf8(l).unwrap())
            .collect();
        format!("-----BEGIN {label}-----\n{}\n-----END {label}-----\n", lines.join("\n"))
    }

    #[test]
    fn public_keys_verify_and_cannot_be_used_as_hmac_secrets() {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};

        let pair = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let private = pair.to_pkcs8v1().unwrap();
        let public_der = pair.public_key().as_der().unwrap();
        let public_pem = pem("PUBLIC KEY", public_der.as_ref());
        let keys = json!({"https://id.example": {"alg": "ES256", "pem": public_pem}}).to_string();
        let verifier = JwtVerifier::new(None, Some(&keys), None).unwrap();

        let claims = json!({"iss": "https://id.example", "sub": "u-es", "exp": exp_in(60)});
        let signed = encode(
            &Header::new(Algorithm::ES256),
            &claims,
            &EncodingKey::from_ec_der(private.as_ref()),
        )
        .unwrap();
        assert_eq!(
            verifier.verify(&signed).unwrap(),
            UserRef::new("https://id.example", "u-es")
        );

        // Algorithm confusion: an HS256 token keyed with the public key's PEM text.
        let confused = hs256(&public_pem, claims);
        assert_eq!(verifier.verify(&confused), Err(OtpError::Unauthorized));
    }

    /// An RS256 token signed with `pair`, built by hand: the encoder wants a PKCS#1
    /// private key, which aws-lc-rs does not export.
    fn rs256(pair: &aws_lc_rs::signature::RsaKeyPair, claims: &serde_json::Value) -> String {
        use aws_lc_rs::rand::SystemRandom;
        use aws_lc_rs::signature::RSA_PKCS1_SHA256;
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let input = format!(
            "{}.{}",
            b64.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
            b64.encode(claims.to_string())
        );
        let mut signature = vec![0; pair.public_modulus_len()];
        pair.sign(
            &RSA_PKCS1_SHA256,
            &SystemRandom::new(),
            input.as_bytes(),
            &mut signature,
        )
        .unwrap();
        format!("{input}.{}", b64.encode(signature))
    }

    #[test]
    fn rsa_keys_verify_as_x509_or_pkcs1_pem() {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::rsa::KeySize;
        use aws_lc_rs::signature::{KeyPair, RsaKeyPair};

        let pair = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let x509 = pem("PUBLIC KEY", pair.public_key().as_der().unwrap().as_ref());
        let pkcs1 = pem("RSA PUBLIC KEY", pair.public_key().as_ref());
        let claims = json!({"iss": "https://rsa.example", "sub": "u-rs", "exp": exp_in(60)});
        let token = rs256(&pair, &claims);
        for public in [x509, pkcs1] {
            let keys = json!({"https://rsa.example": {"alg": "RS256", "pem": public}}).to_string();
            let verifier = JwtVerifier::new(None, Some(&keys), None).unwrap();
            assert_eq!(
                verifier.verify(&token).unwrap(),
                UserRef::new("https://rsa.example", "u-rs")
            );
        }
        // Another key pair's signature is refused.
        let other = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let keys = json!({"https://rsa.example": {"alg": "RS256", "pem": pem("PUBLIC KEY", other.public_key().as_der().unwrap().as_ref())}}).to_string();
        let verifier = JwtVerifier::new(None, Some(&keys), None).unwrap();
        assert_eq!(verifier.verify(&token), Err(OtpError::Unauthorized));
    }

    #[test]
    fn a_key_that_cannot_verify_its_algorithm_is_refused_at_start() {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::rsa::KeySize;
        use aws_lc_rs::signature::{
            ECDSA_P256_SHA256_FIXED_SIGNING, ECDSA_P384_SHA384_FIXED_SIGNING, EcdsaKeyPair, KeyPair, RsaKeyPair,
        };

        let p256 = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let p256 = pem("PUBLIC KEY", p256.public_key().as_der().unwrap().as_ref());
        let p384 = EcdsaKeyPair::generate(&ECDSA_P384_SHA384_FIXED_SIGNING).unwrap();
        let p384 = pem("PUBLIC KEY", p384.public_key().as_der().unwrap().as_ref());
        let rsa = RsaKeyPair::generate(KeySize::Rsa2048).unwrap();
        let rsa_x509 = pem("PUBLIC KEY", rsa.public_key().as_der().unwrap().as_ref());
        let rsa_pkcs1 = pem("RSA PUBLIC KEY", rsa.public_key().as_ref());
        let refused = |alg: &str, key: &str| {
            let keys = json!({"i": {"alg": alg, "pem": key}}).to_string();
            JwtVerifier::new(None, Some(&keys), None).unwrap_err()
        };
        // An EC key as RS256, an RSA key as ES256, a P-384 key as ES256.
        assert!(refused("RS256", &p256).contains("RS256 key of i"));
        assert!(refused("ES256", &rsa_x509).contains("ES256 key of i"));
        assert!(refused("ES256", &p384).contains("ES256 key of i"));
        // PKCS#1 is RSA's alone; a private key's label is no public key.
        assert!(refused("ES256", &rsa_pkcs1).contains("labelled RSA PUBLIC KEY"));
        assert!(refused("RS256", &rsa_pkcs1.replace("RSA PUBLIC KEY", "PRIVATE KEY")).contains("labelled PRIVATE KEY"));
    }

    #[test]
    fn configuration_needs_a_key() {
        assert!(JwtVerifier::new(None, None, None).is_err());
        assert!(JwtVerifier::new(None, Some("{not json"), None).is_err());
        assert!(JwtVerifier::new(None, Some(r#"{"i": {"alg": "RS256", "pem": "junk"}}"#), None).is_err());
    }

    #[test]
    fn secrets_are_random_and_hashed() {
        let a = generate_secret();
        assert_eq!(a.len(), 64);
        assert_ne!(a, generate_secret());
        assert_eq!(hash_secret(&a).len(), 32);
        assert_ne!(hash_secret(&a), a.as_bytes());
    }
}
