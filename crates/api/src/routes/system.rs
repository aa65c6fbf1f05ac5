use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};

/// Liveness and database reachability. No authentication, no rate limit (spec §9.5).
#[utoipa::path(get, path = "/system/healthcheck", tag = "system",
    responses((status = 200, description = "Server and database are up", body = Value),
              (status = 503, description = "The database does not answer", body = Value)))]
pub async fn healthcheck(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    if state.store.db.ping().await {
        (
            StatusCode::OK,
            Json(json!({"status": "ok", "database": "ok"})),
        )
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "unavailable", "database": "unreachable"})),
        )
    }
}
