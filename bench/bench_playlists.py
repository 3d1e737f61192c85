"""Ranking measured on real playlists: leave-one-playlist-out on the 634 NetEase playlists.

The protocol (issue 17; ``../shared/data/music/netease_playlists_music163``, read-only):

1. Every song of the data set is a candidate (the whole pool, 38,553 song ids), its tags are the
   NetEase tags of the playlists holding it, its lists are those playlists.
2. For a playlist P: three of its songs (drawn with a seed fixed per playlist) are the typical
   songs, its other songs are the ones to find. Everything the ranking sees is rebuilt without P,
   without its near-copies (playlists sharing at least half of the smaller one's songs with P) and
   without the other playlists of P's author: a song's tags and lists come from the rest only.
3. Candidates: the pool without the three typical songs. Each method scores them through
   ``recommender.scoring.SongSignals`` (what ``ranking.recommend`` uses for a cached library).
4. Figures are exact expectations over random order among tied scores: hit@10 (at least one song to
   find in the first ten), recall@20 and nDCG@20 (binary gains), mean and standard error over
   playlists, and the paired difference against the paper's cosine.
5. Parameters are tuned on playlists with an odd id only; figures are reported on the even ones.

Run: ``nice -n 10 python -m bench.bench_playlists`` (also part of ``make bench``).
"""

from __future__ import annotations

import csv
import json
import math
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy import sparse

from recommender.scoring import TIE_DECIMALS, Params, SongSignals, combine

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "music" / "netease_playlists_music163"
SEEDS = 3
HIT_AT, LIST_AT = 10, 20
NEAR_COPY = 0.5  # share of the smaller playlist's songs
MULTIWORD = ("Bossa Nova", "New Age")
COLD = "cold start"  # no seed shares a list with any candidate: the blend is tags alone
METHODS = ("random", "popularity", "cosine", "tfidf", "cooccurrence", "blend")
LABELS = {"random": "random", "popularity": "most popular (playlists holding the song)",
          "cosine": "paper: cosine of tag counts", "tfidf": "cosine, tf-idf tag weights",
          "cooccurrence": "co-occurrence in playlists", "blend": "blend (shipped)"}


@dataclass
class Playlists:
    ids: np.ndarray  # NetEase playlist ids
    authors: list[str]
    songs: list[np.ndarray]  # per playlist, its song rows
    membership: sparse.csr_matrix  # songs x playlists
    playlist_tags: sparse.csr_matrix  # playlists x tags
    tag_names: list[str]
    excluded: list[np.ndarray]  # per playlist: itself, near-copies, same author's others


def split_tags(labels: str) -> list[str]:
    raw, tokens, i = labels.split(), [], 0
    while i < len(raw):
        if " ".join(raw[i:i + 2]) in MULTIWORD:
            tokens.append(" ".join(raw[i:i + 2]))
            i += 2
        else:
            tokens.append(raw[i])
            i += 1
    return sorted(set(tokens))


def load(folder: Path = DATA) -> Playlists:
    songs_file = folder / "songlist2songs.txt"
    lists_file = next(iter(sorted(folder.glob("MusicList_*.csv"))), None)
    if not songs_file.exists() or lists_file is None:
        raise FileNotFoundError(f"NetEase playlists not found in {folder}")
    with open(lists_file, encoding="utf-8", newline="") as handle:
        author_of = {row["SongsListID"].strip(): row["AuthorID"].strip() for row in csv.DictReader(handle)}
    song_row: dict[str, int] = {}
    tag_col: dict[str, int] = {}
    ids, authors, members, tags = [], [], [], []
    for line in songs_file.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        fields = line.split("\t")
        _name, labels, playlist_id, _collected = fields[0].rsplit("##", 3)
        rows = {song_row.setdefault(f.split("::", 1)[0], len(song_row)) for f in fields[1:] if "::" in f}
        ids.append(int(playlist_id))
        authors.append(author_of.get(playlist_id, f"unknown:{playlist_id}"))
        members.append(np.array(sorted(rows), dtype=np.int64))
        tags.append([tag_col.setdefault(t, len(tag_col)) for t in split_tags(labels)])

    def incidence(rows_per_column, n_rows):
        cols = np.repeat(np.arange(len(rows_per_column)), [len(r) for r in rows_per_column])
        rows = np.concatenate([np.asarray(r, dtype=np.int64) for r in rows_per_column])
        return sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n_rows, len(rows_per_column)))

    membership = incidence(members, len(song_row))
    playlist_tags = incidence(tags, len(tag_col)).T.tocsr()
    overlap = membership.T.dot(membership).toarray()
    sizes = np.diag(overlap)
    near = overlap >= NEAR_COPY * np.minimum.outer(sizes, sizes)
    same_author = np.equal.outer(np.array(authors), np.array(authors))
    excluded = [np.flatnonzero(near[p] | same_author[p]) for p in range(len(ids))]
    return Playlists(np.array(ids), authors, members, membership, playlist_tags,
                     sorted(tag_col, key=tag_col.get), excluded)


