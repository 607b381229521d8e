//! Twilio Verify v2 as its SDKs call it: form-encoded bodies, HTTP Basic with an API
//! client's id and secret, the Service SID naming one of its OTP configurations; Twilio's
//! resources, statuses and error codes over the service's own security rules.

use base64::Engine as _;
use otp_shared::ports::{Channel, Permission};
use otp_tests::{
    Deployment, TestClient, api_event, emails_to, fresh_email, fresh_phone, last_code, last_email_code, sms_to,
};
use serde_json::{Value, json};

use crate::*;

/// A Twilio request: `method` on `path`, Basic credentials, a form body.
pub(crate) fn twilio_request(
    method: &str,
    path: &str,
    auth: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> lambda_http::Request {
    let body: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let basic = auth.map(|(id, secret)| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        )
    });
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded")];
    if let Some(basic) = &basic {
        headers.push(("authorization", basic.as_str()));
    }
    // A query travels apart from the path, as API Gateway hands it over.
    let (path, query) = path.split_once('?').unwrap_or((path, ""));
    let mut event: Value = serde_json::from_str(&api_event(path, &headers, &body, "203.0.113.10")).expect("JSON");
    event["rawQueryString"] = json!(query);
    let route_key = otp_tests::route_key(method, path);
    event["routeKey"] = json!(route_key);
    event["requestContext"]["routeKey"] = json!(route_key);
    event["requestContext"]["http"]["method"] = json!(method);
    if method == "GET" || method == "DELETE" {
        event.as_object_mut().expect("an object").remove("body");
    }
    lambda_http::request::from_str(&event.to_string()).expect("a valid event")
}

pub(crate) struct Service {
    pub deployment: Deployment,
    pub client: TestClient,
    pub sid: String,
    /// The Basic credentials its requests carry: the client's id and secret, or an API key.
    credentials: (String, String),
}

impl Service {
    pub(crate) async fn new(channel: Channel) -> Self {
        Self::of_deployment(Deployment::new().await, channel).await
    }

    /// A new client's service on `deployment`.
    pub(crate) async fn of_deployment(deployment: Deployment, channel: Channel) -> Self {
        let client = deployment.client().await;
        let sid = deployment
            .config(&client, channel, 6, 600, "Your {sender} code is {code}")
            .await;
        Self::of(deployment, client, sid)
    }

    /// `client`'s service `sid`, called with the client's id and secret.
    pub(crate) fn of(deployment: Deployment, client: TestClient, sid: String) -> Self {
        Self {
            credentials: (client.id.clone(), client.secret.clone()),
            deployment,
            client,
            sid,
        }
    }

    /// A service whose requests carry an API key of its client, made by `otp-admin`.
    pub(crate) async fn with_api_key(channel: Channel) -> Self {
        let mut service = Self::new(channel).await;
        service.credentials = api_key_of(&service.deployment, &service.client.id).await;
        service
    }

    /// Another service of the same client, by its SID.
    pub(crate) fn with_sid(self, sid: String) -> Self {
        Self { sid, ..self }
    }

    pub(crate) fn auth(&self) -> Option<(&str, &str)> {
        Some((&self.credentials.0, &self.credentials.1))
    }

    pub(crate) async fn create(&self, to: &str, channel: &str) -> Answer {
        let path = format!("/v2/Services/{}/Verifications", self.sid);
        let request = twilio_request("POST", &path, self.auth(), &[("To", to), ("Channel", channel)]);
        call_send_otp(&self.deployment, request).await
    }

    pub(crate) async fn check(&self, named: (&str, &str), code: &str) -> Answer {
        let path = format!("/v2/Services/{}/VerificationCheck", self.sid);
        let request = twilio_request("POST", &path, self.auth(), &[named, ("Code", code)]);
        call_verify(&self.deployment, request).await
    }

    async fn fetch(&self, named: &str) -> Answer {
        let path = format!("/v2/Services/{}/Verifications/{named}", self.sid);
        call_verify(&self.deployment, twilio_request("GET", &path, self.auth(), &[])).await
    }

    async fn update(&self, named: &str, status: &str) -> Answer {
        let path = format!("/v2/Services/{}/Verifications/{named}", self.sid);
        call_verify(
            &self.deployment,
            twilio_request("POST", &path, self.auth(), &[("Status", status)]),
        )
        .await
    }
}

/// A new API key of `client`, by `otp-admin client key create`: its SID and its secret.
pub(crate) async fn api_key_of(deployment: &Deployment, client: &str) -> (String, String) {
    let made = deployment
        .admin(&["client", "key", "create", "--client", client, "--name", "checkout"])
        .await
        .expect("a key made");
    let secret = made["secret"].as_str().expect("a secret, shown once").to_owned();
    otp_tests::audit::note("api key secret", &secret);
    (made["sid"].as_str().expect("a SID").to_owned(), secret)
}

