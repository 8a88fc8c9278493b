//! `TestApp`: a server started in-process exactly as `tally serve` starts, with a manual clock,
//! seeded keys and a fresh database, plus small request helpers returning raw responses.

use reqwest::{Method, Response};
use serde_json::Value;
use std::sync::Arc;
use tally::{Config, Server};
use tally_app::{Clock, ManualClock, RandomIds, SystemClock};
use tally_domain::Timestamp;

/// 2026-06-01T00:00:00Z: where manual clocks start.
pub const CLOCK_START: Timestamp = Timestamp::from_millis(1_780_272_000_000);

pub const SANDBOX_KEY: &str = "ck_sandbox_TestSandboxKey000000000000000001";
pub const LIVE_KEY: &str = "ck_live_TestLiveKey000000000000000000001";

/// The dashboard's operator credential every test server starts with.
pub const DASHBOARD_CREDENTIAL: &str = "test-operator-credential-1";

pub const LEGACY: &str = "2026-07-11";
pub const DIRECT: &str = "2026-08-27";

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a test may change about the server it gets.
#[derive(Clone)]
pub struct Options {
    pub rate_limit_requests: u32,
    /// `None`: the server's default for an organization's budget.
    pub rate_limit_org_requests: Option<u32>,
    pub rate_limit_auth_failures: u32,
    /// `false`: the system clock (SDK runs, whose timestamps must move on their own).
    pub manual_clock: bool,
    /// Run the background workers (webhook dispatch every 100 ms); tests otherwise drive them
    /// one pass at a time.
    pub workers: bool,
    pub webhook_timeout_ms: u64,
    /// `false`: invoices are issued outstanding.
    pub auto_pay: bool,
    /// `--billing-mode charge`: subscription invoices are charged (dunning).
    pub charge: bool,
    /// `--headless`: the organization pair starts unclaimed.
    pub headless: bool,
    pub enforce_seat_caps: bool,
    /// `--webhook-allow-networks`. The tests' receivers listen on 127.0.0.1, which the server
    /// refuses by default, so the default here allows loopback explicitly; `""` is the
    /// server's own default (public addresses only).
    pub webhook_allow_networks: &'static str,
    /// Names webhook sends resolve to these addresses instead of through DNS.
    pub webhook_pinned_hosts: Vec<(String, std::net::IpAddr)>,
    /// The connection and request limits; 0 is the server's default.
    pub header_timeout_ms: u64,
    pub body_timeout_ms: u64,
    pub max_connections: usize,
    /// `--body-limit-bytes`; 0 is the server's default.
    pub body_limit_bytes: usize,
    /// `--smtp-url`: invoice e-mails go out (to a sink the test starts).
    pub smtp_url: Option<String>,
}

/// The ranges the tests' receivers need: loopback only.
pub const LOOPBACK_NETWORKS: &str = "127.0.0.0/8,::1/128";

impl Default for Options {
    fn default() -> Self {
        Self {
            rate_limit_requests: 10_000,
            rate_limit_org_requests: None,
            // Out of the way of tests that send many bad keys (the fuzz test).
            rate_limit_auth_failures: 10_000,
            manual_clock: true,
            workers: false,
            webhook_timeout_ms: 10_000,
            auto_pay: true,
            charge: false,
            headless: false,
            enforce_seat_caps: false,
            webhook_allow_networks: LOOPBACK_NETWORKS,
            webhook_pinned_hosts: Vec::new(),
            header_timeout_ms: 0,
            body_timeout_ms: 0,
            max_connections: 0,
            body_limit_bytes: 0,
            smtp_url: None,
        }
    }
}

pub struct TestApp {
    pub address: String,
    /// The app behind the server, to drive workers one pass at a time.
    pub app: tally_app::App,
    pub client: reqwest::Client,
    pub clock: Option<Arc<ManualClock>>,
    pub database_url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    /// The server's database, which a test may cut off (`TestDatabase::cut_off`); `None` on
    /// another node of the same database.
    pub database: Option<tally_store_sql::testing::TestDatabase>,
}

impl TestApp {
    /// A server on `backend`, or `None` when that backend is not configured here (reported).
    pub async fn spawn(backend: Backend) -> Option<TestApp> {
        Self::spawn_with(backend, Options::default()).await
    }

    pub async fn spawn_with(backend: Backend, options: Options) -> Option<TestApp> {
        init_logs();
        let database = match backend {
            Backend::Sqlite => tally_store_sql::testing::fresh_sqlite().await,
            Backend::Postgres => {
                let server = tally_store_sql::testing::postgres_server_url("end-to-end test")?;
                tally_store_sql::testing::fresh_postgres(&server).await
            }
        };
        Some(Self::start(database.url.clone(), Some(database), options).await)
    }

    /// A second server on this one's database, as another node of a deployment would be.
    pub async fn another_node(&self) -> TestApp {
        Self::start(self.database_url.clone(), None, Options::default()).await
    }

