//! Sandbox mode (spec §9.4): the scenario catalog and arming a scenario on a session.

use super::flow::{FlowSession, TOKEN_HEADER};
use super::session_id;
use crate::error::ApiError;
use crate::extract::{JsonObject, Tenant};
use crate::ratelimit::Scope;
use crate::state::AppState;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::Json;
use serde_json::{json, Value};
use verity_domain::fields::{not_a_choice, FieldErrors, ObjectReader};
use verity_domain::sandbox::{catalog_json, scenario};
use verity_domain::session::Environment;
use verity_domain::Error as DomainError;

/// Either credential the catalog accepts: an API key or a hosted-flow session token.
pub struct KeyOrSessionToken;

impl FromRequestParts<AppState> for KeyOrSessionToken {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if parts.headers.contains_key(TOKEN_HEADER) && !parts.headers.contains_key("x-api-key") {
            FlowSession::from_request_parts(parts, state).await?;
        } else {
            let tenant = Tenant::from_request_parts(parts, state).await?;
            // Tenant already counted the request against the key's budget.
            let _ = (tenant, Scope::GenericGet);
        }
        Ok(KeyOrSessionToken)
    }
}

#[utoipa::path(get, path = "/v1/sandbox/scenarios/", tag = "sandbox",
    security(("api_key" = [])),
    responses((status = 200, description = "The 16 scenario slugs with descriptions, expected statuses, required steps, magic values; sample OTP codes", body = Value),
              (status = 403, description = "No credentials"), (status = 401, description = "Bad API key")))]
pub async fn scenarios(_auth: KeyOrSessionToken) -> Json<Value> {
    Json(catalog_json())
}

#[utoipa::path(post, path = "/v3/session/{session_id}/sandbox/arm/", tag = "sandbox",
    security(("api_key" = [])),
    params(("session_id" = String, Path)),
    request_body(content = Value, description = "{\"scenario\": slug}"),
    responses((status = 200, description = "{session_id, scenario}", body = Value),
              (status = 400, description = "Live application, unknown slug, a scenario the workflow cannot play, or the session is no longer Not Started"),
              (status = 404, description = "Not found")))]
pub async fn arm(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let session = state.store.session(tenant.app.id, session_id(&id)?).await?;
    let mut reader = ObjectReader::new(&body);
    let slug = reader.required_string("scenario", 64);
    reader.finish().into_result(())?;
    let slug = slug.unwrap_or_default();
    if tenant.app.environment == Environment::Live {
        return Err(DomainError::Rule(
            "Sandbox scenarios are only accepted by sandbox applications.".into(),
        )
        .into());
    }
    let Some(found) = scenario(&slug) else {
        return Err(FieldErrors::single("scenario", not_a_choice(&slug)).into());
    };
    let features: Vec<_> = session.nodes.iter().map(|n| n.feature).collect();
    found
        .check_workflow(&features)
        .map_err(|message| FieldErrors::single("scenario", message))?;
    state
        .store
        .arm_sandbox(tenant.app.id, session.id, found.slug)
        .await?;
    Ok(Json(
        json!({"session_id": session.id, "scenario": found.slug}),
    ))
}
