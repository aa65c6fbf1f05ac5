//! The document engine through the API, with the real PP-OCRv4 models (`scripts/fetch-models`):
//! a live session whose workflow has the OCR node reads a generated passport uploaded through
//! the hosted flow, and `POST /v3/id-verification/` reads one directly, refuses what is not a
//! readable image, and answers 503 on a server without the models.

use crate::helpers::{form, sample_png, spawn_app, spawn_app_with, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::time::Duration;
use verity_document::synth::{self, Assets, DocKind, GroundTruth, Photo};

/// The repository's `models/` (the document models and the corpus' portrait live in
/// `models/document/`).
fn models_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../models"))
}

async fn spawn_with_models() -> TestApp {
    let dir = models_dir();
    assert!(
        dir.join("document/ppocr_v4_det.onnx").is_file(),
        "the document models are missing in {}: run scripts/fetch-models",
        dir.display()
    );
    spawn_app_with(|config| config.engines.models_dir = dir).await
}

/// A generated passport photographed with a slight tilt on a cluttered background, as JPEG,
/// with its ground truth. Seeds are tried from `seed` on until the generator picks a holder the
/// rules should approve: adult, document not expired, and a plain-ASCII name of ordinary length
/// (an accented printed name that the recogniser reads without its accents does not confirm the
/// MRZ, and the engine then rightly withholds its verification).
pub(crate) fn generated_passport(seed: u64) -> (Vec<u8>, GroundTruth) {
    let assets = Assets::load(&models_dir().join("document")).expect(
        "fonts-ocr-b, fonts-dejavu-core and models/document/astronaut.png (scripts/fetch-models)",
    );
    let today = chrono::Utc::now().date_naive();
    let adult_born_before = today - chrono::Duration::days(366 * 19);
    for seed in seed..seed + 200 {
        let document = synth::render(&assets, DocKind::Passport, seed, today);
        let truth = &document.truth;
        let plain = |name: &str| {
            name.len() <= 16 && name.chars().all(|c| c.is_ascii_alphabetic() || c == ' ')
        };
        if truth.expiry_date <= today
            || truth.birth_date >= adult_born_before
            || !plain(&truth.surname)
            || !plain(&truth.given_names)
        {
            continue;
        }
        let photo = Photo {
            rotation_deg: 3.0,
            clutter: true,
            ..Photo::clean()
        };
        return (
            synth::photograph(&document.front, &photo, seed),
            document.truth,
        );
    }
    panic!("no plain adult passport among 200 generated documents");
}

async fn post_id_verification(
    app: &TestApp,
    key: Option<&str>,
    files: &[(&str, &[u8])],
    text: &[(&str, &str)],
) -> (StatusCode, Value) {
    app.send_form(Method::POST, "/v3/id-verification/", key, form(files, text))
        .await
}

