//! Rate limits (`wire.md` §7), in fixed windows: requests per API key, requests per
//! organization (all its keys together, so that making keys does not multiply the budget), and
//! failed authentications per source address (so that guessing keys, or sending bad ones, is
//! not free).
//!
//! Decision: the counts live in each API node's memory. Several nodes behind a load balancer
//! each allow the full limits; a shared counter would put a database write on every read.

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use tally_domain::{ApiKeyId, OrgId};

/// Above this many tracked keys (or organizations, or addresses), finished windows are dropped
/// before counting.
const TRACKED_PRUNE_AT: usize = 10_000;

#[derive(Debug, Clone, Copy)]
pub struct RateLimit {
    /// Requests per key and window.
    pub requests_per_window: u32,
    /// Requests per organization and window, all its keys together.
    pub org_requests_per_window: u32,
    /// Failed authentications per source address and window.
    pub auth_failures_per_window: u32,
    pub window: Duration,
}

/// Requests per key and window by default.
///
/// Decision: 10 000 per 10 s, not the hosted service's 100 (`wire.md` §7). A self-hosted
/// server has one tenant, its owner, whose own apps (a backfill, a busy checkout) must never
/// be throttled by accident; the limit stays, for those who turn it down, as a guard against a
/// runaway client.
pub const REQUESTS_PER_WINDOW_DEFAULT: u32 = 10_000;
/// An organization's budget by default, in keys' worth of requests: a few services with a key
/// each run at full speed, while making keys does not multiply the budget.
pub const ORG_REQUESTS_PER_KEY_BUDGET: u32 = 3;

impl Default for RateLimit {
    /// 10 000 requests per key and 30 000 per organization per 10 s, and 20 failed
    /// authentications per source address.
    fn default() -> Self {
        Self {
            requests_per_window: REQUESTS_PER_WINDOW_DEFAULT,
            org_requests_per_window: REQUESTS_PER_WINDOW_DEFAULT * ORG_REQUESTS_PER_KEY_BUDGET,
            auth_failures_per_window: 20,
            window: Duration::from_secs(10),
        }
    }
}

/// Which budget a quota is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Budget {
    Key,
    Organization,
    /// Failed authentications of one source address.
    AuthFailures,
}

impl Budget {
    pub const ALL: [Budget; 3] = [Budget::Key, Budget::Organization, Budget::AuthFailures];

    /// The name of the budget in metrics.
    pub fn as_str(self) -> &'static str {
        match self {
            Budget::Key => "key",
            Budget::Organization => "organization",
            Budget::AuthFailures => "auth_failures",
        }
    }
}

/// The state of a window after counting one request (or, for `peek`, before).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quota {
    pub budget: Budget,
    pub limit: u32,
    pub remaining: u32,
    /// Whole seconds until the window resets, at least 1.
    pub reset_secs: u64,
    pub is_allowed: bool,
}

impl Quota {
    /// Of two quotas a request counted against, the one to show: a refusal, else the one
    /// with fewer requests left.
    pub fn tighter(self, other: Quota) -> Quota {
        match (self.is_allowed, other.is_allowed) {
            (true, false) => other,
            (false, _) => self,
            (true, true) if other.remaining < self.remaining => other,
            (true, true) => self,
        }
    }
}

/// Every limit of one API node.
pub struct RateLimiter {
    limit: RateLimit,
    keys: Windows<ApiKeyId>,
    orgs: Windows<OrgId>,
    failures: Windows<Source>,
}

/// Where failed authentications are counted: an IPv4 address, or an IPv6 /64 (one host
/// commonly holds a whole /64, so single IPv6 addresses would give it endless budgets).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Source(IpAddr);

