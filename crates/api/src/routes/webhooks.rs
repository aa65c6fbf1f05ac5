//! Webhook configuration (spec §3.14), the delivery log and manual resend (spec §3.9), and test
//! deliveries.

use super::session_id;
use crate::error::{not_found, ApiError};
use crate::extract::{JsonObject, Page, QueryPairs, Tenant};
use crate::openapi::{DestinationRequest, LegacyWebhookRequest, TestWebhookRequest};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Map, Value};
use verity_domain::fields::{not_a_choice, ObjectReader};
use verity_domain::ids::{DeliveryId, DestinationId};
use verity_domain::status::SessionStatus;
use verity_domain::webhook::{
    parse_destination, parse_destination_patch, parse_legacy_webhook_patch, WebhookVersion,
};
use verity_domain::{FieldErrors, Timestamp};
use verity_store::{DeliveryLog, Destination, DestinationSummary, StoredAttempt};
use verity_webhooks::dispatcher::{attempt_record, sign_with_keys, test_payload};
use verity_webhooks::{DeliveryAttempt, Refusal};

fn destination_id(text: &str) -> Result<DestinationId, ApiError> {
    DestinationId::parse(text).ok_or_else(not_found)
}

fn delivery_id(text: &str) -> Result<DeliveryId, ApiError> {
    DeliveryId::parse(text).ok_or_else(not_found)
}

/// Refuses URLs the delivery client would refuse (scheme, credentials, private or loopback
/// addresses unless allow-listed). A host name that does not resolve now is accepted: DNS can
/// be unavailable at configuration time, and every delivery re-checks the resolved addresses.
async fn check_url(state: &AppState, url: &str) -> Result<(), ApiError> {
    match state
        .webhook_client
        .config()
        .ssrf
        .check_url_resolved(url)
        .await
    {
        Ok(_) | Err(Refusal::NoAddress(_)) => Ok(()),
        Err(refusal) => Err(FieldErrors::single("url", refusal.to_string()).into()),
    }
}

fn destination_view(d: &Destination, secret: &str, summary: &DestinationSummary) -> Value {
    json!({
        "uuid": d.id,
        "label": d.label,
        "url": d.url,
        "enabled": d.enabled,
        "webhook_version": d.webhook_version.as_str(),
        "subscribed_events": d.subscribed_events,
        "standard_webhooks": d.standard_webhooks,
        "secret_shared_key": secret,
        "secret_rotation_overlap_until": d.previous_secret_until.filter(|t| *t > Timestamp::now()),
        "is_legacy": d.is_legacy,
        "disabled_reason": d.disabled_reason,
        "created_at": d.created_at,
        "updated_at": d.updated_at,
        "summary": {
            "total_deliveries": summary.total_deliveries,
            "failed_deliveries": summary.failed_deliveries,
            "error_rate_percentage": if summary.total_deliveries == 0 { 0.0 } else {
                (summary.failed_deliveries as f64 * 10_000.0 / summary.total_deliveries as f64).round() / 100.0
            },
            "min_response_time_ms": summary.min_response_ms.map(|v| v.round()),
            "avg_response_time_ms": summary.avg_response_ms.map(|v| v.round()),
            "max_response_time_ms": summary.max_response_ms.map(|v| v.round()),
            "last_delivery_at": summary.last_delivery_at,
        },
    })
}

async fn render_destination(state: &AppState, d: &Destination) -> Result<Value, ApiError> {
    let keys = state.store.signing_keys(d).await?;
    let summary = state.store.destination_summary(d.id).await?;
    Ok(destination_view(d, &keys.current, &summary))
}

#[utoipa::path(get, path = "/v3/webhook/destinations/", tag = "webhooks", security(("api_key" = [])),
    responses((status = 200, description = "Every destination of the application", body = Value)))]
pub async fn list_destinations(
    State(state): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Value>, ApiError> {
    let mut rows = Vec::new();
    for d in state.store.destinations(tenant.app.id).await? {
        rows.push(render_destination(&state, &d).await?);
    }
    Ok(Json(Value::Array(rows)))
}

#[utoipa::path(post, path = "/v3/webhook/destinations/", tag = "webhooks", security(("api_key" = [])),
    request_body = DestinationRequest,
    responses((status = 201, description = "Created; `secret_shared_key` signs its deliveries", body = Value),
              (status = 400, description = "Validation error, refused URL or duplicate URL (field errors); `{detail}` when the application already has `webhooks.max_destinations` destinations", body = Value)))]
pub async fn create_destination(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonObject(body): JsonObject,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let spec = parse_destination(&body)?;
    check_url(&state, &spec.url).await?;
    let (destination, secret) = state
        .store
        .create_destination(tenant.app.id, &spec, state.config.max_webhook_destinations)
        .await?;
    let view = destination_view(&destination, &secret, &DestinationSummary::default());
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(get, path = "/v3/webhook/destinations/{destination_uuid}/", tag = "webhooks", security(("api_key" = [])),
    params(("destination_uuid" = String, Path)),
    responses((status = 200, description = "The destination with its delivery summary", body = Value), (status = 404, description = "Not found")))]
