//! Receivers nobody here wrote accept what the Rust signer produces: didit-sdk 0.4.0's verifiers,
//! seed 003's FastAPI receiver as written (in-process and over real HTTP with uvicorn), the
//! Standard Webhooks reference library, and seed 003's Node.js `verifyWebhook` (where JavaScript
//! numbers allow: see `js_renders_differently`).
//!
//! Python is found through `VERITY_PYTHON` (e.g. a venv with `pip install didit-sdk==0.4.0 fastapi
//! uvicorn standardwebhooks`), else `python3`. Missing pieces are reported as SKIPPED on stderr;
//! set `VERITY_REQUIRE_PYTHON_RECEIVERS=1` (CI) to turn a skip into a failure.

use serde_json::{json, Map, Value};
use std::io::Write as _;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};
use verity_webhooks::{
    session_envelope_v3, sign_attempt, DeliveryAttempt, DeliveryClient, DeliveryConfig, EventType,
    SessionEvent, SignOptions, SsrfPolicy, Verdict, WebhookSecret,
};

const SECRET: &str = "kX3v_9QzL2mP8wR4tY6uI0oA1sD5fG7hJ-cVbNnMqEe";

fn python() -> String {
    std::env::var("VERITY_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

fn python_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/python")
}

fn require() -> bool {
    std::env::var("VERITY_REQUIRE_PYTHON_RECEIVERS").is_ok_and(|v| v == "1")
}

fn skip(reason: &str) {
    eprintln!("SKIPPED: {reason}");
    assert!(
        !require(),
        "VERITY_REQUIRE_PYTHON_RECEIVERS=1 but skipped: {reason}"
    );
}

fn python_has(module: &str) -> bool {
    Command::new(python())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .args(["-c", &format!("import {module}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn event(status: &str, decision: Value) -> SessionEvent {
    SessionEvent {
        event_id: format!("evt-{}", status.replace(' ', "-")),
        webhook_type: EventType::StatusUpdated,
        timestamp: 0,
        created_at: 1774969994,
        application_id: "11111111-2222-3333-4444-555555555555".into(),
        environment: "live".into(),
        session_id: "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee".into(),
        status: status.into(),
        workflow_id: Some("22222222-3333-4444-5555-666666666666".into()),
        workflow_version: Some(4),
        vendor_data: Some("usuario-ñ-42".into()),
        metadata: Some(json!({"plan": "premium", "note": "naïve café 🚀"})),
        decision: Some(decision),
        resubmit_info: Some(
            json!({"nodes_to_resubmit": ["id_verification_1"], "reasons": {"id_verification_1": "Foto borrosa"}}),
        ),
        kyb: None,
    }
}

/// Payloads: realistic envelopes built by our builders plus every golden-vector input.
fn payloads() -> Vec<(String, Value)> {
    let decision = json!({
        "session_id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "status": "Approved",
        "id_verifications": [{"node_id": "id_verification_1", "status": "Approved", "first_name": "José", "last_name": "王小明 😀",
                              "age": 34.0, "warnings": []}],
        "liveness_checks": [{"node_id": "liveness_1", "status": "Approved", "score": 92.0, "warnings": []}],
        "face_matches": [{"node_id": "face_match_1", "status": "Approved", "score": 0.1, "warnings": []}],
        "aml_screenings": [{"score": 1e-7, "hits": [[1.5, [2.0]], {"z": 1, "a": 2}]}],
        "reviews": []
    });
    let mut out = vec![];
    for status in [
        "Approved",
        "Declined",
        "In Review",
        "Abandoned",
        "Resubmitted",
        "In Progress",
    ] {
        out.push((
            format!("envelope {status}"),
            session_envelope_v3(&event(status, decision.clone())),
        ));
    }
    let vectors: Value = serde_json::from_str(include_str!("vectors.json")).unwrap();
    for v in vectors["vectors"].as_array().unwrap() {
        let input: Value = serde_json::from_str(v["input"].as_str().unwrap()).unwrap();
        out.push((format!("vector {}", v["name"].as_str().unwrap()), input));
    }
    out
}

fn cases_json() -> Value {
    let secret = WebhookSecret::new(SECRET);
    let mut cases = vec![];
    for (name, payload) in payloads() {
        let id = payload
            .get("event_id")
            .and_then(Value::as_str)
            .unwrap_or("msg_entity")
            .to_owned();
        let signed = sign_attempt(
            &secret,
            &payload,
            now(),
            &SignOptions {
                standard_webhooks_id: Some(id),
            },
        );
        let headers: Map<String, Value> = signed
            .headers
            .to_pairs()
            .into_iter()
            .map(|(k, v)| (k.to_owned(), Value::String(v)))
            .collect();
        cases.push(json!({
            "name": name,
            "secret": SECRET,
            "whsec": secret.standard_webhooks_secret(),
            "body": std::str::from_utf8(&signed.body).unwrap(),
            "headers": headers,
            "session": payload.get("session_id").is_some(),
        }));
    }
    json!({ "cases": cases })
}

#[test]
fn third_party_python_verifiers_accept_rust_signatures() {
    if Command::new(python())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg("--version")
        .output()
        .is_err()
    {
        return skip(&format!(
            "no Python interpreter ({}); set VERITY_PYTHON",
            python()
        ));
    }
    let dir = std::env::temp_dir().join(format!("verity-webhooks-py-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cases_path = dir.join("cases.json");
    std::fs::File::create(&cases_path)
        .unwrap()
        .write_all(cases_json().to_string().as_bytes())
        .unwrap();
    let out = Command::new(python())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .arg(python_dir().join("check_receivers.py"))
        .arg(&cases_path)
        .output()
        .expect("run check_receivers.py");
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        out.status.success(),
        "check_receivers.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    for reason in report["skipped"].as_array().unwrap() {
        skip(reason.as_str().unwrap());
    }
    let results = report["results"].as_array().unwrap();
    let failed: Vec<&Value> = results.iter().filter(|r| r["ok"] != true).collect();
    assert!(
        failed.is_empty(),
        "{} of {} checks failed: {failed:#?}",
        failed.len(),
        results.len()
    );
    let mut checks: Vec<&str> = results
        .iter()
        .map(|r| r["check"].as_str().unwrap())
        .collect();
    checks.sort();
    checks.dedup();
    eprintln!(
        "{} checks passed over {} kinds: {checks:?}",
        results.len(),
        checks.len()
    );
}

struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Seed 003's FastAPI app, run by uvicorn on a loopback port, receives real deliveries from the
/// Rust delivery client.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn seed003_fastapi_receiver_over_real_http() {
    if !python_has("uvicorn") || !python_has("fastapi") {
        return skip(&format!(
            "{} lacks uvicorn/fastapi for the seed 003 receiver",
            python()
        ));
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = KillOnDrop(
        Command::new(python())
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .args([
                "-m",
                "uvicorn",
                "seed003_fastapi_app:app",
                "--host",
                "127.0.0.1",
                "--log-level",
                "warning",
            ])
            .args(["--port", &port.to_string(), "--app-dir"])
            .arg(python_dir())
            .env("DIDIT_WEBHOOK_SECRET", SECRET)
            .stdout(Stdio::null())
            .spawn()
            .expect("start uvicorn"),
    );
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "uvicorn did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let client = DeliveryClient::new(DeliveryConfig {
        ssrf: SsrfPolicy::loopback_for_tests(),
        ..DeliveryConfig::default()
    })
    .unwrap();
    let url = format!("http://127.0.0.1:{port}/api/webhook");
    let mut delivered = 0;
    for (name, payload) in payloads()
        .into_iter()
        .filter(|(_, p)| p.get("session_id").is_some())
    {
        let signed = sign_attempt(
            &WebhookSecret::new(SECRET),
            &payload,
            now(),
            &SignOptions::default(),
        );
        let out = client
            .deliver(DeliveryAttempt {
                url: &url,
                payload: &signed,
                test_webhook: false,
            })
            .await;
        assert_eq!(out.verdict, Verdict::Delivered, "{name}: {out:?}");
        assert_eq!(out.response_body, "{\"received\":true}", "{name}");
        delivered += 1;
        // The same payload under another secret is refused (401 → give up).
        let forged = sign_attempt(
            &WebhookSecret::new("forged"),
            &payload,
            now(),
            &SignOptions::default(),
        );
        let out = client
            .deliver(DeliveryAttempt {
                url: &url,
                payload: &forged,
                test_webhook: false,
            })
            .await;
        assert_eq!(
            (out.verdict, out.status),
            (Verdict::GiveUp, Some(401)),
            "{name}"
        );
    }
    assert!(delivered >= 10, "{delivered}");
    drop(server);
}

/// Whether JavaScript's `JSON.stringify(JSON.parse(..))` cannot reproduce Python's canonical
/// form for this value, so seed 003's Node verifier must reject X-Signature-V2 (a limit of
/// Didit's scheme for JS receivers, not of our signer): non-whole floats below 1e-4 (Python
/// `1e-05`, JS `0.00001`), magnitudes from 1e21 (JS `1e+21`, Python exact int), integers beyond
/// 2^53 (JS loses digits).
fn js_renders_differently(v: &Value) -> bool {
    match v {
        Value::Number(n) => {
            if let Some(f) = n.as_f64().filter(|_| n.is_f64()) {
                (f != 0.0 && f.fract() != 0.0 && f.abs() < 1e-4) || f.abs() >= 1e21
            } else {
                n.as_i64().is_none_or(|i| i.unsigned_abs() > 1 << 53)
                    && n.as_u64().is_none_or(|u| u > 1 << 53)
            }
        }
        Value::Array(a) => a.iter().any(js_renders_differently),
        Value::Object(m) => m.values().any(js_renders_differently),
        _ => false,
    }
}

#[test]
fn seed003_node_verifier_accepts_rust_signatures_where_js_numbers_allow() {
    let node = std::env::var("VERITY_NODE").unwrap_or_else(|_| "node".to_owned());
    if Command::new(&node).arg("--version").output().is_err() {
        return skip(&format!("no Node.js interpreter ({node}); set VERITY_NODE"));
    }
    let cases = cases_json();
    let path =
        std::env::temp_dir().join(format!("verity-webhooks-node-{}.json", std::process::id()));
    std::fs::write(&path, cases.to_string()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/node/seed003_express_verify.js");
    let out = Command::new(&node)
        .arg(script)
        .arg(&path)
        .output()
        .expect("run node");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = report["results"].as_array().unwrap();
    let (mut accepted, mut expected_rejections) = (0, 0);
    for (case, result) in cases["cases"].as_array().unwrap().iter().zip(results) {
        let body: Value = serde_json::from_str(case["body"].as_str().unwrap()).unwrap();
        let divergent = js_renders_differently(&body);
        assert_eq!(
            result["ok"], !divergent,
            "{}: node accepted={} but js-divergent={divergent}",
            case["name"], result["ok"]
        );
        if divergent {
            expected_rejections += 1;
        } else {
            accepted += 1;
        }
    }
    eprintln!("seed 003 Node verifier: {accepted} accepted, {expected_rejections} rejected as predicted (JS number rendering)");
    assert!(accepted >= 8, "{accepted}");
}
