//! AML screening end to end: `verity aml import` (the real binary) into the test server's
//! database and media, the server installing versions by polling, `POST /v3/aml/`, a live
//! session whose workflow screens with the AML node, hit reviews, and ongoing monitoring when a
//! new version is imported — on a generated FtM fixture (always) and on the two real OFAC SDN
//! snapshots (skipped, saying so, without `../shared/data/ofac-sdn/`).

use crate::helpers::{eventually, spawn_app_with, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;

async fn spawn() -> TestApp {
    spawn_app_with(|config| config.aml.poll_seconds = 1).await
}

/// Runs `verity aml import` against the test server's database and data directory.
fn import(app: &TestApp, file: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_verity"))
        .args(["aml", "import"])
        .arg(file)
        .args(args)
        .arg("--data-dir")
        .arg(app.data_dir.path())
        .arg("--database-url")
        .arg(&app.database_url)
        .env_remove("VERITY_DATABASE_URL")
        .output()
        .expect("verity runs")
}

fn import_ok(app: &TestApp, file: &Path, args: &[&str]) -> String {
    let output = import(app, file, args);
    assert!(
        output.status.success(),
        "import failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

/// A small FtM file: sanctioned and PEP people, a company, and (in `extra`) more lines.
fn fixture(dir: &Path, name: &str, extra: &[Value]) -> PathBuf {
    let mut lines = vec![
        json!({"id": "fx-petrov", "schema": "Person", "properties": {"name": ["Ivan Sergeyevich Petrov"], "birthDate": ["1961-03-14"], "nationality": ["ru"], "topics": ["sanction"], "program": ["FIXTURE-SANCTIONS"]}, "datasets": ["fixture"]}),
        json!({"id": "fx-garcia", "schema": "Person", "properties": {"name": ["Lucia Garcia Moreno"], "birthDate": ["1975"], "nationality": ["es"], "topics": ["role.pep"], "position": ["Member of Parliament"]}, "datasets": ["fixture"]}),
        json!({"id": "fx-acme", "schema": "Company", "properties": {"name": ["Acme Trading LLC"], "country": ["ir"], "topics": ["sanction"]}, "datasets": ["fixture"]}),
        json!({"id": "fx-sanction", "schema": "Sanction", "properties": {"entity": ["fx-petrov"]}}),
    ];
    lines.extend_from_slice(extra);
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

async fn wait_loaded(app: &TestApp, version: &str) {
    eventually(&format!("dataset version {version} installed"), || async {
        let (status, body) = app.get("/v3/aml/datasets/", &app.live.api_key).await;
        status == StatusCode::OK
            && body["loaded"]
                .as_array()
                .unwrap()
                .iter()
                .any(|d| d["version"] == version)
    })
    .await;
}

/// A live workflow that only screens (the flow has no capture step), monitored.
async fn aml_workflow(app: &TestApp, monitored: bool) -> String {
    let (status, body) = app
        .post(
            "/v3/workflows/",
            &app.live.api_key,
            json!({"workflow_label": "Screening", "features": [
                {"feature": "AML", "config": {"is_ongoing_monitoring_enabled": monitored}}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    body["workflow_id"].as_str().unwrap().to_owned()
}

/// Creates a live session on `workflow` for the person, runs the hosted flow to its submit.
async fn submit_person(app: &TestApp, workflow: &str, expected: Value) -> (String, String) {
    let created = app
        .create_session(json!({"workflow_id": workflow, "expected_details": expected}))
        .await;
    let token = created["session_token"].as_str().unwrap().to_owned();
    app.run_flow(&token).await;
    (created["session_id"].as_str().unwrap().to_owned(), token)
}

async fn decision(app: &TestApp, id: &str) -> Value {
    let (status, body) = app
        .get(&format!("/v3/session/{id}/decision/"), &app.live.api_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

#[tokio::test]
async fn standalone_screening_answers_503_until_a_dataset_is_imported() {
    let app = spawn().await;
    let body =
        json!({"full_name": "Ivan Petrov", "date_of_birth": "1961-03-14", "nationality": "RU"});
    let (status, answer) = app.post("/v3/aml/", &app.live.api_key, body.clone()).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{answer}");
    assert!(answer["detail"]
        .as_str()
        .unwrap()
        .contains("verity aml import"));

    let dir = tempfile::tempdir().unwrap();
    let file = fixture(
        dir.path(),
        "v1.jsonl",
        &[json!({"schema": "Person", "properties": {"name": ["No Id"]}})],
    );
    let out = import_ok(
        &app,
        &file,
        &["--dataset", "fixture", "--date", "2024-01-01"],
    );
    assert!(out.contains("3 entities, 1 invalid rows"), "{out}");
    // The same file again is refused: nothing changed.
    assert!(
        !import(&app, &file, &["--dataset", "fixture", "--version", "again"])
            .status
            .success()
    );
    wait_loaded(&app, "2024-01-01").await;

    let (status, answer) = app.post("/v3/aml/", &app.live.api_key, body).await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    let aml = &answer["aml"];
    assert_eq!(aml["status"], "Declined", "{aml}");
    assert_eq!(aml["hits"][0]["id"], "fx-petrov");
    assert_eq!(aml["hits"][0]["review_status"], "Unreviewed");
    assert_eq!(aml["hits"][0]["score_breakdown"]["dob_score"], json!(100.0));
    assert_eq!(aml["score"], json!(100.0));
    assert_eq!(aml["warnings"][0]["risk"], "POSSIBLE_MATCH_FOUND");
    assert_eq!(aml["warnings"][0]["log_type"], "error");
    assert_eq!(aml["dataset_versions"][0]["name"], "fixture");
    assert_eq!(aml["dataset_versions"][0]["version"], "2024-01-01");
    assert_eq!(aml["dataset_versions"][0]["date"], "2024-01-01");
    assert!(aml.get("v1_hits").is_none());

    // A PEP goes to review; a clean name is approved; a company is screened as a company.
    let (_, pep) = app
        .post(
            "/v3/aml/",
            &app.live.api_key,
            json!({"full_name": "Lucia Garcia Moreno"}),
        )
        .await;
    assert_eq!(pep["aml"]["status"], "In Review", "{pep}");
    let (_, clean) = app
        .post(
            "/v3/aml/",
            &app.live.api_key,
            json!({"full_name": "Hannah Schmidt", "save_api_request": false}),
        )
        .await;
    assert_eq!(clean["aml"]["status"], "Approved", "{clean}");
    assert_eq!(clean["aml"]["total_hits"], json!(0));
    let (_, company) = app
        .post(
            "/v3/aml/",
            &app.live.api_key,
            json!({"full_name": "ACME Trading Ltd", "entity_type": "company"}),
        )
        .await;
    assert_eq!(company["aml"]["hits"][0]["id"], "fx-acme", "{company}");

    // Stored screenings are the caller's only; unsaved ones are not stored.
    let id = answer["request_id"].as_str().unwrap();
    let (status, stored) = app.get(&format!("/v3/aml/{id}/"), &app.live.api_key).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stored["aml"]["hits"][0]["id"], "fx-petrov");
    let (status, _) = app
        .get(&format!("/v3/aml/{id}/"), &app.sandbox.api_key)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let unsaved = clean["request_id"].as_str().unwrap();
    let (status, _) = app
        .get(&format!("/v3/aml/{unsaved}/"), &app.live.api_key)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Field errors in DRF shape.
    let (status, errors) = app
        .post(
            "/v3/aml/",
            &app.live.api_key,
            json!({"entity_type": "vessel", "aml_name_weight": 90, "date_of_birth": "yesterday"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for field in [
        "full_name",
        "entity_type",
        "date_of_birth",
        "non_field_errors",
    ] {
        assert!(errors.get(field).is_some(), "{field}: {errors}");
    }
}

#[tokio::test]
async fn live_aml_node_parks_without_data_then_decides_and_reviews_hits() {
    let app = spawn().await;
    let workflow = aml_workflow(&app, false).await;
    let person = json!({"first_name": "Ivan", "last_name": "Petrov", "date_of_birth": "1961-03-14", "nationality": "RUS"});
    let (id, token) = submit_person(&app, &workflow, person).await;
    eventually("the AML node parks without a dataset", || async {
        let (_, status) = app
            .flow(Method::GET, "/flow/session/status/", &token, None)
            .await;
        status["processing"]["state"] == "waiting_for_engine"
    })
    .await;
    assert!(decision(&app, &id).await.get("aml_screenings").is_none());

    let dir = tempfile::tempdir().unwrap();
    let file = fixture(dir.path(), "v1.jsonl", &[]);
    import_ok(
        &app,
        &file,
        &["--dataset", "fixture", "--date", "2024-01-01"],
    );
    assert_eq!(app.wait_decided(&token).await, "Declined");

    let decided = decision(&app, &id).await;
    let aml = &decided["aml_screenings"][0];
    assert_eq!(aml["node_id"], "feature_aml");
    assert_eq!(aml["status"], "Declined");
    assert_eq!(aml["screened_data"]["full_name"], "Ivan Petrov");
    assert_eq!(aml["hits"][0]["id"], "fx-petrov");
    assert_eq!(
        aml["hits"][0]["score_breakdown"]["country_score"],
        json!(100.0)
    );
    assert_eq!(aml["warnings"][0]["risk"], "POSSIBLE_MATCH_FOUND");
    assert_eq!(aml["dataset_versions"][0]["version"], "2024-01-01");
    // The v1 view (seed 001): hit score 0–1, `match`, Jaro-Winkler features.
    let token = app.client_token(&app.live).await;
    let (status, v1) = app
        .bearer(
            Method::GET,
            &format!("/v1/session/{id}/decision/"),
            &token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{v1}");
    assert_eq!(v1["aml"]["status"], "Declined");
    assert_eq!(v1["aml"]["total_hits"], json!(1));
    let hit = &v1["aml"]["hits"][0];
    assert_eq!(hit["id"], "fx-petrov");
    assert_eq!(hit["match"], json!(true));
    assert!(hit["score"].as_f64().unwrap() > 0.9 && hit["score"].as_f64().unwrap() <= 1.0);
    assert!(
        hit["features"]["person_name_jaro_winkler"]
            .as_f64()
            .unwrap()
            > 0.8
    );

    // A reviewer marks the hit a false positive: the node and the session are approved.
    let (status, errors) = app
        .patch(
            &format!("/v3/session/{id}/update-aml-hit-status/"),
            &app.live.api_key,
            json!({"hit_id": "nobody", "review_status": "False Positive"}),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{errors}");
    let (status, reviewed) = app
        .patch(
            &format!("/v3/session/{id}/update-aml-hit-status/"),
            &app.live.api_key,
            json!({"hit_id": "fx-petrov", "review_status": "False Positive"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{reviewed}");
    assert_eq!(reviewed["aml_status"], "Approved");
    assert_eq!(reviewed["session_status"], "Approved");
    assert_eq!(
        reviewed["updated_hits"][0]["previous_review_status"],
        "Unreviewed"
    );
    let after = decision(&app, &id).await;
    assert_eq!(after["status"], "Approved");
    assert_eq!(
        after["aml_screenings"][0]["hits"][0]["review_status"],
        "False Positive"
    );
    assert_eq!(after["aml_screenings"][0]["warnings"], json!([]));
    assert!(after["reviews"]
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["new_status"] == "Approved"));
    assert_eq!(
        app.event_statuses(&id, &app.live.api_key)
            .await
            .last()
            .map(String::as_str),
        Some("Approved")
    );

    // Confirmed again in bulk: declined again. Another application cannot see the session.
    let (status, bulk) = app
        .patch(
            &format!("/v3/session/{id}/bulk-update-aml-hit-status/"),
            &app.live.api_key,
            json!({"node_id": "feature_aml", "hit_updates": [{"hit_id": "fx-petrov", "review_status": "Confirmed Match"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{bulk}");
    assert_eq!(bulk["session_status"], "Declined");
    let (status, _) = app
        .patch(
            &format!("/v3/session/{id}/bulk-update-aml-hit-status/"),
            &app.sandbox.api_key,
            json!({"hit_updates": [{"hit_id": "fx-petrov", "review_status": "False Positive"}]}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn monitoring_flags_sessions_and_standalone_screenings_after_a_new_version() {
    let app = spawn().await;
    let dir = tempfile::tempdir().unwrap();
    import_ok(
        &app,
        &fixture(dir.path(), "v1.jsonl", &[]),
        &["--dataset", "fixture", "--date", "2024-01-01"],
    );
    wait_loaded(&app, "2024-01-01").await;

    let workflow = aml_workflow(&app, true).await;
    let person = json!({"first_name": "Olena", "last_name": "Kovalenko", "date_of_birth": "1980-07-09", "nationality": "UKR"});
    let (monitored, token) = submit_person(&app, &workflow, person.clone()).await;
    assert_eq!(app.wait_decided(&token).await, "Approved");
    let unmonitored_workflow = aml_workflow(&app, false).await;
    let (unmonitored, token) = submit_person(&app, &unmonitored_workflow, person).await;
    assert_eq!(app.wait_decided(&token).await, "Approved");
    let (_, standalone) = app
        .post(
            "/v3/aml/",
            &app.live.api_key,
            json!({"full_name": "Olena Kovalenko", "date_of_birth": "1980-07-09", "include_ongoing_monitoring": true}),
        )
        .await;
    assert_eq!(standalone["aml"]["status"], "Approved", "{standalone}");
    let request_id = standalone["request_id"].as_str().unwrap().to_owned();

    // Version 2 lists her under sanctions.
    let added = json!({"id": "fx-kovalenko", "schema": "Person", "properties": {"name": ["Kovalenko, Olena"], "birthDate": ["1980-07-09"], "nationality": ["ua"], "topics": ["sanction"]}, "datasets": ["fixture"]});
    let out = import_ok(
        &app,
        &fixture(dir.path(), "v2.jsonl", &[added]),
        &["--dataset", "fixture", "--date", "2024-02-01"],
    );
    assert!(out.contains("replaces version 2024-01-01"), "{out}");

    eventually("monitoring declines the monitored session", || async {
        decision(&app, &monitored).await["status"] == "Declined"
    })
    .await;
    let after = decision(&app, &monitored).await;
    let aml = &after["aml_screenings"][0];
    assert_eq!(aml["hits"][0]["id"], "fx-kovalenko");
    assert_eq!(aml["status"], "Declined");
    assert_eq!(aml["dataset_versions"][0]["version"], "2024-02-01");
    assert!(aml["ongoing_monitoring_last_check"].is_string());
    assert_eq!(
        app.event_statuses(&monitored, &app.live.api_key).await,
        ["Not Started", "In Progress", "Approved", "Declined"]
    );
    eventually("the monitoring run is recorded", || async {
        let (_, body) = app.get("/v3/aml/datasets/", &app.live.api_key).await;
        body["imported"][1]["monitoring_state"] == "done"
    })
    .await;
    let (_, datasets) = app.get("/v3/aml/datasets/", &app.live.api_key).await;
    let summary = &datasets["imported"][1]["monitoring_summary"];
    assert_eq!(summary["added"], json!(1), "{summary}");
    assert_eq!(summary["sessions_with_new_hits"], json!(1));
    assert_eq!(summary["sessions_moved"], json!(1));
    assert_eq!(summary["standalone_with_new_hits"], json!(1));

    // Without monitoring the session keeps its decision; the standalone screening shows the hit.
    assert_eq!(decision(&app, &unmonitored).await["status"], "Approved");
    let (_, stored) = app
        .get(&format!("/v3/aml/{request_id}/"), &app.live.api_key)
        .await;
    assert_eq!(stored["aml"]["status"], "Declined", "{stored}");
    assert_eq!(stored["aml"]["hits"][0]["id"], "fx-kovalenko");
}

fn ofac_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("VERITY_OFAC_SDN_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/ofac-sdn")
        });
    dir.join("sdn-2024-05-03.csv").exists().then_some(dir)
}

#[tokio::test]
async fn ofac_snapshots_monitoring_flags_a_person_added_between_them() {
    let Some(dir) = ofac_dir() else {
        println!("SKIPPED: OFAC SDN snapshots not found (set VERITY_OFAC_SDN_DIR or provide ../shared/data/ofac-sdn)");
        return;
    };
    let old_file = dir.join("sdn-2024-04-26.csv");
    let new_file = dir.join("sdn-2024-05-03.csv");
    // Choose, with the library itself, a person added in the second snapshot who is clean under
    // the first when screened by name and date of birth, as the session submits them.
    let read = |path: &Path, version: &str| {
        verity_aml::import_ofac_sdn(
            std::fs::File::open(path).unwrap(),
            "ofac_sdn",
            version,
            Some(version),
        )
        .0
    };
    let old = read(&old_file, "2024-04-26");
    let new = read(&new_file, "2024-05-03");
    let diff = verity_aml::diff_datasets(&old, &new);
    let old_index = std::sync::Arc::new(verity_aml::DatasetIndex::build(old));
    let config = verity_aml::ScreeningConfig::default();
    let (first, last, dob) = new
        .entities
        .iter()
        .filter(|e| e.schema == verity_aml::Schema::Person && diff.added.contains(&e.id))
        .filter_map(|e| {
            let (last, first) = e.caption.split_once(',')?;
            let dob = e
                .properties
                .get("birthDate")
                .iter()
                .find(|d| d.len() == 10)?
                .clone();
            let request = verity_aml::ScreeningRequest {
                full_name: format!("{} {}", first.trim(), last.trim()),
                date_of_birth: Some(dob.clone()),
                ..Default::default()
            };
            let before =
                verity_aml::screen_indexes(std::slice::from_ref(&old_index), &request, &config);
            let clean = before.possible_matches().next().is_none();
            clean.then(|| (first.trim().to_owned(), last.trim().to_owned(), dob))
        })
        .next()
        .expect("a person added on 2024-05-03 who is clean under 2024-04-26");

    let app = spawn().await;
    import_ok(
        &app,
        &old_file,
        &["--dataset", "ofac_sdn", "--date", "2024-04-26", "--quiet"],
    );
    wait_loaded(&app, "2024-04-26").await;
    let workflow = aml_workflow(&app, true).await;
    let (id, token) = submit_person(
        &app,
        &workflow,
        json!({"first_name": first, "last_name": last, "date_of_birth": dob}),
    )
    .await;
    assert_eq!(
        app.wait_decided(&token).await,
        "Approved",
        "clean under 2024-04-26"
    );
    let before = decision(&app, &id).await;
    assert_eq!(
        before["aml_screenings"][0]["dataset_versions"][0]["version"],
        "2024-04-26"
    );

    let out = import_ok(
        &app,
        &new_file,
        &["--dataset", "ofac_sdn", "--date", "2024-05-03", "--quiet"],
    );
    assert!(out.contains("14965 rows read"), "{out}");
    eventually("monitoring flags the session under 2024-05-03", || async {
        decision(&app, &id).await["status"] == "Declined"
    })
    .await;
    let after = decision(&app, &id).await;
    let aml = &after["aml_screenings"][0];
    assert_eq!(aml["dataset_versions"][0]["version"], "2024-05-03");
    assert!(
        aml["hits"][0]["sanction_matches"]
            .as_array()
            .is_some_and(|m| !m.is_empty()),
        "{aml}"
    );
    assert_eq!(
        app.event_statuses(&id, &app.live.api_key).await,
        ["Not Started", "In Progress", "Approved", "Declined"]
    );
}
