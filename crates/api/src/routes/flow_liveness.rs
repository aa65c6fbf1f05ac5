//! The ACTIVE_3D liveness challenge of the hosted flow (docs/flow-api.md): the page asks for a
//! challenge, the server draws a random sequence of head poses with a nonce and a time window
//! (`verity_face::ActiveChallenge`), the page films the person following the prompts and sends
//! the frames back once; the LIVENESS node checks them (`verity_pipeline::face`).
//!
//! The server's clock bounds the page's: every frame's offset from the issue must fit between
//! the issue and the frames' arrival, and the arrival must be inside the window. The selfie the
//! other face steps use is one of these frames, so a still photo cannot be swapped in beside a
//! genuine head turning.

use crate::error::{coded, ApiError};
use crate::extract::FormBody;
use crate::routes::flow::{not_in_progress, refusal, FlowSession};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use verity_domain::capture::CaptureKind;
use verity_domain::rerun::RunPlan;
use verity_domain::session::{Environment, Session};
use verity_domain::status::SessionStatus;
use verity_domain::workflow::Feature;
use verity_domain::{FieldErrors, Timestamp};
use verity_face::{ActiveChallenge, ActiveConfig};
use verity_store::ChallengeIssue;

/// Challenges one session may be issued. Each is a fresh draw of the sequence, so the budget
/// bounds the chance that a recording made in advance fits one: with four steps there are
/// 4·3·3·3 = 108 sequences, and three draws match a given recording with probability < 3 %.
pub const CHALLENGES_PER_SESSION: usize = 3;
/// Most frames one challenge takes (the page films about 5 per second for about 9 seconds).
pub const MAX_FRAMES: usize = 90;
/// Body limit of the frames upload.
pub const FRAMES_BODY_LIMIT: usize = 24 * 1024 * 1024;
/// How long the page shows each prompt, and how often it takes a frame (within the engine's
/// `max_gap_ms` with room for a slow phone).
pub const STEP_MS: u64 = 1_800;
pub const FRAME_INTERVAL_MS: u64 = 200;

/// The challenge parameters of the hosted flow: the engine's defaults with four poses.
pub fn hosted_flow_config() -> ActiveConfig {
    ActiveConfig {
        steps: 4,
        ..ActiveConfig::default()
    }
}

/// Whether this submission of a live session has an ACTIVE_3D LIVENESS node to run.
pub async fn needs_active_liveness(state: &AppState, session: &Session) -> Result<bool, ApiError> {
    if session.environment != Environment::Live {
        return Ok(false);
    }
    let steps = RunPlan::of(session).steps;
    let settings = state
        .store
        .pinned_workflow(session.application_id, session.workflow_version_id)
        .await?;
    Ok(session
        .nodes
        .iter()
        .filter(|n| n.feature == Feature::Liveness && steps.contains(&n.node_id))
        .filter_map(|n| settings.node(&n.node_id))
        .any(|node| node.liveness_method() == "ACTIVE_3D"))
}

fn not_needed() -> ApiError {
    coded(
        StatusCode::BAD_REQUEST,
        "liveness_challenge_not_needed",
        "This session's steps have no active liveness challenge.",
    )
}

#[utoipa::path(post, path = "/flow/session/liveness/challenge/", tag = "flow",
    params(("X-Session-Token" = String, Header)),
    responses((status = 201, description = "A new challenge: {nonce, steps, issued_at, expires_at, ttl_ms, step_ms, frame_interval_ms, max_frames, challenges_left}", body = Value),
              (status = 400, description = "liveness_challenge_not_needed"),
              (status = 409, description = "session_not_in_progress, session_submitted, liveness_challenges_exhausted")))]
pub async fn flow_liveness_challenge(
    State(state): State<AppState>,
    FlowSession(session): FlowSession,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if session.status != SessionStatus::InProgress {
        return Err(not_in_progress(&session, "A liveness challenge"));
    }
    if !needs_active_liveness(&state, &session).await? {
        return Err(not_needed());
    }
    let now = Timestamp::now();
    let issued_at_ms = (now.micros() / 1000) as u64;
    let challenge = ActiveChallenge::new(issued_at_ms, hosted_flow_config());
    let stored = serde_json::to_value(&challenge).map_err(anyhow::Error::from)?;
    let issue = state
        .store
        .issue_liveness_challenge(
            &session,
            &challenge.nonce,
            &stored,
            now,
            CHALLENGES_PER_SESSION,
        )
        .await
        .map_err(|error| refusal(&session, "A liveness challenge", error))?;
    let ChallengeIssue::Issued { remaining } = issue else {
        return Err(coded(
            StatusCode::CONFLICT,
            "liveness_challenges_exhausted",
            format!("This verification has used its {CHALLENGES_PER_SESSION} liveness attempts."),
        ));
    };
    let at = |ms: u64| Timestamp::from_micros(ms as i64 * 1000);
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "nonce": challenge.nonce,
            "steps": challenge.steps,
            "issued_at": at(challenge.issued_at_ms),
            "expires_at": at(challenge.expires_at_ms),
            "ttl_ms": challenge.config.ttl_ms,
            "step_ms": STEP_MS,
            "frame_interval_ms": FRAME_INTERVAL_MS,
            "max_frames": MAX_FRAMES,
            "challenges_left": remaining,
        })),
    ))
}

/// `offsets_ms`: milliseconds after the challenge was received, comma-separated or a JSON list.
fn parse_offsets(text: &str) -> Option<Vec<u64>> {
    let text = text.trim();
    if text.starts_with('[') {
        return serde_json::from_str(text).ok();
    }
    text.split(',').map(|n| n.trim().parse().ok()).collect()
}

