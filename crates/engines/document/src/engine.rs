//! The document engine: images in, a §5.4-shaped reading out.

use std::collections::BTreeMap;
use std::io::Cursor;
use std::path::Path;

use chrono::{Datelike, NaiveDate};
use image::{imageops, DynamicImage, GrayImage, RgbImage};
use serde::Serialize;

use crate::barcode::{self, Aamva, Barcode, Scan, UnreadPdf417};
use crate::countries::country_name;
use crate::layout::{mrz_origin_mm, portrait_mm, MRZ_PITCH_MM};
use crate::mrz::{self, Mrz, MrzFormat};
use crate::mrz_glyph::GlyphReader;
use crate::ocr::{crop_quad, long_lines, MrzScores, Ocr, Recognized, TextBox};
use crate::quality::{self, QualityScore};
use crate::text_lines;

/// Largest side of the image the pipeline works on (bigger uploads are downscaled).
const WORK_MAX_SIDE: u32 = 1600;
/// Refuse to decode images above this many pixels (decompression bombs).
const MAX_PIXELS: u64 = 40_000_000;
/// Printed-zone lines recognised per side at most (each costs one recognition).
const MAX_PRINTED_LINES: usize = 60;
/// Margin added at each end of a morphological text line before it is recognised, in line
/// heights.
const MORPH_LINE_END_PAD: f32 = 0.4;
/// Margin added above and below it, in line heights: the recogniser's input is 48 pixels
/// high whatever the crop, so a looser crop is a narrower input (cheaper) that also looks
/// more like the detector's boxes it was trained on.
const MORPH_LINE_EDGE_PAD: f32 = 0.15;

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("model file missing or unreadable ({0}); run crates/engines/document/fetch-models.sh")]
    Model(String),
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Maps to HTTP 400 `COULD_NOT_RECOGNIZE_DOCUMENT`.
    #[error("could not recognize a document in the image")]
    CouldNotRecognizeDocument,
    #[error("image could not be decoded: {0}")]
    InvalidImage(String),
    #[error("inference failed: {0}")]
    Inference(String),
}

#[derive(Debug, Clone)]
pub struct ReadOptions {
    /// Reference date for expiry and age (defaults to today, UTC).
    pub today: Option<NaiveDate>,
    /// Emit MINIMUM_AGE_NOT_MET below this age.
    pub minimum_age: Option<u32>,
    /// Read the printed zone (names, dates, number) and cross-check it; costs a few
    /// recognitions when it repeats a valid MRZ, one per text line otherwise. Without it an
    /// MRZ reading is never `data_verified`: no check digit covers the names.
    pub read_visual_zone: bool,
    /// Produce a JPEG crop of the portrait.
    pub crop_portrait: bool,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            today: None,
            minimum_age: None,
            read_visual_zone: true,
            crop_portrait: true,
        }
    }
}

/// A §9.3 warning raised by the engine. `log_type` is decided by the caller's workflow config.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Warning {
    pub risk: String,
    pub short_description: String,
    pub long_description: String,
    pub additional_data: Option<serde_json::Value>,
}

impl Warning {
    fn new(risk: &str, short: &str, long: impl Into<String>) -> Self {
        Warning {
            risk: risk.into(),
            short_description: short.into(),
            long_description: long.into(),
            additional_data: None,
        }
    }
}

/// The `mrz{}` object of spec §5.4.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MrzReport {
    pub surname: String,
    pub name: String,
    pub country: String,
    pub nationality: String,
    pub birth_date: Option<String>,
    pub expiry_date: Option<String>,
    pub sex: String,
    pub document_type: String,
    pub document_number: String,
    pub optional_data: String,
    pub optional_data_2: String,
    pub birth_date_hash: String,
    pub expiry_date_hash: String,
    pub document_number_hash: String,
    pub final_hash: String,
    pub personal_number: String,
    pub warnings: Vec<String>,
    pub errors: Vec<String>,
    pub mrz_type: String,
    pub mrz_string: String,
    pub mrz_key: String,
    /// Every check digit holds (not a Didit field; convenient for callers).
    pub valid: bool,
}

impl MrzReport {
    fn from_mrz(m: &Mrz) -> Self {
        MrzReport {
            surname: m.surname.clone(),
            name: m.given_names.clone(),
            country: m.issuing_state.clone(),
            nationality: m.nationality.clone(),
            birth_date: m.birth_date.map(|d| d.to_string()),
            expiry_date: m.expiry_date.map(|d| d.to_string()),
            sex: m.sex.to_string(),
            document_type: m.document_code.clone(),
            document_number: m.document_number.clone(),
            optional_data: m.optional_data.clone(),
            optional_data_2: m.optional_data_2.clone(),
            birth_date_hash: m.birth_date_check.printed.to_string(),
            expiry_date_hash: m.expiry_date_check.printed.to_string(),
            document_number_hash: m.document_number_check.printed.to_string(),
            final_hash: m
                .composite_check
                .map(|c| c.printed.to_string())
                .unwrap_or_default(),
            personal_number: m.personal_number.clone(),
            warnings: m.warnings.clone(),
            errors: m.errors.clone(),
            mrz_type: m.format.as_str().into(),
            mrz_string: m.mrz_string(),
            mrz_key: m.mrz_key(),
            valid: m.is_valid(),
        }
    }
}

/// Fields read from the printed (visual) zone, before cross-checking.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct VisualZone {
    pub surname: Option<String>,
    pub given_names: Option<String>,
    pub document_number: Option<String>,
    pub birth_date: Option<NaiveDate>,
    pub expiry_date: Option<NaiveDate>,
    pub lines: Vec<String>,
}

/// What the engine read from one document (front and optional back). Field names follow
/// `id_verifications[]` of spec §5.4; dates are ISO `YYYY-MM-DD`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DocumentReading {
    pub document_type: Option<String>,
    pub document_subtype: Option<String>,
    pub document_number: Option<String>,
    pub personal_number: Option<String>,
    pub date_of_birth: Option<String>,
    pub age: Option<u32>,
    pub expiration_date: Option<String>,
    pub date_of_issue: Option<String>,
    pub issuing_state: Option<String>,
    pub issuing_state_name: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub full_name: Option<String>,
    pub gender: Option<String>,
    pub address: Option<String>,
    pub nationality: Option<String>,
    pub extra_fields: BTreeMap<String, String>,
    pub mrz: Option<MrzReport>,
    pub barcodes: Vec<Barcode>,
    pub front_image_quality_score: QualityScore,
    pub back_image_quality_score: Option<QualityScore>,
    pub visual_zone: VisualZone,
    pub warnings: Vec<Warning>,
    /// The identity fields are confirmed by check digits (MRZ) or by an AAMVA barcode that
    /// agrees with the printed zone. False means "do not approve on these fields".
    pub data_verified: bool,
    /// A PDF417 located but not read (the blurriest when both sides hold one); not serialised,
    /// the warnings describe it.
    #[serde(skip)]
    pub unread_barcode: Option<UnreadPdf417>,
    /// JPEG of the document portrait (for face match); not serialised.
    #[serde(skip)]
    pub portrait_jpeg: Option<Vec<u8>>,
}

impl DocumentReading {
    pub fn has_warning(&self, risk: &str) -> bool {
        self.warnings.iter().any(|w| w.risk == risk)
    }
}

pub struct DocumentEngine {
    ocr: Ocr,
    /// The network-free MRZ reader, tried before PP-OCR; None without the OCR-B font.
    glyphs: Option<GlyphReader>,
}

/// Everything found on one side.
struct Side {
    rgb: RgbImage,
    gray: GrayImage,
    /// Text lines: found by morphology at first ([`text_lines::find`]), replaced by PP-OCR's
    /// detector's boxes once the detector runs (the MRZ's fallback, the printed zone's full
    /// read).
    boxes: Vec<TextBox>,
    /// `boxes` are the detector's.
    detected: bool,
    mrz: Option<(Mrz, Vec<TextBox>)>,
    mrz_seen: bool,
    barcode: Scan,
}

impl Side {
    fn new(rgb: RgbImage) -> Side {
        let gray = imageops::grayscale(&rgb);
        let boxes = text_lines::find(&gray);
        Side {
            rgb,
            gray,
            boxes,
            detected: false,
            mrz: None,
            mrz_seen: false,
            barcode: Scan::NotFound,
        }
    }

