"""Training the encoder head and measuring it, a step of ``python -m recommender.lyrics.train``.

Runs after a language's SVM is trained. Embeds a per-class subsample of train and random subsamples
of dev and test (the vectors are cached in ``runs/``, so a second training embeds nothing), fits
``encoder_head``, and reports on the same rows: the lexicon + SVM alone, the embedding model alone and
the two combined, on the test subsample and on the imagery set (``evaluation/imagery.tsv``). The
head is attached to the model only if it beats the SVM alone on dev (out-of-fold).
"""

from __future__ import annotations

import csv
import time
from pathlib import Path

import numpy as np

from .data import Corpus
from .encoder_head import (DEV_SAMPLE, TEST_SAMPLE, TRAIN_PER_CLASS, fit_embedding_model, fit_head,
                           sample_indexes)
from .labels import EMOTIONS
from .segment import normalise, tokenize

IMAGERY_PATH = Path(__file__).resolve().parent / "evaluation" / "imagery.tsv"


def load_imagery(lang: str, path: Path | str = IMAGERY_PATH) -> tuple[list[str], list[str]]:
    """The imagery lines of ``lang`` and their emotions (written for evaluation, never trained on)."""
    with open(path, encoding="utf-8", newline="") as handle:
        rows = [row for row in csv.DictReader(handle, delimiter="\t") if row["lang"] == lang]
    return [row["line"] for row in rows], [row["emotion"] for row in rows]


def train_encoder_head(corpus: Corpus, model, encoder, metrics, log=print) -> dict:
    """Fit ``model.encoder_head`` (a ``LanguageModel``) for ``corpus.lang``; return its report."""
    lang = corpus.lang
    started = time.perf_counter()

    def say(message):
        log(f"[{lang} encoder {time.perf_counter() - started:5.0f}s] {message}")

    def rows(split, indexes):
        examples = [corpus.splits[split][i] for i in indexes]
        return [e.text for e in examples], np.array([e.label for e in examples])

    train_texts, y_train = rows("train", sample_indexes(corpus.labels("train"), per_class=TRAIN_PER_CLASS))
    dev_texts, y_dev = rows("dev", sample_indexes(corpus.labels("dev"), total=DEV_SAMPLE[lang]))
    test_texts, y_test = rows("test", sample_indexes(corpus.labels("test"), total=TEST_SAMPLE[lang]))
    counts = np.unique(y_dev, return_counts=True)[1]
    if len(counts) < 2 or counts.min() < 2:
        say("too few dev texts per class to fit the head: skipped")
        return {"shipped": False, "skipped": "too few dev texts per class"}
    imagery_texts, y_imagery = load_imagery(lang)
    y_imagery = np.array(y_imagery)
    embedded = {}
    for name, texts in (("train", train_texts), ("dev", dev_texts), ("test", test_texts),
                        ("imagery", imagery_texts)):
        embedded[name] = np.vstack([encoder.embed(texts[i:i + 512]) for i in range(0, len(texts), 512)])
        say(f"embedded {name}: {len(texts)} texts")

    embedding_model, C, dev_score = fit_embedding_model(embedded["train"], y_train, embedded["dev"], y_dev)
    say(f"embedding model: C={C}, dev macro-F1 {dev_score:.3f}")

    def svm_outputs(texts):
        prepared = [(normalise(t), tokenize(t, lang)) for t in texts]
        X = model.features.transform_prepared(prepared)
        return model.classifier.predict_proba(X), model.features.emotion_mass(X) == 0, prepared

    svm_dev, no_word_dev, prepared_dev = svm_outputs(dev_texts)
    head, dev_out_of_fold = fit_head(embedding_model, svm_dev, model.classifier.classes_, embedded["dev"],
                                     no_word_dev, y_dev)
    report = {"encoder": encoder.engine.__class__.__module__.split(".")[0],
              "sample": {"train_per_class": TRAIN_PER_CLASS, "train": len(train_texts), "dev": len(dev_texts),
                         "test": len(test_texts), "test_of": len(corpus.splits["test"])},
              "embedding_model_C": C}
    classes = np.asarray(model.classifier.classes_)
    svm_dev_pred = classes[model.predict_proba_prepared(prepared_dev).argmax(axis=1)]
    report["dev"] = {"svm": metrics(y_dev, svm_dev_pred), "combined_out_of_fold": metrics(y_dev, dev_out_of_fold)}
    for name, texts, y in (("test", test_texts, y_test), ("imagery", imagery_texts, y_imagery)):
        svm_proba, no_word, prepared = svm_outputs(texts)
        svm_pred = classes[model.predict_proba_prepared(prepared).argmax(axis=1)]
        combined = head.predict_proba(svm_proba, classes, embedded[name], no_word)
        report[name] = {"svm": metrics(y, svm_pred),
                        "embedding": metrics(y, embedding_model.predict(embedded[name])),
                        "combined": metrics(y, head.classes_[combined.argmax(axis=1)]),
                        "no_emotion_word_share": round(float(no_word.mean()), 3)}
        say(f"{name} ({len(texts)}): macro-F1 svm {report[name]['svm']['macro_f1']:.3f}, embedding "
            f"{report[name]['embedding']['macro_f1']:.3f}, combined {report[name]['combined']['macro_f1']:.3f}")
    report["shipped"] = report["dev"]["combined_out_of_fold"]["macro_f1"] >= report["dev"]["svm"]["macro_f1"]
    if report["shipped"]:
        model.encoder_head = head
    say(f"dev macro-F1 svm {report['dev']['svm']['macro_f1']:.3f}, combined (out-of-fold) "
        f"{report['dev']['combined_out_of_fold']['macro_f1']:.3f}: head {'shipped' if report['shipped'] else 'not shipped'}")
    report["emotions"] = list(EMOTIONS)
    return report
