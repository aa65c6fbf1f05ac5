use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::Duration;
use tempfile::TempDir;
use verity::config::Config;
use verity::server::Server;
use verity_domain::ids::{ApplicationId, WorkflowId};

pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The credentials of one application, as the first start printed them.
#[derive(Clone, Debug)]
pub struct AppCreds {
    pub id: ApplicationId,
    pub api_key: String,
    pub client_id: String,
    pub client_secret: String,
    pub default_workflow_id: WorkflowId,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub live: AppCreds,
    pub sandbox: AppCreds,
    pub store: verity_store::Store,
    pub database_url: String,
    pub data_dir: TempDir,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    server: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
    postgres_database: Option<String>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

pub async fn spawn_app_with(customize: impl FnOnce(&mut Config)) -> TestApp {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let (database_url, postgres_database) = match std::env::var("VERITY_TEST_DATABASE").as_deref() {
        Ok("postgres") => {
            let name = format!("verity_test_{}", uuid::Uuid::new_v4().simple());
            sqlx::any::install_default_drivers();
            let admin = sqlx::AnyPool::connect(PG_ADMIN_URL)
                .await
                .expect("PostgreSQL on 127.0.0.1:5432");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&admin)
                .await
                .expect("create database");
            admin.close().await;
            (
                format!("postgres://postgres@127.0.0.1:5432/{name}"),
                Some(name),
            )
        }
        _ => (
            format!("sqlite://{}", data_dir.path().join("verity.db").display()),
            None,
        ),
    };
    let mut config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: data_dir.path().to_owned(),
        database_url: Some(database_url.clone()),
        key_cache_seconds: 0,
        expiry_sweep_seconds: 1,
        ..Config::default()
    };
    customize(&mut config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = Server::open(config).await.expect("server opens");
    let first = server
        .first_start
        .as_ref()
        .expect("fresh database bootstraps");
    let creds: Vec<AppCreds> = first
        .applications
        .iter()
        .map(|(app, c)| AppCreds {
            id: app.id,
            api_key: c.api_key.clone(),
            client_id: c.client_id.clone(),
            client_secret: c.client_secret.clone(),
            default_workflow_id: c.default_workflow_id,
        })
        .collect();
    let store = server.store.clone();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(listener, async move {
        let _ = rx.await;
    }));
    TestApp {
        base,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        live: creds[0].clone(),
        sandbox: creds[1].clone(),
        store,
        database_url,
        data_dir,
        shutdown: Some(tx),
        server: Some(handle),
        postgres_database,
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.server.take() {
            handle.abort();
        }
        if let Some(name) = self.postgres_database.take() {
            // Drop the per-test database from a thread of its own: Drop cannot await.
            let _ = std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                runtime.block_on(async move {
                    if let Ok(admin) = sqlx::AnyPool::connect(PG_ADMIN_URL).await {
                        let _ =
                            sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                                .execute(&admin)
                                .await;
                        admin.close().await;
                    }
                });
            })
            .join();
        }
    }
}

/// Sends a request; the answer's status and body (JSON, or the text as a JSON string).
async fn send(request: reqwest::RequestBuilder) -> (StatusCode, Value) {
    let response = request.send().await.expect("request sent");
    let status = response.status();
    let text = response.text().await.unwrap();
    let value = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, value)
}

/// A `multipart/form-data` body: file parts (named `<field>.bin`) and text parts.
pub fn form(files: &[(&str, &[u8])], text: &[(&str, &str)]) -> reqwest::multipart::Form {
    let mut form = reqwest::multipart::Form::new();
    for (name, bytes) in files {
        let part = reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(format!("{name}.bin"));
        form = form.part(name.to_string(), part);
    }
    for (name, value) in text {
        form = form.text(name.to_string(), value.to_string());
    }
    form
}

