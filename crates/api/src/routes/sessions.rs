//! v3 sessions (spec §3.2–3.6, §3.9).

use super::session_id;
use crate::error::ApiError;
use crate::extract::{JsonObject, Page, QueryPairs, Tenant};
use crate::openapi::{
    BatchDeleteRequest, CreateSessionRequest, ReviewNoteRequest, UpdateStatusRequest,
};
use crate::state::AppState;
use crate::views;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use verity_domain::decision::{v3_decision, FeatureResult};
use verity_domain::fields::{not_a_choice, FieldErrors};
use verity_domain::ids::WorkflowId;
use verity_domain::review::{Review, ReviewNote, StatusUpdate, API_CLIENT};
use verity_domain::session::{self, CallbackCheck, NewSession, Session};
use verity_domain::status::SessionStatus;
use verity_domain::{Error as DomainError, Timestamp};
use verity_store::{Application, SessionFilters, SessionOrdering};

#[utoipa::path(post, path = "/v3/session/", tag = "sessions", security(("api_key" = [])),
    request_body = CreateSessionRequest,
    responses((status = 201, description = "Session created, or the caller's unfinished session for the same vendor_data reused", body = Value),
              (status = 400, description = "Validation error (DRF field errors)", body = Value),
              (status = 401, description = "Unknown or revoked API key"), (status = 403, description = "No API key")))]
pub async fn create_session(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    create(&state, &tenant, &body).await
}

/// `POST /v3/session/` and `POST /v2/session/` share body, rules and answer.
pub(crate) async fn create(
    state: &AppState,
    tenant: &Tenant,
    body: &serde_json::Map<String, Value>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input = NewSession::parse(body)?;
    check_callback(state, &tenant.app, input.callback.as_deref()).await?;
    let (session, _reused) = state.store.create_session(&tenant.app, input).await?;
    Ok((
        StatusCode::CREATED,
        Json(views::session_created(&session, state.public_url())),
    ))
}

/// Refuses a callback the hosted page may not send the person to (a field error on
/// `callback`): see [`check_callback`](verity_domain::session::check_callback). The
/// application's `redirect_uris` are read only for a custom scheme.
pub(crate) async fn check_callback(
    state: &AppState,
    app: &Application,
    callback: Option<&str>,
) -> Result<(), ApiError> {
    let Some(callback) = callback else {
        return Ok(());
    };
    let refusal = match session::check_callback(callback, state.config.allow_http_callbacks) {
        CallbackCheck::Allowed => return Ok(()),
        CallbackCheck::Refused(message) => message.to_owned(),
        CallbackCheck::NeedsRegistration(scheme) => {
            let profile = state
                .store
                .organization_application(app.organization_id, app.id)
                .await?;
            if session::scheme_registered(&scheme, &profile.metadata.redirect_uris) {
                return Ok(());
            }
            format!("The scheme \"{scheme}\" is not in this application's redirect_uris.")
        }
    };
    Err(FieldErrors::single("callback", refusal).into())
}

#[utoipa::path(get, path = "/v3/session/{session_id}/", tag = "sessions", security(("api_key" = [])),
    params(("session_id" = String, Path, description = "Session UUID")),
    responses((status = 200, description = "The session", body = Value), (status = 404, description = "Not found")))]
pub async fn get_session(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let session = state.store.session(tenant.app.id, session_id(&id)?).await?;
    Ok(Json(views::session_detail(&session, state.public_url())))
}

#[utoipa::path(get, path = "/v3/session/{session_id}/decision/", tag = "sessions", security(("api_key" = [])),
    params(("session_id" = String, Path, description = "Session UUID")),
    responses((status = 200, description = "The v3 decision; feature arrays are null until that feature has run", body = Value),
              (status = 404, description = "Not found")))]
pub async fn get_decision(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let (session, results, reviews) = decision_inputs(&state, &tenant, &id).await?;
    Ok(Json(v3_decision(
        &session,
        &results,
        &reviews,
        state.public_url(),
    )))
}

/// What every decision view is built from: the caller's session, its node results, its reviews.
pub(crate) async fn decision_inputs(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
) -> Result<(Session, Vec<FeatureResult>, Vec<Review>), ApiError> {
    let app = tenant.app.id;
    let session = state.store.session(app, session_id(id)?).await?;
    let (results, reviews) = tokio::try_join!(
        state.store.feature_results(&session),
        state.store.decision_reviews(app, session.id)
    )?;
    Ok((session, results, reviews))
}

/// Didit checks the current status before it validates an update-status body.
pub(crate) fn check_manually_updatable(session: &Session) -> Result<(), ApiError> {
    if !session.status.is_manually_updatable() {
        return Err(DomainError::Rule(format!(
            "Wrong Current Status: a session that is {} cannot be updated manually.",
            session.status
        ))
        .into());
    }
    Ok(())
}

