"""The bundled catalogue's emotion rules: NetEase playlist tags, valence/arousal sectors and
Spotify's playlist moods -> emotions with a confidence.

Standard library only: scripts/build_catalogue.py builds the catalogue with these rules (and writes
``rules.json`` from ``rules_table()`` for the review queue's explanations), and the crawler labels
crawled NetEase and Jamendo songs with the same ones (crawler/vocabulary.py).
"""

from __future__ import annotations

import math

from .tags import DEEZER_TAG_RULES, NETEASE_TAGS, SPOTIFY_TAG_RULES

# Same names and order as recommender/emotion/labels.py (kept literal: importing the emotion core
# would bring NumPy and OpenCV into a standard-library module; tests/test_catalogue_file.py checks).
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")

MIN_CONF = 0.2  # an emotion below this confidence is not attached to a song

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


def rule_fires(req: tuple, tokens: list[str]) -> bool:
    """Whether a NETEASE_RULES rule fires on one playlist's tag tokens."""
    for group in req:
        if group.startswith("!"):
            if group[1:] in tokens:
                return False
        elif not any(alt in tokens for alt in group.split("|")):
            return False
    return True


def fired_rules(tokens: list[str]) -> list[int]:
    """Indexes of the NETEASE_RULES that fire on one playlist's tag tokens."""
    return [k for k, (req, _weights, _why) in enumerate(NETEASE_RULES) if rule_fires(req, tokens)]


def netease_emotions(rule_hits: dict[int, int], playlists: int) -> dict[str, float]:
    """A song's emotions from the rules that fired on its playlists (rule index -> how many of its
    ``playlists`` it fired on): ``weight * (0.5 + 0.5 * share)``, the strongest rule per emotion."""
    emotions: dict[str, float] = {}
    for k, hits in rule_hits.items():
        share = hits / playlists
        for emotion, weight in NETEASE_RULES[k][1].items():
            emotions[emotion] = max(emotions.get(emotion, 0.0), weight * (0.5 + 0.5 * share))
    return emotions


def va_emotions(v: float, a: float) -> dict[str, float]:
    """The emotions of a point on the valence/arousal circle (VA_SECTORS)."""
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


def rules_table() -> dict:
    """The label rules as data (tags as slugs): ``rules.json``, read by recommender/catalogue_evidence.py."""
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
