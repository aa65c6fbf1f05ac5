//! The live OCR node (`Feature::Ocr`): reads the session's document captures with the document
//! engine (`verity-document`) and reports the `id_verifications[]` entry of spec §5.4 plus the
//! risks the engine saw. The same payload builder serves `POST /v3/id-verification/`.
//!
//! * Inference is CPU work: it runs on the blocking pool, at most one read per core at a time
//!   ([`DocumentReader`]), so a burst of submits cannot starve the async runtime.
//! * The engine vouches for its fields only when check digits (or a barcode that agrees with
//!   the printed zone) confirm them (`data_verified`). A reading it does not vouch for always
//!   carries `DOCUMENT_DATA_NOT_VERIFIED`, whose default action is Review: such a reading is
//!   never approved on its own.
//! * Expiry, minimum age and missing fields are left to the cross-checks
//!   (`verity_domain::checks::document_checks`), which read them from the payload, so a live
//!   session and a sandbox one are judged by the same code.
//! * The portrait cropped from the document is stored at [`document_portrait_key`] and served as
//!   [`DOCUMENT_PORTRAIT`]; the face-match node reads it from there.

use crate::runner::{document_portrait_key, NodeInput, NodeOutput, NodeRunner, DOCUMENT_PORTRAIT};
use anyhow::Context as _;
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use std::sync::Arc;
use tokio::sync::Semaphore;
use verity_document::{DocumentEngine, DocumentReading, ReadError, ReadOptions};
use verity_domain::capture::CaptureKind;
use verity_domain::rules::Risk;

/// Risk raised on every reading the engine does not vouch for (Verity's own code, catalogued
/// under the OCR feature with default action Review).
pub const DATA_NOT_VERIFIED: &str = "DOCUMENT_DATA_NOT_VERIFIED";

/// Engine warnings the cross-checks derive from the payload themselves (with the workflow's
/// `minimum_age` and today's date); passing the engine's copies on would judge them twice.
const DERIVED_BY_CHECKS: [&str; 3] = [
    "DOCUMENT_EXPIRED",
    "EXPIRATION_DATE_NOT_DETECTED",
    "MINIMUM_AGE_NOT_MET",
];

/// The document engine with a bound on concurrent reads. Shared by the OCR node runner and the
/// standalone endpoint.
pub struct DocumentReader {
    engine: Arc<DocumentEngine>,
    permits: Semaphore,
}

impl DocumentReader {
    pub fn new(engine: DocumentEngine) -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Self {
            engine: Arc::new(engine),
            permits: Semaphore::new(cores),
        }
    }

    /// Reads a document (front and optional back, encoded images) on the blocking pool.
    /// `Ok(Err(_))` is the engine's verdict on the images (unrecognisable, undecodable);
    /// `Err` is a failure of the machinery (inference, a panicked task).
    pub async fn read(
        &self,
        front: Vec<u8>,
        back: Option<Vec<u8>>,
    ) -> anyhow::Result<Result<DocumentReading, ReadError>> {
        let _permit = self
            .permits
            .acquire()
            .await
            .context("document reader closed")?;
        let engine = Arc::clone(&self.engine);
        let outcome = tokio::task::spawn_blocking(move || {
            engine.read(&front, back.as_deref(), &ReadOptions::default())
        })
        .await
        .context("document reading panicked")?;
        match outcome {
            Err(ReadError::Inference(message)) => {
                Err(anyhow::anyhow!("document inference failed: {message}"))
            }
            other => Ok(other),
        }
    }
}

/// Where the images of an entry are served.
#[derive(Debug, Clone, Default)]
pub struct ImageUrls {
    pub front: Option<String>,
    pub back: Option<String>,
    pub portrait: Option<String>,
}

