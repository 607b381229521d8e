//! Twilio's Verification Attempts: each delivered message is one, converted when its code
//! is verified, listed (filtered, newest first, a page at a time, pages named by tokens
//! only the client can use), fetched and summarised for the calling client alone.

use otp_shared::clock::Clock;
use otp_shared::ports::Channel;
use otp_tests::{fresh_phone, last_code};
use serde_json::{Value, json};

use crate::twilio::{Service, twilio_error, twilio_request, without_message};
use crate::*;

impl Service {
    /// `GET <path>` with this service's client's credentials.
    async fn get(&self, path: &str) -> Answer {
        call_verify(&self.deployment, twilio_request("GET", path, self.auth(), &[])).await
    }
}

/// The path and query of an absolute URL the service gave (`https://host/v2/...`).
fn path_of(url: &Value) -> String {
    let url = url.as_str().expect("a URL");
    let rest = url.split_once("://").expect("absolute").1;
    rest[rest.find('/').expect("a path")..].to_owned()
}

#[tokio::test]
async fn attempts_are_listed_paged_fetched_and_summarised_for_their_client_alone() {
    let service = Service::new(Channel::Sms).await;
    let clock = &service.deployment.clock;
    // Three messages to three numbers, a minute apart; the second's code is verified.
    let numbers: Vec<String> = (0..3).map(|_| fresh_phone().1).collect();
    let mut verifications = Vec::new();
    for to in &numbers {
        let (status, created, _) = service.create(to, "sms").await;
        assert_eq!(status, 201, "{created}");
        verifications.push(created["sid"].as_str().expect("a sid").to_owned());
        clock.advance(60);
    }
    let (status, checked, _) = service.check(("To", &numbers[1]), &last_code(&numbers[1])).await;
    assert_eq!((status, &checked["status"]), (200, &json!("approved")));

    let (status, listed, _) = service.get("/v2/Attempts").await;
    assert_eq!(status, 200, "{listed}");
    let attempts = listed["attempts"].as_array().expect("a list");
    let sent_to: Vec<&str> = attempts
        .iter()
        .map(|a| a["channel_data"]["to"].as_str().unwrap())
        .collect();
    assert_eq!(sent_to, [&numbers[2], &numbers[1], &numbers[0]], "newest first");
    let second = &attempts[1];
    assert_eq!(second["conversion_status"], "converted");
    assert_eq!(attempts[0]["conversion_status"], "unconverted");
    assert_eq!(second["verification_sid"], verifications[1].as_str());
    assert_eq!(
        second["service_sid"],
        otp_shared::sid::shown("VA", &service.sid).as_ref()
    );
    assert_eq!(
        second["account_sid"],
        otp_shared::sid::shown("AC", &service.client.id).as_ref()
    );
    assert_eq!(second["channel"], "sms");
    assert_eq!(second["price"], json!({"value": "0.0500", "currency": "usd"}));
    let sid = second["sid"].as_str().expect("a sid");
    assert!(otp_shared::sid::is_sid("VL", sid), "{sid}");
    assert!(
        second["url"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v2/Attempts/{sid}"))
    );
    assert_eq!(listed["meta"]["key"], "attempts");
    assert_eq!(listed["meta"]["next_page_url"], Value::Null);

    // One by its sid; the same as listed.
    let (status, fetched, _) = service.get(&format!("/v2/Attempts/{sid}")).await;
    assert_eq!((status, &fetched), (200, second));

    // Pages of two: the next page's absolute URL, as the SDKs follow it.
    let (_, first, _) = service.get("/v2/Attempts?PageSize=2").await;
    assert_eq!(first["attempts"].as_array().unwrap().len(), 2);
    let next = &first["meta"]["next_page_url"];
    assert!(next.as_str().unwrap().starts_with("https://"), "{next}");
    let (status, rest, _) = service.get(&path_of(next)).await;
    assert_eq!(status, 200, "{rest}");
    assert_eq!(rest["attempts"][0]["channel_data"]["to"], numbers[0].as_str());
    assert_eq!(rest["meta"]["next_page_url"], Value::Null);
    assert_eq!(rest["meta"]["page"], 1);

    // Filters.
    let count = |answer: &Answer| answer.1["attempts"].as_array().map_or(0, Vec::len);
    assert_eq!(count(&service.get("/v2/Attempts?Status=converted").await), 1);
    assert_eq!(count(&service.get("/v2/Attempts?Status=unconverted").await), 2);
    let to = numbers[0].replace('+', "%2B");
    assert_eq!(
        count(&service.get(&format!("/v2/Attempts?ChannelData.To={to}")).await),
        1
    );
    let by_verification = format!("/v2/Attempts?VerificationSid={}", verifications[2]);
    assert_eq!(count(&service.get(&by_verification).await), 1);
    assert_eq!(count(&service.get("/v2/Attempts?Country=IN&Channel=sms").await), 3);
    assert_eq!(count(&service.get("/v2/Attempts?Country=GB").await), 0);
    assert_eq!(count(&service.get("/v2/Attempts?Channel=email").await), 0);
    let after = otp_shared::clock::rfc3339(clock.now() - 150);
    assert_eq!(
        count(&service.get(&format!("/v2/Attempts?DateCreatedAfter={after}")).await),
        2
    );
    // A filter given empty filters nothing; a channel is named as Twilio names it.
    assert_eq!(count(&service.get("/v2/Attempts?Channel=&Status=&Country=").await), 3);
    for channel in ["pigeon", "SMS"] {
        assert_eq!(
            without_message(&service.get(&format!("/v2/Attempts?Channel={channel}")).await),
            twilio_error(60200, 400),
            "{channel}"
        );
    }

    // The summary: all of them, then one prefix's.
    let (status, summary, _) = service.get("/v2/Attempts/Summary").await;
    assert_eq!(status, 200, "{summary}");
    assert_eq!(
        (
            &summary["total_attempts"],
            &summary["total_converted"],
            &summary["total_unconverted"],
            &summary["conversion_rate_percentage"]
        ),
        (&json!(3), &json!(1), &json!(2), &json!("33.33"))
    );
    let prefix = numbers[1][..numbers[1].len() - 1].replace('+', "%2B");
    let (_, one, _) = service
        .get(&format!("/v2/Attempts/Summary?DestinationPrefix={prefix}"))
        .await;
    assert_eq!(one["total_converted"], 1, "{one}");
    assert_eq!(
        without_message(&service.get("/v2/Attempts/Summary?DestinationPrefix=%2B%2B91").await),
        twilio_error(60200, 400)
    );

    // The operator's view of the same: any tenant's, in all and by country.
    let tenant = format!("client:{}", service.client.id);
    let deployment = &service.deployment;
    let summary = deployment
        .admin(&["attempts", "summary", "--tenant", &tenant, "--days", "2"])
        .await
        .expect("attempts summary");
    assert_eq!(
        (
            &summary["attempts"],
            &summary["converted"],
            &summary["conversion_rate_percentage"]
        ),
        (&json!(3), &json!(1), &json!("33.33"))
    );
    assert_eq!(summary["by_country"]["IN"]["attempts"], 3, "{summary}");
    let listed = deployment
        .admin(&[
            "attempts",
            "list",
            "--tenant",
            &tenant,
            "--days",
            "2",
            "--status",
            "converted",
        ])
        .await
        .expect("attempts list");
    assert_eq!(listed["attempts"][0]["to"], numbers[1].as_str(), "{listed}");
    assert_eq!(
        (listed["attempts"].as_array().map(Vec::len), &listed["more"]),
        (Some(1), &json!(false))
    );

    // Another client of the deployment sees none of it, and none of its pages.
    let other = Service::of_deployment(service.deployment.sharing_table(Default::default()).await, Channel::Sms).await;
    assert_eq!(count(&other.get("/v2/Attempts").await), 0);
    assert_eq!(other.get(&format!("/v2/Attempts/{sid}")).await.0, 404);
    assert_eq!(other.get(&path_of(next)).await.0, 404, "a page token is its client's");
    let (_, theirs, _) = other.get("/v2/Attempts/Summary").await;
    assert_eq!(theirs["total_attempts"], 0);
    // Tampered: no page at all.
    let tampered = path_of(next).replace("PageToken=PT", "PageToken=PT9");
    assert_eq!(service.get(&tampered).await.0, 404);
    // Without credentials: 20003.
    let anonymous = twilio_request("GET", "/v2/Attempts", None, &[]);
    assert_eq!(call_verify(&service.deployment, anonymous).await.0, 401);
}
