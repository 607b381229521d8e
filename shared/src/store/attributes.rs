//! The table's items as this store writes them: their type, their keys, the name of
//! every attribute (each written here once, whatever expression or item uses it), and
//! the attribute values every port reads and writes.

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;

use crate::destination::Destination;
use crate::scope::{Product, Realm, Scope, UserRef, escape};

pub(super) type Item = HashMap<String, AttributeValue>;

/// The table's partition key and TTL attribute names.
pub(super) const PK: &str = "pk";
pub(super) const TTL: &str = "ttl";

pub(super) fn s(value: impl Into<String>) -> AttributeValue {
    AttributeValue::S(value.into())
}

pub(super) fn n(value: impl ToString) -> AttributeValue {
    AttributeValue::N(value.to_string())
}

pub(super) fn b(value: &[u8]) -> AttributeValue {
    AttributeValue::B(value.to_vec().into())
}

pub(super) fn get_s<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name).and_then(|v| v.as_s().ok()).map(String::as_str)
}

pub(super) fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    item.get(name).and_then(|v| v.as_n().ok()).and_then(|v| v.parse().ok())
}

pub(super) fn get_b<'a>(item: &'a Item, name: &str) -> Option<&'a [u8]> {
    item.get(name).and_then(|v| v.as_b().ok()).map(|blob| blob.as_ref())
}

pub(super) fn challenge_pk(scope: &Scope, destination: &Destination) -> String {
    format!("CHALLENGE#{}#{}", scope.key(), destination.key())
}

pub(super) fn challenge_id_pk(id: &str) -> String {
    format!("CHALLENGE_ID#{}", escape(id))
}

pub(super) fn config_pk(uid: &str) -> String {
    format!("CONFIG#{}", escape(uid))
}

/// A destination's entry in one realm's registry. The realm's key always holds a `:`,
/// which no destination's does: no entry of a realm can be read as another's, nor as an
/// entry written before realms (`CONTACT#<destination>`, which `otp-admin user migrate`
/// moves).
pub(super) fn contact_pk(realm: &Realm, destination: &Destination) -> String {
    format!("CONTACT#{}#{}", realm.key(), destination.key())
}

/// A user's record: `USER#<product>:<issuer>:<id>` (two `:`; one before realms).
pub(super) fn user_pk(user: &UserRef) -> String {
    format!("USER#{}", user.key())
}

pub(super) fn client_pk(id: &str) -> String {
    format!("CLIENT#{}", escape(id))
}

/// A destination as written by this store (already validated when it was written).
pub(super) fn stored_destination(value: &str) -> Destination {
    if value.starts_with('+') {
        Destination::Phone(value.to_owned())
    } else {
        Destination::Email(value.to_owned())
    }
}

/// The attributes that name a user on a contact item and a user item.
pub(super) const PRODUCT: &str = "product";
pub(super) const ISSUER: &str = "issuer";
pub(super) const USER_ID: &str = "user_id";

/// The user an item names; None for an item written before realms (it has no product).
pub(super) fn user_from(item: &Item) -> Option<UserRef> {
    Some(UserRef::new(
        Product::parse(get_s(item, PRODUCT)?)?,
        get_s(item, ISSUER)?,
        get_s(item, USER_ID)?,
    ))
}

/// Each configuration of a client is an attribute of its item, named by this prefix and
/// the configuration's uid, holding when it was made.
pub(super) const SERVICE_ATTRIBUTE_PREFIX: &str = "service#";

/// The attributes of what the Services resource says of a configuration.
pub(super) const FRIENDLY_NAME: &str = "friendly_name";
pub(super) const KEPT: &str = "kept";
/// When a challenge or a configuration was made, and when a configuration last changed.
pub(super) const CREATED_AT: &str = "created_at";
pub(super) const UPDATED_AT: &str = "updated_at";

