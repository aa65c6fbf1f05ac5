//! PP-OCRv4 text detection (DB) and recognition (CTC) run with tract; pre- and
//! post-processing are ours: DB threshold, boxes, unclip, rotated crops, greedy CTC.

use std::path::Path;
use std::sync::Arc;

use image::{imageops, GrayImage, Luma, RgbImage};
use imageproc::geometric_transformations::{warp_into, Interpolation, Projection};
use imageproc::point::Point;
use tract_onnx::prelude::*;

type Plan = Arc<TypedRunnableModel>;

/// A detected text line: a rotated rectangle in image coordinates, corners clockwise
/// from top-left of the text.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TextBox {
    pub quad: [(f32, f32); 4],
    pub score: f32,
}

impl TextBox {
    pub fn width(&self) -> f32 {
        dist(self.quad[0], self.quad[1])
    }
    pub fn height(&self) -> f32 {
        dist(self.quad[0], self.quad[3])
    }
    pub fn center(&self) -> (f32, f32) {
        let (sx, sy) = self
            .quad
            .iter()
            .fold((0.0, 0.0), |a, p| (a.0 + p.0, a.1 + p.1));
        (sx / 4.0, sy / 4.0)
    }
    /// Angle of the text baseline in radians.
    pub fn angle(&self) -> f32 {
        let (a, b) = (self.quad[0], self.quad[1]);
        (b.1 - a.1).atan2(b.0 - a.0)
    }
    /// Unit vector along the text.
    fn axis(&self) -> (f32, f32) {
        let (a, b) = (self.quad[0], self.quad[1]);
        let len = self.width().max(1e-3);
        ((b.0 - a.0) / len, (b.1 - a.1) / len)
    }
    /// The upright rectangle around the quad: (left, top, right, bottom).
    pub fn bounds(&self) -> (f32, f32, f32, f32) {
        self.quad.iter().fold(
            (f32::MAX, f32::MAX, f32::MIN, f32::MIN),
            |(x0, y0, x1, y1), p| (x0.min(p.0), y0.min(p.1), x1.max(p.0), y1.max(p.1)),
        )
    }
    /// Where `p` lies relative to the centre: (along the text, across it, downwards positive).
    pub fn local(&self, p: (f32, f32)) -> (f32, f32) {
        let (c, (ux, uy)) = (self.center(), self.axis());
        let (dx, dy) = (p.0 - c.0, p.1 - c.1);
        (dx * ux + dy * uy, -dx * uy + dy * ux)
    }
    /// Whether `p` lies on this line: within its length and half its height of the axis.
    pub fn covers(&self, p: (f32, f32)) -> bool {
        let (s, t) = self.local(p);
        s.abs() <= self.width() / 2.0 && t.abs() < 0.35 * self.height()
    }
    /// Extent of `other` along this box's axis: (min, max) of its corners' positions.
    pub fn span_of(&self, other: &TextBox) -> (f32, f32) {
        other
            .quad
            .iter()
            .map(|&p| self.local(p).0)
            .fold((f32::MAX, f32::MIN), |(lo, hi), s| (lo.min(s), hi.max(s)))
    }
    /// The same line with its ends moved to `from`..`to` along the axis (relative to the
    /// centre), keeping the height.
    pub fn with_span(&self, from: f32, to: f32) -> TextBox {
        let (c, (ux, uy)) = (self.center(), self.axis());
        let h = self.height() / 2.0;
        // Across the text, downwards (from the top edge to the bottom one).
        let (nx, ny) = (-uy, ux);
        let at = |s: f32, t: f32| (c.0 + s * ux + t * nx, c.1 + s * uy + t * ny);
        TextBox {
            quad: [at(from, -h), at(to, -h), at(to, h), at(from, h)],
            score: self.score,
        }
    }
}

fn dist(a: (f32, f32), b: (f32, f32)) -> f32 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
}

#[derive(Debug, Clone)]
pub struct Recognized {
    pub text: String,
    /// Mean probability of the emitted characters.
    pub confidence: f32,
    /// For an MRZ read: the per-step scores, to decode the line again at a given length.
    pub mrz_scores: Option<MrzScores>,
}

