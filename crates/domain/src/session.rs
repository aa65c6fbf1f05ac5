//! Sessions: the validated create-session input (parse, don't validate: once a `NewSession`
//! exists every field in it is known to be well-formed) and the stored session.

use crate::fields::{not_a_choice, FieldErrors, ObjectReader};
use crate::ids::{ApplicationId, SessionId, SessionToken, WorkflowId, WorkflowVersionId};
use crate::status::SessionStatus;
use crate::timestamp::{parse_date, Timestamp};
use crate::workflow::Feature;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Hosted-flow languages Didit accepts (spec §3.2).
pub const LANGUAGES: [&str; 54] = [
    "en", "ar", "bg", "bn", "bs", "ca", "cnr", "cs", "da", "de", "el", "es", "et", "fa", "fi",
    "fr", "he", "hi", "hr", "hu", "hy", "id", "it", "ja", "ka", "kk", "ko", "ky", "lt", "lv", "mk",
    "mn", "ms", "nl", "no", "pl", "pt-BR", "pt", "ro", "ru", "sk", "sl", "so", "sq", "sr", "sv",
    "th", "tr", "uk", "uz", "vi", "zh-CN", "zh-TW", "zh",
];

/// Sandbox outcomes (spec §9.4); only sandbox applications accept them.
pub const SANDBOX_SCENARIOS: [&str; 16] = [
    "approve",
    "decline_document_expired",
    "decline_could_not_recognize_document",
    "decline_mrz_validation",
    "decline_minimum_age",
    "decline_face_match_low_similarity",
    "decline_liveness_attack",
    "decline_aml_hit",
    "decline_ip_blocklist",
    "decline_poa_address_mismatch",
    "decline_nfc_chip_not_verified",
    "decline_database_no_match",
    "review_aml_possible_match",
    "review_face_match_borderline",
    "review_poa_partial_match",
    "decline_kyb_registry_mismatch",
];

/// Document type codes accepted in `expected_details.expected_document_types`.
pub const DOCUMENT_TYPE_CODES: [&str; 7] = ["P", "ID", "DL", "RP", "HIC", "TC", "SSC"];

/// Largest decoded `portrait_image` accepted (spec §10 picks 2 MB).
pub const PORTRAIT_MAX_BYTES: usize = 2 * 1024 * 1024;

/// Which device of a cross-device flow is redirected to the callback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CallbackMethod {
    Initiator,
    Completer,
    Both,
}

impl CallbackMethod {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "initiator" => Some(Self::Initiator),
            "completer" => Some(Self::Completer),
            "both" => Some(Self::Both),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Initiator => "initiator",
            Self::Completer => "completer",
            Self::Both => "both",
        }
    }
}

/// Live applications run real checks; sandbox applications never do (spec §9.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Environment {
    Live,
    Sandbox,
}

impl Environment {
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "live" => Some(Self::Live),
            "sandbox" => Some(Self::Sandbox),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Live => "live",
            Self::Sandbox => "sandbox",
        }
    }
}

/// A decoded, sniffed reference portrait.
#[derive(Debug, Clone, PartialEq)]
pub struct PortraitImage {
    pub bytes: Vec<u8>,
    pub content_type: &'static str,
}

impl PortraitImage {
    pub fn extension(&self) -> &'static str {
        match self.content_type {
            "image/jpeg" => "jpg",
            "image/png" => "png",
            "image/webp" => "webp",
            _ => "tiff",
        }
    }
}

/// Recognises the image formats the API accepts by their magic bytes, never by a declared type.
pub fn sniff_image(bytes: &[u8]) -> Option<&'static str> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some("image/jpeg"),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some("image/png"),
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => Some("image/webp"),
        [b'I', b'I', 0x2A, 0x00, ..] | [b'M', b'M', 0x00, 0x2A, ..] => Some("image/tiff"),
        _ => None,
    }
}

