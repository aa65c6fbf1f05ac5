//! Reviewer corrections (spec §3.10) on sessions the pipeline decided.

use crate::helpers::{field_list, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn update_data_edits_the_document_and_emits_data_updated() {
    let app = spawn_app().await;
    let key = &app.sandbox.api_key;
    let decision = app.complete_sandbox_session(key, json!({})).await;
    let id = decision["session_id"].as_str().unwrap();
    let path = format!("/v3/session/{id}/update-data/");
    let (status, body) = app
        .patch(
            &path,
            key,
            json!({"last_name": "Ruiz Ortega", "gender": "X"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(body["gender"].is_array(), "{body}");
    let (status, body) = app
        .patch(&path, key, json!({"last_name": "Ruiz Ortega", "document_number": "Z9876543", "extra_fields": {"blood_group": "0+"}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["node_id"], "feature_ocr");
    let (_, after) = app.get(&format!("/v3/session/{id}/decision/"), key).await;
    let document = &after["id_verifications"][0];
    assert_eq!(document["last_name"], "Ruiz Ortega");
    assert_eq!(document["document_number"], "Z9876543");
    assert_eq!(document["extra_fields"]["blood_group"], "0+");
    assert_eq!(
        document["full_name"],
        format!("{} Ruiz Ortega", document["first_name"].as_str().unwrap())
    );
    assert_eq!(after["status"], "Approved");
    let (_, events) = app.get(&format!("/v3/session/{id}/events/"), key).await;
    let types = field_list(&events["results"], "event_type");
    assert_eq!(types.last().map(String::as_str), Some("data.updated"));
    let (_, reviews) = app.get(&format!("/v3/sessions/{id}/reviews/"), key).await;
    let kinds = field_list(&reviews["results"], "activity_type");
    assert!(kinds.contains(&"DATA_UPDATE".to_owned()), "{kinds:?}");
    // Another application's session is not found.
    let (status, _) = app
        .patch(&path, &app.live.api_key, json!({"last_name": "X"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn update_poa_data_edits_the_proof_of_address() {
    let app = spawn_app().await;
    let key = &app.sandbox.api_key;
    let (status, workflow) = app
        .post(
            "/v3/workflows/",
            key,
            json!({"workflow_label": "KYC + address", "features": [
                {"feature": "OCR"}, {"feature": "PROOF_OF_ADDRESS"}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{workflow}");
    let decision = app
        .complete_sandbox_session(key, json!({"workflow_id": workflow["workflow_id"]}))
        .await;
    let id = decision["session_id"].as_str().unwrap();
    let path = format!("/v3/session/{id}/update-poa-data/");
    let (status, body) = app
        .patch(
            &path,
            key,
            json!({"document_type": "PAYSLIP", "issue_date": "yesterday", "issuing_state": "es"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in ["document_type", "issue_date", "issuing_state"] {
        assert!(body[field].is_array(), "{field}: {body}");
    }
    let (status, body) = app
        .patch(
            &path,
            key,
            json!({"document_type": "BANK_STATEMENT", "issuer": "Banco Ejemplo",
                   "poa_address": "Calle Mayor 1, 28013 Madrid", "issue_date": "2026-10-01",
                   "poa_parsed_address": {"street_1": "Calle Mayor 1", "city": "Madrid", "country": "ESP"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["node_id"], "feature_proof_of_address");
    let (_, after) = app.get(&format!("/v3/session/{id}/decision/"), key).await;
    let poa = &after["poa_verifications"][0];
    assert_eq!(poa["document_type"], "BANK_STATEMENT");
    assert_eq!(poa["issuer"], "Banco Ejemplo");
    assert_eq!(poa["poa_address"], "Calle Mayor 1, 28013 Madrid");
    assert_eq!(poa["poa_parsed_address"]["city"], "Madrid");
    let (_, events) = app.get(&format!("/v3/session/{id}/events/"), key).await;
    let types = field_list(&events["results"], "event_type");
    assert_eq!(types.last().map(String::as_str), Some("data.updated"));
    // A session without a proof-of-address step has nothing to correct.
    let plain = app.complete_sandbox_session(key, json!({})).await;
    let (status, body) = app
        .patch(
            &format!(
                "/v3/session/{}/update-poa-data/",
                plain["session_id"].as_str().unwrap()
            ),
            key,
            json!({"issuer": "X"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.to_string().contains("proof of address"), "{body}");
}

#[tokio::test]
async fn a_node_status_override_re_derives_the_session_status() {
    let app = spawn_app().await;
    let key = &app.sandbox.api_key;
    let decision = app.sandbox_session_in_review().await;
    let id = decision["session_id"].as_str().unwrap();
    let path = format!("/v3/session/{id}/features/feature_face_match/update-status/");
    let (status, body) = app
        .patch(&path, key, json!({"new_status": "Expired"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    let (status, body) = app
        .patch(
            &path,
            key,
            json!({"new_status": "Approved", "comment": "Same person, older photo"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["feature_type"], "FaceMatch");
    assert_eq!(body["previous_status"], "In Review");
    assert_eq!(body["session_status"], "Approved");
    let (_, after) = app.get(&format!("/v3/session/{id}/decision/"), key).await;
    assert_eq!(after["status"], "Approved");
    assert_eq!(after["face_matches"][0]["status"], "Approved");
    assert_eq!(
        app.event_statuses(id, key).await.last().map(String::as_str),
        Some("Approved")
    );
    let unknown = format!("/v3/session/{id}/features/feature_nothing/update-status/");
    let (status, _) = app
        .patch(&unknown, key, json!({"new_status": "Approved"}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Not decided yet: refused.
    let created = app.create_session(json!({})).await;
    let live = created["session_id"].as_str().unwrap();
    let (status, body) = app
        .patch(
            &format!("/v3/session/{live}/features/default/update-status/"),
            &app.live.api_key,
            json!({"new_status": "Approved"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .contains("Wrong Current Status"),
        "{body}"
    );
}
