"""Playlists: the paper's content-based recommender over the song library.

The library is held per process as a ``TagMatrix`` plus, per emotion, the rows of the songs that
serve it. It is rebuilt only when the library version (bumped on every write) changes.
"""

from __future__ import annotations

import threading
from collections import Counter, defaultdict
from dataclasses import dataclass

import numpy as np
from django.db.models import F, Q

from .emotion.labels import EMOTIONS
from .library import library_version
from .models import EmotionLabel, Favourite, HiddenSong, MoodSetting, Recognition, Song, TypicalSong
from .ranking import TagMatrix, lower_tags, profile_from_songs, shared_tags

FAVOURITE_WEIGHT = 0.5  # a saved song counts half as much as a chosen typical song
HIDDEN_WEIGHT = 0.5  # "not for me": each hidden song lowers its tags in the profile by this much
MAX_PER_ARTIST = 2
PLAYLIST_LENGTH = 20

# "Lift my mood": for a negative emotion, the playlist starts calming (the neutral library) and turns
# cheerful (the happy library), half and half, in that order. See docs/recommendation.md.
NEGATIVE_EMOTIONS = ("angry", "disgust", "fear", "sad")
LIFT_TARGETS: dict[str, tuple[tuple[str, float], ...]] = {
    emotion: (("neutral", 0.5), ("happy", 0.5)) for emotion in NEGATIVE_EMOTIONS}

# Uncertain faces: below this top probability the libraries of the likely emotions (each at least
# LIKELY_AT_LEAST) are blended by their probabilities instead of trusting the argmax.
UNCERTAIN_BELOW = 0.5
LIKELY_AT_LEAST = 0.15

# Freshness: songs from the person's last few playlists have their ranking score multiplied by this.
FRESH_PLAYLISTS = 3
REPEAT_PENALTY = 0.5

STRATEGIES = ("match", "lift", "blend")  # what may stand in Recognition.strategy


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


def profile_for(user, emotion: str, index: LibraryIndex,
                hidden: list[int] | None = None) -> tuple[Counter, list[int], str]:
    """The tag profile for a person and an emotion, the songs it came from, and its basis."""
    typical = []
    favourites = []
    if user is not None and user.is_authenticated:
        typical = list(TypicalSong.objects.filter(user=user, emotion=emotion).values_list("song_id", flat=True))
        in_library = index.confidence_by_emotion[emotion]
        favourites = [s for s in Favourite.objects.filter(user=user).values_list("song_id", flat=True)
                      if s in in_library and s not in typical]
        if hidden is None:
            hidden = hidden_songs(user)
    basis = "typical" if typical else "library"
    if not typical:
        typical = index.most_typical(emotion)
    profile = profile_from_songs(index.tags.get(s, ()) for s in typical)
    profile.update(profile_from_songs((index.tags.get(s, ()) for s in favourites), weight=FAVOURITE_WEIGHT))
    if hidden:
        profile = lower_tags(profile, (index.tags.get(s, ()) for s in hidden), HIDDEN_WEIGHT)
    return profile, typical, basis


SEARCH_RESULTS = 20
SEARCH_MAX_CHARS = 100


def search_library(emotion: str, query: str, limit: int = SEARCH_RESULTS) -> list[Song]:
    """Songs of an emotion's library whose title, artist or a tag (its slug, English or Chinese name)
    matches ``query``, most popular first: where a person finds typical songs beyond their playlist
    (a newcomer's playlist is ranked against the library's own profile, so it rarely strays)."""
    if emotion not in EMOTIONS:
        raise ValueError(f"unknown emotion {emotion!r}")
    query = (query or "").strip()
    if not query:
        return []
    if len(query) > SEARCH_MAX_CHARS:
        raise ValueError(f"a search is at most {SEARCH_MAX_CHARS} characters")
    matches = (Q(title__icontains=query) | Q(artist__icontains=query) | Q(tags__name__iexact=query)
               | Q(tags__name_en__icontains=query) | Q(tags__name_zh__icontains=query))
    ids = (Song.objects.active().filter(id__in=get_index().songs_for(emotion)).filter(matches)
           .order_by(F("popularity").desc(nulls_last=True), "title", "id")
           .distinct().values_list("id", flat=True))  # distinct: a song may match through two tags
    found = list(ids[:limit])
    by_id = Song.objects.prefetch_related("tags").in_bulk(found)
    return [by_id[song_id] for song_id in found]


def hidden_songs(user) -> list[int]:
    if user is None or not user.is_authenticated:
        return []
    return list(HiddenSong.objects.filter(user=user).values_list("song_id", flat=True))


def likely_emotions(probabilities: dict | None) -> dict[str, float] | None:
    """For an uncertain face, the likely emotions weighted by their probabilities (summing to 1);
    None when the top probability is sure enough (or nothing is known)."""
    probabilities = {e: float(p) for e, p in (probabilities or {}).items() if e in EMOTIONS}
    if not probabilities:
        return None
    top = max(probabilities, key=probabilities.get)
    if probabilities[top] >= UNCERTAIN_BELOW:
        return None
    likely = {e: p for e, p in probabilities.items() if p >= LIKELY_AT_LEAST or e == top}
    if len(likely) < 2:
        return None
    total = sum(likely.values())
    return {e: p / total for e, p in sorted(likely.items(), key=lambda kv: -kv[1])}


