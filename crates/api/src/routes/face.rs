//! Standalone face APIs (spec §8): `POST /v3/passive-liveness/`, `/v3/face-match/`,
//! `/v3/face-search/` and `/v3/age-estimation/`. Multipart bodies, `x-api-key`, the envelope
//! `{request_id, <feature_key>, vendor_data, metadata, created_at}`.
//!
//! Every image passes the upload checks before anything decodes it ([`FormBody::take_image`]): at
//! most 5 MB and within the pixel limits read from the header (413: a decompression bomb never
//! reaches the decoder), JPEG/PNG/WebP by magic bytes (400 with a field error). Inference runs on the blocking pool,
//! at most `engines.standalone_face_concurrency` decodes and inferences at once
//! ([`crate::gate::ComputeGate`]): a call that waits too long for its turn is answered 503.
//! Without the face models the endpoints answer 503.
//!
//! Choices on open points (spec UNCERTAIN): `save_api_request` is accepted but no session is
//! stored for a standalone call (`request_id` is a fresh UUID), so a face search looks only at
//! the selfies of the application's sessions, never at earlier standalone calls; the
//! age-estimation result is under `age_estimation` (spec-digest) rather than `liveness`.

use crate::error::ApiError;
use crate::extract::{FormBody, Tenant};
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use verity_domain::capture::IMAGE_MAX_BYTES;
use verity_domain::fields::not_a_choice;
use verity_domain::{FieldErrors, Timestamp};
use verity_face::{report, AnalyzedImage, FaceEngine, FaceError, ScoreThresholds, Warning};
use verity_pipeline::face::{match_json, search_faces, FaceHit, MAX_MATCHES, SIMILAR_FACE_SCORE};

/// Largest multipart body: two images (face match) and the text fields.
pub const FACE_BODY_MAX_BYTES: usize = 2 * IMAGE_MAX_BYTES + 64 * 1024;
/// What every standalone call starts with: the engine (503 without it), the images named in
/// `names` through the upload checks (in that order), `rotate_image`, and the call's own
/// parameters read by `params`; every field error of the form is reported at once.
struct Call<P> {
    engine: Arc<FaceEngine>,
    images: Vec<Vec<u8>>,
    rotation: u32,
    params: P,
}

fn prepare<P>(
    state: &AppState,
    form: &mut FormBody,
    names: &[&str],
    params: impl FnOnce(&FormBody, &mut FieldErrors) -> P,
) -> Result<Call<P>, ApiError> {
    let engine = engine(state)?;
    let mut errors = FieldErrors::new();
    let mut images = Vec::with_capacity(names.len());
    for name in names {
        if let Some(image) = form.take_image(name, true, &mut errors)? {
            images.push(image.bytes);
        }
    }
    let rotation = rotation(form, &mut errors);
    let params = params(form, &mut errors);
    errors.into_result(())?;
    Ok(Call {
        engine,
        images,
        rotation,
        params,
    })
}

/// A score threshold from 0 to 100.
fn number(form: &FormBody, name: &str, default: f32, errors: &mut FieldErrors) -> f32 {
    match form.text(name) {
        None => default,
        Some(text) => match text.parse::<f32>() {
            Ok(v) if (0.0..=100.0).contains(&v) => v,
            _ => {
                errors.add(name, "Ensure this value is a number from 0 to 100.");
                default
            }
        },
    }
}

fn rotation(form: &FormBody, errors: &mut FieldErrors) -> u32 {
    match form.text("rotate_image") {
        None => 0,
        Some(text) => match text.parse::<u32>() {
            Ok(angle @ (0 | 90 | 180 | 270)) => angle,
            _ => {
                errors.add("rotate_image", not_a_choice(&text));
                0
            }
        },
    }
}

