//! What the logs show of a whole flow: JSON lines, destinations masked, and no code,
//! token or secret anywhere.

use otp_tests::{Deployment, captured_logs, fresh_phone, last_code, user_token};
use serde_json::{Value, json};

use crate::*;

#[tokio::test]
async fn logs_are_json_and_mask_what_they_must() {
    let deployment = Deployment::new().await;
    let (national, e164) = fresh_phone();
    let token = user_token("logged");
    let (_, body, _) = register_fe(&deployment, &token, &national).await;
    let auth_code = body["authCode"].clone();
    let code = last_code(&e164);
    let wrong = if code == "101010" { "010101" } else { "101010" };
    assert_eq!(
        verify_fe(&deployment, &token, &national, &auth_code, json!(wrong))
            .await
            .0,
        400
    );
    assert_eq!(
        verify_fe(&deployment, &token, &national, &auth_code, json!(code))
            .await
            .0,
        200
    );

    let text = captured_logs();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|_| panic!("not a JSON line: {line}")))
        .collect();
    let masked = format!("+91******{}", &e164[e164.len() - 4..]);
    let ours: Vec<&str> = lines
        .iter()
        .filter(|line| line["destination"] == masked.as_str())
        .filter_map(|line| line["message"].as_str())
        .collect();
    for expected in ["code sent", "wrong code", "code verified"] {
        assert!(ours.contains(&expected), "no {expected:?} event in {ours:?}");
    }
    // Searched without timestamps, whose microseconds could spell any six digits.
    let content: String = lines
        .iter()
        .map(|line| {
            let mut line = line.clone();
            line.as_object_mut().map(|fields| fields.remove("timestamp"));
            line.to_string()
        })
        .collect();
    assert!(!content.contains(&national), "the phone number never appears in clear");
    for secret in [code.as_str(), wrong, token.as_str(), otp_tests::EVENTS_JWT_SECRET] {
        assert!(!content.contains(secret), "a code, token or secret reached the logs");
    }
}
