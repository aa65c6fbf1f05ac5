//! PASSIVE liveness: a documented score from single-image signals.
//!
//! This is NOT a certified presentation-attack detector (ISO 30107-3): no
//! trained anti-spoofing model is available offline. It combines hand-made
//! signals that catch *crude* attacks — screen replays with visible moiré or
//! pixel grids, flat low-contrast prints, glare, tiny or blurred faces — and
//! will miss a good print or a high-resolution screen at the right distance.
//! Treat the score as one risk signal, not a security control.
//!
//! Each signal yields an *evidence* value e ∈ [0, 1] through a linear ramp
//! between a value typical of genuine captures (e = 0) and one typical of
//! attacks (e = 1); the score is `100 − Σ wᵢ·eᵢ`, clamped to 0–100. The
//! ramps and weights are [`SIGNALS`] below and in the README.

use image::{GrayImage, RgbImage};
use rustfft::{num_complex::Complex, FftPlanner};
use serde::{Deserialize, Serialize};

use crate::detect::Face;
use crate::report::{status_from, ImageFaces, LogType, ScoreThresholds, Status, Warning};
use crate::{round2, LIVENESS};

/// Ramp for one signal: evidence 0 at `genuine`, 1 at `attack`, and its weight.
#[derive(Debug, Clone, Copy)]
pub struct SignalRamp {
    pub name: &'static str,
    pub genuine: f32,
    pub attack: f32,
    pub weight: f32,
}

impl SignalRamp {
    pub fn evidence(&self, v: f32) -> f32 {
        if !v.is_finite() {
            return 1.0;
        }
        ((v - self.genuine) / (self.attack - self.genuine)).clamp(0.0, 1.0)
    }
}

/// The signal ramps and weights (see module docs).
pub const SIGNALS: [SignalRamp; 8] = [
    // Strongest isolated periodic peak in the face spectrum (log10 power
    // above the radial median): screen pixel grids and moiré.
    SignalRamp {
        name: "periodic_peak",
        genuine: 1.6,
        attack: 2.6,
        weight: 70.0,
    },
    // Share of mid/high-frequency energy in isolated peaks.
    SignalRamp {
        name: "periodic_energy",
        genuine: 0.12,
        attack: 0.30,
        weight: 30.0,
    },
    // Laplacian standard deviation of the face at 128 px width (blur).
    SignalRamp {
        name: "sharpness",
        genuine: 6.0,
        attack: 2.5,
        weight: 30.0,
    },
    // Share of clipped (≥ 250) face pixels: glare on glass or glossy paper.
    SignalRamp {
        name: "glare",
        genuine: 0.01,
        attack: 0.08,
        weight: 35.0,
    },
    // Luma 2nd percentile inside the face: prints cannot render deep black.
    SignalRamp {
        name: "black_level",
        genuine: 75.0,
        attack: 110.0,
        weight: 25.0,
    },
    // Mean HSV saturation of the face: prints and screens wash colour out.
    SignalRamp {
        name: "saturation",
        genuine: 0.20,
        attack: 0.08,
        weight: 15.0,
    },
    // 8×8 JPEG block-boundary gradient ratio: heavy (re)compression.
    SignalRamp {
        name: "blockiness",
        genuine: 1.15,
        attack: 1.6,
        weight: 15.0,
    },
    // Face width as a share of the shorter image side.
    SignalRamp {
        name: "face_size",
        genuine: 0.15,
        attack: 0.05,
        weight: 20.0,
    },
];

/// Luminance band (mean face luma 0–255) outside which a warning is raised.
pub const LOW_LUMINANCE: f32 = 70.0;
pub const HIGH_LUMINANCE: f32 = 205.0;
/// `face_quality` below this raises LOW_FACE_QUALITY.
pub const LOW_QUALITY: f32 = 40.0;
/// A periodic-peak evidence at or above this is reported as an attack.
pub const ATTACK_EVIDENCE: f32 = 0.95;

/// Raw measurements and evidences, reported for transparency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PassiveSignals {
    pub periodic_peak: f32,
    pub periodic_energy: f32,
    pub sharpness: f32,
    pub glare: f32,
    pub black_level: f32,
    pub saturation: f32,
    pub blockiness: f32,
    pub face_size: f32,
    /// Mean face luma, 0–255.
    pub luminance: f32,
    /// Evidence per signal, in [`SIGNALS`] order.
    pub evidence: Vec<f32>,
}

