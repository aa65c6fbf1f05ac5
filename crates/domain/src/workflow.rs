//! Workflows: the ordered list of checks (features) a session runs, their configuration, the four
//! templates every application starts with (spec §7.2), and parsing of the create/update body in
//! both the current `features: [{feature, config}]` model and the legacy flag model (spec §7.3).

use crate::fields::{not_a_choice, FieldErrors, ObjectReader};
use crate::session::Environment;
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

/// A check a workflow can run. Serialized with Didit's workflow-side names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Feature {
    Ocr,
    Nfc,
    Liveness,
    FaceMatch,
    AgeEstimation,
    PhoneVerification,
    EmailVerification,
    DatabaseValidation,
    Aml,
    IpAnalysis,
    ProofOfAddress,
    Questionnaire,
    DocumentAi,
    KybRegistry,
    KybDocuments,
    KybKeyPeople,
}

use Feature::*;

impl Feature {
    pub const ALL: [Feature; 16] = [
        Ocr,
        Nfc,
        Liveness,
        FaceMatch,
        AgeEstimation,
        PhoneVerification,
        EmailVerification,
        DatabaseValidation,
        Aml,
        IpAnalysis,
        ProofOfAddress,
        Questionnaire,
        DocumentAi,
        KybRegistry,
        KybDocuments,
        KybKeyPeople,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Ocr => "OCR",
            Nfc => "NFC",
            Liveness => "LIVENESS",
            FaceMatch => "FACE_MATCH",
            AgeEstimation => "AGE_ESTIMATION",
            PhoneVerification => "PHONE_VERIFICATION",
            EmailVerification => "EMAIL_VERIFICATION",
            DatabaseValidation => "DATABASE_VALIDATION",
            Aml => "AML",
            IpAnalysis => "IP_ANALYSIS",
            ProofOfAddress => "PROOF_OF_ADDRESS",
            Questionnaire => "QUESTIONNAIRE",
            DocumentAi => "DOCUMENT_AI",
            KybRegistry => "KYB_REGISTRY",
            KybDocuments => "KYB_DOCUMENTS",
            KybKeyPeople => "KYB_KEY_PEOPLE",
        }
    }

    /// Parses the workflow name or one of the session-side aliases (`ID_VERIFICATION`, `POA`,
    /// `PHONE`, `EMAIL`) that `nodes_to_resubmit` accepts.
    pub fn parse(text: &str) -> Option<Self> {
        let canonical = match text {
            "ID_VERIFICATION" => "OCR",
            "POA" => "PROOF_OF_ADDRESS",
            "PHONE" => "PHONE_VERIFICATION",
            "EMAIL" => "EMAIL_VERIFICATION",
            other => other,
        };
        Self::ALL.into_iter().find(|f| f.as_str() == canonical)
    }

    /// The name a decision's `features` list shows (spec §5.1).
    pub fn display_name(self) -> &'static str {
        match self {
            Ocr => "ID_VERIFICATION",
            ProofOfAddress => "POA",
            PhoneVerification => "PHONE",
            EmailVerification => "EMAIL",
            other => other.as_str(),
        }
    }

    /// The plural array of the v3 decision this feature's results go into (spec §5.1).
    pub fn decision_key(self) -> &'static str {
        match self {
            Ocr => "id_verifications",
            Nfc => "nfc_verifications",
            // Age estimation is reported on the liveness entry (`age_estimation`, spec §5.6).
            Liveness | AgeEstimation => "liveness_checks",
            FaceMatch => "face_matches",
            PhoneVerification => "phone_verifications",
            EmailVerification => "email_verifications",
            DatabaseValidation => "database_validations",
            Aml => "aml_screenings",
            IpAnalysis => "ip_analyses",
            ProofOfAddress => "poa_verifications",
            Questionnaire => "questionnaire_responses",
            DocumentAi => "document_ai_documents",
            KybRegistry => "registry_checks",
            KybDocuments => "document_verifications",
            KybKeyPeople => "key_people_checks",
        }
    }

    pub fn is_kyb(self) -> bool {
        matches!(self, KybRegistry | KybDocuments | KybKeyPeople)
    }

    /// Steps that read the identity document and so must come after an OCR step.
    fn needs_document(self) -> bool {
        matches!(self, Nfc | DatabaseValidation)
    }

    /// The configuration a feature starts with; a caller's `config` is merged over it.
    pub fn default_config(self) -> Value {
        match self {
            Ocr => json!({"documents_allowed": {}, "duplicated_user_action": "no_action"}),
            Liveness => json!({
                "face_liveness_method": "PASSIVE",
                "face_liveness_score_decline_threshold": 50,
                "face_liveness_score_review_threshold": 70
            }),
            FaceMatch => json!({
                "face_match_score_decline_threshold": 40,
                "face_match_score_review_threshold": 60
            }),
            Aml => json!({
                "aml_name_weight": 60,
                "aml_dob_weight": 25,
                "aml_country_weight": 15,
                "aml_match_score_threshold": 93,
                "aml_score_approve_threshold": 80,
                "aml_score_review_threshold": 100,
                "include_adverse_media": false,
                "is_ongoing_monitoring_enabled": false
            }),
            AgeEstimation => json!({"is_age_restrictions_enabled": true, "minimum_age": 18}),
            _ => json!({}),
        }
    }
}

