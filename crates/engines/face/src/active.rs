//! ACTIVE_3D liveness: a server-chosen random head-pose challenge.
//!
//! The server issues an [`ActiveChallenge`] (random nonce, random sequence of
//! head poses, deadline). The hosted page captures frames while the user
//! follows the prompts and submits them with the nonce. [`verify_track`]
//! then checks, from the five landmarks of every frame:
//!
//! * **freshness** — the nonce matches, timestamps increase and lie inside
//!   the challenge window, there are enough frames, and they are not one
//!   still image repeated;
//! * **3-D motion** — head pose comes from the *parallax* of the nose tip
//!   against the eyes/mouth-corners quadrilateral: a homography maps the four
//!   roughly coplanar points of the frame onto a frontal template, and the
//!   nose, which sticks out of that plane, lands off its frontal position by
//!   `D·tan(angle)`. A flat photo moved, tilted or bent in front of the camera
//!   is itself a plane, so the homography explains the nose too and the
//!   measured pose stays frontal whatever the photo does;
//! * **sequence** — the runs of poses (left/right/up/down, frontal runs
//!   ignored) must equal the challenge exactly, so a recording made for
//!   another challenge does not fit;
//! * **identity** — the same person in every pose (SFace cosine against the
//!   first frontal frame).
//!
//! The session layer must also mark a nonce as used once verified (this
//! engine is stateless). Directions are the subject's own, on unmirrored
//! frames: turning to one's left moves the nose to the image right.
//!
//! Not a certified PAD: a 3-D mask or a live deepfake stream that follows the
//! prompts in time defeats it. Tested on synthetic 3-D landmark tracks and on
//! frames rendered from a textured 3-D head model (no real video here).

use rand::{Rng, RngCore};
use serde::{Deserialize, Serialize};

use crate::embed::Template;
use crate::report::{LogType, ScoreThresholds, Status, Warning};
use crate::LIVENESS;

/// A requested head pose (the subject's own directions).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Pose {
    Center,
    Left,
    Right,
    Up,
    Down,
}

/// Challenge parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ActiveConfig {
    /// Number of non-frontal poses asked for.
    pub steps: usize,
    /// Time the user has from issue to the last frame.
    pub ttl_ms: u64,
    /// Yaw (degrees) at which a left/right turn counts.
    pub yaw_deg: f32,
    /// Pitch (degrees) at which an up/down nod counts.
    pub pitch_deg: f32,
    /// Within this many degrees on both axes the head counts as frontal.
    pub center_deg: f32,
    /// Frames a pose must hold to count (debounces landmark noise).
    pub min_run: usize,
    pub min_frames: usize,
    /// Largest gap between consecutive frames; below ~3 fps motion cannot
    /// be followed.
    pub max_gap_ms: u64,
    /// Minimum SFace cosine between each pose and the first frontal frame.
    pub identity_min_cosine: f32,
    /// Nose depth in front of the eye/mouth plane, in template pixels of the
    /// 112×112 alignment template (inter-ocular distance 35.2). Anthropometric
    /// average ≈ 0.45 × inter-ocular distance.
    pub nose_depth: f32,
    /// Multiplier on the vertical parallax. YuNet's landmarks move about
    /// half as much vertically as horizontally for the same head rotation
    /// (measured on the rendered 3-D head), so pitch is scaled up.
    pub pitch_gain: f32,
}

impl Default for ActiveConfig {
    fn default() -> Self {
        Self {
            steps: 3,
            ttl_ms: 60_000,
            yaw_deg: 18.0,
            pitch_deg: 9.0,
            center_deg: 8.0,
            min_run: 2,
            min_frames: 8,
            max_gap_ms: 400,
            identity_min_cosine: 0.30,
            nose_depth: 16.0,
            pitch_gain: 2.0,
        }
    }
}

