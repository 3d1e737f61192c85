"""Language detection and segmentation (pure core, no Django)."""

import pytest

from recommender.lyrics.segment import cjk_share, detect_language, is_boundary, tokenize


@pytest.mark.parametrize("text, lang", [
    ("我今天非常开心", "zh"),
    ("I am very happy today", "en"),
    ("我爱你 baby baby", "zh"),  # a Chinese lyric with an English hook stays Chinese
    ("Love me tender, love me sweet 爱", "en"),  # one stray character does not make it Chinese
    ("", "en"),
    ("12345 !!!", "en"),
])
def test_it_detects_the_language_by_cjk_share(text, lang):
    assert detect_language(text) == lang


def test_it_measures_the_cjk_share_of_letters():
    assert cjk_share("开心") == 1.0
    assert cjk_share("happy") == 0.0
    assert cjk_share("开心ab") == 0.5
    assert cjk_share("") == 0.0


def test_it_segments_chinese_with_jieba():
    assert tokenize("我非常开心", "zh") == ["我", "非常", "开心"]
    assert tokenize("我不开心！", "zh") == ["我", "不", "开心", "!"]  # full-width punctuation normalised


def test_it_tokenizes_english_keeping_contractions_whole():
    assert tokenize("I don't feel HAPPY, ok?", "en") == ["i", "don't", "feel", "happy", ",", "ok", "?"]
    assert tokenize("I don’t", "en") == ["i", "don't"]  # curly apostrophe


def test_it_keeps_weibo_emoji_codes_and_drops_urls_and_mentions():
    tokens = tokenize("@某人 今天好累[泪] http://t.cn/abc", "zh")
    assert "[泪]" in tokens
    assert not any("http" in t or "某人" in t for t in tokens)


def test_it_detects_the_language_when_not_given():
    assert tokenize("very happy") == ["very", "happy"]
    assert tokenize("非常开心") == ["非常", "开心"]


def test_it_rejects_an_unknown_language():
    with pytest.raises(ValueError, match="unsupported language"):
        tokenize("bonjour", "fr")


def test_punctuation_is_a_clause_boundary():
    assert is_boundary(",") and is_boundary("!")
    assert not is_boundary("a") and not is_boundary("开") and not is_boundary("7")
