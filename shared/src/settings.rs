//! Configuration from the environment. Secrets arrive there from AWS Secrets Manager by
//! the template's dynamic references (resolved at deploy time), or from the shell locally.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::backend::{DEADLINE_RANGE_MS, Deadlines, REQUEST_DEADLINE_RANGE_MS};
use crate::callers::{JwtVerifier, MAX_TOKEN_NAME_BYTES, SessionRule};
use crate::code::CodeKeys;
use crate::cross_site::AllowedOrigins;
use crate::guard::{GuardAllow, GuardMode, GuardSettings};
use crate::messages::{DEFAULT_SENDER_NAME, Messages};
use crate::number_rules::{MESSAGING_KINDS, NumberKind, NumberRules};
use crate::policy::Policy;
use crate::spend::{
    DEFAULT_CALL_PER_MINUTE, DEFAULT_COUNTRY_HOURLY_PERCENT, DEFAULT_MONTHLY_USD, DEFAULT_PUBLIC_PERCENT,
    DEFAULT_TENANT_PERCENT, MONTHLY_USD, PERCENT, Prices, SpendSettings,
};

#[derive(Debug, Clone)]
pub struct Settings {
    pub table_name: String,
    pub keys: CodeKeys,
    pub jwt: JwtVerifier,
    pub policy: Policy,
    /// The phone numbers SMS and WhatsApp go to.
    pub numbers: NumberRules,
    /// The conversion guard against SMS pumping.
    pub guard: GuardSettings,
    /// The caps on SMS and WhatsApp spend.
    pub spend: SpendSettings,
    pub messages: Messages,
    /// The phone number (its id or ARN) or pool calls go out from; none: no calls.
    pub voice_origination: Option<String>,
    pub sms_sender_id: Option<String>,
    pub email_from: Option<String>,
    pub zap_requires_api_key: bool,
    /// Test destinations take their known code (the template's `AllowTestDestinations`).
    pub allow_test_destinations: bool,
    /// Counts and latencies go out as CloudWatch metrics (EMF lines on standard output).
    pub metrics: bool,
    /// The `Service` dimension of every metric: the stack's name.
    pub service_name: String,
    /// How long each call to DynamoDB, SNS or SESv2 may take, retries included.
    pub deadlines: Deadlines,
    pub bridgekeeper: BridgekeeperSettings,
}

/// Whose users Bridgekeeper serves, and which sites may use its session cookies.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BridgekeeperSettings {
    /// The issuers whose tokens are Bridgekeeper sessions, and whose users its anonymous
    /// sends look up (`BRIDGEKEEPER_ISSUERS`). None named: no session is accepted, and
    /// no destination belongs to a known user.
    pub issuers: Vec<String>,
    /// Origins besides the API's own host whose pages may send the session cookies.
    pub allowed_origins: AllowedOrigins,
}

/// How many issuers Bridgekeeper may serve: an anonymous send reads one registry entry
/// per issuer, in one batch.
pub const MAX_BRIDGEKEEPER_ISSUERS: usize = 10;

/// The spend cap's settings (`OTP_SPEND_*`, `OTP_SMS_PRICES`), apart: `otp-admin` reads
/// them too, to show the spend against the caps the functions apply.
pub fn spend_settings(lookup: impl Fn(&str) -> Option<String>) -> Result<SpendSettings, String> {
    let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
    let bounded = |name: &str, default: u64, range: std::ops::RangeInclusive<u64>| -> Result<u64, String> {
        let value = match get(name) {
            Some(text) => text
                .parse()
                .map_err(|_| format!("{name}={text} is not a whole number"))?,
            None => default,
        };
        match range.contains(&value) {
            true => Ok(value),
            false => Err(format!("{name}={value} is outside {}..={}", range.start(), range.end())),
        }
    };
    let percent = |name: &str, default: u64| bounded(name, default, PERCENT).map(|value| value as u8);
    Ok(SpendSettings {
        prices: Prices::parse(&get("OTP_SMS_PRICES").unwrap_or_default())
            .map_err(|error| format!("OTP_SMS_PRICES: {error}"))?,
        monthly_usd: bounded("OTP_SPEND_MONTHLY_USD", DEFAULT_MONTHLY_USD, MONTHLY_USD)?,
        tenant_percent: percent("OTP_SPEND_TENANT_PERCENT", DEFAULT_TENANT_PERCENT)?,
        public_percent: percent("OTP_SPEND_PUBLIC_PERCENT", DEFAULT_PUBLIC_PERCENT)?,
        country_hourly_percent: percent("OTP_SPEND_COUNTRY_HOURLY_PERCENT", DEFAULT_COUNTRY_HOURLY_PERCENT)?,
        call_per_minute: match get("OTP_VOICE_MAX_PRICE_PER_MINUTE") {
            Some(text) => crate::spend::usd(&text)
                // The API takes up to two whole dollars' digits and five decimals.
                .filter(|price| (1..100_000_000).contains(price) && price % 10 == 0)
                .ok_or_else(|| format!("OTP_VOICE_MAX_PRICE_PER_MINUTE={text} is not a price in US dollars"))?,
            None => DEFAULT_CALL_PER_MINUTE,
        },
    })
}

