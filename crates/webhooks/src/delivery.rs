//! One HTTP delivery attempt and what the dispatcher should do next.

use crate::sign::SignedPayload;
use crate::ssrf::{GuardedResolver, Refusal, SsrfPolicy};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, CONTENT_TYPE, RETRY_AFTER, USER_AGENT};
use serde::Serialize;
use std::error::Error as _;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// What Didit sends is `DiditWebhook/2.0 +https://didit.me`. We keep that exact string first so
/// receivers that match on it (WAF rules, `startswith` checks) keep working, and say who we are
/// after it.
pub const DEFAULT_USER_AGENT: &str = concat!(
    "DiditWebhook/2.0 +https://didit.me (compatible; Verity-Webhooks/",
    env!("CARGO_PKG_VERSION"),
    ")"
);
/// Didit's delivery timeout (spec §6.1).
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);
/// Response bytes kept for the delivery log.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 4096;

#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Total time for connect + request + response (headers and the kept part of the body).
    pub timeout: Duration,
    pub user_agent: String,
    pub max_response_bytes: usize,
    pub ssrf: SsrfPolicy,
    /// Idle keep-alive connections kept per receiver host (reuse matters for throughput).
    pub pool_max_idle_per_host: usize,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            user_agent: DEFAULT_USER_AGENT.to_owned(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            ssrf: SsrfPolicy::strict(),
            pool_max_idle_per_host: 32,
        }
    }
}

/// What the dispatcher should do with the event for this destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// 2xx.
    Delivered,
    /// 5xx, 404, 408, 429, timeout or connection error. `after` is the receiver's `Retry-After`
    /// hint (feed it to `RetrySchedule::next_delay`).
    Retry { after: Option<Duration> },
    /// 410 Gone: disable the destination.
    Disable,
    /// Anything else (other 4xx, 3xx since redirects are not followed, SSRF refusal, bad URL):
    /// retrying will not help.
    GiveUp,
}

/// Why no HTTP status was obtained (or why the attempt was refused before sending).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum FailureKind {
    Timeout,
    Connect(String),
    /// Refused by the SSRF policy (before or at connection time).
    Forbidden(String),
    Other(String),
}

/// Everything about one attempt that goes into the delivery log.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryOutcome {
    pub verdict: Verdict,
    pub status: Option<u16>,
    /// First `max_response_bytes` of the response body (lossy UTF-8).
    pub response_body: String,
    pub response_truncated: bool,
    pub duration: Duration,
    pub failure: Option<FailureKind>,
    /// The request headers as sent (signatures, timestamp, UA, content type; never the secret).
    pub request_headers: Vec<(String, String)>,
}

/// One attempt to POST a signed payload.
#[derive(Debug, Clone, Copy)]
pub struct DeliveryAttempt<'a> {
    pub url: &'a str,
    pub payload: &'a SignedPayload,
    /// Adds `X-Didit-Test-Webhook: true` (the "Try Webhook" console/API feature).
    pub test_webhook: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("building the HTTP client failed: {0}")]
