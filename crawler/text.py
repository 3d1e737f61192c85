"""Small text helpers shared by the spiders."""

from __future__ import annotations

import re

# [mm:ss], [mm:ss.xx], [mm:ss:xx] time tags, and [ar:...]-style ID tags of LRC files.
_TIME_TAG = re.compile(r"\[\d{1,3}:\d{1,2}(?:[.:]\d{1,3})?\]")
_ID_TAG = re.compile(r"^\[[a-zA-Z#]+:[^\]]*\]$")
# NetEase puts credits as the first lines: "作词 : 林夕", "作曲 : ...", "编曲 : ...", "Producer: ...".
_CREDIT = re.compile(r"^(作词|作曲|编曲|制作人|词|曲|混音|录音|和声|吉他|贝斯|鼓|监制|母带|"
                     r"lyrics?|composer|arranger|producer)\s*[:：]", re.IGNORECASE)


def lrc_to_text(lrc: str) -> str:
    """Plain lyrics from an LRC file: time and ID tags and credit lines removed."""
    lines = []
    for raw in (lrc or "").replace("\r\n", "\n").split("\n"):
        line = raw.strip()
        if _ID_TAG.match(line):
            continue
        line = _TIME_TAG.sub("", line).strip()
        if not line or _CREDIT.match(line):
            continue
        lines.append(line)
    return "\n".join(lines)


def fold(text: str) -> str:
    """Case- and punctuation-insensitive form for matching titles and artists."""
    import unicodedata

    text = unicodedata.normalize("NFKC", text or "").casefold()
    return re.sub(r"[\W_]+", "", text)
