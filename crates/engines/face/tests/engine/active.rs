//! ACTIVE_3D liveness. No real video of a moving head is available, so the
//! geometry is tested on (1) synthetic 3-D landmark tracks projected with a
//! pinhole camera and (2) frames rendered from a simple 3-D head: the
//! astronaut portrait texture-mapped onto an ellipsoid with a nose bump.
//! Attacks: a flat photo moved and tilted, swapped photos of other poses, a
//! still frame, and replays of a recording made for an earlier challenge.

use crate::common::*;
use image::RgbImage;
use rand::{rngs::StdRng, SeedableRng};
use verity_face::{
    active_result, ActiveChallenge, ActiveConfig, ActiveFrame, ActiveSubmission, Pose,
    ScoreThresholds, Status, Template, TrackPoint,
};

const T0: u64 = 1_000_000;

/// Target (yaw, pitch) in degrees for a pose (subject's directions).
fn target(p: Pose) -> (f32, f32) {
    match p {
        Pose::Center => (0.0, 0.0),
        Pose::Left => (28.0, 0.0),
        Pose::Right => (-28.0, 0.0),
        Pose::Up => (0.0, 20.0),
        Pose::Down => (0.0, -20.0),
    }
}

/// A head-pose timeline following `steps`: hold each pose 5 frames, move
/// between poses over 4 frames, 100 ms per frame, returning to centre
/// between moves.
fn timeline(steps: &[Pose]) -> Vec<(f32, f32)> {
    let mut poses = vec![(0.0f32, 0.0f32); 5];
    for &s in steps.iter().skip(1) {
        let t = target(s);
        for k in 1..=4 {
            let f = k as f32 / 4.0;
            poses.push((t.0 * f, t.1 * f));
        }
        poses.extend(std::iter::repeat_n(t, 5));
        for k in 1..=4 {
            let f = 1.0 - k as f32 / 4.0;
            poses.push((t.0 * f, t.1 * f));
        }
        poses.extend(std::iter::repeat_n((0.0, 0.0), 2));
    }
    poses
}

/// 3-D landmarks in units of the inter-ocular distance: x to image right,
/// y down, z towards the camera. `depth` scales the out-of-plane relief
/// (1 = a real head, 0 = a flat photograph).
fn head_points(depth: f32) -> [[f32; 3]; 5] {
    [
        [-0.5, 0.0, 0.0],
        [0.5, 0.0, 0.0],
        [0.0, 0.57, 0.5 * depth],
        [-0.41, 1.15, 0.08 * depth],
        [0.41, 1.15, 0.08 * depth],
    ]
}

/// Projects the points rotated by (yaw, pitch) about a pivot behind the
/// face, with a pinhole camera at 8 inter-ocular distances.
fn project(
    pts: &[[f32; 3]; 5],
    yaw: f32,
    pitch: f32,
    shift: (f32, f32),
    noise: &mut Lcg,
) -> [[f32; 2]; 5] {
    let (cy, sy) = (yaw.to_radians().cos(), yaw.to_radians().sin());
    let (cp, sp) = (pitch.to_radians().cos(), pitch.to_radians().sin());
    let pivot = [0.0, 0.5, -1.0];
    let (f, dist, scale) = (900.0f32, 8.0f32, 1.0f32);
    let mut out = [[0f32; 2]; 5];
    for (k, p) in pts.iter().enumerate() {
        let (x, y, z) = (p[0] - pivot[0], p[1] - pivot[1], p[2] - pivot[2]);
        // Yaw: turning to the subject's left moves the nose to image right.
        let (x, z) = (x * cy + z * sy, -x * sy + z * cy);
        // Pitch: looking up moves the nose up.
        let (y, z) = (y * cp - z * sp, y * sp + z * cp);
        let (x, y, z) = (x + pivot[0], y + pivot[1], z + pivot[2]);
        let w = dist - z;
        out[k] = [
            320.0 + shift.0 + f * scale * x / w + (noise.next_f32() - 0.5) * 1.2,
            240.0 + shift.1 + f * scale * y / w + (noise.next_f32() - 0.5) * 1.2,
        ];
    }
    out
}

fn template() -> Template {
    Template::from_raw((0..128).map(|i| ((i * 37 % 11) as f32) - 5.0).collect()).unwrap()
}

