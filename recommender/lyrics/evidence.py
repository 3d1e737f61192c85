"""What the lexicon finds in a song's lyrics, as curators read it: pure, no Django.

Stored as a song's ``lyrics_features`` when it is labelled (recommender.labelling) and shown in the
admin's review queue.
"""

from __future__ import annotations

from .labels import EMOTIONS
from .lexicon import analyze_tokens
from .segment import tokenize


def lyrics_evidence(lyrics: str) -> dict | None:
    """The classifier's lexicon features of ``lyrics``, before scaling: the emotion intensities above
    zero, highest first, the polarity and the counts of emotion words, negations, degree words and
    words. None without lyrics."""
    from .classifier import MAX_CHARS  # lazily: the classifier module brings scikit-learn

    if not (lyrics or "").strip():
        return None
    analysis = analyze_tokens(tokenize(lyrics[:MAX_CHARS]))
    intensities = {e: round(v, 2) for e, v in zip(EMOTIONS, analysis.scores) if v > 0}
    return {"intensities": dict(sorted(intensities.items(), key=lambda item: (-item[1], EMOTIONS.index(item[0])))),
            "polarity": round(analysis.polarity, 2), "hits": analysis.hits, "negations": analysis.negations,
            "degrees": analysis.degrees, "words": analysis.words}
