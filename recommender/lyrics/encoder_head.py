"""The encoder's place in the song classifier (no Django).

Shipped: ``ImageryRouter``. A text without emotion words that reads like imagery (a domain model on
the embedding) and that the embedding model is sure about gets the embedding model's answer; every
other text keeps the lexicon + SVM's. Routing rather than blending keeps the SVM's figures on the
texts that name their emotion (docs/lyrics-model.md, "The encoder").

The earlier head, never shipped (it lost to the SVM on dev): ``EncoderHead``, a multinomial logistic regression fitted
on dev over the SVM's and the embedding model's probabilities (each also multiplied by "the lexicon
found no emotion word"), with per-class biases tuned on dev for macro-F1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .class_bias import apply_class_bias, tune_class_bias
from .labels import EMOTIONS

TRAIN_PER_CLASS = 500  # embedded training texts per class and language
DEV_SAMPLE = {"en": 1000, "zh": 600}  # embedded dev texts (random, the natural class mix)
TEST_SAMPLE = {"en": 1500, "zh": 900}  # embedded test texts (random; None: the whole split)
EMBEDDING_C = (3.0,)  # of 0.3, 3 and 30, best on English dev (docs/lyrics-model.md)


def sample_indexes(labels, per_class: int | None = None, total: int | None = None, seed: int = 0) -> np.ndarray:
    """Sorted row indexes: at most ``per_class`` of each label, or ``total`` at random (None: all)."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    if per_class is not None:
        picked = []
        for label in EMOTIONS:
            rows = np.flatnonzero(labels == label)
            picked.append(rng.choice(rows, size=min(per_class, len(rows)), replace=False) if len(rows) else rows)
        return np.sort(np.concatenate(picked))
    if total is None or total >= len(labels):
        return np.arange(len(labels))
    return np.sort(rng.choice(len(labels), size=total, replace=False))


def _aligned(proba: np.ndarray, classes) -> np.ndarray:
    """Columns in ``EMOTIONS`` order (an emotion a model never saw gets a tiny probability)."""
    out = np.full((proba.shape[0], len(EMOTIONS)), 1e-6)
    for j, c in enumerate(classes):
        out[:, EMOTIONS.index(str(c))] = proba[:, j]
    return out / out.sum(axis=1, keepdims=True)


def stack_features(svm_proba, svm_classes, embedding_proba, embedding_classes, no_emotion_word) -> np.ndarray:
    log_svm = np.log(np.clip(_aligned(svm_proba, svm_classes), 1e-6, 1.0))
    log_embedding = np.log(np.clip(_aligned(embedding_proba, embedding_classes), 1e-6, 1.0))
    gate = np.asarray(no_emotion_word, dtype=np.float64).reshape(-1, 1)
    return np.hstack([log_svm, log_embedding, gate * log_svm, gate * log_embedding, gate])


@dataclass
class EncoderHead:
    """The embedding model, the combiner and the combiner's per-class biases."""

    embedding_model: object  # LogisticRegression on the encoder's vectors
    combiner: object  # LogisticRegression on stack_features
    class_bias: object = None

    @property
    def classes_(self):
        """The combiner's classes in ``EMOTIONS`` order (scikit-learn sorts them by name)."""
        return np.array([e for e in EMOTIONS if e in set(self.combiner.classes_.tolist())])

    def predict_proba(self, svm_proba, svm_classes, embeddings, no_emotion_word, texts=None) -> np.ndarray:
        """Probabilities with columns in ``classes_`` order (``texts``: unused, the router's signature)."""
        features = stack_features(svm_proba, svm_classes, self.embedding_model.predict_proba(embeddings),
                                  self.embedding_model.classes_, no_emotion_word)
        proba = apply_class_bias(self.combiner.predict_proba(features), self.class_bias)
        order = [self.combiner.classes_.tolist().index(c) for c in self.classes_]
        return proba[:, order]


