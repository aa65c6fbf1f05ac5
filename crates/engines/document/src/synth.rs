//! Synthetic identity documents with ground truth, and synthetic photography of them.
//!
//! Used by the corpus test, the evaluation example and the benchmark. Everything is
//! deterministic in the seed. Fonts come from Debian (`fonts-ocr-b`, `fonts-dejavu-core`)
//! and the portrait from `models/document/astronaut.png` (see `fetch-models.sh`).

use std::path::Path;

use ab_glyph::{Font, FontVec, PxScale, ScaleFont};
use chrono::{Datelike, Duration, NaiveDate};
use image::{imageops, Rgb, RgbImage};
use imageproc::geometric_transformations::{warp_into, Interpolation, Projection};
use serde::Serialize;

use crate::layout::{doc_size_mm, mrz_line_spacing_mm, mrz_origin_mm, portrait_mm, MRZ_PITCH_MM};
use crate::mrz::{check_digit, MrzFormat};

pub use crate::mrz_glyph::OCRB_PATH;
pub const DEJAVU_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";
pub const DEJAVU_BOLD_PATH: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf";

/// Pixels per millimetre of the rendered (flat) document.
pub const PX_MM: f32 = 8.0;
/// Where a licence back's PDF417 is drawn: (x, y, width, height) in millimetres. The encoder's
/// matrix, quiet zone included, is scaled into this rectangle.
pub const LICENCE_BARCODE_MM: (f32, f32, f32, f32) = (6.0, 14.0, 74.0, 26.0);
/// PDF417 error-correction level of a licence barcode: the minimum AAMVA's card design
/// standard (Annex D) allows. rxing's default (2) is below it, so no issued licence uses it.
pub const LICENCE_BARCODE_EC_LEVEL: u32 = 3;

/// A licence payload encoded as PDF417 the way an issuer prints it: error-correction level
/// [`LICENCE_BARCODE_EC_LEVEL`], rxing's default layout and quiet zone; each symbol row is 4
/// matrix rows high.
pub fn licence_barcode_matrix(payload: &str) -> rxing::common::BitMatrix {
    use rxing::Writer;
    let hints = rxing::EncodeHints {
        ErrorCorrection: Some(LICENCE_BARCODE_EC_LEVEL.to_string()),
        ..Default::default()
    };
    rxing::pdf417::PDF417Writer
        .encode_with_hints(payload, &rxing::BarcodeFormat::PDF_417, 0, 0, &hints)
        .expect("AAMVA payload is PDF417-encodable")
}

/// SplitMix64: tiny, deterministic, good enough for test data.
#[derive(Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed ^ 0x9E37_79B9_7F4A_7C15)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn f(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }
    pub fn range(&mut self, lo: f32, hi: f32) -> f32 {
        lo + (hi - lo) * self.f()
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    pub fn chance(&mut self, p: f32) -> bool {
        self.f() < p
    }
    /// Approximately normal (sum of uniforms).
    pub fn normal(&mut self) -> f32 {
        (0..4).map(|_| self.f()).sum::<f32>() * 1.732 - 3.464
    }
}

pub struct Assets {
    pub ocrb: FontVec,
    pub sans: FontVec,
    pub sans_bold: FontVec,
    pub portrait: RgbImage,
}

