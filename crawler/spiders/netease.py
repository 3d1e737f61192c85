"""NetEase Cloud Music (unofficial web endpoints): playlists by category -> playlist detail -> song
detail -> lyrics.

A song's tags are its playlists' tags, as in the bundled catalogue, so the crawl runs in two phases:

1. for each category (NETEASE_CATEGORIES), the hottest playlists (``/api/playlist/list``, paginated
   up to NETEASE_PLAYLISTS_PER_CATEGORY) and each playlist's detail (``/api/v6/playlist/detail``):
   its tags and track ids;
2. once phase 1 is done (the spider is idle), the songs' details in batches (``/api/song/detail``):
   one item per song, carrying the tag tokens of every playlist it was seen on, yielded (and so
   ingested) at once; then each song's lyrics (``/api/song/lyric``), each a later item of its own.

Manners: one request at a time, at least NETEASE_DOWNLOAD_DELAY (>= 3 s) apart, AutoThrottle off
(it would lower the delay, and blocks arrive as HTTP 200), no cookies, the project's own
User-Agent. Any block (crawler/spiders/netease_blocks.py) stops the run at once and the
CrawlRun records a back-off time (NETEASE_BLOCK_BACKOFF_HOURS) before which scheduled runs skip.

A run cut short (time limit, block, SIGTERM) records where it stopped in its CrawlRun
(``resume_state``): categories listed, playlists listed but unread, songs known but not fetched,
songs whose lyrics are still due. The next run starts from there.

With a limit on items (``--max-items`` / CLOSESPIDER_ITEMCOUNT) phase 1 stops listing playlists once
those asked for hold that many tracks, and phase 2 fetches only that many songs. Endpoints and fields: crawler/README.md.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import scrapy
from scrapy import signals
from scrapy.exceptions import DontCloseSpider

from crawler.db import in_db_thread
from crawler.items import SongItem
from crawler.spiders.base import MienSpider
from crawler.spiders.netease_blocks import StopsOnBlock
from crawler.spiders.netease_fields import (lyrics_answer, netease_id, playlist_tags, playlist_tracks, song_item,
                                            status_code)

MIN_DELAY = 3.0  # seconds between requests, whatever the settings say


class NeteaseSpider(StopsOnBlock, MienSpider):
    name = "netease"
    source = "netease"
    custom_settings = {
        "AUTOTHROTTLE_ENABLED": False,  # a fixed delay: AutoThrottle would lower it and cannot see 200-blocks
        "CONCURRENT_REQUESTS_PER_DOMAIN": 1,
        "DOWNLOAD_DELAY_JITTER": 0,  # no random shortening of the delay
        "COOKIES_ENABLED": False,
    }

    def __init__(self, *args, categories=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._categories_arg = categories
        self.categories_done: set[str] = set()
        self.playlists_pending: dict[str, list] = {}  # listed, detail not read yet: id -> listed tags
        self.playlist_tags: dict[str, list[str]] = {}  # read: id -> its tag tokens
        self.song_playlists: dict[str, list[str]] = {}  # known, not yet yielded: song id -> playlist ids
        self.lyrics_due: dict[str, list[str]] = {}  # yielded, lyrics not yet fetched: id -> [title, artist]
        self.songs_listed = 0  # track counts of the playlists asked for: an upper bound on new songs
        self.songs_yielded = 0
        self.phase = 1

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        delay = max(MIN_DELAY, settings.getfloat("NETEASE_DOWNLOAD_DELAY", MIN_DELAY))
        settings.set("DOWNLOAD_DELAY", delay, priority="spider")

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider.spider_idle, signal=signals.spider_idle)
        return spider

    # -- settings -------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        return self.settings.get("NETEASE_API_URL").rstrip("/")

    @property
    def categories(self) -> list[str]:
        if self._categories_arg:
            return [c.strip() for c in self._categories_arg.split(",") if c.strip()]
        return self.settings.getlist("NETEASE_CATEGORIES")

    def api(self, path: str, **params) -> str:
        return f"{self.base_url}{path}?{urlencode(params)}"

    def enough_songs(self) -> bool:
        return bool(self.max_items) and len(self.song_playlists) + self.songs_yielded >= self.max_items

    def enough_listed(self) -> bool:
        """With an item limit, the playlists asked for already hold enough tracks: stop listing more."""
        return bool(self.max_items) and (self.songs_listed >= self.max_items or self.enough_songs())

    # -- resuming -------------------------------------------------------------------------------
    def resume_state(self) -> dict:
        """Where this run stopped, for the next one ({} when nothing is left to do)."""
        started = self.categories_done or self.playlist_tags or self.playlists_pending or self.song_playlists
        left = (set(self.categories) - self.categories_done or self.playlists_pending or self.song_playlists
                or self.lyrics_due)
        if not (started or self.lyrics_due) or not left:
            return {}
        return {"categories_done": sorted(self.categories_done), "playlists_pending": self.playlists_pending,
                "playlist_tags": self.playlist_tags, "songs": self.song_playlists, "lyrics_due": self.lyrics_due}

    def restore(self, state: dict) -> None:
        self.categories_done = set(state.get("categories_done") or ()) & set(self.categories)
        self.playlists_pending = dict(state.get("playlists_pending") or {})
        self.playlist_tags = dict(state.get("playlist_tags") or {})
        self.song_playlists = {k: list(v) for k, v in (state.get("songs") or {}).items()}
        self.lyrics_due = dict(state.get("lyrics_due") or {})
        self.crawler.stats.set_value("mien/netease/resumed", 1)
        self.logger.info("resuming: %d categories done, %d playlists to read, %d songs to fetch, %d lyrics due",
                         len(self.categories_done), len(self.playlists_pending), len(self.song_playlists),
                         len(self.lyrics_due))

    # -- phase 1: playlists ---------------------------------------------------------------------
    async def start(self):
        if self.refused_without_contact():
            return
        if self.has_database:
            from recommender.crawling import resume_point

            state = await in_db_thread(resume_point, self.name)
            if state:
                self.restore(state)
        for song_id, (title, artist) in list(self.lyrics_due.items()):
            yield self.lyric_request(song_id, title, artist)
        for playlist_id, listed_tags in list(self.playlists_pending.items()):
            yield self.playlist_detail_request(playlist_id, listed_tags)
        for category in self.categories:
            if category not in self.categories_done:
                yield self.playlist_list_request(category, 0)

    def playlist_list_request(self, category: str, offset: int) -> scrapy.Request:
        limit = self.settings.getint("NETEASE_PAGE_SIZE", 35)
        return scrapy.Request(
            self.api("/api/playlist/list", cat=category, order="hot", limit=limit, offset=offset),
            callback=self.parse_playlist_list, errback=self.listing_failed,
            cb_kwargs={"category": category, "offset": offset})

    def playlist_detail_request(self, playlist_id: str, listed_tags: list) -> scrapy.Request:
        return scrapy.Request(
            self.api("/api/v6/playlist/detail", id=playlist_id, n=100000, s=0),
            callback=self.parse_playlist_detail, errback=self.listing_failed,
            cb_kwargs={"playlist_id": playlist_id, "listed_tags": listed_tags})

    def listing_failed(self, failure):
        self.stop_if_failure_is_block(failure)
        super().listing_failed(failure)

    def parse_playlist_list(self, response, category: str, offset: int):
        """A page of a category's hottest playlists: a detail request per playlist, then the next page."""
        data = self.read_api(response, f"playlist list {category!r}")
        if data is None:
            return
        if status_code(data) != 200 or not isinstance(data.get("playlists"), list):
            self.bad_response("api_error", f"playlist list {category!r} offset {offset}: code {status_code(data)!r}")
            return
        playlists = data["playlists"]
        for entry in playlists:
            playlist_id = netease_id(entry.get("id")) if isinstance(entry, dict) else None
            if playlist_id is None:
                self.bad_response("missing_field", f"a playlist without an id in category {category!r}")
                continue
            if playlist_id in self.playlists_pending or playlist_id in self.playlist_tags:
                continue
            if self.enough_listed():
                self.categories_done.add(category)
                return
            track_count = entry.get("trackCount")
            self.songs_listed += track_count if isinstance(track_count, int) and track_count > 0 else 1
            listed_tags = entry.get("tags") if isinstance(entry.get("tags"), list) else []
            self.playlists_pending[playlist_id] = listed_tags
            yield self.playlist_detail_request(playlist_id, listed_tags)
        next_offset = offset + len(playlists)
        per_category = self.settings.getint("NETEASE_PLAYLISTS_PER_CATEGORY", 35)
        if data.get("more") and playlists and next_offset < per_category and not self.enough_listed():
            yield self.playlist_list_request(category, next_offset)
        else:
            self.categories_done.add(category)

    def parse_playlist_detail(self, response, playlist_id: str, listed_tags: list):
        data = self.read_api(response, f"playlist {playlist_id}")
        self.playlists_pending.pop(playlist_id, None)  # read, or unreadable: not asked for again
        if data is None:
            return
        playlist = data.get("playlist") if isinstance(data, dict) else None
        if status_code(data) != 200 or not isinstance(playlist, dict):
            self.bad_response("api_error", f"playlist {playlist_id}: code {status_code(data)!r}")
            return
        tags = playlist_tags(playlist, listed_tags)
        track_ids = playlist_tracks(playlist)
        if track_ids is None:
            self.bad_response("missing_field", f"playlist {playlist_id} lists no tracks")
            return
        self.playlist_tags[playlist_id] = tags
        for track in track_ids:
            song_id = netease_id(track.get("id")) if isinstance(track, dict) else None
            if song_id is None:
                self.bad_response("missing_field", f"a track without an id in playlist {playlist_id}")
                continue
            if song_id not in self.song_playlists and self.enough_songs():
                continue
            self.song_playlists.setdefault(song_id, []).append(playlist_id)
        self.crawler.stats.inc_value("mien/netease/playlists")

    # -- phase 2: songs -------------------------------------------------------------------------
    def spider_idle(self):
        if self.phase != 1:
            return
        self.phase = 2
        song_ids = list(self.song_playlists)
        if self.max_items:
            song_ids = song_ids[:max(0, self.max_items - self.songs_yielded)]
        self.logger.info("%d playlists read, %d songs to fetch", len(self.playlist_tags), len(song_ids))
        batch = self.settings.getint("NETEASE_SONG_DETAIL_BATCH", 50)
        for start in range(0, len(song_ids), batch):
            self.crawler.engine.crawl(self.song_detail_request(song_ids[start:start + batch]))
        if song_ids:
            raise DontCloseSpider

    def song_detail_request(self, song_ids: list[str]) -> scrapy.Request:
        ids = "[" + ",".join(song_ids) + "]"
        return scrapy.Request(self.api("/api/song/detail/", id=song_ids[0], ids=ids),
                              callback=self.parse_song_detail, errback=self.song_detail_failed,
                              cb_kwargs={"song_ids": song_ids})

    def song_detail_failed(self, failure):
        self.stop_if_failure_is_block(failure)
        song_ids = failure.request.cb_kwargs["song_ids"]
        for song_id in song_ids:
            self.song_playlists.pop(song_id, None)
        self.drop(f"song_detail_{self.failure_reason(failure)}",
                  f"{failure.request.url}: {failure.getErrorMessage()}", count=len(song_ids))

    async def parse_song_detail(self, response, song_ids: list[str]):
        def unusable(reason, detail):
            for song_id in song_ids:
                self.song_playlists.pop(song_id, None)
            self.drop(f"song_detail_{reason}", detail, count=len(song_ids))

        data = self.read_api(response, "song detail", on_error=unusable)
        if data is None:
            return
        songs = data.get("songs") if isinstance(data, dict) else None
        if status_code(data) != 200 or not isinstance(songs, list):
            unusable("api_error", f"song detail for {len(song_ids)} songs: code {status_code(data)!r}")
            return
        by_id = {netease_id(s.get("id")): s for s in songs if isinstance(s, dict)}
        lyrics = self.settings.getbool("NETEASE_FETCH_LYRICS", True)
        known = set()  # songs whose lyrics the library has already: not asked for again
        if lyrics and self.has_database:
            from recommender.crawling import songs_with_lyrics

            known = await in_db_thread(songs_with_lyrics, self.source, song_ids)
        for song_id in song_ids:
            song = by_id.get(song_id)
            if song is None:
                self.song_playlists.pop(song_id, None)
                self.drop("not_in_song_detail", f"song {song_id} missing from the song detail answer")
                continue
            item = self.song_item(song_id, song)
            self.song_playlists.pop(song_id, None)
            self.songs_yielded += 1
            yield item  # ingested now: a run cut before its lyrics still keeps the song
            if lyrics and song_id not in known and item["title"] and item["artist"]:  # else it is dropped
                self.lyrics_due[song_id] = [item["title"], item["artist"]]
                yield self.lyric_request(song_id, item["title"], item["artist"])

    def song_item(self, song_id: str, song: dict) -> SongItem:
        return song_item(self.source, song_id, song,
                         [self.playlist_tags.get(p, []) for p in self.song_playlists.get(song_id, [])])

    # -- lyrics, filled in after the song -------------------------------------------------------
    def lyric_request(self, song_id: str, title: str, artist: str) -> scrapy.Request:
        return scrapy.Request(self.api("/api/song/lyric", id=song_id, lv=1, kv=1, tv=-1),
                              callback=self.parse_lyric, errback=self.lyric_failed,
                              cb_kwargs={"song_id": song_id, "title": title, "artist": artist})

    def parse_lyric(self, response, song_id: str, title: str, artist: str):
        """The song's lyrics as an item of their own; nothing when NetEase has none (LRCLIB may)."""
        def unusable(reason, detail):
            self.crawler.stats.inc_value(f"mien/lyrics/{reason}")
            self.logger.info("no lyrics for song %s: %s", song_id, detail)

        data = self.read_api(response, f"lyrics of song {song_id}", on_error=unusable)
        self.lyrics_due.pop(song_id, None)
        item = SongItem(source=self.source, external_id=song_id, title=title, artist=artist)
        if isinstance(data, dict) and status_code(data) == 200:
            found, text = lyrics_answer(data)
            if found == "instrumental":
                item["instrumental"] = True
                self.crawler.stats.inc_value("mien/lyrics/instrumental")
                yield item
            elif found == "found":
                item["lyrics"], item["lyrics_source"] = text, "netease"
                self.crawler.stats.inc_value("mien/lyrics/found")
                yield item
            else:
                self.crawler.stats.inc_value("mien/lyrics/none")
        elif data is not None:
            unusable("api_error", json.dumps(data)[:80])

    def lyric_failed(self, failure):
        self.stop_if_failure_is_block(failure)
        self.lyrics_due.pop(failure.request.cb_kwargs["song_id"], None)
        self.crawler.stats.inc_value(f"mien/lyrics/{self.failure_reason(failure)}")
        self.logger.info("no lyrics for %s: %s", failure.request.url, failure.getErrorMessage())
