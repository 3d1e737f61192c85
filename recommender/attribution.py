"""A song's licence in words, from its licence URL (pure; no Django).

Jamendo gives each track's Creative Commons deed as a URL, e.g.
``http://creativecommons.org/licenses/by-nc-nd/3.0/``; people read it as "CC BY-NC-ND 3.0".
"""

from __future__ import annotations

import re

_CC = re.compile(r"^https?://(?:www\.)?creativecommons\.org/(licenses|publicdomain)/([a-z-]+)/(\d+(?:\.\d+)?)",
                 re.IGNORECASE)


def licence_name(url: str) -> str:
    """"CC BY-NC-ND 3.0" for a Creative Commons deed; "" for no URL; otherwise the URL's host."""
    if not url:
        return ""
    match = _CC.match(url.strip())
    if match:
        kind, terms, version = match.groups()
        if kind.lower() == "publicdomain":
            return f"CC0 {version}" if terms.lower() == "zero" else f"Public Domain Mark {version}"
        return f"CC {terms.upper()} {version}"
    host = re.sub(r"^https?://", "", url.strip(), flags=re.IGNORECASE).split("/")[0]
    return host or url
