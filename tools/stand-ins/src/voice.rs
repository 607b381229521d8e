//! The stand-in for AWS End User Messaging SMS and Voice's `SendVoiceMessage`.
//!
//! It checks each request as the service documents it: `POST /` with the JSON 1.0
//! protocol's target and content type, a SigV4 signature for `sms-voice`, a body of the
//! documented members only, each within its documented length, pattern or values (a
//! destination and an origination identity required, a body of at most 6,000 characters
//! of SSML or 3,000 of text, a voice the service has, a price per minute of up to two
//! whole dollars' digits and five decimals), and SSML that is well formed: one `<speak>`
//! root, tags closed in order, `say-as` naming how it reads, entities escaped. A request
//! that passes is recorded (with the words it would say) and answered `{"MessageId":
//! ...}`; one that does not gets the service's `ValidationException`. A number it is told
//! has opted out gets the service's `ConflictException`.

use std::collections::HashSet;

use hyper::http::request::Parts;
use hyper::{Method, StatusCode};
use serde_json::{Map, Value, json};

use crate::{Answer, Service, header, signed_json};

/// The operation's target header, as the JSON 1.0 protocol names it.
const TARGET: &str = "PinpointSMSVoiceV2.SendVoiceMessage";

/// The request's documented members.
const MEMBERS: [&str; 12] = [
    "ConfigurationSetName",
    "Context",
    "DestinationPhoneNumber",
    "DryRun",
    "MaxPricePerMinute",
    "MessageBody",
    "MessageBodyTextType",
    "MessageFeedbackEnabled",
    "OriginationIdentity",
    "ProtectConfigurationId",
    "TimeToLive",
    "VoiceId",
];

/// The service's voices.
const VOICES: [&str; 59] = [
    "AMY",
    "ASTRID",
    "BIANCA",
    "BRIAN",
    "CAMILA",
    "CARLA",
    "CARMEN",
    "CELINE",
    "CHANTAL",
    "CONCHITA",
    "CRISTIANO",
    "DORA",
    "EMMA",
    "ENRIQUE",
    "EWA",
    "FILIZ",
    "GERAINT",
    "GIORGIO",
    "GWYNETH",
    "HANS",
    "INES",
    "IVY",
    "JACEK",
    "JAN",
    "JOANNA",
    "JOEY",
    "JUSTIN",
    "KARL",
    "KENDRA",
    "KIMBERLY",
    "LEA",
    "LIV",
    "LOTTE",
    "LUCIA",
    "LUPE",
    "MADS",
    "MAJA",
    "MARLENE",
    "MATHIEU",
    "MATTHEW",
    "MAXIM",
    "MIA",
    "MIGUEL",
    "MIZUKI",
    "NAJA",
    "NICOLE",
    "PENELOPE",
    "RAVEENA",
    "RICARDO",
    "RUBEN",
    "RUSSELL",
    "SALLI",
    "SEOYEON",
    "TAKUMI",
    "TATYANA",
    "VICKI",
    "VITORIA",
    "ZEINA",
    "ZHIYU",
];

/// The SSML elements a voice message may carry (Amazon Polly's).
const SSML_ELEMENTS: [&str; 12] = [
    "speak", "break", "prosody", "say-as", "p", "s", "emphasis", "lang", "phoneme", "sub", "w", "mark",
];

/// A call the stand-in accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Accepted {
    pub message_id: String,
    /// The destination as the request names it (E.164).
    pub to: String,
    pub origination_identity: String,
    pub voice_id: String,
    pub body: String,
    /// What the call would say: the body without its tags, its entities read.
    pub spoken: String,
    pub max_price_per_minute: Option<String>,
    pub time_to_live: Option<i64>,
}

/// AWS End User Messaging SMS and Voice's voice messages.
#[derive(Debug)]
pub struct Voice;

impl Service for Voice {
    type Accepted = Accepted;
    /// The numbers that opted out.
    type Refused = HashSet<String>;

    fn check(parts: &Parts, body: &[u8]) -> Result<Accepted, String> {
        check(parts, body)
    }

    fn refusal(opted_out: &HashSet<String>, accepted: &Accepted) -> Option<Answer> {
        opted_out
            .contains(&accepted.to)
            .then(|| error("ConflictException", "The destination phone number has opted out"))
    }

    fn took(accepted: &Accepted) -> Answer {
        json_answer(StatusCode::OK, &json!({"MessageId": accepted.message_id}))
    }

    fn invalid(reason: &str) -> Answer {
        error("ValidationException", reason)
    }
}

/// The running voice stand-in (for `AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2`).
pub type StandIn = crate::StandIn<Voice>;

impl StandIn {
    /// The calls accepted to `to` (E.164), oldest first.
    pub fn accepted_for(&self, to: &str) -> Vec<Accepted> {
        self.accepted().into_iter().filter(|call| call.to == to).collect()
    }

