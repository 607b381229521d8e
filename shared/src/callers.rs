//! Who is calling: users by JWT (keys per issuer, algorithm pinned by the key) and API
//! clients by id and secret (only a hash of the secret is stored, compared in constant time).

use std::collections::HashMap;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, VerificationAlgorithm,
};
use aws_lc_rs::{constant_time, digest};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use serde_json::Value;

use crate::error::OtpError;
use crate::ports::{ClientRecord, ClientRegistry, Permission};
use crate::scope::{Product, UserRef};

/// Seconds of clock skew tolerated on `exp` and `nbf` between the issuer and this service.
const JWT_LEEWAY_SECONDS: u64 = 30;

/// Shortest HS256 key accepted: the hash's own output, 256 bits (RFC 7518, 3.2).
pub const MIN_HS256_KEY_BYTES: usize = 32;

/// Longest `iss`, and longest user id, in bytes, a token may carry: both become parts of
/// the table's keys, which DynamoDB caps at 2,048 bytes (escaped, each part is at most
/// three times as long).
pub const MAX_TOKEN_NAME_BYTES: usize = 256;

/// Which claim says that a token is a full session, and the values that say so
/// (`"tfa"` equal to `"done"`, second factor passed, or `"off"`, none required).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRule {
    pub claim: String,
    pub full_values: Vec<String>,
}

impl Default for SessionRule {
    fn default() -> Self {
        Self {
            claim: "tfa".to_owned(),
            full_values: vec!["done".to_owned(), "off".to_owned()],
        }
    }
}

/// Where a token says its bearer's sign-in stands, by the deployment's [`SessionRule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {
    /// The claim names a full session.
    Full,
    /// The claim is there and names anything else: a second factor is pending.
    Pending,
    /// The token carries no such claim.
    Unstated,
}

/// What a verified token says of its bearer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The token's `iss`; empty when it has none.
    pub issuer: String,
    /// `user_id`, else `sub`.
    pub user_id: String,
    pub session: Session,
}

impl Token {
    /// The bearer as a user of `product`: users of different products never collide.
    pub fn user(&self, product: Product) -> UserRef {
        UserRef::new(product, self.issuer.clone(), self.user_id.clone())
    }

    /// Whether a session cookie carrying this token is a full session: only when the
    /// token says so. Any other token, whichever cookie carries it, is a pending one.
    pub fn is_full_session(&self) -> bool {
        self.session == Session::Full
    }

    /// Whether a product without sessions may take the token: not when it says that its
    /// bearer's second factor is pending (it may not stand in for a signed-in user).
    pub fn is_settled(&self) -> bool {
        self.session != Session::Pending
    }
}

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
    session: SessionRule,
}

