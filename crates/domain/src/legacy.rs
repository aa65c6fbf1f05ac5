//! The older API generations as views of the same stored results (spec §5.14): v1's `features`
//! strings and singular `kyc`/`aml`/`face`/`location` objects, and v2's singular keys (the first
//! entry of each v3 array).

use crate::decision::{v3_decision, FeatureResult};
use crate::review::Review;
use crate::session::Session;
use crate::workflow::Feature;
use serde_json::{json, Map, Value};

/// The eight `features` strings v1 accepts (seed 002).
pub const V1_FEATURE_SETS: [&str; 8] = [
    "OCR",
    "OCR + NFC",
    "OCR + AML",
    "OCR + NFC + AML",
    "OCR + FACE",
    "OCR + NFC + FACE",
    "OCR + FACE + AML",
    "OCR + NFC + FACE + AML",
];

/// The workflow a v1 `features` string stands for: document first, then chip, face, screening.
pub fn v1_features_to_workflow(text: &str) -> Option<Vec<Feature>> {
    if !V1_FEATURE_SETS.contains(&text) {
        return None;
    }
    let mut features = vec![Feature::Ocr];
    if text.contains("NFC") {
        features.push(Feature::Nfc);
    }
    if text.contains("FACE") {
        features.extend([Feature::Liveness, Feature::FaceMatch]);
    }
    if text.contains("AML") {
        features.push(Feature::Aml);
    }
    Some(features)
}

/// The v1 `features` string describing a session's nodes.
pub fn v1_features_label(session: &Session) -> String {
    let has = |wanted: &[Feature]| session.nodes.iter().any(|n| wanted.contains(&n.feature));
    let mut parts = Vec::new();
    if has(&[Feature::Ocr]) {
        parts.push("OCR");
    }
    if has(&[Feature::Nfc]) {
        parts.push("NFC");
    }
    if has(&[Feature::Liveness, Feature::FaceMatch]) {
        parts.push("FACE");
    }
    if has(&[Feature::Aml]) {
        parts.push("AML");
    }
    parts.join(" + ")
}

fn first(results: &[FeatureResult], feature: Feature) -> Option<&FeatureResult> {
    results.iter().find(|r| r.feature == feature)
}

fn field(result: Option<&FeatureResult>, key: &str) -> Value {
    result
        .and_then(|r| r.payload.get(key).cloned())
        .unwrap_or(Value::Null)
}

const V1_KYC_FIELDS: [&str; 27] = [
    "document_type",
    "document_number",
    "personal_number",
    "portrait_image",
    "front_image",
    "front_video",
    "back_image",
    "back_video",
    "full_front_image",
    "full_back_image",
    "date_of_birth",
    "expiration_date",
    "date_of_issue",
    "issuing_state",
    "issuing_state_name",
    "first_name",
    "last_name",
    "full_name",
    "gender",
    "address",
    "formatted_address",
    "parsed_address",
    "place_of_birth",
    "marital_status",
    "nationality",
    "created_at",
    "is_nfc_verified",
];