    /// From now on, a call to `to` (E.164) is refused as the service refuses a number that
    /// opted out.
    pub fn opted_out(&self, to: &str) {
        self.refuse(|opted_out| {
            opted_out.insert(to.to_owned());
        });
    }
}

/// An answer as the JSON 1.0 protocol writes one.
fn json_answer(status: StatusCode, body: &Value) -> Answer {
    crate::json_answer(status, "application/x-amz-json-1.0", body)
}

/// An error as the JSON 1.0 protocol answers one.
fn error(kind: &str, message: &str) -> Answer {
    let reason = match kind {
        "ConflictException" => {
            json!({"__type": kind, "Message": message, "Reason": "DESTINATION_PHONE_NUMBER_OPTED_OUT"})
        }
        _ => json!({"__type": kind, "Message": message, "Reason": "OTHER"}),
    };
    json_answer(StatusCode::BAD_REQUEST, &reason)
}

/// The request as the service documents it, or why not.
fn check(parts: &Parts, body: &[u8]) -> Result<Accepted, String> {
    if parts.method != Method::POST || parts.uri.path() != "/" || header(parts, "x-amz-target") != TARGET {
        return Err(format!(
            "{} {} ({}) is not SendVoiceMessage",
            parts.method,
            parts.uri.path(),
            header(parts, "x-amz-target")
        ));
    }
    if header(parts, "content-type") != "application/x-amz-json-1.0" {
        return Err("the body must be application/x-amz-json-1.0".to_owned());
    }
    members(&signed_json(parts, body, "sms-voice")?)
}

/// The members, each as documented.
fn members(fields: &Map<String, Value>) -> Result<Accepted, String> {
    if let Some(unknown) = fields.keys().find(|name| !MEMBERS.contains(&name.as_str())) {
        return Err(format!("{unknown} is not a member of SendVoiceMessage"));
    }
    let text = |name: &str| -> Result<Option<&str>, String> {
        match fields.get(name) {
            None => Ok(None),
            Some(value) => value.as_str().map(Some).ok_or(format!("{name} must be a string")),
        }
    };
    let to = text("DestinationPhoneNumber")?.ok_or("DestinationPhoneNumber is required")?;
    let digits = to.strip_prefix('+').unwrap_or(to);
    if !(2..=19).contains(&digits.len()) || digits.starts_with('0') || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!("DestinationPhoneNumber {to} is not E.164"));
    }
    let origination = text("OriginationIdentity")?.ok_or("OriginationIdentity is required")?;
    if !(1..=256).contains(&origination.len())
        || !origination
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_:/+-".contains(&b))
    {
        return Err(format!(
            "OriginationIdentity {origination} is not a phone number, pool or their id or ARN"
        ));
    }
    let kind = text("MessageBodyTextType")?.unwrap_or("TEXT");
    let longest = match kind {
        "TEXT" => 3_000,
        "SSML" => 6_000,
        other => return Err(format!("MessageBodyTextType {other} is neither TEXT nor SSML")),
    };
    let body = text("MessageBody")?.unwrap_or_default();
    let characters = body.chars().count();
    if characters == 0 || characters > longest || body.trim().is_empty() {
        return Err(format!(
            "MessageBody has {characters} characters: 1 to {longest} for {kind}"
        ));
    }
    let spoken = match kind {
        "SSML" => spoken_ssml(body)?,
        _ => body.to_owned(),
    };
    let voice = text("VoiceId")?.unwrap_or("MATTHEW");
    if !VOICES.contains(&voice) {
        return Err(format!("VoiceId {voice} is not one of the service's voices"));
    }
    let price = text("MaxPricePerMinute")?;
    if let Some(price) = price
        && !is_price(price)
    {
        return Err(format!("MaxPricePerMinute {price} is not [0-9]{{0,2}}\\.[0-9]{{1,5}}"));
    }
    let time_to_live = match fields.get("TimeToLive") {
        None => None,
        Some(value) => match value.as_i64() {
            Some(seconds) if (5..=259_200).contains(&seconds) => Some(seconds),
            _ => return Err(format!("TimeToLive {value} is not 5 to 259200 seconds")),
        },
    };
    Ok(Accepted {
        message_id: uuid::Uuid::new_v4().to_string(),
        to: format!("+{digits}"),
        origination_identity: origination.to_owned(),
        voice_id: voice.to_owned(),
        body: body.to_owned(),
        spoken,
        max_price_per_minute: price.map(str::to_owned),
        time_to_live,
    })
}

fn is_price(text: &str) -> bool {
    let Some((dollars, cents)) = text.split_once('.') else {
        return false;
    };
    (2..=8).contains(&text.len())
        && dollars.len() <= 2
        && (1..=5).contains(&cents.len())
        && dollars.bytes().chain(cents.bytes()).all(|b| b.is_ascii_digit())
}

