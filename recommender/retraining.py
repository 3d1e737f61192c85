"""Retraining the song classifier from curated labels, asked for in the admin and run as a task.

``request_retrain(user, ...)`` records a queued ``ClassifierRun`` (at most one queued or running per
model file: a partial unique constraint) and queues ``retrain_song_classifier`` once the row is
committed. The task runs the very command a person would, ``manage.py train_song_classifier``
(text emotion data plus every admin-labelled song's lyrics), writing to a candidate file beside the
shipped one. The shipped file is replaced, in one rename, only when training completed and, for
every language trained, the candidate's test macro-F1 is at least the shipped model's on the same
test split; a worse or incomparable candidate is kept beside it, unshipped, unless the run was asked
with ``force``. Either way the run keeps the figures, the outcome and the end of the training log.
"""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
from datetime import timedelta
from pathlib import Path

from celery import shared_task
from django.conf import settings
from django.core.management import call_command
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .models import ClassifierRun

log = logging.getLogger(__name__)

LANGUAGES = ("en", "zh")
LOG_CHARS = 8000  # the end of the training log kept on the run
MIN_MAX_TRAIN = 10


def time_limit() -> int:
    """Seconds a retraining may take (both languages take about 8 minutes on 2 busy cores)."""
    return int(getattr(settings, "MIEN_RETRAIN_TIME_LIMIT", 3 * 3600))


class RetrainAlreadyRunning(Exception):
    def __init__(self, holder: ClassifierRun | None):
        self.holder = holder
        if holder is None:
            message = _("A retraining of the song classifier is already under way; not starting another.")
        else:
            message = _("Retraining #%(id)s of the song classifier is already %(status)s (asked for at %(when)s "
                        "UTC); not starting another.") % {
                "id": holder.pk, "status": holder.get_status_display(),
                "when": f"{holder.requested_at:%Y-%m-%d %H:%M}"}
        super().__init__(message)


def shipped_model_path() -> Path:
    from .lyrics import classifier

    return Path(classifier.MODEL_PATH)  # read at call time: tests point it elsewhere


def candidate_path(target: Path) -> Path:
    return target.with_name(f"{target.stem}.candidate{target.suffix}")


def card_path(model: Path) -> Path:
    return model.with_suffix(".json")


def last_run() -> ClassifierRun | None:
    return ClassifierRun.objects.select_related("requested_by").filter(
        model_path=str(shipped_model_path())).first()


# -- asking ---------------------------------------------------------------------------------------

def abandon_stale(model_path: str) -> int:
    """Mark queued or running runs older than the task's time limit (plus a margin) abandoned."""
    cutoff = timezone.now() - timedelta(seconds=time_limit() + 600)
    return ClassifierRun.objects.filter(model_path=model_path, status__in=ClassifierRun.ACTIVE,
                                        requested_at__lt=cutoff).update(
        status=ClassifierRun.Status.ABANDONED, finished_at=timezone.now(),
        message=_("Abandoned: still not finished long after the task's time limit (did the worker die?)."))


def request_retrain(user=None, *, langs=LANGUAGES, max_train: int | None = None, force: bool = False,
                    data_dir: str | Path | None = None, c_grid=None) -> ClassifierRun:
    """Record a queued run and queue the task when the transaction commits.

    Raises ``ValueError`` for bad options and ``RetrainAlreadyRunning`` while another run of the
    same model file is queued or running.
    """
    langs = list(dict.fromkeys(langs))
    if not langs or any(lang not in LANGUAGES for lang in langs):
        raise ValueError(_("Choose languages among: %(langs)s.") % {"langs": ", ".join(LANGUAGES)})
    if max_train is not None and max_train < MIN_MAX_TRAIN:
        raise ValueError(_("A quick run keeps at least %(n)d training texts per language.") % {"n": MIN_MAX_TRAIN})
    if c_grid is not None and (not c_grid or any(c <= 0 for c in c_grid)):
        raise ValueError(_("C values must be positive."))
    target = str(shipped_model_path())
    options = {"langs": langs, "max_train": max_train, "force": bool(force),
               "data_dir": str(data_dir) if data_dir else None, "c_grid": list(c_grid) if c_grid else None}
    abandon_stale(target)
    try:
        with transaction.atomic():
            run = ClassifierRun.objects.create(model_path=target, requested_by=user, options=options)
    except IntegrityError:
        holder = ClassifierRun.objects.filter(model_path=target, status__in=ClassifierRun.ACTIVE).first()
        raise RetrainAlreadyRunning(holder) from None
    transaction.on_commit(lambda: retrain_song_classifier.delay(run.pk))
    return run


# -- running --------------------------------------------------------------------------------------