/// Per-step log-probabilities of the MRZ alphabet (`<`, A–Z, 0–9) for one recognised line.
///
/// Greedy CTC decoding collapses a doubled filler (`<<` read in one step) and drops a faint
/// letter whose probability lost to the blank; the MRZ format fixes the line's length, so the
/// most probable reading *of that length* over all CTC alignments repairs both without
/// guessing: it only moves probability mass the model itself assigned.
#[derive(Debug, Clone)]
pub struct MrzScores {
    /// Characters per class; class 0 is the CTC blank (its char is unused).
    alphabet: Vec<char>,
    steps: usize,
    log_probs: Vec<f32>,
}

impl MrzScores {
    /// The most probable reading with exactly `len` characters (Viterbi over the CTC
    /// alignments that emit `len` labels) and its log-probability, or None if no alignment can.
    pub fn decode_exact(&self, len: usize) -> Option<(String, f32)> {
        let k = self.alphabet.len();
        let (t_max, l) = (self.steps, len);
        if t_max == 0 || l == 0 || l > t_max {
            return None;
        }
        let lp = |t: usize, c: usize| self.log_probs[t * k + c];
        let at = |n: usize, c: usize| n * k + c;
        let mut dp = vec![f32::NEG_INFINITY; (l + 1) * k];
        // back[t][n][c]: the class at step t − 1 (the number of labels then follows from it).
        let mut back = vec![0u8; t_max * (l + 1) * k];
        dp[at(0, 0)] = lp(0, 0);
        for c in 1..k {
            dp[at(1, c)] = lp(0, c);
        }
        let mut next = vec![f32::NEG_INFINITY; (l + 1) * k];
        for t in 1..t_max {
            next.fill(f32::NEG_INFINITY);
            // Best and runner-up class of each label count at t − 1, for "emit a new label
            // different from the previous class".
            let tops: Vec<((f32, usize), (f32, usize))> = (0..=l)
                .map(|n| {
                    let mut top = ((f32::NEG_INFINITY, 0), (f32::NEG_INFINITY, 0));
                    for c in 0..k {
                        let v = dp[at(n, c)];
                        if v > top.0 .0 {
                            top = ((v, c), top.0);
                        } else if v > top.1 .0 {
                            top.1 = (v, c);
                        }
                    }
                    top
                })
                .collect();
            let b = |n: usize, c: usize| (t * (l + 1) + n) * k + c;
            for n in 0..=l {
                let (best, _) = tops[n];
                next[at(n, 0)] = best.0 + lp(t, 0);
                back[b(n, 0)] = best.1 as u8;
                for c in 1..k {
                    let stay = dp[at(n, c)];
                    // Emitting `c` anew: the best class at n − 1 labels other than `c`.
                    let emit = match n.checked_sub(1).map(|m| tops[m]) {
                        Some((first, _)) if first.1 != c => first,
                        Some((_, second)) => second,
                        None => (f32::NEG_INFINITY, c),
                    };
                    let (v, from) = if stay >= emit.0 { (stay, c) } else { emit };
                    next[at(n, c)] = v + lp(t, c);
                    back[b(n, c)] = from as u8;
                }
            }
            std::mem::swap(&mut dp, &mut next);
        }
        let (mut c, score) = (0..k)
            .map(|c| (c, dp[at(l, c)]))
            .fold((0, f32::NEG_INFINITY), |a, x| if x.1 > a.1 { x } else { a });
        if score == f32::NEG_INFINITY {
            return None;
        }
        let mut n = l;
        let mut out = Vec::with_capacity(l);
        for t in (1..t_max).rev() {
            let prev = back[(t * (l + 1) + n) * k + c] as usize;
            if c != 0 && prev != c {
                out.push(self.alphabet[c]);
                n -= 1;
            }
            c = prev;
        }
        if c != 0 {
            out.push(self.alphabet[c]);
            n -= 1;
        }
        debug_assert_eq!(n, 0);
        out.reverse();
        Some((out.into_iter().collect(), score))
    }
}

pub struct Ocr {
    det: Plan,
    /// Recognition plans per input width bucket (tract needs concrete widths for this model).
    rec: std::sync::Mutex<std::collections::HashMap<u32, Plan>>,
    rec_path: std::path::PathBuf,
    /// CTC classes: index 0 is the blank, then the model's dictionary, then a space.
    classes: Vec<String>,
    /// Class indices allowed in an MRZ (A–Z, 0–9, `<`), blank included.
    mrz_classes: Vec<usize>,
}

