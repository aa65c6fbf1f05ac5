//! The face engine over HTTP (issue 6): the four standalone endpoints of spec §8 and a live
//! session with PASSIVE LIVENESS + FACE_MATCH completed through the hosted-flow API, on the
//! real models (`models/face`, fetched by scripts/fetch-models) and real images: the
//! public-domain astronaut portrait the models' setup ships, images derived from it, and — when
//! `../shared/data/faces` is present — photographs of two real people. Tests that need files
//! that are absent say so and return.

use crate::helpers::{eventually, form, sample_png, spawn_app, spawn_app_with, TestApp};
use base64::Engine as _;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::PathBuf;

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub(crate) fn models_dir() -> Option<PathBuf> {
    let dir = repo_root().join("models");
    if dir
        .join("face/face_detection_yunet_2023mar_int8bq.onnx")
        .exists()
    {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: face models not found under {} (run scripts/fetch-models)",
            dir.display()
        );
        None
    }
}

fn faces_data() -> Option<PathBuf> {
    let dir = std::env::var_os("VERITY_FACES_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/data/faces"));
    if dir.join("obama.jpg").exists() {
        Some(dir)
    } else {
        eprintln!(
            "SKIPPED: real face photographs not found at {} (shared/data/faces)",
            dir.display()
        );
        None
    }
}

pub(crate) fn read(path: PathBuf) -> Vec<u8> {
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A server with the face engine loaded, or `None` when the models are missing.
pub(crate) async fn face_app() -> Option<(TestApp, PathBuf)> {
    let models = models_dir()?;
    let dir = models.clone();
    let app = spawn_app_with(move |config| config.engines.models_dir = dir).await;
    Some((app, models.join("face/testdata/astronaut.png")))
}

/// The astronaut portrait downscaled to 60 % and re-encoded as JPEG (quality 80): the same
/// person in a different capture.
pub(crate) fn derived_jpeg(png: &[u8]) -> Vec<u8> {
    let image = image::load_from_memory(png).unwrap().to_rgb8();
    let (w, h) = image.dimensions();
    let small = image::imageops::resize(
        &image,
        w * 3 / 5,
        h * 3 / 5,
        image::imageops::FilterType::Triangle,
    );
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 80)
        .encode_image(&small)
        .unwrap();
    out
}

async fn post_form(
    app: &TestApp,
    path: &str,
    key: &str,
    files: &[(&str, Vec<u8>)],
    text: &[(&str, &str)],
) -> (StatusCode, Value) {
    let files: Vec<(&str, &[u8])> = files.iter().map(|(n, b)| (*n, b.as_slice())).collect();
    app.send_form(Method::POST, path, Some(key), form(&files, text))
        .await
}

