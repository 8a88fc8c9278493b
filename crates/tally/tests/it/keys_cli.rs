//! The command line: `tally keys create` makes a working key for an existing organization.

use crate::support::{Backend, DIRECT, TestApp, json_with_status};

#[tokio::test]
async fn keys_create_prints_a_key_that_authenticates_with_the_right_livemode() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let tally = env!("CARGO_BIN_EXE_tally");

    let mut printed = Vec::new();
    for mode in ["sandbox", "live"] {
        let output = tokio::process::Command::new(tally)
            .args(["keys", "create", "--mode", mode, "--name", "from-cli"])
            .env("DATABASE_URL", &app.database_url)
            .env("RUST_LOG", "error")
            .output()
            .await
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        printed.push(String::from_utf8(output.stdout).unwrap().trim().to_owned());
    }

    for (secret, livemode) in printed.iter().zip([false, true]) {
        let response = app
            .client
            .post(app.url("/customers"))
            .header("x-api-key", secret)
            .header("commet-version", DIRECT)
            .json(&serde_json::json!({"email": "cli@example.com"}))
            .send()
            .await
            .unwrap();
        let customer = json_with_status(response, 200).await;
        assert_eq!(customer["livemode"], livemode, "{secret}");
    }
    assert!(printed[0].starts_with("ck_sandbox_"));
    assert!(printed[1].starts_with("ck_live_"));
}

#[tokio::test]
async fn the_first_start_prints_a_sandbox_key_once_and_it_works() {
    let data_dir = tempfile::tempdir().unwrap();

    let first = start_and_read_banner(data_dir.path()).await;
    let second = start_and_read_banner(data_dir.path()).await;

    let sandbox_key = first
        .lines
        .iter()
        .find_map(|l| l.trim().strip_prefix("sandbox key: "))
        .expect("the first start prints a sandbox key")
        .to_owned();
    assert!(
        first
            .lines
            .iter()
            .any(|l| l.trim().starts_with("live key:"))
    );
    assert!(
        !second.lines.iter().any(|l| l.contains("key:")),
        "keys are printed only once: {:?}",
        second.lines
    );
    let response = reqwest::Client::new()
        .get(format!("{}/api/v1/customers", second.address))
        .header("x-api-key", sandbox_key)
        .send()
        .await
        .unwrap();
    assert_eq!(json_with_status(response, 200).await["object"], "list");
}

struct Banner {
    lines: Vec<String>,
    address: String,
    _child: tokio::process::Child,
}

/// Starts `tally serve` on a free port and reads stdout up to the "listening" line.
async fn start_and_read_banner(data_dir: &std::path::Path) -> Banner {
    use tokio::io::AsyncBufReadExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_tally"))
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("TALLY_DATA_DIR", data_dir)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "error")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap()).lines();
    let mut lines = Vec::new();
    // Bounded wait: the server prints its banner right after binding.
    let address = tokio::time::timeout(std::time::Duration::from_secs(60), async {
        while let Some(line) = stdout.next_line().await.unwrap() {
            if let Some(address) = line.strip_prefix("Tally listening on ") {
                return address.to_owned();
            }
            lines.push(line);
        }
        panic!("tally serve exited before listening: {lines:?}");
    })
    .await
    .expect("tally serve starts within a minute");
    Banner {
        lines,
        address,
        _child: child,
    }
}