#[utoipa::path(post, path = "/flow/session/liveness/frames/", tag = "flow",
    params(("X-Session-Token" = String, Header)),
    request_body(content_type = "multipart/form-data", description = "nonce, offsets_ms (one per frame, ms after the challenge was issued, increasing), selfie_frame (index of the frame used as the selfie, default 0), frames (JPEG/PNG/WebP files, in order, at most 90)"),
    responses((status = 201, description = "Stored: {nonce, frames, selfie}", body = Value),
              (status = 400, description = "Field errors (nonce, offsets_ms, selfie_frame, frames), liveness_challenge_not_needed"),
              (status = 404, description = "liveness_challenge_not_found"),
              (status = 409, description = "session_not_in_progress, session_submitted, liveness_frames_already_sent, liveness_frames_refused"),
              (status = 410, description = "liveness_challenge_expired"),
              (status = 413, description = "file_too_large, image_dimensions_too_large")))]
pub async fn flow_liveness_frames(
    State(state): State<AppState>,
    FlowSession(session): FlowSession,
    mut form: FormBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if session.status != SessionStatus::InProgress {
        return Err(not_in_progress(&session, "Sending liveness frames"));
    }
    if !needs_active_liveness(&state, &session).await? {
        return Err(not_needed());
    }
    let received_at = Timestamp::now();
    let mut errors = FieldErrors::new();
    let nonce = form.text("nonce");
    if nonce.is_none() {
        errors.add("nonce", "This field is required.");
    }
    let offsets = match form.text("offsets_ms") {
        None => {
            errors.add("offsets_ms", "This field is required.");
            Vec::new()
        }
        Some(text) => parse_offsets(&text).unwrap_or_else(|| {
            errors.add(
                "offsets_ms",
                "Send one whole number of milliseconds per frame.",
            );
            Vec::new()
        }),
    };
    let selfie_frame = match form.text("selfie_frame") {
        None => 0,
        Some(text) => text.parse::<usize>().unwrap_or_else(|_| {
            errors.add("selfie_frame", "A valid integer is required.");
            0
        }),
    };
    let mut frames = Vec::new();
    while form.files.iter().any(|(name, _)| name == "frames") {
        if frames.len() == MAX_FRAMES {
            errors.add("frames", format!("Send at most {MAX_FRAMES} frames."));
            break;
        }
        if let Some(frame) = form.take_image("frames", true, &mut errors)? {
            frames.push(frame);
        }
    }
    if frames.is_empty() && !errors.contains("frames") {
        errors.add("frames", "This field is required.");
    }
    if !frames.is_empty() && offsets.len() != frames.len() {
        errors.add(
            "offsets_ms",
            format!(
                "Send one offset per frame ({} frames, {} offsets).",
                frames.len(),
                offsets.len()
            ),
        );
    }
    if !frames.is_empty() && selfie_frame >= frames.len() {
        errors.add("selfie_frame", "This is not the index of a frame sent.");
    }
    errors.into_result(())?;
    let nonce = nonce.unwrap_or_default();
    let stored = state
        .store
        .liveness_challenge(session.id, &nonce)
        .await?
        .ok_or_else(|| {
            coded(
                StatusCode::NOT_FOUND,
                "liveness_challenge_not_found",
                "This session was not issued a liveness challenge with this nonce.",
            )
        })?;
    if stored.submitted_at.is_some() {
        return Err(already_sent());
    }
    // The window is the engine's own, as the LIVENESS node will judge it.
    let challenge: ActiveChallenge =
        serde_json::from_value(stored.challenge).map_err(anyhow::Error::from)?;
    let received_ms = (received_at.micros() / 1000) as u64;
    if received_ms > challenge.expires_at_ms {
        return Err(coded(
            StatusCode::GONE,
            "liveness_challenge_expired",
            "The time for this liveness challenge ran out: ask for a new one.",
        ));
    }
    let elapsed_ms = received_ms.saturating_sub(challenge.issued_at_ms);
    // Frames cannot have been taken after they arrived: the page's clock is bounded by ours.
    if offsets.iter().any(|&offset| offset > elapsed_ms) {
        return Err(
            FieldErrors::single("offsets_ms", "An offset lies after the frames arrived.").into(),
        );
    }
    let selfie = frames[selfie_frame].clone();
    let count = frames.len();
    state
        .store
        .submit_liveness_frames(
            &session,
            &nonce,
            frames.into_iter().map(|f| f.bytes).zip(offsets).collect(),
            received_at,
        )
        .await
        .map_err(|error| match error {
            // Lost a race with another upload of the same challenge, or the session moved on.
            verity_store::Error::Domain(verity_domain::Error::Rule(message)) => {
                coded(StatusCode::CONFLICT, "liveness_frames_refused", message)
            }
            other => refusal(&session, "Sending liveness frames", other),
        })?;
    let stored = state
        .store
        .store_capture(&session, CaptureKind::Selfie, selfie)
        .await
        .map_err(|error| refusal(&session, "Sending liveness frames", error))?;
    Ok((
        StatusCode::CREATED,
        Json(json!({
            "nonce": nonce,
            "frames": count,
            "selfie": {"kind": "selfie", "content_type": stored.content_type, "size_bytes": stored.size_bytes},
        })),
    ))
}

fn already_sent() -> ApiError {
    coded(
        StatusCode::CONFLICT,
        "liveness_frames_already_sent",
        "This liveness challenge already received its frames: ask for a new one.",
    )
}
