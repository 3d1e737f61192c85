"""Curation: what curators do to the library, as plain functions the admin and commands call.

A song's effective labels are those of its highest-priority source (admin > model > catalogue).
Curators write admin labels only; ingest never writes or removes them (see library.py), so a
curated label survives crawling and re-import. Every change of a song's effective labels is kept
as a ``LabelChange`` (who, when, old, new).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from .emotion.labels import EMOTIONS
from .library import bump_library_version, ensure_tags, is_tag_name
from .models import EmotionLabel, LabelChange, Song, Tag
from .spreadsheet import neutralise, restore
from .review import REVIEW_THRESHOLD, review_queue  # noqa: F401  (the queue lives in review.py)

ADMIN = EmotionLabel.Source.ADMIN
MODEL = EmotionLabel.Source.MODEL
CONFIDENCE_BANDS = {  # name -> [low, high)
    "low": (0.0, 0.4),
    "medium": (0.4, 0.7),
    "high": (0.7, 1.01),
}
COLUMNS = ["id", "source", "external_id", "title", "artist", "tags", "emotion", "label_source", "confidence"]


# -- effective labels ---------------------------------------------------------------------------

def effective_labels(labels: Iterable[EmotionLabel]) -> tuple[str, dict[str, float]]:
    """(source, {emotion: confidence}) of the highest-priority source among ``labels``."""
    by_source: dict[str, dict[str, float]] = defaultdict(dict)
    for label in labels:
        by_source[label.source][label.emotion] = label.confidence
    if not by_source:
        return "", {}
    source = max(by_source, key=lambda s: EmotionLabel.PRIORITY[s])
    return source, dict(sorted(by_source[source].items()))


def describe(source: str, emotions: dict[str, float]) -> str:
    if not emotions:
        return ""
    return ", ".join(f"{e} {c:.2f}" for e, c in emotions.items()) + f" ({source})"


def _effective_by_song(song_ids) -> dict[int, tuple[str, dict[str, float]]]:
    labels = defaultdict(list)
    for label in EmotionLabel.objects.filter(song_id__in=list(song_ids)):
        labels[label.song_id].append(label)
    return {song_id: effective_labels(labels.get(song_id, ())) for song_id in song_ids}


def _song_ids(songs) -> list[int]:
    if hasattr(songs, "values_list"):
        return list(songs.values_list("id", flat=True))
    return [s if isinstance(s, int) else s.pk for s in songs]


# -- relabel and approve ------------------------------------------------------------------------

@transaction.atomic
def set_emotions(songs, emotions: dict[str, float] | Iterable[str], user=None, via: str = "relabel") -> int:
    """Make ``emotions`` the admin labels of ``songs``; returns how many songs changed.

    A song whose effective labels already are exactly these admin labels is left alone (no history).
    """
    if not isinstance(emotions, dict):
        emotions = {e: 1.0 for e in emotions}
    if not emotions:
        raise ValueError("give at least one emotion")
    for emotion, confidence in emotions.items():
        if emotion not in EMOTIONS:
            raise ValueError(f"unknown emotion {emotion!r}")
        if not 0 <= confidence <= 1:
            raise ValueError(f"confidence for {emotion} must be in [0, 1]")
    emotions = dict(sorted(emotions.items()))
    ids = _song_ids(songs)
    before = _effective_by_song(ids)
    changed = []
    for song_id in ids:
        source, current = before[song_id]
        if source == ADMIN and current == emotions:
            continue
        changed.append(song_id)
    if not changed:
        return 0
    EmotionLabel.objects.filter(song_id__in=changed, source=ADMIN).delete()
    EmotionLabel.objects.bulk_create([
        EmotionLabel(song_id=song_id, emotion=e, source=ADMIN, confidence=c, labelled_by=user)
        for song_id in changed for e, c in emotions.items()])
    new = describe(ADMIN, emotions)
    LabelChange.objects.bulk_create([
        LabelChange(song_id=song_id, changed_by=user, old=describe(*before[song_id]), new=new, via=via)
        for song_id in changed])
    transaction.on_commit(bump_library_version)  # bulk writes send no signals
    return len(changed)


def set_emotion(songs, emotion: str, user=None, via: str = "relabel") -> int:
    return set_emotions(songs, {emotion: 1.0}, user=user, via=via)


@transaction.atomic
def approve(songs, user=None) -> int:
    """Turn the model labels of songs whose effective labels come from the model into admin labels."""
    ids = _song_ids(songs)
    approved = 0
    for song_id, (source, emotions) in _effective_by_song(ids).items():
        if source == MODEL:
            approved += set_emotions([song_id], {e: 1.0 for e in emotions}, user=user, via="approve")
    return approved


@transaction.atomic
def confirm(songs, user=None, via: str = "confirm") -> int:
    """A curator agrees with a song's labels, whatever their source: they become admin labels (at
    1.0), and an already curated song is confirmed again (history kept, people's earlier pushback
    answered: see review.py). Returns how many songs were confirmed."""
    confirmed = 0
    for song_id, (source, emotions) in _effective_by_song(_song_ids(songs)).items():
        if not emotions:
            continue
        if source != ADMIN:
            confirmed += set_emotions([song_id], {e: 1.0 for e in emotions}, user=user, via=via)
            continue
        EmotionLabel.objects.filter(song_id=song_id, source=ADMIN).update(labelled_at=timezone.now(),
                                                                          labelled_by=user)
        text = describe(source, emotions)
        LabelChange.objects.create(song_id=song_id, changed_by=user, old=text, new=text, via=via)
        confirmed += 1
    return confirmed


def record_change(song, old: str, user=None, via: str = "admin form") -> LabelChange | None:
    """After a song's labels were edited by hand: keep the change, if there was one."""
    new = current_description(song)
    if new == old:
        return None
    return LabelChange.objects.create(song=song, changed_by=user, old=old, new=new, via=via)


