//! Agreement with the reference implementation of the same models: OpenCV's
//! `FaceDetectorYN` + `FaceRecognizerSF` (PyPI `opencv-python-headless`,
//! with `numpy` and `onnx`) in a venv, used only here. Skipped with a message
//! when that Python is not available (a failure with
//! VERITY_FACE_REQUIRE_REFERENCE=1, as scripts/test sets it). Set
//! VERITY_FACE_PYTHON to its interpreter (default
//! /root/.cache/verity-venvs/face/bin/python; scripts/test makes one in
//! .cache/venv-face).

use std::process::Command;

use crate::common::*;

fn python() -> Option<String> {
    let py = std::env::var("VERITY_FACE_PYTHON")
        .unwrap_or_else(|_| "/root/.cache/verity-venvs/face/bin/python".into());
    let ok = Command::new(&py)
        .args(["-c", "import cv2, onnx, numpy"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if ok {
        Some(py)
    } else {
        assert!(
            std::env::var("VERITY_FACE_REQUIRE_REFERENCE").as_deref() != Ok("1"),
            "the OpenCV reference is required (VERITY_FACE_REQUIRE_REFERENCE=1) but {py} cannot import cv2, onnx, numpy"
        );
        eprintln!(
            "SKIPPED: OpenCV reference not available ({py} cannot import cv2, onnx, numpy); \
             create it with: python3 -m venv /root/.cache/verity-venvs/face && \
             /root/.cache/verity-venvs/face/bin/pip install opencv-python-headless==5.0.0.93 onnx==1.23.2 numpy"
        );
        None
    }
}

#[test]
fn embeddings_agree_with_opencv() {
    let Some(engine) = engine() else { return };
    let Some(py) = python() else { return };
    let tmp = std::env::temp_dir().join(format!("verity-face-ref-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut images = vec![];
    if let Some(a) = astronaut() {
        let p = tmp.join("astronaut.png");
        std::fs::write(&p, png(&a)).unwrap();
        images.push(p.clone());
        let p2 = tmp.join("astronaut_rot.jpg");
        std::fs::write(&p2, jpeg(&rotate_scale(&a, 15.0, 0.7), 85)).unwrap();
        images.push(p2);
    }
    if let Some(dir) = faces_data() {
        for n in ["obama.jpg", "obama2.jpg", "biden.jpg"] {
            images.push(dir.join(n));
        }
    }
    assert!(!images.is_empty());
    let out = Command::new(&py)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/reference/opencv_ref.py"
        ))
        .arg(models_dir())
        .arg(&tmp)
        .args(&images)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    let mut checked = 0;
    for line in stdout.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let path = v["image"].as_str().unwrap();
        assert!(
            v["faces"].as_u64().unwrap() >= 1,
            "OpenCV found no face in {path}"
        );
        let ref_feat: Vec<f32> = v["feature"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_f64().unwrap() as f32)
            .collect();
        let ref_t = verity_face::Template::from_raw(ref_feat).unwrap();

        // Same model weights on the same aligned crop: checks our in-memory
        // int8 fold and preprocessing against OpenCV's own dequantisation.
        let crop = image::open(v["crop"].as_str().unwrap()).unwrap().to_rgb8();
        let ours_on_their_crop = engine.embed_aligned(&crop).unwrap();
        let crop_cos = ours_on_their_crop.cosine(&ref_t);

        // Full pipeline: our decode, detection, alignment and embedding.
        let a = engine.analyze(&read(std::path::Path::new(path))).unwrap();
        let f = a.largest().expect("our detector found a face");
        let ours = engine.embed(&a.image, f).unwrap();
        let cos = ours.cosine(&ref_t);
        let ref_lm = v["landmarks"].as_array().unwrap();
        let max_lm_err = (0..5)
            .map(|k| {
                let r = ref_lm[k].as_array().unwrap();
                ((r[0].as_f64().unwrap() as f32 - f.landmarks[k][0]).powi(2)
                    + (r[1].as_f64().unwrap() as f32 - f.landmarks[k][1]).powi(2))
                .sqrt()
            })
            .fold(0f32, f32::max);
        println!(
            "{path}: pipeline cosine vs OpenCV {cos:.4}, same-crop cosine {crop_cos:.5}, max landmark diff {max_lm_err:.2} px (eye distance {:.1} px)",
            f.eye_distance()
        );
        assert!(crop_cos >= 0.999, "{path}: same-crop cosine {crop_cos}");
        assert!(cos >= 0.99, "{path}: pipeline cosine {cos}");
        checked += 1;
    }
    assert_eq!(checked, images.len());
    let _ = std::fs::remove_dir_all(&tmp);
}
