//! Test support: the local AWS (moto, started once per test run on a free loopback port
//! unless `AWS_ENDPOINT_URL` names one), apps wired to it exactly as the functions wire
//! theirs, requests shaped as API Gateway delivers them, and the messages moto "sent".

pub mod audit;
pub mod meter;
pub mod openapi;
pub mod proxy;

pub use meter::{Meter, Usage};

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};

use lambda_http::{Body, Request, Response};
use otp_shared::App;
use otp_shared::app::NoDelivery;
use otp_shared::backend;
use otp_shared::callers::{api_key, generate_secret, hash_secret};
use otp_shared::clock::ManualClock;
use otp_shared::delivery::{Courier, SesEmail, SnsSms, Voice, WhatsApp};
use otp_shared::destination::Destination;
use otp_shared::policy::Profile;
use otp_shared::ports::{Channel, ClientRecord, ClientRegistry, ConfigRegistry, OtpConfig, Permission, UserDirectory};
use otp_shared::scope::UserRef;
use otp_shared::settings::Settings;
use otp_shared::store::{DynamoStore, create_table};
use rand::RngExt;
use serde_json::{Value, json};
pub use stand_ins::voice::StandIn as VoiceStandIn;
pub use stand_ins::whatsapp::StandIn;

/// The HS256 secret of the events in `events/` (local use only).
pub const EVENTS_JWT_SECRET: &str = "local-development-jwt-secret-not-for-production";
/// The client credentials of the proxy events in `events/` (local use only).
pub const EVENTS_CLIENT_ID: &str = "local-demo-client";
pub const EVENTS_CLIENT_SECRET: &str = "6c6f63616c2d64656d6f2d636c69656e742d7365637265742d6e6f742d70726f";
/// The secret half of the API key in the events (`<client id>.<secret>`; local use only).
pub const EVENTS_API_KEY_SECRET: &str = "6c6f63616c2d64656d6f2d6170692d6b65792d6e6f742d666f722d70726f64";
/// The OTP configuration the BizMagnets send event names.
pub const EVENTS_CONFIG_UID: &str = "local-demo-config";
/// The user the events' token speaks for.
pub const EVENTS_USER_ID: &str = "efkheikhwihewihefiwaaaaa";
/// The issuer of the events' token.
pub const EVENTS_ISSUER: &str = "d5b2e760-1b6c-4296-a89f-1da0ffe8c414";
pub const HMAC_KEYS: &str = "test-hmac-key-0123456789abcdef0123456789abcdef";
/// The sender identity of the deployments under test.
pub const EMAIL_FROM: &str = "otp@example.com";

/// A loopback port nothing listens on, for "backend unreachable" tests.
pub const CLOSED_ENDPOINT: &str = "http://127.0.0.1:9";

/// The root of the workspace.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the test crate lives in the workspace")
        .to_path_buf()
}

#[derive(Debug)]
pub struct LocalAws {
    pub endpoint: String,
    _server: Option<Child>,
}

/// The Python that has moto: `OTP_PYTHON`, else the project's virtual environment, else `python3`.
fn python() -> String {
    if let Ok(python) = std::env::var("OTP_PYTHON") {
        return python;
    }
    if let Ok(home) = std::env::var("HOME") {
        let venv = Path::new(&home).join(".cache/otp-service/venv/bin/python");
        if venv.exists() {
            return venv.display().to_string();
        }
    }
    "python3".to_owned()
}

/// Everything the functions logged during this test run, as the JSON lines Lambda would
/// collect. Installed before the first test touches the local AWS, so no event is missed.
#[derive(Debug, Clone, Default)]
pub struct CapturedLogs(Arc<Mutex<Vec<u8>>>);

impl Write for CapturedLogs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("log buffer").extend_from_slice(bytes);
        // The whole run's lines, for the audit once every test is done.
        static FILE: OnceLock<Mutex<Option<std::fs::File>>> = OnceLock::new();
        if let Some(file) = FILE
            .get_or_init(|| Mutex::new(audit::log_file()))
            .lock()
            .expect("log file")
            .as_mut()
        {
            file.write_all(bytes)?;
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn log_capture() -> &'static CapturedLogs {
    static LOGS: OnceLock<CapturedLogs> = OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = CapturedLogs::default();
        let writer = logs.clone();
        tracing::subscriber::set_global_default(otp_shared::logging::subscriber(move || writer.clone()))
            .expect("the only global subscriber of the test run");
        logs
    })
}