/// The words well-formed SSML says, or why it is not well formed.
fn spoken_ssml(ssml: &str) -> Result<String, String> {
    let mut open: Vec<String> = Vec::new();
    let mut spoken = String::new();
    let mut rest = ssml;
    let mut seen_root = false;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('<') {
            let end = after.find('>').ok_or("a tag is not closed")?;
            let tag = &after[..end];
            rest = &after[end + 1..];
            if let Some(name) = tag.strip_prefix('/') {
                match open.pop() {
                    Some(opened) if opened == name.trim() => {}
                    _ => return Err(format!("</{name}> closes no open <{name}>")),
                }
                continue;
            }
            let empty = tag.ends_with('/');
            let tag = tag.trim_end_matches('/');
            let name = tag.split_whitespace().next().unwrap_or_default();
            if !SSML_ELEMENTS.contains(&name) && !name.starts_with("amazon:") {
                return Err(format!("<{name}> is not an SSML element the voice speaks"));
            }
            if name == "speak" {
                if seen_root || !open.is_empty() {
                    return Err("<speak> must be the one root".to_owned());
                }
                seen_root = true;
            } else if open.is_empty() {
                return Err(format!("<{name}> is outside <speak>"));
            }
            if name == "say-as" && !tag.contains("interpret-as=\"") {
                return Err("<say-as> must name how it reads (interpret-as)".to_owned());
            }
            if !empty {
                open.push(name.to_owned());
            }
            // A pause between the words around it.
            spoken.push(' ');
        } else {
            let end = rest.find('<').unwrap_or(rest.len());
            let words = &rest[..end];
            if !seen_root || open.is_empty() {
                if words.trim().is_empty() {
                    rest = &rest[end..];
                    continue;
                }
                return Err("text outside <speak>".to_owned());
            }
            spoken.push_str(&unescaped(words)?);
            rest = &rest[end..];
        }
    }
    if !seen_root || !open.is_empty() {
        return Err("the SSML must be one <speak> element, every tag closed".to_owned());
    }
    Ok(spoken.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Text with XML's five entities read; a bare `&` is not well formed.
fn unescaped(text: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at..];
        let (entity, character) = [
            ("&amp;", '&'),
            ("&lt;", '<'),
            ("&gt;", '>'),
            ("&quot;", '"'),
            ("&apos;", '\''),
            ("&#39;", '\''),
        ]
        .into_iter()
        .find(|(entity, _)| after.starts_with(entity))
        .ok_or("a bare & in SSML text")?;
        out.push(character);
        rest = &after[entity.len()..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_ssml_is_read_aloud_and_the_rest_named() {
        let ssml = "<speak>Code for Acme &amp; Co: <break time=\"300ms\"/><prosody rate=\"slow\">\
                    <say-as interpret-as=\"digits\">012345</say-as></prosody>.</speak>";
        assert_eq!(spoken_ssml(ssml).unwrap(), "Code for Acme & Co: 012345.");
        for (bad, named) in [
            ("Code 1234", "outside <speak>"),
            ("<speak>Code <say-as>1234</say-as></speak>", "interpret-as"),
            ("<speak>Code <prosody>1234</speak>", "closes no open"),
            ("<speak>A & B</speak>", "bare &"),
            ("<speak><script>x</script></speak>", "not an SSML element"),
            ("<speak>a</speak><speak>b</speak>", "one root"),
        ] {
            let error = spoken_ssml(bad).unwrap_err();
            assert!(error.contains(named), "{bad}: {error}");
        }
    }

    #[test]
    fn members_are_checked_as_documented() {
        let good = json!({
            "DestinationPhoneNumber": "+441212345678", "OriginationIdentity": "phone-abc",
            "MessageBody": "<speak>Hi</speak>", "MessageBodyTextType": "SSML", "VoiceId": "AMY",
            "MaxPricePerMinute": "0.10000", "TimeToLive": 600
        });
        let accepted = members(good.as_object().unwrap()).unwrap();
        assert_eq!((accepted.spoken.as_str(), accepted.voice_id.as_str()), ("Hi", "AMY"));
        for (field, value, named) in [
            ("VoiceId", json!("ROBOT"), "VoiceId"),
            ("MaxPricePerMinute", json!("100.0"), "MaxPricePerMinute"),
            ("TimeToLive", json!(1), "TimeToLive"),
            ("Unknown", json!(1), "not a member"),
            ("MessageBody", json!("x".repeat(6_001)), "MessageBody"),
            ("DestinationPhoneNumber", json!("0441212345678"), "E.164"),
        ] {
            let mut bad = good.clone();
            bad[field] = value;
            let error = members(bad.as_object().unwrap()).unwrap_err();
            assert!(error.contains(named), "{field}: {error}");
        }
    }
}
