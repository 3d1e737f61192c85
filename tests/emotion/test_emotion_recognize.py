"""The recognize() contract, end to end on real photos."""

import numpy as np
import pytest

from recommender import emotion
from recommender.emotion import predictor as P


class MustNotRun:
    def predict(self, faces):
        raise AssertionError("the model must not run when there is no face")


def test_it_recognises_the_astronaut(tiny_model_path, astronaut_jpeg):
    result = emotion.recognize(astronaut_jpeg, predictor=P.Predictor(tiny_model_path))
    assert result.face_count == 1 == len(result.faces)
    face = result.faces[0]
    assert len(face.box) == 4 and all(type(v) is int for v in face.box)
    assert list(face.probabilities) == list(emotion.EMOTIONS)
    assert sum(face.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    assert result.emotion == face.emotion == max(face.probabilities, key=face.probabilities.get)
    as_dict = result.as_dict()
    assert as_dict["faces"][0]["box"] == face.box and as_dict["emotion"] == result.emotion


def test_no_face_is_a_plain_answer_not_a_guess(coffee_jpeg):
    result = emotion.recognize(coffee_jpeg, predictor=MustNotRun())
    assert result.face_count == 0 and result.faces == [] and result.emotion is None


def test_an_unreadable_upload_raises_image_decode_error():
    with pytest.raises(emotion.ImageDecodeError):
        emotion.recognize(b"GIF89a broken", predictor=MustNotRun())
    assert issubclass(emotion.ImageDecodeError, ValueError)


def test_predict_faces_uses_the_configured_model(tiny_model_path, monkeypatch):
    monkeypatch.setenv("MIEN_EMOTION_MODEL", str(tiny_model_path))
    monkeypatch.setattr(P, "_predictor", None)
    out = emotion.predict_faces(np.zeros((2, 48, 48), np.uint8))
    assert out.shape == (2, 7) and out.dtype == np.float32
    assert np.allclose(out.sum(axis=1), 1.0, atol=1e-6)


@pytest.mark.skipif(not P.default_model_path().is_file(), reason="no trained model shipped yet")
def test_the_shipped_model_reads_a_smile(astronaut_jpeg, monkeypatch):
    monkeypatch.setattr(P, "_predictor", None)
    result = emotion.recognize(astronaut_jpeg)
    assert result.face_count == 1
    assert result.emotion == "happy"