/// `GET /v1/session/{id}/decision/` (seed 001).
pub fn v1_decision(
    session: &Session,
    results: &[FeatureResult],
    reviews: &[Review],
    public_base: &str,
) -> Value {
    let ocr = first(results, Feature::Ocr);
    let nfc = first(results, Feature::Nfc);
    let kyc = ocr.map(|r| {
        let mut kyc = Map::new();
        kyc.insert("status".into(), json!(r.status.as_str()));
        kyc.insert("ocr_status".into(), json!(r.status.as_str()));
        kyc.insert(
            "epassport_status".into(),
            json!(nfc.map(|n| n.status.as_str())),
        );
        for key in V1_KYC_FIELDS {
            kyc.insert(key.into(), field(Some(r), key));
        }
        if kyc["is_nfc_verified"].is_null() {
            kyc.insert(
                "is_nfc_verified".into(),
                json!(nfc.is_some_and(|n| n.status.as_str() == "Approved")),
            );
        }
        Value::Object(kyc)
    });
    let aml = first(results, Feature::Aml).map(|r| {
        json!({
            "status": r.status.as_str(),
            "total_hits": field(Some(r), "total_hits"),
            "score": field(Some(r), "score"),
            "hits": field(Some(r), "v1_hits").as_array().cloned().unwrap_or_default(),
        })
    });
    let face_match = first(results, Feature::FaceMatch);
    let liveness = first(results, Feature::Liveness);
    let face = (face_match.is_some() || liveness.is_some()).then(|| {
        let statuses: Vec<&str> = [face_match, liveness]
            .iter()
            .flatten()
            .map(|r| r.status.as_str())
            .collect();
        let overall = ["Declined", "In Review", "Not Finished", "Approved"]
            .into_iter()
            .find(|s| statuses.contains(s))
            .unwrap_or("Not Finished");
        json!({
            "status": overall,
            "face_match_status": face_match.map(|r| r.status.as_str()),
            "liveness_status": liveness.map(|r| r.status.as_str()),
            "face_match_similarity": field(face_match, "score"),
            "liveness_confidence": field(liveness, "score"),
            "source_image": field(face_match, "source_image"),
            "target_image": field(face_match, "target_image"),
            "video_url": field(liveness, "video_url"),
            "age_estimation": field(liveness, "age_estimation"),
            "gender_estimation": field(liveness, "gender_estimation"),
        })
    });
    let location = first(results, Feature::IpAnalysis).map(|r| {
        let mut location = r.payload.clone();
        location.insert("status".into(), json!(r.status.as_str()));
        location.remove("node_id");
        location.remove("warnings");
        Value::Object(location)
    });
    let warnings: Vec<Value> = results
        .iter()
        .flat_map(|r| {
            r.payload
                .get("warnings")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .map(|mut warning| {
            if let Some(object) = warning.as_object_mut() {
                object.remove("node_id");
            }
            warning
        })
        .collect();
    json!({
        "session_id": session.id,
        "session_number": session.number,
        "session_url": session.url(public_base),
        "status": session.status,
        "vendor_data": session.vendor_data,
        "callback": session.callback,
        "features": v1_features_label(session),
        "kyc": kyc,
        "aml": aml,
        "face": face,
        "location": location,
        "warnings": warnings,
        "reviews": reviews.iter().map(Review::to_decision_json).collect::<Vec<_>>(),
        "extra_images": [],
        "created_at": session.created_at,
    })
}

/// v2 singular keys and the v3 array each one is the first entry of.
const V2_KEYS: [(&str, &str); 10] = [
    ("id_verification", "id_verifications"),
    ("nfc", "nfc_verifications"),
    ("liveness", "liveness_checks"),
    ("face_match", "face_matches"),
    ("phone", "phone_verifications"),
    ("email", "email_verifications"),
    ("poa", "poa_verifications"),
    ("aml", "aml_screenings"),
    ("ip_analysis", "ip_analyses"),
    ("database_validation", "database_validations"),
];

/// `GET /v2/session/{id}/decision/`: the v3 decision with each array replaced by its first entry.
pub fn v2_decision(
    session: &Session,
    results: &[FeatureResult],
    reviews: &[Review],
    public_base: &str,
) -> Value {
    let mut decision = v3_decision(session, results, reviews, public_base);
    let object = decision.as_object_mut().expect("decision is an object");
    for (singular, plural) in V2_KEYS {
        let first = object
            .remove(plural)
            .and_then(|array| array.as_array().and_then(|items| items.first().cloned()))
            .unwrap_or(Value::Null);
        object.insert(singular.into(), first);
    }
    for plural in ["document_ai_documents", "questionnaire_responses"] {
        object.remove(plural);
    }
    decision
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_v1_feature_set_maps_onto_a_workflow() {
        for text in V1_FEATURE_SETS {
            let features = v1_features_to_workflow(text).unwrap();
            assert_eq!(features[0], Feature::Ocr);
            assert_eq!(
                features.contains(&Feature::FaceMatch),
                text.contains("FACE")
            );
            assert_eq!(features.contains(&Feature::Aml), text.contains("AML"));
            assert_eq!(features.contains(&Feature::Nfc), text.contains("NFC"));
        }
        assert_eq!(v1_features_to_workflow("OCR+FACE"), None);
        assert_eq!(v1_features_to_workflow("FACE"), None);
    }
}
