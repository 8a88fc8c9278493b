//! The HTTP listener: hyper's HTTP/1 connections under the limits a server exposed to the
//! internet needs — how long a client may take to send its headers (also while a kept-alive
//! connection sits idle), how many connections are open at once, and an open-file limit raised
//! to fit them. The per-request limits (body and whole-request timeouts) are the API's
//! (`tally_api::ApiConfig`).

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::ServiceExt;
use tracing::{debug, info, warn};

/// Open files kept for everything that is not a client connection: database connections, the
/// SQLite files, webhook sends, logs.
const FILES_RESERVED: u64 = 256;
/// How long the listener pauses after `accept` fails (out of file descriptors, say) before
/// trying again, so a failing accept does not spin.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);
/// How long in-flight requests get to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);

#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// The longest a client may take to send a request's headers; an idle kept-alive
    /// connection is closed after the same time.
    pub header_timeout: Duration,
    /// Connections open at once; past it, new ones wait in the listen backlog.
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `stop` completes, then lets open requests finish (up to
/// `SHUTDOWN_GRACE`). Each request carries its peer's `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    stop: impl Future<Output = ()> + Send + 'static,
) {
    let max_connections = fit_open_file_limit(limits.max_connections);
    let slots = Arc::new(Semaphore::new(max_connections));
    let graceful = GracefulShutdown::new();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    tokio::pin!(stop);
    loop {
        let slot = tokio::select! {
            slot = Arc::clone(&slots).acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut stop => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    warn!(%error, "could not accept a connection");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        stream.set_nodelay(true).ok();
        let service = router
            .clone()
            .map_request(move |mut request: hyper::Request<Incoming>| {
                request.extensions_mut().insert(ConnectInfo(peer));
                request
            });
        let connection = graceful
            .watch(http.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service)));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                // Timeouts and clients that go away end here; nothing to answer.
                debug!(%error, %peer, "connection ended");
            }
            drop(slot);
        });
    }
    drop(listener);
    if tokio::time::timeout(SHUTDOWN_GRACE, graceful.shutdown())
        .await
        .is_err()
    {
        warn!("some connections were still open when shutdown's grace period ended");
    }
}

/// Raises the open-file limit towards what `max_connections` needs (up to the hard limit) and
/// returns the number of connections that fit in the limit there is.
fn fit_open_file_limit(max_connections: usize) -> usize {
    let wanted = u64::try_from(max_connections).unwrap_or(u64::MAX) + FILES_RESERVED;
    let limit = match rlimit::increase_nofile_limit(wanted) {
        Ok(limit) => limit,
        // Not a Unix-like system, or not allowed: assume the wanted number is there.
        Err(error) => {
            warn!(%error, "could not read or raise the open-file limit");
            return max_connections;
        }
    };
    let fitting = usize::try_from(limit.saturating_sub(FILES_RESERVED))
        .unwrap_or(usize::MAX)
        .max(1);
    if fitting < max_connections {
        warn!(
            open_file_limit = limit,
            max_connections = fitting,
            "the open-file limit is below what --max-connections needs; serving fewer connections"
        );
        fitting
    } else {
        info!(open_file_limit = limit, max_connections, "connection limit");
        max_connections
    }
}
