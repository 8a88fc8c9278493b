//! What a phase runs against: a fresh database, the real server started in-process on it
//! exactly as the end-to-end tests start it, and the catalog and customers set up over HTTP.
//!
//! Every address is 127.0.0.1: the tool never sends load anywhere else.

use anyhow::{Context, bail};
use clap::Parser;
use reqwest::{Method, RequestBuilder};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tally::Server;
use tally_app::{RandomIds, SystemClock};
use tally_domain::CustomerId;

pub const SANDBOX_KEY: &str = "ck_sandbox_BenchSandboxKey00000000000000001";
pub const LIVE_KEY: &str = "ck_live_BenchLiveKey00000000000000000001";
/// The dashboard's operator credential the page phases sign in with.
pub const DASHBOARD_CREDENTIAL: &str = "bench-operator-credential";
/// The generation the official SDKs of today send (direct objects, no envelope).
pub const API_VERSION: &str = "2026-08-27";
/// The seats feature every subscription carries.
pub const FEATURE_CODE: &str = "editor";
/// Seats each subscription starts with. Above `INCLUDED_SEATS`, so an add never crosses the
/// limit and every write records exactly two webhook events (`seats.updated` and
/// `customer.state_changed`), the shape the raw transaction repeats.
pub const INITIAL_SEATS: i64 = 10;
pub const INCLUDED_SEATS: i64 = 5;
/// The metered usage feature every subscription carries too.
pub const USAGE_FEATURE_CODE: &str = "api_calls";
/// Units of `USAGE_FEATURE_CODE` included per period, with overage off: the most a plan may
/// include, so far more than any run tracks. No track is refused and none reaches the 80 %
/// threshold, so a track records no webhook event (no endpoint asks for `usage.recorded`
/// either): every track runs the same statements, the shape the engine baseline repeats.
pub const INCLUDED_USAGE: i64 = 1_000_000_000;
/// High enough that the rate limiter never answers 429 during a run.
pub const RATE_LIMIT_REQUESTS: u32 = 1_000_000;
pub const RATE_LIMIT_WINDOW_SECS: u64 = 10;
/// How long a stop may take before the tool gives up waiting for the server.
const SHUTDOWN_WAIT_SECS: u64 = 10;

/// Which storage backend a run uses.
#[derive(Debug, Clone)]
pub enum Backend {
    Sqlite,
    /// The server URL (the tool creates and drops its own database there).
    Postgres(String),
}

impl Backend {
    pub fn name(&self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres(_) => "PostgreSQL",
        }
    }
}

/// A new, migrated database: a file in a temporary directory, or `CREATE DATABASE` on the
/// PostgreSQL server. Removed when dropped.
pub struct FreshDatabase(tally_store_sql::testing::TestDatabase);

impl FreshDatabase {
    pub async fn create(backend: &Backend) -> Self {
        FreshDatabase(match backend {
            Backend::Sqlite => tally_store_sql::testing::fresh_sqlite().await,
            Backend::Postgres(server_url) => {
                tally_store_sql::testing::fresh_postgres(server_url).await
            }
        })
    }

    pub fn url(&self) -> &str {
        &self.0.url
    }
}

/// One customer of the fixture, by both of its names.
#[derive(Debug, Clone)]
pub struct BenchCustomer {
    /// What requests send as `customerId`, as SDK users do.
    pub external_id: String,
    pub id: CustomerId,
}

