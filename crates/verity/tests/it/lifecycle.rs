use crate::helpers::{eventually, sample_png, spawn_app, spawn_app_with};
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::Duration;

#[tokio::test]
async fn update_status_follows_the_transition_table_and_records_reviews() {
    let app = spawn_app().await;
    let key = &app.live.api_key;
    let id = app.create_session(json!({})).await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v3/session/{id}/update-status/");

    // Not Started: refused before the body is even looked at.
    let (status, body) = app.patch(&path, key, json!({"new_status": "bogus"})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["detail"]
            .as_str()
            .unwrap()
            .starts_with("Wrong Current Status"),
        "{body}"
    );

    app.force_status(&id, "In Review").await;
    let (status, body) = app
        .patch(&path, key, json!({"new_status": "In Review"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body["new_status"],
        json!(["\"In Review\" is not a valid choice."])
    );

    let (status, body) = app
        .patch(
            &path,
            key,
            json!({"new_status": "Approved", "comment": "looks good"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({"session_id": id}));

    let (status, body) = app
        .patch(&path, key, json!({"new_status": "Approved"}))
        .await;
    assert_eq!(
        status,
        StatusCode::BAD_REQUEST,
        "Approved -> Approved is not a transition: {body}"
    );

    let (_, decision) = app.get(&format!("/v3/session/{id}/decision/"), key).await;
    assert_eq!(decision["status"], "Approved");
    assert_eq!(decision["reviews"][0]["user"], "API Client");
    assert_eq!(decision["reviews"][0]["new_status"], "Approved");
    assert_eq!(decision["reviews"][0]["comment"], "looks good");

    // Resubmission needs nodes of this session's workflow.
    let (status, body) = app
        .patch(&path, key, json!({"new_status": "Resubmitted", "nodes_to_resubmit": [{"node_id": "feature_aml", "feature": "AML"}]}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["nodes_to_resubmit"][0]
            .as_str()
            .unwrap()
            .contains("feature_aml"),
        "{body}"
    );
    let (status, body) = app
        .patch(&path, key, json!({"new_status": "Resubmitted"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["detail"], "No features found that need resubmission");
    let (status, _) = app
        .patch(
            &path,
            key,
            json!({"new_status": "Resubmitted", "comment": "blurry photo",
            "nodes_to_resubmit": [{"node_id": "feature_ocr", "feature": "ID_VERIFICATION"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, detail) = app.get(&format!("/v3/session/{id}/"), key).await;
    assert_eq!(detail["status"], "Resubmitted");
    assert_eq!(
        detail["resubmit_info"]["nodes_to_resubmit"],
        json!([{"node_id": "feature_ocr", "feature": "OCR"}])
    );
    assert_eq!(
        detail["resubmit_info"]["reasons"]["feature_ocr"],
        "blurry photo"
    );

    // The timeline: creation, the forced move is not an API event, then two manual changes.
    let (status, events) = app.get(&format!("/v3/session/{id}/events/"), key).await;
    assert_eq!(status, StatusCode::OK);
    let statuses: Vec<_> = events["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].clone())
        .collect();
    assert_eq!(
        statuses,
        [
            json!("Not Started"),
            json!("Approved"),
            json!("Resubmitted")
        ]
    );
    assert!(events["results"]
        .as_array()
        .unwrap()
        .iter()
        .all(|e| e["event_type"] == "status.updated"));
}

#[tokio::test]
async fn review_notes_are_listed_and_never_change_the_status() {
    let app = spawn_app().await;
    let key = &app.live.api_key;
    let id = app.create_session(json!({})).await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v3/sessions/{id}/reviews/");
    let (status, note) = app
        .post(
            &path,
            key,
            json!({"comment": "called the customer", "new_status": "Approved"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(note["activity_type"], "NOTE");
    assert_eq!(note["actor_display"], "API Client");
    assert_eq!(note["new_status"], "Approved");
    app.post(&path, key, json!({"comment": "second"})).await;
    let (_, page) = app.get(&format!("{path}?limit=1"), key).await;
    assert_eq!(page["count"], 2);
    assert_eq!(
        page["results"][0]["comment"], "second",
        "newest first by default"
    );
    assert!(page["next"].as_str().unwrap().starts_with(&app.base));
    let (_, decision) = app.get(&format!("/v3/session/{id}/decision/"), key).await;
    assert_eq!(decision["status"], "Not Started");
    let (status, body) = app
        .post(&path, key, json!({"new_status": "Approved"}))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["comment"], json!(["This field is required."]));
}

#[tokio::test]
async fn delete_removes_the_session_and_its_media() {
    let app = spawn_app().await;
    let key = &app.live.api_key;
    let png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";
    let created = app.create_session(json!({"portrait_image": png})).await;
    let id = created["session_id"].as_str().unwrap();
    let media_dir = app
        .data_dir
        .path()
        .join("media")
        .join(app.live.id.to_string())
        .join(id);
    assert!(media_dir.join("portrait.png").exists());

    let (status, body) = app.delete(&format!("/v3/session/{id}/delete/"), key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["session_id"], id);
    assert_eq!(body["session_number"], created["session_number"]);
    assert!(
        !media_dir.join("portrait.png").exists(),
        "media removed with the session"
    );
    let (status, body) = app.get(&format!("/v3/session/{id}/decision/"), key).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body, json!({"detail": "Not found."}));
    let (status, _) = app.delete(&format!("/v3/session/{id}/delete/"), key).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn batch_delete_by_numbers_or_all() {
    let app = spawn_app().await;
    let key = &app.live.api_key;
    for _ in 0..4 {
        app.create_session(json!({})).await;
    }
    let (status, body) = app.post("/v3/sessions/delete/", key, json!({})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!(["Provide session_numbers or set delete_all=true."])
    );

    let (status, body) = app
        .post(
            "/v3/sessions/delete/",
            key,
            json!({"session_numbers": [1, "2", 99]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["deleted"], 2, "unknown numbers are skipped: {body}");
    let (_, page) = app.get("/v3/sessions/", key).await;
    assert_eq!(page["count"], 2);

    // The sandbox application's sessions are untouched by the live application's delete_all.
    let sandbox_session = app
        .post(
            "/v3/session/",
            &app.sandbox.api_key,
            json!({"workflow_id": app.sandbox.default_workflow_id}),
        )
        .await;
    assert_eq!(sandbox_session.0, StatusCode::CREATED);
    let (status, body) = app
        .post("/v3/sessions/delete/", key, json!({"delete_all": true}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["deleted"], 2);
    let (_, sandbox_page) = app.get("/v3/sessions/", &app.sandbox.api_key).await;
    assert_eq!(sandbox_page["count"], 1);
}

#[tokio::test]
async fn sweep_expires_unopened_and_abandons_unfinished_sessions() {
    let app = spawn_app_with(|config| config.expiry_sweep_seconds = 1).await;
    let key = &app.live.api_key;
    let unopened = app.create_session(json!({})).await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let opened = app.create_session(json!({})).await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let fresh = app.create_session(json!({})).await["session_id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.force_status(&opened, "In Progress").await;
    for id in [&unopened, &opened] {
        app.execute_sql("UPDATE sessions SET expires_at = 0 WHERE id = $1", &[id])
            .await;
    }
    eventually("the sweep moves both sessions", || async {
        let (_, a) = app.get(&format!("/v3/session/{unopened}/"), key).await;
        let (_, b) = app.get(&format!("/v3/session/{opened}/"), key).await;
        a["status"] == "Expired" && b["status"] == "Abandoned"
    })
    .await;
    let (_, untouched) = app.get(&format!("/v3/session/{fresh}/"), key).await;
    assert_eq!(untouched["status"], "Not Started");
    let (_, events) = app
        .get(&format!("/v3/session/{unopened}/events/"), key)
        .await;
    assert_eq!(events["results"][1]["previous_status"], "Not Started");
    assert_eq!(events["results"][1]["status"], "Expired");
}

/// A person who opened the flow and then stopped acting on it past the inactivity limit is
/// `Abandoned` (with its status event); an upload counts as activity; the page then says so.
#[tokio::test]
async fn inactive_sessions_are_abandoned_and_uploads_keep_them_open() {
    let app = spawn_app().await;
    let key = &app.live.api_key;
    let mut sessions = Vec::new();
    for _ in 0..2 {
        let created = app.create_session(json!({})).await;
        let token = created["session_token"].as_str().unwrap().to_owned();
        let (status, _) = app
            .flow(Method::POST, "/flow/session/start/", &token, None)
            .await;
        assert_eq!(status, StatusCode::OK);
        let id = created["session_id"].as_str().unwrap().to_owned();
        // Both look idle for two hours...
        app.execute_sql(
            "UPDATE sessions SET last_activity_at = 0, updated_at = 0 WHERE id = $1",
            &[&id],
        )
        .await;
        sessions.push((id, token, created["url"].as_str().unwrap().to_owned()));
    }
    // ...until the second person uploads a picture.
    let (status, body) = app
        .flow(
            Method::POST,
            "/flow/session/captures/document_front/",
            &sessions[1].1,
            Some(sample_png(640, 400, 7)),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The test server's own sweep (every second, same limit) may get there first.
    app.store
        .expire_sessions(verity_domain::Timestamp::now(), Duration::from_secs(3600))
        .await
        .unwrap();
    for ((id, _, _), expected) in sessions.iter().zip(["Abandoned", "In Progress"]) {
        let (_, decision) = app.get(&format!("/v3/session/{id}/decision/"), key).await;
        assert_eq!(decision["status"], expected);
    }
    let (_, events) = app
        .get(&format!("/v3/session/{}/events/", sessions[0].0), key)
        .await;
    let last = events["results"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["previous_status"], "In Progress", "{events}");
    assert_eq!(last["status"], "Abandoned", "{events}");
    // The abandoned link no longer takes captures.
    let (status, body) = app
        .flow(
            Method::POST,
            "/flow/session/captures/document_front/",
            &sessions[0].1,
            Some(sample_png(640, 400, 8)),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT, "{body}");
}
