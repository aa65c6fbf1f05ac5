//! The hosted flow's JSON API (docs/flow-api.md): what the verification pages call, authenticated
//! by the session token in the `X-Session-Token` header (never an API key). Exempt from the
//! API-key rate limits; each session has its own budget (and each client IP one for unknown
//! tokens), so one person cannot hammer the server through a link.

use crate::error::{coded, ApiError};
use crate::extract::ClientIp;
use crate::routes::flow_liveness::needs_active_liveness;
use crate::state::AppState;
use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde_json::{json, Value};
use verity_domain::capture::{check_capture, steps_json, CaptureKind};
use verity_domain::rerun::RunPlan;
use verity_domain::sandbox::choose;
use verity_domain::session::{Environment, Session};
use verity_domain::status::SessionStatus;
use verity_domain::Timestamp;

pub const TOKEN_HEADER: &str = "x-session-token";
/// Requests per minute one session may make, uploads among them, and unknown-token lookups
/// per client IP.
pub const SESSION_REQUESTS_PER_MINUTE: u32 = 300;
pub const SESSION_UPLOADS_PER_MINUTE: u32 = 60;
pub const UNKNOWN_TOKENS_PER_IP_PER_MINUTE: u32 = 60;

/// The session a flow request is for. Refusals: 401 `session_token_missing`, 404
/// `session_not_found`, 410 `session_expired`, 429 (per-session budget).
pub struct FlowSession(pub Session);

impl FromRequestParts<AppState> for FlowSession {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let ip = ClientIp::from_request_parts(parts, state).await?;
        let token = parts
            .headers
            .get(TOKEN_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or_else(|| {
                coded(
                    StatusCode::UNAUTHORIZED,
                    "session_token_missing",
                    "Send the session token in the X-Session-Token header.",
                )
            })?;
        let Some(session) = state.store.session_by_token(token).await? else {
            state
                .flow_ip_limiter
                .check(&[(ip.0, UNKNOWN_TOKENS_PER_IP_PER_MINUTE)])?;
            return Err(coded(
                StatusCode::NOT_FOUND,
                "session_not_found",
                "No verification session has this token.",
            ));
        };
        let upload =
            parts.method == axum::http::Method::POST && parts.uri.path().contains("/captures/");
        let mut budgets = vec![((session.id.0, 0u8), SESSION_REQUESTS_PER_MINUTE)];
        if upload {
            budgets.push(((session.id.0, 1u8), SESSION_UPLOADS_PER_MINUTE));
        }
        state.flow_limiter.check(&budgets)?;
        let mut past_expiry = session.expires_at.micros() <= Timestamp::now().micros()
            && matches!(
                session.status,
                SessionStatus::NotStarted | SessionStatus::InProgress
            );
        if past_expiry {
            // A person who submitted in time keeps following the processing.
            let submitted = state.store.latest_job(session.id).await?;
            past_expiry = submitted.is_none_or(|job| job.state == "done");
        }
        if session.status == SessionStatus::Expired || past_expiry {
            return Err(coded(
                StatusCode::GONE,
                "session_expired",
                "This verification link has expired. Ask for a new one.",
            ));
        }
        Ok(FlowSession(session))
    }
}

pub(crate) fn not_in_progress(session: &Session, what: &str) -> ApiError {
    coded(
        StatusCode::CONFLICT,
        "session_not_in_progress",
        format!(
            "{what} is possible only while the session is In Progress (it is {}).",
            session.status
        ),
    )
}

/// The flow's answer to a store refusal: a submitted session's frozen evidence (409
/// `session_submitted`), or a session no longer In Progress (409 `session_not_in_progress`).
pub(crate) fn refusal(session: &Session, what: &str, error: verity_store::Error) -> ApiError {
    match error {
        verity_store::Error::Domain(verity_domain::Error::Conflict(detail)) => {
            coded(StatusCode::CONFLICT, "session_submitted", detail)
        }
        verity_store::Error::Domain(verity_domain::Error::Rule(_)) => {
            not_in_progress(session, what)
        }
        other => other.into(),
    }
}

/// The callback URL with `verificationSessionId` and `status` (issue 4), once decided.
fn callback_url(session: &Session) -> Option<String> {
    let callback = session.callback.as_ref()?;
    let mut url = url::Url::parse(callback).ok()?;
    url.query_pairs_mut()
        .append_pair("verificationSessionId", &session.id.to_string())
        .append_pair("status", session.status.as_str());
    Some(url.to_string())
}

