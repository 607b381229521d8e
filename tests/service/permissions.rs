//! Each function's role in `template.yaml` allows every AWS action the function takes:
//! the requests its flows make in every dialect, as IAM names them (a transaction needs
//! the actions of its items), against the `Allow` statements of the function's policies.

use std::collections::BTreeSet;

use otp_shared::ports::Channel;
use otp_tests::{
    Deployment, fresh_email, fresh_phone, full_session, kgen_request, last_code, last_email_code, user_token,
    workspace_root,
};
use serde_json::{Value, json};

use crate::*;

/// The line that opens `function`'s resource in `template.yaml` (`SendOtpFunction:`), and
/// the template's text.
fn function_in_template(function: &str) -> (String, String) {
    let resource: String = function
        .split('-')
        .map(|word| word[..1].to_uppercase() + &word[1..])
        .collect::<String>()
        + "Function:";
    let template = std::fs::read_to_string(workspace_root().join("template.yaml")).expect("template.yaml");
    (resource, template)
}

/// The actions the `Allow` statements of a function's policies name.
fn allowed_actions(function: &str) -> BTreeSet<String> {
    let (resource, template) = function_in_template(function);
    let (mut in_function, mut allows, mut in_list) = (false, false, false);
    let mut allowed = BTreeSet::new();
    for line in template.lines() {
        let text = line.trim();
        let indent = line.len() - line.trim_start().len();
        if indent == 2 && text.ends_with(':') {
            in_function = text == resource;
            continue;
        }
        if !in_function {
            continue;
        }
        if in_list {
            if let Some(action) = text.strip_prefix("- ").filter(|action| action.contains(':')) {
                if allows {
                    allowed.insert(action.trim().to_owned());
                }
                continue;
            }
            in_list = false;
        }
        if text.starts_with("- Sid:") {
            allows = false;
        } else if let Some(effect) = text.strip_prefix("Effect:") {
            allows = effect.trim() == "Allow";
        } else if let Some(actions) = text.strip_prefix("Action:") {
            in_list = actions.trim().is_empty();
            if allows {
                let actions = actions.trim().trim_start_matches('[').trim_end_matches(']');
                allowed.extend(
                    actions
                        .split(',')
                        .map(str::trim)
                        .filter(|a| !a.is_empty())
                        .map(str::to_owned),
                );
            }
        }
    }
    assert!(!allowed.is_empty(), "no Allow statement found for {resource}");
    allowed
}

/// Runs `request` through `function` and checks its role allows what it asked of AWS.
async fn allowed_call(deployment: &Deployment, function: &str, request: lambda_http::Request) -> Answer {
    deployment.meter.reset();
    let answer = call_function(deployment, function, request).await;
    let needed = deployment.meter.iam_actions();
    let allowed = allowed_actions(function);
    let missing: Vec<&String> = needed.difference(&allowed).collect();
    assert!(
        missing.is_empty(),
        "{function} took {missing:?}, which its policies in template.yaml do not allow (they allow {allowed:?})"
    );
    answer
}

/// A wrong code, then the right one.
fn wrong_and_right(code: &str) -> [String; 2] {
    [otp_tests::wrong_code_for(code).to_owned(), code.to_owned()]
}

#[test]
fn the_policies_are_read_as_written() {
    let verify = allowed_actions("verify");
    assert!(verify.contains("dynamodb:BatchGetItem") && verify.contains("dynamodb:DeleteItem"));
    assert!(
        !verify.iter().any(|action| action.starts_with("sns:")),
        "verify sends nothing"
    );
    let send = allowed_actions("send-otp");
    assert!(send.contains("ses:SendEmail") && send.contains("social-messaging:SendWhatsAppMessage"));
    assert!(
        send.contains("sns:Publish"),
        "a Deny statement on topics leaves the Allow"
    );
    // Calls (and WhatsApp) are send-otp's alone.
    assert!(send.contains("sms-voice:SendVoiceMessage"));
    for function in ["register", "resend", "verify", "generate"] {
        let allowed = allowed_actions(function);
        assert!(
            !allowed.contains("sms-voice:SendVoiceMessage")
                && !allowed.contains("social-messaging:SendWhatsAppMessage"),
            "{function} may place calls or send WhatsApp messages"
        );
    }
}

