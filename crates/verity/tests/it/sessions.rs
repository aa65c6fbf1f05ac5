use crate::helpers::spawn_app;
use reqwest::StatusCode;
use serde_json::{json, Value};

const PNG_1X1: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

#[tokio::test]
async fn create_session_answers_every_field_of_the_spec() {
    let app = spawn_app().await;
    let created = app
        .create_session(json!({
            "vendor_data": "user-123",
            "callback": "https://yourapp.com/verification-complete",
            "metadata": {"plan": "premium"},
            "language": "es",
            "contact_details": {"email": "alex.sample@example.com", "phone": "+15550101000"},
            "expected_details": {"first_name": "John", "last_name": "Doe", "date_of_birth": "1990-01-01", "expected_document_types": ["P", "id"]}
        }))
        .await;
    for key in [
        "session_id",
        "session_number",
        "session_token",
        "url",
        "vendor_data",
        "metadata",
        "status",
        "callback",
        "workflow_id",
        "workflow_version",
    ] {
        assert!(created.get(key).is_some(), "missing {key} in {created}");
    }
    assert_eq!(created["status"], "Not Started");
    assert_eq!(created["session_number"], 1);
    assert_eq!(created["workflow_version"], 1);
    assert_eq!(created["environment"], "live");
    let token = created["session_token"].as_str().unwrap();
    assert_eq!(token.len(), 12);
    assert_eq!(created["url"], format!("{}/es/session/{token}", app.base));
    assert_eq!(created["metadata"], json!({"plan": "premium"}));

    let second = app.create_session(json!({})).await;
    assert_eq!(second["session_number"], 2);
    assert_eq!(
        second["url"],
        format!(
            "{}/session/{}",
            app.base,
            second["session_token"].as_str().unwrap()
        )
    );
}

