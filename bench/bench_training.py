"""Training throughput of mien_vgg on this CPU: the previous input pipeline against the in-graph one,
float32 against bfloat16, 48x48 faces against 40x40 random crops.

The baseline is the pipeline the shipped model was trained with until 2026-12-02: a Keras PyDataset
augmenting each image in NumPy/OpenCV (kept below, verbatim in effect). Each variant runs in its own
process under jemalloc (LD_PRELOAD acts at start-up) on the same random images and reports the median
time per 64-image training step; ratios are against the baseline measured in the same run.

    python -m bench.bench_training
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from bench.common import run_child

STEPS = 30
JEMALLOC_PATHS = ("/usr/lib/x86_64-linux-gnu/libjemalloc.so.2",)  # Debian's libjemalloc2

CHILD = """
import json, math, statistics, time
import numpy as np, keras, cv2
from recommender.emotion import networks
from recommender.emotion.pipeline import class_weights, train_dataset

steps, pipeline, policy, crop = {steps}, {pipeline!r}, {policy!r}, {crop}
keras.mixed_precision.set_global_policy(policy)
rng = np.random.default_rng(0)
x = rng.integers(0, 256, size=(64 * (steps + 5), 48, 48), dtype=np.uint8)
y = rng.integers(0, 7, size=len(x))


def augment_batch(images, rng):  # the previous pipeline: one image at a time in NumPy/OpenCV
    out = np.empty(images.shape, dtype=np.float32)
    for i, img in enumerate(images):
        if rng.random() < 0.5:
            img = img[:, ::-1]
        matrix = cv2.getRotationMatrix2D((24, 24), rng.uniform(-15, 15), rng.uniform(0.9, 1.12))
        matrix[:, 2] += rng.uniform(-4, 4, size=2)
        warped = cv2.warpAffine(np.ascontiguousarray(img), matrix, (48, 48), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REFLECT_101).astype(np.float32)
        warped = (warped - warped.mean()) * rng.uniform(0.75, 1.25) + warped.mean() + rng.uniform(-25, 25)
        if rng.random() < 0.5:
            h, w = rng.integers(8, 21, size=2)
            y0, x0 = rng.integers(0, 48 - h), rng.integers(0, 48 - w)
            warped[y0:y0 + h, x0:x0 + w] = rng.uniform(0, 255)
        out[i] = np.clip(warped, 0, 255)
    return out


class Previous(keras.utils.PyDataset):
    def __init__(self):
        super().__init__(workers=1, use_multiprocessing=False)
        self.rng = np.random.default_rng(0)

    def __len__(self):
        return math.ceil(len(x) / 64)

    def __getitem__(self, index):
        idx = np.arange(index * 64, min((index + 1) * 64, len(x)))
        targets = np.full((len(idx), 7), 0.1 / 7, np.float32)
        targets[np.arange(len(idx)), y[idx]] += 0.9
        return augment_batch(x[idx], self.rng)[..., None], targets


if pipeline == "previous":
    data = Previous()
else:
    data, _ = train_dataset(x, y, batch_size=64, crop=crop, augment=True, label_smoothing=0.1, mixup=0.0,
                            weights=class_weights(y, 0.5), seed=0)
model = networks.build("mien_vgg", input_size=crop)
model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="categorical_crossentropy")


class StepTimes(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        times.append(time.perf_counter())


times = []
model.fit(data, epochs=1, verbose=0, callbacks=[StepTimes()])
gaps = np.diff(times)[5:]  # the first steps trace and warm up
print("RESULT " + json.dumps(statistics.median(gaps) * 1000))
"""

VARIANTS = {  # name: (pipeline, dtype policy, input size)
    "previous_pipeline_float32_48px": ("previous", "float32", 48),
    "graph_pipeline_float32_48px": ("graph", "float32", 48),
    "graph_pipeline_bfloat16_48px": ("graph", "mixed_bfloat16", 48),
    "graph_pipeline_bfloat16_40px_crops": ("graph", "mixed_bfloat16", 40),
}


def jemalloc() -> str | None:
    return next((p for p in JEMALLOC_PATHS if Path(p).exists()), None)


def step_ms(pipeline: str, policy: str, crop: int) -> float:
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    if jemalloc():
        env["LD_PRELOAD"] = jemalloc()
    return run_child(CHILD.format(steps=STEPS, pipeline=pipeline, policy=policy, crop=crop), env)


def run() -> dict:
    from recommender.emotion.pipeline import training_precision

    native_bf16 = training_precision("auto") == "mixed_bfloat16"
    result = {"cpu_has_native_bfloat16": native_bf16, "allocator": "jemalloc" if jemalloc() else "glibc"}
    baseline = None
    for name, (pipeline, policy, crop) in VARIANTS.items():
        if policy == "mixed_bfloat16" and not native_bf16:
            result[f"{name}_step_ms"] = "skipped (no AMX/AVX512-BF16: emulated bfloat16 is slower)"
            continue
        ms = round(step_ms(pipeline, policy, crop), 1)
        result[f"{name}_step_ms"] = ms
        baseline = baseline or ms
        if ms != baseline:
            result[f"{name}_speedup"] = round(baseline / ms, 2)
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
