//! Decision rules (spec §5.2, §7.5, §9.3): the catalog of risk codes each feature can raise,
//! the action each one takes (Decline / Review / No action), the `log_type` that follows from
//! the action, a feature's status from its warnings, and a session's status from its features.
//!
//! # Where an action comes from
//!
//! * **Always-decline codes** ("A" in §9.3) decline whatever the workflow says.
//! * **Score codes** (`LOW_LIVENESS_SCORE` on a liveness node, `LOW_FACE_MATCH_SIMILARITY`,
//!   `POSSIBLE_MATCH_FOUND` on AML) take their action from the node's thresholds (§7.5 step 1):
//!   below the decline threshold → Decline, below the review threshold → Review, otherwise no
//!   warning. AML is the other way round (a higher risk is worse): at or above
//!   `aml_score_review_threshold` → Decline, at or above `aml_score_approve_threshold` → Review.
//! * **Configurable codes** ("C") read one key of the node's `config`:
//!   - the keys the spec documents: `duplicated_user_action` (POSSIBLE_DUPLICATED_USER),
//!     `invalid_mrz_action` (MRZ_NOT_DETECTED, MRZ_VALIDATION_FAILED), `inconsistent_data_action`
//!     (DATA_INCONSISTENT, MRZ_AND_DATA_EXTRACTED_FROM_OCR_NOT_SAME),
//!     `expiration_date_not_detected_action`, `partial_match_action` / `no_match_action`
//!     (database validation), and the phone/email policies `disposable_email_action`,
//!     `breached_email_action`, `duplicated_email_action`, `disposable_number_action`,
//!     `voip_number_action`, `duplicated_phone_number_action`;
//!   - every other code: its lower-case name plus `_action` (`screen_capture_detected_action`),
//!     and on proof-of-address nodes prefixed `poa_` (spec: `poa_*_action`), e.g.
//!     `poa_address_mismatch_with_provided_action`.
//!
//!   Values are `DECLINE`, `REVIEW`, `NO_ACTION` (or `APPROVE`, which means no action), in any
//!   case. A missing or unreadable value falls back to the code's default below.
//!
//! # Choices on open points (UNCERTAIN in the spec)
//!
//! * `SCREEN_CAPTURE_DETECTED`, `PRINTED_COPY_DETECTED`, `PORTRAIT_MANIPULATION_DETECTED`,
//!   `NAME_NOT_DETECTED`, `DATE_OF_BIRTH_NOT_DETECTED`, `DOCUMENT_NUMBER_NOT_DETECTED`: one source
//!   says always-decline, another configurable. They are **configurable with default Decline**:
//!   the same outcome as always-decline unless a workflow relaxes them.
//! * Defaults of configurable codes are not documented; fraud signals default to Decline,
//!   data-quality and mismatch signals to Review, and the phone/email policies and
//!   `duplicated_user_action` to No action (the spec's documented default for the latter).
//! * `DOCUMENT_DATA_NOT_VERIFIED` is Verity's own: the document engine raises it on every reading
//!   whose fields no check digit or second zone confirms, so such a reading is never approved
//!   unless a workflow explicitly sets `document_data_not_verified_action` to `NO_ACTION`.
//! * NFC and IP-analysis (`LOCATION`) codes were not captured by the spec; the codes marked
//!   "Verity" below are ours, named after the sandbox scenarios that need them.
//! * Session roll-up of mixed cases: Declined > In Review > Approved; a feature that is
//!   `Not Finished` / `Not Started` / `Expired` counts as In Review (a person must look).

use crate::status::{FeatureStatus, SessionStatus};
use crate::workflow::Feature;
use serde_json::{json, Map, Value};

/// What a warning does to its feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    Decline,
    Review,
    NoAction,
}

impl Action {
    pub const ALL: [Action; 3] = [Action::Decline, Action::Review, Action::NoAction];

    /// A workflow config value (`"DECLINE"`, `"review"`, `"no_action"`, `"APPROVE"`).
    pub fn parse(text: &str) -> Option<Self> {
        match text.to_ascii_uppercase().as_str() {
            "DECLINE" => Some(Action::Decline),
            "REVIEW" => Some(Action::Review),
            "NO_ACTION" | "APPROVE" => Some(Action::NoAction),
            _ => None,
        }
    }

    /// The config value that selects this action.
    pub fn config_value(self) -> &'static str {
        match self {
            Action::Decline => "DECLINE",
            Action::Review => "REVIEW",
            Action::NoAction => "NO_ACTION",
        }
    }

    /// Spec §5.2: Decline → `error`, Review → `warning`, anything else → `information`.
    pub fn log_type(self) -> &'static str {
        match self {
            Action::Decline => "error",
            Action::Review => "warning",
            Action::NoAction => "information",
        }
    }
}

/// How a code's action is decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// "A": declines regardless of configuration.
    AlwaysDecline,
    /// "C": the node's config key, else the default.
    Configurable(Action),
    /// Raised and graded by the node's score thresholds.
    Score,
}

