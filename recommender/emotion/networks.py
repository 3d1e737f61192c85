"""Emotion networks (pure Keras, no Django).

Every network takes raw pixels, float32 [N, 48, 48, 1] in 0..255, and rescales inside the
model, so callers never need to know the normalisation. Outputs are softmax over the seven
FER2013 classes.

- ``paper_cnn``: Table 1 of the paper. The table says 3x3 kernels, but its printed output sizes
  (42, 36, 18, 12, 6, 3) only follow from 7x7 *valid* convolutions (48-6=42, 42-6=36, pool 18,
  18-6=12, 12-6=6, pool 3), so we use 7x7 valid kernels to reproduce the table's shapes.
- ``mien_vgg``: a VGG-style net with batch norm, four stages of two 3x3 convolutions, global
  average pooling and dropout; about 1.2M parameters, cheap enough to serve on one CPU thread
  (shipped until 2026-12-08).
- ``mien_vgg_w512`` (the model we ship) and ``mien_vgg_w384``: the same net with its last stage
  doubled (3.2M parameters) or its last two stages 1.5x as wide (2.5M). Most parameters cost little
  arithmetic there (6x6 and 12x12 maps): one view serves in ~4.2 ms on one thread against ~2.5 ms
  (the model card's levers). ``widen`` starts them from a trained mien_vgg computing the same
  function, so they need not be trained from scratch.
"""

from __future__ import annotations

import os
from pathlib import Path

from .labels import EMOTIONS, FACE_SIZE

NUM_CLASSES = len(EMOTIONS)


def _keras():
    # Imported lazily so that importing this module never starts TensorFlow.
    import keras

    return keras


def paper_cnn() -> "keras.Model":
    """The paper's 8-layer CNN (Table 1): conv64, conv128, pool, conv256, conv256, pool, FC512, FC7."""
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input((FACE_SIZE, FACE_SIZE, 1), name="pixels")
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(64, 7, activation="relu", name="conv1")(x)  # 42x42
    x = layers.Conv2D(128, 7, activation="relu", name="conv2")(x)  # 36x36
    x = layers.MaxPooling2D(2, name="pool1")(x)  # 18x18
    x = layers.Conv2D(256, 7, activation="relu", name="conv3")(x)  # 12x12
    x = layers.Conv2D(256, 7, activation="relu", name="conv4")(x)  # 6x6
    x = layers.MaxPooling2D(2, name="pool2")(x)  # 3x3
    x = layers.Flatten()(x)
    x = layers.Dense(512, activation="relu", name="fc1")(x)
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="fc2")(x)
    return keras.Model(inputs, outputs, name="paper_cnn")


def mien_vgg(widths: tuple[int, ...] = (32, 64, 128, 256), dropout: float = 0.4,
             input_size: int = FACE_SIZE) -> "keras.Model":
    """VGG-style net with batch norm: 4 stages x 2 convs (``widths``), GAP, dropout, FC7.

    ``input_size`` below 48 trains on random crops of the face (40 in the FER2013 records) and is
    served on the ten crops (corners, centre, mirrored) that the predictor cuts from the 48x48 face;
    the weights do not depend on it (global average pooling), so a 48 model can start a 40 one."""
    keras = _keras()
    layers = keras.layers
    inputs = keras.Input((input_size, input_size, 1), name="pixels")
    # Per-image standardisation would undo histogram equalisation; a fixed affine map is enough.
    x = layers.Rescaling(1.0 / 127.5, offset=-1.0)(inputs)
    for stage, filters in enumerate(widths, start=1):
        for conv in (1, 2):
            x = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=f"s{stage}_conv{conv}")(x)
            x = layers.BatchNormalization(name=f"s{stage}_bn{conv}")(x)
            x = layers.ReLU(name=f"s{stage}_relu{conv}")(x)
        x = layers.MaxPooling2D(2, name=f"s{stage}_pool")(x)  # 24, 12, 6, 3
        if stage >= 3:
            x = layers.SpatialDropout2D(0.1, name=f"s{stage}_drop")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    # float32 softmax even under a mixed (bfloat16) training policy: probabilities need the mantissa.
    outputs = layers.Dense(NUM_CLASSES, activation="softmax", name="classes", dtype="float32")(x)
    return keras.Model(inputs, outputs, name="mien_vgg")