pub async fn get_destination(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let d = state
        .store
        .destination(tenant.app.id, destination_id(&id)?)
        .await?;
    Ok(Json(render_destination(&state, &d).await?))
}

#[utoipa::path(patch, path = "/v3/webhook/destinations/{destination_uuid}/", tag = "webhooks", security(("api_key" = [])),
    params(("destination_uuid" = String, Path)), request_body = DestinationRequest,
    responses((status = 200, description = "Updated. With `rotate_secret_key: true` the answer shows the new secret; the previous one keeps signing the Didit headers for `rotation_overlap_seconds` (default 86400)", body = Value),
              (status = 400, description = "Validation error", body = Value), (status = 404, description = "Not found")))]
pub async fn update_destination(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let id = destination_id(&id)?;
    state.store.destination(tenant.app.id, id).await?;
    let patch = parse_destination_patch(&body)?;
    if let Some(url) = &patch.url {
        check_url(&state, url).await?;
    }
    let (d, _new_secret) = state
        .store
        .update_destination(tenant.app.id, id, &patch)
        .await?;
    Ok(Json(render_destination(&state, &d).await?))
}

#[utoipa::path(delete, path = "/v3/webhook/destinations/{destination_uuid}/", tag = "webhooks", security(("api_key" = [])),
    params(("destination_uuid" = String, Path)),
    responses((status = 204, description = "Deleted with its deliveries"), (status = 404, description = "Not found")))]
pub async fn delete_destination(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    state
        .store
        .delete_destination(tenant.app.id, destination_id(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(post, path = "/v3/webhook/destinations/{destination_uuid}/test/", tag = "webhooks", security(("api_key" = [])),
    params(("destination_uuid" = String, Path)), request_body = TestWebhookRequest,
    responses((status = 200, description = "One signed canned delivery with `X-Didit-Test-Webhook: true`, sent now; the receiver's answer", body = Value),
              (status = 400, description = "Validation error", body = Value), (status = 404, description = "Not found")))]
pub async fn test_destination(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let d = state
        .store
        .destination(tenant.app.id, destination_id(&id)?)
        .await?;
    let mut reader = ObjectReader::new(&body);
    let status = reader
        .string("status", 32)
        .unwrap_or_else(|| "Approved".to_owned());
    if SessionStatus::parse(&status).is_none() {
        reader.errors.add("status", not_a_choice(&status));
    }
    reader.finish().into_result(())?;
    let payload = test_payload(
        &tenant.app.id.to_string(),
        tenant.app.environment.as_str(),
        d.webhook_version,
        &status,
    );
    let keys = state.store.signing_keys(&d).await?;
    let now = Timestamp::now();
    let event_id = payload["event_id"].as_str().map(str::to_owned);
    let signed = sign_with_keys(
        &keys,
        &payload,
        now.unix_seconds(),
        event_id.filter(|_| d.standard_webhooks),
    );
    let outcome = state
        .webhook_client
        .deliver(DeliveryAttempt {
            url: &d.url,
            payload: &signed,
            test_webhook: true,
        })
        .await;
    Ok(Json(attempt_view(&attempt_record(
        &d.url, &signed, &outcome, now,
    ))))
}

fn attempt_view(a: &verity_store::AttemptRecord) -> Value {
    let headers: Map<String, Value> = a
        .request_headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
        .collect();
    json!({
        "url": a.url,
        "http_status": a.response_status,
        "response": a.response_body,
        "response_truncated": a.response_truncated,
        "duration_ms": (a.duration_ms * 10.0).round() / 10.0,
        "verdict": a.verdict,
        "error": a.error,
        "request_header": Value::Object(headers).to_string(),
        "request_body": a.request_body,
        "created_at": a.created_at,
    })
}

fn legacy_view(state_secret: &str, legacy: &verity_store::LegacyWebhook) -> Value {
    let setting = |key: &str, default: Value| legacy.settings.get(key).cloned().unwrap_or(default);
    json!({
        "webhook_url": legacy.destination.as_ref().map(|d| d.url.clone()),
        "webhook_version": legacy.destination.as_ref().map(|d| d.webhook_version).unwrap_or(WebhookVersion::V3).as_str(),
        "secret_shared_key": state_secret,
        "capture_method": setting("capture_method", json!("both")),
        "data_retention_months": setting("data_retention_months", Value::Null),
        "allowed_domains": setting("allowed_domains", json!([])),
    })
}

#[utoipa::path(get, path = "/v3/webhook/", tag = "webhooks", security(("api_key" = [])),
    responses((status = 200, description = "The legacy single-URL configuration (one destination signed with the application secret)", body = Value)))]