fn parse_filters(query: &QueryPairs) -> Result<(Page, SessionFilters), ApiError> {
    let mut errors = FieldErrors::new();
    let page = Page::read(query, &mut errors);
    let mut filters = SessionFilters {
        limit: page.limit,
        offset: page.offset,
        ..SessionFilters::default()
    };
    if let Some(statuses) = query.get("status") {
        for text in statuses.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            match SessionStatus::parse(text) {
                Some(status) => filters.statuses.push(status),
                None => errors.add("status", not_a_choice(text)),
            }
        }
    }
    filters.vendor_data = query.get("vendor_data").map(str::to_owned);
    if let Some(text) = query.get("workflow_id") {
        match WorkflowId::parse(text) {
            Some(id) => filters.workflow_id = Some(id),
            None => errors.add("workflow_id", "Must be a valid UUID."),
        }
    }
    if let Some(text) = query.get("date_from") {
        match Timestamp::parse_iso(text) {
            Some(ts) => filters.created_from = Some(ts),
            None => errors.add("date_from", "Enter a valid date or date/time (ISO 8601)."),
        }
    }
    if let Some(text) = query.get("date_to") {
        match Timestamp::parse_iso(text) {
            // A bare date includes the whole day.
            Some(ts) if text.trim().len() == 10 => {
                filters.created_before = Some(ts.plus_seconds(86_400))
            }
            Some(ts) => filters.created_before = Some(Timestamp::from_micros(ts.micros() + 1)),
            None => errors.add("date_to", "Enter a valid date or date/time (ISO 8601)."),
        }
    }
    match query.get("ordering") {
        None | Some("-created_at") => {}
        Some("created_at") => filters.ordering = SessionOrdering::OldestFirst,
        Some(other) => errors.add("ordering", not_a_choice(other)),
    }
    match query.get("session_kind") {
        None | Some("user") | Some("all") => {}
        Some("business") => errors.add(
            "session_kind",
            "Business (KYB) sessions are not supported by this server.",
        ),
        Some(other) => errors.add("session_kind", not_a_choice(other)),
    }
    if let Some(country) = query.get("country") {
        let code = country.trim().to_ascii_uppercase();
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
            filters.country = Some(code);
        } else {
            errors.add(
                "country",
                "Enter an ISO 3166-1 alpha-3 country code (e.g. ESP).",
            );
        }
    }
    filters.search = query.get("search").map(str::to_owned);
    Ok(errors.into_result((page, filters))?)
}

#[utoipa::path(get, path = "/v3/sessions/", tag = "sessions", security(("api_key" = [])),
    params(("status" = Option<String>, Query, description = "One status or a comma-separated list"),
           ("vendor_data" = Option<String>, Query), ("workflow_id" = Option<String>, Query),
           ("date_from" = Option<String>, Query, description = "ISO date or datetime, inclusive"),
           ("date_to" = Option<String>, Query, description = "ISO date (whole day) or datetime, inclusive"),
           ("ordering" = Option<String>, Query, description = "-created_at (default) or created_at"),
           ("country" = Option<String>, Query, description = "Issuing country (alpha-3) of the verified document"),
           ("search" = Option<String>, Query, description = "Part of vendor_data, or an exact session id or number"),
           ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, description = "{count, next, previous, results}", body = Value)))]
pub async fn list_sessions(
    State(state): State<AppState>,
    tenant: Tenant,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let (page, filters) = parse_filters(&query)?;
    let (count, sessions) = state.store.list_sessions(tenant.app.id, &filters).await?;
    let rows = sessions
        .iter()
        .map(|s| views::session_row(s, state.public_url()))
        .collect();
    Ok(Json(page.envelope(
        count,
        rows,
        state.public_url(),
        "/v3/sessions/",
        &query,
    )))
}

#[utoipa::path(patch, path = "/v3/session/{session_id}/update-status/", tag = "sessions", security(("api_key" = [])),
    params(("session_id" = String, Path)), request_body = UpdateStatusRequest,
    responses((status = 200, description = "{\"session_id\": ...}", body = Value),
              (status = 400, description = "Wrong Current Status, or validation error", body = Value),
              (status = 404, description = "Not found")))]
pub async fn update_status(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    apply_manual_status(&state, &tenant, &id, &body, true).await
}

/// A manual status change for any API generation; v1 cannot ask for `Resubmitted`.
pub(crate) async fn apply_manual_status(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
    body: &serde_json::Map<String, Value>,
    allow_resubmit: bool,
) -> Result<Json<Value>, ApiError> {
    let id = session_id(id)?;
    let session = state.store.session(tenant.app.id, id).await?;
    check_manually_updatable(&session)?;
    let update = StatusUpdate::parse(body, allow_resubmit)?;
    state
        .store
        .update_status(tenant.app.id, id, &update, API_CLIENT)
        .await?;
    Ok(Json(json!({"session_id": id})))
}

#[utoipa::path(delete, path = "/v3/session/{session_id}/delete/", tag = "sessions", security(("api_key" = [])),
    params(("session_id" = String, Path)),
    responses((status = 200, description = "Deleted with its media", body = Value), (status = 404, description = "Not found")))]
