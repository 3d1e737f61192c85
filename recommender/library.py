"""The one seam that writes songs into the library.

Everything that adds songs (catalogue import, crawler pipeline, Excel import) goes through
``ingest_many``: an idempotent upsert keyed by (source, external_id) that merges a song seen via
another source by normalised title + artist, unions tags, and writes labels of the caller's
source without ever touching admin labels. Lyrics an item brings are turned into lexicon features
and a ``model`` label on the way in (``recommender.labelling``), then kept only while needed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import transaction

from .labelling import label_lyrics, mark_lyrics_checked
from .library_version import LIBRARY_VERSION_KEY, bump_library_version, library_version  # noqa: F401
from .models import (TAG_NAME_PATTERN, EmotionLabel, Song, Tag, confidence_error, normalise_key,
                     validate_web_url)

log = logging.getLogger(__name__)

SONG_FIELDS = ("title", "artist", "url", "embed_url", "audio_url", "popularity", "duration", "album", "license_url")


@dataclass
class IngestReport:
    created: int = 0
    updated: int = 0
    merged: int = 0
    lyrics_labelled: int = 0  # model labels written from the items' lyrics
    dropped: list[tuple[int, str]] = field(default_factory=list)  # (item index, reason)

    def __str__(self):
        return (f"{self.created} new, {self.updated} updated, {self.merged} merged into another source's "
                f"song, {len(self.dropped)} dropped"
                + (f", {self.lyrics_labelled} labelled from lyrics" if self.lyrics_labelled else ""))


def validate_item(item: Mapping) -> str | None:
    """Why an item cannot become a song, or None when it can."""
    for key in ("source", "external_id", "title", "artist"):
        if not str(item.get(key) or "").strip():
            return f"missing {key}"
    if not is_source(item["source"]):
        return f"unknown source {item['source']!r}"
    for key in ("url", "embed_url", "audio_url"):
        if item.get(key):
            try:
                validate_web_url(str(item[key]))
            except ValidationError:
                return f"{key} is not an http(s) address"
    bad_tags = [t for t in item.get("tags") or () if not is_tag_name(t)]
    if bad_tags:
        return f"tag {bad_tags[0]!r} is not a slug (letters, digits, - or _)"
    for emotion, confidence in (item.get("emotions") or {}).items():
        if reason := confidence_error(emotion, confidence, allow_zero=False):
            return reason
    return None


def is_source(name) -> bool:
    """Whether songs may come from ``name`` (one of Song.Source)."""
    return name in Song.Source.values


def is_tag_name(name) -> bool:
    return isinstance(name, str) and len(name) <= 64 and re.fullmatch(TAG_NAME_PATTERN, name) is not None


def ensure_tags(names: Iterable[str], info: Mapping[str, Mapping] | None = None) -> dict[str, int]:
    names = set(names)
    if bad := sorted(n for n in names if not is_tag_name(n)):
        raise ValueError(f"tag {bad[0]!r} is not a slug (letters, digits, - or _)")
    info = info or {}
    existing = dict(Tag.objects.filter(name__in=names).values_list("name", "id"))
    Tag.objects.bulk_create(
        [Tag(name=n, name_en=info.get(n, {}).get("en", ""), name_zh=info.get(n, {}).get("zh", ""),
             kind=info.get(n, {}).get("kind", Tag.Kind.OTHER)) for n in names - existing.keys()],
        ignore_conflicts=True)
    return dict(Tag.objects.filter(name__in=names).values_list("name", "id"))


@transaction.atomic
def ingest_many(items: list[Mapping], label_source: str = EmotionLabel.Source.CATALOGUE,
                tag_info: Mapping[str, Mapping] | None = None) -> IngestReport:
    """Upsert songs with their tags and ``label_source`` labels; all of it or none of it."""
    report = IngestReport()
    valid = []
    for index, item in enumerate(items):
        reason = validate_item(item)
        if reason:
            report.dropped.append((index, reason))
            log.warning("dropped item %s: %s", index, reason)
        else:
            valid.append(item)
    if not valid:
        return report

    by_source_id = {(s, e): (pk, k) for pk, s, e, k in
                    Song.objects.values_list("id", "source", "external_id", "normalised_key")}
    by_key = {key: pk for pk, key in by_source_id.values()}
    ident_by_pk = {pk: ident for ident, (pk, _key) in by_source_id.items()}

    new_songs: dict[tuple[str, str], Song] = {}
    targets: list[tuple[Mapping, tuple[str, str]]] = []  # item -> (source, external_id) of its song
    updates: dict[int, Mapping] = {}
    for item in valid:
        ident = (item["source"], str(item["external_id"]))
        key = normalise_key(item["title"], item["artist"])
        if ident in by_source_id:
            updates[by_source_id[ident][0]] = item
            targets.append((item, ident))
        elif ident in new_songs:  # the same song twice in one batch (e.g. its lyrics, fetched later)
            targets.append((item, ident))
        elif key in by_key:  # the same song from another source: merge, keep the first one's fields
            pk = by_key[key]
            ident = ident_by_pk[pk] if pk else None  # None: created earlier in this batch
            targets.append((item, ident))
            report.merged += 1
        else:
            song = Song(source=ident[0], external_id=ident[1], normalised_key=key,
                        **{f: _clean(f, item.get(f)) for f in SONG_FIELDS})
            new_songs[ident] = song
            by_key[key] = None  # later duplicates in this batch merge into it
            targets.append((item, ident))

    Song.objects.bulk_create(new_songs.values(), batch_size=1000)
    report.created = len(new_songs)
    ids = {(s, e): pk for pk, s, e in Song.objects.filter(
        source__in={i[0] for i in new_songs}, external_id__in={i[1] for i in new_songs}
    ).values_list("id", "source", "external_id")} if new_songs else {}
    ids.update({i: v[0] for i, v in by_source_id.items()})
    # Songs merged into a song created in this same batch find it by key.
    key_to_ident = {song.normalised_key: ident for ident, song in new_songs.items()}

    changed = []
    for song in Song.objects.filter(id__in=updates):
        item = updates[song.id]
        dirty = False
        for f in SONG_FIELDS:
            value = _clean(f, item.get(f))
            if value not in (None, "") and getattr(song, f) != value:
                setattr(song, f, value)
                dirty = True
        if dirty:
            song.normalised_key = normalise_key(song.title, song.artist)
            changed.append(song)
    Song.objects.bulk_update(changed, [*SONG_FIELDS, "normalised_key"], batch_size=500)
    report.updated = len(changed)

    tag_ids = ensure_tags({t for item in valid for t in item.get("tags") or ()}, tag_info)
    through_rows, labels, labelled_songs = [], [], set()
    memberships: dict[int, set] = {}
    lyrics, lyrics_checked = {}, set()
    for item, ident in targets:
        if ident is None:
            ident = key_to_ident[normalise_key(item["title"], item["artist"])]
        song_id = ids[ident]
        text = item.get("lyrics")
        if isinstance(text, str) and text.strip():
            lyrics[song_id] = text.strip()
        elif item.get("lyrics_checked"):  # looked up, none found: not again for a while
            lyrics_checked.add(song_id)
        if item.get("playlists"):
            memberships.setdefault(song_id, set()).update(_playlist_ids(item["playlists"]))
        through_rows += [Song.tags.through(song_id=song_id, tag_id=tag_ids[t]) for t in set(item.get("tags") or ())]
        if "emotions" in item:
            labelled_songs.add(song_id)
            labels += [EmotionLabel(song_id=song_id, emotion=e, source=label_source, confidence=float(c))
                       for e, c in item["emotions"].items()]
    Song.tags.through.objects.bulk_create(through_rows, ignore_conflicts=True, batch_size=2000)
    _add_playlists(memberships)
    if label_source == EmotionLabel.Source.ADMIN:
        raise ValueError("admin labels are written by curators, not by ingest")
    # This source's labels for these songs become exactly what the items say.
    for chunk in _chunks(sorted(labelled_songs), 900):
        EmotionLabel.objects.filter(song_id__in=chunk, source=label_source).delete()
    merged = {}
    for label in labels:  # a song merged from two items keeps the stronger confidence per emotion
        k = (label.song_id, label.emotion)
        if k not in merged or merged[k].confidence < label.confidence:
            merged[k] = label
    EmotionLabel.objects.bulk_create(merged.values(), batch_size=2000)
    if lyrics or lyrics_checked:
        report.lyrics_labelled = label_lyrics(lyrics, skip_unchanged_lyrics=True).labelled
        mark_lyrics_checked(lyrics_checked - lyrics.keys())
    transaction.on_commit(bump_library_version)
    return report


def ingest(item: Mapping, **kwargs) -> IngestReport:
    return ingest_many([item], **kwargs)


def _clean(field_name: str, value):
    if value in (None, ""):
        return None if field_name in ("popularity", "duration") else ""
    if field_name == "popularity":
        return max(0, min(100, int(value)))
    if field_name == "duration":
        return float(value)
    return str(value).strip()[:500 if field_name.endswith("url") else 300]


def _playlist_ids(values) -> set:
    if isinstance(values, (str, bytes)) or not isinstance(values, Iterable):
        return set()  # a malformed field adds nothing rather than one list per character
    return {v for v in values if isinstance(v, (int, str)) and not isinstance(v, bool)}


def _add_playlists(memberships: dict[int, set]) -> None:
    """Union the items' playlist ids into their songs' (never removes one: idempotent)."""
    changed = []
    for song in Song.objects.filter(id__in=memberships).only("id", "playlists"):
        known = set(song.playlists or ())
        union = known | memberships[song.id]
        if union != known:
            song.playlists = sorted(union, key=lambda v: (isinstance(v, str), v))
            changed.append(song)
    Song.objects.bulk_update(changed, ["playlists"], batch_size=500)


def _chunks(seq, size):
    for i in range(0, len(seq), size):
        yield seq[i:i + size]
