//! Full evaluation run: every listed person of the newest OFAC SDN snapshot
//! yields one case per variant kind, plus as many negatives.
//!
//! cargo run --release --example evaluate [-- PER_VARIANT]
use std::sync::Arc;
use std::time::Instant;

use verity_aml::eval::{evaluate, generate_cases, ofac_data_dir};
use verity_aml::{import_ofac_sdn, synth, DatasetIndex, ScreeningConfig};

fn main() {
    let per: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(usize::MAX);
    let ds = match ofac_data_dir() {
        Some(dir) => {
            let f = std::fs::File::open(dir.join("sdn-2024-05-03.csv")).expect("open SDN");
            let (ds, rep) = import_ofac_sdn(
                std::io::BufReader::new(f),
                "ofac_sdn",
                "2024-05-03",
                Some("2024-05-03"),
            );
            println!(
                "source: OFAC SDN 2024-05-03, {} entities, {} import errors",
                ds.entities.len(),
                rep.errors.len()
            );
            ds
        }
        None => {
            println!(
                "source: OFAC SDN folder absent; using the built-in synthetic list (20,000 people)"
            );
            synth::synthetic_dataset(20_000, 42)
        }
    };
    let idx = Arc::new(DatasetIndex::build(ds));
    let t = Instant::now();
    let persons = idx
        .dataset()
        .entities
        .iter()
        .filter(|e| e.schema == verity_aml::Schema::Person)
        .count();
    let per = per.min(persons);
    let cases = generate_cases(&idx, per, per, 2024);
    println!("generated {} cases in {:.1?}", cases.len(), t.elapsed());
    let t = Instant::now();
    let cfg = ScreeningConfig::default();
    let report = evaluate(&[idx], &cases, &cfg);
    let el = t.elapsed();
    println!(
        "screened {} cases in {:.2?} ({:.0} screenings/s)",
        cases.len(),
        el,
        cases.len() as f64 / el.as_secs_f64()
    );
    println!(
        "threshold aml_match_score_threshold = {}",
        cfg.aml_match_score_threshold
    );
    print!("{}", report.table());
    println!("sample failures:");
    for (c, best) in &report.failures {
        println!(
            "  {:?} {:?} (from {:?}) best hit {:?}",
            c.variant, c.query, c.source, best
        );
    }
}
