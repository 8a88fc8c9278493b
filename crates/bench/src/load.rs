//! The load loop every phase shares: a fixed number of concurrent workers repeating one
//! operation until a duration has passed or a request count is reached, timing each call.
//! Percentiles come from the sorted samples (nearest rank); no histogram approximation.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Distinct error messages kept per phase for printing (all errors are counted).
const ERROR_SAMPLES_MAX: usize = 5;

/// When a phase ends.
#[derive(Debug, Clone, Copy)]
pub enum Stop {
    /// Workers start no new operation after this long.
    After(Duration),
    /// Exactly this many operations are started, spread over the workers.
    Requests(u64),
}

/// How hard and how long to push.
#[derive(Debug, Clone, Copy)]
pub struct LoadShape {
    pub concurrency: usize,
    pub stop: Stop,
}

/// What one phase measured.
#[derive(Debug, Clone)]
pub struct Measured {
    /// Latencies of the successful operations, in nanoseconds, sorted ascending.
    pub latencies_ns: Vec<u64>,
    pub errors: u64,
    pub error_samples: Vec<String>,
    /// From the first start to the last worker's finish.
    pub elapsed: Duration,
}

impl Measured {
    pub fn successes(&self) -> u64 {
        self.latencies_ns.len() as u64
    }

    /// Successful operations per second of wall time.
    pub fn throughput_per_sec(&self) -> f64 {
        let secs = self.elapsed.as_secs_f64();
        if secs > 0.0 {
            self.successes() as f64 / secs
        } else {
            0.0
        }
    }

    /// The `percent` percentile latency in milliseconds (nearest rank), or 0 without samples.
    pub fn percentile_ms(&self, percent: f64) -> f64 {
        let n = self.latencies_ns.len();
        if n == 0 {
            return 0.0;
        }
        // Nearest rank: the smallest sample with at least `percent` of the samples at or below it.
        let rank = ((percent / 100.0) * n as f64).ceil() as usize;
        let index = rank.clamp(1, n) - 1;
        self.latencies_ns[index] as f64 / 1_000_000.0
    }
}

/// Runs `operation(sequence)` from `shape.concurrency` tasks until `shape.stop`. The sequence
/// number is global and unique per call, so callers derive customers and idempotency keys from
/// it. An `Err` is counted as an error and its message may be sampled.
pub async fn run<F, Fut>(shape: LoadShape, operation: F) -> Measured
where
    F: Fn(u64) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<(), String>> + Send,
{
    let operation = Arc::new(operation);
    let sequence = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::with_capacity(shape.concurrency);
    for _ in 0..shape.concurrency.max(1) {
        let operation = operation.clone();
        let sequence = sequence.clone();
        workers.push(tokio::spawn(async move {
            let mut latencies_ns = Vec::new();
            let mut errors = 0u64;
            let mut error_samples = Vec::new();
            loop {
                if let Stop::After(duration) = shape.stop
                    && started.elapsed() >= duration
                {
                    break;
                }
                let seq = sequence.fetch_add(1, Ordering::Relaxed);
                if let Stop::Requests(total) = shape.stop
                    && seq >= total
                {
                    break;
                }
                let call_started = Instant::now();
                match operation(seq).await {
                    Ok(()) => latencies_ns.push(nanos(call_started.elapsed())),
                    Err(message) => {
                        errors += 1;
                        if error_samples.len() < ERROR_SAMPLES_MAX {
                            error_samples.push(message);
                        }
                    }
                }
            }
            (latencies_ns, errors, error_samples)
        }));
    }
    let mut measured = Measured {
        latencies_ns: Vec::new(),
        errors: 0,
        error_samples: Vec::new(),
        elapsed: Duration::ZERO,
    };
    for worker in workers {
        match worker.await {
            Ok((latencies_ns, errors, error_samples)) => {
                measured.latencies_ns.extend(latencies_ns);
                measured.errors += errors;
                for sample in error_samples {
                    if measured.error_samples.len() < ERROR_SAMPLES_MAX
                        && !measured.error_samples.contains(&sample)
                    {
                        measured.error_samples.push(sample);
                    }
                }
            }
            Err(join_error) => {
                measured.errors += 1;
                measured
                    .error_samples
                    .push(format!("a load worker stopped: {join_error}"));
            }
        }
    }
    measured.elapsed = started.elapsed();
    measured.latencies_ns.sort_unstable();
    measured
}

fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(latencies_ms: &[u64]) -> Measured {
        Measured {
            latencies_ns: latencies_ms.iter().map(|ms| ms * 1_000_000).collect(),
            errors: 0,
            error_samples: Vec::new(),
            elapsed: Duration::from_secs(2),
        }
    }

    #[test]
    fn percentiles_are_nearest_rank_over_sorted_samples() {
        let hundred: Vec<u64> = (1..=100).collect();
        let m = measured(&hundred);

        assert_eq!(m.percentile_ms(50.0), 50.0);
        assert_eq!(m.percentile_ms(99.0), 99.0);
        assert_eq!(m.percentile_ms(100.0), 100.0);
        assert_eq!(measured(&[7]).percentile_ms(99.0), 7.0);
        assert_eq!(measured(&[]).percentile_ms(50.0), 0.0);
        assert_eq!(m.throughput_per_sec(), 50.0);
    }

    #[tokio::test]
    async fn a_request_count_runs_exactly_that_many_operations() {
        let shape = LoadShape {
            concurrency: 3,
            stop: Stop::Requests(10),
        };

        let m = run(shape, |seq| async move {
            if seq % 5 == 4 {
                Err("every fifth fails".to_owned())
            } else {
                Ok(())
            }
        })
        .await;

        assert_eq!(m.successes(), 8);
        assert_eq!(m.errors, 2);
        assert_eq!(m.error_samples, ["every fifth fails"]);
    }
}
