//! The local API as the README runs it (`scripts/dev.sh`): one flow per product over real
//! HTTP, each code read from the dev inbox, then Ctrl-C stops everything it started.
//!
//! This test links no AWS SDK (it only speaks HTTP), so it lives beside the binary it starts.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

struct Server {
    child: Child,
    url: String,
    aws: String,
    demo: Value,
}

impl Drop for Server {
    fn drop(&mut self) {
        // If the test failed half-way, leave nothing running.
        let _ = Command::new("kill")
            .args(["-s", "TERM", "--", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.wait();
    }
}

/// The JSON lines a server prints (where it serves), read on another thread for as long as
/// it runs, so that its standard output stays open.
fn json_lines(stdout: std::process::ChildStdout) -> std::sync::mpsc::Receiver<Value> {
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Ok(ready) = serde_json::from_str::<Value>(&line) {
                let _ = sender.send(ready);
            }
        }
    });
    receiver
}

fn start() -> Server {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let mut child = Command::new("bash")
        .arg("scripts/dev.sh")
        .current_dir(root)
        .env("PORT", "0")
        .env("OTP_LOCAL_BIN", env!("CARGO_BIN_EXE_otp-local"))
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .expect("scripts/dev.sh starts");
    let receiver = json_lines(child.stdout.take().expect("piped"));
    let ready = receiver
        .recv_timeout(Duration::from_secs(300))
        .expect("the local API says where it serves");
    Server {
        url: ready["url"].as_str().expect("url").to_owned(),
        aws: ready["aws"].as_str().expect("aws").to_owned(),
        demo: ready["demo"].clone(),
        child,
    }
}

/// One HTTP/1.1 exchange; returns the status and the body.
fn exchange(url: &str, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> (u16, String) {
    let address = url.trim_start_matches("http://");
    exchange_naming(url, address, method, path, headers, body)
}

/// One HTTP/1.1 exchange with the server at `url` whose `Host` header is `host`, as a
/// browser sends the name it looked up; returns the status and the body.
fn exchange_naming(
    url: &str,
    host: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, String) {
    let address = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(address).expect("the local API is listening");
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str(&format!("Content-Length: {}\r\n\r\n{body}", body.len()));
    stream.write_all(request.as_bytes()).expect("request sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response read");
    let (head, body) = response.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, body.to_owned())
}

fn post(server: &Server, path: &str, headers: &[(&str, &str)], body: &Value) -> (u16, Value) {
    let mut all = vec![("Content-Type", "application/json")];
    all.extend_from_slice(headers);
    let (status, body) = exchange(&server.url, "POST", path, &all, &body.to_string());
    (status, serde_json::from_str(&body).unwrap_or(Value::Null))
}

/// The code in the newest message to `to`, from the dev inbox's JSON.
fn code_for(server: &Server, to: &str) -> String {
    let (status, body) = exchange(&server.url, "GET", "/_dev/inbox.json", &[], "");
    assert_eq!(status, 200);
    let inbox: Value = serde_json::from_str(&body).expect("inbox JSON");
    let message = inbox["messages"]
        .as_array()
        .and_then(|messages| messages.iter().find(|m| m["to"] == to))
        .unwrap_or_else(|| panic!("nothing delivered to {to}: {inbox}"));
    let text = message["text"].as_str().expect("text");
    text.split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() >= 6)
        .expect("a code")
        .to_owned()
}

fn refuses_connections(url: &str) -> bool {
    TcpStream::connect(url.trim_start_matches("http://")).is_err()
}

