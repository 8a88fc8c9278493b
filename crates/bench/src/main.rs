//! `tally-bench`: the load driver for Tally's seat and usage paths (see
//! `crates/bench/README.md`).
//!
//! For each backend (SQLite always, PostgreSQL when a server is named) it starts the real
//! server in-process on 127.0.0.1, sets up a catalog and customers over HTTP, then measures
//! seat writes, balance reads, usage tracks and feature-access reads over HTTP and, on a second
//! database prepared the same way, the seat write's raw store transaction and the seat write's
//! and the track's transactions as plain SQL on the engine: the floors the HTTP paths are
//! compared against. A bare axum handler, measured before and after the backends (the faster
//! run counts), gives the HTTP floor. One table per
//! backend, with the ratios; `--json FILE` writes the same figures.

mod bare_http;
mod engine;
mod fixture;
mod http;
mod load;
mod pages;
mod raw_tx;
mod report;

use clap::Parser;
use fixture::{Backend, FreshDatabase, RunningServer};
use load::{LoadShape, Stop};
use report::{BackendReport, Phase};
use serde_json::json;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, Parser)]
#[command(
    name = "tally-bench",
    about = "Seat-write, balance-read, usage-track and feature-access throughput and latency over HTTP, next to the raw store and engine transaction rates"
)]
struct Args {
    /// A PostgreSQL server where the user may create databases; the tool creates a fresh
    /// database there for each measurement and drops it at the end. Without it, SQLite only.
    #[arg(long, env = "TALLY_BENCH_POSTGRES_URL", hide_env_values = true)]
    postgres_url: Option<String>,

    /// How long each phase runs.
    #[arg(long, default_value_t = 5)]
    duration_secs: u64,

    /// Run each phase for exactly this many requests instead of `--duration-secs`.
    #[arg(long)]
    requests: Option<u64>,

    /// Concurrent workers in every phase (HTTP clients, or store transactions).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,

    /// Customers, each with one subscription; requests go to them in turn.
    #[arg(long, default_value_t = 50)]
    customers: usize,

    /// Measure the dashboard's page loads instead (a customer with 10 000 seat events, a
    /// list of 100 000 customers) against the engine's reads and the bare handler.
    #[arg(long)]
    pages: bool,

    /// Also write the figures to this file as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
}