/// The validated body of `POST /v3/session/`.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSession {
    pub workflow_id: WorkflowId,
    pub vendor_data: Option<String>,
    pub callback: Option<String>,
    pub callback_method: CallbackMethod,
    pub metadata: Option<Value>,
    pub language: Option<String>,
    pub contact_details: Option<Value>,
    pub expected_details: Option<Value>,
    pub portrait_image: Option<PortraitImage>,
    pub sandbox_scenario: Option<String>,
}

impl NewSession {
    pub fn parse(body: &Map<String, Value>) -> Result<Self, FieldErrors> {
        let mut reader = ObjectReader::new(body);
        let workflow_id = reader.required_string("workflow_id", 64).and_then(|text| {
            let parsed = WorkflowId::parse(&text);
            if parsed.is_none() {
                reader.errors.add("workflow_id", "Must be a valid UUID.");
            }
            parsed
        });
        let vendor_data = reader.string("vendor_data", 1024);
        let callback = reader.string("callback", 2048);
        let callback_method = reader.string("callback_method", 16);
        let metadata = reader.value("metadata").cloned();
        let language = reader.string("language", 8);
        let contact_details = reader.value("contact_details").cloned();
        let expected_details = reader.value("expected_details").cloned();
        let portrait = reader.string("portrait_image", PORTRAIT_MAX_BYTES * 4 / 3 + 128);
        let sandbox_scenario = reader.string("sandbox_scenario", 64);
        let mut errors = reader.finish();

        if let Some(callback) = &callback {
            if !is_valid_callback(callback) {
                errors.add("callback", "Enter a valid URL.");
            }
        }
        let callback_method = match callback_method {
            None => CallbackMethod::Initiator,
            Some(text) => CallbackMethod::parse(&text).unwrap_or_else(|| {
                errors.add("callback_method", not_a_choice(&text));
                CallbackMethod::Initiator
            }),
        };
        let metadata = metadata.and_then(|value| match parse_metadata(value) {
            Ok(object) => Some(object),
            Err(message) => {
                errors.add("metadata", message);
                None
            }
        });
        let language = language.and_then(|text| match canonical_language(&text) {
            Some(code) => Some(code.to_owned()),
            None => {
                errors.add("language", not_a_choice(&text));
                None
            }
        });
        let contact_details = contact_details.and_then(|value| {
            let parsed = parse_contact_details(&value);
            match parsed {
                Ok(object) => Some(object),
                Err(inner) => {
                    errors.nest("contact_details", inner);
                    None
                }
            }
        });
        let expected_details =
            expected_details.and_then(|value| match parse_expected_details(&value) {
                Ok(object) => Some(object),
                Err(inner) => {
                    errors.nest("expected_details", inner);
                    None
                }
            });
        let portrait_image = portrait.and_then(|text| match parse_portrait(&text) {
            Ok(image) => Some(image),
            Err(message) => {
                errors.add("portrait_image", message);
                None
            }
        });
        if let Some(scenario) = &sandbox_scenario {
            if !SANDBOX_SCENARIOS.contains(&scenario.as_str()) {
                errors.add("sandbox_scenario", not_a_choice(scenario));
            }
        }
        let workflow_id = workflow_id.unwrap_or(WorkflowId(uuid::Uuid::nil()));
        errors.into_result(NewSession {
            workflow_id,
            vendor_data,
            callback,
            callback_method,
            metadata,
            language,
            contact_details,
            expected_details,
            portrait_image,
            sandbox_scenario,
        })
    }
}

/// An absolute URL with a scheme, not one that runs or reads content (`javascript:`, `data:`,
/// `file:`, `vbscript:`); web URLs need a host. The syntax of callbacks and `redirect_uris`;
/// where a session may actually send the person is [`check_callback`]'s decision.
pub(crate) fn is_valid_callback(text: &str) -> bool {
    match url::Url::parse(text) {
        Ok(url) => match url.scheme() {
            "http" | "https" => url.host_str().is_some_and(|host| !host.is_empty()),
            "javascript" | "data" | "file" | "vbscript" => false,
            _ => true,
        },
        Err(_) => false,
    }
}