    /// The lines of the printed zone: the side's text lines outside its MRZ.
    fn printed_lines(&self) -> impl Iterator<Item = TextBox> + '_ {
        let mrz_boxes = self.mrz.as_ref().map_or(&[][..], |(_, b)| b.as_slice());
        self.boxes
            .iter()
            .filter(move |b| !mrz_boxes.iter().any(|m| m.covers(b.center())))
            .filter(|b| b.height() >= 8.0 && b.width() >= 8.0)
            .take(MAX_PRINTED_LINES)
            .copied()
    }
}

fn has_valid_mrz(sides: &[Side]) -> bool {
    sides
        .iter()
        .any(|s| s.mrz.as_ref().is_some_and(|(m, _)| m.is_valid()))
}

/// The side turned by a quarter, three quarters or half a turn, whichever shows an MRZ the
/// glyph reader reads with valid check digits.
fn turned_upright(glyphs: &GlyphReader, rgb: &RgbImage, today: NaiveDate) -> Option<Side> {
    let turns: [fn(&RgbImage) -> RgbImage; 3] =
        [imageops::rotate90, imageops::rotate270, imageops::rotate180];
    turns.into_iter().find_map(|turn| {
        let mut side = Side::new(turn(rgb));
        let read = glyphs.find(&side.gray, long_lines(&side.boxes), today)?;
        read.0.is_valid().then(|| {
            side.mrz = Some(read);
            side.mrz_seen = true;
            side
        })
    })
}

pub fn decode_image(bytes: &[u8]) -> Result<RgbImage, ReadError> {
    let reader = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ReadError::InvalidImage(e.to_string()))?;
    let (w, h) = reader
        .into_dimensions()
        .map_err(|e| ReadError::InvalidImage(e.to_string()))?;
    if w as u64 * h as u64 > MAX_PIXELS {
        return Err(ReadError::InvalidImage(format!(
            "{w}x{h} exceeds {MAX_PIXELS} pixels"
        )));
    }
    let img = image::ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| ReadError::InvalidImage(e.to_string()))?
        .decode()
        .map_err(|e| ReadError::InvalidImage(e.to_string()))?;
    let rgb = DynamicImage::ImageRgb8(img.to_rgb8());
    let (w, h) = (rgb.width(), rgb.height());
    let rgb = if w.max(h) > WORK_MAX_SIDE {
        let s = WORK_MAX_SIDE as f32 / w.max(h) as f32;
        rgb.resize_exact(
            (w as f32 * s) as u32,
            (h as f32 * s) as u32,
            imageops::FilterType::Triangle,
        )
    } else {
        rgb
    };
    Ok(rgb.to_rgb8())
}

impl DocumentEngine {
    /// Load the PP-OCRv4 models from `models_dir` (see `fetch-models.sh`).
    pub fn load(models_dir: &Path) -> Result<Self, LoadError> {
        let ocr = Ocr::load(models_dir).map_err(|e| LoadError::Model(e.to_string()))?;
        Ok(DocumentEngine {
            ocr,
            glyphs: GlyphReader::load(),
        })
    }

    pub fn ocr(&self) -> &Ocr {
        &self.ocr
    }

    /// Read a document from its front image and optional back image (JPEG/PNG/WebP/TIFF bytes).
    pub fn read(
        &self,
        front: &[u8],
        back: Option<&[u8]>,
        opts: &ReadOptions,
    ) -> Result<DocumentReading, ReadError> {
        let today = opts
            .today
            .unwrap_or_else(|| chrono::Utc::now().date_naive());
        let debug = std::env::var_os("VERITY_DOC_DEBUG").is_some();
        let started = std::time::Instant::now();
        let stage = |name: &str| {
            if debug {
                eprintln!(
                    "stage {name}: {:.0} ms",
                    started.elapsed().as_secs_f64() * 1000.0
                );
            }
        };
        let mut sides = vec![Side::new(decode_image(front)?)];
        if let Some(b) = back {
            sides.push(Side::new(decode_image(b)?));
        }
        stage("decode, text lines");
        // The MRZ without the neural networks first (morphological lines, glyph matching: a
        // tenth of the detector's time); the detector and PP-OCR only when no side reads so.
        if let Some(glyphs) = &self.glyphs {
            for side in &mut sides {
                side.mrz = glyphs.find(&side.gray, long_lines(&side.boxes), today);
                side.mrz_seen = side.mrz.is_some();
            }
        }
        stage("glyph mrz");
        if sides.iter().all(|s| s.mrz.is_none()) {
            for side in &mut sides {
                self.read_mrz_with_networks(side, today)?;
            }
            stage("network mrz");
        }
        // A valid MRZ already identifies the document; the barcode search (seconds of rxing
        // tries on a photo without a barcode) only runs when no side has one.
        if !has_valid_mrz(&sides) {
            for side in &mut sides {
                side.barcode = barcode::decode(&side.gray);
            }
            stage("barcode");
            // Neither an MRZ nor a barcode: perhaps a page turned sideways or upside down
            // (a licence's barcode spares it the search).
            if sides.iter().all(|s| s.barcode.read().is_none()) {
                self.read_turned(&mut sides, today)?;
                stage("turned mrz");
            }
        }
        let printed = if opts.read_visual_zone {
            self.read_printed_zone(&mut sides)?
        } else {
            VisualZone::default()
        };
        stage("visual zone");
        let back = if sides.len() > 1 { sides.pop() } else { None };
        let front = sides.pop().ok_or(ReadError::CouldNotRecognizeDocument)?;
        self.assemble(front, back, printed, today, opts)
    }

    /// Runs PP-OCR's detector on the side, unless it already ran.
    fn detect_lines(&self, side: &mut Side) -> Result<(), ReadError> {
        if !side.detected {
            side.boxes = self
                .ocr
                .detect(&side.rgb)
                .map_err(|e| ReadError::Inference(e.to_string()))?;
            side.detected = true;
        }
        Ok(())
    }

    /// The MRZ among the detector's lines: the glyph reader on them, else PP-OCR's recognition
    /// (see [`Self::find_mrz`]).
    fn read_mrz_with_networks(&self, side: &mut Side, today: NaiveDate) -> Result<(), ReadError> {
        self.detect_lines(side)?;
        let lines = long_lines(&side.boxes);
        let glyph_read = self
            .glyphs
            .as_ref()
            .and_then(|g| g.find(&side.gray, lines.clone(), today));
        let (mrz, seen, mrz_boxes) = match glyph_read {
            Some((m, mrz_boxes)) => (Some(m), true, mrz_boxes),
            None => self.find_mrz(&side.rgb, &side.boxes, lines, today)?,
        };
        side.mrz = mrz.map(|m| (m, mrz_boxes));
        side.mrz_seen = seen;
        Ok(())
    }

    /// A side photographed sideways or upside down, turned upright when its MRZ reads so; the
    /// turned side replaces the side as taken. The glyph reader looks in the three other
    /// orientations (tens of milliseconds a turn). Upside down, the networks see an MRZ-like
    /// zone whose check digits all fail, and the glyph reader does not read every upright MRZ:
    /// such a side is read half a turn round with the networks. An upright near miss (two or
    /// more check digits hold) and a side without an MRZ-like zone pay no network pass.
    fn read_turned(&self, sides: &mut [Side], today: NaiveDate) -> Result<(), ReadError> {
        if let Some(glyphs) = &self.glyphs {
            if let Some((i, turned)) = sides
                .iter()
                .enumerate()
                .find_map(|(i, side)| Some((i, turned_upright(glyphs, &side.rgb, today)?)))
            {
                sides[i] = turned;
                return Ok(());
            }
        }
        let upside_down =
            |s: &Side| s.mrz_seen && s.mrz.as_ref().is_none_or(|(m, _)| m.valid_checks() <= 1);
        for side in sides.iter_mut().filter(|s| upside_down(s)) {
            let mut turned = Side::new(imageops::rotate180(&side.rgb));
            self.read_mrz_with_networks(&mut turned, today)?;
            if has_valid_mrz(std::slice::from_ref(&turned)) {
                *side = turned;
                return Ok(());
            }
        }
        Ok(())
    }

