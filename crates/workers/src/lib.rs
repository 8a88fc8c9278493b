//! Background work that runs beside the HTTP server, through the same `tally_app` operations
//! the API uses: housekeeping, and the renewal sweep that moves billing periods on real time. Each worker has a `run_once` that does one pass and says what it did, so tests
//! drive it step by step; `run` repeats it until told to stop.

mod dispatcher;
mod mailer;
mod target_guard;

pub use dispatcher::{DispatchReport, Dispatcher, HttpTransport};
pub use mailer::{MailReport, Mailing, SmtpMailer};

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

    /// Passes every `UPKEEP_INTERVAL_SECS` until `stop` turns true.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        let period = Duration::from_secs(UPKEEP_INTERVAL_SECS);
        repeat(
            period,
            stop,
            "upkeep",
            || self.run_once(),
            |purged| {
                if purged > 0 {
                    info!(purged, "purged expired idempotency records");
                }
            },
        )
        .await;
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

    /// One sweep; returns how many deadlines passed and failed. Plan grants past their
    /// expiry are ended in the same sweep, and payment links past theirs are canceled.
    pub async fn run_once(&self) -> Result<SweepReport, tally_app::AppError> {
        self.app.expire_due_plan_grants().await?;
        self.app.expire_due_links().await?;
        self.app.process_due_deadlines().await
    }

    pub async fn run(self, stop: watch::Receiver<bool>) {
        let period = Duration::from_secs(RENEWAL_SWEEP_INTERVAL_SECS);
        repeat(
            period,
            stop,
            "renewal sweep",
            || self.run_once(),
            |report| {
                if report != SweepReport::default() {
                    info!(?report, "billing deadlines processed");
                }
            },
        )
        .await;
    }
}

/// Runs `pass` every `period` until `stop` turns true, handing what each pass did to `done`; a
/// failed pass is logged (as `name`) and tried again at the next tick. A pass that overruns
/// its period delays the next one rather than bunching them up.
pub(crate) async fn repeat<R, Pass>(
    period: Duration,
    mut stop: watch::Receiver<bool>,
    name: &'static str,
    mut pass: impl FnMut() -> Pass,
    mut done: impl FnMut(R),
) where
    Pass: std::future::Future<Output = Result<R, tally_app::AppError>>,
{
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = ticker.tick() => match pass().await {
                Ok(report) => done(report),
                Err(error) => warn!(%error, pass = name, "a background pass failed"),
            },
            _ = stop.changed() => {
                if *stop.borrow() {
                    return;
                }
            }
        }
    }
}
