//! YuNet (OpenCV zoo, 2023mar) face detection with five landmarks.
//!
//! The image is letterboxed into the model's fixed 640×640 input (downscaled
//! to fit with its aspect kept, never enlarged; padding bottom/right with
//! black), fed as BGR 0–255 like OpenCV's
//! `FaceDetectorYN`, and decoded with YuNet's anchor-free prior grid: for each
//! stride s ∈ {8, 16, 32} and grid cell (r, c)
//!
//! * score = √(clamp(cls)·clamp(obj))
//! * centre = ((c + dx)·s, (r + dy)·s), size = (exp(dw)·s, exp(dh)·s)
//! * landmark k = ((c + kx_k)·s, (r + ky_k)·s)
//!
//! followed by greedy NMS. Coordinates are mapped back to the input image.

use image::RgbImage;
use serde::{Deserialize, Serialize};

use crate::onnx::{self, Plan};
use crate::FaceError;

pub(crate) const INPUT: usize = 640;
const STRIDES: [usize; 3] = [8, 16, 32];

/// A detected face in image pixel coordinates.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Face {
    /// `[x1, y1, x2, y2]`, the spec's bbox order.
    pub bbox: [f32; 4],
    /// Right eye, left eye (subject's; i.e. image-left eye first), nose tip,
    /// right and left mouth corners, as `[x, y]`.
    pub landmarks: [[f32; 2]; 5],
    /// Detector confidence 0–1.
    pub score: f32,
}

impl Face {
    pub fn width(&self) -> f32 {
        self.bbox[2] - self.bbox[0]
    }
    pub fn height(&self) -> f32 {
        self.bbox[3] - self.bbox[1]
    }
    pub fn area(&self) -> f32 {
        self.width().max(0.0) * self.height().max(0.0)
    }
    /// Distance between the eye centres, pixels.
    pub fn eye_distance(&self) -> f32 {
        let [l, r] = [self.landmarks[0], self.landmarks[1]];
        ((l[0] - r[0]).powi(2) + (l[1] - r[1]).powi(2)).sqrt()
    }
}

/// Detection parameters.
#[derive(Debug, Clone, Copy)]
pub struct DetectorConfig {
    /// Minimum detector score (OpenCV's default is 0.9; we accept a little
    /// more for hard selfies: false positives are filtered by face size).
    pub score_threshold: f32,
    /// IoU above which the weaker of two boxes is suppressed.
    pub nms_threshold: f32,
    /// Faces whose shorter box side is smaller than this (in source pixels)
    /// are ignored: too small to embed reliably.
    pub min_face_px: f32,
}

impl Default for DetectorConfig {
    fn default() -> Self {
        Self {
            score_threshold: 0.7,
            nms_threshold: 0.3,
            min_face_px: 24.0,
        }
    }
}

pub(crate) struct Detector {
    plan: Plan,
}

impl Detector {
    pub fn load(path: &std::path::Path) -> Result<Self, FaceError> {
        Ok(Self {
            plan: onnx::load_plan(path, &[1, 3, INPUT, INPUT])?,
        })
    }

    pub fn detect(&self, img: &RgbImage, cfg: &DetectorConfig) -> Result<Vec<Face>, FaceError> {
        let (w, h) = (img.width() as f32, img.height() as f32);
        if w < 1.0 || h < 1.0 {
            return Ok(vec![]);
        }
        // Downscale to fit, never upscale: OpenCV's FaceDetectorYN runs the image at its own
        // size, so a small image padded (not enlarged) gives the reference's landmarks.
        let scale = (INPUT as f32 / w).min(INPUT as f32 / h).min(1.0);
        let nw = ((w * scale).round() as u32).clamp(1, INPUT as u32);
        let nh = ((h * scale).round() as u32).clamp(1, INPUT as u32);
        let resized = if nw == img.width() && nh == img.height() {
            img.clone()
        } else {
            // Area averaging, as OpenCV shrinks for FaceDetectorYN's reference.
            crate::imageops::resize_area(img, nw, nh)
        };
        // NCHW, BGR order, 0–255, zero padding.
        let plane = INPUT * INPUT;
        let mut data = vec![0f32; 3 * plane];
        for (x, y, p) in resized.enumerate_pixels() {
            let i = y as usize * INPUT + x as usize;
            data[i] = p.0[2] as f32;
            data[plane + i] = p.0[1] as f32;
            data[2 * plane + i] = p.0[0] as f32;
        }
        let outputs = onnx::run(&self.plan, &[1, 3, INPUT, INPUT], data)?;
        // Map letterbox coordinates back to the source (separate x/y factors
        // because of rounding of nw/nh).
        let (sx, sy) = (w / nw as f32, h / nh as f32);
        let mut faces = decode(&outputs, cfg.score_threshold)?;
        for f in faces.iter_mut() {
            f.bbox = [
                (f.bbox[0] * sx).clamp(0.0, w),
                (f.bbox[1] * sy).clamp(0.0, h),
                (f.bbox[2] * sx).clamp(0.0, w),
                (f.bbox[3] * sy).clamp(0.0, h),
            ];
            for l in f.landmarks.iter_mut() {
                l[0] *= sx;
                l[1] *= sy;
            }
        }
        faces.retain(|f| f.width().min(f.height()) >= cfg.min_face_px);
        let mut kept = nms(faces, cfg.nms_threshold);
        // Largest first: "the largest face in each image" is what match uses.
        kept.sort_by(|a, b| b.area().total_cmp(&a.area()));
        Ok(kept)
    }
}

