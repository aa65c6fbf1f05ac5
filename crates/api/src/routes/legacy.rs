//! The older API generations: v1 (OAuth Bearer tokens, seeds 001/002) and v2 (`x-api-key`,
//! singular decision keys). Both are views over the same sessions and results as v3.

use super::sessions::{apply_manual_status, create, decision_inputs};
use crate::error::ApiError;
use crate::extract::{BearerTenant, JsonObject, Tenant};
use crate::openapi::{CreateSessionRequest, V1CreateSessionRequest, V1UpdateStatusRequest};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use verity_domain::fields::{not_a_choice, FieldErrors, ObjectReader};
use verity_domain::ids::WorkflowId;
use verity_domain::legacy::{v1_decision, v1_features_label, v1_features_to_workflow, v2_decision};
use verity_domain::session::{CallbackMethod, NewSession};
use verity_domain::workflow::{WorkflowSettings, WorkflowType};

#[utoipa::path(post, path = "/v1/session/", tag = "v1", security(("bearer" = [])),
    request_body = V1CreateSessionRequest,
    responses((status = 201, description = "session_id, session_number, session_token, vendor_data, status, callback, url, features", body = Value),
              (status = 400, description = "Validation error", body = Value),
              (status = 401, description = "Invalid or expired token"), (status = 403, description = "No token")))]
pub async fn v1_create_session(
    State(state): State<AppState>,
    BearerTenant(tenant): BearerTenant,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let mut reader = ObjectReader::new(&body);
    let callback = reader.value("callback").cloned();
    let features = reader.string("features", 64);
    let vendor_data = reader.value("vendor_data").cloned();
    let mut errors = reader.finish();
    let feature_list = features.as_deref().and_then(|text| {
        let parsed = v1_features_to_workflow(text);
        if parsed.is_none() {
            errors.add("features", not_a_choice(text));
        }
        parsed
    });
    errors.into_result(())?;

    let workflow_id: WorkflowId = match (&features, feature_list) {
        (Some(text), Some(list)) => {
            let label = format!("v1: {text}");
            let settings = WorkflowSettings::from_features(&label, WorkflowType::Kyc, &list);
            state
                .store
                .legacy_workflow(tenant.app.id, &label, &settings)
                .await?
                .workflow_id
        }
        _ => state
            .store
            .default_workflow_id(tenant.app.id)
            .await?
            .ok_or_else(|| {
                FieldErrors::single(
                    "features",
                    "The application has no default workflow; send features.",
                )
            })?,
    };
    // The remaining fields go through the same parser as v3, so they are checked identically.
    let mut v3_body = serde_json::Map::new();
    v3_body.insert("workflow_id".into(), json!(workflow_id));
    if let Some(callback) = callback {
        v3_body.insert("callback".into(), callback);
    }
    if let Some(vendor_data) = vendor_data {
        v3_body.insert("vendor_data".into(), vendor_data);
    }
    let input = NewSession::parse(&v3_body)?;
    debug_assert_eq!(input.callback_method, CallbackMethod::Initiator);
    super::sessions::check_callback(&state, &tenant.app, input.callback.as_deref()).await?;
    let (session, _) = state.store.create_session(&tenant.app, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "session_id": session.id,
            "session_number": session.number,
            "session_token": session.token.as_str(),
            "vendor_data": session.vendor_data,
            "status": session.status,
            "callback": session.callback,
            "url": session.url(state.public_url()),
            "features": v1_features_label(&session),
        })),
    ))
}

#[utoipa::path(get, path = "/v1/session/{session_id}/decision/", tag = "v1", security(("bearer" = [])),
    params(("session_id" = String, Path)),
    responses((status = 200, description = "The v1 decision (kyc, aml, face, location, warnings, reviews)", body = Value),
              (status = 404, description = "Not found")))]
pub async fn v1_get_decision(
    State(state): State<AppState>,
    BearerTenant(tenant): BearerTenant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (session, results, reviews) = decision_inputs(&state, &tenant, &id).await?;
    Ok(Json(v1_decision(
        &session,
        &results,
        &reviews,
        state.public_url(),
    )))
}

#[utoipa::path(patch, path = "/v1/session/{session_id}/update-status/", tag = "v1", security(("bearer" = [])),
    params(("session_id" = String, Path)), request_body = V1UpdateStatusRequest,
    responses((status = 200, description = "{\"session_id\": …}", body = Value),
              (status = 400, description = "Wrong Current Status or validation error", body = Value),
              (status = 404, description = "Not found")))]
pub async fn v1_update_status(
    State(state): State<AppState>,
    BearerTenant(tenant): BearerTenant,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    apply_manual_status(&state, &tenant, &id, &body, false).await
}

#[utoipa::path(post, path = "/v2/session/", tag = "v2", security(("api_key" = [])),
    request_body = CreateSessionRequest,
    responses((status = 201, description = "As POST /v3/session/", body = Value), (status = 400, description = "Validation error", body = Value)))]
pub async fn v2_create_session(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    create(&state, &tenant, &body).await
}

#[utoipa::path(get, path = "/v2/session/{session_id}/decision/", tag = "v2", security(("api_key" = [])),
    params(("session_id" = String, Path)),
    responses((status = 200, description = "The v2 decision: singular keys, the first entry of each v3 array", body = Value),
              (status = 404, description = "Not found")))]
pub async fn v2_get_decision(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (session, results, reviews) = decision_inputs(&state, &tenant, &id).await?;
    Ok(Json(v2_decision(
        &session,
        &results,
        &reviews,
        state.public_url(),
    )))
}