#[test]
fn one_flow_per_product_over_http_then_ctrl_c_stops_everything() {
    let mut server = start();
    let demo = server.demo.clone();
    let text = |name: &str| demo[name].as_str().unwrap_or_else(|| panic!("demo {name}")).to_owned();
    let (jwt, api_key, uid) = (text("jwt"), text("api_key"), text("otp_config_uid"));

    // KGen.
    let phone = json!({"phone_number": "9876543211", "countryCode": "+91"});
    let (status, body) = post(
        &server,
        "/fe/users/auth/otp/register",
        &[("user-jwt-token", &jwt)],
        &phone,
    );
    assert_eq!(status, 200, "{body}");
    let verify = json!({"phone_number": "9876543211", "countryCode": "+91", "authCode": body["authCode"],
        "otp": code_for(&server, "+919876543211")});
    let (status, body) = post(
        &server,
        "/fe/users/auth/otp/verify",
        &[("user-jwt-token", &jwt)],
        &verify,
    );
    assert_eq!((status, body), (200, json!({"message": "Users linked successfully"})));

    // BizMagnets.
    let send = json!({"name": "Asha", "mobileNumber": "9876543212", "countryCode": "+91"});
    let (status, body) = post(
        &server,
        &format!("/otp/{uid}/sendOTP"),
        &[("X-API-KEY", &api_key)],
        &send,
    );
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_owned();
    let verify = json!({"otp": code_for(&server, "+919876543212"), "mobileNumber": "9876543212", "countryCode": "+91"});
    let (status, body) = post(
        &server,
        &format!("/otp/{id}/verifyOTP"),
        &[("X-API-KEY", &api_key)],
        &verify,
    );
    assert_eq!((status, body), (200, json!({"id": id, "message": "success"})));

    // BizMagnets by WhatsApp: the stand-in of End User Messaging Social takes the
    // template, and the inbox shows it.
    let whatsapp_uid = text("whatsapp_config_uid");
    let send = json!({"name": "Asha", "mobileNumber": "9876543213", "countryCode": "+91"});
    let (status, body) = post(
        &server,
        &format!("/otp/{whatsapp_uid}/sendOTP"),
        &[("X-API-KEY", &api_key)],
        &send,
    );
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_owned();
    let (_, inbox) = exchange(&server.url, "GET", "/_dev/inbox.json", &[], "");
    let inbox: Value = serde_json::from_str(&inbox).expect("inbox JSON");
    assert_eq!(inbox["messages"][0]["channel"], "whatsapp", "{inbox}");
    assert_eq!(inbox["messages"][0]["template"], "login_code");
    let verify = json!({"otp": code_for(&server, "+919876543213"), "mobileNumber": "9876543213", "countryCode": "+91"});
    let (status, body) = post(
        &server,
        &format!("/otp/{id}/verifyOTP"),
        &[("X-API-KEY", &api_key)],
        &verify,
    );
    assert_eq!((status, body), (200, json!({"id": id, "message": "success"})));

    // ZAP, on the documented path with its final slash.
    let generate = json!({"email": "zap-e2e@example.com", "userId": "63fcedad5ab92b52bfbf5125"});
    let (status, body) = post(&server, "/v1/otp/", &[("X-API-KEY", &api_key)], &generate);
    assert_eq!((status, body), (200, json!({"success": true, "data": "OTP Generated"})));
    let verify = json!({"email": "zap-e2e@example.com", "userId": "63fcedad5ab92b52bfbf5125",
        "otp": code_for(&server, "zap-e2e@example.com")});
    let (status, body) = post(&server, "/v1/otp/verify", &[("X-API-KEY", &api_key)], &verify);
    assert_eq!((status, body), (200, json!({"success": true, "data": "OTP Verified"})));

    // Bridgekeeper, case 3: the session cookie sends to the user's email on record.
    let cookie = format!("qt-auth={}", text("qt_auth"));
    let (status, body) = exchange(
        &server.url,
        "POST",
        "/api/auth/v1/users/send-otp",
        &[("Cookie", &cookie)],
        "",
    );
    assert_eq!((status, body.as_str()), (200, r#"{"message":"OTP sent"}"#));
    let verify = json!({"otp": code_for(&server, "demo@example.com")});
    let (status, body) = post(
        &server,
        "/api/auth/v1/users/verify-otp",
        &[("Cookie", &cookie)],
        &verify,
    );
    assert_eq!((status, body), (200, json!({"message": "OTP verified"})));

    // A pending second factor may not change a contact, and a page of another site may
    // not use the cookie at all.
    let pending = format!("tfa-auth={}", text("tfa_auth"));
    let update = json!({"otp": "123456", "user": {"phone-number": "+919876543299"}});
    let (status, body) = post(
        &server,
        "/api/auth/v1/users/update-with-otp",
        &[("Cookie", &pending)],
        &update,
    );
    assert_eq!((status, body), (401, json!({"error": {"message": "Unauthorized"}})));
    let (status, body) = post(
        &server,
        "/api/auth/v1/users/send-otp",
        &[("Cookie", &cookie), ("Origin", "https://evil.example")],
        &json!({}),
    );
    assert_eq!((status, body), (403, json!({"error": {"message": "Forbidden"}})));

    // Bridgekeeper's own browser client adds a phone number: send-otp names it in the
    // session, update-with-otp proves it; a wrong method still answers JSON.
    let phone = json!({"phone-number": "+919876543299"});
    let (status, body) = post(&server, "/api/auth/v1/users/send-otp", &[("Cookie", &cookie)], &phone);
    assert_eq!((status, body), (200, json!({"message": "OTP sent"})));
    let update = json!({"otp": code_for(&server, "+919876543299"), "user": phone});
    let (status, body) = post(
        &server,
        "/api/auth/v1/users/update-with-otp",
        &[("Cookie", &cookie)],
        &update,
    );
    assert_eq!(
        (status, body),
        (
            200,
            json!({"message": "User updated", "user": {"phone-number": "+919876543299"}})
        )
    );
    let (status, body) = exchange(&server.url, "GET", "/api/auth/v1/users/update-with-otp", &[], "");
    assert_eq!(
        (status, body.as_str()),
        (405, r#"{"error":{"message":"Method not allowed"}}"#)
    );

    // The inbox page, and API Gateway's 404 for a route nobody serves.
    let (status, page) = exchange(&server.url, "GET", "/_dev/inbox", &[], "");
    assert_eq!(status, 200);
    assert!(page.contains("Dev inbox") && page.contains("+919876543212"));
    assert_eq!(post(&server, "/no/such/route", &[], &json!({})).0, 404);

    // Ctrl-C reaches the whole foreground process group.
    let group = format!("-{}", server.child.id());
    Command::new("kill")
        .args(["-s", "INT", "--", &group])
        .status()
        .expect("kill runs");
    let deadline = Instant::now() + Duration::from_secs(20);
    while server.child.try_wait().expect("waitable").is_none() {
        assert!(Instant::now() < deadline, "scripts/dev.sh did not stop on Ctrl-C");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_millis(500));
    assert!(refuses_connections(&server.url), "the local API stopped");
    assert!(refuses_connections(&server.aws), "the local AWS stopped");
}

/// `otp-local` on its own, without the local AWS or the demo: the dev inbox needs neither.
/// It configures the SDK and never calls it; the settings keep the SDK from looking for a
/// region, credentials or instance metadata, and point it at a closed port.
struct Alone {
    child: Child,
    url: String,
}

impl Drop for Alone {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_alone() -> Alone {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let mut child = Command::new(env!("CARGO_BIN_EXE_otp-local"))
        .args(["--port", "0", "--template", "template.yaml"])
        .current_dir(root)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs([
            ("TABLE_NAME", "host-check"),
            ("OTP_HMAC_KEYS", "start-up-hmac-key-0123456789abcdef0123"),
            ("JWT_SECRET", "start-up-jwt-secret-0123456789abcdef01234"),
            ("EMAIL_FROM", "otp@example.com"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "local"),
            ("AWS_SECRET_ACCESS_KEY", "local"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("AWS_ENDPOINT_URL", "http://127.0.0.1:9"),
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("otp-local starts");
    let receiver = json_lines(child.stdout.take().expect("piped"));
    let ready = match receiver.recv_timeout(Duration::from_secs(60)) {
        Ok(ready) => ready,
        Err(error) => {
            let _ = child.kill();
            let _ = child.wait();
            panic!("otp-local did not say where it serves: {error}");
        }
    };
    // Owned before anything can fail, so that a failure stops the server.
    let server = Alone {
        url: ready["url"].as_str().unwrap_or_default().to_owned(),
        child,
    };
    assert!(server.url.starts_with("http://"), "otp-local printed no url: {ready}");
    server
}

#[test]
fn only_requests_naming_a_loopback_host_of_its_port_are_answered() {
    let server = start_alone();
    let port = server.url.rsplit(':').next().expect("a port").to_owned();

    // A page of another site whose DNS name now points at 127.0.0.1 (DNS rebinding) sends
    // its own name; so does anything that names another port.
    let elsewhere = [
        "attacker.example".to_owned(),
        format!("attacker.example:{port}"),
        format!("127.0.0.1.attacker.example:{port}"),
        "localhost:1".to_owned(),
    ];
    for host in &elsewhere {
        for path in ["/_dev/inbox.json", "/_dev/inbox"] {
            let (status, body) = exchange_naming(&server.url, host, "GET", path, &[], "");
            assert_eq!(status, 421, "{host} {path}: {body}");
            assert!(body.contains("Misdirected Request"), "{host} {path}: {body}");
            assert!(!body.contains("messages"), "{body}");
        }
    }
    let (status, _) = exchange_naming(&server.url, "attacker.example", "POST", "/v1/otp", &[], "{}");
    assert_eq!(status, 421, "the API as well as the inbox");

    let loopback = [
        format!("localhost:{port}"),
        "localhost".to_owned(),
        format!("127.0.0.1:{port}"),
        format!("[::1]:{port}"),
    ];
    for host in &loopback {
        let (status, body) = exchange_naming(&server.url, host, "GET", "/_dev/inbox.json", &[], "");
        assert_eq!(status, 200, "{host}: {body}");
        let inbox: Value = serde_json::from_str(&body).expect("inbox JSON");
        assert_eq!(inbox, json!({"messages": []}), "{host}");
    }
}

/// What `otp-local` prints and how it ends when it starts with `settings` (no local AWS is
/// needed: a setting it refuses stops it before any AWS call, as it stops a function).
fn start_with(settings: &[(&str, &str)]) -> (bool, String) {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let output = Command::new(env!("CARGO_BIN_EXE_otp-local"))
        .args(["--port", "0", "--template", "template.yaml"])
        .current_dir(root)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .envs([
            ("TABLE_NAME", "start-up"),
            ("OTP_HMAC_KEYS", "start-up-hmac-key-0123456789abcdef0123"),
            ("EMAIL_FROM", "otp@example.com"),
        ])
        .envs(settings.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("otp-local runs");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_short_hs256_key_stops_the_start_naming_its_issuer() {
    let (started, said) = start_with(&[("JWT_SECRET", "too-short-a-secret")]);
    assert!(!started);
    assert!(
        said.contains("configuration refused: JWT_SECRET: an HS256 key of 18 bytes; it needs at least 32"),
        "{said}"
    );
    let keys = r#"{"https://id.example": {"alg": "HS256", "secret": "thirty-one-bytes-of-a-key-here!"}}"#;
    let (started, said) = start_with(&[("JWT_KEYS", keys)]);
    assert!(!started);
    assert!(
        said.contains("JWT_KEYS: HS256 key of https://id.example: an HS256 key of 31 bytes"),
        "{said}"
    );
    let (started, said) = start_with(&[
        ("JWT_SECRET", "a-secret-of-thirty-two-bytes-ok!"),
        ("BRIDGEKEEPER_ALLOWED_ORIGINS", "app.example.com"),
    ]);
    assert!(!started);
    assert!(
        said.contains("BRIDGEKEEPER_ALLOWED_ORIGINS: app.example.com is not an origin"),
        "{said}"
    );
}