// A challenge: its id and KGen's handle, where it stands, its live code's seal (the code
// of a test destination is sealed to that destination: `code_for`), and its times.
pub(super) const ID: &str = "id";
pub(super) const AUTH_CODE: &str = "auth_code";
pub(super) const STATE: &str = "state";
pub(super) const ATTEMPTS: &str = "attempts";
pub(super) const EXPIRES_AT: &str = "expires_at";
pub(super) const CODE_LENGTH: &str = "code_length";
pub(super) const CODE_TAG: &str = "code_tag";
pub(super) const CODE_KEY: &str = "code_key";
pub(super) const CODE_FOR: &str = "code_for";
pub(super) const SENT_AT: &str = "sent_at";
pub(super) const USED_AT: &str = "used_at";
pub(super) const CANCELED_AT: &str = "canceled_at";
/// The channel a challenge's latest code went by; a configuration's default channel.
pub(super) const CHANNEL: &str = "channel";
/// A challenge's latest delivered message, by its attempt's id.
pub(super) const ATTEMPT: &str = "attempt";

// An attempt (`ATTEMPT#<id>`): whose send it was, under which configuration, of which
// challenge, to where, whether its code was verified and what it is estimated to cost
// (with `CHANNEL`, `CREATED_AT`, `UPDATED_AT`); the index of a tenant's days.
pub(super) const TENANT: &str = "tenant";
pub(super) const SERVICE: &str = "service";
pub(super) const CHALLENGE_ID: &str = "challenge_id";
pub(super) const TO: &str = "to";
pub(super) const COUNTRY: &str = "country";
pub(super) const CONVERTED: &str = "converted";
pub(super) const PRICE: &str = "price";
/// The partition key of the attempts' index: `<tenant>#<UTC day>`, sorted by `created_at`.
pub(super) const ATTEMPTS_DAY: &str = "attempts_day";
/// The index itself.
pub(super) const ATTEMPTS_INDEX: &str = "attempts_by_day";

// A challenge id's pointer: the scope and destination of its challenge. A test
// destination names its destination too, as given.
pub(super) const SCOPE: &str = "scope";
pub(super) const DESTINATION: &str = "destination";
pub(super) const ADDED_AT: &str = "added_at";

// A client: its name, the hashes of its secret and API key, what it may call, its own
// limits, whether it is shut out; its Twilio API keys (`key#<sid>`, each a map of `NAME`,
// `SECRET_HASH` and `CREATED`) and their count, and the count of its services.
pub(super) const NAME: &str = "name";
pub(super) const SECRET_HASH: &str = "secret_hash";
pub(super) const API_KEY_HASH: &str = "api_key_hash";
pub(super) const PERMISSIONS: &str = "permissions";
pub(super) const SENDS_PER_HOUR: &str = "sends_per_hour";
pub(super) const SENDS_PER_NUMBER_RANGE_PER_HOUR: &str = "sends_per_number_range_per_hour";
pub(super) const DISABLED: &str = "disabled";
pub(super) const CREATED: &str = "created";
/// How many API keys a client's item holds: counted in the same write that adds or
/// removes one, so the cap holds however many operators add keys at once.
pub(super) const API_KEY_COUNT: &str = "api_key_count";
/// How many configurations a client's index holds, counted in the write that adds one.
pub(super) const SERVICE_COUNT: &str = "service_count";

// An OTP configuration: its client, its code profile, and how it sends by its default
// channel (and by each other channel, in `channel#<name>` maps of the same names).
pub(super) const CLIENT_ID: &str = "client_id";
pub(super) const LIFETIME: &str = "lifetime";
pub(super) const TEMPLATE: &str = "template";
pub(super) const SENDER: &str = "sender";
pub(super) const WA_PHONE_NUMBER_ID: &str = "wa_phone_number_id";
pub(super) const WA_TEMPLATE: &str = "wa_template";
pub(super) const WA_LANGUAGE: &str = "wa_language";
pub(super) const WA_FALLBACK_SMS: &str = "wa_fallback_sms";
/// A configuration's languages: a map of its language, its texts and WhatsApp languages
/// by locale, and its autofill (absent: the built-in behaviour).
pub(super) const LOCALIZATION: &str = "localization";
pub(super) const L10N_LANGUAGE: &str = "language";
pub(super) const L10N_TEMPLATES: &str = "templates";
pub(super) const L10N_WA_LANGUAGES: &str = "wa_languages";
pub(super) const L10N_WEB_DOMAIN: &str = "web_domain";
pub(super) const L10N_APP_HASH: &str = "app_hash";

// The registry: a contact's owner (`USER_KEY`, with `PRODUCT`, `ISSUER`, `USER_ID`), the
// address as that user gave it and when it was linked; a user's phone and email.
pub(super) const USER_KEY: &str = "user_key";
pub(super) const ADDRESS: &str = "address";
pub(super) const LINKED_AT: &str = "linked_at";
pub(super) const PHONE: &str = "phone";
pub(super) const EMAIL: &str = "email";

