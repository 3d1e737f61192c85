"""The signals behind ``ranking.recommend`` (pure core, no Django): tag cosine (the paper's, or with
tf-idf weights), item-item co-occurrence in playlists, and their blend.

Two implementations of the same formulas: ``plain_scores`` is a plain Python loop for mappings handed
in once (building matrices would cost more than the loop saves), ``SongSignals`` holds a library as
sparse matrices for a service that ranks it again and again (and for the benchmark). Tests check that
the two agree.

Formulas, for seeds s with weights w_s, and a candidate c (docs/recommendation.md has the figures):

- tags: b_ct = 1 when c carries tag t. Profile p_t = sum_s w_s b_st. "cosine" (the paper) is
  cos(b_c, p); "tfidf" weighs both sides by idf_t = (1 + ln((1 + N) / (1 + df_t))) ** idf_power, N the
  library's songs and df_t those carrying t.
- co-occurrence: L(c) the lists holding c, n_l the songs on list l. List weight
  u_l = n_l ** -list_size_power; co(c) = sum_{l in L(c)} u_l sum_s w_s [l in L(s)] / |L(s)| ** a
  / |L(c)| ** a with a = song_norm_power; divided by its maximum over the candidates.
- popularity: ln(1 + |L(c)|) / ln(1 + max |L|), a small tie-breaker (tags are coarse: many ties).
- "blend" = tfidf + cooccurrence_weight * co + popularity_weight * popularity. When no seed is on
  any list, co is 0 everywhere and the blend is tf-idf tags alone: the cold-start fallback.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

METHODS = ("cosine", "tfidf", "cooccurrence", "blend")
DEFAULT_METHOD = "blend"
TIE_DECIMALS = 9  # scores equal to 9 places are ties (float noise must not order them)


@dataclass(frozen=True)
class Params:
    """Tuned on the odd-numbered NetEase playlists only (bench/bench_playlists.py)."""

    idf_power: float = 4.0
    list_size_power: float = 0.0
    song_norm_power: float = 0.1
    cooccurrence_weight: float = 4.0
    popularity_weight: float = 0.0


def order_scores(scores: np.ndarray, top: int | None = None) -> np.ndarray:
    """Indices of ``scores`` highest first; ties keep their input order."""
    keys = -np.round(np.asarray(scores, dtype=np.float64), TIE_DECIMALS)
    if top is not None and top < len(keys):
        if top <= 0:
            return np.zeros(0, dtype=np.int64)
        threshold = np.partition(keys, top - 1)[top - 1]
        chosen = np.flatnonzero(keys <= threshold)  # every song tied with the last place, in order
        return chosen[np.argsort(keys[chosen], kind="stable")][:top]
    return np.argsort(keys, kind="stable")


def _idf(df: float, songs: int, power: float) -> float:
    return (1.0 + math.log((1.0 + songs) / (1.0 + df))) ** power


def plain_scores(seeds: list, seed_weights: list[float], candidates: list,
                 tags: Mapping[Hashable, Iterable[Hashable]], playlists: Mapping[Hashable, Iterable[Hashable]],
                 method: str, params: Params) -> np.ndarray:
    """The formulas above as one pass over the candidates (and, for idf and list sizes, the library)."""
    profile: Counter = Counter()
    for seed, weight in zip(seeds, seed_weights):
        for tag in set(tags.get(seed, ())):
            profile[tag] += weight
    scores = np.zeros(len(candidates), dtype=np.float64)
    if method in ("cosine", "tfidf", "blend"):
        if method == "cosine":
            squared = None
            weighted = dict(profile)
            profile_norm = math.sqrt(sum(w * w for w in profile.values()))
        else:
            df = Counter(t for song_tags in tags.values() for t in set(song_tags))
            squared = {t: _idf(n, len(tags), params.idf_power) ** 2 for t, n in df.items()}
            weighted = {t: w * squared.get(t, _idf(0, len(tags), params.idf_power) ** 2) for t, w in profile.items()}
            profile_norm = math.sqrt(sum(w * w * squared.get(t, _idf(0, len(tags), params.idf_power) ** 2)
                                         for t, w in profile.items()))
        if profile_norm:
            get = weighted.get
            for i, song in enumerate(candidates):
                song_tags = tags.get(song, ())
                song_tags = song_tags if isinstance(song_tags, (set, frozenset)) else set(song_tags)
                if not song_tags:
                    continue
                norm = math.sqrt(len(song_tags) if squared is None else sum(map(squared.__getitem__, song_tags)))
                scores[i] = sum(get(t, 0.0) for t in song_tags) / (norm * profile_norm)
    if method in ("cooccurrence", "blend"):
        alpha = params.song_norm_power
        seed_lists: dict[Hashable, float] = {}
        for seed, weight in zip(seeds, seed_weights):
            lists = set(playlists.get(seed, ()))
            for lst in lists:
                seed_lists[lst] = seed_lists.get(lst, 0.0) + weight / len(lists) ** alpha
        co = np.zeros(len(candidates), dtype=np.float64)
        if seed_lists:
            sizes = Counter(lst for song_lists in playlists.values() for lst in set(song_lists))
            weight_of = {lst: w * sizes[lst] ** -params.list_size_power for lst, w in seed_lists.items()}
            get = weight_of.get
            for i, song in enumerate(candidates):
                lists = playlists.get(song)
                if lists:
                    lists = lists if isinstance(lists, (set, frozenset)) else set(lists)
                    co[i] = sum(get(lst, 0.0) for lst in lists) / len(lists) ** alpha
            if co.max() > 0:
                co /= co.max()
        if method == "cooccurrence":
            return co
        scores += params.cooccurrence_weight * co
        if params.popularity_weight:
            degree = np.array([len(set(playlists.get(song, ()))) for song in candidates], dtype=np.float64)
            most = max((len(set(v)) for v in playlists.values()), default=0)
            if most:
                scores += params.popularity_weight * np.log1p(degree) / math.log1p(most)
    return scores


class SongSignals:
    """A library's tags and list memberships as sparse matrices, built once, ranked many times."""

    def __init__(self, ids: list, tag_matrix, list_matrix):
        """``tag_matrix``: songs x tags (nonzero = carries), ``list_matrix``: songs x lists; rows in
        ``ids`` order. Use ``from_mappings`` for Python data."""
        from scipy import sparse

        self.ids = list(ids)
        self.index = {song: i for i, song in enumerate(self.ids)}
        n = len(self.ids)
        # One extra all-zero row stands for any song the library does not know.
        tags = sparse.csr_matrix(tag_matrix, dtype=np.float64)
        lists = sparse.csr_matrix(list_matrix, dtype=np.float64)
        tags.data[:] = 1.0
        lists.data[:] = 1.0
        self.tags = sparse.vstack([tags, sparse.csr_matrix((1, tags.shape[1]))]).tocsr()
        self.lists = sparse.vstack([lists, sparse.csr_matrix((1, lists.shape[1]))]).tocsr()
        self.tag_counts = np.diff(self.tags.indptr).astype(np.float64)
        self.degree = np.diff(self.lists.indptr).astype(np.float64)
        self.df = np.asarray(self.tags[:n].sum(axis=0)).ravel()
        self.list_sizes = np.asarray(self.lists.sum(axis=0)).ravel()
        self.songs = n
        self._tfidf: dict[float, tuple] = {}

    @classmethod
    def from_mappings(cls, tags: Mapping[Hashable, Iterable[Hashable]],
                      playlists: Mapping[Hashable, Iterable[Hashable]] | None = None) -> "SongSignals":
        from scipy import sparse

        ids = list(dict.fromkeys([*tags, *(playlists or {})]))

        def matrix(mapping):
            columns: dict[Hashable, int] = {}
            indptr, indices = [0], []
            for song in ids:
                indices.extend(columns.setdefault(x, len(columns)) for x in set(mapping.get(song, ())))
                indptr.append(len(indices))
            return sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(ids), max(len(columns), 1)))

        signals = cls(ids, matrix(tags), matrix(playlists or {}))
        return signals

    def rows_of(self, songs: Iterable[Hashable]) -> tuple[np.ndarray, list]:
        """Row indices (unknown songs -> the empty row) and the ids in the same order."""
        songs = list(songs)
        get = self.index.get
        return np.fromiter((get(s, self.songs) for s in songs), dtype=np.int64, count=len(songs)), songs

    def known(self, songs: Iterable[Hashable]) -> np.ndarray:
        return np.ones(len(list(songs)), dtype=bool)  # unknown seeds map to the empty row: weight harmless

    def _weighted_tags(self, idf_power: float):
        if idf_power not in self._tfidf:
            idf = (1.0 + np.log((1.0 + self.songs) / (1.0 + self.df))) ** idf_power
            norms = np.sqrt(self.tags.multiply(self.tags).dot(idf ** 2))
            self._tfidf[idf_power] = (idf, norms)
        return self._tfidf[idf_power]

    def tag_scores(self, seed_rows: np.ndarray, rows: np.ndarray, seed_weights: np.ndarray,
                   method: str, params: Params) -> np.ndarray:
        profile = np.asarray(self.tags[seed_rows].T.dot(seed_weights)).ravel()
        if method == "cosine":
            weights, norms = np.ones_like(profile), np.sqrt(self.tag_counts)
        else:
            weights, norms = self._weighted_tags(params.idf_power)
        profile_norm = math.sqrt(float(np.dot(profile * weights, profile * weights)))
        if not profile_norm:
            return np.zeros(self._count(rows))
        dots = self.tags[rows].dot(profile * weights * weights)
        row_norms = norms[rows]
        return np.divide(dots, row_norms * profile_norm, out=np.zeros(len(row_norms)), where=row_norms > 0)

    def cooccurrence(self, seed_rows: np.ndarray, rows: np.ndarray, seed_weights: np.ndarray,
                     params: Params) -> np.ndarray:
        alpha = params.song_norm_power
        seed_degree = self.degree[seed_rows]
        share = np.divide(seed_weights, seed_degree ** alpha, out=np.zeros(len(seed_rows)), where=seed_degree > 0)
        per_list = np.asarray(self.lists[seed_rows].T.dot(share)).ravel()
        if not per_list.any():
            return np.zeros(self._count(rows))
        sizes = self.list_sizes
        per_list = np.divide(per_list, sizes ** params.list_size_power, out=np.zeros_like(per_list), where=sizes > 0)
        degree = self.degree[rows]
        co = np.divide(self.lists[rows].dot(per_list), degree ** alpha, out=np.zeros(len(degree)), where=degree > 0)
        return co / co.max() if co.max() > 0 else co

    def popularity(self, rows: np.ndarray) -> np.ndarray:
        most = self.degree.max() if len(self.degree) else 0
        return np.log1p(self.degree[rows]) / math.log1p(most) if most else np.zeros(self._count(rows))

    def _count(self, rows) -> int:
        return self.songs if isinstance(rows, slice) else len(rows)

    def scores(self, seed_rows, rows, method: str = DEFAULT_METHOD, params: Params | None = None,
               seed_weights: np.ndarray | None = None) -> np.ndarray:
        """The score of each song in ``rows`` (None: every song) for these seeds (row indices)."""
        params = params or Params()
        seed_rows = np.asarray(seed_rows, dtype=np.int64)
        rows = slice(0, self.songs) if rows is None else np.asarray(rows, dtype=np.int64)
        seed_weights = np.ones(len(seed_rows)) if seed_weights is None else np.asarray(seed_weights, dtype=np.float64)
        if method == "cooccurrence":
            return self.cooccurrence(seed_rows, rows, seed_weights, params)
        scores = self.tag_scores(seed_rows, rows, seed_weights, method, params)
        if method == "blend":
            scores = scores + params.cooccurrence_weight * self.cooccurrence(seed_rows, rows, seed_weights, params)
            if params.popularity_weight:
                scores = scores + params.popularity_weight * self.popularity(rows)
        return scores