pub(crate) fn twilio_error(code: u32, status: u16) -> (u16, Value) {
    (
        status,
        json!({"code": code, "message": null, "more_info": format!("https://www.twilio.com/docs/errors/{code}"), "status": status}),
    )
}

/// An answer's status and body, its message left out (Twilio's wording is not part of the contract).
pub(crate) fn without_message(answer: &Answer) -> (u16, Value) {
    let mut body = answer.1.clone();
    if body.get("message").is_some() {
        body["message"] = Value::Null;
    }
    (answer.0, body)
}

#[tokio::test]
async fn create_check_and_check_again_as_twilio_does() {
    let service = Service::new(Channel::Sms).await;
    let (_, phone) = fresh_phone();
    let (status, created, _) = service.create(&phone, "sms").await;
    assert_eq!(status, 201, "{created}");
    let sid = created["sid"].as_str().expect("a sid").to_owned();
    assert!(sid.starts_with("VE") && sid.len() == 34, "{sid}");
    assert_eq!(created["status"], "pending");
    assert_eq!(created["valid"], false);
    assert_eq!(created["to"], phone.as_str());
    assert_eq!(created["channel"], "sms");
    // Twilio's forms of the client's id and the configuration's uid.
    assert_eq!(created["account_sid"], sid_of("AC", &service.client.id));
    assert_eq!(created["service_sid"], sid_of("VA", &service.sid));
    assert!(
        created["url"]
            .as_str()
            .is_some_and(|url| url.ends_with(&format!("/Verifications/{sid}")))
    );
    let code = last_code(&phone);

    // A wrong code: 200, still pending.
    let wrong = otp_tests::wrong_code_for(&code);
    let (status, checked, _) = service.check(("To", &phone), wrong).await;
    assert_eq!(
        (status, &checked["status"], &checked["valid"]),
        (200, &json!("pending"), &json!(false))
    );
    assert_eq!(checked["sid"], sid.as_str());

    // The right one: approved; once approved, there is no pending verification.
    let (status, checked, _) = service.check(("To", &phone), &code).await;
    assert_eq!(
        (status, &checked["status"], &checked["valid"]),
        (200, &json!("approved"), &json!(true))
    );
    assert_eq!(
        without_message(&service.check(("To", &phone), &code).await),
        twilio_error(20404, 404)
    );

    // The approved verification is still there to fetch, by sid or by To.
    let (status, fetched, _) = service.fetch(&sid).await;
    assert_eq!((status, &fetched["status"]), (200, &json!("approved")));
    let by_to = service.fetch(&phone.replace('+', "%2B")).await;
    assert_eq!(by_to.1["sid"], sid.as_str());
}

#[tokio::test]
async fn a_create_while_pending_resends_on_the_same_sid() {
    let service = Service::new(Channel::Sms).await;
    let (_, phone) = fresh_phone();
    let first = service.create(&phone, "sms").await;
    let first_code = last_code(&phone);
    // Within the destination's cooldown: Twilio's "max send attempts", with when to retry.
    let (status, body, retry_after) = service.create(&phone, "sms").await;
    assert_eq!(without_message(&(status, body, None)), twilio_error(60203, 429));
    assert_eq!(retry_after.as_deref(), Some("30"));

    service.deployment.clock.advance(30);
    let again = service.create(&phone, "sms").await;
    assert_eq!(again.0, 201);
    assert_eq!(again.1["sid"], first.1["sid"], "the same verification");
    assert_eq!(sms_to(&phone).len(), 2);
    let code = last_code(&phone);
    if code != first_code {
        let (status, checked, _) = service.check(("To", &phone), &first_code).await;
        assert_eq!(
            (status, &checked["status"]),
            (200, &json!("pending")),
            "the earlier code stopped working"
        );
    }
    let sid = again.1["sid"].as_str().expect("sid").to_owned();
    // A `To` beside the sid is not used, but it must be a destination.
    let path = format!("/v2/Services/{}/VerificationCheck", service.sid);
    let named = [("VerificationSid", sid.as_str()), ("To", "0"), ("Code", &code)];
    let check = twilio_request("POST", &path, service.auth(), &named);
    assert_eq!(
        without_message(&call_verify(&service.deployment, check).await),
        twilio_error(60200, 400)
    );
    let (status, checked, _) = service.check(("VerificationSid", &sid), &code).await;
    assert_eq!((status, &checked["status"]), (200, &json!("approved")));
}

