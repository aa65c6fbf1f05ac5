//! The drawing surface: pages of vector content, two embedded fonts and JPEG images, serialised
//! with `pdf-writer`. Coordinates here are top-down points (y grows towards the bottom of the
//! page) so the layout code never has to think in PDF's bottom-up space.
//!
//! Text is written with CID fonts whose CIDs are handed out per distinct character (not per
//! glyph). Two characters that have no glyph in DejaVu (CJK, for instance) both draw the
//! `.notdef` box, yet keep their own CID, so the ToUnicode map still lets a reader copy or
//! extract the real text.

use crate::ReportError;
use miniz_oxide::deflate::compress_to_vec_zlib;
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo};
use pdf_writer::{Content, Date, Filter, Finish, Name, Pdf, Rect, Ref, Str, TextStr};
use std::collections::HashMap;
use std::sync::LazyLock;
use subsetter::GlyphRemapper;
use ttf_parser::{Face, GlyphId};

/// A4 portrait, in points.
pub const PAGE_WIDTH: f32 = 595.28;
pub const PAGE_HEIGHT: f32 = 841.89;

const REGULAR_DATA: &[u8] = include_bytes!("../fonts/DejaVuSans.ttf");
const BOLD_DATA: &[u8] = include_bytes!("../fonts/DejaVuSans-Bold.ttf");

// Parsing a face only reads its table directory; sharing it saves the work on every report.
static REGULAR_FACE: LazyLock<Face<'static>> =
    LazyLock::new(|| Face::parse(REGULAR_DATA, 0).expect("the bundled DejaVu Sans parses"));
static BOLD_FACE: LazyLock<Face<'static>> =
    LazyLock::new(|| Face::parse(BOLD_DATA, 0).expect("the bundled DejaVu Sans Bold parses"));

/// Level 6 is zlib's default: most of the gain of 9 at a fraction of its time.
const DEFLATE_LEVEL: u8 = 6;

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Color(pub f32, pub f32, pub f32);

impl Color {
    pub const fn hex(rgb: u32) -> Self {
        Color(
            ((rgb >> 16) & 0xFF) as f32 / 255.0,
            ((rgb >> 8) & 0xFF) as f32 / 255.0,
            (rgb & 0xFF) as f32 / 255.0,
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    Regular,
    Bold,
}

/// One embedded font and the characters this document used from it.
struct FontUse {
    face: &'static Face<'static>,
    data: &'static [u8],
    base_name: &'static str,
    resource: &'static [u8],
    /// Dominant vertical stem width for the font descriptor (a rendering hint only).
    stem_v: f32,
    remapper: GlyphRemapper,
    /// Character → CID; CID `n` is `used[n - 1]` (CID 0 stays `.notdef`).
    cids: HashMap<char, u16>,
    used: Vec<UsedChar>,
}

struct UsedChar {
    ch: char,
    /// Glyph id in the subset font.
    subset_gid: u16,
    /// Advance in PDF glyph space (1/1000 em).
    width: f32,
}

impl FontUse {
    fn new(weight: Weight) -> Self {
        let (face, data, base_name, resource, stem_v): (
            &'static Face<'static>,
            _,
            _,
            &'static [u8],
            _,
        ) = match weight {
            Weight::Regular => (&*REGULAR_FACE, REGULAR_DATA, "DejaVuSans", b"F1", 80.0),
            Weight::Bold => (&*BOLD_FACE, BOLD_DATA, "DejaVuSans-Bold", b"F2", 140.0),
        };
        let mut remapper = GlyphRemapper::new();
        remapper.remap(0);
        FontUse {
            face,
            data,
            base_name,
            resource,
            stem_v,
            remapper,
            cids: HashMap::new(),
            used: Vec::new(),
        }
    }

    /// Two big-endian bytes per character, registering characters not seen before.
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len() * 2);
        for ch in text.chars() {
            let cid = match self.cids.get(&ch) {
                Some(&cid) => cid,
                None => {
                    // 65,535 distinct characters would exhaust two-byte CIDs; the rest draw as
                    // `.notdef` rather than fail.
                    if self.used.len() >= usize::from(u16::MAX - 1) {
                        0
                    } else {
                        let gid = self.face.glyph_index(ch).unwrap_or(GlyphId(0));
                        let subset_gid = self.remapper.remap(gid.0);
                        let width = advance(self.face, gid) * 1000.0;
                        self.used.push(UsedChar {
                            ch,
                            subset_gid,
                            width,
                        });
                        let cid = self.used.len() as u16;
                        self.cids.insert(ch, cid);
                        cid
                    }
                }
            };
            out.extend_from_slice(&cid.to_be_bytes());
        }
        out
    }
}

