"""Jamendo (Creative Commons music) through its API v3.0: tracks by tag, with musicinfo.

``GET /tracks/?client_id=...&tags=TAG&type=single+albumtrack&include=musicinfo+licenses&audioformat=mp32``
(singles too: the API's default is album tracks only), paginated with
``offset``/``limit`` up to JAMENDO_TRACKS_PER_TAG per tag (JAMENDO_TAGS). A track's id is the one the
MTG-Jamendo data set uses (``track_0000948`` there is ``948`` here). Without JAMENDO_CLIENT_ID the
spider is disabled and says so. Each song keeps its album and its licence (``license_ccurl``, the
Creative Commons deed): the app shows the licence and the artist wherever the song plays, as CC BY
asks. Endpoints and fields: crawler/README.md.
"""

from __future__ import annotations

from urllib.parse import urlencode

import scrapy
from scrapy.exceptions import CloseSpider

from crawler.items import SongItem
from crawler.spiders.base import MienSpider

DISABLED = ("the jamendo spider is disabled: JAMENDO_CLIENT_ID is not set. Register an application at "
            "https://devportal.jamendo.com/ (free, read-only API access) and export its client id as "
            "JAMENDO_CLIENT_ID.")


class JamendoSpider(MienSpider):
    name = "jamendo"
    source = "jamendo"

    def __init__(self, *args, tags=None, **kwargs):
        super().__init__(*args, **kwargs)
        self._tags_arg = tags
        self.tracks_seen: set[str] = set()

    @property
    def base_url(self) -> str:
        return self.settings.get("JAMENDO_API_URL").rstrip("/")

    @property
    def client_id(self) -> str:
        return (self.settings.get("JAMENDO_CLIENT_ID") or "").strip()

    @property
    def query_tags(self) -> list[str]:
        if self._tags_arg:
            return [t.strip() for t in self._tags_arg.split(",") if t.strip()]
        return self.settings.getlist("JAMENDO_TAGS")

    async def start(self):
        if self.refused_without_contact():
            return
        if not self.client_id:
            self.disabled_reason = DISABLED
            self.logger.warning(DISABLED)
            return
        for tag in self.query_tags:
            yield self.tracks_request(tag, 0)

    def tracks_request(self, tag: str, offset: int) -> scrapy.Request:
        params = {"client_id": self.client_id, "format": "json", "limit": self.page_size, "offset": offset,
                  "tags": tag, "type": "single albumtrack", "include": "musicinfo licenses", "audioformat": "mp32",
                  "order": "popularity_total"}
        return scrapy.Request(f"{self.base_url}/tracks/?{urlencode(params)}", callback=self.parse_tracks,
                              errback=self.listing_failed, cb_kwargs={"tag": tag, "offset": offset})

    @property
    def page_size(self) -> int:
        return max(1, min(200, self.settings.getint("JAMENDO_PAGE_SIZE", 200)))

    def parse_tracks(self, response, tag: str, offset: int):
        data = self.read_json(response, f"tracks tagged {tag!r}")
        if data is None:
            return
        headers = data.get("headers") if isinstance(data, dict) else None
        if not isinstance(headers, dict):
            self.bad_response("missing_field", f"tracks tagged {tag!r}: no 'headers' object")
            return
        if headers.get("status") != "success":
            # Credentials, rate limits and bad parameters affect every request alike: stop the run.
            message = f"Jamendo API error {headers.get('code')!r}: {headers.get('error_message') or 'no message'}"
            self.logger.error(message)
            self.crawler.stats.set_value("mien/jamendo/api_error", message)
            raise CloseSpider("jamendo_api_error")
        results = data.get("results")
        if not isinstance(results, list):
            self.bad_response("missing_field", f"tracks tagged {tag!r}: no 'results' list")
            return
        new = 0
        for track in results:
            if not isinstance(track, dict) or not str(track.get("id") or "").strip():
                self.drop("missing_id", f"a track without an id in tag {tag!r}")
                continue
            track_id = str(track["id"]).strip()
            if track_id in self.tracks_seen:
                continue
            if self.enough_tracks():
                return
            self.tracks_seen.add(track_id)
            new += 1
            yield self.track_item(track_id, track)
        next_offset = offset + len(results)
        wanted = self.settings.getint("JAMENDO_TRACKS_PER_TAG", 200)
        # A full page means there may be more; a page of nothing new means the offset is not honoured.
        if len(results) >= self.page_size and new and next_offset < wanted and not self.enough_tracks():
            yield self.tracks_request(tag, next_offset)

    def enough_tracks(self) -> bool:
        return bool(self.max_items) and len(self.tracks_seen) >= self.max_items

    def track_item(self, track_id: str, track: dict) -> SongItem:
        musicinfo = track.get("musicinfo") if isinstance(track.get("musicinfo"), dict) else {}
        tags = musicinfo.get("tags") if isinstance(musicinfo.get("tags"), dict) else {}
        tags = {field: list(tags.get(field) or []) for field in ("genres", "instruments", "vartags")}
        if musicinfo.get("vocalinstrumental") == "instrumental":
            tags["genres"].append("instrumental")
        duration = track.get("duration")
        try:
            duration = float(duration) if duration not in (None, "") else None
        except (TypeError, ValueError):
            duration = None
        return SongItem(
            source=self.source,
            external_id=track_id,
            title=track.get("name").strip() if isinstance(track.get("name"), str) else track.get("name"),
            artist=track.get("artist_name").strip() if isinstance(track.get("artist_name"), str)
            else track.get("artist_name"),
            album=track.get("album_name").strip() if isinstance(track.get("album_name"), str) else "",
            duration=duration if duration and duration > 0 else None,
            url=track.get("shareurl") or f"https://www.jamendo.com/track/{track_id}",
            audio_url=track.get("audio") or "",
            license_url=track.get("license_ccurl") or "",
            instrumental=musicinfo.get("vocalinstrumental") == "instrumental",
            jamendo_tags=tags,
        )
