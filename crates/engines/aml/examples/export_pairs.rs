//! Exports labelled candidate pairs (for scripts/compare_nomenklatura.py) and
//! measures our pairwise matcher on them.
//!
//! cargo run --release --example export_pairs -- OUT.jsonl [PER_VARIANT]
use std::io::Write;
use std::sync::Arc;
use std::time::Instant;

use verity_aml::eval::{generate_cases, ofac_data_dir};
use verity_aml::{
    import_ofac_sdn, name_similarity, screen_indexes, synth, DatasetIndex, EntityType,
    ScreeningConfig, ScreeningRequest,
};

fn main() {
    let out = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "pairs.jsonl".into());
    let per: usize = std::env::args()
        .nth(2)
        .and_then(|s| s.parse().ok())
        .unwrap_or(250);
    let ds = match ofac_data_dir() {
        Some(dir) => {
            let f = std::fs::File::open(dir.join("sdn-2024-05-03.csv")).expect("open SDN");
            import_ofac_sdn(std::io::BufReader::new(f), "ofac_sdn", "2024-05-03", None).0
        }
        None => synth::synthetic_dataset(20_000, 42),
    };
    let idx = Arc::new(DatasetIndex::build(ds));
    let cases = generate_cases(&idx, per, per * 2, 11);
    let cfg = ScreeningConfig::default();
    // Pairs: positives with their true entity; negatives with the entity our
    // screener ranked first (the hardest candidate), when it returned one.
    let mut pairs = Vec::new();
    for c in &cases {
        let entity = match &c.expected {
            Some(id) => idx.dataset().entities.iter().position(|e| &e.id == id),
            None => {
                let r = screen_indexes(
                    std::slice::from_ref(&idx),
                    &ScreeningRequest::person(&c.query),
                    &cfg,
                );
                r.hits
                    .first()
                    .and_then(|h| idx.dataset().entities.iter().position(|e| e.id == h.id))
            }
        };
        if let Some(ei) = entity {
            pairs.push((c, ei));
        }
    }
    let t = Instant::now();
    let mut scores = Vec::with_capacity(pairs.len());
    for (c, ei) in &pairs {
        scores.push(name_similarity(
            &c.query,
            EntityType::Person,
            idx.entity(*ei),
        ));
    }
    let el = t.elapsed();
    println!(
        "{} pairs scored pairwise in {:.2?}: {:.0} pairs/s (single thread, includes normalising both sides)",
        pairs.len(),
        el,
        pairs.len() as f64 / el.as_secs_f64()
    );
    let mut f = std::io::BufWriter::new(std::fs::File::create(&out).expect("create"));
    for ((c, ei), score) in pairs.iter().zip(scores) {
        let e = idx.entity(*ei);
        let line = serde_json::json!({
            "query": c.query,
            "variant": c.variant,
            "label": c.expected.is_some(),
            "entity": {"id": e.id, "schema": e.schema.as_str(), "properties": {
                "name": e.properties.get("name"), "alias": e.properties.get("alias"),
                "firstName": e.properties.get("firstName"), "lastName": e.properties.get("lastName"),
            }},
            "verity_name_score": score,
            "verity_match": score >= cfg.aml_match_score_threshold,
        });
        writeln!(f, "{line}").expect("write");
    }
    println!("wrote {out}");
}
