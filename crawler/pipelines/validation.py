"""Drop an item that cannot be a song; clear a malformed optional field."""

from __future__ import annotations

import logging
import math
from urllib.parse import urlsplit

from .dropping import drop

log = logging.getLogger(__name__)

REQUIRED = ("source", "external_id", "title", "artist")
MAX_TEXT = 300
MAX_LYRICS = 100_000
MAX_DURATION = 4 * 3600


class ValidationPipeline:
    """Drops an item missing a required field or with one of the wrong type; clears a malformed
    optional field (a bad duration, a non-http URL) and counts it under ``mien/cleared/<field>``."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        from recommender.library import is_source  # lazily: Django is set up once Scrapy runs

        label = f"{item.get('source')}:{item.get('external_id')}"
        for key in REQUIRED:
            value = item.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and key == "external_id":
                item[key] = value = str(value)
            if not isinstance(value, str) or not value.strip():
                drop(self.crawler, f"missing_{key}", f"{label} has no usable {key} ({value!r})")
            item[key] = " ".join(value.split())
        if not is_source(item["source"]):
            drop(self.crawler, "unknown_source", f"{label}: {item['source']!r} is not a library source")
        if len(item["external_id"]) > 64:
            drop(self.crawler, "bad_external_id", f"{label}: id longer than 64 characters")
        for key in ("title", "artist"):
            if len(item[key]) > MAX_TEXT:
                drop(self.crawler, f"bad_{key}", f"{label}: {key} longer than {MAX_TEXT} characters")

        for key in ("url", "embed_url", "audio_url", "license_url"):
            value = item.get(key)
            if value in (None, ""):
                continue
            if not isinstance(value, str) or urlsplit(value).scheme not in ("http", "https") or len(value) > 500:
                self._clear(item, key, label, value)
        duration = item.get("duration")
        if duration is not None and (isinstance(duration, bool) or not isinstance(duration, (int, float))
                                     or not math.isfinite(duration) or not 0 < duration <= MAX_DURATION):
            self._clear(item, "duration", label, duration)
        popularity = item.get("popularity")
        if popularity is not None and (isinstance(popularity, bool) or not isinstance(popularity, (int, float))
                                       or not 0 <= popularity <= 100):
            self._clear(item, "popularity", label, popularity)
        lyrics = item.get("lyrics")
        if lyrics is not None and (not isinstance(lyrics, str) or len(lyrics) > MAX_LYRICS):
            self._clear(item, "lyrics", label, type(lyrics).__name__)

        playlists = item.get("playlist_tags")
        if playlists is not None and not (isinstance(playlists, list) and all(
                isinstance(tags, list) and all(isinstance(t, str) for t in tags) for tags in playlists)):
            drop(self.crawler, "bad_tags", f"{label}: playlist tags are not lists of strings")
        jamendo = item.get("jamendo_tags")
        if jamendo is not None and not (isinstance(jamendo, dict) and all(
                isinstance(v, list) for v in jamendo.values())):
            drop(self.crawler, "bad_tags", f"{label}: Jamendo tags are not lists")
        return item

    def _clear(self, item, key, label, value):
        log.info("cleared malformed %s of %s: %r", key, label, value)
        self.crawler.stats.inc_value(f"mien/cleared/{key}")
        item[key] = None if key in ("duration", "popularity", "lyrics") else ""