impl Assets {
    /// Load fonts and the portrait; fails if `fetch-models.sh` has not been run.
    pub fn load(models_dir: &Path) -> Result<Self, String> {
        let font = |p: &str| -> Result<FontVec, String> {
            let data = std::fs::read(p).map_err(|e| format!("{p}: {e} (run fetch-models.sh)"))?;
            FontVec::try_from_vec(data).map_err(|e| format!("{p}: {e}"))
        };
        let pp = models_dir.join("astronaut.png");
        let img =
            image::open(&pp).map_err(|e| format!("{}: {e} (run fetch-models.sh)", pp.display()))?;
        // Head and shoulders of the astronaut portrait.
        let portrait = imageops::crop_imm(&img.to_rgb8(), 150, 10, 230, 300).to_image();
        Ok(Assets {
            ocrb: font(OCRB_PATH)?,
            sans: font(DEJAVU_PATH)?,
            sans_bold: font(DEJAVU_BOLD_PATH)?,
            portrait,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DocKind {
    Passport,
    IdCardTd1,
    IdCardTd2,
    VisaA,
    VisaB,
    UsDrivingLicence,
}

impl DocKind {
    pub const ALL: [DocKind; 6] = [
        DocKind::Passport,
        DocKind::IdCardTd1,
        DocKind::IdCardTd2,
        DocKind::VisaA,
        DocKind::VisaB,
        DocKind::UsDrivingLicence,
    ];
    pub fn mrz_format(self) -> Option<MrzFormat> {
        match self {
            DocKind::Passport => Some(MrzFormat::Td3),
            DocKind::IdCardTd1 => Some(MrzFormat::Td1),
            DocKind::IdCardTd2 => Some(MrzFormat::Td2),
            DocKind::VisaA => Some(MrzFormat::MrvA),
            DocKind::VisaB => Some(MrzFormat::MrvB),
            DocKind::UsDrivingLicence => None,
        }
    }
}

/// What the generator put on the document.
#[derive(Debug, Clone, Serialize)]
pub struct GroundTruth {
    pub kind: DocKind,
    /// National spelling, as printed in the visual zone.
    pub surname: String,
    pub given_names: String,
    /// MRZ spelling (transliterated, possibly truncated).
    pub mrz_surname: String,
    pub mrz_given_names: String,
    pub document_number: String,
    pub birth_date: NaiveDate,
    pub expiry_date: NaiveDate,
    pub issue_date: NaiveDate,
    pub sex: char,
    pub issuing_state: String,
    pub nationality: String,
    pub personal_number: String,
    pub mrz_lines: Vec<String>,
    /// AAMVA payload encoded in the PDF417 (driving licences).
    pub barcode_payload: Option<String>,
    pub address: Option<String>,
    pub us_state: Option<String>,
}

pub struct SyntheticDoc {
    pub front: RgbImage,
    pub back: Option<RgbImage>,
    pub truth: GroundTruth,
}

struct PersonSpec {
    surname: &'static str,
    given: &'static str,
    sex: char,
    nat: &'static str,
}

/// Names in several scripts and lengths (Latin with diacritics; long ones force ICAO truncation).
const PEOPLE: &[PersonSpec] = &[
    PersonSpec {
        surname: "Müller",
        given: "Jürgen Klaus",
        sex: 'M',
        nat: "D",
    },
    PersonSpec {
        surname: "Lefèvre",
        given: "Élodie Anaïs",
        sex: 'F',
        nat: "FRA",
    },
    PersonSpec {
        surname: "García Núñez",
        given: "José Ángel",
        sex: 'M',
        nat: "ESP",
    },
    PersonSpec {
        surname: "Öberg",
        given: "Åsa",
        sex: 'F',
        nat: "SWE",
    },
    PersonSpec {
        surname: "Bjørnstad",
        given: "Søren",
        sex: 'M',
        nat: "NOR",
    },
    PersonSpec {
        surname: "Smith",
        given: "John Michael",
        sex: 'M',
        nat: "GBR",
    },
    PersonSpec {
        surname: "Rossi",
        given: "Giulia",
        sex: 'F',
        nat: "ITA",
    },
    PersonSpec {
        surname: "van den Berg",
        given: "Pieter",
        sex: 'M',
        nat: "NLD",
    },
    PersonSpec {
        surname: "Wiśniewski",
        given: "Łukasz",
        sex: 'M',
        nat: "POL",
    },
    PersonSpec {
        surname: "Şahin",
        given: "Gülşen",
        sex: 'F',
        nat: "TUR",
    },
    PersonSpec {
        surname: "Þórsdóttir",
        given: "Guðrún",
        sex: 'F',
        nat: "ISL",
    },
    PersonSpec {
        surname: "O'Brien",
        given: "Siobhán",
        sex: 'F',
        nat: "IRL",
    },
    PersonSpec {
        surname: "Papadopoulou-Konstantinidou",
        given: "Alexandra Evangelia Christina",
        sex: 'F',
        nat: "GRC",
    },
    PersonSpec {
        surname: "Wolfeschlegelsteinhausenbergerdorff",
        given: "Hubert Blaine",
        sex: 'M',
        nat: "USA",
    },
    PersonSpec {
        surname: "Nguyen",
        given: "Thi Minh Anh",
        sex: 'F',
        nat: "VNM",
    },
    PersonSpec {
        surname: "Okonkwo",
        given: "Chinedu",
        sex: 'M',
        nat: "NGA",
    },
    PersonSpec {
        surname: "Haddad",
        given: "Omar",
        sex: 'M',
        nat: "XXA",
    },
    PersonSpec {
        surname: "Chan",
        given: "Wing Yee",
        sex: 'F',
        nat: "GBN",
    },
    PersonSpec {
        surname: "Dvořák",
        given: "Jiří",
        sex: 'M',
        nat: "CZE",
    },
    PersonSpec {
        surname: "Silva",
        given: "Conceição",
        sex: 'F',
        nat: "PRT",
    },
];

const US_STATES: &[(&str, &str, &str)] = &[
    ("CA", "CALIFORNIA", "636014"),
    ("NY", "NEW YORK", "636001"),
    ("TX", "TEXAS", "636015"),
    ("WA", "WASHINGTON", "636045"),
    ("FL", "FLORIDA", "636010"),
];

/// ICAO 9303-3 §6 transliteration of Latin letters with diacritics.
pub fn transliterate(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        let rep: &str = match c {
            'Ä' | 'ä' | 'Æ' | 'æ' => "AE",
            'Å' | 'å' => "AA",
            'Ö' | 'ö' | 'Ø' | 'ø' | 'Œ' | 'œ' => "OE",
            'Ü' | 'ü' => "UE",
            'ß' => "SS",
            'Þ' | 'þ' => "TH",
            'Ð' | 'ð' | 'Đ' | 'đ' => "D",
            'À' | 'Á' | 'Â' | 'Ã' | 'à' | 'á' | 'â' | 'ã' | 'Ą' | 'ą' => "A",
            'Ç' | 'ç' | 'Č' | 'č' | 'Ć' | 'ć' => "C",
            'È' | 'É' | 'Ê' | 'Ë' | 'è' | 'é' | 'ê' | 'ë' | 'Ę' | 'ę' | 'Ě' | 'ě' => {
                "E"
            }
            'Ì' | 'Í' | 'Î' | 'Ï' | 'ì' | 'í' | 'î' | 'ï' | 'İ' | 'ı' => "I",
            'Ñ' | 'ñ' | 'Ń' | 'ń' | 'Ň' | 'ň' => "N",
            'Ò' | 'Ó' | 'Ô' | 'Õ' | 'ò' | 'ó' | 'ô' | 'õ' => "O",
            'Ù' | 'Ú' | 'Û' | 'ù' | 'ú' | 'û' | 'Ů' | 'ů' => "U",
            'Ý' | 'ý' | 'ÿ' => "Y",
            'Ł' | 'ł' => "L",
            'Ś' | 'ś' | 'Ş' | 'ş' | 'Š' | 'š' => "S",
            'Ž' | 'ž' | 'Ź' | 'ź' | 'Ż' | 'ż' => "Z",
            'Ř' | 'ř' => "R",
            'Ğ' | 'ğ' => "G",
            'Ť' | 'ť' => "T",
            '\'' | '’' | '.' => "",
            ' ' | '-' => "<",
            c if c.is_ascii_alphabetic() => {
                out.push(c.to_ascii_uppercase());
                continue;
            }
            _ => "",
        };
        out.push_str(rep);
    }
    out
}

/// MRZ name field of `len` characters. ICAO 9303-3 §4.6: when too long, the secondary
/// identifier is truncated first, then the primary one; the last character is then a letter.
pub fn mrz_name_field(surname: &str, given: &str, len: usize) -> (String, String, String) {
    let mut s = transliterate(surname);
    let mut g = transliterate(given);
    let total = |s: &str, g: &str| s.len() + if g.is_empty() { 0 } else { 2 + g.len() };
    while total(&s, &g) > len && g.len() > 1 {
        g.pop();
        while g.ends_with('<') {
            g.pop();
        }
    }
    while total(&s, &g) > len {
        s.pop();
    }
    let mut field = s.clone();
    if !g.is_empty() {
        field.push_str("<<");
        field.push_str(&g);
    }
    while field.len() < len {
        field.push('<');
    }
    let pretty = |x: &str| {
        x.split('<')
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    };
    (field, pretty(&s), pretty(&g))
}

fn yymmdd(d: NaiveDate) -> String {
    format!("{:02}{:02}{:02}", d.year() % 100, d.month(), d.day())
}

fn pad(s: &str, n: usize) -> String {
    let mut s = s.to_string();
    while s.len() < n {
        s.push('<');
    }
    s
}

/// Build the MRZ lines of a document (the generator's own writer, independent of the parser).
#[allow(clippy::too_many_arguments)]
pub fn build_mrz(
    format: MrzFormat,
    code: &str,
    state: &str,
    number: &str,
    nat: &str,
    birth: NaiveDate,
    sex: char,
    expiry: NaiveDate,
    personal: &str,
    name_field: &str,
) -> Vec<String> {
    let cd = |s: &str| char::from(b'0' + check_digit(s));
    let num9 = pad(number, 9);
    let (b, e) = (yymmdd(birth), yymmdd(expiry));
    match format {
        MrzFormat::Td1 => {
            let (num_field, opt1) = if number.len() > 9 {
                (
                    format!("{}<", &number[..9]),
                    pad(&format!("{}{}", &number[9..], cd(number)), 15),
                )
            } else {
                (format!("{}{}", num9, cd(&num9)), pad(personal, 15))
            };
            let l1 = format!("{}{}{}{}", pad(code, 2), pad(state, 3), num_field, opt1);
            let body = format!(
                "{}{}{}{}{}{}{}",
                b,
                cd(&b),
                sex,
                e,
                cd(&e),
                pad(nat, 3),
                "<".repeat(11)
            );
            let comp = format!(
                "{}{}{}{}",
                &l1[5..30],
                &body[0..7],
                &body[8..15],
                &body[18..29]
            );
            vec![l1, format!("{}{}", body, cd(&comp)), name_field.to_string()]
        }
        MrzFormat::Td3 => {
            let pn = pad(personal, 14);
            let pcd = if personal.is_empty() { '<' } else { cd(&pn) };
            let body = format!(
                "{}{}{}{}{}{}{}{}{}{}",
                num9,
                cd(&num9),
                pad(nat, 3),
                b,
                cd(&b),
                sex,
                e,
                cd(&e),
                pn,
                pcd
            );
            let comp = format!("{}{}{}", &body[0..10], &body[13..20], &body[21..43]);
            vec![
                format!("{}{}{}", pad(code, 2), pad(state, 3), name_field),
                format!("{}{}", body, cd(&comp)),
            ]
        }
        MrzFormat::Td2 => {
            let body = format!(
                "{}{}{}{}{}{}{}{}{}",
                num9,
                cd(&num9),
                pad(nat, 3),
                b,
                cd(&b),
                sex,
                e,
                cd(&e),
                pad(personal, 7)
            );
            let comp = format!("{}{}{}", &body[0..10], &body[13..20], &body[21..35]);
            vec![
                format!("{}{}{}", pad(code, 2), pad(state, 3), name_field),
                format!("{}{}", body, cd(&comp)),
            ]
        }
        MrzFormat::MrvA | MrzFormat::MrvB => {
            let opt_len = if format == MrzFormat::MrvA { 16 } else { 8 };
            let body = format!(
                "{}{}{}{}{}{}{}{}{}",
                num9,
                cd(&num9),
                pad(nat, 3),
                b,
                cd(&b),
                sex,
                e,
                cd(&e),
                pad(personal, opt_len)
            );
            vec![
                format!("{}{}{}", pad(code, 2), pad(state, 3), name_field),
                body,
            ]
        }
    }
}

fn rand_alnum(rng: &mut Rng, n: usize, letters_first: usize) -> String {
    const L: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ";
    const D: &[u8] = b"0123456789";
    (0..n)
        .map(|i| {
            if i < letters_first {
                *rng.pick(L) as char
            } else {
                *rng.pick(D) as char
            }
        })
        .collect()
}

fn rand_date(rng: &mut Rng, from: NaiveDate, days: i64) -> NaiveDate {
    from + Duration::days((rng.next_u64() % days as u64) as i64)
}

/// Draw text with its top-left at (x, y); returns the advance width.
fn text(
    img: &mut RgbImage,
    font: &FontVec,
    size: f32,
    x: f32,
    y: f32,
    color: [u8; 3],
    s: &str,
) -> f32 {
    imageproc::drawing::draw_text_mut(
        img,
        Rgb(color),
        x as i32,
        y as i32,
        PxScale::from(size),
        font,
        s,
    );
    let sf = font.as_scaled(PxScale::from(size));
    s.chars().map(|c| sf.h_advance(font.glyph_id(c))).sum()
}

/// MRZ in OCR-B at the ICAO pitch, one character per cell.
fn draw_mrz(
    img: &mut RgbImage,
    font: &FontVec,
    format: MrzFormat,
    lines: &[String],
    ox: f32,
    oy: f32,
) {
    let (x0, last_base) = mrz_origin_mm(format);
    let spacing = mrz_line_spacing_mm(format);
    let n = lines.len() as f32;
    let size = 4.0 * PX_MM;
    let sf = font.as_scaled(PxScale::from(size));
    for (i, line) in lines.iter().enumerate() {
        let base = last_base - (n - 1.0 - i as f32) * spacing;
        let y = oy + base * PX_MM - sf.ascent();
        for (j, c) in line.chars().enumerate() {
            let adv = sf.h_advance(font.glyph_id(c));
            let cx = ox + (x0 + (j as f32 + 0.5) * MRZ_PITCH_MM) * PX_MM - adv / 2.0;
            text(img, font, size, cx, y, [20, 20, 25], &c.to_string());
        }
    }
}

fn background(w: u32, h: u32, rng: &mut Rng) -> RgbImage {
    let base = [
        rng.range(200.0, 245.0),
        rng.range(200.0, 240.0),
        rng.range(190.0, 235.0),
    ];
    let (fx, fy) = (rng.range(0.005, 0.03), rng.range(0.005, 0.03));
    RgbImage::from_fn(w, h, |x, y| {
        // Guilloche-like security background: faint interfering waves.
        let v = ((x as f32 * fx).sin() * (y as f32 * fy).cos() * 8.0) as i32;
        Rgb([
            (base[0] as i32 + v).clamp(0, 255) as u8,
            (base[1] as i32 - v / 2).clamp(0, 255) as u8,
            (base[2] as i32 + v / 3).clamp(0, 255) as u8,
        ])
    })
}

fn paste_portrait(
    img: &mut RgbImage,
    portrait: &RgbImage,
    rect: (f32, f32, f32, f32),
    rng: &mut Rng,
) {
    let (x, y, w, h) = rect;
    let (pw, ph) = ((w * PX_MM) as u32, (h * PX_MM) as u32);
    let mut p = imageops::resize(portrait, pw, ph, imageops::FilterType::Triangle);
    let tint = rng.range(-15.0, 15.0);
    for px in p.pixels_mut() {
        for c in px.0.iter_mut() {
            *c = (*c as f32 + tint).clamp(0.0, 255.0) as u8;
        }
    }
    imageops::overlay(img, &p, (x * PX_MM) as i64, (y * PX_MM) as i64);
}

fn fmt_viz_date(d: NaiveDate) -> String {
    const M: [&str; 12] = [
        "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
    ];
    format!("{:02} {} {}", d.day(), M[d.month0() as usize], d.year())
}

/// Render one document of `kind` from `seed`, dated relative to `today`.
pub fn render(assets: &Assets, kind: DocKind, seed: u64, today: NaiveDate) -> SyntheticDoc {
    let mut rng = Rng::new(seed);
    let person = rng.pick(PEOPLE);
    let birth = rand_date(
        &mut rng,
        NaiveDate::from_ymd_opt(1940, 1, 1).unwrap(),
        365 * 64,
    );
    let issue = rand_date(&mut rng, today - Duration::days(365 * 9), 365 * 9);
    let mut expiry = issue + Duration::days(365 * 10);
    // Some documents are expired, to exercise DOCUMENT_EXPIRED.
    if rng.chance(0.1) {
        expiry = today - Duration::days(30 + rng.below(900) as i64);
    }
    let state = if person.nat.starts_with('X') || person.nat == "GBN" {
        if person.nat == "GBN" {
            "GBR"
        } else {
            "DEU"
        }
    } else {
        person.nat
    };
    match kind {
        DocKind::UsDrivingLicence => render_dl(assets, &mut rng, person, birth, issue, expiry),
        _ => {
            let format = kind.mrz_format().unwrap();
            // Some ID cards carry a long (>9 character) number: TD1 overflow.
            let long_number = format == MrzFormat::Td1 && rng.chance(0.2);
            let letters = 1 + rng.below(2);
            let number = if long_number {
                rand_alnum(&mut rng, 12, 2)
            } else {
                rand_alnum(&mut rng, 9, letters)
            };
            let personal = match format {
                MrzFormat::Td3 if rng.chance(0.5) => rand_alnum(&mut rng, 10, 0),
                MrzFormat::MrvA | MrzFormat::MrvB if rng.chance(0.5) => rand_alnum(&mut rng, 6, 2),
                _ => String::new(),
            };
            let code = match kind {
                DocKind::Passport => "P",
                DocKind::IdCardTd1 | DocKind::IdCardTd2 => {
                    if state == "D" || state == "DEU" {
                        "ID"
                    } else {
                        "I"
                    }
                }
                DocKind::VisaA | DocKind::VisaB => "V",
                DocKind::UsDrivingLicence => unreachable!(),
            };
            let name_len = match format {
                MrzFormat::Td1 => 30,
                MrzFormat::Td3 | MrzFormat::MrvA => 39,
                _ => 31,
            };
            let (name_field, mrz_s, mrz_g) = mrz_name_field(person.surname, person.given, name_len);
            let lines = build_mrz(
                format,
                code,
                state,
                &number,
                person.nat,
                birth,
                person.sex,
                expiry,
                &personal,
                &name_field,
            );
            let (wmm, hmm) = doc_size_mm(format);
            let (w, h) = ((wmm * PX_MM) as u32, (hmm * PX_MM) as u32);
            let title = match kind {
                DocKind::Passport => "PASSPORT / PASSEPORT",
                DocKind::VisaA | DocKind::VisaB => "VISA",
                _ => "IDENTITY CARD / CARTE D'IDENTITÉ",
            };
            let mut front = background(w, h, &mut rng);
            text(
                &mut front,
                &assets.sans_bold,
                4.0 * PX_MM,
                6.0 * PX_MM,
                3.0 * PX_MM,
                [40, 40, 90],
                title,
            );
            let country = crate::countries::country_name(state)
                .unwrap_or(state)
                .to_uppercase();
            text(
                &mut front,
                &assets.sans,
                3.0 * PX_MM,
                60.0 * PX_MM,
                3.5 * PX_MM,
                [40, 40, 90],
                &country,
            );
            let viz = [
                ("Surname / Nom", person.surname.to_string()),
                ("Given names / Prénoms", person.given.to_string()),
                ("Document No.", number.clone()),
                ("Nationality", person.nat.to_string()),
                ("Date of birth", fmt_viz_date(birth)),
                ("Sex", person.sex.to_string()),
                ("Date of expiry", fmt_viz_date(expiry)),
            ];
            let (px, py, pw, ph) = portrait_mm(format);
            let tx = px + pw + 4.0;
            let row = if format == MrzFormat::Td1 { 5.2 } else { 6.4 };
            let (lsz, vsz) = if format == MrzFormat::Td1 {
                (2.1, 2.8)
            } else {
                (2.4, 3.2)
            };
            for (i, (label, value)) in viz.iter().enumerate() {
                let y = py - 1.0 + i as f32 * row;
                text(
                    &mut front,
                    &assets.sans,
                    lsz * PX_MM,
                    tx * PX_MM,
                    y * PX_MM,
                    [90, 90, 110],
                    label,
                );
                text(
                    &mut front,
                    &assets.sans_bold,
                    vsz * PX_MM,
                    tx * PX_MM,
                    (y + lsz + 0.3) * PX_MM,
                    [15, 15, 20],
                    value,
                );
            }
            paste_portrait(&mut front, &assets.portrait, (px, py, pw, ph), &mut rng);
            // TD1: the MRZ is on the back; the front has the portrait and the visual zone.
            let back = if format == MrzFormat::Td1 {
                let mut back = background(w, h, &mut rng);
                text(
                    &mut back,
                    &assets.sans,
                    2.4 * PX_MM,
                    5.0 * PX_MM,
                    5.0 * PX_MM,
                    [60, 60, 80],
                    &format!("Issued {}", fmt_viz_date(issue)),
                );
                draw_mrz(&mut back, &assets.ocrb, format, &lines, 0.0, 0.0);
                Some(back)
            } else {
                draw_mrz(&mut front, &assets.ocrb, format, &lines, 0.0, 0.0);
                None
            };
            SyntheticDoc {
                front,
                back,
                truth: GroundTruth {
                    kind,
                    surname: person.surname.into(),
                    given_names: person.given.into(),
                    mrz_surname: mrz_s,
                    mrz_given_names: mrz_g,
                    document_number: number,
                    birth_date: birth,
                    expiry_date: expiry,
                    issue_date: issue,
                    sex: person.sex,
                    issuing_state: state.into(),
                    nationality: person.nat.into(),
                    personal_number: personal,
                    mrz_lines: lines,
                    barcode_payload: None,
                    address: None,
                    us_state: None,
                },
            }
        }
    }
}

fn mmddyyyy(d: NaiveDate) -> String {
    format!("{:02}{:02}{}", d.month(), d.day(), d.year())
}

/// AAMVA 2016 (version 08) DL payload with a correct header and subfile directory.
pub fn aamva_payload(iin: &str, fields: &[(&str, String)]) -> String {
    let mut sub = String::from("DL");
    for (k, v) in fields {
        sub.push_str(k);
        sub.push_str(v);
        sub.push('\n');
    }
    sub.push('\r');
    let header_len = 21 + 10; // fixed header + one subfile designator
    format!(
        "@\n\x1e\rANSI {iin}080001DL{:04}{:04}{sub}",
        header_len,
        sub.len()
    )
}

fn render_dl(
    assets: &Assets,
    rng: &mut Rng,
    person: &PersonSpec,
    birth: NaiveDate,
    issue: NaiveDate,
    expiry: NaiveDate,
) -> SyntheticDoc {
    let (code, state_name, iin) = *rng.pick(US_STATES);
    let number = format!("{}{}", rand_alnum(rng, 1, 1), rand_alnum(rng, 7, 0));
    let street = format!(
        "{} {} ST",
        10 + rng.below(9000),
        rng.pick(&["MAIN", "OAK", "PINE", "MAPLE", "CEDAR"])
    );
    let city = rng
        .pick(&["SPRINGFIELD", "RIVERSIDE", "FAIRVIEW", "GREENVILLE"])
        .to_string();
    let zip = format!("{:05}", 10000 + rng.below(89999));
    let sur = transliterate(person.surname).replace('<', " ");
    let given_t = transliterate(person.given).replace('<', " ");
    let mut parts = given_t.splitn(2, ' ');
    let first = parts.next().unwrap_or("").to_string();
    let middle = parts.next().unwrap_or("").to_string();
    let sex_code = if person.sex == 'M' { "1" } else { "2" };
    let fields = vec![
        ("DAQ", number.clone()),
        ("DCS", sur.clone()),
        ("DAC", first.clone()),
        ("DAD", middle.clone()),
        ("DBD", mmddyyyy(issue)),
        ("DBB", mmddyyyy(birth)),
        ("DBA", mmddyyyy(expiry)),
        ("DBC", sex_code.to_string()),
        ("DAY", "BRO".to_string()),
        ("DAU", "070 IN".to_string()),
        ("DAG", street.clone()),
        ("DAI", city.clone()),
        ("DAJ", code.to_string()),
        ("DAK", format!("{zip}0000")),
        ("DCF", rand_alnum(rng, 10, 0)),
        ("DCG", "USA".to_string()),
        ("DCA", "C".to_string()),
        ("DCB", "NONE".to_string()),
        ("DCD", "NONE".to_string()),
        ("DDE", "N".to_string()),
        ("DDF", "N".to_string()),
        ("DDG", "N".to_string()),
    ];
    let payload = aamva_payload(iin, &fields);
    let (w, h) = ((85.6 * PX_MM) as u32, (53.98 * PX_MM) as u32);
    let mut front = background(w, h, rng);
    text(
        &mut front,
        &assets.sans_bold,
        4.0 * PX_MM,
        5.0 * PX_MM,
        2.5 * PX_MM,
        [120, 20, 20],
        state_name,
    );
    text(
        &mut front,
        &assets.sans,
        2.6 * PX_MM,
        50.0 * PX_MM,
        3.2 * PX_MM,
        [120, 20, 20],
        "DRIVER LICENSE",
    );
    paste_portrait(&mut front, &assets.portrait, (4.0, 12.0, 24.0, 32.0), rng);
    let rows = [
        ("DL", number.clone()),
        ("EXP", expiry.format("%m/%d/%Y").to_string()),
        ("LN", sur.clone()),
        ("FN", given_t.clone()),
        ("DOB", birth.format("%m/%d/%Y").to_string()),
        ("ADDR", street.clone()),
        ("", format!("{city}, {code} {zip}")),
    ];
    for (i, (l, v)) in rows.iter().enumerate() {
        let y = (11.0 + i as f32 * 5.5) * PX_MM;
        text(
            &mut front,
            &assets.sans,
            2.2 * PX_MM,
            31.0 * PX_MM,
            y + 0.5 * PX_MM,
            [120, 20, 20],
            l,
        );
        text(
            &mut front,
            &assets.sans_bold,
            3.0 * PX_MM,
            40.0 * PX_MM,
            y,
            [10, 10, 10],
            v,
        );
    }
    let mut back = background(w, h, rng);
    draw_pdf417(&mut back, &payload, LICENCE_BARCODE_MM);
    SyntheticDoc {
        front,
        back: Some(back),
        truth: GroundTruth {
            kind: DocKind::UsDrivingLicence,
            surname: person.surname.into(),
            given_names: person.given.into(),
            mrz_surname: sur,
            mrz_given_names: given_t,
            document_number: number,
            birth_date: birth,
            expiry_date: expiry,
            issue_date: issue,
            sex: person.sex,
            issuing_state: "USA".into(),
            nationality: "USA".into(),
            personal_number: String::new(),
            mrz_lines: Vec::new(),
            barcode_payload: Some(payload),
            address: Some(format!("{street}, {city}, {code} {zip}")),
            us_state: Some(code.into()),
        },
    }
}

/// PDF417 from rxing's encoder, scaled into `rect` (mm) on white with a quiet zone.
fn draw_pdf417(img: &mut RgbImage, payload: &str, rect: (f32, f32, f32, f32)) {
    let m = licence_barcode_matrix(payload);
    let (x, y, w, h) = rect;
    let (px, py, pw, ph) = (x * PX_MM, y * PX_MM, w * PX_MM, h * PX_MM);
    imageproc::drawing::draw_filled_rect_mut(
        img,
        imageproc::rect::Rect::at(px as i32 - 8, py as i32 - 8)
            .of_size(pw as u32 + 16, ph as u32 + 16),
        Rgb([255, 255, 255]),
    );
    // Each pixel is as dark as the share of it the matrix's dark modules cover (the edges of a
    // code printed finer than this raster fall anywhere in a pixel, as text's do).
    let (mw, mh) = (m.width() as f32, m.height() as f32);
    let (sx, sy) = (mw / pw, mh / ph);
    let overlap = |a0: f32, a1: f32, k: u32| (a1.min(k as f32 + 1.0) - a0.max(k as f32)).max(0.0);
    for yy in 0..ph as u32 {
        let (y0, y1) = (yy as f32 * sy, (yy + 1) as f32 * sy);
        for xx in 0..pw as u32 {
            let (x0, x1) = (xx as f32 * sx, (xx + 1) as f32 * sx);
            let mut dark = 0.0;
            for ky in y0 as u32..=(y1 as u32).min(m.height() - 1) {
                for kx in x0 as u32..=(x1 as u32).min(m.width() - 1) {
                    if m.get(kx, ky) {
                        dark += overlap(x0, x1, kx) * overlap(y0, y1, ky);
                    }
                }
            }
            let v = (255.0 * (1.0 - dark / (sx * sy))).round().clamp(0.0, 255.0) as u8;
            img.put_pixel(px as u32 + xx, py as u32 + yy, Rgb([v, v, v]));
        }
    }
}

/// How hard the synthetic photography is.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Photo {
    pub rotation_deg: f32,
    pub perspective: f32,
    pub blur_sigma: f32,
    pub noise_sigma: f32,
    pub jpeg_quality: u8,
    pub glare: bool,
    pub dim: f32,
    pub scale: f32,
    pub clutter: bool,
}

/// The perturbations in one line, for the evaluation tools' failure lists.
impl std::fmt::Display for Photo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "scale {:.2} rot {:.1} persp {:.3} blur {:.2} noise {:.1} q{} glare {} dim {:.2} clutter {}",
            self.scale,
            self.rotation_deg,
            self.perspective,
            self.blur_sigma,
            self.noise_sigma,
            self.jpeg_quality,
            self.glare,
            self.dim,
            self.clutter
        )
    }
}