impl std::fmt::Debug for JwtVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtVerifier")
            .field("issuers", &self.issuers.keys().collect::<Vec<_>>())
            .field("any_issuer", &self.any_issuer.is_some())
            .field("audience", &self.audience)
            .field("session", &self.session)
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
            verifier.any_issuer = Some(hs256_key(secret).map_err(|error| format!("JWT_SECRET: {error}"))?);
        }
        if let Some(json) = issuer_keys {
            let entries: HashMap<String, IssuerKey> =
                serde_json::from_str(json).map_err(|error| format!("JWT_KEYS is not valid: {error}"))?;
            for (issuer, entry) in entries {
                if issuer.len() > MAX_TOKEN_NAME_BYTES {
                    return Err(format!(
                        "JWT_KEYS: an issuer of over {MAX_TOKEN_NAME_BYTES} bytes, which no token may carry"
                    ));
                }
                let pinned = match entry {
                    IssuerKey::HS256 { secret } => {
                        hs256_key(&secret).map_err(|error| format!("JWT_KEYS: HS256 key of {issuer}: {error}"))?
                    }
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

    /// Whether `issuer` has a key of its own in `JWT_KEYS` (not only the shared secret,
    /// which verifies a token of any issuer, so anyone holding it can sign as this one).
    pub fn pins(&self, issuer: &str) -> bool {
        self.issuers.contains_key(issuer)
    }

    /// How tokens say whether they are a full session.
    pub fn session_rule(&self) -> &SessionRule {
        &self.session
    }

    /// Tokens say whether they are a full session by `rule`.
    pub fn with_session_rule(mut self, rule: SessionRule) -> Self {
        self.session = rule;
        self
    }

    /// What a token says of its bearer, after checking its signature with the key of its
    /// issuer (only that key's algorithm is accepted), its expiry, its `nbf` and, when
    /// configured, its audience. Every failure is the same `Unauthorized`.
    pub fn verify(&self, token: &str) -> Result<Token, OtpError> {
        let unverified: UnverifiedClaims =
            jsonwebtoken::dangerous::insecure_decode_claims(token).map_err(|_| OtpError::Unauthorized)?;
        if unverified
            .iss
            .as_deref()
            .is_some_and(|iss| iss.len() > MAX_TOKEN_NAME_BYTES)
        {
            tracing::info!(reason = "overlong iss", "token refused");
            return Err(OtpError::Unauthorized);
        }
        let issuer_key = unverified.iss.as_deref().and_then(|iss| self.issuers.get(iss));
        let (pinned, required_issuer) = match (issuer_key, &self.any_issuer) {
            (Some(pinned), _) => (pinned, unverified.iss.as_deref()),
            (None, Some(shared)) => (shared, None),
            (None, None) => return Err(OtpError::Unauthorized),
        };
        let mut validation = Validation::new(pinned.algorithm);
        validation.algorithms = vec![pinned.algorithm];
        validation.leeway = JWT_LEEWAY_SECONDS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        if let Some(issuer) = required_issuer {
            validation.set_issuer(&[issuer]);
        }
        match &self.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        let mut claims = jsonwebtoken::decode::<serde_json::Map<String, Value>>(token, &pinned.key, &validation)
            .map_err(|error| {
                tracing::info!(reason = %error.kind_name(), "token refused");
                OtpError::Unauthorized
            })?
            .claims;
        let user_id = match claims.remove("user_id") {
            Some(Value::String(id)) if !id.is_empty() => Some(id),
            Some(Value::Number(id)) => Some(id.to_string()),
            _ => match claims.remove("sub") {
                Some(Value::String(sub)) if !sub.is_empty() => Some(sub),
                _ => None,
            },
        }
        .filter(|id| id.len() <= MAX_TOKEN_NAME_BYTES)
        .ok_or(OtpError::Unauthorized)?;
        let session = match claims.get(&self.session.claim) {
            None | Some(Value::Null) => Session::Unstated,
            Some(Value::String(value)) if self.session.full_values.contains(value) => Session::Full,
            Some(_) => Session::Pending,
        };
        let issuer = match claims.remove("iss") {
            Some(Value::String(iss)) => iss,
            _ => String::new(),
        };
        Ok(Token {
            issuer,
            user_id,
            session,
        })
    }
}

/// An HS256 key, refused when shorter than [`MIN_HS256_KEY_BYTES`]: a short shared secret
/// is guessed offline from any one token it signed.
fn hs256_key(secret: &str) -> Result<PinnedKey, String> {
    let length = secret.len();
    if length < MIN_HS256_KEY_BYTES {
        return Err(format!(
            "an HS256 key of {length} bytes; it needs at least {MIN_HS256_KEY_BYTES}"
        ));
    }
    Ok(PinnedKey {
        algorithm: Algorithm::HS256,
        key: DecodingKey::from_secret(secret.as_bytes()),
    })
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
    random_hex::<32>()
}

/// `BYTES` bytes from the system CSPRNG, hex-encoded.
fn random_hex<const BYTES: usize>() -> String {
    let mut bytes = [0u8; BYTES];
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
    let id = crate::sid::client_id(id);
    check_secret(
        registry,
        &id,
        secret,
        |record| Some(record.secret_hash.as_slice()),
        permission,
    )
    .await
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
    let id = crate::sid::client_id(id);
    check_secret(
        registry,
        &id,
        secret,
        |record| record.api_key_hash.as_deref(),
        permission,
    )
    .await
}

/// Checks HTTP Basic credentials, as Twilio's SDKs send them, and that their client may
/// call `permission`: an account SID (or client id) with its auth token (the client's
/// secret), or an API key's SID (`SK...`) with the key's secret.
///
/// A key's secret is `<client id>.<random>`, so the one read of the client's record that
/// checks an auth token checks a key too (the record holds its keys' hashes): no read maps
/// a key to its client, and a revoked key is refused by the next request. The whole secret
/// is what is hashed: a secret naming another client finds no such key there.
pub async fn authenticate_basic<R: ClientRegistry>(
    registry: &R,
    username: Option<&str>,
    password: Option<&str>,
    permission: Permission,
) -> Result<ClientRecord, OtpError> {
    let (Some(username), Some(password)) = (username, password) else {
        return Err(OtpError::Unauthorized);
    };
    if !crate::sid::is_sid(crate::sid::KEY, username) {
        return authenticate_client(registry, Some(username), Some(password), permission).await;
    }
    let client = key_client(password).ok_or(OtpError::Unauthorized)?;
    check_secret(
        registry,
        &client,
        password,
        |record| record.key(username).map(|key| key.secret_hash.as_slice()),
        permission,
    )
    .await
}

/// Reads client `id` and checks `presented` against the hash `stored` picks from its
/// record, and that the client may call `permission`.
async fn check_secret<R: ClientRegistry>(
    registry: &R,
    id: &str,
    presented: &str,
    stored: impl Fn(&ClientRecord) -> Option<&[u8]>,
    permission: Permission,
) -> Result<ClientRecord, OtpError> {
    let record = registry.client(id).await?;
    admit(record.as_ref(), record.as_ref().and_then(stored), presented, permission)?;
    Ok(record.expect("admitted records exist"))
}

/// The client HTTP Basic credentials claim to be, not yet checked: the account SID's
/// (or client id's), or for an API key the client its secret names.
pub fn claimed_by_basic(username: &str, password: &str) -> Option<String> {
    if crate::sid::is_sid(crate::sid::KEY, username) {
        key_client(password)
    } else {
        claimed_id(username)
    }
}

/// The client an API key's secret (`<client id>.<random>`) names.
fn key_client(secret: &str) -> Option<String> {
    secret.rsplit_once('.').and_then(|(client, _)| claimed_id(client))
}

/// The client id `given` (in either of its forms) claims, when a client could have it.
fn claimed_id(given: &str) -> Option<String> {
    Some(crate::sid::client_id(given).into_owned()).filter(|id| is_plausible_client_id(id))
}

/// A fresh API key of `client_id`: its SID (`SK` and 128 random bits), and its secret,
/// which names the client.
pub fn generate_key(client_id: &str) -> (String, String) {
    (
        format!("{}{}", crate::sid::KEY, random_hex::<16>()),
        api_key(client_id, &generate_secret()),
    )
}

/// The client an API key claims to be (its part before the dot, the client's id or its
/// account SID), not yet checked: what a request's budgets are counted on beside the
/// check, and given back if it fails.
pub fn claimed_client(api_key: Option<&str>) -> Option<String> {
    api_key
        .and_then(|key| key.trim().split_once('.'))
        .and_then(|(id, _)| claimed_id(id))
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
    fn fresh_key_sids_are_sids_secrets_name_the_client_and_both_differ() {
        let (one, one_secret) = generate_key("client-1");
        let (two, two_secret) = generate_key("client-1");
        assert!(crate::sid::is_sid(crate::sid::KEY, &one), "{one}");
        assert!(crate::sid::is_sid(crate::sid::KEY, &two), "{two}");
        assert_ne!((&one, &one_secret), (&two, &two_secret));
        assert_eq!(claimed_by_basic(&one, &one_secret).as_deref(), Some("client-1"));
    }

    #[test]
    fn a_valid_token_names_its_user_within_its_issuer() {
        let verifier = JwtVerifier::new(Some(SECRET), None, None).unwrap();
        let token = hs256(
            SECRET,
            json!({"iss": "kgen", "sub": "s", "user_id": "u1", "exp": exp_in(60)}),
        );
        assert_eq!(
            verifier.verify(&token).unwrap().user(Product::Kgen),
            UserRef::new(Product::Kgen, "kgen", "u1")
        );
        let only_sub = hs256(SECRET, json!({"iss": "kgen", "sub": "s", "exp": exp_in(60)}));
        assert_eq!(
            verifier.verify(&only_sub).unwrap().user(Product::Kgen),
            UserRef::new(Product::Kgen, "kgen", "s")
        );
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
        assert_eq!(
            verifier.verify(&good).unwrap().user(Product::Kgen),
            UserRef::new(Product::Kgen, "issuer-a", "u")
        );
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
            verifier.verify(&signed).unwrap().user(Product::Kgen),
            UserRef::new(Product::Kgen, "https://id.example", "u-es")
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
                verifier.verify(&token).unwrap().user(Product::Kgen),
                UserRef::new(Product::Kgen, "https://rsa.example", "u-rs")
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
    fn not_yet_valid_and_overlong_names_are_refused() {
        let verifier = JwtVerifier::new(Some(SECRET), None, None).unwrap();
        let early = hs256(SECRET, json!({"sub": "u", "nbf": exp_in(120), "exp": exp_in(600)}));
        assert_eq!(verifier.verify(&early), Err(OtpError::Unauthorized));
        let skewed = hs256(SECRET, json!({"sub": "u", "nbf": exp_in(10), "exp": exp_in(600)}));
        assert!(verifier.verify(&skewed).is_ok(), "within the leeway");
        let long_iss = hs256(SECRET, json!({"iss": "i".repeat(257), "sub": "u", "exp": exp_in(60)}));
        assert_eq!(verifier.verify(&long_iss), Err(OtpError::Unauthorized));
        let at_limit = hs256(SECRET, json!({"iss": "i".repeat(256), "sub": "u", "exp": exp_in(60)}));
        assert!(verifier.verify(&at_limit).is_ok());
        let long_id = hs256(SECRET, json!({"sub": "u".repeat(257), "exp": exp_in(60)}));
        assert_eq!(verifier.verify(&long_id), Err(OtpError::Unauthorized));
    }

    #[test]
    fn short_hs256_keys_stop_the_start_naming_the_issuer() {
        let error = JwtVerifier::new(Some("short"), None, None).unwrap_err();
        assert!(error.contains("JWT_SECRET") && error.contains("5 bytes"), "{error}");
        let keys = json!({"https://id.example": {"alg": "HS256", "secret": "x".repeat(31)}}).to_string();
        let error = JwtVerifier::new(None, Some(&keys), None).unwrap_err();
        assert!(error.contains("HS256 key of https://id.example"), "{error}");
        let keys = json!({"https://id.example": {"alg": "HS256", "secret": "x".repeat(32)}}).to_string();
        assert!(JwtVerifier::new(None, Some(&keys), None).is_ok());
        let keys = json!({"i".repeat(257): {"alg": "HS256", "secret": "x".repeat(32)}}).to_string();
        assert!(JwtVerifier::new(None, Some(&keys), None).is_err());
    }

    #[test]
    fn a_token_is_a_full_session_only_when_its_claim_says_so() {
        let verifier = JwtVerifier::new(Some(SECRET), None, None).unwrap();
        let session = |claims: serde_json::Value| verifier.verify(&hs256(SECRET, claims)).unwrap().session;
        let base = json!({"sub": "u", "exp": exp_in(60)});
        let with = |value: serde_json::Value| {
            let mut claims = base.clone();
            claims["tfa"] = value;
            claims
        };
        assert_eq!(session(with(json!("done"))), Session::Full);
        assert_eq!(session(with(json!("off"))), Session::Full);
        assert_eq!(session(with(json!("pending"))), Session::Pending);
        assert_eq!(session(with(json!("DONE"))), Session::Pending);
        assert_eq!(session(with(json!(true))), Session::Pending);
        assert_eq!(session(base.clone()), Session::Unstated);
        assert_eq!(session(with(serde_json::Value::Null)), Session::Unstated);

        let custom = JwtVerifier::new(Some(SECRET), None, None)
            .unwrap()
            .with_session_rule(SessionRule {
                claim: "amr_level".into(),
                full_values: vec!["2".into()],
            });
        let mut claims = base;
        claims["amr_level"] = json!("2");
        claims["tfa"] = json!("pending");
        assert_eq!(custom.verify(&hs256(SECRET, claims)).unwrap().session, Session::Full);
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
