//! PASSIVE liveness: genuine captures must score above simulated printed
//! photos and screen replays (the attacks are simulations; see README).

use crate::common::*;
use verity_face::{ScoreThresholds, Status};

#[test]
fn simulated_attacks_score_below_genuine_images() {
    let (Some(engine), Some(img)) = (engine(), astronaut()) else {
        return;
    };
    let th = ScoreThresholds::LIVENESS;
    let mut genuine: Vec<(String, Vec<u8>)> = vec![
        ("astronaut_png".into(), png(&img)),
        ("astronaut_jpeg90".into(), jpeg(&img, 90)),
        ("astronaut_resized_0.8".into(), jpeg(&resize(&img, 0.8), 90)),
        (
            "astronaut_rotated_5".into(),
            jpeg(&rotate_scale(&img, 5.0, 1.0), 92),
        ),
        (
            "astronaut_upscaled_1.5".into(),
            jpeg(&resize(&img, 1.5), 90),
        ),
    ];
    if let Some(dir) = faces_data() {
        for n in ["obama.jpg", "obama2.jpg", "biden.jpg"] {
            genuine.push((n.into(), read(&dir.join(n))));
        }
    }
    let attacks: Vec<(String, Vec<u8>)> = vec![
        (
            "print_halftone".into(),
            png(&simulate_print(&img, Some(4.0), 1)),
        ),
        (
            "print_halftone_fine".into(),
            png(&simulate_print(&resize(&img, 1.5), Some(3.0), 2)),
        ),
        (
            "print_inkjet_no_screen".into(),
            png(&simulate_print(&img, None, 3)),
        ),
        (
            "screen_cell3_moire".into(),
            png(&simulate_screen(&img, 3, 0.77, 0.0)),
        ),
        (
            "screen_cell4_glare".into(),
            png(&simulate_screen(&img, 4, 0.55, 160.0)),
        ),
        (
            "screen_cell3_downscaled".into(),
            png(&simulate_screen(&img, 3, 0.45, 60.0)),
        ),
    ];
    let mut min_genuine = f32::MAX;
    for (name, bytes) in &genuine {
        let r = engine.passive_liveness(bytes, &th).unwrap();
        let s = r.score.expect("face found");
        println!(
            "genuine {name}: score {s:.1} quality {:?} signals {:?}",
            r.face_quality, r.signals
        );
        min_genuine = min_genuine.min(s);
        assert!(
            r.warnings.iter().all(|w| w.risk != "LIVENESS_FACE_ATTACK"),
            "{name}: {:?}",
            r.warnings
        );
    }
    let mut max_attack = f32::MIN;
    for (name, bytes) in &attacks {
        let r = engine.passive_liveness(bytes, &th).unwrap();
        let s = r.score.expect("face found in attack simulation");
        println!(
            "attack {name}: score {s:.1} status {:?} signals {:?}",
            r.status, r.signals
        );
        max_attack = max_attack.max(s);
        assert_ne!(r.status, Status::Approved, "{name} approved");
    }
    println!("min genuine {min_genuine:.1}, max attack {max_attack:.1}");
    assert!(
        max_attack < min_genuine,
        "an attack scored {max_attack} >= genuine {min_genuine}"
    );
    assert!(
        min_genuine >= th.review,
        "a genuine image scored {min_genuine}"
    );
}

#[test]
#[ignore = "known gap (issue 6): YuNet finds no face on the astronaut darkened to 35 % although OpenCV's YuNet does (score 0.93); cause not found yet"]
fn luminance_and_no_face_warnings() {
    let (Some(engine), Some(img)) = (engine(), astronaut()) else {
        return;
    };
    let th = ScoreThresholds::LIVENESS;
    let dark = engine
        .passive_liveness(&png(&light(&img, 0.35, 0.0, 1.0)), &th)
        .unwrap();
    assert!(
        dark.warnings.iter().any(|w| w.risk == "LOW_FACE_LUMINANCE"),
        "{:?}",
        dark.warnings
    );
    let bright = engine
        .passive_liveness(&png(&light(&img, 1.0, 150.0, 0.6)), &th)
        .unwrap();
    assert!(
        bright
            .warnings
            .iter()
            .any(|w| w.risk == "HIGH_FACE_LUMINANCE"),
        "{:?}",
        bright.warnings
    );
    let normal = engine.passive_liveness(&png(&img), &th).unwrap();
    assert!(normal
        .warnings
        .iter()
        .all(|w| !w.risk.ends_with("_LUMINANCE")));
    let lum = normal.face_luminance.unwrap();
    assert!((0.0..=100.0).contains(&lum));
    let blank = image::RgbImage::from_pixel(300, 300, image::Rgb([90, 120, 150]));
    let r = engine.passive_liveness(&png(&blank), &th).unwrap();
    assert_eq!(r.status, Status::Declined);
    assert!(r.score.is_none());
    assert!(r.warnings.iter().any(|w| w.risk == "NO_FACE_DETECTED"));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["method"], "PASSIVE");
}

