"""Answers in the shapes the sites document and send, with the fields real answers carry.

NetEase's unofficial web API (music.163.com/api/...), Jamendo API v3.0 (developer.jamendo.com/v3.0)
and LRCLIB (lrclib.net/docs). Only a few fields matter to the spiders; the others are here so that
the parsers are tested against realistic, noisy records.
"""

from __future__ import annotations

# --- NetEase -------------------------------------------------------------------------------------


def netease_playlist(playlist_id: int, name: str, tags: list[str], track_count: int = 20) -> dict:
    return {
        "name": name, "id": playlist_id, "trackNumberUpdateTime": 1700000000000, "status": 0,
        "userId": 10086, "createTime": 1600000000000, "updateTime": 1700000000000, "subscribedCount": 1234,
        "trackCount": track_count, "cloudTrackCount": 0,
        "coverImgUrl": f"https://p1.music.126.net/cover/{playlist_id}.jpg", "coverImgId": 109951163000000000,
        "description": f"{name}: a playlist", "tags": tags, "playCount": 987654, "trackUpdateTime": 1700000000000,
        "specialType": 0, "totalDuration": 0,
        "creator": {"defaultAvatar": False, "province": 110000, "authStatus": 0, "followed": False,
                    "avatarUrl": "https://p1.music.126.net/a.jpg", "accountStatus": 0, "gender": 1, "city": 110101,
                    "birthday": 0, "userId": 10086, "userType": 0, "nickname": "listener", "signature": "",
                    "description": "", "detailDescription": "", "avatarImgId": 1, "backgroundImgId": 2,
                    "backgroundUrl": "https://p1.music.126.net/b.jpg", "authority": 0, "mutual": False,
                    "expertTags": None, "experts": None, "djStatus": 0, "vipType": 0, "remarkName": None},
        "tracks": None, "subscribers": [], "subscribed": None, "commentThreadId": f"A_PL_0_{playlist_id}",
        "newImported": False, "adType": 0, "highQuality": False, "privacy": 0, "ordered": True,
        "anonimous": False, "coverStatus": 3, "recommendInfo": None, "shareCount": 12, "commentCount": 34,
        "copywriter": None, "tag": None, "alg": "alg_sq_topn_lr",
    }


def netease_playlist_list(category: str, playlists: list[dict], more: bool = False, total: int | None = None) -> dict:
    """GET /api/playlist/list?cat=...&order=hot&limit=...&offset=..."""
    return {"playlists": playlists, "total": total if total is not None else len(playlists), "code": 200,
            "more": more, "cat": category}


def netease_playlist_detail(playlist_id: int, name: str, tags: list[str], song_ids: list[int]) -> dict:
    """GET /api/v6/playlist/detail?id=...: all track ids, only the first few tracks in full."""
    playlist = netease_playlist(playlist_id, name, tags, len(song_ids))
    playlist.update({
        "trackIds": [{"id": sid, "v": 17, "t": 0, "at": 1690000000000, "alg": None, "uid": 10086,
                      "rcmdReason": "", "sc": None, "f": None, "sr": None} for sid in song_ids],
        "tracks": [],
        "videoIds": None, "videos": None, "bannedTrackIds": None, "mvResourceInfos": None,
    })
    return {"code": 200, "relatedVideos": None, "playlist": playlist, "urls": None,
            "privileges": [{"id": sid, "fee": 8, "payed": 0, "st": 0, "pl": 128000, "dl": 0, "sp": 7, "cp": 1,
                            "subp": 1, "cs": False, "maxbr": 999000, "fl": 128000, "toast": False, "flag": 0}
                           for sid in song_ids[:10]],
            "sharedPrivilege": None, "resEntrance": None, "fromUsers": None, "fromUserCount": 0,
            "songFromUsers": None}


def netease_song(song_id: int, title: str, artists: list[str], duration_ms: int = 240000,
                 popularity: float = 95.0, album: str = "An Album") -> dict:
    """One record of GET /api/song/detail/?ids=[...] (the classic shape)."""
    artist_records = [{"name": name, "id": 1000 + i, "picId": 0, "img1v1Id": 0, "briefDesc": "",
                       "picUrl": "https://p1.music.126.net/p.jpg", "img1v1Url": "https://p1.music.126.net/i.jpg",
                       "albumSize": 0, "alias": [], "trans": "", "musicSize": 0, "topicPerson": 0}
                      for i, name in enumerate(artists)]
    return {
        "name": title, "id": song_id, "position": 1, "alias": [], "status": 0, "fee": 8, "copyrightId": 7003,
        "disc": "01", "no": 1, "artists": artist_records,
        "album": {"name": album, "id": 3000 + song_id % 1000, "type": "专辑", "size": 10, "picId": 1,
                  "blurPicUrl": "https://p1.music.126.net/blur.jpg", "companyId": 0, "pic": 1,
                  "picUrl": "https://p1.music.126.net/album.jpg", "publishTime": 1500000000000, "description": "",
                  "tags": "", "company": "Some Records", "briefDesc": "", "artist": artist_records[0] if
                  artist_records else {}, "songs": [], "alias": [], "status": 1, "copyrightId": 7003,
                  "commentThreadId": "R_AL_3_1", "artists": artist_records, "subType": "录音室版"},
        "starred": False, "popularity": popularity, "score": int(popularity), "starredNum": 0,
        "duration": duration_ms, "playedNum": 0, "dayPlays": 0, "hearTime": 0, "ringtone": "", "crbt": None,
        "audition": None, "copyFrom": "", "commentThreadId": f"R_SO_4_{song_id}", "rtUrl": None, "ftype": 0,
        "rtUrls": [], "copyright": 1, "transName": None, "sign": None, "mark": 0, "noCopyrightRcmd": None,
        "mvid": 0, "bMusic": {"name": None, "id": 1, "size": 3840000, "extension": "mp3", "sr": 44100,
                              "dfsId": 0, "bitrate": 128000, "playTime": duration_ms, "volumeDelta": -2.0},
        "mp3Url": None, "rtype": 0, "rurl": None, "hMusic": None, "mMusic": None, "lMusic": None,
    }