/// DB post-processing parameters (rapidocr defaults for PP-OCRv4).
const DB_THRESH: f32 = 0.3;
const DB_BOX_THRESH: f32 = 0.5;
const DB_UNCLIP: f32 = 1.6;
const REC_HEIGHT: u32 = 48;
/// The detector's input is fixed (tract cannot analyse it with symbolic sizes);
/// images are letterboxed into it. Landscape, as documents are usually photographed.
pub const DET_W: u32 = 960;
pub const DET_H: u32 = 672;
/// Recognition input widths. Cost grows with the padded width, so short lines (labels,
/// dates, numbers) get buckets below rapidocr's 320 minimum (measured: same evaluation results).
const REC_BUCKETS: [u32; 9] = [160, 240, 320, 480, 640, 800, 960, 1280, 1600];

impl Ocr {
    pub fn load(models_dir: &Path) -> anyhow_like::Result<Self> {
        let det_path = models_dir.join("ppocr_v4_det.onnx");
        let rec_path = models_dir.join("ppocr_v4_rec.onnx");
        let det = load_plan(&det_path, Some((DET_H, DET_W)))?;
        // The dictionary lives in the rec model's metadata (key `character`).
        let proto = tract_onnx::onnx()
            .proto_model_for_path(&rec_path)
            .map_err(|e| anyhow_like::err(format!("{}: {e}", rec_path.display())))?;
        let dict = proto
            .metadata_props
            .iter()
            .find(|p| p.key == "character")
            .map(|p| p.value.clone())
            .ok_or_else(|| anyhow_like::err("rec model has no `character` metadata".into()))?;
        let mut classes = vec![String::new()];
        classes.extend(dict.lines().map(|l| l.to_string()));
        classes.push(" ".into());
        let rec = std::sync::Mutex::new(std::collections::HashMap::new());
        let mrz_classes = classes
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                *i == 0
                    || (c.len() == 1
                        && c.chars()
                            .all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '<'))
            })
            .map(|(i, _)| i)
            .collect();
        let ocr = Ocr {
            det,
            rec,
            rec_path,
            classes,
            mrz_classes,
        };
        // Compile the common widths now so that requests do not pay for it.
        for w in [160, 240, 320, 640, 960] {
            ocr.rec_plan(w)?;
        }
        Ok(ocr)
    }

    fn rec_plan(&self, width: u32) -> anyhow_like::Result<Plan> {
        let mut cache = self
            .rec
            .lock()
            .map_err(|_| anyhow_like::err("rec plan cache poisoned".into()))?;
        if let Some(p) = cache.get(&width) {
            return Ok(p.clone());
        }
        let p = load_plan(&self.rec_path, Some((REC_HEIGHT, width)))?;
        cache.insert(width, p.clone());
        Ok(p)
    }

    pub fn dictionary_len(&self) -> usize {
        self.classes.len()
    }

    /// Detect text lines on the image letterboxed into the detector's fixed input.
    pub fn detect(&self, img: &RgbImage) -> anyhow_like::Result<Vec<TextBox>> {
        let (w, h) = img.dimensions();
        let scale = (DET_W as f32 / w as f32).min(DET_H as f32 / h as f32);
        let (rw, rh) = (
            ((w as f32 * scale) as u32).clamp(1, DET_W),
            ((h as f32 * scale) as u32).clamp(1, DET_H),
        );
        let resized = imageops::resize(img, rw, rh, imageops::FilterType::Triangle);
        let input = to_tensor_padded(&resized, DET_W, DET_H);
        let out = self
            .det
            .run(tvec!(input.into()))
            .map_err(|e| anyhow_like::err(format!("det: {e}")))?;
        let prob = out[0]
            .to_plain_array_view::<f32>()
            .map_err(|e| anyhow_like::err(format!("det output: {e}")))?;
        let (ph, pw) = (prob.shape()[2], prob.shape()[3]);
        let probs: Vec<f32> = prob.iter().copied().collect();
        let mut boxes = db_postprocess(&probs, pw, ph);
        for b in &mut boxes {
            for p in &mut b.quad {
                p.0 = (p.0 / scale).clamp(0.0, w as f32 - 1.0);
                p.1 = (p.1 / scale).clamp(0.0, h as f32 - 1.0);
            }
        }
        Ok(boxes)
    }

    /// Recognise one text line (a crop already made horizontal).
    pub fn recognize(&self, line: &RgbImage, mrz_only: bool) -> anyhow_like::Result<Recognized> {
        self.recognize_scaled(line, mrz_only, 1.0)
    }

    /// Recognise with the line's width scaled by `x_scale` relative to its height
    /// (below 1 packs widely spaced characters such as the MRZ's closer together).
    pub fn recognize_scaled(
        &self,
        line: &RgbImage,
        mrz_only: bool,
        x_scale: f32,
    ) -> anyhow_like::Result<Recognized> {
        let (w, h) = line.dimensions();
        let w = ((w as f32 * x_scale) as u32).max(1);
        let max_w = *REC_BUCKETS.last().unwrap_or(&1600);
        let tw = ((REC_HEIGHT as f32 * w as f32 / h.max(1) as f32).ceil() as u32).clamp(16, max_w);
        let resized = imageops::resize(line, tw, REC_HEIGHT, imageops::FilterType::Triangle);
        // Pad with zeros (after normalisation) to the next width bucket.
        let bucket = REC_BUCKETS
            .iter()
            .copied()
            .find(|&b| b >= tw)
            .unwrap_or(max_w);
        let input = to_tensor_padded(&resized, bucket, REC_HEIGHT);
        let rec = self.rec_plan(bucket)?;
        let out = rec
            .run(tvec!(input.into()))
            .map_err(|e| anyhow_like::err(format!("rec: {e}")))?;
        let probs = out[0]
            .to_plain_array_view::<f32>()
            .map_err(|e| anyhow_like::err(format!("rec output: {e}")))?;
        let (t, c) = (probs.shape()[1], probs.shape()[2]);
        let flat: Vec<f32> = probs.iter().copied().collect();
        Ok(self.ctc_greedy(&flat, t, c, mrz_only))
    }

    /// Greedy CTC: best class per step (optionally restricted to the MRZ alphabet),
    /// collapse repeats, drop blanks.
    fn ctc_greedy(&self, probs: &[f32], t: usize, c: usize, mrz_only: bool) -> Recognized {
        let mut text = String::new();
        let mut confs = Vec::new();
        let mut prev = 0usize;
        for step in 0..t {
            let row = &probs[step * c..(step + 1) * c];
            let (best, p) = if mrz_only {
                self.mrz_classes
                    .iter()
                    .map(|&i| (i, row[i]))
                    .fold((0, f32::MIN), |a, b| if b.1 > a.1 { b } else { a })
            } else {
                row.iter()
                    .enumerate()
                    .fold((0, f32::MIN), |a, (i, &v)| if v > a.1 { (i, v) } else { a })
            };
            if best != 0 && best != prev {
                if let Some(s) = self.classes.get(best) {
                    text.push_str(s);
                    confs.push(p);
                }
            }
            prev = best;
        }
        let confidence = if confs.is_empty() {
            0.0
        } else {
            confs.iter().sum::<f32>() / confs.len() as f32
        };
        let mrz_scores = mrz_only.then(|| MrzScores {
            alphabet: self
                .mrz_classes
                .iter()
                .map(|&i| self.classes[i].chars().next().unwrap_or(' '))
                .collect(),
            steps: t,
            log_probs: (0..t)
                .flat_map(|step| {
                    self.mrz_classes
                        .iter()
                        .map(move |&i| probs[step * c + i].max(1e-12).ln())
                })
                .collect(),
        });
        Recognized {
            text,
            confidence,
            mrz_scores,
        }
    }
}