def averaged(members: list[tuple["keras.Model", int]], name: str = "mien_ensemble") -> "keras.Model":
    """One model that averages trained 48x48 members, each on 1 view (the face) or 2 (the face and its
    mirror image, averaged first), so the ensemble is served, saved and converted as a single model.

    The mirror is a fixed Dense map on each pixel row (the anti-identity), not a Lambda: plain layers
    load without unsafe deserialisation and convert to LiteRT."""
    import numpy as np

    keras = _keras()
    layers = keras.layers
    inputs = keras.Input((FACE_SIZE, FACE_SIZE, 1), name="pixels")
    mirror = layers.Dense(FACE_SIZE, use_bias=False, trainable=False, name="mirror")
    mirrored = layers.Reshape((FACE_SIZE, FACE_SIZE, 1))(mirror(layers.Reshape((FACE_SIZE, FACE_SIZE))(inputs)))
    mirror.set_weights([np.eye(FACE_SIZE, dtype="float32")[::-1]])
    outputs = []
    for number, (model, views) in enumerate(members, start=1):
        if tuple(model.input_shape[1:]) != (FACE_SIZE, FACE_SIZE, 1) or views not in (1, 2):
            raise ValueError(f"member {number}: an ensemble takes {FACE_SIZE}x{FACE_SIZE} models on 1 or 2 views")
        member = keras.Model(model.input, model.output, name=f"member{number}")
        out = member(inputs)
        if views == 2:
            out = layers.Average(name=f"member{number}_views")([out, member(mirrored)])
        outputs.append(out)
    if not outputs:
        raise ValueError("an ensemble needs at least one member")
    output = outputs[0] if len(outputs) == 1 else layers.Average(name="members")(outputs)
    return keras.Model(inputs, output, name=name)


def mien_vgg_w512(input_size: int = FACE_SIZE) -> "keras.Model":
    return mien_vgg((32, 64, 128, 512), input_size=input_size)


def mien_vgg_w384(input_size: int = FACE_SIZE) -> "keras.Model":
    return mien_vgg((32, 64, 192, 384), input_size=input_size)


ARCHITECTURES = {"paper": paper_cnn, "mien_vgg": mien_vgg, "mien_vgg_w512": mien_vgg_w512,
                 "mien_vgg_w384": mien_vgg_w384}


def widen(source: "keras.Model", target: "keras.Model", seed: int = 0, noise: float = 0.01) -> "keras.Model":
    """Give ``target`` (a mien_vgg, as wide as ``source`` or wider) ``source``'s weights so it computes the
    same function: Net2WiderNet (Chen et al., 2016). Each new channel copies an existing one (its kernel
    and batch-norm statistics), and the next layer divides the weights it reads from a channel by the
    number of its copies. The copies' kernels get Gaussian noise (``noise`` x the kernel's spread) so
    they learn apart; with no new channels this is a plain copy of the weights."""
    import numpy as np

    keras = _keras()
    if [tuple(w.shape) for w in source.weights] == [tuple(w.shape) for w in target.weights]:
        target.set_weights(source.get_weights())  # any architecture, a crop model included
        return target
    rng = np.random.default_rng(seed)
    copies_of = None  # target channel -> the source channel it copies, for the last layer's outputs
    for layer in target.layers:
        if not layer.weights:
            continue
        weights = source.get_layer(layer.name).get_weights()
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
            kernel = weights[0]
            if copies_of is not None:  # split each source input among its copies
                shares = np.bincount(copies_of, minlength=kernel.shape[-2])[copies_of]
                kernel = np.take(kernel, copies_of, axis=-2) / shares[:, None]
            outputs, wanted = kernel.shape[-1], layer.kernel.shape[-1]
            if wanted < outputs:
                raise ValueError(f"{layer.name}: {wanted} outputs cannot hold the source's {outputs}")
            copies_of = np.concatenate([np.tile(np.arange(outputs), wanted // outputs),
                                        rng.choice(outputs, wanted % outputs, replace=False)])
            kernel = np.take(kernel, copies_of, axis=-1)
            kernel[..., outputs:] += rng.normal(0, noise * kernel.std(), kernel[..., outputs:].shape)
            weights = [kernel.astype("float32")] + [np.take(w, copies_of, axis=-1) for w in weights[1:]]
        else:  # batch norm: each copy keeps its channel's scale, shift and statistics
            weights = [np.take(w, copies_of, axis=-1) for w in weights]
        layer.set_weights(weights)
    return target


def build(arch: str, input_size: int = FACE_SIZE) -> "keras.Model":
    if arch not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {arch!r}; choose from {sorted(ARCHITECTURES)}")
    if input_size != FACE_SIZE:
        if arch == "paper":
            raise ValueError("the paper's Table 1 net is defined on 48x48 faces only")
        return ARCHITECTURES[arch](input_size=input_size)
    return ARCHITECTURES[arch]()


def save_atomically(model: "keras.Model", path: Path) -> None:
    """Save ``model`` to ``path`` through a sibling file and a rename, so a kill never leaves half a model."""
    partial = path.with_name(f"{path.stem}.tmp.keras")  # Keras insists on the .keras suffix
    model.save(partial)
    os.replace(partial, path)
