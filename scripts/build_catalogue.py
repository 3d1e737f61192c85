#!/usr/bin/env python3
"""Build Mien's bundled starter song catalogue from the staged public data sets.

    python scripts/build_catalogue.py [--shared PATH] [--no-docs]

Reads (read-only) the NetEase playlists, the Deezer mood-detection set and the Spotify
"data_moods" set under PATH (default: ``../shared/data/music`` relative to the repository
root), and writes

* ``recommender/catalogue/songs.jsonl.gz``: one song per line (gzip, mtime 0, sorted);
* ``recommender/catalogue/tags.json``: the shared tag vocabulary;
* ``recommender/catalogue/rules.json``: the label rules, as data, so the admin's review queue
  can say which rule and tags produced a song's catalogue label (``--rules-only`` writes just this);
* the generated blocks of ``docs/catalogue.md`` (mapping table, tag rules, counts), unless
  ``--no-docs`` is given.

Standard library only; the output is byte-for-byte deterministic. The rules live once, in
recommender/catalogue/ (tags.py: the vocabulary and tag rules; rules.py: the emotion rules), which
the crawler uses too; the data sets are read by scripts/catalogue_sources.py and the docs' tables
written by scripts/catalogue_docs.py. This file merges, selects and writes.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import sys
import unicodedata

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPO not in sys.path:  # run as `python scripts/build_catalogue.py`: the rules are the project's modules
    sys.path.insert(0, REPO)

from recommender.catalogue.rules import EMOTIONS, MIN_CONF, SPOTIFY_MOOD, round_conf, rules_table  # noqa: E402
from recommender.catalogue.tags import DEEZER_TAG_RULES, NETEASE_TAGS, SPOTIFY_TAG_RULES, VOCAB  # noqa: E402
from scripts.catalogue_docs import md_mapping, md_netease_tags, md_tag_rules, update_docs  # noqa: E402
from scripts.catalogue_sources import log, read_deezer, read_netease, read_spotify  # noqa: E402

DEFAULT_SHARED = os.path.join(os.path.dirname(REPO), "shared", "data", "music")
OUT_DIR = os.path.join(REPO, "recommender", "catalogue")
SONGS_PATH = os.path.join(OUT_DIR, "songs.jsonl.gz")
TAGS_PATH = os.path.join(OUT_DIR, "tags.json")
RULES_PATH = os.path.join(OUT_DIR, "rules.json")
DOCS_PATH = os.path.join(REPO, "docs", "catalogue.md")

SOURCES = ("netease", "spotify", "deezer")  # also the precedence order when merging duplicates
QUOTA = {"netease": 700, "deezer": 700, "spotify": None}  # songs picked per emotion and source


# ----------------------------------------------------------------------------------- dedup
def norm_text(s: str) -> str:
    """Dedup normaliser: NFKC, casefold, drop everything but letters/digits (fallback: stripped)."""
    s = unicodedata.normalize("NFKC", s).casefold()
    n = re.sub(r"[\W_]+", "", s)
    return n or s.strip()


_SUFFIX = re.compile(
    r"\s+-\s+[^-]*\b(remaster(ed)?|radio edit|single version|album version|mono|stereo|live|edit|mix)\b[^-]*$",
    re.IGNORECASE,
)


def dedup_keys(title: str, artists: list[str]) -> list[str]:
    t = norm_text(title)
    t2 = norm_text(_SUFFIX.sub("", title))
    keys = []
    for tt in dict.fromkeys((t, t2)):
        keys.append(tt + "\x00" + norm_text(" / ".join(artists)))
        for a in artists:
            keys.append(tt + "\x00" + norm_text(a))
            head = re.split(r"\s+(?:featuring|feat\.?|ft\.?)\s+", a, flags=re.IGNORECASE)[0]
            keys.append(tt + "\x00" + norm_text(head))
    return list(dict.fromkeys(keys))


# ------------------------------------------------------------------------------------- build
def id_key(song: dict):
    i = song["external_id"]
    return (len(i), i) if i.isdigit() else (0, i)


def merge_all(per_source: dict[str, list[dict]]) -> list[dict]:
    """Merge duplicates (same normalised title + any artist) keeping the first source's entry."""
    index: dict[str, dict] = {}
    entries: list[dict] = []
    merged = 0
    for src in SOURCES:
        # within a source: most popular / strongest first, then by id, so the kept entry is stable
        songs = sorted(per_source[src], key=lambda s: (-(s["popularity"] or 0), -s["strength"], id_key(s)))
        for s in songs:
            keys = dedup_keys(s["title"], s["artists"])
            hit = next((index[k] for k in keys if k in index), None)
            if hit is None:
                s["merged_from"] = []
                entries.append(s)
                hit = s
            else:
                merged += 1
                hit["tags"] |= s["tags"]
                hit["playlists"] = hit.get("playlists", set()) | s.get("playlists", set())
                for emo, c in s["emotions"].items():
                    hit["emotions"][emo] = max(hit["emotions"].get(emo, 0.0), c)
                if hit["duration"] is None:
                    hit["duration"] = s["duration"]
                hit["strength"] = max(hit["strength"], s["strength"])
                hit["merged_from"].append(s["source"])
            for k in keys:
                index.setdefault(k, hit)
    log(f"  merged {merged} duplicate songs; {len(entries)} distinct songs in the pool")
    return entries