def netease_song_v3(song_id: int, title: str, artists: list[str], duration_ms: int = 240000,
                    popularity: float = 100.0, album: str = "An Album") -> dict:
    """One record in the newer song-detail shape (``/api/v3/song/detail``, the one the web player and
    Binaryify/NeteaseCloudMusicApi's ``/song/detail`` return): short keys ``ar`` (artists), ``al``
    (album), ``dt`` (duration, ms), ``pop`` (popularity, 0-100)."""
    quality = {"br": 320000, "fid": 0, "size": 10366000, "vd": -49000.0, "sr": 44100}
    return {
        "name": title, "id": song_id, "pst": 0, "t": 0,
        "ar": [{"id": 2116 + i, "name": name, "tns": [], "alias": []} for i, name in enumerate(artists)],
        "alia": [], "pop": popularity, "st": 0, "rt": "", "fee": 8, "v": 93, "crbt": None, "cf": "",
        "al": {"id": 2522069, "name": album, "picUrl": "https://p2.music.126.net/cover.jpg", "tns": [],
               "pic_str": "109951163000000000", "pic": 109951163000000000},
        "dt": duration_ms, "h": quality, "m": {**quality, "br": 192000}, "l": {**quality, "br": 128000},
        "sq": None, "hr": None, "a": None, "cd": "01", "no": 2, "rtUrl": None, "ftype": 0, "rtUrls": [],
        "djId": 0, "copyright": 1, "s_id": 0, "mark": 8192, "originCoverType": 1, "originSongSimpleData": None,
        "tagPicList": None, "resourceState": True, "version": 93, "songJumpInfo": None, "entertainmentTags": None,
        "awardTags": None, "single": 0, "noCopyrightRcmd": None, "mv": 0, "rtype": 0, "rurl": None, "mst": 9,
        "cp": 7003, "publishTime": 1288022400000,
    }


def netease_song_detail(songs: list[dict]) -> dict:
    return {"songs": songs, "equalizers": {}, "code": 200}


def netease_lyric(lrc: str) -> dict:
    """GET /api/song/lyric?id=...&lv=1&kv=1&tv=-1"""
    return {"sgc": False, "sfy": False, "qfy": False, "transUser": None, "lyricUser": None,
            "lrc": {"version": 7, "lyric": lrc}, "klyric": {"version": 0, "lyric": ""},
            "tlyric": {"version": 0, "lyric": ""}, "code": 200}


NETEASE_NO_LYRIC = {"sgc": True, "sfy": False, "qfy": False, "nolyric": True, "code": 200}

# Pure music: a lyric answer flagged pureMusic whose only line says so ("pure music, please enjoy").
NETEASE_PURE_MUSIC = {"sgc": False, "sfy": False, "qfy": False, "pureMusic": True,
                      "lrc": {"version": 1, "lyric": "[00:00.00] 纯音乐，请欣赏\n"},
                      "klyric": {"version": 0, "lyric": ""}, "tlyric": {"version": 0, "lyric": ""}, "code": 200}

# Blocks, as other clients have recorded them (HTTP 200 unless said otherwise): Binaryify/
# NeteaseCloudMusicApi issues #289, #400, #651 ({"code": -460, "msg": "Cheating"}), #731 and #807 (with
# "message"), #1658 (-460 "网络太拥挤，请稍候再试！"); ZainCheung/netease-cloud-api #106 (-462 with a
# verification block); chen310/NeteaseCloudMusicTasks #185 (-447 "服务器忙碌").
NETEASE_CHEATING = {"code": -460, "msg": "Cheating"}
NETEASE_TOO_CROWDED = {"code": -460, "message": "网络太拥挤，请稍候再试！"}
NETEASE_VERIFY = {"code": -462, "data": {"actionCode": "1102401", "verifyType": 50, "verifyId": 1, "verifyUrl": "",
                                         "blockText": "网络太拥挤，请稍候再试。", "verifyToken": None, "btnText": None,
                                         "orpheusUrl": None, "frontRuleIds": [1102401],
                                         "params": {"event_id": "00244094921266753577", "sign": "f10abd41"},
                                         "url": None},
                  "message": "网络太拥挤，请稍候再试。"}
