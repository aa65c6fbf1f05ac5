//! The network-free MRZ reader ([`verity_document::mrz_glyph`]) alone on the synthetic corpus:
//! `cargo run --release -p verity-document --example glyph_eval -- [N=500] [SEED=7] [--all]`.
//!
//! For every document with an MRZ (the same photos as `evaluate N SEED`) it finds the MRZ's
//! lines by morphology ([`verity_document::text_lines`]) and, separately, with PP-OCR's
//! detector, reads them by glyph
//! matching and counts readings taken and right, taken and wrong (must stay 0: a wrong
//! reading taken is not re-read by PP-OCR) and left to PP-OCR. It prints each reading left or
//! wrong with its weakest cell, and the time of each path.

mod common;

use chrono::NaiveDate;
use verity_document::engine::decode_image;
use verity_document::mrz_glyph::{accept, GlyphReader};
use verity_document::ocr::long_lines;
use verity_document::synth::{self, Assets};
use verity_document::DocumentEngine;

#[derive(Default)]
struct Tally {
    right: usize,
    wrong: usize,
    left: usize,
    ms: Vec<f64>,
    glyph_ms: Vec<f64>,
    /// Weakest cell score and lead of each reading taken, and whether it was right.
    weakest: Vec<(f32, f32, bool)>,
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let nums: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let n = nums.first().copied().unwrap_or(500) as usize;
    let seed = nums.get(1).copied().unwrap_or(7);
    let all = args.iter().any(|a| a == "--all");
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).ok_or("date")?;
    let dir = common::models_dir();
    let assets = Assets::load(&dir)?;
    let engine = DocumentEngine::load(&dir)?;
    let glyphs = GlyphReader::load().ok_or("OCR-B font missing: run fetch-models.sh")?;
    let mut tallies = [Tally::default(), Tally::default()];
    for i in 0..n {
        let item = synth::corpus_item(&assets, seed, i, today);
        if item.truth.kind.mrz_format().is_none() {
            continue;
        }
        // The MRZ is on the back of an ID card, on the front of the rest.
        let side = match &item.back {
            Some(b)
                if item.truth.kind.mrz_format() == Some(verity_document::mrz::MrzFormat::Td1) =>
            {
                b
            }
            _ => &item.front,
        };
        let rgb = decode_image(side)?;
        let gray = image::imageops::grayscale(&rgb);
        for (path, tally) in ["located", "full"].iter().zip(tallies.iter_mut()) {
            let t = std::time::Instant::now();
            let boxes = if *path == "located" {
                verity_document::text_lines::find(&gray)
            } else {
                engine.ocr().detect(&rgb)?
            };
            let t_glyph = std::time::Instant::now();
            let lines = long_lines(&boxes);
            let line_sizes: Vec<String> = lines
                .iter()
                .map(|b| format!("{:.0}x{:.0}", b.width(), b.height()))
                .collect();
            let readings: Vec<_> = glyphs.readings(&gray, lines).collect();
            let taken = readings
                .iter()
                .find_map(|(r, _)| Some((accept(r, today)?, r)));
            let weakest = taken.as_ref().map(|(_, r)| {
                r.iter()
                    .flat_map(|l| l.cells.iter())
                    .fold((f32::MAX, f32::MAX), |a, c| {
                        (a.0.min(c.score), a.1.min(c.lead))
                    })
            });
            let taken = taken.map(|(m, _)| m.lines);
            if let (Some(w), Some(lines)) = (weakest, &taken) {
                tally
                    .weakest
                    .push((w.0, w.1, *lines == item.truth.mrz_lines));
            }
            tally.ms.push(t.elapsed().as_secs_f64() * 1000.0);
            tally
                .glyph_ms
                .push(t_glyph.elapsed().as_secs_f64() * 1000.0);
            let outcome = match &taken {
                Some(lines) if *lines == item.truth.mrz_lines => {
                    tally.right += 1;
                    "right"
                }
                Some(_) => {
                    tally.wrong += 1;
                    "WRONG"
                }
                None => {
                    tally.left += 1;
                    "left"
                }
            };
            if all || outcome != "right" {
                println!(
                    "doc {i} {:?} {path}: {outcome}, long lines {line_sizes:?} ({})",
                    item.truth.kind, item.photo
                );
                for (read, _) in &readings {
                    for (l, truth) in read.iter().zip(
                        item.truth
                            .mrz_lines
                            .iter()
                            .chain(std::iter::repeat(&String::new())),
                    ) {
                        let (k, s, d) = l
                            .cells
                            .iter()
                            .enumerate()
                            .min_by(|a, b| a.1.score.total_cmp(&b.1.score))
                            .map(|(k, c)| (k, c.score, c.lead))
                            .unwrap_or((0, 0.0, 0.0));
                        let mark = if l.text() == *truth { "=" } else { "≠" };
                        println!(
                            "    {mark} {} weakest cell {k}: {s:.2} (lead {d:.2})",
                            l.text()
                        );
                    }
                }
                if outcome == "WRONG" || (all && outcome == "left") {
                    for t in &item.truth.mrz_lines {
                        println!("    truth {t}");
                    }
                }
            }
        }
    }
    for (path, t) in ["located", "full"].iter().zip(tallies.iter_mut()) {
        for floor in [0.5f32, 0.6, 0.65, 0.7, 0.75] {
            for lead in [0.0f32, 0.01, 0.02, 0.04] {
                let kept = |right: bool| {
                    t.weakest
                        .iter()
                        .filter(|w| w.2 == right && w.0 >= floor && w.1 >= lead)
                        .count()
                };
                println!(
                    "{path} floor {floor} lead {lead}: right {} wrong {}",
                    kept(true),
                    kept(false)
                );
            }
        }
        let total = t.right + t.wrong + t.left;
        println!(
            "{path}: right {}/{total} = {:.1} %, WRONG {}, left to PP-OCR {}; median {:.0} ms (detector + glyph reader), glyph reader alone {:.0} ms",
            t.right,
            100.0 * t.right as f64 / total.max(1) as f64,
            t.wrong,
            t.left,
            median(&mut t.ms),
            median(&mut t.glyph_ms)
        );
    }
    Ok(())
}