/// One catalogued risk code of one feature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskCode {
    pub feature: Feature,
    pub code: &'static str,
    pub kind: Kind,
    pub description: &'static str,
}

use Action::{Decline, NoAction, Review};
use Kind::{AlwaysDecline as A, Configurable as C, Score};

macro_rules! codes {
    ($feature:expr; $( $code:literal : $kind:expr, $desc:literal; )*) => {
        &[ $( RiskCode { feature: $feature, code: $code, kind: $kind, description: $desc }, )* ]
    };
}

const OCR: &[RiskCode] = codes![Feature::Ocr;
    "ID_DOCUMENT_IN_BLOCKLIST": A, "The document is in the application's blocklist.";
    "PORTRAIT_IMAGE_NOT_DETECTED": A, "No portrait was found on the document.";
    "DOCUMENT_EXPIRED": A, "The document has expired.";
    "DOCUMENT_NOT_SUPPORTED_FOR_APPLICATION": A, "This document type or country is not accepted by the workflow.";
    "PUBLIC_DOCUMENT_IMAGE_DETECTED": A, "The image is a publicly available specimen.";
    "MINIMUM_AGE_NOT_MET": A, "The person is younger than the workflow's minimum age.";
    "COULD_NOT_DETECT_DOCUMENT_TYPE": A, "The document could not be recognised.";
    "INVALID_DATE": A, "A date on the document is impossible.";
    "SCREEN_CAPTURE_DETECTED": C(Decline), "The document was photographed from a screen.";
    "PRINTED_COPY_DETECTED": C(Decline), "The document is a printed copy.";
    "PORTRAIT_MANIPULATION_DETECTED": C(Decline), "The portrait was manipulated.";
    "MRZ_NOT_DETECTED": C(Decline), "The machine-readable zone was not found.";
    "MRZ_VALIDATION_FAILED": C(Decline), "The machine-readable zone's check digits do not validate.";
    "MRZ_AND_DATA_EXTRACTED_FROM_OCR_NOT_SAME": C(Review), "The MRZ and the printed data disagree.";
    "NAME_NOT_DETECTED": C(Decline), "No name could be read from the document.";
    "DATE_OF_BIRTH_NOT_DETECTED": C(Decline), "No date of birth could be read from the document.";
    "DOCUMENT_NUMBER_NOT_DETECTED": C(Decline), "No document number could be read.";
    "DATA_INCONSISTENT": C(Review), "Data on the document is inconsistent.";
    "DOCUMENT_NAME_DIFFERENT_FROM_OTHER_APPROVED_DOCUMENTS": C(Review), "The name differs from the person's other approved documents.";
    "EXPIRATION_DATE_NOT_DETECTED": C(Review), "No expiration date could be read.";
    "POSSIBLE_DUPLICATED_USER": C(NoAction), "Another session of this application verified the same document.";
    "FULL_NAME_MISMATCH_WITH_PROVIDED": C(Review), "The name on the document differs from the expected name.";
    "DOB_MISMATCH_WITH_PROVIDED": C(Review), "The date of birth differs from the expected one.";
    "GENDER_MISMATCH_WITH_PROVIDED": C(Review), "The gender differs from the expected one.";
    "DOCUMENT_COUNTRY_MISMATCH": C(Review), "The issuing country differs from the expected one.";
    "DOCUMENT_DATA_NOT_VERIFIED": C(Review), "Verity: the document engine could not confirm the identity fields (check digits, or a barcode or MRZ confirmed by the printed zone).";
];

const NFC: &[RiskCode] = codes![Feature::Nfc;
    "NFC_CHIP_NOT_VERIFIED": A, "Verity: the chip's signatures (SOD/DG hashes) do not verify.";
    "NFC_DATA_MISMATCH_WITH_DOCUMENT": C(Review), "Verity: the chip data differs from the printed data.";
];

const LIVENESS: &[RiskCode] = codes![Feature::Liveness;
    "NO_FACE_DETECTED": A, "No face was detected.";
    "LIVENESS_FACE_ATTACK": A, "A presentation attack was detected.";
    "FACE_IN_BLOCKLIST": A, "The face is in the application's blocklist.";
    "POSSIBLE_FACE_IN_BLOCKLIST": A, "The face resembles one in the blocklist.";
    "LOW_LIVENESS_SCORE": Score, "The liveness score is below the workflow's threshold.";
    "DUPLICATED_FACE": C(Review), "The same face was verified in another session.";
    "POSSIBLE_DUPLICATED_FACE": C(Review), "A similar face was verified in another session.";
    "MULTIPLE_FACES_DETECTED": C(Review), "More than one face is visible.";
    "LOW_FACE_QUALITY": C(Review), "The face image quality is low.";
    "LOW_FACE_LUMINANCE": C(Review), "The face is too dark.";
    "HIGH_FACE_LUMINANCE": C(Review), "The face is overexposed.";
];

