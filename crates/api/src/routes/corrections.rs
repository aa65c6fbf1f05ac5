//! Reviewer corrections (spec §3.10).

use super::session_id;
use crate::error::ApiError;
use crate::extract::{JsonObject, QueryPairs, Tenant};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Value};
use verity_domain::corrections::{feature_type, DataUpdate, FeatureStatusUpdate};
use verity_domain::review::API_CLIENT;

#[utoipa::path(patch, path = "/v3/session/{session_id}/update-data/", tag = "sessions",
    security(("api_key" = [])),
    params(("session_id" = String, Path), ("node_id" = Option<String>, Query, description = "The ID verification node on multi-OCR workflows (also accepted in the body)")),
    request_body(content = Value, description = "Only the fields to change: document_type, document_subtype, document_number, personal_number, date_of_birth, date_of_issue, expiration_date, issuing_state, first_name, last_name, gender, address, place_of_birth, nationality, marital_status, extra_fields (null deletes a key), parsed_address, node_id"),
    responses((status = 200, description = "{session_id, node_id, updated_fields}; a data.updated event and a DATA_UPDATE review are recorded", body = Value),
              (status = 400, description = "Field errors, or no ID verification result yet"), (status = 404, description = "Not found")))]
pub async fn update_data(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    query: QueryPairs,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let id = session_id(&id)?;
    state.store.session(tenant.app.id, id).await?;
    let update = DataUpdate::parse(&body, query.get("node_id"))?;
    let (node_id, changed) = state
        .store
        .update_document_data(tenant.app.id, id, &update, API_CLIENT)
        .await?;
    Ok(Json(
        json!({"session_id": id, "node_id": node_id, "updated_fields": changed}),
    ))
}

#[utoipa::path(patch, path = "/v3/session/{session_id}/features/{node_id}/update-status/", tag = "sessions",
    security(("api_key" = [])),
    params(("session_id" = String, Path), ("node_id" = String, Path, description = "A node of the session's workflow, or `default` for its first node")),
    request_body(content = Value, description = "{new_status: Approved | Declined | In Review, comment?}"),
    responses((status = 200, description = "{session_id, node_id, feature_type, previous_status, new_status, session_status}", body = Value),
              (status = 400, description = "Invalid status, or the session is not decided"), (status = 404, description = "Not found")))]
pub async fn update_feature_status(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((id, node_id)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let id = session_id(&id)?;
    state.store.session(tenant.app.id, id).await?;
    let update = FeatureStatusUpdate::parse(&body)?;
    let change = state
        .store
        .update_feature_status(tenant.app.id, id, &node_id, &update, API_CLIENT)
        .await?;
    Ok(Json(json!({
        "session_id": id,
        "node_id": change.node_id,
        "feature_type": feature_type(change.feature),
        "previous_status": change.previous.as_str(),
        "new_status": update.new_status.as_str(),
        "session_status": change.session_status,
    })))
}