/// mimalloc: the request path allocates many small, short-lived buffers (JSON, SQL arguments,
/// rows), where it costs less CPU than the system allocator (measured with `tally-bench`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    // On Ctrl-C the measurement futures are dropped, so their databases are dropped too.
    let outcome = tokio::select! {
        outcome = run(&args) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted")),
    };
    match outcome {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => {
            eprintln!("tally-bench: some requests failed or a check did not match");
            ExitCode::FAILURE
        }
        Err(error) => {
            eprintln!("tally-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Measures every backend and prints the tables; `Ok(false)` when something failed.
async fn run(args: &Args) -> anyhow::Result<bool> {
    anyhow::ensure!(args.concurrency > 0, "--concurrency must be at least 1");
    anyhow::ensure!(args.customers > 0, "--customers must be at least 1");
    let shape = LoadShape {
        concurrency: args.concurrency,
        stop: match args.requests {
            Some(requests) => Stop::Requests(requests),
            None => Stop::After(Duration::from_secs(args.duration_secs)),
        },
    };
    let mut backends = vec![Backend::Sqlite];
    if let Some(url) = args.postgres_url.as_ref().filter(|u| !u.is_empty()) {
        backends.push(Backend::Postgres(url.clone()));
    }
    print_context(args, &backends);

    // The floor is measured before and after the backends and the faster run is the one the
    // ratios use: on a shared machine a slow floor would flatter every ratio.
    eprintln!("bare HTTP handler");
    let bare_before = bare_http::requests(shape).await?;
    let mut reports = Vec::new();
    let mut page_reports = Vec::new();
    for backend in &backends {
        if args.pages {
            page_reports.push(pages::measure(backend, shape).await?);
        } else {
            reports.push(measure(backend, args.customers, shape).await?);
        }
    }
    eprintln!("bare HTTP handler, again");
    let bare_after = bare_http::requests(shape).await?;
    let bare = Phase {
        operation: "bare HTTP handler (no Tally, no DB)",
        measured: if bare_after.throughput_per_sec() > bare_before.throughput_per_sec() {
            bare_after
        } else {
            bare_before
        },
    };
    println!();
    println!(
        "== HTTP floor: the same client and requests against an empty axum handler (the faster \
         of a run before and one after the backends) =="
    );
    report::print_header();
    bare.print_row();
    bare.print_failures();
    for report in &reports {
        report.print(&bare.measured);
    }
    for report in &page_reports {
        report::print_pages(report, &bare.measured);
    }

    if let Some(path) = &args.json {
        let figures = json!({
            "context": context_json(args),
            "bareHttp": bare.to_json(),
            "backends": reports.iter().map(|r| r.to_json(&bare.measured)).collect::<Vec<_>>(),
            "pages": page_reports.iter().map(|r| report::pages_json(r, &bare.measured)).collect::<Vec<_>>(),
        });
        std::fs::write(path, serde_json::to_string_pretty(&figures)? + "\n")?;
        eprintln!("figures written to {}", path.display());
    }
    Ok(bare.measured.errors == 0
        && !reports.iter().any(BackendReport::failed)
        && !page_reports.iter().any(pages::PagesReport::failed))
}

/// The seven phases on one backend. The HTTP phases share one database (seat writes, then reads
/// of the balances they produced; usage tracks, then reads of the counters they produced); the
/// raw transactions and the engine baselines get a second one prepared by the same HTTP setup,
/// so the seat write phases start from the same state.
async fn measure(
    backend: &Backend,
    customers: usize,
    shape: LoadShape,
) -> anyhow::Result<BackendReport> {
    let name = backend.name();
    eprintln!("{name}: setting up the catalog and {customers} customer(s) over HTTP");
    let database = FreshDatabase::create(backend).await;
    let server = RunningServer::start(database.url()).await?;
    let fixture = server.set_up(customers).await?;
    eprintln!("{name}: HTTP seat writes");
    let seat_writes = http::seat_writes(&server, &fixture, shape).await;
    let http_check = http::balance_check(&server, &fixture, seat_writes.successes()).await?;
    eprintln!("{name}: HTTP balance reads");
    let balance_reads = http::balance_reads(&server, &fixture, shape).await;
    eprintln!("{name}: HTTP usage tracks");
    let usage_tracks = http::usage_tracks(&server, &fixture, shape).await;
    let usage_check = http::usage_check(&server, &fixture, usage_tracks.successes()).await?;
    eprintln!("{name}: HTTP feature-access reads");
    let access_reads = http::feature_access_reads(&server, &fixture, shape).await;
    server.stop().await?;
    drop(database);

    eprintln!("{name}: raw store transactions (second database, same setup)");
    let database = FreshDatabase::create(backend).await;
    let server = RunningServer::start(database.url()).await?;
    let fixture = server.set_up(customers).await?;
    server.stop().await?;
    let store = tally::storage::open(database.url()).await?;
    let (org, key) = raw_tx::sandbox_key(&*store).await?;
    let raw_writes = raw_tx::seat_writes(store.clone(), (org.clone(), key), &fixture, shape).await;
    let raw_check = raw_tx::balance_check(&*store, &org, &fixture, raw_writes.successes()).await?;
    drop(store);

    eprintln!("{name}: engine baseline (plain SQL on the same database, no Tally code)");
    let targets = engine::targets(database.url()).await?;
    let engine_writes = engine::seat_writes(database.url(), targets.clone(), shape).await?;
    eprintln!("{name}: engine baseline of the usage track (plain SQL, same database)");
    let engine_tracks = engine::usage_tracks(database.url(), targets, shape).await?;
    drop(database);

    Ok(BackendReport {
        backend: name,
        durability: match backend {
            Backend::Sqlite => "WAL, synchronous=FULL, one writer connection",
            Backend::Postgres(_) => {
                "READ COMMITTED with row locks; fsync as the server is configured"
            }
        },
        seat_writes: Phase {
            operation: "seat write (HTTP POST /seats)",
            measured: seat_writes,
        },
        balance_reads: Phase {
            operation: "balance read (HTTP GET /seats/balance)",
            measured: balance_reads,
        },
        raw_writes: Phase {
            operation: "seat write (Tally store transaction)",
            measured: raw_writes,
        },
        engine_writes: Phase {
            operation: match backend {
                Backend::Sqlite => "seat write (engine: SQL, one connection)",
                Backend::Postgres(_) => "seat write (engine: SQL, N connections)",
            },
            measured: engine_writes,
        },
        usage_tracks: Phase {
            operation: "usage track (HTTP POST /usage/events)",
            measured: usage_tracks,
        },
        access_reads: Phase {
            operation: "feature access read (HTTP GET /feature-access/{code})",
            measured: access_reads,
        },
        engine_tracks: Phase {
            operation: match backend {
                Backend::Sqlite => "usage track (engine: SQL, one connection)",
                Backend::Postgres(_) => "usage track (engine: SQL, N connections)",
            },
            measured: engine_tracks,
        },
        http_check,
        raw_check,
        usage_check,
    })
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn profile() -> &'static str {
    if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    }
}

fn phase_length(args: &Args) -> String {
    match args.requests {
        Some(requests) => format!("{requests} requests per phase"),
        None => format!("{} s per phase", args.duration_secs),
    }
}

fn print_context(args: &Args, backends: &[Backend]) {
    let names: Vec<&str> = backends.iter().map(Backend::name).collect();
    println!("tally-bench");
    println!(
        "machine: {} cores available; client and server share this process and its cores",
        cores()
    );
    println!(
        "build: {}; tokio multi-thread runtime, {} worker threads",
        profile(),
        cores()
    );
    println!(
        "settings: concurrency {}, {}, {} customers with {} initial seats and {} included {} units, API version {}, backends: {}",
        args.concurrency,
        phase_length(args),
        args.customers,
        fixture::INITIAL_SEATS,
        fixture::INCLUDED_USAGE,
        fixture::USAGE_FEATURE_CODE,
        fixture::API_VERSION,
        names.join(", "),
    );
    println!(
        "server: in-process on 127.0.0.1, workers off, rate limit {} per {} s",
        fixture::RATE_LIMIT_REQUESTS,
        fixture::RATE_LIMIT_WINDOW_SECS
    );
}

fn context_json(args: &Args) -> serde_json::Value {
    json!({
        "cores": cores(),
        "profile": profile(),
        "concurrency": args.concurrency,
        "durationSecs": args.requests.is_none().then_some(args.duration_secs),
        "requestsPerPhase": args.requests,
        "customers": args.customers,
        "initialSeats": fixture::INITIAL_SEATS,
        "includedUsage": fixture::INCLUDED_USAGE,
        "apiVersion": fixture::API_VERSION,
        "postgres": args.postgres_url.is_some(),
    })
}
