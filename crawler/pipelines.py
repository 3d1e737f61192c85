"""Item pipelines, in order: validate -> tag and label -> ingest.

Each item is one whole song. A malformed one is dropped with a logged reason and counted under
``mien/dropped/<reason>``; nothing of it is written. IngestPipeline hands songs to
``recommender.library.ingest_many`` (the one seam that writes songs) and calls nothing else of the
library; its database work runs in a worker thread (the ORM is synchronous, Scrapy runs on asyncio).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import Counter
from urllib.parse import urlsplit

from scrapy.exceptions import DropItem

from crawler import vocabulary
from crawler.db import in_db_thread
from crawler.items import SEAM_FIELDS

log = logging.getLogger(__name__)

REQUIRED = ("source", "external_id", "title", "artist")
MAX_TEXT = 300
MAX_LYRICS = 100_000
MAX_DURATION = 4 * 3600


class Dropped(DropItem):
    """DropItem with a short reason slug, counted in the stats."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason


def _drop(crawler, reason: str, detail: str):
    crawler.stats.inc_value("mien/dropped")
    crawler.stats.inc_value(f"mien/dropped/{reason}")
    raise Dropped(reason, detail)


class ValidationPipeline:
    """Drops an item missing a required field or with one of the wrong type; clears a malformed
    optional field (a bad duration, a non-http URL) and counts it under ``mien/cleared/<field>``."""

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_item(self, item):
        from recommender.models import Song

        label = f"{item.get('source')}:{item.get('external_id')}"
        for key in REQUIRED:
            value = item.get(key)
            if isinstance(value, int) and not isinstance(value, bool) and key == "external_id":
                item[key] = value = str(value)
            if not isinstance(value, str) or not value.strip():
                _drop(self.crawler, f"missing_{key}", f"{label} has no usable {key} ({value!r})")
            item[key] = " ".join(value.split())
        if item["source"] not in Song.Source.values:
            _drop(self.crawler, "unknown_source", f"{label}: {item['source']!r} is not a library source")
        if len(item["external_id"]) > 64:
            _drop(self.crawler, "bad_external_id", f"{label}: id longer than 64 characters")
        for key in ("title", "artist"):
            if len(item[key]) > MAX_TEXT:
                _drop(self.crawler, f"bad_{key}", f"{label}: {key} longer than {MAX_TEXT} characters")

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
            _drop(self.crawler, "bad_tags", f"{label}: playlist tags are not lists of strings")
        jamendo = item.get("jamendo_tags")
        if jamendo is not None and not (isinstance(jamendo, dict) and all(
                isinstance(v, list) for v in jamendo.values())):
            _drop(self.crawler, "bad_tags", f"{label}: Jamendo tags are not lists")
        return item

    def _clear(self, item, key, label, value):
        log.info("cleared malformed %s of %s: %r", key, label, value)
        self.crawler.stats.inc_value(f"mien/cleared/{key}")
        item[key] = None if key in ("duration", "popularity", "lyrics") else ""


class TaggingPipeline:
    """Library tag slugs from the sites' tags, and emotions from the catalogue's rules.

    Lyrics are not labelled here: the library labels them as they are ingested (with features,
    probabilities and the review queue), whichever spider brought them.
    """

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_item(self, item):
        tags, tag_info, emotions = set(item.get("tags") or ()), dict(item.get("tag_info") or {}), {}
        if item.get("playlist_tags") is not None:
            slugs, unknown = vocabulary.netease_tags(item["playlist_tags"])
            tags.update(slugs)
            for token in unknown:
                self.crawler.stats.inc_value("mien/unknown_tag")
                log.info("NetEase tag %r is not in the vocabulary (recommender/catalogue/tags.json)", token)
            emotions = vocabulary.emotions_from_token_sets([t for t in item["playlist_tags"] if t])
        if item.get("jamendo_tags") is not None:
            slugs, info = vocabulary.jamendo_tags(item["jamendo_tags"])
            tags.update(slugs)
            tag_info.update(info)
            emotions = vocabulary.emotions_from_slugs(slugs)
        if item.get("playlist_tags") is not None or item.get("jamendo_tags") is not None:
            item["tags"] = sorted(tags)
            item["tag_info"] = tag_info
        if emotions:
            item["emotions"], item["label_source"] = emotions, "catalogue"
            self.crawler.stats.inc_value("mien/labelled/catalogue_rules")
        return item


