use crate::helpers::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::json;

#[tokio::test]
async fn missing_key_is_403_and_bad_key_is_401() {
    let app = spawn_app().await;
    for path in [
        "/v3/sessions/",
        "/v3/workflows/",
        &format!("/v3/session/{}/decision/", uuid::Uuid::new_v4()),
    ] {
        let (status, body) = app.request(Method::GET, path, None, None).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(
            body,
            json!({"detail": "Authentication credentials were not provided."})
        );
        let (status, body) = app
            .request(Method::GET, path, Some("not-a-real-key"), None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{path}");
        assert_eq!(
            body,
            json!({"detail": "Incorrect authentication credentials."})
        );
    }
    let (status, _) = app
        .request(Method::POST, "/v3/session/", Some(""), Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "an empty key is no key");
}

#[tokio::test]
async fn rotated_keys_stop_working_and_secrets_are_stored_as_digests() {
    let app = spawn_app().await;
    let (status, _) = app.get("/v3/workflows/", &app.live.api_key).await;
    assert_eq!(status, StatusCode::OK);
    let new_key = app.store.rotate_api_key(app.live.id).await.unwrap();
    let (status, _) = app.get("/v3/workflows/", &app.live.api_key).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the old key is revoked");
    let (status, _) = app.get("/v3/workflows/", &new_key).await;
    assert_eq!(status, StatusCode::OK);

    // Nothing in the database holds a key or client secret in the clear.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let digests: Vec<String> = sqlx::query_scalar("SELECT digest FROM api_keys")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert!(digests
        .iter()
        .all(|d| d.len() == 64 && d != &new_key && d != &app.live.api_key));
    let sealed: Vec<String> = sqlx::query_scalar("SELECT webhook_secret_sealed FROM applications")
        .fetch_all(&pool)
        .await
        .unwrap();
    let stored_secret = app.store.webhook_secret(app.live.id).await.unwrap();
    assert!(
        sealed.iter().all(|s| s != &stored_secret),
        "webhook secret sealed, not clear"
    );
    pool.close().await;
}