/// Advance width in ems.
fn advance(face: &Face<'_>, gid: GlyphId) -> f32 {
    let units = face.glyph_hor_advance(gid).unwrap_or(0);
    f32::from(units) / f32::from(face.units_per_em().max(1))
}

/// Width of `text` set in `weight` at `size` points, without registering anything.
pub fn text_width(text: &str, weight: Weight, size: f32) -> f32 {
    let face: &Face<'_> = match weight {
        Weight::Regular => &REGULAR_FACE,
        Weight::Bold => &BOLD_FACE,
    };
    text.chars()
        .map(|ch| advance(face, face.glyph_index(ch).unwrap_or(GlyphId(0))))
        .sum::<f32>()
        * size
}

/// A decoded image ready to embed: baseline JPEG bytes and pixel size.
pub struct JpegImage {
    pub data: Vec<u8>,
    pub width: u32,
    pub height: u32,
}

/// Title, subject and creation date of the document information dictionary.
pub struct DocumentMeta<'a> {
    pub title: &'a str,
    pub subject: &'a str,
    pub created: Date,
}

pub struct Canvas {
    pages: Vec<Content>,
    current: usize,
    regular: FontUse,
    bold: FontUse,
    images: Vec<JpegImage>,
}

impl Canvas {
    pub fn new() -> Self {
        Canvas {
            pages: Vec::new(),
            current: 0,
            regular: FontUse::new(Weight::Regular),
            bold: FontUse::new(Weight::Bold),
            images: Vec::new(),
        }
    }

    pub fn page_count(&self) -> usize {
        self.pages.len()
    }

    pub fn add_page(&mut self) {
        self.pages.push(Content::new());
        self.current = self.pages.len() - 1;
    }

    /// Draw on an earlier page (headers and footers are drawn once the page count is known).
    pub fn select_page(&mut self, index: usize) {
        self.current = index.min(self.pages.len().saturating_sub(1));
    }

    fn content(&mut self) -> &mut Content {
        if self.pages.is_empty() {
            self.add_page();
        }
        &mut self.pages[self.current]
    }

    /// Draws one line of text with its baseline at `baseline` (top-down).
    pub fn text(
        &mut self,
        x: f32,
        baseline: f32,
        text: &str,
        weight: Weight,
        size: f32,
        color: Color,
    ) {
        if text.is_empty() {
            return;
        }
        let font = match weight {
            Weight::Regular => &mut self.regular,
            Weight::Bold => &mut self.bold,
        };
        let encoded = font.encode(text);
        let resource = font.resource;
        let content = self.content();
        content
            .begin_text()
            .set_font(Name(resource), size)
            .set_fill_rgb(color.0, color.1, color.2)
            .next_line(x, PAGE_HEIGHT - baseline)
            .show(Str(&encoded))
            .end_text();
    }

    pub fn fill_rect(&mut self, x: f32, y: f32, width: f32, height: f32, color: Color) {
        self.content()
            .set_fill_rgb(color.0, color.1, color.2)
            .rect(x, PAGE_HEIGHT - y - height, width, height)
            .fill_nonzero();
    }

    /// A filled rectangle with rounded corners (badges, cards).
    pub fn fill_rounded(
        &mut self,
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        radius: f32,
        color: Color,
    ) {
        let r = radius.min(width / 2.0).min(height / 2.0);
        // Control-point distance that makes a cubic Bézier approximate a quarter circle.
        let k = r * 0.552_284_8;
        let (left, right) = (x, x + width);
        let (top, bottom) = (PAGE_HEIGHT - y, PAGE_HEIGHT - y - height);
        self.content()
            .set_fill_rgb(color.0, color.1, color.2)
            .move_to(left + r, top)
            .line_to(right - r, top)
            .cubic_to(right - r + k, top, right, top - r + k, right, top - r)
            .line_to(right, bottom + r)
            .cubic_to(
                right,
                bottom + r - k,
                right - r + k,
                bottom,
                right - r,
                bottom,
            )
            .line_to(left + r, bottom)
            .cubic_to(left + r - k, bottom, left, bottom + r - k, left, bottom + r)
            .line_to(left, top - r)
            .cubic_to(left, top - r + k, left + r - k, top, left + r, top)
            .close_path()
            .fill_nonzero();
    }

