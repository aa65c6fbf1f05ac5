//! Quality gate on a generated, labelled evaluation set (smaller than the
//! full `examples/evaluate.rs` run so that it stays fast in debug builds).

use std::sync::Arc;

use verity_aml::eval::{evaluate, generate_cases, ofac_data_dir, Variant};
use verity_aml::{import_ofac_sdn, synth, DatasetIndex, ScreeningConfig};

#[test]
fn recall_and_precision_at_default_threshold() {
    let ds = match ofac_data_dir() {
        Some(dir) => {
            let f = std::fs::File::open(dir.join("sdn-2024-05-03.csv")).expect("open SDN");
            let (ds, _) =
                import_ofac_sdn(std::io::BufReader::new(f), "ofac_sdn", "2024-05-03", None);
            println!("evaluation source: OFAC SDN 2024-05-03");
            ds
        }
        None => {
            println!(
                "evaluation source: OFAC SDN folder absent, using the built-in synthetic name list"
            );
            synth::synthetic_dataset(5_000, 42)
        }
    };
    let idx = Arc::new(DatasetIndex::build(ds));
    let cases = generate_cases(&idx, 120, 240, 7);
    let positives = cases.iter().filter(|c| c.variant.is_positive()).count();
    let negatives = cases.len() - positives;
    assert!(
        positives >= 8 * 100,
        "too few positives generated: {positives}"
    );
    assert!(negatives >= 400, "too few negatives generated: {negatives}");
    for v in Variant::POSITIVE.iter().chain(Variant::NEGATIVE.iter()) {
        assert!(cases.iter().any(|c| c.variant == *v), "no {v:?} cases");
    }
    let cfg = ScreeningConfig::default();
    let report = evaluate(&[idx], &cases, &cfg);
    print!("{}", report.table());
    for (c, best) in report.failures.iter().take(10) {
        println!(
            "  failed {:?} {:?} (from {:?}) best {:?}",
            c.variant, c.query, c.source, best
        );
    }
    assert!(report.recall() >= 0.98, "recall {:.4}", report.recall());
    assert!(
        report.precision() >= 0.90,
        "precision {:.4}",
        report.precision()
    );
}
