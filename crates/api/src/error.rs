//! The one place where errors become HTTP responses. Bodies use the three DRF shapes of spec
//! §1.4; internal errors are logged and answered as a bare 500 with no detail.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use verity_domain::{Error as DomainError, FieldErrors};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// No credentials at all (403, as Didit answers).
    #[error("authentication credentials were not provided")]
    NotAuthenticated,
    /// Credentials that do not authenticate: unknown, revoked or expired (401).
    #[error("incorrect authentication credentials")]
    AuthenticationFailed,
    /// A Bearer token that is not one of ours, is tampered with, or has expired (401).
    #[error("invalid token")]
    InvalidToken,
    /// OAuth client authentication failed (401, seed 000's detail).
    #[error("invalid client authentication: {0}")]
    InvalidClient(&'static str),
    #[error("malformed JSON: {0}")]
    MalformedJson(String),
    #[error("request body too large")]
    PayloadTooLarge { limit: usize },
    #[error("rate limited")]
    RateLimited {
        limit: u32,
        retry_after_seconds: u64,
        reset_epoch_seconds: u64,
    },
    /// Something with its own pace was asked for too soon (a code resend within the cooldown, a
    /// login on a locked account): 429 with `Retry-After`.
    #[error("retry later: {detail}")]
    RetryLater {
        detail: String,
        retry_after_seconds: u64,
    },
    /// An e-mail and password that do not log in (401); unknown addresses answer the same.
    #[error("invalid login")]
    InvalidLogin,
    /// No SMTP relay is configured, so verification codes cannot be sent (503).
    #[error("mail is disabled")]
    MailDisabled,
    /// The SMTP relay refused the message or could not be reached (500, as Didit answers when
    /// delivery fails); the mailer logged the cause.
    #[error("mail delivery failed")]
    MailDelivery,
    /// A verification engine whose model files are not installed (503 with a detail naming it).
    #[error("engine unavailable: {0}")]
    EngineUnavailable(&'static str),
    #[error("method not allowed")]
    MethodNotAllowed(String),
    /// Heavy work whose permits stayed taken for the whole allowed wait (503 with `Retry-After`).
    #[error("overloaded")]
    Overloaded { retry_after_seconds: u64 },
    /// A refusal of the hosted-flow API: any 4xx status with `{"detail", "code"}`, the code
    /// machine-readable (docs/flow-api.md lists them).
    #[error("{code}: {detail}")]
    Coded {
        status: StatusCode,
        code: &'static str,
        detail: String,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<verity_store::Error> for ApiError {
    fn from(error: verity_store::Error) -> Self {
        match error {
            verity_store::Error::Domain(domain) => ApiError::Domain(domain),
            verity_store::Error::Internal(internal) => ApiError::Internal(internal),
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::Domain(DomainError::Invalid(errors))
    }
}

impl From<verity_domain::capture::CaptureError> for ApiError {
    fn from(refusal: verity_domain::capture::CaptureError) -> Self {
        let status = StatusCode::from_u16(refusal.status).unwrap_or(StatusCode::BAD_REQUEST);
        coded(status, refusal.code, refusal.message)
    }
}

/// A coded refusal (hosted-flow API).
pub fn coded(status: StatusCode, code: &'static str, detail: impl Into<String>) -> ApiError {
    ApiError::Coded {
        status,
        code,
        detail: detail.into(),
    }
}

pub fn not_found() -> ApiError {
    ApiError::Domain(DomainError::NotFound)
}

fn detail(status: StatusCode, text: impl Into<String>) -> Response {
    (status, axum::Json(json!({"detail": text.into()}))).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        match self {
            ApiError::Domain(DomainError::Invalid(errors)) => {
                (StatusCode::BAD_REQUEST, axum::Json(errors.to_json())).into_response()
            }
            ApiError::Domain(DomainError::InvalidList(messages)) => {
                (StatusCode::BAD_REQUEST, axum::Json(messages)).into_response()
            }
            ApiError::Domain(DomainError::Rule(text)) => detail(StatusCode::BAD_REQUEST, text),
            ApiError::Domain(DomainError::NotFound) => detail(StatusCode::NOT_FOUND, "Not found."),
            ApiError::Domain(DomainError::Forbidden(text)) => detail(StatusCode::FORBIDDEN, text),
            ApiError::Domain(DomainError::Conflict(text)) => detail(StatusCode::CONFLICT, text),
            ApiError::NotAuthenticated => detail(
                StatusCode::FORBIDDEN,
                "Authentication credentials were not provided.",
            ),
            ApiError::AuthenticationFailed => detail(
                StatusCode::UNAUTHORIZED,
                "Incorrect authentication credentials.",
            ),
            ApiError::InvalidToken => detail(
                StatusCode::UNAUTHORIZED,
                "Given token is not valid or has expired.",
            ),
            ApiError::InvalidClient(reason) => {
                let mut response = detail(StatusCode::UNAUTHORIZED, reason);
                response.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"verity\""),
                );
                response
            }
            ApiError::MalformedJson(message) => detail(
                StatusCode::BAD_REQUEST,
                format!("JSON parse error - {message}"),
            ),
            ApiError::PayloadTooLarge { limit } => detail(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Request body is too large: the limit is {limit} bytes."),
            ),
            ApiError::RetryLater {
                detail: text,
                retry_after_seconds,
            } => {
                let mut response = detail(StatusCode::TOO_MANY_REQUESTS, text);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
                response
            }
            ApiError::InvalidLogin => detail(StatusCode::UNAUTHORIZED, "Invalid email or password."),
            ApiError::MailDisabled => detail(
                StatusCode::SERVICE_UNAVAILABLE,
                "Registration is unavailable: this server has no SMTP relay configured to send verification codes.",
            ),
            ApiError::MailDelivery => detail(
                StatusCode::INTERNAL_SERVER_ERROR,
                "The verification email could not be sent.",
            ),
            ApiError::Coded {
                status,
                code,
                detail: text,
            } => (status, axum::Json(json!({"detail": text, "code": code}))).into_response(),
            ApiError::EngineUnavailable(text) => detail(StatusCode::SERVICE_UNAVAILABLE, text),
            ApiError::Overloaded {
                retry_after_seconds,
            } => {
                let mut response = detail(
                    StatusCode::SERVICE_UNAVAILABLE,
                    format!("The server is busy. Retry in {retry_after_seconds} seconds."),
                );
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
                response
            }
            ApiError::MethodNotAllowed(method) => detail(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("Method \"{method}\" not allowed."),
            ),
            ApiError::RateLimited {
                limit,
                retry_after_seconds,
                reset_epoch_seconds,
            } => {
                let mut response = detail(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "Request was throttled. Expected available in {retry_after_seconds} seconds."
                    ),
                );
                let headers = response.headers_mut();
                headers.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds));
                headers.insert("x-ratelimit-limit", HeaderValue::from(limit));
                headers.insert("x-ratelimit-remaining", HeaderValue::from(0u32));
                headers.insert("x-ratelimit-reset", HeaderValue::from(reset_epoch_seconds));
                response
            }
            ApiError::Internal(error) => {
                tracing::error!(error = %format!("{error:#}"), "internal error");
                StatusCode::INTERNAL_SERVER_ERROR.into_response()
            }
        }
    }
}