    /// The printed (visual) zone. With a valid MRZ it is read only until it confirms the MRZ's
    /// fields (see [`Self::confirm_mrz`]: a handful of recognitions). When some field is not
    /// confirmed, or without an MRZ, labels are paired with values over every line (see
    /// [`parse_visual_zone`]), which also shows what disagrees with the MRZ: the morphological
    /// lines already recognised when the MRZ was read without the detector, else every line
    /// the detector finds.
    fn read_printed_zone(&self, sides: &mut [Side]) -> Result<VisualZone, ReadError> {
        let mrz = sides
            .iter()
            .find_map(|s| s.mrz.as_ref())
            .map(|(m, _)| m.clone())
            .filter(Mrz::is_valid);
        let mut read = Vec::new();
        if let Some(m) = &mrz {
            let confirmed = self.confirm_mrz(sides, m, &mut read)?;
            // The morphological finder has no notion of text (a portrait's eyes and mouth pass
            // for short lines); what the recogniser cannot read is dropped from the side's
            // lines, which also mark where the portrait is not (`portrait_by_texture`).
            for (i, b, r) in &read {
                let side = &mut sides[*i];
                if r.is_none() && !side.detected {
                    side.boxes.retain(|o| o != b);
                }
            }
            if let Some(zone) = confirmed {
                return Ok(zone);
            }
        }
        // Every morphological line was recognised and some field is not confirmed (a printed
        // name that differs from the MRZ's, a line lost): those texts are the printed zone.
        if mrz.is_some() && sides.iter().all(|s| !s.detected) {
            let texts: Vec<(TextBox, Recognized)> = read
                .into_iter()
                .filter_map(|(_, b, r)| Some((b, r?)))
                .collect();
            return Ok(parse_visual_zone(&texts));
        }
        let mut texts = Vec::new();
        for (i, side) in sides.iter_mut().enumerate() {
            self.detect_lines(side)?;
            for b in side.printed_lines() {
                let known = read.iter().find(|(j, k, _)| *j == i && *k == b);
                let r = match known {
                    Some((_, _, r)) => r.clone(),
                    None => self.recognize_printed(side, &b)?,
                };
                if let Some(r) = r {
                    texts.push((b, r));
                }
            }
        }
        Ok(parse_visual_zone(&texts))
    }