/// What the server sends to the hosted page (and keeps to verify).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveChallenge {
    /// 128-bit random hex nonce; frames are submitted with it.
    pub nonce: String,
    /// Always starts with `CENTER`, then `config.steps` random poses with no
    /// pose repeated back to back.
    pub steps: Vec<Pose>,
    pub issued_at_ms: u64,
    pub expires_at_ms: u64,
    pub config: ActiveConfig,
}

impl ActiveChallenge {
    /// A new random challenge from the OS-seeded thread RNG.
    pub fn new(now_ms: u64, config: ActiveConfig) -> Self {
        Self::with_rng(&mut rand::rng(), now_ms, config)
    }

    pub fn with_rng(rng: &mut impl RngCore, now_ms: u64, config: ActiveConfig) -> Self {
        let mut nonce = [0u8; 16];
        rng.fill_bytes(&mut nonce);
        let choices = [Pose::Left, Pose::Right, Pose::Up, Pose::Down];
        let mut steps = vec![Pose::Center];
        while steps.len() < config.steps.max(1) + 1 {
            let p = choices[rng.random_range(0..choices.len())];
            if *steps.last().unwrap() != p {
                steps.push(p);
            }
        }
        Self {
            nonce: nonce.iter().map(|b| format!("{b:02x}")).collect(),
            steps,
            issued_at_ms: now_ms,
            expires_at_ms: now_ms + config.ttl_ms,
            config,
        }
    }
}

/// The landmarks (and optionally the template) of one captured frame.
#[derive(Debug, Clone, PartialEq)]
pub struct TrackPoint {
    pub timestamp_ms: u64,
    /// Five landmarks of the largest face, `None` when no face was found.
    pub landmarks: Option<[[f32; 2]; 5]>,
    /// Number of faces in the frame.
    pub faces: usize,
    /// SFace template of the face, when computed.
    pub template: Option<Template>,
    /// Hash of the frame's pixels (detects a repeated still frame).
    pub pixel_hash: u64,
}

/// Per-check outcome of an active verification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ActiveReport {
    pub challenge: Vec<Pose>,
    /// The pose runs observed, frontal runs included.
    pub observed: Vec<Pose>,
    pub nonce_ok: bool,
    pub fresh: bool,
    pub not_still: bool,
    pub sequence_ok: bool,
    /// Every change of pose passes through intermediate angles (a head
    /// turns; swapped photographs jump).
    pub smooth_ok: bool,
    pub identity_ok: bool,
    /// Lowest identity cosine across poses.
    pub min_identity_cosine: Option<f32>,
    /// Per frame (yaw, pitch) in degrees relative to the first frontal frames.
    pub poses_deg: Vec<Option<(f32, f32)>>,
    pub failures: Vec<String>,
}

/// ArcFace template points (eyes, nose, mouth corners) in 112×112 pixels.
const T: [[f64; 2]; 5] = crate::embed::ALIGN_TEMPLATE;

/// Head yaw and pitch proxies (degrees) of a frame: nose-tip parallax
/// against the homography of the four planar landmarks. Returns the nose
/// offset in template pixels; angles follow from the nose depth.
pub fn nose_parallax(lm: &[[f32; 2]; 5]) -> Option<(f32, f32)> {
    let src = [T[0], T[1], T[3], T[4]];
    let dst = [lm[0], lm[1], lm[3], lm[4]].map(|p| [p[0] as f64, p[1] as f64]);
    // H maps template → frame; invert it to take the frame nose to the template.
    let h = homography(&src, &dst)?;
    let hi = invert3(&h)?;
    let (x, y) = (lm[2][0] as f64, lm[2][1] as f64);
    let w = hi[6] * x + hi[7] * y + hi[8];
    if w.abs() < 1e-12 {
        return None;
    }
    let nx = (hi[0] * x + hi[1] * y + hi[2]) / w;
    let ny = (hi[3] * x + hi[4] * y + hi[5]) / w;
    Some(((nx - T[2][0]) as f32, (ny - T[2][1]) as f32))
}