impl From<IpAddr> for Source {
    fn from(address: IpAddr) -> Self {
        match address {
            IpAddr::V4(_) => Source(address),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Source(IpAddr::V4(v4)),
                None => Source(IpAddr::V6((v6.to_bits() & !u128::from(u64::MAX)).into())),
            },
        }
    }
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            keys: Windows::default(),
            orgs: Windows::default(),
            failures: Windows::default(),
        }
    }

    /// Counts one request of `key`, and, if the key's own budget allows it, of its
    /// organization; the quota to show. A request its key's budget refuses does not use the
    /// organization's, so one busy key cannot lock its organization's other keys out.
    pub fn check(&self, key: &ApiKeyId, org: &OrgId, now: Instant) -> Quota {
        let window = self.limit.window;
        let by_key = self.keys.count(
            key,
            (Budget::Key, self.limit.requests_per_window),
            window,
            now,
        );
        if !by_key.is_allowed {
            return by_key;
        }
        let by_org = self.orgs.count(
            org,
            (Budget::Organization, self.limit.org_requests_per_window),
            window,
            now,
        );
        by_key.tighter(by_org)
    }

    /// Counts one request against `org`'s budget alone: what a hosted page does for the
    /// organization its token names (a page has no key).
    pub fn check_org(&self, org: &OrgId, now: Instant) -> Quota {
        self.orgs.count(
            org,
            (Budget::Organization, self.limit.org_requests_per_window),
            self.limit.window,
            now,
        )
    }

    /// Whether `source` may try to authenticate at `now`; counts nothing.
    pub fn may_authenticate(&self, source: Source, now: Instant) -> Quota {
        let limit = (Budget::AuthFailures, self.limit.auth_failures_per_window);
        self.failures.peek(&source, limit, self.limit.window, now)
    }

    /// Counts one failed authentication from `source`.
    pub fn record_auth_failure(&self, source: Source, now: Instant) {
        let limit = (Budget::AuthFailures, self.limit.auth_failures_per_window);
        self.failures.count(&source, limit, self.limit.window, now);
    }
}

/// Fixed windows, one per `K`: when each started and how much it has counted.
struct Windows<K>(Mutex<HashMap<K, (Instant, u32)>>);

impl<K> Default for Windows<K> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

impl<K: Hash + Eq + Clone> Windows<K> {
    /// Counts one at `now` against `key`'s window, of `budget`'s `limit`.
    fn count(
        &self,
        key: &K,
        (budget, limit): (Budget, u32),
        window: Duration,
        now: Instant,
    ) -> Quota {
        let (counted, left) = self.add(key, window, now, 1);
        quota(budget, limit, counted, counted <= limit, left)
    }

    /// Whether one more would be allowed at `now`; counts nothing.
    fn peek(
        &self,
        key: &K,
        (budget, limit): (Budget, u32),
        window: Duration,
        now: Instant,
    ) -> Quota {
        let (counted, left) = self.add(key, window, now, 0);
        quota(budget, limit, counted, counted < limit, left)
    }