    /// Recognises printed lines until each field of `m` that the printed zone is cross-checked
    /// on (surname, number, birth and expiry dates; see [`Confirmation`]) equals one line.
    /// Returns the zone so confirmed, or None when the lines run out first; `read` keeps every
    /// recognition (side, line, text). The order only decides how soon it stops: darkest ink
    /// first (the holder's data is printed in black, labels and titles in lighter colours),
    /// then taller lines, and lines on the portrait last.
    #[allow(clippy::type_complexity)]
    fn confirm_mrz(
        &self,
        sides: &[Side],
        m: &Mrz,
        read: &mut Vec<(usize, TextBox, Option<Recognized>)>,
    ) -> Result<Option<VisualZone>, ReadError> {
        // The portrait (ICAO zone V) holds no printed data, though a face's darkest details
        // pass for short lines: those come last.
        let portraits: Vec<Option<TextBox>> = sides
            .iter()
            .map(|s| {
                let (m, boxes) = s.mrz.as_ref().filter(|(m, _)| m.format != MrzFormat::Td1)?;
                let quad = portrait_quad(m.format, boxes)?;
                Some(TextBox { quad, score: 1.0 })
            })
            .collect();
        let in_portrait = |i: usize, b: &TextBox| {
            portraits[i].is_some_and(|p| {
                let (along, across) = p.local(b.center());
                along.abs() <= p.width() / 2.0 && across.abs() <= p.height() / 2.0
            })
        };
        // Each line's key once: its ink level reads the pixels around it.
        let mut lines: Vec<((bool, u8), usize, TextBox)> = sides
            .iter()
            .enumerate()
            .flat_map(|(i, s)| s.printed_lines().map(move |b| (i, b)))
            .map(|(i, b)| ((in_portrait(i, &b), ink_level(&sides[i].gray, &b)), i, b))
            .collect();
        lines.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then_with(|| b.2.height().total_cmp(&a.2.height()))
        });
        let debug = std::env::var_os("VERITY_DOC_DEBUG").is_some();
        let mut confirmation = Confirmation::new(m);
        for (_, i, b) in lines {
            let r = self.recognize_printed(&sides[i], &b)?;
            if let Some(r) = &r {
                confirmation.offer(&r.text);
            }
            if debug {
                eprintln!(
                    "printed line {:.0}x{:.0} at {:?}: {:?}",
                    b.width(),
                    b.height(),
                    b.center(),
                    r.as_ref().map(|r| (&r.text, r.confidence))
                );
            }
            read.push((i, b, r));
            if confirmation.complete() {
                return Ok(Some(confirmation.zone));
            }
        }
        Ok(None)
    }

    /// One printed line's text, if it reads with confidence.
    fn recognize_printed(&self, side: &Side, b: &TextBox) -> Result<Option<Recognized>, ReadError> {
        // A morphological line's box spans its ink's second moments, which fall short of the
        // first and last letters' outer strokes; the detector's boxes are already unclipped.
        let (quad, pad_y) = if side.detected {
            (b.quad, 0.0)
        } else {
            let reach = b.width() / 2.0 + MORPH_LINE_END_PAD * b.height();
            (b.with_span(-reach, reach).quad, MORPH_LINE_EDGE_PAD)
        };
        let r = self
            .ocr
            .recognize(&crop_quad(&side.rgb, &quad, pad_y), false)
            .map_err(|e| ReadError::Inference(e.to_string()))?;
        Ok((r.confidence > 0.5 && !r.text.trim().is_empty()).then_some(r))
    }

    /// Locate the MRZ band among `lines` (the long ones of the detector's `boxes`, see
    /// [`long_lines`]): the bottom-most group of 2–3 long, parallel, similarly sized text
    /// lines whose recognised text looks like an MRZ.
    #[allow(clippy::type_complexity)]
    fn find_mrz(
        &self,
        rgb: &RgbImage,
        boxes: &[TextBox],
        lines: Vec<TextBox>,
        today: NaiveDate,
    ) -> Result<(Option<Mrz>, bool, Vec<TextBox>), ReadError> {
        let debug = std::env::var_os("VERITY_DOC_DEBUG").is_some();
        if debug {
            for b in boxes {
                eprintln!(
                    "box {:.0}x{:.0} at ({:.0},{:.0}) angle {:.1}",
                    b.width(),
                    b.height(),
                    b.center().0,
                    b.center().1,
                    b.angle().to_degrees()
                );
            }
        }
        let read_line = |b: &TextBox| -> Result<(String, Option<MrzScores>), ReadError> {
            // The unclipped box reaches into the neighbouring MRZ line; a tight crop reads
            // far better (measured: line 1 went from 12 to 44 correct characters).
            let crop = crop_quad(rgb, &b.quad, -0.2);
            let r = self
                .ocr
                .recognize(&crop, true)
                .map_err(|e| ReadError::Inference(e.to_string()))?;
            let t = mrz::normalize_line(&r.text);
            if debug {
                eprintln!(
                    "mrz line {:.0}x{:.0} at {:?}: {:?} ({:.2})",
                    b.width(),
                    b.height(),
                    b.center(),
                    t,
                    r.confidence
                );
            }
            Ok((t, r.mrz_scores))
        };
        // A line read again between `from` and `to` along its own axis (from its centre).
        let reread_over = |g: &mut (TextBox, String, Option<MrzScores>), from: f32, to: f32| {
            let full = g.0.with_span(from, to);
            let (t, scores) = read_line(&full)?;
            *g = (full, t, scores);
            Ok::<(), ReadError>(())
        };
        let mut cands: Vec<(TextBox, String, Option<MrzScores>)> = Vec::new();
        for b in lines {
            let (t, scores) = read_line(&b)?;
            // MRZ-like: fillers, or the digits of a data line whose fillers the detector cut.
            let digits = t.chars().filter(char::is_ascii_digit).count();
            let mrz_like = t.len() >= 40
                || (t.len() >= 20 && t.contains('<'))
                || (t.len() >= 12 && (t.contains("<<") || 3 * digits >= t.len()));
            if mrz_like {
                cands.push((b, t, scores));
            }
        }
        if cands.is_empty() {
            return Ok((None, false, Vec::new()));
        }
        // Top to bottom across the text direction (centres of a rotated page's lines of
        // different lengths are not ordered by y).
        let axis = cands
            .iter()
            .map(|c| c.0)
            .max_by(|a, b| a.width().total_cmp(&b.width()))
            .unwrap_or(cands[0].0);
        cands.sort_by(|a, b| {
            axis.local(a.0.center())
                .1
                .total_cmp(&axis.local(b.0.center()).1)
        });
        // Try the bottom-most 3 lines as TD1, then the bottom-most 2 as TD2/TD3/MRV.
        let mut best: Option<(Mrz, Vec<TextBox>)> = None;
        for k in [3usize, 2] {
            if best.as_ref().is_some_and(|(m, _)| m.is_valid()) {
                break;
            }
            if cands.len() < k {
                continue;
            }
            let first = cands.len() - k;
            let group = &mut cands[first..];
            // The lines of an MRZ start and end together: a line the detector cut short (its
            // filler run faded) is read again over the group's full extent.
            let base = group[0].0;
            let spans: Vec<(f32, f32)> = group.iter().map(|g| base.span_of(&g.0)).collect();
            let lo = spans.iter().map(|s| s.0).fold(f32::MAX, f32::min);
            let hi = spans.iter().map(|s| s.1).fold(f32::MIN, f32::max);
            for (g, span) in group.iter_mut().zip(&spans) {
                let pitch = g.0.width() / g.1.len().max(1) as f32;
                if span.0 - lo > pitch || hi - span.1 > pitch {
                    let shift = base.local(g.0.center()).0;
                    reread_over(g, lo - shift, hi - shift)?;
                }
            }
            // Lines the detector cut short together (faded fillers, glare at the page's end)
            // are read again over the format's full length at the pitch read so far, when
            // they do not make a valid MRZ as they are.
            let full_len = if k == 3 { 30 } else { 44 };
            for extend in [false, true] {
                if extend {
                    let short = group
                        .iter()
                        .all(|g| g.1.len() < full_len && (k == 3 || g.1.len() != 36));
                    if !short || best.as_ref().is_some_and(|(m, _)| m.is_valid()) {
                        break;
                    }
                    let pitch = group
                        .iter()
                        .map(|g| g.0.width() / g.1.len().max(1) as f32)
                        .fold(f32::MAX, f32::min);
                    for g in group.iter_mut() {
                        let from = -g.0.width() / 2.0;
                        reread_over(g, from, from + (full_len + 2) as f32 * pitch)?;
                    }
                }
                let avg = group.iter().map(|g| g.1.len()).sum::<usize>() as f32 / k as f32;
                // TD1 lines are ~30 characters; 2-line formats 36 or 44.
                if (k == 3 && !(25.0..=34.0).contains(&avg)) || (k == 2 && avg < 32.0) {
                    continue;
                }
                if let Some(m) = parse_group(group, today) {
                    let better = best
                        .as_ref()
                        .is_none_or(|(b, _)| m.is_valid() && !b.is_valid());
                    if better {
                        best = Some((m, group.iter().map(|g| g.0).collect()));
                    }
                }
            }
        }
        match best {
            Some((m, bx)) => Ok((Some(m), true, bx)),
            None => Ok((None, true, Vec::new())),
        }
    }

    /// Repairs the MRZ name line with the printed zone's help: first `K`s next to fillers put
    /// back as `<`, then readings from crops looser than [`Self::find_mrz`]'s. Returns the
    /// re-parsed MRZ whose names the printed zone confirms, if one does.
    fn reread_name_line(
        &self,
        rgb: &RgbImage,
        mrz: &Mrz,
        boxes: &[TextBox],
        printed: &VisualZone,
        today: NaiveDate,
    ) -> Result<Option<Mrz>, ReadError> {
        let (line, names_from) = if mrz.format == mrz::MrzFormat::Td1 {
            (2, 0)
        } else {
            (0, 5)
        };
        let confirmed = |m: &Mrz| {
            m.is_valid()
                && printed
                    .surname
                    .as_ref()
                    .is_some_and(|p| names_identical(p, &m.surname, m.name_truncated))
                && printed
                    .given_names
                    .as_ref()
                    .is_none_or(|p| names_identical(p, &m.given_names, m.name_truncated))
        };
        for variant in mrz::filler_k_variants(&mrz.lines[line], names_from) {
            let mut lines = mrz.lines.clone();
            lines[line] = variant;
            if let Ok(again) = mrz::repair_and_parse(&lines, today) {
                if confirmed(&again) {
                    return Ok(Some(again));
                }
            }
        }
        let Some(name_box) = boxes.get(line) else {
            return Ok(None);
        };
        for unclip in [0.0, -0.1] {
            let crop = crop_quad(rgb, &name_box.quad, unclip);
            let read = self
                .ocr
                .recognize(&crop, true)
                .map_err(|e| ReadError::Inference(e.to_string()))?;
            let mut lines = mrz.lines.clone();
            lines[line] = read
                .mrz_scores
                .and_then(|sc| sc.decode_exact(mrz.format.line_len()))
                .map(|d| d.0)
                .unwrap_or_else(|| mrz::normalize_line(&read.text));
            if let Ok(again) = mrz::repair_and_parse(&lines, today) {
                if confirmed(&again) {
                    return Ok(Some(again));
                }
            }
        }
        Ok(None)
    }

    fn assemble(
        &self,
        front: Side,
        back: Option<Side>,
        viz: VisualZone,
        today: NaiveDate,
        opts: &ReadOptions,
    ) -> Result<DocumentReading, ReadError> {
        let mut warnings = Vec::new();
        let sides: Vec<&Side> = std::iter::once(&front).chain(back.iter()).collect();
        let mrz_side = sides.iter().position(|s| s.mrz.is_some());
        let mut mrz =
            mrz_side.and_then(|i| sides[i].mrz.as_ref().map(|(m, b)| (m.clone(), b.clone())));
        let barcodes: Vec<Barcode> = sides
            .iter()
            .filter_map(|s| s.barcode.read().cloned())
            .collect();
        let unread_barcode = sides
            .iter()
            .filter_map(|s| s.barcode.unread())
            .max_by(|a, b| a.blur.total_cmp(&b.blur));
        let aamva = barcodes.iter().find_map(|b| barcode::parse_aamva(&b.data));
        // The name line has no check digit. When the printed surname disagrees with the MRZ's,
        // or the MRZ's names look like fillers read as letters, read that line again with
        // looser crops and keep a reading the printed zone confirms (measured: the tight crop
        // lost a letter, "V<GBRCHAN" read as "V<GBRHAN").
        if let (Some(side), Some((m, boxes)), Some(printed)) =
            (mrz_side, mrz.as_mut(), viz.surname.as_ref())
        {
            // A name read from fillers is the only error a re-read can mend.
            let only_name_doubtful = m.name_doubt.is_some() && m.errors.len() == 1;
            if only_name_doubtful
                || (m.is_valid() && !names_identical(printed, &m.surname, m.name_truncated))
            {
                if let Some(confirmed) =
                    self.reread_name_line(&sides[side].rgb, m, boxes, &viz, today)?
                {
                    *m = confirmed;
                }
            }
        }

        let nothing_found = mrz.is_none()
            && aamva.is_none()
            && sides.iter().all(|s| s.boxes.len() < 3)
            && barcodes.is_empty();
        if nothing_found {
            return Err(ReadError::CouldNotRecognizeDocument);
        }

        let mut r = DocumentReading {
            document_type: None,
            document_subtype: None,
            document_number: None,
            personal_number: None,
            date_of_birth: None,
            age: None,
            expiration_date: None,
            date_of_issue: None,
            issuing_state: None,
            issuing_state_name: None,
            first_name: None,
            last_name: None,
            full_name: None,
            gender: None,
            address: None,
            nationality: None,
            extra_fields: BTreeMap::new(),
            mrz: None,
            barcodes: barcodes.clone(),
            front_image_quality_score: side_quality(&front, mrz_side == Some(0)),
            back_image_quality_score: back.as_ref().map(|b| side_quality(b, mrz_side == Some(1))),
            visual_zone: viz.clone(),
            warnings: Vec::new(),
            data_verified: false,
            unread_barcode,
            portrait_jpeg: None,
        };
        let mut birth = None;
        let mut expiry = None;

        if let Some((m, _)) = &mrz {
            r.mrz = Some(MrzReport::from_mrz(m));
            if !m.is_valid() {
                warnings.push(Warning::new(
                    "MRZ_VALIDATION_FAILED",
                    "MRZ check digits do not validate",
                    format!(
                        "The machine readable zone could not be validated: {}",
                        m.errors.join("; ")
                    ),
                ));
            } else {
                r.document_type = Some(m.document_type_display().into());
                r.document_subtype = Some(m.document_code.clone());
                r.document_number = Some(m.document_number.clone());
                r.personal_number =
                    (!m.personal_number.is_empty()).then(|| m.personal_number.clone());
                r.issuing_state = Some(iso_alpha3(&m.issuing_state));
                r.issuing_state_name = m.issuing_state_name().map(String::from);
                r.nationality = Some(iso_alpha3(&m.nationality));
                r.gender = Some(m.sex.to_string());
                birth = m.birth_date;
                expiry = m.expiry_date;
                // Prefer the printed spelling (accents, untruncated) when it agrees with the MRZ.
                let last = match &viz.surname {
                    Some(v) if names_identical(v, &m.surname, m.name_truncated) => v.clone(),
                    _ => m.surname.clone(),
                };
                let first = match &viz.given_names {
                    Some(v) if names_identical(v, &m.given_names, m.name_truncated) => v.clone(),
                    _ => m.given_names.clone(),
                };
                // Check digits cover number and dates but not names: when the printed zone
                // is read, its surname must confirm the MRZ's before we vouch for the data.
                // Exact agreement only: a one-letter tolerance let "HAN" through for "CHAN",
                // and a printed name that only extends a truncated MRZ name is unconfirmed
                // (measured: "…BERGERDORF" read for "…BERGERDORFF", the MRZ cut at "…BER").
                let spelled_out = |reported: &str, mrz_name: &str| {
                    mrz_name.is_empty() && reported.is_empty()
                        || names_identical(reported, mrz_name, false)
                };
                let names_confirmed = viz
                    .surname
                    .as_ref()
                    .is_some_and(|v| spelled_out(v, &m.surname))
                    && spelled_out(&first, &m.given_names);
                set_names(&mut r, first, last);
                // Without the printed zone nothing confirms the names, so nothing is vouched
                // for (measured MRZ-only: 7 of 417 reads with valid check digits had a wrong
                // name, e.g. "CHAN" read as "HAN").
                r.data_verified = names_confirmed;
                cross_check_mrz(m, &viz, &mut warnings);
            }
        } else if let Some(a) = &aamva {
            r.document_type = Some("Driver's License".into());
            r.document_number = a.document_number.clone();
            r.issuing_state = Some(a.country.clone().unwrap_or_else(|| "USA".into()));
            r.issuing_state_name = r
                .issuing_state
                .as_deref()
                .and_then(country_name)
                .map(String::from);
            r.nationality = None;
            r.gender = a.sex.map(|c| c.to_string());
            birth = a.birth_date;
            expiry = a.expiry_date;
            r.date_of_issue = a.issue_date.map(|d| d.to_string());
            let given = [a.first_name.clone(), a.middle_name.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            set_names(&mut r, given, a.last_name.clone().unwrap_or_default());
            let addr = [
                a.street.clone(),
                a.city.clone(),
                a.state
                    .clone()
                    .zip(a.postal_code.clone())
                    .map(|(s, z)| format!("{s} {z}")),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ");
            r.address = (!addr.is_empty()).then_some(addr);
            if let Some(s) = &a.state {
                r.extra_fields
                    .insert("issuing_subdivision".into(), s.clone());
            }
            for (k, v) in [
                ("dl_categories", "DCA"),
                ("restrictions", "DCB"),
                ("endorsements", "DCD"),
            ] {
                if let Some(x) = a.fields.get(v) {
                    r.extra_fields.insert(k.into(), x.clone());
                }
            }
            let consistent = cross_check_aamva(a, &viz, &mut warnings);
            r.data_verified = consistent && a.document_number.is_some() && birth.is_some();
        } else {
            // Only the printed zone: report what was read, unverified.
            r.document_number = viz.document_number.clone();
            birth = viz.birth_date;
            expiry = viz.expiry_date;
            if let (Some(s), Some(g)) = (&viz.surname, &viz.given_names) {
                set_names(&mut r, g.clone(), s.clone());
            }
        }

        if mrz.is_none() && aamva.is_none() {
            let seen = sides.iter().any(|s| s.mrz_seen);
            warnings.push(Warning::new(
                if seen {
                    "MRZ_VALIDATION_FAILED"
                } else {
                    "MRZ_NOT_DETECTED"
                },
                if seen {
                    "MRZ could not be parsed"
                } else {
                    "No MRZ detected"
                },
                match unread_barcode {
                    Some(u) if u.too_blurred() => format!(
                        "No machine readable zone could be read, and the PDF417 barcode found is \
                         too blurred to read (blurred by {:.2} of its narrowest bar's width; \
                         codes blurred by {:.2} or more are rarely readable): photograph the \
                         document again, closer and in focus.",
                        u.blur,
                        barcode::TOO_BLURRED
                    ),
                    Some(_) => "No machine readable zone could be read, and the PDF417 barcode \
                                found could not be decoded."
                        .to_string(),
                    None => "No machine readable zone or driving-licence barcode could be read."
                        .to_string(),
                },
            ));
            warnings.push(Warning::new(
                "COULD_NOT_DETECT_DOCUMENT_TYPE",
                "Document type not detected",
                "The document type could not be determined from an MRZ or a barcode.",
            ));
        }

        r.date_of_birth = birth.map(|d| d.to_string());
        r.expiration_date = expiry.map(|d| d.to_string());
        r.age = birth.map(|b| age_on(b, today));
        if let (Some(b), Some(e)) = (birth, expiry) {
            if b >= e || b > today {
                warnings.push(Warning::new(
                    "DATA_INCONSISTENT",
                    "Inconsistent dates",
                    "The birth date is after the expiry date or in the future.",
                ));
                r.data_verified = false;
            }
        }
        match expiry {
            Some(e) if e < today => warnings.push(Warning::new(
                "DOCUMENT_EXPIRED",
                "Document expired",
                format!("The document expired on {e}."),
            )),
            None if r.document_number.is_some() => warnings.push(Warning::new(
                "EXPIRATION_DATE_NOT_DETECTED",
                "Expiry date not detected",
                "The expiry date could not be read.",
            )),
            _ => {}
        }
        if let (Some(min), Some(age)) = (opts.minimum_age, r.age) {
            if age < min {
                warnings.push(Warning::new(
                    "MINIMUM_AGE_NOT_MET",
                    "Below minimum age",
                    format!("Age {age} is below the minimum of {min}."),
                ));
            }
        }

        // Portrait: on the MRZ side for passports, TD2 and visas; on the front otherwise.
        let portrait = match (&mrz, mrz_side) {
            (Some((m, bx)), Some(i)) if m.format != MrzFormat::Td1 => {
                portrait_from_mrz(&sides[i].rgb, m.format, bx)
            }
            _ => portrait_by_texture(&front),
        };
        match portrait {
            Some(p) if opts.crop_portrait => {
                let mut out = Vec::new();
                let enc = image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90);
                if p.write_with_encoder(enc).is_ok() {
                    r.portrait_jpeg = Some(out);
                }
            }
            Some(_) => {}
            None => warnings.push(Warning::new(
                "PORTRAIT_IMAGE_NOT_DETECTED",
                "No portrait",
                "No portrait photo could be found on the document.",
            )),
        }
        if r.data_verified
            && warnings.iter().any(|w| {
                [
                    "DATA_INCONSISTENT",
                    "MRZ_AND_DATA_EXTRACTED_FROM_OCR_NOT_SAME",
                ]
                .contains(&w.risk.as_str())
            })
        {
            r.data_verified = false;
        }
        r.warnings = warnings;
        Ok(r)
    }
}

