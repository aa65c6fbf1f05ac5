use crate::extract::TrustedProxies;
use crate::gate::ComputeGate;
use crate::mail::Mailer;
use crate::oauth::TokenIssuer;
use crate::ratelimit::{HashingQueue, RateLimiter, RateLimits, SlidingWindows};
use dashmap::DashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use verity_domain::account::AccountPolicy;
use verity_domain::data_transfer::TrustedIssuers;
use verity_pipeline::LoadedEngines;
use verity_store::{Application, AuthenticatedKey, Store};
use verity_webhooks::DeliveryClient;

/// What the HTTP layer needs to know about its deployment.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Base of every absolute URL the API emits (session links, pagination).
    pub public_url: String,
    pub max_body_bytes: usize,
    pub rate_limits: RateLimits,
    /// How long a successful API-key lookup is reused before the database is asked again.
    pub key_cache_ttl: Duration,
    pub accounts: AccountPolicy,
    /// Reverse proxies whose `X-Forwarded-For` names the client ([`crate::extract::ClientIp`]).
    pub trusted_proxies: TrustedProxies,
    /// A request not answered within this is answered 408.
    pub request_timeout: Duration,
    /// Accept `http://` session callbacks to any host, not only loopback ones.
    pub allow_http_callbacks: bool,
    /// Organizations whose verified identities any business may receive by data transfer.
    pub trusted_issuers: TrustedIssuers,
    /// Webhook destinations an application may have.
    pub max_webhook_destinations: usize,
    /// Standalone face calls decoding at once, and how long one waits for its turn.
    pub standalone_face_concurrency: usize,
    pub standalone_face_wait: Duration,
}

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub store: Store,
    /// Sends test deliveries; its SSRF policy also vets destination URLs.
    pub webhook_client: DeliveryClient,
    pub config: ApiConfig,
    pub limiter: RateLimiter,
    pub tokens: TokenIssuer,
    /// `None` when no SMTP relay is configured: registration then answers 503.
    pub mailer: Option<Mailer>,
    /// Admission to password hashing (login, registration), per client IP and in all.
    pub password_hashing: HashingQueue,
    /// Hosted-flow budgets per session (requests, uploads) and unknown tokens per client IP.
    pub flow_limiter: SlidingWindows<(uuid::Uuid, u8)>,
    pub flow_ip_limiter: SlidingWindows<IpAddr>,
    /// Verification engines for the standalone endpoints (the worker holds the same ones).
    pub engines: LoadedEngines,
    /// Admission to the standalone face APIs' decoding and inference.
    pub face_gate: ComputeGate,
    key_cache: DashMap<String, (AuthenticatedKey, Instant)>,
    client_cache: DashMap<String, (Application, Instant)>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(
        store: Store,
        config: ApiConfig,
        tokens: TokenIssuer,
        webhook_client: DeliveryClient,
        mailer: Option<Mailer>,
        engines: LoadedEngines,
    ) -> Self {
        Self(Arc::new(Inner {
            engines,
            face_gate: ComputeGate::new(
                config.standalone_face_concurrency,
                config.standalone_face_wait,
            ),
            store,
            webhook_client,
            tokens,
            mailer,
            password_hashing: HashingQueue::new(),
            flow_limiter: SlidingWindows::new(60),
            flow_ip_limiter: SlidingWindows::new(60),
            client_cache: DashMap::new(),
            limiter: RateLimiter::new(config.rate_limits.clone()),
            config,
            key_cache: DashMap::new(),
        }))
    }

    pub fn public_url(&self) -> &str {
        self.config.public_url.trim_end_matches('/')
    }

    /// Resolves an API key, caching hits for `key_cache_ttl` (keys are looked up on every request;
    /// the cache is keyed by the key's digest, never the key). A rotated key stops working in this
    /// process within the TTL.
    pub async fn authenticate(
        &self,
        presented: &str,
    ) -> Result<Option<AuthenticatedKey>, verity_store::Error> {
        let cache_key = verity_store::credentials::digest(presented);
        if let Some(entry) = self.key_cache.get(&cache_key) {
            if entry.1.elapsed() < self.config.key_cache_ttl {
                return Ok(Some(entry.0.clone()));
            }
        }
        let found = self.store.authenticate_api_key(presented).await?;
        match &found {
            Some(auth) => {
                self.key_cache
                    .insert(cache_key, (auth.clone(), Instant::now()));
            }
            None => {
                self.key_cache.remove(&cache_key);
            }
        }
        Ok(found)
    }

    /// OAuth client-credentials check with the same short-lived cache as API keys, keyed by a
    /// digest of `client_id:client_secret`.
    pub async fn authenticate_client(
        &self,
        client_id: &str,
        secret: &str,
    ) -> Result<Option<Application>, verity_store::Error> {
        let cache_key = verity_store::credentials::digest(&format!("{client_id}:{secret}"));
        if let Some(entry) = self.client_cache.get(&cache_key) {
            if entry.1.elapsed() < self.config.key_cache_ttl {
                return Ok(Some(entry.0.clone()));
            }
        }
        let found = self.store.authenticate_client(client_id, secret).await?;
        match &found {
            Some(app) => {
                self.client_cache
                    .insert(cache_key, (app.clone(), Instant::now()));
            }
            None => {
                self.client_cache.remove(&cache_key);
            }
        }
        Ok(found)
    }
}
