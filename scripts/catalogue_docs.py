"""The generated blocks of docs/catalogue.md: the catalogue's rules as Markdown tables, written
between ``<!-- BEGIN GENERATED name -->`` and ``<!-- END GENERATED name -->`` markers so the
document always shows the rules the catalogue was built with. Used by scripts/build_catalogue.py.
"""

from __future__ import annotations

import os
import re

from recommender.catalogue.rules import NETEASE_RULES, SPOTIFY_MOOD, VA_SECTORS
from recommender.catalogue.tags import DEEZER_TAG_RULES, NETEASE_TAGS, SPOTIFY_TAG_RULES, VOCAB
from scripts.catalogue_sources import log

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


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


def update_docs(path: str, blocks: dict[str, str]) -> None:
    """Replace each named generated block of the Markdown file at ``path`` with its new body."""
    if not os.path.exists(path):
        log(f"  {os.path.relpath(path, REPO)} not found: generated blocks not written")
        return
    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    for name, body in blocks.items():
        pat = re.compile(rf"(<!-- BEGIN GENERATED {name} -->\n).*?(<!-- END GENERATED {name} -->)", re.S)
        if not pat.search(text):
            log(f"  docs: no '{name}' block markers, skipped")
            continue
        text = pat.sub(lambda m: m.group(1) + body + "\n" + m.group(2), text)
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
    log(f"  updated generated blocks in {os.path.relpath(path, REPO)}")
