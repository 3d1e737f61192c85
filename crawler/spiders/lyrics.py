"""Lyrics for library songs that have none, from LRCLIB's open API.

For each song without lyrics (most popular first, LYRICS_SONGS_PER_RUN or --max-items of them),
``GET /api/search?track_name=TITLE&artist_name=ARTIST`` and keep the best record whose title and
artist match (case and punctuation folded; any of the song's " / "-joined artists) and whose
duration is within LYRICS_DURATION_TOLERANCE seconds of the song's, when the song's is known.
When search finds nothing close and the duration is known, ``GET /api/get?track_name=&artist_name=
&duration=`` (LRCLIB's exact lookup; the album name is optional there) has the last word.

LRCLIB asks for an identifying User-Agent (the project's) and polite, sequential requests: one
lookup at a time (each request is made only when the previous one has answered), at least
DOWNLOAD_DELAY apart; a 429/503 with Retry-After pauses the site that long (crawler/middlewares.py).
The item names the song by (source, external_id) with its library title and artist, plus the lyrics;
a song with no match, an instrumental or empty lyrics gives an item with ``lyrics_checked`` instead,
so the library waits MIEN_LYRICS_RECHECK_DAYS before asking again.
"""

from __future__ import annotations

from collections import deque
from urllib.parse import urlencode

import scrapy

from crawler.db import in_db_thread
from crawler.items import SongItem
from crawler.spiders.base import MienSpider
from crawler.text import fold, lrc_to_text


class LyricsSpider(MienSpider):
    name = "lyrics"
    custom_settings = {"CONCURRENT_REQUESTS_PER_DOMAIN": 1}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.queue: deque[dict] = deque()

    @property
    def base_url(self) -> str:
        return self.settings.get("LRCLIB_API_URL").rstrip("/")

    async def start(self):
        from recommender.crawling import songs_missing_lyrics

        if self.refused_without_contact():
            return
        limit = self.max_items or self.settings.getint("LYRICS_SONGS_PER_RUN", 300)
        songs = await in_db_thread(songs_missing_lyrics, limit)
        self.logger.info("%d library songs without lyrics to look up", len(songs))
        self.queue.extend(songs)
        for request in self.next_lookup():
            yield request

    def next_lookup(self):
        """The next song's search: requests go one after another, never side by side."""
        if self.queue:
            song = self.queue.popleft()
            artist = song["artist"].split(" / ")[0]
            yield scrapy.Request(
                f"{self.base_url}/api/search?{urlencode({'track_name': song['title'], 'artist_name': artist})}",
                callback=self.parse_search, errback=self.lookup_failed, cb_kwargs={"song": song},
                dont_filter=True)

    def get_request(self, song: dict) -> scrapy.Request:
        params = {"track_name": song["title"], "artist_name": song["artist"].split(" / ")[0],
                  "duration": round(song["duration"])}
        return scrapy.Request(f"{self.base_url}/api/get?{urlencode(params)}", callback=self.parse_get,
                              errback=self.get_failed, cb_kwargs={"song": song}, dont_filter=True)

    def lookup_failed(self, failure):
        song = failure.request.cb_kwargs["song"]
        self.drop(f"search_{self.failure_reason(failure)}",
                  f"{song['title']} - {song['artist']}: {failure.getErrorMessage()}")
        yield from self.next_lookup()

    def get_failed(self, failure):
        song = failure.request.cb_kwargs["song"]
        if self.failure_reason(failure) == "http_404":  # LRCLIB's "no such track": looked up, none found
            self.crawler.stats.inc_value("mien/lyrics/not_found")
            yield self.checked(song)
        else:
            self.drop(f"get_{self.failure_reason(failure)}",
                      f"{song['title']} - {song['artist']}: {failure.getErrorMessage()}")
        yield from self.next_lookup()

    def parse_search(self, response, song: dict):
        outcome = list(self.read_search(response, song))
        yield from outcome
        if not any(isinstance(o, scrapy.Request) for o in outcome):  # else the /api/get answer goes on
            yield from self.next_lookup()

    def read_search(self, response, song: dict):
        label = f"{song['title']} - {song['artist']}"
        data = self.read_json(response, f"LRCLIB search for {label}",
                              on_error=lambda reason, detail: self.drop(f"search_{reason}", detail))
        if data is None:
            return
        if not isinstance(data, list):
            self.drop("search_api_error", f"{label}: expected a list, got {type(data).__name__}")
            return
        record = self.best_match(song, data)
        if record is None and song.get("duration"):
            self.crawler.stats.inc_value("mien/lyrics/get_fallback")
            yield self.get_request(song)
            return
        yield from self.found(song, record)

    def parse_get(self, response, song: dict):
        data = self.read_json(response, f"LRCLIB get for {song['title']} - {song['artist']}",
                              on_error=lambda reason, detail: self.drop(f"get_{reason}", detail))
        if isinstance(data, dict):
            yield from self.found(song, data)
        elif data is not None:
            self.drop("get_api_error", f"{song['title']}: expected an object, got {type(data).__name__}")
        yield from self.next_lookup()

    def found(self, song: dict, record: dict | None):
        label = f"{song['title']} - {song['artist']}"
        if record is None:
            self.crawler.stats.inc_value("mien/lyrics/not_found")
            self.logger.info("no LRCLIB match for %s", label)
            yield self.checked(song)
            return
        if record.get("instrumental"):
            self.crawler.stats.inc_value("mien/lyrics/instrumental")
            yield self.checked(song)
            return
        text = record.get("plainLyrics") if isinstance(record.get("plainLyrics"), str) else ""
        text = text.strip() or lrc_to_text(record.get("syncedLyrics") or "")
        if not text:
            self.crawler.stats.inc_value("mien/lyrics/empty")
            yield self.checked(song)
            return
        self.crawler.stats.inc_value("mien/lyrics/found")
        yield SongItem(source=song["source"], external_id=song["external_id"], title=song["title"],
                       artist=song["artist"], lyrics=text, lyrics_source="lrclib")

    @staticmethod
    def checked(song: dict) -> SongItem:
        """The song was looked up and has no lyrics: the library will not ask again for a while.
        (A failed request yields nothing: that song is simply tried again next run.)"""
        return SongItem(source=song["source"], external_id=song["external_id"], title=song["title"],
                        artist=song["artist"], lyrics_checked=True)

    def best_match(self, song: dict, records: list) -> dict | None:
        title = fold(song["title"])
        artists = {fold(a) for a in song["artist"].split(" / ")} | {fold(song["artist"])}
        tolerance = self.settings.getfloat("LYRICS_DURATION_TOLERANCE", 2.0)
        candidates = []
        for record in records:
            if not isinstance(record, dict):
                continue
            if fold(str(record.get("trackName") or "")) != title:
                continue
            if fold(str(record.get("artistName") or "")) not in artists:
                continue
            duration = record.get("duration")
            gap = 0.0
            if song.get("duration") and isinstance(duration, (int, float)):
                gap = abs(float(duration) - song["duration"])
                if gap > tolerance:
                    continue
            has_text = bool(record.get("plainLyrics") or record.get("syncedLyrics"))
            candidates.append((not has_text, gap, record))  # lyrics first, then the closest duration
        if not candidates:
            return None
        return min(candidates, key=lambda c: (c[0], c[1]))[2]
