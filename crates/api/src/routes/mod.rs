pub mod aml;
pub mod blocklist;
pub mod branding;
pub mod corrections;
pub mod data_transfer;
pub mod face;
pub mod flow;
pub mod flow_liveness;
pub mod id_verification;
pub mod legacy;
pub mod media;
pub mod oauth;
pub mod organizations;
pub mod programmatic;
pub mod reports;
pub mod sandbox;
pub mod sessions;
pub mod system;
pub mod webhooks;
pub mod workflows;

use crate::error::{not_found, ApiError};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use verity_domain::ids::SessionId;

/// Marks an answer carrying tokens or secrets as not to be cached (RFC 6749 §5.1).
pub fn no_store(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

/// Path ids that are not UUIDs name nothing: 404, as Django's UUID path converter answers.
pub fn session_id(text: &str) -> Result<SessionId, ApiError> {
    SessionId::parse(text).ok_or_else(not_found)
}
