//! Reviewer corrections (spec §3.10).

use super::session_id;
use crate::error::ApiError;
use crate::extract::{JsonObject, QueryPairs, Tenant};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::Json;
use serde_json::{json, Map, Value};
use verity_domain::corrections::{feature_type, DataUpdate, FeatureStatusUpdate};
use verity_domain::fields::FieldErrors;
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
    correct_data(&state, &tenant, &id, DataUpdate::parse, &query, &body).await
}

#[utoipa::path(patch, path = "/v3/session/{session_id}/update-poa-data/", tag = "sessions",
    security(("api_key" = [])),
    params(("session_id" = String, Path), ("node_id" = Option<String>, Query, description = "The proof-of-address node on workflows with several (also accepted in the body)")),
    request_body(content = Value, description = "Only the fields to change: issuing_state, document_type (UTILITY_BILL | BANK_STATEMENT | GOVERNMENT_ISSUED_DOCUMENT | OTHER_POA_DOCUMENT | UNKNOWN), document_language, issuer, issue_date, poa_address, name_on_document, extra_fields (null deletes a key), poa_parsed_address, node_id"),
    responses((status = 200, description = "{session_id, node_id, updated_fields}; a data.updated event and a DATA_UPDATE review are recorded", body = Value),
              (status = 400, description = "Field errors, or no proof-of-address result yet"), (status = 404, description = "Not found")))]
pub async fn update_poa_data(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    query: QueryPairs,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    correct_data(&state, &tenant, &id, DataUpdate::parse_poa, &query, &body).await
}

/// Parses a data-correction body (with the `node_id` of the query string) for its step kind.
type ParseDataUpdate = fn(&Map<String, Value>, Option<&str>) -> Result<DataUpdate, FieldErrors>;

/// Both data corrections: parse the body for its step kind, then edit the stored result.
async fn correct_data(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
    parse: ParseDataUpdate,
    query: &QueryPairs,
    body: &Map<String, Value>,
) -> Result<Json<Value>, ApiError> {
    let id = session_id(id)?;
    state.store.session(tenant.app.id, id).await?;
    let update = parse(body, query.get("node_id"))?;
    let (node_id, changed) = state
        .store
        .update_node_data(tenant.app.id, id, &update, API_CLIENT)
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
