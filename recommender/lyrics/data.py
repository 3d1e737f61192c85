"""The labelled text the song classifier learns from (pure Python: no Django).

Reads ``shared/data/text_emotion`` as its READMEs describe and maps every label onto the seven
emotions. Splits, per language:

============  ==================================================  ==========================================
              English (GoEmotions, Reddit)                        Chinese (SMP2020-EWECT + NLPCC 2014, Weibo)
============  ==================================================  ==========================================
train         train.tsv                                           SMP usual_train.xlsx + virus_train.txt;
                                                                  NLPCC derived/Weibo_data.csv + the Task 2
                                                                  training file (sentences)
dev           dev.tsv                                             SMP usual_eval + virus_eval; NLPCC
                                                                  ExpressionTest.xml (sentences)
test          test.tsv                                            SMP usual_test + virus_test; NLPCC
                                                                  EmotionClassificationTest.xml (sentences)
============  ==================================================  ==========================================

GoEmotions rows count only when all their labels map to one class (the README's rule). NLPCC
sentences are labelled by ``emotion-1-type`` when opinionated and neutral when not. Leakage is removed
by normalised text (NFKC, case-folded, whitespace, URLs and @mentions dropped): a test text is dropped
from dev and train, a dev text from train, and duplicates inside a split keep their first label
(texts seen with two different labels inside train are dropped).
"""

from __future__ import annotations

import csv
import json
import os
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .labels import EMOTIONS

SPLITS = ("train", "dev", "test")

DATA_ENV = "MIEN_TEXT_EMOTION_DIR"

GOEMOTIONS_EKMAN = {"anger": "angry", "disgust": "disgust", "fear": "fear", "joy": "happy", "sadness": "sad",
                    "surprise": "surprise", "neutral": "neutral"}
SMP_LABELS = {"angry": "angry", "fear": "fear", "happy": "happy", "sad": "sad", "surprise": "surprise",
              "neutral": "neutral", "neural": "neutral"}
NLPCC_LABELS = {"anger": "angry", "disgust": "disgust", "fear": "fear", "happiness": "happy", "like": "happy",
                "sadness": "sad", "surprise": "surprise", "none": "neutral"}


@dataclass
class Example:
    text: str
    label: str
    source: str  # e.g. "goemotions", "smp-usual", "nlpcc"


@dataclass
class Corpus:
    lang: str
    splits: dict[str, list[Example]] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)  # what leakage and duplicate removal dropped

    def texts(self, split: str) -> list[str]:
        return [e.text for e in self.splits[split]]

    def labels(self, split: str) -> list[str]:
        return [e.label for e in self.splits[split]]

    def summary(self) -> str:
        lines = []
        for split in SPLITS:
            counts = Counter(self.labels(split))
            sources = Counter(e.source for e in self.splits[split])
            lines.append(f"  {self.lang} {split:5} {len(self.splits[split]):6} texts  "
                         + " ".join(f"{e}={counts.get(e, 0)}" for e in EMOTIONS)
                         + "  [" + ", ".join(f"{s} {n}" for s, n in sorted(sources.items())) + "]")
        if self.removed:
            lines.append("  removed: " + ", ".join(f"{k} {v}" for k, v in self.removed.items()))
        return "\n".join(lines)


def default_data_dir() -> Path:
    """``$MIEN_TEXT_EMOTION_DIR``, else ``../shared/data/text_emotion`` beside the repository."""
    if os.environ.get(DATA_ENV):
        return Path(os.environ[DATA_ENV])
    return Path(__file__).resolve().parents[3] / "shared" / "data" / "text_emotion"


_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"//@[^:：\s]{1,30}[:：]?|@[\w\-\u4e00-\u9fff]{1,30}")
_SPACE = re.compile(r"\s+")


