//! PDF417 and QR decoding with rxing, with the preprocessing phone photos need,
//! and AAMVA (US/Canadian driving licence) field parsing.

use std::collections::{BTreeMap, HashSet};

use chrono::NaiveDate;
use image::{imageops, GrayImage, Luma};
use rxing::{BarcodeFormat, DecodeHints};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Barcode {
    /// `PDF_417` or `QR_CODE`.
    pub format: String,
    pub data: String,
    /// Which preprocessing variant decoded it (for diagnostics).
    pub variant: String,
}

fn try_decode(
    img: &GrayImage,
    formats: &[BarcodeFormat],
    pure: bool,
) -> Option<(BarcodeFormat, String)> {
    let mut hints = DecodeHints {
        PossibleFormats: Some(formats.iter().cloned().collect::<HashSet<_>>()),
        TryHarder: Some(true),
        ..Default::default()
    };
    if pure {
        hints.PureBarcode = Some(true);
    }
    let r = rxing::helpers::detect_in_luma_slice_with_hints(
        img.as_raw(),
        img.width(),
        img.height(),
        None,
        &mut hints,
    )
    .ok()?;
    Some((*r.getBarcodeFormat(), r.getText().to_string()))
}

/// Otsu threshold of a grey image.
fn otsu(img: &GrayImage) -> u8 {
    imageproc::contrast::otsu_level(img)
}

fn binarise(img: &GrayImage) -> GrayImage {
    let t = otsu(img);
    imageproc::contrast::threshold(img, t, imageproc::contrast::ThresholdType::Binary)
}

/// Bounding box of the densest region of strong horizontal gradients (barcode bars),
/// found on a coarse grid. Returns (x, y, w, h) with a margin.
fn barcode_region(img: &GrayImage) -> Option<(u32, u32, u32, u32)> {
    let (w, h) = img.dimensions();
    let cell = (w.max(h) / 48).max(4);
    let (gw, gh) = (w / cell, h / cell);
    if gw < 4 || gh < 4 {
        return None;
    }
    let mut dens = vec![0f32; (gw * gh) as usize];
    for gy in 0..gh {
        for gx in 0..gw {
            let mut s = 0u32;
            for y in (gy * cell..(gy + 1) * cell).step_by(2) {
                for x in gx * cell + 1..(gx + 1) * cell {
                    let d = (img.get_pixel(x, y).0[0] as i32 - img.get_pixel(x - 1, y).0[0] as i32)
                        .unsigned_abs();
                    if d > 40 {
                        s += 1;
                    }
                }
            }
            dens[(gy * gw + gx) as usize] = s as f32 / (cell * cell / 2) as f32;
        }
    }
    let thr = 0.12;
    let (mut x0, mut y0, mut x1, mut y1) = (u32::MAX, u32::MAX, 0, 0);
    let mut n = 0;
    for gy in 0..gh {
        for gx in 0..gw {
            if dens[(gy * gw + gx) as usize] > thr {
                // Only keep cells with dense neighbours (bars come in blocks, text in lines).
                let neigh = [(-1i32, 0i32), (1, 0), (0, -1), (0, 1)]
                    .iter()
                    .filter(|(dx, dy)| {
                        let (nx, ny) = (gx as i32 + dx, gy as i32 + dy);
                        nx >= 0
                            && ny >= 0
                            && nx < gw as i32
                            && ny < gh as i32
                            && dens[(ny as u32 * gw + nx as u32) as usize] > thr
                    })
                    .count();
                if neigh >= 3 {
                    x0 = x0.min(gx);
                    y0 = y0.min(gy);
                    x1 = x1.max(gx);
                    y1 = y1.max(gy);
                    n += 1;
                }
            }
        }
    }
    if n < 6 {
        return None;
    }
    let m = 2;
    let (x0, y0) = (x0.saturating_sub(m) * cell, y0.saturating_sub(m) * cell);
    let (x1, y1) = (((x1 + 1 + m) * cell).min(w), ((y1 + 1 + m) * cell).min(h));
    Some((x0, y0, x1 - x0, y1 - y0))
}