def figures_of(card: dict | None, langs) -> dict[str, dict]:
    """{lang: test figures of the classifier the card says was shipped} for ``langs`` in ``card``."""
    figures = {}
    for lang in langs:
        report = ((card or {}).get("languages") or {}).get(lang)
        if not report or report.get("shipped") not in report:
            continue
        name = report["shipped"]
        test = report[name]["test"]
        figures[lang] = {"classifier": name, "macro_f1": test["macro_f1"], "accuracy": test["accuracy"],
                         "test_n": test["n"], "data_dir": card.get("data_dir", "")}
    return figures


def objections(new: dict[str, dict], old: dict[str, dict]) -> list[str]:
    """Why the new figures do not show the candidate at least as good as the shipped model."""
    reasons = []
    for lang, figures in new.items():
        before = old.get(lang)
        if before is None:
            continue  # the shipped model has no such language: nothing to be worse than
        if (before["data_dir"], before["test_n"]) != (figures["data_dir"], figures["test_n"]):
            reasons.append(_("%(lang)s: the shipped model was tested on other data (%(n)s texts from %(dir)s), "
                             "so the figures cannot be compared") % {
                "lang": lang, "n": before["test_n"], "dir": before["data_dir"]})
        elif figures["macro_f1"] < before["macro_f1"]:
            reasons.append(_("%(lang)s: test macro-F1 %(new).3f is below the shipped model's %(old).3f") % {
                "lang": lang, "new": figures["macro_f1"], "old": before["macro_f1"]})
    return reasons


def _command_args(options: dict, output: Path) -> list[str]:
    args = ["--langs", *options["langs"], "--output", str(output)]
    if options.get("max_train"):
        args += ["--max-train", str(options["max_train"])]
    if options.get("data_dir"):
        args += ["--data", options["data_dir"]]
    if options.get("c_grid"):
        args += ["--C", *map(str, options["c_grid"])]
    return args


def _read_card(model: Path) -> dict | None:
    path = card_path(model)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _remove(*paths: Path) -> None:
    for path in paths:
        path.unlink(missing_ok=True)


def run_retrain(run_id: int) -> ClassifierRun | None:
    """Train, compare, ship or keep; the run records what happened. None: not queued any more."""
    if not ClassifierRun.objects.filter(pk=run_id, status=ClassifierRun.Status.QUEUED).update(
            status=ClassifierRun.Status.RUNNING, started_at=timezone.now()):
        return None  # abandoned, or already taken by another delivery of this task
    run = ClassifierRun.objects.get(pk=run_id)
    target = Path(run.model_path)
    candidate = candidate_path(target)
    options = {"langs": list(LANGUAGES), **run.options}
    output = io.StringIO()
    try:
        _remove(candidate, card_path(candidate))
        if target.exists():  # languages not retrained carry over from the shipped model
            shutil.copyfile(target, candidate)
        call_command("train_song_classifier", *_command_args(options, candidate), stdout=output, stderr=output)
        new_card = _read_card(candidate)
        old_card = _read_card(target) if target.exists() else None
        run.scores = figures_of(new_card, options["langs"])
        run.previous_scores = figures_of(old_card, options["langs"])
        run.admin_examples = sum(int((new_card["languages"].get(lang) or {}).get("admin_examples", 0))
                                 for lang in options["langs"])
        reasons = objections(run.scores, run.previous_scores)
        if reasons and not options.get("force"):
            run.message = _("Not shipped (kept at %(path)s): %(why)s. Ask again with “replace even if worse” "
                            "to ship such a model.") % {"path": candidate, "why": "; ".join(reasons)}
        else:
            os.replace(candidate, target)  # one rename: readers see the old file or the new one
            os.replace(card_path(candidate), card_path(target))
            _forget_loaded_model(target)
            run.shipped = True
            run.message = (_("Shipped to %(path)s although %(why)s.") % {"path": target, "why": "; ".join(reasons)}
                           if reasons else _("Shipped to %(path)s.") % {"path": target})
            run.message += " " + _("Run `manage.py label_songs` to relabel the library with it.")
        run.status = ClassifierRun.Status.FINISHED
    except Exception as error:  # the command's CommandError, a soft time limit, a full disk ...
        log.exception("retraining #%s failed", run_id)
        _remove(candidate, card_path(candidate))
        run.status = ClassifierRun.Status.FAILED
        run.message = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    finally:
        run.finished_at = timezone.now()
        run.log = output.getvalue()[-LOG_CHARS:]
        run.save()
    return run


def _forget_loaded_model(target: Path) -> None:
    from .lyrics import classifier

    if target.resolve() == Path(classifier.MODEL_PATH).resolve():
        classifier.reset_model()  # this process; other processes read the new file when they restart


@shared_task(name="recommender.tasks.retrain_song_classifier", acks_late=False, ignore_result=False,
             soft_time_limit=time_limit(), time_limit=time_limit() + 120)
def retrain_song_classifier(run_id: int) -> str:
    """Not acks_late: a retraining outlives the broker's visibility timeout, and the run row, not
    the message, says whether it happened (a second delivery finds it no longer queued)."""
    run = run_retrain(run_id)
    return run.status if run else "skipped"
