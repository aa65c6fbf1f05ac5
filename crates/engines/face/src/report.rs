//! Result shapes shared by the face features, serialisable onto the Didit
//! spec (§5.2 warnings, §5.6 liveness, §5.7 face match, §8 standalone APIs).

use serde::{Deserialize, Serialize};

/// Feature status strings as the spec spells them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Status {
    Approved,
    #[serde(rename = "In Review")]
    InReview,
    Declined,
}

/// `log_type` of a warning: the default action this engine applies. The
/// workflow layer may re-map configurable risks (spec §7.5) before storing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogType {
    Error,
    Warning,
    Information,
}

/// A spec §5.2 warning (without `node_id`, which the session layer adds).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Warning {
    /// `LIVENESS` or `FACEMATCH` (spec §5.2 feature names).
    pub feature: String,
    /// §9.3 risk code, e.g. `NO_FACE_DETECTED`.
    pub risk: String,
    pub additional_data: Option<serde_json::Value>,
    pub log_type: LogType,
    pub short_description: String,
    pub long_description: String,
}

impl Warning {
    pub fn new(feature: &str, risk: &str, log_type: LogType, short: &str, long: &str) -> Self {
        Self {
            feature: feature.into(),
            risk: risk.into(),
            additional_data: None,
            log_type,
            short_description: short.into(),
            long_description: long.into(),
        }
    }
}

/// Feature status from warnings: any error → Declined, any warning → In Review.
pub fn status_from(warnings: &[Warning]) -> Status {
    if warnings.iter().any(|w| w.log_type == LogType::Error) {
        Status::Declined
    } else if warnings.iter().any(|w| w.log_type == LogType::Warning) {
        Status::InReview
    } else {
        Status::Approved
    }
}

/// Decline/review thresholds on a 0–100 score (workflow config
/// `*_score_decline_threshold` / `*_score_review_threshold`): a score below
/// `decline` declines, below `review` goes to review.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ScoreThresholds {
    pub decline: f32,
    pub review: f32,
}

impl ScoreThresholds {
    /// Face match: 50 is SFace cosine 0.363 (OpenCV's published threshold)
    /// under our score mapping; 60 leaves a review band up to cosine ≈ 0.43.
    pub const FACE_MATCH: Self = Self {
        decline: 50.0,
        review: 60.0,
    };
    /// Liveness: the spec's workflow defaults (decline 50, review 70).
    pub const LIVENESS: Self = Self {
        decline: 50.0,
        review: 70.0,
    };

    /// `Some(LogType)` when `score` falls under a threshold.
    pub fn classify(&self, score: f32) -> Option<LogType> {
        if score < self.decline {
            Some(LogType::Error)
        } else if score < self.review {
            Some(LogType::Warning)
        } else {
            None
        }
    }
}

/// One face as the standalone APIs list it (`user_image.entities[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaceEntity {
    /// `[x1, y1, x2, y2]` in pixels of the (rotated) image.
    pub bbox: [f32; 4],
    pub confidence: f32,
    /// Estimated age in years, when the age model ran.
    pub age: Option<f32>,
    /// `male` / `female` from the dlib gender model, when it ran.
    pub gender: Option<String>,
}

/// `user_image` / `ref_image` objects of the standalone APIs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageFaces {
    pub entities: Vec<FaceEntity>,
    /// Clockwise rotation in degrees (0/90/180/270) at which faces were found.
    pub best_angle: u32,
}