/// `workflow_type` (spec §7.2). Fixed at creation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkflowType {
    Kyc,
    AdaptiveAgeVerification,
    BiometricAuthentication,
    AddressVerification,
    QuestionnaireVerification,
    EmailVerification,
    PhoneVerification,
    Kyb,
}

impl WorkflowType {
    const ALL: [WorkflowType; 8] = [
        WorkflowType::Kyc,
        WorkflowType::AdaptiveAgeVerification,
        WorkflowType::BiometricAuthentication,
        WorkflowType::AddressVerification,
        WorkflowType::QuestionnaireVerification,
        WorkflowType::EmailVerification,
        WorkflowType::PhoneVerification,
        WorkflowType::Kyb,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WorkflowType::Kyc => "kyc",
            WorkflowType::AdaptiveAgeVerification => "adaptive_age_verification",
            WorkflowType::BiometricAuthentication => "biometric_authentication",
            WorkflowType::AddressVerification => "address_verification",
            WorkflowType::QuestionnaireVerification => "questionnaire_verification",
            WorkflowType::EmailVerification => "email_verification",
            WorkflowType::PhoneVerification => "phone_verification",
            WorkflowType::Kyb => "kyb",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The type implied by a feature list when the caller does not name one.
    fn infer(features: &[WorkflowFeature]) -> Self {
        let has = |wanted: Feature| features.iter().any(|f| f.feature == wanted);
        let only = |allowed: &[Feature]| features.iter().all(|f| allowed.contains(&f.feature));
        if features.iter().any(|f| f.feature.is_kyb()) {
            WorkflowType::Kyb
        } else if has(Ocr) {
            WorkflowType::Kyc
        } else if has(FaceMatch) {
            WorkflowType::BiometricAuthentication
        } else if has(AgeEstimation) {
            WorkflowType::AdaptiveAgeVerification
        } else if has(ProofOfAddress) {
            WorkflowType::AddressVerification
        } else if only(&[EmailVerification, IpAnalysis]) {
            WorkflowType::EmailVerification
        } else if only(&[PhoneVerification, IpAnalysis]) {
            WorkflowType::PhoneVerification
        } else if has(Questionnaire) {
            WorkflowType::QuestionnaireVerification
        } else {
            WorkflowType::Kyc
        }
    }
}

/// One node of a (linear) workflow.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowFeature {
    pub feature: Feature,
    /// Stable id of the node inside the workflow; decisions and resubmissions refer to it.
    pub node_id: String,
    pub label: Option<String>,
    pub config: Map<String, Value>,
}

impl WorkflowFeature {
    /// A LIVENESS node's `face_liveness_method` (`PASSIVE`, `ACTIVE_3D`, `FLASHING`), upper case;
    /// `PASSIVE` when not configured.
    pub fn liveness_method(&self) -> String {
        self.config
            .get("face_liveness_method")
            .and_then(Value::as_str)
            .unwrap_or("PASSIVE")
            .to_ascii_uppercase()
    }

