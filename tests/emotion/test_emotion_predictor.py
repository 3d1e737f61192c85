"""The serving predictor, on a tiny untrained model with the shipped model's contract."""

import os
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


@pytest.fixture(scope="module")
def crop_model_path(tiny_model_factory, tmp_path_factory):
    """A tiny 40x40 model, as trained on random crops: each crop and its mirror answer differently."""
    return tiny_model_factory(tmp_path_factory.mktemp("crop-model") / "crop40.keras", size=40, seed=1)


@pytest.mark.parametrize("views", [1, 2, 5, 10])
def test_a_crop_model_averages_the_centre_corners_and_mirrors(crop_model_path, faces, views):
    p = P.Predictor(crop_model_path, views=views)
    x = faces[..., None].astype(np.float32)
    corners = [(4, 4), (0, 0), (0, 8), (8, 0), (8, 8)][: 1 if views <= 2 else 5]
    crops = [x[:, r:r + 40, c:c + 40] for r, c in corners]
    if views in (2, 10):
        crops += [crop[:, :, ::-1] for crop in crops]
    expected = np.mean([p.model(np.ascontiguousarray(c), training=False).numpy() for c in crops], axis=0)
    np.testing.assert_allclose(p.predict(faces), expected, atol=1e-5)
    assert p.views == views


def test_a_crop_model_serves_ten_views_unless_its_recipe_chose_fewer(crop_model_path, tmp_path, faces):
    assert P.Predictor(crop_model_path).views == 10
    assert P.Predictor(crop_model_path, tta=False).views == 1
    chosen = tmp_path / "chosen.keras"
    chosen.write_bytes(crop_model_path.read_bytes())
    chosen.with_suffix(".recipe.json").write_text('{"serve_views": 5}')
    assert P.Predictor(chosen).views == 5
    ten, five = P.Predictor(crop_model_path).predict(faces), P.Predictor(chosen).predict(faces)
    assert not np.allclose(ten, five, atol=1e-5)


def test_views_that_do_not_fit_the_model_are_refused(tiny_model_path, crop_model_path):
    with pytest.raises(ValueError, match="choose 1 or 2"):
        P.Predictor(tiny_model_path, views=10)  # a 48 model has no corners to cut
    with pytest.raises(ValueError, match="5 or 10"):
        P.Predictor(crop_model_path, views=3)


@pytest.fixture(scope="module")
def converted(tiny_model_factory, tmp_path_factory):
    """A 48 and a 40 tiny model, each converted to LiteRT beside its .keras file."""
    from recommender.emotion.lite import convert

    folder = tmp_path_factory.mktemp("lite")
    paths = {48: tiny_model_factory(folder / "plain.keras", seed=2), 40: tiny_model_factory(folder / "crop.keras", size=40, seed=3)}
    for path in paths.values():
        convert(path)
    return paths


@pytest.mark.parametrize("size,views", [(48, 1), (48, 2), (40, 1), (40, 2), (40, 5), (40, 10)])
def test_litert_serves_what_tensorflow_serves(converted, faces, size, views):
    lite = P.Predictor(converted[size], views=views)
    tf_path = P.Predictor(converted[size], views=views, runtime="tensorflow")
    assert (lite.runtime, tf_path.runtime) == ("litert", "tensorflow") and lite.model is None
    assert lite.views == tf_path.views == views and lite.input_size == size
    many = np.random.default_rng(5).integers(0, 256, size=(P.MAX_BATCH + 3, 48, 48), dtype=np.uint8)
    for batch in (faces[:1], faces, many):  # one face, a few, and more than one graph batch
        np.testing.assert_allclose(lite.predict(batch), tf_path.predict(batch), atol=1e-5)


def test_a_model_trained_in_bfloat16_converts_and_serves_in_float32(tmp_path, faces):
    import keras

    from recommender.emotion import networks
    from recommender.emotion.lite import as_float32, convert

    keras.mixed_precision.set_global_policy("mixed_bfloat16")  # as train.py does on AMX CPUs
    try:
        trained = networks.mien_vgg(widths=(4, 8, 16, 32))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    trained.save(tmp_path / "bf16.keras")
    assert any(layer.dtype_policy.name == "mixed_bfloat16" for layer in trained.layers)
    rebuilt = as_float32(keras.saving.load_model(tmp_path / "bf16.keras"))
    assert {layer.dtype_policy.name for layer in rebuilt.layers} == {"float32"}
    convert(tmp_path / "bf16.keras")  # LiteRT has no bfloat16 kernels: this failed before the rebuild
    served = P.Predictor(tmp_path / "bf16.keras", views=1)
    assert served.runtime == "litert"
    x = faces[..., None].astype(np.float32)
    np.testing.assert_allclose(served.predict(faces), rebuilt(x).numpy(), atol=1e-5)
    # the same weights: bfloat16 compute rounds, it does not change the answer
    np.testing.assert_allclose(served.predict(faces), trained(x).numpy(), atol=2e-2)
    plain = tmp_path / "plain.keras"
    networks.mien_vgg(widths=(4, 8, 16, 32)).save(plain)
    model = keras.saving.load_model(plain)
    assert as_float32(model) is model  # a float32 model is converted as it is


