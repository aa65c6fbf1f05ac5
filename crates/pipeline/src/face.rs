//! Live runners of the face steps (issue 6): `LIVENESS` (PASSIVE and ACTIVE_3D), `FACE_MATCH` and
//! `AGE_ESTIMATION`, backed by `verity-face` (YuNet detection, SFace embedding, dlib age, the
//! passive liveness signals). They report what the engine observed — the §5.6/§5.7 payload and
//! the risks it saw (no face, several faces, a presentation attack, luminance, quality, no
//! reference, duplicates, blocklist) — and leave every score threshold to the decision rules
//! (`LOW_LIVENESS_SCORE`, `LOW_FACE_MATCH_SIMILARITY`, `AGE_BELOW_MINIMUM` come from the
//! node's config in `verity_domain::rules` / `checks`), exactly as for the sandbox runner.
//!
//! Inference is CPU work and runs on the blocking pool. The selfie's template is stored
//! (sealed) for the application's 1:N searches and deleted with the session.

use crate::runner::{document_portrait_key, NodeInput, NodeOutput, NodeRunner, DOCUMENT_PORTRAIT};
use anyhow::Context as _;
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use verity_domain::capture::CaptureKind;
use verity_domain::ids::{ApplicationId, SessionId};
use verity_domain::rules::Risk;
use verity_domain::workflow::Feature;
use verity_face::{
    ActiveChallenge, ActiveFrame, ActiveSubmission, AnalyzedImage, FaceEngine, FaceError,
    LivenessResult, ScoreThresholds, Template, Warning,
};
use verity_store::{Store, StoredFaceTemplate};

/// The template source of a session's selfie (`face_templates.source`).
pub const SELFIE_TEMPLATE: &str = "selfie";

/// 1:N thresholds on the 0–100 similarity score (`verity_face::SCORE_ANCHORS`: 80 is SFace
/// cosine 0.60, 60 is cosine 0.43). At or above [`SAME_FACE_SCORE`] another session's face is
/// taken as the same person (`DUPLICATED_FACE`, `FACE_IN_BLOCKLIST`); at or above
/// [`SIMILAR_FACE_SCORE`] it is reported as possible (`POSSIBLE_DUPLICATED_FACE`,
/// `POSSIBLE_FACE_IN_BLOCKLIST`). Uncalibrated beyond the pairs in docs/benchmarks.md.
pub const SAME_FACE_SCORE: f32 = 80.0;
pub const SIMILAR_FACE_SCORE: f32 = 60.0;
/// Matches listed per search (spec §5.3: at most 5 per source).
pub const MAX_MATCHES: usize = 5;

/// The face engine behind the LIVENESS, FACE_MATCH and AGE_ESTIMATION nodes.
pub struct FaceRunner {
    engine: Arc<FaceEngine>,
    /// Where selfie templates are kept for duplicate and blocklist searches, and ACTIVE_3D
    /// challenges are read; without it (unit tests of the runner) no search runs and ACTIVE_3D
    /// cannot be judged.
    store: Option<Store>,
}

impl FaceRunner {
    pub fn new(engine: Arc<FaceEngine>, store: Option<Store>) -> Self {
        Self { engine, store }
    }
}

/// One stored face similar to a query face.
#[derive(Debug, Clone)]
pub struct FaceHit {
    pub stored: StoredFaceTemplate,
    pub cosine: f32,
    /// 0–100 (see [`verity_face::cosine_to_score`]).
    pub score: f32,
}