/// Decodes the 12 YuNet outputs (cls, obj, bbox, kps × strides 8/16/32) in
/// 640×640 input coordinates.
fn decode(outputs: &[onnx::Output], threshold: f32) -> Result<Vec<Face>, FaceError> {
    if outputs.len() != 12 {
        return Err(FaceError::Model(format!(
            "YuNet: expected 12 outputs, got {}",
            outputs.len()
        )));
    }
    let mut faces = Vec::new();
    for (si, &stride) in STRIDES.iter().enumerate() {
        let cols = INPUT / stride;
        let n = cols * cols;
        let (cls, obj, bbox, kps) = (
            &outputs[si].1,
            &outputs[3 + si].1,
            &outputs[6 + si].1,
            &outputs[9 + si].1,
        );
        if cls.len() != n || obj.len() != n || bbox.len() != 4 * n || kps.len() != 10 * n {
            return Err(FaceError::Model(format!(
                "YuNet: unexpected output sizes at stride {stride}"
            )));
        }
        let s = stride as f32;
        for idx in 0..n {
            let score = (cls[idx].clamp(0.0, 1.0) * obj[idx].clamp(0.0, 1.0)).sqrt();
            if score < threshold {
                continue;
            }
            let (r, c) = ((idx / cols) as f32, (idx % cols) as f32);
            let b = &bbox[idx * 4..idx * 4 + 4];
            let cx = (c + b[0]) * s;
            let cy = (r + b[1]) * s;
            let bw = b[2].exp() * s;
            let bh = b[3].exp() * s;
            let mut landmarks = [[0f32; 2]; 5];
            for (k, l) in landmarks.iter_mut().enumerate() {
                l[0] = (kps[idx * 10 + 2 * k] + c) * s;
                l[1] = (kps[idx * 10 + 2 * k + 1] + r) * s;
            }
            faces.push(Face {
                bbox: [cx - bw / 2.0, cy - bh / 2.0, cx + bw / 2.0, cy + bh / 2.0],
                landmarks,
                score,
            });
        }
    }
    Ok(faces)
}

fn iou(a: &Face, b: &Face) -> f32 {
    let x1 = a.bbox[0].max(b.bbox[0]);
    let y1 = a.bbox[1].max(b.bbox[1]);
    let x2 = a.bbox[2].min(b.bbox[2]);
    let y2 = a.bbox[3].min(b.bbox[3]);
    let inter = (x2 - x1).max(0.0) * (y2 - y1).max(0.0);
    let union = a.area() + b.area() - inter;
    if union <= 0.0 {
        0.0
    } else {
        inter / union
    }
}

fn nms(mut faces: Vec<Face>, thr: f32) -> Vec<Face> {
    faces.sort_by(|a, b| b.score.total_cmp(&a.score));
    let mut kept: Vec<Face> = Vec::new();
    for f in faces {
        if kept.iter().all(|k| iou(k, &f) <= thr) {
            kept.push(f);
        }
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn face(b: [f32; 4], score: f32) -> Face {
        Face {
            bbox: b,
            landmarks: [[0.0; 2]; 5],
            score,
        }
    }

    #[test]
    fn nms_keeps_best_of_overlapping_and_distinct_boxes() {
        let out = nms(
            vec![
                face([0.0, 0.0, 10.0, 10.0], 0.8),
                face([1.0, 1.0, 11.0, 11.0], 0.9),
                face([50.0, 50.0, 60.0, 60.0], 0.75),
            ],
            0.3,
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].score, 0.9);
        assert_eq!(out[1].score, 0.75);
    }

    #[test]
    fn decode_places_prior_cell_and_landmarks() {
        // One confident cell at stride 32, row 2, col 3 with zero offsets.
        let mut outs = Vec::new();
        for &s in &STRIDES {
            let n = (INPUT / s) * (INPUT / s);
            outs.push((vec![1, n, 1], vec![0.0; n]));
        }
        for &s in &STRIDES {
            let n = (INPUT / s) * (INPUT / s);
            outs.push((vec![1, n, 1], vec![0.0; n]));
        }
        for &s in &STRIDES {
            let n = (INPUT / s) * (INPUT / s);
            outs.push((vec![1, n, 4], vec![0.0; 4 * n]));
        }
        for &s in &STRIDES {
            let n = (INPUT / s) * (INPUT / s);
            outs.push((vec![1, n, 10], vec![0.5; 10 * n]));
        }
        let idx = 2 * 20 + 3;
        outs[2].1[idx] = 0.81;
        outs[5].1[idx] = 1.0;
        let faces = decode(&outs, 0.5).unwrap();
        assert_eq!(faces.len(), 1);
        let f = faces[0];
        assert!((f.score - 0.9).abs() < 1e-6);
        // centre (3*32, 2*32), size exp(0)*32.
        assert_eq!(f.bbox, [96.0 - 16.0, 64.0 - 16.0, 96.0 + 16.0, 64.0 + 16.0]);
        assert_eq!(f.landmarks[0], [3.5 * 32.0, 2.5 * 32.0]);
    }
}
