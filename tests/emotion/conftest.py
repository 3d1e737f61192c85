"""Fixtures for the emotion core: real photos bundled with scikit-image, and a tiny Keras model."""

import io

import numpy as np
import pytest
from PIL import Image

skimage_data = pytest.importorskip("skimage.data")


def jpeg_bytes(array: np.ndarray, **save_args) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, "JPEG", quality=90, **save_args)
    return buf.getvalue()


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    """Public-domain NASA portrait (Eileen Collins), RGB 512x512, one frontal face."""
    return skimage_data.astronaut()


@pytest.fixture(scope="session")
def astronaut_jpeg(astronaut) -> bytes:
    return jpeg_bytes(astronaut)


@pytest.fixture(scope="session")
def coffee_jpeg() -> bytes:
    """A cup of coffee on a table: a real photo with no face."""
    return jpeg_bytes(skimage_data.coffee())


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """An untrained model with the shipped contract: float32 [N,48,48,1] 0..255 -> softmax [N,7].

    Flatten (not pooling) so a mirrored face gives a different answer and TTA is observable.
    """
    keras = pytest.importorskip("keras")
    keras.utils.set_random_seed(0)
    inputs = keras.Input((48, 48, 1))
    x = keras.layers.Rescaling(1.0 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, strides=4, activation="relu")(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(7, activation="softmax")(x)
    model = keras.Model(inputs, outputs)
    path = tmp_path_factory.mktemp("model") / "tiny.keras"
    model.save(path)
    return path