#[tokio::test]
async fn the_sixth_check_is_max_attempts_and_the_right_code_no_longer_works() {
    let service = Service::new(Channel::Sms).await;
    let (_, phone) = fresh_phone();
    assert_eq!(service.create(&phone, "sms").await.0, 201);
    let code = last_code(&phone);
    let wrong = otp_tests::wrong_code_for(&code);
    for attempt in 1..=5 {
        let (status, checked, _) = service.check(("To", &phone), wrong).await;
        assert_eq!(
            (status, &checked["status"]),
            (200, &json!("pending")),
            "attempt {attempt}"
        );
    }
    let (status, body, retry_after) = service.check(("To", &phone), &code).await;
    assert_eq!(without_message(&(status, body, None)), twilio_error(60202, 429));
    assert!(retry_after.is_some());
    let (status, fetched, _) = service.fetch(&phone).await;
    assert_eq!((status, &fetched["status"]), (200, &json!("max_attempts_reached")));
}

#[tokio::test]
async fn email_services_send_mail_and_check_by_sid() {
    let service = Service::new(Channel::Email).await;
    let address = fresh_email();
    let (status, created, _) = service.create(&address, "email").await;
    assert_eq!((status, &created["channel"]), (201, &json!("email")));
    assert_eq!(emails_to(&address).len(), 1);
    let sid = created["sid"].as_str().expect("sid");
    let (status, checked, _) = service
        .check(("VerificationSid", sid), &last_email_code(&address))
        .await;
    assert_eq!(
        (status, &checked["status"], &checked["to"]),
        (200, &json!("approved"), &json!(address))
    );
    // An address may begin with `+`: it is still an address, not a phone number.
    let plus = format!("+{address}");
    let (status, created, _) = service.create(&plus, "email").await;
    assert_eq!((status, &created["to"]), (201, &json!(plus)), "{created}");
    assert_eq!(emails_to(&plus).len(), 1);
}

#[tokio::test]
async fn cancel_and_approve_settle_a_pending_verification() {
    let service = Service::new(Channel::Sms).await;
    let (_, phone) = fresh_phone();
    let created = service.create(&phone, "sms").await;
    let sid = created.1["sid"].as_str().expect("sid").to_owned();
    let code = last_code(&phone);
    let (status, canceled, _) = service.update(&sid, "canceled").await;
    assert_eq!((status, &canceled["status"]), (200, &json!("canceled")));
    assert_eq!(
        without_message(&service.check(("To", &phone), &code).await),
        twilio_error(20404, 404)
    );
    assert_eq!(
        without_message(&service.update(&sid, "approved").await),
        twilio_error(20404, 404),
        "no longer pending"
    );

    // A new verification of the same number, approved by its owner without a code.
    service.deployment.clock.advance(30);
    let again = service.create(&phone, "sms").await;
    let new_sid = again.1["sid"].as_str().expect("sid").to_owned();
    assert_ne!(new_sid, sid, "a canceled verification is not re-sent");
    let (status, approved, _) = service.update(&new_sid, "approved").await;
    assert_eq!(
        (status, &approved["status"], &approved["valid"]),
        (200, &json!("approved"), &json!(true))
    );
    assert_eq!(
        without_message(&service.update(&new_sid, "paused").await),
        twilio_error(60200, 400)
    );
}

