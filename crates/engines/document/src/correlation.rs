//! Template matching shared by the PDF417 soft reader and the MRZ glyph reader: both sample
//! the image's darkness between pixels and match the samples against templates made
//! zero-mean and unit-norm, so a dot product is a correlation coefficient.

use image::GrayImage;

/// Zero mean, unit norm, in place; false (and all zeros) for a flat vector.
pub(crate) fn normalise(v: &mut [f32]) -> bool {
    let mean = v.iter().sum::<f32>() / v.len().max(1) as f32;
    v.iter_mut().for_each(|x| *x -= mean);
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if norm < 1e-6 {
        v.fill(0.0);
        return false;
    }
    v.iter_mut().for_each(|x| *x /= norm);
    true
}

/// The dot product in eight lanes, which the compiler turns into SIMD (a plain sequential sum
/// must keep its order and stays scalar); both template searches spend their time here.
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut lanes = [0f32; 8];
    for (x, y) in a.chunks_exact(8).zip(b.chunks_exact(8)) {
        for i in 0..8 {
            lanes[i] += x[i] * y[i];
        }
    }
    let tail: f32 = a
        .chunks_exact(8)
        .remainder()
        .iter()
        .zip(b.chunks_exact(8).remainder())
        .map(|(x, y)| x * y)
        .sum();
    lanes.iter().sum::<f32>() + tail
}

/// Darkness (255 − grey) at a sub-pixel position, bilinear; white outside.
pub(crate) fn darkness(img: &GrayImage, x: f32, y: f32) -> f32 {
    let (w, h) = img.dimensions();
    if x < 0.0 || y < 0.0 || x > (w - 1) as f32 || y > (h - 1) as f32 {
        return 0.0;
    }
    let (x0, y0) = (x.floor() as u32, y.floor() as u32);
    let (x1, y1) = ((x0 + 1).min(w - 1), (y0 + 1).min(h - 1));
    let (fx, fy) = (x - x0 as f32, y - y0 as f32);
    let g = |x, y| img.get_pixel(x, y).0[0] as f32;
    let top = g(x0, y0) * (1.0 - fx) + g(x1, y0) * fx;
    let bottom = g(x0, y1) * (1.0 - fx) + g(x1, y1) * fx;
    255.0 - (top * (1.0 - fy) + bottom * fy)
}
