"""The library in Excel: export every song with its labels, import an edited export (all rows
valid, or nothing written; relabelling goes through curation.set_emotions).

Cells are text, never formulas (OWASP, "CSV Injection"). Titles and artists come from crawled sites: a
title such as ``=HYPERLINK("http://evil", "click")`` written as is would be a live formula in the
curator's Excel. OWASP's advice: a cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage
return gets a leading single quote, so the spreadsheet shows it as text. A value that already begins
with a quote gets one more, so that the import's one rule (drop one leading quote) gives back exactly
what was exported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from .curation import effective_labels, set_emotions
from .emotion.labels import EMOTIONS
from .library import ensure_tags, is_tag_name
from .models import EmotionLabel, Song, is_confidence

COLUMNS = ["id", "source", "external_id", "title", "artist", "tags", "emotion", "label_source", "confidence"]


FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def neutralise(value):
    """The cell to write for ``value`` (only text is touched)."""
    if isinstance(value, str) and value.startswith((*FORMULA_TRIGGERS, ESCAPE)):
        return ESCAPE + value
    return value


def restore(value):
    """The value a neutralised cell stands for."""
    if isinstance(value, str) and value.startswith(ESCAPE):
        return value[1:]
    return value


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
        return is_confidence(float(text))
    except (TypeError, ValueError):
        return False