/// Small rotation of a grey image about its centre (white fill).
fn rotate(img: &GrayImage, deg: f32) -> GrayImage {
    imageproc::geometric_transformations::rotate_about_center(
        img,
        deg.to_radians(),
        imageproc::geometric_transformations::Interpolation::Bilinear,
        Luma([255]),
    )
}

/// Decode PDF417 and QR codes. Tries the image as is, then a crop around the bars,
/// upscaled, binarised and counter-rotated by small angles.
pub fn decode(gray: &GrayImage) -> Vec<Barcode> {
    let formats = [BarcodeFormat::PDF_417, BarcodeFormat::QR_CODE];
    let found = |f: BarcodeFormat, d: String, v: &str| Barcode {
        format: format!("{f:?}"),
        data: d,
        variant: v.into(),
    };
    if let Some((f, d)) = try_decode(gray, &formats, false) {
        return vec![found(f, d, "as-is")];
    }
    let Some((x, y, w, h)) = barcode_region(gray) else {
        return Vec::new();
    };
    let crop = imageops::crop_imm(gray, x, y, w, h).to_image();
    let up = if crop.width() < 1200 {
        let s = 1200.0 / crop.width() as f32;
        imageops::resize(
            &crop,
            1200,
            (crop.height() as f32 * s) as u32,
            imageops::FilterType::CatmullRom,
        )
    } else {
        crop
    };
    let bin = binarise(&up);
    for (name, img) in [("crop-upscaled", &up), ("crop-binarised", &bin)] {
        if let Some((f, d)) = try_decode(img, &formats, false) {
            return vec![found(f, d, name)];
        }
    }
    // Deskew by trying small counter-rotations (phone photos are rarely level).
    for deg in [-3.0f32, 3.0, -6.0, 6.0, -9.0, 9.0] {
        let r = binarise(&rotate(&up, deg));
        if let Some((f, d)) = try_decode(&r, &formats, false) {
            return vec![found(f, d, &format!("rotated{deg}"))];
        }
    }
    Vec::new()
}

/// Parsed AAMVA driving licence data.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Aamva {
    pub issuer_id: String,
    pub version: u32,
    pub fields: BTreeMap<String, String>,
    pub document_number: Option<String>,
    pub last_name: Option<String>,
    pub first_name: Option<String>,
    pub middle_name: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub expiry_date: Option<NaiveDate>,
    pub issue_date: Option<NaiveDate>,
    pub sex: Option<char>,
    pub street: Option<String>,
    pub city: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

