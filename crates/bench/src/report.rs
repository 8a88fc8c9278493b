//! The figures of a run: one table per backend on stdout, and the same numbers as JSON for
//! `--json FILE`. Ratios are the point; absolute numbers only compare within one run.

use crate::http::SumCheck;
use crate::load::Measured;
use serde_json::{Value, json};

/// One measured phase, named for the table.
pub struct Phase {
    pub operation: &'static str,
    pub measured: Measured,
}

/// The operation column's width: the longest operation name.
const OPERATION_WIDTH: usize = 53;

impl Phase {
    pub fn print_row(&self) {
        let m = &self.measured;
        println!(
            "{:<OPERATION_WIDTH$} {:>9} {:>7} {:>11.1} {:>9.2} {:>9.2}",
            self.operation,
            m.successes(),
            m.errors,
            m.throughput_per_sec(),
            m.percentile_ms(50.0),
            m.percentile_ms(99.0),
        );
    }

    pub fn print_failures(&self) {
        for sample in &self.measured.error_samples {
            println!("FAILURE in {}: {sample}", self.operation);
        }
    }

    pub fn to_json(&self) -> Value {
        let m = &self.measured;
        json!({
            "operation": self.operation,
            "requests": m.successes(),
            "errors": m.errors,
            "errorSamples": m.error_samples,
            "elapsedSecs": m.elapsed.as_secs_f64(),
            "throughputPerSec": m.throughput_per_sec(),
            "p50Ms": m.percentile_ms(50.0),
            "p99Ms": m.percentile_ms(99.0),
        })
    }
}

/// The column titles every table shares.
pub fn print_header() {
    println!(
        "{:<OPERATION_WIDTH$} {:>9} {:>7} {:>11} {:>9} {:>9}",
        "operation", "requests", "errors", "req/s", "p50 ms", "p99 ms"
    );
}

/// Everything measured on one backend.
pub struct BackendReport {
    pub backend: &'static str,
    /// Durability and isolation as the store configures them.
    pub durability: &'static str,
    pub seat_writes: Phase,
    pub balance_reads: Phase,
    pub raw_writes: Phase,
    /// The same transaction shape as plain SQL on the engine, no Tally code (`engine`).
    pub engine_writes: Phase,
    pub usage_tracks: Phase,
    pub access_reads: Phase,
    /// The usage track's transaction shape as plain SQL on the engine (`engine`).
    pub engine_tracks: Phase,
    pub http_check: SumCheck,
    pub raw_check: SumCheck,
    /// The customers' `unitsUsed` after the HTTP tracks.
    pub usage_check: SumCheck,
}

impl BackendReport {
    /// In table order: the seat phases, then the usage phases.
    fn phases(&self) -> [&Phase; 7] {
        [
            &self.seat_writes,
            &self.balance_reads,
            &self.raw_writes,
            &self.engine_writes,
            &self.usage_tracks,
            &self.access_reads,
            &self.engine_tracks,
        ]
    }

    /// HTTP seat-write throughput over the engine's rate for the same transaction shape: the
    /// target figure.
    pub fn write_to_engine_ratio(&self) -> f64 {
        ratio(&self.seat_writes.measured, &self.engine_writes.measured)
    }

    /// Tally's store path (no HTTP) over the engine: what the storage layer itself costs.
    pub fn store_to_engine_ratio(&self) -> f64 {
        ratio(&self.raw_writes.measured, &self.engine_writes.measured)
    }

    /// HTTP seat-write throughput over Tally's store path: what HTTP and the app cost.
    pub fn write_ratio(&self) -> f64 {
        ratio(&self.seat_writes.measured, &self.raw_writes.measured)
    }

    /// Balance-read throughput over the bare HTTP handler's.
    pub fn read_to_bare_ratio(&self, bare: &Measured) -> f64 {
        ratio(&self.balance_reads.measured, bare)
    }

    /// HTTP usage-track throughput over the engine's rate for the track's transaction shape.
    pub fn track_to_engine_ratio(&self) -> f64 {
        ratio(&self.usage_tracks.measured, &self.engine_tracks.measured)
    }

    /// Feature-access-read throughput over the bare HTTP handler's.
    pub fn access_to_bare_ratio(&self, bare: &Measured) -> f64 {
        ratio(&self.access_reads.measured, bare)
    }

    pub fn failed(&self) -> bool {
        self.phases().iter().any(|p| p.measured.errors > 0)
            || !self.http_check.matches()
            || !self.raw_check.matches()
            || !self.usage_check.matches()
    }

