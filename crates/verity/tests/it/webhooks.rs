//! Webhooks end to end over loopback HTTP: destination configuration, signed at-least-once
//! delivery with retries, the delivery log, test deliveries, the legacy single-URL API, and
//! reliability (receiver outage, SIGKILL mid-dispatch, two processes on one PostgreSQL, a slow
//! receiver next to a fast one).

use crate::helpers::{create_postgres_database, eventually, spawn_app_with, TestApp};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use hmac::{Hmac, Mac};
use reqwest::StatusCode;
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{HashSet, VecDeque};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Semaphore;

/// One request a receiver got.
#[derive(Clone, Debug)]
struct Hit {
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Hit {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
    fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

#[derive(Default)]
struct ReceiverState {
    hits: Mutex<Vec<Hit>>,
    /// Statuses to answer, in order; 200 once exhausted.
    script: Mutex<VecDeque<u16>>,
    /// When set, every request waits for a permit (a receiver that hangs until released).
    gate: Option<Arc<Semaphore>>,
    delay: Duration,
}

/// A webhook receiver on a loopback port.
struct Receiver {
    url: String,
    state: Arc<ReceiverState>,
}

impl Receiver {
    async fn start(script: &[u16], gate: Option<Arc<Semaphore>>, delay: Duration) -> Self {
        let state = Arc::new(ReceiverState {
            script: Mutex::new(script.iter().copied().collect()),
            gate,
            delay,
            ..ReceiverState::default()
        });
        let app = axum::Router::new()
            .route("/hook", post(receive))
            .with_state(state.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, state }
    }

    fn hits(&self) -> Vec<Hit> {
        self.state.hits.lock().unwrap().clone()
    }

    fn event_ids(&self) -> HashSet<String> {
        self.hits()
            .iter()
            .map(|h| h.json()["event_id"].as_str().unwrap_or_default().to_owned())
            .collect()
    }
}

async fn receive(
    State(state): State<Arc<ReceiverState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> AxumStatus {
    if let Some(gate) = &state.gate {
        gate.acquire().await.unwrap().forget();
    }
    if !state.delay.is_zero() {
        tokio::time::sleep(state.delay).await;
    }
    state.hits.lock().unwrap().push(Hit {
        headers,
        body: body.to_vec(),
    });
    let status = state.script.lock().unwrap().pop_front().unwrap_or(200);
    AxumStatus::from_u16(status).unwrap()
}

fn hmac_hex(secret: &str, message: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}

/// Loopback receivers allowed, short retries, a fast poll.
async fn webhook_app() -> TestApp {
    spawn_app_with(|config| {
        config.webhooks.allow_http = true;
        config.webhooks.allow_private = "127.0.0.0/8".into();
        config.webhooks.retry_delays_seconds = Some(vec![1, 1, 1]);
        config.webhooks.poll_interval_ms = 100;
    })
    .await
}

async fn add_destination(app: &TestApp, body: Value) -> Value {
    let (status, created) = app
        .post("/v3/webhook/destinations/", &app.live.api_key, body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

#[tokio::test]
async fn destinations_are_validated_scoped_and_rotated() {
    // Default policy: https to public addresses only.
    let strict = crate::helpers::spawn_app().await;
    let key = &strict.live.api_key;
    for (body, field) in [
        (json!({"url": "http://hooks.example.com/x"}), "url"),
        (json!({"url": "https://127.0.0.1/x"}), "url"),
        (json!({"url": "https://[::1]/x"}), "url"),
        (json!({"url": "https://10.1.2.3/x"}), "url"),
        (json!({"url": "https://user:pw@8.8.8.8/x"}), "url"),
        (
            json!({"url": "https://8.8.8.8/x", "subscribed_events": []}),
            "subscribed_events",
        ),
        (
            json!({"url": "https://8.8.8.8/x", "subscribed_events": ["status.updated", "everything"]}),
            "subscribed_events",
        ),
        (
            json!({"url": "https://8.8.8.8/x", "webhook_version": "v9"}),
            "webhook_version",
        ),
        (json!({"url": "https://8.8.8.8/x", "colour": 1}), "colour"),
    ] {
        let (status, errors) = strict
            .post("/v3/webhook/destinations/", key, body.clone())
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body} → {errors}");
        assert!(errors[field].is_array(), "{body} → {errors}");
    }

    let (status, created) = strict
        .post(
            "/v3/webhook/destinations/",
            key,
            json!({"label": "Main", "url": "https://8.8.8.8/hook", "subscribed_events": ["status.updated"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = created["secret_shared_key"].as_str().unwrap().to_owned();
    assert_eq!(secret.len(), 43);
    assert_eq!(created["webhook_version"], "v3");
    assert_eq!(created["enabled"], true);
    assert_eq!(created["summary"]["total_deliveries"], 0);
    let id = created["uuid"].as_str().unwrap().to_owned();
    let path = format!("/v3/webhook/destinations/{id}/");

    let (status, duplicate) = strict
        .post(
            "/v3/webhook/destinations/",
            key,
            json!({"url": "https://8.8.8.8/hook"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(duplicate["url"].is_array());

    // Another application (same organization) sees nothing of it.
    let other = &strict.sandbox.api_key;
    assert_eq!(strict.get(&path, other).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        strict
            .patch(&path, other, json!({"enabled": false}))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(strict.delete(&path, other).await.0, StatusCode::NOT_FOUND);
    let (_, others) = strict.get("/v3/webhook/destinations/", other).await;
    assert_eq!(others, json!([]));

    let (status, updated) = strict
        .patch(
            &path,
            key,
            json!({"enabled": false, "webhook_version": "v2"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(
        (&updated["enabled"], &updated["webhook_version"]),
        (&json!(false), &json!("v2"))
    );
    assert_eq!(updated["subscribed_events"], json!(["status.updated"]));

    let (_, rotated) = strict
        .patch(&path, key, json!({"rotate_secret_key": true}))
        .await;
    assert_ne!(rotated["secret_shared_key"], json!(secret));
    assert!(rotated["secret_rotation_overlap_until"].is_string());

    let (_, list) = strict.get("/v3/webhook/destinations/", key).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(strict.delete(&path, key).await.0, StatusCode::NO_CONTENT);
    assert_eq!(strict.get(&path, key).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        strict
            .get("/v3/webhook/destinations/not-a-uuid/", key)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn status_changes_are_delivered_signed_in_each_version() {
    let app = webhook_app().await;
    let v3 = Receiver::start(&[], None, Duration::ZERO).await;
    let v2 = Receiver::start(&[], None, Duration::ZERO).await;
    let v1 = Receiver::start(&[], None, Duration::ZERO).await;
    let d3 = add_destination(&app, json!({"url": v3.url, "standard_webhooks": true})).await;
    add_destination(&app, json!({"url": v2.url, "webhook_version": "v2"})).await;
    add_destination(&app, json!({"url": v1.url, "webhook_version": "v1"})).await;
    let secret = d3["secret_shared_key"].as_str().unwrap().to_owned();

    let session = app
        .create_session(json!({"vendor_data": "user-Ωmega", "metadata": {"score": 92.0}}))
        .await;
    let id = session["session_id"].as_str().unwrap().to_owned();
    app.review_decision(&id, "Approved", "looks good").await;

    for receiver in [&v3, &v2, &v1] {
        eventually("two deliveries per destination", || async {
            receiver.hits().len() >= 2
        })
        .await;
    }
    let hits = v3.hits();
    let created = hits
        .iter()
        .find(|h| h.json()["status"] == "Not Started")
        .expect("creation event");
    let approved = hits
        .iter()
        .find(|h| h.json()["status"] == "Approved")
        .expect("approval event");
    for hit in [created, approved] {
        let body = hit.json();
        assert_eq!(hit.header("content-type"), "application/json");
        assert!(hit.header("user-agent").starts_with("DiditWebhook/2.0"));
        assert_eq!(hit.header("x-signature"), hmac_hex(&secret, &hit.body));
        assert_eq!(
            hit.header("x-timestamp"),
            body["timestamp"].as_i64().unwrap().to_string()
        );
        // V2 signs the canonical form: sorted keys, compact, Unicode unescaped, 92.0 → 92.
        let canonical = serde_json::to_string(&body).unwrap().replace("92.0", "92");
        assert_eq!(
            hit.header("x-signature-v2"),
            hmac_hex(&secret, canonical.as_bytes())
        );
        let simple = format!(
            "{}:{}:{}:status.updated",
            hit.header("x-timestamp"),
            id,
            body["status"].as_str().unwrap()
        );
        assert_eq!(
            hit.header("x-signature-simple"),
            hmac_hex(&secret, simple.as_bytes())
        );
        assert_eq!(hit.header("webhook-id"), body["event_id"].as_str().unwrap());
        assert!(hit.header("webhook-signature").starts_with("v1,"));
        assert!(!String::from_utf8_lossy(&hit.body).contains(&secret));
        // The raw body escapes non-ASCII as Python's json.dumps does.
        assert!(String::from_utf8_lossy(&hit.body).contains("user-\\u03a9mega"));
        assert_eq!(body["session_id"], json!(id));
        assert_eq!(body["webhook_type"], "status.updated");
        assert_eq!(body["application_id"], json!(app.live.id.to_string()));
        assert_eq!(body["environment"], "live");
        assert_eq!(body["vendor_data"], "user-Ωmega");
    }
    assert!(created.json().get("decision").is_none());
    let decision = &approved.json()["decision"];
    assert_eq!(decision["status"], "Approved");
    assert_eq!(decision["session_id"], json!(id));
    assert_eq!(decision["reviews"][0]["comment"], "looks good");

    let v2_approved = v2
        .hits()
        .into_iter()
        .find(|h| h.json()["status"] == "Approved")
        .unwrap()
        .json();
    assert!(v2_approved["decision"].get("reviews").is_some());
    assert_eq!(v2_approved["event_id"], approved.json()["event_id"]);
    let v1_approved = v1
        .hits()
        .into_iter()
        .find(|h| h.json()["status"] == "Approved")
        .unwrap()
        .json();
    assert!(v1_approved.get("application_id").is_none(), "v1 envelope");
    assert_eq!(v1_approved["session_id"], json!(id));
    assert!(v1_approved["decision"].is_object());
}

#[tokio::test]
async fn a_receiver_that_is_down_gets_every_event_when_it_returns() {
    let app = webhook_app().await;
    // Down for the first three requests (503, connection-level 502/504 alike), then up.
    let receiver = Receiver::start(&[503, 502, 504], None, Duration::ZERO).await;
    add_destination(&app, json!({"url": receiver.url})).await;
    let mut sessions = Vec::new();
    for n in 0..3 {
        sessions.push(
            app.create_session(json!({"vendor_data": format!("outage-{n}")}))
                .await["session_id"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    eventually("three events delivered after the outage", || async {
        receiver.event_ids().len() == 3 && receiver.hits().len() == 6
    })
    .await;
    // Retries carry the same event_id, and the log shows each attempt.
    let (status, page) = app
        .get(
            &format!("/v3/session/{}/webhooks/", sessions[0]),
            &app.live.api_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["count"], 1);
    let delivery = &page["results"][0];
    eventually("the log records success", || async {
        let (_, one) = app
            .get(
                &format!(
                    "/v3/session/{}/webhook/{}",
                    sessions[0],
                    delivery["uuid"].as_str().unwrap()
                ),
                &app.live.api_key,
            )
            .await;
        one["status"] == "delivered"
    })
    .await;
    let total_attempts: i64 = {
        let mut total = 0;
        for id in &sessions {
            let (_, page) = app
                .get(&format!("/v3/session/{id}/webhooks/"), &app.live.api_key)
                .await;
            total += page["results"][0]["attempts"].as_i64().unwrap();
        }
        total
    };
    assert_eq!(total_attempts, 6, "3 failures + 3 successes");
}

#[tokio::test]
async fn delivery_log_resend_and_gone() {
    let app = webhook_app().await;
    let receiver = Receiver::start(&[], None, Duration::ZERO).await;
    let dest = add_destination(&app, json!({"url": receiver.url})).await;
    let first = app.create_session(json!({})).await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = app.create_session(json!({})).await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    eventually("both delivered", || async { receiver.hits().len() == 2 }).await;
    let key = &app.live.api_key;
    let (_, page) = app
        .get(&format!("/v3/session/{first}/webhooks/"), key)
        .await;
    let uuid = page["results"][0]["uuid"].as_str().unwrap().to_owned();
    eventually("first delivery logged as delivered", || async {
        let (_, one) = app
            .get(&format!("/v3/session/{first}/webhook/{uuid}"), key)
            .await;
        one["status"] == "delivered"
    })
    .await;
    let (status, one) = app
        .get(&format!("/v3/session/{first}/webhook/{uuid}"), key)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["http_status"], 200);
    assert_eq!(one["url"], json!(receiver.url));
    let headers: Value = serde_json::from_str(one["request_header"].as_str().unwrap()).unwrap();
    assert!(headers["x-signature-v2"].is_string());
    assert!(headers.get("secret_shared_key").is_none());
    let body: Value = serde_json::from_str(one["request_body"].as_str().unwrap()).unwrap();
    assert_eq!(body["session_id"], json!(first));
    // With a trailing slash too; another session's delivery, another tenant: 404.
    assert_eq!(
        app.get(&format!("/v3/session/{first}/webhook/{uuid}/"), key)
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        app.get(&format!("/v3/session/{second}/webhook/{uuid}"), key)
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(
            &format!("/v3/session/{first}/webhook/{uuid}"),
            &app.sandbox.api_key
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );

    // Manual resend: same event_id again.
    let (status, resent) = app
        .post(
            &format!("/v3/session/{first}/webhook/{uuid}/resend/"),
            key,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{resent}");
    eventually("resent", || async { receiver.hits().len() == 3 }).await;
    let hits = receiver.hits();
    // The first attempt's content (a delivered delivery keeps it in its attempt); only the
    // body's `timestamp`, the signing time like X-Timestamp, is new.
    let strip = |mut value: Value| {
        value.as_object_mut().unwrap().remove("timestamp");
        value
    };
    assert_eq!(strip(hits[2].json()), strip(body.clone()));

    // 410 Gone disables the destination and is not retried.
    receiver.state.script.lock().unwrap().push_back(410);
    app.create_session(json!({})).await;
    let path = format!(
        "/v3/webhook/destinations/{}/",
        dest["uuid"].as_str().unwrap()
    );
    eventually("destination disabled", || async {
        app.get(&path, key).await.1["enabled"] == false
    })
    .await;
    let (_, disabled) = app.get(&path, key).await;
    assert!(disabled["disabled_reason"]
        .as_str()
        .unwrap()
        .contains("410"));
    assert_eq!(disabled["summary"]["total_deliveries"], 3);
    assert_eq!(disabled["summary"]["failed_deliveries"], 1);
    // Events while disabled are not queued for it; after re-enabling, new events flow again.
    app.create_session(json!({"vendor_data": "while-disabled"}))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver.hits().len(),
        4,
        "nothing goes to a disabled destination"
    );
    app.patch(&path, key, json!({"enabled": true})).await;
    app.create_session(json!({"vendor_data": "re-enabled"}))
        .await;
    eventually("delivered after re-enabling", || async {
        receiver.hits().len() == 5
    })
    .await;
    assert_eq!(receiver.hits()[4].json()["vendor_data"], "re-enabled");
}

#[tokio::test]
async fn test_deliveries_and_the_legacy_single_url_api() {
    let app = webhook_app().await;
    let key = &app.live.api_key;
    let receiver = Receiver::start(&[], None, Duration::ZERO).await;
    let dest = add_destination(&app, json!({"url": receiver.url})).await;
    let (status, result) = app
        .post(
            &format!(
                "/v3/webhook/destinations/{}/test/",
                dest["uuid"].as_str().unwrap()
            ),
            key,
            json!({"status": "Declined"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    assert_eq!(result["http_status"], 200);
    let hit = &receiver.hits()[0];
    assert_eq!(hit.header("x-didit-test-webhook"), "true");
    assert_eq!(hit.json()["status"], "Declined");
    assert_eq!(
        hit.header("x-signature"),
        hmac_hex(dest["secret_shared_key"].as_str().unwrap(), &hit.body)
    );
    let (status, _) = app
        .post(
            &format!(
                "/v3/webhook/destinations/{}/test/",
                dest["uuid"].as_str().unwrap()
            ),
            key,
            json!({"status": "Done"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Legacy: one URL signed with the application secret.
    let (_, legacy) = app.get("/v3/webhook/", key).await;
    assert_eq!(legacy["webhook_url"], Value::Null);
    let app_secret = legacy["secret_shared_key"].as_str().unwrap().to_owned();
    let legacy_receiver = Receiver::start(&[], None, Duration::ZERO).await;
    let (status, legacy) = app
        .patch(
            "/v3/webhook/",
            key,
            json!({"webhook_url": legacy_receiver.url, "capture_method": "mobile", "allowed_domains": ["shop.example.com"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{legacy}");
    assert_eq!(legacy["webhook_url"], json!(legacy_receiver.url));
    assert_eq!(legacy["capture_method"], "mobile");
    app.create_session(json!({})).await;
    eventually("legacy destination delivered", || async {
        !legacy_receiver.hits().is_empty()
    })
    .await;
    let hit = &legacy_receiver.hits()[0];
    assert_eq!(hit.header("x-signature"), hmac_hex(&app_secret, &hit.body));
    let (_, rotated) = app
        .patch("/v3/webhook/", key, json!({"rotate_secret_key": true}))
        .await;
    let new_secret = rotated["secret_shared_key"].as_str().unwrap().to_owned();
    assert_ne!(new_secret, app_secret);
    app.create_session(json!({})).await;
    eventually("signed with the rotated secret", || async {
        legacy_receiver.hits().len() == 2
    })
    .await;
    let hit = &legacy_receiver.hits()[1];
    assert_eq!(hit.header("x-signature"), hmac_hex(&new_secret, &hit.body));
    let (_, removed) = app
        .patch("/v3/webhook/", key, json!({"webhook_url": null}))
        .await;
    assert_eq!(removed["webhook_url"], Value::Null);
    assert_eq!(removed["capture_method"], "mobile");
    let (status, errors) = app
        .patch("/v3/webhook/", key, json!({"capture_method": "tablet"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(errors["capture_method"].is_array());
}

#[tokio::test]
async fn a_slow_receiver_does_not_hold_up_the_others() {
    let app = spawn_app_with(|config| {
        config.webhooks.allow_http = true;
        config.webhooks.allow_private = "127.0.0.0/8".into();
        config.webhooks.poll_interval_ms = 100;
        config.webhooks.timeout_seconds = 60;
        config.webhooks.concurrency = 8;
        config.webhooks.per_destination_concurrency = 2;
    })
    .await;
    // The slow receiver hangs on every request until the test releases it.
    let gate = Arc::new(Semaphore::new(0));
    let slow = Receiver::start(&[], Some(gate.clone()), Duration::ZERO).await;
    let fast = Receiver::start(&[], None, Duration::ZERO).await;
    add_destination(&app, json!({"url": slow.url})).await;
    add_destination(&app, json!({"url": fast.url})).await;
    for _ in 0..10 {
        app.create_session(json!({})).await;
    }
    eventually(
        "the fast receiver got all ten while the slow one hangs",
        || async { fast.event_ids().len() == 10 },
    )
    .await;
    assert!(slow.hits().is_empty());
    gate.add_permits(100);
    eventually("the slow receiver catches up", || async {
        slow.event_ids().len() == 10
    })
    .await;
}

fn require_receivers() -> bool {
    std::env::var("VERITY_REQUIRE_PYTHON_RECEIVERS").as_deref() == Ok("1")
}

fn skip(reason: &str) {
    assert!(!require_receivers(), "receivers required but: {reason}");
    eprintln!("SKIPPED: {reason}");
}

/// Seed 003's FastAPI receiver, run as written (only the secret and port given), accepts what a
/// running server delivers; a delivery it refuses would show as 401 in the log.
#[tokio::test]
async fn seed003_fastapi_receiver_accepts_server_deliveries() {
    let python = std::env::var("VERITY_PYTHON").unwrap_or_else(|_| "python3".into());
    let has = |module: &str| {
        Command::new(&python)
            .args(["-c", &format!("import {module}")])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !has("uvicorn") || !has("fastapi") {
        return skip(&format!("{python} lacks uvicorn/fastapi"));
    }
    let app_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../webhooks/tests/python");
    receiver_accepts_server_deliveries("/api/webhook", |secret, port| {
        let mut command = Command::new(&python);
        command
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("DIDIT_WEBHOOK_SECRET", secret)
            .args([
                "-m",
                "uvicorn",
                "seed003_fastapi_app:app",
                "--host",
                "127.0.0.1",
            ])
            .args([
                "--log-level",
                "warning",
                "--port",
                &port.to_string(),
                "--app-dir",
                app_dir,
            ]);
        command
    })
    .await;
}

/// Seed 003's Express receiver (crates/webhooks/tests/node, `npm ci` there), as written but for
/// the port, accepts what a running server delivers.
#[tokio::test]
async fn seed003_express_receiver_accepts_server_deliveries() {
    let node = std::env::var("VERITY_NODE").unwrap_or_else(|_| "node".into());
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../webhooks/tests/node");
    if Command::new(&node).arg("--version").output().is_err() {
        return skip(&format!("no Node.js ({node})"));
    }
    if !std::path::Path::new(dir)
        .join("node_modules/express")
        .exists()
    {
        return skip(&format!("express is not installed: run `npm ci` in {dir}"));
    }
    receiver_accepts_server_deliveries("/api/webhook", |secret, port| {
        let mut command = Command::new(&node);
        command
            .current_dir(dir)
            .env("DIDIT_WEBHOOK_SECRET", secret)
            .env("PORT", port.to_string())
            .arg("seed003_express_app.js");
        command
    })
    .await;
}

/// Points a destination at a third-party receiver started by `command(secret, port)`, then
/// creates, and approves or declines sessions with Unicode data: every delivery must be answered
/// 2xx (receivers answer 401 to a bad signature).
async fn receiver_accepts_server_deliveries(
    path: &str,
    command: impl FnOnce(&str, u16) -> Command,
) {
    let app = webhook_app().await;
    let port = free_port();
    let dest = add_destination(
        &app,
        json!({"url": format!("http://127.0.0.1:{port}{path}")}),
    )
    .await;
    let secret = dest["secret_shared_key"].as_str().unwrap();
    let _receiver = ChildGuard(
        command(secret, port)
            .stdout(Stdio::null())
            .spawn()
            .expect("receiver starts"),
    );
    wait_for_port(port);
    let mut sessions = Vec::new();
    for (vendor, verdict) in [("Zoë Ñúñez 山田", "Declined"), ("user-42", "Approved")] {
        let session = app
            .create_session(
                json!({"vendor_data": vendor, "metadata": {"score": 92.0, "tags": [[1, 2.5]]}}),
            )
            .await;
        let id = session["session_id"].as_str().unwrap().to_owned();
        app.review_decision(&id, verdict, "checked").await;
        sessions.push(id);
    }
    for id in &sessions {
        eventually("both events of the session accepted", || async {
            let (_, page) = app
                .get(&format!("/v3/session/{id}/webhooks/"), &app.live.api_key)
                .await;
            page["results"].as_array().is_some_and(|rows| {
                rows.len() == 2
                    && rows
                        .iter()
                        .all(|r| r["status"] == "delivered" && r["http_status"] == 200)
            })
        })
        .await;
    }
}

pub(crate) struct ChildGuard(pub(crate) Child);

impl Drop for ChildGuard {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn wait_for_port(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {port}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

pub(crate) const MASTER_KEY: &str =
    "5b1e0f3c9a7d24e68c0b1f2a3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f61";

/// A `verity serve` process of the binary under test.
pub(crate) struct ServerProcess {
    pub(crate) child: ChildGuard,
    pub(crate) base: String,
    /// What the first start printed (empty on a later start).
    pub(crate) stdout_lines: Vec<String>,
}

pub(crate) fn start_server(data_dir: &std::path::Path, database_url: &str) -> ServerProcess {
    start_server_with(data_dir, database_url, &[])
}

/// `verity serve` with extra environment variables.
pub(crate) fn start_server_with(
    data_dir: &std::path::Path,
    database_url: &str,
    env: &[(&str, &str)],
) -> ServerProcess {
    let port = free_port();
    let mut command = Command::new(env!("CARGO_BIN_EXE_verity"));
    command.envs(env.iter().copied());
    let mut child = command
        .args(["serve", "--data-dir"])
        .arg(data_dir)
        .env("VERITY_LISTEN", format!("127.0.0.1:{port}"))
        .env("VERITY_DATABASE_URL", database_url)
        .env("VERITY_MASTER_KEY", MASTER_KEY)
        .env("VERITY_WEBHOOKS__ALLOW_HTTP", "true")
        .env("VERITY_WEBHOOKS__ALLOW_PRIVATE", "127.0.0.0/8")
        .env("VERITY_WEBHOOKS__TIMEOUT_SECONDS", "1")
        .env("VERITY_WEBHOOKS__RETRY_DELAYS_SECONDS", "[1, 1, 1, 1]")
        .env("VERITY_WEBHOOKS__POLL_INTERVAL_MS", "100")
        .env("VERITY_WEBHOOKS__PER_DESTINATION_CONCURRENCY", "4")
        .env("VERITY_RATE_LIMITS__ENABLED", "false")
        .env("VERITY_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("verity serve starts");
    let stdout = child.stdout.take().unwrap();
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    // The banner (first start only) is printed before this line.
    let deadline = Instant::now() + Duration::from_secs(60);
    while !lines
        .lock()
        .unwrap()
        .iter()
        .any(|l| l.starts_with("Verity listening"))
    {
        assert!(Instant::now() < deadline, "verity serve did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    let stdout_lines = lines.lock().unwrap().clone();
    ServerProcess {
        child: ChildGuard(child),
        base: format!("http://127.0.0.1:{port}"),
        stdout_lines,
    }
}

/// The first application's API key and default workflow from the first-start banner.
fn first_credentials(server: &ServerProcess) -> (String, String) {
    let value = |label: &str| {
        server
            .stdout_lines
            .iter()
            .find(|l| l.trim_start().starts_with(label))
            .and_then(|l| l.split_whitespace().last())
            .unwrap_or_else(|| panic!("no {label} in {:?}", server.stdout_lines))
            .to_owned()
    };
    (value("API key"), value("default workflow id"))
}

async fn call(base: &str, key: &str, path: &str, body: Value) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .header("x-api-key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "{path}: {}",
        response.status()
    );
    response.json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_dispatch_loses_no_event() {
    let data_dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", data_dir.path().join("verity.db").display());
    // Each answer takes 300 ms, so deliveries are in flight when the server is killed.
    let receiver = Receiver::start(&[], None, Duration::from_millis(300)).await;
    let mut server = start_server(data_dir.path(), &database_url);
    let (key, workflow) = first_credentials(&server);
    call(
        &server.base,
        &key,
        "/v3/webhook/destinations/",
        json!({"url": receiver.url}),
    )
    .await;
    for n in 0..30 {
        call(
            &server.base,
            &key,
            "/v3/session/",
            json!({"workflow_id": workflow, "vendor_data": format!("kill-{n}")}),
        )
        .await;
    }
    eventually("some deliveries under way", || async {
        !receiver.hits().is_empty()
    })
    .await;
    server.child.0.kill().expect("SIGKILL"); // Child::kill sends SIGKILL on Unix.
    server.child.0.wait().unwrap();
    let before_restart = receiver.event_ids().len();
    assert!(
        before_restart < 30,
        "the kill came too late to test anything"
    );
    let _restarted = start_server(data_dir.path(), &database_url);
    for _ in 0..300 {
        if receiver.event_ids().len() == 30 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        receiver.event_ids().len(),
        30,
        "every event delivered at least once after the restart (had {before_restart} before)"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_deliver_each_event_once() {
    let (admin, name, database_url) = create_postgres_database().await;
    let receiver = Receiver::start(&[], None, Duration::from_millis(5)).await;
    let dir_a = tempfile::tempdir().unwrap();
    let dir_b = tempfile::tempdir().unwrap();
    let a = start_server(dir_a.path(), &database_url);
    let (key, workflow) = first_credentials(&a);
    let b = start_server(dir_b.path(), &database_url);
    assert!(
        !b.stdout_lines.iter().any(|l| l.contains("First start")),
        "the second process joins the first one's database"
    );
    call(
        &a.base,
        &key,
        "/v3/webhook/destinations/",
        json!({"url": receiver.url}),
    )
    .await;
    for n in 0..60 {
        let base = if n % 2 == 0 { &a.base } else { &b.base };
        call(
            base,
            &key,
            "/v3/session/",
            json!({"workflow_id": workflow, "vendor_data": format!("pair-{n}")}),
        )
        .await;
    }
    eventually("all sixty events delivered", || async {
        receiver.event_ids().len() == 60
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver.hits().len(),
        60,
        "each event delivered exactly once by the two dispatchers"
    );
    drop((a, b));
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await;
}
