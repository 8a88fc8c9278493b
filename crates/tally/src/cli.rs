//! The command line. Every option can also come from a `TALLY_*` environment variable
//! (`DATABASE_URL` for the database); flags win over variables, variables over defaults.

use crate::config::Config;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "tally",
    version,
    about = "An open-source billing server that speaks the Commet API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Database: `sqlite://path/to/file.db` or `postgres://user@host:port/database`.
    /// Default: a SQLite file in the data directory.
    #[arg(long, global = true, env = "DATABASE_URL")]
    pub database_url: Option<String>,

    /// Where the default SQLite file lives.
    #[arg(
        long,
        global = true,
        env = "TALLY_DATA_DIR",
        default_value = "tally-data"
    )]
    pub data_dir: PathBuf,

    /// Log lines as human-readable text or as JSON.
    #[arg(long, global = true, env = "TALLY_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the API server (and the background workers).
    Serve(Box<ServeArgs>),
    /// Apply pending database migrations and exit.
    Migrate,
    /// Manage API keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Manage the dashboard's operator credential.
    #[command(subcommand)]
    Dashboard(DashboardCommand),
    /// Copy the SQLite database to a file while the server keeps running (PostgreSQL: use
    /// pg_dump or base backups with WAL archiving).
    Backup(BackupArgs),
    /// Print the OpenAPI 3.1 document of an API version's generation (the one the server
    /// serves at `/openapi.json`).
    Openapi(OpenapiArgs),
}

#[derive(Debug, Args)]
pub struct OpenapiArgs {
    /// The API version whose generation to describe: `2026-07-11` (legacy) or a direct
    /// version. Default: the latest.
    #[arg(long, value_name = "VERSION")]
    pub version: Option<String>,

    /// Write the document to this file instead of standard output.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    /// The file to write the copy to.
    #[arg(long, value_name = "FILE")]
    pub to: PathBuf,

    /// Replace the file if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args, Default)]
pub struct ServeArgs {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, env = "TALLY_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Address to serve Prometheus metrics on, at `/metrics`, without an API key (e.g.
    /// `127.0.0.1:9464`); keep it off the public network. Default: no metrics.
    #[arg(long, env = "TALLY_METRICS_LISTEN")]
    pub metrics_listen: Option<String>,

    /// Create this sandbox key (`ck_sandbox_` + 32 letters or digits) at first start instead of
    /// a random one.
    #[arg(long, env = "TALLY_SEED_SANDBOX_KEY", hide_env_values = true)]
    pub seed_sandbox_key: Option<String>,

    /// Create this live key (`ck_live_` + 32 letters or digits) at first start.
    #[arg(long, env = "TALLY_SEED_LIVE_KEY", hide_env_values = true)]
    pub seed_live_key: Option<String>,

    /// Set this dashboard operator credential (at least 12 characters) at first start instead
    /// of a generated one.
    #[arg(long, env = "TALLY_SEED_DASHBOARD_CREDENTIAL", hide_env_values = true)]
    pub seed_dashboard_credential: Option<String>,

    /// At first start, make the organization pair without an owner: someone claims it later
    /// through a claim link (`provisioning.createClaimLink`).
    #[arg(long, env = "TALLY_HEADLESS", default_value_t = false, action = clap::ArgAction::Set)]
    pub headless: bool,

    /// Requests each API key may make per rate-limit window. The default, 10 000 per 10 s, is
    /// out of the way of a self-hosted deployment's own apps; turn it down to guard against a
    /// runaway client.
    #[arg(long, env = "TALLY_RATE_LIMIT_REQUESTS", default_value_t = tally_api::rate_limit::REQUESTS_PER_WINDOW_DEFAULT)]
    pub rate_limit_requests: u32,

    /// Requests all keys of one organization may make together per rate-limit window, so that
    /// making keys does not multiply the budget. Default: three times --rate-limit-requests.
    #[arg(long, env = "TALLY_RATE_LIMIT_ORG_REQUESTS")]
    pub rate_limit_org_requests: Option<u32>,

    /// Failed authentications (a missing, unknown, revoked or expired key) one source address
    /// may make per rate-limit window; past that, every request from it gets 429 until the
    /// window ends. The address is the TCP peer's (X-Forwarded-For is not read).
    #[arg(long, env = "TALLY_RATE_LIMIT_AUTH_FAILURES", default_value_t = 20)]
    pub rate_limit_auth_failures: u32,

    /// Length of the rate-limit window in seconds.
    #[arg(long, env = "TALLY_RATE_LIMIT_WINDOW_SECS", default_value_t = 10)]
    pub rate_limit_window_secs: u64,

    /// Run background workers in this process (turn off on extra API nodes).
    #[arg(long, env = "TALLY_WORKERS", default_value_t = true, action = clap::ArgAction::Set)]
    pub workers: bool,

    /// Issue invoices already paid (Tally takes no payments); `false` issues them outstanding,
    /// to be marked paid or void through the API.
    #[arg(long, env = "TALLY_AUTO_PAY", default_value_t = true, action = clap::ArgAction::Set)]
    pub auto_pay: bool,

    /// `invoice_only` (the default): subscription invoices are issued as --auto-pay says and
    /// nothing is charged. `charge`: in organizations with a payment processor (sandboxes),
    /// renewal and trial-end invoices are charged to the customer's default card, and a
    /// declined charge makes the subscription past_due with automatic retries (dunning).
    #[arg(long, env = "TALLY_BILLING_MODE", value_enum, default_value_t = BillingMode::InvoiceOnly)]
    pub billing_mode: BillingMode,

