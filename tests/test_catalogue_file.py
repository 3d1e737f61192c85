"""Checks on the committed starter catalogue (recommender/catalogue/songs.jsonl.gz + tags.json).

Standard library only, no Django. Rebuild the files with `python scripts/build_catalogue.py`.
"""

import gzip
import json
import re
import unicodedata
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CATALOGUE = Path(__file__).resolve().parent.parent / "recommender" / "catalogue"
EMOTIONS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
KEYS = {"source", "external_id", "title", "artist", "tags", "url", "embed_url", "emotions",
        "popularity", "duration"}
KINDS = {"mood", "genre", "scene", "language", "era", "instrument", "energy"}
URL_PREFIX = {
    "netease": ("https://music.163.com/song?id=", "https://music.163.com/outchain/player?type=2&id="),
    "deezer": ("https://www.deezer.com/track/", "https://widget.deezer.com/widget/auto/track/"),
    "spotify": ("https://open.spotify.com/track/", "https://open.spotify.com/embed/track/"),
}
MIN_PER_EMOTION = 200


def norm_text(s):
    """Same normaliser as scripts/build_catalogue.py (NFKC, casefold, letters and digits only)."""
    s = unicodedata.normalize("NFKC", s).casefold()
    n = re.sub(r"[\W_]+", "", s)
    return n or s.strip()


