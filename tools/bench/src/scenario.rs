//! What each function is asked to do in the benchmark: the events of one operation, each
//! on its own destination (so no budget refuses them), and the state they need prepared
//! beforehand (open challenges with known codes for resend and verify).

use std::sync::{Arc, Mutex};

use otp_shared::App;
use otp_shared::destination::Destination;
use otp_shared::engine::{Dispatch, SendOrder};
use otp_shared::messages::{Asked, Writing};
use otp_shared::ports::{Channel, ConversionStore, Delivery, DeliveryError, Message};
use otp_shared::scope::{Product, Scope, UserRef};
use otp_tests::{EVENTS_ISSUER, api_event, user_token};
use rand::RngExt;
use serde_json::json;

/// An operation of a function, as the benchmark drives it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    Floor,
    Register,
    Resend,
    VerifyWrong,
    VerifyRight,
    SendOtp,
    Generate,
}

impl Operation {
    pub const ALL: [Operation; 7] = [
        Operation::Floor,
        Operation::Register,
        Operation::Resend,
        Operation::VerifyWrong,
        Operation::VerifyRight,
        Operation::SendOtp,
        Operation::Generate,
    ];

    /// The release binary that serves it.
    pub fn binary(self) -> &'static str {
        match self {
            Self::Floor => "bench-floor",
            Self::Register => "register",
            Self::Resend => "resend",
            Self::VerifyWrong | Self::VerifyRight => "verify",
            Self::SendOtp => "send-otp",
            Self::Generate => "generate",
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Floor => "floor: one UpdateItem",
            Self::Register => "register (KGen)",
            Self::Resend => "resend (KGen)",
            Self::VerifyWrong => "verify, wrong code (KGen)",
            Self::VerifyRight => "verify, right code (KGen)",
            Self::SendOtp => "send-otp (BizMagnets)",
            Self::Generate => "generate (ZAP, email)",
        }
    }

    /// The status a successful run of it answers.
    pub fn expected_status(self) -> u16 {
        match self {
            Self::VerifyWrong => 400,
            Self::SendOtp => 201,
            _ => 200,
        }
    }
}

/// A valid Indian mobile number nobody else uses: (national, destination).
fn fresh_phone() -> (String, Destination) {
    let (national, e164) = otp_tests::fresh_phone();
    let destination = Destination::e164(&e164).expect("the test support's numbers are valid");
    (national, destination)
}

/// A source address of its own, so that no address budget refuses a request.
pub fn fresh_ip() -> String {
    let mut rng = rand::rng();
    format!("198.18.{}.{}", rng.random_range(0..=255u8), rng.random_range(1..=254u8))
}

/// A delivery that keeps each code it was asked to deliver (for preparing verifies), and
/// delivers nothing.
#[derive(Debug, Clone, Default)]
pub struct KeepCodes(pub Arc<Mutex<Vec<String>>>);

impl Delivery for KeepCodes {
    async fn deliver(&self, to: &Destination, message: &Message) -> Result<Channel, DeliveryError> {
        let code: String = message
            .text
            .split(|c: char| !c.is_ascii_digit())
            .find(|word| word.len() >= 6)
            .unwrap_or_default()
            .to_owned();
        self.0.lock().expect("codes").push(code);
        Ok(Channel::of(to))
    }
}

/// An open challenge, prepared before the runs: its user, phone, handle and code.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub user: String,
    pub national: String,
    pub auth_code: String,
    pub code: String,
}

