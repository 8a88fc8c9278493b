//! One typed configuration, resolved from defaults, `TALLY_*` / `DATABASE_URL` variables and
//! flags (clap applies that precedence). Secrets never appear in `Debug` output.

use crate::cli::ServeArgs;
use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::Path;
use std::time::Duration;
use tally_api::rate_limit::ORG_REQUESTS_PER_KEY_BUDGET;
use tally_api::{ApiConfig, RateLimit};
use tally_app::bootstrap::SeedKeys;
use tally_domain::webhook_targets::AllowedNetworks;

/// Defaults for settings left at 0 (`ServeArgs::default()`, as the tests build it).
const HEADER_TIMEOUT_DEFAULT: Duration = Duration::from_secs(10);
const MAX_CONNECTIONS_DEFAULT: usize = 10_000;

/// `ms` milliseconds, or `default` when `ms` is 0.
fn millis_or(ms: u64, default: Duration) -> Duration {
    if ms == 0 {
        default
    } else {
        Duration::from_millis(ms)
    }
}

#[derive(Clone)]
pub struct Config {
    pub database_url: String,
    pub listen: SocketAddr,
    /// Where `/metrics` is served; `None`: nowhere, and no metrics are recorded.
    pub metrics_listen: Option<SocketAddr>,
    pub seeds: SeedKeys,
    pub api: ApiConfig,
    pub workers: bool,
    /// How often the webhook dispatcher looks for events and due deliveries.
    pub webhook_poll: Duration,
    /// How long a webhook receiver has to answer.
    pub webhook_timeout: Duration,
    /// Address ranges webhooks may reach besides public addresses.
    pub webhook_allow_networks: AllowedNetworks,
    pub connections: crate::http_server::ConnectionLimits,
    /// Names webhook sends resolve to fixed addresses instead of through DNS (tests; the
    /// network policy still applies). Not a command-line option.
    pub webhook_pinned_hosts: Vec<(String, IpAddr)>,
    /// Whether invoices are issued paid.
    pub auto_pay: bool,
    /// Whether subscription invoices are charged (`--billing-mode charge`).
    pub charge_mode: bool,
    /// Whether seat caps are enforced.
    pub enforce_seat_caps: bool,
    /// The origin of invoice download links; `None`: the listen address.
    pub public_base_url: Option<String>,
    /// The key that signs download links; `None`: the one kept in the database.
    pub server_secret: Option<Vec<u8>>,
    /// Invoice e-mail, when configured.
    pub smtp: Option<Smtp>,
}

/// Where invoice e-mails go out, and from whom.
#[derive(Clone)]
pub struct Smtp {
    pub url: String,
    pub from: String,
}

