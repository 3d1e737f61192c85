"""From the sites' own tags to the library's tag slugs and emotions.

* NetEase playlist tag tokens map to slugs through the ``from`` lists of the bundled vocabulary,
  recommender/catalogue/tags.json (e.g. ``"netease:快乐"`` -> ``cheerful``).
* Jamendo's genres, instruments and mood vartags map to the same slugs where the meaning is the
  same (``happy`` -> ``cheerful``, ``piano`` -> ``keyboard``); other genres and instruments, and the
  MTG-Jamendo mood/theme names, become new slugs of their kind.
* Emotions come from the bundled catalogue's own NetEase rules (recommender/catalogue/rules.py, the
  standard-library module the catalogue was built with), with the catalogue's formula: a rule that
  fires on a share s of a song's playlists gives ``weight * (0.5 + 0.5 * s)``, strongest rule per
  emotion, below ``MIN_CONF`` dropped. Jamendo tracks go through the same rules via the NetEase token
  of each slug, as a single "playlist".
"""

from __future__ import annotations

import json
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from recommender.catalogue import rules

TAGS_PATH = Path(rules.__file__).resolve().parent / "tags.json"  # written by scripts/build_catalogue.py

# Jamendo tokens (lower case, spaces and dashes removed) whose meaning is an existing slug.
JAMENDO_SYNONYMS = {
    "happy": "cheerful", "happiness": "cheerful", "joyful": "cheerful", "fun": "cheerful",
    "relaxed": "relaxing", "relaxation": "relaxing", "chillout": "relaxing", "chill": "relaxing",
    "melancholy": "melancholic", "sadness": "sad", "love": "romantic", "romance": "romantic",
    "energy": "energetic", "upbeat": "upbeat", "aggressive": "aggressive", "calm": "calm",
    "piano": "keyboard", "keyboards": "keyboard", "acousticguitar": "guitar", "electricguitar": "guitar",
    "hiphop": "rap", "rnb": "rnb-soul", "soul": "rnb-soul", "newage": "new-age", "postrock": "post-rock",
    "world": "world-music", "worldmusic": "world-music", "indie": "alternative-indie",
    "alternative": "alternative-indie", "soundtrack": "soundtrack", "filmscore": "soundtrack",
    "electronica": "electronic", "electro": "electronic", "heavymetal": "metal", "punkrock": "punk",
    "videogame": "game-music", "instrumental": "instrumental", "ethnic": "ethnic",
}
# MTG-Jamendo's mood/theme vocabulary: vartags outside it (free text) are not kept.
MTG_MOODS = frozenset("""action adventure advertising ambiental background ballad calm children christmas
commercial cool corporate dark deep documentary drama dramatic dream emotional energetic epic fast film fun
funny game groovy happy heavy holiday hopeful horror inspiring love meditative melancholic mellow melodic
motivational movie nature party positive powerful relaxing retro romantic sad sexy slow soft soundscape
space sport summer trailer travel upbeat uplifting""".split())
JAMENDO_KINDS = {"genres": "genre", "instruments": "instrument", "vartags": "mood"}


@lru_cache(maxsize=1)
def vocabulary() -> dict[str, dict]:
    return json.loads(TAGS_PATH.read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def netease_slugs() -> dict[str, str]:
    """NetEase tag token -> slug."""
    return {entry.split(":", 1)[1]: slug for slug, info in vocabulary().items()
            for entry in info.get("from", ()) if entry.startswith("netease:")}


@lru_cache(maxsize=1)
def slug_netease_tokens() -> dict[str, str]:
    """Slug -> its NetEase token, for running the NetEase rules on other sources' tags."""
    return {slug: token for token, slug in netease_slugs().items()}


def netease_tags(playlists: list[list[str]]) -> tuple[list[str], list[str]]:
    """(slugs, unknown tokens) for the tag tokens of a song's playlists."""
    mapping = netease_slugs()
    tokens = {t.strip() for tags in playlists for t in tags if t and t.strip()}
    return sorted({mapping[t] for t in tokens if t in mapping}), sorted(t for t in tokens if t not in mapping)


def emotions_from_token_sets(token_sets: list[list[str]]) -> dict[str, float]:
    """The catalogue's NetEase rules over a song's playlists (each a list of NetEase tokens)."""
    if not token_sets:
        return {}
    hits: dict[int, int] = {}
    for tokens in token_sets:
        for k in rules.fired_rules(sorted(set(tokens))):
            hits[k] = hits.get(k, 0) + 1
    emotions = rules.netease_emotions(hits, len(token_sets))
    return {e: rules.round_conf(c) for e, c in sorted(emotions.items()) if c >= rules.MIN_CONF}


def slugify(text: str) -> str:
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")[:64]


def jamendo_tags(musicinfo_tags: dict) -> tuple[list[str], dict[str, dict]]:
    """(slugs, tag_info for slugs new to the vocabulary) for a Jamendo track's musicinfo tags."""
    vocab = vocabulary()
    slugs, info = set(), {}
    for field, kind in JAMENDO_KINDS.items():
        for raw in musicinfo_tags.get(field) or ():
            if not isinstance(raw, str) or not raw.strip():
                continue
            key = re.sub(r"[\s_-]+", "", raw.strip().lower())
            slug = JAMENDO_SYNONYMS.get(key) or (slugify(raw) if slugify(raw) in vocab else None)
            if slug is None:
                if field == "vartags" and key not in MTG_MOODS:
                    continue
                slug = slugify(raw)
                if not slug:
                    continue
                info.setdefault(slug, {"en": raw.strip().title(), "zh": "", "kind": kind})
            slugs.add(slug)
    return sorted(slugs), {s: i for s, i in info.items() if s in slugs and s not in vocab}


def emotions_from_slugs(slugs: list[str]) -> dict[str, float]:
    tokens = slug_netease_tokens()
    return emotions_from_token_sets([[tokens[s] for s in slugs if s in tokens]])
