"""A weight soup: fine-tunes of one network averaged weight by weight into one, its batch norm recomputed
on training faces, greedy about which ingredients it keeps."""

import json

import numpy as np
import pytest

from recommender.emotion import networks
from recommender.emotion.recalibration import recalibrate_batch_norm
from recommender.emotion.soup import average_into, cook, main, served_accuracy

FACES = np.random.default_rng(5).integers(0, 256, (96, 48, 48), dtype=np.uint8)


def ingredients(tmp_path, count: int) -> list:
    """Tiny mien_vggs of one shape, each with its own weights and batch-norm statistics (as fine-tunes have)."""
    import keras

    paths = []
    for number in range(count):
        keras.utils.set_random_seed(number)
        model = networks.mien_vgg(widths=(4, 8, 16, 32))
        recalibrate_batch_norm(model, FACES[number * 16:(number + 1) * 16], batch_size=16)
        paths.append(tmp_path / f"ingredient{number}.keras")
        model.save(paths[-1])
    return paths


def load(path):
    import keras

    return keras.saving.load_model(path, compile=False)


def test_a_soup_averages_each_trained_weight_and_recomputes_batch_norm_on_the_training_faces(tmp_path):
    import keras

    paths = ingredients(tmp_path, 3)
    x_val, y_val = FACES[:32], np.zeros(32, dtype=np.int64)
    soup, record = cook(paths, FACES, x_val, y_val, greedy=False)
    models = [load(path) for path in paths]
    for layer in soup.layers:
        for index, weight in enumerate(layer.trainable_weights):
            mean = np.mean([keras.ops.convert_to_numpy(m.get_layer(layer.name).trainable_weights[index])
                            for m in models], axis=0)
            np.testing.assert_allclose(keras.ops.convert_to_numpy(weight), mean, rtol=1e-6, atol=1e-7)
    # The averaged statistics describe no network: the soup's are those of the averaged weights on the faces.
    expected = load(paths[0])
    average_into(expected, models)
    recalibrate_batch_norm(expected, FACES)
    for name in ("s1_bn1", "s4_bn2"):
        soup_mean = keras.ops.convert_to_numpy(soup.get_layer(name).moving_mean)
        np.testing.assert_allclose(soup_mean, keras.ops.convert_to_numpy(expected.get_layer(name).moving_mean),
                                   rtol=1e-4, atol=1e-5)
        averaged = np.mean([keras.ops.convert_to_numpy(m.get_layer(name).moving_mean) for m in models], axis=0)
        assert not np.allclose(soup_mean, averaged, rtol=1e-3, atol=1e-4)
    assert sorted(record["kept"]) == sorted(map(str, paths)) and record["recalibrated_on_training_faces"] == 96
    assert record["public_test_accuracy"] == served_accuracy(soup, x_val, y_val)


def test_greedy_keeps_only_ingredients_that_do_not_lower_public_test_accuracy(tmp_path):
    paths = ingredients(tmp_path, 3)
    best = load(paths[1])
    x_val = FACES[:48]
    pixels = x_val[..., None].astype("float32")
    # PublicTest labelled by ingredient 1 as served: it scores 100%; the others and any mixture with them less.
    y_val = (best.predict(pixels, verbose=0) + best.predict(pixels[:, :, ::-1], verbose=0)).argmax(axis=1)
    assert len(set(y_val)) >= 2, "the check needs faces the ingredient tells apart (no constant labels)"
    data = tmp_path / "data"
    data.mkdir()
    np.savez(data / "train.npz", x=FACES, y=np.zeros(len(FACES), dtype=np.uint8))
    np.savez(data / "public_test.npz", x=x_val, y=y_val.astype(np.uint8))
    out = tmp_path / "soup" / "best.keras"
    main(["--greedy", "--data-dir", str(data), "--out", str(out)] + [f"--ingredient={p}" for p in paths])
    record = json.loads(out.with_suffix(".soup.json").read_text())
    assert [i["file"] for i in record["ingredients"]] == list(map(str, paths))
    assert record["ingredients"][1]["public_test_accuracy"] == 1.0
    assert record["kept"] == [str(paths[1])] and record["public_test_accuracy"] == 1.0
    assert len(record["steps"]) == 2 and not any(step["kept"] for step in record["steps"])
    for mine, theirs in zip(load(out).weights, best.weights):  # the best ingredient, batch norm included, untouched
        np.testing.assert_array_equal(np.asarray(mine), np.asarray(theirs))


def test_only_one_network_makes_a_soup(tmp_path):
    networks.mien_vgg(widths=(4, 8, 16, 32)).save(tmp_path / "narrow.keras")
    networks.mien_vgg(widths=(8, 16, 32, 64)).save(tmp_path / "wide.keras")
    with pytest.raises(ValueError, match="weights differ in shape"):
        cook([tmp_path / "narrow.keras", tmp_path / "wide.keras"], FACES, FACES[:8], np.zeros(8, dtype=np.int64))
    with pytest.raises(SystemExit):
        main(["--ingredient", str(tmp_path / "narrow.keras"), "--out", str(tmp_path / "soup.keras")])
