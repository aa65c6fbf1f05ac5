//! Detection, embedding and face match on the astronaut portrait (always
//! available after fetch-models.sh) and on the real photographs in
//! shared/data/faces (when present).

use crate::common::*;
use verity_face::{FaceEngine, LogType, ScoreThresholds, Status};

#[test]
fn astronaut_has_one_upright_face_with_sane_landmarks() {
    let (Some(engine), Some(img)) = (engine(), astronaut()) else {
        return;
    };
    let faces = engine.detect_image(&img).unwrap();
    assert_eq!(faces.len(), 1, "{faces:?}");
    let f = faces[0];
    let l = f.landmarks;
    assert!(f.score > 0.8);
    // Image-left eye left of the image-right eye, nose below eyes, mouth below nose.
    assert!(l[0][0] < l[1][0]);
    assert!(l[2][1] > l[0][1] && l[2][1] > l[1][1]);
    assert!(l[3][1] > l[2][1] && l[4][1] > l[2][1]);
    for p in l {
        assert!(p[0] >= f.bbox[0] && p[0] <= f.bbox[2] && p[1] >= f.bbox[1] && p[1] <= f.bbox[3]);
    }
}

#[test]
fn image_without_face_gives_no_face_detected() {
    let Some(engine) = engine() else { return };
    // A smooth gradient: nothing face-like.
    let img = image::RgbImage::from_fn(400, 300, |x, y| {
        image::Rgb([(x / 2) as u8, (y / 2) as u8, 128])
    });
    let r = engine
        .match_faces(&png(&img), Some(&png(&img)), &ScoreThresholds::FACE_MATCH)
        .unwrap();
    assert_eq!(r.status, Status::Declined);
    assert!(r.score.is_none());
    assert!(r
        .warnings
        .iter()
        .any(|w| w.risk == "NO_FACE_DETECTED" && w.log_type == LogType::Error));
}

#[test]
fn missing_reference_gives_no_reference_image() {
    let (Some(engine), Some(img)) = (engine(), astronaut()) else {
        return;
    };
    let r = engine
        .match_faces(&png(&img), None, &ScoreThresholds::FACE_MATCH)
        .unwrap();
    assert_eq!(r.status, Status::Declined);
    assert!(r.warnings.iter().any(|w| w.risk == "NO_REFERENCE_IMAGE"));
    assert_eq!(r.user_image.entities.len(), 1);
}

#[test]
fn undecodable_bytes_are_an_error() {
    let Some(engine) = engine() else { return };
    assert!(engine.detect(b"not an image").is_err());
}

#[test]
fn astronaut_augmentations_match_the_original() {
    let (Some(engine), Some(img)) = (engine(), astronaut()) else {
        return;
    };
    let orig = engine
        .template_of(&png(&img))
        .unwrap()
        .expect("face in original");
    let mut scores = Vec::new();
    for (name, aug) in augmentations(&img) {
        let t = engine
            .template_of(&png(&aug))
            .unwrap()
            .unwrap_or_else(|| panic!("no face in augmentation {name}"));
        let cos = orig.cosine(&t);
        let score = FaceEngine::compare(&orig, &t);
        println!("astronaut vs {name}: cosine {cos:.3} score {score:.1}");
        scores.push(score);
        assert!(
            score >= ScoreThresholds::FACE_MATCH.review,
            "{name}: score {score}"
        );
    }
    let r = engine
        .match_faces(
            &png(&img),
            Some(&jpeg(&rotate_scale(&img, 8.0, 0.9), 70)),
            &ScoreThresholds::FACE_MATCH,
        )
        .unwrap();
    assert_eq!(r.status, Status::Approved, "{r:?}");
    assert!(r.warnings.is_empty());
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["status"], "Approved");
    assert!(
        json["user_image"]["entities"][0]["bbox"]
            .as_array()
            .unwrap()
            .len()
            == 4
    );
}

#[test]
fn rotated_photo_is_found_at_its_best_angle() {
    let (Some(engine), Some(img)) = (engine(), astronaut()) else {
        return;
    };
    let sideways = image::imageops::rotate90(&img);
    let a = engine.analyze_image(&sideways).unwrap();
    assert_eq!(a.faces.len(), 1);
    // Undoing a 90° clockwise rotation needs 270° clockwise.
    assert_eq!(a.angle, 270);
}