#[tokio::test]
async fn credentials_channels_and_parameters_are_checked() {
    let service = Service::new(Channel::Sms).await;
    let (_, phone) = fresh_phone();
    let path = format!("/v2/Services/{}/Verifications", service.sid);
    let form = [("To", phone.as_str()), ("Channel", "sms")];
    for auth in [None, Some((service.client.id.as_str(), "wrong")), Some(("nobody", "x"))] {
        let answer = call_send_otp(&service.deployment, twilio_request("POST", &path, auth, &form)).await;
        assert_eq!(without_message(&answer), twilio_error(20003, 401), "{auth:?}");
    }
    // A client without the permission, and another client's service.
    let bizmagnets_only = service.deployment.client_with(&[Permission::Bizmagnets]).await;
    let answer = call_send_otp(
        &service.deployment,
        twilio_request(
            "POST",
            &path,
            Some((&bizmagnets_only.id, &bizmagnets_only.secret)),
            &form,
        ),
    )
    .await;
    assert_eq!(without_message(&answer), twilio_error(20003, 401));
    let other = service.deployment.client().await;
    let answer = call_send_otp(
        &service.deployment,
        twilio_request("POST", &path, Some((&other.id, &other.secret)), &form),
    )
    .await;
    assert_eq!(without_message(&answer), twilio_error(20404, 404));

    assert_eq!(
        without_message(&service.create(&phone, "whatsapp").await),
        twilio_error(60223, 400)
    );
    assert_eq!(
        without_message(&service.create(&phone, "email").await),
        twilio_error(60223, 400)
    );
    assert_eq!(
        without_message(&service.create(&phone, "carrier-pigeon").await),
        twilio_error(60200, 400)
    );
    assert_eq!(
        without_message(&service.create("+1234", "sms").await),
        twilio_error(60200, 400)
    );
    assert_eq!(
        without_message(&service.create(&fresh_email(), "sms").await),
        twilio_error(60200, 400)
    );
    assert!(sms_to(&phone).is_empty(), "nothing was sent");
    // A refused channel gave back what it spent: the next right request goes out.
    assert_eq!(service.create(&phone, "sms").await.0, 201);

    let check = format!("/v2/Services/{}/VerificationCheck", service.sid);
    let auth = Some((service.client.id.as_str(), service.client.secret.as_str()));
    for bad in [
        vec![("To", phone.as_str())],
        vec![("Code", "123456")],
        vec![("To", phone.as_str()), ("Code", "12ab")],
    ] {
        let answer = call_verify(&service.deployment, twilio_request("POST", &check, auth, &bad)).await;
        assert_eq!(without_message(&answer), twilio_error(60200, 400), "{bad:?}");
    }
    let json_body = otp_tests::api_request(
        &check,
        &[("content-type", "application/json")],
        &json!({"To": phone, "Code": "123456"}).to_string(),
    );
    let (status, body, _) = call_verify(&service.deployment, json_body).await;
    assert_eq!(status, 401, "credentials first: {body}");
}

#[tokio::test]
async fn another_client_never_sees_nor_touches_a_verification() {
    let service = Service::new(Channel::Sms).await;
    let (_, phone) = fresh_phone();
    let created = service.create(&phone, "sms").await;
    let sid = created.1["sid"].as_str().expect("sid").to_owned();
    let code = last_code(&phone);

    // Another client, through its own service: A's verification does not exist for it.
    let other = service.deployment.client().await;
    let other_service = service.deployment.config(&other, Channel::Sms, 6, 600, "{code}").await;
    let auth = Some((other.id.as_str(), other.secret.as_str()));
    let at = |tail: &str| format!("/v2/Services/{other_service}/{tail}");
    let fetch = twilio_request("GET", &at(&format!("Verifications/{sid}")), auth, &[]);
    assert_eq!(
        without_message(&call_verify(&service.deployment, fetch).await),
        twilio_error(20404, 404)
    );
    let cancel = twilio_request(
        "POST",
        &at(&format!("Verifications/{sid}")),
        auth,
        &[("Status", "canceled")],
    );
    assert_eq!(
        without_message(&call_verify(&service.deployment, cancel).await),
        twilio_error(20404, 404)
    );
    for named in [("VerificationSid", sid.as_str()), ("To", phone.as_str())] {
        let check = twilio_request("POST", &at("VerificationCheck"), auth, &[named, ("Code", &code)]);
        assert_eq!(
            without_message(&call_verify(&service.deployment, check).await),
            twilio_error(20404, 404),
            "{named:?}"
        );
    }
    assert_eq!(
        service.deployment.attempts_on(&phone).await,
        0,
        "none of that counted an attempt on A's"
    );

    // Without credentials, or with wrong ones: 401, and nothing settled.
    let path = format!("/v2/Services/{}/Verifications/{sid}", service.sid);
    for auth in [None, Some((service.client.id.as_str(), "wrong"))] {
        let fetch = call_verify(&service.deployment, twilio_request("GET", &path, auth, &[])).await;
        assert_eq!(without_message(&fetch), twilio_error(20003, 401), "{auth:?}");
        let approve = twilio_request("POST", &path, auth, &[("Status", "approved")]);
        assert_eq!(
            without_message(&call_verify(&service.deployment, approve).await),
            twilio_error(20003, 401)
        );
    }
    let (status, checked, _) = service.check(("To", &phone), &code).await;
    assert_eq!(
        (status, &checked["status"]),
        (200, &json!("approved")),
        "A's code still works, once"
    );
}

