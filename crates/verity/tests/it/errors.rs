use crate::helpers::{spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn malformed_and_non_object_bodies_are_400() {
    let app = spawn_app().await;
    let response = app
        .client
        .post(format!("{}/v3/session/", app.base))
        .header("x-api-key", &app.live.api_key)
        .header("content-type", "application/json")
        .body("{\"workflow_id\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("JSON parse error"),
        "{body}"
    );

    let (status, body) = app
        .post("/v3/session/", &app.live.api_key, json!([1, 2]))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
    );
}

#[tokio::test]
async fn oversize_bodies_are_413_with_a_json_detail() {
    let app = spawn_app_with(|config| config.max_body_bytes = 4096).await;
    let big = "x".repeat(10_000);
    let (status, body) = app
        .post(
            "/v3/session/",
            &app.live.api_key,
            json!({"workflow_id": app.live.default_workflow_id, "vendor_data": big}),
        )
        .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(body["detail"].as_str().unwrap().contains("4096"), "{body}");
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_json() {
    let app = spawn_app().await;
    let (status, body) = app.get("/v3/nothing-here/", &app.live.api_key).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"detail": "Not found."}));
    let (status, body) = app
        .request(
            Method::PUT,
            "/v3/session/",
            Some(&app.live.api_key),
            Some(json!({})),
        )
        .await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(body, json!({"detail": "Method \"PUT\" not allowed."}));
    let (status, _) = app
        .get("/v3/session/not-a-uuid/decision/", &app.live.api_key)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn rate_limits_answer_429_with_headers() {
    let app = spawn_app_with(|config| {
        config.rate_limits.generic_get = 3;
        config.rate_limits.session_create = 1;
    })
    .await;
    for _ in 0..3 {
        let (status, _) = app.get("/v3/workflows/", &app.live.api_key).await;
        assert_eq!(status, StatusCode::OK);
    }
    let response = app
        .client
        .get(format!("{}/v3/workflows/", app.base))
        .header("x-api-key", &app.live.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let headers = response.headers().clone();
    for name in [
        "retry-after",
        "x-ratelimit-limit",
        "x-ratelimit-remaining",
        "x-ratelimit-reset",
    ] {
        assert!(headers.contains_key(name), "missing {name}");
    }
    assert_eq!(headers["x-ratelimit-limit"], "3");
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .starts_with("Request was throttled"));
    // Another key has its own budget, and the session-create scope stacks on generic-write.
    let (status, _) = app.get("/v3/workflows/", &app.sandbox.api_key).await;
    assert_eq!(status, StatusCode::OK);
    app.create_session(json!({})).await;
    let (status, _) = app
        .post(
            "/v3/session/",
            &app.live.api_key,
            json!({"workflow_id": app.live.default_workflow_id}),
        )
        .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    // Health checks are never limited and need no key.
    for _ in 0..5 {
        let (status, body) = app
            .request(Method::GET, "/system/healthcheck", None, None)
            .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body["status"], "ok");
    }
}