/// The lines an MRZ can be among: the long ones (at least 55 % of the widest, 8 times longer
/// than high), each completed along its own line (see [`complete_lines`]).
pub fn long_lines(boxes: &[TextBox]) -> Vec<TextBox> {
    let widest = boxes.iter().map(|b| b.width()).fold(0.0, f32::max);
    let seeds: Vec<TextBox> = boxes
        .iter()
        .filter(|b| b.width() >= 0.55 * widest && b.width() / b.height().max(1.0) >= 8.0)
        .copied()
        .collect();
    complete_lines(&seeds, boxes)
}

/// MRZ line boxes completed along their own line: the detector splits a line where its filler
/// run fades (glare, blur), so each long box takes in the boxes that continue it, across gaps
/// of a few characters. Lines already taken in by a longer one are dropped.
pub(crate) fn complete_lines(seeds: &[TextBox], all: &[TextBox]) -> Vec<TextBox> {
    let mut lines: Vec<TextBox> = Vec::new();
    let mut seeds = seeds.to_vec();
    seeds.sort_by(|a, b| b.width().total_cmp(&a.width()));
    for seed in seeds {
        let h = seed.height();
        let on_line = |o: &TextBox| {
            seed.local(o.center()).1.abs() < 0.35 * h && (0.4 * h..1.6 * h).contains(&o.height())
        };
        if lines.iter().any(|l| l.covers(seed.center())) {
            continue;
        }
        let (mut lo, mut hi) = (-seed.width() / 2.0, seed.width() / 2.0);
        let mut rest: Vec<&TextBox> = all.iter().filter(|o| **o != seed && on_line(o)).collect();
        rest.sort_by(|a, b| {
            let d = |o: &TextBox| seed.local(o.center()).0.abs();
            d(a).total_cmp(&d(b))
        });
        for o in rest {
            let (olo, ohi) = seed.span_of(o);
            if olo - hi < 8.0 * h && lo - ohi < 8.0 * h {
                lo = lo.min(olo);
                hi = hi.max(ohi);
            }
        }
        lines.push(seed.with_span(lo, hi));
    }
    lines
}

