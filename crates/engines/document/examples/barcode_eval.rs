//! PDF417 benchmark on the US driving-licence backs of the synthetic corpus, without the OCR
//! models: `cargo run --release -p verity-document --example barcode_eval -- [N=500] [SEED=7]
//! [--clean] [--dump DIR]`.
//!
//! It photographs the same backs with the same perturbations as `evaluate N SEED` (corpus items
//! `i < N` with `i % 6 == 5`), runs only `barcode::decode` on them the way the engine does
//! (JPEG → RGB → grey) and counts exact payload matches and backs where another payload was
//! returned (a wrong decode, which must stay 0). It prints the rate, the failures
//! broken down by perturbation, the barcode's narrowest bar in photo pixels and the decode time.
//! It also sets the engine's blur diagnosis beside the truth: each back's photographic blur
//! relative to its narrowest bar (`blur/bar`, from the generator), the rate by that ratio, and
//! how many unread backs the engine called too blurred ([`UnreadPdf417::too_blurred`]); and it
//! decodes every licence front (no barcode) to count false "barcode found" claims.
//! `--all` lists every back, not only the failures. `--clean` also decodes every back flat and
//! photographed without perturbation (both must be 100 %, otherwise the generator is at
//! fault); `--dump DIR` writes every back's photo there, named `NNNN_back_decoded.jpg` or
//! `NNNN_back_failed.jpg`, with the true payload in `NNNN_back_payload.txt` (to score other
//! decoders on them).

mod common;

use chrono::NaiveDate;
use image::imageops;
use verity_document::barcode::{self, Scan, UnreadPdf417};
use verity_document::synth::{self, Assets, DocKind, Photo};

/// Width of the rendered PDF417 rectangle in photo pixels per module, i.e. the narrowest bar
/// (the encoder's matrix includes a quiet zone that `synth` scales into the same rectangle).
fn module_px(payload: &str, scale: f32) -> f32 {
    let m = synth::licence_barcode_matrix(payload);
    synth::LICENCE_BARCODE_MM.2 * synth::PX_MM / m.width() as f32 * scale
}

fn gray_of(jpeg: &[u8]) -> image::GrayImage {
    let rgb = image::load_from_memory(jpeg).expect("own JPEG").to_rgb8();
    imageops::grayscale(&rgb)
}