/// The common envelope fields: `vendor_data` as given, `metadata` parsed as JSON when it is.
fn envelope(form: &FormBody, key: &str, result: Value) -> Value {
    let metadata = form.fields.get("metadata").map(|value| match value {
        Value::String(text) => {
            serde_json::from_str::<Value>(text).unwrap_or_else(|_| value.clone())
        }
        other => other.clone(),
    });
    json!({
        "request_id": uuid::Uuid::new_v4().to_string(),
        key: result,
        "vendor_data": form.text("vendor_data"),
        "metadata": metadata,
        "created_at": Timestamp::now().to_iso(),
    })
}

fn engine(state: &AppState) -> Result<Arc<FaceEngine>, ApiError> {
    state.engines.face.clone().ok_or(ApiError::EngineUnavailable(
        "The face engine is not installed on this server (its model files are missing: run scripts/fetch-models).",
    ))
}

/// Runs CPU-bound face work off the async threads, once the face gate admits it (503 when it
/// stays full); an undecodable image is the caller's 400.
async fn blocking<T: Send + 'static>(
    state: &AppState,
    engine: Arc<FaceEngine>,
    field: &'static str,
    work: impl FnOnce(&FaceEngine) -> Result<T, FaceError> + Send + 'static,
) -> Result<T, ApiError> {
    let permit = state.face_gate.enter().await?;
    let work = move || {
        // Held until the work ends, even if the caller has gone away.
        let _permit = permit;
        work(&engine)
    };
    match tokio::task::spawn_blocking(work).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(FaceError::Image(_))) => Err(FieldErrors::single(
            field,
            "Upload a valid image (JPEG, PNG, WebP or TIFF). The data was either not an image or a corrupted image.",
        )
        .into()),
        Ok(Err(other)) => Err(ApiError::Internal(anyhow::anyhow!("face engine: {other}"))),
        Err(join) => Err(ApiError::Internal(anyhow::anyhow!(
            "face inference panicked: {join}"
        ))),
    }
}

/// Decodes, applies the caller's `rotate_image`, and finds the faces.
fn analyze(engine: &FaceEngine, bytes: &[u8], rotation: u32) -> Result<AnalyzedImage, FaceError> {
    let image = FaceEngine::decode(bytes)?;
    let image = verity_face::rotate(&image, rotation);
    let mut analyzed = engine.analyze_image(&image)?;
    analyzed.angle = (analyzed.angle + rotation) % 360;
    Ok(analyzed)
}

/// A standalone call has one decline threshold and no review band.
fn decline_only(decline: f32) -> ScoreThresholds {
    ScoreThresholds {
        decline,
        review: decline,
    }
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<Value, ApiError> {
    serde_json::to_value(value).map_err(|e| ApiError::Internal(e.into()))
}

#[utoipa::path(post, path = "/v3/passive-liveness/", tag = "standalone", security(("api_key" = [])),
    request_body(content_type = "multipart/form-data", description = "user_image (file, required), face_liveness_score_decline_threshold (0–100, default 30), rotate_image (0/90/180/270), vendor_data, metadata"),
    responses((status = 200, description = "{request_id, liveness{status, method, score, user_image, face_quality, face_luminance, warnings}, vendor_data, metadata, created_at}", body = Value),
              (status = 400, description = "Field errors: missing or invalid image, bad parameters", body = Value),
              (status = 413, description = "Image larger than 5 MB"), (status = 503, description = "Face engine not installed, or busy (Retry-After)")))]
pub async fn passive_liveness(
    State(state): State<AppState>,
    _tenant: Tenant,
    mut form: FormBody,
) -> Result<Json<Value>, ApiError> {
    let Call {
        engine,
        mut images,
        rotation,
        params: decline,
    } = prepare(&state, &mut form, &["user_image"], |form, errors| {
        number(form, "face_liveness_score_decline_threshold", 30.0, errors)
    })?;
    let image = images.remove(0);
    let result = blocking(&state, engine, "user_image", move |engine| {
        let analyzed = analyze(engine, &image, rotation)?;
        engine.passive_liveness_analyzed(&analyzed, &decline_only(decline))
    })
    .await?;
    Ok(Json(envelope(&form, "liveness", to_value(&result)?)))
}

