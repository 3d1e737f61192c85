"""The readers of NetEase's answers (crawler/spiders/netease_fields.py) on recorded shapes, alone."""

import pytest

from crawler.spiders import netease_fields as fields
from tests.crawler.recorded import NETEASE_NO_LYRIC, NETEASE_PURE_MUSIC, netease_lyric, netease_song, netease_song_v3


@pytest.mark.parametrize("value, expected", [(42, "42"), (" 42 ", "42"), ("4x", None), (0, None), (-3, None),
                                             (True, None), (None, None), (4.0, None)])
def test_an_id_is_a_positive_integer_possibly_sent_as_a_string(value, expected):
    assert fields.netease_id(value) == expected


def test_the_status_code_of_a_non_object_answer_is_its_type():
    assert fields.status_code({"code": -460}) == -460
    assert fields.status_code([1, 2]) == "list"


def test_a_playlist_keeps_its_own_tags_or_else_the_listings():
    assert fields.playlist_tags({"tags": [" 快乐", "华语", "快乐", "", 7]}, ["伤感"]) == ["华语", "快乐"]
    assert fields.playlist_tags({"tags": None}, ["伤感", " 伤感 "]) == ["伤感"]
    assert fields.playlist_tracks({"trackIds": [{"id": 1}]}) == [{"id": 1}]
    assert fields.playlist_tracks({"tracks": [{"id": 2}]}) == [{"id": 2}]  # older answers
    assert fields.playlist_tracks({"trackIds": "1,2"}) is None


@pytest.mark.parametrize("record", [netease_song(11, " 富士山下 ", ["陈奕迅", "Other"], 259000, 99.6),
                                    netease_song_v3(11, " 富士山下 ", ["陈奕迅", "Other"], 259000, 99.6)],
                         ids=["old shape", "ar/al/dt/pop shape"])
def test_both_song_detail_shapes_give_the_same_item(record):
    item = fields.song_item("netease", "11", record, [["华语", "伤感"]])
    assert (item["title"], item["artist"], item["duration"], item["popularity"]) == ("富士山下", "陈奕迅 / Other",
                                                                                      259.0, 100)
    assert item["url"] == "https://music.163.com/song?id=11" and item["playlist_tags"] == [["华语", "伤感"]]
    assert "id=11" in item["embed_url"] and item["album"]


def test_a_song_without_usable_fields_keeps_them_empty():
    item = fields.song_item("netease", "5", {"name": None, "ar": "x", "dt": 0, "pop": "hot"}, [])
    assert (item["title"], item["artist"], item["album"], item["duration"], item["popularity"]) == (
        None, "", "", None, None)


def test_a_lyrics_answer_is_found_instrumental_or_none():
    assert fields.lyrics_answer(netease_lyric("[00:12.34]谁都只得那双手\n")) == ("found", "谁都只得那双手")
    assert fields.lyrics_answer(NETEASE_PURE_MUSIC) == ("instrumental", "")
    assert fields.lyrics_answer(NETEASE_NO_LYRIC) == ("instrumental", "")  # nolyric: NetEase marks pure music
    assert fields.lyrics_answer({"code": 200, "lrc": {"lyric": ""}}) == ("none", "")
