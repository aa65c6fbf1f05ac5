//! Criterion benchmarks at scale: screening against a 1,000,000-entity index
//! (the SDN when available, plus a generated population), and index build.
//!
//! cargo bench --bench screening
//! (`VERITY_AML_BENCH_ENTITIES=200000` for a quicker, smaller run.)

use std::sync::{Arc, OnceLock};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use verity_aml::eval::{generate_cases, ofac_data_dir};
use verity_aml::synth::{scale_population, Rng};
use verity_aml::{
    import_ofac_sdn, screen_indexes, Dataset, DatasetIndex, ScreeningConfig, ScreeningRequest,
};

fn entities() -> usize {
    std::env::var("VERITY_AML_BENCH_ENTITIES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1_000_000)
}

fn sdn() -> Option<Dataset> {
    let dir = ofac_data_dir()?;
    let f = std::fs::File::open(dir.join("sdn-2024-05-03.csv")).ok()?;
    Some(import_ofac_sdn(std::io::BufReader::new(f), "ofac_sdn", "2024-05-03", None).0)
}

struct Fixture {
    index: Arc<DatasetIndex>,
    list_queries: Vec<String>,
    population_queries: Vec<String>,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let sdn = sdn();
        if sdn.is_none() {
            eprintln!("OFAC SDN folder absent: benchmarking a generated population only");
        }
        let (population, _) = scale_population(entities(), 99, sdn.as_ref());
        let index = Arc::new(DatasetIndex::build(population));
        let list_queries = match sdn {
            Some(sdn) => generate_cases(&DatasetIndex::build(sdn), 60, 120, 5)
                .into_iter()
                .map(|c| c.query)
                .collect(),
            None => Vec::new(),
        };
        let mut rng = Rng::new(17);
        let n = index.dataset().entities.len();
        let population_queries = (0..1000)
            .map(|_| index.dataset().entities[rng.below(n)].caption.clone())
            .collect();
        Fixture {
            index,
            list_queries,
            population_queries,
        }
    })
}

fn bench_screening(c: &mut Criterion) {
    let f = fixture();
    let cfg = ScreeningConfig::default();
    let mut g = c.benchmark_group(format!("screen_{}", f.index.dataset().entities.len()));
    g.throughput(Throughput::Elements(1));
    for (name, queries) in [
        ("list_variants", &f.list_queries),
        ("population_names", &f.population_queries),
    ] {
        if queries.is_empty() {
            continue;
        }
        let mut i = 0;
        g.bench_function(name, |b| {
            b.iter(|| {
                i = (i + 1) % queries.len();
                screen_indexes(
                    std::slice::from_ref(&f.index),
                    &ScreeningRequest::person(&queries[i]),
                    &cfg,
                )
            })
        });
    }
    g.finish();
}

fn bench_build(c: &mut Criterion) {
    let ds = scale_population(100_000, 7, None).0;
    let mut g = c.benchmark_group("index_build");
    g.sample_size(10);
    g.throughput(Throughput::Elements(ds.entities.len() as u64));
    g.bench_function("100k_entities", |b| {
        b.iter_batched(|| ds.clone(), DatasetIndex::build, BatchSize::LargeInput)
    });
    g.finish();
}

criterion_group!(benches, bench_screening, bench_build);
criterion_main!(benches);
