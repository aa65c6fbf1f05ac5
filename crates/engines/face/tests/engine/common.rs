//! Shared helpers for the integration tests: model and data locations, one
//! engine per test binary, and image augmentations for same-person pairs.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::OnceLock;

use image::{codecs::jpeg::JpegEncoder, RgbImage};
use verity_face::imageops::{warp_affine, Affine};
use verity_face::FaceEngine;

/// `models/face` at the repository root, or `$VERITY_FACE_MODELS`.
pub fn models_dir() -> PathBuf {
    std::env::var_os("VERITY_FACE_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../models/face"))
}

/// The engine, or `None` (with a loud message) when the models were not
/// fetched. Set VERITY_FACE_REQUIRE_MODELS=1 (CI) to turn that into a failure.
pub fn engine() -> Option<&'static FaceEngine> {
    static ENGINE: OnceLock<Option<FaceEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let dir = models_dir();
            match FaceEngine::load(&dir) {
                Ok(e) => Some(e),
                Err(err) => {
                    if std::env::var("VERITY_FACE_REQUIRE_MODELS").is_ok_and(|v| v == "1") {
                        panic!("face models required but not loadable from {}: {err}", dir.display());
                    }
                    eprintln!(
                        "SKIPPED: face models not found in {} ({err}); run crates/engines/face/fetch-models.sh",
                        dir.display()
                    );
                    None
                }
            }
        })
        .as_ref()
}

/// The public-domain astronaut portrait fetched with the models.
pub fn astronaut() -> Option<RgbImage> {
    let p = models_dir().join("testdata/astronaut.png");
    match image::open(&p) {
        Ok(i) => Some(i.to_rgb8()),
        Err(e) => {
            eprintln!(
                "SKIPPED: {} not available ({e}); run fetch-models.sh",
                p.display()
            );
            None
        }
    }
}

/// `../shared/data/faces` beside the repository, or `$VERITY_FACES_DATA`.
pub fn faces_data() -> Option<PathBuf> {
    let p = std::env::var_os("VERITY_FACES_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../../shared/data/faces")
        });
    if p.join("obama.jpg").exists() {
        Some(p)
    } else {
        eprintln!(
            "SKIPPED: real face photographs not found at {} (shared/data/faces)",
            p.display()
        );
        None
    }
}

pub fn read(p: &std::path::Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

pub fn png(img: &RgbImage) -> Vec<u8> {
    let mut out = Vec::new();
    img.write_to(&mut std::io::Cursor::new(&mut out), image::ImageFormat::Png)
        .unwrap();
    out
}

pub fn jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .unwrap();
    out
}

pub fn decode(b: &[u8]) -> RgbImage {
    image::load_from_memory(b).unwrap().to_rgb8()
}

/// Rotation by `deg` degrees about the centre, scaled by `scale`, canvas kept.
pub fn rotate_scale(img: &RgbImage, deg: f64, scale: f64) -> RgbImage {
    let (w, h) = (img.width() as f64, img.height() as f64);
    let (c, s) = (
        deg.to_radians().cos() * scale,
        deg.to_radians().sin() * scale,
    );
    let (cx, cy) = (w / 2.0, h / 2.0);
    let m = Affine([c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy]);
    warp_affine(img, &m, img.width(), img.height())
}

pub fn resize(img: &RgbImage, f: f64) -> RgbImage {
    let w = ((img.width() as f64 * f).round() as u32).max(1);
    let h = ((img.height() as f64 * f).round() as u32).max(1);
    image::imageops::resize(img, w, h, image::imageops::FilterType::Triangle)
}

/// Multiplies brightness by `gain` and adds `offset`, with an optional gamma.
pub fn light(img: &RgbImage, gain: f32, offset: f32, gamma: f32) -> RgbImage {
    let mut out = img.clone();
    for p in out.pixels_mut() {
        for c in p.0.iter_mut() {
            let v = (*c as f32 / 255.0).powf(gamma) * 255.0 * gain + offset;
            *c = v.round().clamp(0.0, 255.0) as u8;
        }
    }
    out
}

pub fn crop(img: &RgbImage, x: u32, y: u32, w: u32, h: u32) -> RgbImage {
    image::imageops::crop_imm(img, x, y, w, h).to_image()
}

