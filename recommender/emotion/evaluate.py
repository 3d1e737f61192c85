"""Evaluation of an emotion model: accuracy, per-class report, confusion matrix and plots.

Pure core (no Django). Plots are drawn with matplotlib's Agg backend, so no display is needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .labels import EMOTIONS


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n: int = len(EMOTIONS)) -> np.ndarray:
    matrix = np.zeros((n, n), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


def report(y_true: np.ndarray, probabilities: np.ndarray) -> dict:
    """Accuracy, macro recall/F1, per-class precision/recall/F1/support and the confusion matrix."""
    y_true = np.asarray(y_true).astype(int)
    if len(y_true) != len(probabilities):
        raise ValueError("labels and predictions differ in length")
    y_pred = np.asarray(probabilities).argmax(axis=1)
    matrix = confusion_matrix(y_true, y_pred)
    per_class = {}
    for i, name in enumerate(EMOTIONS):
        tp = matrix[i, i]
        support = matrix[i].sum()
        predicted = matrix[:, i].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_class[name] = {"precision": round(float(precision), 4), "recall": round(float(recall), 4),
                           "f1": round(float(f1), 4), "support": int(support)}
    present = [c for c in per_class.values() if c["support"]]
    return {
        "n": int(len(y_true)),
        "accuracy": round(float((y_pred == y_true).mean()), 4) if len(y_true) else 0.0,
        "macro_recall": round(float(np.mean([c["recall"] for c in present])), 4) if present else 0.0,
        "macro_f1": round(float(np.mean([c["f1"] for c in present])), 4) if present else 0.0,
        "per_class": per_class,
        "confusion_matrix": matrix.tolist(),
        "labels": list(EMOTIONS),
    }


def format_report(result: dict) -> str:
    lines = [f"images {result['n']}  accuracy {result['accuracy']:.4f}  "
             f"macro recall {result['macro_recall']:.4f}  macro F1 {result['macro_f1']:.4f}", "",
             f"{'class':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}"]
    for name, c in result["per_class"].items():
        lines.append(f"{name:<10}{c['precision']:>10.3f}{c['recall']:>10.3f}{c['f1']:>10.3f}{c['support']:>10}")
    lines += ["", "confusion matrix (rows true, columns predicted): " + " ".join(n[:3] for n in EMOTIONS)]
    for name, row in zip(EMOTIONS, result["confusion_matrix"]):
        lines.append(f"{name:<10}" + "".join(f"{v:>6}" for v in row))
    return "\n".join(lines)


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_confusion(result: dict, path: Path, title: str = "") -> Path:
    """Row-normalised confusion matrix, like the paper's Figure 8."""
    plt = _pyplot()
    matrix = np.asarray(result["confusion_matrix"], dtype=float)
    normalised = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    image = ax.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(EMOTIONS)), [e.title() for e in EMOTIONS], rotation=45, ha="right")
    ax.set_yticks(range(len(EMOTIONS)), [e.title() for e in EMOTIONS])
    for i in range(len(EMOTIONS)):
        for j in range(len(EMOTIONS)):
            ax.text(j, i, f"{normalised[i, j]:.2f}", ha="center", va="center",
                    color="white" if normalised[i, j] > 0.5 else "black", fontsize=8)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or f"accuracy {result['accuracy']:.1%}")
    fig.colorbar(image, ax=ax, fraction=0.046)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_history(rows: list[dict], path: Path, title: str = "") -> Path:
    """Loss and accuracy per epoch for train and PublicTest (the paper's Figures 5 and 6)."""
    plt = _pyplot()
    epochs = [int(r["epoch"]) for r in rows]
    fig, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 4))
    for key, label in (("loss", "train"), ("val_loss", "PublicTest")):
        loss_ax.plot(epochs, [float(r[key]) for r in rows], marker=".", label=label)
    for key, label in (("accuracy", "train"), ("val_accuracy", "PublicTest")):
        acc_ax.plot(epochs, [float(r[key]) for r in rows], marker=".", label=label)
    loss_ax.set(xlabel="epoch", ylabel="loss", title=f"{title} loss")
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title=f"{title} accuracy")
    for ax in (loss_ax, acc_ax):
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def plot_label_distribution(y: np.ndarray, path: Path, title: str = "FER2013 train labels") -> Path:
    """Number of images per class (the paper's Figure 9)."""
    plt = _pyplot()
    counts = np.bincount(np.asarray(y).astype(int), minlength=len(EMOTIONS))
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    ax.bar([e.title() for e in EMOTIONS], counts, color="#4a7bd0")
    for i, c in enumerate(counts):
        ax.text(i, c, str(c), ha="center", va="bottom", fontsize=8)
    ax.set_title(title)
    ax.set_ylabel("images")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return Path(path)


def evaluate_npz(data_path: Path, predict, batch_size: int = 256, limit: int | None = None) -> dict:
    """Run ``predict(uint8 [N,48,48]) -> [N,7]`` over an npz with ``x`` and ``y`` arrays."""
    with np.load(data_path) as data:
        x, y = data["x"], data["y"]
    if limit:
        x, y = x[:limit], y[:limit]
    probabilities = np.concatenate([predict(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]) \
        if len(x) else np.zeros((0, len(EMOTIONS)), np.float32)
    return report(y, probabilities)
