//! The session PDF report (spec §3.7): `GET /v3/session/{id}/generate-pdf/` with an API key and
//! `GET /v1/session/{id}/generate-pdf/` with a Bearer client token, each also without the slash.

use super::sessions::decision_inputs;
use crate::error::ApiError;
use crate::extract::{BearerTenant, Tenant};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use verity_domain::decision::v3_decision;
use verity_domain::Timestamp;
use verity_report::{ReportImage, SessionReport};

/// Most events a report lists; a longer timeline is cut with a note in the PDF's event count.
const MAX_EVENTS: i64 = 1000;
const MAX_REVIEWS: i64 = 500;

async fn report_pdf(state: &AppState, tenant: &Tenant, id: &str) -> Result<Response, ApiError> {
    let (session, results, _) = decision_inputs(state, tenant, id).await?;
    let app = &tenant.app;
    let decision_reviews = state.store.decision_reviews(app.id, session.id).await?;
    let decision = v3_decision(&session, &results, &decision_reviews, state.public_url());
    let (_, reviews) = state
        .store
        .list_reviews(app.id, session.id, false, MAX_REVIEWS, 0)
        .await?;
    let (_, events) = state
        .store
        .list_events(app.id, session.id, MAX_EVENTS, 0)
        .await?;
    let organization = state.store.organization(app.organization_id).await?;
    let workflow_name = state
        .store
        .workflow(app.id, &session.workflow_version_id.to_string())
        .await
        .ok()
        .map(|w| w.settings.label);
    let mut images = Vec::new();
    if let Some(key) = &session.portrait_media_key {
        if let Some(bytes) = state.store.media.get(key).await? {
            images.push(ReportImage {
                label: "Reference portrait (portrait_image)".to_owned(),
                bytes,
            });
        }
    }
    let filename = format!("session_{}.pdf", session.id);
    let report = SessionReport {
        organization: organization.name,
        application: app.name.clone(),
        workflow_name,
        session,
        decision,
        reviews,
        events,
        images,
        generated_at: Timestamp::now(),
    };
    // Rendering is CPU work (font subsetting, image scaling): keep it off the async workers.
    let pdf = tokio::task::spawn_blocking(move || verity_report::render(&report))
        .await
        .map_err(|e| ApiError::Internal(e.into()))?
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename={filename}"),
            ),
        ],
        pdf,
    )
        .into_response())
}

#[utoipa::path(get, path = "/v3/session/{session_id}/generate-pdf/", tag = "sessions", security(("api_key" = [])),
    params(("session_id" = String, Path)),
    responses((status = 200, description = "The session report (`application/pdf`, attachment `session_{id}.pdf`)", content_type = "application/pdf"),
              (status = 404, description = "Not found")))]
pub async fn generate_pdf(
    State(state): State<AppState>,
    tenant: Tenant,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    report_pdf(&state, &tenant, &id).await
}

#[utoipa::path(get, path = "/v1/session/{session_id}/generate-pdf/", tag = "v1", security(("bearer" = [])),
    params(("session_id" = String, Path)),
    responses((status = 200, description = "The session report (`application/pdf`)", content_type = "application/pdf"),
              (status = 404, description = "Not found")))]
pub async fn v1_generate_pdf(
    State(state): State<AppState>,
    BearerTenant(tenant): BearerTenant,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    report_pdf(&state, &tenant, &id).await
}
