"""Language detection and word segmentation for lyrics (pure Python: no Django).

Chinese goes through jieba (a private ``jieba.Tokenizer`` so that nothing here changes the global
one other code may use); English through a small regular expression that keeps contractions such as
"don't" whole, so that negation can see them. Punctuation survives as one-character tokens: the
lexicon treats them as clause boundaries and the n-gram features drop all but ``!`` and ``?``.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata

LANGUAGES = ("zh", "en")

# A text is Chinese when at least this share of its letters are CJK ideographs. Characters, not
# words: one Chinese word is about two characters and one English word about five, so a Chinese lyric
# with an English hook ("我爱你 baby baby") still counts as Chinese.
CJK_SHARE_FOR_CHINESE = 0.2

_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN = re.compile(r"[A-Za-z]")
# Weibo/Reddit debris that carries no emotion of its own.
_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"//@[^:：\s]{1,30}[:：]?|@[\w\-\u4e00-\u9fff]{1,30}")
# Weibo emoji codes such as [泪] or [哈哈] stay one token; so does Reddit's [NAME].
_BRACKET_CODE = re.compile(r"\[[^\[\]\s]{1,8}\]")
_EN_TOKEN = re.compile(r"\[[a-z]+\]|[a-z0-9]+(?:['\-][a-z]+)*|[!?]|[^\sa-z0-9]")
_SPACE = re.compile(r"\s+")

_jieba = None
_jieba_lock = threading.Lock()


def normalise(text: str) -> str:
    """NFKC (full-width punctuation becomes ASCII), curly apostrophes straightened, debris removed."""
    text = unicodedata.normalize("NFKC", text or "")
    text = text.replace("\u2019", "'").replace("\u2018", "'")
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    return text


def cjk_share(text: str) -> float:
    """CJK ideographs / (CJK ideographs + Latin letters); 0.0 for a text with neither."""
    cjk = len(_CJK.findall(text or ""))
    latin = len(_LATIN.findall(text or ""))
    return cjk / (cjk + latin) if cjk + latin else 0.0


def detect_language(text: str) -> str:
    """"zh" when CJK characters make up at least ``CJK_SHARE_FOR_CHINESE`` of the letters, else "en"."""
    return "zh" if cjk_share(text) >= CJK_SHARE_FOR_CHINESE else "en"


def check_language(lang: str | None, text: str) -> str:
    if lang is None:
        return detect_language(text)
    lang = lang.lower().split("-")[0].split("_")[0]
    if lang not in LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}: expected one of {', '.join(LANGUAGES)} or None")
    return lang


def _tokenizer():
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                import jieba

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _jieba = tokenizer
    return _jieba


def tokenize(text: str, lang: str | None = None) -> list[str]:
    """Words of ``text`` in order, lower-cased, with punctuation as single-character tokens."""
    text = normalise(text)
    lang = check_language(lang, text)
    if lang == "en":
        return _EN_TOKEN.findall(text.lower())
    tokens: list[str] = []
    cut = _tokenizer().lcut
    position = 0
    for match in _BRACKET_CODE.finditer(text):
        tokens += _clean(cut(text[position:match.start()]))
        tokens.append(match.group().lower())
        position = match.end()
    tokens += _clean(cut(text[position:]))
    return tokens


def _clean(pieces: list[str]) -> list[str]:
    out = []
    for piece in pieces:
        piece = _SPACE.sub("", piece).lower()
        if piece:
            out.append(piece)
    return out


def is_boundary(token: str) -> bool:
    """Punctuation (and nothing else) ends a clause: negation and degree do not reach across it."""
    return len(token) == 1 and not token.isalnum() and not _CJK.match(token)