async fn processing_json(state: &AppState, session: &Session) -> Result<Value, ApiError> {
    Ok(match state.store.latest_job(session.id).await? {
        None => Value::Null,
        Some(job) => json!({
            "state": job.state,
            "waiting_for_engine": job.waiting_for,
            "nodes": job.nodes,
            "done_nodes": job.done_nodes,
            "submitted_at": job.submitted_at,
            "finished_at": job.finished_at,
            "processing_ms": job.processing_ms,
        }),
    })
}

async fn state_json(state: &AppState, session: &Session) -> Result<Value, ApiError> {
    let app = state.store.application(session.application_id).await?;
    let organization = state.store.organization(app.organization_id).await?;
    let settings = state
        .store
        .pinned_workflow(session.application_id, session.workflow_version_id)
        .await?;
    let plan = RunPlan::of(session);
    let nodes: Vec<_> = session
        .nodes
        .iter()
        .filter(|n| plan.steps.contains(&n.node_id))
        .cloned()
        .collect();
    let config = |node_id: &str| {
        settings
            .node(node_id)
            .map(|n| Value::Object(n.config.clone()))
    };
    let captures: Vec<Value> = state
        .store
        .captures(session.id)
        .await?
        .iter()
        .map(|c| json!({"kind": c.kind.as_str(), "content_type": c.content_type, "size_bytes": c.size_bytes}))
        .collect();
    let sandbox = (session.environment == Environment::Sandbox).then(|| {
        let scenario = choose(
            session.sandbox_scenario.as_deref(),
            session.contact_details.as_ref(),
        );
        json!({
            "scenario": scenario.slug,
            "banner": "Test mode: do not use real documents or personal data.",
        })
    });
    Ok(json!({
        "session_id": session.id,
        "session_number": session.number,
        "status": session.status,
        "environment": session.environment.as_str(),
        "language": session.language.clone().unwrap_or_else(|| "en".to_owned()),
        "organization": {"name": organization.name},
        "application": {"name": app.name},
        "workflow": {"label": settings.label, "is_desktop_allowed": settings.is_desktop_allowed},
        "callback": session.callback,
        "callback_method": session.callback_method.as_str(),
        "callback_url": if session.status.is_decided() { callback_url(session) } else { None },
        "expires_at": session.expires_at,
        "steps": steps_json(&nodes, &config, session.expected_details.as_ref()),
        "captures": captures,
        "resubmit_info": session.resubmit_info,
        "sandbox": sandbox,
        "processing": processing_json(state, session).await?,
    }))
}

#[utoipa::path(get, path = "/flow/session/", tag = "flow",
    params(("X-Session-Token" = String, Header, description = "The session token of the hosted link")),
    responses((status = 200, description = "Session, steps to complete, captures, processing state", body = Value),
              (status = 401, description = "session_token_missing"), (status = 404, description = "session_not_found"),
              (status = 410, description = "session_expired")))]
pub async fn flow_state(
    State(state): State<AppState>,
    FlowSession(session): FlowSession,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(state_json(&state, &session).await?))
}

#[utoipa::path(post, path = "/flow/session/start/", tag = "flow",
    params(("X-Session-Token" = String, Header)),
    responses((status = 200, description = "Not Started (or Resubmitted) → In Progress, with its status.updated event; idempotent", body = Value),
              (status = 404, description = "session_not_found"), (status = 410, description = "session_expired")))]
pub async fn flow_start(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    FlowSession(session): FlowSession,
) -> Result<Json<Value>, ApiError> {
    let user_agent = headers
        .get(axum::http::header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .map(|ua| ua.chars().take(512).collect::<String>());
    let device = json!({"ip_address": ip.to_string(), "user_agent": user_agent});
    let session = state.store.start_flow(&session, device).await?;
    Ok(Json(state_json(&state, &session).await?))
}

#[utoipa::path(post, path = "/flow/session/captures/{kind}/", tag = "flow",
    params(("X-Session-Token" = String, Header),
           ("kind" = String, Path, description = "document_front | document_back | selfie | poa_document (a live ACTIVE_3D session's selfie comes from its liveness frames)")),
    request_body(content = Vec<u8>, description = "The raw file: JPEG, PNG or WebP (≤ 5 MB); poa_document also PDF (≤ 15 MB)", content_type = "application/octet-stream"),
    responses((status = 201, description = "Stored (replacing an earlier capture of the kind)", body = Value),
              (status = 400, description = "unknown_capture_kind, capture_not_needed, selfie_from_liveness_challenge, empty_upload, unreadable_image"),
              (status = 409, description = "session_not_in_progress; session_submitted (the submitted captures are frozen until a decision or a resubmission)"),
              (status = 413, description = "file_too_large, image_dimensions_too_large"),
              (status = 415, description = "unsupported_file_type")))]
