//! Criterion benchmark: time to read one document image (passport photo, MRZ + visual zone),
//! and MRZ only. Run: `cargo bench --bench read` (release profile).

use std::path::PathBuf;

use chrono::NaiveDate;
use criterion::{criterion_group, criterion_main, Criterion};
use verity_document::synth::{self, Assets, DocKind, Photo};
use verity_document::{DocumentEngine, ReadOptions};

fn models_dir() -> PathBuf {
    std::env::var_os("VERITY_DOCUMENT_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../models/document")
        })
}

fn bench(c: &mut Criterion) {
    let dir = models_dir();
    let (Ok(engine), Ok(assets)) = (DocumentEngine::load(&dir), Assets::load(&dir)) else {
        eprintln!(
            "SKIPPED: models missing in {}; run fetch-models.sh",
            dir.display()
        );
        return;
    };
    let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
    let doc = synth::render(&assets, DocKind::Passport, 11, today);
    let mut rng = synth::Rng::new(3);
    let photo = Photo {
        rotation_deg: 4.0,
        ..Photo::random(&mut rng)
    };
    let img = synth::photograph(&doc.front, &photo, 11);
    let full = ReadOptions {
        today: Some(today),
        ..ReadOptions::default()
    };
    let mrz_only = ReadOptions {
        today: Some(today),
        read_visual_zone: false,
        ..ReadOptions::default()
    };
    let mut g = c.benchmark_group("document");
    g.sample_size(20);
    g.bench_function("passport_image_full", |b| {
        b.iter(|| engine.read(&img, None, &full).unwrap())
    });
    g.bench_function("passport_image_mrz_only", |b| {
        b.iter(|| engine.read(&img, None, &mrz_only).unwrap())
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