    /// Refuse seat counts above the included amount when overage is off, during trials and on
    /// free plans (`included_limit_reached`); by default reaching the limit never blocks.
    #[arg(long, env = "TALLY_ENFORCE_SEAT_CAPS", default_value_t = false, action = clap::ArgAction::Set)]
    pub enforce_seat_caps: bool,

    /// How often, in milliseconds, the webhook dispatcher looks for work.
    #[arg(long, env = "TALLY_WEBHOOK_POLL_MS", default_value_t = 1000)]
    pub webhook_poll_ms: u64,

    /// How long, in milliseconds, a webhook receiver has to answer (`webhooks.md` §6: 10 s).
    #[arg(long, env = "TALLY_WEBHOOK_TIMEOUT_MS", default_value_t = 10_000)]
    pub webhook_timeout_ms: u64,

    /// Address ranges webhook deliveries and test sends may reach besides public addresses, as
    /// a comma-separated CIDR list (e.g. `127.0.0.0/8,::1/128` to deliver to receivers on this
    /// machine during local development). By default none: loopback, private, link-local,
    /// unique-local, multicast, metadata and other non-public addresses are refused.
    #[arg(long, env = "TALLY_WEBHOOK_ALLOW_NETWORKS", default_value = "")]
    pub webhook_allow_networks: String,

    /// The longest, in milliseconds, a client may take to send a request's headers; a
    /// kept-alive connection idle this long is closed too.
    #[arg(long, env = "TALLY_HEADER_TIMEOUT_MS", default_value_t = 10_000)]
    pub header_timeout_ms: u64,

    /// The longest, in milliseconds, a client may take to send a request body.
    #[arg(long, env = "TALLY_BODY_TIMEOUT_MS", default_value_t = 10_000)]
    pub body_timeout_ms: u64,

    /// The largest request body accepted, in bytes; a larger one is refused with 413
    /// `payload_too_large`. The default, 2 MiB, fits the largest valid body.
    #[arg(long, env = "TALLY_BODY_LIMIT_BYTES", default_value_t = tally_api::BODY_LIMIT_BYTES_DEFAULT)]
    pub body_limit_bytes: usize,

    /// The longest, in milliseconds, a request may take from its headers to its answer; past
    /// it the client gets 503 (a write it started still completes).
    #[arg(long, env = "TALLY_REQUEST_TIMEOUT_MS", default_value_t = 30_000)]
    pub request_timeout_ms: u64,

    /// Client connections open at once; more wait in the listen backlog. The open-file limit is
    /// raised to fit them where the system allows.
    #[arg(long, env = "TALLY_MAX_CONNECTIONS", default_value_t = 10_000)]
    pub max_connections: usize,

    /// The origin invoice download links are built on (`https://billing.example.com`), as
    /// clients reach this server. Default: `http://` and the listen address (`localhost` for an
    /// unspecified address).
    #[arg(long, env = "TALLY_PUBLIC_BASE_URL")]
    pub public_base_url: Option<String>,

    /// The key (32 bytes or more) that signs invoice download links; every node of one
    /// installation needs the same. Default: a key generated once and kept in the database.
    #[arg(long, env = "TALLY_SERVER_SECRET", hide_env_values = true)]
    pub server_secret: Option<String>,

    /// Where invoice e-mails go out: `smtp://host:port` (STARTTLS when offered),
    /// `smtps://user:password@host:465` (TLS), `smtp://host:port?tls=required`. Default: no
    /// e-mail; sends are recorded only.
    #[arg(long, env = "TALLY_SMTP_URL", hide_env_values = true)]
    pub smtp_url: Option<String>,

    /// The sender of invoice e-mails.
    #[arg(
        long,
        env = "TALLY_SMTP_FROM",
        default_value = "Tally <billing@localhost>"
    )]
    pub smtp_from: String,

    /// Host and path prefix of `doc_url` in error bodies.
    #[arg(long, env = "TALLY_DOC_URL_BASE", default_value = tally_api::DOC_URL_BASE_DEFAULT)]
    pub doc_url_base: String,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Create a non-expiring API key for the live or sandbox organization and print it once.
    Create {
        #[arg(long, value_enum)]
        mode: KeyMode,
        #[arg(long, default_value = "Command-line key")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum DashboardCommand {
    /// Replace the dashboard's operator credential and sign every session out. Prints a new
    /// generated credential once, or, with `--stdin`, sets the one read from standard input.
    Credential {
        /// Read the credential (at least 12 characters, one line) from standard input.
        #[arg(long)]
        stdin: bool,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KeyMode {
    Sandbox,
    Live,
}

impl From<KeyMode> for tally_domain::Mode {
    fn from(mode: KeyMode) -> Self {
        match mode {
            KeyMode::Sandbox => tally_domain::Mode::Sandbox,
            KeyMode::Live => tally_domain::Mode::Live,
        }
    }
}

/// How subscription invoices are settled (`--billing-mode`).
#[derive(Debug, Clone, Copy, ValueEnum, Default, PartialEq, Eq)]
pub enum BillingMode {
    #[default]
    InvoiceOnly,
    Charge,
}

#[derive(Debug, Clone, Copy, ValueEnum, Default)]
pub enum LogFormat {
    #[default]
    Text,
    Json,
}

impl Cli {
    /// The effective configuration for this invocation.
    pub fn config(&self) -> anyhow::Result<Config> {
        let serve = match &self.command {
            Command::Serve(args) => Some(&**args),
            _ => None,
        };
        Config::resolve(self.database_url.clone(), &self.data_dir, serve)
    }
}