/// The MRZ of a group of read lines: the lines decoded at each length their format allows,
/// most probable length first (see `MrzScores`), then as read; the first valid reading wins,
/// else the first that parses.
fn parse_group(group: &[(TextBox, String, Option<MrzScores>)], today: NaiveDate) -> Option<Mrz> {
    let lengths: &[usize] = if group.len() == 3 { &[30] } else { &[44, 36] };
    let mut exact: Vec<(Vec<String>, f32)> = lengths
        .iter()
        .filter_map(|&len| {
            let decoded = group
                .iter()
                .map(|g| g.2.as_ref()?.decode_exact(len))
                .collect::<Option<Vec<(String, f32)>>>()?;
            let score = decoded.iter().map(|d| d.1).sum::<f32>();
            Some((decoded.into_iter().map(|d| d.0).collect(), score))
        })
        .collect();
    exact.sort_by(|a, b| b.1.total_cmp(&a.1));
    let greedy = group.iter().map(|g| g.1.clone()).collect();
    let mut first = None;
    for lines in exact
        .into_iter()
        .map(|e| e.0)
        .chain(std::iter::once(greedy))
    {
        if let Ok(m) = mrz::repair_and_parse(&lines, today) {
            if m.is_valid() {
                return Some(m);
            }
            first.get_or_insert(m);
        }
    }
    first
}