/// Load an ONNX model for a concrete (height, width) input.
fn load_plan(path: &Path, size: Option<(u32, u32)>) -> anyhow_like::Result<Plan> {
    let e = |x: TractError| anyhow_like::err(format!("{}: {x}", path.display()));
    // Declared intermediate shapes (value_info) pin sizes that are symbolic here.
    let mut proto = tract_onnx::onnx().proto_model_for_path(path).map_err(e)?;
    if let Some(g) = proto.graph.as_mut() {
        g.value_info.clear();
    }
    let mut model = tract_onnx::onnx()
        .model_for_proto_model(&proto)
        .map_err(e)?;
    let (h, w) = size.unwrap_or((REC_HEIGHT, 320));
    let (hdim, wdim): (TDim, TDim) = ((h as i64).into(), (w as i64).into());
    model
        .set_input_fact(
            0,
            InferenceFact::dt_shape(f32::datum_type(), tvec![1.into(), 3.into(), hdim, wdim]),
        )
        .map_err(e)?;
    let plan = model
        .into_optimized()
        .map_err(e)?
        .into_runnable()
        .map_err(e)?;
    Ok(plan)
}

/// NCHW float tensor in BGR order normalised to [-1, 1] (PaddleOCR convention), padded
/// with zeros (mid-grey) to `width` × `height`.
fn to_tensor_padded(img: &RgbImage, width: u32, height: u32) -> Tensor {
    let (w, h) = (width as usize, height as usize);
    let mut data = vec![0f32; 3 * h * w];
    for (x, y, p) in img.enumerate_pixels() {
        let (x, y) = (x as usize, y as usize);
        if x >= w || y >= h {
            continue;
        }
        for c in 0..3 {
            // BGR: channel 0 is blue.
            data[c * h * w + y * w + x] = (p.0[2 - c] as f32 / 255.0 - 0.5) / 0.5;
        }
    }
    Tensor::from_shape(&[1, 3, h, w], &data).expect("shape matches data length")
}

