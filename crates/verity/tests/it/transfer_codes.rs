//! Data-transfer ownership codes against guessing and probing: per-address limits and the
//! wrong-guess lockout are kept in the database (two server processes on one database share
//! them), and the e-mail step answers a known and an unknown address alike, without waiting
//! for the mail relay.

use crate::helpers::{spawn_app_with, AppCreds, TestApp};
use crate::smtp::{smtp_config, start_smtp_server};
use reqwest::StatusCode;
use serde_json::json;
use verity::config::Config;
use verity::server::Server;

const PERSON: &str = "ana.garcia@verity.test";

/// A second server process on the database, media and master key of `app`, mailing through
/// the relay on `smtp_port`; it stops when the handle is dropped.
struct SecondProcess {
    base: String,
    server: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Drop for SecondProcess {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn second_process(app: &TestApp, smtp_port: u16) -> SecondProcess {
    let config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: app.data_dir.path().to_owned(),
        database_url: Some(app.database_url.clone()),
        key_cache_seconds: 0,
        smtp: Some(smtp_config(smtp_port)),
        ..Config::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = Server::open(config).await.expect("second process opens");
    SecondProcess {
        base,
        server: tokio::spawn(server.run(listener, std::future::pending())),
    }
}

/// A new transfer of `business`: the path of its page.
async fn transfer_page(app: &TestApp, business: &AppCreds) -> String {
    let (status, created) = app
        .post(
            "/auth/v2/session/",
            &business.api_key,
            json!({"scope": "email"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    created["url"]
        .as_str()
        .unwrap()
        .strip_prefix(&app.base)
        .unwrap()
        .to_owned()
}

/// Posts a form to `base` + `path`: status, `Location` and body. The page never waits for the
/// mail relay, so an answer slower than the relay's own timeout is a failure, not a wait.
async fn post_form(
    app: &TestApp,
    base: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, Option<String>, String) {
    let response = app
        .client
        .post(format!("{base}{path}"))
        .form(fields)
        .timeout(std::time::Duration::from_secs(30))
        .send()
        .await
        .expect("an answer that does not wait for the mail relay");
    let status = response.status();
    let location = response
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (status, location, response.text().await.unwrap())
}

#[tokio::test]
async fn code_requests_per_address_are_counted_across_processes_and_transfers() {
    let (port, _inbox) = start_smtp_server();
    let app = spawn_app_with(|config| config.smtp = Some(smtp_config(port))).await;
    let other = second_process(&app, port).await;
    let address = "someone@verity.test";
    // Five requests for one address, each for a transfer of its own (the per-transfer
    // cooldown does not apply), on the first process.
    for _ in 0..5 {
        let page = transfer_page(&app, &app.live).await;
        let (status, _, _) = post_form(
            &app,
            &app.base,
            &format!("{page}/email"),
            &[("email", address)],
        )
        .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
    }
    // The sixth, on the second process, is over the address's hourly budget.
    let page = transfer_page(&app, &app.live).await;
    let response = app
        .client
        .post(format!("{}{page}/email", other.base))
        .form(&[("email", address)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    assert!(response
        .text()
        .await
        .unwrap()
        .contains("Too many codes were asked for."));
    // Another address is not affected; the table holds no address in clear.
    let (status, _, _) = post_form(
        &app,
        &other.base,
        &format!("{page}/email"),
        &[("email", "else@verity.test")],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let keys: Vec<String> = sqlx::query_scalar("SELECT key_digest FROM budgets")
        .fetch_all(&pool)
        .await
        .unwrap();
    pool.close().await;
    assert!(keys.iter().all(|k| k.len() == 64 && !k.contains('@')));
}

#[tokio::test]
async fn wrong_guesses_lock_an_address_out_of_codes_across_transfers() {
    let (port, _inbox) = start_smtp_server();
    let app = spawn_app_with(|config| config.smtp = Some(smtp_config(port))).await;
    let other = second_process(&app, port).await;
    // Two transfers, five wrong guesses each (a code survives five), one on each process:
    // ten wrong guesses for the address.
    for base in [&app.base, &other.base] {
        let page = transfer_page(&app, &app.live).await;
        let (status, _, _) =
            post_form(&app, base, &format!("{page}/email"), &[("email", PERSON)]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        for _ in 0..5 {
            let (status, _, html) =
                post_form(&app, base, &format!("{page}/code"), &[("code", "000000")]).await;
            assert_eq!(status, StatusCode::BAD_REQUEST);
            assert!(html.contains("That code is not valid."), "{html}");
        }
    }
    // No further code for the address, on either process, from any transfer.
    for base in [&app.base, &other.base] {
        let page = transfer_page(&app, &app.live).await;
        let (status, _, html) =
            post_form(&app, base, &format!("{page}/email"), &[("email", PERSON)]).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert!(html.contains("Too many codes were asked for."), "{html}");
    }
}

#[tokio::test]
async fn known_and_unknown_addresses_get_the_same_answer_without_waiting_for_the_relay() {
    // A relay that accepts connections and never greets: mail to it never completes.
    let stalled = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = stalled.local_addr().unwrap().port();
    let app = spawn_app_with(|config| config.smtp = Some(smtp_config(port))).await;
    // The person: a sandbox session of the requester's own organization, decided by the
    // pipeline.
    let source = app
        .complete_sandbox_session(
            &app.sandbox.api_key,
            json!({"contact_details": {"email": PERSON}}),
        )
        .await;
    assert_eq!(source["status"], "Approved", "{source}");

    let known = transfer_page(&app, &app.sandbox).await;
    let unknown = transfer_page(&app, &app.sandbox).await;
    let (known_status, known_location, known_body) = post_form(
        &app,
        &app.base,
        &format!("{known}/email"),
        &[("email", PERSON)],
    )
    .await;
    let (unknown_status, unknown_location, unknown_body) = post_form(
        &app,
        &app.base,
        &format!("{unknown}/email"),
        &[("email", "nobody@verity.test")],
    )
    .await;
    assert_eq!(known_status, StatusCode::SEE_OTHER, "{known_body}");
    assert_eq!(
        (unknown_status, unknown_body),
        (known_status, known_body),
        "same answer"
    );
    assert_eq!(known_location.unwrap(), known);
    assert_eq!(unknown_location.unwrap(), unknown);
    // The known address was recognised (its code names the source session); only the mail,
    // off the request path, waits for the relay.
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.unwrap();
    let candidates: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT c.candidate_session_id FROM data_transfer_codes c \
         JOIN data_transfers t ON t.id = c.transfer_id ORDER BY t.created_at",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert_eq!(
        candidates,
        [
            Some(source["session_id"].as_str().unwrap().to_owned()),
            None
        ]
    );
}