impl Config {
    pub fn resolve(
        database_url: Option<String>,
        data_dir: &Path,
        serve: Option<&ServeArgs>,
    ) -> anyhow::Result<Self> {
        let database_url = match database_url.filter(|u| !u.is_empty()) {
            Some(url) => url,
            None => {
                std::fs::create_dir_all(data_dir).map_err(|e| {
                    anyhow::anyhow!("cannot create data directory {}: {e}", data_dir.display())
                })?;
                format!("sqlite://{}", data_dir.join("tally.db").display())
            }
        };
        let defaults = ServeArgs::default();
        let serve = serve.unwrap_or(&defaults);
        let listen = if serve.listen.is_empty() {
            SocketAddr::from(([127, 0, 0, 1], 8080))
        } else {
            serve
                .listen
                .parse()
                .map_err(|e| anyhow::anyhow!("--listen {:?}: {e}", serve.listen))?
        };
        let metrics_listen = serve
            .metrics_listen
            .as_deref()
            .filter(|address| !address.is_empty())
            .map(|address| {
                address
                    .parse()
                    .map_err(|e| anyhow::anyhow!("--metrics-listen {address:?}: {e}"))
            })
            .transpose()?;
        let webhook_allow_networks = AllowedNetworks::parse(&serve.webhook_allow_networks)
            .map_err(|e| anyhow::anyhow!("--webhook-allow-networks: {e}"))?;
        let public_base_url = match serve.public_base_url.as_deref().filter(|u| !u.is_empty()) {
            Some(text) => {
                let url = url::Url::parse(text)
                    .map_err(|e| anyhow::anyhow!("--public-base-url {text:?}: {e}"))?;
                if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
                    anyhow::bail!("--public-base-url {text:?}: must be an http(s) origin");
                }
                Some(text.trim_end_matches('/').to_owned())
            }
            None => None,
        };
        let server_secret = match serve.server_secret.as_deref().filter(|s| !s.is_empty()) {
            Some(secret) if secret.len() < tally_app::invoice_files::LINK_SECRET_BYTES_MIN => {
                anyhow::bail!(
                    "--server-secret must be at least {} bytes",
                    tally_app::invoice_files::LINK_SECRET_BYTES_MIN
                )
            }
            secret => secret.map(|s| s.as_bytes().to_vec()),
        };
        let smtp = serve
            .smtp_url
            .as_deref()
            .filter(|u| !u.is_empty())
            .map(|url| Smtp {
                url: url.to_owned(),
                from: serve.smtp_from.clone(),
            });
        Ok(Self {
            database_url,
            listen,
            metrics_listen,
            seeds: SeedKeys {
                sandbox: serve.seed_sandbox_key.clone(),
                live: serve.seed_live_key.clone(),
                headless: serve.headless,
                dashboard: serve.seed_dashboard_credential.clone(),
            },
            api: ApiConfig {
                rate_limit: {
                    let requests_per_window = serve.rate_limit_requests.max(1);
                    RateLimit {
                        requests_per_window,
                        org_requests_per_window: serve.rate_limit_org_requests.map_or_else(
                            || requests_per_window.saturating_mul(ORG_REQUESTS_PER_KEY_BUDGET),
                            |requests| requests.max(1),
                        ),
                        auth_failures_per_window: serve.rate_limit_auth_failures.max(1),
                        window: Duration::from_secs(serve.rate_limit_window_secs.max(1)),
                    }
                },
                doc_url_base: if serve.doc_url_base.is_empty() {
                    tally_api::DOC_URL_BASE_DEFAULT.to_owned()
                } else {
                    serve.doc_url_base.clone()
                },
                body_timeout: millis_or(serve.body_timeout_ms, tally_api::BODY_TIMEOUT_DEFAULT),
                request_timeout: millis_or(
                    serve.request_timeout_ms,
                    tally_api::REQUEST_TIMEOUT_DEFAULT,
                ),
                body_limit_bytes: if serve.body_limit_bytes == 0 {
                    tally_api::BODY_LIMIT_BYTES_DEFAULT
                } else {
                    serve.body_limit_bytes
                },
            },
            connections: crate::http_server::ConnectionLimits {
                header_timeout: millis_or(serve.header_timeout_ms, HEADER_TIMEOUT_DEFAULT),
                max_connections: if serve.max_connections == 0 {
                    MAX_CONNECTIONS_DEFAULT
                } else {
                    serve.max_connections
                },
            },
            workers: serve.workers,
            auto_pay: serve.auto_pay,
            charge_mode: serve.billing_mode == crate::cli::BillingMode::Charge,
            enforce_seat_caps: serve.enforce_seat_caps,
            webhook_poll: Duration::from_millis(serve.webhook_poll_ms.max(10)),
            webhook_timeout: Duration::from_millis(if serve.webhook_timeout_ms == 0 {
                tally_domain::webhooks::DELIVERY_TIMEOUT_MS
            } else {
                serve.webhook_timeout_ms
            }),
            webhook_allow_networks,
            webhook_pinned_hosts: Vec::new(),
            public_base_url,
            server_secret,
            smtp,
        })
    }

    /// The database URL with any password replaced, for logs.
    pub fn database_url_redacted(&self) -> String {
        redact_password(&self.database_url)
    }
}