#[tokio::test]
async fn expired_verifications_cannot_be_settled_and_odd_ids_name_nothing() {
    let service = Service::new(Channel::Sms).await;
    let (_, phone) = fresh_phone();
    let created = service.create(&phone, "sms").await;
    let sid = created.1["sid"].as_str().expect("sid").to_owned();
    service.deployment.clock.advance(600);
    let (status, fetched, _) = service.fetch(&sid).await;
    assert_eq!((status, &fetched["status"]), (200, &json!("expired")));
    assert_eq!(
        without_message(&service.update(&sid, "approved").await),
        twilio_error(20404, 404)
    );
    assert_eq!(
        without_message(&service.check(("To", &phone), &last_code(&phone)).await),
        twilio_error(20404, 404)
    );

    // Ids longer than any key: not found or unauthorized, never a backend fault.
    let long = "x".repeat(3_000);
    assert_eq!(without_message(&service.fetch(&long).await), twilio_error(20404, 404));
    let path = format!("/v2/Services/{long}/Verifications");
    let auth = Some((service.client.id.as_str(), service.client.secret.as_str()));
    let answer = call_send_otp(
        &service.deployment,
        twilio_request("POST", &path, auth, &[("To", &phone), ("Channel", "sms")]),
    )
    .await;
    assert_eq!(without_message(&answer), twilio_error(20404, 404));
    let path = format!("/v2/Services/{}/Verifications", service.sid);
    let answer = call_send_otp(
        &service.deployment,
        twilio_request(
            "POST",
            &path,
            Some((&long, "secret")),
            &[("To", &phone), ("Channel", "sms")],
        ),
    )
    .await;
    assert_eq!(without_message(&answer), twilio_error(20003, 401));
}

#[tokio::test]
async fn countries_and_pumped_number_ranges_are_refused_as_twilio_names_them() {
    let deployment = Deployment::with(&[("SMS_ALLOWED_COUNTRIES", "IN")], Default::default()).await;
    let limits = otp_shared::ports::ClientLimits {
        sends_per_hour: None,
        sends_per_number_range_per_hour: Some(2),
    };
    let client = deployment.client_limited(&Permission::ALL, limits).await;
    let sid = deployment.config(&client, Channel::Sms, 6, 600, "{code}").await;
    let service = Service::of(deployment, client, sid);

    assert_eq!(
        without_message(&service.create("+12015550123", "sms").await),
        twilio_error(60605, 403)
    );
    // Three numbers of one range: the range's budget (2 an hour for this client) blocks the third.
    for number in ["+919876543211", "+919876543212"] {
        assert_eq!(service.create(number, "sms").await.0, 201, "{number}");
    }
    let (status, body, retry_after) = service.create("+919876543213", "sms").await;
    assert_eq!(without_message(&(status, body, None)), twilio_error(60410, 403));
    assert!(retry_after.is_some_and(|seconds| seconds.parse::<u64>().is_ok_and(|s| s > 0)));
    assert!(sms_to("+919876543213").is_empty());
}

/// The SID forms of a client's id and a configuration's uid: `AC` / `VA` and the UUID's
/// 32 hex digits, as Twilio's SDKs check them before any request.
fn sid_of(prefix: &str, uuid: &str) -> String {
    format!("{prefix}{}", uuid.replace('-', ""))
}