/// Exact 1:N search of `query` over the application's stored templates, best first, keeping
/// hits scoring at least `min_score`. `exclude` leaves out the query's own session.
pub async fn search_faces(
    store: &Store,
    app: ApplicationId,
    query: &Template,
    exclude: Option<SessionId>,
    min_score: f32,
) -> anyhow::Result<Vec<FaceHit>> {
    let stored = store.face_templates(app).await?;
    let query = query.clone();
    // Unsealing and scoring every template is CPU work proportional to the application's size.
    tokio::task::spawn_blocking(move || {
        let mut hits: Vec<FaceHit> = stored
            .into_iter()
            .filter(|t| Some(t.session_id) != exclude)
            .filter_map(|t| {
                // A template that does not parse is skipped, not fatal: it can only be re-made.
                let template = Template::from_bytes(&t.template).ok()?;
                let cosine = query.cosine(&template);
                let score = verity_face::cosine_to_score(cosine);
                (score >= min_score).then_some(FaceHit {
                    stored: t,
                    cosine,
                    score,
                })
            })
            .collect();
        hits.sort_by(|a, b| b.cosine.total_cmp(&a.cosine));
        hits
    })
    .await
    .context("face search panicked")
}

/// A spec §5.3 `matches[]` entry for a hit; `public_base` is the server's public URL.
pub fn match_json(hit: &FaceHit, public_base: &str) -> Value {
    let s = &hit.stored;
    json!({
        "session_id": s.session_id.to_string(),
        "session_number": s.session_number,
        "similarity_percentage": round2(hit.score),
        "source": "session",
        "vendor_data": s.vendor_data,
        "vendor_user_id": null,
        "biometric_template_id": null,
        "verification_date": s.created_at.to_iso(),
        "user_details": null,
        "match_image_url": format!("{}/v3/session/{}/media/selfie/", public_base.trim_end_matches('/'), s.session_id),
        "status": s.session_status,
        "is_blocklisted": s.blocklisted,
        "is_allowlisted": false,
        "api_service": null,
    })
}

/// Risks of a 1:N search: the blocklist first (always-decline codes), then duplicates.
pub fn search_risks(hits: &[FaceHit], duplicates: bool) -> Vec<Risk> {
    // A hit at the same-face score is certain, below it possible; the data names the session.
    let risk = |hit: &FaceHit, [same, possible]: [&str; 2], session_key: &str| {
        Risk::with_data(
            if hit.score >= SAME_FACE_SCORE {
                same
            } else {
                possible
            },
            json!({session_key: hit.stored.session_id.to_string(), "similarity_percentage": round2(hit.score)}),
        )
    };
    let mut risks = Vec::new();
    if let Some(hit) = hits.iter().find(|h| h.stored.blocklisted) {
        risks.push(risk(
            hit,
            ["FACE_IN_BLOCKLIST", "POSSIBLE_FACE_IN_BLOCKLIST"],
            "blocklisted_session_id",
        ));
    }
    if duplicates {
        if let Some(hit) = hits.iter().find(|h| !h.stored.blocklisted) {
            risks.push(risk(
                hit,
                ["DUPLICATED_FACE", "POSSIBLE_DUPLICATED_FACE"],
                "duplicated_session_id",
            ));
        }
    }
    risks
}

/// The engine's own warnings as risks for the rules. Score codes are dropped: the rules grade
/// the score with the node's thresholds. `MULTIPLE_FACES_DETECTED` on a face match is kept
/// (configurable, default Review): a second face next to the selfie's is worth a look.
fn engine_risks(warnings: &[Warning]) -> Vec<Risk> {
    warnings
        .iter()
        .filter(|w| {
            !matches!(
                w.risk.as_str(),
                "LOW_LIVENESS_SCORE" | "LOW_FACE_MATCH_SIMILARITY"
            )
        })
        .map(|w| match &w.additional_data {
            Some(data) => Risk::with_data(&w.risk, data.clone()),
            None => Risk::new(&w.risk),
        })
        .collect()
}

fn round2(v: f32) -> f64 {
    (f64::from(v) * 100.0).round() / 100.0
}

fn no_face(what: &str) -> Risk {
    Risk::with_data("NO_FACE_DETECTED", json!({"image": what}))
}

/// A selfie step's output when there is nothing to analyse.
fn no_selfie(mut payload: Map<String, Value>, what: &str) -> NodeOutput {
    for key in ["score", "age_estimation", "face_quality", "face_luminance"] {
        payload.insert(key.into(), Value::Null);
    }
    payload.insert("matches".into(), json!([]));
    NodeOutput {
        payload,
        risks: vec![no_face(what)],
    }
}