/// Spec §5.6 / §8 liveness result (PASSIVE or ACTIVE_3D).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LivenessResult {
    pub status: Status,
    /// `PASSIVE` or `ACTIVE_3D`.
    pub method: String,
    /// 0–100, `null` when no face was found.
    pub score: Option<f32>,
    pub user_image: Option<ImageFaces>,
    /// 0–100 (sharpness, size, exposure and detector confidence), passive only.
    pub face_quality: Option<f32>,
    /// Mean face luminance 0–100, passive only.
    pub face_luminance: Option<f32>,
    pub warnings: Vec<Warning>,
    /// Per-signal measurements (Verity extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signals: Option<PassiveSignals>,
    /// Active-liveness checks (Verity extension).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub active: Option<crate::active::ActiveReport>,
}

/// Measures the passive signals of `face` in `img`.
pub fn measure(img: &RgbImage, face: &Face) -> PassiveSignals {
    let (w, h) = (img.width() as f32, img.height() as f32);
    let [x1, y1, x2, y2] = face.bbox;
    // Inner face box (skin, eyes, mouth), avoiding background and hair.
    let (fw, fh) = (x2 - x1, y2 - y1);
    let ix1 = (x1 + 0.15 * fw).max(0.0) as u32;
    let iy1 = (y1 + 0.15 * fh).max(0.0) as u32;
    let ix2 = ((x2 - 0.15 * fw).min(w - 1.0).max(0.0) as u32).max(ix1 + 1);
    let iy2 = ((y2 - 0.10 * fh).min(h - 1.0).max(0.0) as u32).max(iy1 + 1);
    let inner = image::imageops::crop_imm(img, ix1, iy1, ix2 - ix1, iy2 - iy1).to_image();

    let mut lumas: Vec<f32> = inner
        .pixels()
        .map(|p| crate::imageops::luma(&p.0))
        .collect();
    lumas.sort_by(f32::total_cmp);
    let n = lumas.len().max(1);
    let luminance = lumas.iter().sum::<f32>() / n as f32;
    let black_level = lumas[(n as f32 * 0.02) as usize % n];
    let glare = lumas.iter().filter(|&&l| l >= 250.0).count() as f32 / n as f32;
    let saturation = inner
        .pixels()
        .map(|p| {
            let mx = *p.0.iter().max().unwrap() as f32;
            let mn = *p.0.iter().min().unwrap() as f32;
            if mx <= 0.0 {
                0.0
            } else {
                (mx - mn) / mx
            }
        })
        .sum::<f32>()
        / n as f32;

    // Sharpness on a scale-normalised face (128 px wide).
    let gray_face = gray(&inner);
    let scale = 128.0 / gray_face.width().max(1) as f32;
    let norm = image::imageops::resize(
        &gray_face,
        128,
        ((gray_face.height() as f32 * scale).round() as u32).max(8),
        image::imageops::FilterType::Triangle,
    );
    let sharpness = laplacian_std(&norm);

    // Spectrum on native pixels (resampling would destroy the patterns).
    let (periodic_peak, periodic_energy) = periodic_signals(&gray_face);
    let blockiness = blockiness(&gray(img));
    let face_size = fw / w.min(h);

    let values = [
        periodic_peak,
        periodic_energy,
        sharpness,
        glare,
        black_level,
        saturation,
        blockiness,
        face_size,
    ];
    let evidence = SIGNALS
        .iter()
        .zip(values)
        .map(|(s, v)| s.evidence(v))
        .collect();
    PassiveSignals {
        periodic_peak,
        periodic_energy,
        sharpness,
        glare,
        black_level,
        saturation,
        blockiness,
        face_size,
        luminance,
        evidence,
    }
}

/// `100 − Σ wᵢ·eᵢ`, clamped.
pub fn score_from(signals: &PassiveSignals) -> f32 {
    let penalty: f32 = SIGNALS
        .iter()
        .zip(&signals.evidence)
        .map(|(s, e)| s.weight * e)
        .sum();
    (100.0 - penalty).clamp(0.0, 100.0)
}