/// Checks an `id_verifications[]` entry against the ground truth and returns its status.
///
/// The fields the MRZ check digits protect must always be right. Names carry no check digit:
/// the engine vouches for them only when the printed zone confirms the MRZ. So either the entry
/// is Approved and every name is right, or it is held In Review with DOCUMENT_DATA_NOT_VERIFIED
/// (never Approved with a wrong name — the issue's "never silently wrong").
fn assert_reading(entry: &Value, truth: &GroundTruth) -> String {
    assert_eq!(entry["document_type"], "Passport", "{entry}");
    assert_eq!(entry["document_number"], truth.document_number, "{entry}");
    assert_eq!(
        entry["date_of_birth"],
        truth.birth_date.to_string(),
        "{entry}"
    );
    assert_eq!(
        entry["expiration_date"],
        truth.expiry_date.to_string(),
        "{entry}"
    );
    let alpha3 = |code: &str| {
        if code == "D" {
            "DEU".to_owned()
        } else {
            code.to_owned()
        }
    };
    assert_eq!(
        entry["issuing_state"],
        alpha3(&truth.issuing_state),
        "{entry}"
    );
    assert_eq!(entry["nationality"], alpha3(&truth.nationality), "{entry}");
    assert_eq!(entry["gender"], truth.sex.to_string(), "{entry}");
    assert_eq!(entry["mrz"]["mrz_type"], "TD3", "{entry}");
    assert!(entry["front_image_quality_score"]["overall_score"].is_number());
    let status = entry["status"].as_str().unwrap().to_owned();
    let risks: Vec<&str> = entry["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["risk"].as_str().unwrap())
        .collect();
    if status == "Approved" {
        // Names are reported in the printed spelling when it transliterates to the MRZ's.
        assert_eq!(entry["last_name"], truth.surname, "{entry}");
        assert_eq!(entry["first_name"], truth.given_names, "{entry}");
        assert_eq!(
            entry["mrz"]["mrz_string"],
            truth.mrz_lines.join("\n"),
            "{entry}"
        );
        assert!(risks.is_empty(), "{entry}");
    } else {
        assert_eq!(status, "In Review", "{entry}");
        assert_eq!(risks, ["DOCUMENT_DATA_NOT_VERIFIED"], "{entry}");
    }
    status
}

#[tokio::test]
async fn a_live_session_reads_the_uploaded_passport_with_the_ocr_node() {
    let app = spawn_with_models().await;
    let (status, workflow) = app
        .post(
            "/v3/workflows/",
            &app.live.api_key,
            json!({"workflow_label": "Document only", "features": [{"feature": "OCR"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{workflow}");
    let created = app
        .create_session(json!({"workflow_id": workflow["workflow_id"]}))
        .await;
    let token = created["session_token"].as_str().unwrap();
    let session_id = created["session_id"].as_str().unwrap();
    let (passport, truth) = generated_passport(21);

    // The hosted flow's upload path (docs/flow-api.md): start, upload the front, submit.
    app.start_flow(token).await;
    app.submit_flow(token, &[("document_front", passport)])
        .await;

    // Debug builds read a document in seconds; wait generously for the worker.
    let mut decided = Value::Null;
    for _ in 0..1200 {
        let (_, body) = app
            .flow(Method::GET, "/flow/session/status/", token, None)
            .await;
        if body["decided"] == true {
            decided = body;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(decided["decided"], true, "the session was never decided");

    let (status, decision) = app
        .get(
            &format!("/v3/session/{session_id}/decision/"),
            &app.live.api_key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{decision}");
    let entry = &decision["id_verifications"][0];
    let status = assert_reading(entry, &truth);
    assert_eq!(entry["node_id"], "feature_ocr");
    assert_eq!(
        decision["status"], status,
        "the only node decides the session"
    );
    assert!(
        entry["front_image"]
            .as_str()
            .unwrap()
            .ends_with(&format!("/v3/session/{session_id}/media/document_front/")),
        "{entry}"
    );

    // The cropped portrait is stored for face match and served under its media name.
    let portrait_url = entry["portrait_image"].as_str().expect("a portrait URL");
    assert!(
        portrait_url.ends_with(&format!(
            "/v3/session/{session_id}/media/document_portrait/"
        )),
        "{portrait_url}"
    );
    let response = app
        .client
        .get(portrait_url)
        .header("x-api-key", &app.live.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    let jpeg = response.bytes().await.unwrap();
    assert!(jpeg.starts_with(&[0xFF, 0xD8]), "a JPEG");
    let portrait = image::load_from_memory(&jpeg).unwrap();
    assert!(
        portrait.height() > portrait.width(),
        "a portrait-shaped crop"
    );
    // Another application's key sees nothing of it.
    let (status, _) = app
        .get(
            &format!("/v3/session/{session_id}/media/document_portrait/"),
            &app.sandbox.api_key,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn id_verification_reads_a_passport_and_refuses_what_it_cannot_read() {
    let app = spawn_with_models().await;
    let key = app.live.api_key.as_str();
    let (passport, truth) = generated_passport(33);

    let (status, body) = post_id_verification(
        &app,
        Some(key),
        &[("front_image", &passport)],
        &[
            ("vendor_data", "user-42"),
            ("metadata", r#"{"channel": "test"}"#),
            ("invalid_mrz_action", "DECLINE"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let entry = &body["id_verification"];
    assert_reading(entry, &truth);
    assert!(entry["barcodes"].is_array(), "{entry}");
    assert!(entry["portrait_image"]
        .as_str()
        .unwrap()
        .starts_with("data:image/jpeg;base64,"));
    assert_eq!(body["vendor_data"], "user-42");
    assert_eq!(body["metadata"], json!({"channel": "test"}));
    assert!(uuid::Uuid::parse_str(body["request_id"].as_str().unwrap()).is_ok());
    assert!(body["created_at"].is_string());

    // A minimum age above the holder's declines with MINIMUM_AGE_NOT_MET.
    let (status, body) = post_id_verification(
        &app,
        Some(key),
        &[("front_image", &passport)],
        &[("minimum_age", "120")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id_verification"]["status"], "Declined");
    let age_warning = body["id_verification"]["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["risk"] == "MINIMUM_AGE_NOT_MET")
        .cloned()
        .expect("MINIMUM_AGE_NOT_MET");
    assert_eq!(age_warning["log_type"], "error");

    // A valid image without a document: 400 COULD_NOT_RECOGNIZE_DOCUMENT, not a warning.
    let blank = sample_png(640, 400, 200);
    let (status, body) =
        post_id_verification(&app, Some(key), &[("front_image", &blank)], &[]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], "COULD_NOT_RECOGNIZE_DOCUMENT", "{body}");

    // Not an image: a field error; no front image: required.
    let (status, body) = post_id_verification(
        &app,
        Some(key),
        &[("front_image", b"just some text, no image")],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["front_image"].is_array(), "{body}");
    let (status, body) = post_id_verification(&app, Some(key), &[], &[("vendor_data", "x")]).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["front_image"], json!(["This field is required."]));
    let (status, body) = post_id_verification(
        &app,
        Some(key),
        &[("front_image", &passport)],
        &[("invalid_mrz_action", "SOMETIMES"), ("colour", "blue")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["invalid_mrz_action"].is_array(), "{body}");
    assert_eq!(body["colour"], json!(["Unknown field."]));

    // Oversize: over 5 MB, and an image bomb whose header declares 20 000 × 20 000 pixels
    // (refused from the header, before any decoding).
    let mut huge = sample_png(64, 64, 10);
    huge.resize(5 * 1024 * 1024 + 1, 0);
    let (status, body) =
        post_id_verification(&app, Some(key), &[("front_image", &huge)], &[]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    let mut bomb = sample_png(1, 1, 0);
    bomb[16..20].copy_from_slice(&20_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&20_000u32.to_be_bytes());
    let (status, body) =
        post_id_verification(&app, Some(key), &[("front_image", &bomb)], &[]).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");

    // A body that is not multipart, and no API key.
    let response = app
        .client
        .post(format!("{}/v3/id-verification/", app.base))
        .header("x-api-key", key)
        .json(&json!({"front_image": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let (status, _) = post_id_verification(&app, None, &[("front_image", &passport)], &[]).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn id_verification_answers_503_without_the_document_models() {
    // The test server's working directory has no `models/`: no engine is loaded.
    let app = spawn_app().await;
    let (status, body) = post_id_verification(
        &app,
        Some(&app.live.api_key),
        &[("front_image", &sample_png(64, 48, 0))],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("scripts/fetch-models"),
        "{body}"
    );
}