#[tokio::test]
async fn openapi_documents_every_route() {
    let app = spawn_app().await;
    let (status, document) = app.request(Method::GET, "/openapi.json", None, None).await;
    assert_eq!(status, StatusCode::OK);
    let paths = document["paths"].as_object().unwrap();
    let expected = [
        ("/system/healthcheck", "get"),
        ("/v3/session/", "post"),
        ("/v3/session/{session_id}/", "get"),
        ("/v3/session/{session_id}/decision/", "get"),
        ("/v3/sessions/", "get"),
        ("/v3/session/{session_id}/update-status/", "patch"),
        ("/v3/session/{session_id}/delete/", "delete"),
        ("/v3/sessions/delete/", "post"),
        ("/v3/sessions/{session_id}/reviews/", "get"),
        ("/v3/sessions/{session_id}/reviews/", "post"),
        ("/v3/session/{session_id}/events/", "get"),
        ("/v3/workflows/", "get"),
        ("/v3/workflows/", "post"),
        ("/v3/workflows/{settings_uuid}/", "get"),
        ("/v3/workflows/{settings_uuid}/", "patch"),
        ("/v3/workflows/{settings_uuid}/", "delete"),
        ("/auth/v2/token/", "post"),
        ("/auth/v2/introspect/", "post"),
        ("/auth/config/jwks/", "get"),
        ("/auth/v2/programmatic/register/", "post"),
        ("/auth/v2/programmatic/verify-email/", "post"),
        ("/auth/v2/programmatic/resend-otp/", "post"),
        ("/auth/v2/programmatic/login/", "post"),
        ("/auth/v2/organizations/me/", "get"),
        ("/auth/v2/organizations/me/{org_id}/applications/", "get"),
        ("/auth/v2/organizations/me/{org_id}/applications/", "post"),
        (
            "/auth/v2/organizations/me/{org_id}/applications/{app_id}/",
            "get",
        ),
        (
            "/auth/v2/organizations/me/{org_id}/applications/{app_id}/",
            "patch",
        ),
        ("/v1/session/", "post"),
        ("/v1/session/{session_id}/decision/", "get"),
        ("/v1/session/{session_id}/update-status/", "patch"),
        ("/v2/session/", "post"),
        ("/v2/session/{session_id}/decision/", "get"),
        ("/v3/session/{session_id}/generate-pdf/", "get"),
        ("/v1/session/{session_id}/generate-pdf/", "get"),
        ("/v3/webhook/destinations/", "get"),
        ("/v3/webhook/destinations/", "post"),
        ("/v3/webhook/destinations/{destination_uuid}/", "get"),
        ("/v3/webhook/destinations/{destination_uuid}/", "patch"),
        ("/v3/webhook/destinations/{destination_uuid}/", "delete"),
        ("/v3/webhook/destinations/{destination_uuid}/test/", "post"),
        ("/v3/webhook/", "get"),
        ("/v3/webhook/", "patch"),
        ("/v3/session/{session_id}/webhooks/", "get"),
        ("/v3/session/{session_id}/webhook/{webhook_uuid}", "get"),
        (
            "/v3/session/{session_id}/webhook/{webhook_uuid}/resend/",
            "post",
        ),
        ("/auth/v2/session/", "post"),
        ("/auth/v2/session/{session_id}/status/", "get"),
        ("/auth/v2/session/{session_id}/decision/", "get"),
        ("/auth/v2/session/{session_id}/media/{name}/", "get"),
        ("/v3/session/{session_id}/media/{name}/", "get"),
        ("/v3/session/{session_id}/update-data/", "patch"),
        ("/v3/session/{session_id}/update-poa-data/", "patch"),
        ("/v3/customization/", "get"),
        ("/v3/customization/", "patch"),
        ("/branding/{application_id}/{name}", "get"),
        (
            "/v3/session/{session_id}/features/{node_id}/update-status/",
            "patch",
        ),
        ("/v3/session/{session_id}/update-aml-hit-status/", "patch"),
        (
            "/v3/session/{session_id}/bulk-update-aml-hit-status/",
            "patch",
        ),
        ("/v3/aml/", "post"),
        ("/v3/aml/datasets/", "get"),
        ("/v3/aml/{request_id}/", "get"),
        ("/v1/sandbox/scenarios/", "get"),
        ("/v3/session/{session_id}/sandbox/arm/", "post"),
        ("/flow/session/", "get"),
        ("/flow/session/start/", "post"),
        ("/flow/session/captures/{kind}/", "post"),
        ("/flow/session/submit/", "post"),
        ("/flow/session/status/", "get"),
        ("/flow/session/liveness/challenge/", "post"),
        ("/flow/session/liveness/frames/", "post"),
        ("/v3/blocklist/add/", "post"),
        ("/v3/blocklist/remove/", "post"),
        ("/v3/blocklist/", "get"),
        ("/v3/id-verification/", "post"),
        ("/v3/passive-liveness/", "post"),
        ("/v3/face-match/", "post"),
        ("/v3/face-search/", "post"),
        ("/v3/age-estimation/", "post"),
    ];
    for (path, method) in expected {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} undocumented"
        );
    }
    let documented: usize = paths.values().map(|p| p.as_object().unwrap().len()).sum();
    assert_eq!(
        documented,
        expected.len(),
        "a route was added without a test here"
    );
    assert!(document["components"]["securitySchemes"]["api_key"].is_object());
    assert!(document["components"]["securitySchemes"]["bearer"].is_object());
}