/// ICAO uses `D` for Germany; the API's `issuing_state` is ISO alpha-3.
fn iso_alpha3(code: &str) -> String {
    if code == "D" {
        "DEU".into()
    } else {
        code.into()
    }
}

fn age_on(birth: NaiveDate, today: NaiveDate) -> u32 {
    let mut age = today.year() - birth.year();
    if (today.month(), today.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age.max(0) as u32
}

fn set_names(r: &mut DocumentReading, first: String, last: String) {
    let full = format!("{first} {last}").trim().to_string();
    r.first_name = (!first.is_empty()).then_some(first);
    r.last_name = (!last.is_empty()).then_some(last);
    r.full_name = (!full.is_empty()).then_some(full);
}

/// Upper-case ASCII letters only, ICAO-transliterated, for comparing names across zones.
fn name_key(s: &str) -> String {
    crate::synth::transliterate(s)
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .collect()
}

/// The printed name transliterates exactly to the MRZ name (or extends a truncated one):
/// only then is the printed spelling reported instead of the MRZ's.
fn names_identical(printed: &str, mrz_name: &str, truncated: bool) -> bool {
    let (p, m) = (name_key(printed), name_key(mrz_name));
    !m.is_empty() && (p == m || (truncated && p.starts_with(&m)))
}

/// Printed and MRZ names agree: equal after transliteration, allowing the simpler
/// transliteration variants (Ä → A instead of AE) and ICAO truncation of the MRZ.
fn names_agree(printed: &str, mrz_name: &str, truncated: bool) -> bool {
    let (p, m) = (name_key(printed), name_key(mrz_name));
    if p.is_empty() || m.is_empty() {
        return p == m;
    }
    if p == m || (truncated && p.starts_with(&m)) {
        return true;
    }
    // OCR of the printed zone may drop diacritics (Ü read as U): allow a small edit distance.
    let d = levenshtein(&p, &m);
    d <= (m.len() / 6).max(1)
}

fn levenshtein(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for i in 1..=a.len() {
        let mut cur = vec![i; b.len() + 1];
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        prev = cur;
    }
    prev[b.len()]
}

/// A document number compared as printed or recognised: letters and digits only, O as 0.
fn number_key(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| if c == 'O' { '0' } else { c })
        .collect()
}

/// Compare the validated MRZ with the printed zone; a disagreement is a warning.
fn cross_check_mrz(m: &Mrz, viz: &VisualZone, warnings: &mut Vec<Warning>) {
    let mut diffs = Vec::new();
    if let Some(n) = &viz.document_number {
        if number_key(n) != number_key(&m.document_number) {
            diffs.push("document_number");
        }
    }
    if let (Some(v), Some(b)) = (viz.birth_date, m.birth_date) {
        if v != b {
            diffs.push("date_of_birth");
        }
    }
    if let (Some(v), Some(e)) = (viz.expiry_date, m.expiry_date) {
        if v != e {
            diffs.push("expiration_date");
        }
    }
    if let Some(s) = &viz.surname {
        if !names_agree(s, &m.surname, m.name_truncated) {
            diffs.push("last_name");
        }
    }
    if !diffs.is_empty() {
        let mut w = Warning::new(
            "MRZ_AND_DATA_EXTRACTED_FROM_OCR_NOT_SAME",
            "MRZ and printed data differ",
            format!(
                "The MRZ and the printed zone disagree on: {}.",
                diffs.join(", ")
            ),
        );
        w.additional_data = Some(serde_json::json!({ "fields": diffs }));
        warnings.push(w);
    }
}

/// Compare the barcode with the printed zone of a driving licence.
fn cross_check_aamva(a: &Aamva, viz: &VisualZone, warnings: &mut Vec<Warning>) -> bool {
    let mut diffs = Vec::new();
    if let (Some(v), Some(n)) = (&viz.document_number, &a.document_number) {
        if v.replace(' ', "") != *n {
            diffs.push("document_number");
        }
    }
    if let (Some(v), Some(b)) = (viz.birth_date, a.birth_date) {
        if v != b {
            diffs.push("date_of_birth");
        }
    }
    if let (Some(v), Some(e)) = (viz.expiry_date, a.expiry_date) {
        if v != e {
            diffs.push("expiration_date");
        }
    }
    if let (Some(v), Some(l)) = (&viz.surname, &a.last_name) {
        if !names_agree(v, l, false) {
            diffs.push("last_name");
        }
    }
    if !diffs.is_empty() {
        let mut w = Warning::new(
            "DATA_INCONSISTENT",
            "Barcode and printed data differ",
            format!(
                "The PDF417 barcode and the printed zone disagree on: {}.",
                diffs.join(", ")
            ),
        );
        w.additional_data = Some(serde_json::json!({ "fields": diffs }));
        warnings.push(w);
    }
    diffs.is_empty()
}

const MONTHS: [&str; 12] = [
    "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
];

/// Dates as printed: `12 AUG 1974`, `12.08.1974`, `08/12/1974` (US), `1974-08-12`.
pub fn parse_printed_date(s: &str) -> Option<NaiveDate> {
    // Recognisers read the O of OCT and NOV as a zero; a zero next to a letter is an O.
    let upper: Vec<char> = s.to_uppercase().chars().collect();
    let letter = |i: Option<usize>| {
        i.and_then(|i| upper.get(i))
            .is_some_and(|c| c.is_alphabetic())
    };
    let mut t = String::with_capacity(s.len() + 4);
    for (i, mut c) in upper.iter().copied().enumerate() {
        if c == '0' && letter(Some(i + 1)) && (letter(Some(i + 2)) || letter(i.checked_sub(1))) {
            c = 'O';
        }
        // Digits and letters are separate tokens even when printed (or recognised) without
        // the space between them: "23MAY1999".
        if t.chars()
            .last()
            .is_some_and(|p| p.is_ascii_digit() != c.is_ascii_digit() && p.is_alphanumeric())
            && c.is_alphanumeric()
        {
            t.push(' ');
        }
        t.push(c);
    }
    let toks: Vec<&str> = t
        .split(|c: char| c.is_whitespace() || c == '.' || c == '/' || c == '-')
        .filter(|x| !x.is_empty())
        .collect();
    for w in toks.windows(3) {
        let num = |x: &str| x.parse::<u32>().ok();
        if let (Some(d), Some(m), Some(y)) = (
            num(w[0]),
            MONTHS.iter().position(|m| w[1].starts_with(m)),
            num(w[2]),
        ) {
            if w[2].len() == 4 {
                return NaiveDate::from_ymd_opt(y as i32, m as u32 + 1, d);
            }
        }
        if let (Some(a), Some(b), Some(c)) = (num(w[0]), num(w[1]), num(w[2])) {
            if w[0].len() == 4 {
                return NaiveDate::from_ymd_opt(a as i32, b, c);
            }
            if w[2].len() == 4 {
                // Slashes are the US month-first order; dots and spaces are day-first.
                return if s.contains('/') {
                    NaiveDate::from_ymd_opt(c as i32, a, b)
                } else {
                    NaiveDate::from_ymd_opt(c as i32, b, a)
                };
            }
        }
    }
    None
}

/// Labels of printed fields (English and French as on ICAO documents, plus US DL codes).
fn label_of(text: &str) -> Option<&'static str> {
    let t = text.to_lowercase();
    let t = t.trim().trim_end_matches(':');
    if t.contains("surname")
        || t == "nom"
        || t.starts_with("surname")
        || t == "ln"
        || t.contains("last name")
    {
        Some("surname")
    } else if t.contains("given")
        || t.contains("prénom")
        || t.contains("prenom")
        || t == "fn"
        || t.contains("first name")
    {
        Some("given")
    } else if t.contains("document no")
        || t.contains("passport no")
        || t == "dl"
        || t.contains("licence no")
        || t.contains("license no")
    {
        Some("number")
    } else if t.contains("birth") || t == "dob" {
        Some("birth")
    } else if t.contains("expiry") || t.contains("expiration") || t == "exp" {
        Some("expiry")
    } else {
        None
    }
}

/// How dark a line's ink is: the 10th percentile of the grey levels around it.
fn ink_level(gray: &GrayImage, b: &TextBox) -> u8 {
    let (w, h) = gray.dimensions();
    let (x0, y0, x1, y1) = b.bounds();
    let (x0, y0) = (x0.max(0.0) as u32, y0.max(0.0) as u32);
    let (x1, y1) = ((x1.max(0.0) as u32).min(w), (y1.max(0.0) as u32).min(h));
    let mut levels: Vec<u8> = (y0..y1)
        .flat_map(|y| (x0..x1).map(move |x| (x, y)))
        .map(|(x, y)| gray.get_pixel(x, y).0[0])
        .collect();
    if levels.is_empty() {
        return u8::MAX;
    }
    let at = levels.len() / 10;
    *levels.select_nth_unstable(at).1
}