#[tokio::test]
async fn account_and_service_sids_work_wherever_their_uuids_do() {
    let service = Service::new(Channel::Sms).await;
    let (account_sid, service_sid) = (sid_of("AC", &service.client.id), sid_of("VA", &service.sid));
    let pattern = |value: &Value, prefix: &str| {
        value.as_str().is_some_and(|text| {
            text.len() == 34
                && text.starts_with(prefix)
                && text[2..]
                    .bytes()
                    .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        })
    };
    let (_, phone) = fresh_phone();
    let auth = Some((account_sid.as_str(), service.client.secret.as_str()));
    let path = format!("/v2/Services/{service_sid}/Verifications");
    let request = twilio_request("POST", &path, auth, &[("To", &phone), ("Channel", "sms")]);
    let (status, created, _) = call_send_otp(&service.deployment, request).await;
    assert_eq!(status, 201, "{created}");
    // Resources show the SID forms, whichever form the request used.
    assert_eq!(
        (created["account_sid"].clone(), created["service_sid"].clone()),
        (json!(account_sid), json!(service_sid))
    );
    assert!(
        pattern(&created["account_sid"], "AC") && pattern(&created["service_sid"], "VA"),
        "{created}"
    );
    assert_eq!(
        created["url"],
        json!(format!(
            "https://localhost/v2/Services/{service_sid}/Verifications/{}",
            created["sid"].as_str().unwrap_or_default()
        ))
    );

    // One client, one verification: the UUID forms find the one the SIDs opened, and
    // show the SIDs all the same.
    let code = last_code(&phone);
    let (status, checked, _) = service.check(("To", &phone), &code).await;
    assert_eq!(
        (status, checked["status"].clone()),
        (200, json!("approved")),
        "{checked}"
    );
    assert_eq!(checked["sid"], created["sid"]);
    assert_eq!(checked["account_sid"], json!(account_sid));

    // Anything that only looks like a SID is no id: the credentials fail, the service is
    // not found.
    let upper = format!("AC{}", service.client.id.replace('-', "").to_uppercase());
    let request = twilio_request(
        "POST",
        &path,
        Some((&upper, &service.client.secret)),
        &[("To", &phone), ("Channel", "sms")],
    );
    assert_eq!(call_send_otp(&service.deployment, request).await.0, 401);
    let other = format!(
        "/v2/Services/{}/Verifications",
        sid_of("VA", &uuid::Uuid::new_v4().to_string())
    );
    let request = twilio_request("POST", &other, auth, &[("To", &phone), ("Channel", "sms")]);
    assert_eq!(call_send_otp(&service.deployment, request).await.0, 404);

    // BizMagnets takes them too: the API key's id and the configuration in the path.
    let secret = service
        .client
        .api_key
        .split_once('.')
        .map(|(_, secret)| secret)
        .unwrap_or_default();
    let key = format!("{account_sid}.{secret}");
    let (national, _) = fresh_phone();
    let send = otp_tests::api_request(
        &format!("/otp/{service_sid}/sendOTP"),
        &[("content-type", "application/json"), ("x-api-key", &key)],
        &json!({"name": "Asha", "mobileNumber": national, "countryCode": "+91"}).to_string(),
    );
    let (status, answer, _) = call_send_otp(&service.deployment, send).await;
    assert_eq!(status, 201, "{answer}");

    // otp-admin prints the SIDs and takes them.
    let shown = service
        .deployment
        .admin(&["client", "show", "--client", &account_sid])
        .await
        .expect("shown");
    assert_eq!(
        (shown["client_id"].clone(), shown["account_sid"].clone()),
        (json!(service.client.id), json!(account_sid))
    );
    let shown = service
        .deployment
        .admin(&["config", "show", "--config", &service_sid])
        .await
        .expect("shown");
    assert_eq!(
        (shown["otp_config_uid"].clone(), shown["service_sid"].clone()),
        (json!(service.sid), json!(service_sid))
    );
}

#[tokio::test]
async fn an_api_key_stands_for_its_client_until_revoked() {
    let service = Service::with_api_key(Channel::Sms).await;
    let (key_sid, key_secret) = service.credentials.clone();
    assert!(otp_shared::sid::is_sid("SK", &key_sid), "{key_sid}");
    let account_sid = sid_of("AC", &service.client.id);

    // The key sends and checks as the client: the same verification, the client's SIDs.
    let (_, phone) = fresh_phone();
    let (status, created, _) = service.create(&phone, "sms").await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["account_sid"], json!(account_sid));
    let (status, checked, _) = service.check(("To", &phone), &last_code(&phone)).await;
    assert_eq!((status, checked["status"].clone()), (200, json!("approved")));

    // Listed without its secret; the client shows its keys.
    let listed = service
        .deployment
        .admin(&["client", "key", "list", "--client", &account_sid])
        .await
        .expect("listed");
    assert_eq!(listed["keys"].as_array().map(Vec::len), Some(1), "{listed}");
    assert_eq!(
        (listed["keys"][0]["sid"].clone(), listed["keys"][0]["name"].clone()),
        (json!(key_sid), json!("checkout"))
    );
    assert!(!listed.to_string().contains(&key_secret), "a secret is shown once");

    // A wrong secret; the key's secret with the auth token's username; the auth token
    // under the key's SID; a key of another client: all refused, as Twilio refuses them.
    let path = format!("/v2/Services/{}/Verifications", service.sid);
    let (_, other_phone) = fresh_phone();
    let form = [("To", other_phone.as_str()), ("Channel", "sms")];
    let (other_sid, other_secret) = api_key_of(&service.deployment, &service.deployment.client().await.id).await;
    let forged = format!("{}.{}", service.client.id, "0".repeat(64));
    let mixed = format!(
        "{}.{}",
        service.client.id,
        other_secret
            .rsplit_once('.')
            .map(|(_, random)| random)
            .unwrap_or_default()
    );
    for auth in [
        (key_sid.as_str(), forged.as_str()),
        (service.client.id.as_str(), key_secret.as_str()),
        (key_sid.as_str(), service.client.secret.as_str()),
        (other_sid.as_str(), key_secret.as_str()),
        (other_sid.as_str(), mixed.as_str()),
        (key_sid.as_str(), other_secret.as_str()),
    ] {
        let answer = call_send_otp(&service.deployment, twilio_request("POST", &path, Some(auth), &form)).await;
        assert_eq!(without_message(&answer), twilio_error(20003, 401), "{auth:?}");
    }
    // Another client's key on this client's service is that client's: not found.
    let answer = call_send_otp(
        &service.deployment,
        twilio_request("POST", &path, Some((&other_sid, &other_secret)), &form),
    )
    .await;
    assert_eq!(without_message(&answer), twilio_error(20404, 404));
    assert!(sms_to(&other_phone).is_empty(), "nothing was sent");

    // A disabled client's keys fail with it.
    let client = service.client.id.as_str();
    service
        .deployment
        .admin(&["client", "disable", "--client", client])
        .await
        .expect("disabled");
    assert_eq!(service.create(&other_phone, "sms").await.0, 401);
    service
        .deployment
        .admin(&["client", "enable", "--client", client])
        .await
        .expect("enabled");
    assert_eq!(service.create(&other_phone, "sms").await.0, 201);

    // Revoked: the next request is refused, the auth token still works, and the key is
    // gone from the list.
    let revoked = service
        .deployment
        .admin(&["client", "key", "revoke", "--client", client, "--key", &key_sid])
        .await
        .expect("revoked");
    assert_eq!(revoked["revoked"], json!(true));
    let answer = service.check(("To", &other_phone), "000000").await;
    assert_eq!(without_message(&answer), twilio_error(20003, 401));
    let by_token = twilio_request(
        "POST",
        &format!("/v2/Services/{}/VerificationCheck", service.sid),
        Some((&service.client.id, &service.client.secret)),
        &[("To", &other_phone), ("Code", &last_code(&other_phone))],
    );
    let (status, checked, _) = call_verify(&service.deployment, by_token).await;
    assert_eq!(
        (status, checked["status"].clone()),
        (200, json!("approved")),
        "{checked}"
    );
    let listed = service
        .deployment
        .admin(&["client", "key", "list", "--client", client])
        .await
        .expect("listed");
    assert_eq!(listed["keys"], json!([]));
    assert_eq!(
        service
            .deployment
            .admin(&["client", "key", "revoke", "--client", client, "--key", &key_sid])
            .await,
        Err(format!("client {client} has no key {key_sid}"))
    );
}