/// The log lines written so far.
pub fn captured_logs() -> String {
    String::from_utf8(log_capture().0.lock().expect("log buffer").clone()).expect("UTF-8 logs")
}

/// The local AWS of this test run.
pub fn local_aws() -> &'static LocalAws {
    static AWS: OnceLock<LocalAws> = OnceLock::new();
    log_capture();
    AWS.get_or_init(|| {
        if let Ok(endpoint) = std::env::var("AWS_ENDPOINT_URL") {
            return LocalAws {
                endpoint,
                _server: None,
            };
        }
        let script = workspace_root().join("tests/support/moto_server.py");
        let python = python();
        // What the server says goes to a file, read only if it fails to start (a pipe
        // nobody reads would stall it once full).
        let log = std::env::temp_dir().join(format!("otp-local-aws-{}.log", std::process::id()));
        let stderr = std::fs::File::create(&log).map_or_else(|_| Stdio::null(), Stdio::from);
        let missing = |what: &str| -> ! {
            let said = std::fs::read_to_string(&log).unwrap_or_default();
            let last = said
                .lines()
                .rev()
                .find(|line| !line.trim().is_empty())
                .unwrap_or("nothing");
            panic!(
                "the end-to-end tests need the local AWS, and it did not start: {what} (it said: {last}). \
                 `scripts/test.sh` installs moto[server] into ~/.cache/otp-service/venv and runs them; \
                 OTP_PYTHON names another Python that has it; AWS_ENDPOINT_URL names a local AWS \
                 already running. A bare `cargo test` runs the fast tier alone."
            )
        };
        let mut child = Command::new(&python)
            .arg(&script)
            .arg("--parent-pid")
            .arg(std::process::id().to_string())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .unwrap_or_else(|error| missing(&format!("{python} could not be run: {error}")));
        let mut port = String::new();
        let mut stdout = child.stdout.take().expect("piped stdout");
        let mut byte = [0u8; 1];
        while stdout.read(&mut byte).map(|n| n == 1).unwrap_or(false) && byte[0] != b'\n' {
            port.push(char::from(byte[0]));
        }
        let port: u16 = port
            .trim()
            .parse()
            .unwrap_or_else(|_| missing(&format!("{python} {} printed no port", script.display())));
        LocalAws {
            endpoint: format!("http://127.0.0.1:{port}"),
            _server: Some(child),
        }
    })
}

/// SDK configuration for the local AWS at `endpoint`: the functions' own.
pub fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    function_sdk_config(&[("AWS_ENDPOINT_URL", endpoint)])
}

/// The functions' own AWS configuration (`otp_shared::function_config`), from an
/// environment as Lambda's would be: this region, test credentials, and `endpoints`
/// (`AWS_ENDPOINT_URL`, `AWS_ENDPOINT_URL_<SERVICE>`).
pub fn function_sdk_config(endpoints: &[(&str, &str)]) -> aws_config::SdkConfig {
    let mut environment = vec![("AWS_REGION", "us-east-1")];
    environment.extend_from_slice(endpoints);
    otp_shared::function_config::sdk_config_from(
        aws_types::os_shim_internal::Env::from_slice(&environment),
        aws_sdk_dynamodb::config::Credentials::new("test", "test", None, None, "tests"),
    )
}

/// A plain HTTP/1.0 exchange with the local AWS (it answers and closes).
fn loopback_http(method: &str, endpoint: &str, path: &str) -> String {
    let address = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("the local AWS is listening");
    write!(
        stream,
        "{method} {path} HTTP/1.0\r\nHost: {address}\r\nContent-Length: 0\r\n\r\n"
    )
    .expect("request sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response read");
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default()
}

/// Everything moto recorded as sent.
pub fn moto_data() -> Value {
    serde_json::from_str(&loopback_http("GET", &local_aws().endpoint, "/moto-api/data.json"))
        .expect("moto data is JSON")
}

/// The SMS texts delivered to `phone` (E.164), oldest first.
pub fn sms_to(phone: &str) -> Vec<String> {
    moto_data()["sns"]["SMS"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .filter(|m| m["phone_number"] == phone)
                .filter_map(|m| m["message"].as_str().map(str::to_owned))
                .inspect(|text| audit::note_codes(text))
                .collect()
        })
        .unwrap_or_default()
}

