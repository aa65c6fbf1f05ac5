use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn new_applications_have_the_four_templates() {
    let app = spawn_app().await;
    let (status, list) = app.get("/v3/workflows/", &app.live.api_key).await;
    assert_eq!(status, StatusCode::OK);
    let labels: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["workflow_label"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        labels,
        [
            "KYC",
            "Adaptive Age Verification",
            "Biometric Authentication",
            "Address Verification"
        ]
    );
    let kyc = &list[0];
    assert_eq!(kyc["is_default"], true);
    assert_eq!(kyc["workflow_id"], app.live.default_workflow_id.to_string());
    assert_eq!(kyc["workflow_type"], "kyc");
    assert_eq!(kyc["version"], 1);
    assert_eq!(
        kyc["features"][0],
        json!({"feature": "OCR", "node_id": "feature_ocr", "label": null,
        "config": {"documents_allowed": {}, "duplicated_user_action": "no_action"}})
    );
    let (_, paged) = app.get("/v3/workflows/?limit=2", &app.live.api_key).await;
    assert_eq!(paged["count"], 4);
    assert_eq!(paged["results"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn workflows_version_on_every_change_and_sessions_stay_pinned() {
    let app = spawn_app().await;
    let key = &app.live.api_key;
    let (status, created) = app
        .post("/v3/workflows/", key, json!({
            "workflow_label": "Onboarding",
            "features": [{"feature": "OCR"}, {"feature": "LIVENESS", "config": {"face_liveness_method": "ACTIVE_3D"}}, {"feature": "FACE_MATCH"}, {"feature": "AML"}]
        }))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["version"], 1);
    let workflow_id = created["workflow_id"].as_str().unwrap().to_owned();
    let v1_uuid = created["uuid"].as_str().unwrap().to_owned();
    assert_eq!(created["features"][3]["config"]["aml_name_weight"], 60);

    let (_, session) = app
        .post("/v3/session/", key, json!({"workflow_id": workflow_id}))
        .await;
    assert_eq!(session["workflow_version"], 1);

    let (status, updated) = app
        .patch(
            &format!("/v3/workflows/{workflow_id}/"),
            key,
            json!({"features": [{"feature": "OCR"}, {"feature": "AML"}], "is_default": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["version"], 2);
    assert_eq!(updated["workflow_id"], workflow_id);
    assert_ne!(updated["uuid"], v1_uuid);
    assert_eq!(updated["is_default"], true);

    let (_, by_old_uuid) = app.get(&format!("/v3/workflows/{v1_uuid}/"), key).await;
    assert_eq!(by_old_uuid["version"], 1);
    let (_, latest) = app.get(&format!("/v3/workflows/{workflow_id}/"), key).await;
    assert_eq!(latest["version"], 2);

    let (_, pinned) = app
        .get(
            &format!(
                "/v3/session/{}/decision/",
                session["session_id"].as_str().unwrap()
            ),
            key,
        )
        .await;
    assert_eq!(pinned["workflow_version"], 1);
    assert_eq!(
        pinned["features"],
        json!(["ID_VERIFICATION", "LIVENESS", "FACE_MATCH", "AML"])
    );
    let (_, newer) = app
        .post("/v3/session/", key, json!({"workflow_id": workflow_id}))
        .await;
    assert_eq!(newer["workflow_version"], 2);

    let (status, _) = app
        .delete(&format!("/v3/workflows/{workflow_id}/"), key)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.get(&format!("/v3/workflows/{workflow_id}/"), key).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = app
        .post("/v3/session/", key, json!({"workflow_id": workflow_id}))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "no sessions on an archived workflow"
    );
    let (status, _) = app
        .get(
            &format!(
                "/v3/session/{}/decision/",
                session["session_id"].as_str().unwrap()
            ),
            key,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "sessions outlive their workflow");
}

#[tokio::test]
async fn legacy_flag_model_and_validation_errors() {
    let app = spawn_app().await;
    let key = &app.live.api_key;
    let (status, created) = app
        .post("/v3/workflows/", key, json!({"workflow_label": "Legacy", "is_liveness_enabled": true, "is_aml_enabled": true, "aml_decline_threshold": 85}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let features: Vec<_> = created["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["feature"].clone())
        .collect();
    assert_eq!(features, [json!("OCR"), json!("LIVENESS"), json!("AML")]);
    assert_eq!(
        created["features"][2]["config"]["aml_score_review_threshold"],
        85
    );

    let (status, body) = app
        .post(
            "/v3/workflows/",
            key,
            json!({"workflow_label": "x", "features": ["OCR"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"features": ["Each workflow feature must be an object."]})
    );
    let (status, body) = app
        .post(
            "/v3/workflows/",
            key,
            json!({"workflow_label": "x", "features": [{"feature": "SELFIE"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"features": [{"feature": ["\"SELFIE\" is not a valid choice."]}]})
    );
    let (status, body) = app.post("/v3/workflows/", key, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["workflow_label"], json!(["This field is required."]));
    assert_eq!(body["features"], json!(["This field is required."]));
}

#[tokio::test]
async fn a_live_workflow_cannot_publish_a_step_without_an_engine() {
    let app = spawn_app().await;
    let features = json!([
        {"feature": "OCR"}, {"feature": "NFC"},
        {"feature": "LIVENESS", "config": {"face_liveness_method": "FLASHING"}},
        {"feature": "PROOF_OF_ADDRESS"}
    ]);
    let (status, refused) = app
        .post(
            "/v3/workflows/",
            &app.live.api_key,
            json!({"workflow_label": "Too much", "features": features}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{refused}");
    let messages: Vec<&str> = refused["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 3, "{refused}");
    assert!(messages[0].starts_with("NFC (feature_nfc) has no verification engine"));
    assert!(messages[1].starts_with("LIVENESS with face_liveness_method FLASHING"));
    assert!(messages[2].starts_with("PROOF_OF_ADDRESS (feature_proof_of_address)"));

    // As a draft it is kept (and no session can be created on it); the sandbox publishes it.
    let (status, draft) = app
        .post(
            "/v3/workflows/",
            &app.live.api_key,
            json!({"workflow_label": "Later", "status": "draft", "features": features}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    let (status, _) = app
        .post(
            "/v3/session/",
            &app.live.api_key,
            json!({"workflow_id": draft["workflow_id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, publish) = app
        .patch(
            &format!("/v3/workflows/{}/", draft["workflow_id"].as_str().unwrap()),
            &app.live.api_key,
            json!({"status": "published"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{publish}");
    let (status, sandbox) = app
        .post(
            "/v3/workflows/",
            &app.sandbox.api_key,
            json!({"workflow_label": "Everything plays", "features": features}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{sandbox}");

    // Seed 003's Address Verification template: a draft on the live application, published on
    // the sandbox one.
    for (key, expected) in [
        (&app.live.api_key, "draft"),
        (&app.sandbox.api_key, "published"),
    ] {
        let (_, list) = app.get("/v3/workflows/", key).await;
        let address = list
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["workflow_label"] == "Address Verification")
            .unwrap()
            .clone();
        assert_eq!(address["status"], expected, "{address}");
    }
}
