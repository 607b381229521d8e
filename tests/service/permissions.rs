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

/// The actions the `Allow` statements of a function's policies name.
fn allowed_actions(function: &str) -> BTreeSet<String> {
    let resource: String = function
        .split('-')
        .map(|word| word[..1].to_uppercase() + &word[1..])
        .collect::<String>()
        + "Function:";
    let template = std::fs::read_to_string(workspace_root().join("template.yaml")).expect("template.yaml");
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