pub async fn flow_capture(
    State(state): State<AppState>,
    FlowSession(session): FlowSession,
    Path(kind): Path<String>,
    body: Result<Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let kind = CaptureKind::parse(&kind).ok_or_else(|| {
        coded(
            StatusCode::BAD_REQUEST,
            "unknown_capture_kind",
            "Capture kinds are document_front, document_back, selfie and poa_document.",
        )
    })?;
    if session.status != SessionStatus::InProgress {
        return Err(not_in_progress(&session, "Uploading"));
    }
    if !RunPlan::of(&session).takes(kind) {
        return Err(coded(
            StatusCode::BAD_REQUEST,
            "capture_not_needed",
            format!(
                "This session's steps do not take a {} capture.",
                kind.as_str()
            ),
        ));
    }
    if kind == CaptureKind::Selfie && needs_active_liveness(&state, &session).await? {
        // The selfie must be one of the frames the liveness challenge checks.
        return Err(coded(
            StatusCode::BAD_REQUEST,
            "selfie_from_liveness_challenge",
            "In this verification the selfie is taken during the liveness challenge.",
        ));
    }
    let bytes = body.map_err(|rejection| {
        if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
            coded(
                StatusCode::PAYLOAD_TOO_LARGE,
                "file_too_large",
                format!(
                    "The file is larger than {} MB.",
                    kind.max_bytes() / (1024 * 1024)
                ),
            )
        } else {
            coded(
                StatusCode::BAD_REQUEST,
                "unreadable_upload",
                rejection.body_text(),
            )
        }
    })?;
    let checked = check_capture(kind, bytes.to_vec())?;
    let (width, height) = (checked.width, checked.height);
    let stored = state
        .store
        .store_capture(&session, kind, checked)
        .await
        .map_err(|error| refusal(&session, "Uploading", error))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "kind": kind.as_str(),
            "content_type": stored.content_type,
            "size_bytes": stored.size_bytes,
            "width": width,
            "height": height,
        })),
    ))
}

#[utoipa::path(post, path = "/flow/session/submit/", tag = "flow",
    params(("X-Session-Token" = String, Header)),
    responses((status = 202, description = "Processing enqueued (or already enqueued: idempotent)", body = Value),
              (status = 200, description = "Already decided: the current status", body = Value),
              (status = 400, description = "missing_captures"), (status = 409, description = "session_not_in_progress")))]
pub async fn flow_submit(
    State(state): State<AppState>,
    FlowSession(session): FlowSession,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if session.status != SessionStatus::InProgress {
        if state.store.latest_job(session.id).await?.is_some() {
            // A repeat after the decision: answer where the session is.
            return Ok((StatusCode::OK, Json(status_json(&state, &session).await?)));
        }
        return Err(not_in_progress(&session, "Submitting"));
    }
    let plan = RunPlan::of(&session);
    let stored: Vec<CaptureKind> = state
        .store
        .captures(session.id)
        .await?
        .iter()
        .map(|c| c.kind)
        .collect();
    let mut missing = plan.missing(&session, &stored);
    if needs_active_liveness(&state, &session).await?
        && state.store.submitted_liveness(session.id).await?.is_none()
    {
        missing.push("liveness_frames");
    }
    if !missing.is_empty() {
        return Err(coded(
            StatusCode::BAD_REQUEST,
            "missing_captures",
            format!("Capture these first: {}.", missing.join(", ")),
        ));
    }
    let submitted = state
        .store
        .submit_flow(&session, &plan.nodes)
        .await
        .map_err(|error| refusal(&session, "Submitting", error))?;
    let session = state
        .store
        .session(session.application_id, session.id)
        .await?;
    let mut body = status_json(&state, &session).await?;
    body["enqueued"] = json!(submitted.enqueued);
    body["job_id"] = json!(submitted.job_id);
    Ok((StatusCode::ACCEPTED, Json(body)))
}

async fn status_json(state: &AppState, session: &Session) -> Result<Value, ApiError> {
    Ok(json!({
        "session_id": session.id,
        "status": session.status,
        "decided": session.status.is_decided(),
        "callback_url": if session.status.is_decided() { callback_url(session) } else { None },
        "processing": processing_json(state, session).await?,
    }))
}

#[utoipa::path(get, path = "/flow/session/status/", tag = "flow",
    params(("X-Session-Token" = String, Header)),
    responses((status = 200, description = "Status for polling: {status, decided, callback_url, processing}", body = Value)))]
pub async fn flow_status(
    State(state): State<AppState>,
    FlowSession(session): FlowSession,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(status_json(&state, &session).await?))
}