/// The §5.4 `id_verifications[]` entry (without `node_id`, `status`, `warnings`) and the risks
/// of one engine reading.
pub fn observe(reading: &DocumentReading, urls: &ImageUrls) -> NodeOutput {
    let mrz = reading.mrz.as_ref().map(|m| {
        let mut value = serde_json::to_value(m).unwrap_or(Value::Null);
        if let Some(object) = value.as_object_mut() {
            // `valid` is the engine's convenience flag, not a Didit field.
            object.remove("valid");
        }
        value
    });
    let extra_fields: Map<String, Value> = reading
        .extra_fields
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    let payload = json!({
        "verification_method": "document",
        "assurance": "documentary",
        "document_type": reading.document_type,
        "document_subtype": reading.document_subtype,
        "document_number": reading.document_number,
        "personal_number": reading.personal_number,
        "portrait_image": urls.portrait,
        "front_image": urls.front,
        "back_image": urls.back,
        "full_front_image": urls.front,
        "full_back_image": urls.back,
        "date_of_birth": reading.date_of_birth,
        "age": reading.age,
        "expiration_date": reading.expiration_date,
        "date_of_issue": reading.date_of_issue,
        "issuing_state": reading.issuing_state,
        "issuing_state_name": reading.issuing_state_name,
        "first_name": reading.first_name,
        "last_name": reading.last_name,
        "full_name": reading.full_name,
        "gender": reading.gender,
        "address": reading.address,
        "formatted_address": reading.address,
        "parsed_address": null,
        "place_of_birth": null,
        "marital_status": null,
        "nationality": reading.nationality,
        "extra_fields": extra_fields,
        "mrz": mrz,
        "front_image_quality_score": reading.front_image_quality_score,
        "back_image_quality_score": reading.back_image_quality_score,
        "front_image_camera_front_face_match_score": null,
        "back_image_camera_front_face_match_score": null,
        "extra_files": [],
        "matches": [],
    });
    let mut risks: Vec<Risk> = Vec::new();
    for warning in &reading.warnings {
        if DERIVED_BY_CHECKS.contains(&warning.risk.as_str())
            || risks.iter().any(|r| r.code == warning.risk)
        {
            continue;
        }
        risks.push(match &warning.additional_data {
            Some(data) => Risk::with_data(&warning.risk, data.clone()),
            None => Risk::new(&warning.risk),
        });
    }
    if !reading.data_verified {
        risks.push(Risk::with_data(
            DATA_NOT_VERIFIED,
            json!({"reason": not_verified_reason(reading)}),
        ));
    }
    NodeOutput {
        payload: match payload {
            Value::Object(map) => map,
            _ => Map::new(),
        },
        risks,
    }
}

fn not_verified_reason(reading: &DocumentReading) -> &'static str {
    match &reading.mrz {
        Some(m) if !m.valid => "mrz_check_digits_failed",
        Some(_) => "printed_name_does_not_confirm_mrz",
        None if !reading.barcodes.is_empty() => "barcode_not_confirmed_by_printed_zone",
        None if reading.unread_barcode.is_some_and(|u| u.too_blurred()) => "barcode_too_blurred",
        None => "no_mrz_or_barcode",
    }
}

/// The entry of a document the engine could not recognise at all (no MRZ, no barcode, hardly
/// any text), or whose stored image could not be decoded.
pub fn unrecognised(urls: &ImageUrls, reason: &str) -> NodeOutput {
    let payload = json!({
        "verification_method": "document",
        "assurance": "documentary",
        "document_type": null,
        "portrait_image": null,
        "front_image": urls.front,
        "back_image": urls.back,
        "full_front_image": urls.front,
        "full_back_image": urls.back,
        "extra_fields": {},
        "mrz": null,
        "extra_files": [],
        "matches": [],
    });
    NodeOutput {
        payload: match payload {
            Value::Object(map) => map,
            _ => Map::new(),
        },
        risks: vec![Risk::with_data(
            "COULD_NOT_DETECT_DOCUMENT_TYPE",
            json!({"reason": reason}),
        )],
    }
}

