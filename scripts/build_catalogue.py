#!/usr/bin/env python3
"""Build Mien's bundled starter song catalogue from the staged public data sets.

    python scripts/build_catalogue.py [--shared PATH] [--no-docs]

Reads (read-only) the NetEase playlists, the Deezer mood-detection set and the Spotify
"data_moods" set under PATH (default: ``../shared/data/music`` relative to the repository
root), and writes

* ``recommender/catalogue/songs.jsonl.gz``: one song per line (gzip, mtime 0, sorted);
* ``recommender/catalogue/tags.json``: the shared tag vocabulary;
* ``recommender/catalogue/rules.json``: the label rules below, as data, so the admin's review queue
  can say which rule and tags produced a song's catalogue label (``--rules-only`` writes just this);
* the generated blocks of ``docs/catalogue.md`` (mapping table, tag rules, counts), unless
  ``--no-docs`` is given.

Standard library only; the output is byte-for-byte deterministic. The mapping rules below are the
single source of truth: docs/catalogue.md shows them as generated from this file.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import math
import os
import re
import sys
import unicodedata

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_SHARED = os.path.join(os.path.dirname(REPO), "shared", "data", "music")
OUT_DIR = os.path.join(REPO, "recommender", "catalogue")
SONGS_PATH = os.path.join(OUT_DIR, "songs.jsonl.gz")
TAGS_PATH = os.path.join(OUT_DIR, "tags.json")
RULES_PATH = os.path.join(OUT_DIR, "rules.json")
DOCS_PATH = os.path.join(REPO, "docs", "catalogue.md")

# Same names and order as recommender/emotion/labels.py (kept literal: this script is standalone).
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
SOURCES = ("netease", "spotify", "deezer")  # also the precedence order when merging duplicates

MIN_CONF = 0.2  # an emotion below this confidence is not attached to a song
QUOTA = {"netease": 700, "deezer": 700, "spotify": None}  # songs picked per emotion and source

# ---------------------------------------------------------------------------------------------
# Tag vocabulary: slug -> (English, Chinese, kind). "from" lists are filled in from the rules.
# NetEase's own tokens keep their meaning; the derived Deezer/Spotify tags reuse the same slugs
# where meanings coincide (calm = 安静, cheerful = 快乐, sad = 伤感, excited = 兴奋, relaxing = 放松,
# rap = 说唱, instrumental = 器乐). English mood slugs follow MTG-Jamendo's mood/theme names.
# ---------------------------------------------------------------------------------------------
VOCAB = {
    # language / region
    "chinese": ("Chinese (Mandarin)", "华语", "language"),
    "western": ("Western (Europe & Americas)", "欧美", "language"),
    "japanese": ("Japanese", "日语", "language"),
    "korean": ("Korean", "韩语", "language"),
    "cantonese": ("Cantonese", "粤语", "language"),
    "other-languages": ("Other languages", "小语种", "language"),
    # genre (NetEase's "theme" tags without a better kind are filed here too)
    "pop": ("Pop", "流行", "genre"),
    "rnb-soul": ("R&B/Soul", "R&B/Soul", "genre"),
    "electronic": ("Electronic", "电子", "genre"),
    "rap": ("Rap/Hip-hop", "说唱", "genre"),
    "rock": ("Rock", "摇滚", "genre"),
    "jazz": ("Jazz", "爵士", "genre"),
    "folk": ("Folk", "民谣", "genre"),
    "classical": ("Classical", "古典", "genre"),
    "absolute-music": ("Absolute Music", "轻音乐", "genre"),
    "gufeng": ("Chinese Traditional Style", "古风", "genre"),
    "acg": ("ACG (Anime, Comics & Games)", "ACG", "genre"),
    "soundtrack": ("Film & TV Soundtrack", "影视原声", "genre"),
    "alternative-indie": ("Alternative/Indie", "另类/独立", "genre"),
    "instrumental": ("Instrumental", "器乐", "genre"),
    "ethnic": ("Ethnic", "民族", "genre"),
    "dance": ("Dance", "舞曲", "genre"),
    "country": ("Country", "乡村", "genre"),
    "blues": ("Blues", "蓝调", "genre"),
    "post-rock": ("Post-rock", "后摇", "genre"),
    "britpop": ("Britpop", "英伦", "genre"),
    "bossa-nova": ("Bossa Nova", "Bossa Nova", "genre"),
    "world-music": ("World Music", "世界音乐", "genre"),
    "latin": ("Latin", "拉丁", "genre"),
    "new-age": ("New Age", "New Age", "genre"),
    "metal": ("Metal", "金属", "genre"),
    "punk": ("Punk", "朋克", "genre"),
    "reggae": ("Reggae", "雷鬼", "genre"),
    "internet": ("Internet", "网络歌曲", "genre"),
    "cover": ("Cover Versions", "翻唱", "genre"),
    "variety-show": ("Variety Show", "综艺", "genre"),
    "game-music": ("Game Music", "游戏", "genre"),
    "charts": ("Charts", "榜单", "genre"),
    # instrument
    "keyboard": ("Keyboard", "钢琴", "instrument"),
    "guitar": ("Guitar", "吉他", "instrument"),
    "acoustic": ("Acoustic", "原声", "instrument"),
    # era
    "post-80s": ("Post-80s", "80后", "era"),
    "post-90s": ("Post-90s", "90后", "era"),
    "post-00s": ("Post-00s", "00后", "era"),
    "classic": ("Classics", "经典", "era"),
    # scene
    "driving": ("Driving", "驾车", "scene"),
    "night": ("Night", "夜晚", "scene"),
    "study": ("Study", "学习", "scene"),
    "workout": ("Workout", "运动", "scene"),
    "work": ("Work", "工作", "scene"),
    "travel": ("Travel", "旅行", "scene"),
    "morning": ("Morning", "清晨", "scene"),
    "walk": ("Walk", "散步", "scene"),
    "bar": ("Bar", "酒吧", "scene"),
    "afternoon-tea": ("Afternoon Tea", "下午茶", "scene"),
    "subway": ("Subway", "地铁", "scene"),
    "ktv": ("KTV", "KTV", "scene"),
    "live": ("Live", "现场", "scene"),
    # mood
    "relaxing": ("Relaxing", "放松", "mood"),
    "romantic": ("Romantic", "浪漫", "mood"),
    "healing": ("Healing", "治愈", "mood"),
    "nostalgic": ("Nostalgic", "怀旧", "mood"),
    "cheerful": ("Cheerful", "快乐", "mood"),
    "sad": ("Sad", "伤感", "mood"),
    "lonely": ("Lonely", "孤独", "mood"),
    "calm": ("Calm", "安静", "mood"),
    "fresh": ("Fresh", "清新", "mood"),
    "excited": ("Excited", "兴奋", "mood"),
    "touching": ("Touching", "感动", "mood"),
    "longing": ("Longing", "思念", "mood"),
    "sexy": ("Sexy", "性感", "mood"),
    "upbeat": ("Upbeat", "欢快", "mood"),
    "tense": ("Tense", "紧张", "mood"),
    "aggressive": ("Aggressive", "激烈", "mood"),
    "dark": ("Dark", "暗黑", "mood"),
    "melancholic": ("Melancholic", "忧郁", "mood"),
    # energy
    "energetic": ("Energetic", "活力", "energy"),
    "mellow": ("Mellow", "舒缓", "energy"),
    "danceable": ("Danceable", "律动", "energy"),
    "fast": ("Fast", "快节奏", "energy"),
    "slow": ("Slow", "慢节奏", "energy"),
}

# NetEase playlist token -> slug (all 71 tokens; `Bossa Nova` and `New Age` re-joined first).
NETEASE_TAGS = {
    "华语": "chinese", "欧美": "western", "日语": "japanese", "韩语": "korean", "粤语": "cantonese",
    "小语种": "other-languages",
    "流行": "pop", "R&B/Soul": "rnb-soul", "电子": "electronic", "说唱": "rap", "摇滚": "rock",
    "爵士": "jazz", "民谣": "folk", "古典": "classical", "轻音乐": "absolute-music", "古风": "gufeng",
    "ACG": "acg", "影视原声": "soundtrack", "另类/独立": "alternative-indie", "器乐": "instrumental",
    "民族": "ethnic", "舞曲": "dance", "乡村": "country", "蓝调": "blues", "后摇": "post-rock",
    "英伦": "britpop", "Bossa Nova": "bossa-nova", "世界音乐": "world-music", "拉丁": "latin",
    "New Age": "new-age", "金属": "metal", "朋克": "punk", "雷鬼": "reggae", "网络歌曲": "internet",
    "翻唱": "cover", "综艺": "variety-show", "游戏": "game-music", "榜单": "charts",
    "钢琴": "keyboard", "吉他": "guitar",
    "80后": "post-80s", "90后": "post-90s", "00后": "post-00s", "经典": "classic",
    "驾车": "driving", "夜晚": "night", "学习": "study", "运动": "workout", "工作": "work",
    "旅行": "travel", "清晨": "morning", "散步": "walk", "酒吧": "bar", "下午茶": "afternoon-tea",
    "地铁": "subway", "KTV": "ktv",
    "放松": "relaxing", "浪漫": "romantic", "治愈": "healing", "怀旧": "nostalgic", "快乐": "cheerful",
    "伤感": "sad", "孤独": "lonely", "安静": "calm", "清新": "fresh", "兴奋": "excited",
    "感动": "touching", "思念": "longing", "性感": "sexy",
}
NETEASE_MULTIWORD = ("Bossa Nova", "New Age")

# ---------------------------------------------------------------------------------------------
# THE mapping table. NetEase: a rule fires for a playlist whose tags contain ALL its tokens (any of
# the alternatives in a "|" group) and none of the "!"-prefixed ones; every song of the playlist gets
#   conf = weight * (0.5 + 0.5 * share)
# where share = fraction of the song's playlists on which the rule fires.
# ---------------------------------------------------------------------------------------------
_SOFT = tuple("!" + t for t in ("快乐", "清新", "浪漫", "治愈", "放松", "安静", "感动", "工作", "学习"))
NETEASE_RULES = (
    # (tokens that must all be present, "|" = alternatives), {emotion: weight}, why
    (("快乐",), {"happy": 1.0}, "cheerful: the direct positive-valence mood tag"),
    (("清新",), {"happy": 0.7}, "fresh/bright: light, positive, mid-arousal"),
    (("浪漫",), {"happy": 0.5}, "romantic: warm, positive valence, but not elated"),
    (("兴奋",), {"surprise": 0.9, "happy": 0.6},
     "excited: high arousal + positive valence, the circumplex region of astonishment and delight"),
    (("伤感",), {"sad": 1.0}, "sad: the direct negative-valence low-arousal mood tag"),
    (("思念",), {"sad": 0.8}, "longing/missing someone: wistful, low arousal, negative valence"),
    (("孤独",), {"sad": 0.8}, "lonely: negative valence, low arousal"),
    (("感动",), {"sad": 0.5}, "touching/moving: tearful ballads, bittersweet"),
    (("怀旧",), {"sad": 0.3}, "nostalgic: bittersweet; only a weak pull towards sad"),
    (("孤独", "后摇|电子"), {"fear": 0.6},
     "lonely + post-rock/electronic: dark, desolate, suspenseful atmospheres ('a lonely beast crying in"
     " the deep sea', 'drowning in a desolate wasteland'); NetEase has no fear tag, this is its nearest"),
    (("安静",), {"neutral": 1.0}, "quiet/calm: low arousal, affect-neutral background"),
    (("学习",), {"neutral": 0.9}, "study: chosen not to distract, i.e. emotionally neutral"),
    (("轻音乐",), {"neutral": 0.9}, "absolute music: light instrumental background"),
    (("工作",), {"neutral": 0.7}, "work: background music for concentration"),
    (("放松",), {"neutral": 0.7}, "relaxing: low arousal, mildly positive"),
    (("New Age",), {"neutral": 0.7}, "New Age: ambient, meditative"),
    (("治愈",), {"neutral": 0.6, "happy": 0.3}, "healing/soothing: calm with a warm, positive tint"),
    (("下午茶",), {"neutral": 0.5}, "afternoon tea: easy-listening background"),
    (("器乐",), {"neutral": 0.5}, "instrumental: no lyrics, usually background"),
    (("钢琴",), {"neutral": 0.5}, "keyboard/piano: mostly calm solo piano lists"),
    (("古典",), {"neutral": 0.5}, "classical: mostly calm concert repertoire"),
    (("金属",), {"angry": 1.0, "disgust": 0.6},
     "metal: the most aggressive genre (hostile, very high arousal); harsh, abrasive timbres suit disgust"),
    (("朋克",), {"angry": 0.9, "disgust": 0.5}, "punk: aggressive, rebellious, contemptuous"),
    (("摇滚", "兴奋"), {"angry": 0.8}, "rock + excited: loud, driving, high-arousal rock"),
    (("说唱", "兴奋"), {"angry": 0.8}, "rap + excited: hard, confrontational hip-hop"),
    (("摇滚",) + _SOFT, {"angry": 0.5},
     "rock without a soft/positive mood tag: distorted, loud; not all rock is angry, hence lower"),
    (("说唱",) + _SOFT, {"angry": 0.5},
     "rap without a soft/positive mood tag: assertive, confrontational delivery; lower for the same reason"),
)

# Valence/arousal circumplex sectors (Deezer; Spotify "Energetic" songs). A song at angle
# theta = atan2(arousal, valence) and distance r from the origin (r >= VA_MIN_R) gets
#   conf = min(1, r / 1.5) * (0.5 + 0.5 * (1 - |theta - centre| / half_width))
# for every sector it falls in; sectors overlap, so a song may serve two neighbouring emotions.
# The centres are our design choice, laid out in the spirit of Russell's (1980) circumplex of affect;
# disgust, which the circumplex lacks, sits at very low valence and moderate arousal.
VA_MIN_R = 0.5
VA_SECTORS = (
    # emotion, centre (deg), half width (deg), valence sign required (+, - or None), why
    ("happy", 15, 40, "+", "V>0, moderate A: pleased/glad/happy/delighted "),
    ("surprise", 68, 28, "+", "V>=0, very high A: excited -> astonished "),
    ("fear", 110, 22, "-", "V slightly <0, A very high: tense/alarmed/afraid "),
    ("angry", 132, 20, "-", "V<0, A high: annoyed/distressed/hostile; where Deezer puts aggressive metal"),
    ("disgust", 160, 22, "-", "V very low, A moderate: between frustration and sadness"),
    ("sad", 210, 45, "-", "V<0, A<0: miserable/sad/gloomy/depressed "),
    ("neutral", 300, 55, None, "A<0, V around or above 0: tired -> calm/relaxed/content "),
)

# Spotify: the 4-class playlist mood label. Energetic says nothing about valence, so those songs are
# placed on the circumplex by (valence, energy) rescaled to the Deezer range: V = (valence-0.5)/0.25,
# A = (energy-0.5)/0.25.
SPOTIFY_MOOD = {
    "Happy": ({"happy": 1.0}, "cheerful", "labelled Happy by its source playlist"),
    "Sad": ({"sad": 1.0}, "sad", "labelled Sad by its source playlist"),
    "Calm": ({"neutral": 1.0}, "calm", "labelled Calm: low-arousal background"),
    "Energetic": ({}, "energetic", "high arousal only: placed on the circumplex by valence/energy"),
}

# Derived tags. Deezer valence/arousal bins (V sd 1.06, A sd 0.96; roughly standardised).
DEEZER_TAG_RULES = (
    ("upbeat", "V >= 0 and A >= 0.25", lambda v, a: v >= 0 and a >= 0.25),
    ("excited", "V >= 0 and A >= 1.0", lambda v, a: v >= 0 and a >= 1.0),
    ("cheerful", "V >= 0.75", lambda v, a: v >= 0.75),
    ("energetic", "A >= 1.0", lambda v, a: a >= 1.0),
    ("tense", "V < 0 and A >= 0.35", lambda v, a: v < 0 and a >= 0.35),
    ("aggressive", "V <= -1.0 and A >= 1.0", lambda v, a: v <= -1.0 and a >= 1.0),
    ("dark", "V <= -0.75", lambda v, a: v <= -0.75),
    ("sad", "V <= -0.5 and A < 0", lambda v, a: v <= -0.5 and a < 0),
    ("melancholic", "V < 0 and A <= -0.75", lambda v, a: v < 0 and a <= -0.75),
    ("calm", "A <= -0.5 and V >= -0.25", lambda v, a: a <= -0.5 and v >= -0.25),
    ("relaxing", "A <= -0.5 and V >= 0.25", lambda v, a: a <= -0.5 and v >= 0.25),
    ("mellow", "-0.5 < A < 0 and V >= 0", lambda v, a: -0.5 < a < 0 and v >= 0),
)

# Spotify audio-feature thresholds (the Web API's documented 0-1 features; tempo in BPM).
SPOTIFY_TAG_RULES = (
    ("danceable", "danceability >= 0.7", lambda f: f["danceability"] >= 0.7),
    ("acoustic", "acousticness >= 0.7", lambda f: f["acousticness"] >= 0.7),
    ("energetic", "energy >= 0.8", lambda f: f["energy"] >= 0.8),
    ("mellow", "energy <= 0.3", lambda f: f["energy"] <= 0.3),
    ("instrumental", "instrumentalness >= 0.5 (Spotify: 'intended to represent instrumental tracks')",
     lambda f: f["instrumentalness"] >= 0.5),
    ("live", "liveness >= 0.8 (Spotify: 'strong likelihood that the track is live')",
     lambda f: f["liveness"] >= 0.8),
    ("rap", "speechiness >= 0.33 (Spotify: 'music and speech ... such as rap')",
     lambda f: f["speechiness"] >= 0.33),
    ("cheerful", "valence >= 0.7", lambda f: f["valence"] >= 0.7),
    ("dark", "valence <= 0.15 and energy >= 0.5", lambda f: f["valence"] <= 0.15 and f["energy"] >= 0.5),
    ("fast", "tempo >= 140", lambda f: f["tempo"] >= 140),
    ("slow", "tempo < 80", lambda f: f["tempo"] < 80),
)


# ---------------------------------------------------------------------------------------------
def log(msg: str) -> None:
    print(msg, flush=True)


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


def clean(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def va_emotions(v: float, a: float) -> dict[str, float]:
    r = math.hypot(v, a)
    if r < VA_MIN_R:
        return {}
    theta = math.degrees(math.atan2(a, v))
    strength = min(1.0, r / 1.5)
    out = {}
    for emo, centre, half, sign, _why in VA_SECTORS:
        d = abs((theta - centre + 180.0) % 360.0 - 180.0)
        if (sign == "+" and v < 0) or (sign == "-" and v >= 0):
            continue
        if d <= half:
            out[emo] = strength * (0.5 + 0.5 * (1.0 - d / half))
    return out


def round_conf(x: float) -> float:
    return max(0.001, min(1.0, round(x, 3)))


# ------------------------------------------------------------------------------------ readers
def rule_fires(req: tuple, tokens: list[str]) -> bool:
    for group in req:
        if group.startswith("!"):
            if group[1:] in tokens:
                return False
        elif not any(alt in tokens for alt in group.split("|")):
            return False
    return True


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
            fired = [k for k, (req, _w, _y) in enumerate(NETEASE_RULES) if rule_fires(req, tokens)]
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
        emos: dict[str, float] = {}
        for k, hits in s["rule_hits"].items():
            share = hits / s["n"]
            for emo, w in NETEASE_RULES[k][1].items():
                emos[emo] = max(emos.get(emo, 0.0), w * (0.5 + 0.5 * share))
        out.append({
            "source": "netease", "external_id": s["id"], "title": s["title"], "artists": s["artists"],
            "tags": {NETEASE_TAGS[t] for t in s["tag_tokens"]}, "emotions": emos,
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


def rules_table() -> dict:
    """The label rules as data (tags as slugs), for recommender/catalogue_evidence.py."""
    netease = []
    for req, weights, why in NETEASE_RULES:
        netease.append({
            "all_of": [[NETEASE_TAGS[alt] for alt in g.split("|")] for g in req if not g.startswith("!")],
            "none_of": [NETEASE_TAGS[g[1:]] for g in req if g.startswith("!")],
            "weights": weights, "why": why})
    return {
        "netease": netease,
        "netease_confidence": "weight * (0.5 + 0.5 * share of the song's playlists where the rule fires)",
        "sectors": [{"emotion": emo, "centre": centre, "half_width": half, "valence": sign, "why": why.strip()}
                    for emo, centre, half, sign, why in VA_SECTORS],
        "sector_confidence": "min(1, r / 1.5) * (0.5 + 0.5 * (1 - |angle - centre| / half width))",
        "spotify_moods": {mood: {"weights": w, "tag": tag, "why": why} for mood, (w, tag, why) in SPOTIFY_MOOD.items()},
        "tag_rules": {"deezer": [{"tag": slug, "rule": desc} for slug, desc, _fn in DEEZER_TAG_RULES],
                      "spotify": [{"tag": slug, "rule": desc} for slug, desc, _fn in SPOTIFY_TAG_RULES]},
        "min_confidence": MIN_CONF,
    }


def write_rules() -> None:
    os.makedirs(OUT_DIR, exist_ok=True)
    with open(RULES_PATH, "w", encoding="utf-8", newline="\n") as fh:
        json.dump(rules_table(), fh, ensure_ascii=False, indent=1, sort_keys=True)
        fh.write("\n")


# -------------------------------------------------------------------------------------- docs
def md_mapping() -> str:
    lines = ["| signal (source) | emotion: weight | why |", "| --- | --- | --- |"]
    for req, weights, why in NETEASE_RULES:
        pos = " + ".join(" or ".join(g.split("|")) for g in req if not g.startswith("!"))
        neg = [g[1:] for g in req if g.startswith("!")]
        sig = pos + (f" (without {'/'.join(neg)})" if neg else "")
        w = ", ".join(f"{k}: {v}" for k, v in weights.items())
        lines.append(f"| NetEase playlist tag {sig} | {w} | {why} |")
    for emo, centre, half, sign, why in VA_SECTORS:
        lo, hi = (centre - half) % 360, (centre + half) % 360
        cond = {"+": ", V >= 0", "-": ", V < 0", None: ""}[sign]
        lines.append(f"| valence/arousal sector {lo}°-{hi}°{cond} (centre {centre}°; Deezer, Spotify Energetic) "
                     f"| {emo}: 1.0 at the centre, 0.5 at the edges, x min(1, r/1.5) | {why} |")
    for mood, (weights, _tag, why) in SPOTIFY_MOOD.items():
        w = ", ".join(f"{k}: {v}" for k, v in weights.items()) or "(circumplex sectors above)"
        lines.append(f"| Spotify mood = {mood} | {w} | {why} |")
    return "\n".join(lines)


def md_netease_tags() -> str:
    lines = ["| kind | NetEase token -> slug |", "| --- | --- |"]
    by_kind: dict[str, list[str]] = {}
    for tok, slug in NETEASE_TAGS.items():
        by_kind.setdefault(VOCAB[slug][2], []).append(f"{tok} `{slug}`")
    for kind in sorted(by_kind):
        lines.append(f"| {kind} | " + ", ".join(by_kind[kind]) + " |")
    return "\n".join(lines)


def md_tag_rules() -> str:
    lines = ["| tag | source | rule |", "| --- | --- | --- |"]
    for slug, desc, _fn in DEEZER_TAG_RULES:
        lines.append(f"| `{slug}` | Deezer | {desc} |")
    for slug, desc, _fn in SPOTIFY_TAG_RULES:
        lines.append(f"| `{slug}` | Spotify | {desc} |")
    for mood, (_e, slug, _w) in SPOTIFY_MOOD.items():
        lines.append(f"| `{slug}` | Spotify | mood = {mood} |")
    return "\n".join(lines)


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


def update_docs(blocks: dict[str, str]) -> None:
    if not os.path.exists(DOCS_PATH):
        log(f"  {os.path.relpath(DOCS_PATH, REPO)} not found: generated blocks not written")
        return
    with open(DOCS_PATH, encoding="utf-8") as fh:
        text = fh.read()
    for name, body in blocks.items():
        pat = re.compile(rf"(<!-- BEGIN GENERATED {name} -->\n).*?(<!-- END GENERATED {name} -->)", re.S)
        if not pat.search(text):
            log(f"  docs: no '{name}' block markers, skipped")
            continue
        text = pat.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    with open(DOCS_PATH, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    log(f"  updated generated blocks in {os.path.relpath(DOCS_PATH, REPO)}")


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
        update_docs({"mapping": md_mapping(), "netease-tags": md_netease_tags(), "tag-rules": md_tag_rules(),
                     "counts": table})
    log("\nsummary\n" + table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