const FACE_MATCH: &[RiskCode] = codes![Feature::FaceMatch;
    "NO_REFERENCE_IMAGE": A, "There is no reference portrait to compare with.";
    "NO_FACE_DETECTED": A, "No face was detected.";
    "LIVENESS_FACE_ATTACK": A, "A presentation attack was detected.";
    "FACE_IN_BLOCKLIST": A, "The face is in the application's blocklist.";
    "LOW_FACE_MATCH_SIMILARITY": Score, "The faces are less similar than the workflow's threshold.";
    "LOW_LIVENESS_SCORE": C(Review), "The liveness score of the compared selfie is low.";
];

const AGE_ESTIMATION: &[RiskCode] = codes![Feature::AgeEstimation;
    "NO_FACE_DETECTED": A, "No face was detected.";
    "LIVENESS_FACE_ATTACK": A, "A presentation attack was detected.";
    "FACE_IN_BLOCKLIST": A, "The face is in the application's blocklist.";
    "AGE_BELOW_MINIMUM": C(Decline), "The estimated age is below the minimum age.";
    "AGE_NOT_DETECTED": C(Review), "No age could be estimated.";
    "LOW_LIVENESS_SCORE": C(Review), "The liveness score is low.";
    "POSSIBLE_DUPLICATED_FACE": C(Review), "A similar face was verified in another session.";
];

const AML: &[RiskCode] = codes![Feature::Aml;
    "POSSIBLE_MATCH_FOUND": Score, "The person may be on a sanctions, PEP or watch list.";
    "COULD_NOT_PERFORM_AML_SCREENING": C(Review), "Screening could not run (missing name).";
];

const POA: &[RiskCode] = codes![Feature::ProofOfAddress;
    "POA_DOCUMENT_NOT_SUPPORTED_FOR_APPLICATION": A, "This proof-of-address document is not accepted.";
    "EXPIRED_DOCUMENT": A, "The document is older than the accepted age.";
    "INVALID_DOCUMENT_TYPE": A, "The file is not a proof-of-address document.";
    "MISSING_ADDRESS_INFORMATION": A, "No address was found on the document.";
    "NAME_MISMATCH_WITH_PROVIDED": C(Review), "The name on the document differs from the expected name.";
    "NAME_MISMATCH_ID_VERIFICATION": C(Review), "The name differs from the identity document's.";
    "POA_NAME_MISMATCH_BETWEEN_DOCUMENTS": C(Review), "Names differ between proof-of-address documents.";
    "POOR_DOCUMENT_QUALITY": C(Review), "The document is hard to read.";
    "DOCUMENT_METADATA_MISMATCH": C(Review), "The file's metadata is inconsistent.";
    "SUSPECTED_DOCUMENT_MANIPULATION": C(Decline), "The document appears edited.";
    "UNSUPPORTED_DOCUMENT_LANGUAGE": C(Review), "The document's language is not accepted.";
    "ADDRESS_MISMATCH_WITH_PROVIDED": C(Decline), "The address differs from the expected address.";
    "UNABLE_TO_EXTRACT_ISSUE_DATE": C(Review), "No issue date could be read.";
    "ISSUER_NOT_IDENTIFIED": C(Review), "The issuer could not be identified.";
    "UNPARSABLE_OR_INVALID_ADDRESS": C(Review), "The address could not be parsed.";
    "UNABLE_TO_VALIDATE_DOCUMENT_AGE": C(Review), "The document's age could not be checked.";
    "FUTURE_ISSUE_DATE": C(Review), "The issue date is in the future.";
];

const EMAIL: &[RiskCode] = codes![Feature::EmailVerification;
    "EMAIL_CODE_ATTEMPTS_EXCEEDED": A, "Too many wrong codes.";
    "EMAIL_IN_BLOCKLIST": A, "The address is in the application's blocklist.";
    "UNDELIVERABLE_EMAIL_DETECTED": A, "The address cannot receive mail.";
    "BREACHED_EMAIL_DETECTED": C(NoAction), "The address appears in known breaches.";
    "DISPOSABLE_EMAIL_DETECTED": C(NoAction), "The address belongs to a disposable provider.";
    "DUPLICATED_EMAIL": C(NoAction), "The address was verified in another session.";
];

const PHONE: &[RiskCode] = codes![Feature::PhoneVerification;
    "VERIFICATION_CODE_ATTEMPTS_EXCEEDED": A, "Too many wrong codes.";
    "PHONE_NUMBER_IN_BLOCKLIST": A, "The number is in the application's blocklist.";
    "HIGH_RISK_PHONE_NUMBER": A, "The number is high-risk.";
    "DISPOSABLE_NUMBER_DETECTED": C(NoAction), "The number is disposable.";
    "VOIP_NUMBER_DETECTED": C(NoAction), "The number is a VoIP number.";
    "DUPLICATED_PHONE_NUMBER": C(NoAction), "The number was verified in another session.";
];