/// A counter's count in its window (`COUNT#...`).
pub(super) const COUNT: &str = "n";

/// The conversion guard's item: sends and verified sends of a day (`s<day>`, `v<day>`,
/// the UTC day's number) and of an hour (`hs<hour>`, `hv<hour>`), and its cool-off.
pub(super) const GUARD_DAY_SENT_PREFIX: &str = "s";
pub(super) const GUARD_DAY_VERIFIED_PREFIX: &str = "v";
pub(super) const GUARD_HOUR_SENT_PREFIX: &str = "hs";
pub(super) const GUARD_HOUR_VERIFIED_PREFIX: &str = "hv";
pub(super) const BLOCKED_UNTIL: &str = "blocked_until";
pub(super) const BLOCKS: &str = "blocks";
/// A spend counter's total, in millionths of a US dollar (`SPEND#...`).
pub(super) const SPENT: &str = "spent";
/// A sliding budget's admissions, newest first: `n0`, `n1`, ... (`SLIDE#...`).
pub(super) const SLOT_PREFIX: &str = "n";

#[cfg(test)]
mod tests {
    /// The attributes' names as this file declares them.
    fn names() -> Vec<(String, String)> {
        include_str!("attributes.rs")
            .lines()
            .filter_map(|line| {
                let rest = line.strip_prefix("pub(super) const ")?;
                let (name, value) = rest.split_once(": &str = \"")?;
                Some((name.to_owned(), value.strip_suffix("\";")?.to_owned()))
            })
            .collect()
    }

    /// The string literals of a source file outside its comments and tests.
    fn literals(source: &str) -> Vec<String> {
        let code = source.split("#[cfg(test)]").next().unwrap_or_default();
        let mut found = Vec::new();
        for line in code.lines().filter(|line| !line.trim_start().starts_with("//")) {
            let mut parts = line.split('"');
            parts.next();
            while let (Some(literal), Some(_)) = (parts.next(), Some(())) {
                found.push(literal.to_owned());
                if parts.next().is_none() {
                    break;
                }
            }
        }
        found
    }

    #[test]
    fn every_attribute_is_named_here_alone() {
        let names = names();
        assert!(names.len() > 40, "{names:?}");
        let files = [
            ("admin.rs", include_str!("admin.rs")),
            ("attempts.rs", include_str!("attempts.rs")),
            ("budgets.rs", include_str!("budgets.rs")),
            ("challenges.rs", include_str!("challenges.rs")),
            ("guard.rs", include_str!("guard.rs")),
            ("items.rs", include_str!("items.rs")),
            ("migration.rs", include_str!("migration.rs")),
            ("reads.rs", include_str!("reads.rs")),
            ("registry.rs", include_str!("registry.rs")),
            ("services.rs", include_str!("services.rs")),
            ("spend.rs", include_str!("spend.rs")),
            ("table.rs", include_str!("table.rs")),
            ("test_destinations.rs", include_str!("test_destinations.rs")),
            ("users.rs", include_str!("users.rs")),
        ];
        for (file, source) in files {
            for literal in literals(source) {
                let exact = names.iter().find(|(_, value)| *value == literal);
                assert!(exact.is_none(), "{file}: \"{literal}\" is {exact:?}, named again");
                let expression = [":", "=", "<", ">", "attribute_", "SET ", "ADD ", "REMOVE "]
                    .iter()
                    .any(|mark| literal.contains(mark));
                if !expression {
                    continue;
                }
                // Expressions name attributes through placeholders (`{STATE}`, `#state`):
                // a bare word of an expression that is an attribute's name is one named twice.
                // Words inside `{...}` are the format's own (a constant, a variable).
                let mut outside = String::new();
                let mut depth = 0;
                for c in literal.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' => depth -= 1,
                        _ if depth == 0 => outside.push(c),
                        _ => {}
                    }
                }
                let words = outside.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '#' || c == ':'));
                for word in words.filter(|word| !word.is_empty()) {
                    let named_again = names.iter().find(|(_, value)| value == word);
                    assert!(
                        named_again.is_none(),
                        "{file}: \"{literal}\" names {named_again:?} again"
                    );
                }
            }
        }
    }
}