/// `url` with every password replaced by `***`: the one in the user information and any
/// query parameter whose name contains `password` (libpq's `?password=`, `sslpassword`). A URL
/// that does not parse is not shown at all, since there is no telling where its secret is.
pub fn redact_password(url: &str) -> String {
    let Ok(mut parsed) = url::Url::parse(url) else {
        return "<a database URL that does not parse>".to_owned();
    };
    if parsed.password().is_some() {
        // Only fails for URLs that cannot have credentials, and those have no password.
        parsed.set_password(Some("***")).ok();
    }
    let is_secret = |name: &str| name.to_ascii_lowercase().contains("password");
    if parsed.query_pairs().any(|(name, _)| is_secret(&name)) {
        let pairs: Vec<(String, String)> = parsed
            .query_pairs()
            .map(|(name, value)| {
                let value = if is_secret(&name) {
                    "***".into()
                } else {
                    value
                };
                (name.into_owned(), value.into_owned())
            })
            .collect();
        parsed.query_pairs_mut().clear().extend_pairs(pairs);
    }
    parsed.to_string()
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("database_url", &self.database_url_redacted())
            .field("listen", &self.listen)
            .field("metrics_listen", &self.metrics_listen)
            .field("body_limit_bytes", &self.api.body_limit_bytes)
            .field(
                "seed_sandbox_key",
                &self.seeds.sandbox.as_ref().map(|_| "***"),
            )
            .field("seed_live_key", &self.seeds.live.as_ref().map(|_| "***"))
            .field(
                "seed_dashboard_credential",
                &self.seeds.dashboard.as_ref().map(|_| "***"),
            )
            .field("rate_limit", &self.api.rate_limit)
            .field("workers", &self.workers)
            .field("auto_pay", &self.auto_pay)
            .field("charge_mode", &self.charge_mode)
            .field("enforce_seat_caps", &self.enforce_seat_caps)
            .field("webhook_poll", &self.webhook_poll)
            .field(
                "webhook_allow_networks",
                &self.webhook_allow_networks.to_string(),
            )
            .field("public_base_url", &self.public_base_url)
            .field("server_secret", &self.server_secret.as_ref().map(|_| "***"))
            .field("smtp", &self.smtp.as_ref().map(|s| redact_password(&s.url)))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_networks_are_read_at_start_and_a_bad_one_stops_it() {
        let resolve = |list: &str| {
            let serve = ServeArgs {
                webhook_allow_networks: list.to_owned(),
                ..ServeArgs::default()
            };
            Config::resolve(
                Some("sqlite://t.db".to_owned()),
                Path::new("."),
                Some(&serve),
            )
        };

        let allowed = resolve("127.0.0.0/8, ::1").unwrap().webhook_allow_networks;
        let error = resolve("127.0.0.0/8,localhost").unwrap_err().to_string();

        assert_eq!(allowed.to_string(), "127.0.0.0/8,::1/128");
        assert!(resolve("").unwrap().webhook_allow_networks.is_empty());
        assert!(
            error.contains("--webhook-allow-networks") && error.contains("\"localhost\""),
            "{error}"
        );
    }

    #[test]
    fn the_default_rate_limits_stay_out_of_a_self_hosted_apps_way() {
        use clap::Parser;
        let database = ["--database-url", "sqlite://t.db"];
        let cli =
            crate::cli::Cli::try_parse_from(["tally", "serve"].iter().chain(&database)).unwrap();
        let turned_down = crate::cli::Cli::try_parse_from(
            ["tally", "serve", "--rate-limit-requests", "50"]
                .iter()
                .chain(&database),
        )
        .unwrap();

        let limit = cli.config().unwrap().api.rate_limit;
        let lower = turned_down.config().unwrap().api.rate_limit;

        assert_eq!(
            (limit.requests_per_window, limit.org_requests_per_window),
            (10_000, 30_000)
        );
        assert_eq!(limit.window, Duration::from_secs(10));
        assert_eq!(
            (lower.requests_per_window, lower.org_requests_per_window),
            (50, 150),
            "the organization's budget follows the key's"
        );
    }

    #[test]
    fn passwords_never_reach_the_logs() {
        let cases = [
            (
                "postgres://tally:s3cret@db:5432/tally",
                "postgres://tally:***@db:5432/tally",
                "a plain password",
            ),
            (
                "postgres://tally:p@ss@word@db:5432/tally",
                "postgres://tally:***@db:5432/tally",
                "a password with @ in it, not percent-encoded",
            ),
            (
                "postgres://tally:p%40ss@db/tally",
                "postgres://tally:***@db/tally",
                "a percent-encoded password",
            ),
            (
                "postgres://db/tally?user=tally&password=s3cret&sslmode=require",
                "postgres://db/tally?user=tally&password=***&sslmode=require",
                "a password query parameter",
            ),
            (
                "postgres://db/tally?sslpassword=s3cret&Password=other",
                "postgres://db/tally?sslpassword=***&Password=***",
                "password parameters under other names and cases",
            ),
            (
                "postgres://postgres@db/x",
                "postgres://postgres@db/x",
                "no password",
            ),
            (
                "sqlite://tally-data/tally.db",
                "sqlite://tally-data/tally.db",
                "a SQLite file",
            ),
            (
                "postgres://tally:s3cret@[db",
                "<a database URL that does not parse>",
                "a URL that does not parse",
            ),
        ];
        for (url, shown, case) in cases {
            let redacted = redact_password(url);

            assert_eq!(redacted, shown, "{case}");
            assert!(
                !redacted.contains("s3cret") && !redacted.contains("ss@word"),
                "{case}"
            );
        }
    }
}
