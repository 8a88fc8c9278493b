//! What the logs say about a request: its route template, never its raw path, because paths
//! carry external ids and those are often e-mail addresses.

use crate::support::{DIRECT, LIVE_KEY, SANDBOX_KEY, json_with_status};
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_logs_name_the_route_template_and_never_an_external_id_from_the_path() {
    // Goal: at the most talkative request level, an external id in a path stays out of the
    // logs while the route it matched is there. Method: the real binary at RUST_LOG=debug;
    // requests whose paths hold e-mail addresses (a matched route and an unknown one); then
    // the whole log output is read once the process is stopped.
    let dir = tempfile::tempdir().unwrap();
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(["serve", "--listen", "127.0.0.1:0", "--workers", "false"])
        .env(
            "DATABASE_URL",
            format!("sqlite://{}", dir.path().join("tally.db").display()),
        )
        .env("TALLY_SEED_SANDBOX_KEY", SANDBOX_KEY)
        .env("TALLY_SEED_LIVE_KEY", LIVE_KEY)
        .env("RUST_LOG", "debug")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let logs = tokio::spawn(async move {
        let mut text = String::new();
        stderr.read_to_string(&mut text).await.unwrap();
        text
    });
    let mut banner = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    // Bounded wait: the banner follows the bind.
    let address = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = banner.next_line().await.unwrap() {
            if let Some(address) = line.strip_prefix("Tally listening on ") {
                return address.to_owned();
            }
        }
        panic!("tally serve exited before listening");
    })
    .await
    .expect("tally serve starts");
    let client = reqwest::Client::new();
    let send = |method: reqwest::Method, path: &str| {
        client
            .request(method, format!("{address}/api/v1{path}"))
            .header("x-api-key", SANDBOX_KEY)
            .header("commet-version", DIRECT)
    };

    let created = send(reqwest::Method::POST, "/customers")
        .json(&json!({"email": "alice@example.com", "externalId": "alice@example.com"}))
        .send()
        .await
        .unwrap();
    let found = send(reqwest::Method::GET, "/customers/alice@example.com")
        .send()
        .await
        .unwrap();
    let unknown = send(reqwest::Method::GET, "/no-such-thing/bob@example.com")
        .send()
        .await
        .unwrap();
    json_with_status(created, 200).await;
    json_with_status(found, 200).await;
    json_with_status(unknown, 404).await;
    child.kill().await.unwrap();
    let logs = logs.await.unwrap();

    assert!(
        logs.contains("/api/v1/customers/{id}"),
        "the route template is logged:\n{logs}"
    );
    assert!(logs.contains("answered"), "requests are logged:\n{logs}");
    assert!(
        !logs.contains("alice@example.com"),
        "an external id reached the logs:\n{logs}"
    );
    assert!(
        !logs.contains("bob@example.com"),
        "a path no route matched reached the logs:\n{logs}"
    );
}