/// A comma-separated list, each entry trimmed, empty ones dropped, each once.
fn list(value: &str) -> Vec<String> {
    let mut entries: Vec<String> = Vec::new();
    for entry in value.split(',').map(str::trim).filter(|entry| !entry.is_empty()) {
        if !entries.iter().any(|seen| seen == entry) {
            entries.push(entry.to_owned());
        }
    }
    entries
}

impl Settings {
    /// What this configuration allows that an operator should know of at start: a
    /// Bridgekeeper issuer checked only by the shared `JWT_SECRET`, which every holder of
    /// that secret (another product's issuer) can sign sessions of.
    pub fn cautions(&self) -> Vec<String> {
        self.bridgekeeper
            .issuers
            .iter()
            .filter(|issuer| !self.jwt.pins(issuer))
            .map(|issuer| {
                format!(
                    "Bridgekeeper issuer {issuer} has no key of its own in JWT_KEYS: its sessions are checked with JWT_SECRET, \
                     which signs for any issuer"
                )
            })
            .collect()
    }

    pub fn from_env() -> Result<Self, String> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads every setting through `lookup`; blank values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let get = |name: &str| lookup(name).map(|v| v.trim().to_owned()).filter(|v| !v.is_empty());
        let required = |name: &str| get(name).ok_or_else(|| format!("{name} is required"));
        let number = |name: &str, default: u64| -> Result<u64, String> {
            match get(name) {
                Some(text) => text.parse().map_err(|_| format!("{name}={text} is not a whole number")),
                None => Ok(default),
            }
        };
        let defaults = Policy::default();
        let narrow = |name: &str, value: u64| -> Result<u32, String> {
            u32::try_from(value).map_err(|_| format!("{name}={value} is too large"))
        };
        let policy = Policy {
            code_length: u8::try_from(number("OTP_CODE_LENGTH", u64::from(defaults.code_length))?)
                .map_err(|_| "OTP_CODE_LENGTH is too large".to_owned())?,
            code_lifetime: Duration::from_secs(number("OTP_TTL_SECONDS", defaults.code_lifetime.as_secs())?),
            attempts_per_challenge: narrow(
                "OTP_MAX_ATTEMPTS",
                number("OTP_MAX_ATTEMPTS", u64::from(defaults.attempts_per_challenge))?,
            )?,
            send_cooldown: Duration::from_secs(number("OTP_SEND_COOLDOWN_SECONDS", defaults.send_cooldown.as_secs())?),
            sends_per_ten_minutes: narrow(
                "OTP_SENDS_PER_TEN_MINUTES",
                number("OTP_SENDS_PER_TEN_MINUTES", u64::from(defaults.sends_per_ten_minutes))?,
            )?,
            wrong_codes_per_hour: narrow(
                "OTP_WRONG_CODES_PER_HOUR",
                number("OTP_WRONG_CODES_PER_HOUR", u64::from(defaults.wrong_codes_per_hour))?,
            )?,
            sends_per_ip_per_hour: narrow(
                "OTP_SENDS_PER_IP_PER_HOUR",
                number("OTP_SENDS_PER_IP_PER_HOUR", u64::from(defaults.sends_per_ip_per_hour))?,
            )?,
            sends_per_client_per_hour: narrow(
                "OTP_SENDS_PER_CLIENT_PER_HOUR",
                number(
                    "OTP_SENDS_PER_CLIENT_PER_HOUR",
                    u64::from(defaults.sends_per_client_per_hour),
                )?,
            )?,
            sends_per_number_range_per_hour: narrow(
                "OTP_SENDS_PER_NUMBER_RANGE_PER_HOUR",
                number(
                    "OTP_SENDS_PER_NUMBER_RANGE_PER_HOUR",
                    u64::from(defaults.sends_per_number_range_per_hour),
                )?,
            )?,
            number_range_digits: u8::try_from(number(
                "OTP_NUMBER_RANGE_DIGITS",
                u64::from(defaults.number_range_digits),
            )?)
            .map_err(|_| "OTP_NUMBER_RANGE_DIGITS is too large".to_owned())?,
        };
        policy.validate()?;

