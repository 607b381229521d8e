//! The local AWS the tests and the local server use answers only requests that name a
//! loopback address: a page whose DNS name an attacker points at 127.0.0.1 (DNS
//! rebinding) could otherwise read every code it delivered.

use std::io::{Read, Write};
use std::net::TcpStream;

use otp_tests::local_aws;

/// The status line of a `GET` of `path` on the local AWS, sent with `host`.
fn status_with_host(host: &str, path: &str) -> String {
    let address = local_aws().endpoint.trim_start_matches("http://").to_owned();
    let mut stream = TcpStream::connect(&address).expect("the local AWS listens");
    write!(
        stream,
        "GET {path} HTTP/1.0\r\nHost: {host}\r\nContent-Length: 0\r\n\r\n"
    )
    .expect("request sent");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).expect("answer read");
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn the_local_aws_answers_only_loopback_names() {
    let port = local_aws().endpoint.rsplit(':').next().expect("a port").to_owned();
    for host in [
        format!("attacker.example:{port}"),
        "localhost.attacker.example".to_owned(),
    ] {
        let status = status_with_host(&host, "/moto-api/data.json");
        assert!(status.contains(" 421 "), "{host}: {status}");
    }
    for host in [
        format!("127.0.0.1:{port}"),
        format!("localhost:{port}"),
        format!("[::1]:{port}"),
    ] {
        let status = status_with_host(&host, "/moto-api/data.json");
        assert!(status.contains(" 200 "), "{host}: {status}");
    }
}
