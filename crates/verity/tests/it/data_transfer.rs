//! Data-transfer sessions (seed 004): the API over HTTP, and the person's page end to end in
//! Debian's Chromium (tests/browser, playwright-core), with codes read from a real SMTP server.

use crate::browser::run_script;
use crate::helpers::{spawn_app, spawn_app_with, AppCreds, TestApp};
use crate::smtp::{smtp_config, start_smtp_server, Inbox};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use verity::config::Config;
use verity_domain::account::ApplicationMetadata;
use verity_domain::data_transfer::TrustedIssuers;
use verity_domain::ids::OrganizationId;
use verity_domain::session::Environment;

const PERSON: &str = "ana.garcia@verity.test";
/// A 1×1 PNG.
const PORTRAIT: &str =
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=";

async fn spawn_with_mail(customize: impl FnOnce(&mut Config)) -> (TestApp, Inbox) {
    let (port, inbox) = start_smtp_server();
    let app = spawn_app_with(|config| {
        config.smtp = Some(smtp_config(port));
        customize(config);
    })
    .await;
    (app, inbox)
}

/// A live application of a new organization: the business asking for the data.
async fn requester(app: &TestApp, organization: &str) -> AppCreds {
    requester_in(app, organization, Environment::Live).await
}

async fn requester_in(app: &TestApp, organization: &str, environment: Environment) -> AppCreds {
    let org = app.store.create_organization(organization).await.unwrap();
    application_in(app, org.id, environment).await
}

async fn application_in(
    app: &TestApp,
    organization: OrganizationId,
    environment: Environment,
) -> AppCreds {
    let (application, credentials) = app
        .store
        .create_application(
            organization,
            &ApplicationMetadata::named("Onboarding"),
            environment,
        )
        .await
        .unwrap();
    AppCreds {
        id: application.id,
        api_key: credentials.api_key,
        client_id: credentials.client_id,
        client_secret: credentials.client_secret,
        default_workflow_id: credentials.default_workflow_id,
    }
}

