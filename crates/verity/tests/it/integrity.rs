//! Verdict integrity (issue 26, docs/security.md): a verdict is made on the inputs the person
//! submitted. Submit freezes the captures until the decision; a resubmission re-judges every
//! node whose evidence the new captures touch; a reviewer's override that the engines judge
//! again is recorded, never silently replaced.

use crate::helpers::{field_list, sample_png, spawn_app_with, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

/// A sandbox workflow whose face match reads the document node's portrait and whose AML node
/// screens the name the document node read.
async fn kyc_with_aml(app: &TestApp) -> String {
    let (status, body) = app
        .post(
            "/v3/workflows/",
            &app.sandbox.api_key,
            json!({"workflow_label": "KYC + AML", "features": [
                {"feature": "OCR"}, {"feature": "LIVENESS"}, {"feature": "FACE_MATCH"}, {"feature": "AML"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["workflow_id"].as_str().unwrap().to_owned()
}

async fn upload(app: &TestApp, token: &str, kind: &str, body: Vec<u8>) -> (StatusCode, Value) {
    app.flow(
        Method::POST,
        &format!("/flow/session/captures/{kind}/"),
        token,
        Some(body),
    )
    .await
}

async fn media(app: &TestApp, id: &str, name: &str) -> Vec<u8> {
    let response = app
        .client
        .get(format!("{}/v3/session/{id}/media/{name}/", app.base))
        .header("x-api-key", &app.sandbox.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.bytes().await.unwrap().to_vec()
}

#[tokio::test]
async fn captures_are_frozen_from_submit_until_the_decision() {
    // Each of the three sandbox steps takes 600 ms, so the job is still running (for close to
    // two seconds) when the swaps are tried right after submit.
    let app = spawn_app_with(|config| config.processing.sandbox_delay_ms = 600).await;
    let (status, created) = app
        .post(
            "/v3/session/",
            &app.sandbox.api_key,
            json!({"workflow_id": app.sandbox.default_workflow_id}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["session_id"].as_str().unwrap();
    let token = created["session_token"].as_str().unwrap();
    app.start_flow(token).await;
    let selfie = sample_png(48, 48, 7);
    app.submit_flow(
        token,
        &[
            ("document_front", sample_png(64, 48, 1)),
            ("selfie", selfie.clone()),
        ],
    )
    .await;
    let (status, refused) = upload(&app, token, "selfie", sample_png(48, 48, 99)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(refused["code"], "session_submitted");
    let (status, refused) = upload(&app, token, "document_front", sample_png(64, 48, 98)).await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
    assert_eq!(app.wait_decided(token).await, "Approved");
    assert_eq!(
        media(&app, id, "selfie").await,
        selfie,
        "the decision serves the selfie it was made on"
    );
}

/// Puts a session of `workflow_id` In Review (sandbox: face-match similarity between the
/// thresholds); returns (session id, token).
async fn in_review(app: &TestApp, workflow_id: &str) -> (String, String) {
    let decision = app
        .complete_sandbox_session(
            &app.sandbox.api_key,
            json!({"workflow_id": workflow_id, "sandbox_scenario": "review_face_match_borderline"}),
        )
        .await;
    assert_eq!(decision["status"], "In Review", "{decision}");
    let id = decision["session_id"].as_str().unwrap().to_owned();
    let (_, session) = app
        .get(&format!("/v3/session/{id}/"), &app.sandbox.api_key)
        .await;
    (id, session["session_token"].as_str().unwrap().to_owned())
}

async fn resubmit(app: &TestApp, id: &str, node_id: &str, feature: &str) {
    let (status, body) = app
        .patch(
            &format!("/v3/session/{id}/update-status/"),
            &app.sandbox.api_key,
            json!({"new_status": "Resubmitted", "comment": "Take it again",
                   "nodes_to_resubmit": [{"node_id": node_id, "feature": feature}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn a_new_document_rejudges_face_match_and_aml_and_a_reviewers_override_is_recorded() {
    let app = spawn_app_with(|_| {}).await;
    let key = &app.sandbox.api_key;
    let workflow = kyc_with_aml(&app).await;
    let (id, token) = in_review(&app, &workflow).await;
    // A reviewer accepts the borderline face match, then asks for another document.
    let (status, body) = app
        .patch(
            &format!("/v3/session/{id}/features/feature_face_match/update-status/"),
            key,
            json!({"new_status": "Approved", "comment": "Same person"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, session) = app.get(&format!("/v3/session/{id}/"), key).await;
    if session["status"] != "In Review" {
        app.force_status(&id, "In Review").await;
    }
    resubmit(&app, &id, "feature_ocr", "OCR").await;
    let state = app.start_flow(&token).await;
    assert_eq!(field_list(&state["steps"], "node_id"), ["feature_ocr"]);
    let (status, refused) = upload(&app, &token, "selfie", sample_png(48, 48, 3)).await;
    assert_eq!(
        (status, &refused["code"]),
        (StatusCode::BAD_REQUEST, &json!("capture_not_needed")),
        "the kept selfie cannot be swapped on a document resubmission"
    );
    let submitted = app
        .submit_flow(&token, &[("document_front", sample_png(64, 48, 200))])
        .await;
    assert_eq!(
        submitted["processing"]["nodes"],
        json!(["feature_ocr", "feature_face_match", "feature_aml"]),
        "face match compares the new portrait, AML screens the new name; liveness keeps its verdict"
    );
    app.wait_decided(&token).await;
    let (_, reviews) = app.get(&format!("/v3/sessions/{id}/reviews/"), key).await;
    let superseded = reviews["results"]
        .as_array()
        .expect("reviews list")
        .iter()
        .filter_map(|r| r["comment"].as_str())
        .any(|c| {
            c.starts_with("feature_face_match: Approved (set by") && c.contains("judged again")
        });
    assert!(
        superseded,
        "the reviewer's override is recorded as replaced: {reviews}"
    );
}
