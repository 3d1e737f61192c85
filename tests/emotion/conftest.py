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


def save_tiny_model(path, size: int = 48, seed: int = 0):
    """An untrained model with the shipped contract: float32 [N,size,size,1] 0..255 -> softmax [N,7].

    Flatten (not pooling) so that a mirrored or shifted face gives a different answer and TTA is
    observable; size 40 stands for a model trained on random crops.
    """
    import keras

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, 1))
    x = keras.layers.Rescaling(1.0 / 255)(inputs)
    x = keras.layers.Conv2D(4, 3, strides=4, activation="relu")(x)
    x = keras.layers.Flatten()(x)
    outputs = keras.layers.Dense(7, activation="softmax")(x)
    keras.Model(inputs, outputs).save(path)
    return path


@pytest.fixture(scope="session")
def tiny_model_factory():
    """``save_tiny_model`` for tests that need another input size or seed."""
    pytest.importorskip("keras")
    return save_tiny_model


@pytest.fixture(scope="session")
def tiny_model_path(tiny_model_factory, tmp_path_factory):
    return tiny_model_factory(tmp_path_factory.mktemp("model") / "tiny.keras")