/// 4-point DLT homography (h33 = 1), row-major 3×3.
fn homography(src: &[[f64; 2]; 4], dst: &[[f64; 2]; 4]) -> Option<[f64; 9]> {
    let mut a = [[0f64; 9]; 8];
    for i in 0..4 {
        let ([x, y], [u, v]) = (src[i], dst[i]);
        a[2 * i] = [x, y, 1.0, 0.0, 0.0, 0.0, -u * x, -u * y, u];
        a[2 * i + 1] = [0.0, 0.0, 0.0, x, y, 1.0, -v * x, -v * y, v];
    }
    // Gaussian elimination with partial pivoting on the 8×8 system.
    for c in 0..8 {
        let p = (c..8).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-12 {
            return None;
        }
        a.swap(c, p);
        let pivot = a[c];
        for (r, row) in a.iter_mut().enumerate() {
            if r != c {
                let f = row[c] / pivot[c];
                for (x, p) in row.iter_mut().zip(pivot.iter()).skip(c) {
                    *x -= f * p;
                }
            }
        }
    }
    let mut h = [0f64; 9];
    for i in 0..8 {
        h[i] = a[i][8] / a[i][i];
    }
    h[8] = 1.0;
    Some(h)
}

fn invert3(m: &[f64; 9]) -> Option<[f64; 9]> {
    let det = m[0] * (m[4] * m[8] - m[5] * m[7]) - m[1] * (m[3] * m[8] - m[5] * m[6])
        + m[2] * (m[3] * m[7] - m[4] * m[6]);
    if det.abs() < 1e-12 {
        return None;
    }
    let d = 1.0 / det;
    Some([
        (m[4] * m[8] - m[5] * m[7]) * d,
        (m[2] * m[7] - m[1] * m[8]) * d,
        (m[1] * m[5] - m[2] * m[4]) * d,
        (m[5] * m[6] - m[3] * m[8]) * d,
        (m[0] * m[8] - m[2] * m[6]) * d,
        (m[2] * m[3] - m[0] * m[5]) * d,
        (m[3] * m[7] - m[4] * m[6]) * d,
        (m[1] * m[6] - m[0] * m[7]) * d,
        (m[0] * m[4] - m[1] * m[3]) * d,
    ])
}

fn classify(yaw: f32, pitch: f32, c: &ActiveConfig) -> Option<Pose> {
    if yaw.abs() < c.center_deg && pitch.abs() < c.center_deg {
        Some(Pose::Center)
    } else if yaw >= c.yaw_deg && yaw.abs() > pitch.abs() {
        Some(Pose::Left)
    } else if yaw <= -c.yaw_deg && yaw.abs() > pitch.abs() {
        Some(Pose::Right)
    } else if pitch >= c.pitch_deg && pitch.abs() >= yaw.abs() {
        Some(Pose::Up)
    } else if pitch <= -c.pitch_deg && pitch.abs() >= yaw.abs() {
        Some(Pose::Down)
    } else {
        None // in transition
    }
}

