//! Text lines found without a neural network: the classic MRZ locator (black top-hat, then
//! characters joined along the line, then connected regions shaped like a line), as
//! PassportEye and most MRZ scanners do it, relaxed to short lines of print that hold at least
//! two separate marks. It finds the lines of dark print of a page in about 20 ms: the long ones
//! are the glyph reader's way to the MRZ, and the rest are the printed zone's lines when the
//! MRZ is read so (see `DocumentEngine::read`), where PP-OCR's detector would take 250–350 ms.

use image::{imageops, GrayImage, Luma};
use imageproc::region_labelling::{connected_components, Connectivity};

use crate::ocr::TextBox;

/// Long side of the image the lines are looked for on.
const WORK_SIDE: u32 = 800;
/// Black top-hat window (width, height) on the work image: wider and taller than a stroke.
const TOPHAT: (usize, usize) = (11, 7);
/// Gap between characters of one line bridged along the rows, on the work image.
const JOIN: usize = 15;
/// Shapes kept: at least twice as long as thick (a word of two or three letters; the MRZ's
/// lines are picked out later by length), at least this thick (clutter strokes are thinner),
/// mostly ink.
const MIN_ELONGATION: f32 = 2.0;
const MIN_THICKNESS: f32 = 4.0;
const MIN_FILL: f32 = 0.45;
/// Separate marks (characters) a line holds at least, counted along its axis on the ink
/// before the characters were joined: a lone blob is a picture's detail.
const MIN_MARKS: usize = 2;
/// A box's height over the ink band's: the detector's boxes, which the rest of the engine
/// expects, reach about this far beyond the characters.
const BOX_OVER_INK: f32 = 1.6;

/// Lines of dark print, as text boxes in `gray`'s coordinates.
pub fn find(gray: &GrayImage) -> Vec<TextBox> {
    let (w, h) = gray.dimensions();
    let scale = (WORK_SIDE as f32 / w.max(h) as f32).min(1.0);
    let small = if scale < 1.0 {
        imageops::thumbnail(
            gray,
            ((w as f32 * scale) as u32).max(1),
            ((h as f32 * scale) as u32).max(1),
        )
    } else {
        gray.clone()
    };
    let tophat = black_tophat(&small);
    let mut values: Vec<u8> = tophat.as_raw().clone();
    let at = (values.len() * 995 / 1000).min(values.len().saturating_sub(1));
    let (_, &mut peak, _) = values.select_nth_unstable(at);
    let threshold = (0.3 * peak as f32).max(15.0) as u8;
    let bits = tophat
        .as_raw()
        .iter()
        .map(|&v| if v > threshold { 255 } else { 0 })
        .collect();
    let ink = GrayImage::from_raw(small.width(), small.height(), bits).unwrap_or_default();
    // Join each line's characters: a closing along the rows.
    let mask = min_filter(&max_filter(&ink, JOIN, 1), JOIN, 1);
    regions(&mask)
        .into_iter()
        .filter_map(|r| r.line(&ink))
        .map(|b| TextBox {
            quad: b.quad.map(|(x, y)| (x / scale, y / scale)),
            score: b.score,
        })
        .collect()
}

/// Dark detail smaller than the window: closing (max then min filter) minus the image.
fn black_tophat(img: &GrayImage) -> GrayImage {
    let (kw, kh) = TOPHAT;
    let closed = min_filter(&max_filter(img, kw, kh), kw, kh);
    let diff = closed
        .as_raw()
        .iter()
        .zip(img.as_raw())
        .map(|(c, v)| c.saturating_sub(*v))
        .collect();
    GrayImage::from_raw(img.width(), img.height(), diff).unwrap_or_default()
}

fn max_filter(img: &GrayImage, kw: usize, kh: usize) -> GrayImage {
    rank_filter(img, kw, kh, u8::max, 0)
}

fn min_filter(img: &GrayImage, kw: usize, kh: usize) -> GrayImage {
    rank_filter(img, kw, kh, u8::min, 255)
}