def leak_key(text: str) -> str:
    """The form under which two texts count as the same text."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _MENTION.sub("", _URL.sub("", text))
    return _SPACE.sub("", text)


# --- English -------------------------------------------------------------------------------------------


def load_goemotions(directory: Path) -> dict[str, list[Example]]:
    names = (directory / "emotions.txt").read_text(encoding="utf-8").split()
    ekman = json.loads((directory / "ekman_mapping.json").read_text(encoding="utf-8"))
    fine_to_class = {fine: GOEMOTIONS_EKMAN[coarse] for coarse, fines in ekman.items() for fine in fines}
    fine_to_class["neutral"] = "neutral"
    splits = {}
    for split in SPLITS:
        examples = []
        with open(directory / f"{split}.tsv", encoding="utf-8", newline="") as handle:
            for line in handle:
                text, ids, _comment_id = line.rstrip("\n").split("\t")
                classes = {fine_to_class[names[int(i)]] for i in ids.split(",")}
                if len(classes) == 1:
                    examples.append(Example(text, classes.pop(), "goemotions"))
        splits[split] = examples
    return splits


# --- Chinese -------------------------------------------------------------------------------------------


def _smp_json(path: Path, source: str) -> list[Example]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    return [Example(str(r["content"]), SMP_LABELS[r["label"]], source) for r in rows if str(r["content"]).strip()]


def _smp_xls(path: Path, source: str) -> list[Example]:
    """The "xlsx" files are Excel 97 workbooks: xlrd reads them (openpyxl cannot)."""
    import xlrd

    sheet = xlrd.open_workbook(str(path)).sheet_by_index(0)
    header = [str(v).strip() for v in sheet.row_values(0)]
    text_col, label_col = header.index("文本"), header.index("情绪标签")
    examples = []
    for r in range(1, sheet.nrows):
        row = sheet.row_values(r)
        text, label = str(row[text_col]).strip(), str(row[label_col]).strip()
        if text and label in SMP_LABELS:
            examples.append(Example(text, SMP_LABELS[label], source))
    return examples


def _nlpcc_sentences(path: Path) -> list[Example]:
    examples = []
    for sentence in ET.parse(path).getroot().iter("sentence"):
        text = (sentence.text or "").strip()
        if not text:
            continue
        label = sentence.get("emotion-1-type") if sentence.get("opinionated") == "Y" else "none"
        examples.append(Example(text, NLPCC_LABELS.get(label or "none", "neutral"), "nlpcc"))
    return examples


def _nlpcc_csv(path: Path) -> list[Example]:
    examples = []
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.reader(handle):
            if len(row) >= 2 and row[0] in NLPCC_LABELS and row[1].strip():
                examples.append(Example(row[1].strip(), NLPCC_LABELS[row[0]], "nlpcc"))
    return examples


def load_chinese(smp: Path, nlpcc: Path) -> dict[str, list[Example]]:
    return {
        "train": (_smp_xls(smp / "usual_train.xlsx", "smp-usual") + _smp_json(smp / "virus_train.txt", "smp-virus")
                  + _nlpcc_csv(nlpcc / "derived" / "Weibo_data.csv")
                  + _nlpcc_sentences(nlpcc / "Training data for Emotion Expression Identification.xml")),
        "dev": (_smp_json(smp / "usual_eval_labeled.txt", "smp-usual")
                + _smp_json(smp / "virus_eval_labeled.txt", "smp-virus")
                + _nlpcc_sentences(nlpcc / "ExpressionTest.xml")),
        "test": (_smp_json(smp / "usual_test_labeled.txt", "smp-usual")
                 + _smp_json(smp / "virus_test_labeled.txt", "smp-virus")
                 + _nlpcc_sentences(nlpcc / "EmotionClassificationTest.xml")),
    }


# --- both ----------------------------------------------------------------------------------------------


def deduplicate(lang: str, splits: dict[str, list[Example]]) -> Corpus:
    """Remove test texts from dev and train, dev texts from train, and duplicates inside each split."""
    corpus = Corpus(lang)
    seen: set[str] = set()
    for split in ("test", "dev", "train"):
        by_key: dict[str, Example] = {}
        conflicting: set[str] = set()
        leaked = duplicates = 0
        for example in splits[split]:
            key = leak_key(example.text)
            if not key:
                continue
            if key in seen:
                leaked += 1
                continue
            if key in by_key:
                duplicates += 1
                if by_key[key].label != example.label:
                    conflicting.add(key)
                continue
            by_key[key] = example
        if split == "train":
            for key in conflicting:
                del by_key[key]
        corpus.splits[split] = list(by_key.values())
        seen |= by_key.keys() | conflicting
        if leaked:
            corpus.removed[f"{split} texts also in a later split"] = leaked
        if duplicates:
            corpus.removed[f"{split} duplicates"] = duplicates
        if split == "train" and conflicting:
            corpus.removed["train texts with two labels"] = len(conflicting)
    corpus.splits = {s: corpus.splits[s] for s in SPLITS}
    return corpus


def load_corpus(lang: str, data_dir: Path | None = None) -> Corpus:
    """The deduplicated train/dev/test splits for ``lang`` ("en" or "zh")."""
    data_dir = Path(data_dir or default_data_dir())
    if not data_dir.is_dir():
        raise FileNotFoundError(f"no text emotion data at {data_dir}; set {DATA_ENV} or pass --data")
    if lang == "en":
        return deduplicate(lang, load_goemotions(data_dir / "goemotions"))
    if lang == "zh":
        return deduplicate(lang, load_chinese(data_dir / "smp2020_ewect", data_dir / "nlpcc2014_weibo_emotion"))
    raise ValueError(f"unsupported language {lang!r}")