/// A synthetic track: landmarks from `pose_of(frame)`, the same identity.
fn track(poses: &[(f32, f32)], depth: f32, t0: u64, seed: u64) -> Vec<TrackPoint> {
    let mut noise = Lcg(seed);
    let pts = head_points(depth);
    poses
        .iter()
        .enumerate()
        .map(|(i, &(yaw, pitch))| {
            let lm = project(&pts, yaw, pitch, (i as f32 * 0.8, 0.0), &mut noise);
            TrackPoint {
                timestamp_ms: t0 + 100 * i as u64,
                landmarks: Some(lm),
                faces: 1,
                template: Some(template()),
                pixel_hash: 1000 + i as u64,
            }
        })
        .collect()
}

fn challenge(seed: u64) -> ActiveChallenge {
    ActiveChallenge::with_rng(
        &mut StdRng::seed_from_u64(seed),
        T0,
        ActiveConfig::default(),
    )
}

fn verdict(
    ch: &ActiveChallenge,
    nonce: &str,
    received: u64,
    t: &[TrackPoint],
) -> verity_face::LivenessResult {
    active_result(ch, nonce, received, t, &ScoreThresholds::LIVENESS)
}

#[test]
fn genuine_synthetic_heads_pass_every_random_challenge() {
    for seed in 0..40 {
        let ch = challenge(seed);
        let t = track(&timeline(&ch.steps), 1.0, T0 + 500, seed);
        let r = verdict(&ch, &ch.nonce, T0 + 30_000, &t);
        let rep = r.active.as_ref().unwrap();
        assert_eq!(
            r.status,
            Status::Approved,
            "seed {seed} {:?}: {:?}",
            ch.steps,
            rep.failures
        );
        assert_eq!(r.score, Some(100.0));
    }
}

#[test]
fn flat_photo_moved_and_tilted_fails() {
    for seed in 0..40 {
        let ch = challenge(seed);
        // The attacker tilts/turns the photo exactly as the prompts ask.
        let t = track(&timeline(&ch.steps), 0.0, T0 + 500, seed);
        let r = verdict(&ch, &ch.nonce, T0 + 30_000, &t);
        let rep = r.active.as_ref().unwrap();
        assert_eq!(r.status, Status::Declined, "seed {seed}: {rep:?}");
        assert!(!rep.sequence_ok);
        assert!(r.warnings.iter().any(|w| w.risk == "LIVENESS_FACE_ATTACK"));
        // Even exaggerated tilts of a flat photo stay frontal.
        let big: Vec<(f32, f32)> = timeline(&ch.steps)
            .iter()
            .map(|p| (p.0 * 1.8, p.1 * 2.2))
            .collect();
        let r = verdict(
            &ch,
            &ch.nonce,
            T0 + 30_000,
            &track(&big, 0.0, T0 + 500, seed),
        );
        assert_eq!(r.status, Status::Declined);
    }
}

#[test]
fn swapped_photos_of_each_pose_fail() {
    // Photos of the real person in each pose, swapped in order: poses jump.
    let ch = challenge(5);
    let mut poses = vec![(0.0f32, 0.0f32); 5];
    for &s in ch.steps.iter().skip(1) {
        poses.extend(std::iter::repeat_n(target(s), 5));
        poses.extend(std::iter::repeat_n((0.0, 0.0), 4));
    }
    let r = verdict(
        &ch,
        &ch.nonce,
        T0 + 30_000,
        &track(&poses, 1.0, T0 + 500, 9),
    );
    let rep = r.active.as_ref().unwrap();
    assert!(rep.sequence_ok, "{rep:?}");
    assert!(!rep.smooth_ok);
    assert_eq!(r.status, Status::Declined);
}

