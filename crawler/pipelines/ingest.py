"""Songs into the library through its one seam, ``recommender.library.ingest_many``, in batches."""

from __future__ import annotations

import asyncio
import logging
from collections import Counter

from crawler.db import in_db_thread
from crawler.items import SEAM_FIELDS

log = logging.getLogger(__name__)


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