#[test]
fn blurred_face_has_low_quality() {
    let (Some(engine), Some(img)) = (engine(), astronaut()) else {
        return;
    };
    let th = ScoreThresholds::LIVENESS;
    let sharp = engine.passive_liveness(&png(&img), &th).unwrap();
    let blurred = engine
        .passive_liveness(&png(&image::imageops::blur(&img, 4.0)), &th)
        .unwrap();
    println!(
        "quality sharp {:?} blurred {:?}",
        sharp.face_quality, blurred.face_quality
    );
    assert!(blurred.face_quality.unwrap() < sharp.face_quality.unwrap());
    assert!(blurred.score.unwrap() < sharp.score.unwrap());
}

#[test]
fn age_of_astronaut_is_adult_and_minimum_age_applies() {
    let (Some(engine), Some(img)) = (engine(), astronaut()) else {
        return;
    };
    let r = engine.estimate_age(&png(&img), Some(18.0)).unwrap();
    println!(
        "astronaut age {:?} confidence {:?} entities {:?}",
        r.age_estimation, r.age_confidence, r.user_image.entities
    );
    let age = r.age_estimation.expect("age estimated");
    // Eileen Collins was about 40 in this portrait; the model is coarse.
    assert!((25.0..=60.0).contains(&age), "age {age}");
    assert_eq!(r.status, Status::Approved);
    let r = engine.estimate_age(&png(&img), Some(75.0)).unwrap();
    assert!(r.warnings.iter().any(|w| w.risk == "AGE_BELOW_MINIMUM"));
    assert_eq!(r.status, Status::Declined);
    let blank = image::RgbImage::from_pixel(200, 200, image::Rgb([0, 0, 0]));
    let r = engine.estimate_age(&png(&blank), Some(18.0)).unwrap();
    assert!(r.age_estimation.is_none());
    assert!(r.warnings.iter().any(|w| w.risk == "NO_FACE_DETECTED"));
    // A tiny face gives AGE_NOT_DETECTED rather than a guess.
    let tiny = resize(&img, 0.3);
    let mut canvas = image::RgbImage::from_pixel(400, 400, image::Rgb([128, 128, 128]));
    image::imageops::overlay(&mut canvas, &tiny, 180, 180);
    let r = engine.estimate_age(&png(&canvas), Some(18.0)).unwrap();
    println!("tiny face: {:?}", r.warnings);
    assert_eq!(
        r.user_image.entities.len(),
        1,
        "tiny face not detected: {r:?}"
    );
    assert!(
        r.warnings.iter().any(|w| w.risk == "AGE_NOT_DETECTED"),
        "{r:?}"
    );
    assert!(r.age_estimation.is_none());
}

#[test]
fn ages_of_real_photographs_are_plausible() {
    let Some(engine) = engine() else { return };
    let Some(dir) = faces_data() else { return };
    for n in ["obama.jpg", "obama2.jpg", "biden.jpg"] {
        let r = engine.estimate_age(&read(&dir.join(n)), None).unwrap();
        println!(
            "{n}: age {:?} confidence {:?} gender {:?}",
            r.age_estimation, r.age_confidence, r.user_image.entities[0].gender
        );
        let age = r.age_estimation.expect("age");
        // Official portraits of men aged roughly 45-75.
        assert!((30.0..=80.0).contains(&age), "{n}: {age}");
        assert_eq!(r.user_image.entities[0].gender.as_deref(), Some("male"));
    }
}
