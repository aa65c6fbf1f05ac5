//! MRZ-only read of image files, one JSON line per image, for side-by-side benchmarks
//! (`bench/passporteye/run.sh` uses it to time us on the same files as PassportEye):
//! `cargo run --release -p verity-document --example read_mrz_files -- LIST > OUT.jsonl`,
//! where LIST names one image file per line.
//!
//! Each line: `{"image", "ms", "cpu_ms", "detected", "valid", "mrz_string", "error"}`. `ms` is the
//! in-process time of `DocumentEngine::read` on the file's bytes (decode included, file I/O
//! and model load excluded), visual zone and portrait crop off: only what PassportEye does.
//! `cpu_ms` is the CPU time of this (single) thread over the same call, from
//! /proc/thread-self/schedstat, so it is not inflated when other jobs share the cores.

mod common;

use std::io::Write;

use chrono::NaiveDate;
use verity_document::{DocumentEngine, ReadOptions};

/// CPU time this thread has run, in ms (Linux; 0 elsewhere).
fn thread_cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or(0.0, |ns| ns as f64 / 1e6)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let list = std::env::args()
        .nth(1)
        .ok_or("usage: read_mrz_files LIST (one image path per line)")?;
    let paths: Vec<String> = std::fs::read_to_string(&list)?
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect();
    let engine = DocumentEngine::load(&common::models_dir())?;
    // Same reference date as the corpus generator, so expiry checks do not depend on the run day.
    let opts = ReadOptions {
        today: NaiveDate::from_ymd_opt(2026, 11, 22),
        read_visual_zone: false,
        crop_portrait: false,
        ..ReadOptions::default()
    };
    // One untimed read first: tract builds the MRZ recognition plan on first use, a one-off
    // cost per process that a server pays once, not per document.
    if let Some(first) = paths.first() {
        let _ = engine.read(&std::fs::read(first)?, None, &opts);
    }
    let mut out = std::io::BufWriter::new(std::io::stdout().lock());
    for (i, path) in paths.iter().enumerate() {
        let bytes = std::fs::read(path)?;
        let (t, cpu0) = (std::time::Instant::now(), thread_cpu_ms());
        let res = engine.read(&bytes, None, &opts);
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        let cpu_ms = thread_cpu_ms() - cpu0;
        let mrz = res.as_ref().ok().and_then(|r| r.mrz.as_ref());
        let line = serde_json::json!({
            "image": path,
            "ms": ms,
            "cpu_ms": cpu_ms,
            "detected": mrz.is_some(),
            "valid": mrz.is_some_and(|m| m.valid),
            "mrz_string": mrz.map(|m| m.mrz_string.clone()),
            "error": res.as_ref().err().map(|e| e.to_string()),
        });
        writeln!(out, "{line}")?;
        out.flush()?;
        if (i + 1) % 50 == 0 {
            eprintln!("verity: {}/{} images", i + 1, paths.len());
        }
    }
    Ok(())
}
