//! Languages: a code's text in the language the request asks for, else the one of its
//! number's country, else English, for a Twilio service's built-in template and for the
//! deployment's own messages; a `Locale` with no text answers as Twilio does; `AppHash`
//! ends the SMS on a line of its own.

use otp_shared::language;
use otp_shared::messages::built_in_template;
use otp_shared::ports::{Channel, Permission};
use otp_tests::{emails_to, fresh_email, fresh_phone, last_code, sms_to};
use rand::RngExt;
use serde_json::json;

use crate::twilio::{Service, twilio_request};
use crate::*;

/// A French mobile number of its own (not every block of the plan is allocated: only
/// numbers the service takes).
fn french_mobile() -> String {
    let rules = otp_shared::number_rules::NumberRules::default();
    loop {
        let number = format!("+336{:08}", rand::rng().random_range(0..100_000_000u32));
        if otp_shared::destination::Destination::e164(&number).is_ok_and(|phone| rules.check(&phone, false).is_ok()) {
            return number;
        }
    }
}

/// The built-in text of `tag` as a 10-minute code of `sender` reads.
fn built_in(tag: &str, code: &str, sender: &str) -> String {
    language::find(tag)
        .expect("a built-in locale")
        .sms
        .replace("{code}", code)
        .replace("{sender}", sender)
        .replace("{minutes}", "10")
}

/// A service with the built-in template, sending as "Acme".
async fn built_in_service() -> Service {
    let deployment = otp_tests::Deployment::new().await;
    let client = deployment.client().await;
    let sid = deployment
        .config(&client, Channel::Sms, 6, 600, built_in_template())
        .await;
    Service::of(deployment, client, sid)
}

async fn create(service: &Service, form: &[(&str, &str)]) -> Answer {
    let path = format!("/v2/Services/{}/Verifications", service.sid);
    call_send_otp(&service.deployment, twilio_request("POST", &path, service.auth(), form)).await
}

/// A create by SMS to `to`, shown as "Acme", in the `Locale` given.
fn sms_form<'a>(to: &'a str, locale: Option<&'a str>) -> Vec<(&'a str, &'a str)> {
    let mut form = vec![("To", to), ("Channel", "sms"), ("CustomFriendlyName", "Acme")];
    form.extend(locale.map(|tag| ("Locale", tag)));
    form
}

#[tokio::test]
async fn a_service_writes_in_the_locale_asked_for_else_in_the_numbers_countrys() {
    let service = built_in_service().await;
    // Each number, the Locale asked for, and the text it gets.
    let (_, indian) = fresh_phone();
    let (_, other_indian) = fresh_phone();
    let (_, brazilian_asked) = fresh_phone();
    let french = french_mobile();
    let french_asked = french_mobile();
    let cases = [
        (indian.as_str(), Some("es"), "es"),
        (french.as_str(), None, "fr"),
        (other_indian.as_str(), None, "en"),
        (french_asked.as_str(), Some("de"), "de"),
        // Twilio's tags in another case, with `_`: the same locale.
        (brazilian_asked.as_str(), Some("PT_br"), "pt-BR"),
    ];
    for (to, locale, tag) in cases {
        let (status, body, _) = create(&service, &sms_form(to, locale)).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(sms_to(to), [built_in(tag, &last_code(to), "Acme")], "{to} {locale:?}");
    }
}

#[tokio::test]
async fn a_locale_with_no_text_is_twilios_not_found_and_sends_nothing() {
    let service = built_in_service().await;
    let (_, phone) = fresh_phone();
    for tag in ["xx", "es-MX", "en-US-x-twain"] {
        let (status, body, _) = create(&service, &[("To", &phone), ("Channel", "sms"), ("Locale", tag)]).await;
        assert_eq!((status, &body["code"]), (404, &json!(20404)), "{tag}: {body}");
        assert!(body["message"].as_str().is_some_and(|m| m.contains(tag)), "{body}");
    }
    assert!(sms_to(&phone).is_empty());
    // Credentials are still checked first.
    let path = format!("/v2/Services/{}/Verifications", service.sid);
    let request = twilio_request(
        "POST",
        &path,
        Some(("AC0", "wrong")),
        &[("To", &phone), ("Channel", "sms"), ("Locale", "xx")],
    );
    assert_eq!(call_send_otp(&service.deployment, request).await.0, 401);
}