def test_a_stale_litert_file_is_never_served(converted, tiny_model_factory, tmp_path, faces):
    path = tmp_path / "model.keras"
    path.write_bytes(converted[48].read_bytes())
    for suffix in (".tflite", ".tflite.json"):
        path.with_suffix(suffix).write_bytes(converted[48].with_suffix(suffix).read_bytes())
    assert P.Predictor(path).runtime == "litert"
    tiny_model_factory(path, seed=9)  # retrained in place: the .tflite beside it is now another model's
    fresh = P.Predictor(path)
    assert fresh.runtime == "tensorflow"
    x = faces[..., None].astype(np.float32)
    np.testing.assert_allclose(fresh.predict(faces), (fresh.model(x).numpy() + fresh.model(x[:, :, ::-1].copy()).numpy()) / 2,
                               atol=1e-5)
    with pytest.raises(FileNotFoundError, match="python -m recommender.emotion.lite"):
        P.Predictor(path, runtime="litert")
    with pytest.raises(ValueError, match="runtime"):
        P.Predictor(path, runtime="onnx")


def test_litert_predictions_are_safe_from_several_threads(converted):
    lite = P.Predictor(converted[40], views=10)
    batches = [np.random.default_rng(s).integers(0, 256, size=(n, 48, 48), dtype=np.uint8)
               for s, n in enumerate((1, 3, 7, 2, 5, 1, 4, 6))]
    expected = [lite.predict(b) for b in batches]
    got = [None] * len(batches)

    def work(i):
        for _ in range(20):  # each thread resizes its own interpreter between batch sizes
            got[i] = lite.predict(batches[i])
            assert np.allclose(got[i], expected[i], atol=1e-6)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(len(batches))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, atol=1e-6)


def test_serving_the_shipped_model_does_not_start_tensorflow():
    code = (
        "import sys, numpy as np\n"
        "from recommender.emotion.predictor import Predictor, default_model_path\n"
        "p = Predictor(default_model_path())\n"
        "out = p.predict(np.zeros((2, 48, 48), np.uint8))\n"
        "assert p.runtime == 'litert' and out.shape == (2, 7), p\n"
        "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules, 'TF imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True,
                   env={k: v for k, v in os.environ.items() if k != "MIEN_EMOTION_MODEL"})


def test_an_ensemble_is_served_as_one_model_averaging_its_members_views(tiny_model_factory, tmp_path, faces):
    import json

    from recommender.emotion.ensemble import build

    a = tiny_model_factory(tmp_path / "a.keras", seed=4)
    b = tiny_model_factory(tmp_path / "b.keras", seed=5)
    a.with_suffix(".recipe.json").write_text('{"arch": "mien_vgg", "equalize": false}')
    a.with_suffix(".summary.json").write_text('{"epochs_done": 3, "best_epoch": 2, "recipe": {"arch": "mien_vgg"}}')
    a.with_suffix(".history.csv").write_text("epoch,seconds,accuracy,loss,val_accuracy,val_loss,learning_rate\n"
                                             "1,9.0,0.4,1.5,0.4,1.5,0.001\n2,9.0,0.5,1.3,0.5,1.3,0.001\n")
    out = build([(a, 2), (b, 1)], tmp_path / "ensemble" / "emotion_model.keras")
    served = P.Predictor(out)
    assert served.runtime == "litert" and served.views == 1  # the views live inside the graph
    expected = (P.Predictor(a, views=2).predict(faces) + P.Predictor(b, views=1).predict(faces)) / 2
    np.testing.assert_allclose(served.predict(faces), expected, atol=1e-5)
    np.testing.assert_allclose(P.Predictor(out, runtime="tensorflow").predict(faces), expected, atol=1e-5)
    assert not np.allclose(expected, P.Predictor(a, views=2).predict(faces), atol=1e-4)  # b really counts
    recipe = json.loads(out.with_suffix(".recipe.json").read_text())
    assert [(m["views"], m["recipe"].get("arch")) for m in recipe["members"]] == [(2, "mien_vgg"), (1, None)]
    # How each member was trained travels with the ensemble, for the card (a has a summary, b none).
    assert [m["summary"] for m in recipe["members"]] == [{"epochs_done": 3, "best_epoch": 2}, {}]
    assert (out.parent / "emotion_model.member1.curves.png").exists()
    assert not (out.parent / "emotion_model.member2.curves.png").exists()

    b.with_suffix(".recipe.json").write_text('{"arch": "mien_vgg", "equalize": true}')
    with pytest.raises(ValueError, match="different inputs"):
        build([(a, 2), (b, 1)], tmp_path / "mixed.keras")
    crop = tiny_model_factory(tmp_path / "crop.keras", size=40)
    with pytest.raises(ValueError, match="48x48 models"):
        build([(a, 1), (crop, 1)], tmp_path / "cropped.keras")