impl Photo {
    /// Random perturbations within the corpus' stated ranges.
    pub fn random(rng: &mut Rng) -> Photo {
        Photo {
            rotation_deg: rng.range(-10.0, 10.0),
            perspective: if rng.chance(0.5) {
                rng.range(0.0, 0.05)
            } else {
                0.0
            },
            blur_sigma: if rng.chance(0.4) {
                rng.range(0.3, 1.2)
            } else {
                0.0
            },
            noise_sigma: if rng.chance(0.5) {
                rng.range(2.0, 10.0)
            } else {
                0.0
            },
            jpeg_quality: if rng.chance(0.3) {
                30
            } else {
                55 + rng.below(40) as u8
            },
            glare: rng.chance(0.3),
            dim: if rng.chance(0.3) {
                rng.range(0.45, 0.75)
            } else {
                1.0
            },
            scale: if rng.chance(0.25) {
                rng.range(0.6, 0.8)
            } else {
                rng.range(0.8, 1.1)
            },
            clutter: rng.chance(0.6),
        }
    }
    pub fn clean() -> Photo {
        Photo {
            rotation_deg: 0.0,
            perspective: 0.0,
            blur_sigma: 0.0,
            noise_sigma: 0.0,
            jpeg_quality: 92,
            glare: false,
            dim: 1.0,
            scale: 1.0,
            clutter: false,
        }
    }
}