const DATABASE_VALIDATION: &[RiskCode] = codes![Feature::DatabaseValidation;
    "COULD_NOT_PERFORM_DATABASE_VALIDATION": C(Review), "The registry could not be queried with the data available.";
    "DATABASE_VALIDATION_PARTIAL_MATCH": C(Review), "The registry matched part of the identity.";
    "DATABASE_VALIDATION_NO_MATCH": C(Decline), "The registry does not know this identity.";
];

const IP_ANALYSIS: &[RiskCode] = codes![Feature::IpAnalysis;
    "IP_ADDRESS_IN_BLOCKLIST": A, "Verity: the IP address is in the application's blocklist.";
    "VPN_OR_TOR_DETECTED": C(Review), "Verity: the connection comes through a VPN or Tor.";
    "DATA_CENTER_IP_DETECTED": C(Review), "Verity: the connection comes from a data centre.";
];

const DOCUMENT_AI: &[RiskCode] = codes![Feature::DocumentAi;
    "DOCUMENT_AI_SUSPECTED_MANIPULATION": C(Decline), "The document appears edited.";
    "DOCUMENT_AI_NAME_MISMATCH": C(Review), "The name differs from the identity's.";
    "DOCUMENT_AI_UNREADABLE_DOCUMENT": C(Review), "The document could not be read.";
    "DOCUMENT_AI_MISSING_REQUIRED_FIELDS": C(Review), "Required fields are missing.";
    "DOCUMENT_AI_UNSUPPORTED_FILE": C(Decline), "The file type is not supported.";
];

/// Every catalogued code of every feature (§9.3), grouped by feature.
pub fn catalog() -> impl Iterator<Item = &'static RiskCode> {
    [
        OCR,
        NFC,
        LIVENESS,
        FACE_MATCH,
        AGE_ESTIMATION,
        AML,
        POA,
        EMAIL,
        PHONE,
        DATABASE_VALIDATION,
        IP_ANALYSIS,
        DOCUMENT_AI,
    ]
    .into_iter()
    .flatten()
}

/// The catalogued entry of `code` on `feature`, if any.
pub fn lookup(feature: Feature, code: &str) -> Option<&'static RiskCode> {
    catalog().find(|entry| entry.feature == feature && entry.code == code)
}

/// The `feature` of a warning object (spec §5.2).
pub fn warning_feature(feature: Feature) -> &'static str {
    match feature {
        Feature::Ocr => "ID_VERIFICATION",
        Feature::Nfc => "NFC",
        Feature::Liveness | Feature::AgeEstimation => "LIVENESS",
        Feature::FaceMatch => "FACEMATCH",
        Feature::ProofOfAddress => "PROOF_OF_ADDRESS",
        Feature::PhoneVerification => "PHONE",
        Feature::EmailVerification => "EMAIL",
        Feature::Aml => "AML",
        Feature::IpAnalysis => "LOCATION",
        Feature::DatabaseValidation => "DATABASE_VALIDATION",
        Feature::Questionnaire => "QUESTIONNAIRE",
        Feature::DocumentAi => "DOCUMENT_AI",
        Feature::KybRegistry => "KYB_REGISTRY",
        Feature::KybDocuments => "KYB_DOCUMENTS",
        Feature::KybKeyPeople => "KYB_KEY_PEOPLE",
    }
}

/// The node-config key that sets a configurable code's action (see the module docs).
pub fn config_key(feature: Feature, code: &str) -> String {
    let documented = match code {
        "POSSIBLE_DUPLICATED_USER" => Some("duplicated_user_action"),
        "MRZ_NOT_DETECTED" | "MRZ_VALIDATION_FAILED" => Some("invalid_mrz_action"),
        "DATA_INCONSISTENT" | "MRZ_AND_DATA_EXTRACTED_FROM_OCR_NOT_SAME" => {
            Some("inconsistent_data_action")
        }
        "EXPIRATION_DATE_NOT_DETECTED" => Some("expiration_date_not_detected_action"),
        "DATABASE_VALIDATION_PARTIAL_MATCH" => Some("partial_match_action"),
        "DATABASE_VALIDATION_NO_MATCH" => Some("no_match_action"),
        "DISPOSABLE_EMAIL_DETECTED" => Some("disposable_email_action"),
        "BREACHED_EMAIL_DETECTED" => Some("breached_email_action"),
        "DISPOSABLE_NUMBER_DETECTED" => Some("disposable_number_action"),
        "VOIP_NUMBER_DETECTED" => Some("voip_number_action"),
        _ => None,
    };
    if let Some(key) = documented {
        return key.to_owned();
    }
    let lower = code.to_ascii_lowercase();
    if feature == Feature::ProofOfAddress {
        let rest = lower.strip_prefix("poa_").unwrap_or(&lower);
        format!("poa_{rest}_action")
    } else {
        format!("{lower}_action")
    }
}

