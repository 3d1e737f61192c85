"""Training throughput of mien_vgg on this CPU: glibc malloc vs jemalloc, same input pipeline.

TensorFlow 2.21's generator dataset (what Keras builds around a PyDataset) sets glibc's
M_TRIM_THRESHOLD to 128 kB, so memory is handed back to the kernel and faulted in again on every
batch: the process spends a third of its time in the kernel. jemalloc ignores that setting. Each
variant runs in its own process (LD_PRELOAD acts at start-up) on the same random batches, with the
project's augmentation, and reports the median time per training step.

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
import json, statistics, time
import numpy as np, keras
from recommender.emotion import networks
from recommender.emotion.train import make_sequence

steps = {steps}
model = networks.build("mien_vgg")
model.compile(optimizer=keras.optimizers.AdamW(1e-3), loss="categorical_crossentropy")
rng = np.random.default_rng(0)
x = rng.integers(0, 256, size=(64 * (steps + 5), 48, 48), dtype=np.uint8)
y = rng.integers(0, 7, size=len(x))

class StepTimes(keras.callbacks.Callback):
    def on_train_batch_end(self, batch, logs=None):
        times.append(time.perf_counter())

times = []
model.fit(make_sequence(x, y, 64, True, 0, 0.1), epochs=1, verbose=0, callbacks=[StepTimes()])
gaps = np.diff(times)[5:]  # the first steps trace and warm up
print("RESULT " + json.dumps(statistics.median(gaps) * 1000))
"""


def jemalloc() -> str | None:
    return next((p for p in JEMALLOC_PATHS if Path(p).exists()), None)


def step_ms(preload: str | None) -> float:
    env = {k: v for k, v in os.environ.items() if k != "LD_PRELOAD"}
    if preload:
        env["LD_PRELOAD"] = preload
    return run_child(CHILD.format(steps=STEPS), env)


def run() -> dict:
    result = {"glibc_step_ms": round(step_ms(None), 1)}
    library = jemalloc()
    if library is None:
        result["jemalloc"] = "not installed (Debian package libjemalloc2)"
        return result
    result["jemalloc_step_ms"] = round(step_ms(library), 1)
    result["speedup"] = round(result["glibc_step_ms"] / result["jemalloc_step_ms"], 2)
    result["images_per_s_jemalloc"] = round(64 / result["jemalloc_step_ms"] * 1000)
    return result


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
