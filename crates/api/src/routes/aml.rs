//! AML screening over HTTP: the standalone `POST /v3/aml/` (spec §8), stored screenings, the
//! dataset versions this process screens against, and reviewers' hit decisions on a session's
//! AML result (spec §3.10).

use super::session_id;
use crate::error::{coded, ApiError};
use crate::extract::{JsonObject, Tenant};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use verity_aml::{EntityType, ScreeningRequest};
use verity_domain::aml::{self as domain, HitReviews, StandaloneRequest};
use verity_domain::review::API_CLIENT;
use verity_domain::rules::{self, Risk};
use verity_domain::workflow::Feature;
use verity_domain::{FieldErrors, Timestamp};
use verity_pipeline::aml::{could_not_screen, result_payload, screening_config};
use verity_store::{AmlChange, AmlDataset};

/// The `aml` object as answered: the stored payload without the v1 view, warnings without the
/// node id a session's warnings carry.
fn answer(mut aml: Map<String, Value>) -> Value {
    aml.remove("v1_hits");
    if let Some(Value::Array(warnings)) = aml.get_mut("warnings") {
        for warning in warnings {
            if let Some(object) = warning.as_object_mut() {
                object.remove("node_id");
            }
        }
    }
    Value::Object(aml)
}

#[utoipa::path(post, path = "/v3/aml/", tag = "aml",
    security(("api_key" = [])),
    request_body(content = Value, description = "full_name (required), entity_type (person | company), date_of_birth (YYYY-MM-DD, YYYY-MM or YYYY), nationality (alpha-2/3), document_number, aml_name_weight / aml_dob_weight / aml_country_weight (sum 100), aml_match_score_threshold, aml_score_approve_threshold, aml_score_review_threshold, include_adverse_media (accepted; no adverse-media source is installed), include_ongoing_monitoring, save_api_request (default true), vendor_data, metadata"),
    responses((status = 200, description = "{request_id, aml{status, total_hits, entity_type, score, hits[], screened_data, warnings, dataset_versions, is_ongoing_monitoring_enabled, …}, vendor_data, metadata, created_at}", body = Value),
              (status = 400, description = "Field errors"),
              (status = 503, description = "No sanctions / PEP dataset is loaded ({\"detail\", \"code\"})")))]
pub async fn screen(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let request = StandaloneRequest::parse(&body)?;
    let engine = state.engines.aml.clone();
    if !engine.is_ready() {
        return Err(coded(
            StatusCode::SERVICE_UNAVAILABLE,
            "aml_datasets_not_loaded",
            "No sanctions or PEP dataset is loaded on this server: import one with `verity aml import FILE --dataset NAME`.",
        ));
    }
    let subject = ScreeningRequest {
        full_name: request.full_name.clone(),
        entity_type: if request.entity_type == "company" {
            EntityType::Company
        } else {
            EntityType::Person
        },
        date_of_birth: request.date_of_birth.clone(),
        nationality: request.nationality.clone(),
        document_number: request.document_number.clone(),
    };
    let screening = engine
        .screen_blocking(subject, screening_config(&request.config))
        .await?;
    let risks = if could_not_screen(&screening) {
        vec![Risk::new("COULD_NOT_PERFORM_AML_SCREENING")]
    } else {
        Vec::new()
    };
    let monitored = request.include_ongoing_monitoring && risks.is_empty();
    let mut aml = result_payload(&screening, monitored);
    let (status, warnings) = rules::evaluate(Feature::Aml, "aml", &request.config, &aml, &risks);
    aml.insert("status".into(), json!(status.as_str()));
    aml.insert("warnings".into(), Value::Array(warnings));
    let request_id = uuid::Uuid::new_v4().to_string();
    let created_at = if request.save_api_request {
        let stored_request = json!({
            "full_name": request.full_name,
            "entity_type": request.entity_type,
            "date_of_birth": request.date_of_birth,
            "nationality": request.nationality,
            "document_number": request.document_number,
            "include_adverse_media": request.include_adverse_media,
            "config": request.config,
        });
        state
            .store
            .insert_aml_check(
                tenant.app.id,
                &request_id,
                request.vendor_data.as_deref(),
                request.metadata.as_ref(),
                &stored_request,
                &aml,
                status.as_str(),
                monitored,
            )
            .await?
    } else {
        Timestamp::now()
    };
    Ok(Json(json!({
        "request_id": request_id,
        "aml": answer(aml),
        "vendor_data": request.vendor_data,
        "metadata": request.metadata,
        "created_at": created_at,
    })))
}

#[utoipa::path(get, path = "/v3/aml/{request_id}/", tag = "aml",
    security(("api_key" = [])),
    params(("request_id" = String, Path, description = "The request_id of a stored POST /v3/aml/ screening")),
    responses((status = 200, description = "The stored screening with the hits ongoing monitoring added since", body = Value),
              (status = 404, description = "Not found (or another application's)")))]
