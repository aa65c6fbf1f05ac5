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

/// (slug, session status, decision array, risk, log_type of that risk)
const EXPECTED: [(&str, &str, &str, &str, &str); 15] = [
    (
        "decline_document_expired",
        "Declined",
        "id_verifications",
        "DOCUMENT_EXPIRED",
        "error",
    ),
    (
        "decline_could_not_recognize_document",
        "Declined",
        "id_verifications",
        "COULD_NOT_DETECT_DOCUMENT_TYPE",
        "error",
    ),
    (
        "decline_mrz_validation",
        "Declined",
        "id_verifications",
        "MRZ_VALIDATION_FAILED",
        "error",
    ),
    (
        "decline_minimum_age",
        "Declined",
        "id_verifications",
        "MINIMUM_AGE_NOT_MET",
        "error",
    ),
    (
        "decline_face_match_low_similarity",
        "Declined",
        "face_matches",
        "LOW_FACE_MATCH_SIMILARITY",
        "error",
    ),
    (
        "decline_liveness_attack",
        "Declined",
        "liveness_checks",
        "LIVENESS_FACE_ATTACK",
        "error",
    ),
    (
        "decline_aml_hit",
        "Declined",
        "aml_screenings",
        "POSSIBLE_MATCH_FOUND",
        "error",
    ),
    (
        "decline_ip_blocklist",
        "Declined",
        "ip_analyses",
        "IP_ADDRESS_IN_BLOCKLIST",
        "error",
    ),
    (
        "decline_poa_address_mismatch",
        "Declined",
        "poa_verifications",
        "ADDRESS_MISMATCH_WITH_PROVIDED",
        "error",
    ),
    (
        "decline_nfc_chip_not_verified",
        "Declined",
        "nfc_verifications",
        "NFC_CHIP_NOT_VERIFIED",
        "error",
    ),
    (
        "decline_database_no_match",
        "Declined",
        "database_validations",
        "DATABASE_VALIDATION_NO_MATCH",
        "error",
    ),
    (
        "review_aml_possible_match",
        "In Review",
        "aml_screenings",
        "POSSIBLE_MATCH_FOUND",
        "warning",
    ),
    (
        "review_face_match_borderline",
        "In Review",
        "face_matches",
        "LOW_FACE_MATCH_SIMILARITY",
        "warning",
    ),
    (
        "review_poa_partial_match",
        "In Review",
        "poa_verifications",
        "NAME_MISMATCH_ID_VERIFICATION",
        "warning",
    ),
    ("approve", "Approved", "id_verifications", "", ""),
];

const ARRAYS: [&str; 8] = [
    "id_verifications",
    "nfc_verifications",
    "liveness_checks",
    "face_matches",
    "aml_screenings",
    "ip_analyses",
    "poa_verifications",
    "database_validations",
];

#[tokio::test]
async fn every_scenario_ends_in_its_statuses_and_warnings() {
    let app = spawn_app().await;
    let workflow = app.everything_workflow().await;
    let key = &app.sandbox.api_key;
    for (slug, status, array, risk, log_type) in EXPECTED {
        let decision = app
            .complete_sandbox_session(
                key,
                json!({"workflow_id": workflow, "sandbox_scenario": slug}),
            )
            .await;
        assert_eq!(decision["status"], status, "{slug}: {decision}");
        for name in ARRAYS {
            let items = decision[name]
                .as_array()
                .unwrap_or_else(|| panic!("{slug}: {name} missing"));
            // AGE_ESTIMATION reports on the liveness array too (spec §5.6).
            let expected = if name == "liveness_checks" { 2 } else { 1 };
            assert_eq!(items.len(), expected, "{slug}: {name}");
            assert_eq!(items[0]["environment"], "sandbox", "{slug}: {name}");
        }
        let all: Vec<(String, String)> =
            ARRAYS.iter().flat_map(|a| warnings(&decision, a)).collect();
        if risk.is_empty() {
            assert!(
                all.iter().all(|(_, log)| log == "information"),
                "{slug} raised {all:?}"
            );
            continue;
        }
        let found = warnings(&decision, array);
        assert!(
            found.contains(&(risk.to_owned(), log_type.to_owned())),
            "{slug}: {risk}/{log_type} not in {found:?}"
        );
        // The array holding the scenario's risk carries the matching feature status.
        let feature_status = if log_type == "error" {
            "Declined"
        } else {
            "In Review"
        };
        assert_eq!(decision[array][0]["status"], feature_status, "{slug}");
        if status == "In Review" {
            assert!(all.iter().all(|(_, log)| log != "error"), "{slug}: {all:?}");
        }
    }
}