pub(crate) fn risks(warnings: &Value) -> Vec<String> {
    warnings
        .as_array()
        .unwrap_or(&Vec::new())
        .iter()
        .map(|w| w["risk"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn standalone_endpoints_answer_503_without_the_models() {
    // The default models_dir is relative to the working directory, where no models are.
    let app = spawn_app().await;
    let png = sample_png(64, 48, 1);
    for path in [
        "/v3/passive-liveness/",
        "/v3/face-search/",
        "/v3/age-estimation/",
    ] {
        let (status, body) = post_form(
            &app,
            path,
            &app.live.api_key,
            &[("user_image", png.clone())],
            &[],
        )
        .await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}: {body}");
        assert!(body["detail"].as_str().unwrap().contains("fetch-models"));
    }
    let (status, _) = post_form(
        &app,
        "/v3/face-match/",
        &app.live.api_key,
        &[("user_image", png.clone()), ("ref_image", png)],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}

#[tokio::test]
async fn standalone_endpoints_refuse_bad_input() {
    let Some((app, astronaut)) = face_app().await else {
        return;
    };
    let key = app.live.api_key.clone();
    // No key at all: 403, as every authenticated route.
    let response = app
        .client
        .post(format!("{}/v3/passive-liveness/", app.base))
        .multipart(reqwest::multipart::Form::new().text("vendor_data", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Missing file, a text that is not an image, bad parameters: DRF field errors.
    let (status, body) = post_form(
        &app,
        "/v3/passive-liveness/",
        &key,
        &[],
        &[("vendor_data", "u1")],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["user_image"][0], "This field is required.");
    let (status, body) = post_form(
        &app,
        "/v3/face-match/",
        &key,
        &[("user_image", b"%PDF-1.4 not an image".to_vec())],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["user_image"][0]
        .as_str()
        .unwrap()
        .starts_with("Upload one of: image/jpeg"));
    assert_eq!(body["ref_image"][0], "This field is required.");
    let (status, body) = post_form(
        &app,
        "/v3/passive-liveness/",
        &key,
        &[("user_image", read(astronaut.clone()))],
        &[
            ("rotate_image", "45"),
            ("face_liveness_score_decline_threshold", "120"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body.get("rotate_image").is_some(), "{body}");
    assert!(
        body.get("face_liveness_score_decline_threshold").is_some(),
        "{body}"
    );
    // A PNG header announcing 60000 × 60000 pixels (a decompression bomb): refused from the
    // header, never decoded: 413 with a machine-readable code, as on every upload route.
    let mut bomb = sample_png(8, 8, 3);
    bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let (status, body) = post_form(
        &app,
        "/v3/age-estimation/",
        &key,
        &[("user_image", bomb)],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
    assert_eq!(body["code"], "image_dimensions_too_large", "{body}");
    assert!(
        body["detail"].as_str().unwrap().contains("60000×60000"),
        "{body}"
    );
    // A JPEG signature over garbage passes the header checks but cannot decode: 400, not 500.
    let mut broken = vec![0xFF, 0xD8, 0xFF, 0xE0];
    broken.extend(std::iter::repeat_n(0x55u8, 4000));
    let (status, body) = post_form(
        &app,
        "/v3/face-search/",
        &key,
        &[("user_image", broken)],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    // Over 5 MB: 413.
    let mut big = read(astronaut);
    big.resize(5 * 1024 * 1024 + 10, 0);
    let (status, body) = post_form(
        &app,
        "/v3/passive-liveness/",
        &key,
        &[("user_image", big)],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{body}");
}

#[tokio::test]
async fn passive_liveness_and_age_estimation_read_a_real_face() {
    let Some((app, astronaut)) = face_app().await else {
        return;
    };
    let key = app.live.api_key.clone();
    let png = read(astronaut);
    let (status, body) = post_form(
        &app,
        "/v3/passive-liveness/",
        &key,
        &[("user_image", png.clone())],
        &[("vendor_data", "user-7"), ("metadata", "{\"k\": 1}")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["vendor_data"], "user-7");
    assert_eq!(body["metadata"], json!({"k": 1}));
    assert!(body["request_id"].is_string() && body["created_at"].is_string());
    let liveness = &body["liveness"];
    assert_eq!(liveness["method"], "PASSIVE");
    let score = liveness["score"].as_f64().unwrap();
    assert!((30.0..=100.0).contains(&score), "{liveness}");
    assert_eq!(liveness["status"], "Approved", "{liveness}");
    let entities = liveness["user_image"]["entities"].as_array().unwrap();
    assert_eq!(entities.len(), 1, "{liveness}");
    assert_eq!(entities[0]["bbox"].as_array().unwrap().len(), 4);
    assert!(entities[0]["age"].as_f64().unwrap() > 15.0);
    assert_eq!(liveness["user_image"]["best_angle"], 0);
    assert!(liveness["face_quality"].is_number() && liveness["face_luminance"].is_number());

    // Rotated by the caller: the face is found at the angle given back.
    let rotated = {
        let image = image::load_from_memory(&png).unwrap().to_rgb8();
        let turned = image::imageops::rotate90(&image);
        let mut out = Vec::new();
        turned
            .write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    };
    let (status, body) = post_form(
        &app,
        "/v3/passive-liveness/",
        &key,
        &[("user_image", rotated)],
        &[("rotate_image", "270")],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["liveness"]["user_image"]["entities"]
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Age: the astronaut is an adult; a minimum above any plausible estimate declines.
    let (status, body) = post_form(
        &app,
        "/v3/age-estimation/",
        &key,
        &[("user_image", png.clone())],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let age = &body["age_estimation"];
    let years = age["age_estimation"].as_f64().unwrap();
    assert!((18.0..=70.0).contains(&years), "{age}");
    assert_eq!(age["method"], "PASSIVE");
    assert_eq!(age["status"], "Approved", "{age}");
    let (_, body) = post_form(
        &app,
        "/v3/age-estimation/",
        &key,
        &[("user_image", png)],
        &[("age_estimation_decline_threshold", "90")],
    )
    .await;
    assert_eq!(body["age_estimation"]["status"], "Declined");
    assert!(risks(&body["age_estimation"]["warnings"]).contains(&"AGE_BELOW_MINIMUM".to_owned()));

    // No face at all.
    let (status, body) = post_form(
        &app,
        "/v3/passive-liveness/",
        &key,
        &[("user_image", sample_png(96, 96, 9))],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["liveness"]["status"], "Declined");
    assert_eq!(body["liveness"]["score"], Value::Null);
    assert_eq!(risks(&body["liveness"]["warnings"]), ["NO_FACE_DETECTED"]);
}

#[tokio::test]
async fn face_match_same_person_matches_and_different_people_do_not() {
    let Some((app, astronaut)) = face_app().await else {
        return;
    };
    let key = app.live.api_key.clone();
    let png = read(astronaut);
    let (status, body) = post_form(
        &app,
        "/v3/face-match/",
        &key,
        &[
            ("user_image", png.clone()),
            ("ref_image", derived_jpeg(&png)),
        ],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let matched = &body["face_match"];
    assert_eq!(matched["status"], "Approved", "{matched}");
    assert!(matched["score"].as_f64().unwrap() >= 70.0, "{matched}");
    assert_eq!(
        matched["user_image"]["entities"].as_array().unwrap().len(),
        1
    );
    assert_eq!(
        matched["ref_image"]["entities"].as_array().unwrap().len(),
        1
    );

    // The reference has no face.
    let (_, body) = post_form(
        &app,
        "/v3/face-match/",
        &key,
        &[("user_image", png), ("ref_image", sample_png(80, 80, 4))],
        &[],
    )
    .await;
    assert_eq!(body["face_match"]["status"], "Declined");
    assert_eq!(body["face_match"]["score"], Value::Null);
    assert!(risks(&body["face_match"]["warnings"]).contains(&"NO_FACE_DETECTED".to_owned()));

    let Some(faces) = faces_data() else {
        return;
    };
    let obama = read(faces.join("obama.jpg"));
    let obama2 = read(faces.join("obama2.jpg"));
    let biden = read(faces.join("biden.jpg"));
    let (_, same) = post_form(
        &app,
        "/v3/face-match/",
        &key,
        &[("user_image", obama.clone()), ("ref_image", obama2)],
        &[],
    )
    .await;
    assert_eq!(same["face_match"]["status"], "Approved", "{same}");
    let (_, different) = post_form(
        &app,
        "/v3/face-match/",
        &key,
        &[("user_image", obama), ("ref_image", biden)],
        &[("face_match_score_decline_threshold", "50")],
    )
    .await;
    assert_eq!(different["face_match"]["status"], "Declined", "{different}");
    assert!(risks(&different["face_match"]["warnings"])
        .contains(&"LOW_FACE_MATCH_SIMILARITY".to_owned()));
}

/// Creates a live session on `workflow_id` with `portrait` (JPEG) as the Biometric
/// Authentication reference; returns the create answer.
pub(crate) async fn create_with_portrait(
    app: &TestApp,
    workflow_id: &str,
    portrait: &[u8],
) -> Value {
    let portrait = format!(
        "data:image/jpeg;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(portrait)
    );
    let (status, created) = app
        .post(
            "/v3/session/",
            &app.live.api_key,
            json!({"workflow_id": workflow_id, "vendor_data": "face-user", "portrait_image": portrait}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created
}

/// Creates a live session on a PASSIVE LIVENESS + FACE_MATCH workflow with `portrait` as the
/// Biometric Authentication reference, uploads `selfie` through the hosted-flow API, submits,
/// and returns the decision once the pipeline decided it.
async fn live_face_session(
    app: &TestApp,
    workflow_id: &str,
    portrait: &[u8],
    selfie: Vec<u8>,
) -> Value {
    let created = create_with_portrait(app, workflow_id, portrait).await;
    let token = created["session_token"].as_str().unwrap();
    app.start_flow(token).await;
    app.submit_flow(token, &[("selfie", selfie)]).await;
    app.wait_decided(token).await;
    let id = created["session_id"].as_str().unwrap();
    let (status, decision) = app
        .get(&format!("/v3/session/{id}/decision/"), &app.live.api_key)
        .await;
    assert_eq!(status, StatusCode::OK);
    decision
}

async fn face_workflow(app: &TestApp) -> String {
    let (status, workflow) = app
        .post(
            "/v3/workflows/",
            &app.live.api_key,
            json!({"workflow_label": "Selfie vs portrait", "features": [
                {"feature": "LIVENESS", "config": {"face_liveness_method": "PASSIVE", "face_liveness_score_decline_threshold": 30, "face_liveness_score_review_threshold": 40}},
                {"feature": "FACE_MATCH"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{workflow}");
    workflow["workflow_id"]
        .as_str()
        .expect("workflow id")
        .to_owned()
}

#[tokio::test]
async fn a_live_session_is_decided_by_the_face_engine() {
    let Some((app, astronaut)) = face_app().await else {
        return;
    };
    let workflow_id = face_workflow(&app).await;
    let png = read(astronaut);
    let decision = live_face_session(&app, &workflow_id, &derived_jpeg(&png), png.clone()).await;
    assert_eq!(decision["status"], "Approved", "{decision}");
    let liveness = &decision["liveness_checks"][0];
    assert_eq!(liveness["node_id"], "feature_liveness");
    assert_eq!(liveness["method"], "PASSIVE");
    assert_eq!(liveness["status"], "Approved", "{liveness}");
    assert!(liveness["score"].as_f64().unwrap() >= 40.0, "{liveness}");
    assert!(liveness["age_estimation"].as_f64().unwrap() > 15.0);
    assert!(liveness["reference_image"]
        .as_str()
        .unwrap()
        .ends_with("/media/selfie/"));
    assert_eq!(liveness["matches"], json!([]));
    let matched = &decision["face_matches"][0];
    assert_eq!(matched["status"], "Approved", "{matched}");
    assert!(matched["score"].as_f64().unwrap() >= 70.0, "{matched}");
    assert!(matched["source_image"]
        .as_str()
        .unwrap()
        .ends_with("/media/portrait/"));
    assert_eq!(matched["warnings"], json!([]));

    // The same face again in a second session: found as a duplicate of the first, and by the
    // face search; deleting the first session deletes its template.
    let first = decision["session_id"].as_str().unwrap().to_owned();
    let second =
        live_face_session(&app, &workflow_id, &derived_jpeg(&png), derived_jpeg(&png)).await;
    let liveness = &second["liveness_checks"][0];
    let duplicate: Vec<&Value> = liveness["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["risk"] == "DUPLICATED_FACE")
        .collect();
    assert_eq!(duplicate.len(), 1, "{liveness}");
    assert_eq!(
        duplicate[0]["additional_data"]["duplicated_session_id"],
        first
    );
    assert_eq!(liveness["matches"][0]["session_id"], first);
    assert_eq!(second["status"], "In Review", "{second}");

    let (status, search) = post_form(
        &app,
        "/v3/face-search/",
        &app.live.api_key,
        &[("user_image", png.clone())],
        &[],
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{search}");
    assert_eq!(search["face_search"]["total_matches"], 2, "{search}");
    assert_eq!(search["face_search"]["status"], "In Review");
    // Another application never sees these faces.
    let (_, other) = post_form(
        &app,
        "/v3/face-search/",
        &app.sandbox.api_key,
        &[("user_image", png.clone())],
        &[],
    )
    .await;
    assert_eq!(other["face_search"]["total_matches"], 0, "{other}");
    assert_eq!(other["face_search"]["status"], "Approved");

    let (status, _) = app
        .delete(&format!("/v3/session/{first}/delete/"), &app.live.api_key)
        .await;
    assert_eq!(status, StatusCode::OK);
    eventually("the template is gone", || async {
        let (_, search) = post_form(
            &app,
            "/v3/face-search/",
            &app.live.api_key,
            &[("user_image", png.clone())],
            &[],
        )
        .await;
        search["face_search"]["total_matches"] == 1
    })
    .await;
}

#[tokio::test]
async fn a_live_session_with_another_persons_portrait_is_declined() {
    let Some((app, _)) = face_app().await else {
        return;
    };
    let Some(faces) = faces_data() else {
        return;
    };
    let workflow_id = face_workflow(&app).await;
    let decision = live_face_session(
        &app,
        &workflow_id,
        &read(faces.join("biden.jpg")),
        read(faces.join("obama.jpg")),
    )
    .await;
    assert_eq!(decision["status"], "Declined", "{decision}");
    let matched = &decision["face_matches"][0];
    assert_eq!(matched["status"], "Declined", "{matched}");
    assert_eq!(
        risks(&matched["warnings"]),
        ["LOW_FACE_MATCH_SIMILARITY"],
        "{matched}"
    );
    assert_eq!(matched["warnings"][0]["log_type"], "error");
}

#[tokio::test]
async fn a_blocklisted_face_declines_the_next_session_with_it() {
    let Some((app, astronaut)) = face_app().await else {
        return;
    };
    let workflow_id = face_workflow(&app).await;
    let png = read(astronaut);
    let first = live_face_session(&app, &workflow_id, &derived_jpeg(&png), png.clone()).await;
    assert_eq!(first["status"], "Approved", "{first}");
    let first_id = first["session_id"].as_str().unwrap().to_owned();
    let key = &app.live.api_key;

    // Refusals: nothing asked, kinds Verity does not blocklist, unknown and foreign sessions,
    // a session without an analysed face.
    let (status, body) = app.post("/v3/blocklist/add/", key, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["session_id"][0], "This field is required.");
    let (status, body) = app
        .post(
            "/v3/blocklist/add/",
            key,
            json!({"session_id": first_id, "blocklist_phone": true}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["blocklist_phone"][0]
        .as_str()
        .unwrap()
        .contains("faces only"));
    for (who, id) in [
        (key, "7b0f3d51-2c1e-4f7a-9d0e-3a1c2b4d5e6f".to_owned()),
        (&app.sandbox.api_key, first_id.clone()),
    ] {
        let (status, body) = app
            .post(
                "/v3/blocklist/add/",
                who,
                json!({"session_id": id, "blocklist_face": true}),
            )
            .await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    }
    let fresh = app.create_session(json!({})).await;
    let (status, body) = app
        .post(
            "/v3/blocklist/add/",
            key,
            json!({"session_id": fresh["session_id"], "blocklist_face": true}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body["blocklist_face"][0]
        .as_str()
        .unwrap()
        .contains("no face"));

    let (status, added) = app
        .post(
            "/v3/blocklist/add/",
            key,
            json!({"session_id": first_id, "blocklist_face": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{added}");
    assert_eq!(added["items"], json!(["face"]));
    let (status, listed) = app.get("/v3/blocklist/?item_type=face", key).await;
    assert_eq!(status, StatusCode::OK, "{listed}");
    assert_eq!(listed.as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed[0]["type"], "face");
    assert_eq!(listed[0]["session_id"], first_id.as_str());
    assert_eq!(listed[0]["session_number"], first["session_number"]);
    assert!(listed[0]["face_image"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/v3/session/{first_id}/media/selfie/")));
    let (_, emails) = app.get("/v3/blocklist/?item_type=email", key).await;
    assert_eq!(emails, json!([]));
    let (status, _) = app.get("/v3/blocklist/?item_type=car", key).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (_, other) = app.get("/v3/blocklist/", &app.sandbox.api_key).await;
    assert_eq!(other, json!([]));

    // The same person again: the blocklist hit declines the session.
    let second =
        live_face_session(&app, &workflow_id, &derived_jpeg(&png), derived_jpeg(&png)).await;
    let liveness = &second["liveness_checks"][0];
    assert!(
        risks(&liveness["warnings"]).contains(&"FACE_IN_BLOCKLIST".to_owned()),
        "{liveness}"
    );
    assert_eq!(second["status"], "Declined", "{second}");

    let (status, removed) = app
        .post(
            "/v3/blocklist/remove/",
            key,
            json!({"session_id": first_id, "unblock_face": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    let (_, listed) = app.get("/v3/blocklist/", key).await;
    assert_eq!(listed, json!([]));
}
