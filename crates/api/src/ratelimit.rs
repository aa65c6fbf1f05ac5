//! Rate limits. Two kinds:
//! - per process, in memory, where a limit protects this process's CPU: sliding-window counters
//!   (the previous fixed window's count, weighted by how much of it still overlaps the sliding
//!   window, plus the current window's count) per API key with the scopes of spec §9.1 and per
//!   hosted-flow session, and the [`HashingQueue`] in front of password hashing;
//! - durable, in the database, where a limit protects people (codes mailed to an address,
//!   registrations and logins per client IP): [`spend_budgets`] over the store's budgets, shared
//!   by every process.

use crate::error::ApiError;
use axum::http::Method;
use dashmap::DashMap;
use serde::{Deserialize, Serialize};
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};
use verity_domain::Timestamp;
use verity_store::{Budget, Exhausted, Store};

/// Requests per window for each scope; `enabled = false` turns limiting off (benchmarks).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct RateLimits {
    pub enabled: bool,
    pub window_seconds: u64,
    pub generic_get: u32,
    pub generic_write: u32,
    pub session_create: u32,
    pub decision: u32,
    pub pdf: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            enabled: true,
            window_seconds: 60,
            generic_get: 600,
            generic_write: 300,
            session_create: 600,
            decision: 100,
            pdf: 50,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    GenericGet,
    GenericWrite,
    SessionCreate,
    Decision,
    Pdf,
}

impl Scope {
    /// The scopes a request counts against, generic first (spec §9.1: scopes are cumulative).
    pub fn for_request(method: &Method, route: &str) -> Vec<Scope> {
        let mut scopes = vec![if method == Method::GET || method == Method::HEAD {
            Scope::GenericGet
        } else {
            Scope::GenericWrite
        }];
        if method == Method::POST
            && matches!(
                route,
                "/v3/session/" | "/v2/session/" | "/auth/v2/session/" | "/auth/v2/session"
            )
        {
            scopes.push(Scope::SessionCreate);
        }
        let legacy = route.starts_with("/v1/session/") || route.starts_with("/v2/session/");
        if legacy && route.ends_with("/decision/") {
            scopes.push(Scope::Decision);
        }
        if route.contains("/generate-pdf") {
            scopes.push(Scope::Pdf);
        }
        scopes
    }

