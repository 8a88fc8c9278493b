//! The server against its own OpenAPI documents, on each backend: `schema-tests/run` validates
//! both generations' documents (OpenAPI 3.1) and fuzzes every operation they list with
//! schemathesis, failing on a server error or on any answer the document does not describe.
//! It installs its tools (a Python virtualenv) on first use.

use crate::support::{Backend, DIRECT, Options, SANDBOX_KEY, TestApp, json_with_status};
use reqwest::Method;
use serde_json::{Value, json};

const REQUIRE_VAR: &str = "TALLY_TEST_REQUIRE_SDKS";
const PASSED: &str = "schema-tests: both generations passed";

async fn run_schema_tests(backend: Backend) {
    let has_python = std::process::Command::new("python3")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_python {
        assert!(
            std::env::var(REQUIRE_VAR).as_deref() != Ok("1"),
            "{REQUIRE_VAR}=1 but python3 is missing"
        );
        eprintln!("skipped: schema fuzzing on {backend:?} (python3 is missing)");
        return;
    }
    let options = Options {
        // The system clock, as a deployed server runs.
        manual_clock: false,
        // No dispatcher: the fuzzer registers webhook endpoints at made-up addresses, and it
        // only judges the answers, never a delivery.
        workers: false,
        ..Options::default()
    };
    let Some(app) = TestApp::spawn_with(backend, options).await else {
        return;
    };
    seed(&app).await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema-tests/run");

    let output = tokio::process::Command::new("bash")
        .arg(script)
        .env("TALLY_URL", &app.address)
        .env("TALLY_SANDBOX_KEY", SANDBOX_KEY)
        .output()
        .await
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    // The script's own lines (stderr) carry each generation's numbers: operations tested,
    // requests sent, findings.
    for line in stderr.lines().filter(|l| l.starts_with("schema-tests:")) {
        eprintln!("{backend:?}: {line}");
    }
    let report = format!("--- stdout ---\n{stdout}\n--- stderr ---\n{stderr}");
    assert!(
        output.status.success(),
        "schema fuzzing failed on {backend:?}:\n{report}"
    );
    assert!(report.contains(PASSED), "{report}");
}

/// One of everything, so that operations on an object reach past `404`: schemathesis reuses the
/// ids it sees in list answers. Without it most `…/{id}` operations only meet made-up ids.
async fn seed(app: &TestApp) {
    let steps: [(Method, &str, Value); 8] = [
        (
            Method::POST,
            "/customers",
            json!({"email": "fuzz@example.com", "id": "user_fuzz"}),
        ),
        (
            Method::POST,
            "/features",
            json!({"name": "Seats", "code": "seats", "type": "seats"}),
        ),
        (
            Method::POST,
            "/features",
            json!({"name": "Export", "code": "export", "type": "boolean"}),
        ),
        (
            Method::POST,
            "/plans",
            json!({"name": "Team", "code": "team"}),
        ),
        (
            Method::POST,
            "/plans/team/prices",
            json!({"billingInterval": "monthly", "price": 100_000, "isDefault": true}),
        ),
        (
            Method::POST,
            "/plans/team/features",
            json!({"featureId": "seats", "includedAmount": 5}),
        ),
        (
            Method::POST,
            "/subscriptions",
            json!({"customerId": "user_fuzz", "planCode": "team", "initialSeats": {"seats": 3}}),
        ),
        (
            Method::POST,
            "/webhooks",
            json!({"url": "https://example.com/hook", "events": ["subscription.created"]}),
        ),
    ];
    for (method, path, body) in steps {
        let response = app
            .request(method, path, DIRECT)
            .json(&body)
            .send()
            .await
            .unwrap();
        json_with_status(response, 200).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_hold_on_sqlite() {
    run_schema_tests(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_documents_hold_on_postgres() {
    run_schema_tests(Backend::Postgres).await;
}