def current_description(song) -> str:
    return describe(*effective_labels(EmotionLabel.objects.filter(song=song)))


# -- library membership and tags ----------------------------------------------------------------

def set_active(songs, active: bool) -> int:
    """Soft delete (``active=False``) or restore songs: reversible, labels and history kept."""
    ids = _song_ids(songs)
    count = Song.objects.filter(id__in=ids).exclude(is_active=active).update(is_active=active)
    if count:
        transaction.on_commit(bump_library_version)
    return count


def add_tag(songs, name: str) -> Tag:
    tag_id = ensure_tags([name])[name]
    tag = Tag.objects.get(pk=tag_id)
    tag.songs.add(*_song_ids(songs))  # m2m_changed bumps the library version
    return tag


def remove_tag(songs, name: str) -> int:
    tag = Tag.objects.filter(name=name).first()
    if tag is None:
        return 0
    ids = _song_ids(songs)
    count = Song.tags.through.objects.filter(tag=tag, song_id__in=ids).count()
    tag.songs.remove(*ids)
    return count


# -- review queue evidence (the queue itself: review.py) ------------------------------------------

def model_probabilities(labels: Iterable[EmotionLabel]) -> dict[str, float]:
    """The classifier's probabilities kept on the song's model label ({} if none were kept), highest
    first."""
    model = [label for label in labels if label.source == MODEL and label.probabilities]
    if not model:
        return {}
    best = max(model, key=lambda label: label.confidence)
    return dict(sorted(best.probabilities.items(), key=lambda item: (-item[1], EMOTIONS.index(item[0]))))


def lyrics_evidence(lyrics: str) -> dict | None:
    """What the lexicon finds in ``lyrics`` (the classifier's lexicon features, before scaling):
    the emotion intensities above zero, highest first, the polarity and the counts of emotion words,
    negations, degree words and words. None without lyrics."""
    from .lyrics.classifier import MAX_CHARS
    from .lyrics.lexicon import analyze_tokens
    from .lyrics.segment import tokenize

    if not (lyrics or "").strip():
        return None
    analysis = analyze_tokens(tokenize(lyrics[:MAX_CHARS]))
    intensities = {e: round(v, 2) for e, v in zip(EMOTIONS, analysis.scores) if v > 0}
    return {"intensities": dict(sorted(intensities.items(), key=lambda item: (-item[1], EMOTIONS.index(item[0])))),
            "polarity": round(analysis.polarity, 2), "hits": analysis.hits, "negations": analysis.negations,
            "degrees": analysis.degrees, "words": analysis.words}


