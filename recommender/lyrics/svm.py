"""The paper's hierarchical SVM and what it is compared with (pure core, no Django).

Section 3.1.2 classifies with LIBSVM "many times": first positive against negative emotion, then each
side again, "until a separate category is obtained". ``HierarchicalSVM`` is that binary tree; each
internal node is one two-class SVM. ``FlatSVM`` (one-vs-rest) and ``LexiconArgmax`` (no learning:
the largest lexicon intensity wins) are the comparisons.

The SVM at each node (``PlattSVM``) is scikit-learn's ``SVC(kernel="linear")`` (it is LIBSVM, as in
the paper) or ``LinearSVC`` (LIBLINEAR, by the same lab: the same linear SVM, solved in time linear in
the data). Probabilities come from Platt's sigmoid on held-out decision values, and a leaf's
probability is the product of the branch probabilities on its path, so the probabilities sum to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.svm import SVC, LinearSVC

from .labels import EMOTIONS
from .lexicon import analyze_tokens

# The paper's split: negative emotions against the rest, then each side in two until one is left.
# Neutral and surprise sit with happy (GoEmotions' sentiment grouping puts surprise in "ambiguous";
# neither is a negative emotion, and the recommender treats them as moods to keep).
PAPER_TREE = (
    (("neutral",), (("happy",), ("surprise",))),
    ((("angry",), ("disgust",)), (("fear",), ("sad",))),
)


def leaves(tree) -> tuple[str, ...]:
    """The emotions under a (sub)tree, left to right."""
    if isinstance(tree, str):
        return (tree,)
    return tuple(e for child in tree for e in leaves(child))


class PlattSVM(BaseEstimator, ClassifierMixin):
    """A two-class linear SVM whose decision values Platt's sigmoid turns into probabilities.

    ``kind="libsvm"``: ``SVC(kernel="linear")`` fitted on 85% of the data, the sigmoid on the other 15%
    (LIBSVM's time grows faster than linearly with the data, so no cross-validation).
    ``kind="liblinear"``: ``LinearSVC`` fitted on all of it, the sigmoid on 3-fold out-of-fold values.
    Either way the fitted SVM is kept as its weight vector (``w . x + b`` is what a linear-kernel SVM
    computes), so predicting costs one sparse product whichever solver trained it.
    """

    def __init__(self, kind: str = "liblinear", C: float = 1.0, class_weight=None, random_state: int = 0):
        self.kind = kind
        self.C = C
        self.class_weight = class_weight
        self.random_state = random_state

    def _svm(self):
        if self.kind == "libsvm":
            return SVC(kernel="linear", C=self.C, class_weight=self.class_weight, cache_size=1000)
        if self.kind == "liblinear":
            return LinearSVC(C=self.C, class_weight=self.class_weight, random_state=self.random_state)
        raise ValueError(f"unknown SVM kind {self.kind!r}: libsvm or liblinear")

    def fit(self, X, y):
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import StratifiedKFold, cross_val_predict, train_test_split

        y = np.asarray(y).astype(int)
        self.classes_ = np.array([0, 1])
        svm = self._svm()
        if self.kind == "libsvm" and np.bincount(y, minlength=2).min() < 2:
            svm.fit(X, y)  # too few examples to hold any out
            scores, targets = svm.decision_function(X), y
            self.support_vectors_ = int(svm.n_support_.sum())
        elif self.kind == "libsvm":
            fit_rows, calibration_rows = train_test_split(np.arange(len(y)), test_size=0.15, stratify=y,
                                                          random_state=self.random_state)
            svm.fit(X[fit_rows], y[fit_rows])
            scores, targets = svm.decision_function(X[calibration_rows]), y[calibration_rows]
            self.support_vectors_ = int(svm.n_support_.sum())
        else:
            svm.fit(X, y)
            splits = min(3, int(np.bincount(y, minlength=2).min()))
            if splits >= 2:
                folds = StratifiedKFold(splits, shuffle=True, random_state=self.random_state)
                scores = cross_val_predict(clone(svm), X, y, cv=folds, method="decision_function")
            else:  # a side with a single example: no held-out values to be had
                scores = svm.decision_function(X)
            targets = y
        coef = svm.coef_.toarray() if hasattr(svm.coef_, "toarray") else np.asarray(svm.coef_)
        self.coef_ = coef.ravel().astype(np.float32)
        self.intercept_ = float(np.ravel(svm.intercept_)[0])
        platt = LogisticRegression(C=1e4).fit(np.asarray(scores).reshape(-1, 1), targets)
        self.platt_ = (float(platt.coef_[0, 0]), float(platt.intercept_[0]))
        return self

    def decision_function(self, X):
        return np.asarray(X @ self.coef_).ravel() + self.intercept_

    def predict_proba(self, X):
        a, b = self.platt_
        z = np.clip(a * self.decision_function(X) + b, -30.0, 30.0)
        right = 1.0 / (1.0 + np.exp(-z))
        return np.column_stack([1.0 - right, right])

    def predict(self, X):
        return (self.decision_function(X) > 0).astype(int)


def make_svm(kind: str = "liblinear", C: float = 1.0, class_weight=None) -> PlattSVM:
    return PlattSVM(kind=kind, C=C, class_weight=class_weight)


@dataclass
class Node:
    """One split of the tree: an SVM that says ``left`` (0) or ``right`` (1)."""

    left: tuple[str, ...]
    right: tuple[str, ...]
    estimator: object = None
    depth: int = 0


class HierarchicalSVM(BaseEstimator, ClassifierMixin):
    """A binary tree of two-class SVMs over the emotions (``tree``: nested pairs of leaves)."""

    def __init__(self, tree=PAPER_TREE, kind: str = "liblinear", C: float = 1.0, class_weight="balanced"):
        self.tree = tree
        self.kind = kind
        self.C = C
        self.class_weight = class_weight

    def fit(self, X, y):
        y = np.asarray(y)
        present = set(y.tolist())
        unknown = present - set(leaves(self.tree))
        if unknown:
            raise ValueError(f"labels outside the tree: {sorted(unknown)}")
        self.classes_ = np.array([e for e in EMOTIONS if e in present])
        self.nodes_: list[Node] = []
        self.paths_: dict[str, list[tuple[int, int]]] = {}
        self._grow(self.tree, X, y, [], 0)
        return self

    def _grow(self, tree, X, y, path, depth):
        if isinstance(tree, str) or len(tree) == 1:
            leaf = tree if isinstance(tree, str) else leaves(tree)[0]
            self.paths_[leaf] = list(path)
            return
        if len(tree) != 2:
            raise ValueError(f"each split has two sides, not {len(tree)}: {tree!r}")
        left, right = leaves(tree[0]), leaves(tree[1])
        has_left, has_right = np.isin(y, left).any(), np.isin(y, right).any()
        if not (has_left and has_right):  # a side without training data: the tree skips this split
            self._grow(tree[0] if has_left else tree[1], X, y, path, depth)
            return
        mask = np.isin(y, left + right)
        side = np.isin(y[mask], right).astype(int)
        index = len(self.nodes_)
        node = Node(left, right, depth=depth)
        self.nodes_.append(node)
        node.estimator = clone(make_svm(self.kind, self.C, self.class_weight)).fit(X[mask], side)
        self._grow(tree[0], X, y, path + [(index, 0)], depth + 1)
        self._grow(tree[1], X, y, path + [(index, 1)], depth + 1)

    def node_probabilities(self, X) -> np.ndarray:
        """P(right side) at every node, shape [n_samples, n_nodes]."""
        out = np.zeros((X.shape[0], len(self.nodes_)))
        for i, node in enumerate(self.nodes_):
            out[:, i] = node.estimator.predict_proba(X)[:, 1]
        return out

    def predict_proba(self, X) -> np.ndarray:
        right = self.node_probabilities(X)
        proba = np.ones((X.shape[0], len(self.classes_)))
        for j, leaf in enumerate(self.classes_):
            for index, branch in self.paths_[leaf]:
                proba[:, j] *= right[:, index] if branch else 1.0 - right[:, index]
        return proba / proba.sum(axis=1, keepdims=True)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]

    def describe(self) -> list[str]:
        return [f"{'  ' * n.depth}{'/'.join(n.left)}  vs  {'/'.join(n.right)}" for n in self.nodes_]


class FlatSVM(BaseEstimator, ClassifierMixin):
    """One two-class SVM per emotion against all the others (one-vs-rest), Platt-scaled."""

    def __init__(self, kind: str = "liblinear", C: float = 1.0, class_weight="balanced"):
        self.kind = kind
        self.C = C
        self.class_weight = class_weight

    def fit(self, X, y):
        y = np.asarray(y)
        self.classes_ = np.array([e for e in EMOTIONS if e in set(y.tolist())])
        self.estimators_ = [make_svm(self.kind, self.C, self.class_weight).fit(X, (y == c).astype(int))
                            for c in self.classes_]
        return self

    def predict_proba(self, X):
        proba = np.column_stack([e.predict_proba(X)[:, 1] for e in self.estimators_])
        return proba / np.maximum(proba.sum(axis=1, keepdims=True), 1e-12)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(axis=1)]


class LexiconArgmax(BaseEstimator, ClassifierMixin):
    """No learning: the emotion with the largest lexicon intensity (ties: the earlier emotion)."""

    classes_ = np.array(EMOTIONS)

    def fit(self, prepared=None, y=None):
        return self

    def predict_proba(self, prepared):
        scores = np.array([analyze_tokens(tokens).scores for _text, tokens in prepared])
        return scores / scores.sum(axis=1, keepdims=True)

    def predict(self, prepared):
        return self.classes_[self.predict_proba(prepared).argmax(axis=1)]