/// A separable `kw` × `kh` window filter (rows, then columns); `neutral` lies beyond the
/// borders.
fn rank_filter(
    img: &GrayImage,
    kw: usize,
    kh: usize,
    pick: impl Fn(u8, u8) -> u8 + Copy,
    neutral: u8,
) -> GrayImage {
    let (w, h) = (img.width() as usize, img.height() as usize);
    let mut out = img.as_raw().clone();
    let mut scratch = Scratch::default();
    if kw > 1 {
        for row in out.chunks_exact_mut(w) {
            scratch.filter(row, kw, pick, neutral);
        }
    }
    if kh > 1 {
        let mut column = vec![0u8; h];
        for x in 0..w {
            for (y, v) in column.iter_mut().enumerate() {
                *v = out[y * w + x];
            }
            scratch.filter(&mut column, kh, pick, neutral);
            for (y, v) in column.iter().enumerate() {
                out[y * w + x] = *v;
            }
        }
    }
    GrayImage::from_raw(w as u32, h as u32, out).unwrap_or_default()
}

/// Buffers of the van Herk / Gil–Werman running max (or min): three comparisons per sample
/// whatever the window.
#[derive(Default)]
struct Scratch {
    padded: Vec<u8>,
    forward: Vec<u8>,
    backward: Vec<u8>,
}

impl Scratch {
    /// `line[i]` becomes `pick` over `line[i - k/2 ..= i + k/2]`.
    fn filter(&mut self, line: &mut [u8], k: usize, pick: impl Fn(u8, u8) -> u8, neutral: u8) {
        let r = k / 2;
        let k = 2 * r + 1;
        let len = (line.len() + 2 * r).div_ceil(k) * k;
        self.padded.clear();
        self.padded.resize(r, neutral);
        self.padded.extend_from_slice(line);
        self.padded.resize(len, neutral);
        self.forward.resize(len, neutral);
        self.backward.resize(len, neutral);
        for block in (0..len).step_by(k) {
            self.forward[block] = self.padded[block];
            for i in block + 1..block + k {
                self.forward[i] = pick(self.forward[i - 1], self.padded[i]);
            }
            self.backward[block + k - 1] = self.padded[block + k - 1];
            for i in (block..block + k - 1).rev() {
                self.backward[i] = pick(self.backward[i + 1], self.padded[i]);
            }
        }
        // Window [i, i + 2r] of the padded line, which is centred on line[i].
        for (i, v) in line.iter_mut().enumerate() {
            *v = pick(self.backward[i], self.forward[i + 2 * r]);
        }
    }
}

/// Second moments of one connected region.
#[derive(Default, Clone, Copy)]
struct Region {
    n: f64,
    sx: f64,
    sy: f64,
    sxx: f64,
    syy: f64,
    sxy: f64,
}

fn regions(mask: &GrayImage) -> Vec<Region> {
    let labels = connected_components(mask, Connectivity::Eight, Luma([0u8]));
    let mut regions: Vec<Region> = Vec::new();
    for (x, y, l) in labels.enumerate_pixels() {
        let l = l[0] as usize;
        if l == 0 {
            continue;
        }
        if regions.len() < l {
            regions.resize(l, Region::default());
        }
        let r = &mut regions[l - 1];
        let (x, y) = (x as f64, y as f64);
        r.n += 1.0;
        r.sx += x;
        r.sy += y;
        r.sxx += x * x;
        r.syy += y * y;
        r.sxy += x * y;
    }
    regions
}

