//! The figures of a run: one table per backend on stdout, and the same numbers as JSON for
//! `--json FILE`. Ratios are the point; absolute numbers only compare within one run.

use crate::http::BalanceCheck;
use crate::load::Measured;
use serde_json::{Value, json};

/// One measured phase, named for the table.
pub struct Phase {
    pub operation: &'static str,
    pub measured: Measured,
}

impl Phase {
    pub fn print_row(&self) {
        let m = &self.measured;
        println!(
            "{:<40} {:>9} {:>7} {:>11.1} {:>9.2} {:>9.2}",
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
        "{:<40} {:>9} {:>7} {:>11} {:>9} {:>9}",
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
    pub http_check: BalanceCheck,
    pub raw_check: BalanceCheck,
}

impl BackendReport {
    fn phases(&self) -> [&Phase; 4] {
        [
            &self.seat_writes,
            &self.balance_reads,
            &self.raw_writes,
            &self.engine_writes,
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

    pub fn failed(&self) -> bool {
        self.phases().iter().any(|p| p.measured.errors > 0)
            || !self.http_check.matches()
            || !self.raw_check.matches()
    }

    pub fn print(&self, bare: &Measured) {
        println!();
        println!("== {} ({}) ==", self.backend, self.durability);
        print_header();
        for phase in self.phases() {
            phase.print_row();
        }
        println!(
            "HTTP seat writes / engine baseline:     {:.2}",
            self.write_to_engine_ratio()
        );
        println!(
            "store transactions / engine baseline:   {:.2}",
            self.store_to_engine_ratio()
        );
        println!(
            "HTTP seat writes / store transactions:  {:.2}",
            self.write_ratio()
        );
        println!(
            "HTTP balance reads / bare HTTP handler: {:.2}",
            self.read_to_bare_ratio(bare)
        );
        print_check("after HTTP seat writes", self.http_check);
        print_check("after raw transactions", self.raw_check);
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
            "balanceCheckHttp": check_json(self.http_check),
            "balanceCheckRaw": check_json(self.raw_check),
        })
    }
}

fn print_check(when: &str, check: BalanceCheck) {
    if check.matches() {
        println!(
            "balance check {when}: matches (sum of balances {})",
            check.found
        );
    } else {
        println!(
            "FAILURE: balance check {when}: expected {} seats in total, found {}",
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

fn check_json(check: BalanceCheck) -> Value {
    json!({"expected": check.expected, "found": check.found, "matches": check.matches()})
}
