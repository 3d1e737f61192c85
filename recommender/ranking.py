"""Ranking songs for a person (pure core, no Django).

The paper (section 3.2): a song is a vector of feature tags; a person's profile for an emotion
is the tag occurrence counts over their three typical songs; every candidate is scored by the
cosine of the angle between its vector and the profile, highest first. The paper's formula (5)
prints an arccos, but its Table 4 lists plain cosines (0.972 for a near match), and "the larger,
the more similar" only holds for the cosine, so the cosine is what we compute.

``recommend`` is the contract the product and every evaluation call. Besides the paper's cosine
it knows tf-idf tag weights and item-item co-occurrence in playlists (the catalogue's, and people's
kept songs), blended; docs/recommendation.md has the measurements behind each choice. The
vectorised work is in ``recommender.scoring``; this module holds the plain formulas.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping

import numpy as np

from .scoring import DEFAULT_METHOD, METHODS, Params, SongSignals, order_scores, plain_scores

TagWeights = Mapping[Hashable, float]
DEFAULT_PARAMS = Params()
PLAIN_BELOW = 300  # candidates; measured crossover of the plain loop and SongSignals (tests/ranking)

__all__ = ["DEFAULT_METHOD", "METHODS", "Params", "SongSignals", "TagMatrix", "cosine", "lower_tags",
           "interleave", "profile_from_songs", "rank", "recommend", "shared_tags", "tag_vector"]


def tag_vector(tags: Iterable[Hashable] | TagWeights) -> dict[Hashable, float]:
    """A song's tags as a vector: an iterable counts each tag once, a mapping keeps its weights."""
    if isinstance(tags, Mapping):
        return {tag: float(weight) for tag, weight in tags.items() if weight}
    return {tag: 1.0 for tag in tags}


def profile_from_songs(songs_tags: Iterable[Iterable[Hashable]], weight: float = 1.0) -> Counter:
    """Tag occurrence counts over some songs (the paper's [(A1, a1), ..., (An, an)])."""
    profile: Counter = Counter()
    for tags in songs_tags:
        for tag in set(tags):
            profile[tag] += weight
    return profile


def cosine(a: TagWeights, b: TagWeights) -> float:
    dot = sum(weight * b.get(tag, 0.0) for tag, weight in a.items())
    norm = math.sqrt(sum(w * w for w in a.values())) * math.sqrt(sum(w * w for w in b.values()))
    return dot / norm if norm else 0.0


def rank(profile: TagWeights, candidates: Mapping[Hashable, Iterable[Hashable] | TagWeights],
         top: int | None = None) -> list[tuple[Hashable, float]]:
    """Score every candidate against the profile, highest cosine first (ties keep input order)."""
    weights = {tag: float(w) for tag, w in profile.items()}
    profile_norm = math.sqrt(sum(w * w for w in weights.values()))
    get = weights.get
    scored = []
    for song_id, tags in candidates.items():
        if isinstance(tags, Mapping):
            vector = tag_vector(tags)
            dot = sum(w * get(t, 0.0) for t, w in vector.items())
            norm = math.sqrt(sum(w * w for w in vector.values()))
        else:  # a plain set of tags, each weighing 1: no per-song dictionary needed
            tags = tags if isinstance(tags, (set, frozenset)) else set(tags)
            dot = sum(get(t, 0.0) for t in tags)
            norm = math.sqrt(len(tags))
        scored.append((song_id, dot / (norm * profile_norm) if norm and profile_norm else 0.0))
    scored.sort(key=lambda pair: -pair[1])
    return scored[:top] if top is not None else scored


def recommend(seeds: Iterable[Hashable], candidates: Iterable[Hashable],
              tags: Mapping[Hashable, Iterable[Hashable]] | SongSignals,
              playlists: Mapping[Hashable, Iterable[Hashable]] | None = None, top: int | None = None,
              method: str | None = None, params: Params | None = None,
              seed_weights: Mapping[Hashable, float] | None = None,
              ignore_lists: Iterable[Hashable] = ()) -> list[tuple[Hashable, float]]:
    """The candidates best first as ``[(song_id, score)]`` for a person whose typical songs are ``seeds``.

    ``tags`` maps song id -> tag names (or is a prebuilt ``SongSignals``, which is what a service
    keeps between requests: then ``playlists`` is already inside it); ``playlists`` maps song id ->
    ids of the playlists or people's saved lists holding it. ``method`` is one of ``METHODS``:
    "cosine" is the paper's, "blend" adds tf-idf weights and co-occurrence, falling back to tags
    alone when no seed shares a list with a candidate. By default it is "blend" when there are lists
    (``playlists`` or a ``SongSignals``) and the paper's "cosine" when only tags are given. ``seed_weights`` (default 1 a seed) lets a
    favourite count less than a typical song, and a negative weight lowers what a hidden song shares;
    ``ignore_lists`` are left out of the co-occurrence (the person's own saved list). Ties keep the
    candidates' order.
    """
    if method is None:
        method = DEFAULT_METHOD if playlists is not None or isinstance(tags, SongSignals) else "cosine"
    if method not in METHODS:
        raise ValueError(f"unknown ranking method {method!r}; one of {', '.join(METHODS)}")
    params = params or DEFAULT_PARAMS
    seeds = list(dict.fromkeys(seeds))
    weights = [float((seed_weights or {}).get(s, 1.0)) for s in seeds]
    if isinstance(tags, SongSignals) and tags.mappings is not None and _few(candidates):
        ids = list(candidates)
        scores = plain_scores(seeds, weights, ids, *tags.mappings, method, params, ignore_lists, tags.stats)
    elif isinstance(tags, SongSignals):
        rows, ids = tags.rows_of(candidates)
        scores = tags.scores(tags.rows_of(seeds)[0], rows, method, params,
                             seed_weights=np.asarray(weights, dtype=np.float64), ignore_lists=ignore_lists)
    else:
        ids = list(candidates)
        scores = plain_scores(seeds, weights, ids, tags, playlists or {}, method, params, ignore_lists)
    order = order_scores(scores, top)
    return [(ids[i], float(scores[i])) for i in order]