/// The printed zone seen as confirmation of a valid MRZ: which of the MRZ's fields a printed
/// line has repeated so far. Names must be identical after transliteration (or extend a
/// truncated MRZ name), numbers equal as [`number_key`]s, dates equal once parsed.
struct Confirmation<'a> {
    mrz: &'a Mrz,
    zone: VisualZone,
}

impl<'a> Confirmation<'a> {
    fn new(mrz: &'a Mrz) -> Self {
        Confirmation {
            mrz,
            zone: VisualZone::default(),
        }
    }

    fn offer(&mut self, text: &str) {
        let (m, z) = (self.mrz, &mut self.zone);
        let text = text.trim();
        let date = parse_printed_date(text);
        if z.surname.is_none() && names_identical(text, &m.surname, m.name_truncated) {
            z.surname = Some(text.to_string());
        } else if z.given_names.is_none() && names_identical(text, &m.given_names, m.name_truncated)
        {
            z.given_names = Some(text.to_string());
        } else if z.document_number.is_none() && number_key(text) == number_key(&m.document_number)
        {
            z.document_number = Some(m.document_number.clone());
        } else if z.birth_date.is_none() && date.is_some() && date == m.birth_date {
            z.birth_date = date;
        } else if z.expiry_date.is_none() && date.is_some() && date == m.expiry_date {
            z.expiry_date = date;
        }
        z.lines.push(text.to_string());
    }

    /// Every field the printed zone is cross-checked on agrees (see [`cross_check_mrz`]). The
    /// given names are not among them: they only lend their printed spelling when seen.
    fn complete(&self) -> bool {
        let (m, z) = (self.mrz, &self.zone);
        z.surname.is_some()
            && z.document_number.is_some()
            && (z.birth_date.is_some() || m.birth_date.is_none())
            && (z.expiry_date.is_some() || m.expiry_date.is_none())
    }
}

