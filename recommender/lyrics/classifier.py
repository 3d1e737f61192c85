"""The shipped song classifier: one model per language (lexicon features, the hierarchical SVM of
svm.py, a per-class bias and optionally the encoder head), loaded once per process from
``models/song_classifier.joblib``; ``classify`` and ``classify_many`` answer from it (no Django).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .class_bias import apply_class_bias
from .segment import detect_language, normalise, tokenize
# Model files pickle their classes by this module's name (recommender.lyrics.classifier.PlattSVM,
# ...): every class that moved to svm.py stays importable here, so files written before it still load.
from .svm import FlatSVM, HierarchicalSVM, LexiconArgmax, Node, PlattSVM  # noqa: F401

MODEL_PATH = Path(__file__).resolve().parent / "models" / "song_classifier.joblib"

MAX_CHARS = 4000  # lyrics beyond this add nothing the first 4,000 characters did not say


@dataclass
class LanguageModel:
    """Features, classifier and per-class bias (tuned on dev) for one language, and optionally the
    encoder head (``encoder_head.ImageryRouter``) that hands imagery-like texts to the encoder's model."""

    features: object  # LyricsFeatures
    classifier: object  # HierarchicalSVM or FlatSVM
    class_bias: object = None  # np.ndarray aligned with classifier.classes_, or None
    encoder_head: object = None  # ImageryRouter, used only where the encoder loads

    @property
    def classes_(self):
        return self.classifier.classes_

    def predict_proba_prepared(self, prepared) -> np.ndarray:
        """Lexicon + SVM alone (the model without the encoder), columns in ``classes_`` order."""
        proba = self.classifier.predict_proba(self.features.transform_prepared(prepared))
        return apply_class_bias(proba, self.class_bias)

    def predict_proba_texts(self, texts, prepared, encoder="auto") -> tuple[np.ndarray, np.ndarray]:
        """(probabilities, their classes): with the encoder head where there is one and the encoder
        loads (``encoder``: "auto", or an encoder, or None for lexicon + SVM alone)."""
        from .encoder import get_encoder

        head = getattr(self, "encoder_head", None)  # models pickled before the head existed
        encoder = get_encoder() if encoder == "auto" and head is not None else encoder
        X = self.features.transform_prepared(prepared)
        proba = self.classifier.predict_proba(X)
        if head is None or encoder is None:
            return apply_class_bias(proba, self.class_bias), self.classifier.classes_
        no_emotion_word = self.features.emotion_mass(X) == 0
        if getattr(head, "routes_only_without_emotion_words", False):
            # The router never uses the embedding of a text whose emotion words the lexicon found, so
            # only the others are embedded (most lyrics name an emotion somewhere: they cost nothing).
            from .encoder import DIM

            embeddings = np.zeros((len(texts), DIM), dtype=np.float32)
            rows = np.flatnonzero(no_emotion_word)
            if len(rows):
                embeddings[rows] = encoder.embed([texts[i] for i in rows])
        else:
            embeddings = encoder.embed(texts)
        return (head.predict_proba(proba, self.classifier.classes_, embeddings, no_emotion_word, texts=texts),
                head.classes_)


@dataclass
class SongClassifier:
    """What ``models/song_classifier.joblib`` holds: one model per language plus its card."""

    models: dict  # lang -> LanguageModel
    card: dict

    def classify_many(self, texts, langs=None) -> list[tuple[str, float]]:
        """(emotion, probability) of the most probable emotion, per text."""
        results = []
        for proba in self.probabilities_many(texts, langs):
            emotion = max(proba, key=proba.get)  # ties: the earlier emotion, as argmax
            results.append((emotion, proba[emotion]))
        return results

    def probabilities_many(self, texts, langs=None) -> list[dict[str, float]]:
        """Every emotion's probability, per text ({emotion: p}, in ``EMOTIONS`` order, summing to 1;
        an emotion the language's model never saw in training is left out)."""
        texts = list(texts)
        if langs is None:
            langs = [None] * len(texts)
        langs = [lang or detect_language(text) for text, lang in zip(texts, langs)]
        results: list[dict[str, float] | None] = [None] * len(texts)
        for lang in set(langs):
            if lang not in self.models:
                raise ValueError(f"no model for language {lang!r}; have {sorted(self.models)}")
            indexes = [i for i, text_lang in enumerate(langs) if text_lang == lang]
            model = self.models[lang]
            cut = [texts[i][:MAX_CHARS] for i in indexes]
            proba, classes = model.predict_proba_texts(cut, [(normalise(text), tokenize(text, lang)) for text in cut])
            classes = [str(c) for c in classes]
            for row, i in enumerate(indexes):
                results[i] = {c: float(proba[row, j]) for j, c in enumerate(classes)}
        return results  # type: ignore[return-value]


_model: SongClassifier | None = None
_model_lock = threading.Lock()


def load_model(path: Path | str | None = None) -> SongClassifier:
    """The shipped classifier (``path`` None) loaded once per process, or the one at ``path``."""
    global _model
    import joblib

    if path is not None:
        return joblib.load(path)
    if _model is None:
        with _model_lock:
            if _model is None:
                if not MODEL_PATH.exists():
                    raise FileNotFoundError(f"no song classifier at {MODEL_PATH}: run python -m "
                                            "recommender.lyrics.train")
                _model = joblib.load(MODEL_PATH)
    return _model


def reset_model() -> None:
    """Forget the loaded model (after retraining, so the next call reads the new file)."""
    global _model
    _model = None


def classify(text: str, lang: str | None = None) -> tuple[str, float]:
    """The emotion of ``text`` and its probability, from the shipped classifier."""
    from .segment import check_language

    return load_model().classify_many([text], [check_language(lang, normalise(text))])[0]


def classify_many(texts, langs=None) -> list[tuple[str, float]]:
    """``classify`` for many texts at once (one vectorised pass per language)."""
    return load_model().classify_many(texts, langs)
