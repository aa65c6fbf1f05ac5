//! The OpenAPI document. Paths come from the `#[utoipa::path]` attribute of each handler, which
//! the router registers through `utoipa_axum::routes!`, so a route cannot exist undocumented.
//! The request structs below document bodies only; parsing is done by the domain parsers, which
//! report every bad field in DRF's shape.
#![allow(dead_code)]

use serde_json::Value;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Verity",
        description = "Self-hosted identity verification speaking the Didit API. Authenticate with the `x-api-key` header; the account API (`/auth/v2/organizations/…`) takes a console user's Bearer token from programmatic login.",
        license(name = "Apache-2.0")
    ),
    modifiers(&ApiKeyScheme),
    tags((name = "sessions"), (name = "workflows"), (name = "auth"), (name = "accounts"), (name = "v1"), (name = "v2"), (name = "webhooks"), (name = "data-transfer"), (name = "system"), (name = "sandbox"), (name = "flow"), (name = "customization"), (name = "aml"), (name = "standalone"))
)]
pub struct ApiDoc;

struct ApiKeyScheme;

impl Modify for ApiKeyScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(utoipa::openapi::security::Http::new(
                utoipa::openapi::security::HttpAuthScheme::Bearer,
            )),
        );
    }
}

/// Body of `POST /v3/session/` (spec §3.2). Unknown fields are refused.
#[derive(ToSchema)]
pub struct CreateSessionRequest {
    /// Stable workflow id of the caller's application.
    workflow_id: String,
    vendor_data: Option<String>,
    /// Absolute URL (custom app schemes allowed) the person is sent to after the flow.
    callback: Option<String>,
    /// `initiator` (default), `completer` or `both`.
    callback_method: Option<String>,
    /// A JSON object, or a string holding one; echoed in decisions and webhooks.
    metadata: Option<Value>,
    /// Hosted-flow language, e.g. `en`, `es`, `pt-BR`.
    language: Option<String>,
    /// `{email, send_notification_emails, email_lang, phone}`.
    contact_details: Option<Value>,
    /// `{first_name, last_name, date_of_birth, gender, nationality, country, id_country, poa_country, address, identification_number, ip_address, expected_document_types}`.
    expected_details: Option<Value>,
    /// Base64 JPEG/PNG/WebP/TIFF, at most 2 MB decoded.
    portrait_image: Option<String>,
    /// Sandbox applications only.
    sandbox_scenario: Option<String>,
}

/// Body of `PATCH /v3/session/{id}/update-status/` (spec §3.5).
#[derive(ToSchema)]
pub struct UpdateStatusRequest {
    /// `Approved`, `Declined` or `Resubmitted`.
    new_status: String,
    comment: Option<String>,
    /// `[{node_id, feature}]`; when omitted for `Resubmitted`, nodes that need redoing are chosen.
    nodes_to_resubmit: Option<Vec<Value>>,
    send_email: Option<bool>,
    email_address: Option<String>,
    email_language: Option<String>,
}

/// Body of `POST /v3/sessions/{id}/reviews/`.
#[derive(ToSchema)]
pub struct ReviewNoteRequest {
    comment: String,
    /// Echoed on the note; never changes the session's status.
    new_status: Option<String>,
}

/// Body of `POST /v3/sessions/delete/`.
#[derive(ToSchema)]
pub struct BatchDeleteRequest {
    session_numbers: Option<Vec<Value>>,
    delete_all: Option<bool>,
}

/// Body of `POST`/`PATCH /v3/workflows/` (spec §7.3); the legacy `is_*_enabled` flags are also accepted.
#[derive(ToSchema)]
pub struct WorkflowRequest {
    workflow_label: Option<String>,
    /// `[{feature, config, label}]`, in execution order.
    features: Option<Vec<Value>>,
    workflow_type: Option<String>,
    is_default: Option<bool>,
    /// `draft` or `published`.
    status: Option<String>,
    is_white_label_enabled: Option<bool>,
    is_desktop_allowed: Option<bool>,
    max_retry_attempts: Option<i64>,
    retry_window_days: Option<i64>,
    /// Seconds a session link stays valid.
    session_expiration_time: Option<i64>,
}