/// The face-match reference: the document portrait the OCR node cropped when it reports one,
/// else the `portrait_image` given at creation (Biometric Authentication). Returns the bytes
/// and the media name they are served under.
async fn reference(input: &NodeInput<'_>) -> anyhow::Result<Option<(Vec<u8>, &'static str)>> {
    let document_portrait = input
        .prior_of(Feature::Ocr)
        .and_then(|ocr| ocr.payload.get("portrait_image"))
        .is_some_and(|v| !v.is_null());
    if document_portrait {
        if let Some(bytes) = input
            .media
            .get(&document_portrait_key(input.session))
            .await?
        {
            return Ok(Some((bytes, DOCUMENT_PORTRAIT)));
        }
    }
    if let Some(key) = &input.session.portrait_media_key {
        if let Some(bytes) = input.media.get(key).await? {
            return Ok(Some((bytes, "portrait")));
        }
    }
    Ok(None)
}

/// Liveness thresholds of a node's config (the rules grade with the same keys).
fn liveness_thresholds(config: &Map<String, Value>) -> ScoreThresholds {
    let number = |key: &str, default: f32| {
        config
            .get(key)
            .and_then(Value::as_f64)
            .map_or(default, |v| v as f32)
    };
    ScoreThresholds {
        decline: number("face_liveness_score_decline_threshold", 50.0),
        review: number("face_liveness_score_review_threshold", 70.0),
    }
}

/// What the blocking part of a selfie step computed.
struct SelfieAnalysis {
    liveness: LivenessResult,
    age: Option<f32>,
    template: Option<Template>,
}

fn analyze_selfie(
    engine: &FaceEngine,
    bytes: &[u8],
    thresholds: &ScoreThresholds,
) -> Result<Option<SelfieAnalysis>, FaceError> {
    let analyzed: AnalyzedImage = match engine.analyze(bytes) {
        Ok(a) => a,
        // An image that does not decode has no face to find; it is reported, not retried.
        Err(FaceError::Image(_)) => return Ok(None),
        Err(other) => return Err(other),
    };
    let liveness = engine.passive_liveness_analyzed(&analyzed, thresholds)?;
    let (age, template) = match analyzed.largest() {
        Some(face) => {
            let age = engine
                .estimate_age_analyzed(&analyzed, None)?
                .age_estimation;
            (age, Some(engine.embed(&analyzed.image, face)?))
        }
        None => (None, None),
    };
    Ok(Some(SelfieAnalysis {
        liveness,
        age,
        template,
    }))
}