#[tokio::test]
async fn the_kyb_scenario_and_scenarios_without_their_step_are_refused() {
    let app = spawn_app().await;
    let key = &app.sandbox.api_key;
    let default = app.sandbox.default_workflow_id;
    for (slug, needle) in [
        ("decline_kyb_registry_mismatch", "KYB"),
        ("decline_aml_hit", "AML"),
        ("decline_poa_address_mismatch", "PROOF_OF_ADDRESS"),
    ] {
        let (status, body) = app
            .post(
                "/v3/session/",
                key,
                json!({"workflow_id": default, "sandbox_scenario": slug}),
            )
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            body["sandbox_scenario"][0]
                .as_str()
                .unwrap()
                .contains(needle),
            "{body}"
        );
    }
    let (status, body) = app
        .post(
            "/v3/session/",
            key,
            json!({"workflow_id": default, "sandbox_scenario": "decline_everything"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"sandbox_scenario": ["\"decline_everything\" is not a valid choice."]})
    );
}

#[tokio::test]
async fn arming_works_only_while_not_started_and_magic_values_choose_outcomes() {
    let app = spawn_app().await;
    let key = &app.sandbox.api_key;
    let workflow = app.sandbox.default_workflow_id;
    let (_, created) = app
        .post("/v3/session/", key, json!({"workflow_id": workflow}))
        .await;
    let id = created["session_id"].as_str().unwrap();
    let token = created["session_token"].as_str().unwrap();
    let arm = |scenario: &'static str| {
        let path = format!("/v3/session/{id}/sandbox/arm/");
        let app = &app;
        async move { app.post(&path, key, json!({"scenario": scenario})).await }
    };
    let (status, body) = arm("nonsense").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"scenario": ["\"nonsense\" is not a valid choice."]})
    );
    let (status, body) = arm("decline_aml_hit").await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "the default workflow has no AML step: {body}"
    );
    let (status, body) = arm("decline_liveness_attack").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    app.run_flow(token).await;
    let (status, body) = arm("approve").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"].as_str().unwrap().contains("Not Started"),
        "{body}"
    );
    assert_eq!(app.wait_decided(token).await, "Declined");
    let (_, decision) = app.get(&format!("/v3/session/{id}/decision/"), key).await;
    assert_eq!(
        warnings(&decision, "liveness_checks")[0],
        ("LIVENESS_FACE_ATTACK".to_owned(), "error".to_owned())
    );

    // Another application's session id is not found; a live application cannot arm.
    let (status, _) = app
        .post(
            &format!("/v3/session/{id}/sandbox/arm/"),
            &app.live.api_key,
            json!({"scenario": "approve"}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let live = app.create_session(json!({})).await;
    let (status, body) = app
        .post(
            &format!(
                "/v3/session/{}/sandbox/arm/",
                live["session_id"].as_str().unwrap()
            ),
            &app.live.api_key,
            json!({"scenario": "approve"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");

    // Magic values: the tagged e-mail, then the magic phone number.
    let decision = app
        .complete_sandbox_session(key, json!({"contact_details": {"email": "qa+decline_face_match_low_similarity@example.org"}}))
        .await;
    assert_eq!(decision["status"], "Declined");
    assert_eq!(
        decision["face_matches"][0]["warnings"][0]["risk"],
        "LOW_FACE_MATCH_SIMILARITY"
    );
    let (_, catalog) = app.get("/v1/sandbox/scenarios/", key).await;
    let borderline = catalog["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["slug"] == "review_face_match_borderline")
        .unwrap();
    let phone = borderline["magic_values"]["contact_details.phone"]
        .as_str()
        .unwrap();
    let decision = app
        .complete_sandbox_session(key, json!({"contact_details": {"phone": phone}}))
        .await;
    assert_eq!(decision["status"], "In Review", "{decision}");
}

#[tokio::test]
async fn the_catalog_takes_an_api_key_or_a_session_token() {
    let app = spawn_app().await;
    let (status, catalog) = app
        .get("/v1/sandbox/scenarios/", &app.sandbox.api_key)
        .await;
    assert_eq!(status, StatusCode::OK);
    let slugs: Vec<&str> = catalog["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs.len(), 16);
    assert!(slugs.contains(&"decline_kyb_registry_mismatch"));
    assert_eq!(catalog["sample_otp_codes"]["valid"], "123456");
    let created = app.create_session(json!({})).await;
    let (status, by_token) = app
        .flow(
            reqwest::Method::GET,
            "/v1/sandbox/scenarios/",
            created["session_token"].as_str().unwrap(),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(by_token, catalog);
    let (status, _) = app
        .request(reqwest::Method::GET, "/v1/sandbox/scenarios/", None, None)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = app
        .flow(
            reqwest::Method::GET,
            "/v1/sandbox/scenarios/",
            "not-a-token",
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn legacy_views_show_the_pipeline_results() {
    let app = spawn_app().await;
    let workflow = app.everything_workflow().await;
    let decision = app
        .complete_sandbox_session(
            &app.sandbox.api_key,
            json!({"workflow_id": workflow, "sandbox_scenario": "decline_aml_hit"}),
        )
        .await;
    let id = decision["session_id"].as_str().unwrap();
    let (status, v2) = app
        .get(&format!("/v2/session/{id}/decision/"), &app.sandbox.api_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{v2}");
    assert_eq!(v2["aml"]["status"], "Declined");
    assert_eq!(v2["aml"]["warnings"][0]["risk"], "POSSIBLE_MATCH_FOUND");
    assert_eq!(v2["id_verification"]["status"], "Approved");
    let token = app.client_token(&app.sandbox).await;
    let (status, v1) = app
        .bearer(
            reqwest::Method::GET,
            &format!("/v1/session/{id}/decision/"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v1}");
    assert_eq!(v1["status"], "Declined");
    assert_eq!(v1["kyc"]["status"], "Approved");
    assert_eq!(v1["aml"]["status"], "Declined");
    assert_eq!(v1["aml"]["total_hits"], 1);
    assert_eq!(v1["face"]["status"], "Approved");
    let risks: Vec<&str> = v1["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["risk"].as_str().unwrap())
        .collect();
    assert!(risks.contains(&"POSSIBLE_MATCH_FOUND"), "{risks:?}");
}

#[tokio::test]
async fn the_same_document_twice_is_a_possible_duplicated_user() {
    let app = spawn_app().await;
    let key = &app.sandbox.api_key;
    let (status, body) = app
        .post(
            "/v3/workflows/",
            key,
            json!({"workflow_label": "No duplicates", "features": [
                {"feature": "OCR", "config": {"duplicated_user_action": "decline"}}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let workflow = body["workflow_id"].as_str().unwrap().to_owned();
    let expected = json!({"identification_number": "DUP123456", "id_country": "ESP", "first_name": "Ana", "last_name": "Ruiz"});
    let first = app
        .complete_sandbox_session(
            key,
            json!({"workflow_id": workflow, "expected_details": expected}),
        )
        .await;
    assert_eq!(first["status"], "Approved", "{first}");
    assert_eq!(first["id_verifications"][0]["document_number"], "DUP123456");
    let second = app
        .complete_sandbox_session(
            key,
            json!({"workflow_id": workflow, "expected_details": expected}),
        )
        .await;
    assert_eq!(second["status"], "Declined", "{second}");
    let warning = &second["id_verifications"][0]["warnings"][0];
    assert_eq!(warning["risk"], "POSSIBLE_DUPLICATED_USER");
    assert_eq!(warning["log_type"], "error");
    assert_eq!(
        warning["additional_data"]["duplicated_session_id"],
        first["session_id"]
    );
    // On the default workflow (duplicated_user_action: no_action) it is information only.
    let third = app
        .complete_sandbox_session(key, json!({"expected_details": expected}))
        .await;
    let fourth = app
        .complete_sandbox_session(key, json!({"expected_details": expected}))
        .await;
    assert_eq!(third["status"], "Approved");
    assert_eq!(fourth["status"], "Approved", "{fourth}");
    assert_eq!(
        fourth["id_verifications"][0]["warnings"][0]["log_type"],
        "information"
    );
}