def plan(emotion: str, probabilities: dict | None = None,
         strategy: str = "match") -> tuple[str, list[tuple[str, float]]]:
    """Which libraries a playlist comes from: (strategy used, [(library emotion, share of the playlist)]).

    - lift, for a negative emotion: calming then cheerful, in that order (LIFT_TARGETS);
    - an uncertain face ("blend"): each likely emotion's library fills a share of the playlist equal
      to its probability (renormalised); under lift a negative emotion's share goes to its targets;
    - otherwise the paper ("match"): the detected emotion's library.
    """
    if emotion not in EMOTIONS:
        raise ValueError(f"unknown emotion {emotion!r}")
    if strategy == "lift" and emotion in LIFT_TARGETS:
        return "lift", list(LIFT_TARGETS[emotion])
    blend = likely_emotions(probabilities)
    if blend:
        shares: dict[str, float] = {}
        for e, w in blend.items():
            targets = LIFT_TARGETS[e] if strategy == "lift" and e in LIFT_TARGETS else ((e, 1.0),)
            for target, share in targets:
                shares[target] = shares.get(target, 0.0) + w * share
        if len(shares) > 1:
            return "blend", sorted(shares.items(), key=lambda kv: -kv[1])
        emotion = next(iter(shares))
    return "match", [(emotion, 1.0)]


def _ranked(user, emotion: str, index: LibraryIndex, hidden: list[int],
            recent: set[int]) -> tuple[list[tuple[int, float]], Counter, list[int]]:
    """The emotion's library best first as (id, score), the profile, and its seed songs.

    Songs in ``recent`` have their score multiplied by REPEAT_PENALTY (pushed down, not removed).
    """
    profile, seeds, _basis = profile_for(user, emotion, index, hidden)
    rows = index.rows_by_emotion[emotion]
    if not len(rows):
        return [], profile, seeds
    scores = index.matrix.scores(profile, rows)
    ids = [index.matrix.ids[r] for r in rows]
    scored = [(song_id, float(score) * (REPEAT_PENALTY if song_id in recent else 1.0))
              for song_id, score in zip(ids, scores)]
    confidence = index.confidence_by_emotion[emotion]
    # Score first; among equal tag vectors, the songs that serve the emotion best and are liked most.
    scored.sort(key=lambda t: (-round(t[1], 6), -confidence[t[0]], -index.popularity.get(t[0], 0), t[0]))
    return scored, profile, seeds


def build_playlist(user, emotion: str, probabilities: dict | None = None, strategy: str = "match",
                   recent: set[int] | None = None, length: int = PLAYLIST_LENGTH) -> tuple[list[dict], str]:
    """The playlist for a person and a (detected or corrected) emotion, and the strategy used.

    Hidden songs and the person's seed songs never appear; songs in ``recent`` (their last few
    playlists) are pushed down; no artist more than MAX_PER_ARTIST times; every song says why (the
    shared tags). A blend is ordered by score; lift keeps its calming-then-cheerful order.
    """
    used, segments = plan(emotion, probabilities, strategy)
    index = get_index()
    hidden = hidden_songs(user)
    recent = recent or set()
    ranked = [(share, *_ranked(user, library, index, hidden, recent)) for library, share in segments]
    playlist: list[dict] = []
    per_artist: Counter = Counter()
    taken: set[int] = set(hidden)
    for _share, _scored, _profile, seeds in ranked:
        taken.update(seeds)
    wanted = 0.0
    for share, scored, profile, _seeds in ranked:
        wanted += share * length  # cumulative, so a short library's shortfall moves to the next
        for song_id, score in scored:
            if len(playlist) >= round(wanted):
                break
            artist = index.artist.get(song_id, "").casefold()
            if song_id in taken or per_artist[artist] >= MAX_PER_ARTIST:
                continue
            taken.add(song_id)
            per_artist[artist] += 1
            playlist.append({"id": song_id, "score": round(max(0.0, min(1.0, score)), 4),
                             "why": shared_tags(profile, index.tags.get(song_id, ()))})
    if used == "blend":
        playlist.sort(key=lambda pick: -pick["score"])
    return playlist, used


def recommend(user, emotion: str, length: int = PLAYLIST_LENGTH) -> list[dict]:
    """The paper's playlist: top songs of the emotion's library by cosine to the profile."""
    return build_playlist(user, emotion, length=length)[0]


def recent_songs(recognition: Recognition, playlists: int = FRESH_PLAYLISTS) -> set[int]:
    """Songs of the owner's last few finished playlists before this one."""
    owned = Recognition.objects.filter(status=Recognition.Status.DONE).exclude(pk=recognition.pk)
    if recognition.user_id is not None:
        owned = owned.filter(user_id=recognition.user_id)
    elif recognition.session_key:
        owned = owned.filter(user__isnull=True, session_key=recognition.session_key)
    else:
        return set()
    if recognition.created_at:
        owned = owned.filter(created_at__lte=recognition.created_at)
    songs = set()
    for picks in owned.order_by("-created_at").values_list("songs", flat=True)[:playlists]:
        songs.update(p["id"] for p in picks or ())
    return songs


def playlist_for_recognition(recognition: Recognition, corrected_emotion: str | None = None) -> None:
    """Fill a recognition's songs and strategy: the person's strategy, blending when the face is
    uncertain (not after a correction: the person said how they feel), fresh songs first."""
    user = recognition.user
    emotion = corrected_emotion or recognition.emotion
    probabilities = None if corrected_emotion else recognition.probabilities
    recognition.songs, recognition.strategy = build_playlist(
        user, emotion, probabilities, MoodSetting.strategy_for(user), recent_songs(recognition))