#[test]
fn replays_of_an_earlier_challenge_fail() {
    let old = challenge(11);
    let recording = track(&timeline(&old.steps), 1.0, T0 + 500, 3);
    assert_eq!(
        verdict(&old, &old.nonce, T0 + 30_000, &recording).status,
        Status::Approved
    );
    // A later challenge with a different sequence.
    let mut seed = 12;
    let new = loop {
        let c = ActiveChallenge::with_rng(
            &mut StdRng::seed_from_u64(seed),
            T0 + 120_000,
            ActiveConfig::default(),
        );
        if c.steps != old.steps {
            break c;
        }
        seed += 1;
    };
    // (a) submitted as-is: old nonce, old timestamps.
    let r = verdict(&new, &old.nonce, T0 + 130_000, &recording);
    let rep = r.active.as_ref().unwrap();
    assert!(!rep.nonce_ok && !rep.fresh);
    assert_eq!(r.status, Status::Declined);
    // (b) re-stamped into the new window with the new nonce: the motion
    // still follows the old sequence.
    let mut restamped = recording.clone();
    for (i, p) in restamped.iter_mut().enumerate() {
        p.timestamp_ms = new.issued_at_ms + 500 + 100 * i as u64;
    }
    let r = verdict(&new, &new.nonce, new.issued_at_ms + 30_000, &restamped);
    let rep = r.active.as_ref().unwrap();
    assert!(rep.nonce_ok && rep.fresh);
    assert!(!rep.sequence_ok, "{rep:?}");
    assert_eq!(r.status, Status::Declined);
    // (c) a genuine capture for the right challenge submitted after expiry.
    let late = track(&timeline(&new.steps), 1.0, new.issued_at_ms + 500, 4);
    let r = verdict(&new, &new.nonce, new.expires_at_ms + 1, &late);
    assert!(!r.active.as_ref().unwrap().fresh);
    assert_eq!(r.status, Status::Declined);
}

#[test]
fn still_frames_and_identity_switch_fail() {
    let ch = challenge(21);
    let genuine = track(&timeline(&ch.steps), 1.0, T0 + 500, 1);
    // The same frame repeated.
    let still: Vec<TrackPoint> = genuine
        .iter()
        .map(|p| TrackPoint {
            landmarks: genuine[0].landmarks,
            pixel_hash: 7,
            ..p.clone()
        })
        .collect();
    let r = verdict(&ch, &ch.nonce, T0 + 30_000, &still);
    assert!(!r.active.as_ref().unwrap().not_still);
    assert_eq!(r.status, Status::Declined);
    // Another person's face in the pose frames.
    let other =
        Template::from_raw((0..128).map(|i| ((i * 53 % 17) as f32) - 8.0).collect()).unwrap();
    assert!(template().cosine(&other) < 0.3);
    let mut switched = genuine.clone();
    for p in switched.iter_mut().skip(5) {
        p.template = Some(other.clone());
    }
    let r = verdict(&ch, &ch.nonce, T0 + 30_000, &switched);
    let rep = r.active.as_ref().unwrap();
    assert!(!rep.identity_ok, "{rep:?}");
    assert_eq!(r.status, Status::Declined);
    // Too few frames.
    let r = verdict(&ch, &ch.nonce, T0 + 30_000, &genuine[..4]);
    assert_eq!(r.status, Status::Declined);
}

// ---- Rendered frames of a simple 3-D head -------------------------------

/// Renders the portrait mapped onto a 3-D head (ellipsoid + nose bump; or a
/// flat plane when `depth` = 0) rotated by (yaw, pitch), pinhole camera,
/// z-buffered forward splatting at 2×2 sub-pixels.
fn render(src: &RgbImage, lm: &[[f32; 2]; 5], yaw: f32, pitch: f32, depth: f32) -> RgbImage {
    let (w, h) = src.dimensions();
    let eye_mid = ((lm[0][0] + lm[1][0]) / 2.0, (lm[0][1] + lm[1][1]) / 2.0);
    let s = ((lm[0][0] - lm[1][0]).powi(2) + (lm[0][1] - lm[1][1]).powi(2)).sqrt();
    let centre = (eye_mid.0, eye_mid.1 + 0.6 * s);
    let (a, b, c) = (1.35 * s, 1.9 * s, 1.2 * s);
    let nose = lm[2];
    let (cy, sy) = (yaw.to_radians().cos(), yaw.to_radians().sin());
    let (cp, sp) = (pitch.to_radians().cos(), pitch.to_radians().sin());
    let cam = 8.0 * s;
    let mut out = RgbImage::from_pixel(w, h, image::Rgb([96, 100, 104]));
    let mut zbuf = vec![f32::MIN; (w * h) as usize];
    for sy2 in 0..h * 2 {
        for sx2 in 0..w * 2 {
            let (x, y) = (sx2 as f32 / 2.0, sy2 as f32 / 2.0);
            let (dx, dy) = ((x - centre.0) / a, (y - centre.1) / b);
            let r2 = dx * dx + dy * dy;
            if r2 > 1.0 {
                continue;
            }
            let bump = 0.42
                * s
                * (-((x - nose[0]).powi(2) + (y - nose[1] + 0.1 * s).powi(2))
                    / (2.0 * (0.22 * s).powi(2)))
                .exp();
            let z = depth * (c * (1.0 - r2).sqrt() + bump);
            // Rotate about the ellipsoid centre.
            let (px, py, pz) = (x - centre.0, y - centre.1, z);
            let (px, pz) = (px * cy + pz * sy, -px * sy + pz * cy);
            let (py, pz) = (py * cp - pz * sp, py * sp + pz * cp);
            let persp = cam / (cam - pz);
            let (u, v) = (centre.0 + px * persp, centre.1 + py * persp);
            if u < 0.0 || v < 0.0 || u >= w as f32 || v >= h as f32 {
                continue;
            }
            let i = (v as u32 * w + u as u32) as usize;
            if pz > zbuf[i] {
                zbuf[i] = pz;
                let p = verity_face::imageops::sample_bilinear(src, x as f64, y as f64);
                out.put_pixel(u as u32, v as u32, image::Rgb(p.map(|c| c.round() as u8)));
            }
        }
    }
    out
}

