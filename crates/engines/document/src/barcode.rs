//! PDF417 and QR decoding with rxing, with the preprocessing phone photos need,
//! and AAMVA (US/Canadian driving licence) field parsing.

use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

use chrono::NaiveDate;
use image::{GrayImage, Luma};
use imageproc::geometric_transformations::{warp_into, Interpolation, Projection};
use rxing::{BarcodeFormat, DecodeHints};
use serde::Serialize;

use crate::correlation::{darkness, dot, normalise};
use crate::pdf417_ec;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Barcode {
    /// `PDF_417` or `QR_CODE`.
    pub format: String,
    pub data: String,
    /// Which preprocessing variant decoded it (for diagnostics).
    pub variant: String,
}

/// What the barcode search made of one image.
#[derive(Debug, Clone, PartialEq)]
pub enum Scan {
    /// A code read with an acceptable payload.
    Read(Barcode),
    /// A PDF417 was located, and shown clearly enough to say so, but not read.
    Unread(UnreadPdf417),
    /// No code was found.
    NotFound,
}

/// A PDF417 that was located but not read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct UnreadPdf417 {
    /// Its blur as a Gaussian σ in modules (see [`unread_pdf417`]).
    pub blur: f32,
}

impl UnreadPdf417 {
    /// Blurred as much as codes that the corpus' readings hardly ever recovered
    /// ([`TOO_BLURRED`]): a sharper photograph is needed rather than another try.
    pub fn too_blurred(&self) -> bool {
        self.blur >= TOO_BLURRED
    }
}

impl Scan {
    /// The code read, if any.
    pub fn read(&self) -> Option<&Barcode> {
        match self {
            Scan::Read(b) => Some(b),
            _ => None,
        }
    }

    /// The code located but not read, if any.
    pub fn unread(&self) -> Option<UnreadPdf417> {
        match self {
            Scan::Unread(u) => Some(*u),
            _ => None,
        }
    }
}