pub struct BuildError(#[from] reqwest::Error);

/// A reusable delivery client (cheap to clone; share one per process).
#[derive(Debug, Clone)]
pub struct DeliveryClient {
    http: reqwest::Client,
    config: Arc<DeliveryConfig>,
}

impl DeliveryClient {
    pub fn new(config: DeliveryConfig) -> Result<Self, BuildError> {
        let config = Arc::new(config);
        let http = reqwest::Client::builder()
            .dns_resolver(Arc::new(GuardedResolver::new(Arc::new(
                config.ssrf.clone(),
            ))))
            // A redirect could point anywhere (including private addresses) and Didit does not follow.
            .redirect(reqwest::redirect::Policy::none())
            // A proxy would resolve the host itself, bypassing the resolver-level SSRF guard.
            .no_proxy()
            .timeout(config.timeout)
            .connect_timeout(config.timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .tcp_nodelay(true)
            .build()?;
        Ok(Self { http, config })
    }

    pub fn config(&self) -> &DeliveryConfig {
        &self.config
    }

    /// POSTs the payload once and classifies the result. Never panics on receiver behaviour; every
    /// failure is an outcome.
    pub async fn deliver(&self, attempt: DeliveryAttempt<'_>) -> DeliveryOutcome {
        let started = Instant::now();
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        if let Ok(ua) = HeaderValue::from_str(&self.config.user_agent) {
            headers.insert(USER_AGENT, ua);
        }
        for (name, value) in attempt.payload.headers.to_pairs() {
            if let Ok(v) = HeaderValue::from_str(&value) {
                headers.insert(HeaderName::from_static(lower(name)), v);
            }
        }
        if attempt.test_webhook {
            headers.insert(
                // `sign::HEADER_TEST_WEBHOOK`, lower-cased as `from_static` requires.
                HeaderName::from_static("x-didit-test-webhook"),
                HeaderValue::from_static("true"),
            );
        }
        let request_headers = headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_owned(),
                    v.to_str().unwrap_or_default().to_owned(),
                )
            })
            .collect();
        let mut outcome = DeliveryOutcome {
            verdict: Verdict::GiveUp,
            status: None,
            response_body: String::new(),
            response_truncated: false,
            duration: Duration::ZERO,
            failure: None,
            request_headers,
        };

        let url = match self.config.ssrf.check_url(attempt.url) {
            Ok(url) => url,
            Err(refusal) => {
                outcome.failure = Some(FailureKind::Forbidden(refusal.to_string()));
                outcome.duration = started.elapsed();
                return outcome;
            }
        };

        let sent = self
            .http
            .post(url)
            .headers(headers)
            .body(attempt.payload.body.clone())
            .send()
            .await;
        match sent {
            Ok(mut resp) => {
                let status = resp.status().as_u16();
                outcome.status = Some(status);
                let retry_after = resp
                    .headers()
                    .get(RETRY_AFTER)
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| parse_retry_after(v, SystemTime::now()));
                outcome.verdict = classify_status(status, retry_after);
                // Read only what we keep: a receiver cannot make us buffer an unbounded body.
                let mut body = Vec::new();
                // A body that stalls or breaks after the status line does not change the verdict:
                // the receiver already answered, so a chunk error just ends the read.
                while let Ok(Some(chunk)) = resp.chunk().await {
                    let room = self.config.max_response_bytes - body.len();
                    if chunk.len() > room {
                        body.extend_from_slice(&chunk[..room]);
                        outcome.response_truncated = true;
                        break;
                    }
                    body.extend_from_slice(&chunk);
                }
                outcome.response_body = String::from_utf8_lossy(&body).into_owned();
            }
            Err(err) => {
                let failure = classify_error(&err);
                outcome.verdict = match failure {
                    FailureKind::Forbidden(_) => Verdict::GiveUp,
                    _ => Verdict::Retry { after: None },
                };
                outcome.failure = Some(failure);
            }
        }
        outcome.duration = started.elapsed();
        outcome
    }
}

fn lower(name: &'static str) -> &'static str {
    // HeaderName::from_static requires lower case; our constants are the spec's spelling.
    match name {
        "X-Timestamp" => "x-timestamp",
        "X-Signature" => "x-signature",
        "X-Signature-V2" => "x-signature-v2",
        "X-Signature-Simple" => "x-signature-simple",
        other => other,
    }
}

/// The verdict for an HTTP status (spec §6.1, plus 408/429 which are "try later" by definition).
pub fn classify_status(status: u16, retry_after: Option<Duration>) -> Verdict {
    match status {
        200..=299 => Verdict::Delivered,
        410 => Verdict::Disable,
        404 | 408 | 429 | 500..=599 => Verdict::Retry { after: retry_after },
        _ => Verdict::GiveUp,
    }
}

fn classify_error(err: &reqwest::Error) -> FailureKind {
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(refusal) = e.downcast_ref::<Refusal>() {
            return FailureKind::Forbidden(refusal.to_string());
        }
        source = e.source();
    }
    if err.is_timeout() {
        FailureKind::Timeout
    } else if err.is_connect() {
        FailureKind::Connect(error_chain(err))
    } else {
        FailureKind::Other(error_chain(err))
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut s = err.to_string();
    let mut source = err.source();
    while let Some(e) = source {
        s.push_str(": ");
        s.push_str(&e.to_string());
        source = e.source();
    }
    s
}

/// `Retry-After` as delay-seconds or an HTTP-date (RFC 9110 §10.2.3); a date in the past is 0.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_classification() {
        assert_eq!(classify_status(200, None), Verdict::Delivered);
        assert_eq!(classify_status(204, None), Verdict::Delivered);
        assert_eq!(classify_status(500, None), Verdict::Retry { after: None });
        assert_eq!(
            classify_status(503, Some(Duration::from_secs(7))),
            Verdict::Retry {
                after: Some(Duration::from_secs(7))
            }
        );
        assert_eq!(classify_status(404, None), Verdict::Retry { after: None });
        assert_eq!(classify_status(429, None), Verdict::Retry { after: None });
        assert_eq!(classify_status(410, None), Verdict::Disable);
        for s in [301, 302, 307, 400, 401, 403, 405, 422] {
            assert_eq!(classify_status(s, None), Verdict::GiveUp, "{s}");
        }
    }

    #[test]
    fn retry_after_forms() {
        let now = httpdate::parse_http_date("Sun, 22 Nov 2026 13:00:00 GMT").unwrap();
        assert_eq!(
            parse_retry_after("120", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(parse_retry_after(" 0 ", now), Some(Duration::ZERO));
        assert_eq!(
            parse_retry_after("Sun, 22 Nov 2026 13:01:30 GMT", now),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_retry_after("Sun, 22 Nov 2026 12:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn user_agent_keeps_didit_token_first() {
        assert!(DEFAULT_USER_AGENT.starts_with("DiditWebhook/2.0 +https://didit.me"));
    }
}
