"""A run's history and lineage: history.csv rows, and the stages a warm-started model came through
(pure core, no Django)."""

from __future__ import annotations

import csv
import json
from pathlib import Path


def read_history(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def write_history_row(path: Path, row: dict) -> None:
    new = not path.exists()
    with open(path, "a", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def lineage_history(run_dir: Path, recipe) -> list[dict]:
    """The run's history preceded by its warm start's, epochs numbered on from there.

    A model used for ``init_from`` carries its own history beside it as ``<stem>.history.csv``
    (``export`` writes one), so a shipped model's curves and epoch count cover every stage.
    """
    rows = read_history(run_dir / "history.csv")
    earlier: list[dict] = []
    if recipe.init_from:
        init = Path(recipe.init_from)
        earlier = read_history(init.with_name(f"{init.stem}.history.csv"))
    offset = len(earlier)
    return earlier + [{**row, "epoch": str(int(row["epoch"]) + offset)} for row in rows]


def training_stages(recipe) -> list[dict]:
    """The stages before this run, oldest first ({"recipe", "epochs"} each), read from the warm
    start's summary (``<stem>.summary.json``, which ``export`` writes) or, for an older model,
    from its recipe alone."""
    if not recipe.init_from:
        return []
    init = Path(recipe.init_from)
    summary_path, recipe_path = init.with_name(f"{init.stem}.summary.json"), init.with_name(f"{init.stem}.recipe.json")
    if summary_path.exists():
        earlier = json.loads(summary_path.read_text())
        if "stages" in earlier:
            return earlier["stages"]
        stages = [{"recipe": earlier["warm_start_recipe"], "epochs": earlier["warm_start_epochs"]}] \
            if "warm_start_recipe" in earlier else []
        last_epochs = earlier["epochs_done"] - sum(stage["epochs"] for stage in stages)
        return stages + [{"recipe": earlier["recipe"], "epochs": last_epochs}]
    if recipe_path.exists():
        earlier_recipe = json.loads(recipe_path.read_text())
        return [{"recipe": earlier_recipe, "epochs": len(read_history(init.with_name(f"{init.stem}.history.csv")))
                 or earlier_recipe.get("epochs")}]
    return []
