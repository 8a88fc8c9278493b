//! The running server: storage, the app, the HTTP listener and the workers, started together
//! and stopped together.

use crate::Config;
use std::net::SocketAddr;
use std::sync::Arc;
use tally_app::{App, Clock, IdSource, RandomIds, SystemClock};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tracing::{error, info};

pub struct Server {
    app: App,
    listener: TcpListener,
    /// `/metrics`, when the operator chose an address for it.
    metrics_listener: Option<TcpListener>,
    store: Arc<tally_store_sql::SqlStore>,
    router: axum::Router,
    workers: bool,
    connections: crate::http_server::ConnectionLimits,
    webhook_poll: std::time::Duration,
    first_start: Option<tally_app::bootstrap::FirstStart>,
}

impl Server {
    /// Opens storage, creates the first organization pair if the database is empty, and binds
    /// the listener, so `local_addr` is known before serving starts.
    pub async fn build(config: Config) -> anyhow::Result<Self> {
        Self::build_with(config, Arc::new(SystemClock), Arc::new(RandomIds)).await
    }

    /// `build` with an injected clock and id source (tests).
    pub async fn build_with(
        config: Config,
        clock: Arc<dyn Clock>,
        ids: Arc<dyn IdSource>,
    ) -> anyhow::Result<Self> {
        info!(config = ?config, "starting");
        let listener = TcpListener::bind(config.listen).await?;
        let metrics_listener = match config.metrics_listen {
            Some(address) => {
                // Installed before the first request, so that it counts them all.
                crate::prometheus::handle();
                Some(TcpListener::bind(address).await?)
            }
            None => None,
        };
        let store = crate::storage::open(&config.database_url).await?;
        let app = App::new(store.clone(), clock, ids)
            .with_transport(Arc::new(tally_workers::HttpTransport::new(
                config.webhook_timeout,
                config.webhook_allow_networks.clone(),
                &config.webhook_pinned_hosts,
            )?))
            .with_webhook_networks(config.webhook_allow_networks.clone())
            .with_own_port(listener.local_addr()?.port())
            .with_auto_pay(config.auto_pay)
            .with_charge_mode(config.charge_mode)
            .with_seat_caps(config.enforce_seat_caps)
            // A claimed delivery is re-sent only after its send surely ended: twice the
            // receiver's time budget plus a margin.
            .with_delivery_lease_ms(
                i64::try_from(config.webhook_timeout.as_millis() * 2).unwrap_or(i64::MAX) + 5_000,
            );
        let public_base_url = config.public_base_url.clone().unwrap_or_else(|| {
            let address = listener.local_addr().map_or(config.listen, |a| a);
            if address.ip().is_unspecified() {
                format!("http://localhost:{}", address.port())
            } else {
                format!("http://{address}")
            }
        });
        let app = app.with_invoice_links(tally_app::invoice_files::InvoiceLinks::new(
            &public_base_url,
            config.server_secret.clone(),
        ));
        let app = match &config.smtp {
            Some(smtp) => app.with_mailer(Arc::new(
                tally_workers::SmtpMailer::new(&smtp.url, &smtp.from)
                    .map_err(|e| anyhow::anyhow!("--smtp-url / --smtp-from: {e}"))?,
            )),
            None => app,
        };
        let first_start = app.bootstrap(&config.seeds).await?;
        let router = tally_api::router(app.clone(), &config.api);
        Ok(Self {
            app,
            listener,
            metrics_listener,
            store,
            router,
            workers: config.workers,
            connections: config.connections,
            webhook_poll: config.webhook_poll,
            first_start,
        })
    }

    /// The app behind a configuration, without a listener (the `keys` commands).
    pub async fn app_for(config: &Config) -> anyhow::Result<App> {
        let store = crate::storage::open(&config.database_url).await?;
        Ok(App::new(store, Arc::new(SystemClock), Arc::new(RandomIds)))
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("a bound listener has an address")
    }

    /// The address `/metrics` is served on, if any.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_listener.as_ref().map(|listener| {
            listener
                .local_addr()
                .expect("a bound listener has an address")
        })
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    /// The keys made at first start, if this start made them.
    pub fn first_start(&self) -> Option<&tally_app::bootstrap::FirstStart> {
        self.first_start.as_ref()
    }

    /// Serves until SIGINT/SIGTERM, then stops accepting, finishes in-flight requests and lets
    /// the workers finish their current pass.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        if let Some(first) = &self.first_start {
            println!("Tally created its first organization pair. These keys are shown once:");
            println!("  sandbox key: {}", first.sandbox_key);
            println!("  live key:    {}", first.live_key);
            println!(
                "  dashboard:   http://{}/dashboard  (operator credential: {})",
                self.local_addr(),
                first.dashboard_credential
            );
        }
        if let Some(address) = self.metrics_addr() {
            println!("Tally metrics on http://{address}/metrics");
        }
        println!("Tally listening on http://{}", self.local_addr());
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `stop` completes (tests pass their own future).
    pub async fn run_until(
        self,
        stop: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let (stop_workers, workers_stopped) = watch::channel(false);
        let mut metrics_stopped = workers_stopped.clone();
        let workers = self.workers.then(|| {
            let upkeep = tally_workers::Upkeep::new(self.app.clone());
            let renewals = tally_workers::Renewals::new(self.app.clone());
            let dispatcher = tally_workers::Dispatcher::new(self.app.clone(), self.webhook_poll);
            let mailing = tally_workers::Mailing::new(self.app.clone(), self.webhook_poll);
            let (renewals_stopped, dispatcher_stopped, mailing_stopped) = (
                workers_stopped.clone(),
                workers_stopped.clone(),
                workers_stopped.clone(),
            );
            tokio::spawn(async move {
                tokio::join!(
                    upkeep.run(workers_stopped),
                    renewals.run(renewals_stopped),
                    dispatcher.run(dispatcher_stopped),
                    mailing.run(mailing_stopped)
                );
            })
        });
        let metrics = self.metrics_listener.map(|listener| {
            tokio::spawn(crate::prometheus::serve(listener, self.store, async move {
                metrics_stopped.wait_for(|stop| *stop).await.ok();
            }))
        });
        crate::http_server::serve(self.listener, self.router, self.connections, stop).await;
        stop_workers.send(true).ok();
        if let Some(metrics) = metrics {
            match metrics.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => error!(%error, "the metrics listener failed"),
                Err(join_error) => error!(%join_error, "the metrics listener stopped abnormally"),
            }
        }
        if let Some(workers) = workers
            && let Err(join_error) = workers.await
        {
            error!(%join_error, "the workers stopped abnormally");
        }
        info!("stopped");
        Ok(())
    }
}

async fn shutdown_signal() {
    let interrupt = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let terminate = async {
        if let Ok(mut signal) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            signal.recv().await;
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => info!("interrupt received, shutting down"),
        () = terminate => info!("terminate received, shutting down"),
    }
}