    pub fn line(&mut self, x1: f32, y1: f32, x2: f32, y2: f32, width: f32, color: Color) {
        self.content()
            .set_stroke_rgb(color.0, color.1, color.2)
            .set_line_width(width)
            .move_to(x1, PAGE_HEIGHT - y1)
            .line_to(x2, PAGE_HEIGHT - y2)
            .stroke();
    }

    pub fn stroke_rect(
        &mut self,
        x: f32,
        y: f32,
        width: f32,
        height: f32,
        line: f32,
        color: Color,
    ) {
        self.content()
            .set_stroke_rgb(color.0, color.1, color.2)
            .set_line_width(line)
            .rect(x, PAGE_HEIGHT - y - height, width, height)
            .stroke();
    }

    /// Registers an image; draw it any number of times with [`Canvas::image`].
    pub fn add_image(&mut self, image: JpegImage) -> usize {
        self.images.push(image);
        self.images.len() - 1
    }

    pub fn image(&mut self, index: usize, x: f32, y: f32, width: f32, height: f32) {
        let name = image_name(index);
        self.content()
            .save_state()
            .transform([width, 0.0, 0.0, height, x, PAGE_HEIGHT - y - height])
            .x_object(Name(name.as_bytes()))
            .restore_state();
    }

    /// Serialises the document: pages, subset fonts with ToUnicode maps, images, metadata.
    pub fn finish(mut self, meta: &DocumentMeta<'_>) -> Result<Vec<u8>, ReportError> {
        if self.pages.is_empty() {
            self.add_page();
        }
        let mut next_id = 1;
        let mut alloc = || {
            let id = Ref::new(next_id);
            next_id += 1;
            id
        };
        let catalog_id = alloc();
        let tree_id = alloc();
        let info_id = alloc();
        let font_ids = [alloc(), alloc()];
        let image_ids: Vec<Ref> = self.images.iter().map(|_| alloc()).collect();
        let page_ids: Vec<(Ref, Ref)> = self.pages.iter().map(|_| (alloc(), alloc())).collect();

        let mut pdf = Pdf::new();
        pdf.catalog(catalog_id).pages(tree_id);
        pdf.pages(tree_id)
            .kids(page_ids.iter().map(|(page, _)| *page))
            .count(page_ids.len() as i32);
        pdf.document_info(info_id)
            .title(TextStr(meta.title))
            .subject(TextStr(meta.subject))
            .producer(TextStr("Verity"))
            .creator(TextStr("Verity"))
            .creation_date(meta.created);

        for (content, (page_id, content_id)) in self.pages.into_iter().zip(&page_ids) {
            let mut page = pdf.page(*page_id);
            page.parent(tree_id)
                .media_box(Rect::new(0.0, 0.0, PAGE_WIDTH, PAGE_HEIGHT))
                .contents(*content_id);
            let mut resources = page.resources();
            let mut fonts = resources.fonts();
            fonts.pair(Name(self.regular.resource), font_ids[0]);
            fonts.pair(Name(self.bold.resource), font_ids[1]);
            fonts.finish();
            let mut objects = resources.x_objects();
            for (index, id) in image_ids.iter().enumerate() {
                objects.pair(Name(image_name(index).as_bytes()), *id);
            }
            objects.finish();
            resources.finish();
            page.finish();
            let data = compress_to_vec_zlib(&content.finish(), DEFLATE_LEVEL);
            pdf.stream(*content_id, &data).filter(Filter::FlateDecode);
        }

        for (image, id) in self.images.iter().zip(&image_ids) {
            let mut xobject = pdf.image_xobject(*id, &image.data);
            xobject.filter(Filter::DctDecode);
            xobject
                .width(image.width as i32)
                .height(image.height as i32)
                .bits_per_component(8);
            xobject.color_space().device_rgb();
        }

        for (font, type0_id) in [&self.regular, &self.bold].into_iter().zip(font_ids) {
            write_font(&mut pdf, font, type0_id, &mut alloc)?;
        }
        Ok(pdf.finish())
    }
}

fn image_name(index: usize) -> String {
    format!("Im{index}")
}

