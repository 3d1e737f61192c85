"""The library as the ranking sees it, held per process and rebuilt only when it changes.

Tags, emotion labels (their highest-priority source), and for co-occurrence each song's lists: the
catalogue's playlists that hold it (``Song.playlists``) and every person's kept songs (their
favourites and typical songs, one list a person). It is rebuilt when the library version (bumped on
every write) or the people's saved songs change.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from django.db import connection

from .emotion.labels import EMOTIONS
from .library_version import library_version
from .models import EmotionLabel, Favourite, Song, TypicalSong
from .ranking import SongSignals

PLAYLIST_LIST = "playlist:{}"  # a catalogue playlist
PERSON_LIST = "person:{}"  # one person's kept songs


def person_list(user_id: int) -> str:
    return PERSON_LIST.format(user_id)


def is_person_list(name: str) -> bool:
    return name.startswith("person:")


@dataclass
class LibraryIndex:
    version: tuple
    signals: SongSignals
    tags: dict[int, tuple[str, ...]]
    lists: dict[int, tuple[str, ...]]  # song -> the lists holding it
    rows_by_emotion: dict[str, np.ndarray]
    candidates_by_emotion: dict[str, list[int]]  # the product's tie-break order: confidence, popularity, id
    confidence_by_emotion: dict[str, dict[int, float]]
    popularity: dict[int, int]
    artist: dict[int, str]

    @classmethod
    def build(cls, version) -> "LibraryIndex":
        tags: dict[int, list[str]] = defaultdict(list)
        songs = {pk: (popularity, artist, playlists) for pk, popularity, artist, playlists in
                 Song.objects.active().values_list("id", "popularity", "artist", "playlists")}
        for song_id, name in Song.tags.through.objects.filter(song__is_active=True).values_list(
                "song_id", "tag__name"):
            tags[song_id].append(name)
        lists: dict[int, list[str]] = {pk: [PLAYLIST_LIST.format(p) for p in (row[2] or ())]
                                       for pk, row in songs.items()}
        for model in (Favourite, TypicalSong):
            for user_id, song_id in model.objects.filter(song__is_active=True).values_list("user_id", "song_id"):
                lists[song_id].append(person_list(user_id))
        # A song is a candidate for the emotions of its effective labels (the model's priority rule).
        confidence: dict[str, dict[int, float]] = {e: {} for e in EMOTIONS}
        for song_id, (_source, emotions) in EmotionLabel.effective_by_song(
                EmotionLabel.objects.filter(song__is_active=True).values_list(
                    "song_id", "emotion", "source", "confidence").iterator(chunk_size=5000)).items():
            for emotion, conf in emotions.items():
                confidence[emotion][song_id] = conf
        ids = sorted(songs)
        popularity = {pk: row[0] or 0 for pk, row in songs.items()}
        signals = SongSignals.from_mappings({pk: tags.get(pk, ()) for pk in ids}, lists)
        return cls(
            version=version,
            signals=signals,
            tags={k: tuple(v) for k, v in tags.items()},
            lists={k: tuple(dict.fromkeys(v)) for k, v in lists.items() if v},
            rows_by_emotion={e: np.array(sorted(signals.index[s] for s in confidence[e]), dtype=np.int64)
                             for e in EMOTIONS},
            candidates_by_emotion={e: sorted(confidence[e], key=lambda s, c=confidence[e]: (-c[s], -popularity[s], s))
                                   for e in EMOTIONS},
            confidence_by_emotion=confidence,
            popularity=popularity,
            artist={pk: row[1] for pk, row in songs.items()},
        )

    def songs_for(self, emotion: str) -> list[int]:
        return [self.signals.ids[r] for r in self.rows_by_emotion[emotion]]

    def most_typical(self, emotion: str, n: int = 3) -> list[int]:
        """The library's own typical songs for an emotion: most confident, then most popular."""
        return self.candidates_by_emotion[emotion][:n]


def people_version() -> tuple:
    """Changes whenever someone keeps or lets go of a song: count and newest row of each table, in
    one query (asked on every playlist; rows written in bulk, without signals, count too)."""
    parts = ", ".join(f"(SELECT COUNT(*) FROM {table}), (SELECT MAX(id) FROM {table})"
                      for table in (connection.ops.quote_name(model._meta.db_table)
                                    for model in (Favourite, TypicalSong)))
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {parts}")
        favourites, last_favourite, typical, last_typical = cursor.fetchone()
    return (favourites, last_favourite), (typical, last_typical)


_lock = threading.Lock()
_index: LibraryIndex | None = None


def get_index() -> LibraryIndex:
    global _index
    version = (library_version(), people_version())
    with _lock:
        if _index is None or _index.version != version:
            _index = LibraryIndex.build(version)
        return _index
