//! Reviewer corrections (spec §3.10): `PATCH …/update-data/` edits an identity document's
//! extracted fields, `PATCH …/update-poa-data/` a proof of address's, and
//! `PATCH …/features/{node_id}/update-status/` overrides one node's status.

use crate::fields::{not_a_choice, FieldErrors, ObjectReader};
use crate::status::FeatureStatus;
use crate::timestamp::parse_date;
use crate::workflow::Feature;
use serde_json::{Map, Value};

/// `document_type` codes (and long-form aliases) → the display name decisions show.
fn document_display(text: &str) -> Option<&'static str> {
    Some(
        match text.to_ascii_uppercase().replace(['_', '-'], " ").as_str() {
            "P" | "PASSPORT" => "Passport",
            "ID" | "IDENTITY CARD" | "ID CARD" => "Identity Card",
            "DL" | "DRIVERS LICENSE" | "DRIVER'S LICENSE" | "DRIVING LICENSE" => "Driver's License",
            "RP" | "RESIDENCE PERMIT" => "Residence Permit",
            "SSC" | "SOCIAL SECURITY CARD" => "Social Security Card",
            "HIC" | "HEALTH INSURANCE CARD" => "Health Insurance Card",
            "WP" | "WORK PERMIT" => "Work Permit",
            "TC" | "TAX CARD" => "Tax Card",
            "VISA" => "Visa",
            "PSC" | "PUBLIC SERVICE CARD" => "Public Service Card",
            "BC" | "BIRTH CERTIFICATE" => "Birth Certificate",
            "OTHER" => "Other",
            _ => return None,
        },
    )
}

const TEXT_FIELDS: [&str; 6] = [
    "document_subtype",
    "document_number",
    "personal_number",
    "address",
    "place_of_birth",
    "first_name",
];

/// Sets `field` to a `YYYY-MM-DD` date, or records why not.
fn set_date(
    set: &mut Map<String, Value>,
    errors: &mut FieldErrors,
    field: &str,
    value: Option<String>,
) {
    match value {
        Some(text) if parse_date(&text).is_some() => {
            set.insert(field.to_owned(), Value::String(text));
        }
        Some(_) => errors.add(field, "Date has wrong format. Use YYYY-MM-DD."),
        None => {}
    }
}

/// Sets `field` to an ISO 3166-1 alpha-3 code, or records why not.
fn set_country(
    set: &mut Map<String, Value>,
    errors: &mut FieldErrors,
    field: &str,
    value: Option<String>,
) {
    match value {
        Some(code) if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) => {
            set.insert(field.to_owned(), Value::String(code));
        }
        Some(_) => errors.add(
            field,
            "Enter an ISO 3166-1 alpha-3 country code (e.g. ESP).",
        ),
        None => {}
    }
}

/// `update-poa-data`'s `document_type` choices (spec §5.7).
const POA_DOCUMENT_TYPES: [&str; 5] = [
    "UTILITY_BILL",
    "BANK_STATEMENT",
    "GOVERNMENT_ISSUED_DOCUMENT",
    "OTHER_POA_DOCUMENT",
    "UNKNOWN",
];

/// A validated `update-data` or `update-poa-data` body: the fields to set on the entry, and
/// which node (of `feature`: `OCR` or `PROOF_OF_ADDRESS`).
#[derive(Debug, Clone, PartialEq)]
pub struct DataUpdate {
    pub feature: Feature,
    pub node_id: Option<String>,
    pub set: Map<String, Value>,
    /// `extra_fields` keys to set (`null` deletes).
    pub extra_fields: Map<String, Value>,
}

