//! Programmatic registration, login and the account API (spec §3.1, §2.1), against a real SMTP
//! server (mailin-embedded) listening on 127.0.0.1: the codes are read from delivered messages.

use crate::helpers::{spawn_app, spawn_app_with, TestApp};
use crate::smtp::{smtp_config, start_smtp_server, Inbox};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::time::Duration;
use verity::config::Config;

const PASSWORD: &str = "Str0ng!pass";

/// A server that mails through a local SMTP server. The per-IP budget is raised (every test
/// client is 127.0.0.1) except where `customize` sets it.
async fn spawn_with_mail(customize: impl FnOnce(&mut Config)) -> (TestApp, Inbox) {
    let (port, inbox) = start_smtp_server();
    let app = spawn_app_with(|config| {
        config.smtp = Some(smtp_config(port));
        config.accounts.requests_per_ip_per_hour = 1000;
        customize(config);
    })
    .await;
    (app, inbox)
}

async fn post(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    app.request(Method::POST, path, None, Some(body)).await
}

async fn register(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    post(
        app,
        "/auth/v2/programmatic/register/",
        json!({"email": email, "password": password}),
    )
    .await
}

async fn verify(app: &TestApp, email: &str, code: &str) -> (StatusCode, Value) {
    post(
        app,
        "/auth/v2/programmatic/verify-email/",
        json!({"email": email, "code": code}),
    )
    .await
}

async fn login(app: &TestApp, email: &str, password: &str) -> (StatusCode, Value) {
    post(
        app,
        "/auth/v2/programmatic/login/",
        json!({"email": email, "password": password}),
    )
    .await
}