#[tokio::test]
async fn a_client_has_at_most_twenty_keys_and_no_client_has_none() {
    let deployment = Deployment::new().await;
    let client = deployment.client().await;
    let create = ["client", "key", "create", "--client", client.id.as_str()];
    let made = futures_util::future::join_all((0..20).map(|_| deployment.admin(&create))).await;
    assert!(made.iter().all(Result::is_ok), "{made:?}");
    let refused = deployment
        .admin(&["client", "key", "create", "--client", &client.id])
        .await
        .expect_err("a twenty-first key");
    assert!(refused.contains("has 20 keys"), "{refused}");
    let listed = deployment
        .admin(&["client", "key", "list", "--client", &client.id])
        .await
        .expect("listed");
    assert_eq!(listed["keys"].as_array().map(Vec::len), Some(20));
    // One revoked makes room for one more.
    let sid = listed["keys"][0]["sid"].as_str().expect("a sid").to_owned();
    deployment
        .admin(&["client", "key", "revoke", "--client", &client.id, "--key", &sid])
        .await
        .expect("revoked");
    deployment
        .admin(&["client", "key", "create", "--client", &client.id])
        .await
        .expect("room for one");
    let nobody = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        deployment
            .admin(&["client", "key", "create", "--client", &nobody])
            .await,
        Err(format!("no client {nobody}"))
    );
}