/// Same-person variants of a portrait: scale, rotation, light, JPEG, crop.
pub fn augmentations(img: &RgbImage) -> Vec<(String, RgbImage)> {
    let (w, h) = img.dimensions();
    vec![
        ("downscale_0.5".into(), resize(img, 0.5)),
        ("upscale_1.6".into(), resize(img, 1.6)),
        ("rotate_+12".into(), rotate_scale(img, 12.0, 1.0)),
        ("rotate_-20_scale_0.8".into(), rotate_scale(img, -20.0, 0.8)),
        ("dark_gamma".into(), light(img, 0.55, 0.0, 1.3)),
        ("bright".into(), light(img, 1.25, 20.0, 0.9)),
        ("jpeg_q35".into(), decode(&jpeg(img, 35))),
        (
            "crop_face_region".into(),
            crop(img, w / 8, 0, w * 5 / 8, h * 5 / 8),
        ),
        ("mirror".into(), image::imageops::flip_horizontal(img)),
        ("small_jpeg".into(), decode(&jpeg(&resize(img, 0.35), 60))),
    ]
}

/// Deterministic pseudo-random numbers for the simulations (LCG).
pub struct Lcg(pub u64);
impl Lcg {
    pub fn next_f32(&mut self) -> f32 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 40) as f32 / (1u64 << 24) as f32
    }
}

/// A printed photograph re-captured by a camera: paper cannot render deep
/// black (lifted blacks), inks desaturate, paper fibres add texture, an
/// optional rotated halftone dot screen, then a slightly tilted, blurred,
/// JPEG-compressed capture.
pub fn simulate_print(img: &RgbImage, halftone_period: Option<f32>, seed: u64) -> RgbImage {
    let mut rng = Lcg(seed);
    let (w, h) = img.dimensions();
    // Low-frequency paper blotches on a coarse grid, bilinearly upsampled.
    let blotch = image::GrayImage::from_fn(w / 32 + 2, h / 32 + 2, |_, _| {
        image::Luma([(rng.next_f32() * 255.0) as u8])
    });
    let blotch = image::imageops::resize(&blotch, w, h, image::imageops::FilterType::Triangle);
    let mut out = img.clone();
    for (x, y, p) in out
        .pixels_mut()
        .enumerate()
        .map(|(i, p)| ((i as u32) % w, (i as u32) / w, p))
    {
        let g = 0.299 * p.0[0] as f32 + 0.587 * p.0[1] as f32 + 0.114 * p.0[2] as f32;
        let dot = halftone_period.map(|per| {
            // 45° rotated dot screen: ink coverage follows darkness.
            let (u, v) = ((x as f32 + y as f32) / per, (x as f32 - y as f32) / per);
            let d =
                ((u * std::f32::consts::PI).sin() * (v * std::f32::consts::PI).sin() + 1.0) / 2.0;
            let ink = 1.0 - g / 255.0;
            if d < ink {
                0.72
            } else {
                1.0
            }
        });
        let fibre =
            (rng.next_f32() - 0.5) * 14.0 + (blotch.get_pixel(x, y).0[0] as f32 - 128.0) / 18.0;
        for c in 0..3 {
            let v = p.0[c] as f32 * 0.6 + g * 0.4; // desaturate
            let mut v = 70.0 + v * 0.68; // lifted blacks, dimmer whites
            if let Some(d) = dot {
                v *= d;
            }
            p.0[c] = (v + fibre).round().clamp(0.0, 255.0) as u8;
        }
    }
    let out = rotate_scale(&out, 3.0, 0.92);
    let out = image::imageops::blur(&out, 0.8);
    decode(&jpeg(&out, 88))
}

/// A screen replay re-captured by a camera: each image pixel becomes an
/// LCD pixel of `cell`×`cell` sensor pixels with R, G, B stripes and a dark
/// gap, resampled at a non-integer ratio (moiré), bluish white point, glare.
pub fn simulate_screen(img: &RgbImage, cell: u32, capture_scale: f64, glare: f32) -> RgbImage {
    let (w, h) = img.dimensions();
    let big = RgbImage::from_fn(w * cell, h * cell, |x, y| {
        let src = img.get_pixel(x / cell, y / cell).0;
        let (sx, sy) = (x % cell, y % cell);
        let mut px = [0u8; 3];
        if sy + 1 < cell || cell < 3 {
            let ch = (sx * 3 / cell) as usize;
            px[ch] = src[ch];
        }
        // Bluish backlight white point.
        px[2] = (px[2] as f32 * 1.08).min(255.0) as u8;
        image::Rgb(px)
    });
    // Stripes carry only one channel each: brighten to keep exposure.
    let mut cap = resize(&big, capture_scale);
    let (cw, ch) = cap.dimensions();
    for (x, y, p) in cap.enumerate_pixels_mut() {
        let (dx, dy) = (x as f32 / cw as f32 - 0.62, y as f32 / ch as f32 - 0.35);
        let g = glare * (-(dx * dx + dy * dy) / 0.02).exp();
        for c in p.0.iter_mut() {
            *c = (*c as f32 * 2.4 + g).round().clamp(0.0, 255.0) as u8;
        }
    }
    decode(&jpeg(&cap, 88))
}