def fit_embedding_model(X, y, X_dev, y_dev, c_grid=EMBEDDING_C, sample_weight=None):
    """Logistic regression on embeddings; C picked by dev macro-F1. Returns (model, C, dev macro-F1).
    ``sample_weight``: per-row weights (the imagery training lines count more than a Reddit comment)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score

    best = None
    for C in c_grid:
        model = LogisticRegression(C=C, class_weight="balanced", max_iter=2000).fit(X, y, sample_weight=sample_weight)
        score = f1_score(y_dev, model.predict(X_dev), average="macro", zero_division=0)
        if best is None or score > best[2]:
            best = (model, C, score)
    return best


def fit_head(embedding_model, svm_proba_dev, svm_classes, X_dev, no_word_dev, y_dev, C: float = 0.3,
             seed: int = 0, embedding_proba_dev=None, sample_weight=None) -> tuple[EncoderHead, np.ndarray]:
    """Fit the combiner and its biases on dev; also return 5-fold out-of-fold dev predictions (biases
    tuned inside each fold), so the dev figure is not the combiner's own training data.

    ``embedding_proba_dev``: the embedding model's probabilities for these rows where they must not come
    from ``embedding_model`` itself (rows it was trained on get out-of-fold ones); ``sample_weight``:
    per-row weights of the combiner's fit."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold

    y_dev = np.asarray(y_dev)
    if embedding_proba_dev is None:
        embedding_proba_dev = embedding_model.predict_proba(X_dev)
    weight = np.ones(len(y_dev)) if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    features = stack_features(svm_proba_dev, svm_classes, embedding_proba_dev, embedding_model.classes_, no_word_dev)

    def fit(rows):
        combiner = LogisticRegression(C=C, class_weight="balanced", max_iter=2000).fit(
            features[rows], y_dev[rows], sample_weight=weight[rows])
        bias = tune_class_bias(combiner.predict_proba(features[rows]), y_dev[rows], combiner.classes_)
        return combiner, bias

    out_of_fold = np.empty(len(y_dev), dtype=object)
    folds = StratifiedKFold(min(5, int(np.unique(y_dev, return_counts=True)[1].min())), shuffle=True,
                            random_state=seed)
    for fit_rows, held_rows in folds.split(features, y_dev):
        combiner, bias = fit(fit_rows)
        proba = apply_class_bias(combiner.predict_proba(features[held_rows]), bias)
        out_of_fold[held_rows] = combiner.classes_[proba.argmax(axis=1)]
    combiner, bias = fit(np.arange(len(y_dev)))
    return EncoderHead(embedding_model, combiner, bias), out_of_fold.astype(str)


@dataclass
class ImageryRouter:
    """The shipped form of the encoder head since the training imagery (issue #23).

    A text goes to the embedding model (trained on the corpus sample and the imagery training lines)
    when the lexicon finds no emotion word in it and the domain model (imagery lines against corpus
    texts, on the embedding) puts it on the imagery side with at least ``threshold``; every other text
    keeps the lexicon + SVM answer, dev-tuned biases included. Routing instead of blending keeps the
    SVM's figures on texts that name their emotion or read like the corpus.
    """

    embedding_model: object  # LogisticRegression on the encoder's vectors, 7 emotions
    domain_model: object  # DomainModel (or, pickled before it, a LogisticRegression on the vectors)
    svm_bias: object  # the LanguageModel's class_bias (aligned with the SVM's classes)
    threshold: float = 0.5
    # ... and only where the embedding model is at least this sure of its emotion: a corpus text that
    # merely reads like imagery gets an unsure answer there, and keeps the SVM's.
    min_confidence: float = 0.0

    classes_ = np.array(EMOTIONS)
    routes_only_without_emotion_words = True  # LanguageModel embeds only the texts that can be routed

    def routed(self, embeddings, no_emotion_word, embedding_proba=None, texts=None) -> np.ndarray:
        if embedding_proba is None:
            embedding_proba = self.embedding_model.predict_proba(embeddings)
        no_emotion_word = np.asarray(no_emotion_word, dtype=bool)
        probability = np.zeros(len(no_emotion_word))
        rows = np.flatnonzero(no_emotion_word)  # the only texts that can be routed: the rest are not read
        if len(rows):
            probability[rows] = imagery_probability(self.domain_model, np.asarray(embeddings)[rows],
                                                    None if texts is None else [texts[i] for i in rows])
        return route_mask(probability, no_emotion_word, embedding_proba, self.threshold,
                          getattr(self, "min_confidence", 0.0))  # routers pickled before the gate

    def predict_proba(self, svm_proba, svm_classes, embeddings, no_emotion_word, texts=None) -> np.ndarray:
        """Probabilities with columns in ``EMOTIONS`` order (``texts``: needed by a domain model that
        reads characters, ``DomainModel``)."""
        out = _aligned(apply_class_bias(np.asarray(svm_proba), self.svm_bias), svm_classes)
        embedding_proba = _aligned(self.embedding_model.predict_proba(embeddings), self.embedding_model.classes_)
        rows = self.routed(embeddings, no_emotion_word, embedding_proba, texts)
        out[rows] = embedding_proba[rows]
        return out


