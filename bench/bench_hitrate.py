"""Offline quality of the ranking: a simulated person on the bundled catalogue, hit rate @10.

The protocol (issue 4), run per emotion with a fixed seed, on the catalogue file itself
(``recommender/catalogue/songs.jsonl.gz`` + ``tags.json``), no database:

1. The emotion's library is every catalogue song labelled with that emotion (any confidence), as
   ``import_catalogue`` loads it (the file has no duplicates to merge).
2. One trial: draw a genre tag (``kind == "genre"`` in tags.json) that at least four songs of the
   library carry, with probability proportional to how many do; draw four distinct songs of the
   library carrying it. The first three are the person's typical songs, the fourth is held out.
3. Candidates: the library without the three typical songs (the product never plays them back);
   the held-out song is among them.
4. Each method orders the candidates; a hit is the held-out song in the first ten.

Methods:

- ``ours``: the paper's ranking as the product does it: ``profile_from_songs`` over the three
  typical songs, cosine against every candidate through ``TagMatrix``, ties broken the way
  ``recommender.playlists`` does (label confidence, then popularity, then catalogue order). The
  artist cap (two songs per artist) and freshness are playlist rules, not ranking, and are left out.
- ``ours, random ties``: the same cosines with tied candidates in random order (the exact
  expectation), so the figure does not lean on the product's tie-break.
- ``random``: ten candidates at random (exact expectation, 10 / candidates).
- ``most popular``: candidates by the catalogue's ``popularity`` (0 where it has none: Deezer
  songs), ties in random order (exact expectation).
- ``genre only``: candidates that carry the shared genre tag first, in random order (exact
  expectation). It shows how much the protocol gives away: the held-out song carries that tag by
  construction, so the tag alone already finds it among the few songs of a small genre.

Run: ``python -c "from bench.bench_hitrate import run; print(run())"`` (also part of ``make bench``).
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from recommender.emotion.labels import EMOTIONS
from recommender.ranking import TagMatrix, profile_from_songs

CATALOGUE_DIR = Path(__file__).resolve().parents[1] / "recommender" / "catalogue"
K = 10
SEEDS = 3  # typical songs per emotion, the paper's rule
METHODS = ("ours", "ours_random_ties", "random", "most_popular", "genre_only")
LABELS = {"ours": "ours", "ours_random_ties": "ours, random ties", "random": "random",
          "most_popular": "most popular", "genre_only": "genre only"}


@dataclass
class Catalogue:
    """The bundled catalogue as plain Python: song index -> tags, labels, popularity."""

    tags: list[tuple[str, ...]]
    emotions: list[dict[str, float]]
    popularity: np.ndarray
    genres: frozenset[str]
    matrix: TagMatrix

    def __len__(self):
        return len(self.tags)

    def library(self, emotion: str) -> np.ndarray:
        return np.array([i for i, labels in enumerate(self.emotions) if emotion in labels], dtype=np.int64)


def load_catalogue(songs: Path = CATALOGUE_DIR / "songs.jsonl.gz",
                   tags: Path = CATALOGUE_DIR / "tags.json") -> Catalogue:
    if not songs.exists():
        raise FileNotFoundError(f"catalogue file not found: {songs}")
    if not tags.exists():
        raise FileNotFoundError(f"tag vocabulary not found: {tags}")
    vocabulary = json.loads(tags.read_text(encoding="utf-8"))
    genres = frozenset(name for name, info in vocabulary.items() if info.get("kind") == "genre")
    if not genres:
        raise ValueError(f"{tags} names no tag of kind 'genre'")
    song_tags, emotions, popularity = [], [], []
    with gzip.open(songs, "rt", encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{songs} line {number} is not JSON: {exc}") from exc
            unknown = set(item.get("emotions") or ()) - set(EMOTIONS)
            if unknown:
                raise ValueError(f"{songs} line {number}: unknown emotion(s) {sorted(unknown)}")
            song_tags.append(tuple(sorted(set(item.get("tags") or ()))))
            emotions.append({e: float(c) for e, c in (item.get("emotions") or {}).items()})
            popularity.append(item.get("popularity") or 0)  # as LibraryIndex does: missing counts as 0
    return Catalogue(tags=song_tags, emotions=emotions, popularity=np.asarray(popularity, dtype=np.float64),
                     genres=genres, matrix=TagMatrix(dict(enumerate(song_tags))))


def expected_hit(scores: np.ndarray, target: int, k: int = K) -> float:
    """Chance that ``target`` is in the top ``k`` when candidates are ordered by score, highest
    first, and tied candidates in random order: (k - better) / tied, clipped to [0, 1]."""
    mine = scores[target]
    better = int(np.count_nonzero(scores > mine))
    tied = int(np.count_nonzero(scores == mine))  # includes the target itself
    return float(min(1.0, max(0.0, (k - better) / tied)))


def draw_trial(catalogue: Catalogue, library: np.ndarray, rng: np.random.Generator) -> tuple[str, list[int], int]:
    """A shared genre tag, three typical songs and the held-out fourth (song indices)."""
    carrying: dict[str, list[int]] = {}
    for song in library:
        for tag in catalogue.tags[song]:
            if tag in catalogue.genres:
                carrying.setdefault(tag, []).append(int(song))
    eligible = sorted(g for g, songs in carrying.items() if len(songs) >= SEEDS + 1)
    if not eligible:
        raise ValueError("no genre tag is shared by four songs of this library")
    weights = np.array([len(carrying[g]) for g in eligible], dtype=np.float64)
    genre = eligible[rng.choice(len(eligible), p=weights / weights.sum())]
    picked = rng.choice(carrying[genre], size=SEEDS + 1, replace=False)
    return genre, [int(s) for s in picked[:SEEDS]], int(picked[SEEDS])


def one_trial(catalogue: Catalogue, emotion: str, library: np.ndarray,
              rng: np.random.Generator) -> dict[str, float]:
    genre, seeds, held_out = draw_trial(catalogue, library, rng)
    candidates = library[~np.isin(library, seeds)]
    target = int(np.flatnonzero(candidates == held_out)[0])
    profile = profile_from_songs(catalogue.tags[s] for s in seeds)
    # TagMatrix rows are the catalogue's song indices (built from dict(enumerate(...))).
    cosines = catalogue.matrix.scores(profile, candidates).astype(np.float64)
    rounded = np.round(cosines, 6)  # as recommender.playlists._ranked compares scores
    confidence = np.array([catalogue.emotions[s][emotion] for s in candidates])
    popularity = catalogue.popularity[candidates]
    # The product's order: score, then confidence, then popularity, then catalogue order (= database id).
    order = np.lexsort((candidates, -popularity, -confidence, -rounded))
    shares_genre = np.array([genre in catalogue.tags[s] for s in candidates], dtype=np.float64)
    return {
        "ours": float(target in order[:K]),
        "ours_random_ties": expected_hit(rounded, target),
        "random": min(1.0, K / len(candidates)),
        "most_popular": expected_hit(popularity, target),
        "genre_only": expected_hit(shares_genre, target),
    }


def evaluate(trials: int = 200, seed: int = 20240528, catalogue: Catalogue | None = None,
             emotions: tuple[str, ...] = EMOTIONS) -> dict:
    """Mean hit rate @K per emotion and method, and over all trials ("overall")."""
    if trials < 1:
        raise ValueError("trials must be at least 1")
    catalogue = catalogue or load_catalogue()
    per_emotion: dict[str, dict[str, float]] = {}
    sizes: dict[str, int] = {}
    outcomes: dict[str, list[float]] = {m: [] for m in METHODS}  # every trial, for the overall figures
    for position, emotion in enumerate(emotions):
        if emotion not in EMOTIONS:
            raise ValueError(f"unknown emotion {emotion!r}")
        # One generator per emotion: an emotion's figures do not depend on which others run.
        rng = np.random.default_rng([seed, EMOTIONS.index(emotion)])
        library = catalogue.library(emotion)
        sizes[emotion] = len(library)
        sums: Counter = Counter()
        for _ in range(trials):
            hits = one_trial(catalogue, emotion, library, rng)
            sums.update(hits)
            for method, hit in hits.items():
                outcomes[method].append(hit)
        per_emotion[emotion] = {m: sums[m] / trials for m in METHODS}
    overall = {m: float(np.mean(outcomes[m])) for m in METHODS}
    # Standard error of the overall mean over all trials (trials are independent draws).
    overall_se = {m: float(np.std(outcomes[m], ddof=1) / np.sqrt(len(outcomes[m])))
                  if len(outcomes[m]) > 1 else float("nan") for m in METHODS}
    return {"k": K, "trials_per_emotion": trials, "seed": seed, "songs": len(catalogue),
            "library_sizes": sizes, "per_emotion": per_emotion, "overall": overall,
            "overall_standard_error": overall_se}


def run(trials: int = 200, seed: int = 20240528) -> dict:
    result = evaluate(trials=trials, seed=seed)
    header = " / ".join(LABELS[m] for m in METHODS)
    flat = {
        "catalogue_songs": result["songs"],
        "trials_per_emotion": trials,
        "seed": seed,
        "k": K,
        "columns": header,
    }
    for emotion, scores in result["per_emotion"].items():
        flat[f"hit@{K} {emotion} ({result['library_sizes'][emotion]} songs)"] = \
            " / ".join(f"{scores[m]:.3f}" for m in METHODS)
    flat[f"hit@{K} overall ({trials * len(result['per_emotion'])} trials)"] = \
        " / ".join(f"{result['overall'][m]:.3f}" for m in METHODS)
    flat[f"hit@{K} overall, standard error"] = \
        " / ".join(f"{result['overall_standard_error'][m]:.3f}" for m in METHODS)
    return flat


if __name__ == "__main__":
    print(json.dumps(run(), indent=1, ensure_ascii=False))