    /// A server on `database_url`; `database`, when given, is dropped with it.
    async fn start(
        database_url: String,
        database: Option<tally_store_sql::testing::TestDatabase>,
        options: Options,
    ) -> TestApp {
        let serve = tally::cli::ServeArgs {
            listen: "127.0.0.1:0".to_owned(),
            metrics_listen: None,
            seed_sandbox_key: Some(SANDBOX_KEY.to_owned()),
            seed_live_key: Some(LIVE_KEY.to_owned()),
            seed_dashboard_credential: Some(DASHBOARD_CREDENTIAL.to_owned()),
            headless: options.headless,
            rate_limit_requests: options.rate_limit_requests,
            rate_limit_org_requests: options.rate_limit_org_requests,
            rate_limit_auth_failures: options.rate_limit_auth_failures,
            rate_limit_window_secs: 10,
            workers: options.workers,
            auto_pay: options.auto_pay,
            billing_mode: match options.charge {
                true => tally::cli::BillingMode::Charge,
                false => tally::cli::BillingMode::InvoiceOnly,
            },
            enforce_seat_caps: options.enforce_seat_caps,
            webhook_poll_ms: 100,
            webhook_timeout_ms: options.webhook_timeout_ms,
            webhook_allow_networks: options.webhook_allow_networks.to_owned(),
            header_timeout_ms: options.header_timeout_ms,
            body_timeout_ms: options.body_timeout_ms,
            body_limit_bytes: options.body_limit_bytes,
            request_timeout_ms: 0,
            max_connections: options.max_connections,
            doc_url_base: tally_api::DOC_URL_BASE_DEFAULT.to_owned(),
            public_base_url: None,
            server_secret: None,
            smtp_url: options.smtp_url,
            smtp_from: "Acme Billing <billing@acme.test>".to_owned(),
        };
        let mut config = Config::resolve(
            Some(database_url.clone()),
            std::path::Path::new("."),
            Some(&serve),
        )
        .expect("the test configuration is valid");
        config.webhook_pinned_hosts = options.webhook_pinned_hosts;
        let manual = options
            .manual_clock
            .then(|| Arc::new(ManualClock::new(CLOCK_START)));
        let clock: Arc<dyn Clock> = match &manual {
            Some(manual) => manual.clone(),
            None => Arc::new(SystemClock),
        };
        let server = Server::build_with(config, clock, Arc::new(RandomIds))
            .await
            .expect("the server starts");
        let address = format!("http://{}", server.local_addr());
        let app = server.app().clone();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(server.run_until(async {
            stopped.await.ok();
        }));
        TestApp {
            address,
            app,
            client: reqwest::Client::new(),
            clock: manual,
            database_url,
            stop: Some(stop),
            database,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}/api/v1{path}", self.address)
    }

    /// A request with the sandbox key and the given version header.
    pub fn request(&self, method: Method, path: &str, version: &str) -> reqwest::RequestBuilder {
        self.client
            .request(method, self.url(path))
            .header("x-api-key", SANDBOX_KEY)
            .header("commet-version", version)
    }

    pub async fn get(&self, path: &str, version: &str) -> Response {
        self.request(Method::GET, path, version)
            .send()
            .await
            .unwrap()
    }

    pub async fn post(&self, path: &str, version: &str, body: &Value) -> Response {
        self.request(Method::POST, path, version)
            .json(body)
            .send()
            .await
            .unwrap()
    }

    pub async fn create_customer(&self, body: &Value) -> Value {
        let response = self.post("/customers", DIRECT, body).await;
        assert_eq!(response.status(), 200, "creating {body}");
        response.json().await.unwrap()
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.send(()).ok();
        }
    }
}

/// The body as JSON, after checking the status.
pub async fn json_with_status(response: Response, status: u16) -> Value {
    let actual = response.status().as_u16();
    let text = response.text().await.unwrap();
    assert_eq!(actual, status, "unexpected status; body: {text}");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("body is not JSON ({e}): {text}"))
}

/// The error object of an error body, checking the generation's shape on the way.
pub fn error_of(body: &Value, version: &str) -> Value {
    if version == LEGACY {
        assert_eq!(
            body["success"],
            Value::Bool(false),
            "legacy error envelope: {body}"
        );
        assert_eq!(body.as_object().unwrap().len(), 2, "{body}");
    } else {
        assert!(
            body.get("success").is_none(),
            "direct errors have no success key: {body}"
        );
        assert_eq!(body.as_object().unwrap().len(), 1, "{body}");
    }
    let error = body["error"].clone();
    let keys: Vec<_> = error.as_object().unwrap().keys().cloned().collect();
    assert_eq!(
        keys,
        ["type", "code", "message", "param", "details", "doc_url"],
        "{body}"
    );
    assert_eq!(
        error["doc_url"],
        Value::String(format!(
            "https://commet.co/docs/api-reference/{version}/errors/{}.md",
            error["code"].as_str().unwrap()
        ))
    );
    error
}

/// Runs a test body on a fresh server for each backend: one `#[tokio::test]` per backend.
#[macro_export]
macro_rules! on_both_backends {
    // A server started with `options` (an expression of type `Options`).
    (with $options:expr; $(#[$meta:meta])* async fn $name:ident($app:ident: TestApp) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn case($app: $crate::support::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let backend = $crate::support::Backend::Sqlite;
                let app = $crate::support::TestApp::spawn_with(backend, $options)
                    .await
                    .expect("SQLite is always available");
                case(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                let backend = $crate::support::Backend::Postgres;
                if let Some(app) = $crate::support::TestApp::spawn_with(backend, $options).await {
                    case(app).await;
                }
            }
        }
    };
    ($(#[$meta:meta])* async fn $name:ident($app:ident: TestApp) $body:block) => {
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn case($app: $crate::support::TestApp) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                let app = $crate::support::TestApp::spawn($crate::support::Backend::Sqlite)
                    .await
                    .expect("SQLite is always available");
                case(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) =
                    $crate::support::TestApp::spawn($crate::support::Backend::Postgres).await
                {
                    case(app).await;
                }
            }
        }
    };
}

fn init_logs() {
    if std::env::var("TEST_LOG").is_ok_and(|v| v == "1") {
        tally::telemetry::init(tally::cli::LogFormat::Text);
    }
}
