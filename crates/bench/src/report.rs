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
    pub http_check: BalanceCheck,
    pub raw_check: BalanceCheck,
}

impl BackendReport {
    /// HTTP seat-write throughput over raw transaction throughput.
    pub fn write_ratio(&self) -> f64 {
        ratio(&self.seat_writes.measured, &self.raw_writes.measured)
    }

    /// Balance-read throughput over raw transaction throughput (context only).
    pub fn read_ratio(&self) -> f64 {
        ratio(&self.balance_reads.measured, &self.raw_writes.measured)
    }

    pub fn failed(&self) -> bool {
        [&self.seat_writes, &self.balance_reads, &self.raw_writes]
            .iter()
            .any(|p| p.measured.errors > 0)
            || !self.http_check.matches()
            || !self.raw_check.matches()
    }

    pub fn print(&self) {
        println!();
        println!("== {} ({}) ==", self.backend, self.durability);
        print_header();
        for phase in [&self.seat_writes, &self.balance_reads, &self.raw_writes] {
            phase.print_row();
        }
        println!(
            "HTTP seat writes / raw transactions:  {:.2}",
            self.write_ratio()
        );
        println!(
            "HTTP balance reads / raw transactions: {:.2}  (context: reads against the write floor)",
            self.read_ratio()
        );
        print_check("after HTTP seat writes", self.http_check);
        print_check("after raw transactions", self.raw_check);
        for phase in [&self.seat_writes, &self.balance_reads, &self.raw_writes] {
            phase.print_failures();
        }
    }

    pub fn to_json(&self) -> Value {
        let phases: Vec<Value> = [&self.seat_writes, &self.balance_reads, &self.raw_writes]
            .into_iter()
            .map(Phase::to_json)
            .collect();
        json!({
            "backend": self.backend,
            "durability": self.durability,
            "phases": phases,
            "seatWriteToRawRatio": self.write_ratio(),
            "balanceReadToRawRatio": self.read_ratio(),
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