    /// Whether Verity has a verification engine to run this node for a live session: the
    /// document engine (OCR), the face engine (LIVENESS by PASSIVE or ACTIVE_3D, FACE_MATCH,
    /// AGE_ESTIMATION) and AML screening. The other steps (NFC chip reading, phone and e-mail
    /// codes, database validation, IP analysis, proof of address, questionnaires, KYB, FLASHING
    /// liveness) play only in sandbox mode; a live workflow may not publish them.
    pub fn has_live_engine(&self) -> bool {
        match self.feature {
            Ocr | FaceMatch | AgeEstimation | Aml => true,
            Liveness => matches!(self.liveness_method().as_str(), "PASSIVE" | "ACTIVE_3D"),
            _ => false,
        }
    }
}

/// Whether sessions may be created on a version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Publication {
    Draft,
    Published,
}

/// Everything a workflow version holds, stored as one JSON document per version.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkflowSettings {
    pub label: String,
    pub workflow_type: WorkflowType,
    pub features: Vec<WorkflowFeature>,
    pub status: Publication,
    pub is_white_label_enabled: bool,
    pub is_desktop_allowed: bool,
    pub max_retry_attempts: i64,
    pub retry_window_days: i64,
    /// Lifetime of a session's link in seconds (spec §4.3 leaves the unit open; we chose seconds).
    pub session_expiration_time: i64,
}

pub const DEFAULT_SESSION_EXPIRATION_SECONDS: i64 = 7 * 24 * 3600;
const MAX_SESSION_EXPIRATION_SECONDS: i64 = 365 * 24 * 3600;
const LABEL_MAX: usize = 50;

impl WorkflowSettings {
    /// A published workflow running `features` in order, with default configuration.
    pub fn from_features(label: &str, workflow_type: WorkflowType, features: &[Feature]) -> Self {
        Self {
            label: label.to_owned(),
            workflow_type,
            features: assign_node_ids(
                features
                    .iter()
                    .map(|&feature| (feature, None, Map::new()))
                    .collect(),
            ),
            status: Publication::Published,
            is_white_label_enabled: false,
            is_desktop_allowed: true,
            max_retry_attempts: 3,
            retry_window_days: 7,
            session_expiration_time: DEFAULT_SESSION_EXPIRATION_SECONDS,
        }
    }

    /// The nodes a live session could not run (see [`WorkflowFeature::has_live_engine`]).
    pub fn nodes_without_live_engine(&self) -> Vec<&WorkflowFeature> {
        self.features
            .iter()
            .filter(|node| !node.has_live_engine())
            .collect()
    }

    /// The four templates of a new application of `environment` (spec §7.2, seed 003 step 2);
    /// the first is its default workflow. On a live application a template with a step that has
    /// no live engine (Address Verification: proof of address) is a draft, so no live session
    /// can be created on it; the sandbox application's copy is published.
    pub fn templates_for(environment: Environment) -> Vec<WorkflowSettings> {
        let mut templates = Self::templates();
        if environment == Environment::Live {
            for template in &mut templates {
                if !template.nodes_without_live_engine().is_empty() {
                    template.status = Publication::Draft;
                }
            }
        }
        templates
    }

    /// The four templates every new application gets (spec §7.2, seed 003 step 2). The first is
    /// the application's default workflow.
    pub fn templates() -> Vec<WorkflowSettings> {
        vec![
            Self::from_features("KYC", WorkflowType::Kyc, &[Ocr, Liveness, FaceMatch]),
            Self::from_features(
                "Adaptive Age Verification",
                WorkflowType::AdaptiveAgeVerification,
                &[Liveness, AgeEstimation],
            ),
            Self::from_features(
                "Biometric Authentication",
                WorkflowType::BiometricAuthentication,
                &[Liveness, FaceMatch],
            ),
            Self::from_features(
                "Address Verification",
                WorkflowType::AddressVerification,
                &[ProofOfAddress],
            ),
        ]
    }

    pub fn feature_display_names(&self) -> Vec<&'static str> {
        self.features
            .iter()
            .map(|node| node.feature.display_name())
            .collect()
    }

    pub fn node(&self, node_id: &str) -> Option<&WorkflowFeature> {
        self.features.iter().find(|node| node.node_id == node_id)
    }
}