pub async fn stored_screening(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(request_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let check = state.store.aml_check(tenant.app.id, &request_id).await?;
    Ok(Json(json!({
        "request_id": check.id,
        "aml": answer(check.result),
        "vendor_data": check.vendor_data,
        "metadata": check.metadata,
        "created_at": check.created_at,
        "ongoing_monitoring_last_check": check.last_checked_at,
    })))
}

#[utoipa::path(get, path = "/v3/aml/datasets/", tag = "aml",
    security(("api_key" = [])),
    responses((status = 200, description = "{loaded[], imported[]}: the dataset versions this process screens against, and every imported version with its monitoring state", body = Value)))]
pub async fn datasets(
    State(state): State<AppState>,
    _tenant: Tenant,
) -> Result<Json<Value>, ApiError> {
    let loaded: Vec<Value> = state
        .engines
        .aml
        .installed_rows()
        .iter()
        .map(dataset_json)
        .collect();
    let imported: Vec<Value> = state
        .store
        .aml_datasets()
        .await?
        .iter()
        .map(|row| {
            let mut entry = dataset_json(row);
            entry["invalid_rows"] = json!(row.error_count);
            entry["previous_version"] = json!(row.previous_version);
            entry["monitoring_state"] = json!(row.monitoring_state);
            entry["monitoring_summary"] = json!(row.monitoring_summary);
            entry
        })
        .collect();
    Ok(Json(json!({"loaded": loaded, "imported": imported})))
}

/// What identifies a dataset version, loaded or imported.
fn dataset_json(row: &AmlDataset) -> Value {
    json!({
        "name": row.name,
        "version": row.version,
        "date": row.published_on,
        "imported_at": row.imported_at,
        "entity_count": row.entity_count,
        "format": row.format,
        "source_digest": row.source_digest,
    })
}

/// Records hit reviews on a session's AML node (the body read by `parse`), re-derives the node's
/// and the session's status, and answers what changed.
async fn review_hits(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
    body: &Map<String, Value>,
    parse: fn(&Map<String, Value>) -> Result<HitReviews, FieldErrors>,
) -> Result<Json<Value>, ApiError> {
    let id = session_id(id)?;
    state.store.session(tenant.app.id, id).await?;
    let reviews = parse(body)?;
    let list = reviews.reviews.clone();
    let change = state
        .store
        .change_aml_result(
            tenant.app.id,
            id,
            reviews.node_id.as_deref(),
            &AmlChange::HitReview {
                actor: API_CLIENT.to_owned(),
            },
            move |payload, config, node_id| {
                let previous = domain::apply_reviews(payload, &list)?;
                Ok((domain::rejudge(node_id, config, payload), previous))
            },
        )
        .await?;
    let updated: Vec<Value> = change
        .edit
        .iter()
        .zip(&reviews.reviews)
        .map(|((hit_id, previous), review)| {
            json!({"hit_id": hit_id, "previous_review_status": previous, "review_status": review.review_status})
        })
        .collect();
    Ok(Json(json!({
        "session_id": id,
        "node_id": change.node_id,
        "updated_hits": updated,
        "aml_status": change.node_status.as_str(),
        "previous_session_status": change.previous_session_status,
        "session_status": change.session_status,
    })))
}

#[utoipa::path(patch, path = "/v3/session/{session_id}/update-aml-hit-status/", tag = "sessions",
    security(("api_key" = [])),
    params(("session_id" = String, Path)),
    request_body(content = Value, description = "{hit_id, review_status: Unreviewed | Confirmed Match | False Positive | Inconclusive, node_id?}"),
    responses((status = 200, description = "{session_id, node_id, updated_hits[], aml_status, previous_session_status, session_status}; recorded as a review, status.updated when the session moves", body = Value),
              (status = 400, description = "Field errors, unknown hit, or the session is not decided"), (status = 404, description = "Not found")))]
pub async fn update_hit_status(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    review_hits(&state, &tenant, &id, &body, HitReviews::parse_single).await
}

#[utoipa::path(patch, path = "/v3/session/{session_id}/bulk-update-aml-hit-status/", tag = "sessions",
    security(("api_key" = [])),
    params(("session_id" = String, Path)),
    request_body(content = Value, description = "{hit_updates: [{hit_id, review_status}], node_id?}"),
    responses((status = 200, description = "{session_id, node_id, updated_hits[], aml_status, previous_session_status, session_status}", body = Value),
              (status = 400, description = "Field errors, unknown hit, or the session is not decided"), (status = 404, description = "Not found")))]
pub async fn bulk_update_hit_status(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    review_hits(&state, &tenant, &id, &body, HitReviews::parse_bulk).await
}
