//! Full evaluation on the synthetic corpus:
//! `cargo run --release --example evaluate -- [N=500] [SEED=7] [--no-viz] [--json OUT] [--only I,J,…]
//! [--assert-targets]`.
//!
//! `--only` reads just the listed corpus indices (of the same corpus: N does not matter then);
//! every miss is printed with the MRZ read next to the truth.
//!
//! `--assert-targets` exits non-zero unless the targets hold: MRZ fully correct ≥ 98 %,
//! PDF417 decoded ≥ 95 %, no document verified with a wrong field.

mod common;

use chrono::NaiveDate;
use verity_document::{eval, synth::Assets, DocumentEngine, ReadOptions};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // Positional numbers, not the values of `--only` / `--json`.
    let nums: Vec<u64> = args
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || !matches!(args[i - 1].as_str(), "--only" | "--json"))
        .filter_map(|(_, a)| a.parse().ok())
        .collect();
    let n = nums.first().copied().unwrap_or(500) as usize;
    let seed = nums.get(1).copied().unwrap_or(7);
    let viz = !args.iter().any(|a| a == "--no-viz");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1));
    let json_out = args
        .iter()
        .position(|a| a == "--json")
        .and_then(|i| args.get(i + 1));
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).ok_or("date")?;

    let rss0 = common::rss_kib();
    let t = std::time::Instant::now();
    let engine = DocumentEngine::load(&common::models_dir())?;
    let load_ms = t.elapsed().as_secs_f64() * 1000.0;
    let rss1 = common::rss_kib();
    let assets = Assets::load(&common::models_dir())?;
    let opts = ReadOptions {
        read_visual_zone: viz,
        ..ReadOptions::default()
    };
    let indices: Vec<usize> = match only {
        Some(list) => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
        None => (0..n).collect(),
    };
    let report = eval::evaluate(&engine, &assets, indices, seed, today, &opts, |r, item| {
        if let Some(line) = eval::failure_line(r, item) {
            eprintln!("{line}");
        }
    });
    let mut times: Vec<f64> = report.items.iter().map(|i| i.millis).collect();
    times.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    let p = |q: f64| {
        times
            .get(((times.len() as f64 - 1.0) * q) as usize)
            .copied()
            .unwrap_or(0.0)
    };
    println!("documents            {}", report.documents);
    println!("visual zone read     {viz}");
    println!(
        "MRZ fully correct    {}/{} = {:.2}%",
        report.mrz_correct,
        report.mrz_documents,
        100.0 * report.mrz_accuracy()
    );
    println!(
        "PDF417 decoded       {}/{} = {:.2}%",
        report.pdf417_decoded,
        report.pdf417_documents,
        100.0 * report.pdf417_rate()
    );
    println!("verified             {}", report.verified);
    println!("verified, wrong field {}", report.verified_but_wrong);
    println!(
        "unread PDF417 reported {} (phantom {})",
        report.items.iter().filter(|i| i.pdf417_unread).count(),
        report.phantom_unread_pdf417
    );
    println!(
        "ms/document (front+back) p50 {:.0}  p90 {:.0}  max {:.0}",
        p(0.5),
        p(0.9),
        p(1.0)
    );
    println!(
        "model load {:.0} ms, RSS +{} MiB after load",
        load_ms,
        (rss1.saturating_sub(rss0)) / 1024
    );
    if let Some(path) = json_out {
        std::fs::write(path, serde_json::to_string_pretty(&report)?)?;
    }
    if args.iter().any(|a| a == "--assert-targets") {
        let mut missed = Vec::new();
        let pct = |r: f64| 100.0 * r;
        if report.mrz_accuracy() < eval::MRZ_TARGET {
            missed.push(format!(
                "MRZ {:.2}% < {}%",
                pct(report.mrz_accuracy()),
                pct(eval::MRZ_TARGET)
            ));
        }
        if report.pdf417_rate() < eval::PDF417_TARGET {
            missed.push(format!(
                "PDF417 {:.2}% < {}%",
                pct(report.pdf417_rate()),
                pct(eval::PDF417_TARGET)
            ));
        }
        if report.verified_but_wrong > 0 {
            missed.push(format!(
                "{} verified with a wrong field",
                report.verified_but_wrong
            ));
        }
        if !missed.is_empty() {
            return Err(format!("targets not met: {}", missed.join(", ")).into());
        }
    }
    Ok(())
}
