//! Image decoding and the small geometric operations the pipeline needs:
//! least-squares similarity transforms, bilinear affine warping and area
//! downscaling.

use std::io::Cursor;

use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};

use crate::FaceError;

/// Largest accepted width or height before decoding (decompression bombs).
pub const MAX_DIMENSION: u32 = 12_000;

/// Decodes JPEG/PNG/WebP/TIFF bytes to RGB8, applying the EXIF orientation
/// so that faces are upright as the camera meant them.
pub fn decode(bytes: &[u8]) -> Result<RgbImage, FaceError> {
    let mut reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| FaceError::Image(e.to_string()))?;
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_DIMENSION);
    limits.max_image_height = Some(MAX_DIMENSION);
    limits.max_alloc = Some(512 * 1024 * 1024);
    reader.limits(limits);
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| FaceError::Image(e.to_string()))?;
    let orientation = decoder.orientation().ok();
    let mut img =
        DynamicImage::from_decoder(decoder).map_err(|e| FaceError::Image(e.to_string()))?;
    if let Some(o) = orientation {
        img.apply_orientation(o);
    }
    Ok(img.to_rgb8())
}

/// A 2×3 affine matrix `[a b c; d e f]` mapping (x, y) to (a x + b y + c, d x + e y + f).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine(pub [f64; 6]);

impl Affine {
    pub fn apply(&self, x: f64, y: f64) -> (f64, f64) {
        let m = &self.0;
        (m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5])
    }

    pub fn invert(&self) -> Option<Affine> {
        let [a, b, c, d, e, f] = self.0;
        let det = a * e - b * d;
        if det.abs() < 1e-12 {
            return None;
        }
        let (ia, ib, id, ie) = (e / det, -b / det, -d / det, a / det);
        Some(Affine([
            ia,
            ib,
            -(ia * c + ib * f),
            id,
            ie,
            -(id * c + ie * f),
        ]))
    }

    /// Uniform scale factor of a similarity transform.
    pub fn scale(&self) -> f64 {
        (self.0[0] * self.0[4] - self.0[1] * self.0[3]).abs().sqrt()
    }
}

/// Least-squares similarity transform (rotation, uniform scale, translation;
/// no reflection) taking `src[i]` onto `dst[i]`. This is the closed form of
/// Umeyama's estimator in 2-D, which is what OpenCV's SFace alignment and
/// dlib's `find_similarity_transform` compute.
pub fn similarity_transform(src: &[(f64, f64)], dst: &[(f64, f64)]) -> Option<Affine> {
    let n = src.len().min(dst.len());
    if n < 2 {
        return None;
    }
    let nf = n as f64;
    let (msx, msy) = src[..n]
        .iter()
        .fold((0.0, 0.0), |a, p| (a.0 + p.0 / nf, a.1 + p.1 / nf));
    let (mdx, mdy) = dst[..n]
        .iter()
        .fold((0.0, 0.0), |a, p| (a.0 + p.0 / nf, a.1 + p.1 / nf));
    let (mut sxx, mut dot, mut cross) = (0.0, 0.0, 0.0);
    for i in 0..n {
        let (px, py) = (src[i].0 - msx, src[i].1 - msy);
        let (qx, qy) = (dst[i].0 - mdx, dst[i].1 - mdy);
        sxx += px * px + py * py;
        dot += px * qx + py * qy;
        cross += px * qy - py * qx;
    }
    if sxx < 1e-12 {
        return None;
    }
    let a = dot / sxx;
    let b = cross / sxx;
    let tx = mdx - (a * msx - b * msy);
    let ty = mdy - (b * msx + a * msy);
    Some(Affine([a, -b, tx, b, a, ty]))
}

/// Bilinear sample with a constant black border (OpenCV `BORDER_CONSTANT`).
#[inline]
pub fn sample_bilinear(img: &RgbImage, x: f64, y: f64) -> [f32; 3] {
    let (w, h) = (img.width() as i64, img.height() as i64);
    let x0 = x.floor();
    let y0 = y.floor();
    let fx = (x - x0) as f32;
    let fy = (y - y0) as f32;
    let (x0, y0) = (x0 as i64, y0 as i64);
    let raw = img.as_raw();
    let px = |xx: i64, yy: i64| -> [f32; 3] {
        if xx < 0 || yy < 0 || xx >= w || yy >= h {
            [0.0; 3]
        } else {
            let i = ((yy * w + xx) * 3) as usize;
            [raw[i] as f32, raw[i + 1] as f32, raw[i + 2] as f32]
        }
    };
    let (p00, p10, p01, p11) = (
        px(x0, y0),
        px(x0 + 1, y0),
        px(x0, y0 + 1),
        px(x0 + 1, y0 + 1),
    );
    let mut out = [0.0f32; 3];
    for c in 0..3 {
        let top = p00[c] + (p10[c] - p00[c]) * fx;
        let bot = p01[c] + (p11[c] - p01[c]) * fx;
        out[c] = top + (bot - top) * fy;
    }
    out
}