/// DB post-processing: binarise at DB_THRESH, dilate, take each connected region's
/// minimum-area rectangle, score it on the probability map, and unclip it.
pub fn db_postprocess(prob: &[f32], w: usize, h: usize) -> Vec<TextBox> {
    let mut bin = GrayImage::new(w as u32, h as u32);
    for y in 0..h {
        for x in 0..w {
            if prob[y * w + x] > DB_THRESH {
                bin.put_pixel(x as u32, y as u32, Luma([255]));
            }
        }
    }
    // 2×2 dilation as in rapidocr (use_dilation).
    let bin =
        imageproc::morphology::grayscale_dilate(&bin, &imageproc::morphology::Mask::square(2));
    let labels = imageproc::region_labelling::connected_components(
        &bin,
        imageproc::region_labelling::Connectivity::Eight,
        Luma([0]),
    );
    let mut regions: std::collections::HashMap<u32, Vec<Point<i32>>> =
        std::collections::HashMap::new();
    for (x, y, l) in labels.enumerate_pixels() {
        if l.0[0] != 0 {
            regions
                .entry(l.0[0])
                .or_default()
                .push(Point::new(x as i32, y as i32));
        }
    }
    let mut out = Vec::new();
    for pts in regions.values() {
        if pts.len() < 6 {
            continue;
        }
        let rect = imageproc::geometry::min_area_rect(pts);
        let quad = order_quad(rect.map(|p| (p.x as f32, p.y as f32)));
        let (bw, bh) = (dist(quad[0], quad[1]), dist(quad[0], quad[3]));
        if bw.min(bh) < 3.0 {
            continue;
        }
        // "fast" score: mean probability over the region's pixels.
        let score = pts
            .iter()
            .map(|p| prob[p.y as usize * w + p.x as usize])
            .sum::<f32>()
            / pts.len() as f32;
        if score < DB_BOX_THRESH {
            continue;
        }
        // Unclip: offset the rectangle outward by area * ratio / perimeter (Vatti offset of a rectangle).
        let (bw, bh) = (bw + 1.0, bh + 1.0);
        let d = bw * bh * DB_UNCLIP / (2.0 * (bw + bh));
        let quad = expand_quad(quad, d);
        out.push(TextBox { quad, score });
    }
    // Reading order: top to bottom, then left to right.
    out.sort_by(|a, b| {
        let (ca, cb) = (a.center(), b.center());
        (ca.1, ca.0)
            .partial_cmp(&(cb.1, cb.0))
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    out
}

/// Order corners as top-left, top-right, bottom-right, bottom-left of a text line:
/// the long side is the baseline direction.
fn order_quad(pts: [(f32, f32); 4]) -> [(f32, f32); 4] {
    // Start from the corner with the smallest x+y, go clockwise by angle around the centre.
    let cx = pts.iter().map(|p| p.0).sum::<f32>() / 4.0;
    let cy = pts.iter().map(|p| p.1).sum::<f32>() / 4.0;
    let mut v = pts.to_vec();
    v.sort_by(|a, b| {
        let aa = (a.1 - cy).atan2(a.0 - cx);
        let bb = (b.1 - cy).atan2(b.0 - cx);
        aa.partial_cmp(&bb).unwrap_or(std::cmp::Ordering::Equal)
    });
    // Now sorted clockwise in image coordinates (y down) starting near the left.
    let start = (0..4)
        .min_by(|&i, &j| {
            (v[i].0 + v[i].1)
                .partial_cmp(&(v[j].0 + v[j].1))
                .unwrap_or(std::cmp::Ordering::Equal)
        })
        .unwrap_or(0);
    let mut q = [(0.0, 0.0); 4];
    for (k, item) in q.iter_mut().enumerate() {
        *item = v[(start + k) % 4];
    }
    // A text line is wider than tall; if not, the start corner was on a short side.
    if dist(q[0], q[1]) < dist(q[0], q[3]) * 0.8 {
        q = [q[3], q[0], q[1], q[2]];
    }
    q
}

fn expand_quad(q: [(f32, f32); 4], d: f32) -> [(f32, f32); 4] {
    let ux = (
        (q[1].0 - q[0].0) / dist(q[0], q[1]).max(1e-3),
        (q[1].1 - q[0].1) / dist(q[0], q[1]).max(1e-3),
    );
    let vx = (
        (q[3].0 - q[0].0) / dist(q[0], q[3]).max(1e-3),
        (q[3].1 - q[0].1) / dist(q[0], q[3]).max(1e-3),
    );
    let off = |p: (f32, f32), su: f32, sv: f32| {
        (
            p.0 + d * (su * ux.0 + sv * vx.0),
            p.1 + d * (su * ux.1 + sv * vx.1),
        )
    };
    [
        off(q[0], -1.0, -1.0),
        off(q[1], 1.0, -1.0),
        off(q[2], 1.0, 1.0),
        off(q[3], -1.0, 1.0),
    ]
}

/// Perspective crop of a quad to an upright rectangle (deskews each line).
pub fn crop_quad(img: &RgbImage, quad: &[(f32, f32); 4], pad_y: f32) -> RgbImage {
    let w = dist(quad[0], quad[1])
        .max(dist(quad[3], quad[2]))
        .round()
        .max(2.0);
    let h = dist(quad[0], quad[3])
        .max(dist(quad[1], quad[2]))
        .round()
        .max(2.0);
    let ph = h * pad_y;
    let (ow, oh) = (w as u32, (h + 2.0 * ph) as u32);
    // Extend the quad vertically by pad_y of its height.
    let v0 = ((quad[3].0 - quad[0].0) / h, (quad[3].1 - quad[0].1) / h);
    let v1 = ((quad[2].0 - quad[1].0) / h, (quad[2].1 - quad[1].1) / h);
    let src = [
        (quad[0].0 - v0.0 * ph, quad[0].1 - v0.1 * ph),
        (quad[1].0 - v1.0 * ph, quad[1].1 - v1.1 * ph),
        (quad[2].0 + v1.0 * ph, quad[2].1 + v1.1 * ph),
        (quad[3].0 + v0.0 * ph, quad[3].1 + v0.1 * ph),
    ];
    let dst = [
        (0.0, 0.0),
        (ow as f32, 0.0),
        (ow as f32, oh as f32),
        (0.0, oh as f32),
    ];
    let mut out = RgbImage::new(ow.max(1), oh.max(1));
    // The projection maps input (image) locations to output (crop) locations.
    if let Some(p) = Projection::from_control_points(src, dst) {
        warp_into(
            img,
            &p,
            Interpolation::Bilinear,
            image::Rgb([255, 255, 255]),
            &mut out,
        );
    }
    out
}

/// Minimal error type for this module (kept local so the crate has one error enum at its API).
pub mod anyhow_like {
    #[derive(Debug, Clone)]
    pub struct Error(pub String);
    impl std::fmt::Display for Error {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(&self.0)
        }
    }
    impl std::error::Error for Error {}
    pub type Result<T> = std::result::Result<T, Error>;
    pub fn err(s: String) -> Error {
        Error(s)
    }
}

#[cfg(test)]
mod tests {
    use super::MrzScores;

    /// Scores from a greedy path: each step's class gets probability `p`, the rest share
    /// what is left.
    fn scores(path: &[(char, f32)]) -> MrzScores {
        let alphabet: Vec<char> = std::iter::once(' ')
            .chain("<ABCHN0123456789".chars())
            .collect();
        let k = alphabet.len();
        let log_probs = path
            .iter()
            .flat_map(|&(ch, p)| {
                let i = alphabet.iter().position(|&a| a == ch).unwrap();
                (0..k).map(move |c| {
                    if c == i {
                        p
                    } else {
                        (1.0 - p) / (k - 1) as f32
                    }
                    .ln()
                })
            })
            .collect();
        MrzScores {
            alphabet,
            steps: path.len(),
            log_probs,
        }
    }

    #[test]
    fn exact_length_restores_a_collapsed_filler() {
        // "A<<B" greedily reads "A<B": the filler run spans steps with no blank between.
        let s = scores(&[
            ('A', 0.9),
            (' ', 0.9),
            ('<', 0.9),
            ('<', 0.55),
            ('<', 0.9),
            (' ', 0.9),
            ('B', 0.9),
        ]);
        assert_eq!(s.decode_exact(3).map(|d| d.0).as_deref(), Some("A<B"));
        assert_eq!(s.decode_exact(4).map(|d| d.0).as_deref(), Some("A<<B"));
    }

    #[test]
    fn exact_length_keeps_a_faint_letter() {
        // C lost to the blank (0.45 vs 0.55 shared as 0.55 on blank): greedy says "HAN".
        let mut s = scores(&[
            (' ', 0.55),
            ('H', 0.9),
            (' ', 0.9),
            ('A', 0.9),
            (' ', 0.9),
            ('N', 0.9),
        ]);
        let c = s.alphabet.iter().position(|&a| a == 'C').unwrap();
        s.log_probs[c] = 0.40f32.ln();
        assert_eq!(s.decode_exact(3).map(|d| d.0).as_deref(), Some("HAN"));
        assert_eq!(s.decode_exact(4).map(|d| d.0).as_deref(), Some("CHAN"));
    }

    #[test]
    fn impossible_lengths_are_none() {
        let s = scores(&[('A', 0.9), ('B', 0.9)]);
        assert!(s.decode_exact(3).is_none());
        assert!(s.decode_exact(0).is_none());
        assert_eq!(s.decode_exact(2).map(|d| d.0).as_deref(), Some("AB"));
    }
}