        let countries = match get("SMS_ALLOWED_COUNTRIES") {
            None => None,
            Some(list) => {
                let regions: BTreeSet<String> = list
                    .split(',')
                    .map(|region| region.trim().to_ascii_uppercase())
                    .filter(|region| !region.is_empty())
                    .collect();
                if let Some(bad) = regions
                    .iter()
                    .find(|r| r.len() != 2 || !r.bytes().all(|b| b.is_ascii_uppercase()))
                {
                    return Err(format!("SMS_ALLOWED_COUNTRIES: {bad} is not an ISO 3166 alpha-2 code"));
                }
                Some(regions)
            }
        };
        let kinds = match get("SMS_NUMBER_TYPES") {
            None => MESSAGING_KINDS.into(),
            Some(list) => list
                .split(',')
                .map(str::trim)
                .filter(|name| !name.is_empty())
                .map(|name| {
                    NumberKind::parse(name).ok_or_else(|| format!("SMS_NUMBER_TYPES: {name} is no number type"))
                })
                .collect::<Result<BTreeSet<_>, _>>()?,
        };
        let numbers = NumberRules::new(countries, kinds).map_err(|error| format!("SMS_NUMBER_TYPES: {error}"))?;
        let defaults = GuardSettings::default();
        let mode = |name: &str, default: GuardMode| match get(name) {
            None => Ok(default),
            Some(value) => {
                GuardMode::parse(&value).ok_or_else(|| format!("{name}: {value} is not off, monitor or enforce"))
            }
        };
        let guard = GuardSettings {
            public: mode("OTP_GUARD_PUBLIC_MODE", defaults.public)?,
            others: mode("OTP_GUARD_MODE", defaults.others)?,
            tenants: GuardSettings::parse_tenant_modes(&get("OTP_GUARD_TENANT_MODES").unwrap_or_default())
                .map_err(|error| format!("OTP_GUARD_TENANT_MODES: {error}"))?,
            allow: GuardAllow::parse(&get("OTP_GUARD_ALLOW").unwrap_or_default())
                .map_err(|error| format!("OTP_GUARD_ALLOW: {error}"))?,
            thresholds: defaults.thresholds,
        };
        let spend = spend_settings(&lookup)?;
        // Unset or empty: the built-in texts, in the language each message is written in.
        let sms_template = get("OTP_SMS_TEMPLATE");
        if sms_template
            .as_ref()
            .is_some_and(|template| !template.contains("{code}"))
        {
            return Err("OTP_SMS_TEMPLATE must contain {code}".to_owned());
        }

        let deadline = |name: &str, default: Duration, range: std::ops::RangeInclusive<u64>| {
            let millis = number(name, u64::try_from(default.as_millis()).unwrap_or(u64::MAX))?;
            if !range.contains(&millis) {
                return Err(format!(
                    "{name}={millis} is outside {}..={} milliseconds",
                    range.start(),
                    range.end()
                ));
            }
            Ok(Duration::from_millis(millis))
        };
        let default_deadlines = Deadlines::default();
        let deadlines = Deadlines {
            store: deadline("OTP_STORE_DEADLINE_MS", default_deadlines.store, DEADLINE_RANGE_MS)?,
            delivery: deadline(
                "OTP_DELIVERY_DEADLINE_MS",
                default_deadlines.delivery,
                DEADLINE_RANGE_MS,
            )?,
            request: deadline(
                "OTP_REQUEST_DEADLINE_MS",
                default_deadlines.request,
                REQUEST_DEADLINE_RANGE_MS,
            )?,
        };
        deadlines.validate()?;

