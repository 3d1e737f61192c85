"""Playlists: the paper's content-based recommender over the song library.

The library is held per process as a ``TagMatrix`` plus, per emotion, the rows of the songs that
serve it. It is rebuilt only when the library version (bumped on every write) changes.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np

from .emotion.labels import EMOTIONS
from .library import library_version
from .models import EmotionLabel, Favourite, Song, TypicalSong
from .ranking import TagMatrix, profile_from_songs, shared_tags

FAVOURITE_WEIGHT = 0.5  # a saved song counts half as much as a chosen typical song
MAX_PER_ARTIST = 2


@dataclass
class LibraryIndex:
    version: int
    matrix: TagMatrix
    tags: dict[int, tuple[str, ...]]
    rows_by_emotion: dict[str, np.ndarray]
    confidence_by_emotion: dict[str, dict[int, float]]
    popularity: dict[int, int]
    artist: dict[int, str]

    @classmethod
    def build(cls, version: int) -> "LibraryIndex":
        tags: dict[int, list[str]] = defaultdict(list)
        songs = dict(Song.objects.active().values_list("id", "popularity"))
        artists = dict(Song.objects.active().values_list("id", "artist"))
        for song_id, name in Song.tags.through.objects.filter(song__is_active=True).values_list(
                "song_id", "tag__name"):
            tags[song_id].append(name)
        # A song's effective labels are those of its highest-priority source (admin > model > catalogue).
        best_source: dict[int, int] = {}
        rows = list(EmotionLabel.objects.filter(song__is_active=True).values_list(
            "song_id", "emotion", "source", "confidence"))
        for song_id, _emotion, source, _conf in rows:
            best_source[song_id] = max(best_source.get(song_id, -1), EmotionLabel.PRIORITY[source])
        confidence: dict[str, dict[int, float]] = {e: {} for e in EMOTIONS}
        for song_id, emotion, source, conf in rows:
            if EmotionLabel.PRIORITY[source] == best_source[song_id]:
                confidence[emotion][song_id] = conf
        ids = sorted(songs)
        matrix = TagMatrix({song_id: tags.get(song_id, ()) for song_id in ids})
        return cls(
            version=version,
            matrix=matrix,
            tags={k: tuple(v) for k, v in tags.items()},
            rows_by_emotion={e: np.array(sorted(matrix.index[s] for s in confidence[e]), dtype=np.int64)
                             for e in EMOTIONS},
            confidence_by_emotion=confidence,
            popularity={k: v or 0 for k, v in songs.items()},
            artist=artists,
        )

    def songs_for(self, emotion: str) -> list[int]:
        return [self.matrix.ids[r] for r in self.rows_by_emotion[emotion]]

    def most_typical(self, emotion: str, n: int = 3) -> list[int]:
        """The library's own typical songs for an emotion: most confident, then most popular."""
        confidence = self.confidence_by_emotion[emotion]
        return sorted(confidence, key=lambda s: (-confidence[s], -self.popularity.get(s, 0), s))[:n]


_lock = threading.Lock()
_index: LibraryIndex | None = None


def get_index() -> LibraryIndex:
    global _index
    version = library_version()
    with _lock:
        if _index is None or _index.version != version:
            _index = LibraryIndex.build(version)
        return _index


def profile_for(user, emotion: str, index: LibraryIndex) -> tuple[Counter, list[int], str]:
    """The tag profile for a person and an emotion, the songs it came from, and its basis."""
    typical = []
    favourites = []
    if user is not None and user.is_authenticated:
        typical = list(TypicalSong.objects.filter(user=user, emotion=emotion).values_list("song_id", flat=True))
        in_library = index.confidence_by_emotion[emotion]
        favourites = [s for s in Favourite.objects.filter(user=user).values_list("song_id", flat=True)
                      if s in in_library and s not in typical]
    basis = "typical" if typical else "library"
    if not typical:
        typical = index.most_typical(emotion)
    profile = profile_from_songs(index.tags.get(s, ()) for s in typical)
    profile.update(profile_from_songs((index.tags.get(s, ()) for s in favourites), weight=FAVOURITE_WEIGHT))
    return profile, typical, basis


def recommend(user, emotion: str, length: int = 20) -> list[dict]:
    """Top songs of the emotion's library by cosine to the profile, each with why it scored."""
    if emotion not in EMOTIONS:
        raise ValueError(f"unknown emotion {emotion!r}")
    index = get_index()
    profile, seeds, _basis = profile_for(user, emotion, index)
    rows = index.rows_by_emotion[emotion]
    if not len(rows):
        return []
    scores = index.matrix.scores(profile, rows)
    ids = [index.matrix.ids[r] for r in rows]
    confidence = index.confidence_by_emotion[emotion]
    # Cosine first; among equal tag vectors, the songs that serve the emotion best and are liked most.
    order = sorted(range(len(ids)), key=lambda i: (-round(float(scores[i]), 6), -confidence[ids[i]],
                                                   -index.popularity.get(ids[i], 0), ids[i]))
    playlist, per_artist, skip = [], Counter(), set(seeds)
    for i in order:
        song_id = ids[i]
        artist = index.artist.get(song_id, "").casefold()
        if song_id in skip or per_artist[artist] >= MAX_PER_ARTIST:
            continue
        per_artist[artist] += 1
        playlist.append({"id": song_id, "score": round(float(scores[i]), 4),
                         "why": shared_tags(profile, index.tags.get(song_id, ()))})
        if len(playlist) >= length:
            break
    return playlist