/// Face quality 0–100: sharpness, size, exposure and detector confidence.
pub fn face_quality(signals: &PassiveSignals, face: &Face) -> f32 {
    let sharp = (signals.sharpness / 12.0).clamp(0.0, 1.0);
    let size = (signals.face_size / 0.25).clamp(0.0, 1.0);
    let exposure = if signals.luminance < LOW_LUMINANCE {
        signals.luminance / LOW_LUMINANCE
    } else if signals.luminance > HIGH_LUMINANCE {
        ((255.0 - signals.luminance) / (255.0 - HIGH_LUMINANCE)).max(0.0)
    } else {
        1.0
    };
    let conf = face.score.clamp(0.0, 1.0);
    100.0 * (0.4 * sharp + 0.2 * size + 0.2 * exposure + 0.2 * conf)
}

/// Builds the passive liveness result for an analysed image.
pub fn passive(
    image: &RgbImage,
    faces: &[Face],
    user_image: ImageFaces,
    thresholds: &ScoreThresholds,
) -> LivenessResult {
    let mut warnings = Vec::new();
    let Some(face) = faces.first() else {
        warnings.push(crate::warning::no_face(LIVENESS, "image"));
        return LivenessResult {
            status: status_from(&warnings),
            method: "PASSIVE".into(),
            score: None,
            user_image: Some(user_image),
            face_quality: None,
            face_luminance: None,
            warnings,
            signals: None,
            active: None,
        };
    };
    if faces.len() > 1 {
        warnings.push(crate::warning::multiple_faces(LIVENESS, LogType::Warning));
    }
    let signals = measure(image, face);
    let score = score_from(&signals);
    let quality = face_quality(&signals, face);
    if signals.evidence[0] >= ATTACK_EVIDENCE {
        warnings.push(Warning::new(
            LIVENESS,
            "LIVENESS_FACE_ATTACK",
            LogType::Error,
            "Presentation attack suspected",
            "A strong periodic pattern typical of a screen or printed halftone was found on the face.",
        ));
    }
    if let Some(lt) = thresholds.classify(score) {
        let mut w = Warning::new(
            LIVENESS,
            "LOW_LIVENESS_SCORE",
            lt,
            "Low liveness score",
            &format!("The passive liveness score {score:.1} is below the configured threshold."),
        );
        w.additional_data = Some(serde_json::json!({ "score": round2(score) }));
        warnings.push(w);
    }
    if quality < LOW_QUALITY {
        warnings.push(Warning::new(
            LIVENESS,
            "LOW_FACE_QUALITY",
            LogType::Warning,
            "Low face quality",
            "The face is blurred, small or poorly exposed.",
        ));
    }
    if signals.luminance < LOW_LUMINANCE {
        warnings.push(Warning::new(
            LIVENESS,
            "LOW_FACE_LUMINANCE",
            LogType::Warning,
            "Face too dark",
            "The face is under-exposed.",
        ));
    } else if signals.luminance > HIGH_LUMINANCE {
        warnings.push(Warning::new(
            LIVENESS,
            "HIGH_FACE_LUMINANCE",
            LogType::Warning,
            "Face too bright",
            "The face is over-exposed.",
        ));
    }
    LivenessResult {
        status: status_from(&warnings),
        method: "PASSIVE".into(),
        score: Some(round2(score)),
        user_image: Some(user_image),
        face_quality: Some(round2(quality)),
        face_luminance: Some(round2(signals.luminance / 255.0 * 100.0)),
        warnings,
        signals: Some(signals),
        active: None,
    }
}

fn gray(img: &RgbImage) -> GrayImage {
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        image::Luma([crate::imageops::luma(&img.get_pixel(x, y).0).round() as u8])
    })
}

fn laplacian_std(g: &GrayImage) -> f32 {
    let (w, h) = (g.width() as i64, g.height() as i64);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let p = |x: i64, y: i64| g.get_pixel(x as u32, y as u32).0[0] as f32;
    let mut vals = Vec::with_capacity(((w - 2) * (h - 2)) as usize);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            vals.push(p(x - 1, y) + p(x + 1, y) + p(x, y - 1) + p(x, y + 1) - 4.0 * p(x, y));
        }
    }
    let m = vals.iter().sum::<f32>() / vals.len() as f32;
    (vals.iter().map(|v| (v - m).powi(2)).sum::<f32>() / vals.len() as f32).sqrt()
}