def route_mask(imagery_probability, no_emotion_word, embedding_proba, threshold: float, min_confidence: float):
    """Which texts the router hands to the embedding model (the rule, for serving and for the search
    of its settings alike): no emotion word, on the imagery side, and the embedding model sure enough."""
    return ((np.asarray(imagery_probability) >= threshold) & np.asarray(no_emotion_word, dtype=bool)
            & (np.asarray(embedding_proba).max(axis=1) >= min_confidence))


def fit_domain_model(X_corpus, X_imagery, C: float = 1.0):
    """Imagery lines (1) against corpus texts (0), classes balanced."""
    from sklearn.linear_model import LogisticRegression

    X = np.vstack([X_corpus, X_imagery])
    y = np.concatenate([np.zeros(len(X_corpus), dtype=int), np.ones(len(X_imagery), dtype=int)])
    return LogisticRegression(C=C, class_weight="balanced", max_iter=2000).fit(X, y)


DOMAIN_KINDS = ("embedding", "characters", "both")


@dataclass
class DomainModel:
    """How much a text reads like imagery, from its characters, its embedding, or both.

    In Chinese, e5's vectors put Weibo posts without emotion words close to imagery lines, while their
    characters still tell them apart (a post's 哈哈, 转发, 疫情 against a scene's 窗, 灯, 雨); ``both`` takes
    the geometric mean of the two models' probabilities, so a text must read like imagery to each."""

    kind: str  # one of DOMAIN_KINDS
    embedding_model: object = None  # fit_domain_model's LogisticRegression on the vectors
    vectorizer: object = None  # TfidfVectorizer over character 1-2-grams of the normalised text
    character_model: object = None  # LogisticRegression on the vectorizer's output

    def imagery_probability(self, embeddings, texts) -> np.ndarray:
        parts = []
        if self.kind in ("embedding", "both"):
            parts.append(self.embedding_model.predict_proba(embeddings)[:, 1])
        if self.kind in ("characters", "both"):
            if texts is None:
                raise ValueError("a character domain model needs the texts")
            from .segment import normalise

            parts.append(self.character_model.predict_proba(self.vectorizer.transform([normalise(t) for t in texts]))[:, 1])
        return np.sqrt(parts[0] * parts[1]) if len(parts) == 2 else parts[0]


def fit_character_domain_model(corpus_texts, imagery_texts, C: float = 10.0):
    """(vectorizer, model): imagery lines (1) against corpus texts (0) on character 1-2-grams. Cheap
    enough to learn from every corpus training text that could be routed, not a sample."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    from .segment import normalise

    texts = [normalise(t) for t in list(corpus_texts) + list(imagery_texts)]
    vectorizer = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    y = np.concatenate([np.zeros(len(corpus_texts), dtype=int), np.ones(len(imagery_texts), dtype=int)])
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=3000).fit(vectorizer.fit_transform(texts), y)
    return vectorizer, model


def imagery_probability(domain_model, embeddings, texts=None) -> np.ndarray:
    """P(imagery) from a ``DomainModel`` or from the bare embedding LogisticRegression of routers
    pickled before it."""
    if isinstance(domain_model, DomainModel):
        return domain_model.imagery_probability(embeddings, texts)
    return domain_model.predict_proba(embeddings)[:, 1]