        let zap_requires_api_key = match get("ZAP_REQUIRE_API_KEY").as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => return Err(format!("ZAP_REQUIRE_API_KEY={other}: use true or false")),
        };
        let allow_test_destinations = match get("OTP_ALLOW_TEST_DESTINATIONS").as_deref() {
            None | Some("false") => false,
            Some("true") => true,
            Some(other) => return Err(format!("OTP_ALLOW_TEST_DESTINATIONS={other}: use true or false")),
        };
        let metrics = match get("OTP_METRICS").as_deref() {
            None | Some("true") => true,
            Some("false") => false,
            Some(other) => return Err(format!("OTP_METRICS={other}: use true or false")),
        };
        let email_from = get("EMAIL_FROM");
        if let Some(from) = &email_from
            && crate::destination::Destination::email(from).is_err()
        {
            return Err(format!("EMAIL_FROM={from} is not an email address"));
        }

        let bridgekeeper_issuers = list(&get("BRIDGEKEEPER_ISSUERS").unwrap_or_default());
        if bridgekeeper_issuers.len() > MAX_BRIDGEKEEPER_ISSUERS {
            return Err(format!(
                "BRIDGEKEEPER_ISSUERS: at most {MAX_BRIDGEKEEPER_ISSUERS} issuers"
            ));
        }
        if let Some(long) = bridgekeeper_issuers
            .iter()
            .find(|issuer| issuer.len() > MAX_TOKEN_NAME_BYTES)
        {
            return Err(format!(
                "BRIDGEKEEPER_ISSUERS: {long} is over {MAX_TOKEN_NAME_BYTES} bytes, which no token may carry"
            ));
        }
        let bridgekeeper = BridgekeeperSettings {
            issuers: bridgekeeper_issuers,
            allowed_origins: AllowedOrigins::parse(&get("BRIDGEKEEPER_ALLOWED_ORIGINS").unwrap_or_default())?,
        };
        let defaults = SessionRule::default();
        let session_rule = SessionRule {
            claim: get("JWT_SESSION_CLAIM").unwrap_or(defaults.claim),
            full_values: match get("JWT_FULL_SESSION_VALUES") {
                Some(values) => list(&values),
                None => defaults.full_values,
            },
        };
        if session_rule.full_values.is_empty() {
            return Err("JWT_FULL_SESSION_VALUES names no value: no token could be a full session".to_owned());
        }

        Ok(Self {
            table_name: required("TABLE_NAME")?,
            keys: CodeKeys::parse(&required("OTP_HMAC_KEYS")?).map_err(|error| error.to_string())?,
            jwt: JwtVerifier::new(
                get("JWT_SECRET").as_deref(),
                get("JWT_KEYS").as_deref(),
                get("JWT_AUDIENCE").as_deref(),
            )?
            .with_session_rule(session_rule),
            policy,
            numbers,
            guard,
            spend,
            messages: Messages {
                sms_template,
                email_subject: get("OTP_EMAIL_SUBJECT"),
                sender_name: get("OTP_SENDER_NAME").unwrap_or_else(|| DEFAULT_SENDER_NAME.to_owned()),
            },
            sms_sender_id: get("SMS_SENDER_ID"),
            voice_origination: get("OTP_VOICE_ORIGINATION_IDENTITY"),
            email_from,
            zap_requires_api_key,
            allow_test_destinations,
            metrics,
            service_name: get("OTP_SERVICE_NAME").unwrap_or_else(|| "otp-service".to_owned()),
            deadlines,
            bridgekeeper,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn settings(pairs: &[(&str, &str)]) -> Result<Settings, String> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Settings::from_lookup(|name| map.get(name).cloned())
    }

    const BASE: [(&str, &str); 3] = [
        ("TABLE_NAME", "otp"),
        ("OTP_HMAC_KEYS", "0123456789abcdef0123456789abcdef"),
        ("JWT_SECRET", "a-shared-secret-of-thirty-two-bytes"),
    ];

    #[test]
    fn defaults_apply_and_bounds_hold() {
        let defaults = settings(&BASE).unwrap();
        assert_eq!(defaults.policy, Policy::default());
        assert_eq!(defaults.numbers, NumberRules::default());
        assert!(
            !defaults.allow_test_destinations,
            "test destinations are off by default"
        );
        let mut pairs = BASE.to_vec();
        pairs.push(("OTP_ALLOW_TEST_DESTINATIONS", "yes"));
        assert!(settings(&pairs).unwrap_err().contains("OTP_ALLOW_TEST_DESTINATIONS"));
        let mut pairs = BASE.to_vec();
        pairs.push(("OTP_MAX_ATTEMPTS", "20"));
        assert!(settings(&pairs).unwrap_err().contains("OTP_MAX_ATTEMPTS"));
        let mut pairs = BASE.to_vec();
        pairs.push(("SMS_ALLOWED_COUNTRIES", "in, us"));
        let narrowed = settings(&pairs).unwrap();
        assert_eq!(narrowed.numbers.countries, Some(["IN".into(), "US".into()].into()));
    }

    #[test]
    fn the_guard_is_enforced_for_the_public_and_watches_the_others() {
        let defaults = settings(&BASE).unwrap().guard;
        assert_eq!(
            (defaults.public, defaults.others),
            (GuardMode::Enforce, GuardMode::Monitor)
        );
        let mut pairs = BASE.to_vec();
        pairs.extend([
            ("OTP_GUARD_MODE", "enforce"),
            ("OTP_GUARD_PUBLIC_MODE", "off"),
            ("OTP_GUARD_TENANT_MODES", "client:abc=monitor"),
            ("OTP_GUARD_ALLOW", "+4479,GB"),
        ]);
        let guard = settings(&pairs).unwrap().guard;
        assert_eq!((guard.public, guard.others), (GuardMode::Off, GuardMode::Enforce));
        assert_eq!(guard.tenants.get("client:abc"), Some(&GuardMode::Monitor));
        assert_eq!(guard.allow.countries, ["GB".to_owned()].into());
        for (name, bad) in [
            ("OTP_GUARD_MODE", "strict"),
            ("OTP_GUARD_PUBLIC_MODE", "on"),
            ("OTP_GUARD_TENANT_MODES", "client:abc"),
            ("OTP_GUARD_ALLOW", "+44x"),
        ] {
            let mut pairs = BASE.to_vec();
            pairs.push((name, bad));
            assert!(settings(&pairs).unwrap_err().starts_with(name), "{name}={bad}");
        }
    }

    #[test]
    fn number_types_may_only_narrow() {
        let mut pairs = BASE.to_vec();
        pairs.push(("SMS_NUMBER_TYPES", " mobile "));
        assert_eq!(settings(&pairs).unwrap().numbers.kinds, [NumberKind::Mobile].into());
        for refused in ["mobile,premium_rate", "fixed_line", "landline", ","] {
            let mut pairs = BASE.to_vec();
            pairs.push(("SMS_NUMBER_TYPES", refused));
            let error = settings(&pairs).unwrap_err();
            assert!(error.starts_with("SMS_NUMBER_TYPES"), "{refused}: {error}");
        }
    }

    #[test]
    fn deadlines_stay_within_the_function_timeout() {
        assert_eq!(settings(&BASE).unwrap().deadlines, Deadlines::default());
        let mut pairs = BASE.to_vec();
        pairs.extend([("OTP_STORE_DEADLINE_MS", "300"), ("OTP_DELIVERY_DEADLINE_MS", "600")]);
        let short = settings(&pairs).unwrap().deadlines;
        assert_eq!(
            (short.store, short.delivery),
            (Duration::from_millis(300), Duration::from_millis(600))
        );
        let mut pairs = BASE.to_vec();
        pairs.push(("OTP_STORE_DEADLINE_MS", "20"));
        assert!(settings(&pairs).unwrap_err().contains("OTP_STORE_DEADLINE_MS"));
        let mut pairs = BASE.to_vec();
        pairs.extend([("OTP_STORE_DEADLINE_MS", "2000"), ("OTP_DELIVERY_DEADLINE_MS", "3500")]);
        assert!(settings(&pairs).unwrap_err().contains("a slow send would be cut short"));
    }

    #[test]
    fn bridgekeeper_names_its_issuers_and_origins() {
        let defaults = settings(&BASE).unwrap();
        assert_eq!(
            defaults.bridgekeeper,
            BridgekeeperSettings::default(),
            "none by default"
        );
        let mut pairs = BASE.to_vec();
        pairs.extend([
            (
                "BRIDGEKEEPER_ISSUERS",
                "https://id.example, issuer-b,https://id.example",
            ),
            ("BRIDGEKEEPER_ALLOWED_ORIGINS", "https://app.example.com"),
        ]);
        let configured = settings(&pairs).unwrap();
        assert_eq!(configured.cautions().len(), 2, "both issuers ride on JWT_SECRET");
        let named = configured.bridgekeeper;
        assert_eq!(named.issuers, ["https://id.example", "issuer-b"]);
        let elsewhere = crate::cross_site::Reached::default();
        assert!(
            named
                .allowed_origins
                .admit(Some("https://app.example.com"), None, &elsewhere)
        );
        let mut pairs = BASE.to_vec();
        pairs.push(("BRIDGEKEEPER_ALLOWED_ORIGINS", "app.example.com"));
        assert!(settings(&pairs).unwrap_err().contains("BRIDGEKEEPER_ALLOWED_ORIGINS"));
        let many = (0..11).map(|i| format!("issuer-{i}")).collect::<Vec<_>>().join(",");
        let mut pairs = BASE.to_vec();
        pairs.push(("BRIDGEKEEPER_ISSUERS", &many));
        assert!(settings(&pairs).unwrap_err().contains("at most 10"));
    }

    #[test]
    fn the_session_claim_and_its_full_values_are_the_deployments() {
        assert_eq!(settings(&BASE).unwrap().jwt.session_rule(), &SessionRule::default());
        let mut pairs = BASE.to_vec();
        pairs.extend([("JWT_SESSION_CLAIM", "mfa"), ("JWT_FULL_SESSION_VALUES", "passed")]);
        assert_eq!(
            settings(&pairs).unwrap().jwt.session_rule(),
            &SessionRule {
                claim: "mfa".into(),
                full_values: vec!["passed".into()]
            }
        );
        let mut pairs = BASE.to_vec();
        pairs.push(("JWT_FULL_SESSION_VALUES", " , "));
        assert!(settings(&pairs).unwrap_err().contains("JWT_FULL_SESSION_VALUES"));
        let mut pairs = BASE.to_vec();
        pairs[2] = ("JWT_SECRET", "short");
        assert!(settings(&pairs).unwrap_err().contains("JWT_SECRET"));
    }

    #[test]
    fn secrets_are_required() {
        assert!(settings(&BASE[..2]).unwrap_err().contains("JWT"));
        assert!(settings(&[BASE[0], BASE[2]]).unwrap_err().contains("OTP_HMAC_KEYS"));
        assert!(settings(&BASE[1..]).unwrap_err().contains("TABLE_NAME"));
    }

    /// A row of the configuration's table: the variable and its default cell.
    fn documented_rows() -> Vec<(String, String)> {
        let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/configuration.md"))
            .expect("docs/configuration.md");
        docs.lines()
            .filter(|line| line.starts_with("| `"))
            .map(|line| {
                let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
                let name = cells[0].split('`').nth(1).expect("a variable in backticks");
                (name.to_owned(), cells[cells.len() - 1].to_owned())
            })
            .collect()
    }

    /// `default (min to max[; ...])` as numbers, and whether the range is all that bounds it.
    fn numeric(cell: &str) -> Option<(u64, u64, u64, bool)> {
        let (default, range) = cell.split_once(" (")?;
        let range = range.strip_suffix(')')?;
        let (range, plain) = match range.split_once(';') {
            Some((range, _)) => (range, false),
            None => (range, true),
        };
        let (min, max) = range.split_once(" to ")?;
        Some((default.parse().ok()?, min.parse().ok()?, max.parse().ok()?, plain))
    }

    /// The template's parameters (`Default`, `MinValue`, `MaxValue`) by the environment
    /// variable each one sets.
    fn template_parameters() -> HashMap<String, HashMap<String, String>> {
        let template =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml")).expect("template.yaml");
        let mut parameters: HashMap<String, HashMap<String, String>> = HashMap::new();
        let mut section = "";
        let mut current = String::new();
        let mut by_variable = HashMap::new();
        for line in template.lines() {
            if !line.starts_with(' ') && line.ends_with(':') {
                section = line.trim_end_matches(':');
            } else if section == "Parameters" && line.starts_with("  ") && !line.starts_with("   ") {
                current = line.trim().trim_end_matches(':').to_owned();
            } else if section == "Parameters" && line.starts_with("    ") && !line.starts_with("     ") {
                if let Some((key, value)) = line.trim().split_once(": ") {
                    let value = value.trim_matches('"').to_owned();
                    parameters
                        .entry(current.clone())
                        .or_default()
                        .insert(key.to_owned(), value);
                }
            } else if let Some((variable, parameter)) = line.trim().split_once(": !Ref ")
                && variable.bytes().all(|byte| byte.is_ascii_uppercase() || byte == b'_')
            {
                // An environment variable (API Gateway's own properties are CamelCase).
                by_variable.insert(variable.to_owned(), parameter.to_owned());
            }
        }
        by_variable
            .into_iter()
            .filter_map(|(variable, parameter)| Some((variable, parameters.get(&parameter)?.clone())))
            .collect()
    }

    /// The configuration's table (docs/configuration.md) is the one place its names,
    /// defaults and ranges are written: each number's documented range is what the
    /// functions accept and its default what they take when it is unset; the template's
    /// parameters say the same, and every variable the template sets is documented.
    #[test]
    fn the_documented_configuration_is_what_the_functions_and_the_template_take() {
        let rows = documented_rows();
        assert!(rows.len() >= 30, "{rows:?}");
        // The widest request deadline, so that each other deadline's bounds are its own.
        let base: Vec<(&str, &str)> = BASE
            .iter()
            .copied()
            .chain([("OTP_REQUEST_DEADLINE_MS", "890000")])
            .collect();
        let template = template_parameters();
        let mut numbers = 0;
        for (name, cell) in &rows {
            let in_template = template.get(name);
            if let Some((default, min, max, plain)) = numeric(cell) {
                numbers += 1;
                let with = |value: u64| {
                    let value = value.to_string();
                    let mut pairs = base.clone();
                    pairs.retain(|(key, _)| key != name);
                    pairs.push((name.as_str(), value.as_str()));
                    settings(&pairs).map(|settings| format!("{settings:?}"))
                };
                let mut unset = base.clone();
                unset.retain(|(key, _)| key != name);
                let unset = format!("{:?}", settings(&unset).expect("the defaults"));
                assert_eq!(with(default).as_ref(), Ok(&unset), "{name}: the documented default");
                if plain {
                    assert!(
                        with(min).is_ok() && with(max).is_ok(),
                        "{name}: {min} and {max} accepted"
                    );
                    for outside in [min - 1, max + 1] {
                        let refused = with(outside).expect_err(&format!("{name}={outside} refused"));
                        assert!(refused.contains(name), "{name}: {refused}");
                    }
                }
                if let Some(parameter) = in_template {
                    let expected = [("Default", default), ("MinValue", min), ("MaxValue", max)];
                    for (key, value) in expected {
                        assert_eq!(
                            parameter.get(key),
                            Some(&value.to_string()),
                            "{name}'s parameter: {key}"
                        );
                    }
                }
            } else if let (Some(parameter), Some(default)) = (in_template, cell.strip_prefix('`')) {
                let default = default.strip_suffix('`').expect("a default in backticks");
                assert_eq!(parameter.get("Default").map(String::as_str), Some(default), "{name}");
            }
        }
        assert!(numbers >= 12, "{numbers} numeric rows");
        for variable in template.keys() {
            assert!(
                rows.iter().any(|(name, _)| name == variable),
                "{variable} is set by the template but not documented"
            );
        }
    }
}
