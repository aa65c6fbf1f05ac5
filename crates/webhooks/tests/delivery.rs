//! Delivery over real HTTP on loopback: outcome classification, redirects, timeouts, SSRF guard.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use axum::Router;
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};
use verity_webhooks::{
    sign_attempt, verify_request, DeliveryAttempt, DeliveryClient, DeliveryConfig, FailureKind,
    SignOptions, SignedPayload, SsrfPolicy, Verdict, VerifiedWith, WebhookSecret,
};

const SECRET: &str = "loopback-test-secret-9f8e7d6c5b4a";

#[derive(Default)]
struct Seen {
    hits: Vec<(String, HeaderMap, Bytes)>,
}

type Shared = Arc<Mutex<Seen>>;

fn record(state: &Shared, path: &str, headers: HeaderMap, body: Bytes) {
    state
        .lock()
        .unwrap()
        .hits
        .push((path.to_owned(), headers, body));
}

async fn spawn_receiver() -> (String, Shared) {
    let state: Shared = Arc::default();
    let app = Router::new()
        .route(
            "/ok",
            post(
                |State(s): State<Shared>, h: HeaderMap, b: Bytes| async move {
                    record(&s, "/ok", h, b);
                    (StatusCode::OK, "{\"received\":true}")
                },
            ),
        )
        .route(
            "/fail500",
            post(
                |State(s): State<Shared>, h: HeaderMap, b: Bytes| async move {
                    record(&s, "/fail500", h, b);
                    (StatusCode::INTERNAL_SERVER_ERROR, "boom")
                },
            ),
        )
        .route(
            "/busy",
            post(|| async {
                (
                    StatusCode::TOO_MANY_REQUESTS,
                    [("retry-after", "7")],
                    "slow down",
                )
            }),
        )
        .route(
            "/busy-date",
            post(|| async {
                let when = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(120));
                (StatusCode::TOO_MANY_REQUESTS, [("retry-after", when)], "").into_response()
            }),
        )
        .route("/gone", post(|| async { StatusCode::GONE }))
        .route("/bad", post(|| async { StatusCode::BAD_REQUEST }))
        .route(
            "/redirect",
            any(|| async { (StatusCode::FOUND, [("location", "/ok")], "") }),
        )
        .route(
            "/slow",
            post(|| async {
                tokio::time::sleep(Duration::from_secs(3)).await;
                StatusCode::OK
            }),
        )
        .route(
            "/big",
            post(|| async { Response::new(axum::body::Body::from("x".repeat(10_000))) }),
        )
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://127.0.0.1:{}", addr.port()), state)
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn signed() -> SignedPayload {
    let payload = json!({
        "event_id": "evt-1", "webhook_type": "status.updated", "session_id": "s-1", "status": "Approved",
        "created_at": 1774969994, "vendor_data": "Zoë 王 😀", "decision": {"score": 92.0, "ratio": 0.1}
    });
    sign_attempt(
        &WebhookSecret::new(SECRET),
        &payload,
        now(),
        &SignOptions {
            standard_webhooks_id: Some("evt-1".into()),
        },
    )
}

fn client(policy: SsrfPolicy, timeout: Duration) -> DeliveryClient {
    DeliveryClient::new(DeliveryConfig {
        ssrf: policy,
        timeout,
        ..DeliveryConfig::default()
    })
    .unwrap()
}

fn loopback_client() -> DeliveryClient {
    client(SsrfPolicy::loopback_for_tests(), Duration::from_secs(5))
}

async fn deliver(
    c: &DeliveryClient,
    url: &str,
    p: &SignedPayload,
) -> verity_webhooks::DeliveryOutcome {
    c.deliver(DeliveryAttempt {
        url,
        payload: p,
        test_webhook: false,
    })
    .await
}