def select(entries: list[dict]) -> list[dict]:
    for e in entries:
        e["emotions"] = {k: round_conf(c) for k, c in e["emotions"].items() if c >= MIN_CONF}
    pool = [e for e in entries if e["emotions"]]
    log(f"  {len(pool)} songs carry at least one emotion (conf >= {MIN_CONF})")
    # A song keeps only the emotions it was picked for (its confidence there ranks in the top quota of
    # its source), so that weak secondary readings do not inflate the other emotions.
    chosen: dict[int, dict] = {}
    picked_for: dict[int, set] = {}
    for emo in EMOTIONS:
        for src in SOURCES:
            cands = [e for e in pool if e["source"] == src and emo in e["emotions"]]
            cands.sort(key=lambda e: (-e["emotions"][emo], -(e["popularity"] or 0), -e["strength"], id_key(e)))
            quota = QUOTA[src]
            picked = cands if quota is None else cands[:quota]
            for e in picked:
                chosen[id(e)] = e
                picked_for.setdefault(id(e), set()).add(emo)
            log(f"    {emo:8s} {src:8s} candidates {len(cands):6d}  picked {len(picked):5d}")
    for k, e in chosen.items():
        e["emotions"] = {emo: c for emo, c in e["emotions"].items() if emo in picked_for[k]}
    return sorted(chosen.values(), key=lambda e: (SOURCES.index(e["source"]), id_key(e)))


URLS = {
    "netease": ("https://music.163.com/song?id={}",
                "https://music.163.com/outchain/player?type=2&id={}&auto=0&height=66"),
    "deezer": ("https://www.deezer.com/track/{}", "https://widget.deezer.com/widget/auto/track/{}"),
    "spotify": ("https://open.spotify.com/track/{}", "https://open.spotify.com/embed/track/{}"),
}


def to_record(e: dict) -> dict:
    url, embed = URLS[e["source"]]
    return {
        "source": e["source"],
        "external_id": e["external_id"],
        "title": e["title"],
        "artist": " / ".join(e["artists"]),
        "tags": sorted(e["tags"]),
        "url": url.format(e["external_id"]),
        "embed_url": embed.format(e["external_id"]),
        "emotions": {k: e["emotions"][k] for k in EMOTIONS if k in e["emotions"]},
        "popularity": e["popularity"],
        "duration": e["duration"],
        # Ids of the NetEase playlists holding the song: co-occurrence for the ranking (docs/recommendation.md).
        **({"playlists": sorted(e["playlists"])} if e.get("playlists") else {}),
    }


