//! The hosted verification page (`/session/{token}`): served, secured and translated over HTTP,
//! and driven end to end in Debian's Chromium by tests/browser/flow.js — the sandbox by file
//! upload to the callback redirect (with refusals), a live session with the fake camera to the
//! processing screen, the desktop-to-phone path, and the expired page.

use crate::browser::{artifacts, run_script};
use crate::helpers::{sample_pdf, sample_png, spawn_app, AppCreds, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

const CALLBACK: &str = "https://client.example/verified";

struct Created {
    id: String,
    token: String,
    url: String,
}

async fn create(app: &TestApp, creds: &AppCreds, extra: Value) -> Created {
    let mut body = json!({"workflow_id": creds.default_workflow_id, "callback": CALLBACK});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().unwrap().clone());
    let (status, created) = app.post("/v3/session/", &creds.api_key, body).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    Created {
        id: created["session_id"].as_str().unwrap().to_owned(),
        token: created["session_token"].as_str().unwrap().to_owned(),
        url: created["url"].as_str().unwrap().to_owned(),
    }
}

/// Files the scripts upload: a picture, a text file named .jpg, a picture over 5 MB, a PDF.
fn files(dir: &std::path::Path) -> Value {
    let write = |name: &str, bytes: Vec<u8>| {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        path.to_string_lossy().into_owned()
    };
    let mut big = sample_png(640, 400, 90);
    big.resize(6 * 1024 * 1024, 0);
    json!({
        "good": write("document.png", sample_png(640, 400, 30)),
        "text": write("notes.jpg", b"These are my notes, not a photo.\n".to_vec()),
        "big": write("huge.png", big),
        "pdf": write("bill.pdf", sample_pdf()),
    })
}

async fn browser(app: &TestApp, options: Value) -> Option<Vec<String>> {
    let args = [app.base.clone(), options.to_string()];
    run_script("flow.js", &args, |question| async move {
        panic!("unexpected question {question}")
    })
    .await
}

async fn organization_name(app: &TestApp, creds: &AppCreds) -> String {
    let app_row = app.store.application(creds.id).await.unwrap();
    app.store
        .organization(app_row.organization_id)
        .await
        .unwrap()
        .name
}

async fn status_of(app: &TestApp, key: &str, id: &str) -> String {
    let (status, body) = app.get(&format!("/v3/session/{id}/decision/"), key).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["status"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_sandbox_session_is_completed_by_upload_and_redirects_with_its_status() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let organization = organization_name(&app, &app.sandbox).await;
    for (scenario, expect, refusals) in [
        ("approve", "Approved", true),
        ("decline_document_expired", "Declined", false),
    ] {
        let session = create(&app, &app.sandbox, json!({"sandbox_scenario": scenario})).await;
        assert!(session
            .url
            .ends_with(&format!("/session/{}", session.token)));
        let Some(infos) = browser(
            &app,
            json!({"mode": "upload", "url": session.url, "session_id": session.id,
                   "artifacts": artifacts("flow"), "files": files(dir.path()), "callback": CALLBACK,
                   "expect": expect, "refusals": refusals, "organization": organization,
                   "prefix": format!("sandbox-{scenario}")}),
        )
        .await
        else {
            return;
        };
        let weight = infos
            .iter()
            .find_map(|i| i.strip_prefix("weight="))
            .unwrap();
        eprintln!("first screen weight: {weight} bytes");
        assert_eq!(
            status_of(&app, &app.sandbox.api_key, &session.id).await,
            expect
        );
    }
}

#[tokio::test]
async fn a_live_session_is_captured_with_the_fake_camera_and_waits_for_processing() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let organization = organization_name(&app, &app.live).await;
    let session = create(&app, &app.live, json!({})).await;
    let token = session.token.clone();
    let app_ref = &app;
    let infos = run_script(
        "flow.js",
        &[
            app.base.clone(),
            json!({"mode": "camera", "url": session.url, "artifacts": artifacts("flow"),
                   "files": files(dir.path()), "tmp": dir.path().join("videos"),
                   "organization": organization})
            .to_string(),
        ],
        |question| {
            let token = token.clone();
            async move {
                assert_eq!(question, "live-parked");
                // The page says it is processing; the session really is In Progress with every
                // capture stored and its job waiting for the engines (no faked result).
                let (status, state) = app_ref
                    .flow(Method::GET, "/flow/session/", &token, None)
                    .await;
                assert_eq!(status, StatusCode::OK, "{state}");
                assert_eq!(state["status"], "In Progress");
                assert_eq!(state["processing"]["state"], "waiting_for_engine");
                let kinds: Vec<&str> = state["captures"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["kind"].as_str().unwrap())
                    .collect();
                for kind in ["document_front", "document_back", "selfie"] {
                    assert!(kinds.contains(&kind), "{kind} stored: {kinds:?}");
                }
                assert!(state["captures"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|c| c["kind"] != "poa_document")
                    .all(|c| c["content_type"] == "image/jpeg"));
                "ok".to_owned()
            }
        },
    )
    .await;
    if let Some(infos) = infos {
        eprintln!("{infos:?}");
    }
}

