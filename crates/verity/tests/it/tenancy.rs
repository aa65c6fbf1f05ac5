//! Every route answers 404 for another application's ids: the live and sandbox applications of
//! the first start, and an application of a different organization.

use crate::helpers::spawn_app;
use reqwest::{Method, StatusCode};
use serde_json::json;
use verity_domain::account::ApplicationMetadata;
use verity_domain::session::Environment;

#[tokio::test]
async fn foreign_ids_are_not_found_on_every_route() {
    let app = spawn_app().await;
    let org = app
        .store
        .create_organization("Another organization")
        .await
        .unwrap();
    let (_, other) = app
        .store
        .create_application(
            org.id,
            &ApplicationMetadata::named("Other"),
            Environment::Live,
        )
        .await
        .unwrap();

    let owner = &app.live.api_key;
    let session = app.create_session(json!({"vendor_data": "tenant-a"})).await;
    let id = session["session_id"].as_str().unwrap().to_owned();
    app.force_status(&id, "In Review").await;
    app.post(
        &format!("/v3/sessions/{id}/reviews/"),
        owner,
        json!({"comment": "mine"}),
    )
    .await;
    let (_, workflow) = app
        .get(
            &format!("/v3/workflows/{}/", app.live.default_workflow_id),
            owner,
        )
        .await;
    let version_uuid = workflow["uuid"].as_str().unwrap().to_owned();
    let workflow_id = app.live.default_workflow_id.to_string();

    let routes: Vec<(Method, String, Option<serde_json::Value>)> = vec![
        (Method::GET, format!("/v3/session/{id}/"), None),
        (Method::GET, format!("/v3/session/{id}/decision/"), None),
        (
            Method::PATCH,
            format!("/v3/session/{id}/update-status/"),
            Some(json!({"new_status": "Declined"})),
        ),
        (Method::GET, format!("/v3/sessions/{id}/reviews/"), None),
        (
            Method::POST,
            format!("/v3/sessions/{id}/reviews/"),
            Some(json!({"comment": "not yours"})),
        ),
        (Method::GET, format!("/v3/session/{id}/events/"), None),
        (
            Method::PATCH,
            format!("/v3/session/{id}/update-aml-hit-status/"),
            Some(json!({"hit_id": "h", "review_status": "False Positive"})),
        ),
        (
            Method::PATCH,
            format!("/v3/session/{id}/bulk-update-aml-hit-status/"),
            Some(json!({"hit_updates": [{"hit_id": "h", "review_status": "False Positive"}]})),
        ),
        (Method::DELETE, format!("/v3/session/{id}/delete/"), None),
        (Method::GET, format!("/v3/workflows/{workflow_id}/"), None),
        (Method::GET, format!("/v3/workflows/{version_uuid}/"), None),
        (
            Method::PATCH,
            format!("/v3/workflows/{workflow_id}/"),
            Some(json!({"workflow_label": "stolen"})),
        ),
        (
            Method::DELETE,
            format!("/v3/workflows/{version_uuid}/"),
            None,
        ),
    ];
    for intruder in [&app.sandbox.api_key, &other.api_key] {
        for (method, path, body) in &routes {
            let (status, answer) = app
                .request(method.clone(), path, Some(intruder), body.clone())
                .await;
            assert_eq!(
                status,
                StatusCode::NOT_FOUND,
                "{method} {path} answered {answer}"
            );
            assert_eq!(answer, json!({"detail": "Not found."}));
        }
        let (status, body) = app
            .post(
                "/v3/session/",
                intruder,
                json!({"workflow_id": workflow_id}),
            )
            .await;
        assert_eq!(
            status,
            StatusCode::BAD_REQUEST,
            "another application's workflow does not exist: {body}"
        );
        let (_, list) = app
            .get("/v3/sessions/?vendor_data=tenant-a", intruder)
            .await;
        assert_eq!(list["count"], 0);
        let (_, deleted) = app
            .post(
                "/v3/sessions/delete/",
                intruder,
                json!({"session_numbers": [1]}),
            )
            .await;
        assert!(deleted["results"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["session_id"] != id.as_str()));
    }

    // The owner's data is intact.
    let (status, decision) = app.get(&format!("/v3/session/{id}/decision/"), owner).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(decision["status"], "In Review");
    let (_, reviews) = app.get(&format!("/v3/sessions/{id}/reviews/"), owner).await;
    assert_eq!(reviews["count"], 1);
    let (_, workflow_after) = app
        .get(&format!("/v3/workflows/{workflow_id}/"), owner)
        .await;
    assert_eq!(workflow_after["workflow_label"], "KYC");
    assert_eq!(workflow_after["version"], 1);
}
