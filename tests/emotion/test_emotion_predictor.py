"""The serving predictor, on a tiny untrained model with the shipped model's contract."""

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from recommender.emotion import predictor as P

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def faces():
    return np.random.default_rng(0).integers(0, 256, size=(5, 48, 48), dtype=np.uint8)


def test_it_returns_probabilities_per_face(tiny_model_path, faces):
    out = P.Predictor(tiny_model_path).predict(faces)
    assert out.shape == (5, 7) and out.dtype == np.float32
    assert np.allclose(out.sum(axis=1), 1.0, atol=1e-6)
    assert (out >= 0).all()


def test_it_accepts_no_faces(tiny_model_path):
    out = P.Predictor(tiny_model_path).predict(np.zeros((0, 48, 48), np.uint8))
    assert out.shape == (0, 7) and out.dtype == np.float32


@pytest.mark.parametrize("bad", [
    np.zeros((2, 48, 48), np.float32),
    np.zeros((48, 48), np.uint8),
    np.zeros((2, 64, 64), np.uint8),
    np.zeros((2, 48, 48, 3), np.uint8),
])
def test_it_refuses_wrong_input(tiny_model_path, bad):
    with pytest.raises(ValueError):
        P.Predictor(tiny_model_path, tta=False).predict(bad)


def test_the_fast_path_equals_the_model(tiny_model_path, faces):
    plain = P.Predictor(tiny_model_path, tta=False)
    x = faces[..., None].astype(np.float32)
    expected = plain.model(x, training=False).numpy()
    np.testing.assert_allclose(plain.predict(faces), expected, atol=1e-5)
    np.testing.assert_allclose(P.naive_predict(plain.model, faces), expected, atol=1e-5)

    tta = P.Predictor(tiny_model_path, tta=True)
    mirrored = tta.model(x[:, :, ::-1].copy(), training=False).numpy()
    np.testing.assert_allclose(tta.predict(faces), (expected + mirrored) / 2, atol=1e-5)
    assert not np.allclose(expected, mirrored, atol=1e-4)  # so TTA was really exercised


def test_it_batches_large_inputs(tiny_model_path):
    many = np.random.default_rng(1).integers(0, 256, size=(P.MAX_BATCH + 3, 48, 48), dtype=np.uint8)
    p = P.Predictor(tiny_model_path, tta=False)
    out = p.predict(many)
    assert out.shape == (len(many), 7)
    np.testing.assert_allclose(out[-3:], p.predict(many[-3:]), atol=1e-5)


def test_a_missing_model_is_reported(tmp_path):
    with pytest.raises(FileNotFoundError, match="emotion model not found"):
        P.Predictor(tmp_path / "nope.keras")


def test_get_predictor_is_one_per_process(tiny_model_path, monkeypatch):
    monkeypatch.setenv("MIEN_EMOTION_MODEL", str(tiny_model_path))
    monkeypatch.setattr(P, "_predictor", None)
    got = []
    threads = [threading.Thread(target=lambda: got.append(P.get_predictor())) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 4 and all(p is got[0] for p in got)
    assert got[0].model_path == tiny_model_path and got[0].tta


def test_importing_the_core_does_not_start_tensorflow():
    code = (
        "import sys, recommender.emotion, recommender.emotion.predictor;"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)