// No PureBarcode hint: rxing 0.9.3's PDF417 reader ignores it (only QR, Data Matrix and 1D
// readers honour it), so a tight crop gains nothing from it.
fn try_decode(img: &GrayImage, formats: &[BarcodeFormat]) -> Option<(BarcodeFormat, String)> {
    let mut hints = DecodeHints {
        PossibleFormats: Some(formats.iter().cloned().collect::<HashSet<_>>()),
        TryHarder: Some(true),
        ..Default::default()
    };
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

/// Corners of a barcode: top-left, top-right, bottom-right, bottom-left, with x across the bars.
type Quad = [(f32, f32); 4];

/// Sobel structure tensor (Jxx, Jyy, Jxy) and mean gradient (gx, gy) over square cells of an
/// image.
struct Cells {
    size: u32,
    w: u32,
    h: u32,
    j: Vec<[f32; 3]>,
    g: Vec<[f32; 2]>,
}

impl Cells {
    fn new(img: &GrayImage, size: u32) -> Cells {
        // Scharr on a lightly smoothed image: on bars 1–3 px wide the bare Sobel kernel is
        // anisotropic and pulls the measured angle towards the axes (−8° read as −7.2°).
        let img = &imageproc::filter::gaussian_blur_f32(img, 1.0);
        let gx = imageproc::gradients::horizontal_scharr(img);
        let gy = imageproc::gradients::vertical_scharr(img);
        let (w, h) = (img.width() / size, img.height() / size);
        let mut j = vec![[0f32; 3]; (w * h) as usize];
        let mut g = vec![[0f32; 2]; (w * h) as usize];
        for y in 0..h * size {
            let row = ((y / size) * w) as usize;
            for x in 0..w * size {
                let a = gx.get_pixel(x, y).0[0] as f32;
                let b = gy.get_pixel(x, y).0[0] as f32;
                let i = row + (x / size) as usize;
                let c = &mut j[i];
                c[0] += a * a;
                c[1] += b * b;
                c[2] += a * b;
                g[i][0] += a;
                g[i][1] += b;
            }
        }
        let n = (size * size) as f32;
        for c in &mut j {
            c.iter_mut().for_each(|v| *v /= n);
        }
        for c in &mut g {
            c.iter_mut().for_each(|v| *v /= n);
        }
        Cells { size, w, h, j, g }
    }
}

/// Oriented part of a tensor's energy: large only where edges are strong, dense and parallel
/// (bars); text, corners and noise have gradients in every direction.
fn oriented_energy(t: &[f32; 3]) -> f32 {
    ((t[0] - t[1]).powi(2) + 4.0 * t[2] * t[2]).sqrt()
}

/// Dominant gradient direction of a tensor in radians, in (-π/2, π/2]: the normal of the bars.
fn tensor_angle(t: &[f32; 3]) -> f32 {
    0.5 * (2.0 * t[2]).atan2(t[0] - t[1])
}

/// Locate a PDF417: the 8-connected block of cells with the most oriented gradient energy,
/// enclosed in a rectangle aligned with its mean gradient direction (so the deskew angle is
/// measured, not guessed). Returns the rectangle and that angle in radians.
///
/// Two passes. Seeds are cells whose edges are strong and parallel (the start and stop
/// patterns, most of the data); the strongest block of seeds gives the bars' direction. The
/// block then grows into every connected cell whose edges run mostly along that direction,
/// however weak: a glared or dim end of the code, and data cells where the row boundaries
/// add edges across the bars. Card edges and text, whose edges run every other way, stay out.
fn locate(img: &GrayImage) -> Option<(Quad, f32)> {
    let (iw, ih) = img.dimensions();
    let size = (iw.max(ih) / 64).clamp(6, 24);
    let c = Cells::new(img, size);
    let (w, h) = (c.w as i64, c.h as i64);
    if w < 4 || h < 4 {
        return None;
    }
    let e: Vec<f32> = c.j.iter().map(oriented_energy).collect();
    let inside = |x: i64, y: i64| x >= 0 && y >= 0 && x < w && y < h;
    // The reference level is the best 3×3 neighbourhood, so one sharp edge cannot set it.
    let mut reference = 0f32;
    for y in 0..h {
        for x in 0..w {
            let mut s = 0.0;
            for (dx, dy) in NEIGHBOURS.iter().chain(&[(0, 0)]) {
                if inside(x + dx, y + dy) {
                    s += e[((y + dy) * w + x + dx) as usize];
                }
            }
            reference = reference.max(s / 9.0);
        }
    }
    if reference <= 0.0 {
        return None;
    }
    // Largest-energy 8-connected block of cells passing `on`, grown from `start` cells.
    let block = |on: &[bool], start: &[usize]| -> Vec<usize> {
        let mut seen = vec![false; on.len()];
        let mut best: (f32, Vec<usize>) = (0.0, Vec::new());
        for &s in start {
            if !on[s] || seen[s] {
                continue;
            }
            seen[s] = true;
            let (mut stack, mut members, mut total) = (vec![s], Vec::new(), 0.0);
            while let Some(i) = stack.pop() {
                members.push(i);
                total += e[i];
                let (x, y) = (i as i64 % w, i as i64 / w);
                for (dx, dy) in NEIGHBOURS {
                    let n = ((y + dy) * w + x + dx) as usize;
                    if inside(x + dx, y + dy) && on[n] && !seen[n] {
                        seen[n] = true;
                        stack.push(n);
                    }
                }
            }
            if total > best.0 {
                best = (total, members);
            }
        }
        best.1
    };
    let angle_of = |members: &[usize]| {
        let mut sum = [0f32; 3];
        for &i in members {
            for (s, v) in sum.iter_mut().zip(c.j[i]) {
                *s += v;
            }
        }
        tensor_angle(&sum)
    };
    // A seed's gradients must also alternate in sign (bar, space, bar): along a single edge,
    // such as the card's outline against the background, they all point one way.
    let seeds: Vec<bool> =
        c.j.iter()
            .zip(&c.g)
            .zip(&e)
            .map(|((t, g), &e)| {
                let total = t[0] + t[1];
                e > 0.25 * reference && e > 0.5 * total && g[0] * g[0] + g[1] * g[1] < 0.25 * total
            })
            .collect();
    let all: Vec<usize> = (0..seeds.len()).collect();
    let core = block(&seeds, &all);
    if core.len() < 4 {
        return None;
    }
    let a = angle_of(&core);
    let (u, v) = ((a.cos(), a.sin()), (-a.sin(), a.cos()));
    // Energy of a cell's gradients across the bars (along u) and along them (along v).
    let along =
        |t: &[f32; 3], d: (f32, f32)| t[0] * d.0 * d.0 + 2.0 * t[2] * d.0 * d.1 + t[1] * d.1 * d.1;
    let grow: Vec<bool> =
        c.j.iter()
            .map(|t| {
                let (across, with) = (along(t, u), along(t, v));
                across > 0.04 * reference && across > 2.0 * with
            })
            .collect();
    let members = block(&grow, &core);
    if members.len() < 8 {
        return None;
    }
    let a = angle_of(&members);
    let (u, v) = ((a.cos(), a.sin()), (-a.sin(), a.cos()));
    let (mut u0, mut u1, mut v0, mut v1) = (f32::MAX, f32::MIN, f32::MAX, f32::MIN);
    for &i in &members {
        let px = ((i as i64 % w) as f32 + 0.5) * c.size as f32;
        let py = ((i as i64 / w) as f32 + 0.5) * c.size as f32;
        let (pu, pv) = (px * u.0 + py * u.1, px * v.0 + py * v.1);
        (u0, u1, v0, v1) = (u0.min(pu), u1.max(pu), v0.min(pv), v1.max(pv));
    }
    // Along the rows, the block can stop short where blur has flattened the data of a small
    // code; the rows go on as long as the band across them keeps edges along the bars.
    let cell_size = c.size as f32;
    let bins = |lo: f32| (lo / cell_size).floor() as i64;
    let mut band = BTreeMap::<i64, (f32, f32)>::new();
    for (i, t) in c.j.iter().enumerate() {
        let px = ((i as i64 % w) as f32 + 0.5) * cell_size;
        let py = ((i as i64 / w) as f32 + 0.5) * cell_size;
        let pv = px * v.0 + py * v.1;
        if pv > v0 + cell_size && pv < v1 - cell_size {
            let b = band.entry(bins(px * u.0 + py * u.1)).or_default();
            b.0 += along(t, u);
            b.1 += along(t, v);
        }
    }
    let mut inner: Vec<f32> = (bins(u0)..=bins(u1))
        .filter_map(|b| band.get(&b).map(|e| e.0))
        .collect();
    inner.sort_by(f32::total_cmp);
    if let Some(&median) = inner.get(inner.len() / 2) {
        let active = |b: i64, ratio: f32| {
            band.get(&b)
                .is_some_and(|&(across, with)| across > 0.1 * median && across > ratio * with)
        };
        // A start or stop pattern: strong edges, all of them across the bars.
        let pattern = |b: i64| {
            band.get(&b)
                .is_some_and(|&(across, with)| across > 0.5 * median && across > 10.0 * with)
        };
        // The band's last bin from `from` in direction `step` (gaps of one bin allowed). Data
        // blurred to about a pixel per module has edges almost every way, so a second walk
        // goes on through any texture, but only counts up to the last start or stop pattern
        // it passes: the code's true ends (one photo's block had stopped at a third of the
        // code).
        let extend = |from: i64, step: i64| {
            let walk = |ratio: f32, to_pattern: bool| {
                let (mut last, mut end, mut b) = (from, from, from + step);
                while (b - last).abs() <= 2 && band.contains_key(&b) {
                    if active(b, ratio) {
                        last = b;
                        if !to_pattern || pattern(b) {
                            end = b;
                        }
                    }
                    b += step;
                }
                end
            };
            let (strict, loose) = (walk(1.5, false), walk(0.0, true));
            if step < 0 {
                strict.min(loose)
            } else {
                strict.max(loose)
            }
        };
        let (b0, b1) = (bins(u0), bins(u1));
        u0 = u0.min(extend(b0, -1) as f32 * cell_size + 0.5 * cell_size);
        u1 = u1.max(extend(b1, 1) as f32 * cell_size + 0.5 * cell_size);
    }
    // Cell centres lie up to a cell inside the true edge; keep a little quiet zone too.
    let m = 1.5 * c.size as f32;
    let (u0, u1, v0, v1) = (u0 - m, u1 + m, v0 - m, v1 + m);
    let pt = |pu: f32, pv: f32| (pu * u.0 + pv * v.0, pu * u.1 + pv * v.1);
    Some(([pt(u0, v0), pt(u1, v0), pt(u1, v1), pt(u0, v1)], a))
}

const NEIGHBOURS: [(i64, i64); 8] = [
    (-1, -1),
    (0, -1),
    (1, -1),
    (-1, 0),
    (1, 0),
    (-1, 1),
    (0, 1),
    (1, 1),
];

fn dist(a: (f32, f32), b: (f32, f32)) -> f32 {
    (a.0 - b.0).hypot(a.1 - b.1)
}

/// The projection taking `q` onto an upright `w`×`h` rectangle.
fn projection(q: &Quad, w: u32, h: u32) -> Option<Projection> {
    let (w, h) = (w as f32, h as f32);
    Projection::from_control_points(*q, [(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)])
}

/// Resample through `p` into a `w`×`h` image. Bicubic keeps edges sub-pixel sharp when a
/// small code is upscaled, which the decoder's run-length sampling needs.
fn warp(img: &GrayImage, p: &Projection, w: u32, h: u32) -> GrayImage {
    let mut out = GrayImage::new(w, h);
    warp_into(img, p, Interpolation::Bicubic, Luma([255]), &mut out);
    out
}

/// Line `y = a + b·x` through points with outliers (holes from glare, a stray edge, bands
/// that ended on the stop pattern's wide bar where the others reached its thin bars): the
/// line through two of the points with the least median residual over all of them, which
/// up to half the points cannot move (a least-squares or median-slope start was tilted by
/// three of eight such bands), then least squares over the points near it. None if the
/// points do not determine a line.
fn fit_line(pts: &[(f32, f32)]) -> Option<(f32, f32)> {
    if pts.len() < 4 {
        return None;
    }
    // Candidate lines through pairs of at most 32 evenly spaced points (a few hundred
    // pairs for a walk's hundreds of points).
    let cand: Vec<&(f32, f32)> = pts.iter().step_by(pts.len().div_ceil(32)).collect();
    let mut res = vec![0f32; pts.len()];
    let mut best: Option<(f32, f32, f32)> = None;
    for (i, p) in cand.iter().enumerate() {
        for q in &cand[i + 1..] {
            if q.0 == p.0 {
                continue;
            }
            let b = (q.1 - p.1) / (q.0 - p.0);
            let a = p.1 - b * p.0;
            for (r, s) in res.iter_mut().zip(pts) {
                *r = (s.1 - a - b * s.0).abs();
            }
            let mid = res.len() / 2;
            let median = *res.select_nth_unstable_by(mid, f32::total_cmp).1;
            if best.is_none_or(|(m, _, _)| median < m) {
                best = Some((median, a, b));
            }
        }
    }
    let (median, a, b) = best?;
    let tol = (3.0 * median).max(1.5);
    let kept: Vec<&(f32, f32)> = pts
        .iter()
        .filter(|p| (p.1 - a - b * p.0).abs() <= tol)
        .collect();
    let n = kept.len() as f32;
    let (sx, sy) = kept.iter().fold((0.0, 0.0), |s, q| (s.0 + q.0, s.1 + q.1));
    let (mx, my) = (sx / n, sy / n);
    let (sxx, sxy) = kept.iter().fold((0.0, 0.0), |s, q| {
        (s.0 + (q.0 - mx).powi(2), s.1 + (q.0 - mx) * (q.1 - my))
    });
    if kept.len() < 4 || sxx <= 0.0 {
        return None;
    }
    let b = sxy / sxx;
    Some((my - b * mx, b))
}

/// Outline of the bars in a roughly rectified crop: lines fitted through where the horizontal
/// edge activity ends at the top, bottom, left and right, so a perspective view (rows that
/// converge) becomes a quadrilateral. Corners in crop coordinates, with a small quiet zone.
fn outline(r: &GrayImage) -> Option<Quad> {
    let (w, h) = r.dimensions();
    if w < 60 || h < 30 {
        return None;
    }
    let mut act = GrayImage::new(w, h);
    for y in 0..h {
        for x in 1..w - 1 {
            let d = r.get_pixel(x + 1, y).0[0].abs_diff(r.get_pixel(x - 1, y).0[0]);
            act.put_pixel(x, y, Luma([d]));
        }
    }
    // Smoothed over a few modules horizontally, so spaces inside the code do not open gaps.
    let rx = (w / 60).max(2);
    let act = imageproc::filter::box_filter(&act, rx, 1);
    let mut mid: Vec<u8> = (h / 3..2 * h / 3)
        .flat_map(|y| (w / 3..2 * w / 3).map(move |x| (x, y)))
        .map(|(x, y)| act.get_pixel(x, y).0[0])
        .collect();
    mid.sort_unstable();
    let t = (mid[mid.len() / 2] as f32 * 0.4).max(3.0) as u8;
    let on = |x: u32, y: u32| act.get_pixel(x, y).0[0] > t;
    // Walk from the centre outwards and stop after `gap` pixels without activity.
    let walk = |from: u32, to: i64, gap: u32, at: &dyn Fn(u32) -> bool| -> u32 {
        let (mut last, mut i) = (from, from as i64);
        let step = if to < from as i64 { -1 } else { 1 };
        while i != to + step {
            if at(i as u32) {
                last = i as u32;
            } else if last.abs_diff(i as u32) > gap {
                break;
            }
            i += step;
        }
        last
    };
    let (cx, cy) = (w / 2, h / 2);
    let (mut top, mut bottom) = (Vec::new(), Vec::new());
    for x in (w / 10..w - w / 10).step_by(4) {
        let col = |y: u32| on(x, y);
        top.push((x as f32, walk(cy, 0, h / 20 + 2, &col) as f32));
        bottom.push((x as f32, walk(cy, h as i64 - 1, h / 20 + 2, &col) as f32));
    }
    let (top, bottom) = (fit_line(&top)?, fit_line(&bottom)?);
    let (y0, y1) = (top.0 + top.1 * cx as f32, bottom.0 + bottom.1 * cx as f32);
    let span = y1 - y0;
    if span < 10.0 {
        return None;
    }
    // Left and right ends from the darkness profiles of bands along the rows: the start and
    // stop patterns repeat in every row, so within a band they stay crisp bars (the activity
    // of the wide start bar's single edge is too weak after smoothing). The bands follow the
    // top and bottom lines, which slope when the photograph shears the code (bars upright,
    // rows not): horizontal bands then cut the code's corners, and the ends they found bent
    // the outline (a sharp back at 0.05 perspective was not read).
    let bands = 8;
    let at_fraction = |x: f32, f: f32| {
        let (t, b) = (top.0 + top.1 * x, bottom.0 + bottom.1 * x);
        t + f * (b - t)
    };
    let win = 2 * rx as usize;
    let (mut left, mut right) = (Vec::new(), Vec::new());
    for b in 0..bands {
        let (fa, fb) = (
            0.1 + 0.8 * b as f32 / bands as f32,
            0.1 + 0.8 * (b + 1) as f32 / bands as f32,
        );
        let d: Vec<f32> = (0..w)
            .map(|x| {
                let (ya, yb) = (at_fraction(x as f32, fa), at_fraction(x as f32, fb));
                let rows = ya.max(0.0) as u32..(yb.max(0.0) as u32).min(h);
                let n = rows.len().max(1) as f32;
                rows.map(|y| 255.0 - r.get_pixel(x, y).0[0] as f32)
                    .sum::<f32>()
                    / n
            })
            .collect();
        let lo = d.iter().cloned().fold(f32::MAX, f32::min);
        let hi = d.iter().cloned().fold(f32::MIN, f32::max);
        // With the light evened, a flat margin beside the code is mid-grey, half the range,
        // while the start and stop bars are near its top; at 35 % the margin passed for the
        // code's end in some bands (`lo` falls with the band's brightest space).
        let thr = lo + 0.6 * (hi - lo);
        let yc = |x: f32| at_fraction(x, 0.5 * (fa + fb));
        // Lines of the form x = c + d·y, fitted with the axes swapped.
        if let Some(x) = d.iter().position(|&v| v > thr) {
            let x0 = x.saturating_sub(win);
            let e = rising_edge(&d[x0..(x + win).min(d.len())], (x - x0) as f32);
            let xe = e.map_or(x as f32, |e| x0 as f32 + e);
            left.push((yc(xe), xe));
        }
        if let Some(x) = d.iter().rposition(|&v| v > thr) {
            let (x0, x1) = (x.saturating_sub(win), (x + win + 1).min(d.len()));
            let mirrored: Vec<f32> = d[x0..x1].iter().rev().cloned().collect();
            let e = rising_edge(&mirrored, (x1 - 1 - x) as f32);
            let xe = e.map_or(x as f32, |e| (x1 - 1) as f32 - e);
            right.push((yc(xe), xe));
        }
    }
    let (left, right) = (fit_line(&left)?, fit_line(&right)?);
    // Quiet zone: about a module beyond the smoothed edges, a few pixels above and below.
    let (mh, mv) = (rx as f32, 3.0 + 0.02 * span);
    let corner = |(a, b): (f32, f32), dy: f32, (c, d): (f32, f32), dx: f32| {
        // y = a + dy + b·x and x = c + dx + d·y.
        let x = (c + dx + d * (a + dy)) / (1.0 - d * b);
        (x, a + dy + b * x)
    };
    Some([
        corner(top, -mv, left, -mh),
        corner(top, -mv, right, mh),
        corner(bottom, mv, right, mh),
        corner(bottom, mv, left, -mh),
    ])
}

/// Evens out uneven light (glare, a shadow) in a barcode crop: each pixel relative to the mean
/// and mean absolute deviation of its neighbourhood (half the crop's height across, so a
/// glare spot is wider than it), so bars are dark and spaces light everywhere.
fn flatten_lighting(img: &GrayImage) -> GrayImage {
    let r = (img.height() / 4).max(8);
    let mean = imageproc::filter::box_filter(img, r, r);
    let dev = GrayImage::from_fn(img.width(), img.height(), |x, y| {
        Luma([img.get_pixel(x, y).0[0].abs_diff(mean.get_pixel(x, y).0[0])])
    });
    let dev = imageproc::filter::box_filter(&dev, r, r);
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let (v, m) = (
            img.get_pixel(x, y).0[0] as f32,
            mean.get_pixel(x, y).0[0] as f32,
        );
        let d = (dev.get_pixel(x, y).0[0] as f32).max(4.0);
        Luma([(128.0 + 64.0 * (v - m) / d).clamp(0.0, 255.0) as u8])
    })
}