/// What a (syntactically valid) callback needs before the hosted page may send the person there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CallbackCheck {
    Allowed,
    /// Refused whatever the application registered: the field error's message.
    Refused(&'static str),
    /// A custom scheme (an app's deep link, or an OS protocol handler such as `ms-msdt:`): only
    /// when one of the application's `redirect_uris` uses this scheme ([`scheme_registered`]).
    NeedsRegistration(String),
}

/// Where a session may send the person when it ends (seed 003: custom schemes are supported):
/// https anywhere; http to loopback hosts (development), or anywhere when the operator allows
/// it; any other scheme only when the application registered it. The page launches the callback
/// from the server's own origin, so a deny-list would let any tenant launch protocol handlers.
pub fn check_callback(callback: &str, allow_http: bool) -> CallbackCheck {
    let Ok(url) = url::Url::parse(callback) else {
        return CallbackCheck::Refused("Enter a valid URL.");
    };
    match url.scheme() {
        "https" => CallbackCheck::Allowed,
        "http" if allow_http || is_loopback(&url) => CallbackCheck::Allowed,
        "http" => CallbackCheck::Refused("Use an https URL."),
        scheme => CallbackCheck::NeedsRegistration(scheme.to_owned()),
    }
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        None => false,
    }
}

/// Whether one of `redirect_uris` uses `scheme` (schemes compare case-insensitively; the URL
/// parser lower-cases them).
pub fn scheme_registered(scheme: &str, redirect_uris: &[String]) -> bool {
    redirect_uris
        .iter()
        .any(|uri| url::Url::parse(uri).is_ok_and(|registered| registered.scheme() == scheme))
}

/// `metadata` is a JSON object, or a string holding one (the docs show both).
fn parse_metadata(value: Value) -> Result<Value, &'static str> {
    const MAX_BYTES: usize = 16 * 1024;
    let object = match value {
        Value::Object(_) => value,
        Value::String(text) => match serde_json::from_str::<Value>(&text) {
            Ok(parsed @ Value::Object(_)) => parsed,
            _ => return Err("Must be a JSON object or a string holding one."),
        },
        _ => return Err("Must be a JSON object or a string holding one."),
    };
    if object.to_string().len() > MAX_BYTES {
        return Err("Ensure metadata is at most 16 KB once encoded.");
    }
    Ok(object)
}

/// Case-insensitive match onto the canonical spelling (`pt-br` → `pt-BR`).
pub fn canonical_language(text: &str) -> Option<&'static str> {
    LANGUAGES
        .into_iter()
        .find(|code| code.eq_ignore_ascii_case(text))
}

fn is_valid_email(text: &str) -> bool {
    let Some((local, domain)) = text.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && local.len() <= 64
        && text.len() <= 254
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !text.chars().any(|c| c.is_whitespace() || c.is_control())
        && !local.contains('@')
}