/// Gives every node an id `feature_<name>`, suffixed `_2`, `_3`… when a feature repeats.
fn assign_node_ids(
    nodes: Vec<(Feature, Option<String>, Map<String, Value>)>,
) -> Vec<WorkflowFeature> {
    let mut out: Vec<WorkflowFeature> = Vec::with_capacity(nodes.len());
    for (feature, label, overrides) in nodes {
        let base = format!("feature_{}", feature.as_str().to_ascii_lowercase());
        let seen = out.iter().filter(|n| n.feature == feature).count();
        let node_id = if seen == 0 {
            base
        } else {
            format!("{base}_{}", seen + 1)
        };
        let mut config = match feature.default_config() {
            Value::Object(defaults) => defaults,
            _ => Map::new(),
        };
        config.extend(overrides);
        out.push(WorkflowFeature {
            feature,
            node_id,
            label,
            config,
        });
    }
    out
}

/// Legacy flag names (older docs) and the feature each enables.
const LEGACY_FLAGS: [(&str, Feature); 9] = [
    ("is_nfc_enabled", Nfc),
    ("is_liveness_enabled", Liveness),
    ("is_face_match_enabled", FaceMatch),
    ("is_age_restrictions_enabled", AgeEstimation),
    ("is_phone_verification_enabled", PhoneVerification),
    ("is_email_verification_enabled", EmailVerification),
    ("is_database_validation_enabled", DatabaseValidation),
    ("is_aml_enabled", Aml),
    ("is_ip_analysis_enabled", IpAnalysis),
];

/// Legacy config keys and the feature whose config they belong to.
const LEGACY_CONFIG_KEYS: [(&str, Feature); 7] = [
    ("face_liveness_method", Liveness),
    ("face_liveness_score_decline_threshold", Liveness),
    ("face_match_score_decline_threshold", FaceMatch),
    ("face_match_score_review_threshold", FaceMatch),
    ("aml_decline_threshold", Aml),
    ("documents_allowed", Ocr),
    ("duplicated_user_action", Ocr),
];

/// Parses a workflow create (`current == None`) or partial update body. Unknown keys are refused.
pub fn parse_workflow_body(
    body: &Map<String, Value>,
    current: Option<&WorkflowSettings>,
) -> Result<(WorkflowSettings, Option<bool>), FieldErrors> {
    let mut reader = ObjectReader::new(body);
    let label = reader.string("workflow_label", LABEL_MAX);
    let type_text = reader.string("workflow_type", 64);
    let is_default = reader.bool("is_default");
    let status_text = reader.string("status", 16);
    let white_label = reader.bool("is_white_label_enabled");
    let desktop = reader.bool("is_desktop_allowed");
    let retries = reader.integer("max_retry_attempts", 0, 100);
    let retry_window = reader.integer("retry_window_days", 1, 365);
    let expiration = reader.integer(
        "session_expiration_time",
        60,
        MAX_SESSION_EXPIRATION_SECONDS,
    );
    let features_value = reader.value("features");

    let mut legacy_flags = Vec::new();
    for (flag, feature) in LEGACY_FLAGS {
        if let Some(enabled) = reader.bool(flag) {
            legacy_flags.push((feature, enabled));
        }
    }
    let mut legacy_config = Vec::new();
    for (key, feature) in LEGACY_CONFIG_KEYS {
        if let Some(value) = reader.value(key) {
            legacy_config.push((key, feature, value.clone()));
        }
    }
    let mut errors = reader.finish();

    let workflow_type = type_text.and_then(|text| {
        let parsed = WorkflowType::parse(&text);
        if parsed.is_none() {
            errors.add("workflow_type", not_a_choice(&text));
        }
        parsed
    });
    let status = status_text.and_then(|text| match text.as_str() {
        "draft" => Some(Publication::Draft),
        "published" => Some(Publication::Published),
        _ => {
            errors.add("status", not_a_choice(&text));
            None
        }
    });

    let uses_legacy = !legacy_flags.is_empty() || !legacy_config.is_empty();
    let features = match (features_value, uses_legacy) {
        (Some(_), true) => {
            errors.add(
                "features",
                "Send either `features` or the legacy is_*_enabled flags, not both.",
            );
            None
        }
        (Some(value), false) => parse_features(value, &mut errors),
        (None, true) => Some(features_from_legacy(
            &legacy_flags,
            legacy_config,
            &mut errors,
        )),
        (None, false) => None,
    };

    let mut settings = match current {
        Some(current) => current.clone(),
        None => {
            if label.is_none() {
                errors.add("workflow_label", crate::fields::REQUIRED);
            }
            if features.is_none() && !errors.contains("features") {
                errors.add("features", crate::fields::REQUIRED);
            }
            WorkflowSettings::from_features("", WorkflowType::Kyc, &[])
        }
    };
    if let Some(features) = features {
        if let Err(message) = check_feature_order(&features) {
            errors.add("features", message);
        }
        settings.features = features;
        if current.is_none() {
            settings.workflow_type = WorkflowType::infer(&settings.features);
        }
    }
    if let Some(workflow_type) = workflow_type {
        match current {
            Some(current) if current.workflow_type != workflow_type => errors.add(
                "workflow_type",
                "The workflow type is fixed when the workflow is created.",
            ),
            _ => settings.workflow_type = workflow_type,
        }
    }
    if settings.workflow_type == WorkflowType::Kyb {
        errors.add(
            "features",
            "Business (KYB) workflows are not supported by this server.",
        );
    }
    if let Some(label) = label {
        if label.trim().is_empty() {
            errors.add("workflow_label", "This field may not be blank.");
        }
        settings.label = label;
    }
    if let Some(status) = status {
        settings.status = status;
    }
    if let Some(flag) = white_label {
        settings.is_white_label_enabled = flag;
    }
    if let Some(flag) = desktop {
        settings.is_desktop_allowed = flag;
    }
    if let Some(value) = retries {
        settings.max_retry_attempts = value;
    }
    if let Some(value) = retry_window {
        settings.retry_window_days = value;
    }
    if let Some(value) = expiration {
        settings.session_expiration_time = value;
    }
    errors.into_result((settings, is_default))
}