/// Warps `img` into a `w`×`h` output with the forward transform `m`
/// (source → output), like OpenCV `warpAffine` with bilinear interpolation.
pub fn warp_affine(img: &RgbImage, m: &Affine, w: u32, h: u32) -> RgbImage {
    let inv = m.invert().unwrap_or(Affine([0.0; 6]));
    let mut out = RgbImage::new(w, h);
    for (x, y, p) in out.enumerate_pixels_mut() {
        let (sx, sy) = inv.apply(x as f64, y as f64);
        let v = sample_bilinear(img, sx, sy);
        p.0 = [
            v[0].round().clamp(0.0, 255.0) as u8,
            v[1].round().clamp(0.0, 255.0) as u8,
            v[2].round().clamp(0.0, 255.0) as u8,
        ];
    }
    out
}

/// Downscales by an integer-free box filter first when the warp shrinks the
/// image a lot, so bilinear sampling does not alias (dlib extracts chips
/// from an image pyramid for the same reason).
pub fn warp_affine_antialiased(img: &RgbImage, m: &Affine, w: u32, h: u32) -> RgbImage {
    let s = m.scale();
    if s >= 0.5 || s <= 0.0 {
        return warp_affine(img, m, w, h);
    }
    // Pre-shrink so that the remaining warp scale is about 0.5..1.
    let factor = (s * 1.5).min(1.0);
    let nw = ((img.width() as f64 * factor).round() as u32).max(1);
    let nh = ((img.height() as f64 * factor).round() as u32).max(1);
    let small = image::imageops::resize(img, nw, nh, image::imageops::FilterType::Triangle);
    let fx = nw as f64 / img.width() as f64;
    let fy = nh as f64 / img.height() as f64;
    // Compose: output = m(source) and source = small / f, with pixel-centre alignment.
    let pre = Affine([1.0 / fx, 0.0, 0.5 / fx - 0.5, 0.0, 1.0 / fy, 0.5 / fy - 0.5]);
    warp_affine(&small, &compose(m, &pre), w, h)
}

/// `a ∘ b`: apply `b` then `a`.
pub fn compose(a: &Affine, b: &Affine) -> Affine {
    let [a0, a1, a2, a3, a4, a5] = a.0;
    let [b0, b1, b2, b3, b4, b5] = b.0;
    Affine([
        a0 * b0 + a1 * b3,
        a0 * b1 + a1 * b4,
        a0 * b2 + a1 * b5 + a2,
        a3 * b0 + a4 * b3,
        a3 * b1 + a4 * b4,
        a3 * b2 + a4 * b5 + a5,
    ])
}

/// Rec. 601 luma of an RGB pixel, 0–255.
#[inline]
pub fn luma(p: &[u8; 3]) -> f32 {
    0.299 * p[0] as f32 + 0.587 * p[1] as f32 + 0.114 * p[2] as f32
}

/// Shrinks `img` to `nw`×`nh` by area averaging, as OpenCV's `INTER_AREA`
/// does: each destination pixel is the mean of the source area it covers,
/// pixels on the edge of that area weighted by their overlap. The detector
/// then sees a large image exactly as the reference implementation does
/// (a Triangle filter moved landmarks by ~0.9 px on a 910×1137 photo).
/// Only for shrinking (`nw ≤ width`, `nh ≤ height`).
pub fn resize_area(img: &RgbImage, nw: u32, nh: u32) -> RgbImage {
    let (w, h) = img.dimensions();
    let columns = area_taps(w, nw);
    let rows = area_taps(h, nh);
    // Horizontal pass into floats, then vertical, rounding once at the end.
    let mut horizontal = vec![0f32; (h * nw * 3) as usize];
    for y in 0..h {
        for (dx, taps) in columns.iter().enumerate() {
            let mut acc = [0f32; 3];
            for &(sx, weight) in taps {
                let p = img.get_pixel(sx, y).0;
                for c in 0..3 {
                    acc[c] += p[c] as f32 * weight;
                }
            }
            let i = ((y * nw) as usize + dx) * 3;
            horizontal[i..i + 3].copy_from_slice(&acc);
        }
    }
    let mut out = RgbImage::new(nw, nh);
    for (dy, taps) in rows.iter().enumerate() {
        for dx in 0..nw as usize {
            let mut acc = [0f32; 3];
            for &(sy, weight) in taps {
                let i = ((sy * nw) as usize + dx) * 3;
                for c in 0..3 {
                    acc[c] += horizontal[i + c] * weight;
                }
            }
            out.put_pixel(
                dx as u32,
                dy as u32,
                image::Rgb(acc.map(|v| v.round().clamp(0.0, 255.0) as u8)),
            );
        }
    }
    out
}