def _few(candidates) -> bool:
    """Below a few hundred candidates a plain loop beats the sparse products' fixed costs."""
    try:
        return len(candidates) < PLAIN_BELOW
    except TypeError:  # a generator: the sparse path takes it as it comes
        return False


def shared_tags(profile: TagWeights, tags: Iterable[Hashable]) -> list[Hashable]:
    """The tags that made a song score, strongest in the profile first: the 'why' of a pick."""
    return sorted((t for t in set(tags) if profile.get(t)), key=lambda t: (-profile[t], str(t)))


def co_kept(seeds: Iterable[Hashable], song: Hashable, playlists: Mapping[Hashable, Iterable[Hashable]],
            lists: Iterable[Hashable] | None = None) -> list[Hashable]:
    """The seeds that share a list with ``song`` (only lists in ``lists`` when given): the
    "people who kept ... also kept this" of a pick."""
    theirs = set(playlists.get(song, ()))
    if lists is not None:
        theirs &= set(lists)
    return [s for s in seeds if theirs.intersection(playlists.get(s, ()))]


def interleave(parts: list[list]) -> list:
    """Merge lists so each keeps its share at every point of the result (smooth weighted round robin):
    at each place the list furthest behind its share goes next, the first (most likely) on ties."""
    total = sum(len(part) for part in parts)
    merged, taken = [], [0] * len(parts)
    for place in range(1, total + 1):
        behind = [(len(part) * place / total - taken[k], -k) for k, part in enumerate(parts) if taken[k] < len(part)]
        k = -max(behind)[1]
        merged.append(parts[k][taken[k]])
        taken[k] += 1
    return merged


class TagMatrix:
    """A library's songs as an L2-normalised sparse song x tag matrix, for ranking many at once.

    Build once (it is the expensive part) and reuse for every profile; ``scores`` is one sparse
    matrix-vector product.
    """

    def __init__(self, songs: Mapping[Hashable, Iterable[Hashable] | TagWeights]):
        from scipy import sparse

        self.ids = list(songs)
        self.index = {song_id: i for i, song_id in enumerate(self.ids)}
        self.vocabulary: dict[Hashable, int] = {}
        rows, cols, values = [], [], []
        for row, song_id in enumerate(self.ids):
            for tag, weight in tag_vector(songs[song_id]).items():
                col = self.vocabulary.setdefault(tag, len(self.vocabulary))
                rows.append(row)
                cols.append(col)
                values.append(weight)
        matrix = sparse.csr_matrix((np.asarray(values, dtype=np.float32), (rows, cols)),
                                   shape=(len(self.ids), max(len(self.vocabulary), 1)))
        norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
        norms[norms == 0] = 1.0
        self.matrix = sparse.diags(1.0 / norms).dot(matrix).tocsr().astype(np.float32)

    def __len__(self):
        return len(self.ids)

    def profile_vector(self, profile: TagWeights) -> np.ndarray:
        vector = np.zeros(self.matrix.shape[1], dtype=np.float32)
        for tag, weight in profile.items():
            col = self.vocabulary.get(tag)
            if col is not None:
                vector[col] = weight
        # Tags no library song carries still count in the profile's norm, as in the formula.
        norm = math.sqrt(sum(float(w) * float(w) for w in profile.values()))
        return vector / norm if norm else vector

    def scores(self, profile: TagWeights, rows: np.ndarray | None = None) -> np.ndarray:
        """Cosine of every song (or of the given row indices) against the profile."""
        matrix = self.matrix if rows is None else self.matrix[rows]
        return matrix.dot(self.profile_vector(profile))

    def rank(self, profile: TagWeights, top: int | None = None,
             rows: np.ndarray | None = None) -> list[tuple[Hashable, float]]:
        scores = self.scores(profile, rows)
        ids = self.ids if rows is None else [self.ids[r] for r in rows]
        order = order_scores(scores, top)
        return [(ids[i], float(scores[i])) for i in order]


def lower_tags(profile: TagWeights, songs_tags: Iterable[Iterable[Hashable]], weight: float) -> Counter:
    """The profile with each tag of the given songs lowered by ``weight`` per song, never below zero.

    "Not for me": a disliked song's tags count less, but a profile never turns into a dislike
    vector, so cosines stay in [0, 1].
    """
    lowered = Counter(profile)
    for tags in songs_tags:
        for tag in set(tags):
            if tag in lowered:
                lowered[tag] -= weight
    return Counter({tag: w for tag, w in lowered.items() if w > 0})