impl Region {
    /// The region as a text line, if it is shaped like one: its principal axis, and a filled
    /// rectangle's length and thickness from the spread along and across it.
    /// `ink` is the mask before the characters were joined.
    fn line(&self, ink: &GrayImage) -> Option<TextBox> {
        if self.n < 50.0 {
            return None;
        }
        let (cx, cy) = (self.sx / self.n, self.sy / self.n);
        let vxx = self.sxx / self.n - cx * cx;
        let vyy = self.syy / self.n - cy * cy;
        let vxy = self.sxy / self.n - cx * cy;
        let half_trace = (vxx + vyy) / 2.0;
        let root = (((vxx - vyy) / 2.0).powi(2) + vxy * vxy).sqrt();
        let (along, across) = (half_trace + root, (half_trace - root).max(0.0));
        let length = (12.0 * along).sqrt() as f32;
        let thickness = (12.0 * across).sqrt() as f32;
        let angle = (0.5 * (2.0 * vxy).atan2(vxx - vyy)) as f32;
        let fill = self.n as f32 / (length * thickness).max(1.0);
        let text_like = length >= MIN_ELONGATION * thickness
            && thickness >= MIN_THICKNESS
            && fill >= MIN_FILL
            // Text runs roughly along the rows (the engine reads pages turned up to ±45°).
            && angle.abs() <= std::f32::consts::FRAC_PI_4;
        if !text_like {
            return None;
        }

        let (ux, uy) = (angle.cos(), angle.sin());
        let (nx, ny) = (-uy, ux);
        let (hl, ht) = (length / 2.0, thickness * BOX_OVER_INK / 2.0);
        let (cx, cy) = (cx as f32, cy as f32);
        let at = |s: f32, t: f32| (cx + s * ux + t * nx, cy + s * uy + t * ny);
        let inked = |s: f32| {
            let (x, y) = at(s, 0.0);
            let (x, y) = (x.round(), y.round());
            x >= 0.0
                && y >= 0.0
                && ink
                    .get_pixel_checked(x as u32, y as u32)
                    .is_some_and(|p| p[0] > 0)
        };
        let marks = (-hl as i32..=hl as i32)
            .map(|s| inked(s as f32))
            .fold((0, false), |(n, was), is| (n + usize::from(is && !was), is))
            .0;
        if marks < MIN_MARKS {
            return None;
        }
        Some(TextBox {
            quad: [at(-hl, -ht), at(hl, -ht), at(hl, ht), at(-hl, ht)],
            score: fill.min(1.0),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_running_filter_equals_the_plain_window() {
        let line: Vec<u8> = (0..57u32).map(|i| ((i * 73 + 11) % 251) as u8).collect();
        for k in [1, 3, 7, 15] {
            for (pick, neutral) in [(u8::max as fn(u8, u8) -> u8, 0), (u8::min, 255)] {
                let mut fast = line.clone();
                Scratch::default().filter(&mut fast, k, pick, neutral);
                let plain: Vec<u8> = (0..line.len())
                    .map(|i| {
                        let (lo, hi) = (i.saturating_sub(k / 2), (i + k / 2).min(line.len() - 1));
                        line[lo..=hi].iter().copied().reduce(pick).unwrap()
                    })
                    .collect();
                assert_eq!(fast, plain, "window {k}");
            }
        }
    }

    #[test]
    fn a_short_word_is_a_line_and_a_lone_blob_is_not() {
        let mut img = GrayImage::from_pixel(800, 400, Luma([210]));
        let mut fill = |x0: u32, y0: u32, w: u32, h: u32| {
            for y in y0..y0 + h {
                for x in x0..x0 + w {
                    img.put_pixel(x, y, Luma([30]));
                }
            }
        };
        // "ITA": three 8 × 12 letters at a 12-pixel pitch; an eye: one 30 × 10 blob.
        for c in 0..3 {
            fill(100 + c * 12, 100, 8, 12);
        }
        fill(400, 250, 30, 10);
        let lines = find(&img);
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!((lines[0].center().0 - 118.0).abs() < 3.0, "{lines:?}");
    }

    #[test]
    fn finds_the_lines_of_a_printed_block_and_not_a_thin_stroke() {
        let mut img = GrayImage::from_pixel(800, 400, Luma([210]));
        // Two "lines" of 40 dark 8 × 12 characters at a 12-pixel pitch, and a 1-pixel stroke.
        for (row, top) in [(0, 200u32), (1, 230)] {
            for c in 0..40u32 {
                for y in top..top + 12 {
                    for x in 0..8 {
                        if (x + y + row) % 3 != 0 {
                            img.put_pixel(100 + c * 12 + x, y, Luma([30]));
                        }
                    }
                }
            }
        }
        for x in 50..750 {
            img.put_pixel(x, 330, Luma([30]));
        }
        let lines = find(&img);
        assert_eq!(lines.len(), 2, "{lines:?}");
        for (b, y) in lines.iter().zip([206.0, 236.0]) {
            assert!(
                (b.center().1 - y).abs() < 2.0 && (b.width() - 476.0).abs() < 30.0,
                "{b:?}"
            );
        }
    }
}