def signals_without(data: Playlists, excluded: np.ndarray) -> SongSignals:
    """Tags and lists of every song, from the playlists not in ``excluded`` only."""
    keep = np.ones(len(data.ids))
    keep[excluded] = 0.0
    kept_lists = data.membership.dot(sparse.diags(keep)).tocsr()
    kept_lists.eliminate_zeros()
    tag_counts = kept_lists.dot(data.playlist_tags)
    return SongSignals(range(data.membership.shape[0]), tag_counts, kept_lists)


def expected_metrics(scores: np.ndarray, wanted: np.ndarray) -> tuple[float, float, float]:
    """hit@10, recall@20 and nDCG@20, each its exact expectation over random order among ties.

    A group of ``tied`` songs (``found`` of them wanted) after ``better`` higher ones fills places
    better+1 .. better+tied, each wanted song equally likely in each of them.
    """
    scores = np.round(scores, TIE_DECIMALS)
    total = int(wanted.sum())
    depth = min(LIST_AT, len(scores))
    cutoff = np.partition(scores, len(scores) - depth)[len(scores) - depth]
    values, counts = np.unique(scores[scores >= cutoff], return_counts=True)
    gains = 1.0 / np.log2(np.arange(2, LIST_AT + 2))
    miss_all, recall, dcg, better = 1.0, 0.0, 0.0, 0
    for value, tied in zip(values[::-1], counts[::-1]):
        found = int(np.count_nonzero(wanted & (scores == value)))
        slots = max(0, min(HIT_AT, better + tied) - better)  # this group's places within the first ten
        # P(no wanted song among `slots` drawn from `tied` of which `found` are wanted)
        for i in range(slots):
            miss_all *= max(0.0, (tied - found - i) / (tied - i))
        places = np.arange(better, min(LIST_AT, better + tied))
        recall += found * len(places) / tied
        dcg += found / tied * gains[places].sum()
        better += tied
        if better >= LIST_AT:
            break
    ideal = gains[:min(LIST_AT, total)].sum()
    return 1.0 - miss_all, recall / total, dcg / ideal


