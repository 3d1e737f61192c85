"""Fixtures for the lyrics tests: a miniature text emotion data folder in the real file formats."""

import json
import random

import pytest

# GoEmotions' 28 labels, in emotions.txt order.
GOEMOTIONS = ("admiration amusement anger annoyance approval caring confusion curiosity desire disappointment "
              "disapproval disgust embarrassment excitement fear gratitude grief joy love nervousness optimism "
              "pride realization relief remorse sadness surprise neutral").split()
EKMAN = {"anger": ["anger", "annoyance", "disapproval"], "disgust": ["disgust"], "fear": ["fear", "nervousness"],
         "joy": ["joy", "amusement", "approval", "excitement", "gratitude", "love", "optimism", "relief", "pride",
                 "admiration", "desire", "caring"],
         "sadness": ["sadness", "disappointment", "embarrassment", "grief", "remorse"],
         "surprise": ["surprise", "realization", "confusion", "curiosity"]}
WORDS = {
    "anger": "furious angry rage hate mad outraged",
    "disgust": "gross disgusting nasty vile yuck revolting",
    "fear": "scared afraid terrified nervous panic dread",
    "joy": "happy glad joyful delighted smile wonderful",
    "sadness": "sad crying tears lonely heartbroken grief",
    "surprise": "wow surprised shocked unexpected whoa amazed",
    "neutral": "table walk paper monday window street",
}
FILLER = "i you the day it was so and then we".split()


def write_tiny_goemotions(folder, per_class=(14, 5, 5), seed=3):
    """train/dev/test.tsv, emotions.txt and ekman_mapping.json, with one keyword family per class."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "emotions.txt").write_text("\n".join(GOEMOTIONS) + "\n", encoding="utf-8")
    (folder / "ekman_mapping.json").write_text(json.dumps(EKMAN), encoding="utf-8")
    n = 0
    for split, count in zip(("train", "dev", "test"), per_class):
        lines = []
        for label, words in WORDS.items():
            for _ in range(count):
                text = " ".join(rng.sample(FILLER, 3) + rng.sample(words.split(), 2) + [str(n)])
                lines.append(f"{text}\t{GOEMOTIONS.index(label)}\tid{n}")
                n += 1
        (folder / f"{split}.tsv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def tiny_data(tmp_path):
    """A text_emotion folder holding only a miniature GoEmotions (train English with --langs en)."""
    root = tmp_path / "text_emotion"
    write_tiny_goemotions(root / "goemotions")
    return root