def effective_source_q(source: str) -> Q:
    """Songs whose effective labels come from ``source``."""
    higher = [s for s, p in EmotionLabel.PRIORITY.items() if p > EmotionLabel.PRIORITY[source]]
    q = Q(Exists(EmotionLabel.objects.filter(song=OuterRef("pk"), source=source)))
    for other in higher:
        q &= ~Q(Exists(EmotionLabel.objects.filter(song=OuterRef("pk"), source=other)))
    return q


# -- Excel --------------------------------------------------------------------------------------

def export_rows(queryset=None) -> list[dict]:
    """One row per song: the columns of ``COLUMNS``; several emotions are joined by commas."""
    queryset = Song.objects.all() if queryset is None else queryset
    songs = list(queryset.order_by("id").prefetch_related("tags", "labels"))
    rows = []
    for song in songs:
        source, emotions = effective_labels(song.labels.all())
        rows.append({
            "id": song.id, "source": song.source, "external_id": song.external_id,
            "title": song.title, "artist": song.artist,
            "tags": ", ".join(sorted(t.name for t in song.tags.all())),
            "emotion": ", ".join(emotions), "label_source": source,
            "confidence": round(max(emotions.values()), 4) if emotions else None,
        })
    return rows


def export_library(path, queryset=None) -> int:
    import pandas as pd

    rows = [{key: neutralise(value) for key, value in row.items()} for row in export_rows(queryset)]
    pd.DataFrame(rows, columns=COLUMNS).to_excel(path, index=False, sheet_name="library", engine="openpyxl")
    return len(rows)


class LibraryImportError(ValueError):
    """The file is not valid; ``errors`` lists (Excel row number, reason). Nothing was written."""

    def __init__(self, errors: list[tuple[int, str]]):
        self.errors = errors
        super().__init__("; ".join(f"row {row}: {reason}" for row, reason in errors[:20]))




@dataclass
class ImportReport:
    rows: int = 0
    relabelled: int = 0
    renamed: int = 0
    retagged: int = 0
    unchanged: int = 0
    changed_ids: list[int] = field(default_factory=list)

    def __str__(self):
        return (f"{self.rows} rows: {self.relabelled} relabelled, {self.renamed} renamed, "
                f"{self.retagged} retagged, {self.unchanged} unchanged")


def _split(value: str) -> list[str]:
    return [part.strip() for part in str(value or "").split(",") if part.strip()]


def read_rows(path) -> list[dict]:
    import pandas as pd

    frame = pd.read_excel(Path(path), dtype=str, keep_default_na=False, engine="openpyxl")
    missing = [c for c in ("id", "title", "artist", "tags", "emotion") if c not in frame.columns]
    if missing:
        raise LibraryImportError([(1, f"missing column(s): {', '.join(missing)}")])
    return [{key: restore(value) for key, value in row.items()} for row in frame.to_dict("records")]


def validate_rows(rows: list[dict]) -> tuple[list[tuple[int, str]], dict[int, dict]]:
    """Every bad row as (Excel row number, reason), and the good rows by song id."""
    errors: list[tuple[int, str]] = []
    parsed: dict[int, dict] = {}
    first_row: dict[int, int] = {}
    raw_ids = [str(r.get("id") or "").strip() for r in rows]
    ids = {int(float(i)) for i in raw_ids if _is_int(i)}
    songs = {s.id: s for s in Song.objects.filter(id__in=ids)}
    for index, row in enumerate(rows):
        number = index + 2  # Excel's row number: row 1 is the header
        raw = raw_ids[index]
        if not _is_int(raw):
            errors.append((number, f"id {raw!r} is not a song id" if raw else "missing id"))
            continue
        song_id = int(float(raw))
        song = songs.get(song_id)
        if song is None:
            errors.append((number, f"no song with id {song_id}"))
            continue
        if song_id in first_row:
            errors.append((number, f"song {song_id} is also on row {first_row[song_id]}"))
            continue
        first_row[song_id] = number
        source = str(row.get("source", song.source)).strip()
        external_id = str(row.get("external_id", song.external_id)).strip()
        if (source, external_id) != (song.source, song.external_id):
            errors.append((number, f"song {song_id} is {song.source}/{song.external_id}, "
                                   f"not {source}/{external_id}"))
            continue
        title, artist = str(row.get("title") or "").strip(), str(row.get("artist") or "").strip()
        if not title or not artist:
            errors.append((number, "missing title" if not title else "missing artist"))
            continue
        if len(title) > 300 or len(artist) > 300:
            errors.append((number, "title and artist are at most 300 characters"))
            continue
        emotions = _split(row.get("emotion"))
        unknown = [e for e in emotions if e not in EMOTIONS]
        if unknown:
            errors.append((number, f"unknown emotion {unknown[0]!r} (one of {', '.join(EMOTIONS)})"))
            continue
        tags = _split(row.get("tags"))
        bad_tags = [t for t in tags if not is_tag_name(t)]
        if bad_tags:
            errors.append((number, f"bad tag {bad_tags[0]!r}: tags are slugs (letters, digits, - or _)"))
            continue
        confidence = str(row.get("confidence") or "").strip()
        if confidence and not _is_unit(confidence):
            errors.append((number, f"confidence {confidence!r} must be a number between 0 and 1"))
            continue
        label_source = str(row.get("label_source") or "").strip()
        if label_source and label_source not in EmotionLabel.Source.values:
            errors.append((number, f"unknown label source {label_source!r}"))
            continue
        parsed[song_id] = {"title": title, "artist": artist, "tags": sorted(set(tags)),
                           "emotions": sorted(set(emotions)), "row": number}
    return errors, parsed