#[tokio::test]
async fn a_desktop_shows_a_qr_code_and_follows_the_phone_to_the_result() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let organization = organization_name(&app, &app.sandbox).await;
    for method in ["initiator", "completer", "both"] {
        let session = create(&app, &app.sandbox, json!({"callback_method": method})).await;
        let Some(_) = browser(
            &app,
            json!({"mode": "cross", "url": session.url, "session_id": session.id, "method": method,
                   "artifacts": artifacts("flow"), "files": files(dir.path()), "callback": CALLBACK,
                   "expect": "Approved", "organization": organization}),
        )
        .await
        else {
            return;
        };
    }
}

/// Every playable sandbox scenario through the page, on a workflow with every step a scenario
/// can need; the status the callback carries is then checked over the API.
#[tokio::test]
async fn every_sandbox_scenario_is_played_in_the_browser_to_its_callback() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let organization = organization_name(&app, &app.sandbox).await;
    let workflow = app.everything_workflow().await;
    let mut sessions = Vec::new();
    for scenario in verity_domain::sandbox::SCENARIOS
        .iter()
        .filter(|s| s.slug != "decline_kyb_registry_mismatch")
    {
        let session = create(
            &app,
            &app.sandbox,
            json!({"workflow_id": workflow, "sandbox_scenario": scenario.slug}),
        )
        .await;
        sessions.push((scenario, session));
    }
    let plays: Vec<Value> = sessions
        .iter()
        .map(|(scenario, session)| {
            json!({"url": session.url, "session_id": session.id, "prefix": format!("scenario-{}", scenario.slug),
                   "expect": scenario.outcome.as_str()})
        })
        .collect();
    let Some(infos) = browser(
        &app,
        json!({"mode": "scenarios", "sessions": plays, "artifacts": artifacts("flow"),
               "files": files(dir.path()), "callback": CALLBACK, "organization": organization}),
    )
    .await
    else {
        return;
    };
    assert_eq!(
        infos.iter().filter(|i| i.starts_with("played ")).count(),
        15
    );
    for (scenario, session) in &sessions {
        assert_eq!(
            status_of(&app, &app.sandbox.api_key, &session.id).await,
            scenario.outcome.as_str(),
            "{}",
            scenario.slug
        );
    }
}

