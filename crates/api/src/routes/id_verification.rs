//! `POST /v3/id-verification/` (spec §8): the document engine on one uploaded document, outside
//! any session.
//!
//! Choices (the spec leaves them open):
//! * The call is not stored: `request_id` is a fresh UUID and `save_api_request` is accepted but
//!   has no effect (UNCERTAIN in the spec: Didit then keeps it as a "manual check" session).
//!   Nothing is kept, so `front_image`/`back_image` are null and `portrait_image` is the cropped
//!   portrait inline as a `data:image/jpeg;base64,…` URL (the caller's only copy).
//! * `minimum_age` is enforced when given (the spec-digest says "accepted, not enforced"; a caller
//!   who sends it expects it to count); without it no age check runs.
//! * Action fields accept `NO_ACTION`, `REVIEW` and `DECLINE`.
//! * Unreadable documents answer 400 `{"detail", "code": "COULD_NOT_RECOGNIZE_DOCUMENT"}`.
//! * PDFs (encrypted or not) are refused with 400 on the field: the engine reads images only.
//! * Images go through the hosted flow's upload checks ([`FormBody::take_image`]): magic bytes,
//!   5 MB (413), pixel dimensions from the header before anything is decoded (413), EXIF removed.

use crate::error::{coded, ApiError};
use crate::extract::{value_text, FormBody, Tenant};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use base64::Engine as _;
use serde_json::{json, Map, Value};
use verity_document::ReadError;
use verity_domain::capture::IMAGE_MAX_BYTES;
use verity_domain::rules::Action;
use verity_domain::workflow::{Feature, WorkflowFeature};
use verity_domain::FieldErrors;
use verity_pipeline::document::{observe, ImageUrls};
use verity_pipeline::evaluate::{judge, Context};

/// Largest accepted multipart body: two images at their cap plus the small text fields.
pub const BODY_LIMIT: usize = 2 * IMAGE_MAX_BYTES + 256 * 1024;

const ACTION_FIELDS: [&str; 3] = [
    "expiration_date_not_detected_action",
    "invalid_mrz_action",
    "inconsistent_data_action",
];

/// What the form carried, after validation.
#[derive(Default)]
struct Form {
    front: Vec<u8>,
    back: Option<Vec<u8>>,
    config: Map<String, Value>,
    vendor_data: Option<String>,
    metadata: Option<Value>,
}

fn parse_form(mut body: FormBody) -> Result<Form, ApiError> {
    let mut form = Form::default();
    let mut errors = FieldErrors::new();
    let front = body.take_image("front_image", true, &mut errors)?;
    form.back = body
        .take_image("back_image", false, &mut errors)?
        .map(|image| image.bytes);
    for (name, _) in &body.files {
        errors.add(name, "Unknown field.");
    }
    for (name, value) in &body.fields {
        if matches!(name.as_str(), "front_image" | "back_image") {
            continue;
        }
        match value_text(value) {
            Some(text) => text_field(name, &text, &mut form, &mut errors),
            None => errors.add(name, "Not a valid string."),
        }
    }
    errors.into_result(())?;
    form.front = front.map(|image| image.bytes).unwrap_or_default();
    Ok(form)
}

fn boolean(text: &str) -> Option<bool> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => None,
    }
}

fn text_field(name: &str, text: &str, form: &mut Form, errors: &mut FieldErrors) {
    match name {
        // Encrypted PDFs are refused anyway; the passwords have nothing to open.
        "front_image_password" | "back_image_password" => {}
        // There is no document-liveness model yet; the flag is accepted and has no effect.
        "perform_document_liveness" | "save_api_request" => {
            if boolean(text).is_none() {
                errors.add(name, "Must be a valid boolean.");
            }
        }
        "minimum_age" => match text.parse::<i64>() {
            Ok(age) if (0..=150).contains(&age) => {
                form.config.insert("minimum_age".into(), json!(age));
            }
            _ => errors.add(name, "A valid integer between 0 and 150 is required."),
        },
        "preferred_characters" => {
            if !matches!(text, "latin" | "non_latin") {
                errors.add(name, verity_domain::fields::not_a_choice(text));
            }
        }
        "vendor_data" => form.vendor_data = Some(text.to_owned()),
        "metadata" => match serde_json::from_str::<Value>(text) {
            Ok(value @ Value::Object(_)) => form.metadata = Some(value),
            _ => errors.add(name, "Must be a JSON object."),
        },
        action if ACTION_FIELDS.contains(&action) => match Action::parse(text) {
            Some(parsed) => {
                form.config
                    .insert(action.to_owned(), json!(parsed.config_value()));
            }
            None => errors.add(name, verity_domain::fields::not_a_choice(text)),
        },
        _ => errors.add(name, "Unknown field."),
    }
}

