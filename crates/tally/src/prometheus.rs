//! Prometheus metrics: the recorder behind the `metrics` calls of every crate, and the
//! `/metrics` listener that renders it.
//!
//! The `metrics` facade has one global recorder per process, so the Prometheus recorder is
//! installed once (`handle`), on the first start of a server with a metrics listener; a server
//! without one installs nothing and its `metrics` calls do nothing. Tests start many servers in
//! one process: they share the one recorder, and each server's `/metrics` renders that shared
//! handle, with every server's traffic in it. `/metrics` needs no API key: it is served only on
//! the address the operator chooses (`--metrics-listen`), never on the API's.
//!
//! No label holds an id (of a customer, an organization, a key) or any other unbounded value:
//! routes are templates, operations are command types, outcomes and budgets are fixed words.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tally_store_sql::SqlStore;
use tokio::net::TcpListener;
use tracing::warn;

/// Latency buckets, in seconds, of requests and webhook deliveries: 1 ms to 30 s (the request
/// timeout, the SDKs' own).
const LATENCY_BUCKETS_SECS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Jobs per SQLite group commit: 1 up to the group bound, 64.
const GROUP_JOBS_BUCKETS: [f64; 7] = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0];
/// How often histogram samples are folded into their buckets when nobody scrapes, so they do
/// not pile up in memory.
const UPKEEP_INTERVAL: Duration = Duration::from_secs(5);

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// The process's Prometheus handle; installs the recorder on the first call.
pub fn handle() -> PrometheusHandle {
    HANDLE.get_or_init(install).clone()
}

fn install() -> PrometheusHandle {
    let recorder = PrometheusBuilder::new()
        .set_buckets_for_metric(
            Matcher::Suffix("_seconds".to_owned()),
            &LATENCY_BUCKETS_SECS,
        )
        .and_then(|builder| {
            builder.set_buckets_for_metric(
                Matcher::Full("tally_sqlite_write_group_jobs".to_owned()),
                &GROUP_JOBS_BUCKETS,
            )
        })
        .expect("the bucket lists are not empty")
        .build_recorder();
    let handle = recorder.handle();
    if let Err(error) = metrics::set_global_recorder(recorder) {
        warn!(%error, "another metrics recorder is installed: /metrics shows nothing");
    }
    let upkeep = handle.clone();
    let started = std::thread::Builder::new()
        .name("tally-metrics-upkeep".to_owned())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_INTERVAL);
                upkeep.run_upkeep();
            }
        });
    if let Err(error) = started {
        // Scrapes fold the samples too; without the thread only an unscraped server grows.
        warn!(%error, "could not start the metrics upkeep thread");
    }
    describe();
    handle
}

/// The help line of every metric, and a zero for the series of a fixed label set, so that a
/// rate over them works before their first event.
fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "tally_http_requests_total",
        "Requests answered, by route template (`unmatched` for none), method and status."
    );
    describe_histogram!(
        "tally_http_request_duration_seconds",
        Unit::Seconds,
        "Time from a request's arrival to its response, by route template, method and status."
    );
    describe_counter!(
        "tally_writes_total",
        "Changes through the write path, by operation (command type) and outcome: applied, \
         refused, replayed (an Idempotency-Key's earlier answer) or error."
    );
    describe_counter!(
        "tally_write_retries_total",
        "Write transactions run again after a serialization failure, deadlock or busy database, \
         by operation."
    );
    describe_counter!(
        "tally_rate_limited_total",
        "Requests refused with 429, by the budget that refused them: key, organization, or \
         auth_failures (failed authentications of one source address)."
    );
    for budget in tally_api::rate_limit::Budget::ALL {
        metrics::counter!("tally_rate_limited_total", "budget" => budget.as_str()).increment(0);
    }
    describe_histogram!(
        "tally_sqlite_write_group_jobs",
        "Write jobs committed together by one SQLite group commit (one fsync)."
    );
    describe_histogram!(
        "tally_postgres_stamp_batch_asks",
        "Hot reads whose stamps one PostgreSQL statement read together."
    );
    describe_gauge!(
        "tally_webhook_deliveries_pending",
        "Webhook deliveries waiting to be sent or retried, after the dispatcher's last pass."
    );
    describe_counter!(
        "tally_webhook_delivery_attempts_total",
        "Webhook delivery attempts, by outcome: succeeded (2xx), http_error (another status) or \
         failed (no answer)."
    );
    describe_histogram!(
        "tally_webhook_delivery_duration_seconds",
        Unit::Seconds,
        "Time a webhook receiver took to answer, by outcome."
    );
    describe_gauge!(
        "tally_db_pool_connections",
        "Database pool connections, by pool (reads, writes) and state (in_use, idle), read at \
         each scrape."
    );
    describe_gauge!(
        "tally_db_pool_connections_max",
        "The most connections each database pool opens."
    );
}

/// What a scrape needs: the recorder's handle and the store whose pools it reports.
#[derive(Clone)]
struct Scrape {
    handle: PrometheusHandle,
    store: Arc<SqlStore>,
}

/// Serves `GET /metrics` on `listener` until `stop` completes.
pub async fn serve(
    listener: TcpListener,
    store: Arc<SqlStore>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = Router::new()
        .route("/metrics", get(render))
        .with_state(Scrape {
            handle: handle(),
            store,
        });
    axum::serve(listener, router)
        .with_graceful_shutdown(stop)
        .await
}

async fn render(State(scrape): State<Scrape>) -> impl IntoResponse {
    scrape.store.record_pool_metrics();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        scrape.handle.render(),
    )
}
