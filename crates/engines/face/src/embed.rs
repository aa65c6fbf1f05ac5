//! Alignment to the 112×112 ArcFace/SFace template and SFace embedding.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::detect::Face;
use crate::imageops::{similarity_transform, warp_affine, Affine};
use crate::onnx::{self, Plan};
use crate::FaceError;

/// Embedding dimension of SFace.
pub const TEMPLATE_DIM: usize = 128;

/// The standard 5-point template for 112×112 crops (ArcFace; identical to
/// OpenCV `FaceRecognizerSF::alignCrop`): eyes, nose tip, mouth corners.
pub const ALIGN_TEMPLATE: [[f64; 2]; 5] = [
    [38.2946, 51.6963],
    [73.5318, 51.5014],
    [56.0252, 71.7366],
    [41.5493, 92.3655],
    [70.7299, 92.2041],
];

/// A unit-length 128-d SFace embedding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Template(pub Vec<f32>);

impl Template {
    /// Builds a template from raw model output, L2-normalising it.
    pub fn from_raw(mut v: Vec<f32>) -> Result<Self, FaceError> {
        if v.len() != TEMPLATE_DIM {
            return Err(FaceError::Inference(format!(
                "embedding has {} values",
                v.len()
            )));
        }
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if !n.is_finite() || n <= 1e-12 {
            return Err(FaceError::Inference("degenerate embedding".into()));
        }
        v.iter_mut().for_each(|x| *x /= n);
        Ok(Self(v))
    }

    pub fn as_slice(&self) -> &[f32] {
        &self.0
    }

    /// Cosine similarity (templates are unit length, so a dot product).
    pub fn cosine(&self, other: &Template) -> f32 {
        self.0.iter().zip(&other.0).map(|(a, b)| a * b).sum()
    }

    /// Little-endian f32 bytes, for storage (512 bytes).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.0.iter().flat_map(|v| v.to_le_bytes()).collect()
    }

    pub fn from_bytes(b: &[u8]) -> Result<Self, FaceError> {
        if b.len() != TEMPLATE_DIM * 4 {
            return Err(FaceError::Inference(format!(
                "template has {} bytes",
                b.len()
            )));
        }
        Self::from_raw(
            b.chunks_exact(4)
                .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                .collect(),
        )
    }
}

/// The similarity transform taking the detector's landmarks onto the template.
pub fn alignment_transform(face: &Face) -> Option<Affine> {
    let src: Vec<(f64, f64)> = face
        .landmarks
        .iter()
        .map(|l| (l[0] as f64, l[1] as f64))
        .collect();
    let dst: Vec<(f64, f64)> = ALIGN_TEMPLATE.iter().map(|p| (p[0], p[1])).collect();
    similarity_transform(&src, &dst)
}

/// The 112×112 aligned face crop.
pub fn align(img: &RgbImage, face: &Face) -> Result<RgbImage, FaceError> {
    let m = alignment_transform(face)
        .ok_or_else(|| FaceError::Inference("degenerate landmarks".into()))?;
    Ok(warp_affine(img, &m, 112, 112))
}

pub(crate) struct Embedder {
    plan: Plan,
}

impl Embedder {
    pub fn load(path: &std::path::Path) -> Result<Self, FaceError> {
        Ok(Self {
            plan: onnx::load_plan(path, &[1, 3, 112, 112])?,
        })
    }

    /// Embeds an aligned 112×112 RGB crop. SFace takes RGB 0–255 (OpenCV
    /// swaps its BGR crop to RGB); normalisation is inside the graph.
    pub fn embed_aligned(&self, crop: &RgbImage) -> Result<Template, FaceError> {
        if crop.dimensions() != (112, 112) {
            return Err(FaceError::Inference("aligned crop must be 112x112".into()));
        }
        let plane = 112 * 112;
        let mut data = vec![0f32; 3 * plane];
        for (x, y, p) in crop.enumerate_pixels() {
            let i = y as usize * 112 + x as usize;
            for c in 0..3 {
                data[c * plane + i] = p.0[c] as f32;
            }
        }
        let out = onnx::run(&self.plan, &[1, 3, 112, 112], data)?;
        let (_, v) = out
            .into_iter()
            .next()
            .ok_or_else(|| FaceError::Inference("SFace returned nothing".into()))?;
        Template::from_raw(v)
    }
}

/// Piecewise-linear map from SFace cosine similarity to the 0–100 score the
/// API reports. Anchors (cosine → score), linear in between, clamped outside:
///
/// | cosine | score | meaning |
/// |---|---|---|
/// | ≤ 0.10 | 0 | unrelated faces |
/// | 0.363 | 50 | OpenCV's published SFace same-person threshold |
/// | 0.50 | 70 | clearly the same person in practice |
/// | ≥ 0.80 | 100 | near-identical capture |
pub const SCORE_ANCHORS: [(f32, f32); 4] =
    [(0.10, 0.0), (0.363, 50.0), (0.50, 70.0), (0.80, 100.0)];

/// Maps cosine similarity to a 0–100 score (monotonic, see [`SCORE_ANCHORS`]).
pub fn cosine_to_score(cos: f32) -> f32 {
    let a = &SCORE_ANCHORS;
    if !cos.is_finite() || cos <= a[0].0 {
        return 0.0;
    }
    for w in a.windows(2) {
        let ((c0, s0), (c1, s1)) = (w[0], w[1]);
        if cos <= c1 {
            return s0 + (cos - c0) / (c1 - c0) * (s1 - s0);
        }
    }
    100.0
}

/// Inverse of [`cosine_to_score`] on its increasing part (for index thresholds).
pub fn score_to_cosine(score: f32) -> f32 {
    let a = &SCORE_ANCHORS;
    let s = score.clamp(0.0, 100.0);
    for w in a.windows(2) {
        let ((c0, s0), (c1, s1)) = (w[0], w[1]);
        if s <= s1 {
            return c0 + (s - s0) / (s1 - s0) * (c1 - c0);
        }
    }
    a[a.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn score_mapping_is_monotonic_and_hits_anchors() {
        assert_eq!(cosine_to_score(-1.0), 0.0);
        assert_eq!(cosine_to_score(1.0), 100.0);
        assert!((cosine_to_score(0.363) - 50.0).abs() < 1e-4);
        assert!((cosine_to_score(0.5) - 70.0).abs() < 1e-4);
        let mut prev = -1.0;
        for i in 0..=200 {
            let s = cosine_to_score(-1.0 + i as f32 * 0.01);
            assert!(s >= prev);
            prev = s;
        }
        for s in [0.5f32, 10.0, 50.0, 60.0, 85.0, 99.0] {
            assert!((cosine_to_score(score_to_cosine(s)) - s).abs() < 1e-3);
        }
    }

    #[test]
    fn template_roundtrips_bytes_and_normalises() {
        let t = Template::from_raw((0..128).map(|i| i as f32 - 60.0).collect()).unwrap();
        let n: f32 = t.0.iter().map(|x| x * x).sum();
        assert!((n - 1.0).abs() < 1e-5);
        let back = Template::from_bytes(&t.to_bytes()).unwrap();
        assert!((back.cosine(&t) - 1.0).abs() < 1e-6);
        assert!(Template::from_raw(vec![0.0; 128]).is_err());
        assert!(Template::from_raw(vec![1.0; 3]).is_err());
    }
}