fn is_e164(text: &str) -> bool {
    let Some(digits) = text.strip_prefix('+') else {
        return false;
    };
    (7..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

fn expect_object(value: &Value) -> Result<&Map<String, Value>, FieldErrors> {
    value
        .as_object()
        .ok_or_else(|| FieldErrors::single("non_field_errors", "Must be a JSON object."))
}

fn parse_contact_details(value: &Value) -> Result<Value, FieldErrors> {
    let object = expect_object(value)?;
    let mut reader = ObjectReader::new(object);
    let email = reader.string("email", 254);
    reader.bool("send_notification_emails");
    let email_lang = reader.string("email_lang", 8);
    let phone = reader.string("phone", 32);
    let mut errors = reader.finish();
    if email.as_deref().is_some_and(|e| !is_valid_email(e)) {
        errors.add("email", "Enter a valid email address.");
    }
    if let Some(lang) = &email_lang {
        if canonical_language(lang).is_none() {
            errors.add("email_lang", not_a_choice(lang));
        }
    }
    if phone.as_deref().is_some_and(|p| !is_e164(p)) {
        errors.add(
            "phone",
            "Enter a valid phone number in E.164 format (e.g. +15550101000).",
        );
    }
    errors.into_result(value.clone())
}

fn is_alpha3(text: &str) -> bool {
    text.len() == 3 && text.bytes().all(|b| b.is_ascii_uppercase())
}

fn parse_expected_details(value: &Value) -> Result<Value, FieldErrors> {
    let object = expect_object(value)?;
    let mut reader = ObjectReader::new(object);
    for field in [
        "first_name",
        "last_name",
        "address",
        "identification_number",
    ] {
        reader.string(field, 512);
    }
    for field in ["company_name", "registry_country", "registration_number"] {
        reader.string(field, 512);
    }
    let date_of_birth = reader.string("date_of_birth", 10);
    let gender = reader.string("gender", 1);
    let nationality = reader.string("nationality", 3);
    let country = reader.string("country", 3);
    let id_country = reader.string("id_country", 3);
    let poa_country = reader.string("poa_country", 3);
    let ip_address = reader.string("ip_address", 45);
    let document_types = reader.value("expected_document_types").cloned();
    let mut errors = reader.finish();

    if let Some(date) = &date_of_birth {
        match parse_date(date) {
            Some(parsed) if parsed <= time::OffsetDateTime::now_utc().date() => {}
            Some(_) => errors.add("date_of_birth", "Date of birth cannot be in the future."),
            None => errors.add("date_of_birth", "Date has wrong format. Use YYYY-MM-DD."),
        }
    }
    if let Some(gender) = &gender {
        if gender != "M" && gender != "F" {
            errors.add("gender", not_a_choice(gender));
        }
    }
    for (field, code) in [
        ("nationality", &nationality),
        ("id_country", &id_country),
        ("poa_country", &poa_country),
    ] {
        if code.as_deref().is_some_and(|c| !is_alpha3(c)) {
            errors.add(
                field,
                "Enter an ISO 3166-1 alpha-3 country code (e.g. ESP).",
            );
        }
    }
    if country.as_deref().is_some_and(|c| {
        !(c.len() == 2 || c.len() == 3) || !c.bytes().all(|b| b.is_ascii_uppercase())
    }) {
        errors.add(
            "country",
            "Enter an ISO 3166-1 alpha-2 or alpha-3 country code.",
        );
    }
    if ip_address
        .as_deref()
        .is_some_and(|ip| ip.parse::<std::net::IpAddr>().is_err())
    {
        errors.add("ip_address", "Enter a valid IPv4 or IPv6 address.");
    }
    let mut normalized = object.clone();
    if let Some(types) = document_types {
        match normalize_document_types(&types) {
            Ok(codes) => {
                normalized.insert("expected_document_types".into(), codes);
            }
            Err(message) => errors.add("expected_document_types", message),
        }
    }
    errors.into_result(Value::Object(normalized))
}

/// Case-insensitive, de-duplicated document type codes; unknown codes are refused.
fn normalize_document_types(value: &Value) -> Result<Value, String> {
    let Value::Array(items) = value else {
        return Err("Expected a list of items.".into());
    };
    let mut codes: Vec<Value> = Vec::new();
    for item in items {
        let Some(text) = item.as_str() else {
            return Err("Each document type must be a string.".into());
        };
        let upper = text.to_ascii_uppercase();
        if !DOCUMENT_TYPE_CODES.contains(&upper.as_str()) {
            return Err(not_a_choice(text));
        }
        if !codes.iter().any(|c| c.as_str() == Some(&upper)) {
            codes.push(Value::String(upper));
        }
    }
    Ok(Value::Array(codes))
}

fn parse_portrait(text: &str) -> Result<PortraitImage, String> {
    let trimmed = text.trim();
    if trimmed.starts_with("http://") || trimmed.starts_with("https://") {
        return Err("Image URLs are not fetched by this server; send the image as base64.".into());
    }
    let payload = match trimmed.split_once(";base64,") {
        Some((prefix, data)) if prefix.starts_with("data:") => data,
        _ => trimmed,
    };
    let compact: String = payload.chars().filter(|c| !c.is_whitespace()).collect();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&compact)
        .or_else(|_| base64::engine::general_purpose::URL_SAFE.decode(&compact))
        .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(&compact))
        .map_err(|_| "Invalid base64 image data.".to_owned())?;
    if bytes.len() > PORTRAIT_MAX_BYTES {
        return Err("Ensure the image is at most 2 MB.".into());
    }
    let content_type = sniff_image(&bytes).ok_or_else(|| {
        "Upload a valid image (JPEG, PNG, WebP or TIFF). The data was either not an image or a corrupted image.".to_owned()
    })?;
    Ok(PortraitImage {
        bytes,
        content_type,
    })
}

