"""Features for the song classifier: lexicon values plus TF-IDF word n-grams (pure Python: no Django).

Each text is segmented once (jieba for Chinese, a regular expression for English); the same tokens
feed the lexicon (``lexicon.analyze_tokens``) and the word n-grams. Chinese can add character
n-grams, which cover words that jieba splits differently in different contexts.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer

from .labels import EMOTIONS
from .lexicon import Analysis, analyze_tokens
from .segment import check_language, is_boundary, normalise, tokenize

KEEP_PUNCTUATION = frozenset("!?")
LEXICON_FEATURES = ([f"log1p_{e}" for e in EMOTIONS] + [f"share_{e}" for e in EMOTIONS]
                    + ["tanh_polarity", "log1p_positive", "log1p_negative", "any_hit", "log1p_negations",
                       "log1p_degrees", "log_words"])


def lexicon_vector(analysis: Analysis) -> list[float]:
    total = sum(analysis.scores) or 1.0
    return ([math.log1p(s) for s in analysis.scores] + [s / total for s in analysis.scores]
            + [math.tanh(analysis.polarity / 2), math.log1p(analysis.positive), math.log1p(analysis.negative),
               1.0 if analysis.hits else 0.0, math.log1p(analysis.negations), math.log1p(analysis.degrees),
               math.log1p(analysis.words) / 5])


def ngram_tokens(tokens: list[str]) -> list[str]:
    """The tokens that n-grams are made of: words, plus ! and ?."""
    return [t for t in tokens if not is_boundary(t) or t in KEEP_PUNCTUATION]


class LyricsFeatures(BaseEstimator, TransformerMixin):
    """Raw texts of one language -> sparse [TF-IDF word n-grams | char n-grams | lexicon values]."""

    def __init__(self, lang: str = "en", ngram_range=(1, 2), max_features: int | None = 50_000, min_df: int = 2,
                 char_ngram_range=None, char_max_features: int | None = 50_000, lexicon_weight: float = 1.0):
        self.lang = lang
        self.ngram_range = ngram_range
        self.max_features = max_features
        self.min_df = min_df
        self.char_ngram_range = char_ngram_range
        self.char_max_features = char_max_features
        self.lexicon_weight = lexicon_weight

    # Segmenting is the slow part: callers that transform the same texts repeatedly (training, with
    # several settings) segment once with ``prepare`` and pass the result to ``fit_prepared`` and
    # ``transform_prepared``.
    def prepare(self, texts) -> list[tuple[str, list[str]]]:
        lang = check_language(self.lang, "")
        return [(normalise(t), tokenize(t, lang)) for t in texts]

    def fit(self, texts, y=None):
        return self.fit_prepared(self.prepare(texts))

    def transform(self, texts):
        return self.transform_prepared(self.prepare(texts))

    def fit_prepared(self, prepared):
        # With a callable analyzer TfidfVectorizer makes no n-grams itself: WordNgrams does.
        self.words_ = TfidfVectorizer(analyzer=WordNgrams(self.ngram_range), min_df=self.min_df,
                                      max_features=self.max_features, sublinear_tf=True, dtype=np.float32)
        self.words_.fit([tokens for _text, tokens in prepared])
        if self.char_ngram_range:
            self.chars_ = TfidfVectorizer(analyzer="char", ngram_range=self.char_ngram_range, min_df=self.min_df,
                                          max_features=self.char_max_features, sublinear_tf=True,
                                          lowercase=True, dtype=np.float32)
            self.chars_.fit([text for text, _tokens in prepared])
        else:
            self.chars_ = None
        return self

    def transform_prepared(self, prepared):
        blocks = [self.words_.transform([tokens for _text, tokens in prepared])]
        if self.chars_ is not None:
            blocks.append(self.chars_.transform([text for text, _tokens in prepared]))
        if self.lexicon_weight:
            dense = np.asarray([lexicon_vector(analyze_tokens(tokens)) for _text, tokens in prepared],
                               dtype=np.float32)
            blocks.append(sparse.csr_matrix(dense * self.lexicon_weight))
        return sparse.hstack(blocks, format="csr", dtype=np.float32)

    def emotion_mass(self, X) -> np.ndarray:
        """Per row of ``transform_prepared``'s output, the lexicon's emotional mass (the six emotions
        other than neutral; 0 where the text has no emotion word). Needs the lexicon block."""
        if not self.lexicon_weight:
            raise ValueError("these features have no lexicon values")
        first = X.shape[1] - len(LEXICON_FEATURES)  # the lexicon block comes last, log1p_* first
        block = X[:, first:first + len(EMOTIONS) - 1]
        return np.asarray(block.sum(axis=1)).ravel() / self.lexicon_weight

    def analyses(self, prepared) -> list[Analysis]:
        return [analyze_tokens(tokens) for _text, tokens in prepared]


class WordNgrams:
    """Token list -> its n-grams joined by a space (picklable, unlike a lambda)."""

    def __init__(self, ngram_range=(1, 2)):
        self.ngram_range = tuple(ngram_range)

    def __call__(self, tokens):
        tokens = ngram_tokens(tokens)
        low, high = self.ngram_range
        grams = list(tokens) if low == 1 else []
        for n in range(max(2, low), high + 1):
            grams += [" ".join(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]
        return grams
