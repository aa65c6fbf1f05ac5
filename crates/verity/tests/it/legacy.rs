//! The v1 API with Bearer client tokens (seeds 001/002) and the v2 API with `x-api-key`.

use crate::helpers::{spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

#[tokio::test]
async fn v1_create_decision_and_update_status_as_the_seeds_show() {
    let app = spawn_app().await;
    let token = app.client_token(&app.live).await;
    let (status, created) = app
        .bearer(
            Method::POST,
            "/v1/session/",
            &token,
            Some(json!({
                "callback": "https://example.com/verification/callback",
                "features": "OCR + NFC + FACE",
                "vendor_data": "your-vendor-data"
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let mut keys: Vec<_> = created.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "callback",
            "features",
            "session_id",
            "session_number",
            "session_token",
            "status",
            "url",
            "vendor_data"
        ]
    );
    assert_eq!(created["features"], "OCR + NFC + FACE");
    assert_eq!(created["status"], "Not Started");
    assert_eq!(
        created["url"],
        format!(
            "{}/session/{}",
            app.base,
            created["session_token"].as_str().unwrap()
        )
    );

    // The same features string shares one workflow; omitting it uses the default (KYC).
    let (_, second) = app
        .bearer(
            Method::POST,
            "/v1/session/",
            &token,
            Some(json!({"features": "OCR + NFC + FACE"})),
        )
        .await;
    let (_, workflows) = app.get("/v3/workflows/", &app.live.api_key).await;
    let v1_workflows = workflows
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["workflow_label"] == "v1: OCR + NFC + FACE")
        .count();
    assert_eq!(v1_workflows, 1);
    assert_eq!(second["features"], "OCR + NFC + FACE");
    let (_, default) = app
        .bearer(Method::POST, "/v1/session/", &token, Some(json!({})))
        .await;
    assert_eq!(default["features"], "OCR + FACE");
    let (status, body) = app
        .bearer(
            Method::POST,
            "/v1/session/",
            &token,
            Some(json!({"features": "FACE"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["features"], json!(["\"FACE\" is not a valid choice."]));

    let id = created["session_id"].as_str().unwrap();
    let (status, decision) = app
        .bearer(
            Method::GET,
            &format!("/v1/session/{id}/decision/"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for key in [
        "session_id",
        "session_number",
        "session_url",
        "status",
        "vendor_data",
        "callback",
        "features",
        "kyc",
        "aml",
        "face",
        "location",
        "warnings",
        "reviews",
        "extra_images",
        "created_at",
    ] {
        assert!(decision.get(key).is_some(), "v1 decision lacks {key}");
    }
    assert_eq!(decision["features"], "OCR + NFC + FACE");
    assert!(
        decision["kyc"].is_null() && decision["face"].is_null(),
        "nothing has run yet"
    );

    let path = format!("/v1/session/{id}/update-status/");
    let (status, body) = app
        .bearer(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"new_status": "Declined", "comment": "Duplicated user"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "Not Started cannot be decided by hand: {body}"
    );
    app.force_status(id, "In Review").await;
    let (status, body) = app
        .bearer(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"new_status": "Resubmitted"})),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "v1 knows only Approved and Declined: {body}"
    );
    let (status, body) = app
        .bearer(
            Method::PATCH,
            &path,
            &token,
            Some(json!({"new_status": "Declined", "comment": "Duplicated user"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"session_id": id}));
    let (_, decision) = app
        .bearer(
            Method::GET,
            &format!("/v1/session/{id}/decision/"),
            &token,
            None,
        )
        .await;
    assert_eq!(decision["status"], "Declined");
    assert_eq!(
        decision["reviews"][0],
        json!({"user": "API Client", "new_status": "Declined", "comment": "Duplicated user",
        "created_at": decision["reviews"][0]["created_at"]})
    );
}

#[tokio::test]
async fn bearer_tokens_that_are_missing_forged_expired_or_foreign_are_refused() {
    let app = spawn_app_with(|config| config.token_ttl_seconds = 1).await;
    let live_token = app.client_token(&app.live).await;
    let sandbox_token = app.client_token(&app.sandbox).await;
    let (_, created) = app
        .bearer(Method::POST, "/v1/session/", &live_token, Some(json!({})))
        .await;
    let decision = format!(
        "/v1/session/{}/decision/",
        created["session_id"].as_str().unwrap()
    );

    let (status, _) = app.request(Method::GET, &decision, None, None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, body) = app.bearer(Method::GET, &decision, "not.a.jwt", None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert!(body["detail"].is_string());
    let mut forged = live_token.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let (status, _) = app.bearer(Method::GET, &decision, &forged, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .bearer(Method::GET, &decision, &sandbox_token, None)
        .await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "another application's session"
    );
    // API keys are not Bearer tokens, and tokens are not API keys.
    let (status, _) = app
        .bearer(Method::GET, &decision, &app.live.api_key, None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app
        .get(
            &format!(
                "/v3/session/{}/decision/",
                created["session_id"].as_str().unwrap()
            ),
            &live_token,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, _) = app.bearer(Method::GET, &decision, &live_token, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "expired");
}

#[tokio::test]
async fn v2_uses_api_keys_and_singular_decision_keys() {
    let app = spawn_app().await;
    let (status, created) = app
        .post(
            "/v2/session/",
            &app.live.api_key,
            json!({"workflow_id": app.live.default_workflow_id, "vendor_data": "v2-user"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["session_id"].as_str().unwrap();
    let (status, decision) = app
        .get(&format!("/v2/session/{id}/decision/"), &app.live.api_key)
        .await;
    assert_eq!(status, StatusCode::OK);
    for key in [
        "id_verification",
        "nfc",
        "liveness",
        "face_match",
        "phone",
        "email",
        "poa",
        "aml",
        "ip_analysis",
        "database_validation",
    ] {
        assert_eq!(decision[key], Value::Null, "{key}");
    }
    assert!(
        decision.get("id_verifications").is_none(),
        "no plural arrays in v2"
    );
    assert_eq!(decision["vendor_data"], "v2-user");
    let (status, _) = app
        .get(&format!("/v2/session/{id}/decision/"), &app.sandbox.api_key)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}