/// Verifies a captured track against its challenge (see module docs).
/// `nonce` is what the client submitted; `received_at_ms` when it arrived.
pub fn verify_track(
    challenge: &ActiveChallenge,
    nonce: &str,
    received_at_ms: u64,
    track: &[TrackPoint],
) -> ActiveReport {
    let c = &challenge.config;
    let mut failures = Vec::new();
    let nonce_ok = constant_time_eq(nonce.as_bytes(), challenge.nonce.as_bytes());
    if !nonce_ok {
        failures.push("nonce does not match the challenge".to_string());
    }
    let in_window = track.iter().all(|t| {
        t.timestamp_ms >= challenge.issued_at_ms && t.timestamp_ms <= challenge.expires_at_ms
    });
    let increasing = track
        .windows(2)
        .all(|w| w[1].timestamp_ms > w[0].timestamp_ms);
    let dense = track
        .windows(2)
        .all(|w| w[1].timestamp_ms.saturating_sub(w[0].timestamp_ms) <= c.max_gap_ms);
    let fresh = in_window
        && increasing
        && dense
        && received_at_ms <= challenge.expires_at_ms
        && track.len() >= c.min_frames;
    if !fresh {
        failures.push(format!(
            "frames not fresh: {} frames (min {}), in window {in_window}, increasing {increasing}, gaps <= {} ms {dense}, received in time {}",
            track.len(),
            c.min_frames,
            c.max_gap_ms,
            received_at_ms <= challenge.expires_at_ms
        ));
    }
    // A still image: every frame has the same pixels or the same landmarks.
    let distinct_pixels = track.windows(2).any(|w| w[0].pixel_hash != w[1].pixel_hash);
    let lms: Vec<[[f32; 2]; 5]> = track.iter().filter_map(|t| t.landmarks).collect();
    let landmark_motion = lms
        .windows(2)
        .map(|w| {
            (0..5)
                .map(|k| (w[0][k][0] - w[1][k][0]).abs() + (w[0][k][1] - w[1][k][1]).abs())
                .fold(0f32, f32::max)
        })
        .fold(0f32, f32::max);
    let not_still = distinct_pixels && landmark_motion > 0.5;
    if !not_still {
        failures.push("the frames are a still image".into());
    }

    // Pose per frame, relative to the first frontal frames (the challenge
    // opens with CENTER). Baseline: median parallax of the first 3 faces.
    let parallax: Vec<Option<(f32, f32)>> = track
        .iter()
        .map(|t| t.landmarks.as_ref().and_then(nose_parallax))
        .collect();
    let firsts: Vec<(f32, f32)> = parallax.iter().flatten().take(3).copied().collect();
    let baseline = if firsts.is_empty() {
        None
    } else {
        let mut xs: Vec<f32> = firsts.iter().map(|p| p.0).collect();
        let mut ys: Vec<f32> = firsts.iter().map(|p| p.1).collect();
        xs.sort_by(f32::total_cmp);
        ys.sort_by(f32::total_cmp);
        Some((xs[xs.len() / 2], ys[ys.len() / 2]))
    };
    let poses_deg: Vec<Option<(f32, f32)>> = parallax
        .iter()
        .map(|p| {
            let (b, p) = (baseline?, (*p)?);
            let yaw = ((p.0 - b.0) / c.nose_depth).atan().to_degrees();
            let pitch = (-(p.1 - b.1) * c.pitch_gain / c.nose_depth)
                .atan()
                .to_degrees();
            Some((yaw, pitch))
        })
        .collect();
    // Runs of at least `min_run` identically classified frames.
    let mut observed: Vec<Pose> = Vec::new();
    let mut run_frames: Vec<(Pose, Vec<usize>)> = Vec::new();
    let (mut cur, mut idxs): (Option<Pose>, Vec<usize>) = (None, vec![]);
    let flush = |cur: Option<Pose>,
                 idxs: &mut Vec<usize>,
                 observed: &mut Vec<Pose>,
                 runs: &mut Vec<(Pose, Vec<usize>)>| {
        if let Some(p) = cur {
            if idxs.len() >= c.min_run && observed.last() != Some(&p) {
                observed.push(p);
                runs.push((p, std::mem::take(idxs)));
            } else if idxs.len() >= c.min_run {
                if let Some(r) = runs.last_mut() {
                    r.1.append(idxs);
                }
            }
        }
        idxs.clear();
    };
    for (i, pd) in poses_deg.iter().enumerate() {
        let cls = pd.and_then(|(y, p)| classify(y, p, c));
        if cls != cur {
            flush(cur, &mut idxs, &mut observed, &mut run_frames);
            cur = cls;
        }
        if cls.is_some() {
            idxs.push(i);
        }
    }
    flush(cur, &mut idxs, &mut observed, &mut run_frames);
    let moves: Vec<Pose> = observed
        .iter()
        .copied()
        .filter(|p| *p != Pose::Center)
        .collect();
    let wanted: Vec<Pose> = challenge
        .steps
        .iter()
        .copied()
        .filter(|p| *p != Pose::Center)
        .collect();
    let sequence_ok = observed.first() == Some(&Pose::Center) && moves == wanted;
    if !sequence_ok {
        failures.push(format!(
            "pose sequence {observed:?} does not follow the challenge {:?}",
            challenge.steps
        ));
    }

    // Continuity: from one pose run to the next the head moves through
    // intermediate angles: no single frame-to-frame step may cover more than
    // 60 % of the distance between the two runs' median poses (swapped
    // photographs jump the whole way at once).
    let dist = |a: (f32, f32), b: (f32, f32)| ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt();
    let median_pose = |idx: &[usize]| -> Option<(f32, f32)> {
        let mut v: Vec<(f32, f32)> = idx.iter().filter_map(|&i| poses_deg[i]).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(|a, b| (a.0.abs() + a.1.abs()).total_cmp(&(b.0.abs() + b.1.abs())));
        Some(v[v.len() / 2])
    };
    let mut smooth_ok = run_frames.len() >= 2;
    for pair in run_frames.windows(2) {
        let (a_end, b_start) = (*pair[0].1.last().unwrap(), pair[1].1[0]);
        let (Some(a), Some(b)) = (median_pose(&pair[0].1), median_pose(&pair[1].1)) else {
            smooth_ok = false;
            continue;
        };
        let path: Vec<(f32, f32)> = (a_end..=b_start).filter_map(|i| poses_deg[i]).collect();
        let max_step = path
            .windows(2)
            .map(|w| dist(w[0], w[1]))
            .fold(0f32, f32::max);
        if max_step > 0.6 * dist(a, b) {
            smooth_ok = false;
        }
    }
    if !smooth_ok {
        failures.push("pose changes jump without intermediate angles".into());
    }

    // Identity: each pose run's middle frame against the first frontal frame.
    let mut min_cos: Option<f32> = None;
    let mut identity_ok = true;
    let first_template = run_frames
        .iter()
        .find(|r| r.0 == Pose::Center)
        .and_then(|r| r.1.iter().find_map(|&i| track[i].template.as_ref()));
    match first_template {
        None => {
            identity_ok = false;
            failures.push("no frontal face to compare identities with".into());
        }
        Some(base) => {
            for (_, idx) in &run_frames {
                let mid = idx[idx.len() / 2];
                let t = idx[idx.len() / 2..]
                    .iter()
                    .chain(idx.iter())
                    .find_map(|&i| track[i].template.as_ref());
                if let Some(t) = t {
                    let cos = base.cosine(t);
                    min_cos = Some(min_cos.map_or(cos, |m: f32| m.min(cos)));
                    if cos < c.identity_min_cosine {
                        identity_ok = false;
                    }
                } else {
                    identity_ok = false;
                    failures.push(format!("no template for frame {mid}"));
                }
            }
            if track.iter().any(|t| t.faces > 1) {
                identity_ok = false;
                failures.push("more than one face in a frame".into());
            }
            if !identity_ok && min_cos.is_some_and(|m| m < c.identity_min_cosine) {
                failures.push(format!(
                    "identity changes between poses (min cosine {:.2})",
                    min_cos.unwrap()
                ));
            }
        }
    }
    ActiveReport {
        challenge: challenge.steps.clone(),
        observed,
        nonce_ok,
        fresh,
        not_still,
        sequence_ok,
        smooth_ok,
        identity_ok,
        min_identity_cosine: min_cos,
        poses_deg,
        failures,
    }
}