/// A risk an engine or a cross-check observed, before any action is applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Risk {
    pub code: String,
    pub additional_data: Option<Value>,
}

impl Risk {
    pub fn new(code: &str) -> Self {
        Self {
            code: code.to_owned(),
            additional_data: None,
        }
    }

    pub fn with_data(code: &str, data: Value) -> Self {
        Self {
            code: code.to_owned(),
            additional_data: Some(data),
        }
    }
}

fn number(config: &Map<String, Value>, key: &str, default: f64) -> f64 {
    config.get(key).and_then(Value::as_f64).unwrap_or(default)
}

/// The action the node's configuration gives `code`. Score codes are graded by
/// [`score_risks`]; asked here, they follow their configured key like a "C" code (Review by
/// default), which is how a score code raised outside its own feature is handled.
pub fn action_for(feature: Feature, code: &str, config: &Map<String, Value>) -> Action {
    let kind = lookup(feature, code).map_or(Kind::Configurable(Review), |entry| entry.kind);
    let default = match kind {
        Kind::AlwaysDecline => return Decline,
        Kind::Configurable(default) => default,
        Kind::Score => Review,
    };
    config
        .get(&config_key(feature, code))
        .and_then(Value::as_str)
        .and_then(Action::parse)
        .unwrap_or(default)
}

/// A graded score risk: the code and the action its thresholds gave it.
#[derive(Debug, Clone, PartialEq)]
pub struct GradedRisk {
    pub risk: Risk,
    pub action: Action,
}

/// The `LOW_*` / `POSSIBLE_MATCH_FOUND` risk the node's score earns, with its action
/// (§7.5 step 1). Reads `score` from the node's payload.
pub fn score_risks(
    feature: Feature,
    config: &Map<String, Value>,
    payload: &Map<String, Value>,
) -> Option<GradedRisk> {
    let score = payload.get("score").and_then(Value::as_f64)?;
    let (code, action) = match feature {
        Feature::Liveness => {
            let decline = number(config, "face_liveness_score_decline_threshold", 50.0);
            let review = number(config, "face_liveness_score_review_threshold", 70.0);
            ("LOW_LIVENESS_SCORE", grade_low(score, decline, review)?)
        }
        Feature::FaceMatch => {
            let decline = number(config, "face_match_score_decline_threshold", 40.0);
            let review = number(config, "face_match_score_review_threshold", 60.0);
            (
                "LOW_FACE_MATCH_SIMILARITY",
                grade_low(score, decline, review)?,
            )
        }
        Feature::Aml => {
            let approve = number(config, "aml_score_approve_threshold", 80.0);
            let review = number(config, "aml_score_review_threshold", 100.0);
            let action = if score >= review {
                Decline
            } else if score >= approve {
                Review
            } else {
                return None;
            };
            ("POSSIBLE_MATCH_FOUND", action)
        }
        _ => return None,
    };
    Some(GradedRisk {
        risk: Risk::with_data(code, json!({"score": score})),
        action,
    })
}

fn grade_low(score: f64, decline: f64, review: f64) -> Option<Action> {
    if score < decline {
        Some(Decline)
    } else if score < review {
        Some(Review)
    } else {
        None
    }
}

/// A warning object (spec §5.2).
pub fn warning(feature: Feature, node_id: &str, risk: &Risk, action: Action) -> Value {
    let description = lookup(feature, &risk.code)
        .map(|entry| entry.description)
        .unwrap_or("Risk reported by the verification engine.");
    json!({
        "feature": warning_feature(feature),
        "risk": risk.code,
        "additional_data": risk.additional_data,
        "log_type": action.log_type(),
        "short_description": short_description(&risk.code),
        "long_description": description,
        "node_id": node_id,
    })
}

