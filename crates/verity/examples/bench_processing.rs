//! Processing benchmark: time from the hosted flow's submit to the session's decision, with the
//! sandbox runner (every node, cross-checks, rules, one transaction per node, the final status
//! and its webhook event).
//!
//!     cargo run --release -p verity --example bench_processing [-- SESSIONS]
//!     VERITY_BENCH_DATABASE=postgres://postgres@127.0.0.1:5432/DB cargo run --release ...
//!
//! Workflow: the sandbox application's default KYC workflow (OCR, LIVENESS, FACE_MATCH) with two
//! 640×480 PNG captures per session.
//!
//! With `VERITY_BENCH_MODELS=models` (the folder `scripts/fetch-models` fills) the same is timed
//! on the **live** application with the real engines: a workflow of OCR, LIVENESS (PASSIVE) and
//! FACE_MATCH, a generated passport photographed with a tilt on a cluttered background (JPEG)
//! and the holder's portrait as the selfie. Only the sequential run (the engines use the CPU;
//! a burst only queues).
//! * sequential: SESSIONS sessions submitted one after another; each timed by the server
//!   (`processing_ms`: submit commit → decision commit) and by the client (submit request sent →
//!   first status poll, every 2 ms — 20 ms with the engines — that sees the decision);
//! * burst: SESSIONS sessions prepared, then all submitted at once; time until every one is
//!   decided, and the server-side percentiles under that load.

use reqwest::Method;
use serde_json::{json, Value};
use std::time::{Duration, Instant};
use verity::config::Config;
use verity::server::Server;
use verity_domain::ids::SessionId;

fn png(width: u32, height: u32) -> Vec<u8> {
    // A valid header is what the server reads (it never decodes in sandbox); the body is a
    // plausible size for a phone capture.
    let mut png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    png.extend_from_slice(b"IHDR");
    png.extend_from_slice(&width.to_be_bytes());
    png.extend_from_slice(&height.to_be_bytes());
    png.extend_from_slice(&[8, 2, 0, 0, 0, 0, 0, 0, 0]);
    png.extend_from_slice(&200_000u32.to_be_bytes());
    png.extend_from_slice(b"IDAT");
    png.extend(std::iter::repeat_n(0x55, 200_000));
    png.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
    png.extend_from_slice(b"IEND");
    png.extend_from_slice(&[0xAE, 0x42, 0x60, 0x82]);
    png
}

struct Client {
    http: reqwest::Client,
    base: String,
}

impl Client {
    async fn flow(&self, method: Method, path: &str, token: &str, body: Option<Vec<u8>>) -> Value {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .header("x-session-token", token);
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.unwrap();
        assert!(
            response.status().is_success(),
            "{path}: {}",
            response.status()
        );
        response.json().await.unwrap()
    }

