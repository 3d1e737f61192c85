"""The staged public data sets the bundled catalogue is built from, read into one song shape:
NetEase playlists (music163), Spotify's "data_moods" and Deezer's mood-detection set.

Each reader returns ``{source, external_id, title, artists, tags, emotions, popularity, duration,
strength}`` dicts (NetEase adds ``playlists``), tags and emotions from the rules in
recommender/catalogue/. Standard library only; used by scripts/build_catalogue.py.
"""

from __future__ import annotations

import csv
import math
import os
import re

from recommender.catalogue.rules import SPOTIFY_MOOD, fired_rules, netease_emotions, va_emotions
from recommender.catalogue.tags import DEEZER_TAG_RULES, NETEASE_MULTIWORD, NETEASE_TAGS, SPOTIFY_TAG_RULES


def log(msg: str) -> None:
    print(msg, flush=True)


def clean(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def read_netease(root: str) -> list[dict]:
    path = os.path.join(root, "netease_playlists_music163", "songlist2songs.txt")
    songs: dict[str, dict] = {}
    n_play = n_entries = n_skipped = n_colon = 0
    with open(path, encoding="utf-8", newline="") as fh:
        for line in fh:
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            fields = line.split("\t")
            header = fields[0].rsplit("##", 3)
            if len(header) != 4:
                raise ValueError(f"bad playlist header: {fields[0][:80]!r}")
            raw = header[1].split()
            tokens, i = [], 0
            while i < len(raw):
                pair = " ".join(raw[i:i + 2])
                if pair in NETEASE_MULTIWORD:
                    tokens.append(pair)
                    i += 2
                else:
                    tokens.append(raw[i])
                    i += 1
            unknown = [t for t in tokens if t not in NETEASE_TAGS]
            if unknown:
                raise ValueError(f"unmapped NetEase tag(s) {unknown}")
            tokens = sorted(set(tokens))
            fired = fired_rules(tokens)
            n_play += 1
            for field in fields[1:]:
                if not field.strip():
                    continue
                n_entries += 1
                parts = field.split("::")
                if len(parts) < 4:
                    n_skipped += 1
                    continue
                if len(parts) > 4:
                    n_colon += 1
                sid, title, artist, pop = parts[0].strip(), "::".join(parts[1:-2]), parts[-2], parts[-1]
                title = clean(title)
                artists = [clean(a) for a in artist.split("|") if clean(a)]
                if not sid.isdigit() or not title or not artists:
                    n_skipped += 1
                    continue
                try:
                    pop_i = max(0, min(100, int(pop.strip())))
                except ValueError:
                    pop_i = None
                s = songs.get(sid)
                if s is None:
                    s = songs[sid] = {"id": sid, "title": title, "artists": artists, "pop": pop_i,
                                      "n": 0, "tag_tokens": set(), "rule_hits": {}, "playlists": set()}
                elif pop_i is not None and (s["pop"] is None or pop_i > s["pop"]):
                    s["pop"] = pop_i
                s["n"] += 1
                s["tag_tokens"].update(tokens)
                s["playlists"].add(int(header[2]))
                for k in fired:
                    s["rule_hits"][k] = s["rule_hits"].get(k, 0) + 1
    out = []
    for s in songs.values():
        out.append({
            "source": "netease", "external_id": s["id"], "title": s["title"], "artists": s["artists"],
            "tags": {NETEASE_TAGS[t] for t in s["tag_tokens"]}, "emotions": netease_emotions(s["rule_hits"], s["n"]),
            "popularity": s["pop"], "duration": None, "strength": 0.0, "playlists": s["playlists"],
        })
    log(f"  netease: {n_play} playlists, {n_entries} song entries, {len(out)} unique songs "
        f"({n_colon} titles with '::', {n_skipped} entries skipped)")
    return out


def read_spotify(root: str) -> list[dict]:
    path = os.path.join(root, "spotify_data_moods", "data_moods.csv")
    out, skipped = [], 0
    num = ("danceability", "acousticness", "energy", "instrumentalness", "liveness", "valence",
           "speechiness", "tempo")
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            title, artist, sid = clean(row["name"]), clean(row["artist"]), row["id"].strip()
            if not title or not artist or not sid:
                skipped += 1
                continue
            f = {k: float(row[k]) for k in num}
            mood = row["mood"].strip()
            emos_label, mood_tag, _why = SPOTIFY_MOOD[mood]
            emos = dict(emos_label)
            v, a = (f["valence"] - 0.5) / 0.25, (f["energy"] - 0.5) / 0.25
            if mood == "Energetic":
                emos.update(va_emotions(v, a))
            tags = {mood_tag} | {slug for slug, _d, fn in SPOTIFY_TAG_RULES if fn(f)}
            try:
                pop = max(0, min(100, int(row["popularity"])))
            except ValueError:
                pop = None
            try:
                dur = int(round(int(row["length"]) / 1000.0))
            except ValueError:
                dur = None
            out.append({
                "source": "spotify", "external_id": sid, "title": title, "artists": [artist],
                "tags": tags, "emotions": emos, "popularity": pop, "duration": dur or None,
                "strength": math.hypot(v, a),
            })
    log(f"  spotify: {len(out)} songs ({skipped} skipped)")
    return out


def read_deezer(root: str) -> list[dict]:
    folder = os.path.join(root, "deezer_mood_detection")
    out, skipped, seen = [], 0, set()
    for name in ("train.csv", "validation.csv", "test.csv"):
        with open(os.path.join(folder, name), encoding="utf-8", newline="") as fh:
            for row in csv.DictReader(fh):
                sid = row["dzr_sng_id"].strip()
                title, artist = clean(row["track_name"]), clean(row["artist_name"])
                if not sid or not title or not artist or sid in seen:
                    skipped += 1
                    continue
                seen.add(sid)
                v, a = float(row["valence"]), float(row["arousal"])
                artists = [clean(x) for x in artist.split(";") if clean(x)]
                out.append({
                    "source": "deezer", "external_id": sid, "title": title, "artists": artists,
                    "tags": {slug for slug, _d, fn in DEEZER_TAG_RULES if fn(v, a)},
                    "emotions": va_emotions(v, a), "popularity": None, "duration": None,
                    "strength": math.hypot(v, a),
                })
    log(f"  deezer: {len(out)} songs ({skipped} skipped)")
    return out
