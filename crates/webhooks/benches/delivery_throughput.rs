//! Signed deliveries per second to a local receiver. Sender and receiver run in one process on
//! two tokio runtimes (threads named `sender` / `receiver`) so that CPU time can be attributed to
//! each side. Every delivery stamps the attempt time into the ~4 KB payload and signs it (all four
//! signatures, `sign_attempt`), POSTs it through the SSRF-guarded client and classifies the
//! response; the receiver (axum) checks `X-Signature` on every request so a broken signature
//! would show as a failure.
//!
//!     CARGO_TARGET_DIR=/root/.cache/verity-targets/light cargo bench --bench delivery_throughput
//!     # knobs: DELIVERIES=20000 CONCURRENCY=32 SENDER_WORKERS=2 RECEIVER_WORKERS=1
//!
//! Not a criterion bench on purpose: the interesting number is aggregate throughput under
//! concurrency (and latency percentiles), not the time of one call.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use verity_webhooks::{
    sign_attempt, verify_signature, DeliveryAttempt, DeliveryClient, DeliveryConfig, SignOptions,
    SsrfPolicy, Verdict, WebhookSecret,
};

#[path = "support/payload.rs"]
mod common;

const SECRET: &str = "kX3v_9QzL2mP8wR4tY6uI0oA1sD5fG7hJ-cVbNnMqEe";

/// CPU seconds (user + system) per thread-name prefix, from /proc/self/task/*/stat (100 ticks/s
/// assumed). CPU time stays meaningful when other work shares the 2 cores; wall clock does not.
fn cpu_by_thread() -> std::collections::HashMap<String, f64> {
    let mut out = std::collections::HashMap::new();
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else {
        return out;
    };
    for task in tasks.flatten() {
        let Ok(stat) = std::fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = &stat[open + 1..close];
        let group = ["sender", "receiver"]
            .into_iter()
            .find(|g| name.starts_with(g))
            .unwrap_or("other");
        let fields: Vec<&str> = stat[close + 2..].split(' ').collect();
        let ticks: f64 = [11, 12]
            .iter()
            .filter_map(|&i| fields.get(i)?.parse::<f64>().ok())
            .sum();
        *out.entry(group.to_owned()).or_insert(0.0) += ticks / 100.0;
    }
    out
}

/// Load average over the last minute, to tell a quiet machine from a busy one.
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split(' ').take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runtime(name: &str, workers: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(workers)
        .thread_name(name)
        .enable_all()
        .build()
        .unwrap()
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` runs this with no such flag: keep
    // that run tiny so the test suite stays fast while still exercising the code.
    let is_bench = std::env::args().any(|a| a == "--bench");
    let deliveries = env_or("DELIVERIES", if is_bench { 20_000 } else { 200 });
    let concurrency = env_or("CONCURRENCY", 32);
    let sender = runtime("sender", env_or("SENDER_WORKERS", 2));
    let receiver = runtime("receiver", env_or("RECEIVER_WORKERS", 1));
    let secret = Arc::new(WebhookSecret::new(SECRET));
    let rejected = Arc::new(AtomicU64::new(0));
    let url = receiver.block_on(spawn_receiver(secret.clone(), rejected.clone()));
    sender.block_on(run(deliveries, concurrency, url, secret, rejected));
}

async fn spawn_receiver(secret: Arc<WebhookSecret>, rejected: Arc<AtomicU64>) -> String {
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let secret = secret.clone();
            let rejected = rejected.clone();
            async move {
                let sig = headers
                    .get("x-signature")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if verify_signature(&secret, &body, sig) {
                    (StatusCode::OK, "{\"received\":true}")
                } else {
                    rejected.fetch_add(1, Ordering::Relaxed);
                    (StatusCode::UNAUTHORIZED, "bad signature")
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "http://127.0.0.1:{}/hook",
        listener.local_addr().unwrap().port()
    );
    // Spawned on the receiver runtime (we are inside its block_on), served by its workers.
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    url
}

async fn run(
    deliveries: usize,
    concurrency: usize,
    url: String,
    secret: Arc<WebhookSecret>,
    rejected: Arc<AtomicU64>,
) {
    let client = DeliveryClient::new(DeliveryConfig {
        ssrf: SsrfPolicy::loopback_for_tests(),
        pool_max_idle_per_host: concurrency,
        ..DeliveryConfig::default()
    })
    .unwrap();
    let payload = Arc::new(common::realistic_payload());
    let options = SignOptions {
        standard_webhooks_id: Some("9c0c8b8a-1111-4222-9333-444444444444".into()),
    };

    let next = Arc::new(AtomicU64::new(0));
    let load_before = loadavg();
    let cpu_before = cpu_by_thread();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (client, payload, secret, next, url, options) = (
            client.clone(),
            payload.clone(),
            secret.clone(),
            next.clone(),
            url.clone(),
            options.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut delivered = 0u64;
            while next.fetch_add(1, Ordering::Relaxed) < deliveries as u64 {
                let t = Instant::now();
                let ts = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_secs() as i64;
                let signed = sign_attempt(&secret, &payload, ts, &options);
                let out = client
                    .deliver(DeliveryAttempt {
                        url: &url,
                        payload: &signed,
                        test_webhook: false,
                    })
                    .await;
                latencies.push(t.elapsed());
                if out.verdict == Verdict::Delivered {
                    delivered += 1;
                }
            }
            (delivered, latencies)
        }));
    }
    let mut delivered = 0;
    let mut latencies: Vec<Duration> = Vec::with_capacity(deliveries);
    for t in tasks {
        let (d, l) = t.await.unwrap();
        delivered += d;
        latencies.extend(l);
    }
    let elapsed = started.elapsed();
    let cpu_after = cpu_by_thread();
    let cpu = |group: &str| {
        cpu_after.get(group).copied().unwrap_or(0.0) - cpu_before.get(group).copied().unwrap_or(0.0)
    };
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "signed deliveries: {delivered}/{deliveries} delivered in {:.3} s = {:.0} deliveries/s \
         (concurrency {concurrency}; latency p50 {:?}, p99 {:?}, max {:?}; receiver rejected {})",
        elapsed.as_secs_f64(),
        delivered as f64 / elapsed.as_secs_f64(),
        pct(0.50),
        pct(0.99),
        latencies.last().unwrap(),
        rejected.load(Ordering::Relaxed),
    );
    let (send_cpu, recv_cpu, other_cpu) = (cpu("sender"), cpu("receiver"), cpu("other"));
    let per = |secs: f64| secs * 1e6 / deliveries as f64;
    println!(
        "cpu: sender {send_cpu:.2} s ({:.0} µs/delivery → {:.0} deliveries per sender CPU-second), \
         receiver {recv_cpu:.2} s ({:.0} µs/request), other threads {other_cpu:.2} s; \
         total {:.0} µs/delivery → {:.0} deliveries per CPU-second; load average before {load_before}, after {}",
        per(send_cpu),
        deliveries as f64 / send_cpu,
        per(recv_cpu),
        per(send_cpu + recv_cpu + other_cpu),
        deliveries as f64 / (send_cpu + recv_cpu + other_cpu),
        loadavg()
    );
    assert_eq!(
        delivered as usize, deliveries,
        "every delivery must succeed"
    );
}