/// Registers and verifies `email`; the verify-email answer.
async fn verified_account(app: &TestApp, inbox: &Inbox, email: &str) -> Value {
    let (status, body) = register(app, email, PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, body) = verify(app, email, &inbox.latest_code(email)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// A raw POST, for status, headers and body together.
async fn post_raw(app: &TestApp, path: &str, body: Value) -> reqwest::Response {
    app.client
        .post(format!("{}{path}", app.base))
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The `Retry-After` seconds of a refusal.
fn retry_after(response: &reqwest::Response) -> u64 {
    response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn column_values(app: &TestApp, sql: &str) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let values = sqlx::query_scalar(sql).fetch_all(&pool).await.unwrap();
    pool.close().await;
    values
}

#[tokio::test]
async fn register_verify_login_and_manage_applications() {
    let (app, inbox) = spawn_with_mail(|_| {}).await;
    let email = "alice@verity.test";

    let (status, body) = register(&app, "Alice@Verity.test", PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(
        body,
        json!({"message": "Registration successful. A verification code has been sent to your email.", "email": email})
    );
    let messages = inbox.messages_to(email);
    assert_eq!(messages.len(), 1);
    assert!(messages[0]
        .data
        .contains("From: Verity <no-reply@verity.test>"));
    let code = inbox.latest_code(email);
    assert!(
        code.len() == 6
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()),
        "{code}"
    );

    // Only an argon2id hash of the password and a keyed digest of the code are stored.
    let hashes = column_values(&app, "SELECT password_hash FROM users").await;
    assert!(hashes[0].starts_with("$argon2id$v=19$") && !hashes[0].contains(PASSWORD));
    let digests = column_values(&app, "SELECT code_digest FROM email_codes").await;
    assert!(digests[0].len() == 64 && !digests[0].contains(&code));

    // Before verification there is no way in.
    let (status, _) = login(&app, email, PASSWORD).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // The code is case-insensitive; the answer carries the console tokens and the key, once.
    let response = post_raw(
        &app,
        "/auth/v2/programmatic/verify-email/",
        json!({"email": email, "code": code.to_lowercase()}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    let verified: Value = response.json().await.unwrap();
    assert_eq!(verified["expires_in"], 86400);
    assert!(verified["access_token"].as_str().unwrap().len() > 100);
    assert!(verified["refresh_token"].is_string());
    assert_eq!(verified["organization"]["name"], email);
    let org_id = verified["organization"]["uuid"]
        .as_str()
        .unwrap()
        .to_owned();
    let application = &verified["application"];
    assert_eq!(application["name"], format!("{email} App"));
    assert_eq!(application["environment"], "live");
    let api_key = application["api_key"].as_str().unwrap().to_owned();
    let app_id = application["uuid"].as_str().unwrap().to_owned();
    assert_eq!(
        column_values(&app, "SELECT user_id FROM email_codes")
            .await
            .len(),
        0
    );

    // The key works on the verification API: the application starts with the four templates.
    let (status, workflows) = app.get("/v3/workflows/", &api_key).await;
    assert_eq!(status, StatusCode::OK, "{workflows}");
    assert_eq!(workflows.as_array().unwrap().len(), 4);
    // The client secret works for OAuth client credentials.
    let response = app
        .client
        .post(format!("{}/auth/v2/token/", app.base))
        .basic_auth(
            application["client_id"].as_str().unwrap(),
            application["client_secret"].as_str(),
        )
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);

    // A code verifies once.
    let (status, _) = verify(&app, email, &code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // The address is taken now.
    let (status, body) = register(&app, email, PASSWORD).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"email": ["An account with this email already exists."]})
    );

    let (status, session) = login(&app, "ALICE@verity.test", PASSWORD).await;
    assert_eq!(status, StatusCode::OK, "{session}");
    assert_eq!(session["message"], "Login successful.");
    assert_eq!(session["expires_in"], 86400);
    let token = session["access_token"].as_str().unwrap().to_owned();

    let (status, orgs) = app
        .bearer(Method::GET, "/auth/v2/organizations/me/", &token, None)
        .await;
    assert_eq!(status, StatusCode::OK, "{orgs}");
    assert_eq!(orgs.as_array().unwrap().len(), 1);
    assert_eq!(orgs[0]["uuid"], org_id.as_str());
    assert_eq!(orgs[0]["contact_email"], email);
    assert!(orgs[0]["created_at"].as_str().unwrap().ends_with('Z'));

    let apps_path = format!("/auth/v2/organizations/me/{org_id}/applications/");
    let (status, list) = app.bearer(Method::GET, &apps_path, &token, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["uuid"], app_id.as_str());
    assert_eq!(list[0]["api_key"], Value::Null, "keys are shown only once");

    // Create: defaults from the organization's name, secrets shown once.
    let (status, created) = app
        .bearer(Method::POST, &apps_path, &token, Some(json!({})))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["name"], format!("{email} App"));
    let second_key = created["api_key"].as_str().unwrap().to_owned();
    assert!(created["client_secret"].is_string());
    let (status, _) = app.get("/v3/workflows/", &second_key).await;
    assert_eq!(status, StatusCode::OK);

    let (status, created) = app
        .bearer(
            Method::POST,
            &apps_path,
            &token,
            Some(json!({
                "name": "Checkout",
                "website_url": "https://shop.verity.test",
                "redirect_uris": ["https://shop.verity.test/done", "shopapp://done"],
                "description": "KYC at checkout",
            })),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["name"], "Checkout");
    assert_eq!(created["redirect_uris"][1], "shopapp://done");
    let checkout_id = created["uuid"].as_str().unwrap().to_owned();
    let checkout_path = format!("{apps_path}{checkout_id}/");

    let (status, fetched) = app.bearer(Method::GET, &checkout_path, &token, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched["website_url"], "https://shop.verity.test");
    assert_eq!(fetched["api_key"], Value::Null);
    assert_eq!(fetched["client_id"], created["client_id"]);

    let (status, patched) = app
        .bearer(
            Method::PATCH,
            &checkout_path,
            &token,
            Some(json!({"name": "Checkout EU", "website_url": null, "terms_url": "https://shop.verity.test/terms"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["name"], "Checkout EU");
    assert_eq!(patched["website_url"], Value::Null);
    assert_eq!(patched["terms_url"], "https://shop.verity.test/terms");
    assert_eq!(patched["description"], "KYC at checkout", "untouched");
    assert_eq!(
        patched["client_id"], created["client_id"],
        "keys never rotate here"
    );
    let (status, _) = app.get("/v3/workflows/", &second_key).await;
    assert_eq!(status, StatusCode::OK);

    let (status, errors) = app
        .bearer(
            Method::PATCH,
            &checkout_path,
            &token,
            Some(json!({"privacy_url": "not a url", "api_key": "x"})),
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        errors,
        json!({"privacy_url": ["Enter a valid URL."], "api_key": ["Unknown field."]})
    );

    let (_, list) = app.bearer(Method::GET, &apps_path, &token, None).await;
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            format!("{email} App").as_str(),
            &format!("{email} App"),
            "Checkout EU"
        ]
    );
}

#[tokio::test]
async fn another_organizations_applications_are_not_found() {
    let (app, inbox) = spawn_with_mail(|_| {}).await;
    let bob = verified_account(&app, &inbox, "bob@verity.test").await;
    let carol = verified_account(&app, &inbox, "carol@verity.test").await;
    let bob_org = bob["organization"]["uuid"].as_str().unwrap();
    let bob_app = bob["application"]["uuid"].as_str().unwrap();
    let carol_org = carol["organization"]["uuid"].as_str().unwrap();
    let carol_token = carol["access_token"].as_str().unwrap();

    let (_, orgs) = app
        .bearer(Method::GET, "/auth/v2/organizations/me/", carol_token, None)
        .await;
    assert_eq!(orgs.as_array().unwrap().len(), 1);
    assert_eq!(orgs[0]["uuid"], carol_org);

    let bootstrap_app = app.live.id.to_string();
    let random = uuid::Uuid::new_v4().to_string();
    let cases: Vec<(Method, String, Option<Value>)> = vec![
        (
            Method::GET,
            format!("/auth/v2/organizations/me/{bob_org}/applications/"),
            None,
        ),
        (
            Method::POST,
            format!("/auth/v2/organizations/me/{bob_org}/applications/"),
            Some(json!({})),
        ),
        (
            Method::GET,
            format!("/auth/v2/organizations/me/{bob_org}/applications/{bob_app}/"),
            None,
        ),
        (
            Method::PATCH,
            format!("/auth/v2/organizations/me/{bob_org}/applications/{bob_app}/"),
            Some(json!({"name": "stolen"})),
        ),
        // Bob's application under Carol's own organization.
        (
            Method::GET,
            format!("/auth/v2/organizations/me/{carol_org}/applications/{bob_app}/"),
            None,
        ),
        (
            Method::PATCH,
            format!("/auth/v2/organizations/me/{carol_org}/applications/{bob_app}/"),
            Some(json!({"name": "stolen"})),
        ),
        // The first start's application, ids that do not exist, ids that are not UUIDs.
        (
            Method::GET,
            format!("/auth/v2/organizations/me/{carol_org}/applications/{bootstrap_app}/"),
            None,
        ),
        (
            Method::GET,
            format!("/auth/v2/organizations/me/{random}/applications/"),
            None,
        ),
        (
            Method::GET,
            format!("/auth/v2/organizations/me/{carol_org}/applications/{random}/"),
            None,
        ),
        (
            Method::GET,
            "/auth/v2/organizations/me/not-a-uuid/applications/".into(),
            None,
        ),
        (
            Method::GET,
            format!("/auth/v2/organizations/me/{carol_org}/applications/not-a-uuid/"),
            None,
        ),
    ];
    for (method, path, body) in cases {
        let (status, answer) = app.bearer(method.clone(), &path, carol_token, body).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{method} {path}: {answer}");
        assert_eq!(answer, json!({"detail": "Not found."}));
    }

    // Bob's application is untouched and Carol still has only her own.
    let bob_token = bob["access_token"].as_str().unwrap();
    let (_, bobs) = app
        .bearer(
            Method::GET,
            &format!("/auth/v2/organizations/me/{bob_org}/applications/{bob_app}/"),
            bob_token,
            None,
        )
        .await;
    assert_eq!(bobs["name"], "bob@verity.test App");
    let (_, carols) = app
        .bearer(
            Method::GET,
            &format!("/auth/v2/organizations/me/{carol_org}/applications/"),
            carol_token,
            None,
        )
        .await;
    assert_eq!(carols.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn user_and_client_tokens_are_not_interchangeable() {
    let (app, inbox) = spawn_with_mail(|_| {}).await;
    let account = verified_account(&app, &inbox, "dave@verity.test").await;
    let user_token = account["access_token"].as_str().unwrap();
    let refresh_token = account["refresh_token"].as_str().unwrap();
    let api_key = account["application"]["api_key"].as_str().unwrap();
    let client_token = app.client_token(&app.live).await;
    let invalid = json!({"detail": "Given token is not valid or has expired."});

    // A client token, a refresh token or an API key is not a console user.
    for token in [client_token.as_str(), refresh_token] {
        let (status, body) = app
            .bearer(Method::GET, "/auth/v2/organizations/me/", token, None)
            .await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(body, invalid);
    }
    let (status, body) = app
        .request(
            Method::GET,
            "/auth/v2/organizations/me/",
            Some(api_key),
            None,
        )
        .await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "the account API refuses API keys"
    );
    assert_eq!(
        body,
        json!({"detail": "Authentication credentials were not provided."})
    );

    // A user token does not act as an application, neither on v1 nor as an API key.
    let (status, body) = app
        .bearer(
            Method::POST,
            "/v1/session/",
            user_token,
            Some(json!({"vendor_data": "u1"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(body, invalid);
    let (status, _) = app
        .bearer(
            Method::GET,
            &format!("/v1/session/{}/decision/", uuid::Uuid::new_v4()),
            user_token,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = app.get("/v3/workflows/", user_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let response = app
        .client
        .post(format!("{}/auth/v2/introspect/", app.base))
        .basic_auth(&app.live.client_id, Some(&app.live.client_secret))
        .form(&[("token", user_token)])
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.json::<Value>().await.unwrap(),
        json!({"active": false})
    );

    // Each works where it belongs.
    let (status, _) = app
        .bearer(Method::GET, "/auth/v2/organizations/me/", user_token, None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .bearer(
            Method::POST,
            "/v1/session/",
            &client_token,
            Some(json!({"vendor_data": "u1"})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

#[tokio::test]
async fn wrong_codes_spend_guesses_and_a_resent_code_replaces_the_old_one() {
    let (app, inbox) = spawn_with_mail(|config| config.accounts.resend_cooldown_seconds = 1).await;
    let email = "erin@verity.test";
    register(&app, email, PASSWORD).await;
    let code = inbox.latest_code(email);
    let wrong = if code == "AAAAAA" { "BBBBBB" } else { "AAAAAA" };
    let invalid = json!({"detail": "Invalid verification code."});

    let (status, body) = verify(&app, email, wrong).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, invalid.clone()));
    let (status, body) = verify(&app, email, "A-1").await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, invalid.clone()));
    let (status, body) = verify(&app, "nobody@verity.test", &code).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, invalid.clone()));
    let (status, body) = post(
        &app,
        "/auth/v2/programmatic/verify-email/",
        json!({"email": "x"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"email": ["Enter a valid email address."], "code": ["This field is required."]})
    );

    // Five wrong guesses in all use the code up: the right one no longer works.
    for _ in 0..4 {
        let (status, _) = verify(&app, email, wrong).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let (status, body) = verify(&app, email, &code).await;
    assert_eq!((status, body), (StatusCode::BAD_REQUEST, invalid.clone()));

    // A new code (after the cooldown) works, and only it.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let (status, body) = post(
        &app,
        "/auth/v2/programmatic/resend-otp/",
        json!({"email": email, "password": PASSWORD}),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    assert_eq!(inbox.messages_to(email).len(), 2);
    let fresh = inbox.latest_code(email);
    if fresh != code {
        let (status, _) = verify(&app, email, &code).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
    }
    let (status, body) = verify(&app, email, &fresh).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[tokio::test]
async fn expired_codes_are_refused() {
    let (app, inbox) = spawn_with_mail(|config| config.accounts.code_ttl_seconds = 1).await;
    let email = "frank@verity.test";
    register(&app, email, PASSWORD).await;
    let code = inbox.latest_code(email);
    assert!(inbox.messages_to(email)[0]
        .data
        .contains("It expires in 1 second."));
    tokio::time::sleep(Duration::from_millis(1200)).await;
    let (status, body) = verify(&app, email, &code).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"detail": "Verification code has expired. Request a new one."})
    );
}

#[tokio::test]
async fn codes_are_resent_at_most_once_a_minute_per_address() {
    let (app, inbox) = spawn_with_mail(|_| {}).await;
    let email = "grace@verity.test";
    register(&app, email, PASSWORD).await;
    for (path, body) in [
        ("/auth/v2/programmatic/resend-otp/", json!({"email": email})),
        // Registering again also sends a code, under the same cooldown.
        (
            "/auth/v2/programmatic/register/",
            json!({"email": email, "password": PASSWORD}),
        ),
    ] {
        let response = post_raw(&app, path, body).await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{path}");
        let retry_after = retry_after(&response);
        assert!((55..=60).contains(&retry_after), "{retry_after}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["detail"],
            format!("Please wait {retry_after} seconds before requesting a new verification code.")
        );
    }
    assert_eq!(inbox.messages_to(email).len(), 1);

    // Unknown or verified addresses get the same empty answer, and no mail.
    let (status, body) = post(
        &app,
        "/auth/v2/programmatic/resend-otp/",
        json!({"email": "nobody@verity.test"}),
    )
    .await;
    assert_eq!((status, body), (StatusCode::OK, json!({})));
    assert!(inbox.messages_to("nobody@verity.test").is_empty());
}

#[tokio::test]
async fn register_and_resend_share_five_calls_per_ip_per_hour() {
    let (app, inbox) = spawn_with_mail(|config| config.accounts.requests_per_ip_per_hour = 5).await;
    let (status, _) = register(&app, "heidi@verity.test", PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED);
    // Refused and invalid calls count as well.
    let (status, _) = register(&app, "heidi@verity.test", "weak").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    for _ in 0..3 {
        let (status, _) = post(
            &app,
            "/auth/v2/programmatic/resend-otp/",
            json!({"email": "someone@verity.test"}),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
    }
    let response = post_raw(
        &app,
        "/auth/v2/programmatic/register/",
        json!({"email": "ivan@verity.test", "password": PASSWORD}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["x-ratelimit-limit"], "5");
    assert!(response.headers().contains_key("retry-after"));
    let body: Value = response.json().await.unwrap();
    assert!(body["detail"]
        .as_str()
        .unwrap()
        .starts_with("Request was throttled"));
    let (status, _) = post(
        &app,
        "/auth/v2/programmatic/resend-otp/",
        json!({"email": "heidi@verity.test"}),
    )
    .await;
    assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    assert!(inbox.messages_to("ivan@verity.test").is_empty());

    // Verification and login are not part of that budget.
    let (status, _) = verify(
        &app,
        "heidi@verity.test",
        &inbox.latest_code("heidi@verity.test"),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = login(&app, "heidi@verity.test", PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn repeated_bad_passwords_lock_the_account_progressively() {
    let (app, inbox) = spawn_with_mail(|_| {}).await;
    let email = "judy@verity.test";
    verified_account(&app, &inbox, email).await;
    let invalid = json!({"detail": "Invalid email or password."});

    for _ in 0..4 {
        let (status, body) = login(&app, email, "Wr0ng!pass").await;
        assert_eq!((status, body), (StatusCode::UNAUTHORIZED, invalid.clone()));
    }
    let (status, body) = login(&app, "nobody@verity.test", PASSWORD).await;
    assert_eq!(
        (status, body),
        (StatusCode::UNAUTHORIZED, invalid.clone()),
        "an unknown address answers like a wrong password"
    );
    // The fifth failure locks for 15 minutes; while locked even the right password is refused.
    for password in ["Wr0ng!pass", PASSWORD] {
        let response = post_raw(
            &app,
            "/auth/v2/programmatic/login/",
            json!({"email": email, "password": password}),
        )
        .await;
        assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
        let retry_after = retry_after(&response);
        assert!((895..=900).contains(&retry_after), "{retry_after}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(
            body["detail"],
            format!("Too many failed login attempts. Try again in {retry_after} seconds.")
        );
    }

    // Once the lock has run out, the right password logs in and clears the count.
    app.execute_sql("UPDATE users SET locked_until = 0", &[])
        .await;
    let (status, _) = login(&app, email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = login(&app, email, "Wr0ng!pass").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "the count starts again");

    // The tenth consecutive failure locks for an hour.
    app.execute_sql("UPDATE users SET failed_logins = 9", &[])
        .await;
    let response = post_raw(
        &app,
        "/auth/v2/programmatic/login/",
        json!({"email": email, "password": "Wr0ng!pass"}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = retry_after(&response);
    assert!((3595..=3600).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn registration_bodies_get_drf_field_errors_and_no_mail() {
    let (app, inbox) = spawn_with_mail(|_| {}).await;
    let email = "ken@verity.test";
    let cases = [
        ("Sh0rt!", "Password must be at least 8 characters long."),
        (
            "n0upper!case",
            "Password must contain at least one uppercase letter.",
        ),
        (
            "N0LOWER!CASE",
            "Password must contain at least one lowercase letter.",
        ),
        ("NoDigits!here", "Password must contain at least one digit."),
        (
            "NoSpecial123",
            "Password must contain at least one special character (!@#$%^&*()_+-=[]{}|;:,.<>?).",
        ),
    ];
    for (password, message) in cases {
        let (status, body) = register(&app, email, password).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{password}");
        assert_eq!(body, json!({"password": [message]}), "{password}");
    }
    let (status, body) = post(
        &app,
        "/auth/v2/programmatic/register/",
        json!({"email": "not-an-address", "plan": "pro"}),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({
            "email": ["Enter a valid email address."],
            "password": ["This field is required."],
            "plan": ["Unknown field."],
        })
    );
    let (status, body) = post(&app, "/auth/v2/programmatic/login/", json!([])).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(
        body,
        json!({"non_field_errors": ["Invalid data. Expected a dictionary, but got list."]})
    );
    assert!(inbox.0.lock().unwrap().is_empty());
    assert!(column_values(&app, "SELECT id FROM users").await.is_empty());
}

#[tokio::test]
async fn re_registering_a_pending_address_keeps_its_password_until_the_code_expires() {
    let (app, inbox) = spawn_with_mail(|config| config.accounts.resend_cooldown_seconds = 0).await;
    // The victim registers; an attacker registers the same address with a password of their
    // own. The victim verifies with the latest code: the account is theirs.
    let email = "leo@verity.test";
    let (status, _) = register(&app, email, PASSWORD).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = register(&app, email, "Att4cker!pass").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"message": "A new verification code has been sent to your email."})
    );
    assert_eq!(inbox.messages_to(email).len(), 2);
    let (status, _) = verify(&app, email, &inbox.latest_code(email)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = login(&app, email, "Att4cker!pass").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = login(&app, email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);

    // Once the pending code has expired, the address is registered afresh.
    let email = "lena@verity.test";
    register(&app, email, "F1rst!password").await;
    app.execute_sql("UPDATE email_codes SET expires_at = 0", &[])
        .await;
    let (status, _) = register(&app, email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = verify(&app, email, &inbox.latest_code(email)).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = login(&app, email, "F1rst!password").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = login(&app, email, PASSWORD).await;
    assert_eq!(status, StatusCode::OK);
}

/// A client whose requests come from `ip` (any 127.0.0.0/8 address reaches the loopback
/// listener), so that the server sees several clients.
fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(std::net::IpAddr::from(ip))
        .build()
        .unwrap()
}

async fn login_from(
    app: &TestApp,
    client: &reqwest::Client,
    email: &str,
    password: &str,
) -> reqwest::Response {
    client
        .post(format!("{}/auth/v2/programmatic/login/", app.base))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_burst_of_wrong_logins_checks_no_more_passwords_than_the_lockout_allows() {
    let (app, inbox) = spawn_with_mail(|_| {}).await;
    let email = "olga@verity.test";
    verified_account(&app, &inbox, email).await;
    // Twenty wrong passwords at once, from twenty clients.
    let clients: Vec<reqwest::Client> = (0..20).map(|n| client_from([127, 0, 0, 10 + n])).collect();
    let answers = futures::future::join_all(
        clients
            .iter()
            .map(|client| login_from(&app, client, email, "Wr0ng!pass")),
    )
    .await;
    let statuses: Vec<StatusCode> = answers.iter().map(|r| r.status()).collect();
    assert!(
        statuses
            .iter()
            .all(|s| [StatusCode::UNAUTHORIZED, StatusCode::TOO_MANY_REQUESTS].contains(s)),
        "{statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .filter(|s| **s == StatusCode::UNAUTHORIZED)
            .count()
            <= 4,
        "{statuses:?}"
    );
    // Only the five attempts up to the first lockout tier were counted and checked: the lock
    // is that tier's 15 minutes (checking all twenty would have locked for 24 hours).
    assert_eq!(
        column_values(&app, "SELECT CAST(failed_logins AS TEXT) FROM users").await,
        ["5"]
    );
    let response = post_raw(
        &app,
        "/auth/v2/programmatic/login/",
        json!({"email": email, "password": PASSWORD}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after = retry_after(&response);
    assert!((1..=900).contains(&retry_after), "{retry_after}");
}

#[tokio::test]
async fn login_attempts_are_limited_per_client_ip() {
    let (app, _inbox) =
        spawn_with_mail(|config| config.accounts.login_attempts_per_ip_per_hour = 3).await;
    for _ in 0..3 {
        let (status, _) = login(&app, "nobody@verity.test", PASSWORD).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    // Whichever account the next attempt names.
    let response = post_raw(
        &app,
        "/auth/v2/programmatic/login/",
        json!({"email": "someone@verity.test", "password": PASSWORD}),
    )
    .await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()["x-ratelimit-limit"], "3");
    assert!(response.headers().contains_key("retry-after"));
    // Another client has its own budget.
    let other = client_from([127, 0, 0, 2]);
    let response = login_from(&app, &other, "nobody@verity.test", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn without_smtp_registration_answers_503() {
    let app = spawn_app().await;
    for (path, body) in [
        (
            "/auth/v2/programmatic/register/",
            json!({"email": "mia@verity.test", "password": PASSWORD}),
        ),
        (
            "/auth/v2/programmatic/resend-otp/",
            json!({"email": "mia@verity.test"}),
        ),
    ] {
        let (status, body) = post(&app, path, body).await;
        assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{path}");
        assert_eq!(
            body,
            json!({"detail": "Registration is unavailable: this server has no SMTP relay configured to send verification codes."})
        );
    }
    let (status, _) = login(&app, "mia@verity.test", PASSWORD).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn an_unreachable_relay_answers_500_and_does_not_block_a_retry() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let app = spawn_app_with(|config| config.smtp = Some(smtp_config(port))).await;
    for _ in 0..2 {
        let (status, body) = register(&app, "noor@verity.test", PASSWORD).await;
        assert_eq!(status, StatusCode::INTERNAL_SERVER_ERROR);
        assert_eq!(
            body,
            json!({"detail": "The verification email could not be sent."})
        );
    }
    assert!(column_values(&app, "SELECT user_id FROM email_codes")
        .await
        .is_empty());
}