/// One node a session runs, copied from its pinned workflow version at creation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionNode {
    pub node_id: String,
    pub feature: Feature,
}

/// A stored verification session.
#[derive(Debug, Clone, PartialEq)]
pub struct Session {
    pub id: SessionId,
    pub application_id: ApplicationId,
    pub number: i64,
    pub token: SessionToken,
    pub workflow_id: WorkflowId,
    pub workflow_version_id: WorkflowVersionId,
    pub workflow_version: i64,
    pub status: SessionStatus,
    pub environment: Environment,
    pub vendor_data: Option<String>,
    pub callback: Option<String>,
    pub callback_method: CallbackMethod,
    pub metadata: Option<Value>,
    pub language: Option<String>,
    pub contact_details: Option<Value>,
    pub expected_details: Option<Value>,
    pub sandbox_scenario: Option<String>,
    pub portrait_media_key: Option<String>,
    pub nodes: Vec<SessionNode>,
    pub resubmit_info: Option<Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub expires_at: Timestamp,
    /// Issuing country (alpha-3) of the verified document, once one was read.
    pub country: Option<String>,
}

impl Session {
    /// The hosted-flow link: `{base}/session/{token}` or `{base}/{lang}/session/{token}`.
    pub fn url(&self, public_base: &str) -> String {
        let base = public_base.trim_end_matches('/');
        match &self.language {
            Some(lang) => format!("{base}/{lang}/session/{}", self.token.as_str()),
            None => format!("{base}/session/{}", self.token.as_str()),
        }
    }

    pub fn feature_display_names(&self) -> Vec<&'static str> {
        self.nodes
            .iter()
            .map(|n| n.feature.display_name())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const PNG_1X1: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

    fn parse(body: Value) -> Result<NewSession, Value> {
        NewSession::parse(body.as_object().unwrap()).map_err(|e| e.to_json())
    }

    #[test]
    fn minimal_body_gets_defaults() {
        let id = uuid::Uuid::new_v4().to_string();
        let session = parse(json!({"workflow_id": id})).unwrap();
        assert_eq!(session.workflow_id.to_string(), id);
        assert_eq!(session.callback_method, CallbackMethod::Initiator);
        assert!(session.vendor_data.is_none());
    }

    #[test]
    fn full_body_of_seed_003_parses() {
        let session = parse(json!({
            "workflow_id": "11111111-2222-3333-4444-555555555555",
            "callback": "https://yourapp.com/verification-complete",
            "vendor_data": "user-123",
            "metadata": {"plan": "premium", "signup_source": "mobile-app"},
            "contact_details": {"email": "alex.sample@example.com", "email_lang": "en", "send_notification_emails": true, "phone": "+15550101000"},
            "expected_details": {"first_name": "John", "last_name": "Doe", "date_of_birth": "1990-01-01", "expected_document_types": ["p", "ID", "P"]}
        }))
        .unwrap();
        assert_eq!(
            session.expected_details.unwrap()["expected_document_types"],
            json!(["P", "ID"])
        );
        assert_eq!(session.metadata.unwrap()["plan"], "premium");
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let errors = parse(json!({
            "callback": "not a url",
            "callback_method": "sideways",
            "language": "xx",
            "metadata": [1, 2],
            "contact_details": {"email": "nope", "phone": "555"},
            "expected_details": {"date_of_birth": "01/01/1990", "gender": "X", "nationality": "es", "expected_document_types": ["PASSPORT"]},
            "portrait_image": "aGVsbG8=",
            "sandbox_scenario": "win",
            "surprise": 1
        }))
        .unwrap_err();
        for field in [
            "workflow_id",
            "callback",
            "callback_method",
            "language",
            "metadata",
            "contact_details",
            "expected_details",
            "portrait_image",
            "sandbox_scenario",
            "surprise",
        ] {
            assert!(errors.get(field).is_some(), "{field} missing in {errors}");
        }
        assert_eq!(errors["workflow_id"], json!(["This field is required."]));
        assert_eq!(
            errors["callback_method"],
            json!(["\"sideways\" is not a valid choice."])
        );
        assert_eq!(
            errors["expected_details"]["gender"],
            json!(["\"X\" is not a valid choice."])
        );
        assert_eq!(
            errors["contact_details"]["phone"].as_array().unwrap().len(),
            1
        );
    }