fn parse_features(value: &Value, errors: &mut FieldErrors) -> Option<Vec<WorkflowFeature>> {
    let Value::Array(items) = value else {
        errors.add("features", "Expected a list of items.");
        return None;
    };
    if items.is_empty() {
        errors.add("features", "This list may not be empty.");
        return None;
    }
    let mut nodes = Vec::with_capacity(items.len());
    let mut item_errors = Vec::with_capacity(items.len());
    let mut not_objects = false;
    for item in items {
        let Value::Object(object) = item else {
            not_objects = true;
            item_errors.push(FieldErrors::new());
            continue;
        };
        let mut reader = ObjectReader::new(object);
        let feature_text = reader.required_string("feature", 64);
        let label = reader.string("label", LABEL_MAX);
        let config = reader.object("config").cloned().unwrap_or_default();
        let mut node_errors = reader.finish();
        let feature = feature_text.and_then(|text| {
            // Only the workflow-side names are valid here; aliases belong to session payloads.
            let parsed = Feature::ALL.into_iter().find(|f| f.as_str() == text);
            if parsed.is_none() {
                node_errors.add("feature", not_a_choice(&text));
            }
            parsed
        });
        node_errors.nest("config", check_config(&config));
        if let Some(feature) = feature {
            if feature == Questionnaire && !config.contains_key("questionnaire_uuid") {
                node_errors.nest(
                    "config",
                    FieldErrors::single("questionnaire_uuid", crate::fields::REQUIRED),
                );
            }
            nodes.push((feature, label, config));
        }
        item_errors.push(node_errors);
    }
    if not_objects {
        errors.add("features", "Each workflow feature must be an object.");
        return None;
    }
    let any_error = item_errors.iter().any(|e| !e.is_empty());
    errors.nest_list("features", item_errors);
    (!any_error).then(|| assign_node_ids(nodes))
}

