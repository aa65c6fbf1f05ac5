//! The domain's error vocabulary. The HTTP layer maps each variant to a status code and one of the
//! three DRF body shapes in exactly one place (`verity_api::error`).

use crate::fields::FieldErrors;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// Field-keyed validation errors: `{"field": ["message"]}` (400).
    #[error("invalid input: {0:?}")]
    Invalid(FieldErrors),
    /// Errors not tied to a field, answered as a bare JSON array (400).
    #[error("invalid input: {0:?}")]
    InvalidList(Vec<String>),
    /// A business rule refused the request: `{"detail": "..."}` (400).
    #[error("{0}")]
    Rule(String),
    /// The resource does not exist for this caller (404). Other tenants' ids end here too.
    #[error("not found")]
    NotFound,
    /// The caller may not do this (403).
    #[error("{0}")]
    Forbidden(String),
    /// The resource is in a state that refuses this now, though it may accept it later:
    /// `{"detail": "..."}` (409).
    #[error("{0}")]
    Conflict(String),
}

impl From<FieldErrors> for Error {
    fn from(errors: FieldErrors) -> Self {
        Error::Invalid(errors)
    }
}
