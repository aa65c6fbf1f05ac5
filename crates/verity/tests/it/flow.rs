//! The hosted flow's JSON API: session-token authentication, start, uploads and their
//! refusals, submit, status, and the media the decision links to.

use crate::helpers::{field_list, sample_png, spawn_app};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

fn code(body: &Value) -> &str {
    body["code"]
        .as_str()
        .unwrap_or_else(|| panic!("no code in {body}"))
}

#[tokio::test]
async fn tokens_authenticate_and_expired_links_are_gone() {
    let app = spawn_app().await;
    let (status, body) = app.request(Method::GET, "/flow/session/", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(code(&body), "session_token_missing");
    let (status, body) = app.flow(Method::GET, "/flow/session/", "nope", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(code(&body), "session_not_found");
    // An API key is not a session token.
    let (status, _) = app
        .flow(Method::GET, "/flow/session/", &app.live.api_key, None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let created = app
        .create_session(json!({"callback": "https://example.org/done", "language": "es"}))
        .await;
    let token = created["session_token"].as_str().unwrap();
    let (status, state) = app.flow(Method::GET, "/flow/session/", token, None).await;
    assert_eq!(status, StatusCode::OK, "{state}");
    assert_eq!(state["status"], "Not Started");
    assert_eq!(state["environment"], "live");
    assert_eq!(state["language"], "es");
    assert_eq!(state["callback"], "https://example.org/done");
    assert_eq!(state["callback_method"], "initiator");
    assert!(state["organization"]["name"].is_string());
    assert!(state["application"]["name"].is_string());
    let steps = field_list(&state["steps"], "feature");
    assert_eq!(steps, ["OCR", "LIVENESS", "FACE_MATCH"]);
    assert_eq!(
        state["steps"][0]["captures"][0],
        json!({"kind": "document_front", "required": true, "accepts": ["image/jpeg", "image/png", "image/webp"], "max_bytes": 5242880})
    );
    assert_eq!(state["steps"][1]["liveness_method"], "PASSIVE");
    assert!(state["sandbox"].is_null());

    let id = created["session_id"].as_str().unwrap();
    app.execute_sql("UPDATE sessions SET expires_at = 1 WHERE id = $1", &[id])
        .await;
    let (status, body) = app.flow(Method::GET, "/flow/session/", token, None).await;
    assert_eq!(status, StatusCode::GONE);
    assert_eq!(code(&body), "session_expired");
}

#[tokio::test]
async fn start_is_idempotent_and_writes_one_event() {
    let app = spawn_app().await;
    let created = app.create_session(json!({})).await;
    let token = created["session_token"].as_str().unwrap();
    for _ in 0..3 {
        let (status, state) = app
            .flow(Method::POST, "/flow/session/start/", token, None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(state["status"], "In Progress");
    }
    let id = created["session_id"].as_str().unwrap();
    let statuses = app.event_statuses(id, &app.live.api_key).await;
    assert_eq!(statuses, ["Not Started", "In Progress"]);
}

#[tokio::test]
async fn uploads_are_checked_and_refused_with_codes() {
    let app = spawn_app().await;
    let created = app.create_session(json!({})).await;
    let token = created["session_token"].as_str().unwrap();
    let upload = |kind: &'static str, bytes: Vec<u8>| {
        let app = &app;
        async move {
            app.flow(
                Method::POST,
                &format!("/flow/session/captures/{kind}/"),
                token,
                Some(bytes),
            )
            .await
        }
    };
    let (status, body) = upload("selfie", sample_png(8, 8, 1)).await;
    assert_eq!(status, StatusCode::CONFLICT, "not started yet");
    assert_eq!(code(&body), "session_not_in_progress");
    app.flow(Method::POST, "/flow/session/start/", token, None)
        .await;

    let cases: Vec<(&str, Vec<u8>, StatusCode, &str)> = vec![
        (
            "selfie",
            b"GIF89a\x01\x00\x01\x00".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
        ),
        (
            "selfie",
            b"%PDF-1.4 not an image".to_vec(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_file_type",
        ),
        (
            "document_front",
            vec![],
            StatusCode::BAD_REQUEST,
            "empty_upload",
        ),
        (
            "document_front",
            {
                let mut big = sample_png(8, 8, 1);
                big.resize(5 * 1024 * 1024 + 10, 0);
                big
            },
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
        ),
        (
            "document_front",
            vec![0xFF; 16 * 1024 * 1024],
            StatusCode::PAYLOAD_TOO_LARGE,
            "file_too_large",
        ),
        // A 60-byte PNG header claiming 100000×100000 pixels: refused from the header alone.
        (
            "document_front",
            {
                let mut png = sample_png(1, 1, 1);
                png[16..20].copy_from_slice(&100_000u32.to_be_bytes());
                png[20..24].copy_from_slice(&100_000u32.to_be_bytes());
                png
            },
            StatusCode::PAYLOAD_TOO_LARGE,
            "image_dimensions_too_large",
        ),
        (
            "passport_photo",
            sample_png(8, 8, 1),
            StatusCode::BAD_REQUEST,
            "unknown_capture_kind",
        ),
        (
            "poa_document",
            sample_png(8, 8, 1),
            StatusCode::BAD_REQUEST,
            "capture_not_needed",
        ),
    ];
    for (kind, bytes, expected, expected_code) in cases {
        let (status, body) = upload(kind, bytes).await;
        assert_eq!(status, expected, "{kind}: {body}");
        assert_eq!(code(&body), expected_code, "{kind}");
        assert!(body["detail"].is_string());
    }
    let (status, body) = app
        .flow(Method::POST, "/flow/session/submit/", token, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(code(&body), "missing_captures");
    assert!(
        body["detail"].as_str().unwrap().contains("document_front"),
        "{body}"
    );

    let png = sample_png(32, 24, 9);
    let (status, stored) = upload("document_front", png.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{stored}");
    assert_eq!(
        (stored["width"].as_u64(), stored["height"].as_u64()),
        (Some(32), Some(24))
    );
    // The media route serves it to the session's application only.
    let id = created["session_id"].as_str().unwrap();
    let response = app
        .client
        .get(format!(
            "{}/v3/session/{id}/media/document_front/",
            app.base
        ))
        .header("x-api-key", &app.live.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.bytes().await.unwrap().to_vec(), png);
    let (status, _) = app
        .get(
            &format!("/v3/session/{id}/media/document_front/"),
            &app.sandbox.api_key,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .get(
            &format!("/v3/session/{id}/media/selfie/"),
            &app.live.api_key,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn submit_is_idempotent_and_status_follows_the_decision() {
    let app = spawn_app().await;
    let (_, created) = app
        .post(
            "/v3/session/",
            &app.sandbox.api_key,
            json!({"workflow_id": app.sandbox.default_workflow_id, "callback": "https://example.org/back?x=1"}),
        )
        .await;
    let token = created["session_token"].as_str().unwrap();
    let (_, state) = app.flow(Method::GET, "/flow/session/", token, None).await;
    assert_eq!(state["sandbox"]["scenario"], "approve");
    assert!(state["sandbox"]["banner"]
        .as_str()
        .unwrap()
        .contains("Test mode"));
    let first = app.run_flow(token).await;
    assert_eq!(first["enqueued"], true);
    let (status, again) = app
        .flow(Method::POST, "/flow/session/submit/", token, None)
        .await;
    assert!(
        status == StatusCode::ACCEPTED || status == StatusCode::OK,
        "{again}"
    );
    assert_ne!(
        again["enqueued"], true,
        "a repeat never enqueues a second job"
    );
    assert_eq!(app.wait_decided(token).await, "Approved");
    let (status, after) = app
        .flow(Method::POST, "/flow/session/submit/", token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(after["status"], "Approved");
    let (_, polled) = app
        .flow(Method::GET, "/flow/session/status/", token, None)
        .await;
    assert_eq!(polled["processing"]["state"], "done");
    let id = created["session_id"].as_str().unwrap();
    assert_eq!(
        polled["callback_url"],
        format!("https://example.org/back?x=1&verificationSessionId={id}&status=Approved")
    );
    let statuses = app.event_statuses(id, &app.sandbox.api_key).await;
    assert_eq!(statuses, ["Not Started", "In Progress", "Approved"]);
}