/// An email as moto recorded it.
#[derive(Debug, Clone)]
pub struct Email {
    pub source: String,
    pub subject: String,
    pub body: String,
}

/// The emails delivered to `address`, oldest first.
pub fn emails_to(address: &str) -> Vec<Email> {
    moto_data()["ses"]["Message"]
        .as_array()
        .map(|messages| {
            messages
                .iter()
                .filter(|m| {
                    m["destinations"]["ToAddresses"]
                        .as_array()
                        .is_some_and(|to| to.iter().any(|a| a == address))
                })
                .inspect(|m| audit::note_codes(m["body"].as_str().unwrap_or_default()))
                .map(|m| Email {
                    source: m["source"].as_str().unwrap_or_default().to_owned(),
                    subject: m["subject"].as_str().unwrap_or_default().to_owned(),
                    body: m["body"].as_str().unwrap_or_default().to_owned(),
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The first run of six or more digits in a message.
pub fn code_in(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() >= 6)
        .unwrap_or_else(|| panic!("no code in {text:?}"))
        .to_owned()
}

/// The code in the latest SMS to `phone`.
pub fn last_code(phone: &str) -> String {
    let text = sms_to(phone)
        .pop()
        .unwrap_or_else(|| panic!("no SMS was sent to {phone}"));
    code_in(&text)
}

/// A code of the deployment's length that is not `code`: a wrong guess.
pub fn wrong_code_for(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

/// The code in the latest email to `address`.
pub fn last_email_code(address: &str) -> String {
    let email = emails_to(address)
        .pop()
        .unwrap_or_else(|| panic!("no email was sent to {address}"));
    code_in(&email.body)
}

/// An email address nobody else in this run uses.
pub fn fresh_email() -> String {
    let address = format!("user-{}@example.com", uuid::Uuid::new_v4().simple());
    audit::note("email address", &address);
    address
}

/// A valid Indian mobile number nobody else in this run uses: (national, E.164). Its last
/// four digits are its own too, as long as they can be, so that its masked form
/// (`+91******3219`) picks out its log lines alone.
pub fn fresh_phone() -> (String, String) {
    static ENDINGS: OnceLock<Mutex<std::collections::HashSet<String>>> = OnceLock::new();
    let endings = ENDINGS.get_or_init(Default::default);
    let mut tries = 0;
    loop {
        let national = format!("9{:09}", rand::rng().random_range(0..1_000_000_000u64));
        // Not every block of the numbering plan is allocated: keep only valid numbers.
        let Ok(destination) = otp_shared::destination::Destination::phone("+91", &national) else {
            continue;
        };
        tries += 1;
        let ending = national[national.len() - 4..].to_owned();
        if endings.lock().expect("endings").insert(ending) || tries > 1_000 {
            audit::note("phone number", &national);
            return (national, destination.as_str().to_owned());
        }
    }
}

/// The number a test deployment's calls come from.
pub const VOICE_ORIGINATION: &str = "+12065550199";

/// Settings as the functions read them, for `table`, with `overrides` on top.
pub fn settings(table: &str, overrides: &[(&str, &str)]) -> Settings {
    let mut values: std::collections::HashMap<String, String> = [
        ("TABLE_NAME", table),
        ("OTP_HMAC_KEYS", HMAC_KEYS),
        ("JWT_SECRET", EVENTS_JWT_SECRET),
        // Bridgekeeper's sessions and known users are the events' issuer's.
        ("BRIDGEKEEPER_ISSUERS", EVENTS_ISSUER),
        ("EMAIL_FROM", EMAIL_FROM),
        // One test counts metrics (the recorder is the process's): the others record none.
        ("OTP_METRICS", "false"),
        // Calls go to the deployment's voice stand-in, from this number.
        ("OTP_VOICE_ORIGINATION_IDENTITY", VOICE_ORIGINATION),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    for (key, value) in overrides {
        values.insert(key.to_string(), value.to_string());
    }
    let mut settings = Settings::from_lookup(|name| values.get(name).cloned()).expect("test settings are valid");
    // The local AWS serves one request at a time: parallel tests queue behind each other
    // for seconds, which a table in AWS never makes a request do. Deadlines are the
    // functions' own only where a test names them (the fault tests).
    let named = |key: &str| overrides.iter().any(|(name, _)| *name == key);
    if !named("OTP_STORE_DEADLINE_MS") {
        settings.deadlines.store = PATIENT_DEADLINE;
    }
    if !named("OTP_DELIVERY_DEADLINE_MS") {
        settings.deadlines.delivery = PATIENT_DEADLINE;
    }
    if !named("OTP_REQUEST_DEADLINE_MS") {
        settings.deadlines.request = PATIENT_DEADLINE * 4;
    }
    settings
}

/// How long a test's AWS call may wait on the local AWS, unless the test says otherwise.
pub const PATIENT_DEADLINE: std::time::Duration = std::time::Duration::from_secs(60);

/// One isolated deployment: its own table on the local AWS, a clock the test can turn,
/// and the apps of the sending and the verifying functions.
#[derive(Debug)]
pub struct Deployment {
    pub table: String,
    pub clock: Arc<ManualClock>,
    pub store: DynamoStore,
    pub sender: App<DynamoStore, Courier>,
    pub checker: App<DynamoStore, NoDelivery>,
    /// Every AWS request the deployment's clients made since its last reset.
    pub meter: Meter,
    /// The stand-in for WhatsApp (AWS End User Messaging Social), which no local AWS
    /// emulates: what it accepted, and the recipients it refuses.
    pub whatsapp: StandIn,
    /// The stand-in for calls (AWS End User Messaging SMS and Voice), which no local AWS
    /// emulates either.
    pub voice: VoiceStandIn,
}

/// Where each service of a deployment points.
#[derive(Debug, Clone, Default)]
pub struct Endpoints {
    pub dynamodb: Option<String>,
    pub sns: Option<String>,
    pub sesv2: Option<String>,
    /// WhatsApp; the deployment's own stand-in when not given.
    pub socialmessaging: Option<String>,
    /// Calls; the deployment's own stand-in when not given.
    pub sms_voice: Option<String>,
}

/// An API client of a deployment, with its credentials in clear.
#[derive(Debug, Clone)]
pub struct TestClient {
    pub id: String,
    pub secret: String,
    pub api_key: String,
}

impl Deployment {
    pub async fn new() -> Self {
        Self::with(&[], Endpoints::default()).await
    }

    pub async fn with(overrides: &[(&str, &str)], endpoints: Endpoints) -> Self {
        let table = format!("otp-test-{}", uuid::Uuid::new_v4().simple());
        let sdk = sdk_config(&local_aws().endpoint);
        create_table(&aws_sdk_dynamodb::Client::new(&sdk), &table)
            .await
            .expect("table created on the local AWS");
        // SESv2 sends only from an identity; creating it twice is refused, harmlessly.
        let _ = aws_sdk_sesv2::Client::new(&sdk)
            .create_email_identity()
            .email_identity(EMAIL_FROM)
            .send()
            .await;
        Self::on_table(table, overrides, endpoints, Arc::new(ManualClock::starting_now())).await
    }

    /// Another deployment of the same table and clock, its services pointed elsewhere.
    pub async fn sharing_table(&self, endpoints: Endpoints) -> Self {
        self.sharing_table_with(&[], endpoints).await
    }

    /// Another deployment of the same table and clock, with settings of its own.
    pub async fn sharing_table_with(&self, overrides: &[(&str, &str)], endpoints: Endpoints) -> Self {
        Self::on_table(self.table.clone(), overrides, endpoints, Arc::clone(&self.clock)).await
    }

    async fn on_table(
        table: String,
        overrides: &[(&str, &str)],
        endpoints: Endpoints,
        clock: Arc<ManualClock>,
    ) -> Self {
        let whatsapp = StandIn::start().await.expect("the WhatsApp stand-in listens");
        let voice = VoiceStandIn::start().await.expect("the voice stand-in listens");
        // The functions' own configuration, from an environment as Lambda's would be, with
        // the local AWS as the endpoint and each service pointed elsewhere as asked.
        let whatsapp_url = whatsapp.url();
        let voice_url = voice.url();
        let mut environment = vec![
            ("AWS_ENDPOINT_URL", local_aws().endpoint.as_str()),
            (
                "AWS_ENDPOINT_URL_SOCIALMESSAGING",
                endpoints.socialmessaging.as_deref().unwrap_or(&whatsapp_url),
            ),
            (
                "AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2",
                endpoints.sms_voice.as_deref().unwrap_or(&voice_url),
            ),
        ];
        let elsewhere = [
            ("AWS_ENDPOINT_URL_DYNAMODB", &endpoints.dynamodb),
            ("AWS_ENDPOINT_URL_SNS", &endpoints.sns),
            ("AWS_ENDPOINT_URL_SESV2", &endpoints.sesv2),
        ];
        for (name, endpoint) in &elsewhere {
            if let Some(endpoint) = endpoint {
                environment.push((name, endpoint.as_str()));
            }
        }
        let sdk = function_sdk_config(&environment);
        let meter = Meter::default();
        // The functions' own settings: their deadlines and retries, their call price cap.
        let settings = settings(&table, overrides);
        let deadlines = settings.deadlines;
        let dynamodb = aws_sdk_dynamodb::Client::from_conf(
            backend::dynamodb_config(&sdk, deadlines.store)
                .interceptor(meter.tap("dynamodb"))
                .build(),
        );
        let sns = aws_sdk_sns::Client::from_conf(
            backend::sns_config(&sdk, deadlines.delivery)
                .interceptor(meter.tap("sns"))
                .build(),
        );
        let ses = aws_sdk_sesv2::Client::from_conf(
            backend::sesv2_config(&sdk, deadlines.delivery)
                .interceptor(meter.tap("sesv2"))
                .build(),
        );
        let social = aws_sdk_socialmessaging::Client::from_conf(
            backend::socialmessaging_config(&sdk, deadlines.delivery)
                .interceptor(meter.tap("socialmessaging"))
                .build(),
        );
        let calls = aws_sdk_pinpointsmsvoicev2::Client::from_conf(
            backend::sms_voice_config(&sdk, deadlines.delivery)
                .interceptor(meter.tap("sms-voice"))
                .build(),
        );
        let store = DynamoStore::new(dynamodb, table.clone());
        let courier = Courier {
            sms: Some(SnsSms::new(sns, None)),
            email: Some(SesEmail::new(ses, EMAIL_FROM)),
            whatsapp: Some(WhatsApp::new(social)),
            voice: Some(Voice::new(
                calls,
                VOICE_ORIGINATION.to_owned(),
                settings.spend.call_per_minute,
            )),
        };
        let sender = App::new(settings.clone(), store.clone(), courier, clock.clone());
        let checker = App::new(settings, store.clone(), NoDelivery, clock.clone());
        Self {
            table,
            clock,
            store,
            sender,
            checker,
            meter,
            whatsapp,
            voice,
        }
    }

    /// The operator's commands on this deployment's table, with its code keys.
    pub async fn operator(&self) -> otp_admin::Admin {
        let sdk = sdk_config(&local_aws().endpoint);
        otp_admin::Admin {
            store: self.store.clone(),
            ses: aws_sdk_sesv2::Client::new(&sdk),
            email_from: None,
            code_keys: Some(otp_shared::code::CodeKeys::parse(HMAC_KEYS).expect("the test keys")),
            spend: self.sender.otp.spend.clone(),
            clock: self.clock.clone(),
        }
    }

    /// Runs `otp-admin <words>` on this deployment.
    pub async fn admin(&self, words: &[&str]) -> Result<Value, String> {
        let args: Vec<String> = words.iter().map(|w| w.to_string()).collect();
        otp_admin::execute(&args, &self.operator().await).await
    }

    /// Registers an API client with these permissions.
    pub async fn client_with(&self, permissions: &[Permission]) -> TestClient {
        self.client_limited(permissions, Default::default()).await
    }

    /// Registers an API client with these permissions and limits of its own.
    pub async fn client_limited(
        &self,
        permissions: &[Permission],
        limits: otp_shared::ports::ClientLimits,
    ) -> TestClient {
        let id = uuid::Uuid::new_v4().to_string();
        let secret = generate_secret();
        let key_secret = generate_secret();
        self.store
            .put_client(&ClientRecord {
                id: id.clone(),
                name: "test client".into(),
                secret_hash: hash_secret(&secret),
                api_key_hash: Some(hash_secret(&key_secret)),
                keys: Vec::new(),
                permissions: permissions.iter().copied().collect(),
                limits,
                disabled: false,
                services: Vec::new(),
            })
            .await
            .expect("client stored");
        audit::note("client secret", &secret);
        audit::note("api key secret", &key_secret);
        TestClient {
            api_key: api_key(&id, &key_secret),
            id,
            secret,
        }
    }

    /// Registers an API client with every permission.
    pub async fn client(&self) -> TestClient {
        self.client_with(&Permission::ALL).await
    }

    /// An OTP configuration of `client`; returns its uid.
    pub async fn config(
        &self,
        client: &TestClient,
        channel: Channel,
        length: u8,
        lifetime: u64,
        template: &str,
    ) -> String {
        let uid = uuid::Uuid::new_v4().to_string();
        self.store
            .put_config(&OtpConfig {
                uid: uid.clone(),
                client_id: client.id.clone(),
                channel,
                profile: Profile::new(length, std::time::Duration::from_secs(lifetime)).expect("profile in range"),
                template: template.to_owned(),
                sender: "Acme".to_owned(),
                whatsapp: None,
                more_channels: Vec::new(),
                service: Default::default(),
                localization: Default::default(),
            })
            .await
            .expect("configuration stored");
        uid
    }

    /// A user of the registry, with these contacts on record.
    pub async fn user(&self, user: &UserRef, contacts: &[&str]) {
        for contact in contacts {
            let destination = if contact.starts_with('+') {
                Destination::e164(contact)
            } else {
                Destination::email(contact)
            }
            .expect("a valid contact");
            self.store.link(&destination, user, now()).await.expect("user linked");
        }
    }

    /// Every item of the table, as the AWS SDK returns them.
    pub async fn scan(&self) -> Vec<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let sdk = sdk_config(&local_aws().endpoint);
        let client = aws_sdk_dynamodb::Client::new(&sdk);
        let mut items = Vec::new();
        let mut start = None;
        // A scan answers at most 1 MB a page: the load run's table is larger.
        loop {
            let page = client
                .scan()
                .table_name(&self.table)
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan");
            items.extend(page.items.unwrap_or_default());
            start = page.last_evaluated_key;
            if start.is_none() {
                return items;
            }
        }
    }

    /// The first item whose key satisfies `wanted`.
    pub async fn item_where(
        &self,
        wanted: impl Fn(&str) -> bool,
    ) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        self.scan()
            .await
            .into_iter()
            .find(|item| item.get("pk").and_then(|v| v.as_s().ok()).is_some_and(|pk| wanted(pk)))
    }

    /// The attempts counted on the one challenge of `destination` in this deployment.
    pub async fn attempts_on(&self, destination: &str) -> i64 {
        let item = self
            .item_where(|pk| pk.starts_with("CHALLENGE#") && pk.ends_with(&format!("#{destination}")))
            .await
            .unwrap_or_else(|| panic!("no challenge for {destination}"));
        item["attempts"]
            .as_n()
            .ok()
            .and_then(|n| n.parse().ok())
            .expect("attempts is a number")
    }

    /// The challenge item of KGen's `user` (issuer of the events) and `phone`.
    pub async fn challenge_item(
        &self,
        user: &str,
        phone: &str,
    ) -> Option<std::collections::HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let pk = format!("CHALLENGE#user:kgen:{EVENTS_ISSUER}:{user}#{phone}");
        self.scan()
            .await
            .into_iter()
            .find(|item| item.get("pk").and_then(|v| v.as_s().ok()) == Some(&pk))
    }
}

/// An HS256 user token as the events' issuer signs it, valid for an hour.
pub fn user_token(user_id: &str) -> String {
    token_with(json!({
        "iss": EVENTS_ISSUER,
        "sub": user_id,
        "user_id": user_id,
        "iat": now(),
        "exp": now() + 3_600,
    }))
}

/// A token of `user_id` as the events' issuer signs it, its session claim (`tfa`) as
/// given: `Some("done")` is a full Bridgekeeper session, `Some("pending")` a second factor
/// still pending, `None` no claim (KGen's tokens; a pending session to Bridgekeeper).
pub fn session_token(user_id: &str, tfa: Option<&str>) -> String {
    let mut claims = json!({
        "iss": EVENTS_ISSUER,
        "sub": user_id,
        "user_id": user_id,
        "iat": now(),
        "exp": now() + 3_600,
    });
    if let Some(tfa) = tfa {
        claims["tfa"] = json!(tfa);
    }
    token_with(claims)
}

/// A full Bridgekeeper session's token of `user_id`.
pub fn full_session(user_id: &str) -> String {
    session_token(user_id, Some("done"))
}

/// Any claims, signed with the events' secret.
pub fn token_with(claims: Value) -> String {
    jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS256),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(EVENTS_JWT_SECRET.as_bytes()),
    )
    .inspect(|token| audit::note("user token", token))
    .expect("token signed")
}

pub fn now() -> i64 {
    jsonwebtoken::get_current_timestamp() as i64
}

/// A request exactly as API Gateway (HTTP API, payload 2.0) hands it to a function.
pub fn api_request(path: &str, headers: &[(&str, &str)], body: &str) -> Request {
    lambda_http::request::from_str(&api_event(path, headers, body, "203.0.113.10")).expect("a valid HTTP API event")
}

/// The key of the route API Gateway picks for `method` and `path`: the declared route
/// whose pattern the path matches (`POST /otp/{otp_uid}/verifyOTP`), else `$default`.
pub fn route_key(method: &str, path: &str) -> String {
    otp_shared::routes::declared(method, path)
        .filter(|route| route.matches_path(path))
        .map_or_else(|| otp_shared::routes::DEFAULT.to_owned(), |route| route.key())
}

/// The API Gateway HTTP API (payload 2.0) event of a `POST` to `path` from `source_ip`.
pub fn api_event(path: &str, headers: &[(&str, &str)], body: &str, source_ip: &str) -> String {
    let route_key = route_key("POST", path);
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), Value::String(value.to_string())))
        .collect();
    json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": path,
        "rawQueryString": "",
        "headers": headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "localhost",
            "domainPrefix": "localhost",
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip, "userAgent": "tests"},
            "requestId": uuid::Uuid::new_v4().to_string(),
            "routeKey": route_key,
            "stage": "$default",
            "time": "22/Nov/2026:00:00:00 +0000",
            "timeEpoch": 0
        },
        "body": body,
        "isBase64Encoded": false
    })
    .to_string()
}