/// The document-choice step offers only what the workflow's `documents_allowed` and the
/// session's `expected_document_types` accept.
#[tokio::test]
async fn the_document_choice_follows_documents_allowed_and_expected_types() {
    let app = spawn_app().await;
    let organization = organization_name(&app, &app.sandbox).await;
    let (status, workflow) = app
        .post(
            "/v3/workflows/",
            &app.sandbox.api_key,
            json!({"workflow_label": "France and Spain", "features": [
                {"feature": "OCR", "config": {"documents_allowed": {
                    "FRA": ["P", "Identity Card"], "ESP": true, "*": ["P"]}}}
            ]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{workflow}");
    let session = create(
        &app,
        &app.sandbox,
        json!({"workflow_id": workflow["workflow_id"],
               "expected_details": {"expected_document_types": ["P", "ID"]}}),
    )
    .await;
    let (status, state) = app
        .flow(Method::GET, "/flow/session/", &session.token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{state}");
    assert_eq!(
        state["steps"][0]["document_choice"]["other_countries"],
        json!(["P"])
    );
    browser(
        &app,
        json!({"mode": "choice", "url": session.url, "artifacts": artifacts("flow"),
               "organization": organization,
               "countries": {"FRA": ["P", "ID"], "ESP": ["P", "ID"]}, "other": ["P"]}),
    )
    .await;
}

#[tokio::test]
async fn expired_and_unknown_links_show_a_page_and_the_page_is_secured_and_translated() {
    let app = spawn_app().await;
    let session = create(&app, &app.sandbox, json!({"language": "es"})).await;
    assert!(session.url.contains("/es/session/"), "{}", session.url);
    let page = app.client.get(&session.url).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("frame-ancestors *") && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(headers.get("x-frame-options").is_none());
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers["permissions-policy"]
        .to_str()
        .unwrap()
        .contains("camera=(self)"));
    let html = page.text().await.unwrap();
    assert!(html.contains("<html lang=\"es\">"));
    assert!(html.contains("Modo de prueba"));
    assert!(html.contains("<svg role=\"img\""), "QR code of the link");
    // Opening the page changes nothing: the script starts the flow through the API.
    let (_, state) = app
        .flow(Method::GET, "/flow/session/", &session.token, None)
        .await;
    assert_eq!(state["status"], "Not Started");
    // Without a prefix, Accept-Language chooses; a language Verity has no strings for falls back.
    let english = app
        .client
        .get(format!("{}/session/{}", app.base, session.token))
        .header("accept-language", "en-GB")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(english.contains("Test mode: do not use real documents"));
    let french = app
        .client
        .get(format!("{}/fr/session/{}", app.base, session.token))
        .send()
        .await
        .unwrap();
    assert_eq!(french.status(), StatusCode::OK);
    // Unknown and expired links answer pages, not JSON.
    let unknown = app
        .client
        .get(format!("{}/session/{}", app.base, "x".repeat(20)))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert!(unknown.text().await.unwrap().contains("Link not valid"));
    app.execute_sql(
        "UPDATE sessions SET expires_at = 1 WHERE id = $1",
        &[&session.id],
    )
    .await;
    let expired = app.client.get(&session.url).send().await.unwrap();
    assert_eq!(expired.status(), StatusCode::GONE);
    assert!(expired.text().await.unwrap().contains("Enlace caducado"));
    browser(
        &app,
        json!({"mode": "expired", "url": session.url, "artifacts": artifacts("flow"),
               "title": "Enlace caducado"}),
    )
    .await;
}

/// A workflow of the live application with these features.
async fn live_workflow(app: &TestApp, label: &str, features: Value) -> String {
    let (status, workflow) = app
        .post(
            "/v3/workflows/",
            &app.live.api_key,
            json!({"workflow_label": label, "features": features}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{workflow}");
    workflow["workflow_id"].as_str().unwrap().to_owned()
}

async fn decision_of(app: &TestApp, id: &str) -> Value {
    let (status, decision) = app
        .get(&format!("/v3/session/{id}/decision/"), &app.live.api_key)
        .await;
    assert_eq!(status, StatusCode::OK, "{decision}");
    decision
}

#[tokio::test]
async fn a_live_session_filmed_by_the_camera_is_decided_by_the_engines_and_redirects() {
    let Some((app, astronaut)) = crate::face::face_app().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (passport, truth) = crate::documents::generated_passport(21);
    let passport_file = dir.path().join("passport.jpg");
    std::fs::write(&passport_file, passport).unwrap();
    let workflow_id = live_workflow(
        &app,
        "Passport, selfie and match",
        json!([
            {"feature": "OCR"},
            {"feature": "LIVENESS", "config": {"face_liveness_method": "PASSIVE"}},
            {"feature": "FACE_MATCH"}
        ]),
    )
    .await;
    let organization = organization_name(&app, &app.live).await;
    // The document and the selfie are filmed by two browsers (each with its own fake camera);
    // the second submits, so it is the one sent back.
    let session = create(
        &app,
        &app.live,
        json!({"workflow_id": workflow_id, "callback_method": "completer"}),
    )
    .await;
    let Some(infos) = browser(
        &app,
        json!({"mode": "camera", "url": session.url, "session_id": session.id,
               "artifacts": artifacts("flow"), "files": files(dir.path()),
               "tmp": dir.path().join("videos"), "organization": organization,
               "callback": CALLBACK, "passport": true, "expect": "Approved",
               "images": {"document": passport_file, "face": astronaut}}),
    )
    .await
    else {
        return;
    };
    eprintln!("{infos:?}");
    // What the page showed is what the API says the engines found.
    let decision = decision_of(&app, &session.id).await;
    assert_eq!(decision["status"], "Approved", "{decision}");
    let id = &decision["id_verifications"][0];
    assert_eq!(id["status"], "Approved", "{id}");
    assert_eq!(
        id["document_number"],
        truth.document_number.as_str(),
        "{id}"
    );
    assert_eq!(id["last_name"], truth.surname.as_str(), "{id}");
    let liveness = &decision["liveness_checks"][0];
    assert_eq!(liveness["method"], "PASSIVE");
    assert_eq!(liveness["status"], "Approved", "{liveness}");
    let matched = &decision["face_matches"][0];
    assert_eq!(matched["status"], "Approved", "{matched}");
    assert!(matched["source_image"]
        .as_str()
        .unwrap()
        .ends_with("/media/document_portrait/"));
}

#[tokio::test]
async fn an_active_liveness_challenge_filmed_from_a_still_photo_is_declined_in_the_browser() {
    let Some((app, astronaut)) = crate::face::face_app().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let workflow_id = live_workflow(
        &app,
        "Head turns",
        json!([{"feature": "LIVENESS", "config": {"face_liveness_method": "ACTIVE_3D"}}]),
    )
    .await;
    let organization = organization_name(&app, &app.live).await;
    let session = create(&app, &app.live, json!({"workflow_id": workflow_id})).await;
    let Some(infos) = browser(
        &app,
        json!({"mode": "active", "url": session.url, "session_id": session.id,
               "artifacts": artifacts("flow"), "files": files(dir.path()),
               "tmp": dir.path().join("videos"), "organization": organization,
               "callback": CALLBACK, "expect": "Declined", "images": {"face": astronaut}}),
    )
    .await
    else {
        return;
    };
    let steps = infos
        .iter()
        .find_map(|i| i.strip_prefix("challenge="))
        .unwrap()
        .to_owned();
    let decision = decision_of(&app, &session.id).await;
    let liveness = &decision["liveness_checks"][0];
    assert_eq!(liveness["method"], "ACTIVE_3D", "{liveness}");
    assert_eq!(liveness["status"], "Declined", "{liveness}");
    assert!(
        crate::face::risks(&liveness["warnings"]).contains(&"LIVENESS_FACE_ATTACK".to_owned()),
        "{liveness}"
    );
    // The page filmed the challenge the server drew, at about five frames a second.
    let challenge = &liveness["active_challenge"];
    let drawn: Vec<&str> = challenge["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s.as_str().unwrap())
        .collect();
    assert_eq!(drawn.join(","), steps);
    assert!(challenge["frames"].as_u64().unwrap() >= 30, "{challenge}");
}