/// Photograph a flat document: place it on a (cluttered) background with rotation and
/// perspective, then blur, light, glare, noise and JPEG. Returns JPEG bytes.
pub fn photograph(doc: &RgbImage, p: &Photo, seed: u64) -> Vec<u8> {
    let mut rng = Rng::new(seed ^ 0xA5A5);
    let (dw, dh) = (doc.width() as f32 * p.scale, doc.height() as f32 * p.scale);
    let margin = 0.12 * dw.max(dh);
    let (cw, ch) = ((dw + 2.0 * margin) as u32, (dh + 2.0 * margin) as u32);
    let mut canvas = RgbImage::from_pixel(
        cw,
        ch,
        Rgb([
            rng.range(60.0, 180.0) as u8,
            rng.range(60.0, 160.0) as u8,
            rng.range(50.0, 150.0) as u8,
        ]),
    );
    if p.clutter {
        for _ in 0..25 {
            let c = Rgb([
                rng.below(255) as u8,
                rng.below(255) as u8,
                rng.below(255) as u8,
            ]);
            let (x, y) = (
                rng.range(0.0, cw as f32) as i32,
                rng.range(0.0, ch as f32) as i32,
            );
            if rng.chance(0.5) {
                imageproc::drawing::draw_filled_circle_mut(
                    &mut canvas,
                    (x, y),
                    rng.range(5.0, 40.0) as i32,
                    c,
                );
            } else {
                imageproc::drawing::draw_line_segment_mut(
                    &mut canvas,
                    (x as f32, y as f32),
                    (rng.range(0.0, cw as f32), rng.range(0.0, ch as f32)),
                    c,
                );
            }
        }
    }
    // Destination corners: rotate about the centre, then jitter for perspective.
    let (cx, cy) = (cw as f32 / 2.0, ch as f32 / 2.0);
    let a = p.rotation_deg.to_radians();
    let corners = [
        (-dw / 2.0, -dh / 2.0),
        (dw / 2.0, -dh / 2.0),
        (dw / 2.0, dh / 2.0),
        (-dw / 2.0, dh / 2.0),
    ];
    let mut dst = [(0f32, 0f32); 4];
    for (i, (x, y)) in corners.iter().enumerate() {
        let j = p.perspective * dw;
        let (x, y) = (x + rng.range(-j, j), y + rng.range(-j, j));
        dst[i] = (
            cx + x * a.cos() - y * a.sin(),
            cy + x * a.sin() + y * a.cos(),
        );
    }
    let src = [
        (0.0, 0.0),
        (doc.width() as f32, 0.0),
        (doc.width() as f32, doc.height() as f32),
        (0.0, doc.height() as f32),
    ];
    if let Some(proj) = Projection::from_control_points(src, dst) {
        // Warp onto a copy, then composite only inside the document quad (keeps the clutter).
        let mut warped = RgbImage::new(cw, ch);
        warp_into(
            doc,
            &proj,
            Interpolation::Bilinear,
            Rgb([0, 0, 0]),
            &mut warped,
        );
        let mut mask = image::GrayImage::new(cw, ch);
        let poly: Vec<imageproc::point::Point<i32>> = dst
            .iter()
            .map(|(x, y)| imageproc::point::Point::new(*x as i32, *y as i32))
            .collect();
        imageproc::drawing::draw_polygon_mut(&mut mask, &poly, image::Luma([255]));
        for (x, y, m) in mask.enumerate_pixels() {
            if m.0[0] > 0 {
                canvas.put_pixel(x, y, *warped.get_pixel(x, y));
            }
        }
    }
    if p.blur_sigma > 0.0 {
        canvas = imageproc::filter::gaussian_blur_f32(&canvas, p.blur_sigma);
    }
    let (gx, gy, gr) = (
        rng.range(0.2, 0.8) * cw as f32,
        rng.range(0.1, 0.6) * ch as f32,
        rng.range(0.1, 0.25) * cw as f32,
    );
    for (x, y, px) in canvas.enumerate_pixels_mut() {
        let mut add = 0.0;
        if p.glare {
            let d = ((x as f32 - gx).powi(2) + (y as f32 - gy).powi(2)).sqrt() / gr;
            add = 150.0 * (-d * d).exp();
        }
        for c in px.0.iter_mut() {
            let n = if p.noise_sigma > 0.0 {
                rng.normal() * p.noise_sigma
            } else {
                0.0
            };
            *c = (*c as f32 * p.dim + add + n).clamp(0.0, 255.0) as u8;
        }
    }
    let mut out = Vec::new();
    let mut enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, p.jpeg_quality);
    enc.encode_image(&canvas)
        .expect("JPEG encoding of an in-memory image");
    out
}