/// Same-person and different-person pairs over the real photographs and the
/// astronaut; prints the distributions and FMR/FNMR at the default threshold.
#[test]
fn real_pairs_match_and_impostors_do_not() {
    let Some(engine) = engine() else { return };
    let Some(dir) = faces_data() else { return };
    let th = ScoreThresholds::FACE_MATCH;
    let load = |n: &str| engine.analyze(&read(&dir.join(n))).unwrap();
    let obama = load("obama.jpg");
    let obama2 = load("obama2.jpg");
    let biden = load("biden.jpg");
    let group = load("obama_and_biden.jpg");
    assert_eq!(obama.faces.len(), 1);
    assert_eq!(obama2.faces.len(), 1);
    assert_eq!(biden.faces.len(), 1);
    // Obama and Biden in front, and a child further back: three faces.
    assert!(group.faces.len() >= 2, "{:?}", group.faces);

    let t = |a: &verity_face::AnalyzedImage, i: usize| engine.embed(&a.image, &a.faces[i]).unwrap();
    let (to, to2, tb) = (t(&obama, 0), t(&obama2, 0), t(&biden, 0));
    let (tg0, tg1) = (t(&group, 0), t(&group, 1));
    // Which group face is Obama: the one closer to obama.jpg.
    let (tgo, tgb) = if to.cosine(&tg0) > to.cosine(&tg1) {
        (tg0, tg1)
    } else {
        (tg1, tg0)
    };
    let mut augmented = Vec::new();
    for (name, img) in augmentations(&obama.image).into_iter().take(5) {
        let a = engine.analyze_image(&img).unwrap();
        augmented.push((format!("obama_{name}"), t(&a, 0)));
    }
    let astro = engine
        .template_of(&png(&astronaut().unwrap_or_else(|| obama.image.clone())))
        .unwrap()
        .unwrap();

    let mut genuine = vec![
        ("obama~obama2".to_string(), to.cosine(&to2)),
        ("obama~group_obama".into(), to.cosine(&tgo)),
        ("obama2~group_obama".into(), to2.cosine(&tgo)),
        ("biden~group_biden".into(), tb.cosine(&tgb)),
    ];
    for (n, a) in &augmented {
        genuine.push((format!("obama~{n}"), to.cosine(a)));
        genuine.push((format!("obama2~{n}"), to2.cosine(a)));
    }
    let mut impostor = vec![
        ("obama~biden".to_string(), to.cosine(&tb)),
        ("obama2~biden".into(), to2.cosine(&tb)),
        ("obama~group_biden".into(), to.cosine(&tgb)),
        ("biden~group_obama".into(), tb.cosine(&tgo)),
        ("group_obama~group_biden".into(), tgo.cosine(&tgb)),
        ("astronaut~obama".into(), astro.cosine(&to)),
        ("astronaut~biden".into(), astro.cosine(&tb)),
    ];
    for (n, a) in &augmented {
        impostor.push((format!("biden~{n}"), tb.cosine(a)));
    }
    let report = |label: &str, v: &[(String, f32)]| {
        let mut s: Vec<f32> = v
            .iter()
            .map(|p| verity_face::cosine_to_score(p.1))
            .collect();
        s.sort_by(f32::total_cmp);
        println!(
            "{label}: n={} score min {:.1} median {:.1} max {:.1}",
            s.len(),
            s[0],
            s[s.len() / 2],
            s[s.len() - 1]
        );
        for (n, c) in v {
            println!(
                "  {n}: cosine {c:.3} score {:.1}",
                verity_face::cosine_to_score(*c)
            );
        }
    };
    report("genuine", &genuine);
    report("impostor", &impostor);
    let fnm = genuine
        .iter()
        .filter(|p| verity_face::cosine_to_score(p.1) < th.decline)
        .count();
    let fm = impostor
        .iter()
        .filter(|p| verity_face::cosine_to_score(p.1) >= th.decline)
        .count();
    println!(
        "at decline threshold {}: FNMR {}/{} FMR {}/{}",
        th.decline,
        fnm,
        genuine.len(),
        fm,
        impostor.len()
    );
    assert_eq!(fnm, 0, "same-person pairs must match");
    assert_eq!(fm, 0, "different-person pairs must not match");

    let r = engine
        .match_faces(
            &read(&dir.join("obama.jpg")),
            Some(&read(&dir.join("obama2.jpg"))),
            &th,
        )
        .unwrap();
    assert_ne!(r.status, Status::Declined, "{r:?}");
    let r = engine
        .match_faces(
            &read(&dir.join("obama.jpg")),
            Some(&read(&dir.join("biden.jpg"))),
            &th,
        )
        .unwrap();
    assert_eq!(r.status, Status::Declined);
    assert!(r
        .warnings
        .iter()
        .any(|w| w.risk == "LOW_FACE_MATCH_SIMILARITY"));
    let r = engine
        .match_faces(
            &read(&dir.join("obama_and_biden.jpg")),
            Some(&read(&dir.join("obama.jpg"))),
            &th,
        )
        .unwrap();
    assert!(r
        .warnings
        .iter()
        .any(|w| w.risk == "MULTIPLE_FACES_DETECTED"));
}
