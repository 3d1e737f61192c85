"""Build one servable model from several trained ones (pure core, no Django): their probabilities
averaged, each member on the views chosen for it on PublicTest (``choose``), inside a single graph
(``networks.averaged``) that is saved as .keras and converted to LiteRT like any other model.

    python -m recommender.emotion.ensemble --member recommender/emotion/weights/emotion_model.keras:2 \\
        --member runs/mixup_warm6/best.keras:1 --out runs/ensemble/emotion_model.keras
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .lite import convert, sha256
from .stages import read_history


def member_recipe(path: Path) -> dict | None:
    """The recipe a member was trained with: beside an exported model, or in its run folder."""
    return _beside(path, "recipe.json")


def member_summary(path: Path) -> dict | None:
    """How a member was trained (epochs, chosen epoch, time, stages): ``export`` writes it beside a
    model with every warm-start stage counted; a run folder's covers that run alone."""
    return _beside(path, "summary.json")


def _beside(path: Path, name: str) -> dict | None:
    for candidate in (path.with_suffix(f".{name}"), path.parent / name):
        if candidate.exists():
            return json.loads(candidate.read_text())
    return None


def member_history(path: Path) -> list[dict]:
    beside = path.with_suffix(".history.csv")
    return read_history(beside if beside.exists() else path.parent / "history.csv")


def build(members: list[tuple[Path, int]], out: Path) -> Path:
    """Write OUT (.keras), its .tflite, a recipe naming each member (file, sha256, views, recipe and
    training summary) and each member's curves (OUT.memberN.curves.png); the views live inside the
    graph, so the ensemble is served on one view of the face."""
    import keras

    from .evaluate import plot_history
    from .networks import averaged

    recipes = [member_recipe(Path(path)) or {} for path, _ in members]
    if len({r.get("equalize", False) for r in recipes}) > 1:
        raise ValueError("the members were trained on different inputs (equalised and raw rows)")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    models = [(keras.saving.load_model(path, compile=False), views) for path, views in members]
    averaged(models).save(out)
    convert(out)
    for number, (path, _) in enumerate(members, start=1):
        curves = out.with_name(f"{out.stem}.member{number}.curves.png")
        curves.unlink(missing_ok=True)
        if history := member_history(Path(path)):
            plot_history(history, curves, title=f"member {number}: {Path(path).name}")
    out.with_suffix(".recipe.json").write_text(json.dumps({
        "arch": "ensemble",
        "equalize": any(r.get("equalize", False) for r in recipes),
        "serve_views": 1,
        "members": [{"file": str(path), "sha256": sha256(path), "views": views, "recipe": recipe,
                     "summary": {k: v for k, v in (member_summary(Path(path)) or {}).items() if k != "recipe"}}
                    for (path, views), recipe in zip(members, recipes)],
    }, indent=2) + "\n")
    return out


def parse_member(text: str) -> tuple[Path, int]:
    path, sep, views = text.rpartition(":")
    if not sep or views not in ("1", "2"):
        raise argparse.ArgumentTypeError(f"{text!r}: write MODEL.keras:VIEWS with VIEWS 1 or 2")
    return Path(path), int(views)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--member", type=parse_member, action="append", required=True, metavar="MODEL.keras:VIEWS")
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    print(f"wrote {build(args.member, args.out)}")


if __name__ == "__main__":
    main()
