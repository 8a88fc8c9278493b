//! The HTTP floor: an axum handler that answers a fixed seat-event-sized JSON body without
//! touching anything, driven by the same client, request and concurrency as the seat writes.
//! What Tally adds on top of it is routing, auth, idempotency, the transaction and rendering;
//! what it costs is the HTTP stack shared by client and server on the same cores.

use crate::fixture::authorized;
use crate::load::{self, LoadShape, Measured};
use anyhow::Context;
use axum::Router;
use axum::routing::post;
use serde_json::json;
use std::time::Duration;
use tokio::net::TcpListener;

/// About the size of the seat event `POST /seats` answers with.
const ANSWER: &str = r#"{"id":"sev_01JZ0000000000000000000000","customerId":"bench_00000","featureCode":"editor","previousBalance":10,"newBalance":11,"ts":"2026-06-01T00:00:00.000Z","createdAt":"2026-06-01T00:00:00.000Z","object":"seat_event","livemode":false}"#;

/// Serves the bare handler on 127.0.0.1 for the length of one load phase.
pub async fn requests(shape: LoadShape) -> anyhow::Result<Measured> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/bare", listener.local_addr()?);
    let router = Router::new().route(
        "/bare",
        post(|_body: axum::body::Bytes| async {
            (
                [(axum::http::header::CONTENT_TYPE, "application/json")],
                ANSWER,
            )
        }),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(
        axum::serve(listener, router)
            .with_graceful_shutdown(async {
                stopped.await.ok();
            })
            .into_future(),
    );
    let client = reqwest::Client::new();
    let request_client = client.clone();
    let measured = load::run(shape, move |n| {
        let request = authorized(request_client.post(&url))
            .header("idempotency-key", format!("bare-{n}"))
            .json(&json!({"customerId": "bench_00000", "featureCode": "editor", "count": 1}));
        crate::http::send_expecting_ok(request)
    })
    .await;
    drop(client);
    stop.send(()).ok();
    let stopped = tokio::time::timeout(Duration::from_secs(10), served)
        .await
        .context("the bare HTTP server did not stop")?;
    stopped??;
    Ok(measured)
}