/// Unsharp mask: restores the contrast of one-module bars and spaces that blur has greyed.
fn sharpen(img: &GrayImage, sigma: f32, amount: f32) -> GrayImage {
    let blur = imageproc::filter::gaussian_blur_f32(img, sigma);
    GrayImage::from_fn(img.width(), img.height(), |x, y| {
        let (a, b) = (
            img.get_pixel(x, y).0[0] as f32,
            blur.get_pixel(x, y).0[0] as f32,
        );
        Luma([(a + amount * (a - b)).clamp(0.0, 255.0) as u8])
    })
}

/// Whether a decoded text may be returned: a PDF417 that claims to be an AAMVA licence must
/// parse as one, so a misread is never handed on as licence data.
fn acceptable(format: BarcodeFormat, text: &str) -> bool {
    let claims_aamva = text.starts_with('@') || text.get(..32).is_some_and(|h| h.contains("ANSI "));
    // AAMVA data holds no control characters but its separators; rxing's decoder, which
    // corrects up to its full capacity, has been seen to return such a miscorrected payload.
    let clean = || {
        !text
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\x1c'..='\x1e'))
    };
    format != BarcodeFormat::PDF_417 || !claims_aamva || (clean() && parse_aamva(text).is_some())
}

/// Samples per module of the grey profiles matched against the symbol templates.
const SPM: usize = 4;
const CW_SAMPLES: usize = 17 * SPM;
/// Least blur (σ in modules) of the templates: phone photos never show a crisp module edge.
const TEMPLATE_SIGMA: f32 = TEMPLATE_TWENTIETHS as f32 / 20.0;
/// [`TEMPLATE_SIGMA`] in twentieths of a module, the unit blur is measured in.
const TEMPLATE_TWENTIETHS: u32 = 9;
/// Most blur measured (1.5 modules), in twentieths of a module.
const MAX_BLUR_TWENTIETHS: u32 = 30;

/// Every PDF417 symbol as a blurred darkness profile (zero mean, unit norm), with its cluster
/// (0, 1, 2 for rows 3k, 3k+1, 3k+2) and codeword value.
struct Symbols {
    profile: Vec<[f32; CW_SAMPLES]>,
    cluster: Vec<u8>,
    value: Vec<u16>,
}

/// Standard normal CDF (Abramowitz & Stegun 7.1.26 erf, error < 1.5e-7).
fn normal_cdf(x: f32) -> f32 {
    let z = x.abs() / std::f32::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.327_591_1 * z);
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_7 + t * (1.421_413_8 + t * (-1.453_152 + t * 1.061_405_4))));
    let erf = 1.0 - poly * (-z * z).exp();
    0.5 * (1.0 + erf.copysign(x))
}

/// Zero mean, unit norm (so a dot product is a correlation coefficient).
fn normalised<const N: usize>(v: &[f32; N]) -> [f32; N] {
    let mut out = *v;
    normalise(&mut out);
    out
}

/// The symbol templates blurred by `twentieths` / 20 modules (at most [`MAX_BLUR_TWENTIETHS`]).
fn symbols(twentieths: u32) -> &'static Symbols {
    static S: [OnceLock<Symbols>; MAX_BLUR_TWENTIETHS as usize + 1] =
        [const { OnceLock::new() }; MAX_BLUR_TWENTIETHS as usize + 1];
    let twentieths = twentieths.min(MAX_BLUR_TWENTIETHS);
    let sigma = twentieths as f32 / 20.0;
    S[twentieths as usize].get_or_init(|| {
        use rxing::pdf417::pdf_417_common::{CODEWORD_TABLE, SYMBOL_TABLE};
        let mut s = Symbols {
            profile: Vec::with_capacity(SYMBOL_TABLE.len()),
            cluster: Vec::with_capacity(SYMBOL_TABLE.len()),
            value: Vec::with_capacity(SYMBOL_TABLE.len()),
        };
        for (&sym, &cw) in SYMBOL_TABLE.iter().zip(CODEWORD_TABLE.iter()) {
            // 17 modules, the first one in bit 16.
            let bar = |k: usize| (sym >> (16 - k)) & 1 == 1;
            let mut widths = [0i32; 8];
            let mut e = 0;
            for k in 0..17 {
                if k > 0 && bar(k) != bar(k - 1) {
                    e += 1;
                }
                widths[e.min(7)] += 1;
            }
            // PDF417 cluster number: (b1 − b2 + b3 − b4 + 9) mod 9 over the bar widths.
            let bucket = (widths[0] - widths[2] + widths[4] - widths[6] + 9) % 9;
            s.cluster.push((bucket / 3) as u8);
            s.value.push(((cw - 1) % 929) as u16);
            s.profile.push(normalised(&std::array::from_fn(|i| {
                let p = (i as f32 + 0.5) / SPM as f32;
                (0..17)
                    .filter(|&k| bar(k))
                    .map(|k| {
                        normal_cdf((k as f32 + 1.0 - p) / sigma)
                            - normal_cdf((k as f32 - p) / sigma)
                    })
                    .sum()
            })));
        }
        s
    })
}

/// Best symbol for a darkness profile among `cluster` (or all clusters): (index, correlation,
/// index of the best symbol with another value, its correlation).
fn best_symbol(
    s: &Symbols,
    profile: &[f32; CW_SAMPLES],
    cluster: Option<u8>,
) -> (usize, f32, usize, f32) {
    let p = normalised(profile);
    let (mut i1, mut b1, mut i2, mut b2) = (0, f32::MIN, 0, f32::MIN);
    for (i, t) in s.profile.iter().enumerate() {
        if cluster.is_some_and(|c| s.cluster[i] != c) {
            continue;
        }
        let score = dot(t, &p);
        if score > b1 {
            (i2, b2) = (i1, b1);
            (i1, b1) = (i, score);
        } else if score > b2 {
            (i2, b2) = (i, score);
        }
    }
    (i1, b1, i2, b2)
}

/// The place where `f` rises through the middle of its range (bright to dark, left to
/// right) nearest to `expected`, sub-pixel; the level is local, so glare does not move it.
fn rising_edge(f: &[f32], expected: f32) -> Option<f32> {
    let lo = f.iter().cloned().fold(f32::MAX, f32::min);
    let hi = f.iter().cloned().fold(f32::MIN, f32::max);
    let level = 0.5 * (lo + hi);
    f.windows(2)
        .enumerate()
        .filter(|(_, p)| p[0] < level && p[1] >= level)
        .map(|(i, p)| i as f32 + (level - p[0]) / (p[1] - p[0]))
        .min_by(|a, b| (a - expected).abs().total_cmp(&(b - expected).abs()))
}

/// Column profile of a rectified code's middle rows: the start and stop patterns are the same
/// in every row, so they stand out sharply while the data averages to grey.
fn column_profile(img: &GrayImage) -> Vec<f32> {
    let (w, h) = (img.width() as usize, img.height() as usize);
    (0..w)
        .map(|x| {
            (h / 5..h * 4 / 5)
                .map(|y| darkness(img, x as f32, y as f32))
                .sum::<f32>()
                / (h * 3 / 5).max(1) as f32
        })
        .collect()
}

/// Halfway between a profile's lightest and darkest values.
fn mid_level(col: &[f32]) -> f32 {
    let lo = col.iter().cloned().fold(f32::MAX, f32::min);
    let hi = col.iter().cloned().fold(f32::MIN, f32::max);
    0.5 * (lo + hi)
}

/// The start pattern's 8-module bar taken as the profile's first dark run: its left edge and
/// an eighth of its width, a first module estimate that blur inflates.
fn start_bar(col: &[f32], mid: f32) -> Option<(f32, f32)> {
    let first_dark = col.iter().position(|&v| v >= mid)?;
    let run = col[first_dark + 1..].iter().position(|&v| v < mid)? + 1;
    Some((first_dark as f32, run as f32 / 8.0))
}