def write_songs(records: list[dict]) -> bytes:
    raw = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as gz:
        gz.write(raw.encode("utf-8"))
    data = buf.getvalue()
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(SONGS_PATH, "wb") as fh:
        fh.write(data)
    return data


def build_vocab() -> dict:
    sources: dict[str, set] = {slug: set() for slug in VOCAB}
    for tok, slug in NETEASE_TAGS.items():
        sources[slug].add(f"netease:{tok}")
    for slug, desc, _fn in DEEZER_TAG_RULES:
        sources[slug].add(f"deezer:{desc}")
    for slug, desc, _fn in SPOTIFY_TAG_RULES:
        sources[slug].add(f"spotify:{desc}")
    for mood, (_e, slug, _w) in SPOTIFY_MOOD.items():
        sources[slug].add(f"spotify:mood={mood}")
    return {slug: {"en": en, "zh": zh, "kind": kind, "from": sorted(sources[slug])}
            for slug, (en, zh, kind) in sorted(VOCAB.items())}


def write_rules() -> None:
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(RULES_PATH, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(rules_table(), fh, ensure_ascii=False, indent=1, sort_keys=True)
        fh.write("\n")


def summary(records: list[dict], vocab: dict, size: int) -> str:
    per_src = {s: 0 for s in SOURCES}
    per_emo = {e: 0 for e in EMOTIONS}
    per_emo_src = {e: {s: 0 for s in SOURCES} for e in EMOTIONS}
    used_tags = set()
    for r in records:
        per_src[r["source"]] += 1
        used_tags.update(r["tags"])
        for e in r["emotions"]:
            per_emo[e] += 1
            per_emo_src[e][r["source"]] += 1
    lines = ["| source | songs |", "| --- | ---: |"]
    lines += [f"| {s} | {per_src[s]} |" for s in SOURCES]
    lines += [f"| **total** | **{len(records)}** |", ""]
    lines += ["| emotion | songs | " + " | ".join(SOURCES) + " |", "| --- | ---: | " + " | ".join("---:" for _ in SOURCES) + " |"]
    lines += [f"| {e} | {per_emo[e]} | " + " | ".join(str(per_emo_src[e][s]) for s in SOURCES) + " |"
              for e in EMOTIONS]
    lines += ["", f"Tags: {len(vocab)} in the vocabulary, {len(used_tags)} used. "
              f"`songs.jsonl.gz`: {size:,} bytes."]
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=DEFAULT_SHARED, help="folder holding the staged music data sets")
    ap.add_argument("--no-docs", action="store_true", help="do not rewrite the generated docs blocks")
    ap.add_argument("--rules-only", action="store_true", help="write only rules.json (needs no data)")
    args = ap.parse_args(argv)
    write_rules()
    if args.rules_only:
        log(f"wrote {os.path.relpath(RULES_PATH, REPO)}")
        return 0
    root = os.path.abspath(args.shared)
    log(f"reading {root}")
    per_source = {"netease": read_netease(root), "spotify": read_spotify(root), "deezer": read_deezer(root)}
    log("merging duplicates")
    entries = merge_all(per_source)
    log("selecting songs per emotion")
    records = [to_record(e) for e in select(entries)]
    vocab = build_vocab()
    unknown = {t for r in records for t in r["tags"]} - set(vocab)
    if unknown:
        raise SystemExit(f"tags missing from the vocabulary: {sorted(unknown)}")
    data = write_songs(records)
    with open(TAGS_PATH, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(vocab, fh, ensure_ascii=False, indent=1, sort_keys=True)
        fh.write("\n")
    log(f"wrote {os.path.relpath(SONGS_PATH, REPO)} ({len(records)} songs, {len(data):,} bytes) "
        f"and {os.path.relpath(TAGS_PATH, REPO)} ({len(vocab)} tags)")
    table = summary(records, vocab, len(data))
    if not args.no_docs:
        update_docs(DOCS_PATH, {"mapping": md_mapping(), "netease-tags": md_netease_tags(),
                                "tag-rules": md_tag_rules(), "counts": table})
    log("\nsummary\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