/// Opens `count` challenges through the engine itself, each for its own user and phone.
pub async fn prepare<S>(app: &App<S, KeepCodes>, count: usize) -> Result<Vec<Prepared>, String>
where
    S: otp_shared::ports::ChallengeStore
        + otp_shared::ports::QuotaStore
        + ConversionStore
        + otp_shared::ports::SpendStore
        + otp_shared::ports::AttemptLog
        + otp_shared::ports::ClientRegistry,
{
    let mut prepared = Vec::with_capacity(count);
    for _ in 0..count {
        let user = format!("user-{}", uuid::Uuid::new_v4().simple());
        let (national, destination) = fresh_phone();
        let user_ref = UserRef::new(Product::Kgen, EVENTS_ISSUER, &user);
        let requester = otp_shared::engine::Requester {
            tenant: otp_shared::tenant::Tenant::Issuer(user_ref.realm()),
            source_ip: fresh_ip().parse().ok(),
            dialect: "kgen",
        };
        let order = SendOrder {
            scope: Scope::User(user_ref),
            destination: destination.clone(),
            requester: &requester,
            indexed_by_id: false,
            channel: None,
        };
        let dispatch = Dispatch {
            limits: Default::default(),
            profile: app.otp.policy.default_profile(),
            channel: None,
            to: None,
            message: (),
            service: None,
        };
        let compose =
            |_: &(), writing: Writing<'_>| app.messages.for_destination(&destination, writing, &Asked::default());
        let (_, sent) = app
            .otp
            .deliver(order, async { Ok(()) }, |_| Ok(dispatch), &app.delivery, compose)
            .await
            .map_err(|e| format!("prepare: {e}"))?;
        let code = app.delivery.0.lock().expect("codes").pop().unwrap_or_default();
        prepared.push(Prepared {
            user,
            national,
            auth_code: sent.auth_code,
            code,
        });
    }
    Ok(prepared)
}

/// What the benchmark's events need: the client, its configuration, prepared challenges.
#[derive(Debug, Clone, Default)]
pub struct Fixtures {
    pub api_key: String,
    pub config_uid: String,
    /// Open challenges for the operation being measured (resend, verify).
    pub prepared: Vec<Prepared>,
}

/// The `index`-th event of `operation`.
pub fn event(operation: Operation, index: usize, fixtures: &Fixtures) -> String {
    let ip = fresh_ip();
    let kgen_verify = |prepared: &Prepared, otp: &str| {
        api_event(
            "/fe/users/auth/otp/verify",
            &[
                ("content-type", "application/json"),
                ("user-jwt-token", &user_token(&prepared.user)),
            ],
            &json!({"phone_number": prepared.national, "countryCode": "+91", "authCode": prepared.auth_code, "otp": otp}).to_string(),
            &ip,
        )
    };
    match operation {
        Operation::Floor => api_event("/floor", &[], &json!({}).to_string(), &ip),
        Operation::Register => {
            let (national, _) = fresh_phone();
            let user = format!("user-{}", uuid::Uuid::new_v4().simple());
            api_event(
                "/fe/users/auth/otp/register",
                &[
                    ("content-type", "application/json"),
                    ("user-jwt-token", &user_token(&user)),
                ],
                &json!({"phone_number": national, "countryCode": "+91"}).to_string(),
                &ip,
            )
        }
        Operation::Resend => {
            let prepared = &fixtures.prepared[index % fixtures.prepared.len()];
            api_event(
                "/fe/users/auth/otp/resend",
                &[
                    ("content-type", "application/json"),
                    ("user-jwt-token", &user_token(&prepared.user)),
                ],
                &json!({"phone_number": prepared.national, "countryCode": "+91"}).to_string(),
                &ip,
            )
        }
        Operation::VerifyWrong => {
            let prepared = &fixtures.prepared[index % fixtures.prepared.len()];
            let wrong = if prepared.code == "000000" { "111111" } else { "000000" };
            kgen_verify(prepared, wrong)
        }
        Operation::VerifyRight => {
            let prepared = &fixtures.prepared[index % fixtures.prepared.len()];
            kgen_verify(prepared, &prepared.code)
        }
        Operation::SendOtp => {
            let (national, _) = fresh_phone();
            api_event(
                &format!("/otp/{}/sendOTP", fixtures.config_uid),
                &[("content-type", "application/json"), ("x-api-key", &fixtures.api_key)],
                &json!({"name": "Asha", "mobileNumber": national, "countryCode": "+91"}).to_string(),
                &ip,
            )
        }
        Operation::Generate => {
            let address = otp_tests::fresh_email();
            api_event(
                "/v1/otp",
                &[("content-type", "application/json"), ("x-api-key", &fixtures.api_key)],
                &json!({"email": address, "userId": format!("user-{index}")}).to_string(),
                &ip,
            )
        }
    }
}