impl DataUpdate {
    pub fn parse(body: &Map<String, Value>, query_node: Option<&str>) -> Result<Self, FieldErrors> {
        let mut reader = ObjectReader::new(body);
        let mut set = Map::new();
        for field in TEXT_FIELDS.into_iter().chain(["last_name"]) {
            if let Some(text) = reader.string(field, 512) {
                set.insert(field.to_owned(), Value::String(text));
            }
        }
        let document_type = reader.string("document_type", 64);
        let dates: Vec<(&str, Option<String>)> =
            ["date_of_birth", "date_of_issue", "expiration_date"]
                .into_iter()
                .map(|f| (f, reader.string(f, 10)))
                .collect();
        let issuing_state = reader.string("issuing_state", 3);
        let nationality = reader.string("nationality", 3);
        let gender = reader.string("gender", 1);
        let marital = reader.string("marital_status", 16);
        let extra = reader.object("extra_fields").cloned();
        let parsed_address = reader.object("parsed_address").cloned();
        let node_id = reader.string("node_id", 128);
        let mut errors = reader.finish();
        if let Some(text) = document_type {
            match document_display(&text) {
                Some(display) => {
                    set.insert("document_type".into(), display.into());
                }
                None => errors.add("document_type", not_a_choice(&text)),
            }
        }
        for (field, value) in dates {
            set_date(&mut set, &mut errors, field, value);
        }
        set_country(&mut set, &mut errors, "issuing_state", issuing_state);
        set_country(&mut set, &mut errors, "nationality", nationality);
        if let Some(gender) = gender {
            if ["M", "F", "U"].contains(&gender.as_str()) {
                set.insert("gender".into(), Value::String(gender));
            } else {
                errors.add("gender", not_a_choice(&gender));
            }
        }
        if let Some(status) = marital {
            if ["SINGLE", "MARRIED", "DIVORCED", "WIDOWED", "UNKNOWN"].contains(&status.as_str()) {
                set.insert("marital_status".into(), Value::String(status));
            } else {
                errors.add("marital_status", not_a_choice(&status));
            }
        }
        if let Some(address) = parsed_address {
            set.insert("parsed_address".into(), Value::Object(address));
        }
        let extra_fields = extra.unwrap_or_default();
        if set.is_empty() && extra_fields.is_empty() && errors.is_empty() {
            errors.add("non_field_errors", "Send at least one field to update.");
        }
        errors.into_result(DataUpdate {
            feature: Feature::Ocr,
            node_id: node_id.or_else(|| query_node.map(str::to_owned)),
            set,
            extra_fields,
        })
    }

    /// An `update-poa-data` body: `issuing_state`, `document_type`, `document_language`,
    /// `issuer`, `issue_date`, `poa_address`, `name_on_document`, `extra_fields`,
    /// `poa_parsed_address`, `node_id`.
    pub fn parse_poa(
        body: &Map<String, Value>,
        query_node: Option<&str>,
    ) -> Result<Self, FieldErrors> {
        let mut reader = ObjectReader::new(body);
        let mut set = Map::new();
        for (field, max) in [
            ("issuer", 512),
            ("poa_address", 1024),
            ("name_on_document", 512),
        ] {
            if let Some(text) = reader.string(field, max) {
                set.insert(field.to_owned(), Value::String(text));
            }
        }
        let issuing_state = reader.string("issuing_state", 3);
        let document_type = reader.string("document_type", 64);
        let language = reader.string("document_language", 5);
        let issue_date = reader.string("issue_date", 10);
        let extra = reader.object("extra_fields").cloned();
        let parsed_address = reader.object("poa_parsed_address").cloned();
        let node_id = reader.string("node_id", 128);
        let mut errors = reader.finish();
        set_country(&mut set, &mut errors, "issuing_state", issuing_state);
        if let Some(text) = document_type {
            if POA_DOCUMENT_TYPES.contains(&text.as_str()) {
                set.insert("document_type".into(), Value::String(text));
            } else {
                errors.add("document_type", not_a_choice(&text));
            }
        }
        if let Some(language) = language {
            if language.len() >= 2
                && language
                    .bytes()
                    .all(|b| b.is_ascii_alphabetic() || b == b'-')
            {
                set.insert("document_language".into(), Value::String(language));
            } else {
                errors.add("document_language", "Enter a language code (e.g. en).");
            }
        }
        set_date(&mut set, &mut errors, "issue_date", issue_date);
        if let Some(address) = parsed_address {
            set.insert("poa_parsed_address".into(), Value::Object(address));
        }
        let extra_fields = extra.unwrap_or_default();
        if set.is_empty() && extra_fields.is_empty() && errors.is_empty() {
            errors.add("non_field_errors", "Send at least one field to update.");
        }
        errors.into_result(DataUpdate {
            feature: Feature::ProofOfAddress,
            node_id: node_id.or_else(|| query_node.map(str::to_owned)),
            set,
            extra_fields,
        })
    }