#[tokio::test]
async fn a_service_sends_by_every_channel_it_enables_each_with_its_own_template() {
    let service = Service::new(Channel::Sms).await;
    let (_, phone) = fresh_phone();
    let address = fresh_email();
    // One channel: email is 60223, and nothing goes out.
    assert_eq!(
        without_message(&service.create(&address, "email").await),
        twilio_error(60223, 400)
    );
    assert!(emails_to(&address).is_empty());

    let shown = set_channel(&service, "email", "{code} is your {sender} sign-in code", "Acme Mail")
        .await
        .expect("email enabled");
    assert_eq!(shown["channels"], json!(["sms", "email"]));
    assert_eq!(shown["channel"], json!("sms"), "the default stays");

    // By email, with the email channel's template and sender; by SMS, with the service's.
    let (status, created, _) = service.create(&address, "email").await;
    assert_eq!((status, created["channel"].clone()), (201, json!("email")), "{created}");
    let email = emails_to(&address).pop().expect("an email");
    assert!(email.body.contains("is your Acme Mail sign-in code"), "{}", email.body);
    let (status, checked, _) = service.check(("To", &address), &last_email_code(&address)).await;
    assert_eq!(
        (status, checked["status"].clone(), checked["channel"].clone()),
        (200, json!("approved"), json!("email"))
    );
    let (status, created, _) = service.create(&phone, "sms").await;
    assert_eq!((status, created["channel"].clone()), (201, json!("sms")), "{created}");
    assert!(sms_to(&phone).pop().expect("an SMS").starts_with("Your Acme code is"));
    // A channel it still lacks; a phone number for email.
    assert_eq!(
        without_message(&service.create(&phone, "whatsapp").await),
        twilio_error(60223, 400)
    );
    assert_eq!(service.create(&phone, "email").await.0, 400);

    // BizMagnets names no channel: the default's.
    let (national, by_default) = fresh_phone();
    let key = service.client.api_key.clone();
    let send = otp_tests::api_request(
        &format!("/otp/{}/sendOTP", service.sid),
        &[("content-type", "application/json"), ("x-api-key", &key)],
        &json!({"name": "Asha", "mobileNumber": national, "countryCode": "+91"}).to_string(),
    );
    assert_eq!(call_send_otp(&service.deployment, send).await.0, 201);
    assert_eq!(sms_to(&by_default).len(), 1);

    // The default is not set as another channel, nor another made the default.
    let refused = set_channel(&service, "sms", "{code}", "Acme")
        .await
        .expect_err("the default");
    assert!(refused.contains("default channel"), "{refused}");
    let refused = on_config(&service, &["config", "update", "--channel", "email"])
        .await
        .expect_err("email is another channel");
    assert!(refused.contains("remove it first"), "{refused}");
    // Its template is checked as the default's is.
    let refused = set_channel(&service, "email", "no code", "Acme")
        .await
        .expect_err("no {code}");
    assert!(refused.contains("{code}"), "{refused}");

    // Removed: email is 60223 again.
    let shown = on_config(&service, &["config", "channel", "remove", "--channel", "email"])
        .await
        .expect("removed");
    assert_eq!(shown["channels"], json!(["sms"]));
    let other = fresh_email();
    assert_eq!(
        without_message(&service.create(&other, "email").await),
        twilio_error(60223, 400)
    );
    assert_eq!(
        on_config(&service, &["config", "channel", "remove", "--channel", "email"]).await,
        Err(format!(
            "configuration {} has no email channel besides its default",
            service.sid
        ))
    );
}

/// `otp-admin config channel set` of the service.
async fn set_channel(service: &Service, channel: &str, template: &str, sender: &str) -> Result<Value, String> {
    let words = [
        "config",
        "channel",
        "set",
        "--channel",
        channel,
        "--template",
        template,
        "--sender",
        sender,
    ];
    on_config(service, &words).await
}

/// `otp-admin <words> --config <the service's uid>`.
async fn on_config(service: &Service, words: &[&str]) -> Result<Value, String> {
    let mut args = words.to_vec();
    args.extend(["--config", service.sid.as_str()]);
    service.deployment.admin(&args).await
}

#[tokio::test]
async fn every_path_under_v2_answers_in_twilios_shape() {
    let service = Service::new(Channel::Sms).await;
    for (method, path) in [
        ("GET", "/v2/Forms".to_owned()),
        ("POST", format!("/v2/Services/{}/Unknown", service.sid)),
        ("GET", format!("/v2/Services/{}/Verifications/x/y", service.sid)),
    ] {
        let request = twilio_request(method, &path, service.auth(), &[]);
        let answer = call_generate(&service.deployment, request).await;
        assert_eq!(without_message(&answer), twilio_error(20404, 404), "{method} {path}");
    }
    // A route of the service by another method: 405, in Twilio's shape, with `Allow`.
    let path = format!("/v2/Services/{}/VerificationCheck", service.sid);
    let request = twilio_request("GET", &path, service.auth(), &[]);
    let response = generate::http_handler::function_handler(&service.deployment.sender, request)
        .await
        .expect("handlers never fail");
    assert_eq!(
        (response.status().as_u16(), response.headers()["allow"].to_str().ok()),
        (405, Some("POST"))
    );
}

#[tokio::test]
async fn a_custom_friendly_name_reaches_the_message_cleaned() {
    let service = Service::new(Channel::Sms).await;
    let (_, phone) = fresh_phone();
    let path = format!("/v2/Services/{}/Verifications", service.sid);
    let form = [
        ("To", phone.as_str()),
        ("Channel", "sms"),
        ("CustomFriendlyName", "Acme\r\n{code}"),
    ];
    let (status, body, _) = call_send_otp(
        &service.deployment,
        twilio_request("POST", &path, service.auth(), &form),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let code = last_code(&phone);
    // Neither a line break nor a placeholder of the caller's reaches the text.
    assert_eq!(sms_to(&phone), [format!("Your Acmecode code is {code}")]);
}