/// A Type0 font over a subset CIDFontType2, with widths, a CID→GID map and a ToUnicode map.
fn write_font(
    pdf: &mut Pdf,
    font: &FontUse,
    type0_id: Ref,
    alloc: &mut impl FnMut() -> Ref,
) -> Result<(), ReportError> {
    let cid_id = alloc();
    let descriptor_id = alloc();
    let file_id = alloc();
    let cid_map_id = alloc();
    let unicode_id = alloc();

    // A subset font is named with a six-letter tag derived from its contents (PDF 32000 §9.6.4).
    let tag = subset_tag(&font.used);
    let base_name = format!("{tag}+{}", font.base_name);
    let system_info = SystemInfo {
        registry: Str(b"Adobe"),
        ordering: Str(b"Identity"),
        supplement: 0,
    };

    pdf.type0_font(type0_id)
        .base_font(Name(base_name.as_bytes()))
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_id)
        .to_unicode(unicode_id);

    let mut cid = pdf.cid_font(cid_id);
    cid.subtype(CidFontType::Type2)
        .base_font(Name(base_name.as_bytes()))
        .system_info(system_info)
        .font_descriptor(descriptor_id)
        .default_width(0.0)
        .cid_to_gid_map_stream(cid_map_id);
    if !font.used.is_empty() {
        cid.widths()
            .consecutive(1, font.used.iter().map(|used| used.width));
    }
    cid.finish();

    let face = font.face;
    let scale = 1000.0 / f32::from(face.units_per_em().max(1));
    let bbox = face.global_bounding_box();
    pdf.font_descriptor(descriptor_id)
        .name(Name(base_name.as_bytes()))
        .flags(FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(
            f32::from(bbox.x_min) * scale,
            f32::from(bbox.y_min) * scale,
            f32::from(bbox.x_max) * scale,
            f32::from(bbox.y_max) * scale,
        ))
        .italic_angle(0.0)
        .ascent(f32::from(face.ascender()) * scale)
        .descent(f32::from(face.descender()) * scale)
        .cap_height(f32::from(face.capital_height().unwrap_or(face.ascender())) * scale)
        .stem_v(font.stem_v)
        .font_file2(file_id);

    let subset = subsetter::subset(font.data, 0, &font.remapper)
        .map_err(|error| ReportError::Font(error.to_string()))?;
    pdf.stream(file_id, &compress_to_vec_zlib(&subset, DEFLATE_LEVEL))
        .filter(Filter::FlateDecode);

    let mut cid_to_gid = Vec::with_capacity((font.used.len() + 1) * 2);
    cid_to_gid.extend_from_slice(&0u16.to_be_bytes());
    for used in &font.used {
        cid_to_gid.extend_from_slice(&used.subset_gid.to_be_bytes());
    }
    pdf.stream(
        cid_map_id,
        &compress_to_vec_zlib(&cid_to_gid, DEFLATE_LEVEL),
    )
    .filter(Filter::FlateDecode);

    let mut cmap = pdf_writer::types::UnicodeCmap::new(Name(b"Verity-UTF16"), system_info);
    for (index, used) in font.used.iter().enumerate() {
        cmap.pair(index as u16 + 1, used.ch);
    }
    let cmap = cmap.finish();
    pdf.cmap(
        unicode_id,
        &compress_to_vec_zlib(cmap.as_slice(), DEFLATE_LEVEL),
    )
    .filter(Filter::FlateDecode);
    Ok(())
}

/// Six capital letters that change with the set of characters (a stable FNV-1a hash).
fn subset_tag(used: &[UsedChar]) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for used in used {
        hash ^= u64::from(u32::from(used.ch));
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (0..6)
        .map(|i| char::from(b'A' + ((hash >> (i * 5)) % 26) as u8))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_follow_the_font_metrics() {
        let narrow = text_width("iiii", Weight::Regular, 10.0);
        let wide = text_width("MMMM", Weight::Regular, 10.0);
        assert!(narrow > 0.0 && wide > narrow * 2.0, "{narrow} {wide}");
        assert!(text_width("Ab", Weight::Bold, 10.0) > text_width("Ab", Weight::Regular, 10.0));
        assert_eq!(text_width("", Weight::Regular, 10.0), 0.0);
    }

    #[test]
    fn characters_get_stable_cids_even_without_a_glyph() {
        let mut font = FontUse::new(Weight::Regular);
        let first = font.encode("Ωж中");
        let again = font.encode("中Ω");
        assert_eq!(first, [0, 1, 0, 2, 0, 3]);
        assert_eq!(again, [0, 3, 0, 1]);
        // DejaVu has no CJK glyph: the character keeps its CID and draws `.notdef` (GID 0).
        assert_eq!(font.used[2].subset_gid, 0);
        assert_ne!(font.used[0].subset_gid, 0);
    }
}
