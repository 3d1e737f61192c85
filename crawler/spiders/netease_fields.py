"""What NetEase's JSON answers mean, field by field: ids, status codes, a playlist's tags and
tracks, a song-detail record (old and new shapes) and a lyrics answer.

Each reader takes the decoded JSON and gives back plain values, or None / empty where a field is
missing or of the wrong type: the spider (crawler/spiders/netease.py) decides what a missing field
costs. Endpoints and fields: crawler/README.md.
"""

from __future__ import annotations

from crawler.items import SongItem
from crawler.text import lrc_to_text

SONG_URL = "https://music.163.com/song?id={}"
EMBED_URL = "https://music.163.com/outchain/player?type=2&id={}&auto=0&height=66"


def netease_id(value) -> str | None:
    """A NetEase id (a positive integer, possibly sent as a string), as a string."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int) and value > 0:
        return str(value)
    if isinstance(value, str) and value.strip().isdigit():
        return value.strip()
    return None


def status_code(data):
    """NetEase's status code inside a JSON answer (200 = OK), or the type of a non-object answer."""
    return data.get("code") if isinstance(data, dict) else type(data).__name__


def names(people) -> list[str]:
    if not isinstance(people, list):
        return []
    return [p["name"].strip() for p in people if isinstance(p, dict) and isinstance(p.get("name"), str)
            and p["name"].strip()]


def playlist_tags(playlist: dict, listed_tags: list) -> list[str]:
    """A playlist detail's tag tokens (the listing's when the detail has none), sorted, distinct."""
    tags = playlist.get("tags") if isinstance(playlist.get("tags"), list) else listed_tags
    return sorted({t.strip() for t in tags if isinstance(t, str) and t.strip()})


def playlist_tracks(playlist: dict) -> list | None:
    """A playlist detail's track entries (``trackIds``; older answers list the tracks themselves)."""
    track_ids = playlist.get("trackIds")
    if isinstance(track_ids, list):
        return track_ids
    return playlist.get("tracks") if isinstance(playlist.get("tracks"), list) else None


def song_item(source: str, song_id: str, song: dict, tag_sets: list[list[str]]) -> SongItem:
    """One song from its song-detail record (old `artists/album/duration/popularity` shape or the
    newer `ar/al/dt/pop` one), with the tag tokens of the playlists it was seen on."""
    title = song.get("name")
    artists = names(song.get("artists") if "artists" in song else song.get("ar"))
    album = song.get("album") if isinstance(song.get("album"), dict) else song.get("al")
    duration_ms = song.get("duration", song.get("dt"))
    popularity = song.get("popularity", song.get("pop"))
    album_name = album.get("name") if isinstance(album, dict) else None
    return SongItem(
        source=source,
        external_id=song_id,
        title=title.strip() if isinstance(title, str) else title,
        artist=" / ".join(artists),
        album=album_name.strip() if isinstance(album_name, str) else "",
        duration=duration_ms / 1000 if isinstance(duration_ms, (int, float)) and duration_ms > 0 else None,
        popularity=round(popularity) if isinstance(popularity, (int, float)) else None,
        url=SONG_URL.format(song_id),
        embed_url=EMBED_URL.format(song_id),
        playlist_tags=tag_sets,
    )


def lyrics_answer(data: dict) -> tuple[str, str]:
    """(what an OK lyrics answer holds, the lyrics as plain text): "instrumental" (NetEase marks pure
    music; its lrc says "纯音乐，请欣赏"), "found", or "none"."""
    lrc = data.get("lrc")
    text = lrc_to_text(lrc.get("lyric") or "") if isinstance(lrc, dict) else ""
    if data.get("nolyric") or data.get("pureMusic"):
        return "instrumental", ""
    return ("found", text) if text else ("none", "")