/// Known config keys are type-checked by their suffix; other keys are kept as given so that
/// settings of checks Verity does not interpret yet are never silently dropped.
fn check_config(config: &Map<String, Value>) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for (key, value) in config {
        if key.ends_with("_threshold") || key.ends_with("_weight") {
            match value.as_f64() {
                Some(number) if (0.0..=100.0).contains(&number) => {}
                _ => errors.add(key, "Ensure this value is a number between 0 and 100."),
            }
        } else if key.ends_with("_action") {
            const ACTIONS: [&str; 4] = ["NO_ACTION", "REVIEW", "DECLINE", "APPROVE"];
            match value.as_str() {
                Some(text) if ACTIONS.contains(&text.to_ascii_uppercase().as_str()) => {}
                Some(text) => errors.add(key, not_a_choice(text)),
                None => errors.add(key, crate::fields::NOT_A_STRING),
            }
        } else if key == "face_liveness_method" {
            match value.as_str() {
                Some(text)
                    if ["PASSIVE", "ACTIVE_3D", "FLASHING"]
                        .contains(&text.to_ascii_uppercase().as_str()) => {}
                Some(text) => errors.add(key, not_a_choice(text)),
                None => errors.add(key, crate::fields::NOT_A_STRING),
            }
        } else if key == "minimum_age" {
            match value.as_i64() {
                Some(age) if (0..=150).contains(&age) => {}
                _ => errors.add(key, "Ensure this value is an integer between 0 and 150."),
            }
        } else if (key.starts_with("is_") || key.starts_with("include_")) && !value.is_boolean() {
            errors.add(key, "Must be a valid boolean.");
        }
    }
    errors
}

fn features_from_legacy(
    flags: &[(Feature, bool)],
    config: Vec<(&str, Feature, Value)>,
    errors: &mut FieldErrors,
) -> Vec<WorkflowFeature> {
    // The flag model always read the identity document first.
    let mut chosen = vec![Ocr];
    for (feature, _) in LEGACY_FLAGS.iter().map(|(_, f)| (*f, ())) {
        if flags.contains(&(feature, true)) {
            chosen.push(feature);
        }
    }
    let mut nodes: Vec<(Feature, Option<String>, Map<String, Value>)> =
        chosen.into_iter().map(|f| (f, None, Map::new())).collect();
    for (key, feature, value) in config {
        let Some(node) = nodes.iter_mut().find(|(f, _, _)| *f == feature) else {
            errors.add(
                key,
                format!("Requires the {} step to be enabled.", feature.as_str()),
            );
            continue;
        };
        // The flag model's single AML threshold declines at or above it.
        let key = if key == "aml_decline_threshold" {
            "aml_score_review_threshold"
        } else {
            key
        };
        node.2.insert(key.to_owned(), value);
    }
    for (_, _, node_config) in &nodes {
        let node_errors = check_config(node_config);
        if !node_errors.is_empty() {
            errors.nest("config", node_errors);
        }
    }
    assign_node_ids(nodes)
}

