"""The model card's teachers section: every recorded model's predictions and every ensemble of them
on PublicTest (pure core, no Django)."""

from __future__ import annotations

from pathlib import Path

from .pipeline import DEFAULT_DATA_DIR


TEACHERS_PROSE = [
    "## Teachers: every trained model's predictions, kept",
    "",
    "A lever run's weights stay in `runs/`, which the next session's machine does not have. Its predictions "
    "on train and PublicTest as it would be served (float16, ~0.4 MB; never PrivateTest) are committed in "
    "`recommender/emotion/weights/teachers/` instead, so models trained in different sessions can be averaged "
    "on PublicTest and distilled into one served student (`train --distil NAME ... --distil-weight W`: the "
    "targets become (1 - W) x the smoothed label + W x the teachers' mean) without training them again. "
    "Recorded with `python -m recommender.emotion.teachers record NAME=PATH`; the ensembles below with "
    "`python -m recommender.emotion.teachers ensemble` (latency: the members' one-face times added, each "
    "measured on one thread of the shared machine the day it was recorded, so they vary by a third from run "
    "to run, and by machine: `mixup_seed2027`'s on the Intel Xeon, the two `ema_` models' on an AMD EPYC with "
    "AVX512-BF16, the others' on the AMD EPYC without AVX-512).",
]


def teacher_section(data_dir: Path = DEFAULT_DATA_DIR, teachers_dir: Path | None = None) -> list[str]:
    """The recorded teachers and every ensemble of them, on PublicTest."""
    from .teachers import TEACHERS_DIR, ensembles, recorded

    metas = recorded(teachers_dir or TEACHERS_DIR)
    if not metas:
        return []
    lines = [*TEACHERS_PROSE, "", "| teacher | views | train acc (clean faces) | PublicTest acc | "
             "PublicTest macro recall | one face, ms | recorded |", "|---|---|---|---|---|---|---|"]
    for name, meta in metas.items():
        lines.append(f"| {name} | {meta['views']} | {meta['train']['accuracy']:.2%} | "
                     f"{meta['public_test']['accuracy']:.2%} | {meta['public_test']['macro_recall']:.2%} | "
                     f"{meta['one_face_ms']:.2f} | {meta['recorded']} |")
    if len(metas) > 1:
        lines += ["", "| ensemble | PublicTest acc | PublicTest macro recall | one face, ms |", "|---|---|---|---|"]
        for row in ensembles(list(metas), data_dir, teachers_dir or TEACHERS_DIR):
            if "+" in row["teachers"]:
                lines.append(f"| {row['teachers']} | {row['public_test_accuracy']:.2%} | "
                             f"{row['public_test_macro_recall']:.2%} | {row['one_face_ms']:.2f} |")
    return lines + [""]