/// The real server, serving on 127.0.0.1 until `stop`.
pub struct RunningServer {
    pub address: String,
    pub client: reqwest::Client,
    stop: tokio::sync::oneshot::Sender<()>,
    served: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl RunningServer {
    /// Starts the server on `database_url` the way `tally serve` does: the command line below
    /// goes through `tally`'s own parser, so every setting not named here is at its `tally
    /// serve` default (and `TALLY_*` variables apply as they would there). Keys are seeded, the
    /// rate limit is out of the way and the background workers are off.
    pub async fn start(database_url: &str) -> anyhow::Result<Self> {
        let rate_limit_requests = RATE_LIMIT_REQUESTS.to_string();
        let rate_limit_window_secs = RATE_LIMIT_WINDOW_SECS.to_string();
        let cli = tally::cli::Cli::try_parse_from([
            "tally",
            "--database-url",
            database_url,
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--seed-sandbox-key",
            SANDBOX_KEY,
            "--seed-live-key",
            LIVE_KEY,
            "--seed-dashboard-credential",
            DASHBOARD_CREDENTIAL,
            "--rate-limit-requests",
            &rate_limit_requests,
            "--rate-limit-window-secs",
            &rate_limit_window_secs,
            "--workers",
            "false",
        ])?;
        let config = cli.config()?;
        let server = Server::build_with(config, Arc::new(SystemClock), Arc::new(RandomIds)).await?;
        let address = format!("http://{}", server.local_addr());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let served = tokio::spawn(server.run_until(async {
            stopped.await.ok();
        }));
        Ok(Self {
            address,
            client: reqwest::Client::new(),
            stop,
            served,
        })
    }

    /// A request with the sandbox key and the API version every phase uses.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        authorized(
            self.client
                .request(method, format!("{}/api/v1{path}", self.address)),
        )
    }

    /// Creates the seats feature and the usage feature, a plan with a monthly price and both
    /// features, and `customers` customers each with a live subscription holding
    /// `INITIAL_SEATS`.
    pub async fn set_up(&self, customers: usize) -> anyhow::Result<Vec<BenchCustomer>> {
        self.expect_ok(
            Method::POST,
            "/features",
            json!({"name": "Editor seats", "code": FEATURE_CODE, "type": "seats", "unitName": "seat"}),
        )
        .await?;
        self.expect_ok(
            Method::POST,
            "/features",
            json!({"name": "API calls", "code": USAGE_FEATURE_CODE, "type": "usage", "unitName": "call"}),
        )
        .await?;
        let plan = self
            .expect_ok(
                Method::POST,
                "/plans",
                json!({"name": "Pro", "code": "pro"}),
            )
            .await?;
        let plan_id = plan["id"].as_str().context("the created plan has an id")?;
        self.expect_ok(
            Method::POST,
            &format!("/plans/{plan_id}/prices"),
            json!({"billingInterval": "monthly", "price": 9900}),
        )
        .await?;
        self.expect_ok(
            Method::POST,
            &format!("/plans/{plan_id}/features"),
            json!({"featureId": FEATURE_CODE, "includedAmount": INCLUDED_SEATS,
                   "overage": {"enabled": true, "unitPrice": 250_000}}),
        )
        .await?;
        self.expect_ok(
            Method::POST,
            &format!("/plans/{plan_id}/features"),
            json!({"featureId": USAGE_FEATURE_CODE, "includedAmount": INCLUDED_USAGE,
                   "overage": {"enabled": false}}),
        )
        .await?;
        let mut created = Vec::with_capacity(customers);
        for n in 0..customers {
            let external_id = format!("bench_{n:05}");
            let customer = self
                .expect_ok(
                    Method::POST,
                    "/customers",
                    json!({"email": format!("{external_id}@bench.test"), "id": external_id}),
                )
                .await?;
            let id = customer["id"]
                .as_str()
                .and_then(CustomerId::parse)
                .context("the created customer has a cus_ id")?;
            self.expect_ok(
                Method::POST,
                "/subscriptions",
                json!({"customerId": external_id, "planCode": "pro", "billingInterval": "monthly",
                       "initialSeats": {FEATURE_CODE: INITIAL_SEATS}}),
            )
            .await?;
            created.push(BenchCustomer { external_id, id });
        }
        Ok(created)
    }

    async fn expect_ok(&self, method: Method, path: &str, body: Value) -> anyhow::Result<Value> {
        let response = self
            .request(method.clone(), path)
            .json(&body)
            .send()
            .await
            .with_context(|| format!("{method} {path}"))?;
        let status = response.status();
        let text = response.text().await?;
        if status != 200 {
            bail!("setting up: {method} {path} answered {status}: {text}");
        }
        Ok(serde_json::from_str(&text)?)
    }

    /// Stops accepting, lets in-flight requests finish and waits for the server to end.
    pub async fn stop(self) -> anyhow::Result<()> {
        // Idle keep-alive connections of the client would hold a graceful shutdown open.
        drop(self.client);
        self.stop.send(()).ok();
        match tokio::time::timeout(Duration::from_secs(SHUTDOWN_WAIT_SECS), self.served).await {
            Ok(joined) => joined?,
            Err(_) => bail!("the server did not stop within {SHUTDOWN_WAIT_SECS} s"),
        }
    }
}

/// Adds the sandbox key and the API version every phase uses.
pub fn authorized(request: RequestBuilder) -> RequestBuilder {
    request
        .header("x-api-key", SANDBOX_KEY)
        .header("commet-version", API_VERSION)
}