    #[test]
    fn portrait_is_decoded_and_sniffed() {
        let id = uuid::Uuid::new_v4().to_string();
        let session = parse(json!({"workflow_id": id, "portrait_image": format!("data:image/png;base64,{PNG_1X1}")})).unwrap();
        assert_eq!(session.portrait_image.unwrap().content_type, "image/png");
        let big =
            base64::engine::general_purpose::STANDARD.encode(vec![0xFFu8; PORTRAIT_MAX_BYTES + 1]);
        let errors = parse(json!({"workflow_id": id, "portrait_image": big})).unwrap_err();
        assert_eq!(
            errors["portrait_image"],
            json!(["Ensure the image is at most 2 MB."])
        );
    }

    #[test]
    fn metadata_may_be_a_json_string() {
        let id = uuid::Uuid::new_v4().to_string();
        let session = parse(json!({"workflow_id": id, "metadata": "{\"a\": 1}"})).unwrap();
        assert_eq!(session.metadata, Some(json!({"a": 1})));
    }

    #[test]
    fn callbacks_allow_app_schemes_but_not_scripts() {
        assert!(is_valid_callback("myapp://verification/done"));
        assert!(is_valid_callback("https://example.com/cb?x=1"));
        assert!(!is_valid_callback("javascript:alert(1)"));
        assert!(!is_valid_callback("/relative"));
    }

    #[test]
    fn callbacks_go_to_https_loopback_http_or_registered_schemes() {
        use CallbackCheck::*;
        assert_eq!(check_callback("https://shop.example/done", false), Allowed);
        assert_eq!(check_callback("http://localhost:3000/done", false), Allowed);
        assert_eq!(check_callback("http://127.0.0.1/done", false), Allowed);
        assert_eq!(check_callback("http://[::1]/done", false), Allowed);
        assert_eq!(
            check_callback("http://shop.example/done", false),
            Refused("Use an https URL.")
        );
        assert_eq!(check_callback("http://shop.example/done", true), Allowed);
        for (callback, scheme) in [
            ("ms-msdt:/id PCWDiagnostic", "ms-msdt"),
            ("intent://scan/#Intent;scheme=zxing;end", "intent"),
            ("MyApp://done", "myapp"),
        ] {
            assert_eq!(
                check_callback(callback, false),
                NeedsRegistration(scheme.into())
            );
        }
        let registered = [
            "https://shop.example/done".to_owned(),
            "myapp://done".to_owned(),
        ];
        assert!(scheme_registered("myapp", &registered));
        assert!(!scheme_registered("intent", &registered));
    }

    #[test]
    fn languages_are_canonicalized() {
        assert_eq!(canonical_language("PT-br"), Some("pt-BR"));
        assert_eq!(canonical_language("es"), Some("es"));
        assert_eq!(canonical_language("klingon"), None);
    }

    #[test]
    fn image_sniffing() {
        assert_eq!(sniff_image(&[0xFF, 0xD8, 0xFF, 0xE0]), Some("image/jpeg"));
        assert_eq!(sniff_image(b"RIFF\0\0\0\0WEBPVP8 "), Some("image/webp"));
        assert_eq!(sniff_image(b"II*\0...."), Some("image/tiff"));
        assert_eq!(sniff_image(b"GIF89a"), None);
    }
}