/// The scan of one image and the time it took.
fn scanned(gray: &image::GrayImage) -> (Scan, f64) {
    let t = std::time::Instant::now();
    let scan = barcode::decode(gray);
    (scan, t.elapsed().as_secs_f64() * 1000.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let nums: Vec<u64> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let n = nums.first().copied().unwrap_or(500) as usize;
    let seed = nums.get(1).copied().unwrap_or(7);
    let clean = args.iter().any(|a| a == "--clean");
    let all = args.iter().any(|a| a == "--all");
    let dump = args
        .iter()
        .position(|a| a == "--dump")
        .and_then(|i| args.get(i + 1))
        .map(std::path::PathBuf::from);
    if let Some(d) = &dump {
        std::fs::create_dir_all(d)?;
    }
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).ok_or("date")?;
    let assets = Assets::load(&common::models_dir())?;

    // (name, predicate) pairs for the per-perturbation table.
    type Pred = fn(&Photo) -> bool;
    let factors: [(&str, Pred); 10] = [
        ("scale<0.8", |p| p.scale < 0.8),
        ("blur", |p| p.blur_sigma > 0.0),
        ("blur>0.8", |p| p.blur_sigma > 0.8),
        ("jpeg q30", |p| p.jpeg_quality == 30),
        ("|rot|>5", |p| p.rotation_deg.abs() > 5.0),
        ("perspective", |p| p.perspective > 0.0),
        ("glare", |p| p.glare),
        ("dim", |p| p.dim < 1.0),
        ("noise", |p| p.noise_sigma > 0.0),
        ("clutter", |p| p.clutter),
    ];
    let mut counts = vec![(0usize, 0usize); factors.len()];
    let (mut total, mut ok, mut wrong, mut clean_ok) = (0usize, 0usize, 0usize, 0usize);
    let mut times = Vec::new();
    let mut variants = std::collections::BTreeMap::<String, usize>::new();
    // Blur over narrowest bar (truth), read, and the engine's verdict when unread.
    let mut by_blur: Vec<(f32, bool, Option<UnreadPdf417>)> = Vec::new();
    let (mut fronts, mut fronts_claimed) = (0usize, 0usize);
    for i in (0..n).filter(|i| i % 6 == 5) {
        debug_assert_eq!(DocKind::ALL[i % 6], DocKind::UsDrivingLicence);
        let item = synth::corpus_item(&assets, seed, i, today);
        let (Some(back), Some(payload)) = (&item.back, &item.truth.barcode_payload) else {
            continue;
        };
        total += 1;
        let p = item.photo;
        let (scan, ms) = scanned(&gray_of(back));
        let hit = scan.read().is_some_and(|c| &c.data == payload);
        wrong += scan.read().is_some_and(|c| &c.data != payload) as usize;
        times.push(ms);
        if let (true, Some(c)) = (hit, scan.read()) {
            *variants.entry(c.variant.clone()).or_default() += 1;
        }
        ok += hit as usize;
        let unread = scan.unread();
        let blur_per_bar = p.blur_sigma / module_px(payload, p.scale);
        by_blur.push((blur_per_bar, hit, unread));
        fronts += 1;
        fronts_claimed += scanned(&gray_of(&item.front)).0.unread().is_some() as usize;
        for (c, (_, f)) in counts.iter_mut().zip(&factors) {
            if f(&p) {
                c.0 += 1;
                c.1 += !hit as usize;
            }
        }
        if all || !hit {
            let verdict = match (hit, unread) {
                (true, _) => "read".to_string(),
                (false, Some(u)) => format!("unread, measured blur {:.2}", u.blur),
                (false, None) => "not found".to_string(),
            };
            println!(
                "doc {i} {verdict}: blur/bar {blur_per_bar:.2}, module {:.2} px, {p} ({ms:.0} ms)",
                module_px(payload, p.scale)
            );
        }
        if let Some(d) = &dump {
            let outcome = if hit { "decoded" } else { "failed" };
            std::fs::write(d.join(format!("{i:04}_back_{outcome}.jpg")), back)?;
            std::fs::write(d.join(format!("{i:04}_back_payload.txt")), payload)?;
        }
        if clean {
            // Same document, flat and photographed without perturbation.
            let s = seed.wrapping_mul(1_000_003).wrapping_add(i as u64);
            let doc = synth::render(&assets, DocKind::UsDrivingLicence, s, today);
            let flat = doc.back.as_ref().ok_or("back")?;
            let photo = synth::photograph(flat, &Photo::clean(), s ^ 1);
            let reads =
                |g: &image::GrayImage| scanned(g).0.read().is_some_and(|c| &c.data == payload);
            let (a, b) = (reads(&imageops::grayscale(flat)), reads(&gray_of(&photo)));
            clean_ok += (a && b) as usize;
            if !(a && b) {
                println!("clean doc {i}: flat {a}, photographed {b}");
            }
        }
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let q = |f: f64| times[((times.len() - 1) as f64 * f) as usize];
    println!(
        "PDF417 decoded {ok}/{total} = {:.1}%, read wrong {wrong}",
        100.0 * ok as f64 / total.max(1) as f64
    );
    if clean {
        println!("unperturbed (flat and photographed) {clean_ok}/{total}");
    }
    println!("failures by perturbation (failed/with):");
    for ((name, _), (with, failed)) in factors.iter().zip(&counts) {
        println!("  {name:<12} {failed}/{with}");
    }
    println!("decoded by variant: {variants:?}");
    println!("by blur/bar (photo blur σ over the narrowest bar): read/backs, called too blurred");
    for (lo, hi) in [
        (0.0, 0.5),
        (0.5, 0.6),
        (0.6, 0.7),
        (0.7, 0.8),
        (0.8, f32::MAX),
    ] {
        let band: Vec<_> = by_blur.iter().filter(|b| b.0 >= lo && b.0 < hi).collect();
        println!(
            "  {lo:.1}..{}  {}/{}  {}",
            if hi == f32::MAX {
                "".to_string()
            } else {
                format!("{hi:.1}")
            },
            band.iter().filter(|b| b.1).count(),
            band.len(),
            band.iter()
                .filter(|b| b.2.is_some_and(|u| u.too_blurred()))
                .count()
        );
    }
    let unread: Vec<_> = by_blur.iter().filter_map(|b| b.2).collect();
    println!(
        "unread but located {} of {} failures, {} called too blurred; licence fronts claimed \
         to hold an unread PDF417: {fronts_claimed}/{fronts}",
        unread.len(),
        total - ok,
        unread.iter().filter(|u| u.too_blurred()).count()
    );
    if !times.is_empty() {
        println!(
            "ms per back: mean {:.0}  p50 {:.0}  p90 {:.0}  max {:.0}",
            times.iter().sum::<f64>() / times.len() as f64,
            q(0.5),
            q(0.9),
            q(1.0)
        );
    }
    Ok(())
}