impl FaceRunner {
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(&FaceEngine) -> Result<T, FaceError> + Send + 'static,
    ) -> anyhow::Result<T> {
        let engine = self.engine.clone();
        Ok(tokio::task::spawn_blocking(move || work(&engine))
            .await
            .context("face inference panicked")??)
    }

    /// Stores the selfie template and searches the application's other faces.
    async fn remember_and_search(
        &self,
        input: &NodeInput<'_>,
        template: &Template,
    ) -> anyhow::Result<Vec<FaceHit>> {
        let Some(store) = &self.store else {
            return Ok(Vec::new());
        };
        let session = input.session;
        let hits = search_faces(
            store,
            session.application_id,
            template,
            Some(session.id),
            SIMILAR_FACE_SCORE,
        )
        .await?;
        store
            .put_face_template(
                session.application_id,
                session.id,
                SELFIE_TEMPLATE,
                &template.to_bytes(),
            )
            .await?;
        Ok(hits)
    }

    fn public_base<'a>(&self, input: &'a NodeInput<'_>) -> &'a str {
        let suffix = format!("/v3/session/{}/media", input.session.id);
        input
            .media_base
            .strip_suffix(&suffix)
            .unwrap_or(input.media_base)
    }

    /// LIVENESS (PASSIVE or ACTIVE_3D) and AGE_ESTIMATION: all analyse the selfie; ACTIVE_3D
    /// judges liveness from the frames of the session's challenge instead of the selfie alone.
    async fn selfie_step(&self, input: &NodeInput<'_>) -> anyhow::Result<NodeOutput> {
        let feature = input.node.feature;
        let method = input.node.liveness_method();
        let active = feature == Feature::Liveness && method == "ACTIVE_3D";
        if feature == Feature::Liveness && !active && method != "PASSIVE" {
            // FLASHING is not built: judging a single selfie as if it had been would be a
            // fabricated result. The job fails and retries, so the session waits In Progress.
            anyhow::bail!("liveness method {method} is not supported by the face engine");
        }
        let thresholds = liveness_thresholds(&input.node.config);
        let mut payload = Map::new();
        payload.insert(
            "method".into(),
            json!(if active { "ACTIVE_3D" } else { "PASSIVE" }),
        );
        payload.insert("reference_image".into(), json!(input.media_url("selfie")));
        payload.insert("video_url".into(), Value::Null);
        let challenge = if active {
            match self.active_frames(input).await? {
                Some(challenge) => Some(challenge),
                None => return Ok(no_selfie(payload, "liveness frames")),
            }
        } else {
            None
        };
        let selfie = input.capture_bytes(CaptureKind::Selfie).await?;
        let analysis = match selfie {
            Some(bytes) => {
                self.blocking(move |engine| {
                    let analysis = analyze_selfie(engine, &bytes, &thresholds)?;
                    let active = match challenge {
                        Some((challenge, submission, received_at_ms)) => {
                            Some(engine.verify_active(
                                &challenge,
                                &submission,
                                received_at_ms,
                                &thresholds,
                            )?)
                        }
                        None => None,
                    };
                    Ok(analysis.map(|a| (a, active)))
                })
                .await?
            }
            None => None,
        };
        let Some((analysis, active)) = analysis else {
            return Ok(no_selfie(payload, "selfie"));
        };
        // ACTIVE_3D grades the challenge; the selfie's own signals stay informational.
        let liveness = active.as_ref().unwrap_or(&analysis.liveness);
        payload.insert("score".into(), json!(liveness.score));
        payload.insert("age_estimation".into(), json!(analysis.age));
        payload.insert("face_quality".into(), json!(analysis.liveness.face_quality));
        payload.insert(
            "face_luminance".into(),
            json!(analysis.liveness.face_luminance),
        );
        if let Some(report) = liveness.active.as_ref() {
            payload.insert(
                "active_challenge".into(),
                json!({
                    "steps": report.challenge,
                    "observed": report.observed,
                    "frames": report.poses_deg.len(),
                    "failures": report.failures,
                }),
            );
        }
        let mut risks = engine_risks(&liveness.warnings);
        if feature == Feature::AgeEstimation {
            // The age step reports the liveness score as information (spec §8 age-estimation
            // carries it) and raises LOW_LIVENESS_SCORE itself: the rules grade scores only on
            // LIVENESS nodes.
            risks
                .retain(|r| matches!(r.code.as_str(), "NO_FACE_DETECTED" | "LIVENESS_FACE_ATTACK"));
            if liveness.score.is_some_and(|s| s < thresholds.decline) {
                risks.push(Risk::with_data(
                    "LOW_LIVENESS_SCORE",
                    json!({"score": liveness.score}),
                ));
            }
        }
        let hits = match &analysis.template {
            Some(template) => self.remember_and_search(input, template).await?,
            None => Vec::new(),
        };
        let public_base = self.public_base(input);
        let matches: Vec<Value> = hits
            .iter()
            .take(MAX_MATCHES)
            .map(|h| match_json(h, public_base))
            .collect();
        payload.insert("matches".into(), Value::Array(matches));
        risks.extend(search_risks(&hits, true));
        Ok(NodeOutput { payload, risks })
    }

    /// The session's submitted ACTIVE_3D challenge with its frames read back: frame times are
    /// the page's offsets from the issue (the flow API bounded them by the arrival), and the
    /// arrival is the server's. `None` when no challenge received frames.
    async fn active_frames(
        &self,
        input: &NodeInput<'_>,
    ) -> anyhow::Result<Option<(ActiveChallenge, ActiveSubmission, u64)>> {
        let store = self
            .store
            .as_ref()
            .context("ACTIVE_3D liveness reads its challenge from the store")?;
        let Some(submitted) = store.submitted_liveness(input.session.id).await? else {
            return Ok(None);
        };
        let challenge: ActiveChallenge = serde_json::from_value(submitted.challenge)
            .context("stored liveness challenge does not parse")?;
        let mut frames = Vec::with_capacity(submitted.frames.len());
        for frame in &submitted.frames {
            let image = input.frame_bytes(&frame.object_key).await?;
            frames.push(ActiveFrame {
                timestamp_ms: challenge.issued_at_ms + frame.offset_ms,
                image,
            });
        }
        let received_at_ms = submitted
            .submitted_at
            .map_or(u64::MAX, |t| (t.micros() / 1000) as u64);
        let submission = ActiveSubmission {
            nonce: submitted.nonce,
            frames,
        };
        Ok(Some((challenge, submission, received_at_ms)))
    }

    async fn face_match(&self, input: &NodeInput<'_>) -> anyhow::Result<NodeOutput> {
        let selfie = input.capture_bytes(CaptureKind::Selfie).await?;
        let reference = reference(input).await?;
        let mut payload = Map::new();
        payload.insert("source_image_session_id".into(), Value::Null);
        payload.insert(
            "source_image".into(),
            json!(reference.as_ref().map(|(_, name)| input.media_url(name))),
        );
        payload.insert("target_image".into(), json!(input.media_url("selfie")));
        let mut risks = Vec::new();
        let Some((reference, _)) = reference else {
            payload.insert("score".into(), Value::Null);
            return Ok(NodeOutput {
                payload,
                risks: vec![Risk::new("NO_REFERENCE_IMAGE")],
            });
        };
        let Some(selfie) = selfie else {
            payload.insert("score".into(), Value::Null);
            return Ok(NodeOutput {
                payload,
                risks: vec![no_face("selfie")],
            });
        };
        let (result, template) = self
            .blocking(move |engine| {
                let user = match engine.analyze(&selfie) {
                    Ok(a) => a,
                    Err(FaceError::Image(_)) => return Ok((None, None)),
                    Err(e) => return Err(e),
                };
                let reference = match engine.analyze(&reference) {
                    Ok(a) => Some(a),
                    Err(FaceError::Image(_)) => None,
                    Err(e) => return Err(e),
                };
                let Some(reference) = reference else {
                    return Ok((None, None));
                };
                let result =
                    engine.match_analyzed(&user, Some(&reference), &ScoreThresholds::FACE_MATCH)?;
                let template = match user.largest() {
                    Some(face) => Some(engine.embed(&user.image, face)?),
                    None => None,
                };
                Ok((Some(result), template))
            })
            .await?;
        let Some(result) = result else {
            // One of the images does not decode: nothing to compare.
            payload.insert("score".into(), Value::Null);
            return Ok(NodeOutput {
                payload,
                risks: vec![no_face("selfie or reference")],
            });
        };
        payload.insert("score".into(), json!(result.score));
        risks.extend(engine_risks(&result.warnings));
        if let Some(template) = template {
            let hits = self.remember_and_search(input, &template).await?;
            // Duplicates are the liveness step's to report; the face match reports the blocklist.
            risks.extend(search_risks(&hits, false));
        }
        Ok(NodeOutput { payload, risks })
    }
}