#[tokio::test]
async fn kgen_and_bridgekeeper_flows_stay_inside_their_roles() {
    let deployment = Deployment::new().await;
    let token = user_token("permissions");
    let (national, e164) = fresh_phone();
    let register = kgen_request(&format!("{FE}/register"), &token, None, &phone_body(&national));
    let (status, body, _) = allowed_call(&deployment, "register", register).await;
    assert_eq!(status, 200, "{body}");
    deployment.clock.advance(30);
    let resend = kgen_request(&format!("{FE}/resend"), &token, None, &phone_body(&national));
    assert_eq!(allowed_call(&deployment, "resend", resend).await.0, 200);
    for otp in wrong_and_right(&last_code(&e164)) {
        let verify = kgen_request(
            &format!("{FE}/verify"),
            &token,
            None,
            &verify_body(&national, &body["authCode"], json!(otp)),
        );
        allowed_call(&deployment, "verify", verify).await;
    }

    // A user who moves to a new number: the old contact is released in the transaction.
    use crate::bridgekeeper::{SEND, UPDATE, request};
    let (deployment, _, _, _) = crate::bridgekeeper::with_user("permissions").await;
    let cookie = format!("qt-auth={}", full_session("permissions"));
    let (_, new_phone) = fresh_phone();
    let send = request(
        SEND,
        Some(&cookie),
        None,
        &json!({"phone-number": new_phone}).to_string(),
    );
    assert_eq!(allowed_call(&deployment, "send-otp", send).await.0, 200);
    for otp in wrong_and_right(&last_code(&new_phone)) {
        let body = json!({"otp": otp, "user": {"phone-number": new_phone}}).to_string();
        allowed_call(&deployment, "verify", request(UPDATE, Some(&cookie), None, &body)).await;
    }
    assert!(
        deployment.meter.iam_actions().contains("dynamodb:DeleteItem"),
        "the move released the old number"
    );
}

#[tokio::test]
async fn bizmagnets_and_zap_flows_stay_inside_their_roles() {
    let (deployment, client, sms_uid) = crate::bizmagnets::shop().await;
    let email_uid = deployment.config(&client, Channel::Email, 6, 300, "{code}").await;
    let whatsapp_uid = crate::whatsapp::whatsapp_config(&deployment, &client, false).await;
    let (national, e164) = fresh_phone();
    let address = fresh_email();
    let sends: [(&str, Value, &str); 3] = [
        (&sms_uid, crate::bizmagnets::mobile(&national), "sns:Publish"),
        (&email_uid, json!({"email": address}), "ses:SendEmail"),
        (
            &whatsapp_uid,
            crate::bizmagnets::mobile(&fresh_phone().0),
            "social-messaging:SendWhatsAppMessage",
        ),
    ];
    for (uid, body, delivery) in sends {
        let send = crate::bizmagnets::send_request(uid, &client.api_key, &body);
        let (status, answer, _) = allowed_call(&deployment, "send-otp", send).await;
        assert_eq!(status, 201, "{answer}");
        assert!(deployment.meter.iam_actions().contains(delivery), "{delivery}");
        if uid == sms_uid {
            let id = answer["id"].as_str().expect("id").to_owned();
            for otp in wrong_and_right(&last_code(&e164)) {
                let body = crate::bizmagnets::verify_body(&national, &otp);
                let verify = crate::bizmagnets::verify_request(&id, &client.api_key, &body);
                allowed_call(&deployment, "verify", verify).await;
            }
        }
    }

    let (deployment, client) = crate::zap::zap().await;
    let address = fresh_email();
    let (_, phone) = fresh_phone();
    for body in [
        json!({"email": address, "userId": "permissions"}),
        json!({"phoneNumber": phone, "userId": "permissions"}),
    ] {
        let generate = crate::zap::request("/v1/otp", Some(&client.api_key), &body);
        let (status, answer, _) = allowed_call(&deployment, "generate", generate).await;
        assert_eq!(status, 200, "{answer}");
    }
    for otp in wrong_and_right(&last_email_code(&address)) {
        let body = json!({"email": address, "userId": "permissions", "otp": otp});
        allowed_call(
            &deployment,
            "verify",
            crate::zap::request("/v1/otp/verify", Some(&client.api_key), &body),
        )
        .await;
    }
}

