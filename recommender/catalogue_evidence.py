"""Why a catalogue label is what it is: the rule of recommender/catalogue/rules.py and the song's
tags that produced it, for the curators' review queue.

The catalogue keeps a song's labels and tags, not the playlists or valence/arousal values they came
from, so the rule is found again from what was kept: ``rules.json`` (written by the build script
from ``rules.rules_table()``) says which tags make each rule fire and how a confidence follows from it.

- NetEase: a rule fires on a playlist whose tags hold all its tokens; the song's confidence is
  ``weight * (0.5 + 0.5 * share)``, the best over the rules that fired, where share is the fraction
  of the song's playlists the rule fired on. So a rule whose tags the song carries, and whose weight
  brackets the confidence (weight / 2 <= confidence <= weight), is a rule that can have produced it,
  and ``share = 2 * confidence / weight - 1``. The song's tags are the union over its playlists, so a
  rule's "without" tags cannot be checked per playlist; they are shown as part of the rule.
- Deezer, and Spotify's "Energetic" songs: a sector of the valence/arousal circle. The values are not
  kept; the tags derived from them (tense: V < 0 and A >= 0.35, ...) say where the song sits.
- Spotify's Happy / Sad / Calm playlist moods: the label is the source playlist's mood.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

RULES_PATH = Path(__file__).resolve().parent / "catalogue" / "rules.json"
ROUNDING = 0.0015  # the catalogue rounds confidences to 3 decimals


@dataclass
class CatalogueReason:
    kind: str  # "netease" | "sector" | "spotify_mood"
    emotion: str
    confidence: float
    rule: str  # the build script's own words for the rule (English data, shown as written)
    tags: list[str] = field(default_factory=list)  # NetEase, Spotify mood: the song's tags the rule used
    without: list[str] = field(default_factory=list)  # tags whose presence stops the rule (NetEase)
    weight: float | None = None
    share: float | None = None  # NetEase: the fraction of the song's playlists the rule fired on
    mood: str = ""  # Spotify: the source playlist's mood
    sector: tuple[int, int, int] | None = None  # (from, to, centre) in degrees on the valence/arousal circle
    derived_tags: list[tuple[str, str]] = field(default_factory=list)  # (tag, the rule that derived it)


@lru_cache(maxsize=1)
def rules() -> dict:
    try:
        return json.loads(RULES_PATH.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def _netease(tags: set[str], emotion: str, confidence: float) -> list[CatalogueReason]:
    found = []
    for rule in rules().get("netease", ()):
        weight = rule["weights"].get(emotion)
        if weight is None or not all(tags & set(group) for group in rule["all_of"]):
            continue
        if not weight / 2 - ROUNDING <= confidence <= weight + ROUNDING:
            continue
        used = sorted({tag for group in rule["all_of"] for tag in group if tag in tags})
        share = min(1.0, max(0.0, 2 * confidence / weight - 1))
        found.append(CatalogueReason("netease", emotion, confidence, rule["why"], used, list(rule["none_of"]),
                                     weight, round(share, 2)))
    return sorted(found, key=lambda reason: -reason.weight)


def _derived_tags(source: str, tags: set[str]) -> list[tuple[str, str]]:
    derived = rules().get("tag_rules", {})
    sources = [source] if source in derived else list(derived)
    return [(rule["tag"], rule["rule"]) for name in sources for rule in derived[name] if rule["tag"] in tags]


def explain(source: str, tags, emotion: str, confidence: float) -> list[CatalogueReason]:
    """The rules that can have given a song from ``source`` with ``tags`` its catalogue label
    ``emotion`` at ``confidence``, most likely first; [] when none fits (an edited tag list, say)."""
    tags = set(tags)
    reasons = _netease(tags, emotion, confidence) if source == "netease" else []
    if source == "spotify":
        for mood, info in rules().get("spotify_moods", {}).items():
            weight = info["weights"].get(emotion)
            if weight is not None and info["tag"] in tags and abs(weight - confidence) <= ROUNDING:
                reasons.append(CatalogueReason("spotify_mood", emotion, confidence, info["why"], [info["tag"]],
                                               weight=weight, mood=mood))
    if not reasons:  # Deezer, Spotify "Energetic", or a NetEase song merged with one of those
        for sector in rules().get("sectors", ()):
            if sector["emotion"] == emotion:
                centre, half = sector["centre"], sector["half_width"]
                reasons.append(CatalogueReason("sector", emotion, confidence, sector["why"],
                                               sector=((centre - half) % 360, (centre + half) % 360, centre),
                                               derived_tags=_derived_tags(source, tags)))
    return reasons
