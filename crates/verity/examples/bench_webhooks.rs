//! Webhook delivery benchmark: signed deliveries per second from the durable outbox to a local
//! receiver, and the latency from a status change to its delivery.
//!
//!     cargo run --release -p verity --example bench_webhooks [-- EVENTS]
//!     VERITY_BENCH_DATABASE=postgres://postgres@127.0.0.1:5432/DB cargo run --release ...
//!
//! `VERITY_BENCH_CONCURRENCY` and `VERITY_BENCH_PER_DESTINATION` override the dispatcher's
//! in-flight limits (defaults: the server's, 64 and 16); the receiver is one destination.
//!
//! Throughput: EVENTS sessions are created with the dispatcher off (their creation events wait in
//! the outbox), then a server with the dispatcher on is started and the time until the receiver
//! has every event is measured (fan-out, claim, payload, three signatures, HTTP, recording).
//! Latency: 500 sessions created one after another, each timed from the create request to the
//! receiver getting its event.

use axum::extract::State;
use axum::routing::post;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use verity::config::Config;
use verity::server::Server;

type Arrivals = Arc<Mutex<HashMap<String, Instant>>>;

async fn receive(State(arrivals): State<Arrivals>, body: axum::body::Bytes) -> &'static str {
    let now = Instant::now();
    if let Ok(value) = serde_json::from_slice::<Value>(&body) {
        if let Some(vendor) = value["vendor_data"].as_str() {
            arrivals
                .lock()
                .unwrap()
                .entry(vendor.to_owned())
                .or_insert(now);
        }
    }
    "ok"
}

struct Running {
    base: String,
    /// When the server started running (after opening: migrations, engines), which is when its
    /// dispatcher starts.
    running_since: Instant,
    stop: tokio::sync::oneshot::Sender<()>,
    handle: tokio::task::JoinHandle<anyhow::Result<()>>,
}

async fn start(config: Config) -> (Running, Option<(String, String)>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = Server::open(config).await.expect("server opens");
    let creds = server.first_start.as_ref().map(|first| {
        let (_, c) = &first.applications[0];
        (c.api_key.clone(), c.default_workflow_id.to_string())
    });
    let (stop, rx) = tokio::sync::oneshot::channel::<()>();
    let running_since = Instant::now();
    let handle = tokio::spawn(server.run(listener, async move {
        let _ = rx.await;
    }));
    (
        Running {
            base,
            running_since,
            stop,
            handle,
        },
        creds,
    )
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// User + system CPU time of this process so far (Linux `/proc/self/stat`, clock ticks of 10 ms).
fn cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the parenthesised command name; utime and stime are the 14th and 15th.
    let after = stat.rsplit_once(')').map(|(_, rest)| rest).unwrap_or("");
    let fields: Vec<u64> = after
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    let ticks = fields.get(11).copied().unwrap_or(0) + fields.get(12).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn env_number(name: &str) -> Option<usize> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

#[tokio::main]
async fn main() {
    // RUST_LOG=sqlx::query=debug shows each statement with its time, for profiling.
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_default_env() {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    let events: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(5000);
    let arrivals: Arrivals = Arc::default();
    let receiver = axum::Router::new()
        .route("/hook", post(receive))
        .with_state(arrivals.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, receiver).await });

    let data = tempfile::tempdir().unwrap();
    let database_url = std::env::var("VERITY_BENCH_DATABASE")
        .unwrap_or_else(|_| format!("sqlite://{}", data.path().join("verity.db").display()));
    let config = |dispatch: bool| {
        let mut config = Config {
            listen: "127.0.0.1:0".into(),
            data_dir: data.path().to_owned(),
            database_url: Some(database_url.clone()),
            ..Config::default()
        };
        config.rate_limits.enabled = false;
        // No engines: session creation events are all this measures, and loading models would
        // add to the CPU time.
        config.engines.models_dir = data.path().join("no-models");
        config.webhooks.allow_http = true;
        config.webhooks.allow_private = "127.0.0.0/8".into();
        config.webhooks.dispatch = dispatch;
        if let Some(n) = env_number("VERITY_BENCH_CONCURRENCY") {
            config.webhooks.concurrency = n;
        }
        if let Some(n) = env_number("VERITY_BENCH_PER_DESTINATION") {
            config.webhooks.per_destination_concurrency = n;
        }
        config
    };
    let client = reqwest::Client::new();

    // 1. Backlog with the dispatcher off.
    let (server, creds) = start(config(false)).await;
    let (key, workflow) = creds.expect("fresh database");
    let created = client
        .post(format!("{}/v3/webhook/destinations/", server.base))
        .header("x-api-key", &key)
        .json(&json!({"url": hook}))
        .send()
        .await
        .unwrap();
    assert!(created.status().is_success());
    let fill = Instant::now();
    let mut pending = tokio::task::JoinSet::new();
    for n in 0..events {
        let (client, base, key, workflow) = (
            client.clone(),
            server.base.clone(),
            key.clone(),
            workflow.clone(),
        );
        pending.spawn(async move {
            client
                .post(format!("{base}/v3/session/"))
                .header("x-api-key", key)
                .json(&json!({"workflow_id": workflow, "vendor_data": format!("t{n}")}))
                .send()
                .await
                .unwrap()
                .status()
        });
        if pending.len() >= 32 {
            assert!(pending.join_next().await.unwrap().unwrap().is_success());
        }
    }
    while let Some(status) = pending.join_next().await {
        assert!(status.unwrap().is_success());
    }
    eprintln!("backlog of {events} events in {:.1?}", fill.elapsed());
    let _ = server.stop.send(());
    server.handle.await.unwrap().unwrap();

    // 2. Drain it.
    // CPU time includes opening the server (a few milliseconds).
    let cpu_before = cpu_time();
    let (server, _) = start(config(true)).await;
    while arrivals.lock().unwrap().len() < events {
        tokio::time::sleep(Duration::from_millis(1)).await;
        assert!(
            server.running_since.elapsed() < Duration::from_secs(600),
            "drain stalled"
        );
    }
    let drain = server.running_since.elapsed();
    let cpu = cpu_time() - cpu_before;
    println!(
        "throughput: {events} signed deliveries in {:.2} s = {:.0} deliveries/s; \
         {:.2} CPU-s (server and receiver together) = {:.0} deliveries per CPU-second",
        drain.as_secs_f64(),
        events as f64 / drain.as_secs_f64(),
        cpu.as_secs_f64(),
        events as f64 / cpu.as_secs_f64()
    );

    // 3. Latency, one change at a time.
    let mut latencies = Vec::new();
    for n in 0..500 {
        let vendor = format!("l{n}");
        let sent = Instant::now();
        let response = client
            .post(format!("{}/v3/session/", server.base))
            .header("x-api-key", &key)
            .json(&json!({"workflow_id": workflow, "vendor_data": vendor}))
            .send()
            .await
            .unwrap();
        assert!(response.status().is_success());
        loop {
            if let Some(at) = arrivals.lock().unwrap().get(&vendor) {
                latencies.push(at.duration_since(sent));
                break;
            }
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }
    latencies.sort();
    println!(
        "latency (create request → delivered), 500 sequential: p50 {:.1?}, p95 {:.1?}, p99 {:.1?}, max {:.1?}",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.95),
        percentile(&latencies, 0.99),
        latencies[latencies.len() - 1]
    );
    let _ = server.stop.send(());
    let _ = server.handle.await;
}
