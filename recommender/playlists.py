"""Playlists: which libraries, ranked through ``ranking.recommend``, under the playlist rules.

The library as the ranking sees it (tags, labels, lists) is ``song_index.LibraryIndex``, held per
process. The ranking method is ``settings.MIEN_RANKING`` ("blend" by default; "cosine" is the paper's).
"""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.db.models import F, Q

from .emotion.labels import EMOTIONS
from .models import Favourite, HiddenSong, MoodSetting, Recognition, Song, TypicalSong
from .ranking import co_kept, interleave, recommend as rank_songs, shared_tags
from .song_index import LibraryIndex, get_index, is_person_list, person_list

__all__ = ["LibraryIndex", "build_playlist", "get_index", "interleave", "plan", "playlist_for_recognition",
           "profile_for", "recommend", "search_library"]

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

STRATEGIES = ("match", "lift", "blend")
MAX_REASON_SONGS = 2  # "people who kept A and B also kept this": at most this many named  # what may stand in Recognition.strategy


def seeds_for(user, emotion: str, index: LibraryIndex,
              hidden: list[int] | None = None) -> tuple[dict[int, float], list[int], str]:
    """The songs a person's ranking starts from with their weights (typical 1, favourites serving the
    emotion FAVOURITE_WEIGHT, hidden songs -HIDDEN_WEIGHT), the typical songs, and the basis."""
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
    weights = dict.fromkeys(typical, 1.0)
    weights.update(dict.fromkeys(favourites, FAVOURITE_WEIGHT))
    for song in hidden or ():
        weights[song] = weights.get(song, 0.0) - HIDDEN_WEIGHT
    return weights, typical, basis


def profile_for(user, emotion: str, index: LibraryIndex,
                hidden: list[int] | None = None) -> tuple[Counter, list[int], str]:
    """The tag profile for a person and an emotion, the songs it came from, and its basis.

    Hidden songs lower their tags, never below zero (as ``ranking.lower_tags``)."""
    weights, typical, basis = seeds_for(user, emotion, index, hidden)
    return _profile(weights, index), typical, basis


def _profile(weights: dict[int, float], index: LibraryIndex) -> Counter:
    profile: Counter = Counter()
    for song, weight in weights.items():
        for tag in set(index.tags.get(song, ())):
            profile[tag] += weight
    return Counter({t: w for t, w in profile.items() if w > 0})


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


def ranking_method() -> str:
    return getattr(settings, "MIEN_RANKING", "blend")


def _ranked(user, emotion: str, index: LibraryIndex, hidden: list[int], recent: set[int]) -> dict:
    """The emotion's library best first as (id, score), with what the reasons need.

    Songs in ``recent`` have their score multiplied by REPEAT_PENALTY (pushed down, not removed).
    Ties keep the library's order: the songs that serve the emotion best, then the most liked.
    """
    weights, typical, _basis = seeds_for(user, emotion, index, hidden)
    profile = _profile(weights, index)
    own = [person_list(user.id)] if user is not None and user.is_authenticated else []
    method = ranking_method()
    scored = rank_songs(list(weights), index.candidates_by_emotion[emotion], index.signals, method=method,
                        seed_weights=weights, ignore_lists=own)
    scored = [(song, score * (REPEAT_PENALTY if song in recent else 1.0)) for song, score in scored]
    scored.sort(key=lambda pair: -round(pair[1], 6))  # stable: ties keep the order above
    kept = [s for s, w in weights.items() if w > 0]
    return {"emotion": emotion, "scored": scored, "profile": profile, "seeds": set(typical) | set(kept),
            "kept": kept, "own": set(own), "method": method}


def _reasons(song_id: int, ranked: dict, index: LibraryIndex) -> dict:
    """Why a song was picked: the tags it shares with the profile, and the seeds it shares lists with
    (people's kept songs, or the catalogue's playlists) when the ranking uses co-occurrence."""
    reasons = {"why": shared_tags(ranked["profile"], index.tags.get(song_id, ()))}
    if ranked["method"] in ("blend", "cooccurrence"):
        lists = set(index.lists.get(song_id, ())) - ranked["own"]
        people = [name for name in lists if is_person_list(name)]
        with_people = co_kept(ranked["kept"], song_id, index.lists, people)
        with_playlists = co_kept(ranked["kept"], song_id, index.lists, lists.difference(people))
        if with_people:
            reasons["kept_with"] = with_people[:MAX_REASON_SONGS]
        if with_playlists:
            reasons["listed_with"] = with_playlists[:MAX_REASON_SONGS]
    return reasons


def build_playlist(user, emotion: str, probabilities: dict | None = None, strategy: str = "match",
                   recent: set[int] | None = None, length: int = PLAYLIST_LENGTH) -> tuple[list[dict], str]:
    """The playlist for a person and a (detected or corrected) emotion, and the strategy used.

    Hidden songs and the person's seed songs never appear; songs in ``recent`` (their last few
    playlists) are pushed down; no artist more than MAX_PER_ARTIST times; every song says why. A blend
    interleaves the libraries in proportion to their shares, most likely first; lift keeps its
    calming-then-cheerful order.
    """
    used, segments = plan(emotion, probabilities, strategy)
    index = get_index()
    hidden = hidden_songs(user)
    recent = recent or set()
    ranked = [(share, _ranked(user, library, index, hidden, recent)) for library, share in segments]
    per_artist: Counter = Counter()
    taken: set[int] = set(hidden)
    for _share, part in ranked:
        taken.update(part["seeds"])
    parts: list[list[dict]] = []
    wanted, picked = 0.0, 0
    for share, part in ranked:
        wanted += share * length  # cumulative, so a short library's shortfall moves to the next
        picks = []
        for song_id, score in part["scored"]:
            if picked >= round(wanted):
                break
            artist = index.artist.get(song_id, "").casefold()
            if song_id in taken or per_artist[artist] >= MAX_PER_ARTIST:
                continue
            taken.add(song_id)
            per_artist[artist] += 1
            picked += 1
            picks.append({"id": song_id, "score": round(max(0.0, min(1.0, score)), 4), "mood": part["emotion"],
                          **_reasons(song_id, part, index)})
        parts.append(picks)
    playlist = interleave(parts) if used == "blend" else [pick for picks in parts for pick in picks]
    return playlist, used


def recommend(user, emotion: str, length: int = PLAYLIST_LENGTH) -> list[dict]:
    """The playlist for one emotion's library, ranked for this person."""
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


def playlist_for_recognition(recognition: Recognition,
                             corrected_emotion: str | None = None) -> tuple[list[dict], str]:
    """A recognition's playlist and the strategy that made it: the person's strategy, blending when
    the face is uncertain (not after a correction: the person said how they feel), fresh songs first.
    The caller stores them (``songs``, ``strategy``) with the rest of its write."""
    user = recognition.user
    emotion = corrected_emotion or recognition.emotion
    probabilities = None if corrected_emotion else recognition.probabilities
    return build_playlist(user, emotion, probabilities, MoodSetting.strategy_for(user), recent_songs(recognition))