#[tokio::test]
async fn twilio_flows_and_its_services_resource_stay_inside_their_roles() {
    use crate::twilio::twilio_request;
    let deployment = Deployment::new().await;
    let client = deployment.client_with(&[otp_shared::ports::Permission::Twilio]).await;
    let auth = Some((client.id.as_str(), client.secret.as_str()));
    let (status, service, _) = allowed_call(
        &deployment,
        "verify",
        twilio_request("POST", "/v2/Services", auth, &[("FriendlyName", "Acme")]),
    )
    .await;
    assert_eq!(status, 201, "{service}");
    let sid = service["sid"].as_str().expect("a sid").to_owned();
    let phone = fresh_phone().1;
    let create = twilio_request(
        "POST",
        &format!("/v2/Services/{sid}/Verifications"),
        auth,
        &[("To", phone.as_str()), ("Channel", "sms")],
    );
    assert_eq!(allowed_call(&deployment, "send-otp", create).await.0, 201);
    for code in wrong_and_right(&last_code(&phone)) {
        let check = twilio_request(
            "POST",
            &format!("/v2/Services/{sid}/VerificationCheck"),
            auth,
            &[("To", phone.as_str()), ("Code", code.as_str())],
        );
        assert_eq!(allowed_call(&deployment, "verify", check).await.0, 200);
    }
    // A call, to a landline.
    let call = twilio_request(
        "POST",
        &format!("/v2/Services/{sid}/Verifications"),
        auth,
        &[("To", "+441212345678"), ("Channel", "call")],
    );
    assert_eq!(allowed_call(&deployment, "send-otp", call).await.0, 201);
    assert!(deployment.meter.iam_actions().contains("sms-voice:SendVoiceMessage"));
    let path = format!("/v2/Services/{sid}");
    for (method, path, form, expected) in [
        ("GET", "/v2/Services", &[][..], 200),
        ("GET", path.as_str(), &[][..], 200),
        ("POST", path.as_str(), &[("CodeLength", "8")][..], 200),
        ("DELETE", path.as_str(), &[][..], 204),
    ] {
        let answer = allowed_call(&deployment, "verify", twilio_request(method, path, auth, form)).await;
        assert_eq!(answer.0, expected, "{method} {path}: {}", answer.1);
    }
}

/// Every kind of item the table holds, as its partition key starts (shared/src/store/mod.rs).
const ITEM_KINDS: [&str; 12] = [
    "CHALLENGE#",
    "CHALLENGE_ID#",
    "CONFIG#",
    "CONTACT#",
    "USER#",
    "CLIENT#",
    "SLIDE#",
    "COUNT#",
    "GUARD#",
    "SPEND#",
    "ATTEMPT#",
    "TESTDEST#",
];

/// What KGen's sends touch: register and resend are one handler.
const KGEN_SEND_KINDS: [&str; 9] = [
    "CHALLENGE#",
    "SLIDE#",
    "COUNT#",
    "GUARD#",
    "SPEND#",
    "ATTEMPT#",
    "CLIENT#",
    "CONTACT#",
    "TESTDEST#",
];

/// The kinds of item each function's flows read or write: its role may touch no other
/// (the `dynamodb:LeadingKeys` condition of its statement on the table).
const KINDS_BY_FUNCTION: [(&str, &[&str]); 5] = [
    ("register", &KGEN_SEND_KINDS),
    ("resend", &KGEN_SEND_KINDS),
    (
        "verify",
        &[
            "CHALLENGE#",
            "CHALLENGE_ID#",
            "SLIDE#",
            "GUARD#",
            "ATTEMPT#",
            "CLIENT#",
            "CONFIG#",
            "CONTACT#",
            "USER#",
        ],
    ),
    ("send-otp", &ITEM_KINDS),
    (
        "generate",
        &[
            "CHALLENGE#",
            "SLIDE#",
            "COUNT#",
            "GUARD#",
            "SPEND#",
            "ATTEMPT#",
            "CLIENT#",
            "TESTDEST#",
        ],
    ),
];

