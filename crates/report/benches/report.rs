//! Time to render one report: the rich fixture (five checks, three reviews, ten events, three
//! PNG images decoded, downscaled and re-encoded), the same without images, and the minimal one.

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

use criterion::{criterion_group, criterion_main, Criterion};
use std::hint::black_box;
use verity_report::render;

fn bench(c: &mut Criterion) {
    let rich = fixtures::rich();
    let mut text_only = fixtures::rich();
    text_only.images.clear();
    let minimal = fixtures::minimal();
    let mut group = c.benchmark_group("report");
    group.bench_function("rich", |b| b.iter(|| render(black_box(&rich)).unwrap()));
    group.bench_function("rich_without_images", |b| {
        b.iter(|| render(black_box(&text_only)).unwrap())
    });
    group.bench_function("minimal", |b| {
        b.iter(|| render(black_box(&minimal)).unwrap())
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