#[tokio::test]
async fn create_session_reports_every_bad_field_in_drf_shape() {
    let app = spawn_app().await;
    let (status, body) = app
        .post(
            "/v3/session/",
            &app.live.api_key,
            json!({
                "callback": "not a url",
                "callback_method": "sideways",
                "language": "xx",
                "expected_details": {"gender": "X"},
                "favourite_colour": "blue"
            }),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["workflow_id"], json!(["This field is required."]));
    assert_eq!(body["callback"], json!(["Enter a valid URL."]));
    assert_eq!(
        body["callback_method"],
        json!(["\"sideways\" is not a valid choice."])
    );
    assert_eq!(body["language"], json!(["\"xx\" is not a valid choice."]));
    assert_eq!(
        body["expected_details"]["gender"],
        json!(["\"X\" is not a valid choice."])
    );
    assert_eq!(body["favourite_colour"], json!(["Unknown field."]));

    let (status, body) = app
        .post(
            "/v3/session/",
            &app.live.api_key,
            json!({"workflow_id": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["workflow_id"][0]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{body}"
    );

    let (status, body) = app
        .post(
            "/v3/session/",
            &app.live.api_key,
            json!({"workflow_id": app.live.default_workflow_id, "sandbox_scenario": "approve"}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "a live application never accepts a sandbox scenario"
    );
    assert!(body["sandbox_scenario"].is_array());
}

#[tokio::test]
async fn portrait_image_is_stored_and_checked() {
    let app = spawn_app().await;
    let created = app.create_session(json!({"portrait_image": PNG_1X1})).await;
    let id = created["session_id"].as_str().unwrap();
    let stored = app
        .data_dir
        .path()
        .join("media")
        .join(app.live.id.to_string())
        .join(id)
        .join("portrait.png");
    assert!(stored.exists(), "portrait stored at {}", stored.display());

    let (status, body) = app
        .post("/v3/session/", &app.live.api_key, json!({"workflow_id": app.live.default_workflow_id, "portrait_image": "R0lGODlhAQABAAAAACw="}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["portrait_image"][0]
            .as_str()
            .unwrap()
            .contains("valid image"),
        "{body}"
    );
}

#[tokio::test]
async fn vendor_data_reuses_the_unfinished_session_on_the_same_version() {
    let app = spawn_app().await;
    let first = app.create_session(json!({"vendor_data": "user-9", "callback": "https://a.example/cb", "metadata": {"n": 1}})).await;
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
    let again = app
        .create_session(json!({"vendor_data": "user-9", "callback": "https://b.example/cb", "metadata": {"n": 2}, "portrait_image": png}))
        .await;
    let media = app.data_dir.path().join("media");
    let leftover: Vec<_> = walk(&media).into_iter().filter(|p| p.is_file()).collect();
    assert!(
        leftover.is_empty(),
        "the upload of a reused request is not kept: {leftover:?}"
    );
    assert_eq!(again["session_id"], first["session_id"]);
    assert_eq!(again["session_number"], first["session_number"]);
    assert_eq!(again["callback"], "https://b.example/cb");
    assert_eq!(again["metadata"], json!({"n": 2}));
    let (_, decision) = app
        .get(
            &format!(
                "/v3/session/{}/decision/",
                first["session_id"].as_str().unwrap()
            ),
            &app.live.api_key,
        )
        .await;
    assert_eq!(decision["callback"], "https://b.example/cb");

    // Another vendor gets its own session, numbered without gaps.
    let other = app.create_session(json!({"vendor_data": "user-10"})).await;
    assert_eq!(other["session_number"], 2);

    // A finished session is never reused.
    app.force_status(first["session_id"].as_str().unwrap(), "Approved")
        .await;
    let fresh = app.create_session(json!({"vendor_data": "user-9"})).await;
    assert_ne!(fresh["session_id"], first["session_id"]);

    // Nor is one pinned to a version that has since been republished.
    let path = format!("/v3/workflows/{}/", app.live.default_workflow_id);
    let (status, _) = app
        .patch(
            &path,
            &app.live.api_key,
            json!({"workflow_label": "KYC v2"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let newer = app.create_session(json!({"vendor_data": "user-9"})).await;
    assert_ne!(newer["session_id"], fresh["session_id"]);
    assert_eq!(newer["workflow_version"], 2);
}

#[tokio::test]
async fn decision_leaves_out_every_array_until_a_feature_runs() {
    let app = spawn_app().await;
    let created = app
        .create_session(json!({"vendor_data": "v", "metadata": {"k": "v"}}))
        .await;
    let id = created["session_id"].as_str().unwrap();
    let (status, decision) = app
        .get(&format!("/v3/session/{id}/decision/"), &app.live.api_key)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(decision["session_id"], id);
    assert_eq!(decision["status"], "Not Started");
    assert_eq!(decision["session_kind"], "user");
    assert_eq!(decision["environment"], "live");
    assert_eq!(
        decision["features"],
        json!(["ID_VERIFICATION", "LIVENESS", "FACE_MATCH"])
    );
    assert_eq!(decision["reviews"], json!([]));
    for key in [
        "id_verifications",
        "nfc_verifications",
        "liveness_checks",
        "face_matches",
        "poa_verifications",
        "phone_verifications",
        "email_verifications",
        "aml_screenings",
        "ip_analyses",
        "database_validations",
    ] {
        assert!(
            decision[key].is_null(),
            "{key} should be null before the feature ran"
        );
    }
    assert!(decision["created_at"].as_str().unwrap().ends_with('Z'));

    let (status, detail) = app
        .get(&format!("/v3/session/{id}/"), &app.live.api_key)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(detail["session_token"], created["session_token"]);
    assert_eq!(detail["callback_method"], "initiator");
}

#[tokio::test]
async fn list_paginates_with_absolute_links_and_filters() {
    let app = spawn_app().await;
    let mut ids = Vec::new();
    for n in 0..5 {
        let created = app
            .create_session(json!({"vendor_data": format!("user-{n}")}))
            .await;
        ids.push(created["session_id"].as_str().unwrap().to_owned());
    }
    let key = &app.live.api_key;
    let (status, page) = app.get("/v3/sessions/?limit=2", key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(page["count"], 5);
    assert_eq!(page["results"].as_array().unwrap().len(), 2);
    assert_eq!(page["results"][0]["session_id"], ids[4], "newest first");
    assert_eq!(page["previous"], Value::Null);
    let next = page["next"].as_str().unwrap();
    assert_eq!(next, format!("{}/v3/sessions/?limit=2&offset=2", app.base));
    let (_, page2) = app.get(next.strip_prefix(&app.base).unwrap(), key).await;
    assert_eq!(page2["results"][0]["session_id"], ids[2]);
    assert_eq!(
        page2["previous"],
        format!("{}/v3/sessions/?limit=2", app.base)
    );
    let (_, last) = app.get("/v3/sessions/?limit=2&offset=4", key).await;
    assert_eq!(last["next"], Value::Null);

    let (_, filtered) = app.get("/v3/sessions/?vendor_data=user-1", key).await;
    assert_eq!(filtered["count"], 1);
    assert_eq!(filtered["results"][0]["session_id"], ids[1]);
    app.force_status(&ids[0], "Approved").await;
    app.force_status(&ids[1], "In Review").await;
    let (_, by_status) = app
        .get("/v3/sessions/?status=Approved,In%20Review", key)
        .await;
    assert_eq!(by_status["count"], 2);
    let (_, oldest) = app
        .get("/v3/sessions/?ordering=created_at&limit=1", key)
        .await;
    assert_eq!(oldest["results"][0]["session_id"], ids[0]);
    let (_, by_workflow) = app
        .get(
            &format!("/v3/sessions/?workflow_id={}", app.live.default_workflow_id),
            key,
        )
        .await;
    assert_eq!(by_workflow["count"], 5);
    let (_, future) = app.get("/v3/sessions/?date_from=2999-01-01", key).await;
    assert_eq!(future["count"], 0);
    let (_, today) = app
        .get("/v3/sessions/?date_from=2000-01-01&date_to=2999-12-31", key)
        .await;
    assert_eq!(today["count"], 5);
    let (_, searched) = app.get("/v3/sessions/?search=USER-3", key).await;
    assert_eq!(
        searched["count"], 1,
        "search is case-insensitive on vendor_data"
    );
    assert_eq!(searched["results"][0]["session_id"], ids[3]);
    let (_, by_number) = app.get("/v3/sessions/?search=5", key).await;
    assert_eq!(by_number["results"][0]["session_id"], ids[4]);
    let (_, wildcard) = app.get("/v3/sessions/?search=%25", key).await;
    assert_eq!(
        wildcard["count"], 0,
        "LIKE wildcards in the search text are literal"
    );
    app.execute_sql(
        "UPDATE sessions SET country = 'ESP' WHERE id = $1",
        &[&ids[2]],
    )
    .await;
    let (_, spanish) = app.get("/v3/sessions/?country=esp", key).await;
    assert_eq!(spanish["count"], 1);
    assert_eq!(spanish["results"][0]["country"], "ESP");
    let (status, _) = app.get("/v3/sessions", key).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "also served without the trailing slash"
    );

    let (status, body) = app
        .get(
            "/v3/sessions/?status=Finished&limit=abc&date_from=yesterday",
            key,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["status"],
        json!(["\"Finished\" is not a valid choice."])
    );
    assert!(
        body["limit"].is_array() && body["date_from"].is_array(),
        "{body}"
    );
}

#[tokio::test]
async fn configured_public_url_is_the_base_of_session_links() {
    let app = crate::helpers::spawn_app_with(|config| {
        config.public_url = Some("https://verify.example.com/".into())
    })
    .await;
    let created = app.create_session(json!({"language": "pt-br"})).await;
    let token = created["session_token"].as_str().unwrap();
    assert_eq!(
        created["url"],
        format!("https://verify.example.com/pt-BR/session/{token}")
    );
    let (_, page) = app.get("/v3/sessions/?limit=1", &app.live.api_key).await;
    assert_eq!(page["results"][0]["url"], created["url"]);
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            found.extend(walk(&path));
            found.push(path);
        }
    }
    found
}