/// One corpus item: the photographed images (JPEG) and the ground truth.
pub struct CorpusItem {
    pub front: Vec<u8>,
    pub back: Option<Vec<u8>>,
    pub photo: Photo,
    pub truth: GroundTruth,
}

/// The `i`-th document of a corpus with `seed`: kinds rotate so every kind is covered.
pub fn corpus_item(assets: &Assets, seed: u64, i: usize, today: NaiveDate) -> CorpusItem {
    let kind = DocKind::ALL[i % DocKind::ALL.len()];
    let s = seed.wrapping_mul(1_000_003).wrapping_add(i as u64);
    let doc = render(assets, kind, s, today);
    let mut rng = Rng::new(s ^ 0x5151);
    let photo = Photo::random(&mut rng);
    let front = photograph(&doc.front, &photo, s);
    let back = doc.back.as_ref().map(|b| photograph(b, &photo, s ^ 1));
    CorpusItem {
        front,
        back,
        photo,
        truth: doc.truth,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mrz;

    #[test]
    fn generated_mrz_is_valid_and_round_trips() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 22).unwrap();
        let b = NaiveDate::from_ymd_opt(1985, 3, 9).unwrap();
        let e = NaiveDate::from_ymd_opt(2031, 3, 8).unwrap();
        for (format, code) in [
            (MrzFormat::Td1, "I"),
            (MrzFormat::Td2, "I"),
            (MrzFormat::Td3, "P"),
            (MrzFormat::MrvA, "V"),
            (MrzFormat::MrvB, "V"),
        ] {
            let n = match format {
                MrzFormat::Td1 => 30,
                MrzFormat::Td3 | MrzFormat::MrvA => 39,
                _ => 31,
            };
            let (field, _, _) = mrz_name_field("Müller-Lüdenscheidt", "Jürgen", n);
            let lines = build_mrz(format, code, "D", "C01X00T47", "D", b, 'M', e, "", &field);
            let refs: Vec<&str> = lines.iter().map(|s| s.as_str()).collect();
            let m = mrz::parse(&refs, today).unwrap();
            assert!(m.is_valid(), "{format:?} {:?} {lines:?}", m.errors);
            assert_eq!(m.surname, "MUELLER LUEDENSCHEIDT");
            assert_eq!(m.birth_date, Some(b));
            assert_eq!(m.expiry_date, Some(e));
        }
    }

    #[test]
    fn icao_truncation() {
        let (field, s, g) =
            mrz_name_field("Wolfeschlegelsteinhausenbergerdorff", "Hubert Blaine", 30);
        assert_eq!(field.len(), 30);
        assert_eq!(s, "WOLFESCHLEGELSTEINHAUSENBERGERDORFF"[..27].to_string());
        assert_eq!(g, "H");
        assert!(!field.ends_with('<'));
        assert_eq!(transliterate("Þórsdóttir"), "THORSDOTTIR");
        assert_eq!(transliterate("O'Brien"), "OBRIEN");
    }

    #[test]
    fn aamva_header_offsets() {
        let p = aamva_payload("636014", &[("DAQ", "X1".into()), ("DCS", "DOE".into())]);
        let off: usize = p[23..27].parse().unwrap();
        let len: usize = p[27..31].parse().unwrap();
        assert_eq!(&p[off..off + 2], "DL");
        assert_eq!(off + len, p.len());
    }

    #[test]
    fn barcode_bars_keep_their_width_between_pixels() {
        // At 8 px/mm a module is a fraction of pixels wide (2.16 px here); every row's start
        // bar (8 modules) must still carry 8 modules of ink, not 17 or 18 whole pixels.
        let p = aamva_payload("636014", &[("DAQ", "X1".into()), ("DCS", "DOE".into())]);
        let m = licence_barcode_matrix(&p);
        let (x, y, w, h) = LICENCE_BARCODE_MM;
        let mut img = RgbImage::from_pixel(
            ((x + w) * PX_MM) as u32 + 20,
            ((y + h) * PX_MM) as u32 + 20,
            Rgb([255; 3]),
        );
        draw_pdf417(&mut img, &p, LICENCE_BARCODE_MM);
        let module_px = w * PX_MM / m.width() as f32;
        let first_bar = (0..m.width()).find(|&k| m.get(k, m.height() / 2)).unwrap();
        let left = x * PX_MM + first_bar as f32 * module_px;
        let (x0, x1) = ((left - 2.0) as u32, (left + 8.0 * module_px + 2.0) as u32);
        let rows_px = h * PX_MM / m.height() as f32;
        let coded = (1..m.height() - 1).filter(|&j| (j - 1..=j + 1).all(|k| m.get(first_bar, k)));
        for row in coded.map(|j| (y * PX_MM + (j as f32 + 0.5) * rows_px) as u32) {
            let ink: f32 = (x0..x1)
                .map(|px| 1.0 - img.get_pixel(px, row).0[0] as f32 / 255.0)
                .sum();
            assert!(
                (ink / module_px - 8.0).abs() < 0.05,
                "row {row}: start bar {:.3} modules wide",
                ink / module_px
            );
        }
    }
}