/// For each destination index along one axis: the source indices it covers
/// and their weights (overlap / scale, summing to 1).
fn area_taps(src: u32, dst: u32) -> Vec<Vec<(u32, f32)>> {
    let scale = src as f64 / dst.max(1) as f64;
    (0..dst)
        .map(|d| {
            let (start, end) = (d as f64 * scale, (d + 1) as f64 * scale);
            let mut taps = Vec::new();
            let mut s = start.floor() as u32;
            while (s as f64) < end && s < src {
                let overlap = end.min(s as f64 + 1.0) - start.max(s as f64);
                if overlap > 1e-9 {
                    taps.push((s, (overlap / scale) as f32));
                }
                s += 1;
            }
            taps
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarity_recovers_known_transform() {
        let t = Affine([
            0.8 * 0.6f64.cos(),
            -0.8 * 0.6f64.sin(),
            12.0,
            0.8 * 0.6f64.sin(),
            0.8 * 0.6f64.cos(),
            -4.0,
        ]);
        let src = [
            (10.0, 20.0),
            (50.0, 22.0),
            (30.0, 40.0),
            (15.0, 60.0),
            (45.0, 61.0),
        ];
        let dst: Vec<_> = src.iter().map(|p| t.apply(p.0, p.1)).collect();
        let est = similarity_transform(&src, &dst).unwrap();
        for (a, b) in est.0.iter().zip(t.0.iter()) {
            assert!((a - b).abs() < 1e-9, "{est:?} vs {t:?}");
        }
        assert!((est.scale() - 0.8).abs() < 1e-9);
        let inv = est.invert().unwrap();
        let (x, y) = inv.apply(dst[2].0, dst[2].1);
        assert!((x - 30.0).abs() < 1e-9 && (y - 40.0).abs() < 1e-9);
    }

    #[test]
    fn warp_identity_copies_pixels() {
        let mut img = RgbImage::new(8, 6);
        for (x, y, p) in img.enumerate_pixels_mut() {
            p.0 = [(x * 30) as u8, (y * 40) as u8, 7];
        }
        let out = warp_affine(&img, &Affine([1.0, 0.0, 0.0, 0.0, 1.0, 0.0]), 8, 6);
        assert_eq!(out, img);
        // A shift by one pixel moves content and fills with black.
        let out = warp_affine(&img, &Affine([1.0, 0.0, 1.0, 0.0, 1.0, 0.0]), 8, 6);
        assert_eq!(out.get_pixel(0, 0).0, [0, 0, 0]);
        assert_eq!(out.get_pixel(3, 2).0, img.get_pixel(2, 2).0);
    }

    #[test]
    fn area_resize_averages_the_covered_pixels() {
        // 4×1 → 2×1: exact pairs; 3×1 → 2×1: the middle pixel is shared half and half.
        let img = RgbImage::from_fn(4, 1, |x, _| image::Rgb([[0, 100, 200, 250][x as usize]; 3]));
        let half = resize_area(&img, 2, 1);
        assert_eq!(half.get_pixel(0, 0).0, [50; 3]);
        assert_eq!(half.get_pixel(1, 0).0, [225; 3]);
        let img = RgbImage::from_fn(3, 1, |x, _| image::Rgb([[0, 90, 180][x as usize]; 3]));
        let two = resize_area(&img, 2, 1);
        // (0·1 + 90·0.5) / 1.5 = 30, (90·0.5 + 180·1) / 1.5 = 150.
        assert_eq!(two.get_pixel(0, 0).0, [30; 3]);
        assert_eq!(two.get_pixel(1, 0).0, [150; 3]);
    }
}