#[utoipa::path(post, path = "/v3/face-match/", tag = "standalone", security(("api_key" = [])),
    request_body(content_type = "multipart/form-data", description = "user_image and ref_image (files, required), face_match_score_decline_threshold (0–100, default 30), rotate_image, vendor_data, metadata"),
    responses((status = 200, description = "{request_id, face_match{status, score, user_image, ref_image, warnings}, …}", body = Value),
              (status = 400, description = "Field errors", body = Value),
              (status = 413, description = "Image larger than 5 MB"), (status = 503, description = "Face engine not installed, or busy (Retry-After)")))]
pub async fn face_match(
    State(state): State<AppState>,
    _tenant: Tenant,
    mut form: FormBody,
) -> Result<Json<Value>, ApiError> {
    let Call {
        engine,
        mut images,
        rotation,
        params: decline,
    } = prepare(
        &state,
        &mut form,
        &["user_image", "ref_image"],
        |form, errors| number(form, "face_match_score_decline_threshold", 30.0, errors),
    )?;
    let reference = images.remove(1);
    let user = images.remove(0);
    let user = blocking(&state, engine.clone(), "user_image", move |engine| {
        analyze(engine, &user, rotation)
    })
    .await?;
    let reference = blocking(&state, engine.clone(), "ref_image", move |engine| {
        analyze(engine, &reference, 0)
    })
    .await?;
    let result = blocking(&state, engine, "user_image", move |engine| {
        engine.match_analyzed(&user, Some(&reference), &decline_only(decline))
    })
    .await?;
    Ok(Json(envelope(&form, "face_match", to_value(&result)?)))
}

#[utoipa::path(post, path = "/v3/face-search/", tag = "standalone", security(("api_key" = [])),
    request_body(content_type = "multipart/form-data", description = "user_image (file, required), search_type (most_similar | blocklisted_or_approved), rotate_image, vendor_data, metadata"),
    responses((status = 200, description = "{request_id, face_search{status, total_matches, matches[≤5], user_image, warnings}, …}", body = Value),
              (status = 400, description = "Field errors", body = Value),
              (status = 413, description = "Image larger than 5 MB"), (status = 503, description = "Face engine not installed, or busy (Retry-After)")))]
pub async fn face_search(
    State(state): State<AppState>,
    tenant: Tenant,
    mut form: FormBody,
) -> Result<Json<Value>, ApiError> {
    let Call {
        engine,
        mut images,
        rotation,
        params: search_type,
    } = prepare(&state, &mut form, &["user_image"], |form, errors| {
        let search_type = form
            .text("search_type")
            .unwrap_or_else(|| "most_similar".into());
        if !matches!(
            search_type.as_str(),
            "most_similar" | "blocklisted_or_approved"
        ) {
            errors.add("search_type", not_a_choice(&search_type));
        }
        search_type
    })?;
    let image = images.remove(0);
    let (analyzed, template) = blocking(&state, engine, "user_image", move |engine| {
        let analyzed = analyze(engine, &image, rotation)?;
        let template = match analyzed.largest() {
            Some(face) => Some(engine.embed(&analyzed.image, face)?),
            None => None,
        };
        Ok((analyzed, template))
    })
    .await?;
    let mut warnings: Vec<Warning> = Vec::new();
    let mut hits: Vec<FaceHit> = Vec::new();
    match &template {
        None => warnings.push(verity_face::warning::no_face("FACE_SEARCH", "image")),
        Some(template) => {
            hits = search_faces(
                &state.store,
                tenant.app.id,
                template,
                None,
                SIMILAR_FACE_SCORE,
            )
            .await?;
            if search_type == "blocklisted_or_approved" {
                hits.retain(|h| h.stored.blocklisted || h.stored.session_status == "Approved");
            }
        }
    }
    if analyzed.faces.len() > 1 {
        warnings.push(verity_face::warning::multiple_faces(
            "FACE_SEARCH",
            report::LogType::Warning,
        ));
    }
    for risk in verity_pipeline::face::search_risks(&hits, true) {
        let blocklist = risk.code.contains("BLOCKLIST");
        let mut warning = Warning::new(
            "FACE_SEARCH",
            &risk.code,
            // Spec §8: Declined only on a blocklist hit, In Review above the similarity threshold.
            if blocklist {
                report::LogType::Error
            } else {
                report::LogType::Warning
            },
            if blocklist {
                "Face in blocklist"
            } else {
                "Similar face found"
            },
            if blocklist {
                "The face resembles a face on the application's blocklist."
            } else {
                "The face resembles the selfie of another session of the application."
            },
        );
        warning.additional_data = risk.additional_data;
        warnings.push(warning);
    }
    let public_url = state.public_url().to_owned();
    let matches: Vec<Value> = hits
        .iter()
        .take(MAX_MATCHES)
        .map(|h| match_json(h, &public_url))
        .collect();
    let user_image = to_value(&analyzed_faces(&analyzed))?;
    let result = json!({
        "status": report::status_from(&warnings),
        "total_matches": hits.len(),
        "matches": matches,
        "user_image": user_image,
        "warnings": warnings,
    });
    Ok(Json(envelope(&form, "face_search", result)))
}