/// Score 0–100 of an active report: 100 when every check passes; otherwise
/// at most 40 (below the default decline threshold of 50), scaled by the
/// share of checks passed.
pub fn score(report: &ActiveReport) -> f32 {
    let checks = [
        report.nonce_ok,
        report.fresh,
        report.not_still,
        report.sequence_ok,
        report.smooth_ok,
        report.identity_ok,
    ];
    let passed = checks.iter().filter(|b| **b).count() as f32;
    if passed as usize == checks.len() {
        100.0
    } else {
        40.0 * passed / checks.len() as f32
    }
}

/// Warnings for an active report under the liveness thresholds.
pub fn warnings(report: &ActiveReport, score: f32, thresholds: &ScoreThresholds) -> Vec<Warning> {
    let mut w = Vec::new();
    if !report.sequence_ok || !report.smooth_ok || !report.not_still || !report.nonce_ok {
        let mut x = Warning::new(
            LIVENESS,
            "LIVENESS_FACE_ATTACK",
            LogType::Error,
            "Liveness challenge failed",
            "The captured head movement does not follow the requested challenge, or the frames are a still image or belong to another challenge.",
        );
        x.additional_data = Some(serde_json::json!({ "failures": report.failures }));
        w.push(x);
    }
    if let Some(lt) = thresholds.classify(score) {
        let mut x = Warning::new(
            LIVENESS,
            "LOW_LIVENESS_SCORE",
            lt,
            "Low liveness score",
            &format!("The active liveness score {score:.0} is below the configured threshold."),
        );
        x.additional_data = Some(serde_json::json!({ "failures": report.failures }));
        w.push(x);
    }
    w
}

