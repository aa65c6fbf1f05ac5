//! Sandbox mode end to end: scenarios chosen at create, by arming, or by magic values, played
//! through the hosted-flow API and decided by the pipeline's rules.

use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::{json, Value};

fn warnings(decision: &Value, array: &str) -> Vec<(String, String)> {
    decision[array]
        .as_array()
        .map(|items| {
            items
                .iter()
                .flat_map(|item| item["warnings"].as_array().cloned().unwrap_or_default())
                .map(|w| {
                    (
                        w["risk"].as_str().unwrap().to_owned(),
                        w["log_type"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn approve_on_the_default_workflow() {
    let app = spawn_app().await;
    let decision = app
        .complete_sandbox_session(
            &app.sandbox.api_key,
            json!({"vendor_data": "sandbox-approve", "contact_details": {"email": "ana@example.org", "phone": "+34600111222"}}),
        )
        .await;
    assert_eq!(decision["status"], "Approved", "{decision}");
    assert_eq!(decision["environment"], "sandbox");
    let id = &decision["id_verifications"][0];
    assert_eq!(id["status"], "Approved");
    assert_eq!(id["node_id"], "feature_ocr");
    assert_eq!(id["email"], "ana@example.org");
    assert_eq!(id["phone"], "+34600111222");
    for key in [
        "first_name",
        "last_name",
        "date_of_birth",
        "nationality",
        "address",
        "document_number",
        "expiration_date",
    ] {
        assert!(id[key].is_string(), "{key}: {id}");
    }
    assert_eq!(decision["liveness_checks"][0]["status"], "Approved");
    assert_eq!(decision["face_matches"][0]["status"], "Approved");
    assert!(warnings(&decision, "id_verifications").is_empty());
}

#[tokio::test]
async fn live_applications_refuse_scenarios() {
    let app = spawn_app().await;
    let (status, body) = app
        .post(
            "/v3/session/",
            &app.live.api_key,
            json!({"workflow_id": app.live.default_workflow_id, "sandbox_scenario": "approve"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
}