/// The OCR node of live sessions.
pub struct DocumentRunner {
    reader: Arc<DocumentReader>,
}

impl DocumentRunner {
    pub fn new(reader: Arc<DocumentReader>) -> Self {
        Self { reader }
    }
}

#[async_trait]
impl NodeRunner for DocumentRunner {
    async fn run(&self, input: &NodeInput<'_>) -> anyhow::Result<NodeOutput> {
        let mut urls = ImageUrls {
            front: input
                .has_capture(CaptureKind::DocumentFront)
                .then(|| input.media_url(CaptureKind::DocumentFront.as_str())),
            back: input
                .has_capture(CaptureKind::DocumentBack)
                .then(|| input.media_url(CaptureKind::DocumentBack.as_str())),
            portrait: None,
        };
        let Some(front) = input.capture_bytes(CaptureKind::DocumentFront).await? else {
            return Ok(unrecognised(&urls, "no_front_image"));
        };
        let back = input.capture_bytes(CaptureKind::DocumentBack).await?;
        let reading = match self.reader.read(front, back).await? {
            Ok(reading) => reading,
            Err(ReadError::CouldNotRecognizeDocument) => {
                return Ok(unrecognised(&urls, "could_not_recognize_document"))
            }
            Err(ReadError::InvalidImage(_)) => return Ok(unrecognised(&urls, "invalid_image")),
            Err(ReadError::Inference(message)) => {
                anyhow::bail!("document inference failed: {message}")
            }
        };
        if let Some(jpeg) = &reading.portrait_jpeg {
            input
                .media
                .put(&document_portrait_key(input.session), jpeg.clone())
                .await
                .context("storing the document portrait")?;
            urls.portrait = Some(input.media_url(DOCUMENT_PORTRAIT));
        }
        Ok(observe(&reading, &urls))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evaluate::{judge, Context};
    use std::collections::BTreeMap;
    use time::macros::date;
    use verity_document::barcode::UnreadPdf417;
    use verity_document::{QualityScore, VisualZone, Warning};
    use verity_domain::status::FeatureStatus;
    use verity_domain::workflow::{Feature, WorkflowFeature};

    fn reading(verified: bool, warnings: &[&str]) -> DocumentReading {
        let text = |s: &str| Some(s.to_owned());
        DocumentReading {
            document_type: text("Passport"),
            document_subtype: text("P"),
            document_number: text("L898902C3"),
            personal_number: None,
            date_of_birth: text("1974-08-12"),
            age: Some(52),
            expiration_date: text("2032-04-15"),
            date_of_issue: None,
            issuing_state: text("UTO"),
            issuing_state_name: text("Utopia"),
            first_name: text("Anna Maria"),
            last_name: text("Eriksson"),
            full_name: text("Anna Maria Eriksson"),
            gender: text("F"),
            address: None,
            nationality: text("UTO"),
            extra_fields: BTreeMap::new(),
            mrz: None,
            barcodes: Vec::new(),
            front_image_quality_score: QualityScore {
                focus_score: 80.0,
                brightness_score: 70.0,
                brightness_issue: None,
                is_document_fully_visible: true,
                resolution_score: 90.0,
                overall_score: 80.0,
            },
            back_image_quality_score: None,
            visual_zone: VisualZone::default(),
            warnings: warnings
                .iter()
                .map(|risk| Warning {
                    risk: (*risk).to_owned(),
                    short_description: String::new(),
                    long_description: String::new(),
                    additional_data: None,
                })
                .collect(),
            data_verified: verified,
            unread_barcode: None,
            portrait_jpeg: None,
        }
    }

    fn judged(
        reading: &DocumentReading,
        config: serde_json::Value,
    ) -> (FeatureStatus, Vec<String>) {
        let node = WorkflowFeature {
            feature: Feature::Ocr,
            node_id: "feature_ocr".into(),
            label: None,
            config: config.as_object().unwrap().clone(),
        };
        let context = Context {
            expected_details: None,
            today: date!(2026 - 11 - 22),
            duplicate_of: None,
            id_document: None,
        };
        let result = judge(&node, observe(reading, &ImageUrls::default()), &context);
        let risks = result.payload["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["risk"].as_str().unwrap().to_owned())
            .collect();
        (result.status, risks)
    }

    #[test]
    fn a_verified_reading_without_warnings_is_approved() {
        let (status, risks) = judged(&reading(true, &[]), json!({}));
        assert_eq!(status, FeatureStatus::Approved);
        assert!(risks.is_empty(), "{risks:?}");
    }

    #[test]
    fn an_unverified_reading_is_never_approved_even_when_every_other_code_is_relaxed() {
        let relaxed = json!({
            "invalid_mrz_action": "NO_ACTION",
            "inconsistent_data_action": "NO_ACTION",
        });
        let (status, risks) = judged(&reading(false, &[]), relaxed.clone());
        assert_eq!(status, FeatureStatus::InReview);
        assert_eq!(risks, [DATA_NOT_VERIFIED]);
        let (status, risks) = judged(
            &reading(false, &["MRZ_AND_DATA_EXTRACTED_FROM_OCR_NOT_SAME"]),
            relaxed,
        );
        assert_eq!(status, FeatureStatus::InReview);
        assert_eq!(
            risks,
            [
                "MRZ_AND_DATA_EXTRACTED_FROM_OCR_NOT_SAME",
                DATA_NOT_VERIFIED
            ]
        );
    }

    #[test]
    fn an_unverified_reading_says_why() {
        let reason = |r: &DocumentReading| {
            observe(r, &ImageUrls::default())
                .risks
                .iter()
                .find(|risk| risk.code == DATA_NOT_VERIFIED)
                .and_then(|risk| risk.additional_data.clone())
        };
        let mut r = reading(false, &["MRZ_NOT_DETECTED"]);
        assert_eq!(reason(&r), Some(json!({"reason": "no_mrz_or_barcode"})));
        r.unread_barcode = Some(UnreadPdf417 { blur: 0.6 });
        assert_eq!(reason(&r), Some(json!({"reason": "no_mrz_or_barcode"})));
        r.unread_barcode = Some(UnreadPdf417 { blur: 1.1 });
        assert_eq!(reason(&r), Some(json!({"reason": "barcode_too_blurred"})));
    }

    #[test]
    fn expiry_and_age_are_judged_once_by_the_cross_checks() {
        let mut expired = reading(true, &["DOCUMENT_EXPIRED", "MINIMUM_AGE_NOT_MET"]);
        expired.expiration_date = Some("2020-01-01".into());
        let (status, risks) = judged(&expired, json!({"minimum_age": 21}));
        assert_eq!(status, FeatureStatus::Declined);
        // The engine's copies are dropped; the cross-checks raise expiry from the payload, and
        // the holder (52) meets the workflow's minimum age.
        assert_eq!(risks, ["DOCUMENT_EXPIRED"]);
    }

    #[test]
    fn the_entry_has_the_id_verifications_shape() {
        let urls = ImageUrls {
            front: Some("https://v/front/".into()),
            back: None,
            portrait: Some("https://v/document_portrait/".into()),
        };
        let output = observe(&reading(true, &[]), &urls);
        for key in [
            "document_type",
            "document_number",
            "date_of_birth",
            "expiration_date",
            "issuing_state",
            "first_name",
            "last_name",
            "full_name",
            "gender",
            "nationality",
            "portrait_image",
            "front_image",
            "back_image",
            "front_image_quality_score",
            "mrz",
            "extra_fields",
            "matches",
        ] {
            assert!(output.payload.contains_key(key), "{key}");
        }
        assert_eq!(
            output.payload["portrait_image"],
            "https://v/document_portrait/"
        );
        assert_eq!(
            output.payload["front_image_quality_score"]["overall_score"],
            80.0
        );
    }
}