#[tokio::test]
async fn an_app_hash_ends_the_sms_and_a_malformed_one_is_refused() {
    let service = built_in_service().await;
    let (_, phone) = fresh_phone();
    let (status, body, _) = create(
        &service,
        &[("To", &phone), ("Channel", "sms"), ("AppHash", "FA+9qCX9VSu")],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let text = sms_to(&phone).pop().expect("an SMS");
    assert!(text.ends_with("\n\nFA+9qCX9VSu"), "{text:?}");
    let (_, other) = fresh_phone();
    let (status, body, _) = create(&service, &[("To", &other), ("Channel", "sms"), ("AppHash", "short")]).await;
    assert_eq!((status, &body["code"]), (400, &json!(60200)), "{body}");
    assert!(sms_to(&other).is_empty());

    // Given empty, as a web form sends a field left blank, an app hash and a locale are none.
    let (status, body, _) = create(
        &service,
        &[("To", &other), ("Channel", "sms"), ("AppHash", ""), ("Locale", "")],
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let text = sms_to(&other).pop().expect("an SMS");
    let english = format!("{} is your ", last_code(&other));
    assert!(text.starts_with(&english) && !text.contains("\n\n"), "{text:?}");
}

#[tokio::test]
async fn an_operators_own_template_is_sent_whatever_the_language() {
    // `Service::new` configures its own English template.
    let service = Service::new(Channel::Sms).await;
    let french = french_mobile();
    assert_eq!(
        create(&service, &[("To", &french), ("Channel", "sms"), ("Locale", "de")])
            .await
            .0,
        201
    );
    let code = last_code(&french);
    assert!(sms_to(&french)[0].starts_with("Your ") && sms_to(&french)[0].ends_with(&format!("code is {code}")));
}

#[tokio::test]
async fn the_deployments_own_messages_follow_the_numbers_country_and_emails_are_english() {
    let deployment = otp_tests::Deployment::new().await;
    let client = deployment.client_with(&[Permission::Zap]).await;
    let french = french_mobile();
    let body = json!({"phoneNumber": french, "userId": "u-fr"});
    let (status, answer, _) = call_generate(
        &deployment,
        crate::zap::request("/v1/otp", Some(&client.api_key), &body),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    let code = last_code(&french);
    let lifetime = deployment.sender.otp.policy.default_profile().lifetime;
    let minutes = lifetime.as_secs().div_ceil(60).to_string();
    let expected = language::find("fr")
        .expect("French")
        .sms
        .replace("{code}", &code)
        .replace("{sender}", otp_shared::messages::DEFAULT_SENDER_NAME)
        .replace("{minutes}", &minutes);
    assert_eq!(sms_to(&french), [expected]);

    let address = fresh_email();
    let body = json!({"email": address, "userId": "u-en"});
    assert_eq!(
        call_generate(
            &deployment,
            crate::zap::request("/v1/otp", Some(&client.api_key), &body)
        )
        .await
        .0,
        200
    );
    let email = emails_to(&address).pop().expect("an email");
    assert_eq!(email.subject, language::english().subject);
}

#[tokio::test]
async fn a_configuration_names_its_language_its_own_texts_and_its_autofill() {
    let service = built_in_service().await;
    let admin = |words: Vec<&str>| {
        let mut all = vec!["config", "update", "--config", service.sid.as_str()];
        all.extend(words);
        let deployment = &service.deployment;
        let args: Vec<String> = all.into_iter().map(str::to_owned).collect();
        async move {
            let words: Vec<&str> = args.iter().map(String::as_str).collect();
            deployment.admin(&words).await
        }
    };
    admin(vec![
        "--language",
        "de",
        "--locale-template",
        "fr=Code {sender} : {code}",
        "--whatsapp-locale",
        "es=es_MX",
        "--web-domain",
        "login.example.com",
        "--app-hash",
        "FA+9qCX9VSu",
    ])
    .await
    .expect("updated");
    // As stored: read back from the table.
    let shown = service
        .deployment
        .admin(&["config", "show", "--config", service.sid.as_str()])
        .await
        .expect("shown");
    assert_eq!(
        (
            &shown["language"],
            &shown["locale_templates"],
            &shown["whatsapp_locales"]
        ),
        (
            &json!("de"),
            &json!({"fr": "Code {sender} : {code}"}),
            &json!({"es": "es_MX"})
        )
    );
    assert_eq!(
        (&shown["web_domain"], &shown["app_hash"], &shown["built_in_texts"]),
        (&json!("login.example.com"), &json!("FA+9qCX9VSu"), &json!(true))
    );

    // No Locale: the configuration's language comes before the number's country.
    let french = french_mobile();
    assert_eq!(create(&service, &sms_form(&french, None)).await.0, 201);
    let code = last_code(&french);
    let autofill = format!("\n\nFA+9qCX9VSu\n@login.example.com #{code}");
    assert_eq!(
        sms_to(&french),
        [format!("{}{autofill}", built_in("de", &code, "Acme"))]
    );
    // Asked for French: its own French text, with the same autofill lines.
    let (_, indian) = fresh_phone();
    assert_eq!(create(&service, &sms_form(&indian, Some("fr"))).await.0, 201);
    let code = last_code(&indian);
    assert_eq!(
        sms_to(&indian),
        [format!("Code Acme : {code}\n\nFA+9qCX9VSu\n@login.example.com #{code}")]
    );
    // A request's AppHash comes before the configuration's.
    let (_, other) = fresh_phone();
    let mut form = sms_form(&other, None);
    form.push(("AppHash", "abcdefghijk"));
    assert_eq!(create(&service, &form).await.0, 201);
    assert!(sms_to(&other)[0].contains("\n\nabcdefghijk\n@login.example.com #"));

    // A wrong one is refused, naming it; emptied, each goes.
    for (flag, value, named) in [
        ("--language", "xx", "xx is not a built-in locale"),
        ("--locale-template", "es=no code", "es template must contain {code}"),
        ("--web-domain", "https://example.com", "web domain"),
        ("--whatsapp-locale", "es=spanish", "WhatsApp language"),
    ] {
        let refused = admin(vec![flag, value]).await.expect_err(flag);
        assert!(refused.contains(named), "{flag}: {refused}");
    }
    let shown = admin(vec![
        "--language",
        "",
        "--locale-template",
        "fr=",
        "--web-domain",
        "",
        "--app-hash",
        "",
    ])
    .await
    .expect("emptied");
    assert_eq!(
        (
            &shown["language"],
            &shown["locale_templates"],
            &shown["web_domain"],
            &shown["app_hash"]
        ),
        (&json!(null), &json!({}), &json!(null), &json!(null))
    );
    let french = french_mobile();
    assert_eq!(create(&service, &sms_form(&french, None)).await.0, 201);
    assert_eq!(sms_to(&french), [built_in("fr", &last_code(&french), "Acme")]);
}
