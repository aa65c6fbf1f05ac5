//! Image quality scores of spec §5.4 (`front_image_quality_score` / `back_image_quality_score`).

use image::GrayImage;
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct QualityScore {
    /// 0–100 from the variance of the Laplacian (sharpness).
    pub focus_score: f32,
    /// 0–100, best at mid-grey mean luminance.
    pub brightness_score: f32,
    /// `too_dark`, `too_bright`, `glare` or null.
    pub brightness_issue: Option<String>,
    pub is_document_fully_visible: bool,
    /// 0–100 from the pixel size of the document (MRZ character pitch when known).
    pub resolution_score: f32,
    pub overall_score: f32,
}

/// Variance of the 4-neighbour Laplacian on a grey image normalised to ~1000 px.
pub fn laplacian_variance(gray: &GrayImage) -> f32 {
    let (w, h) = gray.dimensions();
    if w < 3 || h < 3 {
        return 0.0;
    }
    let mut sum = 0f64;
    let mut sum2 = 0f64;
    let mut n = 0f64;
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let c = gray.get_pixel(x, y).0[0] as f64;
            let l = gray.get_pixel(x - 1, y).0[0] as f64
                + gray.get_pixel(x + 1, y).0[0] as f64
                + gray.get_pixel(x, y - 1).0[0] as f64
                + gray.get_pixel(x, y + 1).0[0] as f64
                - 4.0 * c;
            sum += l;
            sum2 += l * l;
            n += 1.0;
        }
    }
    let mean = sum / n;
    (sum2 / n - mean * mean) as f32
}

/// Score a document image. `region` is the document area in `gray` coordinates if known
/// (focus and brightness are measured there); `px_per_mm` comes from the MRZ pitch.
pub fn score(
    gray: &GrayImage,
    region: Option<(u32, u32, u32, u32)>,
    px_per_mm: Option<f32>,
    fully_visible: bool,
) -> QualityScore {
    let view = match region {
        Some((x, y, w, h)) if w > 16 && h > 16 => {
            image::imageops::crop_imm(gray, x, y, w, h).to_image()
        }
        _ => gray.clone(),
    };
    let lv = laplacian_variance(&view);
    // Sharp printed text at our working scale gives a variance in the hundreds; heavy blur < 30.
    let focus_score = (100.0 * (lv / 400.0).sqrt()).clamp(0.0, 100.0);
    let n = (view.width() * view.height()).max(1) as f32;
    let mean = view.pixels().map(|p| p.0[0] as f32).sum::<f32>() / n;
    let saturated = view.pixels().filter(|p| p.0[0] >= 250).count() as f32 / n;
    let brightness_score = (100.0 * (1.0 - ((mean - 150.0).abs() / 150.0))).clamp(0.0, 100.0);
    let brightness_issue = if mean < 70.0 {
        Some("too_dark".to_string())
    } else if mean > 225.0 {
        Some("too_bright".to_string())
    } else if saturated > 0.04 {
        Some("glare".to_string())
    } else {
        None
    };
    // 8 px/mm (≈200 dpi) is plenty for OCR; below 3 px/mm characters merge.
    let resolution_score = match px_per_mm {
        Some(p) => (100.0 * (p - 2.0) / 6.0).clamp(0.0, 100.0),
        None => (100.0 * gray.width().min(gray.height()) as f32 / 720.0).clamp(0.0, 100.0),
    };
    let mut overall = 0.4 * focus_score + 0.25 * brightness_score + 0.35 * resolution_score;
    if !fully_visible {
        overall *= 0.6;
    }
    if brightness_issue.is_some() {
        overall *= 0.85;
    }
    QualityScore {
        focus_score: round1(focus_score),
        brightness_score: round1(brightness_score),
        brightness_issue,
        is_document_fully_visible: fully_visible,
        resolution_score: round1(resolution_score),
        overall_score: round1(overall),
    }
}

fn round1(x: f32) -> f32 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;

    #[test]
    fn blur_lowers_focus_and_dark_is_flagged() {
        let sharp = GrayImage::from_fn(200, 200, |x, y| {
            Luma([if (x / 4 + y / 4) % 2 == 0 { 40 } else { 220 }])
        });
        let blurred = imageproc::filter::gaussian_blur_f32(&sharp, 3.0);
        let a = score(&sharp, None, Some(8.0), true);
        let b = score(&blurred, None, Some(8.0), true);
        assert!(a.focus_score > b.focus_score + 20.0, "{a:?} {b:?}");
        let dark = GrayImage::from_pixel(100, 100, Luma([30]));
        assert_eq!(
            score(&dark, None, None, true).brightness_issue.as_deref(),
            Some("too_dark")
        );
    }
}