#[utoipa::path(post, path = "/v3/id-verification/", tag = "standalone",
    security(("api_key" = [])),
    request_body(content = Value, content_type = "multipart/form-data", description = "front_image (required), back_image, minimum_age, expiration_date_not_detected_action, invalid_mrz_action, inconsistent_data_action, perform_document_liveness, preferred_characters, vendor_data, metadata, save_api_request"),
    responses((status = 200, description = "{request_id, id_verification{status, …id_verifications fields, barcodes[], warnings}, vendor_data, metadata, created_at}", body = Value),
              (status = 400, description = "Field errors, or COULD_NOT_RECOGNIZE_DOCUMENT"),
              (status = 413, description = "An image over 5 MB or over the pixel limits"),
              (status = 503, description = "The document engine's models are not installed")))]
pub async fn id_verification(
    State(state): State<AppState>,
    _tenant: Tenant,
    body: FormBody,
) -> Result<Json<Value>, ApiError> {
    let reader = state
        .engines
        .document
        .clone()
        .ok_or(ApiError::EngineUnavailable(
            "The document engine is not installed on this server (run scripts/fetch-models).",
        ))?;
    let form = parse_form(body)?;
    let reading = match reader.read(form.front, form.back).await? {
        Ok(reading) => reading,
        Err(ReadError::CouldNotRecognizeDocument) => {
            return Err(coded(
                StatusCode::BAD_REQUEST,
                "COULD_NOT_RECOGNIZE_DOCUMENT",
                "No identity document could be recognised in the image.",
            ))
        }
        Err(ReadError::InvalidImage(_)) => {
            return Err(FieldErrors::single(
                "front_image",
                "Upload a valid image. The file you uploaded was either not an image or a corrupted image.",
            )
            .into())
        }
        Err(ReadError::Inference(message)) => {
            return Err(anyhow::anyhow!("document inference failed: {message}").into())
        }
    };
    let urls = ImageUrls {
        portrait: reading.portrait_jpeg.as_ref().map(|jpeg| {
            format!(
                "data:image/jpeg;base64,{}",
                base64::engine::general_purpose::STANDARD.encode(jpeg)
            )
        }),
        ..ImageUrls::default()
    };
    let mut output = observe(&reading, &urls);
    output.payload.insert(
        "barcodes".into(),
        serde_json::to_value(&reading.barcodes).unwrap_or_else(|_| json!([])),
    );
    let mut config = Feature::Ocr
        .default_config()
        .as_object()
        .cloned()
        .unwrap_or_default();
    // Without an explicit minimum age no age check runs (the cross-checks default to 18).
    config.insert(
        "minimum_age".into(),
        form.config.get("minimum_age").cloned().unwrap_or(json!(0)),
    );
    config.extend(form.config);
    let node = WorkflowFeature {
        feature: Feature::Ocr,
        node_id: "feature_ocr".into(),
        label: None,
        config,
    };
    let context = Context {
        expected_details: None,
        today: time::OffsetDateTime::now_utc().date(),
        duplicate_of: None,
        id_document: None,
    };
    let result = judge(&node, output, &context);
    let mut id_verification = Map::new();
    id_verification.insert("status".into(), json!(result.status.as_str()));
    id_verification.extend(result.payload);
    Ok(Json(json!({
        "request_id": uuid::Uuid::new_v4(),
        "id_verification": id_verification,
        "vendor_data": form.vendor_data,
        "metadata": form.metadata,
        "created_at": verity_domain::Timestamp::now().to_iso(),
    })))
}