/// The blur of a start pattern whose first bar's left edge is near `x`, with modules near
/// `m`: the σ, in twentieths of a module (6, i.e. 0.30 module, to [`MAX_BLUR_TWENTIETHS`];
/// exact at [`TOO_BLURRED`]), whose blurred pattern fits the column profile best, and that fit.
fn start_blur(col: &[f32], x: f32, m: f32) -> Option<(u32, f32)> {
    (6..=MAX_BLUR_TWENTIETHS)
        .filter_map(|k| {
            PatternTemplate::new(&START_PATTERN, true, k as f32 / 20.0)
                .fit(col, x - 2.0..x + 2.0, 0.97 * m..1.03 * m)
                .map(|f| (k, f.2))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
}

/// A PDF417 in a rectified crop that no reading decoded, when the crop shows one clearly
/// enough to say so, with its blur: the σ (in modules) whose blurred start pattern fits the
/// column profile best (0.30 to 1.50 modules), the blur the codeword templates meet. The
/// claim needs both patterns (start and, at the same blur, stop) to fit closely, 4 to 34
/// codewords apart, every row to show the same patterns, and a blur below the range's top
/// (which any dark blob fits): a licence front's text and borders fit a blurred bar, but not
/// all of this (none of 332 fronts was claimed, see `barcode_eval`).
fn unread_pdf417(img: &GrayImage) -> Option<UnreadPdf417> {
    let col = column_profile(img);
    let (_, m) = start_bar(&col, mid_level(&col))?;
    let w = img.width() as f32;
    let (x, m) = find_pattern(&col, &START_PATTERN, true, 0.0..0.3 * w, 0.55 * m..1.2 * m)?;
    let (twentieths, start) = start_blur(&col, x, m)?;
    let blur = twentieths as f32 / 20.0;
    let (stop_x, _, stop) = PatternTemplate::new(&STOP_PATTERN, false, blur).fit(
        &col,
        x + 68.0 * m..w,
        0.97 * m..1.03 * m,
    )?;
    let codewords = (stop_x - x) / (17.0 * m);
    // Median correlation of the rows with the column profile across a pattern.
    let rows_agree = |x0: f32| {
        let (a, b) = (
            x0.max(0.0) as usize,
            ((x0 + 17.0 * m) as usize).min(col.len()),
        );
        let h = img.height() as usize;
        let mut pattern = col.get(a..b)?.to_vec();
        normalise(&mut pattern);
        let mut agreement: Vec<f32> = (h / 5..h * 4 / 5)
            .step_by(2)
            .map(|y| {
                let mut row: Vec<f32> = (a..b).map(|x| darkness(img, x as f32, y as f32)).collect();
                normalise(&mut row);
                row.iter().zip(&pattern).map(|(p, q)| p * q).sum::<f32>()
            })
            .collect();
        agreement.sort_by(f32::total_cmp);
        agreement.get(agreement.len() / 2).copied()
    };
    (twentieths < MAX_BLUR_TWENTIETHS
        && start >= 0.96
        && stop >= 0.85
        && (4.0..=34.0).contains(&codewords)
        && rows_agree(x)? >= 0.9
        && rows_agree(stop_x)? >= 0.9)
        .then_some(UnreadPdf417 { blur })
}

/// The blur (σ in modules, as [`unread_pdf417`] measures it) from which a code is too blurred
/// to expect a reading. Over four seeds of `barcode_eval 500` (332 backs, 120 of them measured
/// because rxing did not read them first): 2 of 11 codes measured at 0.95 or more were read,
/// 103 of 109 below (12 of 12 at 0.70, 10 of 10 at 0.85–0.90). A Gaussian of σ = 0.95
/// modules leaves a one-module bar 40 % of its contrast, and JPEG and noise take more.
pub const TOO_BLURRED: f32 = 0.95;

/// Module widths of the start and stop patterns (bar first), and the white modules of quiet
/// zone matched with them (before the start pattern, after the stop pattern).
const START_PATTERN: [u8; 8] = [8, 1, 1, 1, 1, 1, 1, 3];
const STOP_PATTERN: [u8; 9] = [7, 1, 1, 3, 1, 1, 1, 2, 1];
const QUIET_MODULES: usize = 2;

/// A start or stop pattern blurred as the symbol templates are (σ in modules), quiet zone
/// included (before the pattern when `quiet_before`, else after it), sampled [`SPM`] times per
/// module, zero mean and unit norm.
struct PatternTemplate {
    samples: Vec<f32>,
    /// Quiet modules before the pattern's first bar.
    lead: f32,
}

impl PatternTemplate {
    fn new(widths: &[u8], quiet_before: bool, sigma: f32) -> Self {
        let lead = if quiet_before {
            QUIET_MODULES as f32
        } else {
            0.0
        };
        let n = (widths.iter().map(|&w| w as usize).sum::<usize>() + QUIET_MODULES) * SPM;
        let mut bars = Vec::new();
        let mut edge = lead;
        for (i, &w) in widths.iter().enumerate() {
            if i % 2 == 0 {
                bars.push((edge, edge + w as f32));
            }
            edge += w as f32;
        }
        let mut samples: Vec<f32> = (0..n)
            .map(|i| {
                let p = (i as f32 + 0.5) / SPM as f32;
                bars.iter()
                    .map(|&(a, b)| normal_cdf((b - p) / sigma) - normal_cdf((a - p) / sigma))
                    .sum()
            })
            .collect();
        normalise(&mut samples);
        PatternTemplate { samples, lead }
    }

    /// The first bar's left edge, the module width and their correlation with the profile,
    /// best over left edges in `xs` and modules in `ms` (whole pixels and 4 % module steps,
    /// then quarter pixels and 1 % steps around the best). Correlation ignores gain and
    /// offset, so a code in shade or under glare fits as well as a crisp one.
    fn fit(
        &self,
        col: &[f32],
        xs: std::ops::Range<f32>,
        ms: std::ops::Range<f32>,
    ) -> Option<(f32, f32, f32)> {
        if col.is_empty() || ms.start <= 0.0 {
            return None;
        }
        let at = |x: f32| {
            let i = x.floor();
            let get = |k: f32| col[(k.max(0.0) as usize).min(col.len() - 1)];
            get(i) + (get(i + 1.0) - get(i)) * (x - i)
        };
        let mut profile = vec![0f32; self.samples.len()];
        let mut score = |x: f32, m: f32| {
            let origin = x - self.lead * m;
            for (i, v) in profile.iter_mut().enumerate() {
                *v = at(origin + (i as f32 + 0.5) / SPM as f32 * m);
            }
            normalise(&mut profile);
            self.samples
                .iter()
                .zip(&profile)
                .map(|(a, b)| a * b)
                .sum::<f32>()
        };
        let mut best = (f32::MIN, xs.start, ms.start);
        let mut m = ms.start;
        while m < ms.end {
            let mut x = xs.start;
            while x < xs.end {
                let s = score(x, m);
                if s > best.0 {
                    best = (s, x, m);
                }
                x += 1.0;
            }
            m *= 1.04;
        }
        let (_, x0, m0) = best;
        for dm in -2..=2 {
            for dx in -4..=4 {
                let (x, m) = (x0 + 0.25 * dx as f32, m0 * (1.0 + 0.01 * dm as f32));
                let s = score(x, m);
                if s > best.0 {
                    best = (s, x, m);
                }
            }
        }
        Some((best.1, best.2, best.0))
    }
}

/// A start or stop pattern in a column profile at the templates' blur: its first bar's left
/// edge and the module width (see [`PatternTemplate::fit`]); None when nothing correlates
/// above 0.6.
fn find_pattern(
    col: &[f32],
    widths: &[u8],
    quiet_before: bool,
    xs: std::ops::Range<f32>,
    ms: std::ops::Range<f32>,
) -> Option<(f32, f32)> {
    let (x, m, score) =
        PatternTemplate::new(widths, quiet_before, TEMPLATE_SIGMA).fit(col, xs, ms)?;
    (score > 0.6).then_some((x, m))
}

/// Majority value of a list.
fn vote(values: impl Iterator<Item = u32>) -> Option<u32> {
    let mut counts = BTreeMap::<u32, usize>::new();
    for v in values {
        *counts.entry(v).or_default() += 1;
    }
    counts.into_iter().max_by_key(|&(_, n)| n).map(|(v, _)| v)
}

/// Row labels read from one row-indicator column: (scanline y, row, indicator value mod 30,
/// cluster).
type Labels = Vec<(f32, u32, u32, u8)>;

/// Whether a point (scanline y, row) lies on the line `row = a + b·y`, within half a row.
fn on_row_line((a, b): (f32, f32), (y, row): (f32, f32)) -> bool {
    (row - (a + b * y)).abs() < 0.5
}

/// The line `row = a + b·y` that most labels (scanline y, row) lie on, found by trying the
/// line through every pair of labels on different rows (RANSAC, exhaustively; cubic in the
/// labels, which are at most one per side every second scanline: a few hundred). None with
/// fewer than two rows read.
fn rows_line(pts: &[(f32, f32)]) -> Option<(f32, f32)> {
    let mut best: Option<((f32, f32), usize)> = None;
    for (i, p) in pts.iter().enumerate() {
        for q in &pts[i + 1..] {
            if q.1 == p.1 || q.0 == p.0 {
                continue;
            }
            let b = (q.1 - p.1) / (q.0 - p.0);
            // Rows run down the crop, at least 2 px apart.
            if !(0.0..=0.5).contains(&b) {
                continue;
            }
            let line = (p.1 - b * p.0, b);
            let count = pts.iter().filter(|&&r| on_row_line(line, r)).count();
            if best.is_none_or(|(_, n)| count > n) {
                best = Some((line, count));
            }
        }
    }
    best.map(|(line, _)| line)
}

/// How far the code's rows drop from `x0` to `x1` (pixels, within ±`max_drop`): the drop
/// along which the row boundaries (where the grey level changes down a column, as one row's
/// codewords give way to the next's) add up sharpest.
fn row_drop(img: &GrayImage, x0: f32, x1: f32, max_drop: f32) -> f32 {
    let (w, h) = img.dimensions();
    if h < 3 || x1 <= x0 + 1.0 {
        return 0.0;
    }
    let columns: Vec<(f32, Vec<f32>)> = (x0.max(0.0) as u32..(x1 as u32).min(w))
        .step_by(3)
        .map(|x| {
            let change = (0..h - 1)
                .map(|y| {
                    let (a, b) = (img.get_pixel(x, y).0[0], img.get_pixel(x, y + 1).0[0]);
                    a.abs_diff(b) as f32
                })
                .collect();
            ((x as f32 - x0) / (x1 - x0), change)
        })
        .collect();
    let mut profile = vec![0f32; h as usize];
    let sharpness = |d: f32, profile: &mut Vec<f32>| {
        profile.iter_mut().for_each(|p| *p = 0.0);
        for (t, change) in &columns {
            let shift = (d * t).round() as i64;
            for (y, v) in change.iter().enumerate() {
                let shifted = usize::try_from(y as i64 - shift).ok();
                if let Some(p) = shifted.and_then(|y| profile.get_mut(y)) {
                    *p += v;
                }
            }
        }
        profile.iter().map(|p| p * p).sum::<f32>()
    };
    let steps = max_drop.ceil() as i32;
    (-steps..=steps)
        .map(|d| {
            let d = d as f32;
            (d, sharpness(d, &mut profile))
        })
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .map_or(0.0, |(d, _)| d)
}

/// The code's columns along a row: `c` data columns, and where module positions fall between
/// the start bar's left edge and the stop bar's left edge. A crop rectified from a slightly
/// wrong outline (a trapezoid where the code is a parallelogram: glare ate the top or bottom
/// edge near one end) keeps a 1-D perspective along the rows, so its modules grow steadily
/// from one end to the other and the codeword boundaries bow away from an even grid (by 1.5
/// modules mid-code on backs that were not read). `bow` is that perspective: 0 is even.
#[derive(Clone, Copy, Debug)]
struct Columns {
    c: u32,
    bow: f32,
}

impl Columns {
    /// Largest `bow` searched: boundaries up to about 2 % of the code's width (5 modules)
    /// from an even grid mid-code.
    const MAX_BOW: f32 = 0.08;

    /// Modules from the start bar's left edge to the stop bar's.
    fn modules(&self) -> f32 {
        17.0 * (self.c + 3) as f32
    }

    /// Position of module `p` (counted from the start bar's left edge) on a row whose start
    /// and stop bars begin at `l` and `r`.
    fn x(&self, l: f32, r: f32, p: f32) -> f32 {
        let t = p / self.modules();
        l + (r - l) * t * (1.0 + self.bow) / (1.0 + self.bow * t)
    }

    /// Left edge and module width of the codeword starting at module `p`.
    fn codeword(&self, l: f32, r: f32, p: f32) -> (f32, f32) {
        let x0 = self.x(l, r, p);
        (x0, (self.x(l, r, p + 17.0) - x0) / 17.0)
    }
}

/// Soft-decision PDF417 reader for a rectified crop (bars vertical, start pattern on the left).
///
/// rxing reads bar widths from a binarised image; with modules of 1–1.5 px in the photo, blur
/// and JPEG, too many of its run lengths are off by a module and the few error-correction
/// codewords of a licence code cannot absorb them. Here every codeword is instead the symbol
/// whose blurred grey profile correlates best with the samples (over the row's own cluster),
/// the rows are found from the row indicators, and the geometry is measured per row from the
/// start and stop bars. Reed–Solomon then corrects what remains, so a wrong symbol still
/// cannot produce a wrong text unless it passes the checksum.
///
/// The symbol templates are blurred by [`TEMPLATE_SIGMA`], or, with `match_blur`, by a little
/// less than the start pattern's measured blur when that is more.
fn soft_read(img: &GrayImage, match_blur: bool) -> Option<String> {
    let (w, h) = img.dimensions();
    if w < 100 || h < 20 {
        return None;
    }
    let (wu, hu) = (w as usize, h as usize);
    let col = column_profile(img);
    let mid = mid_level(&col);
    let (x_start, m1) = start_bar(&col, mid)?;
    // The stop pattern's 7-module bar: the last long dark run.
    let mut x_stop = None;
    let mut run_end = None;
    for x in (0..wu).rev() {
        if col[x] >= mid {
            run_end.get_or_insert(x);
        } else if let Some(e) = run_end.take() {
            if (e - x) as f32 >= 4.5 * m1 {
                x_stop = Some(x as f32 + 1.0);
                break;
            }
        }
    }
    // The patterns fitted whole: blur widens the start bar, so its width overestimates the
    // module (5.1 against 4.0 px at about a pixel of blur per module), and in shade or under
    // glare the stop bar can stay below the profile's global mid level (one back's "stop" was
    // found 15 modules inside the data). The run-based edges stay unless the fits move them
    // by more than two modules.
    let (x_start, m1) = match find_pattern(
        &col,
        &START_PATTERN,
        true,
        0.0..0.3 * w as f32,
        0.55 * m1..1.2 * m1,
    ) {
        Some((x, m)) if (x - x_start).abs() > 2.0 * m => (x, m),
        Some((_, m)) => (x_start, m),
        None => (x_start, m1),
    };
    // A tenth of a module less than measured: the sharpest crops measure about the least
    // blur plus that. Templates no more blurred than the usual ones would only repeat the
    // read that already failed, so that try ends here, before the geometry.
    let twentieths = if match_blur {
        let (measured, _) = start_blur(&col, x_start, m1)?;
        measured.saturating_sub(2).max(TEMPLATE_TWENTIETHS)
    } else {
        TEMPLATE_TWENTIETHS
    };
    if match_blur && twentieths == TEMPLATE_TWENTIETHS {
        return None;
    }
    let stop_xs = (x_start + 17.0 * m1).max(0.7 * w as f32)..w as f32;
    let x_stop = match (
        find_pattern(&col, &STOP_PATTERN, false, stop_xs, 0.8 * m1..1.25 * m1),
        x_stop,
    ) {
        (Some((x, _)), Some(runs)) if (x - runs).abs() <= 2.0 * m1 => runs,
        (Some((x, _)), _) => x,
        (None, runs) => runs?,
    };
    // Columns: the one whose codeword boundaries (bar after space, every 17 modules) are
    // sharpest in the column profile.
    let at = |x: f32| col[(x.round().max(0.0) as usize).min(wu - 1)];
    // A column count with the bow that makes its codeword boundaries sharpest, and that
    // sharpness (an even grid unless a bow is clearly sharper).
    let bowed = |c: u32| -> (Columns, f32) {
        let steps = (Columns::MAX_BOW / 0.005).round() as i32;
        (-steps..=steps)
            .map(|i| {
                let cols = Columns {
                    c,
                    bow: i as f32 * 0.005,
                };
                let score = (1..=c + 2)
                    .map(|k| {
                        let (xb, mk) = cols.codeword(x_start, x_stop, 17.0 * k as f32);
                        at(xb + 0.5 * mk) - at(xb - 0.5 * mk)
                    })
                    .sum::<f32>()
                    / (c + 2) as f32;
                (cols, score - 0.02 * i.abs() as f32)
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .unwrap_or((Columns { c, bow: 0.0 }, f32::MIN))
    };
    // The start bar's width bounds the module; blur makes the edges too weak to choose among
    // all counts alone.
    let (mut cols, _) = (1..=30u32)
        .filter(|&c| ((x_stop - x_start) / (17.0 * (c + 3) as f32) / m1 - 1.0).abs() <= 0.25)
        .map(bowed)
        .max_by(|a, b| a.1.total_cmp(&b.1))?;
    // Per scanline: edges of the start and stop bars near the global ones, then the two row
    // indicators, whose symbols give the row number (value / 30 and the cluster).
    let scan = |y: f32, x0: f32, x1: f32| -> Vec<f32> {
        (x0.max(0.0) as usize..(x1 as usize).min(wu))
            .map(|x| {
                (darkness(img, x as f32, y - 1.0)
                    + darkness(img, x as f32, y)
                    + darkness(img, x as f32, y + 1.0))
                    / 3.0
            })
            .collect()
    };
    // Left edges of the start bar and of the stop bar on the line from (xs, ys) to (xe, ye).
    let edges_at = |(xs, ys): (f32, f32), (xe, ye): (f32, f32), m: f32| -> (f32, f32) {
        let win = 1.5 * m;
        let edge = |x: f32, y: f32| {
            let x0 = (x - win).max(0.0).floor();
            rising_edge(&scan(y, x0, x + win), x - x0).map_or(x, |e| x0 + e)
        };
        (edge(xs, ys), edge(xe, ye))
    };
    let profile_at = |x0: f32, m: f32, y: f32| -> [f32; CW_SAMPLES] {
        std::array::from_fn(|s| darkness(img, x0 + (s as f32 + 0.5) / SPM as f32 * m, y))
    };
    let s = symbols(twentieths);
    let (mut left, mut right): (Labels, Labels) = (Vec::new(), Vec::new());
    let m0 = (x_stop - x_start) / cols.modules();
    for y in (1..hu - 1).step_by(2) {
        let y = y as f32;
        let (l, r) = edges_at((x_start, y), (x_stop, y), m0);
        if ((r - l) / cols.modules() / m0 - 1.0).abs() > 0.05 {
            continue;
        }
        let indicators = [17.0, 17.0 * (cols.c + 2) as f32].map(|p| cols.codeword(l, r, p));
        for ((x0, m), labels) in indicators.into_iter().zip([&mut left, &mut right]) {
            let (i, score, i2, score2) = best_symbol(s, &profile_at(x0, m, y), None);
            if score > 0.75 && (score - score2 > 0.05 || s.value[i] == s.value[i2]) {
                let v = s.value[i] as u32;
                labels.push((y, 3 * (v / 30) + s.cluster[i] as u32, v % 30, s.cluster[i]));
            }
        }
    }
    // A misread indicator codeword gives a wrong row number and a wrong metadata value
    // together, so only the labels whose row number fits their scanline vote.
    let pts: Vec<(f32, f32)> = left
        .iter()
        .chain(&right)
        .map(|l| (l.0, l.1 as f32))
        .collect();
    if let Some(line) = rows_line(&pts) {
        left.retain(|l| on_row_line(line, (l.0, l.1 as f32)));
        right.retain(|l| on_row_line(line, (l.0, l.1 as f32)));
    }
    // Symbol metadata, voted over every label of both indicators (left: rows, EC/rows,
    // columns by cluster; right: columns, rows, EC/rows).
    fn field_all(side: &Labels, cl: u8) -> impl Iterator<Item = u32> + '_ {
        side.iter().filter(move |l| l.3 == cl).map(|l| l.2)
    }
    let rows_div3 = vote(field_all(&left, 0).chain(field_all(&right, 1)))?;
    let ec_rows = vote(field_all(&left, 1).chain(field_all(&right, 2)))?;
    // The indicators' column count overrides the geometric one only when well supported.
    let col_votes: Vec<u32> = field_all(&left, 2).chain(field_all(&right, 0)).collect();
    if let Some(ci) = vote(col_votes.iter().copied()) {
        if col_votes.iter().filter(|&&v| v == ci).count() >= 3 && ci + 1 != cols.c {
            cols = bowed(ci + 1).0;
        }
    }
    let c = cols.c;
    let rows = 3 * rows_div3 + ec_rows % 3 + 1;
    let ec_level = ec_rows / 3;
    if !(3..=90).contains(&rows) || ec_level > 8 || c > 30 {
        return None;
    }
    // Row centre lines: median labelled scanline at each side, else a line fitted over rows.
    let centres = |side: &Labels| -> Vec<Option<f32>> {
        (0..rows)
            .map(|row| {
                let mut ys: Vec<f32> = side.iter().filter(|l| l.1 == row).map(|l| l.0).collect();
                ys.sort_by(f32::total_cmp);
                (!ys.is_empty()).then(|| ys[ys.len() / 2])
            })
            .collect()
    };
    // A side's row lines and pitch.
    let fill = |cs: Vec<Option<f32>>| -> Option<(Vec<f32>, f32)> {
        let pts: Vec<(f32, f32)> = cs
            .iter()
            .enumerate()
            .filter_map(|(i, y)| y.map(|y| (i as f32, y)))
            .collect();
        let (a, b) = fit_line(&pts)?;
        let lines = cs
            .iter()
            .enumerate()
            .map(|(i, y)| {
                let fit = a + b * i as f32;
                y.filter(|y| (y - fit).abs() < ROW_LABEL_TOLERANCE * b.abs())
                    .unwrap_or(fit)
            })
            .collect();
        Some((lines, b))
    };
    // The crop is rectified, so both sides' row pitches agree, and the rows span most of the
    // crop's height; when the pitches disagree, one side's labels were misread and the side
    // whose rows span the crop more closely is used for both.
    let span_misfit = |side: &(Vec<f32>, f32)| (side.1.abs() * rows as f32 / h as f32).ln().abs();
    // With one side's rows only, the other side's are the same lines dropped as the data's
    // row boundaries run (a crop's rows can slope by a row from end to end when its outline
    // was off, and three backs whose right indicators glare had washed out were misread on
    // level lines).
    let drop = |pitch: f32| row_drop(img, x_start, x_stop, 2.0 * pitch.abs());
    let (yl, yr) = match (fill(centres(&left)), fill(centres(&right))) {
        (Some(l), Some(r)) if (l.1 / r.1 - 1.0).abs() < 0.25 => (l.0, r.0),
        (Some(l), Some(r)) if span_misfit(&r) < span_misfit(&l) => {
            let d = drop(r.1);
            (r.0.iter().map(|y| y - d).collect(), r.0)
        }
        (Some(l), _) => {
            let d = drop(l.1);
            (l.0.clone(), l.0.iter().map(|y| y + d).collect())
        }
        (None, Some(r)) => {
            let d = drop(r.1);
            (r.0.iter().map(|y| y - d).collect(), r.0)
        }
        // Too few rows on either side alone: both sides' labels together.
        (None, None) => {
            let both: Labels = left.iter().chain(&right).copied().collect();
            let (lines, _) = fill(centres(&both))?;
            (lines.clone(), lines)
        }
    };
    let row_h = ((yl[rows as usize - 1] - yl[0]) / (rows - 1) as f32).abs();
    let m0 = (x_stop - x_start) / (17.0 * (c + 3) as f32);
    // Data codewords: each row sampled along its own centre line, averaged over three lines
    // within the row, with a small search over the horizontal offset (tracked along the row)
    // and over the given vertical offsets (fractions of a row), which are taken around a
    // centre that follows the best offset along the row when `follow` is set (a row line
    // that drifts off its row, e.g. with only one side's indicators read). The row's cluster
    // keeps a neighbouring row's symbols out of the search.
    let read_codewords = |vertical: &[f32], follow: bool| {
        let n = (rows * c) as usize;
        let mut codewords = vec![0u32; n];
        let mut doubts: Vec<(f32, usize, u32)> = Vec::with_capacity(n);
        let shifts = SPM as i32 / 2;
        for row in 0..rows as usize {
            let (ya, yb) = (yl[row], yr[row]);
            let line = |x: f32| ya + (yb - ya) * (x - x_start) / (x_stop - x_start);
            let (l, r) = edges_at((x_start, line(x_start)), (x_stop, line(x_stop)), m0);
            let cluster = (row % 3) as u8;
            let mut drift = 0i32;
            let mut centre = 0f32;
            for col_i in 0..c as usize {
                let (x0, m) = cols.codeword(l, r, 17.0 * (col_i + 2) as f32);
                let mut best = ((0, f32::MIN, 0, f32::MIN), 0i32, centre);
                for dv in vertical.iter().map(|dv| centre + dv) {
                    let mut wide = [0f32; CW_SAMPLES + 4 * SPM];
                    for (s, v) in wide.iter_mut().enumerate() {
                        let x = x0 + ((s as f32 + 0.5) / SPM as f32 - 2.0) * m;
                        *v = [-0.2f32, 0.0, 0.2]
                            .iter()
                            .map(|f| darkness(img, x, line(x) + (dv + f) * row_h))
                            .sum::<f32>();
                    }
                    for o in drift - shifts..=drift + shifts {
                        let off = (2 * SPM as i32 + o).clamp(0, 4 * SPM as i32) as usize;
                        let window: [f32; CW_SAMPLES] = std::array::from_fn(|i| wide[off + i]);
                        let found = best_symbol(s, &window, Some(cluster));
                        if found.1 > best.0 .1 {
                            best = (found, o, dv);
                        }
                    }
                }
                let ((i1, b1, i2, b2), o, dv) = best;
                drift = o.clamp(-2 * SPM as i32, 2 * SPM as i32);
                if follow {
                    // Half-way towards the best offset: one stray codeword cannot pull the
                    // line into the next row (whose other cluster would then fit worse).
                    centre = (0.5 * (centre + dv)).clamp(-1.0, 1.0);
                }
                let idx = row * c as usize + col_i;
                codewords[idx] = s.value[i1] as u32;
                doubts.push((b1 - b2, idx, s.value[i2] as u32));
            }
        }
        (codewords, doubts)
    };
    let num_ec = 2usize << ec_level;
    let attempt = |cw: &[u32], erasures: &[usize]| -> Option<String> {
        let mut cw = cw.to_vec();
        pdf417_ec::correct(&mut cw, num_ec, erasures, MAX_FALSE_ACCEPT)?;
        if cw[0] == 0 || cw[0] as usize > cw.len() {
            return None;
        }
        rxing::pdf417::decoder::decoded_bit_stream_parser::decode(&cw, &ec_level.to_string())
            .ok()
            .map(|r| r.getText().to_string())
    };
    // Generalised minimum-distance decoding: erase the 0, 2, 4, … first codewords of
    // `doubtful_first`, so that a wrong symbol the reader doubted costs one check codeword
    // instead of two.
    let gmd = |codewords: &[u32], doubtful_first: &[usize]| {
        (0..=num_ec.min(doubtful_first.len()))
            .step_by(2)
            .find_map(|erased| attempt(codewords, &doubtful_first[..erased]))
    };
    // On the centre lines first; then, when the rows' lines are a little off (a bent or
    // unevenly scaled code), also a third of a row above and below; then following the best
    // of those along each row.
    for (vertical, follow) in [
        (&[0.0][..], false),
        (&[-0.3, 0.0, 0.3], false),
        (&[-0.2, 0.0, 0.2], true),
    ] {
        let (codewords, mut doubts) = read_codewords(vertical, follow);
        doubts.sort_by(|a, b| a.0.total_cmp(&b.0));
        let order: Vec<usize> = doubts.iter().map(|d| d.1).collect();
        if let Some(t) = gmd(&codewords, &order) {
            return Some(t);
        }
        // Beyond the code's correction capacity: swap in the runner-up of the least certain
        // codewords, one at a time.
        for &(_, idx, alt) in doubts.iter().take(12) {
            let mut cw = codewords.clone();
            cw[idx] = alt;
            if let Some(t) = attempt(&cw, &[]) {
                return Some(t);
            }
        }
    }
    None
}

/// How far (in rows) a row's median labelled scanline may lie from the line fitted over all
/// rows and still be used as the row's centre. The rectified rows are straight and evenly
/// spaced, so a median further off comes from a few misplaced labels (0.5 before: 270 backs
/// of 332 over four seeds; 0.2: 272).
const ROW_LABEL_TOLERANCE: f32 = 0.2;

/// Highest odds, per decoding attempt, that the soft reader's error correction would also
/// accept a random word (see `pdf417_ec::correct`): a garbled read is refused rather than
/// "corrected" into another valid code, however many erasures are tried.
const MAX_FALSE_ACCEPT: f64 = 1e-6;

/// Width in pixels the rectified code is resampled to: about 5 px per module for a typical
/// licence code (≈ 200–250 modules wide), enough for the run-length sampler after upscaling.
const RECTIFIED_WIDTH: f32 = 1300.0;

/// Decode PDF417 and QR codes. Tries the image as is; then locates the bars, rectifies them
/// (measured angle, then the fitted outline for perspective) at a decodable scale, and tries
/// rxing on the rectified and outlined crops, then our codeword reader (`soft_read`) on the
/// outlined crop and on a copy with the light evened out, then rxing on a sharpened crop:
/// cheapest first, stopping at the first payload that is acceptable. A located code that no
/// try reads is [`Scan::Unread`] with its measured blur when its start pattern is found.
pub fn decode(gray: &GrayImage) -> Scan {
    let found = |f: BarcodeFormat, d: String, v: &str| {
        acceptable(f, &d).then(|| Barcode {
            format: format!("{f:?}"),
            data: d,
            variant: v.into(),
        })
    };
    let pdf417 = |img: &GrayImage, name: &str| {
        try_decode(img, &[BarcodeFormat::PDF_417]).and_then(|(f, d)| found(f, d, name))
    };
    if let Some(b) = try_decode(gray, &[BarcodeFormat::PDF_417, BarcodeFormat::QR_CODE])
        .and_then(|(f, d)| found(f, d, "as-is"))
    {
        return Scan::Read(b);
    }
    let Some((quad, _)) = locate(gray) else {
        return Scan::NotFound;
    };
    let len = dist(quad[0], quad[1]);
    let k = (RECTIFIED_WIDTH / len).clamp(1.0, 4.0);
    let (w, h) = ((len * k) as u32, (dist(quad[0], quad[3]) * k) as u32);
    let Some(coarse_p) = projection(&quad, w, h) else {
        return Scan::NotFound;
    };
    let coarse = warp(gray, &coarse_p, w, h);
    if let Some(b) = pdf417(&coarse, "rectified") {
        return Scan::Read(b);
    }
    let unread = |crop: &GrayImage| unread_pdf417(crop).map_or(Scan::NotFound, Scan::Unread);
    let fine = outline(&flatten_lighting(&coarse)).and_then(|q| {
        let back = coarse_p.invert();
        let q = q.map(|p| back * p);
        let (w, h) = ((dist(q[0], q[1]) * k) as u32, (dist(q[0], q[3]) * k) as u32);
        (w > 0 && h > 0)
            .then(|| projection(&q, w, h))
            .flatten()
            .map(|p| warp(gray, &p, w, h))
    });
    let Some(fine) = fine else {
        return unread(&coarse);
    };
    if let Some(b) = pdf417(&fine, "outlined") {
        return Scan::Read(b);
    }
    if let Some(b) = soft_read(&fine, false).and_then(|t| found(BarcodeFormat::PDF_417, t, "soft"))
    {
        return Scan::Read(b);
    }
    let even = flatten_lighting(&fine);
    if let Some(b) =
        soft_read(&even, false).and_then(|t| found(BarcodeFormat::PDF_417, t, "soft-evened"))
    {
        return Scan::Read(b);
    }
    // Templates as blurred as the code, for a code blurred more than most (with the least
    // blur only: 300 of 332 backs over four seeds; with this second try: 303).
    if let Some(b) =
        soft_read(&fine, true).and_then(|t| found(BarcodeFormat::PDF_417, t, "soft-blurred"))
    {
        return Scan::Read(b);
    }
    match pdf417(&sharpen(&fine, k.max(1.5), 1.5), "outlined-sharpened") {
        Some(b) => Scan::Read(b),
        None => unread(&fine),
    }
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
        // Bytes, not chars: a misread may put a multi-byte character in the first three.
        if el.len() >= 3 && el.as_bytes()[..3].iter().all(u8::is_ascii_uppercase) {
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
    use image::imageops;

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
        // A multi-byte character where an element ID is expected must not panic.
        assert!(parse_aamva(&payload.replacen("DBC", "DBàC", 1)).is_some());
    }

    #[test]
    fn pdf417_round_trip_through_rxing() {
        let payload =
            crate::synth::aamva_payload("636014", &[("DAQ", "X7".into()), ("DCS", "ROE".into())]);
        let m = crate::synth::licence_barcode_matrix(&payload);
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
        let code = decode(&img);
        assert_eq!(code.read().map(|c| c.data.as_str()), Some(payload.as_str()));
        assert_eq!(
            parse_aamva(&payload).unwrap().last_name.as_deref(),
            Some("ROE")
        );
    }

    /// A licence-sized payload (13 columns like the corpus' codes).
    fn licence_payload() -> String {
        crate::synth::aamva_payload(
            "636014",
            &[
                ("DAQ", "D1234567".into()),
                ("DCS", "OKONKWO".into()),
                ("DAC", "CHINEDU".into()),
                ("DBB", "07041985".into()),
                ("DBA", "07042030".into()),
                ("DBD", "07042020".into()),
                ("DBC", "1".into()),
                ("DAG", "1234 MAPLE ST".into()),
                ("DAI", "SPRINGFIELD".into()),
                ("DAJ", "CA".into()),
                ("DAK", "945010000".into()),
                ("DCF", "8273645510".into()),
                ("DCG", "USA".into()),
            ],
        )
    }

    /// The encoder's matrix (with its quiet zone) at `s` px per module, rows 3 modules high.
    fn pdf417_image(payload: &str, s: u32) -> GrayImage {
        let m = crate::synth::licence_barcode_matrix(payload);
        // The matrix repeats each row 4 times; keep 3 modules of height per row.
        let (sx, sy) = (s as f32, s as f32 * 3.0 / 4.0);
        let (w, h) = (m.width() as f32 * sx, m.height() as f32 * sy);
        GrayImage::from_fn(w as u32, h as u32, |x, y| {
            let (mx, my) = ((x as f32 / sx) as u32, (y as f32 / sy) as u32);
            Luma([if m.get(mx.min(m.width() - 1), my.min(m.height() - 1)) {
                0
            } else {
                255
            }])
        })
    }

    #[test]
    fn locate_measures_the_rotation() {
        let img = pdf417_image(&licence_payload(), 3);
        for deg in [-8.0f32, 0.0, 3.5, 9.0] {
            let r = imageproc::geometric_transformations::rotate_about_center(
                &img,
                deg.to_radians(),
                Interpolation::Bilinear,
                Luma([255]),
            );
            let (_, a) = locate(&r).unwrap();
            assert!(
                (a.to_degrees() - deg).abs() < 0.5,
                "rotated {deg}°, measured {}°",
                a.to_degrees()
            );
        }
    }

    /// [`pdf417_image`] at `s` px per module downscaled by half: modules of `s`/2 px, their
    /// edges greyed as a camera sees them.
    fn halved_pdf417_image(payload: &str, s: u32) -> GrayImage {
        let big = pdf417_image(payload, s);
        imageops::resize(
            &big,
            big.width() / 2,
            big.height() / 2,
            imageops::FilterType::Triangle,
        )
    }

    /// Where the code's bars start and end in `pdf417_image(payload, s)`, in pixels.
    fn bars_extent(payload: &str, s: u32) -> (f32, f32) {
        let m = crate::synth::licence_barcode_matrix(payload);
        let dark = |x: u32| (0..m.height()).any(|y| m.get(x, y));
        let first = (0..m.width()).find(|&x| dark(x)).unwrap();
        let last = (0..m.width()).rev().find(|&x| dark(x)).unwrap();
        ((first * s) as f32, ((last + 1) * s) as f32)
    }

    /// `code` at (100, 60) on a white card at (70, 40) over a grey background.
    fn on_card(code: &GrayImage) -> GrayImage {
        let mut photo = GrayImage::from_pixel(code.width() + 200, code.height() + 120, Luma([150]));
        imageops::replace(
            &mut photo,
            &GrayImage::from_pixel(code.width() + 60, code.height() + 40, Luma([255])),
            70,
            40,
        );
        imageops::replace(&mut photo, code, 100, 60);
        photo
    }

    #[test]
    fn locate_spans_a_small_blurred_code_to_its_patterns() {
        // Modules of 1 px blurred by σ = 1.1 px: the data's edges run every way, and the
        // strongest block of parallel edges is a part of the code only.
        let payload = licence_payload();
        let code = halved_pdf417_image(&payload, 2);
        let (x0, x1) = bars_extent(&payload, 1);
        let photo = imageproc::filter::gaussian_blur_f32(&on_card(&code), 1.1);
        let (quad, _) = locate(&photo).unwrap();
        let (left, right) = (quad[0].0.min(quad[3].0), quad[1].0.max(quad[2].0));
        assert!(
            left <= 100.0 + x0 && right >= 100.0 + x1,
            "bars at {}..{}, located {left}..{right}",
            100.0 + x0,
            100.0 + x1
        );
    }

    #[test]
    fn start_and_stop_patterns_are_found_in_shade_and_glare() {
        let payload = licence_payload();
        let s = 4;
        let img = imageproc::filter::gaussian_blur_f32(&pdf417_image(&payload, s), 3.0);
        let (x0, x1) = bars_extent(&payload, s);
        let stop = x1 - 18.0 * s as f32;
        let (w, h) = img.dimensions();
        // Darkness as `soft_read` profiles it, with the right half under glare (a third of
        // the contrast) and the left in shade (an offset).
        let col: Vec<f32> = (0..w)
            .map(|x| {
                let d = (h / 5..h * 4 / 5)
                    .map(|y| darkness(&img, x as f32, y as f32))
                    .sum::<f32>()
                    / (h * 3 / 5) as f32;
                if x > w / 2 {
                    d / 3.0
                } else {
                    60.0 + 0.7 * d
                }
            })
            .collect();
        let m = s as f32;
        let (x, found_m) = find_pattern(
            &col,
            &START_PATTERN,
            true,
            0.0..0.3 * w as f32,
            0.6 * m..1.3 * m,
        )
        .unwrap();
        assert!(
            (x - x0).abs() < 0.5 && (found_m / m - 1.0).abs() < 0.03,
            "start {x} {found_m}, truth {x0} {m}"
        );
        let (x, found_m) = find_pattern(
            &col,
            &STOP_PATTERN,
            false,
            0.7 * w as f32..w as f32,
            0.8 * m..1.25 * m,
        )
        .unwrap();
        assert!(
            (x - stop).abs() < 0.5 && (found_m / m - 1.0).abs() < 0.03,
            "stop {x} {found_m}, truth {stop} {m}"
        );
    }

    #[test]
    fn fit_line_ignores_outliers() {
        let mut pts: Vec<(f32, f32)> = (0..20).map(|x| (x as f32, 2.0 + 0.5 * x as f32)).collect();
        pts[3].1 += 30.0;
        pts[11].1 -= 25.0;
        let (a, b) = fit_line(&pts).unwrap();
        assert!((a - 2.0).abs() < 1e-3 && (b - 0.5).abs() < 1e-4, "{a} {b}");
        assert!(fit_line(&pts[..2]).is_none());
        // Three of eight band ends together at one place and five at another (the stop
        // pattern's thin bars lost under glare in the lower bands): the five set the line.
        let ends: Vec<(f32, f32)> = (0..8)
            .map(|i| (90.0 + 26.0 * i as f32, if i < 3 { 1237.5 } else { 1192.0 }))
            .collect();
        let (a, b) = fit_line(&ends).unwrap();
        assert!((a - 1192.0).abs() < 0.1 && b.abs() < 1e-3, "{a} {b}");
    }

    #[test]
    fn row_labels_off_their_line_are_found() {
        // Two labels per scanline, every second line, rows 15 px tall from y = 10; a third of
        // the labels misread as random rows (a misread indicator codeword).
        let mut pts = Vec::new();
        for (k, y) in (10..265).step_by(2).enumerate() {
            let row = ((y - 10) / 15) as f32;
            pts.push((y as f32, row));
            pts.push((y as f32, if k % 3 == 0 { (k * 7 % 29) as f32 } else { row }));
        }
        let line = rows_line(&pts).unwrap();
        assert!((line.1 - 1.0 / 15.0).abs() < 0.01, "{line:?}");
        for &(y, row) in &pts {
            let truth = ((y as i32 - 10) / 15) as f32;
            assert_eq!(on_row_line(line, (y, row)), row == truth, "y {y} row {row}");
        }
        assert!(rows_line(&[(10.0, 0.0), (12.0, 0.0)]).is_none());
    }

    #[test]
    fn symbol_templates_hold_each_value_once_per_cluster() {
        let s = symbols(TEMPLATE_TWENTIETHS);
        for c in 0..3u8 {
            let mut values: Vec<u16> = (0..s.value.len())
                .filter(|&i| s.cluster[i] == c)
                .map(|i| s.value[i])
                .collect();
            assert_eq!(values.len(), 929);
            values.sort_unstable();
            values.dedup();
            assert_eq!(values.len(), 929);
        }
    }

    #[test]
    fn soft_reader_reads_a_blurred_small_module_code() {
        // Modules of 1.5 px blurred by σ = 1 px, as in the corpus' small, soft photos; then
        // upscaled like a rectified crop.
        let payload = licence_payload();
        let up = soft_upscaled_code(&payload);
        assert_eq!(soft_read(&up, false).as_deref(), Some(payload.as_str()));
        // The same under glare that takes two thirds of the contrast from the stop pattern's
        // side, which keeps the stop bar below the profile's global mid level.
        let w = up.width();
        let glared = GrayImage::from_fn(w, up.height(), |x, y| {
            let g = up.get_pixel(x, y).0[0];
            Luma([if x > w * 3 / 4 {
                255 - (255 - g) / 3
            } else {
                g
            }])
        });
        assert_eq!(soft_read(&glared, false).as_deref(), Some(payload.as_str()));
    }

    /// The blurred, upscaled code of [`soft_reader_reads_a_blurred_small_module_code`].
    fn soft_upscaled_code(payload: &str) -> GrayImage {
        let small = halved_pdf417_image(payload, 3);
        let soft = imageproc::filter::gaussian_blur_f32(&small, 1.0);
        imageops::resize(
            &soft,
            soft.width() * 3,
            soft.height() * 3,
            imageops::FilterType::CatmullRom,
        )
    }

    #[test]
    fn soft_reader_follows_modules_that_grow_along_the_code() {
        // A 1-D perspective along the rows, ends fixed: modules 7 % wider at the stop pattern
        // than at the start, the boundaries two modules off an even grid mid-code.
        let payload = licence_payload();
        let code = soft_upscaled_code(&payload);
        let (w, bow) = (code.width() as f32, -0.07f32);
        // Inverse of x' = w·t(1 + bow)/(1 + bow·t), t = x/w.
        let bowed = GrayImage::from_fn(code.width(), code.height(), |x, y| {
            let t = x as f32 / w;
            let src = w * t / (1.0 + bow - bow * t);
            Luma([255 - darkness(&code, src, y as f32) as u8])
        });
        assert_eq!(soft_read(&bowed, false).as_deref(), Some(payload.as_str()));
    }

    #[test]
    fn row_drop_measures_the_slope_of_the_rows() {
        let payload = licence_payload();
        let code = pdf417_image(&payload, 3);
        let (x0, x1) = bars_extent(&payload, 3);
        // The stop bar starts 18 modules before the code's end.
        let stop = x1 - 18.0 * 3.0;
        for drop in [-14.0f32, 0.0, 9.0] {
            let sheared = GrayImage::from_fn(code.width(), code.height() + 40, |x, y| {
                let shift = drop * (x as f32 - x0) / (stop - x0);
                Luma([255 - darkness(&code, x as f32, y as f32 - 20.0 - shift) as u8])
            });
            let found = row_drop(&sheared, x0, stop, 30.0);
            assert!(
                (found - drop).abs() <= 1.0,
                "dropped {drop}, measured {found}"
            );
        }
    }

    #[test]
    fn a_code_too_blurred_to_read_is_reported_with_its_blur() {
        // Modules of 2 px blurred by σ = 2.4 px (1.2 modules), with noise and JPEG at quality
        // 30, as the corpus' softest photos.
        let code = pdf417_image(&licence_payload(), 2);
        let photo = on_card(&code);
        let mut blurred = imageproc::filter::gaussian_blur_f32(&photo, 2.4);
        let mut state = 0x2545_f491_u32;
        for p in blurred.pixels_mut() {
            state = state.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            let noise = (state >> 24) as i32 / 16 - 8;
            p.0[0] = (p.0[0] as i32 + noise).clamp(0, 255) as u8;
        }
        let mut jpeg = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut jpeg, 30)
            .encode_image(&blurred)
            .unwrap();
        let blurred = image::load_from_memory(&jpeg).unwrap().to_luma8();
        match decode(&blurred) {
            Scan::Unread(u) => assert!(
                u.too_blurred() && (1.0..=1.4).contains(&u.blur),
                "measured blur {}",
                u.blur
            ),
            other => panic!("expected an unread code, got {other:?}"),
        }
        // The same code less blurred (σ = 0.3 module) is read, and its background alone holds
        // no code.
        let sharp = imageproc::filter::gaussian_blur_f32(&photo, 0.6);
        assert!(matches!(decode(&sharp), Scan::Read(_)));
        let empty = GrayImage::from_fn(photo.width(), photo.height(), |x, y| {
            Luma([if (x / 40 + y / 30) % 2 == 0 { 150 } else { 255 }])
        });
        assert_eq!(decode(&empty), Scan::NotFound);
    }

    #[test]
    fn decode_reads_a_rotated_code_seen_in_perspective() {
        let payload = licence_payload();
        let img = pdf417_image(&payload, 2);
        let (w, h) = (img.width() as f32, img.height() as f32);
        let a = 7f32.to_radians();
        let rot = |x: f32, y: f32| {
            (
                x * a.cos() - y * a.sin() + 80.0,
                x * a.sin() + y * a.cos() + 30.0,
            )
        };
        // Keystone: the right side 6 % shorter than the left.
        let to = [
            rot(0.0, 0.0),
            rot(w, 0.03 * h),
            rot(w, 0.97 * h),
            rot(0.0, h),
        ];
        let p =
            Projection::from_control_points([(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)], to).unwrap();
        let mut photo = GrayImage::from_pixel(w as u32 + 160, h as u32 + 160, Luma([200]));
        warp_into(&img, &p, Interpolation::Bilinear, Luma([200]), &mut photo);
        let photo = imageproc::filter::gaussian_blur_f32(&photo, 0.7);
        let code = decode(&photo);
        assert_eq!(code.read().map(|c| c.data.as_str()), Some(payload.as_str()));
    }

    #[test]
    fn the_outline_of_a_sheared_code_keeps_its_bars_upright() {
        // Bars upright and rows sloping by 0.14 (8°), as a photograph's shear leaves a code
        // after the bars were turned upright: the outline must follow the rows at the top and
        // bottom and the start and stop bars at the sides.
        let payload = licence_payload();
        let img = pdf417_image(&payload, 2);
        let (w, h) = (img.width() as f32, img.height() as f32);
        let slope = 0.14;
        let at = |x: f32, y: f32| (x + 40.0, y + slope * x + 30.0);
        let to = [at(0.0, 0.0), at(w, 0.0), at(w, h), at(0.0, h)];
        let p =
            Projection::from_control_points([(0.0, 0.0), (w, 0.0), (w, h), (0.0, h)], to).unwrap();
        let mut photo =
            GrayImage::from_pixel(w as u32 + 80, (h + slope * w) as u32 + 60, Luma([255]));
        warp_into(&img, &p, Interpolation::Bilinear, Luma([255]), &mut photo);
        let photo = imageproc::filter::gaussian_blur_f32(&photo, 0.7);
        let q = outline(&flatten_lighting(&photo)).unwrap();
        // Each side a little outside the bars: the quiet margin is about `width / 60`.
        let (x0, x1) = bars_extent(&payload, 2);
        let margin = photo.width() as f32 / 60.0 + 3.0;
        for (top, bottom, outside) in [
            (q[0], q[3], 40.0 + x0 - q[0].0),
            (q[1], q[2], q[1].0 - 40.0 - x1),
        ] {
            assert!(
                (top.0 - bottom.0).abs() < 2.0 && (0.0..margin).contains(&outside),
                "side {top:?}–{bottom:?}, {outside} px outside the bars"
            );
        }
        let top_slope = (q[1].1 - q[0].1) / (q[1].0 - q[0].0);
        assert!(
            (top_slope - slope).abs() < 0.01,
            "top edge slope {top_slope}"
        );
    }

    #[test]
    fn a_pdf417_claiming_aamva_must_parse() {
        let payload = licence_payload();
        assert!(acceptable(BarcodeFormat::PDF_417, &payload));
        assert!(!acceptable(BarcodeFormat::PDF_417, "@\n\x1e\rANSI 63"));
        let garbled = payload.replacen("DCS", "DCS\0\u{89}", 1);
        assert!(parse_aamva(&garbled).is_some());
        assert!(!acceptable(BarcodeFormat::PDF_417, &garbled));
        assert!(acceptable(BarcodeFormat::PDF_417, "M1DOE/JANE EABC123"));
        assert!(acceptable(BarcodeFormat::QR_CODE, "@ANSI 63"));
    }
}