impl TestApp {
    fn builder(&self, method: Method, path: &str, key: Option<&str>) -> reqwest::RequestBuilder {
        let request = self
            .client
            .request(method, format!("{}{}", self.base, path));
        match key {
            Some(key) => request.header("x-api-key", key),
            None => request,
        }
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let request = self.builder(method, path, key);
        send(match body {
            Some(body) => request.json(&body),
            None => request,
        })
        .await
    }

    /// Sends a `multipart/form-data` body (see [`form`]).
    pub async fn send_form(
        &self,
        method: Method,
        path: &str,
        key: Option<&str>,
        form: reqwest::multipart::Form,
    ) -> (StatusCode, Value) {
        send(self.builder(method, path, key).multipart(form)).await
    }

    pub async fn get(&self, path: &str, key: &str) -> (StatusCode, Value) {
        self.request(Method::GET, path, Some(key), None).await
    }

    pub async fn post(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::POST, path, Some(key), Some(body))
            .await
    }

    pub async fn patch(&self, path: &str, key: &str, body: Value) -> (StatusCode, Value) {
        self.request(Method::PATCH, path, Some(key), Some(body))
            .await
    }

    pub async fn delete(&self, path: &str, key: &str) -> (StatusCode, Value) {
        self.request(Method::DELETE, path, Some(key), None).await
    }

    /// Creates a session on the live application's default workflow.
    pub async fn create_session(&self, extra: Value) -> Value {
        let mut body = serde_json::json!({"workflow_id": self.live.default_workflow_id});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().cloned().unwrap_or_default());
        let (status, value) = self.post("/v3/session/", &self.live.api_key, body).await;
        assert_eq!(status, StatusCode::CREATED, "{value}");
        value
    }

    /// Test setup only: puts a session in a status the API cannot reach without verification
    /// engines (the server's own rules then apply from there).
    pub async fn force_status(&self, session_id: &str, status: &str) {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.database_url).await.unwrap();
        sqlx::query("UPDATE sessions SET status = $1 WHERE id = $2")
            .bind(status)
            .bind(session_id)
            .execute(&pool)
            .await
            .unwrap();
        pool.close().await;
    }

    /// Puts the session in review (test setup), then decides it through the API as a reviewer.
    pub async fn review_decision(&self, session_id: &str, new_status: &str, comment: &str) {
        self.force_status(session_id, "In Review").await;
        let (status, body) = self
            .patch(
                &format!("/v3/session/{session_id}/update-status/"),
                &self.live.api_key,
                serde_json::json!({"new_status": new_status, "comment": comment}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    /// Test setup only: runs one SQL statement against the server's database.
    pub async fn execute_sql(&self, sql: &str, args: &[&str]) {
        sqlx::any::install_default_drivers();
        let pool = sqlx::AnyPool::connect(&self.database_url).await.unwrap();
        let mut query = sqlx::query(sql);
        for arg in args {
            query = query.bind(*arg);
        }
        query.execute(&pool).await.unwrap();
        pool.close().await;
    }
}

/// The `key` field of every item of the array `value` (statuses of an event list, node ids of
/// flow steps, capture kinds…).
pub fn field_list(value: &Value, key: &str) -> Vec<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|item| {
            item[key]
                .as_str()
                .unwrap_or_else(|| panic!("no {key} in {item}"))
                .to_owned()
        })
        .collect()
}

/// A fresh PostgreSQL database for tests that run server processes of their own: the admin
/// pool, the database name and its URL. Panics without PostgreSQL.
pub async fn create_postgres_database() -> (sqlx::AnyPool, String, String) {
    sqlx::any::install_default_drivers();
    let Ok(admin) = sqlx::AnyPool::connect(PG_ADMIN_URL).await else {
        panic!("PostgreSQL on 127.0.0.1:5432 is required for this test");
    };
    let name = format!("verity_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&admin)
        .await
        .unwrap();
    let url = format!("postgres://postgres@127.0.0.1:5432/{name}");
    (admin, name, url)
}

/// Polls until `check` holds or the deadline passes.
pub async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..100 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for: {what}");
}