#[async_trait]
impl NodeRunner for FaceRunner {
    async fn run(&self, input: &NodeInput<'_>) -> anyhow::Result<NodeOutput> {
        match input.node.feature {
            Feature::Liveness | Feature::AgeEstimation => self.selfie_step(input).await,
            Feature::FaceMatch => self.face_match(input).await,
            other => anyhow::bail!("the face engine does not run {} steps", other.as_str()),
        }
    }
}

/// Loads the face engine from `dir`, or explains (without failing the server) why it is absent:
/// its live nodes then park and its standalone endpoints answer 503.
pub fn load_face_engine(dir: &std::path::Path) -> Option<Arc<FaceEngine>> {
    if !dir.join(verity_face::YUNET_FILE).exists() {
        tracing::warn!(
            models_dir = %dir.display(),
            "face engine NOT loaded: its model files are missing (run scripts/fetch-models); \
             LIVENESS, FACE_MATCH and AGE_ESTIMATION steps of live sessions wait for it and \
             /v3/passive-liveness/, /v3/face-match/, /v3/face-search/ and /v3/age-estimation/ answer 503"
        );
        return None;
    }
    let started = std::time::Instant::now();
    match FaceEngine::load(dir) {
        Ok(engine) => {
            tracing::info!(
                models_dir = %dir.display(),
                load_ms = started.elapsed().as_millis() as u64,
                "face engine loaded (YuNet, SFace, dlib age)"
            );
            Some(Arc::new(engine))
        }
        Err(error) => {
            tracing::warn!(
                models_dir = %dir.display(),
                %error,
                "face engine NOT loaded: its model files do not load (run scripts/fetch-models again)"
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_domain::Timestamp;

    fn hit(score: f32, blocklisted: bool) -> FaceHit {
        FaceHit {
            stored: StoredFaceTemplate {
                session_id: SessionId::random(),
                session_number: 7,
                vendor_data: Some("user-1".into()),
                session_status: "Approved".into(),
                blocklisted,
                created_at: Timestamp::from_micros(1_700_000_000_000_000),
                template: Vec::new(),
            },
            cosine: verity_face::score_to_cosine(score),
            score,
        }
    }

    fn codes(risks: &[Risk]) -> Vec<&str> {
        risks.iter().map(|r| r.code.as_str()).collect()
    }

    #[test]
    fn duplicates_are_graded_by_similarity() {
        assert_eq!(
            codes(&search_risks(&[hit(92.0, false)], true)),
            ["DUPLICATED_FACE"]
        );
        assert_eq!(
            codes(&search_risks(&[hit(65.0, false)], true)),
            ["POSSIBLE_DUPLICATED_FACE"]
        );
        assert!(search_risks(&[hit(92.0, false)], false).is_empty());
        assert!(search_risks(&[], true).is_empty());
    }

    #[test]
    fn the_blocklist_comes_first_and_names_the_blocked_session() {
        let hits = [hit(95.0, false), hit(85.0, true)];
        let risks = search_risks(&hits, true);
        assert_eq!(codes(&risks), ["FACE_IN_BLOCKLIST", "DUPLICATED_FACE"]);
        assert_eq!(
            risks[0].additional_data.as_ref().unwrap()["blocklisted_session_id"],
            hits[1].stored.session_id.to_string()
        );
        assert_eq!(
            codes(&search_risks(&[hit(62.0, true)], false)),
            ["POSSIBLE_FACE_IN_BLOCKLIST"]
        );
    }

    #[test]
    fn score_codes_are_left_to_the_rules() {
        let warnings = [
            Warning::new(
                "LIVENESS",
                "LOW_LIVENESS_SCORE",
                verity_face::LogType::Error,
                "",
                "",
            ),
            Warning::new(
                "LIVENESS",
                "LOW_FACE_LUMINANCE",
                verity_face::LogType::Warning,
                "",
                "",
            ),
        ];
        assert_eq!(codes(&engine_risks(&warnings)), ["LOW_FACE_LUMINANCE"]);
    }

    #[test]
    fn a_match_entry_has_the_spec_fields() {
        let h = hit(88.456, true);
        let entry = match_json(&h, "https://verity.example/");
        assert_eq!(entry["similarity_percentage"], 88.46);
        assert_eq!(entry["source"], "session");
        assert_eq!(entry["is_blocklisted"], true);
        assert_eq!(
            entry["match_image_url"],
            format!(
                "https://verity.example/v3/session/{}/media/selfie/",
                h.stored.session_id
            )
        );
    }
}