#[tokio::test]
async fn delivered_2xx_with_verifiable_headers_and_no_secret() {
    let (base, seen) = spawn_receiver().await;
    let p = signed();
    let out = loopback_client()
        .deliver(DeliveryAttempt {
            url: &format!("{base}/ok"),
            payload: &p,
            test_webhook: true,
        })
        .await;
    assert_eq!(out.verdict, Verdict::Delivered, "{out:?}");
    assert_eq!(out.status, Some(200));
    assert_eq!(out.response_body, "{\"received\":true}");
    assert!(!out.response_truncated);
    assert!(out.failure.is_none());

    let hits = &seen.lock().unwrap().hits;
    assert_eq!(hits.len(), 1);
    let (_, headers, body) = &hits[0];
    assert_eq!(
        body.as_ref(),
        p.body.as_ref(),
        "body sent byte-for-byte as signed"
    );
    assert_eq!(headers["content-type"], "application/json");
    assert!(headers["user-agent"]
        .to_str()
        .unwrap()
        .starts_with("DiditWebhook/2.0 +https://didit.me"));
    assert_eq!(headers["x-didit-test-webhook"], "true");
    assert_eq!(
        headers["x-timestamp"].to_str().unwrap(),
        p.headers.timestamp.to_string()
    );
    for name in [
        "x-signature",
        "x-signature-v2",
        "x-signature-simple",
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
    ] {
        assert!(headers.contains_key(name), "{name} missing");
    }
    let secret = WebhookSecret::new(SECRET);
    assert_eq!(
        verify_request(&secret, headers, body, now(), 300),
        Ok(VerifiedWith::SignatureV2)
    );
    // The secret is in neither the headers nor the body, nor in what we log.
    for (k, v) in headers {
        assert!(
            !v.to_str().unwrap_or("").contains(SECRET),
            "{k} leaks the secret"
        );
    }
    assert!(!String::from_utf8_lossy(body).contains(SECRET));
    assert!(out.request_headers.iter().all(|(_, v)| !v.contains(SECRET)));
    assert!(out
        .request_headers
        .iter()
        .any(|(k, _)| k == "x-signature-v2"));
}

#[tokio::test]
async fn server_errors_and_404_are_retried() {
    let (base, seen) = spawn_receiver().await;
    let c = loopback_client();
    let p = signed();
    let out = deliver(&c, &format!("{base}/fail500"), &p).await;
    assert_eq!(out.verdict, Verdict::Retry { after: None });
    assert_eq!(
        (out.status, out.response_body.as_str()),
        (Some(500), "boom")
    );
    assert_eq!(seen.lock().unwrap().hits.len(), 1);
    let out = deliver(&c, &format!("{base}/no-such-path"), &p).await;
    assert_eq!(
        (out.verdict, out.status),
        (Verdict::Retry { after: None }, Some(404))
    );
}

#[tokio::test]
async fn too_many_requests_honours_retry_after_seconds_and_date() {
    let (base, _) = spawn_receiver().await;
    let c = loopback_client();
    let p = signed();
    let out = deliver(&c, &format!("{base}/busy"), &p).await;
    assert_eq!(out.status, Some(429));
    assert_eq!(
        out.verdict,
        Verdict::Retry {
            after: Some(Duration::from_secs(7))
        }
    );
    let out = deliver(&c, &format!("{base}/busy-date"), &p).await;
    match out.verdict {
        // HTTP-dates have 1 s resolution and a little time passes.
        Verdict::Retry { after: Some(d) } => assert!((115..=120).contains(&d.as_secs()), "{d:?}"),
        other => panic!("expected retry with date, got {other:?}"),
    }
    // The schedule takes the hint as a lower bound.
    let sched = verity_webhooks::RetrySchedule::didit();
    let mut rng = rand::rng();
    assert_eq!(
        sched.next_delay(1, Some(Duration::from_secs(7)), &mut rng),
        Some(Duration::from_secs(60))
    );
    assert_eq!(
        sched.next_delay(1, Some(Duration::from_secs(600)), &mut rng),
        Some(Duration::from_secs(600))
    );
}

#[tokio::test]
async fn gone_disables_and_other_4xx_gives_up() {
    let (base, _) = spawn_receiver().await;
    let c = loopback_client();
    let p = signed();
    let out = deliver(&c, &format!("{base}/gone"), &p).await;
    assert_eq!((out.verdict, out.status), (Verdict::Disable, Some(410)));
    let out = deliver(&c, &format!("{base}/bad"), &p).await;
    assert_eq!((out.verdict, out.status), (Verdict::GiveUp, Some(400)));
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (base, seen) = spawn_receiver().await;
    let out = deliver(&loopback_client(), &format!("{base}/redirect"), &signed()).await;
    assert_eq!((out.verdict, out.status), (Verdict::GiveUp, Some(302)));
    assert!(
        seen.lock().unwrap().hits.is_empty(),
        "the redirect target must not be hit"
    );
}

