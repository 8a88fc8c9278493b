//! Requests per API key in fixed windows (`wire.md` §7).
//!
//! Decision: the count lives in each API node's memory. Several nodes behind a load balancer
//! each allow the full limit; a shared counter would put a database write on every read.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tally_domain::ApiKeyId;

/// Above this many tracked keys, finished windows are dropped before counting.
const TRACKED_KEYS_PRUNE_AT: usize = 10_000;

#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    pub requests_per_window: u32,
    pub window: Duration,
}

impl Default for RateLimit {
    /// 100 requests per 10 s (`wire.md` §7).
    fn default() -> Self {
        Self {
            requests_per_window: 100,
            window: Duration::from_secs(10),
        }
    }
}

/// The state of a key's window after counting one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub limit: u32,
    pub remaining: u32,
    /// Whole seconds until the window resets, at least 1.
    pub reset_secs: u64,
    pub is_allowed: bool,
}

pub struct RateLimiter {
    limit: RateLimit,
    windows: Mutex<HashMap<ApiKeyId, (Instant, u32)>>,
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one request of `key` at `now`.
    pub fn check(&self, key: &ApiKeyId, now: Instant) -> Quota {
        let window = self.limit.window;
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > TRACKED_KEYS_PRUNE_AT {
            windows.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = windows.entry(key.clone()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
        let left = window.saturating_sub(now.duration_since(entry.0));
        let limit = self.limit.requests_per_window;
        Quota {
            limit,
            remaining: limit.saturating_sub(entry.1),
            reset_secs: left.as_secs_f64().ceil().max(1.0) as u64,
            is_allowed: entry.1 <= limit,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_gets_its_limit_per_window_then_a_fresh_window() {
        let limiter = RateLimiter::new(RateLimit {
            requests_per_window: 2,
            window: Duration::from_secs(10),
        });
        let key = ApiKeyId::from_stored("key_a".to_owned());
        let other = ApiKeyId::from_stored("key_b".to_owned());
        let t0 = Instant::now();

        let first = limiter.check(&key, t0);
        let second = limiter.check(&key, t0 + Duration::from_secs(1));
        let third = limiter.check(&key, t0 + Duration::from_millis(1_500));
        let others = limiter.check(&other, t0 + Duration::from_secs(2));
        let next_window = limiter.check(&key, t0 + Duration::from_secs(10));

        assert_eq!((first.is_allowed, first.remaining), (true, 1));
        assert_eq!((second.is_allowed, second.remaining), (true, 0));
        assert!(!third.is_allowed);
        assert_eq!(third.reset_secs, 9);
        assert!(others.is_allowed);
        assert_eq!((next_window.is_allowed, next_window.remaining), (true, 1));
    }
}