/// Pair each label with its value: the nearest text to its right on the same row, else
/// the nearest text just below it.
fn parse_visual_zone(texts: &[(TextBox, Recognized)]) -> VisualZone {
    let mut v = VisualZone {
        lines: texts.iter().map(|t| t.1.text.clone()).collect(),
        ..Default::default()
    };
    for (lb, lr) in texts {
        let Some(label) = label_of(&lr.text) else {
            continue;
        };
        let (lx, ly) = lb.center();
        let lh = lb.height();
        let right = texts
            .iter()
            .filter(|(b, r)| {
                let (x, y) = b.center();
                label_of(&r.text).is_none()
                    && x > lx
                    && (y - ly).abs() < lh * 0.6
                    && b.quad[0].0 > lb.quad[1].0 - 2.0
            })
            .min_by(|a, b| {
                a.0.center()
                    .0
                    .partial_cmp(&b.0.center().0)
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        let below = texts
            .iter()
            .filter(|(b, r)| {
                let (_, y) = b.center();
                label_of(&r.text).is_none()
                    && y > ly
                    && y - ly < lh * 2.6
                    && (b.quad[0].0 - lb.quad[0].0).abs() < lh * 2.0
            })
            .min_by(|a, b| {
                a.0.center()
                    .1
                    .partial_cmp(&b.0.center().1)
                    .unwrap_or(std::cmp::Ordering::Equal)
            });
        let Some((_, val)) = right.or(below) else {
            continue;
        };
        let text = val.text.trim().to_string();
        match label {
            "surname" if v.surname.is_none() => v.surname = Some(text),
            "given" if v.given_names.is_none() => v.given_names = Some(text),
            "number" if v.document_number.is_none() => {
                v.document_number = Some(text.replace(' ', ""))
            }
            "birth" if v.birth_date.is_none() => v.birth_date = parse_printed_date(&text),
            "expiry" if v.expiry_date.is_none() => v.expiry_date = parse_printed_date(&text),
            _ => {}
        }
    }
    v
}

/// Where the ICAO layout puts the portrait, mapped onto the image through the MRZ lines'
/// geometry.
fn portrait_quad(format: MrzFormat, mrz_boxes: &[TextBox]) -> Option<[(f32, f32); 4]> {
    let last = mrz_boxes.last()?;
    let n = format.line_len() as f32;
    // Characters span the unclipped box width minus its padding; the pitch gives the scale.
    let pad = last.height() * 0.25;
    let px_per_mm = (last.width() - 2.0 * pad).max(1.0) / (n * MRZ_PITCH_MM);
    let angle = last.angle();
    let (cos, sin) = (angle.cos(), angle.sin());
    let (ox, base) = mrz_origin_mm(format);
    // Document point (mm) → image: relative to the MRZ's first character at the last line's
    // mid-height (≈ 1.2 mm above the baseline), along the line direction.
    let left_mid = (
        (last.quad[0].0 + last.quad[3].0) / 2.0,
        (last.quad[0].1 + last.quad[3].1) / 2.0,
    );
    let anchor = (left_mid.0 + pad * cos, left_mid.1 + pad * sin);
    let to_img = |x: f32, y: f32| {
        let (dx, dy) = ((x - ox) * px_per_mm, (y - (base - 1.2)) * px_per_mm);
        (
            anchor.0 + dx * cos - dy * sin,
            anchor.1 + dx * sin + dy * cos,
        )
    };
    let (px, py, pw, ph) = portrait_mm(format);
    Some([
        to_img(px, py),
        to_img(px + pw, py),
        to_img(px + pw, py + ph),
        to_img(px, py + ph),
    ])
}

/// The portrait on the MRZ's side, if the ICAO layout puts a photo-like area there.
fn portrait_from_mrz(rgb: &RgbImage, format: MrzFormat, mrz_boxes: &[TextBox]) -> Option<RgbImage> {
    let quad = portrait_quad(format, mrz_boxes)?;
    let (w, h) = rgb.dimensions();
    if quad
        .iter()
        .any(|p| p.0 < -5.0 || p.1 < -5.0 || p.0 > w as f32 + 5.0 || p.1 > h as f32 + 5.0)
    {
        return None;
    }
    let crop = crop_quad(rgb, &quad, 0.0);
    looks_like_photo(&crop).then_some(crop)
}

/// A portrait has texture and colour; a blank or text-only area does not.
fn looks_like_photo(img: &RgbImage) -> bool {
    if img.width() < 16 || img.height() < 16 {
        return false;
    }
    let g = imageops::grayscale(img);
    let n = (g.width() * g.height()) as f32;
    let mean = g.pixels().map(|p| p.0[0] as f32).sum::<f32>() / n;
    let var = g
        .pixels()
        .map(|p| (p.0[0] as f32 - mean).powi(2))
        .sum::<f32>()
        / n;
    var > 300.0
}

/// Without an MRZ on the side (TD1 fronts, driving licences): the largest block of
/// textured, text-free cells with a portrait aspect ratio.
fn portrait_by_texture(side: &Side) -> Option<RgbImage> {
    let (w, h) = side.gray.dimensions();
    let cell = (w.max(h) / 40).max(8);
    let (gw, gh) = (w / cell, h / cell);
    let mut tex = vec![false; (gw * gh) as usize];
    for gy in 0..gh {
        for gx in 0..gw {
            let c = imageops::crop_imm(&side.gray, gx * cell, gy * cell, cell, cell).to_image();
            let n = (cell * cell) as f32;
            let m = c.pixels().map(|p| p.0[0] as f32).sum::<f32>() / n;
            let v = c.pixels().map(|p| (p.0[0] as f32 - m).powi(2)).sum::<f32>() / n;
            tex[(gy * gw + gx) as usize] = v > 150.0;
        }
    }
    // Print comes in long lines or in columns of lines that start together (labels and
    // values); a short line on its own is a picture's detail (eyes and mouths pass for short
    // lines of print to the morphological finder).
    let stacked = |b: &TextBox| {
        side.boxes.iter().any(|o| {
            let (along, across) = b.local(o.quad[0]);
            o != b
                && (along + b.width() / 2.0).abs() < b.height()
                && (0.5 * b.height()..3.0 * b.height()).contains(&across.abs())
        })
    };
    let mut text = vec![false; (gw * gh) as usize];
    for b in &side.boxes {
        if b.width() < 6.0 * b.height() && !stacked(b) {
            continue;
        }
        let (x0, y0, x1, y1) = b.bounds();
        for gy in (y0 as u32 / cell)..=((y1 as u32 / cell).min(gh.saturating_sub(1))) {
            for gx in (x0 as u32 / cell)..=((x1 as u32 / cell).min(gw.saturating_sub(1))) {
                text[(gy * gw + gx) as usize] = true;
            }
        }
    }
    for (t, &is_text) in tex.iter_mut().zip(&text) {
        *t &= !is_text;
    }
    // Largest rectangle of textured cells via per-row histograms.
    let mut best = (0u32, 0u32, 0u32, 0u32, 0u32);
    let mut hist = vec![0u32; gw as usize];
    for gy in 0..gh {
        for gx in 0..gw {
            hist[gx as usize] = if tex[(gy * gw + gx) as usize] {
                hist[gx as usize] + 1
            } else {
                0
            };
        }
        for x0 in 0..gw as usize {
            let mut hmin = u32::MAX;
            for (x1, &hx) in hist.iter().enumerate().skip(x0) {
                hmin = hmin.min(hx);
                if hmin == 0 {
                    break;
                }
                let ww = (x1 - x0 + 1) as u32;
                let aspect = ww as f32 / hmin as f32;
                if (0.55..=1.0).contains(&aspect) && ww * hmin > best.0 {
                    best = (ww * hmin, x0 as u32, gy + 1 - hmin, ww, hmin);
                }
            }
        }
    }
    // At least ~2% of the image, to avoid picking clutter specks.
    if (best.0 as f32) < 0.02 * (gw * gh) as f32 || best.4 < 3 {
        return None;
    }
    let crop = imageops::crop_imm(
        &side.rgb,
        best.1 * cell,
        best.2 * cell,
        best.3 * cell,
        best.4 * cell,
    )
    .to_image();
    looks_like_photo(&crop).then_some(crop)
}

fn side_quality(side: &Side, has_mrz: bool) -> QualityScore {
    let (w, h) = side.gray.dimensions();
    // Text touching the border means part of the document is cut off.
    let margin = 3.0;
    let fully_visible = !side.boxes.is_empty()
        && side.boxes.iter().all(|b| {
            b.quad.iter().all(|p| {
                p.0 > margin && p.1 > margin && p.0 < w as f32 - margin && p.1 < h as f32 - margin
            })
        });
    let px_per_mm = if has_mrz {
        side.mrz.as_ref().and_then(|(m, bx)| {
            bx.last()
                .map(|b| b.width() / (m.format.line_len() as f32 * MRZ_PITCH_MM))
        })
    } else {
        None
    };
    let region = if side.boxes.is_empty() {
        None
    } else {
        let xs = side.boxes.iter().flat_map(|b| b.quad.iter().map(|p| p.0));
        let ys = side.boxes.iter().flat_map(|b| b.quad.iter().map(|p| p.1));
        let (x0, x1) = (
            xs.clone().fold(f32::MAX, f32::min).max(0.0),
            xs.fold(0.0, f32::max).min(w as f32),
        );
        let (y0, y1) = (
            ys.clone().fold(f32::MAX, f32::min).max(0.0),
            ys.fold(0.0, f32::max).min(h as f32),
        );
        Some((x0 as u32, y0 as u32, (x1 - x0) as u32, (y1 - y0) as u32))
    };
    quality::score(&side.gray, region, px_per_mm, fully_visible)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ocr::complete_lines;

    /// A text box of `w`×`h` centred at (cx, cy), rotated by `deg`.
    fn line(cx: f32, cy: f32, w: f32, h: f32, deg: f32) -> TextBox {
        let (c, s) = (deg.to_radians().cos(), deg.to_radians().sin());
        let at = |x: f32, y: f32| (cx + x * c - y * s, cy + x * s + y * c);
        TextBox {
            quad: [
                at(-w / 2.0, -h / 2.0),
                at(w / 2.0, -h / 2.0),
                at(w / 2.0, h / 2.0),
                at(-w / 2.0, h / 2.0),
            ],
            score: 0.9,
        }
    }

    #[test]
    fn a_line_split_by_the_detector_is_completed() {
        // A rotated MRZ line cut in two where its fillers faded, the line below, and a
        // label above: only the split line grows, by the gap and its tail.
        let deg = 6.0f32;
        let (c, s) = (deg.to_radians().cos(), deg.to_radians().sin());
        let along = |d: f32| (400.0 + d * c, 300.0 + d * s);
        let head = line(along(-100.0).0, along(-100.0).1, 400.0, 30.0, deg);
        let tail = line(along(250.0).0, along(250.0).1, 200.0, 28.0, deg);
        let below = line(400.0 - 40.0 * s, 300.0 + 40.0 * c, 600.0, 30.0, deg);
        let label = line(300.0 + 60.0 * s, 300.0 - 60.0 * c, 120.0, 18.0, deg);
        let lines = complete_lines(&[head, below], &[head, tail, below, label]);
        assert_eq!(lines.len(), 2);
        let whole = lines.iter().find(|l| l.covers(head.center())).unwrap();
        assert!((whole.width() - 650.0).abs() < 1.0, "{}", whole.width());
        assert!(whole.covers(tail.center()) && !whole.covers(below.center()));
        assert!((whole.angle().to_degrees() - deg).abs() < 0.01);
        let other = lines.iter().find(|l| l.covers(below.center())).unwrap();
        assert!((other.width() - 600.0).abs() < 1.0);
    }

    #[test]
    fn printed_dates() {
        for (printed, (y, m, d)) in [
            ("12 AUG 1974", (1974, 8, 12)),
            ("12.08.1974", (1974, 8, 12)),
            ("08/12/1974", (1974, 8, 12)),
            ("1974-08-12", (1974, 8, 12)),
            // As recognised: no spaces, a zero for the O of OCT and NOV.
            ("23MAY1999", (1999, 5, 23)),
            ("25AUG 2029", (2029, 8, 25)),
            ("180CT1992", (1992, 10, 18)),
            ("02 N0V 1989", (1989, 11, 2)),
        ] {
            assert_eq!(
                parse_printed_date(printed),
                NaiveDate::from_ymd_opt(y, m, d),
                "{printed}"
            );
        }
        assert_eq!(parse_printed_date("no date"), None);
    }

    #[test]
    fn the_printed_zone_confirms_an_mrz_field_by_field() {
        let m = mrz::parse(
            &[
                "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
                "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
            ],
            NaiveDate::from_ymd_opt(2010, 1, 1).unwrap(),
        )
        .unwrap();
        let mut c = Confirmation::new(&m);
        // Titles, labels and a nearly right surname confirm nothing.
        for text in ["PASSPORT / PASSEPORT", "Surname / Nom", "Eriksen", "UTO"] {
            c.offer(text);
        }
        assert_eq!(c.zone.surname, None);
        for text in ["Eriksson", "L898902C3", "12 AUG 1974"] {
            c.offer(text);
        }
        assert!(!c.complete(), "the expiry date is still to be seen");
        // The recogniser's O for a zero in the month, and no spaces.
        c.offer("150CT2012");
        assert_ne!(c.zone.expiry_date, m.expiry_date, "15 OCT is not 15 APR");
        c.offer("15APR2012");
        assert!(c.complete(), "{:?}", c.zone);
        assert_eq!(c.zone.surname.as_deref(), Some("Eriksson"));
        // Given names are optional: they lend their printed spelling when seen.
        assert_eq!(c.zone.given_names, None);
        assert_eq!(c.zone.document_number.as_deref(), Some("L898902C3"));
        assert_eq!(c.zone.birth_date, NaiveDate::from_ymd_opt(1974, 8, 12));
    }

    #[test]
    fn name_agreement() {
        assert!(names_agree("Müller", "MUELLER", false));
        assert!(names_agree("Muller", "MUELLER", false));
        assert!(names_agree(
            "Papadopoulou-Konstantinidou",
            "PAPADOPOULOU KONSTANTINIDOU",
            false
        ));
        assert!(!names_agree("Smith", "JONES", false));
        assert!(names_agree(
            "Wolfeschlegelsteinhausenbergerdorff",
            "WOLFESCHLEGELSTEINHAUSENBERG",
            true
        ));
        assert_eq!(
            age_on(
                NaiveDate::from_ymd_opt(2000, 12, 1).unwrap(),
                NaiveDate::from_ymd_opt(2026, 11, 22).unwrap()
            ),
            25
        );
    }
}