#[tokio::test]
async fn timeout_is_retried() {
    let (base, _) = spawn_receiver().await;
    let c = client(SsrfPolicy::loopback_for_tests(), Duration::from_millis(300));
    let out = deliver(&c, &format!("{base}/slow"), &signed()).await;
    assert_eq!(out.verdict, Verdict::Retry { after: None }, "{out:?}");
    assert_eq!(out.failure, Some(FailureKind::Timeout));
    assert_eq!(out.status, None);
}

#[tokio::test]
async fn connection_refused_is_retried() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let out = deliver(
        &loopback_client(),
        &format!("http://127.0.0.1:{port}/ok"),
        &signed(),
    )
    .await;
    assert_eq!(out.verdict, Verdict::Retry { after: None }, "{out:?}");
    assert!(
        matches!(out.failure, Some(FailureKind::Connect(_))),
        "{out:?}"
    );
}

#[tokio::test]
async fn response_body_is_truncated_for_the_log() {
    let (base, _) = spawn_receiver().await;
    let out = deliver(&loopback_client(), &format!("{base}/big"), &signed()).await;
    assert_eq!(out.verdict, Verdict::Delivered);
    assert_eq!(out.response_body.len(), 4096);
    assert!(out.response_truncated);
}

#[tokio::test]
async fn ssrf_refuses_loopback_unless_allow_listed() {
    let (base, seen) = spawn_receiver().await;
    let port = base.rsplit(':').next().unwrap().to_owned();
    let p = signed();
    // http allowed so that only the address rule is exercised.
    let no_allow_list = SsrfPolicy {
        allow_http: true,
        ..SsrfPolicy::strict()
    };
    let c = client(no_allow_list.clone(), Duration::from_secs(5));
    // IP literal: refused before any connection.
    let out = deliver(&c, &format!("http://127.0.0.1:{port}/ok"), &p).await;
    assert_eq!(out.verdict, Verdict::GiveUp);
    assert!(
        matches!(&out.failure, Some(FailureKind::Forbidden(m)) if m.contains("loopback")),
        "{out:?}"
    );
    // Host name: refused after DNS resolution, inside the resolver.
    let out = deliver(&c, &format!("http://localhost:{port}/ok"), &p).await;
    assert_eq!(out.verdict, Verdict::GiveUp, "{out:?}");
    assert!(
        matches!(&out.failure, Some(FailureKind::Forbidden(m)) if m.contains("loopback")),
        "{out:?}"
    );
    assert!(
        seen.lock().unwrap().hits.is_empty(),
        "nothing may reach the receiver"
    );

    // https-only policy refuses http before anything else.
    let out = deliver(
        &client(SsrfPolicy::strict(), Duration::from_secs(5)),
        &format!("{base}/ok"),
        &p,
    )
    .await;
    assert!(
        matches!(&out.failure, Some(FailureKind::Forbidden(m)) if m.contains("scheme")),
        "{out:?}"
    );

    // Allow-listed CIDR: both the literal and the resolved name are delivered.
    let allowed = client(
        no_allow_list.clone().with_allow_list("127.0.0.0/8"),
        Duration::from_secs(5),
    );
    assert_eq!(
        deliver(&allowed, &format!("http://127.0.0.1:{port}/ok"), &p)
            .await
            .verdict,
        Verdict::Delivered
    );
    assert_eq!(
        deliver(&allowed, &format!("http://localhost:{port}/ok"), &p)
            .await
            .verdict,
        Verdict::Delivered
    );
    // Allow-listed host name.
    let by_host = client(
        no_allow_list.with_allow_list("localhost"),
        Duration::from_secs(5),
    );
    assert_eq!(
        deliver(&by_host, &format!("http://localhost:{port}/ok"), &p)
            .await
            .verdict,
        Verdict::Delivered
    );
    assert_eq!(seen.lock().unwrap().hits.len(), 3);
}
