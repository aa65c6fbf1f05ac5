"""Reference embeddings from OpenCV's FaceDetectorYN + FaceRecognizerSF.

Used only by tests/reference_opencv.rs. Usage:
    python opencv_ref.py MODELS_DIR OUT_DIR IMAGE...
Prints one JSON object per image: landmarks, feature (128 floats), and the
path of OpenCV's aligned crop (PNG, RGB order on disk as usual).
"""
import json
import os
import sys

import cv2
import numpy as np
import onnx

models, out_dir, images = sys.argv[1], sys.argv[2], sys.argv[3:]
det_path = os.path.join(models, "face_detection_yunet_2023mar_int8bq.onnx")
rec_src = os.path.join(models, "face_recognition_sface_2021dec_int8bq.onnx")
# OpenCV refuses SFace-int8bq as shipped because it declares unused graph
# inputs; drop them (weights untouched, OpenCV still dequantises itself).
m = onnx.load(rec_src)
used = {i for n in m.graph.node for i in n.input}
inits = {t.name for t in m.graph.initializer}
keep = [i for i in m.graph.input if i.name in used and i.name not in inits]
del m.graph.input[:]
m.graph.input.extend(keep)
rec_path = os.path.join(out_dir, "sface_inputs_pruned.onnx")
onnx.save(m, rec_path)
rec = cv2.FaceRecognizerSF.create(rec_path, "")
for k, path in enumerate(images):
    img = cv2.imread(path)
    h, w = img.shape[:2]
    # The detector sees the image at the size ours does: downscaled (area filter) to fit
    # 640x640 when larger, as is; landmarks are mapped back and the crop is taken from the
    # full-resolution image, as in our pipeline.
    scale = min(1.0, 640.0 / w, 640.0 / h)
    small = img if scale == 1.0 else cv2.resize(
        img, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA)
    sh, sw = small.shape[:2]
    det = cv2.FaceDetectorYN.create(det_path, "", (sw, sh), 0.7, 0.3, 5000)
    _, faces = det.detect(small)
    if faces is None or len(faces) == 0:
        print(json.dumps({"image": path, "faces": 0}))
        continue
    faces = faces.copy()
    faces[:, 0:14:2] *= w / sw
    faces[:, 1:14:2] *= h / sh
    areas = faces[:, 2] * faces[:, 3]
    f = faces[int(np.argmax(areas))]
    crop = rec.alignCrop(img, f)
    feat = rec.feature(crop).flatten()
    crop_path = os.path.join(out_dir, f"crop{k}.png")
    cv2.imwrite(crop_path, crop)
    print(json.dumps({
        "image": path,
        "faces": int(len(faces)),
        "landmarks": f[4:14].reshape(5, 2).tolist(),
        "feature": feat.tolist(),
        "crop": crop_path,
    }))
