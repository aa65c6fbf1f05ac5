//! Media of a session as API callers see it: the image URLs in decisions point here.

use super::session_id;
use crate::error::{not_found, ApiError};
use crate::extract::Tenant;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use verity_domain::capture::CaptureKind;

#[utoipa::path(get, path = "/v3/session/{session_id}/media/{name}/", tag = "sessions",
    security(("api_key" = [])),
    params(("session_id" = String, Path), ("name" = String, Path, description = "document_front | document_back | selfie | poa_document | portrait | document_portrait")),
    responses((status = 200, description = "The stored file (EXIF removed at upload)", content_type = "application/octet-stream"),
              (status = 404, description = "Not found (or another application's session)")))]
pub async fn session_media(
    State(state): State<AppState>,
    tenant: Tenant,
    Path((id, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let session = state.store.session(tenant.app.id, session_id(&id)?).await?;
    let (key, content_type) = if name == verity_pipeline::DOCUMENT_PORTRAIT {
        // Cropped by the document engine from the ID document (JPEG), not an upload.
        (
            verity_pipeline::document_portrait_key(&session),
            "image/jpeg".to_owned(),
        )
    } else if name == "portrait" {
        let key = session.portrait_media_key.clone().ok_or_else(not_found)?;
        let content_type = match key.rsplit('.').next() {
            Some("jpg") => "image/jpeg",
            Some("png") => "image/png",
            Some("webp") => "image/webp",
            _ => "image/tiff",
        };
        (key, content_type.to_owned())
    } else {
        let kind = CaptureKind::parse(&name).ok_or_else(not_found)?;
        let capture = state
            .store
            .captures(session.id)
            .await?
            .into_iter()
            .find(|c| c.kind == kind)
            .ok_or_else(not_found)?;
        (capture.object_key, capture.content_type)
    };
    let bytes = state.store.media.get(&key).await?.ok_or_else(not_found)?;
    Ok((
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "private, no-store".to_owned()),
        ],
        bytes,
    )
        .into_response())
}
