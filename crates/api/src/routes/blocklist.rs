//! The session-based blocklist (spec §3.13, legacy `/v3/blocklist/…`): a session's face is put
//! on (or taken off) its application's blocklist; every later face step of the application
//! searches it (`FACE_IN_BLOCKLIST` / `POSSIBLE_FACE_IN_BLOCKLIST`, always-decline).
//!
//! Verity blocklists faces only: it has no engine for phone or e-mail codes, and document
//! blocklisting is not built; asking for them is a field error rather than a silent no-op.
//! UNCERTAIN (answer shapes of add/remove are undocumented): `{"session_id", "items"}`. A
//! blocklisted face is biometric data of its session and is deleted with it.

use super::session_id;
use crate::error::ApiError;
use crate::extract::{JsonObject, QueryPairs, Tenant};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Map, Value};
use verity_domain::fields::{not_a_choice, FieldErrors};

const ITEM_TYPES: [&str; 4] = ["face", "document", "phone", "email"];

/// Which items a body asks for (`{prefix}face`, …): field errors for the kinds Verity does not
/// blocklist and for a body that asks for nothing.
fn requested_items(body: &Map<String, Value>, prefix: &str) -> Result<Vec<&'static str>, ApiError> {
    let mut errors = FieldErrors::new();
    let mut items = Vec::new();
    for item in ITEM_TYPES {
        let field = format!("{prefix}{item}");
        match body.get(&field) {
            None | Some(Value::Null) | Some(Value::Bool(false)) => {}
            Some(Value::Bool(true)) if item == "face" => items.push(item),
            Some(Value::Bool(true)) => errors.add(
                &field,
                format!("Verity blocklists faces only; it has no {item} blocklist."),
            ),
            Some(_) => errors.add(&field, "Must be a valid boolean."),
        }
    }
    if items.is_empty() && errors.is_empty() {
        errors.add("non_field_errors", format!("Set {prefix}face to true."));
    }
    errors.into_result(items).map_err(Into::into)
}

async fn set_blocklisted(
    state: &AppState,
    tenant: &Tenant,
    body: &Map<String, Value>,
    prefix: &str,
    blocklisted: bool,
) -> Result<Json<Value>, ApiError> {
    let id = match body.get("session_id").and_then(Value::as_str) {
        Some(text) => session_id(text)?,
        None => return Err(FieldErrors::single("session_id", "This field is required.").into()),
    };
    let items = requested_items(body, prefix)?;
    // 404 for another application's session, like every session route.
    state.store.session(tenant.app.id, id).await?;
    if !state
        .store
        .set_face_blocklisted(tenant.app.id, id, blocklisted)
        .await?
    {
        return Err(FieldErrors::single(
            &format!("{prefix}face"),
            "This session has no face: its selfie was not analysed by the face engine.",
        )
        .into());
    }
    Ok(Json(json!({"session_id": id, "items": items})))
}

#[utoipa::path(post, path = "/v3/blocklist/add/", tag = "sessions", security(("api_key" = [])),
    request_body(content = Value, description = "{session_id, blocklist_face: true} (blocklist_document, blocklist_phone, blocklist_email are refused: Verity blocklists faces only)"),
    responses((status = 200, description = "{session_id, items: [\"face\"]}", body = Value),
              (status = 400, description = "Field errors; the session has no analysed face"),
              (status = 404, description = "Not found")))]
pub async fn add(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    set_blocklisted(&state, &tenant, &body, "blocklist_", true).await
}

#[utoipa::path(post, path = "/v3/blocklist/remove/", tag = "sessions", security(("api_key" = [])),
    request_body(content = Value, description = "{session_id, unblock_face: true}"),
    responses((status = 200, description = "{session_id, items: [\"face\"]}", body = Value),
              (status = 400, description = "Field errors"), (status = 404, description = "Not found")))]
pub async fn remove(
    State(state): State<AppState>,
    tenant: Tenant,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    set_blocklisted(&state, &tenant, &body, "unblock_", false).await
}

#[utoipa::path(get, path = "/v3/blocklist/", tag = "sessions", security(("api_key" = [])),
    params(("item_type" = Option<String>, Query, description = "face | document | phone | email (only faces are ever listed)")),
    responses((status = 200, description = "BlocklistItem rows: {type, session_id, session_number, blocklisted_at, face_image, document_type, document_number, phone_number, email}", body = Value),
              (status = 400, description = "item_type is not a choice")))]
pub async fn list(
    State(state): State<AppState>,
    tenant: Tenant,
    query: QueryPairs,
) -> Result<Json<Value>, ApiError> {
    let item_type = query.get("item_type").unwrap_or("face");
    if !ITEM_TYPES.contains(&item_type) {
        return Err(FieldErrors::single("item_type", not_a_choice(item_type)).into());
    }
    if item_type != "face" {
        return Ok(Json(json!([])));
    }
    let base = state.public_url();
    let rows: Vec<Value> = state
        .store
        .blocklisted_faces(tenant.app.id)
        .await?
        .into_iter()
        .map(|face| {
            json!({
                "type": "face",
                "session_id": face.session_id,
                "session_number": face.session_number,
                "blocklisted_at": face.blocklisted_at,
                "face_image": format!("{base}/v3/session/{}/media/selfie/", face.session_id),
                "document_type": null,
                "document_number": null,
                "phone_number": null,
                "email": null,
            })
        })
        .collect();
    Ok(Json(Value::Array(rows)))
}