/// A KGen request: JSON body, the user's token, and client credentials when given.
pub fn kgen_request(path: &str, token: &str, client: Option<(&str, &str)>, body: &Value) -> Request {
    let mut headers = vec![("content-type", "application/json"), ("user-jwt-token", token)];
    if let Some((id, secret)) = client {
        headers.push(("clientID", id));
        headers.push(("clientSecret", secret));
    }
    api_request(path, &headers, &body.to_string())
}

/// The event file `events/<name>.json` as a request.
pub fn event(name: &str) -> Request {
    let path = workspace_root().join("events").join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    lambda_http::request::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The names of the cookies a request carries.
pub fn cookie_names(request: &Request) -> Vec<String> {
    request
        .headers()
        .get_all("cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('=').map(|(name, _)| name.to_owned()))
        .collect()
}

/// Runs a request through a handler and checks the answer against `openapi.json`.
pub async fn answer<F>(request: Request, handler: impl FnOnce(Request) -> F) -> (u16, Value, Option<String>)
where
    F: std::future::Future<Output = Result<Response<Body>, lambda_http::Error>>,
{
    let (method, path) = (request.method().as_str().to_owned(), request.uri().path().to_owned());
    // Boxed: the handlers' futures are deep, and a test's future that held one inline
    // would have its layout computed through every level, past rustc's query depth limit
    // under some build paths.
    let answer = parts(Box::pin(handler(request)).await.expect("handlers never fail"));
    if let Err(mismatch) = openapi::check_response(&method, &path, answer.0, &answer.1, answer.2.as_deref()) {
        panic!("the response disagrees with openapi.json: {mismatch}");
    }
    answer
}

/// A response's status and JSON body.
pub fn parts(response: Response<Body>) -> (u16, Value, Option<String>) {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = match response.body() {
        Body::Text(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        Body::Binary(bytes) => serde_json::from_slice(bytes).unwrap_or(Value::Null),
        _ => Value::Null,
    };
    (status, body, retry_after)
}
