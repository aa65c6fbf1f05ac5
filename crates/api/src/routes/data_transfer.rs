//! Data-transfer sessions (seed 004; spec §2.12 rows 8–10): a business asks a person for scopes
//! of an identity verified earlier on this server, the person proves ownership and consents on
//! the page of [`crate::pages::data_transfer`], and the business reads the outcome here. See
//! `docs/data-transfer.md` for the shapes.

use super::no_store;
use crate::error::{not_found, ApiError};
use crate::extract::{ClientTenant, JsonObject, Tenant};
use crate::openapi::CreateTransferRequest;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};
use verity_domain::data_transfer::NewTransfer;
use verity_domain::ids::TransferId;
use verity_domain::Timestamp;

/// How long a person has to answer, from creation.
pub const TRANSFER_TTL_SECONDS: i64 = 3600;

#[utoipa::path(post, path = "/auth/v2/session/", tag = "data-transfer",
    security(("bearer" = []), ("api_key" = [])),
    request_body = CreateTransferRequest,
    responses((status = 201, description = "{session_id, session_token, url}: send the person to url (or show it as a QR code)", body = Value),
              (status = 400, description = "Field errors: scope missing, blank or with an unknown word; unknown fields", body = Value),
              (status = 401, description = "Invalid or expired token or key"), (status = 403, description = "No credentials")))]
pub async fn create_transfer(
    State(state): State<AppState>,
    ClientTenant(tenant): ClientTenant,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let input = NewTransfer::parse(&body)?;
    let transfer = state
        .store
        .create_transfer(
            tenant.app.id,
            &input,
            TRANSFER_TTL_SECONDS,
            Timestamp::now(),
        )
        .await?;
    Ok(no_store(
        (
            StatusCode::CREATED,
            Json(json!({
                "session_id": transfer.id,
                "session_token": transfer.token.as_str(),
                "url": transfer.url(state.public_url()),
            })),
        )
            .into_response(),
    ))
}

/// The caller's transfer as status (and, for the decision, `data`). `Data-Session-Token`, when
/// sent, must be the transfer's token (a mismatch reads as another session: 404).
async fn read_transfer(
    state: &AppState,
    tenant: &Tenant,
    id: &str,
    headers: &HeaderMap,
    with_data: bool,
) -> Result<Response, ApiError> {
    let id = TransferId::parse(id).ok_or_else(not_found)?;
    let transfer = state.store.transfer(tenant.app.id, id).await?;
    if let Some(token) = headers.get("data-session-token") {
        let matches = token.to_str().is_ok_and(|t| {
            verity_store::credentials::digests_match(t.trim(), transfer.token.as_str())
        });
        if !matches {
            return Err(not_found());
        }
    }
    let mut body = json!({
        "session_id": transfer.id,
        "status": transfer.status_at(Timestamp::now()).as_str(),
        "scope": transfer.scopes.to_scope_string(),
        "vendor_data": transfer.vendor_data,
        "created_at": transfer.created_at,
        "expires_at": transfer.expires_at,
        "decided_at": transfer.decided_at,
    });
    if with_data {
        let data = state
            .store
            .shared_transfer_data(tenant.app.id, transfer.id)
            .await?;
        body["data"] = data.unwrap_or(Value::Null);
    }
    Ok(no_store(Json(body).into_response()))
}

#[utoipa::path(get, path = "/auth/v2/session/{session_id}/status/", tag = "data-transfer",
    security(("bearer" = []), ("api_key" = [])),
    params(("session_id" = String, Path), ("Data-Session-Token" = Option<String>, Header, description = "The session_token; optional, checked when sent")),
    responses((status = 200, description = "{session_id, status, scope, vendor_data, created_at, expires_at, decided_at}; status is pending, in_progress, confirmed, declined or expired", body = Value),
              (status = 404, description = "Not found (also another application's session, or a Data-Session-Token that does not match)")))]
pub async fn transfer_status(
    State(state): State<AppState>,
    ClientTenant(tenant): ClientTenant,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    read_transfer(&state, &tenant, &id, &headers, false).await
}

#[utoipa::path(get, path = "/auth/v2/session/{session_id}/decision/", tag = "data-transfer",
    security(("bearer" = []), ("api_key" = [])),
    params(("session_id" = String, Path), ("Data-Session-Token" = Option<String>, Header, description = "The session_token; optional, checked when sent")),
    responses((status = 200, description = "The status fields plus data: one object per consented scope once confirmed, null otherwise", body = Value),
              (status = 404, description = "Not found")))]
pub async fn transfer_decision(
    State(state): State<AppState>,
    ClientTenant(tenant): ClientTenant,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    read_transfer(&state, &tenant, &id, &headers, true).await
}

/// Where the requesting business fetches a consented picture.
pub fn picture_url(public_base: &str, transfer: TransferId, name: &str) -> String {
    format!("{public_base}/auth/v2/session/{transfer}/media/{name}/")
}

#[utoipa::path(get, path = "/auth/v2/session/{session_id}/media/{name}/", tag = "data-transfer",
    security(("bearer" = []), ("api_key" = [])),
    params(("session_id" = String, Path), ("name" = String, Path, description = "portrait_image, front_image, … as named in the decision's pictures")),
    responses((status = 200, description = "The image bytes (the requesting application's own copy, made at consent)"),
              (status = 404, description = "Not found, not consented, or another application's session")))]
pub async fn transfer_picture(
    State(state): State<AppState>,
    ClientTenant(tenant): ClientTenant,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let id = TransferId::parse(&id).ok_or_else(not_found)?;
    let picture = state
        .store
        .transfer_picture(tenant.app.id, id, &name)
        .await?;
    let mut response = picture.bytes.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&picture.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    Ok(no_store(response))
}
