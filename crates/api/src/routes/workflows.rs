//! Workflows (spec §7): storage and API. Every change is a new version; sessions stay pinned.

use crate::error::ApiError;
use crate::extract::{JsonObject, Page, QueryPairs, Tenant};
use crate::openapi::WorkflowRequest;
use crate::state::AppState;
use crate::views;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::Value;
use verity_domain::session::Environment;
use verity_domain::workflow::{parse_workflow_body, Feature, Publication, WorkflowSettings};
use verity_domain::FieldErrors;

#[utoipa::path(get, path = "/v3/workflows/", tag = "workflows", security(("api_key" = [])),
    params(("limit" = Option<i64>, Query, description = "When limit or offset is given the answer is paginated"),
           ("offset" = Option<i64>, Query)),
    responses((status = 200, description = "Latest version of every workflow, newest first", body = Value)))]
pub async fn list_workflows(
    State(state): State<AppState>,
    tenant: Tenant,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let workflows = state.store.list_workflows(tenant.app.id).await?;
    let rows: Vec<Value> = workflows
        .iter()
        .map(|w| views::workflow(w, state.public_url()))
        .collect();
    // Unpaginated by default (integration prompt); limit/offset select LimitOffset pagination.
    if query.get("limit").is_none() && query.get("offset").is_none() {
        return Ok(Json(Value::Array(rows)));
    }
    let page = Page::from_query(&query)?;
    let count = rows.len() as i64;
    let page_rows = rows
        .into_iter()
        .skip(page.offset as usize)
        .take(page.limit as usize)
        .collect();
    Ok(Json(page.envelope(
        count,
        page_rows,
        state.public_url(),
        "/v3/workflows/",
        &query,
    )))
}

/// A live application may not publish a workflow with a step no engine of this build can run:
/// its sessions could never be decided, and Verity never fakes a result. Drafts may hold such
/// steps, and the sandbox application plays every step from its scenarios.
fn refuse_steps_without_engine(
    tenant: &Tenant,
    settings: &WorkflowSettings,
) -> Result<(), ApiError> {
    if tenant.app.environment != Environment::Live || settings.status != Publication::Published {
        return Ok(());
    }
    let mut errors = FieldErrors::new();
    for node in settings.nodes_without_live_engine() {
        let what = if node.feature == Feature::Liveness {
            format!(
                "LIVENESS with face_liveness_method {}",
                node.liveness_method()
            )
        } else {
            node.feature.as_str().to_owned()
        };
        errors.add(
            "features",
            format!(
                "{what} ({}) has no verification engine in this Verity build, so live sessions could not be decided. Save the workflow as a draft, or use it with the sandbox application.",
                node.node_id
            ),
        );
    }
    errors.into_result(())?;
    Ok(())
}

#[utoipa::path(post, path = "/v3/workflows/", tag = "workflows", security(("api_key" = [])),
    request_body = WorkflowRequest,
    responses((status = 201, description = "Workflow created (version 1)", body = Value),
              (status = 400, description = "Validation error", body = Value)))]
pub async fn create_workflow(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let (settings, is_default) = parse_workflow_body(&body, None)?;
    refuse_steps_without_engine(&tenant, &settings)?;
    let stored = state
        .store
        .save_workflow(tenant.app.id, None, &settings, is_default)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(views::workflow(&stored, state.public_url())),
    ))
}

#[utoipa::path(get, path = "/v3/workflows/{settings_uuid}/", tag = "workflows", security(("api_key" = [])),
    params(("settings_uuid" = String, Path, description = "A version uuid, or the stable workflow_id (latest version)")),
    responses((status = 200, description = "The workflow version", body = Value), (status = 404, description = "Not found")))]
pub async fn get_workflow(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let stored = state.store.workflow(tenant.app.id, &id).await?;
    Ok(Json(views::workflow(&stored, state.public_url())))
}

#[utoipa::path(patch, path = "/v3/workflows/{settings_uuid}/", tag = "workflows", security(("api_key" = [])),
    params(("settings_uuid" = String, Path)), request_body = WorkflowRequest,
    responses((status = 200, description = "The new version", body = Value), (status = 404, description = "Not found")))]
pub async fn update_workflow(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let current = state.store.workflow(tenant.app.id, &id).await?;
    let (settings, is_default) = parse_workflow_body(&body, Some(&current.settings))?;
    refuse_steps_without_engine(&tenant, &settings)?;
    let stored = state
        .store
        .save_workflow(tenant.app.id, Some(&current), &settings, is_default)
        .await?;
    Ok(Json(views::workflow(&stored, state.public_url())))
}

#[utoipa::path(delete, path = "/v3/workflows/{settings_uuid}/", tag = "workflows", security(("api_key" = [])),
    params(("settings_uuid" = String, Path)),
    responses((status = 204, description = "Archived; existing sessions keep their pinned version"), (status = 404, description = "Not found")))]
pub async fn delete_workflow(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.store.delete_workflow(tenant.app.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