/// An Approved session of `business` (so of its own organization) whose person gave `PERSON`
/// and a phone as contact details and a portrait, which a face match approved. Test setup
/// stands in for the engines: the status and the FACE_MATCH result are written directly, and no
/// reviewer touched the session (a hand-approved one is never shared).
async fn approved_person(app: &TestApp, business: &AppCreds) -> String {
    let (status, created) = app
        .post(
            "/v3/session/",
            &business.api_key,
            json!({
                "workflow_id": business.default_workflow_id,
                "contact_details": {"email": "Ana.Garcia@verity.test", "phone": "+34600111222"},
                "portrait_image": PORTRAIT,
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["session_id"].as_str().unwrap().to_owned();
    app.force_status(&id, "Approved").await;
    app.execute_sql(
        "INSERT INTO feature_results (session_id, node_id, feature, status, payload, updated_at) \
         VALUES ($1, 'feature_face_match', 'FACE_MATCH', 'Approved', '{}', 0)",
        &[&id],
    )
    .await;
    id
}

/// Seed 004's request as written: `POST /auth/v2/session`, Bearer client token, JSON body.
async fn seed004_create(app: &TestApp, token: &str, body: Value) -> (StatusCode, Value) {
    let response = app
        .client
        .post(format!("{}/auth/v2/session", app.base))
        .header("Content-Type", "application/json")
        .header("Authorization", format!("Bearer {token}"))
        .body(body.to_string())
        .send()
        .await
        .unwrap();
    let status = response.status();
    (status, response.json().await.unwrap())
}

async fn bearer_get(app: &TestApp, path: &str, token: &str) -> (StatusCode, Value) {
    app.bearer(Method::GET, path, token, None).await
}

#[tokio::test]
async fn seed004_request_creates_a_session_and_bad_scopes_are_field_errors() {
    let app = spawn_app().await;
    let business = requester(&app, "Acme Lending").await;
    let token = app.client_token(&business).await;
    let (status, body) = seed004_create(
        &app,
        &token,
        json!({"scope": "pictures names email", "vendor_data": "optional-vendor-data"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let keys: Vec<&str> = body
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, ["session_id", "session_token", "url"]);
    let id = body["session_id"].as_str().unwrap();
    let session_token = body["session_token"].as_str().unwrap();
    assert_eq!(
        body["url"],
        format!("{}/authorize/{session_token}", app.base)
    );

    // The status, with the Data-Session-Token header Didit's demo sends, and without it.
    let response = app
        .client
        .get(format!("{}/auth/v2/session/{id}/status/", app.base))
        .bearer_auth(&token)
        .header("Data-Session-Token", session_token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let status_body: Value = response.json().await.unwrap();
    assert_eq!(status_body["status"], "pending");
    assert_eq!(status_body["scope"], "names email pictures");
    assert_eq!(status_body["vendor_data"], "optional-vendor-data");
    let response = app
        .client
        .get(format!("{}/auth/v2/session/{id}/status/", app.base))
        .bearer_auth(&token)
        .header("Data-Session-Token", "not-the-token")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let (status, decision) =
        bearer_get(&app, &format!("/auth/v2/session/{id}/decision/"), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(decision["data"], Value::Null);
    assert_eq!(decision["status"], "pending");

    // An API key works too (spec §2.12 row 8), with the trailing slash.
    let (status, body) = app
        .post(
            "/auth/v2/session/",
            &business.api_key,
            json!({"scope": "phone"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    // Bad bodies: DRF field errors, never a session.
    for (body, field, message) in [
        (
            json!({"scope": "names salary"}),
            "scope",
            "Unknown scope \"salary\". Valid scopes: names, email, phone, birthdate, nationality, address, document, pictures.",
        ),
        (json!({"scope": "  "}), "scope", "This field may not be blank."),
        (json!({}), "scope", "This field is required."),
        (json!({"scope": 5}), "scope", "Not a valid string."),
        (json!({"scope": "names", "extra": 1}), "extra", "Unknown field."),
    ] {
        let (status, answer) = seed004_create(&app, &token, body.clone()).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(answer, json!({field: [message]}), "{body}");
    }

    // Credentials: none → 403, a forged token → 401, another application's ids → 404.
    let response = app
        .client
        .post(format!("{}/auth/v2/session", app.base))
        .json(&json!({"scope": "names"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let (status, _) = seed004_create(&app, "forged.token.value", json!({"scope": "names"})).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let other = app.client_token(&app.live).await;
    for path in [
        format!("/auth/v2/session/{id}/status/"),
        format!("/auth/v2/session/{id}/decision/"),
        format!("/auth/v2/session/{id}/status"),
        format!("/auth/v2/session/{id}/media/portrait_image/"),
        "/auth/v2/session/not-a-uuid/status/".to_owned(),
    ] {
        let (status, _) = bearer_get(&app, &path, &other).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
        let (status, _) = app.get(&path, &app.live.api_key).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}");
    }
}

/// Runs tests/browser/data_transfer.js against the page, answering its questions for codes
/// from the inbox. `None` when the browser test cannot run here (and it is not required).
async fn drive_browser(app: &TestApp, inbox: &Inbox, options: Value) -> Option<()> {
    let args = [app.base.clone(), options.to_string()];
    run_script("data_transfer.js", &args, |question| {
        let inbox = inbox.clone();
        async move {
            let code = inbox.code_before(PERSON, " is your code to share").await;
            match question.as_str() {
                "code" => code,
                // Any other six digits: the right code with its last digit changed.
                "code-wrong" => {
                    let last = code.as_bytes()[5] - b'0';
                    format!("{}{}", &code[..5], (last + 1) % 10)
                }
                other => panic!("unexpected question from the browser script: {other}"),
            }
        }
    })
    .await
    .map(|_| ())
}

fn artifacts() -> String {
    crate::browser::artifacts("data-transfer")
}

#[tokio::test]
async fn a_person_proves_ownership_in_chromium_and_consents_or_refuses() {
    let (app, inbox) = spawn_with_mail(|_| {}).await;
    let business = requester(&app, "Acme Lending").await;
    approved_person(&app, &business).await;
    let token = app.client_token(&business).await;

    // Consent: seed 004's literal scope.
    let (status, created) = seed004_create(
        &app,
        &token,
        json!({"scope": "pictures names email", "vendor_data": "optional-vendor-data"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["session_id"].as_str().unwrap().to_owned();
    let ran = drive_browser(
        &app,
        &inbox,
        json!({
            "url": created["url"], "email": PERSON, "answer": "consent", "organization": "Acme Lending",
            "expect": ["Ana.Garcia@verity.test", "Not available", "Portrait"],
            "absent": ["+34600111222"],
            "headings": ["Name", "E-mail address", "Pictures"], "pictures": 1,
            "artifacts": artifacts(),
        }),
    )
    .await;
    if ran.is_none() {
        return;
    }
    let messages = inbox.messages_to(PERSON);
    assert_eq!(messages.len(), 1, "one code mailed");
    assert!(messages[0].data.contains("with Acme Lending"));

    let (status, body) = bearer_get(&app, &format!("/auth/v2/session/{id}/status/"), &token).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "confirmed");
    let (_, decision) = bearer_get(&app, &format!("/auth/v2/session/{id}/decision/"), &token).await;
    let picture = format!("{}/auth/v2/session/{id}/media/portrait_image/", app.base);
    assert_eq!(
        decision["data"],
        json!({
            "names": {"first_name": null, "last_name": null, "full_name": null},
            "email": {"email": "Ana.Garcia@verity.test", "is_verified": false},
            "pictures": {"portrait_image": picture},
        })
    );
    assert_eq!(decision["status"], "confirmed");
    assert!(decision["decided_at"].is_string());

    // The picture is the business's own copy, fetched with its own credentials.
    let response = app
        .client
        .get(&picture)
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "image/png");
    use base64::Engine;
    assert_eq!(
        response.bytes().await.unwrap().to_vec(),
        base64::engine::general_purpose::STANDARD
            .decode(PORTRAIT)
            .unwrap()
    );
    let response = app
        .client
        .get(&picture)
        .header("x-api-key", &app.live.api_key)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::NOT_FOUND,
        "another application's key"
    );

    // Refuse: another transfer, another scope set; nothing is shared.
    let (_, created) = seed004_create(&app, &token, json!({"scope": "phone email"})).await;
    let refused = created["session_id"].as_str().unwrap().to_owned();
    drive_browser(
        &app,
        &inbox,
        json!({
            "url": created["url"], "email": PERSON, "answer": "refuse", "organization": "Acme Lending",
            "expect": ["+34600111222", "Ana.Garcia@verity.test"], "absent": [],
            "headings": ["E-mail address", "Phone number"], "pictures": 0,
            "artifacts": artifacts(),
        }),
    )
    .await
    .expect("ran before");
    let (_, decision) = bearer_get(
        &app,
        &format!("/auth/v2/session/{refused}/decision/"),
        &token,
    )
    .await;
    assert_eq!(decision["status"], "declined");
    assert_eq!(decision["data"], Value::Null);
    let (status, _) = bearer_get(
        &app,
        &format!("/auth/v2/session/{refused}/media/portrait_image/"),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

/// Posts a form to the page and answers the status, body and `Set-Cookie`.
async fn post_form(
    app: &TestApp,
    path: &str,
    fields: &[(&str, &str)],
    cookie: Option<&str>,
) -> (StatusCode, String, Option<String>) {
    let mut request = app.client.post(format!("{}{path}", app.base)).form(fields);
    if let Some(cookie) = cookie {
        request = request.header("cookie", cookie);
    }
    let response = request.send().await.unwrap();
    let status = response.status();
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_owned());
    (status, response.text().await.unwrap(), cookie)
}

async fn create_transfer(app: &TestApp, business: &AppCreds, scope: &str) -> (String, String) {
    let (status, created) = app
        .post(
            "/auth/v2/session/",
            &business.api_key,
            json!({"scope": scope}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let url = created["url"].as_str().unwrap();
    (
        created["session_id"].as_str().unwrap().to_owned(),
        url.strip_prefix(&app.base).unwrap().to_owned(),
    )
}

#[tokio::test]
async fn wrong_used_up_and_expired_codes_are_refused_and_only_the_proving_browser_answers() {
    let (app, inbox) = spawn_with_mail(|_| {}).await;
    let business = requester(&app, "Acme Lending").await;
    approved_person(&app, &business).await;
    let (id, page) = create_transfer(&app, &business, "email").await;

    let (status, _, _) =
        post_form(&app, &format!("{page}/email"), &[("email", "nope")], None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) =
        post_form(&app, &format!("{page}/email"), &[("email", PERSON)], None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let code = inbox.code_before(PERSON, " is your code to share").await;
    // Within the cooldown no second code is sent.
    let (status, html, _) =
        post_form(&app, &format!("{page}/email"), &[("email", PERSON)], None).await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(html.contains("You can ask for another in"), "{html}");
    assert_eq!(inbox.messages_to(PERSON).len(), 1);

    let wrong = if code == "000000" { "111111" } else { "000000" };
    let (status, html, _) =
        post_form(&app, &format!("{page}/code"), &[("code", "12ab")], None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("The code has 6 digits."));
    // Five wrong guesses use the code up: the right one no longer works.
    for _ in 0..5 {
        let (status, html, _) =
            post_form(&app, &format!("{page}/code"), &[("code", wrong)], None).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert!(html.contains("That code is not valid."));
    }
    let (status, _, cookie) =
        post_form(&app, &format!("{page}/code"), &[("code", &code)], None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(cookie.is_none());

    // Answering without having proven ownership (the business knows the link too) is refused.
    let (status, html, _) = post_form(
        &app,
        &format!("{page}/answer"),
        &[("answer", "consent")],
        Some("vt_x=forged"),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{html}");

    // An address that matches no verified identity: the page answers alike, no mail is sent,
    // and no code can prove anything.
    let (_, other_page) = create_transfer(&app, &business, "email").await;
    let (status, _, _) = post_form(
        &app,
        &format!("{other_page}/email"),
        &[("email", "nobody@verity.test")],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(inbox.messages_to("nobody@verity.test").is_empty());

    let (status, body) = app
        .get(&format!("/auth/v2/session/{id}/status/"), &business.api_key)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "in_progress");

    // A code that is already expired when it is checked (lifetime 0).
    let (app, inbox) = spawn_with_mail(|config| config.accounts.code_ttl_seconds = 0).await;
    let business = requester(&app, "Acme Lending").await;
    approved_person(&app, &business).await;
    let (_, page) = create_transfer(&app, &business, "email").await;
    post_form(&app, &format!("{page}/email"), &[("email", PERSON)], None).await;
    let code = inbox.code_before(PERSON, " is your code to share").await;
    let (status, html, cookie) =
        post_form(&app, &format!("{page}/code"), &[("code", &code)], None).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(html.contains("That code has expired."), "{html}");
    assert!(cookie.is_none());
}

#[tokio::test]
async fn the_page_is_secured_translated_and_says_when_mail_is_disabled() {
    let app = spawn_app().await;
    let business = requester(&app, "Acme <Lending>").await;
    let (_, page) = create_transfer(&app, &business, "names").await;
    let response = app
        .client
        .get(format!("{}{page}", app.base))
        .header("accept-language", "es-ES,es;q=0.9")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let headers = response.headers().clone();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    assert!(csp.contains("frame-ancestors 'none'"));
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(headers["referrer-policy"], "no-referrer");
    let html = response.text().await.unwrap();
    assert!(html.contains("<html lang=\"es\">"));
    assert!(html.contains("Este servidor no puede enviar correos"));
    assert!(html.contains("Acme &lt;Lending&gt;") && !html.contains("Acme <Lending>"));

    let (status, html, _) =
        post_form(&app, &format!("{page}/email"), &[("email", PERSON)], None).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert!(html.contains("cannot send e-mail"));

    // The path's language wins over the header; unknown links are 404 pages.
    let response = app
        .client
        .get(format!("{}/en{page}", app.base))
        .header("accept-language", "es")
        .send()
        .await
        .unwrap();
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("<html lang=\"en\">"));
    let response = app
        .client
        .get(format!("{}/authorize/AAAAAAAAAAAA", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("This link is not valid."));

    // Assets are embedded and versioned.
    let response = app
        .client
        .get(format!("{}/assets/pages.css", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/css; charset=utf-8"
    );
}

/// The stored media kinds of a session (test inspection, read only).
async fn media_kinds(app: &TestApp, session_id: &str) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let kinds: Vec<String> =
        sqlx::query_scalar("SELECT kind FROM media WHERE session_id = $1 ORDER BY kind")
            .bind(session_id)
            .fetch_all(&pool)
            .await
            .unwrap();
    pool.close().await;
    kinds
}

#[tokio::test]
async fn a_verified_sandbox_identity_is_shared_with_exactly_the_consented_scopes() {
    let (app, inbox) = spawn_with_mail(|_| {}).await;
    // The business's sandbox application; its organization verified the person before.
    let business = requester_in(&app, "Acme Lending", Environment::Sandbox).await;
    // The person: a sandbox session that went through the hosted flow and the pipeline.
    let source = app
        .complete_sandbox_session(
            &business.api_key,
            json!({"workflow_id": business.default_workflow_id, "vendor_data": "person-1",
                   "contact_details": {"email": PERSON, "phone": "+34600111222"}}),
        )
        .await;
    assert_eq!(source["status"], "Approved", "{source}");
    let source_id = source["session_id"].as_str().unwrap().to_owned();
    let id = source["id_verifications"][0].clone();
    for key in [
        "first_name",
        "last_name",
        "date_of_birth",
        "nationality",
        "document_number",
    ] {
        assert!(id[key].is_string(), "{key}: {id}");
    }

    // A live application, even of the same organization, does not see sandbox identities: the
    // code never comes.
    let organization = app
        .store
        .application(business.id)
        .await
        .unwrap()
        .organization_id;
    let live_business = application_in(&app, organization, Environment::Live).await;
    let (_, live_page) = create_transfer(&app, &live_business, "names").await;
    let (status, _, _) = post_form(
        &app,
        &format!("{live_page}/email"),
        &[("email", PERSON)],
        None,
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    assert!(inbox.messages_to(PERSON).is_empty());

    // The business asks for six scopes.
    let token = app.client_token(&business).await;
    let (status, created) = seed004_create(
        &app,
        &token,
        json!({"scope": "pictures document_detail nationality birthdate names email", "vendor_data": "applicant-7"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let transfer = created["session_id"].as_str().unwrap().to_owned();

    let pictures: Vec<String> = media_kinds(&app, &source_id)
        .await
        .into_iter()
        .filter(|k| {
            [
                "portrait_image",
                "selfie",
                "document_front",
                "document_back",
            ]
            .contains(&k.as_str())
        })
        .collect();
    assert!(!pictures.is_empty());
    let text = |key: &str| id[key].as_str().unwrap().to_owned();
    let ran = drive_browser(
        &app,
        &inbox,
        json!({
            "url": created["url"], "email": PERSON, "answer": "consent", "organization": "Acme Lending",
            "expect": [text("first_name"), text("last_name"), text("date_of_birth"), text("document_number"), PERSON],
            "absent": ["+34600111222"],
            "headings": ["Name", "E-mail address", "Date of birth", "Nationality", "Identity document", "Pictures"],
            "pictures": pictures.len(),
            "artifacts": format!("{}/sandbox", artifacts()),
        }),
    )
    .await;
    if ran.is_none() {
        return;
    }
    let (status, decision) = bearer_get(
        &app,
        &format!("/auth/v2/session/{transfer}/decision/"),
        &token,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(decision["status"], "confirmed", "{decision}");
    assert_eq!(
        decision["scope"],
        "names email birthdate nationality document pictures"
    );

    let pick = |fields: &[&str]| -> Value {
        fields
            .iter()
            .map(|f| (f.to_string(), id.get(*f).cloned().unwrap_or(Value::Null)))
            .collect::<serde_json::Map<_, _>>()
            .into()
    };
    let verified_email = source["email_verifications"][0]["status"] == "Approved";
    let email = if verified_email {
        json!({"email": source["email_verifications"][0]["email"], "is_verified": true})
    } else {
        json!({"email": PERSON, "is_verified": false})
    };
    let picture_urls: serde_json::Map<String, Value> = pictures
        .iter()
        .map(|k| {
            (
                k.clone(),
                json!(format!(
                    "{}/auth/v2/session/{transfer}/media/{k}/",
                    app.base
                )),
            )
        })
        .collect();
    assert_eq!(
        decision["data"],
        json!({
            "names": pick(&["first_name", "last_name", "full_name"]),
            "email": email,
            "birthdate": pick(&["date_of_birth"]),
            "nationality": pick(&["nationality"]),
            "document": pick(&["document_type", "document_number", "personal_number", "issuing_state",
                               "issuing_state_name", "date_of_issue", "expiration_date"]),
            "pictures": picture_urls,
        })
    );
    // Nothing of the source session's own identifiers or media links leaves.
    assert!(!decision.to_string().contains(&source_id));

    // Each picture is the business's copy of the source's bytes.
    for kind in &pictures {
        let copy = app
            .client
            .get(format!(
                "{}/auth/v2/session/{transfer}/media/{kind}/",
                app.base
            ))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(copy.status(), StatusCode::OK, "{kind}");
        let copy = copy.bytes().await.unwrap();
        let name = if kind == "portrait_image" {
            "portrait"
        } else {
            kind
        };
        let original = app
            .client
            .get(format!("{}/v3/session/{source_id}/media/{name}/", app.base))
            .header("x-api-key", &business.api_key)
            .send()
            .await
            .unwrap();
        assert_eq!(original.status(), StatusCode::OK, "{kind}");
        assert_eq!(copy, original.bytes().await.unwrap(), "{kind}");
    }
}

/// The session an ownership code was issued for: the source the typed address matched, or none
/// (test inspection, read only: the page answers alike either way).
async fn code_candidate(app: &TestApp, transfer: &str) -> Option<String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let candidate: Option<Option<String>> = sqlx::query_scalar(
        "SELECT candidate_session_id FROM data_transfer_codes WHERE transfer_id = $1",
    )
    .bind(transfer)
    .fetch_optional(&pool)
    .await
    .unwrap();
    pool.close().await;
    candidate.flatten()
}

/// Types `email` on a new transfer of `business`: the source session it matched, if any.
async fn source_matched(app: &TestApp, business: &AppCreds, email: &str) -> Option<String> {
    let (id, page) = create_transfer(app, business, "names").await;
    let (status, _, _) = post_form(app, &format!("{page}/email"), &[("email", email)], None).await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    code_candidate(app, &id).await
}

/// A sandbox session of `issuer` decided by the pipeline, with `email` as contact address.
async fn engine_decided(app: &TestApp, issuer: &AppCreds, email: &str, extra: Value) -> Value {
    let mut body =
        json!({"workflow_id": issuer.default_workflow_id, "contact_details": {"email": email}});
    body.as_object_mut()
        .unwrap()
        .extend(extra.as_object().cloned().unwrap_or_default());
    app.complete_sandbox_session(&issuer.api_key, body).await
}

#[tokio::test]
async fn another_organizations_identity_is_shared_only_from_a_trusted_issuer() {
    let issuer = OrganizationId::random();
    for trusted in [false, true] {
        let (app, _inbox) = spawn_with_mail(|config| {
            if trusted {
                config.data_transfer.trusted_issuers = TrustedIssuers::new(vec![issuer]);
            }
        })
        .await;
        // The issuing organization, with the id the configuration names.
        app.execute_sql(
            "INSERT INTO organizations (id, name, contact_email, created_at) \
             VALUES ($1, 'Issuer Bank', NULL, 0)",
            &[&issuer.to_string()],
        )
        .await;
        let issuing = application_in(&app, issuer, Environment::Sandbox).await;
        let source = engine_decided(&app, &issuing, PERSON, json!({})).await;
        assert_eq!(source["status"], "Approved", "{source}");
        let source_id = source["session_id"].as_str().map(str::to_owned);
        // Another application of the issuer's own organization is always served.
        let sibling = application_in(&app, issuer, Environment::Sandbox).await;
        assert_eq!(source_matched(&app, &sibling, PERSON).await, source_id);
        // Another organization's business only when the operator trusts the issuer.
        let business = requester_in(&app, "Acme Lending", Environment::Sandbox).await;
        let expected = if trusted { source_id } else { None };
        assert_eq!(
            source_matched(&app, &business, PERSON).await,
            expected,
            "issuer trusted: {trusted}"
        );
    }
}

#[tokio::test]
async fn a_session_approved_or_edited_by_hand_is_never_a_source() {
    let (app, _inbox) = spawn_with_mail(|_| {}).await;
    let business = requester_in(&app, "Acme Lending", Environment::Sandbox).await;

    // The pipeline put it In Review; a reviewer approved it through update-status.
    let reviewed = engine_decided(
        &app,
        &business,
        "reviewed@verity.test",
        json!({"sandbox_scenario": "review_face_match_borderline"}),
    )
    .await;
    assert_eq!(reviewed["status"], "In Review", "{reviewed}");
    let id = reviewed["session_id"].as_str().unwrap();
    let (status, body) = app
        .patch(
            &format!("/v3/session/{id}/update-status/"),
            &business.api_key,
            json!({"new_status": "Approved", "comment": "looks fine"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        source_matched(&app, &business, "reviewed@verity.test").await,
        None
    );

    // Approved by the engines: a source, until update-data rewrites its document.
    let approved = engine_decided(&app, &business, PERSON, json!({})).await;
    assert_eq!(approved["status"], "Approved", "{approved}");
    let id = approved["session_id"].as_str().unwrap();
    assert_eq!(
        source_matched(&app, &business, PERSON).await.as_deref(),
        Some(id)
    );
    let (status, body) = app
        .patch(
            &format!("/v3/session/{id}/update-data/"),
            &business.api_key,
            json!({"last_name": "Impostor", "document_number": "Z0000000"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(source_matched(&app, &business, PERSON).await, None);
}