impl TestApp {
    /// An OAuth client access token for the application (seed 000's request).
    pub async fn client_token(&self, creds: &AppCreds) -> String {
        let response = self
            .client
            .post(format!("{}/auth/v2/token/", self.base))
            .basic_auth(&creds.client_id, Some(&creds.client_secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        let body: Value = response.json().await.unwrap();
        body["access_token"].as_str().unwrap().to_owned()
    }

    /// A request with `Authorization: Bearer`.
    pub async fn bearer(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .bearer_auth(token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }
}

/// A small, valid RGB PNG of `width`×`height` (stored deflate blocks, real CRCs), in a colour
/// drawn from `seed`.
pub fn sample_png(width: u32, height: u32, seed: u8) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in bytes {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    fn chunk(out: &mut Vec<u8>, kind: &[u8], data: &[u8]) {
        out.extend_from_slice(&(data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend_from_slice(data);
        out.extend_from_slice(&body);
        out.extend_from_slice(&crc32(&body).to_be_bytes());
    }
    let mut raw = Vec::new();
    for y in 0..height {
        raw.push(0); // filter: none
        for x in 0..width {
            raw.extend_from_slice(&[seed, (x * 7) as u8, (y * 5) as u8]);
        }
    }
    let mut zlib = vec![0x78, 0x01];
    for (i, block) in raw.chunks(65_535).enumerate() {
        let last = (i + 1) * 65_535 >= raw.len();
        zlib.push(u8::from(last));
        let len = block.len() as u16;
        zlib.extend_from_slice(&len.to_le_bytes());
        zlib.extend_from_slice(&(!len).to_le_bytes());
        zlib.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in &raw {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    zlib.extend_from_slice(&((b << 16) | a).to_be_bytes());
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    let mut ihdr = Vec::new();
    ihdr.extend_from_slice(&width.to_be_bytes());
    ihdr.extend_from_slice(&height.to_be_bytes());
    ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
    chunk(&mut png, b"IHDR", &ihdr);
    chunk(&mut png, b"IDAT", &zlib);
    chunk(&mut png, b"IEND", &[]);
    png
}

/// A one-page PDF (a proof-of-address upload).
pub fn sample_pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n".to_vec()
}

impl TestApp {
    /// A sandbox workflow with every step a sandbox scenario can need; returns its id.
    pub async fn everything_workflow(&self) -> String {
        let (status, body) = self
            .post(
                "/v3/workflows/",
                &self.sandbox.api_key,
                serde_json::json!({"workflow_label": "Everything", "features": [
                    {"feature": "OCR"}, {"feature": "NFC"}, {"feature": "LIVENESS"}, {"feature": "FACE_MATCH"},
                    {"feature": "AGE_ESTIMATION"}, {"feature": "AML"}, {"feature": "IP_ANALYSIS"},
                    {"feature": "PROOF_OF_ADDRESS"}, {"feature": "DATABASE_VALIDATION"}
                ]}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["workflow_id"].as_str().unwrap().to_owned()
    }

    /// A hosted-flow API call with `X-Session-Token`; `body` is sent raw.
    pub async fn flow(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Value) {
        let mut request = self
            .client
            .request(method, format!("{}{}", self.base, path))
            .header("x-session-token", token);
        if let Some(body) = body {
            request = request
                .header("content-type", "application/octet-stream")
                .body(body);
        }
        let response = request.send().await.expect("request sent");
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Sends a `multipart/form-data` body (see [`form`]) to a flow endpoint with a session token.
    pub async fn flow_form(
        &self,
        path: &str,
        token: &str,
        form: reqwest::multipart::Form,
    ) -> (StatusCode, Value) {
        send(
            self.client
                .post(format!("{}{}", self.base, path))
                .header("x-session-token", token)
                .multipart(form),
        )
        .await
    }

    /// Opens a session's hosted flow (`POST /flow/session/start/`); returns its state.
    pub async fn start_flow(&self, token: &str) -> Value {
        let (status, state) = self
            .flow(Method::POST, "/flow/session/start/", token, None)
            .await;
        assert_eq!(status, StatusCode::OK, "{state}");
        state
    }

    /// Uploads `captures` (kind, bytes) to a started flow and submits it; returns the submit answer.
    pub async fn submit_flow(&self, token: &str, captures: &[(&str, Vec<u8>)]) -> Value {
        for (kind, body) in captures {
            let (status, stored) = self
                .flow(
                    Method::POST,
                    &format!("/flow/session/captures/{kind}/"),
                    token,
                    Some(body.clone()),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{kind}: {stored}");
        }
        let (status, submitted) = self
            .flow(Method::POST, "/flow/session/submit/", token, None)
            .await;
        assert_eq!(status, StatusCode::ACCEPTED, "{submitted}");
        submitted
    }

    /// Drives a created session through the hosted flow: start, upload a generated capture for
    /// every capture its steps take, submit. Returns the submit answer.
    pub async fn run_flow(&self, token: &str) -> Value {
        let state = self.start_flow(token).await;
        let mut kinds: Vec<String> = Vec::new();
        for step in state["steps"].as_array().unwrap() {
            for capture in step["captures"].as_array().unwrap() {
                let kind = capture["kind"].as_str().unwrap().to_owned();
                if !kinds.contains(&kind) {
                    kinds.push(kind);
                }
            }
        }
        let captures: Vec<(&str, Vec<u8>)> = kinds
            .iter()
            .enumerate()
            .map(|(n, kind)| {
                let body = if kind == "poa_document" {
                    sample_pdf()
                } else {
                    sample_png(64, 48, n as u8 * 40)
                };
                (kind.as_str(), body)
            })
            .collect();
        self.submit_flow(token, &captures).await
    }

    /// The statuses of a session's timeline, oldest first.
    pub async fn event_statuses(&self, session_id: &str, key: &str) -> Vec<String> {
        let (status, events) = self
            .get(&format!("/v3/session/{session_id}/events/"), key)
            .await;
        assert_eq!(status, StatusCode::OK, "{events}");
        field_list(&events["results"], "status")
    }

    /// Polls the flow status until the pipeline decided the session; returns the status.
    pub async fn wait_decided(&self, token: &str) -> String {
        for _ in 0..600 {
            let (status, body) = self
                .flow(Method::GET, "/flow/session/status/", token, None)
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            if body["decided"] == true {
                return body["status"].as_str().unwrap().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the session was not decided");
    }

    /// A sandbox session the pipeline put In Review (face-match similarity between the
    /// thresholds); returns its decision.
    pub async fn sandbox_session_in_review(&self) -> Value {
        let body = serde_json::json!({"sandbox_scenario": "review_face_match_borderline"});
        let decision = self
            .complete_sandbox_session(&self.sandbox.api_key, body)
            .await;
        assert_eq!(decision["status"], "In Review", "{decision}");
        decision
    }

    /// Creates a session with `body` (the sandbox application's default workflow unless
    /// `workflow_id` is given), completes the hosted flow with generated captures, waits for
    /// the pipeline's decision and returns the v3 decision.
    pub async fn complete_sandbox_session(&self, key: &str, body: Value) -> Value {
        let mut body = body;
        let object = body.as_object_mut().expect("a JSON object body");
        object
            .entry("workflow_id")
            .or_insert_with(|| serde_json::json!(self.sandbox.default_workflow_id));
        let (status, created) = self.post("/v3/session/", key, body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        let token = created["session_token"].as_str().unwrap().to_owned();
        self.run_flow(&token).await;
        self.wait_decided(&token).await;
        let id = created["session_id"].as_str().unwrap();
        let (status, decision) = self.get(&format!("/v3/session/{id}/decision/"), key).await;
        assert_eq!(status, StatusCode::OK, "{decision}");
        decision
    }
}
