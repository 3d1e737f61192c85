"""Song emotion from lyrics (paper section 3.1): segment, lexicon, hierarchical SVM. No Django here.

``analyze(text, lang=None)``: the lexicon's seven emotion intensities plus a signed ``polarity``.
``classify(text, lang=None)``: ``(emotion, probability)`` from the shipped classifier.
``classify_many(texts, langs=None)``: the same for many texts in one pass.
"""

from .labels import EMOTIONS
from .lexicon import analyze
from .segment import detect_language, tokenize


def classify(text: str, lang: str | None = None) -> tuple[str, float]:
    """The emotion of ``text`` and its probability, from the shipped classifier (loaded once)."""
    from .classifier import classify as _classify

    return _classify(text, lang)


def classify_many(texts, langs=None) -> list[tuple[str, float]]:
    """``classify`` for many texts at once."""
    from .classifier import classify_many as _classify_many

    return _classify_many(texts, langs)


__all__ = ["EMOTIONS", "analyze", "classify", "classify_many", "detect_language", "tokenize"]