@pytest.fixture(scope="module")
def songs():
    with gzip.open(CATALOGUE / "songs.jsonl.gz", "rt", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


@pytest.fixture(scope="module")
def tags():
    return json.loads((CATALOGUE / "tags.json").read_text(encoding="utf-8"))


def test_size_is_moderate(songs):
    assert 1000 <= len(songs) <= 20000
    assert (CATALOGUE / "songs.jsonl.gz").stat().st_size < 2 * 1024 * 1024


def test_keys_and_types(songs):
    for s in songs:
        assert KEYS <= set(s) <= KEYS | {"playlists"}, s
        assert s["source"] in URL_PREFIX
        for k in ("external_id", "title", "artist"):
            assert isinstance(s[k], str) and s[k].strip(), s
        assert isinstance(s["tags"], list) and s["tags"], s
        assert len(set(s["tags"])) == len(s["tags"]), s
        assert all(isinstance(t, str) and t for t in s["tags"]), s
        assert s["popularity"] is None or (isinstance(s["popularity"], int) and 0 <= s["popularity"] <= 100)
        assert s["duration"] is None or (isinstance(s["duration"], (int, float)) and s["duration"] > 0)


def test_netease_songs_carry_their_playlist_memberships(songs):
    """The ids of the NetEase playlists holding a song: the ranking's co-occurrence signal."""
    with_lists = [s for s in songs if "playlists" in s]
    assert len(with_lists) >= 1000
    shared = Counter(p for s in with_lists for p in s["playlists"])
    assert sum(n > 1 for n in shared.values()) >= 100  # playlists that link songs, not singletons
    for s in with_lists:
        assert s["source"] == "netease", s
        lists = s["playlists"]
        assert lists and lists == sorted(set(lists)) and all(isinstance(p, int) and p > 0 for p in lists), s


def test_each_emotion_has_enough_songs(songs):
    counts = Counter(e for s in songs for e in s["emotions"])
    for emo in EMOTIONS:
        assert counts[emo] >= MIN_PER_EMOTION, (emo, counts[emo])


def test_confidences(songs):
    for s in songs:
        assert isinstance(s["emotions"], dict) and s["emotions"], s
        for emo, conf in s["emotions"].items():
            assert emo in EMOTIONS, s
            assert isinstance(conf, (int, float)) and 0 < conf <= 1, s


def test_no_duplicate_ids(songs):
    ids = Counter((s["source"], s["external_id"]) for s in songs)
    assert [k for k, n in ids.items() if n > 1] == []


def test_no_duplicate_title_artist(songs):
    keys = Counter((norm_text(s["title"]), norm_text(s["artist"])) for s in songs)
    assert [k for k, n in keys.items() if n > 1] == []


def test_tags_in_vocabulary(songs, tags):
    missing = {t for s in songs for t in s["tags"]} - set(tags)
    assert missing == set()


def test_vocabulary_shape(tags):
    assert list(tags) == sorted(tags)
    for slug, entry in tags.items():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", slug), slug
        assert set(entry) == {"en", "zh", "kind", "from"}, slug
        assert entry["kind"] in KINDS, slug
        assert entry["en"] and entry["zh"], slug
        assert entry["from"] == sorted(entry["from"]), slug
    # the paper's three tags keep its names
    assert "netease:轻音乐" in tags["absolute-music"]["from"]
    assert "netease:钢琴" in tags["keyboard"]["from"]
    assert "netease:网络歌曲" in tags["internet"]["from"]


def test_urls(songs):
    for s in songs:
        page, embed = URL_PREFIX[s["source"]]
        for url, prefix in ((s["url"], page), (s["embed_url"], embed)):
            parts = urlsplit(url)
            assert parts.scheme == "https" and parts.netloc and " " not in url, url
            assert url.startswith(prefix) and s["external_id"] in url, url
        if s["source"] in ("netease", "deezer"):
            assert s["external_id"].isdigit(), s
        else:
            assert re.fullmatch(r"[0-9A-Za-z]{22}", s["external_id"]), s


def test_sorted_deterministic_order(songs):
    order = {"netease": 0, "spotify": 1, "deezer": 2}

    def key(s):
        i = s["external_id"]
        return (order[s["source"]],) + ((len(i), i) if i.isdigit() else (0, i))

    assert [key(s) for s in songs] == sorted(key(s) for s in songs)


def test_the_rules_file_is_the_catalogue_rules():
    """rules.json (read by the review queue to explain catalogue labels) is what the rules module says."""
    from recommender.catalogue import rules

    written = json.loads((CATALOGUE / "rules.json").read_text(encoding="utf-8"))
    assert written == json.loads(json.dumps(rules.rules_table()))
    assert len(written["netease"]) == len(rules.NETEASE_RULES) and len(written["sectors"]) == len(rules.VA_SECTORS)


def test_the_tags_file_holds_every_netease_token_of_the_tag_rules(tags):
    from recommender.catalogue.tags import NETEASE_TAGS, VOCAB

    assert set(tags) == set(VOCAB)
    for token, slug in NETEASE_TAGS.items():
        assert f"netease:{token}" in tags[slug]["from"]


def test_the_catalogue_rules_use_the_emotion_cores_names():
    from recommender.catalogue.rules import EMOTIONS as RULE_EMOTIONS
    from recommender.emotion.labels import EMOTIONS as FACE_EMOTIONS

    assert RULE_EMOTIONS == EMOTIONS == tuple(FACE_EMOTIONS)


def test_the_build_script_and_its_rules_need_only_the_standard_library():
    """scripts/build_catalogue.py runs in a bare Python (-S: no site-packages at all): it and everything it
    imports are stdlib or the project's standard-library modules (recommender/catalogue/, scripts/)."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    code = ("import sys; sys.path.insert(0, sys.argv[1]); import scripts.build_catalogue; "
            "print(*sorted({m.split('.')[0] for m in sys.modules} - set(sys.stdlib_module_names) - {'__main__'}))")
    out = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(root)],
                         capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["recommender", "scripts"]


def test_the_crawler_labels_playlists_with_the_catalogue_rules():
    """weight * (0.5 + 0.5 * share), the strongest rule per emotion, below MIN_CONF dropped; a rule's
    "without" tags stop it on that playlist (rock + cheerful is not angry rock)."""
    from crawler.vocabulary import emotions_from_slugs, emotions_from_token_sets

    assert emotions_from_token_sets([["快乐"], ["伤感", "孤独"]]) == {"happy": 0.75, "sad": 0.75}
    assert emotions_from_token_sets([["摇滚"], ["摇滚", "快乐"]]) == {"angry": 0.375, "happy": 0.75}
    assert emotions_from_token_sets([["怀旧"], ["华语"], ["华语"], ["华语"]]) == {}  # 0.3 * 0.625 < 0.2
    assert emotions_from_token_sets([]) == {}
    assert emotions_from_slugs(["metal", "chinese"]) == {"angry": 1.0, "disgust": 0.6}