/// The statements of a function's policies on the table, each with the partition keys its
/// `ForAllValues:StringLike` `dynamodb:LeadingKeys` condition allows, as written
/// (`CHALLENGE#*`; None without that condition). Read as `allowed_actions` reads.
fn table_statements(function: &str) -> Vec<Option<BTreeSet<String>>> {
    let (resource, template) = function_in_template(function);
    let mut statements: Vec<(bool, Option<BTreeSet<String>>)> = Vec::new();
    let (mut in_function, mut in_keys) = (false, false);
    // The indentation of the `ForAllValues:StringLike:` line whose block is being read.
    let mut string_like: Option<usize> = None;
    for line in template.lines() {
        let text = line.trim();
        let indent = line.len() - line.trim_start().len();
        if indent == 2 && text.ends_with(':') {
            in_function = text == resource;
            continue;
        }
        if !in_function || text.is_empty() || text.starts_with('#') {
            continue;
        }
        if text.starts_with("- Sid:") {
            statements.push((false, None));
            (in_keys, string_like) = (false, None);
            continue;
        }
        let Some((on_table, keys)) = statements.last_mut() else {
            continue;
        };
        if string_like.is_some_and(|block| indent <= block) {
            string_like = None;
        }
        if in_keys {
            if let Some(key) = text.strip_prefix("- ") {
                let key = key.trim().trim_matches('"').to_owned();
                keys.get_or_insert_with(BTreeSet::new).insert(key);
                continue;
            }
            in_keys = false;
        }
        if text == "Resource: !GetAtt Table.Arn" {
            *on_table = true;
        } else if text == "ForAllValues:StringLike:" {
            string_like = Some(indent);
        } else if let Some(listed) = text
            .strip_prefix("dynamodb:LeadingKeys:")
            .filter(|_| string_like.is_some())
        {
            let listed = listed.trim().trim_start_matches('[').trim_end_matches(']');
            in_keys = listed.is_empty();
            keys.get_or_insert_with(BTreeSet::new).extend(
                listed
                    .split(',')
                    .map(|key| key.trim().trim_matches('"'))
                    .filter(|key| !key.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    statements
        .into_iter()
        .filter(|(on_table, _)| *on_table)
        .map(|(_, keys)| keys)
        .collect()
}

#[test]
fn each_role_reaches_only_the_kinds_of_item_its_flows_use() {
    for (function, kinds) in KINDS_BY_FUNCTION {
        let statements = table_statements(function);
        assert_eq!(
            statements.len(),
            1,
            "{function}: one statement of its policies names the table"
        );
        let keys = statements[0].as_ref().unwrap_or_else(|| {
            panic!("{function}: its statement on the table has no ForAllValues:StringLike dynamodb:LeadingKeys")
        });
        for key in keys {
            let kind = key
                .strip_suffix('*')
                .unwrap_or_else(|| panic!("{function}: {key} is no prefix (KIND#*)"));
            assert!(
                ITEM_KINDS.contains(&kind),
                "{function}: {key} is no kind of item the table holds"
            );
        }
        let expected: BTreeSet<String> = kinds.iter().map(|kind| format!("{kind}*")).collect();
        assert_eq!(*keys, expected, "{function}'s LeadingKeys in template.yaml");
    }
}

#[test]
fn the_kinds_of_item_are_the_stores() {
    // Each key of the store's key table (shared/src/store/mod.rs), up to its first `#`.
    let store = std::fs::read_to_string(workspace_root().join("shared/src/store/mod.rs")).expect("store/mod.rs");
    let documented: BTreeSet<String> = store
        .lines()
        .filter_map(|line| line.strip_prefix("//! | "))
        .flat_map(|row| row.split('`').skip(1).step_by(2))
        .filter_map(|code| {
            let (kind, _) = code.split_once('#')?;
            let upper = !kind.is_empty() && kind.chars().all(|c| c.is_ascii_uppercase() || c == '_');
            upper.then(|| format!("{kind}#"))
        })
        .collect();
    let known: BTreeSet<String> = ITEM_KINDS.iter().map(|kind| (*kind).to_owned()).collect();
    assert_eq!(
        documented, known,
        "a kind of item changed: update ITEM_KINDS, KINDS_BY_FUNCTION and template.yaml"
    );
}
