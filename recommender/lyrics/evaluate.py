"""Score the classifier as it is served: ``python -m recommender.lyrics.evaluate``.

Training reports the SVM on the full test split but the encoder head only on subsamples (embedding
everything would cost the head's search far too much). This scores the whole model the way
``classify_many`` runs it, encoder head included where the encoder loads, on every test text and on
the imagery test set, and (``--write-card``) stores the figures in the model's card under
``languages.<lang>.served``. The router embeds only texts without emotion words, and the embedding
cache makes a second run cheap.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .classifier import MODEL_PATH, SongClassifier, load_model
from .data import load_corpus
from .encoder import get_encoder
from .segment import LANGUAGES
from .train import metrics, save
from .train_encoder import load_imagery

BATCH = 2_000  # texts per progress line


def score_served(model: SongClassifier, lang: str, texts, labels, log=print, name: str = "",
                 keep_predictions: bool = False) -> dict:
    """Metrics of the served model on ``texts``; with ``keep_predictions`` also each text's emotion, so a
    test can tell which lines another CPU reads differently (the 4-bit encoder's arithmetic is not
    bit-identical across instruction sets, and a line near a routing threshold can flip)."""
    predicted, started = [], time.perf_counter()
    for start in range(0, len(texts), BATCH):
        batch = texts[start:start + BATCH]
        predicted.extend(emotion for emotion, _ in model.classify_many(batch, [lang] * len(batch)))
        log(f"[{lang} {name}] {len(predicted)}/{len(texts)} texts, {time.perf_counter() - started:.0f}s")
    scores = metrics(list(labels), predicted)
    return {**scores, "predicted": predicted} if keep_predictions else scores


def machine() -> str:
    """The CPU the figures were measured on (they can differ by a line or two on another one)."""
    import platform

    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def evaluate(model: SongClassifier, langs=LANGUAGES, data_dir: Path | None = None, log=print) -> dict:
    """{lang: {"test": metrics, "imagery": metrics, "encoder_head": bool, "encoder_loaded": bool}}."""
    encoder_loaded = get_encoder() is not None
    report = {}
    for lang in langs:
        corpus = load_corpus(lang, data_dir)
        imagery_texts, imagery_labels = load_imagery(lang)
        head = getattr(model.models[lang], "encoder_head", None) is not None
        report[lang] = {"encoder_head": head, "encoder_loaded": encoder_loaded,
                        "test": score_served(model, lang, corpus.texts("test"), corpus.labels("test"), log, "test"),
                        "imagery": score_served(model, lang, imagery_texts, imagery_labels, log, "imagery",
                                                keep_predictions=True),
                        "machine": machine()}
    return report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m recommender.lyrics.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--model", type=Path, default=MODEL_PATH)
    parser.add_argument("--data", type=Path, default=None)
    parser.add_argument("--langs", nargs="+", choices=LANGUAGES, default=list(LANGUAGES))
    parser.add_argument("--write-card", action="store_true", help="store the figures in the model's card")
    args = parser.parse_args(argv)
    model = load_model(args.model)
    report = evaluate(model, args.langs, args.data, log=lambda m: print(m, flush=True))
    print("\nlanguage  texts          accuracy  macro-F1  (encoder head served)")
    for lang, scores in report.items():
        served = scores["encoder_head"] and scores["encoder_loaded"]
        for split in ("test", "imagery"):
            print(f"{lang:8}  {split + ' ' + str(scores[split]['n']):13}  {scores[split]['accuracy']:8.3f}  "
                  f"{scores[split]['macro_f1']:8.3f}  ({served})")
    if args.write_card:
        for lang, scores in report.items():
            model.card["languages"][lang]["served"] = scores
        save(model, args.model)
        print(f"card updated: {args.model.with_suffix('.json')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