/// Body of `POST /v1/session/` (seed 002).
#[derive(ToSchema)]
pub struct V1CreateSessionRequest {
    callback: Option<String>,
    /// One of `OCR`, `OCR + NFC`, `OCR + AML`, `OCR + NFC + AML`, `OCR + FACE`, `OCR + NFC + FACE`,
    /// `OCR + FACE + AML`, `OCR + NFC + FACE + AML`; omitted: the application's default workflow.
    features: Option<String>,
    vendor_data: Option<String>,
}

/// Body of `PATCH /v1/session/{id}/update-status/`.
#[derive(ToSchema)]
pub struct V1UpdateStatusRequest {
    /// `Approved` or `Declined`.
    new_status: String,
    comment: Option<String>,
}

/// Body of `POST /auth/v2/session/` (seed 004).
#[derive(ToSchema)]
pub struct CreateTransferRequest {
    /// Space-separated: names, email, phone, birthdate, nationality, address, document, pictures.
    scope: String,
    vendor_data: Option<String>,
}

#[derive(ToSchema)]
pub struct DestinationRequest {
    label: Option<String>,
    url: String,
    enabled: Option<bool>,
    /// `v1`, `v2` or `v3` (default).
    webhook_version: Option<String>,
    /// Exact event names (spec §6.4); omitted = every event, empty = 400.
    subscribed_events: Option<Vec<String>>,
    /// Also send the Standard Webhooks headers.
    standard_webhooks: Option<bool>,
    /// PATCH only: generate a new secret.
    rotate_secret_key: Option<bool>,
    /// PATCH only, with `rotate_secret_key`: how long the previous secret keeps signing.
    rotation_overlap_seconds: Option<i64>,
}

#[derive(ToSchema)]
pub struct LegacyWebhookRequest {
    webhook_url: Option<String>,
    webhook_version: Option<String>,
    rotate_secret_key: Option<bool>,
    capture_method: Option<String>,
    data_retention_months: Option<i64>,
    allowed_domains: Option<Vec<String>>,
}

#[derive(ToSchema)]
pub struct TestWebhookRequest {
    /// The canned session status (default `Approved`).
    status: Option<String>,
}

/// Body of `POST /auth/v2/programmatic/register/` (spec §3.1).
#[derive(ToSchema)]
pub struct RegisterRequest {
    email: String,
    /// At least 8 characters with an upper-case and a lower-case letter, a digit and one of
    /// `!@#$%^&*()_+-=[]{}|;:,.<>?`.
    password: String,
}

/// Body of `POST /auth/v2/programmatic/verify-email/`.
#[derive(ToSchema)]
pub struct VerifyEmailRequest {
    email: String,
    /// The six characters e-mailed by register or resend-otp (case-insensitive), valid 10 minutes.
    code: String,
}

/// Body of `POST /auth/v2/programmatic/resend-otp/`.
#[derive(ToSchema)]
pub struct ResendCodeRequest {
    email: String,
    /// Accepted for compatibility; not required.
    password: Option<String>,
}

/// Body of `POST /auth/v2/programmatic/login/`.
#[derive(ToSchema)]
pub struct LoginRequest {
    email: String,
    password: String,
}

/// Body of `POST`/`PATCH /auth/v2/organizations/me/{org_id}/applications/…`; every field is
/// optional (a created application without a name is called "<organization name> App").
#[derive(ToSchema)]
pub struct ApplicationRequest {
    name: Option<String>,
    website_url: Option<String>,
    /// Absolute URIs; custom app schemes are allowed.
    redirect_uris: Option<Vec<String>>,
    terms_url: Option<String>,
    privacy_url: Option<String>,
    description: Option<String>,
}
