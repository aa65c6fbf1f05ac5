//! ICAO 9303 physical layouts in millimetres, shared by the synthetic corpus and by the
//! engine's portrait crop (the portrait zone is located from the MRZ geometry).

use crate::mrz::MrzFormat;

/// Character pitch of the MRZ: ICAO 9303-3 §4.2, 10 characters per inch.
pub const MRZ_PITCH_MM: f32 = 2.54;
/// Distance between MRZ baselines (ICAO: 4.23 mm ± tolerance for TD3, 3.53 mm TD1).
pub fn mrz_line_spacing_mm(format: MrzFormat) -> f32 {
    match format {
        MrzFormat::Td1 => 3.7,
        _ => 4.23,
    }
}

/// Document size (width, height) in mm, landscape.
pub fn doc_size_mm(format: MrzFormat) -> (f32, f32) {
    match format {
        MrzFormat::Td1 => (85.6, 53.98),
        MrzFormat::Td2 | MrzFormat::MrvB => (105.0, 74.0),
        MrzFormat::Td3 => (125.0, 88.0),
        MrzFormat::MrvA => (120.0, 80.0),
    }
}

/// Left edge of the MRZ characters and the baseline of the last MRZ line, in mm.
pub fn mrz_origin_mm(format: MrzFormat) -> (f32, f32) {
    let (w, h) = doc_size_mm(format);
    let n = format.line_len() as f32;
    // MRZ centred horizontally; last baseline ~5 mm above the bottom edge.
    ((w - n * MRZ_PITCH_MM) / 2.0, h - 5.0)
}

/// Portrait zone (x, y, w, h) in mm. For TD1 the portrait is on the front, where there is
/// no MRZ, so this is only used for the generator.
pub fn portrait_mm(format: MrzFormat) -> (f32, f32, f32, f32) {
    match format {
        MrzFormat::Td1 => (4.0, 12.0, 24.0, 32.0),
        MrzFormat::Td2 | MrzFormat::MrvB => (4.0, 14.0, 26.0, 34.0),
        MrzFormat::Td3 => (5.0, 16.0, 32.0, 40.0),
        MrzFormat::MrvA => (5.0, 14.0, 30.0, 38.0),
    }
}
