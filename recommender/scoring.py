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
- "blend" = (tfidf + cooccurrence_weight * co + popularity_weight * popularity) / (the weights'
  sum), in [0, 1]. When no seed shares a list with any candidate, co is 0 everywhere and the blend is
  tf-idf tags alone (scaled by 1 + popularity_weight only): the cold-start fallback.

A seed may weigh less than 1 (a favourite) or below 0 (a song the person hid): the profile and the
co-occurrence are clamped at zero, so a hidden song lowers what it shares and never turns a profile
into a dislike vector. ``ignore_lists`` leaves lists out of the co-occurrence (a person's own).
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

    idf_power: float = 2.0
    list_size_power: float = 0.0
    song_norm_power: float = 0.0
    cooccurrence_weight: float = 4.0
    popularity_weight: float = 0.0


SMALL = 2000  # below this many scores a Python sort beats numpy's set-up


def order_scores(scores, top: int | None = None):
    """Indices of ``scores`` highest first; ties keep their input order."""
    if isinstance(scores, list) and len(scores) <= SMALL:  # plain_scores already rounded them
        order = sorted(range(len(scores)), key=scores.__getitem__, reverse=True)  # stable, ties in order
        return order if top is None else order[:max(top, 0)]
    keys = -np.round(np.asarray(scores, dtype=np.float64), TIE_DECIMALS)
    if top is not None and top < len(keys):
        if top <= 0:
            return np.zeros(0, dtype=np.int64)
        threshold = np.partition(keys, top - 1)[top - 1]
        chosen = np.flatnonzero(keys <= threshold)  # every song tied with the last place, in order
        return chosen[np.argsort(keys[chosen], kind="stable")][:top]
    return np.argsort(keys, kind="stable")


def combine(tags: np.ndarray, co: np.ndarray, popularity: np.ndarray | None, params: Params) -> np.ndarray:
    """The blend of the signals (module docstring); the same for both implementations and the benchmark."""
    has_co = bool(co.any())
    total = tags + (params.cooccurrence_weight * co if has_co else 0.0)
    if params.popularity_weight and popularity is not None:
        total = total + params.popularity_weight * popularity
    return total / (1.0 + (params.cooccurrence_weight if has_co else 0.0) + params.popularity_weight)


def _idf(df: float, songs: int, power: float) -> float:
    return (1.0 + math.log((1.0 + songs) / (1.0 + df))) ** power


def plain_scores(seeds: list, seed_weights: list[float], candidates: list,
                 tags: Mapping[Hashable, Iterable[Hashable]], playlists: Mapping[Hashable, Iterable[Hashable]],
                 method: str, params: Params, ignore_lists: Iterable[Hashable] = (),
                 stats: dict | None = None) -> list[float]:
    """The formulas above as one pass over the candidates (and, for idf and list sizes, the library),
    in plain Python: no per-call set-up, so it is never slower than the obvious loop. Weighted scores
    come rounded to TIE_DECIMALS, so equal ones compare equal. ``stats`` (from a ``SongSignals``) saves
    the passes over the library for idf and list sizes."""
    profile: dict[Hashable, float] = {}
    for seed, weight in zip(seeds, seed_weights):
        for tag in set(tags.get(seed, ())):
            profile[tag] = profile.get(tag, 0.0) + weight
    profile = {tag: w for tag, w in profile.items() if w > 0}
    scores = [0.0] * len(candidates)
    if method != "cooccurrence" and profile:
        if method == "cosine":
            squared = None
            weighted = profile
            profile_norm = math.sqrt(sum(w * w for w in profile.values()))
        else:
            df = stats["df"] if stats else Counter(t for song_tags in tags.values() for t in set(song_tags))
            songs = stats["songs"] if stats else len(tags)
            squared = {t: _idf(n, songs, params.idf_power) ** 2 for t, n in df.items()}
            unseen = _idf(0, songs, params.idf_power) ** 2
            weighted = {t: w * squared.get(t, unseen) for t, w in profile.items()}
            profile_norm = math.sqrt(sum(w * w * squared.get(t, unseen) for t, w in profile.items()))
        shared, weight_of, get = weighted.keys(), weighted.__getitem__, tags.get
        for i, song in enumerate(candidates):
            song_tags = get(song)
            if not song_tags:
                continue
            if type(song_tags) is not set and type(song_tags) is not frozenset:
                song_tags = set(song_tags)
            norm = math.sqrt(len(song_tags) if squared is None else sum(map(squared.__getitem__, song_tags)))
            scores[i] = sum(map(weight_of, shared & song_tags)) / (norm * profile_norm)
    if method == "cosine":  # quotients of the same small integers: equal tag sets give equal floats
        return scores
    if method == "tfidf":
        return [round(v, TIE_DECIMALS) for v in scores]
    co = _plain_cooccurrence(seeds, seed_weights, candidates, playlists, params, set(ignore_lists), stats)
    if method == "cooccurrence":
        return [round(v, TIE_DECIMALS) for v in co]
    has_co = any(co)
    weight = params.cooccurrence_weight if has_co else 0.0
    popularity = [0.0] * len(candidates)
    most = 0
    if params.popularity_weight:
        most = stats["most"] if stats else max((len(set(v)) for v in playlists.values()), default=0)
    if most:
        popularity = [math.log1p(len(set(playlists.get(song, ())))) / math.log1p(most) for song in candidates]
    scale = 1.0 + weight + params.popularity_weight
    return [round((t + weight * c + params.popularity_weight * p) / scale, TIE_DECIMALS)
            for t, c, p in zip(scores, co, popularity)]


def _plain_cooccurrence(seeds, seed_weights, candidates, playlists, params: Params, ignored: set,
                        stats: dict | None) -> list[float]:
    alpha = params.song_norm_power
    seed_lists: dict[Hashable, float] = {}
    for seed, weight in zip(seeds, seed_weights):
        lists = set(playlists.get(seed, ())) - ignored
        for lst in lists:
            seed_lists[lst] = seed_lists.get(lst, 0.0) + weight / len(lists) ** alpha
    co = [0.0] * len(candidates)
    if not seed_lists:
        return co
    sizes = stats["sizes"] if stats else Counter(lst for song_lists in playlists.values() for lst in set(song_lists))
    get = {lst: w * sizes[lst] ** -params.list_size_power for lst, w in seed_lists.items()}.get
    for i, song in enumerate(candidates):
        lists = playlists.get(song)
        if lists:
            lists = lists if isinstance(lists, (set, frozenset)) else set(lists)
            co[i] = max(0.0, sum(get(lst, 0.0) for lst in lists) / len(lists) ** alpha)
    most = max(co)
    return [c / most for c in co] if most > 0 else co


class SongSignals:
    """A library's tags and list memberships as sparse matrices, built once, ranked many times."""

    def __init__(self, ids: list, tag_matrix, list_matrix, list_ids: list | None = None):
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
        self.list_index = {name: i for i, name in enumerate(list_ids or ())}
        self._tfidf: dict[float, tuple] = {}
        self.mappings: tuple[dict, dict] | None = None
        self.stats: dict | None = None

    @classmethod
    def from_mappings(cls, tags: Mapping[Hashable, Iterable[Hashable]],
                      playlists: Mapping[Hashable, Iterable[Hashable]] | None = None) -> "SongSignals":
        from scipy import sparse

        ids = list(dict.fromkeys([*tags, *(playlists or {})]))

        def matrix(mapping, columns):
            indptr, indices = [0], []
            for song in ids:
                indices.extend(columns.setdefault(x, len(columns)) for x in set(mapping.get(song, ())))
                indptr.append(len(indices))
            return sparse.csr_matrix((np.ones(len(indices)), indices, indptr), shape=(len(ids), max(len(columns), 1)))

        list_columns: dict[Hashable, int] = {}
        lists = matrix(playlists or {}, list_columns)
        tag_columns: dict[Hashable, int] = {}
        signals = cls(ids, matrix(tags, tag_columns), lists, list(list_columns))
        # Kept for few candidates, where a plain loop beats sparse products (``recommend``).
        signals.mappings = ({s: frozenset(tags.get(s, ())) for s in ids},
                            {s: frozenset(playlists[s]) for s in ids if playlists and playlists.get(s)})
        signals.stats = {"songs": len(ids), "df": dict(zip(tag_columns, signals.df.tolist())),
                         "sizes": dict(zip(list_columns, signals.list_sizes.tolist())),
                         "most": int(signals.degree.max()) if len(ids) else 0}
        return signals

    def rows_of(self, songs: Iterable[Hashable]) -> tuple[np.ndarray, list]:
        """Row indices (unknown songs -> the empty row) and the ids in the same order."""
        songs = list(songs)
        get = self.index.get
        return np.fromiter((get(s, self.songs) for s in songs), dtype=np.int64, count=len(songs)), songs

    def _weighted_tags(self, idf_power: float):
        if idf_power not in self._tfidf:
            idf = (1.0 + np.log((1.0 + self.songs) / (1.0 + self.df))) ** idf_power
            norms = np.sqrt(self.tags.multiply(self.tags).dot(idf ** 2))
            self._tfidf[idf_power] = (idf, norms)
        return self._tfidf[idf_power]

    def tag_scores(self, seed_rows: np.ndarray, rows: np.ndarray, seed_weights: np.ndarray,
                   method: str, params: Params) -> np.ndarray:
        profile = np.maximum(np.asarray(self.tags[seed_rows].T.dot(seed_weights)).ravel(), 0.0)
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
                     params: Params, ignore_lists: Iterable[Hashable] = ()) -> np.ndarray:
        alpha = params.song_norm_power
        seed_degree = self.degree[seed_rows]
        share = np.divide(seed_weights, seed_degree ** alpha, out=np.zeros(len(seed_rows)), where=seed_degree > 0)
        per_list = np.asarray(self.lists[seed_rows].T.dot(share)).ravel()
        ignored = [self.list_index[name] for name in ignore_lists if name in self.list_index]
        per_list[ignored] = 0.0
        if not per_list.any():
            return np.zeros(self._count(rows))
        sizes = self.list_sizes
        per_list = np.divide(per_list, sizes ** params.list_size_power, out=np.zeros_like(per_list), where=sizes > 0)
        degree = self.degree[rows]
        co = np.divide(self.lists[rows].dot(per_list), degree ** alpha, out=np.zeros(len(degree)), where=degree > 0)
        np.maximum(co, 0.0, out=co)
        return co / co.max() if co.max() > 0 else co

    def popularity(self, rows: np.ndarray) -> np.ndarray:
        most = self.degree.max() if len(self.degree) else 0
        return np.log1p(self.degree[rows]) / math.log1p(most) if most else np.zeros(self._count(rows))

    def _count(self, rows) -> int:
        return self.songs if isinstance(rows, slice) else len(rows)

    def scores(self, seed_rows, rows, method: str = DEFAULT_METHOD, params: Params | None = None,
               seed_weights: np.ndarray | None = None, ignore_lists: Iterable[Hashable] = ()) -> np.ndarray:
        """The score of each song in ``rows`` (None: every song) for these seeds (row indices)."""
        params = params or Params()
        seed_rows = np.asarray(seed_rows, dtype=np.int64)
        rows = slice(0, self.songs) if rows is None else np.asarray(rows, dtype=np.int64)
        seed_weights = np.ones(len(seed_rows)) if seed_weights is None else np.asarray(seed_weights, dtype=np.float64)
        if method == "cooccurrence":
            return self.cooccurrence(seed_rows, rows, seed_weights, params, ignore_lists)
        scores = self.tag_scores(seed_rows, rows, seed_weights, method, params)
        if method == "blend":
            co = self.cooccurrence(seed_rows, rows, seed_weights, params, ignore_lists)
            popularity = self.popularity(rows) if params.popularity_weight else None
            scores = combine(scores, co, popularity, params)
        return scores