pub async fn get_legacy_webhook(
    State(state): State<AppState>,
    tenant: Tenant,
) -> Result<Json<Value>, ApiError> {
    let legacy = state.store.legacy_webhook(tenant.app.id).await?;
    let secret = state.store.webhook_secret(tenant.app.id).await?;
    Ok(Json(legacy_view(&secret, &legacy)))
}

#[utoipa::path(patch, path = "/v3/webhook/", tag = "webhooks", security(("api_key" = [])),
    request_body = LegacyWebhookRequest,
    responses((status = 200, description = "Updated; `webhook_url: null` removes the destination, `rotate_secret_key: true` replaces the secret at once", body = Value),
              (status = 400, description = "Validation error", body = Value)))]
pub async fn update_legacy_webhook(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let patch = parse_legacy_webhook_patch(&body)?;
    if let Some(Some(url)) = &patch.webhook_url {
        check_url(&state, url).await.map_err(|_| {
            ApiError::from(FieldErrors::single(
                "webhook_url",
                "This URL is not allowed as a webhook target (https to a public address).",
            ))
        })?;
    }
    let legacy = state
        .store
        .update_legacy_webhook(tenant.app.id, &patch, state.config.max_webhook_destinations)
        .await?;
    let secret = state.store.webhook_secret(tenant.app.id).await?;
    Ok(Json(legacy_view(&secret, &legacy)))
}

fn attempt_log_view(a: &StoredAttempt) -> Value {
    json!({
        "attempt": a.attempt_no,
        "url": a.url,
        "http_status": a.response_status,
        "response": a.response_body,
        "response_truncated": a.response_truncated,
        "duration_ms": (a.duration_ms * 10.0).round() / 10.0,
        "verdict": a.verdict,
        "error": a.error,
        "request_header": a.request_headers,
        "request_body": a.request_body,
        "created_at": a.created_at,
    })
}

/// A delivery as the log shows it: the latest attempt's request and answer at the top level
/// (`request_header` and `request_body` as JSON-encoded strings, spec §3.9), every attempt below.
fn delivery_view(log: &DeliveryLog) -> Value {
    let last = log.attempt_log.last();
    json!({
        "uuid": log.id,
        "event_id": log.event_id,
        "session_id": log.session_id,
        "destination_uuid": log.destination_id,
        "webhook_type": log.webhook_type,
        "status": log.state,
        "attempts": log.attempts,
        "url": last.map(|a| a.url.clone()),
        "http_status": log.last_status,
        "response": last.map(|a| a.response_body.clone()),
        "error": log.last_error,
        "request_header": last.map(|a| a.request_headers.clone()),
        "request_body": last.map(|a| a.request_body.clone()),
        "next_attempt_at": (log.state == "pending").then_some(log.next_attempt_at),
        "created_at": log.created_at,
        "delivered_at": log.delivered_at,
        "attempt_log": log.attempt_log.iter().map(attempt_log_view).collect::<Vec<_>>(),
    })
}

#[utoipa::path(get, path = "/v3/session/{session_id}/webhooks/", tag = "webhooks", security(("api_key" = [])),
    params(("session_id" = String, Path), ("limit" = Option<i64>, Query), ("offset" = Option<i64>, Query)),
    responses((status = 200, description = "The session's deliveries, newest first (paginated)", body = Value), (status = 404, description = "Not found")))]
pub async fn list_session_webhooks(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let session = session_id(&id)?;
    let page = Page::from_query(&query)?;
    let (count, logs) = state
        .store
        .session_deliveries(tenant.app.id, session, page.limit, page.offset)
        .await?;
    Ok(Json(page.envelope(
        count,
        logs.iter().map(delivery_view).collect(),
        state.public_url(),
        &format!("/v3/session/{session}/webhooks/"),
        &query,
    )))
}

#[utoipa::path(get, path = "/v3/session/{session_id}/webhook/{webhook_uuid}", tag = "webhooks", security(("api_key" = [])),
    params(("session_id" = String, Path), ("webhook_uuid" = String, Path)),
    responses((status = 200, description = "One delivery with every attempt; another session's delivery is 404", body = Value), (status = 404, description = "Not found")))]
pub async fn get_session_webhook(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let log = state
        .store
        .session_delivery(tenant.app.id, session_id(&id)?, delivery_id(&delivery)?)
        .await?;
    Ok(Json(delivery_view(&log)))
}

#[utoipa::path(post, path = "/v3/session/{session_id}/webhook/{webhook_uuid}/resend/", tag = "webhooks", security(("api_key" = [])),
    params(("session_id" = String, Path), ("webhook_uuid" = String, Path)),
    responses((status = 202, description = "Queued again now, same event_id and payload", body = Value), (status = 404, description = "Not found")))]
pub async fn resend_session_webhook(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let log = state
        .store
        .resend_delivery(tenant.app.id, session_id(&id)?, delivery_id(&delivery)?)
        .await?;
    Ok((StatusCode::ACCEPTED, Json(delivery_view(&log))))
}
