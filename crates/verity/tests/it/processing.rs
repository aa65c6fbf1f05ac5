//! The processing job queue: live sessions without an engine wait (never a fake result), a
//! server killed mid-processing decides every session exactly once after restart, two
//! processes share one PostgreSQL queue, and resubmission reruns only the named nodes.

use crate::helpers::{create_postgres_database, eventually, field_list, sample_png, spawn_app};
use crate::webhooks::{start_server_with, ServerProcess};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::HashMap;

#[tokio::test]
async fn a_live_session_waits_for_its_engine_and_is_never_faked() {
    let app = spawn_app().await;
    let created = app.create_session(json!({})).await;
    let token = created["session_token"].as_str().unwrap();
    let submitted = app.run_flow(token).await;
    assert_eq!(submitted["enqueued"], true);
    eventually("the job parks", || async {
        let (_, status) = app
            .flow(Method::GET, "/flow/session/status/", token, None)
            .await;
        status["processing"]["state"] == "waiting_for_engine"
    })
    .await;
    let (_, status) = app
        .flow(Method::GET, "/flow/session/status/", token, None)
        .await;
    assert_eq!(status["status"], "In Progress");
    assert_eq!(status["decided"], false);
    assert_eq!(status["processing"]["waiting_for_engine"], "OCR");
    assert_eq!(status["processing"]["done_nodes"], json!([]));
    let id = created["session_id"].as_str().unwrap();
    let (_, decision) = app
        .get(&format!("/v3/session/{id}/decision/"), &app.live.api_key)
        .await;
    assert_eq!(decision["status"], "In Progress");
    for array in ["id_verifications", "liveness_checks", "face_matches"] {
        assert!(
            decision.get(array).is_none(),
            "{array} fabricated: {decision}"
        );
    }
    // A parked session is not abandoned by the expiry sweep (the person finished the flow).
    app.execute_sql("UPDATE sessions SET expires_at = 1 WHERE id = $1", &[id])
        .await;
    let before = app
        .store
        .expire_sessions(
            verity_domain::Timestamp::now(),
            std::time::Duration::from_secs(3600),
        )
        .await
        .unwrap();
    assert_eq!(before, 0);
    let (status, _) = app
        .flow(Method::GET, "/flow/session/status/", token, None)
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a submitted session keeps its status page"
    );
}