    fn limit(self, limits: &RateLimits) -> u32 {
        match self {
            Scope::GenericGet => limits.generic_get,
            Scope::GenericWrite => limits.generic_write,
            Scope::SessionCreate => limits.session_create,
            Scope::Decision => limits.decision,
            Scope::Pdf => limits.pdf,
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Window {
    index: u64,
    current: u32,
    previous: u32,
}

/// Sliding-window counters under any key (an API key and scope, a client IP, …).
pub struct SlidingWindows<K> {
    window_ms: u64,
    windows: DashMap<K, Window>,
    /// Window index of the last sweep of stale entries: keys such as client IPs are unbounded.
    last_swept: AtomicU64,
}

impl<K: Eq + Hash + Clone> SlidingWindows<K> {
    pub fn new(window_seconds: u64) -> Self {
        Self {
            window_ms: window_seconds.max(1) * 1000,
            windows: DashMap::new(),
            last_swept: AtomicU64::new(0),
        }
    }

    /// Counts one request against every `(key, limit)`, refusing with the first that is
    /// exhausted (a refused request is not counted).
    pub fn check(&self, keys: &[(K, u32)]) -> Result<(), ApiError> {
        let now_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        self.check_at(keys, now_ms)
    }

    fn check_at(&self, keys: &[(K, u32)], now_ms: u64) -> Result<(), ApiError> {
        let window_ms = self.window_ms;
        let index = now_ms / window_ms;
        if self.last_swept.swap(index, Ordering::Relaxed) != index {
            // Entries older than the previous window no longer weigh in.
            self.windows.retain(|_, window| window.index + 1 >= index);
        }
        let elapsed = (now_ms % window_ms) as f64 / window_ms as f64;
        for (key, limit) in keys {
            let mut entry = self.windows.entry(key.clone()).or_default();
            let window = entry.value_mut();
            if window.index != index {
                window.previous = if window.index + 1 == index {
                    window.current
                } else {
                    0
                };
                window.current = 0;
                window.index = index;
            }
            let estimate = f64::from(window.previous) * (1.0 - elapsed) + f64::from(window.current);
            if estimate + 1.0 > f64::from(*limit) {
                let retry_after_ms = window_ms - now_ms % window_ms;
                return Err(ApiError::RateLimited {
                    limit: *limit,
                    retry_after_seconds: retry_after_ms.div_ceil(1000),
                    reset_epoch_seconds: (index + 1) * window_ms / 1000,
                });
            }
        }
        for (key, _) in keys {
            if let Some(mut window) = self.windows.get_mut(key) {
                window.current += 1;
            }
        }
        Ok(())
    }
}

/// The per-key limits of spec §9.1.
pub struct RateLimiter {
    limits: RateLimits,
    windows: SlidingWindows<(uuid::Uuid, Scope)>,
}

impl RateLimiter {
    pub fn new(limits: RateLimits) -> Self {
        Self {
            windows: SlidingWindows::new(limits.window_seconds),
            limits,
        }
    }

    /// Counts one request against every scope, refusing with the first scope that is exhausted
    /// (a refused request is not counted).
    /// `key` is whatever identifies the caller: an API key's id, or an application or console
    /// user for Bearer tokens.
    pub fn check(&self, key: uuid::Uuid, scopes: &[Scope]) -> Result<(), ApiError> {
        if !self.limits.enabled {
            return Ok(());
        }
        self.windows.check(&self.keyed(key, scopes))
    }

    fn keyed(&self, key: uuid::Uuid, scopes: &[Scope]) -> Vec<((uuid::Uuid, Scope), u32)> {
        scopes
            .iter()
            .map(|&scope| ((key, scope), scope.limit(&self.limits)))
            .collect()
    }
}

/// Counts one use of every `(budget, key)` in the database, before the guarded work; refuses
/// with 429 and `Retry-After` if any is over its limit (every one is counted all the same).
pub async fn spend_budgets(store: &Store, budgets: &[(Budget, &str)]) -> Result<(), ApiError> {
    let now = Timestamp::now();
    let mut refused: Option<Exhausted> = None;
    for &(budget, key) in budgets {
        if let Err(exhausted) = store.spend_budget(budget, key, now).await? {
            refused = refused
                .filter(|r| r.resets_at >= exhausted.resets_at)
                .or(Some(exhausted));
        }
    }
    match refused {
        None => Ok(()),
        Some(exhausted) => Err(ApiError::RateLimited {
            limit: exhausted.limit,
            retry_after_seconds: exhausted.retry_after_seconds(now) as u64,
            reset_epoch_seconds: (exhausted.resets_at.micros() + 999_999).div_euclid(1_000_000)
                as u64,
        }),
    }
}

/// Admission to password hashing (argon2id: tens of milliseconds of CPU and 19 MiB each, the
/// store runs one per CPU at a time). One client IP has at most one hash in flight, and the
/// process at most [`HashingQueue::PER_CPU`] per CPU in flight or waiting; beyond either a caller
/// is told to retry (429) instead of waiting in a queue that one client could make endless.
pub struct HashingQueue {
    clients: DashMap<IpAddr, ()>,
    admitted: AtomicUsize,
    capacity: usize,
}

/// A place in the [`HashingQueue`], given back when dropped.
pub struct HashingTicket<'a> {
    queue: &'a HashingQueue,
    client: IpAddr,
}

impl HashingQueue {
    pub const PER_CPU: usize = 4;

    pub fn new() -> Self {
        let cpus = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
        Self {
            clients: DashMap::new(),
            admitted: AtomicUsize::new(0),
            capacity: cpus * Self::PER_CPU,
        }
    }

    pub fn enter(&self, client: IpAddr) -> Result<HashingTicket<'_>, ApiError> {
        let busy = || ApiError::RetryLater {
            detail: "Too many password checks are in progress. Try again in a moment.".into(),
            retry_after_seconds: 1,
        };
        match self.clients.entry(client) {
            dashmap::mapref::entry::Entry::Occupied(_) => return Err(busy()),
            dashmap::mapref::entry::Entry::Vacant(entry) => {
                entry.insert(());
            }
        }
        // From here the ticket owns the client's entry and the count; dropping it on refusal
        // gives both back.
        let ticket = HashingTicket {
            queue: self,
            client,
        };
        if self.admitted.fetch_add(1, Ordering::AcqRel) >= self.capacity {
            return Err(busy());
        }
        Ok(ticket)
    }
}

impl Default for HashingQueue {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for HashingTicket<'_> {
    fn drop(&mut self) {
        self.queue.admitted.fetch_sub(1, Ordering::AcqRel);
        self.queue.clients.remove(&self.client);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limiter(generic_get: u32) -> RateLimiter {
        RateLimiter::new(RateLimits {
            generic_get,
            ..RateLimits::default()
        })
    }

    impl RateLimiter {
        fn check_at(&self, key: uuid::Uuid, scopes: &[Scope], now_ms: u64) -> Result<(), ApiError> {
            self.windows.check_at(&self.keyed(key, scopes), now_ms)
        }
    }

    #[test]
    fn scopes_follow_the_spec_table() {
        use Scope::*;
        assert_eq!(
            Scope::for_request(&Method::GET, "/v3/session/{session_id}/decision/"),
            [GenericGet]
        );
        assert_eq!(
            Scope::for_request(&Method::POST, "/v3/session/"),
            [GenericWrite, SessionCreate]
        );
        assert_eq!(
            Scope::for_request(&Method::GET, "/v1/session/{id}/decision/"),
            [GenericGet, Decision]
        );
        assert_eq!(
            Scope::for_request(&Method::GET, "/v3/session/{id}/generate-pdf/"),
            [GenericGet, Pdf]
        );
        assert_eq!(
            Scope::for_request(&Method::PATCH, "/v3/session/{id}/update-status/"),
            [GenericWrite]
        );
    }

    #[test]
    fn refuses_past_the_limit_then_recovers_as_the_window_slides() {
        let limiter = limiter(3);
        let key = uuid::Uuid::new_v4();
        let t0 = 1_000_000 * 60_000;
        for _ in 0..3 {
            limiter.check_at(key, &[Scope::GenericGet], t0).unwrap();
        }
        let Err(ApiError::RateLimited {
            limit,
            retry_after_seconds,
            ..
        }) = limiter.check_at(key, &[Scope::GenericGet], t0 + 1000)
        else {
            panic!("expected 429");
        };
        assert_eq!(limit, 3);
        assert_eq!(retry_after_seconds, 59);
        // Half-way through the next window half of the previous count still weighs in.
        assert!(limiter
            .check_at(key, &[Scope::GenericGet], t0 + 60_000 + 1)
            .is_err());
        assert!(limiter
            .check_at(key, &[Scope::GenericGet], t0 + 90_000)
            .is_ok());
        // Another key has its own budget.
        assert!(limiter
            .check_at(uuid::Uuid::new_v4(), &[Scope::GenericGet], t0 + 1000)
            .is_ok());
    }

    #[test]
    fn disabled_limits_never_refuse() {
        let limiter = RateLimiter::new(RateLimits {
            enabled: false,
            generic_get: 0,
            ..RateLimits::default()
        });
        assert!(limiter
            .check(uuid::Uuid::new_v4(), &[Scope::GenericGet])
            .is_ok());
    }

    #[test]
    fn hashing_admits_one_per_client_and_a_bounded_number_in_all() {
        let queue = HashingQueue {
            clients: DashMap::new(),
            admitted: AtomicUsize::new(0),
            capacity: 2,
        };
        let ip = |n: u8| IpAddr::from([192, 0, 2, n]);
        let first = queue.enter(ip(1)).unwrap();
        assert!(matches!(
            queue.enter(ip(1)),
            Err(ApiError::RetryLater {
                retry_after_seconds: 1,
                ..
            })
        ));
        let second = queue.enter(ip(2)).unwrap();
        assert!(queue.enter(ip(3)).is_err(), "full");
        drop(first);
        let third = queue.enter(ip(3)).unwrap();
        assert!(queue.enter(ip(1)).is_err(), "full again");
        drop((second, third));
        assert_eq!(queue.admitted.load(Ordering::Relaxed), 0);
        assert!(queue.clients.is_empty());
        queue.enter(ip(1)).unwrap();
    }

    #[test]
    fn windows_under_any_key_forget_stale_entries() {
        let windows = SlidingWindows::<std::net::IpAddr>::new(3600);
        let ip: std::net::IpAddr = "192.0.2.7".parse().unwrap();
        let other: std::net::IpAddr = "192.0.2.8".parse().unwrap();
        let t0 = 500_000 * 3_600_000;
        for _ in 0..5 {
            windows.check_at(&[(ip, 5)], t0).unwrap();
        }
        let Err(ApiError::RateLimited {
            limit: 5,
            retry_after_seconds,
            ..
        }) = windows.check_at(&[(ip, 5)], t0 + 1000)
        else {
            panic!("expected 429");
        };
        assert_eq!(retry_after_seconds, 3599);
        windows.check_at(&[(other, 5)], t0 + 1000).unwrap();
        assert_eq!(windows.windows.len(), 2);
        // Two windows later both entries are stale and swept.
        windows.check_at(&[(other, 5)], t0 + 2 * 3_600_000).unwrap();
        assert_eq!(windows.windows.len(), 1);
    }
}