/// Dates are MMDDCCYY in US documents and CCYYMMDD in Canadian ones.
fn aamva_date(s: &str, country: Option<&str>) -> Option<NaiveDate> {
    if s.len() != 8 || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let can = country == Some("CAN");
    let (y, m, d) = if can {
        (&s[0..4], &s[4..6], &s[6..8])
    } else {
        (&s[4..8], &s[0..2], &s[2..4])
    };
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// Parse an AAMVA payload (`@\n\x1e\rANSI …`). Returns None if it is not one.
pub fn parse_aamva(data: &str) -> Option<Aamva> {
    let start = data.find("ANSI ").or_else(|| data.find("AAMVA"))?;
    let hdr = &data[start..];
    let issuer_id = hdr.get(5..11)?.to_string();
    let version: u32 = hdr.get(11..13)?.parse().ok()?;
    let mut fields = BTreeMap::new();
    // Elements are 3-letter IDs followed by a value, separated by LF (CR ends a subfile).
    // The first element follows the subfile type ("DL"/"ID") after the directory.
    let body_start = data
        .find("DLDAQ")
        .or_else(|| data.find("IDDAQ"))
        .map(|i| i + 2)
        .or_else(|| {
            let off: usize = hdr.get(23..27)?.parse().ok()?;
            Some(start + off + 2)
        })?;
    for el in data.get(body_start..)?.split(['\n', '\r']) {
        let el = el.trim_start_matches("DL").trim_start_matches("ID");
        if el.len() >= 3 && el[..3].chars().all(|c| c.is_ascii_uppercase()) {
            fields.insert(el[..3].to_string(), el[3..].trim().to_string());
        }
    }
    if fields.is_empty() {
        return None;
    }
    let g = |k: &str| {
        fields
            .get(k)
            .filter(|v| !v.is_empty() && v.as_str() != "NONE")
            .cloned()
    };
    let country = g("DCG");
    let date = |k: &str| g(k).and_then(|v| aamva_date(&v, country.as_deref()));
    let sex = g("DBC").map(|v| match v.as_str() {
        "1" | "M" => 'M',
        "2" | "F" => 'F',
        _ => 'U',
    });
    Some(Aamva {
        issuer_id,
        version,
        document_number: g("DAQ"),
        last_name: g("DCS").or_else(|| g("DAB")),
        first_name: g("DAC").or_else(|| g("DCT")),
        middle_name: g("DAD"),
        birth_date: date("DBB"),
        expiry_date: date("DBA"),
        issue_date: date("DBD"),
        sex,
        street: g("DAG"),
        city: g("DAI"),
        state: g("DAJ"),
        postal_code: g("DAK").map(|z| {
            if z.len() == 9 && z.ends_with("0000") {
                z[..5].to_string()
            } else {
                z
            }
        }),
        country,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aamva_fields() {
        let payload = crate::synth::aamva_payload(
            "636014",
            &[
                ("DAQ", "D1234567".into()),
                ("DCS", "DOE".into()),
                ("DAC", "JANE".into()),
                ("DBB", "07041985".into()),
                ("DBA", "07042030".into()),
                ("DBC", "2".into()),
                ("DAG", "1 MAIN ST".into()),
                ("DAI", "SPRINGFIELD".into()),
                ("DAJ", "CA".into()),
                ("DAK", "945010000".into()),
                ("DCG", "USA".into()),
            ],
        );
        let a = parse_aamva(&payload).unwrap();
        assert_eq!(a.issuer_id, "636014");
        assert_eq!(a.version, 8);
        assert_eq!(a.document_number.as_deref(), Some("D1234567"));
        assert_eq!(a.last_name.as_deref(), Some("DOE"));
        assert_eq!(a.birth_date, NaiveDate::from_ymd_opt(1985, 7, 4));
        assert_eq!(a.expiry_date, NaiveDate::from_ymd_opt(2030, 7, 4));
        assert_eq!(a.sex, Some('F'));
        assert_eq!(a.postal_code.as_deref(), Some("94501"));
        assert!(parse_aamva("hello").is_none());
    }

    #[test]
    fn pdf417_round_trip_through_rxing() {
        use rxing::Writer;
        let payload =
            crate::synth::aamva_payload("636014", &[("DAQ", "X7".into()), ("DCS", "ROE".into())]);
        let m = rxing::pdf417::PDF417Writer
            .encode(&payload, &BarcodeFormat::PDF_417, 0, 0)
            .unwrap();
        let s = 3;
        let img = GrayImage::from_fn(m.width() * s + 40, m.height() * s * 3 + 40, |x, y| {
            let (mx, my) = (x as i32 - 20, y as i32 - 20);
            if mx < 0 || my < 0 || mx as u32 >= m.width() * s || my as u32 >= m.height() * s * 3 {
                return Luma([255]);
            }
            Luma([if m.get(mx as u32 / s, my as u32 / (s * 3)) {
                0
            } else {
                255
            }])
        });
        let codes = decode(&img);
        assert_eq!(codes.len(), 1);
        assert_eq!(codes[0].data, payload);
        assert_eq!(
            parse_aamva(&codes[0].data).unwrap().last_name.as_deref(),
            Some("ROE")
        );
    }
}
