use verity_domain::FieldErrors;

/// Storage errors: either a domain rule the caller broke, or an internal failure that the HTTP
/// layer logs and answers as a bare 500.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Domain(#[from] verity_domain::Error),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type Result<T> = std::result::Result<T, Error>;

impl From<sqlx::Error> for Error {
    fn from(error: sqlx::Error) -> Self {
        Error::Internal(error.into())
    }
}

impl From<sqlx::migrate::MigrateError> for Error {
    fn from(error: sqlx::migrate::MigrateError) -> Self {
        Error::Internal(error.into())
    }
}

impl From<object_store::Error> for Error {
    fn from(error: object_store::Error) -> Self {
        Error::Internal(error.into())
    }
}

impl From<serde_json::Error> for Error {
    fn from(error: serde_json::Error) -> Self {
        Error::Internal(error.into())
    }
}

impl From<FieldErrors> for Error {
    fn from(errors: FieldErrors) -> Self {
        Error::Domain(verity_domain::Error::Invalid(errors))
    }
}

pub(crate) fn not_found() -> Error {
    Error::Domain(verity_domain::Error::NotFound)
}

pub(crate) fn rule(message: impl Into<String>) -> Error {
    Error::Domain(verity_domain::Error::Rule(message.into()))
}

/// A stored value that does not parse means the database was written by something else or is
/// corrupt: an internal error, never the caller's fault.
pub(crate) fn corrupt(what: &str, value: &str) -> Error {
    Error::Internal(anyhow::anyhow!("corrupt {what} in database: {value:?}"))
}
