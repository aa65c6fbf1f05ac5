//! Runs a script of tests/browser (Node + playwright-core + Debian's Chromium) against a test
//! server, answering the script's `ASK <question>` lines and collecting its `INFO <text>` lines.
//! Returns `None` when the browser tests cannot run here and `VERITY_REQUIRE_BROWSER` is not
//! `1`; otherwise the INFO lines, once the script printed `DONE` and exited with success.

use std::process::Stdio;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

pub async fn run_script<F, Fut>(script: &str, args: &[String], mut answer: F) -> Option<Vec<String>>
where
    F: FnMut(String) -> Fut,
    Fut: std::future::Future<Output = String>,
{
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../tests/browser");
    let node = std::env::var("VERITY_NODE").unwrap_or_else(|_| "node".into());
    let chromium = std::env::var("VERITY_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let missing = if std::process::Command::new(&node)
        .arg("--version")
        .output()
        .is_err()
    {
        Some(format!("no Node.js ({node})"))
    } else if !std::path::Path::new(&chromium).exists() {
        Some(format!("no Chromium at {chromium}"))
    } else if !std::path::Path::new(dir)
        .join("node_modules/playwright-core")
        .exists()
    {
        Some(format!(
            "playwright-core is not installed: run `npm ci` in {dir}"
        ))
    } else {
        None
    };
    // The pages do not depend on the database engine: scripts/test runs the browser tests in
    // the SQLite pass only, which keeps the PostgreSQL pass (storage behaviour) short.
    if std::env::var("VERITY_TEST_DATABASE").as_deref() == Ok("postgres")
        && std::env::var("VERITY_BROWSER_ON_POSTGRES").as_deref() == Ok("0")
    {
        eprintln!("SKIPPED: browser tests run in the SQLite pass (VERITY_BROWSER_ON_POSTGRES=0)");
        return None;
    }
    if let Some(reason) = missing {
        assert!(
            std::env::var("VERITY_REQUIRE_BROWSER").as_deref() != Ok("1"),
            "browser tests required but: {reason}"
        );
        eprintln!("SKIPPED: {reason}");
        return None;
    }
    let mut child = tokio::process::Command::new(&node)
        .current_dir(dir)
        .env("VERITY_CHROMIUM", &chromium)
        .arg(script)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("node starts");
    let mut stdin = child.stdin.take().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut done = false;
    let mut infos = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        if line == "DONE" {
            done = true;
        } else if let Some(info) = line.strip_prefix("INFO ") {
            infos.push(info.to_owned());
        } else if let Some(question) = line.strip_prefix("ASK ") {
            let reply = answer(question.to_owned()).await;
            stdin
                .write_all(format!("{reply}\n").as_bytes())
                .await
                .unwrap();
        } else {
            panic!("unexpected line from {script}: {line}");
        }
    }
    let output = child.wait_with_output().await.unwrap();
    assert!(
        output.status.success() && done,
        "{script} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(infos)
}

/// `target/browser-artifacts/{name}`: where the scripts put their screenshots.
pub fn artifacts(name: &str) -> String {
    format!(
        "{}/../../target/browser-artifacts/{name}",
        env!("CARGO_MANIFEST_DIR")
    )
}
