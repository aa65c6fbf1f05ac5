//! Write a synthetic corpus to a directory: `cargo run --release --example generate -- OUT_DIR [N] [SEED]`.
//! Each document gives `NNNN_front.jpg`, optional `NNNN_back.jpg` and `NNNN.json` (ground truth).

mod common;

use chrono::NaiveDate;
use verity_document::synth::{self, Assets};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let out = std::path::PathBuf::from(args.get(1).ok_or("usage: generate OUT_DIR [N] [SEED]")?);
    let n: usize = args.get(2).map(|s| s.parse()).transpose()?.unwrap_or(60);
    let seed: u64 = args.get(3).map(|s| s.parse()).transpose()?.unwrap_or(7);
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).ok_or("date")?;
    let assets = Assets::load(&common::models_dir())?;
    std::fs::create_dir_all(&out)?;
    for i in 0..n {
        let item = synth::corpus_item(&assets, seed, i, today);
        std::fs::write(out.join(format!("{i:04}_front.jpg")), &item.front)?;
        if let Some(b) = &item.back {
            std::fs::write(out.join(format!("{i:04}_back.jpg")), b)?;
        }
        let meta = serde_json::json!({ "truth": item.truth, "photo": item.photo });
        std::fs::write(
            out.join(format!("{i:04}.json")),
            serde_json::to_string_pretty(&meta)?,
        )?;
    }
    println!("wrote {n} documents to {}", out.display());
    Ok(())
}
