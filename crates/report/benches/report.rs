//! Time to render one report: the rich fixture (five checks, three reviews, ten events, three
//! PNG images decoded, downscaled and re-encoded), the same with three phone-camera-sized JPEGs,
//! the same without images, and the minimal one.

#[path = "../tests/fixtures/mod.rs"]
mod fixtures;

use criterion::{criterion_group, criterion_main, Criterion};
use image::codecs::jpeg::JpegEncoder;
use image::{Rgb, RgbImage};
use std::hint::black_box;
use verity_report::{render, ReportImage};

/// A 12-megapixel JPEG of about 3.2 MB, the size a phone photo of a document comes in at:
/// gradients with fine noise, so the entropy decoder has as much to do as on a real photo.
fn photo(seed: u32) -> Vec<u8> {
    let image = RgbImage::from_fn(4032, 3024, |x, y| {
        let hash =
            (x.wrapping_mul(7919) ^ y.wrapping_mul(104_729) ^ seed).wrapping_mul(2_654_435_761);
        let noise = (hash >> 24) % 16;
        Rgb([
            (x / 16 + noise) as u8,
            (y / 12 + noise) as u8,
            ((x + y) / 28 + noise) as u8,
        ])
    });
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, 85)
        .encode_image(&image)
        .expect("encode photo");
    out
}

fn bench(c: &mut Criterion) {
    let rich = fixtures::rich();
    let mut text_only = fixtures::rich();
    text_only.images.clear();
    let mut photos = fixtures::rich();
    photos.images = ["Document front", "Document back", "Selfie"]
        .iter()
        .zip(1..)
        .map(|(label, seed)| ReportImage {
            label: (*label).into(),
            bytes: photo(seed),
        })
        .collect();
    let minimal = fixtures::minimal();
    let mut group = c.benchmark_group("report");
    group.bench_function("rich", |b| b.iter(|| render(black_box(&rich)).unwrap()));
    group.sample_size(20);
    group.bench_function("rich_12mp_photos", |b| {
        b.iter(|| render(black_box(&photos)).unwrap())
    });
    group.sample_size(100);
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