def draw_seeds(data: Playlists, playlist: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng([seed, int(data.ids[playlist])])
    return rng.choice(data.songs[playlist], size=SEEDS, replace=False)


def method_scores(signals: SongSignals, seeds: np.ndarray, params: Params) -> dict[str, np.ndarray]:
    everyone = None
    out = {name: signals.scores(seeds, everyone, name, params) for name in ("cosine", "tfidf", "cooccurrence")}
    out["popularity"] = signals.degree[:signals.songs].copy()
    out["random"] = np.zeros(signals.songs)
    out["blend"] = blend(out, signals, params)
    return out


def blend(parts: dict[str, np.ndarray], signals: SongSignals, params: Params) -> np.ndarray:
    """``SongSignals.scores(..., "blend")`` from already computed parts (tuning tries many weights)."""
    return combine(parts["tfidf"], parts["cooccurrence"], signals.popularity(slice(0, signals.songs)), params)


def queries(data: Playlists, parity: int):
    """(playlist index, seeds, wanted mask) for playlists of the given id parity with >= 4 songs."""
    for p in np.flatnonzero(data.ids % 2 == parity):
        if len(data.songs[p]) > SEEDS:
            yield int(p)


def evaluate(data: Playlists, parity: int, params: Params, seed: int = 20240528,
             variants: dict[str, Params] | None = None) -> dict[str, np.ndarray]:
    """Per playlist of the given parity, [hit, recall, ndcg] for each method (and each variant), and
    under COLD whether it was a cold start."""
    rows: dict[str, list] = {}
    for p in queries(data, parity):
        signals = signals_without(data, data.excluded[p])
        seeds = draw_seeds(data, p, seed)
        wanted = np.zeros(signals.songs, dtype=bool)
        wanted[data.songs[p]] = True
        wanted[seeds] = False
        candidates = np.ones(signals.songs, dtype=bool)
        candidates[seeds] = False
        parts = method_scores(signals, seeds, params)
        for name, variant in (variants or {}).items():  # each variant's tags, co-occurrence and blend
            parts[f"tfidf {name}"] = (signals.scores(seeds, None, "tfidf", variant)
                                      if variant.idf_power != params.idf_power else parts["tfidf"])
            same_co = (variant.list_size_power, variant.song_norm_power) == (params.list_size_power,
                                                                             params.song_norm_power)
            parts[f"cooccurrence {name}"] = (parts["cooccurrence"] if same_co
                                             else signals.scores(seeds, None, "cooccurrence", variant))
            parts[f"blend {name}"] = blend({"tfidf": parts[f"tfidf {name}"],
                                            "cooccurrence": parts[f"cooccurrence {name}"]}, signals, variant)
        for name, scores in parts.items():
            rows.setdefault(name, []).append(expected_metrics(scores[candidates], wanted[candidates]))
        rows.setdefault(COLD, []).append(not parts["cooccurrence"][candidates].any())
    return {name: np.array(values) for name, values in rows.items()}


def summary(per_playlist: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    out = {}
    base = per_playlist["cosine"]
    for name, values in per_playlist.items():
        if name == COLD:
            continue
        n = len(values)
        row = {"playlists": n}
        for i, metric in enumerate(("hit@10", "recall@20", "ndcg@20")):
            row[metric] = float(values[:, i].mean())
            row[f"{metric} se"] = float(values[:, i].std(ddof=1) / math.sqrt(n))
            diff = values[:, i] - base[:, i]
            row[f"{metric} vs cosine"] = float(diff.mean())
            row[f"{metric} vs cosine se"] = float(diff.std(ddof=1) / math.sqrt(n))
        out[name] = row
    return out


def tune(data: Playlists, seed: int = 20240528) -> tuple[Params, list[dict]]:
    """Coordinate search on the odd playlists, each signal on its own first: the idf power for tf-idf
    tags, then the norms for co-occurrence, then the blend's weights; objective hit@10 + nDCG@20."""
    best = Params()
    log = []
    grids = (  # (signal judged, changes tried)
        ("tfidf", [{"idf_power": v} for v in (0.5, 1.0, 2.0, 3.0, 4.0)]),
        ("cooccurrence", [{"list_size_power": a, "song_norm_power": b} for a in (0.0, 0.25, 0.5, 1.0) for b in (0.0, 0.1, 0.25, 0.5)]),
        ("blend", [{"cooccurrence_weight": c, "popularity_weight": w} for c in (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 64.0)
         for w in (0.0, 0.01, 0.05, 0.2)]),
    )
    for signal, grid in grids:
        variants = {json.dumps(change, sort_keys=True): replace(best, **change) for change in grid}
        results = summary(evaluate(data, 1, best, seed, variants))
        scored = {key: results[f"{signal} {key}"]["hit@10"] + results[f"{signal} {key}"]["ndcg@20"]
                  for key in variants}
        winner = max(scored, key=scored.get)
        log.append({"tried": {k: round(v, 4) for k, v in scored.items()}, "chosen": winner,
                    "paper cosine": round(results["cosine"]["hit@10"] + results["cosine"]["ndcg@20"], 4),
                    "chosen hit@10, ndcg@20": (round(results[f"{signal} {winner}"]["hit@10"], 4),
                                               round(results[f"{signal} {winner}"]["ndcg@20"], 4)),
                    "cosine hit@10, ndcg@20": (round(results["cosine"]["hit@10"], 4), round(results["cosine"]["ndcg@20"], 4))})
        best = variants[winner]
    return best, log


def run(seed: int = 20240528, tune_first: bool = False) -> dict:
    if not DATA.exists():  # the project runs without ../shared; the figure is then not measured
        return {"skipped": f"{DATA} not found"}
    data = load()
    params = tune(data, seed)[0] if tune_first else Params()
    per_playlist = evaluate(data, 0, params, seed)
    report = summary(per_playlist)
    flat = {"playlists (all / reported, even ids)": f"{len(data.ids)} / {report['cosine']['playlists']}",
            "songs in the pool": data.membership.shape[0], "params": json.dumps(params.__dict__),
            "columns": "hit@10 / recall@20 / nDCG@20 (± standard error)"}
    for name in METHODS:
        row = report[name]
        flat[LABELS[name]] = " / ".join(f"{row[m]:.3f} ± {row[m + ' se']:.3f}" for m in ("hit@10", "recall@20", "ndcg@20"))
    blend_row = report["blend"]
    flat["blend minus paper cosine (paired)"] = " / ".join(
        f"{blend_row[m + ' vs cosine']:+.3f} ± {blend_row[m + ' vs cosine se']:.3f}" for m in ("hit@10", "recall@20", "ndcg@20"))
    flat["cold-start playlists (no seed shares a list with a candidate)"] = round(float(np.mean(per_playlist[COLD])), 3)
    flat["blend nDCG@20 / paper cosine"] = round(blend_row["ndcg@20"] / report["cosine"]["ndcg@20"], 2)
    return flat


if __name__ == "__main__":
    import sys

    if "--tune" in sys.argv:
        chosen, steps = tune(load())
        print(json.dumps({"chosen": chosen.__dict__, "steps": steps}, indent=1))
    else:
        print(json.dumps(run(), indent=1, ensure_ascii=False))