fn render_frames(
    engine: &verity_face::FaceEngine,
    src: &RgbImage,
    poses: &[(f32, f32)],
    depth: f32,
) -> Vec<Vec<u8>> {
    let face = engine.detect_image(src).unwrap()[0];
    poses
        .iter()
        .map(|&(y, p)| jpeg(&render(src, &face.landmarks, y, p, depth), 90))
        .collect()
}

fn submission(frames: &[Vec<u8>], ch: &ActiveChallenge) -> ActiveSubmission {
    ActiveSubmission {
        nonce: ch.nonce.clone(),
        frames: frames
            .iter()
            .enumerate()
            .map(|(i, b)| ActiveFrame {
                timestamp_ms: ch.issued_at_ms + 500 + 100 * i as u64,
                image: b.clone(),
            })
            .collect(),
    }
}

/// Head turns only: on this crude render YuNet's landmarks follow yaw (28° rendered → 21.6°
/// measured) but not pitch (20° rendered → 5° with a spurious −11° yaw), so up/down poses
/// are shown on the synthetic landmark tracks above, not here (README, known gap).
#[test]
fn rendered_3d_head_passes_and_rendered_flat_photo_fails() {
    let (Some(engine), Some(img)) = (engine(), astronaut()) else {
        return;
    };
    // A fixed challenge of a left and a right turn keeps the frame count small.
    let mut ch = challenge(1);
    ch.steps = vec![Pose::Center, Pose::Left, Pose::Right];
    let poses = timeline(&ch.steps);

    let head = render_frames(engine, &img, &poses, 1.0);
    let sub = submission(&head, &ch);
    let track: Vec<TrackPoint> = sub
        .frames
        .iter()
        .map(|f| engine.track_point(f).unwrap())
        .collect();
    let r = engine
        .verify_active(
            &ch,
            &sub,
            ch.issued_at_ms + 20_000,
            &ScoreThresholds::LIVENESS,
        )
        .unwrap();
    let rep = r.active.as_ref().unwrap();
    let measured: Vec<String> = rep
        .poses_deg
        .iter()
        .zip(&poses)
        .map(|(m, t)| format!("target ({:.0},{:.0}) measured {m:.1?}", t.0, t.1))
        .collect();
    println!("3-D head: {:?}\n{}", rep, measured.join("\n"));
    assert!(track.iter().all(|t| t.faces == 1));
    assert_eq!(r.status, Status::Approved, "{:?}", rep.failures);

    // The same portrait as a flat photo tilted through the same motion.
    let flat = render_frames(engine, &img, &poses, 0.0);
    let r = engine
        .verify_active(
            &ch,
            &submission(&flat, &ch),
            ch.issued_at_ms + 20_000,
            &ScoreThresholds::LIVENESS,
        )
        .unwrap();
    let rep = r.active.as_ref().unwrap();
    println!(
        "flat photo: observed {:?} failures {:?}",
        rep.observed, rep.failures
    );
    assert_eq!(r.status, Status::Declined);
    assert!(!rep.sequence_ok);

    // The genuine 3-D recording replayed, re-stamped, for another challenge.
    let mut other = challenge(2);
    other.steps = vec![Pose::Center, Pose::Right, Pose::Left];
    let r = engine
        .verify_active(
            &other,
            &submission(&head, &other),
            other.issued_at_ms + 20_000,
            &ScoreThresholds::LIVENESS,
        )
        .unwrap();
    assert_eq!(r.status, Status::Declined);
    assert!(!r.active.unwrap().sequence_ok);
}