pub async fn delete_session(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let deleted = state
        .store
        .delete_session(tenant.app.id, session_id(&id)?)
        .await?;
    Ok(Json(deleted_json(&deleted)))
}

fn deleted_json(deleted: &verity_store::DeletedSession) -> Value {
    json!({
        "session_id": deleted.session_id,
        "session_number": deleted.session_number,
        "face_retention_outcome": "none",
        "biometric_template_uuid": null,
    })
}

#[utoipa::path(post, path = "/v3/sessions/delete/", tag = "sessions", security(("api_key" = [])),
    request_body = BatchDeleteRequest,
    responses((status = 200, description = "{results: [...]}; unknown numbers are skipped", body = Value),
              (status = 400, description = "Neither session_numbers nor delete_all", body = Value)))]
pub async fn delete_sessions(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let mut reader = verity_domain::fields::ObjectReader::new(&body);
    let numbers_value = reader.value("session_numbers").cloned();
    let delete_all = reader.bool("delete_all").unwrap_or(false);
    let errors = reader.finish();
    errors.into_result(())?;
    let numbers = match numbers_value {
        Some(value) => Some(parse_session_numbers(&value)?),
        None => None,
    };
    let deleted = match (numbers, delete_all) {
        (_, true) => state.store.delete_sessions(tenant.app.id, None).await?,
        (Some(numbers), false) if !numbers.is_empty() => {
            state
                .store
                .delete_sessions(tenant.app.id, Some(&numbers))
                .await?
        }
        _ => {
            return Err(DomainError::InvalidList(vec![
                "Provide session_numbers or set delete_all=true.".to_owned(),
            ])
            .into())
        }
    };
    let results: Vec<Value> = deleted.iter().map(deleted_json).collect();
    Ok(Json(json!({"deleted": results.len(), "results": results})))
}

/// Integers or digit strings (spec §3.6).
fn parse_session_numbers(value: &Value) -> Result<Vec<i64>, ApiError> {
    let invalid = || FieldErrors::single("session_numbers", "Expected a list of session numbers.");
    let items = value.as_array().ok_or_else(invalid)?;
    items
        .iter()
        .map(|item| match item {
            Value::Number(n) => n.as_i64(),
            Value::String(s) => s.trim().parse().ok(),
            _ => None,
        })
        .collect::<Option<Vec<i64>>>()
        .ok_or_else(|| invalid().into())
}

#[utoipa::path(get, path = "/v3/sessions/{session_id}/reviews/", tag = "sessions", security(("api_key" = [])),
    params(("session_id" = String, Path), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query),
           ("ordering" = Option<String>, Query, description = "-created_at (default) or created_at")),
    responses((status = 200, description = "Paginated review activity", body = Value), (status = 404, description = "Not found")))]
pub async fn list_reviews(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let id = session_id(&id)?;
    let page = Page::from_query(&query)?;
    let newest_first = match query.get("ordering") {
        None | Some("-created_at") => true,
        Some("created_at") => false,
        Some(other) => return Err(FieldErrors::single("ordering", not_a_choice(other)).into()),
    };
    let (count, reviews) = state
        .store
        .list_reviews(tenant.app.id, id, newest_first, page.limit, page.offset)
        .await?;
    let rows = reviews.iter().map(|r| r.to_activity_json()).collect();
    let path = format!("/v3/sessions/{id}/reviews/");
    Ok(Json(page.envelope(
        count,
        rows,
        state.public_url(),
        &path,
        &query,
    )))
}

#[utoipa::path(post, path = "/v3/sessions/{session_id}/reviews/", tag = "sessions", security(("api_key" = [])),
    params(("session_id" = String, Path)), request_body = ReviewNoteRequest,
    responses((status = 201, description = "The created note; a note never changes the session status", body = Value),
              (status = 404, description = "Not found")))]
pub async fn add_review(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let id = session_id(&id)?;
    let note = ReviewNote::parse(&body)?;
    let review = state
        .store
        .add_review_note(tenant.app.id, id, &note, API_CLIENT)
        .await?;
    Ok((StatusCode::CREATED, Json(review.to_activity_json())))
}

#[utoipa::path(get, path = "/v3/session/{session_id}/events/", tag = "sessions", security(("api_key" = [])),
    params(("session_id" = String, Path), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, description = "Paginated timeline, oldest first", body = Value), (status = 404, description = "Not found")))]
pub async fn list_events(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let id = session_id(&id)?;
    let page = Page::from_query(&query)?;
    let (count, events) = state
        .store
        .list_events(tenant.app.id, id, page.limit, page.offset)
        .await?;
    let rows = events.iter().map(|e| e.to_json()).collect();
    let path = format!("/v3/session/{id}/events/");
    Ok(Json(page.envelope(
        count,
        rows,
        state.public_url(),
        &path,
        &query,
    )))
}
