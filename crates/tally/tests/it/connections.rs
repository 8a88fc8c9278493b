//! The listener's limits: slow or idle clients are cut off after the header timeout, a trickled
//! body after the body timeout, and no more than the connection limit is served at once. Only
//! the HTTP layer is involved, so these run on SQLite alone.

use crate::support::{Backend, DIRECT, Options, SANDBOX_KEY, TestApp, error_of};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn server(options: Options) -> TestApp {
    TestApp::spawn_with(Backend::Sqlite, options)
        .await
        .expect("SQLite is always available")
}

fn host_port(app: &TestApp) -> &str {
    app.address.trim_start_matches("http://")
}

/// Reads until the server closes the connection (or `limit` passes); returns what it sent and
/// how long that took.
async fn read_to_close(socket: &mut TcpStream, limit: Duration) -> (String, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let read = tokio::time::timeout(limit, socket.read_to_end(&mut received)).await;
    assert!(
        read.is_ok(),
        "the server kept the connection open past {limit:?}"
    );
    (
        String::from_utf8_lossy(&received).into_owned(),
        started.elapsed(),
    )
}

#[tokio::test]
async fn headers_sent_too_slowly_and_idle_connections_are_closed() {
    let app = server(Options {
        header_timeout_ms: 500,
        ..Options::default()
    })
    .await;

    // Half a request's headers, then nothing.
    let mut slow = TcpStream::connect(host_port(&app)).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: tally\r\n")
        .await
        .unwrap();
    let (_, slow_closed_after) = read_to_close(&mut slow, Duration::from_secs(5)).await;

    // One whole request, answered, then the connection sits idle.
    let mut idle = TcpStream::connect(host_port(&app)).await.unwrap();
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: tally\r\n\r\n")
        .await
        .unwrap();
    let (answered, idle_closed_after) = read_to_close(&mut idle, Duration::from_secs(5)).await;

    assert!(
        slow_closed_after >= Duration::from_millis(400),
        "{slow_closed_after:?}"
    );
    assert!(answered.starts_with("HTTP/1.1 200"), "{answered}");
    assert!(
        idle_closed_after >= Duration::from_millis(400),
        "{idle_closed_after:?}"
    );
}

#[tokio::test]
async fn no_more_than_the_connection_limit_is_served_at_once() {
    let app = server(Options {
        max_connections: 3,
        header_timeout_ms: 60_000,
        ..Options::default()
    })
    .await;
    let mut holders = Vec::new();
    for _ in 0..3 {
        holders.push(TcpStream::connect(host_port(&app)).await.unwrap());
    }
    // Let the server take them in before the next client comes.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let client = reqwest::Client::new();
    let health = format!("{}/healthz", app.address);

    let while_full = client
        .get(&health)
        .timeout(Duration::from_millis(700))
        .send()
        .await;
    drop(holders);
    let once_freed = client
        .get(&health)
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .expect("a freed slot serves the next client");

    assert!(
        while_full.as_ref().is_err_and(reqwest::Error::is_timeout),
        "a fourth connection is served while three are open: {while_full:?}"
    );
    assert_eq!(once_freed.status(), 200);
}

#[tokio::test]
async fn a_trickled_body_is_refused_after_the_body_timeout() {
    let app = server(Options {
        body_timeout_ms: 500,
        ..Options::default()
    })
    .await;
    let mut socket = TcpStream::connect(host_port(&app)).await.unwrap();
    let head = format!(
        "POST /api/v1/customers HTTP/1.1\r\nHost: tally\r\nx-api-key: {SANDBOX_KEY}\r\ncommet-version: {DIRECT}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"email\""
    );
    socket.write_all(head.as_bytes()).await.unwrap();

    let started = Instant::now();
    let mut received = vec![0_u8; 4096];
    let read = tokio::time::timeout(Duration::from_secs(5), socket.read(&mut received))
        .await
        .expect("the server answers a stalled body")
        .unwrap();
    let answered_after = started.elapsed();
    let answer = String::from_utf8_lossy(&received[..read]).into_owned();
    let body = answer.split("\r\n\r\n").nth(1).unwrap_or_default();
    let error: serde_json::Value = serde_json::from_str(body).unwrap_or_default();

    assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
    assert!(
        answered_after >= Duration::from_millis(400),
        "{answered_after:?}"
    );
    let error = error_of(&error, DIRECT);
    assert_eq!(error["code"], "validation_error", "{answer}");
    assert_eq!(error["param"], "body", "{answer}");
}
