//! The judges: Commet's official SDKs, unmodified, against a real server on each backend.
//! `sdk-tests/run` installs them (npm, a Python virtualenv) on first use.

use crate::support::{Backend, LIVE_KEY, Options, SANDBOX_KEY, TestApp};

const REQUIRE_VAR: &str = "TALLY_TEST_REQUIRE_SDKS";

async fn run_sdk_suites(backend: Backend) {
    let has_tools = ["node", "npm", "python3"].iter().all(|tool| {
        std::process::Command::new(tool)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if !has_tools {
        assert!(
            std::env::var(REQUIRE_VAR).as_deref() != Ok("1"),
            "{REQUIRE_VAR}=1 but node, npm or python3 is missing"
        );
        eprintln!("skipped: SDK suites on {backend:?} (node, npm or python3 is missing)");
        return;
    }
    let options = Options {
        // Timestamps must move on their own for `updatedAt` checks.
        manual_clock: false,
        // The SDK suites check webhook deliveries, so the dispatcher runs.
        workers: true,
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(backend, options.clone()).await else {
        return;
    };
    // The dunning suites need subscription invoices charged, and the claim-link suites a pair
    // without an owner: a second server, `--billing-mode charge --headless`, on a database of
    // its own.
    let charging = Options {
        charge: true,
        headless: true,
        ..options
    };
    let Some(charge_app) = TestApp::spawn_with(backend, charging).await else {
        return;
    };
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../sdk-tests/run");

    let output = tokio::process::Command::new("bash")
        .arg(script)
        .env("TALLY_URL", &app.address)
        .env("TALLY_CHARGE_URL", &charge_app.address)
        .env("TALLY_SANDBOX_KEY", SANDBOX_KEY)
        .env("TALLY_LIVE_KEY", LIVE_KEY)
        .output()
        .await
        .unwrap();

    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "SDK suites failed on {backend:?}:\n{report}"
    );
    assert!(
        report.contains("sdk-tests: node and python SDK suites passed"),
        "{report}"
    );
    assert!(!report.contains("dunning suites skipped"), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_sdks_pass_on_sqlite() {
    run_sdk_suites(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn official_sdks_pass_on_postgres() {
    run_sdk_suites(Backend::Postgres).await;
}
