//! Background work that runs beside the HTTP server, through the same `tally_app` operations
//! the API uses: housekeeping, and the renewal sweep that moves billing periods on real time. Each worker has a `run_once` that does one pass and says what it did, so tests
//! drive it step by step; `run` repeats it until told to stop.

mod dispatcher;
mod target_guard;

pub use dispatcher::{DispatchReport, Dispatcher, HttpTransport};

use std::time::Duration;
use tally_app::App;
use tally_app::deadlines::SweepReport;
use tokio::sync::watch;
use tracing::{info, warn};

/// How often the renewal sweep looks for due deadlines (`catalog.md` §6: at least once a
/// minute).
pub const RENEWAL_SWEEP_INTERVAL_SECS: u64 = 30;

/// How often expired idempotency records are deleted. They stop counting at expiry whether or
/// not they are purged; purging only reclaims space.
pub const UPKEEP_INTERVAL_SECS: u64 = 600;

/// Housekeeping: purges idempotency records older than their 24-hour window.
pub struct Upkeep {
    app: App,
}

impl Upkeep {
    pub fn new(app: App) -> Self {
        Self { app }
    }

    /// One pass; returns how many expired idempotency records were deleted.
    pub async fn run_once(&self) -> Result<u64, tally_app::AppError> {
        self.app.purge_expired_idempotency().await
    }

    /// Passes every `UPKEEP_INTERVAL_SECS` until `stop` turns true; a failed pass is logged and
    /// retried at the next tick.
    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(Duration::from_secs(UPKEEP_INTERVAL_SECS));
        loop {
            tokio::select! {
                _ = ticker.tick() => match self.run_once().await {
                    Ok(0) => {}
                    Ok(purged) => info!(purged, "purged expired idempotency records"),
                    Err(error) => warn!(%error, "upkeep pass failed"),
                },
                _ = stop.changed() => {
                    if *stop.borrow() {
                        return;
                    }
                }
            }
        }
    }
}

/// Renewals, trial ends and scheduled cancellations of organizations on real time (sandbox
/// organizations with an active test clock move only when their clock does). A deadline that
/// fails is logged, recorded and retried later without holding up the others
/// (`tally_app::deadlines`).
pub struct Renewals {
    app: App,
}

impl Renewals {
    pub fn new(app: App) -> Self {
        Self { app }
    }

    /// One sweep; returns how many deadlines passed and failed.
    pub async fn run_once(&self) -> Result<SweepReport, tally_app::AppError> {
        self.app.process_due_deadlines().await
    }

    pub async fn run(self, mut stop: watch::Receiver<bool>) {
        let mut ticker = tokio::time::interval(Duration::from_secs(RENEWAL_SWEEP_INTERVAL_SECS));
        loop {
            tokio::select! {
                _ = ticker.tick() => match self.run_once().await {
                    Ok(report) if report == SweepReport::default() => {}
                    Ok(report) => info!(?report, "billing deadlines processed"),
                    Err(error) => warn!(%error, "renewal sweep failed"),
                },
                _ = stop.changed() => {
                    if *stop.borrow() {
                        return;
                    }
                }
            }
        }
    }
}
