pub mod legacy;
pub mod oauth;
pub mod reports;
pub mod sessions;
pub mod system;
pub mod webhooks;
pub mod workflows;

use crate::error::{not_found, ApiError};
use verity_domain::ids::SessionId;

/// Path ids that are not UUIDs name nothing: 404, as Django's UUID path converter answers.
pub fn session_id(text: &str) -> Result<SessionId, ApiError> {
    SessionId::parse(text).ok_or_else(not_found)
}