def import_library(path, user=None) -> ImportReport:
    """Apply an edited export: all rows valid, or nothing written (raises ``LibraryImportError``)."""
    rows = read_rows(path)
    errors, parsed = validate_rows(rows)
    if errors:
        raise LibraryImportError(errors)
    return apply_rows(parsed, user=user, total=len(rows))


@transaction.atomic
def apply_rows(parsed: dict[int, dict], user=None, total: int | None = None) -> ImportReport:
    report = ImportReport(rows=total if total is not None else len(parsed))
    songs = Song.objects.filter(id__in=parsed).prefetch_related("tags", "labels")
    new_tags = {t for row in parsed.values() for t in row["tags"]}
    tag_ids = ensure_tags(new_tags) if new_tags else {}
    for song in songs:
        row = parsed[song.id]
        changed = False
        if (song.title, song.artist) != (row["title"], row["artist"]):
            song.title, song.artist = row["title"], row["artist"]
            song.save(update_fields=["title", "artist", "normalised_key", "updated_at"])
            report.renamed += 1
            changed = True
        if sorted(t.name for t in song.tags.all()) != row["tags"]:
            song.tags.set([tag_ids[t] for t in row["tags"]])
            report.retagged += 1
            changed = True
        _source, current = effective_labels(song.labels.all())
        if row["emotions"] and sorted(current) != row["emotions"]:
            report.relabelled += set_emotions([song.id], row["emotions"], user=user, via="excel")
            changed = True
        if changed:
            report.changed_ids.append(song.id)
        else:
            report.unchanged += 1
    return report


def _is_int(text: str) -> bool:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return False
    return value.is_integer() and value > 0


def _is_unit(text: str) -> bool:
    try:
        return 0 <= float(text) <= 1
    except (TypeError, ValueError):
        return False


# -- the curator group --------------------------------------------------------------------------

CURATOR_GROUP = "curator"
# Curators view, add and change these (never delete; never users, groups or settings) ...
CURATOR_MODELS = ("song", "songreview", "tag", "emotionlabel", "labelchange", "classifierrun")
# ... except the history and the retraining runs, which they only read (and ask for a retraining).
CURATOR_EXCLUDED = ("add_labelchange", "change_labelchange", "change_classifierrun")


def curator_group(using: str = "default"):
    """The `curator` group with its permissions, made or completed as needed (idempotent).

    Migration 0004 makes it; the post_migrate handler (recommender/apps.py) calls this after every
    migrate and every test-database flush, so the group is always there. Permissions a superuser
    gave the group on top are left alone.
    """
    from django.contrib.auth.models import Group, Permission

    group, _created = Group.objects.using(using).get_or_create(name=CURATOR_GROUP)
    wanted = set(Permission.objects.using(using).filter(
        content_type__app_label="recommender", content_type__model__in=CURATOR_MODELS,
        codename__regex=r"^(view|change|add)_").exclude(codename__in=CURATOR_EXCLUDED).values_list("pk", flat=True))
    missing = wanted - set(group.permissions.values_list("pk", flat=True))
    if missing:
        group.permissions.add(*missing)
    return group