class IngestPipeline:
    """Hands songs to ``recommender.library.ingest_many`` in batches of INGEST_BATCH_SIZE.

    One batch is one transaction: all of it or none of it. Should a batch fail, its songs are
    retried one by one so that one bad song cannot lose the others. The counts go to the stats as
    ``mien/ingest/created|updated|merged|dropped`` (and dropped songs under ``mien/dropped/...``).
    """

    def __init__(self, crawler):
        self.crawler = crawler
        self.batch_size = max(1, crawler.settings.getint("INGEST_BATCH_SIZE", 100))
        self.buffer: list[dict] = []
        self.lock = None  # an asyncio.Lock, made in the event loop: one batch is written at a time

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_item(self, item):
        self.buffer.append(self.seam_item(item))
        if len(self.buffer) >= self.batch_size:
            await self.flush()
        return item

    async def close_spider(self):
        await self.flush()

    async def flush(self):
        batch, self.buffer = self.buffer, []
        if not batch:
            return
        self.lock = self.lock or asyncio.Lock()
        async with self.lock:  # concurrent batches could both create (or both merge into) one song
            counts = await in_db_thread(self.ingest, batch)
            for key, value in counts.items():  # stats are touched from the event loop's thread only
                if value:
                    self.crawler.stats.inc_value(key, value)

    @staticmethod
    def seam_item(item) -> dict:
        """The song as the seam takes it, with the tag info and label source to ingest it with."""
        song = {key: item.get(key) for key in SEAM_FIELDS if item.get(key) not in (None, "", [], {})}
        if item.get("instrumental"):  # the site says there are no lyrics: the lyrics spider need not look
            song["lyrics_checked"] = True
        return {"song": song, "tag_info": item.get("tag_info") or {},
                "label_source": item.get("label_source") or "catalogue"}

    def ingest(self, batch: list[dict]) -> Counter:
        """Synchronous (runs in a worker thread): the stats to add."""
        from recommender.library import ingest_many

        counts = Counter()
        groups: dict[str, list[dict]] = {}
        for entry in batch:
            groups.setdefault(entry["label_source"], []).append(entry)
        for label_source, entries in groups.items():
            tag_info = {k: v for e in entries for k, v in e["tag_info"].items()}
            try:
                reports = [(entries, ingest_many([e["song"] for e in entries], label_source=label_source,
                                                 tag_info=tag_info))]
            except Exception as exc:  # noqa: BLE001 - isolate the bad song, keep the others
                log.warning("ingesting a batch of %d songs failed (%s); retrying them one by one", len(entries), exc)
                reports = []
                for entry in entries:
                    try:
                        reports.append(([entry], ingest_many([entry["song"]], label_source=label_source,
                                                             tag_info=entry["tag_info"])))
                    except Exception as one_exc:  # noqa: BLE001
                        song = entry["song"]
                        log.error("dropped %s:%s: ingest failed: %s", song.get("source"), song.get("external_id"),
                                  one_exc)
                        counts.update(["mien/ingest/dropped", "mien/dropped", "mien/dropped/ingest_error"])
            for group, report in reports:
                counts["mien/ingest/created"] += report.created
                counts["mien/ingest/updated"] += report.updated
                counts["mien/ingest/merged"] += report.merged
                if report.lyrics_labelled:
                    counts["mien/labelled/lyrics_classifier"] += report.lyrics_labelled
                for index, reason in report.dropped:
                    song = group[index]["song"]
                    log.warning("dropped %s:%s: the library refused it: %s", song.get("source"),
                                song.get("external_id"), reason)
                    counts.update(["mien/ingest/dropped", "mien/dropped", "mien/dropped/refused_by_library"])
        return counts