/// Dependencies first (spec §7.3): steps that read the document need an OCR step before them.
fn check_feature_order(features: &[WorkflowFeature]) -> Result<(), String> {
    for (index, node) in features.iter().enumerate() {
        let ocr_before = features[..index].iter().any(|n| n.feature == Ocr);
        let ocr_after = features[index..].iter().any(|n| n.feature == Ocr);
        if node.feature.needs_document() && !ocr_before {
            return Err(format!(
                "{} requires an OCR step before it.",
                node.feature.as_str()
            ));
        }
        if node.feature == FaceMatch && ocr_after && !ocr_before {
            return Err("FACE_MATCH must come after OCR.".to_owned());
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(body: Value) -> Result<WorkflowSettings, Value> {
        parse_workflow_body(body.as_object().unwrap(), None)
            .map(|(settings, _)| settings)
            .map_err(|e| e.to_json())
    }

    #[test]
    fn templates_are_the_four_of_the_spec() {
        let templates = WorkflowSettings::templates();
        let labels: Vec<_> = templates.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "KYC",
                "Adaptive Age Verification",
                "Biometric Authentication",
                "Address Verification"
            ]
        );
        assert_eq!(templates[0].features[0].node_id, "feature_ocr");
        assert_eq!(
            templates[0].feature_display_names(),
            ["ID_VERIFICATION", "LIVENESS", "FACE_MATCH"]
        );
    }

    #[test]
    fn features_model_with_config_defaults_and_repeats() {
        let settings = parse(json!({
            "workflow_label": "Onboarding",
            "features": [
                {"feature": "OCR"},
                {"feature": "FACE_MATCH", "config": {"face_match_score_review_threshold": 75}},
                {"feature": "AML"},
                {"feature": "AML", "label": "second screen"}
            ]
        }))
        .unwrap();
        assert_eq!(settings.workflow_type, WorkflowType::Kyc);
        let ids: Vec<_> = settings
            .features
            .iter()
            .map(|n| n.node_id.as_str())
            .collect();
        assert_eq!(
            ids,
            [
                "feature_ocr",
                "feature_face_match",
                "feature_aml",
                "feature_aml_2"
            ]
        );
        let face = &settings.features[1].config;
        assert_eq!(face["face_match_score_review_threshold"], 75);
        assert_eq!(face["face_match_score_decline_threshold"], 40);
    }

    #[test]
    fn bad_features_get_drf_shaped_errors() {
        assert_eq!(
            parse(json!({"workflow_label": "x", "features": ["OCR"]})).unwrap_err(),
            json!({"features": ["Each workflow feature must be an object."]})
        );
        assert_eq!(
            parse(json!({"workflow_label": "x", "features": [{"feature": "OCR"}, {"feature": "SELFIE"}]}))
                .unwrap_err(),
            json!({"features": [{}, {"feature": ["\"SELFIE\" is not a valid choice."]}]})
        );
        assert_eq!(
            parse(json!({"features": [{"feature": "OCR", "config": {"face_match_score_decline_threshold": 140}}]}))
                .unwrap_err(),
            json!({
                "workflow_label": ["This field is required."],
                "features": [{"config": {"face_match_score_decline_threshold": ["Ensure this value is a number between 0 and 100."]}}]
            })
        );
        assert_eq!(
            parse(
                json!({"workflow_label": "x", "features": [{"feature": "NFC"}, {"feature": "OCR"}]})
            )
            .unwrap_err(),
            json!({"features": ["NFC requires an OCR step before it."]})
        );
        assert_eq!(
            parse(
                json!({"workflow_label": "x", "features": [{"feature": "OCR"}], "colour": "red"})
            )
            .unwrap_err(),
            json!({"colour": ["Unknown field."]})
        );
    }

    #[test]
    fn legacy_flag_model_maps_onto_features() {
        let settings = parse(json!({
            "workflow_label": "Legacy",
            "is_liveness_enabled": true,
            "face_liveness_method": "ACTIVE_3D",
            "is_face_match_enabled": true,
            "face_match_score_decline_threshold": 55,
            "is_aml_enabled": false,
            "duplicated_user_action": "review"
        }))
        .unwrap();
        let names: Vec<_> = settings.features.iter().map(|n| n.feature).collect();
        assert_eq!(names, [Ocr, Liveness, FaceMatch]);
        assert_eq!(
            settings.features[0].config["duplicated_user_action"],
            "review"
        );
        assert_eq!(
            settings.features[1].config["face_liveness_method"],
            "ACTIVE_3D"
        );
        assert_eq!(
            settings.features[2].config["face_match_score_decline_threshold"],
            55
        );
    }

    #[test]
    fn type_is_inferred_and_then_fixed() {
        let biometric = parse(json!({"workflow_label": "Re-auth", "features": [{"feature": "LIVENESS"}, {"feature": "FACE_MATCH"}]})).unwrap();
        assert_eq!(
            biometric.workflow_type,
            WorkflowType::BiometricAuthentication
        );
        let body = json!({"workflow_type": "kyc"});
        let err = parse_workflow_body(body.as_object().unwrap(), Some(&biometric)).unwrap_err();
        assert!(err.contains("workflow_type"));
        let kyb =
            parse(json!({"workflow_label": "Company", "features": [{"feature": "KYB_REGISTRY"}]}));
        assert!(kyb.is_err());
    }

    #[test]
    fn partial_update_keeps_what_is_not_sent() {
        let original = WorkflowSettings::templates().remove(0);
        let body = json!({"workflow_label": "Renamed", "session_expiration_time": 3600});
        let (updated, is_default) =
            parse_workflow_body(body.as_object().unwrap(), Some(&original)).unwrap();
        assert_eq!(updated.label, "Renamed");
        assert_eq!(updated.session_expiration_time, 3600);
        assert_eq!(updated.features, original.features);
        assert_eq!(is_default, None);
    }

    #[test]
    fn aliases_parse_for_resubmission() {
        assert_eq!(Feature::parse("ID_VERIFICATION"), Some(Ocr));
        assert_eq!(Feature::parse("POA"), Some(ProofOfAddress));
        assert_eq!(Feature::parse("PHONE"), Some(PhoneVerification));
        assert_eq!(Feature::parse("EMAIL"), Some(EmailVerification));
        assert_eq!(Feature::parse("SELFIE"), None);
    }
}