/// Status of an active result (any error → Declined).
pub fn status(warnings: &[Warning]) -> Status {
    crate::report::status_from(warnings)
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// FNV-1a over the pixels, for the still-image check (not cryptographic).
pub fn pixel_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{rngs::StdRng, SeedableRng};

    #[test]
    fn challenges_are_random_and_well_formed() {
        let mut rng = StdRng::seed_from_u64(3);
        let a = ActiveChallenge::with_rng(&mut rng, 1000, ActiveConfig::default());
        let b = ActiveChallenge::with_rng(&mut rng, 1000, ActiveConfig::default());
        assert_ne!(a.nonce, b.nonce);
        assert_eq!(a.nonce.len(), 32);
        assert_eq!(a.steps[0], Pose::Center);
        assert_eq!(a.steps.len(), 4);
        assert!(a.steps.windows(2).all(|w| w[0] != w[1]));
        assert_eq!(a.expires_at_ms, 61_000);
        // Over many draws every direction appears.
        let mut seen = std::collections::HashSet::new();
        for _ in 0..50 {
            seen.extend(ActiveChallenge::with_rng(&mut rng, 0, ActiveConfig::default()).steps);
        }
        assert_eq!(seen.len(), 5);
    }

    #[test]
    fn homography_roundtrip() {
        let src = [[0.0, 0.0], [10.0, 0.0], [0.0, 10.0], [10.0, 12.0]];
        let dst = [[5.0, 5.0], [25.0, 6.0], [4.0, 30.0], [27.0, 33.0]];
        let h = homography(&src, &dst).unwrap();
        for (s, d) in src.iter().zip(dst) {
            let w = h[6] * s[0] + h[7] * s[1] + h[8];
            let u = (h[0] * s[0] + h[1] * s[1] + h[2]) / w;
            let v = (h[3] * s[0] + h[4] * s[1] + h[5]) / w;
            assert!((u - d[0]).abs() < 1e-9 && (v - d[1]).abs() < 1e-9);
        }
    }

    #[test]
    fn template_landmarks_have_zero_parallax() {
        let lm = T.map(|p| [p[0] as f32, p[1] as f32]);
        let (dx, dy) = nose_parallax(&lm).unwrap();
        assert!(dx.abs() < 1e-4 && dy.abs() < 1e-4);
    }
}