/// `user_image` of a face search (no age: the search does not run the age model).
fn analyzed_faces(analyzed: &AnalyzedImage) -> report::ImageFaces {
    report::ImageFaces {
        entities: analyzed
            .faces
            .iter()
            .map(|f| report::FaceEntity {
                bbox: f.bbox,
                confidence: f.score,
                age: None,
                gender: None,
            })
            .collect(),
        best_angle: analyzed.angle,
    }
}

#[utoipa::path(post, path = "/v3/age-estimation/", tag = "standalone", security(("api_key" = [])),
    request_body(content_type = "multipart/form-data", description = "user_image (file, required), face_liveness_score_decline_threshold (default 30), age_estimation_decline_threshold (minimum age; 0 disables), rotate_image, vendor_data, metadata"),
    responses((status = 200, description = "{request_id, age_estimation{status, method, score, age_estimation, reference_image, video_url, user_image, warnings}, …}", body = Value),
              (status = 400, description = "Field errors", body = Value),
              (status = 413, description = "Image larger than 5 MB"), (status = 503, description = "Face engine not installed, or busy (Retry-After)")))]
pub async fn age_estimation(
    State(state): State<AppState>,
    _tenant: Tenant,
    mut form: FormBody,
) -> Result<Json<Value>, ApiError> {
    let Call {
        engine,
        mut images,
        rotation,
        params: (decline, minimum_age),
    } = prepare(&state, &mut form, &["user_image"], |form, errors| {
        (
            number(form, "face_liveness_score_decline_threshold", 30.0, errors),
            number(form, "age_estimation_decline_threshold", 0.0, errors),
        )
    })?;
    let image = images.remove(0);
    let (liveness, age) = blocking(&state, engine, "user_image", move |engine| {
        let analyzed = analyze(engine, &image, rotation)?;
        let liveness = engine.passive_liveness_analyzed(&analyzed, &decline_only(decline))?;
        let age = engine.estimate_age_analyzed(&analyzed, Some(minimum_age))?;
        Ok((liveness, age))
    })
    .await?;
    let mut warnings = liveness.warnings.clone();
    for warning in &age.warnings {
        if !warnings.iter().any(|w| w.risk == warning.risk) {
            warnings.push(warning.clone());
        }
    }
    let mut result = Map::new();
    result.insert("status".into(), to_value(&report::status_from(&warnings))?);
    result.insert("method".into(), json!("PASSIVE"));
    result.insert("score".into(), json!(liveness.score));
    result.insert("age_estimation".into(), json!(age.age_estimation));
    result.insert("age_confidence".into(), json!(age.age_confidence));
    result.insert("reference_image".into(), Value::Null);
    result.insert("video_url".into(), Value::Null);
    result.insert("user_image".into(), to_value(&age.user_image)?);
    result.insert("warnings".into(), to_value(&warnings)?);
    Ok(Json(envelope(
        &form,
        "age_estimation",
        Value::Object(result),
    )))
}