    /// Adds `more` to `key`'s window at `now` (a new window if its own has ended); what the
    /// window has counted, and how long it has left.
    fn add(&self, key: &K, window: Duration, now: Instant, more: u32) -> (u32, Duration) {
        let mut windows = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if windows.len() > TRACKED_PRUNE_AT {
            windows.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = windows.entry(key.clone()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(more);
        (entry.1, window.saturating_sub(now.duration_since(entry.0)))
    }
}

fn quota(budget: Budget, limit: u32, counted: u32, is_allowed: bool, left: Duration) -> Quota {
    Quota {
        budget,
        limit,
        remaining: limit.saturating_sub(counted),
        reset_secs: left.as_secs_f64().ceil().max(1.0) as u64,
        is_allowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(per_key: u32, per_org: u32, failures: u32) -> RateLimiter {
        RateLimiter::new(RateLimit {
            requests_per_window: per_key,
            org_requests_per_window: per_org,
            auth_failures_per_window: failures,
            window: Duration::from_secs(10),
        })
    }

    #[test]
    fn a_key_gets_its_limit_per_window_then_a_fresh_window() {
        let limiter = limiter(2, 100, 1);
        let key = ApiKeyId::from_stored("key_a".to_owned());
        let other = ApiKeyId::from_stored("key_b".to_owned());
        let org = OrgId::new("org_a");
        let t0 = Instant::now();

        let first = limiter.check(&key, &org, t0);
        let second = limiter.check(&key, &org, t0 + Duration::from_secs(1));
        let third = limiter.check(&key, &org, t0 + Duration::from_millis(1_500));
        let others = limiter.check(&other, &org, t0 + Duration::from_secs(2));
        let next_window = limiter.check(&key, &org, t0 + Duration::from_secs(10));

        assert_eq!((first.is_allowed, first.remaining), (true, 1));
        assert_eq!((second.is_allowed, second.remaining), (true, 0));
        assert!(!third.is_allowed);
        assert_eq!(third.reset_secs, 9);
        assert!(others.is_allowed);
        assert_eq!((next_window.is_allowed, next_window.remaining), (true, 1));
    }

    #[test]
    fn an_organizations_keys_share_its_budget_and_a_refused_key_uses_none_of_it() {
        let limiter = limiter(2, 3, 1);
        let (a, b) = (
            ApiKeyId::from_stored("key_a".to_owned()),
            ApiKeyId::from_stored("key_b".to_owned()),
        );
        let (org, other_org) = (OrgId::new("org_a"), OrgId::new("org_b"));
        let t0 = Instant::now();

        let a_twice = [limiter.check(&a, &org, t0), limiter.check(&a, &org, t0)];
        let a_refused = limiter.check(&a, &org, t0);
        let b_first = limiter.check(&b, &org, t0);
        let b_refused = limiter.check(&b, &org, t0);
        let elsewhere = limiter.check(&ApiKeyId::from_stored("key_c".to_owned()), &other_org, t0);

        assert!(a_twice.iter().all(|q| q.is_allowed));
        assert_eq!(
            (a_refused.is_allowed, a_refused.limit),
            (false, 2),
            "the key's own"
        );
        assert_eq!(
            (b_first.is_allowed, b_first.limit, b_first.remaining),
            (true, 3, 0),
            "the organization's budget is the tighter one"
        );
        assert_eq!(
            (b_refused.is_allowed, b_refused.budget),
            (false, Budget::Organization)
        );
        assert_eq!(a_refused.budget, Budget::Key);
        assert!(elsewhere.is_allowed, "budgets are per organization");
    }

    #[test]
    fn a_source_may_fail_its_limit_then_waits_for_the_next_window() {
        let limiter = limiter(100, 100, 2);
        let here: Source = IpAddr::from([10, 0, 0, 1]).into();
        let there: Source = IpAddr::from([10, 0, 0, 2]).into();
        let t0 = Instant::now();

        let before = limiter.may_authenticate(here, t0);
        limiter.record_auth_failure(here, t0);
        let after_one = limiter.may_authenticate(here, t0);
        limiter.record_auth_failure(here, t0 + Duration::from_secs(1));
        let after_two = limiter.may_authenticate(here, t0 + Duration::from_secs(2));
        let elsewhere = limiter.may_authenticate(there, t0 + Duration::from_secs(2));
        let next_window = limiter.may_authenticate(here, t0 + Duration::from_secs(10));

        assert!(before.is_allowed && after_one.is_allowed);
        assert!(!after_two.is_allowed);
        assert_eq!(after_two.budget, Budget::AuthFailures);
        assert_eq!(after_two.reset_secs, 8);
        assert!(elsewhere.is_allowed);
        assert!(next_window.is_allowed);
    }

    #[test]
    fn ipv6_sources_count_per_64_and_mapped_ipv4_as_ipv4() {
        let one: IpAddr = "2001:db8:1:2::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:ffff::9".parse().unwrap();
        let other_64: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();

        assert_eq!(Source::from(one), Source::from(same_64));
        assert_ne!(Source::from(one), Source::from(other_64));
        assert_eq!(
            Source::from(mapped),
            Source::from(IpAddr::from([10, 0, 0, 1]))
        );
    }
}