/// Strongest isolated spectral peak and the energy share of such peaks in
/// the mid/high band of a centred square crop (power of two, 64–256 px),
/// Hann-windowed. Peaks are measured against the median log power of their
/// frequency ring, so a natural 1/f spectrum scores low. Frequencies on the
/// 8×8 JPEG grid (multiples of N/8) are skipped: they come from ordinary
/// compression, which the blockiness signal covers.
pub fn periodic_signals(g: &GrayImage) -> (f32, f32) {
    let side = g.width().min(g.height());
    if side < 64 {
        return (0.0, 0.0);
    }
    let n = (side.min(256) as usize).next_power_of_two().min(256);
    let n = if n as u32 > side { n / 2 } else { n };
    let ox = (g.width() as usize - n) / 2;
    let oy = (g.height() as usize - n) / 2;
    let mut buf: Vec<Complex<f32>> = Vec::with_capacity(n * n);
    let mut mean = 0.0f32;
    for y in 0..n {
        for x in 0..n {
            mean += g.get_pixel((ox + x) as u32, (oy + y) as u32).0[0] as f32;
        }
    }
    mean /= (n * n) as f32;
    let hann: Vec<f32> = (0..n)
        .map(|i| 0.5 - 0.5 * (2.0 * std::f32::consts::PI * i as f32 / (n - 1) as f32).cos())
        .collect();
    for y in 0..n {
        for x in 0..n {
            let v = g.get_pixel((ox + x) as u32, (oy + y) as u32).0[0] as f32 - mean;
            buf.push(Complex::new(v * hann[x] * hann[y], 0.0));
        }
    }
    let mut planner = FftPlanner::<f32>::new();
    let fft = planner.plan_fft_forward(n);
    for row in buf.chunks_exact_mut(n) {
        fft.process(row);
    }
    let mut col = vec![Complex::new(0.0, 0.0); n];
    for x in 0..n {
        for y in 0..n {
            col[y] = buf[y * n + x];
        }
        fft.process(&mut col);
        for y in 0..n {
            buf[y * n + x] = col[y];
        }
    }
    // Log power with frequencies centred at 0 (fu, fv ∈ [−n/2, n/2)).
    let half = n as i64 / 2;
    let freq = |i: usize| -> i64 {
        let i = i as i64;
        if i >= half {
            i - n as i64
        } else {
            i
        }
    };
    let max_r = half as usize;
    let mut rings: Vec<Vec<f32>> = vec![Vec::new(); max_r + 1];
    let mut logp = vec![0f32; n * n];
    for y in 0..n {
        for x in 0..n {
            let p = buf[y * n + x].norm_sqr();
            let lp = (p + 1e-3).log10();
            logp[y * n + x] = lp;
            let (fu, fv) = (freq(x), freq(y));
            let r = ((fu * fu + fv * fv) as f32).sqrt().round() as usize;
            if r <= max_r {
                rings[r].push(lp);
            }
        }
    }
    let medians: Vec<f32> = rings
        .iter_mut()
        .map(|v| {
            if v.is_empty() {
                0.0
            } else {
                v.sort_by(f32::total_cmp);
                v[v.len() / 2]
            }
        })
        .collect();
    let jpeg_step = n as i64 / 8;
    let on_jpeg_grid = |f: i64| {
        let m = f.rem_euclid(jpeg_step);
        m <= 1 || m >= jpeg_step - 1
    };
    let (lo, hi) = (n / 10, max_r);
    let mut best = 0f32;
    let (mut peak_energy, mut band_energy) = (0f64, 0f64);
    for y in 0..n {
        for x in 0..n {
            let (fu, fv) = (freq(x), freq(y));
            let r = ((fu * fu + fv * fv) as f32).sqrt().round() as usize;
            if r < lo || r > hi {
                continue;
            }
            let p = buf[y * n + x].norm_sqr() as f64;
            band_energy += p;
            if on_jpeg_grid(fu) && on_jpeg_grid(fv) {
                continue;
            }
            let excess = logp[y * n + x] - medians[r];
            // An isolated peak also stands above its 8 neighbours.
            let mut is_local_max = true;
            'nb: for dy in -1i64..=1 {
                for dx in -1i64..=1 {
                    if dx == 0 && dy == 0 {
                        continue;
                    }
                    let xx = (x as i64 + dx).rem_euclid(n as i64) as usize;
                    let yy = (y as i64 + dy).rem_euclid(n as i64) as usize;
                    if logp[yy * n + xx] > logp[y * n + x] {
                        is_local_max = false;
                        break 'nb;
                    }
                }
            }
            if excess > 1.0 && is_local_max {
                peak_energy += p;
            }
            if is_local_max && excess > best {
                best = excess;
            }
        }
    }
    let share = if band_energy > 0.0 {
        (peak_energy / band_energy) as f32
    } else {
        0.0
    };
    (best, share)
}

