//! The `verity` binary itself: first start, application and key management, and the refusal to
//! run in production mode without secrets.

use std::process::{Command, Output};

fn verity(data_dir: &std::path::Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_verity"));
    command
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .env_remove("VERITY_DATABASE_URL");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("verity runs")
}

fn stdout(output: &Output) -> String {
    assert!(
        output.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone()).unwrap()
}

fn field<'a>(text: &'a str, label: &str) -> &'a str {
    text.lines()
        .find(|l| l.trim_start().starts_with(label))
        .and_then(|l| l.split_whitespace().last())
        .unwrap_or_else(|| panic!("no {label} in {text}"))
}

#[tokio::test]
async fn app_create_list_and_key_rotate() {
    let dir = tempfile::tempdir().unwrap();
    let out = stdout(&verity(dir.path(), &["migrate"], &[]));
    assert!(out.contains("up to date"));

    let created = stdout(&verity(
        dir.path(),
        &["app", "create", "--name", "Shop", "--sandbox"],
        &[],
    ));
    let app_id = field(&created, "application id").to_owned();
    let first_key = field(&created, "API key").to_owned();
    assert_eq!(first_key.len(), 43);

    let listed = stdout(&verity(dir.path(), &["app", "list"], &[]));
    let row = listed
        .lines()
        .find(|l| l.starts_with(&app_id))
        .expect("listed");
    assert!(row.contains("sandbox") && row.contains("Shop"), "{row}");

    let rotated = stdout(&verity(
        dir.path(),
        &["key", "rotate", "--app", &app_id],
        &[],
    ));
    let new_key = rotated.lines().last().unwrap().trim().to_owned();
    assert_ne!(new_key, first_key);

    // The database holds digests only: neither key appears in it in the clear.
    let database = std::fs::read(dir.path().join("verity.db")).unwrap();
    let haystack = String::from_utf8_lossy(&database);
    assert!(!haystack.contains(&first_key) && !haystack.contains(&new_key));

    let unknown = verity(
        dir.path(),
        &["key", "rotate", "--app", &uuid::Uuid::new_v4().to_string()],
        &[],
    );
    assert!(!unknown.status.success());
}

#[tokio::test]
async fn production_mode_refuses_to_start_without_a_master_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = verity(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0"],
        &[("VERITY_MODE", "production")],
    );
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("VERITY_MASTER_KEY"), "{stderr}");
    let placeholder = "00".repeat(32);
    let output = verity(
        dir.path(),
        &["serve", "--listen", "127.0.0.1:0"],
        &[
            ("VERITY_MODE", "production"),
            ("VERITY_MASTER_KEY", placeholder.as_str()),
        ],
    );
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("placeholder"));
}