NETEASE_BUSY = {"code": -447, "msg": "服务器忙碌，请稍后再试"}
NETEASE_TOO_FREQUENT = {"code": 405, "msg": "操作频繁，请稍候再试"}

# An HTML page where JSON was asked for: a block or captcha page.
NETEASE_BLOCK_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>网易云音乐</title></head>
<body><div class="n-for404"><p class="note s-fc3">很抱歉，你要查找的网页找不到</p></div></body></html>"""
NETEASE_VERIFY_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>安全验证</title></head>
<body><div id="captcha">请完成安全验证后继续访问</div></body></html>"""

# --- Jamendo -------------------------------------------------------------------------------------


def jamendo_track(track_id: int, name: str, artist: str, genres=(), instruments=(), vartags=(),
                  duration: int = 201, vocalinstrumental: str = "vocal") -> dict:
    return {
        "id": str(track_id), "name": name, "duration": duration, "artist_id": "7906", "artist_name": artist,
        "artist_idstr": artist.lower().replace(" ", "_"), "album_name": "Album", "album_id": "168453",
        "license_ccurl": "http://creativecommons.org/licenses/by-nc-nd/3.0/", "position": 1,
        "releasedate": "2018-03-12", "album_image": "https://usercontent.jamendo.com?type=album&id=168453&width=300",
        "audio": f"https://prod-1.storage.jamendo.com/?trackid={track_id}&format=mp31&from=app-test",
        "audiodownload": f"https://prod-1.storage.jamendo.com/download/track/{track_id}/mp32/",
        "prourl": "", "shorturl": f"https://jamen.do/t/{track_id}",
        "shareurl": f"https://www.jamendo.com/track/{track_id}", "waveform": "{\"peaks\":[0,1,2]}",
        "image": "https://usercontent.jamendo.com?type=album&id=168453&width=300&trackid=1",
        "musicinfo": {"vocalinstrumental": vocalinstrumental, "lang": "en", "gender": "male",
                      "acousticelectric": "electric", "speed": "medium",
                      "tags": {"genres": list(genres), "instruments": list(instruments), "vartags": list(vartags)}},
        "licenses": {"ccnc": "true", "ccnd": "true", "ccsa": "false"},
        "audiodownload_allowed": True,
    }


def jamendo_tracks(results: list[dict], next_url: str = "") -> dict:
    """GET /v3.0/tracks/?client_id=...&format=json&..."""
    return {"headers": {"status": "success", "code": 0, "error_message": "", "warnings": "",
                        "results_count": len(results), "next": next_url},
            "results": results}


JAMENDO_BAD_CLIENT = {"headers": {"status": "failed", "code": 5, "error_message": "Your credential is not authorized.",
                                  "warnings": "", "results_count": 0}, "results": []}

# --- LRCLIB ----------------------------------------------------------------------------------------


def lrclib_record(record_id: int, track: str, artist: str, duration: float, plain: str | None,
                  synced: str | None = None, instrumental: bool = False, album: str = "Album") -> dict:
    """One record of GET /api/search?track_name=...&artist_name=... (a JSON list of these)."""
    return {"id": record_id, "name": track, "trackName": track, "artistName": artist, "albumName": album,
            "duration": duration, "instrumental": instrumental, "plainLyrics": plain, "syncedLyrics": synced}


# --- A NetEase catalogue on the fake site ---------------------------------------------------------

def serve_netease(site, categories: dict, songs: list, lyrics, *, one_page_each: bool = False,
                  list_delay: float = 0.0) -> None:
    """The one set-up of a NetEase catalogue on `site` that the crawler tests share.

    categories: {category: [(playlist_id, name, tags, song_ids), ...]}, listed on one page, or one
    playlist a page (offset 0, 1, ...) with `one_page_each`; `list_delay` slows each listing down.
    songs: [(song_id, title, artists, duration_ms, popularity), ...], all answered by one detail route.
    lyrics: an LRC text for every song, or the replies of the lyrics route in turn.
    Routes a test adds afterwards with more parameters (id=..., cat=...) win over these.
    """
    from tests.crawler.fakesite import Reply

    for category, playlists in categories.items():
        listed = [netease_playlist(pid, name, tags) for pid, name, tags, _ in playlists]
        if one_page_each:
            for offset, playlist in enumerate(listed):
                site.route("/api/playlist/list", Reply(delay=list_delay, json=netease_playlist_list(
                    category, [playlist], more=offset < len(listed) - 1, total=len(listed))),
                    cat=category, offset=offset)
        else:
            site.route("/api/playlist/list", Reply(delay=list_delay, json=netease_playlist_list(category, listed)),
                       cat=category)
        for pid, name, tags, song_ids in playlists:
            site.route("/api/v6/playlist/detail", Reply(json=netease_playlist_detail(pid, name, tags, song_ids)),
                       id=pid)
    site.route("/api/song/detail/", Reply(json=netease_song_detail([netease_song(*song) for song in songs])))
    replies = [Reply(json=netease_lyric(lyrics))] if isinstance(lyrics, str) else list(lyrics)
    site.route("/api/song/lyric", *replies)
