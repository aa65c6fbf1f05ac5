//! Hardening of the HTTP surface (issue 26, item 7): client addresses behind trusted proxies,
//! callback schemes, the standalone face APIs' decode cap, request timeouts and the cap on
//! webhook destinations.

use crate::helpers::{form, spawn_app, spawn_app_with, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use verity_domain::account::ApplicationMetadata;

/// Unknown session tokens a client may try per minute (`routes/flow.rs`).
const UNKNOWN_TOKENS_PER_MINUTE: usize = 60;

/// A hosted-flow request with an unknown token, as if from `client` (`X-Forwarded-For`).
async fn unknown_token_from(app: &TestApp, client: &str) -> StatusCode {
    app.client
        .get(format!("{}/flow/session/", app.base))
        .header("x-session-token", "not-a-session-token")
        .header("x-forwarded-for", client)
        .send()
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn forwarded_for_names_the_client_only_behind_a_trusted_proxy() {
    for trusted in [false, true] {
        let app = spawn_app_with(|config| {
            if trusted {
                config.http.trusted_proxies = vec!["127.0.0.1".into()];
            }
        })
        .await;
        for _ in 0..UNKNOWN_TOKENS_PER_MINUTE {
            assert_eq!(
                unknown_token_from(&app, "198.51.100.7").await,
                StatusCode::NOT_FOUND
            );
        }
        assert_eq!(
            unknown_token_from(&app, "198.51.100.7").await,
            StatusCode::TOO_MANY_REQUESTS
        );
        // Behind a trusted proxy another client has its own budget; otherwise the header is
        // ignored and every request is the peer's.
        let other = unknown_token_from(&app, "203.0.113.20").await;
        let expected = if trusted {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::TOO_MANY_REQUESTS
        };
        assert_eq!(other, expected, "trusted proxy: {trusted}");
    }
}

async fn create_with_callback(app: &TestApp, callback: &str) -> (StatusCode, Value) {
    app.post(
        "/v3/session/",
        &app.live.api_key,
        json!({"workflow_id": app.live.default_workflow_id, "callback": callback}),
    )
    .await
}

#[tokio::test]
async fn custom_scheme_callbacks_need_the_applications_redirect_uris() {
    let app = spawn_app().await;
    let launcher = "ms-msdt:/id%20PCWDiagnostic";
    let intent = "intent://scan/#Intent;scheme=zxing;end";
    for callback in [launcher, intent, "http://shop.example/done"] {
        let (status, body) = create_with_callback(&app, callback).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{callback}: {body}");
        assert!(body["callback"][0].is_string(), "{callback}: {body}");
    }
    for callback in ["https://shop.example/done", "http://localhost:3000/done"] {
        let (status, body) = create_with_callback(&app, callback).await;
        assert_eq!(status, StatusCode::CREATED, "{callback}: {body}");
    }
    // v1 sessions go through the same rule.
    let token = app.client_token(&app.live).await;
    let (status, body) = app
        .bearer(
            Method::POST,
            "/v1/session/",
            &token,
            Some(json!({"callback": intent})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["callback"][0].is_string(), "{body}");

    // Once the application registers the scheme, its deep links are accepted; other schemes
    // still are not.
    let live = app.store.application(app.live.id).await.unwrap();
    let metadata = ApplicationMetadata {
        redirect_uris: vec!["intent://scan/".into()],
        ..ApplicationMetadata::named("Live")
    };
    app.store
        .update_application_metadata(live.organization_id, live.id, &metadata)
        .await
        .unwrap();
    let (status, body) = create_with_callback(&app, intent).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = create_with_callback(&app, launcher).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
}

/// The face models' directory and test portrait, or `None` (the test is skipped) without them.
fn face_models() -> Option<(PathBuf, PathBuf)> {
    let models = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../models");
    let portrait = models.join("face/testdata/astronaut.png");
    if portrait.exists() {
        Some((models, portrait))
    } else {
        eprintln!("SKIPPED: face models not found (run scripts/fetch-models)");
        None
    }
}

#[tokio::test]
async fn standalone_face_calls_beyond_the_decode_cap_are_shed_with_retry_after() {
    let Some((models, portrait)) = face_models() else {
        return;
    };
    let app = spawn_app_with(move |config| {
        config.engines.models_dir = models;
        config.engines.standalone_face_concurrency = 1;
        config.engines.standalone_face_wait_ms = 0;
    })
    .await;
    let image = std::fs::read(portrait).unwrap();
    let calls = (0..6).map(|_| {
        app.client
            .post(format!("{}/v3/passive-liveness/", app.base))
            .header("x-api-key", &app.live.api_key)
            .multipart(form(&[("user_image", &image)], &[]))
            .send()
    });
    let answers = futures::future::join_all(calls).await;
    let mut shed = 0;
    for answer in answers {
        let answer = answer.unwrap();
        match answer.status() {
            StatusCode::OK => {}
            StatusCode::SERVICE_UNAVAILABLE => {
                assert!(answer.headers().contains_key("retry-after"));
                let body: Value = answer.json().await.unwrap();
                assert!(body["detail"].is_string(), "{body}");
                shed += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(
        shed > 0,
        "one decode at a time and no wait: concurrent calls are shed"
    );
}

/// Writes `request` on a new connection and reads until the server closes it.
async fn raw_exchange(app: &TestApp, request: &str) -> String {
    let address = app.base.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    // Only a guard against a server that never closes (the failure this test looks for).
    tokio::time::timeout(Duration::from_secs(20), stream.read_to_end(&mut answer))
        .await
        .expect("the server closed the stalled connection")
        .unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn stalled_headers_and_bodies_are_cut_off() {
    let app = spawn_app_with(|config| {
        config.http.header_timeout_seconds = 1;
        config.http.request_timeout_seconds = 1;
    })
    .await;
    // Headers but only the first byte of the announced body: 408, then the connection closes.
    let request = format!(
        "POST /v3/session/ HTTP/1.1\r\nhost: verity\r\nx-api-key: {}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{",
        app.live.api_key
    );
    let answer = raw_exchange(&app, &request).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("request_timeout"), "{answer}");
    // Half a request line and no headers: the connection is closed without an answer.
    let answer = raw_exchange(&app, "GET /system/healthcheck HTTP/1.1\r\nhost: ver").await;
    assert!(!answer.contains("200 OK"), "{answer}");
}

#[tokio::test]
async fn webhook_destinations_per_application_are_capped() {
    let app = spawn_app_with(|config| {
        config.webhooks.allow_http = true;
        config.webhooks.allow_private = "127.0.0.0/8".into();
        config.webhooks.max_destinations = 2;
    })
    .await;
    let key = &app.live.api_key;
    let create = |n: u16| {
        app.post(
            "/v3/webhook/destinations/",
            key,
            json!({"label": format!("hook {n}"), "url": format!("http://127.0.0.1:{n}/hook")}),
        )
    };
    for n in [9001, 9002] {
        let (status, body) = create(n).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = create(9003).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("at most 2"),
        "{body}"
    );
    // The legacy single-URL destination counts too.
    let (status, body) = app
        .patch(
            "/v3/webhook/",
            key,
            json!({"webhook_url": "http://127.0.0.1:9004/hook"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["detail"].is_string(), "{body}");
    // Deleting one makes room again.
    let (_, list) = app.get("/v3/webhook/destinations/", key).await;
    let first = list["results"][0]["uuid"]
        .as_str()
        .or_else(|| list[0]["uuid"].as_str())
        .unwrap()
        .to_owned();
    let (status, _) = app
        .delete(&format!("/v3/webhook/destinations/{first}/"), key)
        .await;
    assert!(status.is_success(), "{status}");
    let (status, body) = create(9003).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
