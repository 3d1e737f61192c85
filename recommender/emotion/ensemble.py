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


def member_recipe(path: Path) -> dict | None:
    """The recipe a member was trained with: beside an exported model, or in its run folder."""
    for candidate in (path.with_suffix(".recipe.json"), path.parent / "recipe.json"):
        if candidate.exists():
            return json.loads(candidate.read_text())
    return None


def build(members: list[tuple[Path, int]], out: Path) -> Path:
    """Write OUT (.keras), its .tflite and a recipe naming each member (file, sha256, views, recipe);
    the views live inside the graph, so the ensemble is served on one view of the face."""
    import keras

    from .networks import averaged

    recipes = [member_recipe(Path(path)) or {} for path, _ in members]
    if len({r.get("equalize", False) for r in recipes}) > 1:
        raise ValueError("the members were trained on different inputs (equalised and raw rows)")
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    models = [(keras.saving.load_model(path, compile=False), views) for path, views in members]
    averaged(models).save(out)
    convert(out)
    out.with_suffix(".recipe.json").write_text(json.dumps({
        "arch": "ensemble",
        "equalize": any(r.get("equalize", False) for r in recipes),
        "serve_views": 1,
        "members": [{"file": str(path), "sha256": sha256(path), "views": views, "recipe": recipe}
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