/// Ratio of the mean horizontal+vertical gradient across 8-pixel block
/// boundaries to the mean gradient elsewhere (≈ 1 without JPEG blocking).
pub fn blockiness(g: &GrayImage) -> f32 {
    let (w, h) = (g.width() as usize, g.height() as usize);
    if w < 32 || h < 32 {
        return 1.0;
    }
    let raw = g.as_raw();
    let (mut b_sum, mut b_n, mut o_sum, mut o_n) = (0f64, 0u64, 0f64, 0u64);
    for y in 0..h {
        for x in 0..w - 1 {
            let d = (raw[y * w + x + 1] as f64 - raw[y * w + x] as f64).abs();
            if x % 8 == 7 {
                b_sum += d;
                b_n += 1;
            } else {
                o_sum += d;
                o_n += 1;
            }
        }
    }
    for y in 0..h - 1 {
        for x in 0..w {
            let d = (raw[(y + 1) * w + x] as f64 - raw[y * w + x] as f64).abs();
            if y % 8 == 7 {
                b_sum += d;
                b_n += 1;
            } else {
                o_sum += d;
                o_n += 1;
            }
        }
    }
    let (b, o) = (b_sum / b_n.max(1) as f64, o_sum / o_n.max(1) as f64);
    if o < 1e-6 {
        1.0
    } else {
        (b / o) as f32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ramps_clamp_and_invert() {
        let r = SIGNALS[2]; // sharpness: lower is worse
        assert_eq!(r.evidence(20.0), 0.0);
        assert_eq!(r.evidence(1.0), 1.0);
        assert!((r.evidence(4.25) - 0.5).abs() < 1e-6);
        assert_eq!(r.evidence(f32::NAN), 1.0);
    }

    #[test]
    fn periodic_grid_is_found_and_smooth_noise_is_not() {
        // Smooth random texture (blurred noise) vs the same with a fine grid.
        let mut seed = 12345u32;
        let mut rnd = || {
            seed = seed.wrapping_mul(1664525).wrapping_add(1013904223);
            (seed >> 24) as f32
        };
        let noise = GrayImage::from_fn(160, 160, |_, _| image::Luma([rnd() as u8]));
        let smooth = image::imageops::blur(&noise, 2.0);
        let grid = GrayImage::from_fn(160, 160, |x, y| {
            let v = smooth.get_pixel(x, y).0[0] as f32
                * if x % 3 == 2 || y % 3 == 2 { 0.6 } else { 1.0 };
            image::Luma([v as u8])
        });
        let (p_smooth, _) = periodic_signals(&smooth);
        let (p_grid, e_grid) = periodic_signals(&grid);
        assert!(p_grid > p_smooth + 1.0, "{p_grid} vs {p_smooth}");
        assert!(e_grid > 0.05);
    }

    #[test]
    fn blockiness_sees_8x8_steps() {
        let flat = GrayImage::from_fn(64, 64, |x, y| image::Luma([((x * 3 + y * 2) % 200) as u8]));
        let blocky = GrayImage::from_fn(64, 64, |x, y| {
            // Smooth ramps inside 8x8 blocks, steps at block edges.
            image::Luma([((x % 8) * 2 + (y % 8) + ((x / 8) * 37 + (y / 8) * 23) % 150) as u8])
        });
        assert!(blockiness(&blocky) > 2.0);
        assert!(blockiness(&flat) < 1.5);
    }
}
