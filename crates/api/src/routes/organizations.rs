//! The account API of console users (spec §2.1 rows 5–9): their organization and its
//! applications, with a user access token. Every lookup is scoped by the caller's organization;
//! another organization's ids, and ids that are not UUIDs, answer 404.

use super::no_store;
use crate::error::{not_found, ApiError};
use crate::extract::{ConsoleUser, JsonObject};
use crate::openapi::ApplicationRequest;
use crate::state::AppState;
use crate::views;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::Value;
use verity_domain::account::{default_application_name, ApplicationMetadata};
use verity_domain::ids::{ApplicationId, OrganizationId};
use verity_domain::session::Environment;
use verity_store::User;

/// The organization in the path, when it is the caller's.
fn own_organization(user: &User, org_id: &str) -> Result<OrganizationId, ApiError> {
    OrganizationId::parse(org_id)
        .filter(|id| *id == user.organization_id)
        .ok_or_else(not_found)
}

fn application_id(text: &str) -> Result<ApplicationId, ApiError> {
    ApplicationId::parse(text).ok_or_else(not_found)
}

#[utoipa::path(get, path = "/auth/v2/organizations/me/", tag = "accounts", security(("bearer" = [])),
    responses((status = 200, description = "The caller's organizations: [{uuid, name, contact_email, created_at}]", body = Value),
              (status = 401, description = "Not a valid console user token"), (status = 403, description = "No token")))]
pub async fn my_organizations(
    State(state): State<AppState>,
    ConsoleUser(user): ConsoleUser,
) -> Result<Json<Value>, ApiError> {
    let organization = state.store.organization(user.organization_id).await?;
    Ok(Json(Value::Array(vec![views::organization(&organization)])))
}

#[utoipa::path(get, path = "/auth/v2/organizations/me/{org_id}/applications/", tag = "accounts", security(("bearer" = [])),
    params(("org_id" = String, Path)),
    responses((status = 200, description = "The organization's applications, oldest first (api_key is null: keys are shown only when created)", body = Value),
              (status = 404, description = "Not the caller's organization")))]
pub async fn list_applications(
    State(state): State<AppState>,
    ConsoleUser(user): ConsoleUser,
    Path(org_id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let organization_id = own_organization(&user, &org_id)?;
    let applications = state
        .store
        .organization_applications(organization_id)
        .await?;
    Ok(Json(
        applications
            .iter()
            .map(views::application_profile)
            .collect(),
    ))
}

#[utoipa::path(post, path = "/auth/v2/organizations/me/{org_id}/applications/", tag = "accounts", security(("bearer" = [])),
    params(("org_id" = String, Path)), request_body = ApplicationRequest,
    responses((status = 201, description = "The live application with its api_key and client_secret, shown only here; it starts with the four workflow templates", body = Value),
              (status = 400, description = "Field errors", body = Value),
              (status = 404, description = "Not the caller's organization")))]
pub async fn create_application(
    State(state): State<AppState>,
    ConsoleUser(user): ConsoleUser,
    Path(org_id): Path<String>,
    JsonObject(body): JsonObject,
) -> Result<Response, ApiError> {
    let organization_id = own_organization(&user, &org_id)?;
    let organization = state.store.organization(organization_id).await?;
    let defaults = ApplicationMetadata::named(&default_application_name(&organization.name));
    let metadata = ApplicationMetadata::apply(&defaults, &body)?;
    let (application, credentials) = state
        .store
        .create_application(organization_id, &metadata, Environment::Live)
        .await?;
    let profile = state
        .store
        .organization_application(organization_id, application.id)
        .await?;
    Ok(no_store(
        (
            StatusCode::CREATED,
            Json(views::created_application(&profile, &credentials)),
        )
            .into_response(),
    ))
}

#[utoipa::path(get, path = "/auth/v2/organizations/me/{org_id}/applications/{app_id}/", tag = "accounts", security(("bearer" = [])),
    params(("org_id" = String, Path), ("app_id" = String, Path)),
    responses((status = 200, description = "uuid, name, client_id, api_key (null), environment, website_url, redirect_uris, terms_url, privacy_url, description, created_at", body = Value),
              (status = 404, description = "Not an application of the caller's organization")))]
pub async fn get_application(
    State(state): State<AppState>,
    ConsoleUser(user): ConsoleUser,
    Path((org_id, app_id)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let organization_id = own_organization(&user, &org_id)?;
    let profile = state
        .store
        .organization_application(organization_id, application_id(&app_id)?)
        .await?;
    Ok(Json(views::application_profile(&profile)))
}

#[utoipa::path(patch, path = "/auth/v2/organizations/me/{org_id}/applications/{app_id}/", tag = "accounts", security(("bearer" = [])),
    params(("org_id" = String, Path), ("app_id" = String, Path)), request_body = ApplicationRequest,
    responses((status = 200, description = "The updated application; keys never change here", body = Value),
              (status = 400, description = "Field errors", body = Value),
              (status = 404, description = "Not an application of the caller's organization")))]
pub async fn update_application(
    State(state): State<AppState>,
    ConsoleUser(user): ConsoleUser,
    Path((org_id, app_id)): Path<(String, String)>,
    JsonObject(body): JsonObject,
) -> Result<Json<Value>, ApiError> {
    let organization_id = own_organization(&user, &org_id)?;
    let application_id = application_id(&app_id)?;
    let current = state
        .store
        .organization_application(organization_id, application_id)
        .await?;
    let metadata = ApplicationMetadata::apply(&current.metadata, &body)?;
    let updated = state
        .store
        .update_application_metadata(organization_id, application_id, &metadata)
        .await?;
    Ok(Json(views::application_profile(&updated)))
}
