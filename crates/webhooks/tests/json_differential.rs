//! Random JSON values (seeded) serialised by the Rust encoder must equal what CPython's `json`
//! produces for the same parsed values. Needs only `python3` (standard library); without it the
//! test says SKIPPED (or fails when VERITY_REQUIRE_PYTHON_RECEIVERS=1).

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map, Value};
use std::io::Write as _;
use std::process::Command;
use verity_webhooks::{to_canonical_v2, to_raw_body};

fn random_string(rng: &mut StdRng) -> String {
    const POOL: &[char] = &[
        'a',
        'Z',
        '0',
        ' ',
        '"',
        '\\',
        '/',
        '\n',
        '\t',
        '\u{0}',
        '\u{1f}',
        '\u{7f}',
        '\u{80}',
        'é',
        'ñ',
        'ß',
        'Ω',
        'ж',
        '中',
        '文',
        '日',
        '\u{2028}',
        '\u{feff}',
        '\u{ffff}',
        '😀',
        '🇪',
        '🇸',
        '𝄞',
        '\u{10ffff}',
    ];
    let len = rng.random_range(0..12);
    (0..len)
        .map(|_| POOL[rng.random_range(0..POOL.len())])
        .collect()
}

fn random_float(rng: &mut StdRng) -> f64 {
    loop {
        let f = match rng.random_range(0..6) {
            0 => f64::from_bits(rng.random()),
            1 => rng.random_range(-1000..1000) as f64,
            2 => rng.random_range(-1e6..1e6_f64),
            3 => (rng.random_range(0..100_000) as f64) / 100.0,
            4 => 10f64.powi(rng.random_range(-30..30)) * if rng.random() { 1.0 } else { -1.0 },
            _ => rng.random::<f64>() * 10f64.powi(rng.random_range(-8..20)),
        };
        if f.is_finite() {
            return f;
        }
    }
}

fn random_value(rng: &mut StdRng, depth: u32) -> Value {
    match rng.random_range(0..if depth > 3 { 6 } else { 8 }) {
        0 => Value::Null,
        1 => Value::Bool(rng.random()),
        2 => json!(rng.random::<i64>() >> rng.random_range(0..63)),
        3 => json!(rng.random::<u64>()),
        4 | 5 => Value::from(random_float(rng)),
        6 => Value::Array(
            (0..rng.random_range(0..5))
                .map(|_| random_value(rng, depth + 1))
                .collect(),
        ),
        _ => {
            let mut m = Map::new();
            for _ in 0..rng.random_range(0..6) {
                m.insert(random_string(rng), random_value(rng, depth + 1));
            }
            Value::Object(m)
        }
    }
}

#[test]
fn rust_encoder_equals_cpython_json_on_random_values() {
    let python = std::env::var("VERITY_PYTHON").unwrap_or_else(|_| "python3".to_owned());
    if Command::new(&python).arg("--version").output().is_err() {
        eprintln!("SKIPPED: no Python interpreter ({python})");
        assert_ne!(
            std::env::var("VERITY_REQUIRE_PYTHON_RECEIVERS").as_deref(),
            Ok("1")
        );
        return;
    }
    let mut rng = StdRng::seed_from_u64(0x5eed_d1d1);
    let path = std::env::temp_dir().join(format!("verity-json-diff-{}.jsonl", std::process::id()));
    let mut file = std::fs::File::create(&path).unwrap();
    // More cases on demand: VERITY_JSON_DIFF_CASES=100000.
    let cases: usize = std::env::var("VERITY_JSON_DIFF_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(3000);
    for _ in 0..cases {
        let mut m = Map::new();
        m.insert("v".into(), random_value(&mut rng, 0));
        let v = Value::Object(m);
        let line = json!({"raw": to_raw_body(&v), "canonical": to_canonical_v2(&v)});
        writeln!(file, "{line}").unwrap();
    }
    drop(file);
    let script = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/python/json_differential.py"
    );
    let out = Command::new(&python)
        .arg(script)
        .arg(&path)
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&path);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{cases} passed, 0 failed")),
        "{stdout}"
    );
}