    pub fn print(&self, bare: &Measured) {
        println!();
        println!("== {} ({}) ==", self.backend, self.durability);
        print_header();
        for phase in self.phases() {
            phase.print_row();
        }
        let ratios = [
            (
                "HTTP seat writes / engine baseline",
                self.write_to_engine_ratio(),
            ),
            (
                "store transactions / engine baseline",
                self.store_to_engine_ratio(),
            ),
            ("HTTP seat writes / store transactions", self.write_ratio()),
            (
                "HTTP balance reads / bare HTTP handler",
                self.read_to_bare_ratio(bare),
            ),
            (
                "HTTP usage tracks / track engine baseline",
                self.track_to_engine_ratio(),
            ),
            (
                "HTTP feature-access reads / bare HTTP handler",
                self.access_to_bare_ratio(bare),
            ),
        ];
        for (name, value) in ratios {
            println!("{:<47} {value:.2}", format!("{name}:"));
        }
        print_check(
            "balance check after HTTP seat writes",
            "seats",
            self.http_check,
        );
        print_check(
            "balance check after raw transactions",
            "seats",
            self.raw_check,
        );
        print_check(
            "usage check after HTTP usage tracks",
            "units used",
            self.usage_check,
        );
        for phase in self.phases() {
            phase.print_failures();
        }
    }

    pub fn to_json(&self, bare: &Measured) -> Value {
        let phases: Vec<Value> = self.phases().into_iter().map(Phase::to_json).collect();
        json!({
            "backend": self.backend,
            "durability": self.durability,
            "phases": phases,
            "seatWriteToEngineRatio": self.write_to_engine_ratio(),
            "storeToEngineRatio": self.store_to_engine_ratio(),
            "seatWriteToStoreRatio": self.write_ratio(),
            "balanceReadToBareHttpRatio": self.read_to_bare_ratio(bare),
            "usageTrackToEngineRatio": self.track_to_engine_ratio(),
            "featureAccessReadToBareHttpRatio": self.access_to_bare_ratio(bare),
            "balanceCheckHttp": check_json(self.http_check),
            "balanceCheckRaw": check_json(self.raw_check),
            "usageCheckHttp": check_json(self.usage_check),
        })
    }
}

/// `check`, named `what`, its sum counted in `unit`.
fn print_check(what: &str, unit: &str, check: SumCheck) {
    if check.matches() {
        println!("{what}: matches ({} {unit} in total)", check.found);
    } else {
        println!(
            "FAILURE: {what}: expected {} {unit} in total, found {}",
            check.expected, check.found
        );
    }
}

fn ratio(numerator: &Measured, denominator: &Measured) -> f64 {
    let floor = denominator.throughput_per_sec();
    if floor > 0.0 {
        numerator.throughput_per_sec() / floor
    } else {
        0.0
    }
}

fn check_json(check: SumCheck) -> Value {
    json!({"expected": check.expected, "found": check.found, "matches": check.matches()})
}

/// The dashboard's page loads on one backend (`--pages`), with each page against the engine's
/// read of it and against the bare handler.
pub fn print_pages(report: &crate::pages::PagesReport, bare: &Measured) {
    println!();
    println!("== {}: dashboard pages ==", report.backend);
    print_header();
    for phase in report.phases() {
        phase.print_row();
    }
    for (name, page, engine) in report.ratios() {
        println!(
            "{:<47} {:.2}",
            format!("{name}:"),
            ratio(&page.measured, &engine.measured)
        );
    }
    for phase in [
        &report.customer_page,
        &report.list_first,
        &report.list_deep,
        &report.search,
    ] {
        println!(
            "{:<47} {:.3}",
            format!("{} / bare HTTP handler:", phase.operation),
            ratio(&phase.measured, bare)
        );
    }
    for phase in report.phases() {
        phase.print_failures();
    }
}

pub fn pages_json(report: &crate::pages::PagesReport, bare: &Measured) -> Value {
    let phases: Vec<Value> = report.phases().into_iter().map(Phase::to_json).collect();
    let to_engine: Vec<Value> = report
        .ratios()
        .into_iter()
        .map(|(name, page, engine)| json!({"ratio": name, "value": ratio(&page.measured, &engine.measured)}))
        .collect();
    json!({
        "backend": report.backend,
        "phases": phases,
        "pageToEngineRatios": to_engine,
        "customerPageToBareHttpRatio": ratio(&report.customer_page.measured, bare),
        "listDeepPageToBareHttpRatio": ratio(&report.list_deep.measured, bare),
    })
}