/// `"LOW_FACE_MATCH_SIMILARITY"` → `"Low face match similarity"`.
fn short_description(code: &str) -> String {
    let words = code.to_ascii_lowercase().replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

/// Spec §7.5 step 2: Declined if any error, In Review if any warning, else Approved.
pub fn feature_status(actions: impl IntoIterator<Item = Action>) -> FeatureStatus {
    let mut status = FeatureStatus::Approved;
    for action in actions {
        match action {
            Decline => return FeatureStatus::Declined,
            Review => status = FeatureStatus::InReview,
            NoAction => {}
        }
    }
    status
}

/// Applies the rules to one node's observed risks: each risk gets its action (configured,
/// always-decline, or graded by the score), its warning object, and the feature its status.
/// Returns the feature status and the warnings, in observation order (score risk last).
pub fn evaluate(
    feature: Feature,
    node_id: &str,
    config: &Map<String, Value>,
    payload: &Map<String, Value>,
    risks: &[Risk],
) -> (FeatureStatus, Vec<Value>) {
    let mut graded: Vec<(Risk, Action)> = risks
        .iter()
        .filter(|risk| {
            // A score code on its own feature is graded from the score, never taken as given.
            !matches!(lookup(feature, &risk.code), Some(entry) if entry.kind == Kind::Score)
        })
        .map(|risk| (risk.clone(), action_for(feature, &risk.code, config)))
        .collect();
    if let Some(scored) = score_risks(feature, config, payload) {
        graded.push((scored.risk, scored.action));
    }
    let warnings = graded
        .iter()
        .map(|(risk, action)| warning(feature, node_id, risk, *action))
        .collect();
    (feature_status(graded.iter().map(|(_, a)| *a)), warnings)
}

/// Spec §7.5 step 3: any feature Declined → Declined; else any not Approved → In Review; else
/// Approved. `None` when there is nothing to decide on.
pub fn session_status(features: impl IntoIterator<Item = FeatureStatus>) -> Option<SessionStatus> {
    let mut any = false;
    let mut review = false;
    for status in features {
        any = true;
        match status {
            FeatureStatus::Declined => return Some(SessionStatus::Declined),
            FeatureStatus::Approved => {}
            FeatureStatus::InReview
            | FeatureStatus::NotFinished
            | FeatureStatus::NotStarted
            | FeatureStatus::Expired => review = true,
        }
    }
    any.then_some(if review {
        SessionStatus::InReview
    } else {
        SessionStatus::Approved
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, Value)]) -> Map<String, Value> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    /// A payload that earns no score warning on any feature.
    fn neutral_payload(feature: Feature) -> Map<String, Value> {
        match feature {
            Feature::Aml => config(&[("score", json!(0))]),
            Feature::Liveness | Feature::FaceMatch => config(&[("score", json!(99))]),
            _ => Map::new(),
        }
    }

    /// The spec's §9.3 table, code by code; the catalog must hold each of them.
    const SPEC_CODES: &[(&str, &[&str])] = &[
        (
            "OCR",
            &[
                "ID_DOCUMENT_IN_BLOCKLIST",
                "PORTRAIT_IMAGE_NOT_DETECTED",
                "DOCUMENT_EXPIRED",
                "DOCUMENT_NOT_SUPPORTED_FOR_APPLICATION",
                "PUBLIC_DOCUMENT_IMAGE_DETECTED",
                "MINIMUM_AGE_NOT_MET",
                "COULD_NOT_DETECT_DOCUMENT_TYPE",
                "INVALID_DATE",
                "SCREEN_CAPTURE_DETECTED",
                "PRINTED_COPY_DETECTED",
                "PORTRAIT_MANIPULATION_DETECTED",
                "MRZ_NOT_DETECTED",
                "MRZ_VALIDATION_FAILED",
                "MRZ_AND_DATA_EXTRACTED_FROM_OCR_NOT_SAME",
                "NAME_NOT_DETECTED",
                "DATE_OF_BIRTH_NOT_DETECTED",
                "DOCUMENT_NUMBER_NOT_DETECTED",
                "DATA_INCONSISTENT",
                "DOCUMENT_NAME_DIFFERENT_FROM_OTHER_APPROVED_DOCUMENTS",
                "EXPIRATION_DATE_NOT_DETECTED",
                "POSSIBLE_DUPLICATED_USER",
                "FULL_NAME_MISMATCH_WITH_PROVIDED",
                "DOB_MISMATCH_WITH_PROVIDED",
                "GENDER_MISMATCH_WITH_PROVIDED",
                "DOCUMENT_COUNTRY_MISMATCH",
            ],
        ),
        (
            "LIVENESS",
            &[
                "NO_FACE_DETECTED",
                "LIVENESS_FACE_ATTACK",
                "FACE_IN_BLOCKLIST",
                "POSSIBLE_FACE_IN_BLOCKLIST",
                "LOW_LIVENESS_SCORE",
                "DUPLICATED_FACE",
                "POSSIBLE_DUPLICATED_FACE",
                "MULTIPLE_FACES_DETECTED",
                "LOW_FACE_QUALITY",
                "LOW_FACE_LUMINANCE",
                "HIGH_FACE_LUMINANCE",
            ],
        ),
        (
            "FACE_MATCH",
            &[
                "NO_REFERENCE_IMAGE",
                "NO_FACE_DETECTED",
                "LIVENESS_FACE_ATTACK",
                "FACE_IN_BLOCKLIST",
                "LOW_FACE_MATCH_SIMILARITY",
                "LOW_LIVENESS_SCORE",
            ],
        ),
        (
            "AGE_ESTIMATION",
            &[
                "NO_FACE_DETECTED",
                "LIVENESS_FACE_ATTACK",
                "FACE_IN_BLOCKLIST",
                "AGE_BELOW_MINIMUM",
                "AGE_NOT_DETECTED",
                "LOW_LIVENESS_SCORE",
                "POSSIBLE_DUPLICATED_FACE",
            ],
        ),
        (
            "AML",
            &["POSSIBLE_MATCH_FOUND", "COULD_NOT_PERFORM_AML_SCREENING"],
        ),
        (
            "PROOF_OF_ADDRESS",
            &[
                "POA_DOCUMENT_NOT_SUPPORTED_FOR_APPLICATION",
                "EXPIRED_DOCUMENT",
                "INVALID_DOCUMENT_TYPE",
                "MISSING_ADDRESS_INFORMATION",
                "NAME_MISMATCH_WITH_PROVIDED",
                "NAME_MISMATCH_ID_VERIFICATION",
                "POA_NAME_MISMATCH_BETWEEN_DOCUMENTS",
                "POOR_DOCUMENT_QUALITY",
                "DOCUMENT_METADATA_MISMATCH",
                "SUSPECTED_DOCUMENT_MANIPULATION",
                "UNSUPPORTED_DOCUMENT_LANGUAGE",
                "ADDRESS_MISMATCH_WITH_PROVIDED",
                "UNABLE_TO_EXTRACT_ISSUE_DATE",
                "ISSUER_NOT_IDENTIFIED",
                "UNPARSABLE_OR_INVALID_ADDRESS",
                "UNABLE_TO_VALIDATE_DOCUMENT_AGE",
                "FUTURE_ISSUE_DATE",
            ],
        ),
        (
            "EMAIL_VERIFICATION",
            &[
                "EMAIL_CODE_ATTEMPTS_EXCEEDED",
                "EMAIL_IN_BLOCKLIST",
                "UNDELIVERABLE_EMAIL_DETECTED",
                "BREACHED_EMAIL_DETECTED",
                "DISPOSABLE_EMAIL_DETECTED",
                "DUPLICATED_EMAIL",
            ],
        ),
        (
            "PHONE_VERIFICATION",
            &[
                "VERIFICATION_CODE_ATTEMPTS_EXCEEDED",
                "PHONE_NUMBER_IN_BLOCKLIST",
                "HIGH_RISK_PHONE_NUMBER",
                "DISPOSABLE_NUMBER_DETECTED",
                "VOIP_NUMBER_DETECTED",
                "DUPLICATED_PHONE_NUMBER",
            ],
        ),
        (
            "DATABASE_VALIDATION",
            &[
                "COULD_NOT_PERFORM_DATABASE_VALIDATION",
                "DATABASE_VALIDATION_PARTIAL_MATCH",
                "DATABASE_VALIDATION_NO_MATCH",
            ],
        ),
        (
            "DOCUMENT_AI",
            &[
                "DOCUMENT_AI_SUSPECTED_MANIPULATION",
                "DOCUMENT_AI_NAME_MISMATCH",
                "DOCUMENT_AI_UNREADABLE_DOCUMENT",
                "DOCUMENT_AI_MISSING_REQUIRED_FIELDS",
                "DOCUMENT_AI_UNSUPPORTED_FILE",
            ],
        ),
    ];

    #[test]
    fn the_catalog_holds_every_code_of_the_spec_table_once() {
        for (feature, codes) in SPEC_CODES {
            let feature = Feature::parse(feature).unwrap();
            for code in *codes {
                assert!(lookup(feature, code).is_some(), "{feature:?} {code}");
            }
        }
        let mut seen = std::collections::HashSet::new();
        for entry in catalog() {
            assert!(
                seen.insert((entry.feature, entry.code)),
                "{} twice",
                entry.code
            );
        }
    }

    /// Every catalogued code under each configured action: always-decline codes decline
    /// whatever the config says, configurable codes follow their key, score codes follow
    /// their thresholds. Generated from the catalog, so a new code cannot be missed.
    #[test]
    fn every_code_under_every_configured_action() {
        let mut checked = 0;
        for entry in catalog() {
            let key = config_key(entry.feature, entry.code);
            for configured in Action::ALL {
                let config = config(&[(key.as_str(), json!(configured.config_value()))]);
                let payload = neutral_payload(entry.feature);
                let risks = [Risk::new(entry.code)];
                let (status, warnings) =
                    evaluate(entry.feature, "node_x", &config, &payload, &risks);
                let expected = match entry.kind {
                    Kind::AlwaysDecline => Some(Decline),
                    Kind::Configurable(_) => Some(configured),
                    // Raised only by the score; an engine cannot assert it.
                    Kind::Score => None,
                };
                match expected {
                    None => assert!(warnings.is_empty(), "{}: {warnings:?}", entry.code),
                    Some(action) => {
                        assert_eq!(warnings.len(), 1, "{}", entry.code);
                        let w = &warnings[0];
                        assert_eq!(w["risk"], entry.code);
                        assert_eq!(
                            w["log_type"],
                            action.log_type(),
                            "{} {configured:?}",
                            entry.code
                        );
                        assert_eq!(w["feature"], warning_feature(entry.feature));
                        assert_eq!(w["node_id"], "node_x");
                        assert_eq!(status, feature_status([action]), "{}", entry.code);
                    }
                }
                checked += 1;
            }
            if entry.kind == Kind::Score {
                check_score_code(entry);
            }
        }
        assert_eq!(checked, catalog().count() * 3);
    }

    fn check_score_code(entry: &RiskCode) {
        // (score, expected action) around the default thresholds of each score feature.
        let cases: &[(f64, Option<Action>)] = match entry.feature {
            Feature::Liveness => &[(10.0, Some(Decline)), (60.0, Some(Review)), (90.0, None)],
            Feature::FaceMatch => &[(10.0, Some(Decline)), (50.0, Some(Review)), (90.0, None)],
            Feature::Aml => &[(100.0, Some(Decline)), (85.0, Some(Review)), (20.0, None)],
            other => panic!("no thresholds for {other:?}"),
        };
        for (score, expected) in cases {
            let payload = config(&[("score", json!(score))]);
            let (status, warnings) = evaluate(entry.feature, "n", &Map::new(), &payload, &[]);
            match expected {
                None => {
                    assert!(warnings.is_empty());
                    assert_eq!(status, FeatureStatus::Approved);
                }
                Some(action) => {
                    assert_eq!(warnings[0]["risk"], entry.code);
                    assert_eq!(warnings[0]["log_type"], action.log_type());
                    assert_eq!(status, feature_status([*action]));
                }
            }
        }
    }

    #[test]
    fn thresholds_come_from_the_node_config() {
        let payload = config(&[("score", json!(65))]);
        let strict = config(&[
            ("face_match_score_decline_threshold", json!(70)),
            ("face_match_score_review_threshold", json!(90)),
        ]);
        let (status, _) = evaluate(Feature::FaceMatch, "n", &strict, &payload, &[]);
        assert_eq!(status, FeatureStatus::Declined);
        let (status, warnings) = evaluate(Feature::FaceMatch, "n", &Map::new(), &payload, &[]);
        assert_eq!(status, FeatureStatus::Approved);
        assert!(warnings.is_empty());
    }

    #[test]
    fn config_keys_follow_the_documented_mapping() {
        assert_eq!(
            config_key(Feature::Ocr, "POSSIBLE_DUPLICATED_USER"),
            "duplicated_user_action"
        );
        assert_eq!(
            config_key(Feature::Ocr, "MRZ_VALIDATION_FAILED"),
            "invalid_mrz_action"
        );
        assert_eq!(
            config_key(Feature::Ocr, "SCREEN_CAPTURE_DETECTED"),
            "screen_capture_detected_action"
        );
        assert_eq!(
            config_key(Feature::ProofOfAddress, "ADDRESS_MISMATCH_WITH_PROVIDED"),
            "poa_address_mismatch_with_provided_action"
        );
        assert_eq!(
            config_key(
                Feature::ProofOfAddress,
                "POA_NAME_MISMATCH_BETWEEN_DOCUMENTS"
            ),
            "poa_name_mismatch_between_documents_action"
        );
        // The lower-case spelling Didit documents for duplicated_user_action works too.
        let cfg = config(&[("duplicated_user_action", json!("review"))]);
        assert_eq!(
            action_for(Feature::Ocr, "POSSIBLE_DUPLICATED_USER", &cfg),
            Review
        );
        assert_eq!(
            action_for(Feature::Ocr, "POSSIBLE_DUPLICATED_USER", &Map::new()),
            NoAction
        );
    }

    #[test]
    fn feature_and_session_roll_up() {
        assert_eq!(feature_status([]), FeatureStatus::Approved);
        assert_eq!(feature_status([NoAction, Review]), FeatureStatus::InReview);
        assert_eq!(
            feature_status([Review, Decline, NoAction]),
            FeatureStatus::Declined
        );
        use FeatureStatus as F;
        assert_eq!(session_status([]), None);
        assert_eq!(
            session_status([F::Approved, F::Approved]),
            Some(SessionStatus::Approved)
        );
        assert_eq!(
            session_status([F::Approved, F::InReview]),
            Some(SessionStatus::InReview)
        );
        assert_eq!(
            session_status([F::InReview, F::Declined, F::Approved]),
            Some(SessionStatus::Declined)
        );
        assert_eq!(
            session_status([F::NotFinished]),
            Some(SessionStatus::InReview)
        );
    }

    #[test]
    fn unknown_codes_are_reviewed_unless_configured() {
        let (status, warnings) = evaluate(
            Feature::Ocr,
            "n",
            &Map::new(),
            &Map::new(),
            &[Risk::new("POSSIBLE_FRAUD")],
        );
        assert_eq!(status, FeatureStatus::InReview);
        assert_eq!(warnings[0]["log_type"], "warning");
        let cfg = config(&[("possible_fraud_action", json!("DECLINE"))]);
        let (status, _) = evaluate(
            Feature::Ocr,
            "n",
            &cfg,
            &Map::new(),
            &[Risk::new("POSSIBLE_FRAUD")],
        );
        assert_eq!(status, FeatureStatus::Declined);
    }
}