#[tokio::test]
async fn resubmission_reruns_the_named_nodes_and_every_check_of_their_captures() {
    let app = spawn_app().await;
    let key = &app.sandbox.api_key;
    let decision = app.sandbox_session_in_review().await;
    let id = decision["session_id"].as_str().unwrap().to_owned();
    let ocr_before = decision["id_verifications"][0].clone();
    let (status, body) = app
        .patch(
            &format!("/v3/session/{id}/update-status/"),
            key,
            json!({"new_status": "Resubmitted", "comment": "Retake the selfie",
                   "nodes_to_resubmit": [{"node_id": "feature_face_match", "feature": "FACE_MATCH"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, session) = app.get(&format!("/v3/session/{id}/"), key).await;
    let token = session["session_token"].as_str().unwrap();
    let (_, state) = app
        .flow(Method::POST, "/flow/session/start/", token, None)
        .await;
    assert_eq!(state["status"], "In Progress");
    let steps = field_list(&state["steps"], "node_id");
    assert_eq!(
        steps,
        ["feature_liveness", "feature_face_match"],
        "a new selfie is checked for liveness again; the document step stays closed"
    );
    let mut kinds = field_list(&state["captures"], "kind");
    kinds.sort();
    assert_eq!(
        kinds,
        ["document_back", "document_front"],
        "the selfie is taken again: {kinds:?}"
    );
    let (status, body) = app
        .flow(Method::POST, "/flow/session/submit/", token, None)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(body["code"], "missing_captures");
    let submitted = app
        .submit_flow(token, &[("selfie", sample_png(40, 40, 3))])
        .await;
    assert_eq!(
        submitted["processing"]["nodes"],
        json!(["feature_liveness", "feature_face_match"])
    );
    assert_eq!(app.wait_decided(token).await, "In Review");
    let (_, decision) = app.get(&format!("/v3/session/{id}/decision/"), key).await;
    assert_eq!(
        decision["id_verifications"][0], ocr_before,
        "the kept node's result is untouched"
    );
    let statuses = app.event_statuses(&id, key).await;
    assert_eq!(
        statuses,
        [
            "Not Started",
            "In Progress",
            "In Review",
            "Resubmitted",
            "In Progress",
            "In Review"
        ]
    );
}

/// The sandbox application's API key and default workflow from a first-start banner.
fn sandbox_credentials(server: &ServerProcess) -> (String, String) {
    let values = |label: &str| -> Vec<String> {
        server
            .stdout_lines
            .iter()
            .filter(|l| l.trim_start().starts_with(label))
            .filter_map(|l| l.split_whitespace().last().map(str::to_owned))
            .collect()
    };
    (
        values("API key")[1].clone(),
        values("default workflow id")[1].clone(),
    )
}

async fn call(
    method: Method,
    url: String,
    key: Option<&str>,
    token: Option<&str>,
    body: Option<Vec<u8>>,
) -> (StatusCode, Value) {
    let client = reqwest::Client::new();
    let mut request = client.request(method, url);
    if let Some(key) = key {
        request = request.header("x-api-key", key);
    }
    if let Some(token) = token {
        request = request.header("x-session-token", token);
    }
    if let Some(body) = body {
        request = request.body(body);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Creates a sandbox session on `base` and submits it through the flow; returns (id, token).
async fn submit_one(base: &str, key: &str, workflow: &str, n: usize) -> (String, String) {
    let body =
        serde_json::to_vec(&json!({"workflow_id": workflow, "vendor_data": format!("job-{n}")}))
            .unwrap();
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{base}/v3/session/"))
        .header("x-api-key", key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = created["session_token"].as_str().unwrap().to_owned();
    let (status, _) = call(
        Method::POST,
        format!("{base}/flow/session/start/"),
        None,
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    for kind in ["document_front", "selfie"] {
        let (status, body) = call(
            Method::POST,
            format!("{base}/flow/session/captures/{kind}/"),
            None,
            Some(&token),
            Some(sample_png(16, 16, n as u8)),
        )
        .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = call(
        Method::POST,
        format!("{base}/flow/session/submit/"),
        None,
        Some(&token),
        None,
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    (created["session_id"].as_str().unwrap().to_owned(), token)
}

/// Final-status events per session, read from the database.
async fn final_events(database_url: &str) -> HashMap<String, usize> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT session_id FROM session_events WHERE status IN ('Approved', 'Declined', 'In Review')",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    let mut counts = HashMap::new();
    for (id,) in rows {
        *counts.entry(id).or_insert(0) += 1;
    }
    counts
}

/// (session, node) → (updated_at, job_id) of every node result written so far.
async fn node_rows(database_url: &str) -> HashMap<(String, String), (i64, String)> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.unwrap();
    let rows: Vec<(String, String, i64, String)> =
        sqlx::query_as("SELECT session_id, node_id, updated_at, job_id FROM feature_results")
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    rows.into_iter()
        .map(|(s, n, at, job)| ((s, n), (at, job)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_mid_processing_decides_every_session_exactly_once() {
    let data_dir = tempfile::tempdir().unwrap();
    let database_url = format!("sqlite://{}", data_dir.path().join("verity.db").display());
    // Each sandbox step takes 150 ms and one job runs at a time, so jobs are mid-way when the
    // server is killed; a short lease lets the restarted process take the orphaned claim over.
    let env = [
        ("VERITY_PROCESSING__SANDBOX_DELAY_MS", "150"),
        ("VERITY_PROCESSING__CONCURRENCY", "1"),
        ("VERITY_PROCESSING__LEASE_SECONDS", "2"),
        ("VERITY_PROCESSING__POLL_INTERVAL_MS", "100"),
    ];
    let mut server = start_server_with(data_dir.path(), &database_url, &env);
    let (key, workflow) = sandbox_credentials(&server);
    const SESSIONS: usize = 12;
    let mut ids = Vec::new();
    for n in 0..SESSIONS {
        ids.push(submit_one(&server.base, &key, &workflow, n).await.0);
    }
    // Kill once some node results exist but not every session is decided.
    eventually("processing under way", || async {
        !node_rows(&database_url).await.is_empty()
    })
    .await;
    server.child.0.kill().expect("SIGKILL");
    server.child.0.wait().unwrap();
    let decided_before = final_events(&database_url).await;
    let written_before = node_rows(&database_url).await;
    assert!(
        decided_before.len() < SESSIONS,
        "the kill came too late to test anything"
    );

    let restarted = start_server_with(data_dir.path(), &database_url, &env);
    for _ in 0..600 {
        if final_events(&database_url).await.len() == SESSIONS {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let decided = final_events(&database_url).await;
    for id in &ids {
        assert_eq!(
            decided.get(id),
            Some(&1),
            "session {id}: one final status event"
        );
    }
    let written_after = node_rows(&database_url).await;
    assert_eq!(written_after.len(), SESSIONS * 3, "three nodes per session");
    for (node, before) in &written_before {
        assert_eq!(
            written_after.get(node),
            Some(before),
            "{node:?} ran again after the restart"
        );
    }
    for id in &ids {
        let (status, session) = call(
            Method::GET,
            format!("{}/v3/session/{id}/", restarted.base),
            Some(&key),
            None,
            None,
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(session["status"], "Approved", "{session}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_on_one_postgres_share_the_queue() {
    let (admin, name, database_url) = create_postgres_database().await;
    let env = [
        ("VERITY_PROCESSING__SANDBOX_DELAY_MS", "20"),
        ("VERITY_PROCESSING__POLL_INTERVAL_MS", "50"),
    ];
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let a = start_server_with(dir_a.path(), &database_url, &env);
    let (key, workflow) = sandbox_credentials(&a);
    let b = start_server_with(dir_b.path(), &database_url, &env);
    const SESSIONS: usize = 30;
    let mut ids = Vec::new();
    for n in 0..SESSIONS {
        let base = if n % 2 == 0 { &a.base } else { &b.base };
        ids.push(submit_one(base, &key, &workflow, n).await.0);
    }
    eventually("every session decided", || async {
        final_events(&database_url).await.len() == SESSIONS
    })
    .await;
    let decided = final_events(&database_url).await;
    for id in &ids {
        assert_eq!(
            decided.get(id),
            Some(&1),
            "session {id} decided exactly once"
        );
    }
    assert_eq!(node_rows(&database_url).await.len(), SESSIONS * 3);
    drop((a, b));
    let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&admin)
        .await;
}
