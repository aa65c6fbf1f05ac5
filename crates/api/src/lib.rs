//! Verity's HTTP layer: the Didit-compatible API on axum. Handlers are thin: they take a
//! [`extract::Tenant`] (authenticated, rate-limited, scoped to one application) or, on the
//! account API, an [`extract::ConsoleUser`] (scoped to one organization), parse input with the
//! domain's parsers, call the store, and shape JSON. Errors become responses in one place,
//! [`error::ApiError`].
//!
//! The router needs connection info (`into_make_service_with_connect_info::<SocketAddr>()`):
//! registration is limited per client IP.

pub mod error;
pub mod extract;
pub mod gate;
pub mod mail;
pub mod oauth;
mod openapi;
pub mod pages;
pub mod ratelimit;
mod routes;
mod state;
mod views;

pub use ratelimit::RateLimits;
pub use state::{ApiConfig, AppState};

use axum::extract::{DefaultBodyLimit, MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use error::ApiError;
use routes::aml;
use routes::{
    blocklist, branding, corrections, data_transfer, face, flow, flow_liveness, id_verification,
    legacy, media, oauth as oauth_routes, organizations, programmatic, reports, sandbox, sessions,
    system, webhooks, workflows,
};
use std::sync::Arc;
use tower_http::catch_panic::CatchPanicLayer;
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Builds the whole HTTP application.
pub fn router(state: AppState) -> Router {
    let limit = state.config.max_body_bytes;
    let request_timeout = state.config.request_timeout;
    let (router, document) = OpenApiRouter::<AppState>::with_openapi(openapi::ApiDoc::openapi())
        .routes(routes!(system::healthcheck))
        .routes(routes!(sessions::create_session))
        .routes(routes!(sessions::get_session))
        .routes(routes!(sessions::get_decision))
        .routes(routes!(sessions::list_sessions))
        .routes(routes!(sessions::update_status))
        .routes(routes!(sessions::delete_session))
        .routes(routes!(sessions::delete_sessions))
        .routes(routes!(sessions::list_reviews, sessions::add_review))
        .routes(routes!(sessions::list_events))
        .routes(routes!(
            workflows::list_workflows,
            workflows::create_workflow
        ))
        .routes(routes!(
            workflows::get_workflow,
            workflows::update_workflow,
            workflows::delete_workflow
        ))
        .routes(routes!(oauth_routes::token))
        .routes(routes!(oauth_routes::introspect))
        .routes(routes!(oauth_routes::jwks))
        .routes(routes!(programmatic::register))
        .routes(routes!(programmatic::verify_email))
        .routes(routes!(programmatic::resend_code))
        .routes(routes!(programmatic::login))
        .routes(routes!(organizations::my_organizations))
        .routes(routes!(
            organizations::list_applications,
            organizations::create_application
        ))
        .routes(routes!(
            organizations::get_application,
            organizations::update_application
        ))
        .routes(routes!(legacy::v1_create_session))
        .routes(routes!(legacy::v1_get_decision))
        .routes(routes!(legacy::v1_update_status))
        .routes(routes!(legacy::v2_create_session))
        .routes(routes!(legacy::v2_get_decision))
        .routes(routes!(
            webhooks::list_destinations,
            webhooks::create_destination
        ))
        .routes(routes!(
            webhooks::get_destination,
            webhooks::update_destination,
            webhooks::delete_destination
        ))
        .routes(routes!(webhooks::test_destination))
        .routes(routes!(
            webhooks::get_legacy_webhook,
            webhooks::update_legacy_webhook
        ))
        .routes(routes!(webhooks::list_session_webhooks))
        .routes(routes!(webhooks::get_session_webhook))
        .routes(routes!(webhooks::resend_session_webhook))
        .routes(routes!(reports::generate_pdf))
        .routes(routes!(reports::v1_generate_pdf))
        .routes(routes!(data_transfer::create_transfer))
        .routes(routes!(data_transfer::transfer_status))
        .routes(routes!(data_transfer::transfer_decision))
        .routes(routes!(data_transfer::transfer_picture))
        .routes(routes!(media::session_media))
        .routes(routes!(branding::get_branding, branding::update_branding))
        .routes(routes!(branding::branding_file))
        .routes(routes!(corrections::update_data))
        .routes(routes!(corrections::update_poa_data))
        .routes(routes!(corrections::update_feature_status))
        .routes(routes!(aml::screen))
        .routes(routes!(aml::datasets))
        .routes(routes!(aml::stored_screening))
        .routes(routes!(aml::update_hit_status))
        .routes(routes!(aml::bulk_update_hit_status))
        .routes(routes!(blocklist::add))
        .routes(routes!(blocklist::remove))
        .routes(routes!(blocklist::list))
        .routes(routes!(sandbox::scenarios))
        .routes(routes!(sandbox::arm))
        .routes(routes!(flow::flow_state))
        .routes(routes!(flow::flow_start))
        .routes(routes!(flow::flow_submit))
        .routes(routes!(flow::flow_status))
        .merge(
            // Uploads carry files up to 15 MB: their own body limit, checked with clear codes.
            with_body_limit(
                OpenApiRouter::new().routes(routes!(flow::flow_capture)),
                verity_domain::capture::POA_MAX_BYTES + 1,
            ),
        )
        .routes(routes!(flow_liveness::flow_liveness_challenge))
        .merge(with_body_limit(
            OpenApiRouter::new().routes(routes!(flow_liveness::flow_liveness_frames)),
            flow_liveness::FRAMES_BODY_LIMIT,
        ))
        .merge(
            // Two document images at their 5 MB cap; each file is checked on its own.
            with_body_limit(
                OpenApiRouter::new().routes(routes!(id_verification::id_verification)),
                id_verification::BODY_LIMIT,
            ),
        )
        .merge(
            // Standalone face APIs: multipart bodies of up to two 5 MB images.
            with_body_limit(
                OpenApiRouter::new()
                    .routes(routes!(face::passive_liveness))
                    .routes(routes!(face::face_match))
                    .routes(routes!(face::face_search))
                    .routes(routes!(face::age_estimation)),
                face::FACE_BODY_MAX_BYTES,
            ),
        )
        .split_for_parts();
    let document = Arc::new(document);
    router
        // Spec §2: the list is also called without its trailing slash.
        .route("/v3/sessions", get(sessions::list_sessions))
        .route("/auth/v2/token", axum::routing::post(oauth_routes::token))
        .route(
            "/v3/session/{session_id}/generate-pdf",
            get(reports::generate_pdf),
        )
        .route(
            "/v1/session/{session_id}/generate-pdf",
            get(reports::v1_generate_pdf),
        )
        .route(
            "/v3/session/{session_id}/webhook/{webhook_uuid}/",
            get(webhooks::get_session_webhook),
        )
        // Seed 004 posts without the trailing slash; Didit's demo reads with it.
        .route(
            "/auth/v2/session",
            axum::routing::post(data_transfer::create_transfer),
        )
        .route(
            "/auth/v2/session/{session_id}/status",
            get(data_transfer::transfer_status),
        )
        .route(
            "/auth/v2/session/{session_id}/decision",
            get(data_transfer::transfer_decision),
        )
        .merge(pages::data_transfer::routes())
        .merge(pages::flow::routes())
        .merge(pages::assets())
        .route(
            "/openapi.json",
            get(move || async move { Json(document.as_ref().clone()) }),
        )
        .fallback(|| async { error::not_found() })
        .method_not_allowed_fallback(|request: Request| async move {
            ApiError::MethodNotAllowed(request.method().to_string())
        })
        .layer(axum::middleware::from_fn_with_state(
            request_timeout,
            answer_in_time,
        ))
        .layer(axum::middleware::from_fn(log_request))
        .layer(DefaultBodyLimit::max(limit))
        .layer(Extension(extract::BodyLimit(limit)))
        .layer(CatchPanicLayer::custom(|_panic| {
            ApiError::Internal(anyhow::anyhow!("handler panicked")).into_response()
        }))
        .with_state(state)
}

/// Routes with their own body limit, made visible to the extractors so a 413 can state it.
fn with_body_limit(router: OpenApiRouter<AppState>, limit: usize) -> OpenApiRouter<AppState> {
    router
        .layer(DefaultBodyLimit::max(limit))
        .layer(Extension(extract::BodyLimit(limit)))
}

/// Answers 408 `request_timeout` when a request (its body read included) is not answered within
/// `http.request_timeout_seconds`: a client that stalls its body does not hold a connection and
/// its buffers forever.
async fn answer_in_time(
    axum::extract::State(limit): axum::extract::State<std::time::Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(limit, next.run(request)).await {
        Ok(response) => response,
        Err(_) => error::coded(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            "request_timeout",
            format!(
                "The request was not completed within {} seconds.",
                limit.as_secs()
            ),
        )
        .into_response(),
    }
}

/// Logs method, route template, status and latency. Never the concrete path or query: they can
/// carry identifiers such as `vendor_data`.
async fn log_request(request: Request, next: Next) -> Response {
    let started = std::time::Instant::now();
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "<unmatched>".to_owned());
    let response = next.run(request).await;
    tracing::debug!(
        %method,
        route,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}
