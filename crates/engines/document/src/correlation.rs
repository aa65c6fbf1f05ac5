//! Normalised cross-correlation, shared by the PDF417 soft reader and the MRZ glyph reader:
//! both match samples against templates made zero-mean and unit-norm, so a dot product is a
//! correlation coefficient.

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
