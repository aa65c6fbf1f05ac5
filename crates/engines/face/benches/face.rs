//! Criterion benchmarks: per-image face pipeline, model memory, 1:N search.
//!
//!   CARGO_TARGET_DIR=/root/.cache/verity-targets/engines \
//!     cargo bench --bench face            # whole set
//!   VERITY_INDEX_SIZE=100000 cargo bench --bench face -- search   # smaller index
//!
//! Needs the models (fetch-models.sh); the pipeline benches are skipped
//! with a message otherwise. Memory figures are printed, not asserted.

use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion};
use rand::{rngs::StdRng, Rng, SeedableRng};
use verity_face::{FaceEngine, ScoreThresholds, Template, TemplateIndex, TEMPLATE_DIM};

fn rss_bytes() -> usize {
    // Resident set size from /proc (Linux), in bytes.
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .nth(1)
                .and_then(|v| v.parse::<usize>().ok())
        })
        .map(|pages| pages * 4096)
        .unwrap_or(0)
}

fn models_dir() -> PathBuf {
    std::env::var_os("VERITY_FACE_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../models/face"))
}

fn pipeline(c: &mut Criterion) {
    let dir = models_dir();
    let before = rss_bytes();
    let engine = match FaceEngine::load(&dir) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("SKIPPED pipeline benches: {e}");
            return;
        }
    };
    let after = rss_bytes();
    println!(
        "model memory: RSS grew by {:.1} MiB loading YuNet + SFace + age/gender (optimised tract plans)",
        (after.saturating_sub(before)) as f64 / 1048576.0
    );
    let img = image::open(dir.join("testdata/astronaut.png"))
        .expect("astronaut.png")
        .to_rgb8();
    let face = engine.detect_image(&img).unwrap()[0];
    let mut png = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut png), image::ImageFormat::Png)
        .unwrap();

    let mut g = c.benchmark_group("face");
    g.sample_size(20);
    g.bench_function("detect_align_embed_512px", |b| {
        b.iter(|| {
            let faces = engine.detect_image(&img).unwrap();
            engine.embed(&img, &faces[0]).unwrap()
        })
    });
    g.bench_function("detect_512px", |b| {
        b.iter(|| engine.detect_image(&img).unwrap())
    });
    g.bench_function("align_embed", |b| {
        b.iter(|| engine.embed(&img, &face).unwrap())
    });
    g.bench_function("age_gender", |b| {
        b.iter(|| engine.estimate_face_age(&img, &face).unwrap())
    });
    g.bench_function("passive_liveness_png", |b| {
        b.iter(|| {
            engine
                .passive_liveness(&png, &ScoreThresholds::LIVENESS)
                .unwrap()
        })
    });
    g.finish();
    println!(
        "RSS after pipeline benches: {:.1} MiB",
        rss_bytes() as f64 / 1048576.0
    );
}

fn search(c: &mut Criterion) {
    let n: usize = std::env::var("VERITY_INDEX_SIZE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let mut rng = StdRng::seed_from_u64(42);
    let mut random = || {
        Template::from_raw(
            (0..TEMPLATE_DIM)
                .map(|_| rng.random::<f32>() * 2.0 - 1.0)
                .collect(),
        )
        .unwrap()
    };
    let before = rss_bytes();
    let mut index = TemplateIndex::with_capacity(n);
    for i in 0..n as u64 {
        index.add(i, &random());
    }
    let after = rss_bytes();
    println!(
        "index of {n} templates: {:.1} MiB by memory_bytes(), RSS grew {:.1} MiB",
        index.memory_bytes() as f64 / 1048576.0,
        after.saturating_sub(before) as f64 / 1048576.0
    );
    let query = random();
    let mut g = c.benchmark_group("index");
    g.sample_size(20);
    g.bench_function(format!("search_top5_{n}"), |b| {
        b.iter(|| index.search(&query, 5, 0.3))
    });
    g.finish();
}

criterion_group!(benches, pipeline, search);
criterion_main!(benches);