    /// How the corrected step is named in messages.
    pub fn step_name(&self) -> &'static str {
        match self.feature {
            Feature::ProofOfAddress => "proof of address",
            _ => "ID verification",
        }
    }

    /// Applies the update to an `id_verifications[]` entry; returns the fields that changed.
    /// `full_name` follows `first_name` / `last_name`.
    pub fn apply(&self, payload: &mut Map<String, Value>) -> Vec<String> {
        let mut changed = Vec::new();
        for (key, value) in &self.set {
            if payload.get(key) != Some(value) {
                payload.insert(key.clone(), value.clone());
                changed.push(key.clone());
            }
        }
        if changed
            .iter()
            .any(|k| k == "first_name" || k == "last_name")
        {
            let part = |key: &str| {
                payload
                    .get(key)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned()
            };
            let full = format!("{} {}", part("first_name"), part("last_name"))
                .trim()
                .to_owned();
            payload.insert("full_name".into(), Value::String(full));
            changed.push("full_name".into());
        }
        if !self.extra_fields.is_empty() {
            let extra = payload
                .entry("extra_fields")
                .or_insert_with(|| Value::Object(Map::new()));
            if !extra.is_object() {
                *extra = Value::Object(Map::new());
            }
            if let Value::Object(extra) = extra {
                for (key, value) in &self.extra_fields {
                    if value.is_null() {
                        extra.remove(key);
                    } else {
                        extra.insert(key.clone(), value.clone());
                    }
                }
            }
            changed.push("extra_fields".into());
        }
        changed
    }
}

/// Body of `features/{node_id}/update-status/`.
#[derive(Debug, Clone, PartialEq)]
pub struct FeatureStatusUpdate {
    pub new_status: FeatureStatus,
    pub comment: Option<String>,
}

impl FeatureStatusUpdate {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, FieldErrors> {
        let mut reader = ObjectReader::new(body);
        let status = reader.required_string("new_status", 32);
        let comment = reader.string("comment", 5000);
        let mut errors = reader.finish();
        let new_status = status.and_then(|text| match FeatureStatus::parse(&text) {
            Some(
                s @ (FeatureStatus::Approved | FeatureStatus::Declined | FeatureStatus::InReview),
            ) => Some(s),
            _ => {
                errors.add("new_status", not_a_choice(&text));
                None
            }
        });
        errors.into_result(FeatureStatusUpdate {
            new_status: new_status.unwrap_or(FeatureStatus::InReview),
            comment,
        })
    }
}

/// The `feature_type` a feature status update echoes (spec §3.10).
pub fn feature_type(feature: Feature) -> &'static str {
    match feature {
        Feature::Ocr => "KYC",
        Feature::Liveness | Feature::AgeEstimation => "Face",
        Feature::FaceMatch => "FaceMatch",
        Feature::Aml => "AML",
        Feature::ProofOfAddress => "POA",
        Feature::Nfc => "NFC",
        Feature::PhoneVerification => "Phone",
        Feature::EmailVerification => "Email",
        Feature::IpAnalysis => "IpAnalysis",
        Feature::DatabaseValidation => "DatabaseValidation",
        Feature::Questionnaire => "Questionnaire",
        Feature::DocumentAi => "DocumentAI",
        Feature::KybRegistry | Feature::KybDocuments | Feature::KybKeyPeople => "KYB",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn update_data_validates_and_recomputes_the_full_name() {
        let update = DataUpdate::parse(
            &object(json!({"last_name": "Ruiz", "document_type": "DL", "extra_fields": {"blood_group": "A+", "old": null}})),
            Some("feature_ocr"),
        )
        .unwrap();
        assert_eq!(update.node_id.as_deref(), Some("feature_ocr"));
        let mut payload = object(
            json!({"first_name": "Ana", "last_name": "Lopez", "full_name": "Ana Lopez", "extra_fields": {"old": 1}}),
        );
        let changed = update.apply(&mut payload);
        assert_eq!(
            changed,
            ["document_type", "last_name", "full_name", "extra_fields"]
        );
        assert_eq!(payload["full_name"], "Ana Ruiz");
        assert_eq!(payload["document_type"], "Driver's License");
        assert_eq!(payload["extra_fields"], json!({"blood_group": "A+"}));
        let errors = DataUpdate::parse(
            &object(json!({"gender": "X", "date_of_birth": "12/04/1990", "issuing_state": "es", "colour": 1})),
            None,
        )
        .unwrap_err()
        .to_json();
        for key in ["gender", "date_of_birth", "issuing_state", "colour"] {
            assert!(errors.get(key).is_some(), "{key}: {errors}");
        }
        assert!(DataUpdate::parse(&Map::new(), None).is_err());
    }

    #[test]
    fn feature_status_updates_take_three_statuses() {
        let parsed = FeatureStatusUpdate::parse(&object(
            json!({"new_status": "In Review", "comment": "check"}),
        ))
        .unwrap();
        assert_eq!(parsed.new_status, FeatureStatus::InReview);
        assert!(
            FeatureStatusUpdate::parse(&object(json!({"new_status": "Not Finished"}))).is_err()
        );
        assert!(FeatureStatusUpdate::parse(&Map::new()).is_err());
    }
}