    /// A live workflow of OCR, PASSIVE LIVENESS and FACE_MATCH; returns its id.
    async fn live_workflow(&self, key: &str) -> String {
        let created: Value = self
            .http
            .post(format!("{}/v3/workflows/", self.base))
            .header("x-api-key", key)
            .json(&json!({"workflow_label": "Bench KYC", "features": [
                {"feature": "OCR"},
                {"feature": "LIVENESS", "config": {"face_liveness_method": "PASSIVE"}},
                {"feature": "FACE_MATCH"}
            ]}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        created["workflow_id"]
            .as_str()
            .expect("workflow")
            .to_owned()
    }

    /// Creates a session and uploads its captures; returns (id, token).
    async fn prepare(
        &self,
        key: &str,
        workflow: &str,
        captures: &[(&str, Vec<u8>)],
    ) -> (String, String) {
        let created: Value = self
            .http
            .post(format!("{}/v3/session/", self.base))
            .header("x-api-key", key)
            .json(&json!({"workflow_id": workflow}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = created["session_token"].as_str().unwrap().to_owned();
        self.flow(Method::POST, "/flow/session/start/", &token, None)
            .await;
        for (kind, capture) in captures {
            let path = format!("/flow/session/captures/{kind}/");
            self.flow(Method::POST, &path, &token, Some(capture.clone()))
                .await;
        }
        (created["session_id"].as_str().unwrap().to_owned(), token)
    }
}

/// A generated passport photographed with a 3° tilt on clutter (JPEG), and the holder's
/// portrait as the selfie.
fn live_captures(models: &std::path::Path) -> Vec<(&'static str, Vec<u8>)> {
    use verity_document::synth::{self, Assets, DocKind, Photo};
    let assets = Assets::load(&models.join("document")).expect("document assets");
    let today = chrono::Utc::now().date_naive();
    let document = synth::render(&assets, DocKind::Passport, 21, today);
    let photo = Photo {
        rotation_deg: 3.0,
        clutter: true,
        ..Photo::clean()
    };
    let front = synth::photograph(&document.front, &photo, 21);
    let selfie = std::fs::read(models.join("face/testdata/astronaut.png")).expect("portrait");
    vec![("document_front", front), ("selfie", selfie)]
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn summary(label: &str, mut values: Vec<f64>) {
    values.sort_by(|a, b| a.total_cmp(b));
    println!(
        "{label}: n={} median {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        values.len(),
        percentile(&values, 0.5),
        percentile(&values, 0.95),
        values[values.len() - 1]
    );
}

#[tokio::main]
async fn main() {
    let sessions: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(200);
    let data = tempfile::tempdir().unwrap();
    let database_url = std::env::var("VERITY_BENCH_DATABASE")
        .unwrap_or_else(|_| format!("sqlite://{}", data.path().join("verity.db").display()));
    let models = std::env::var_os("VERITY_BENCH_MODELS").map(std::path::PathBuf::from);
    let mut config = Config {
        listen: "127.0.0.1:0".into(),
        data_dir: data.path().to_owned(),
        database_url: Some(database_url.clone()),
        log: "warn".into(),
        ..Config::default()
    };
    if let Some(models) = &models {
        config.engines.models_dir = models.clone();
    }
    config.rate_limits.enabled = false;
    config.processing.poll_interval_ms = 500;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = Server::open(config).await.expect("server opens");
    let store = server.store.clone();
    // Live (index 0) with the engines, else sandbox (index 1).
    let (_, creds) = &server
        .first_start
        .as_ref()
        .expect("fresh database")
        .applications[if models.is_some() { 0 } else { 1 }];
    let key = creds.api_key.clone();
    let default_workflow = creds.default_workflow_id.to_string();
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let handle = tokio::spawn(server.run(listener, async move {
        let _ = rx.await;
    }));
    let client = Client {
        http: reqwest::Client::new(),
        base,
    };
    let (workflow, captures) = match &models {
        None => {
            let capture = png(640, 480);
            (
                default_workflow,
                vec![("document_front", capture.clone()), ("selfie", capture)],
            )
        }
        Some(models) => (client.live_workflow(&key).await, live_captures(models)),
    };
    println!(
        "database: {}, {}",
        if database_url.starts_with("postgres") {
            "PostgreSQL"
        } else {
            "SQLite"
        },
        if models.is_some() {
            "live engines"
        } else {
            "sandbox runner"
        }
    );

    // The engines take about a second: polling every 2 ms would exceed the session's flow budget
    // (300 requests a minute).
    let poll = Duration::from_millis(if models.is_some() { 20 } else { 2 });
    let mut server_ms = Vec::new();
    let mut client_ms = Vec::new();
    for _ in 0..sessions {
        let (id, token) = client.prepare(&key, &workflow, &captures).await;
        let started = Instant::now();
        client
            .flow(Method::POST, "/flow/session/submit/", &token, None)
            .await;
        loop {
            let status = client
                .flow(Method::GET, "/flow/session/status/", &token, None)
                .await;
            if status["decided"] == true {
                break;
            }
            tokio::time::sleep(poll).await;
        }
        client_ms.push(started.elapsed().as_secs_f64() * 1000.0);
        let job = store
            .latest_job(SessionId::parse(&id).unwrap())
            .await
            .unwrap()
            .unwrap();
        server_ms.push(job.processing_ms.unwrap());
    }
    summary(
        "sequential, server (submit commit -> decision commit)",
        server_ms,
    );
    summary(
        "sequential, client (submit sent -> decision seen)",
        client_ms,
    );

    if models.is_some() {
        let _ = stop.send(());
        let _ = handle.await;
        return;
    }
    let mut prepared = Vec::new();
    for _ in 0..sessions {
        prepared.push(client.prepare(&key, &workflow, &captures).await);
    }
    let started = Instant::now();
    let submits = prepared
        .iter()
        .map(|(_, token)| client.flow(Method::POST, "/flow/session/submit/", token, None));
    futures::future::join_all(submits).await;
    let mut burst_ms = Vec::new();
    for (id, _) in &prepared {
        let id = SessionId::parse(id).unwrap();
        loop {
            let job = store.latest_job(id).await.unwrap().unwrap();
            if let Some(ms) = job.processing_ms {
                burst_ms.push(ms);
                break;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    let elapsed = started.elapsed();
    println!(
        "burst: {sessions} sessions submitted at once, all decided in {:.2} s ({:.0} sessions/s)",
        elapsed.as_secs_f64(),
        sessions as f64 / elapsed.as_secs_f64()
    );
    summary("burst, server (submit commit -> decision commit)", burst_ms);
    let _ = stop.send(());
    let _ = handle.await;
}
