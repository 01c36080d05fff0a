"""ActiveLearner on multi-label indicators: estimators, cold classes, 'auto', bad input."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.multioutput import MultiOutputClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC
from threadpoolctl import threadpool_limits

from alwidgets import ActiveLearner, EstimatorError, InvalidInputError
from alwidgets._multilabel import MultiLabelModel


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    X, Y = make_multilabel_classification(
        n_samples=300, n_features=6, n_classes=4, n_labels=2, random_state=1
    )
    return X.astype(float), Y


LAB = np.arange(40)


@pytest.mark.parametrize("kind", ["ndarray", "sparse", "frame", "bool"])
def test_fit_on_any_indicator_container(data, kind: str) -> None:
    X, Y = data
    given = {
        "ndarray": Y[LAB],
        "sparse": sp.csr_matrix(Y[LAB]),
        "frame": pd.DataFrame(Y[LAB], columns=["a", "b", "c", "d"]),
        "bool": Y[LAB].astype(bool),
    }[kind]
    learner = ActiveLearner(LogisticRegression(), random_state=0).fit(X[LAB], given)
    assert learner.multi_label_ is True
    expected = ["a", "b", "c", "d"] if kind == "frame" else [0, 1, 2, 3]
    assert learner.classes_.tolist() == expected
    proba = learner.predict_proba(X)
    assert proba.shape == (300, 4) and proba.dtype == np.float64
    assert ((proba >= 0) & (proba <= 1)).all()
    assert not np.allclose(proba.sum(axis=1), 1.0)  # per-class probabilities, not a simplex
    predicted = learner.predict(X)
    assert predicted.shape == (300, 4)
    assert np.array_equal(predicted, (proba >= 0.5).astype(int))
    expected_f1 = f1_score(Y, predicted, average="micro")
    assert learner.score(X, Y) == pytest.approx(expected_f1)
    assert learner.strategy_.name == "mmu"  # "auto" on a multi-label task


def test_wrappers_and_binary_relevance_agree(data) -> None:
    """OneVsRest and MultiOutput of a classifier = binary relevance of that classifier."""
    X, Y = data
    probas = [
        ActiveLearner(est, random_state=0).fit(X[LAB], Y[LAB]).predict_proba(X)
        for est in (
            LogisticRegression(),
            OneVsRestClassifier(LogisticRegression()),
            MultiOutputClassifier(LogisticRegression()),
        )
    ]
    assert np.allclose(probas[0], probas[1]) and np.allclose(probas[0], probas[2])


def test_native_multi_output_estimator_is_fit_once(data) -> None:
    X, Y = data
    learner = ActiveLearner(RandomForestClassifier(n_estimators=20, random_state=0), "mmc")
    learner.fit(X[LAB], Y[LAB])
    model = learner.estimator_
    assert isinstance(model, MultiLabelModel)
    assert isinstance(model.estimator_, RandomForestClassifier) and model.estimators_ == []
    assert model.estimator_.n_outputs_ == 4
    assert learner.predict_proba(X[:5]).shape == (5, 4)
    assert len(learner.query(X, 6, exclude=LAB)) == 6


def test_pipeline_preprocessing_is_fit_once_on_the_items(data) -> None:
    X, Y = data
    learner = ActiveLearner(make_pipeline(StandardScaler(), LogisticRegression()), "coreset")
    learner.fit(X[LAB], Y[LAB])
    pipe = learner.estimator_
    assert isinstance(pipe[-1], MultiLabelModel) and len(pipe[-1].estimators_) == 4
    assert np.allclose(pipe[0].mean_, X[LAB].mean(axis=0))
    assert len(learner.query(X, 5, exclude=LAB)) == 5  # features via the fitted scaler


def test_a_class_without_positives_or_negatives_gets_a_constant_prior(data) -> None:
    X, Y = data
    Y = Y[LAB].copy()
    Y[:, 1] = 0  # nobody tagged class 1 yet
    Y[:, 3] = 1  # every item has class 3
    learner = ActiveLearner(LogisticRegression(), random_state=0).fit(X[LAB], Y)
    proba = learner.predict_proba(X)
    assert np.allclose(proba[:, 1], 1 / 42) and np.allclose(proba[:, 3], 41 / 42)
    assert learner.estimator_.fitted_classes_.tolist() == [0, 2]
    batch = learner.query(X, 5, exclude=LAB)
    assert len(batch) == 5 and not set(batch) & set(LAB)


def test_one_labeled_item_is_enough_to_fit(data) -> None:
    X, Y = data
    learner = ActiveLearner(LogisticRegression(), random_state=0).fit(X[:1], Y[:1])
    expected = np.where(Y[0] == 1, 2 / 3, 1 / 3)
    assert np.allclose(learner.predict_proba(X[:3]), expected)
    assert len(learner.query(X, 4, exclude=[0])) == 4


def test_auto_is_margin_on_single_label_same_picks() -> None:
    X, y = make_classification(n_samples=400, n_features=5, n_classes=3, n_informative=3,
                               random_state=0)  # fmt: skip
    lab = np.r_[np.flatnonzero(y == 0)[:4], np.flatnonzero(y == 1)[:4], np.flatnonzero(y == 2)[:4]]
    auto = ActiveLearner(LogisticRegression(), random_state=5).fit(X[lab], y[lab])
    margin = ActiveLearner(LogisticRegression(), "margin", random_state=5).fit(X[lab], y[lab])
    first_auto, first_margin = auto.query(X, 10, exclude=lab), margin.query(X, 10, exclude=lab)
    assert first_auto.tolist() == first_margin.tolist()
    assert np.array_equal(auto.scores_, margin.scores_, equal_nan=True)
    assert auto.last_strategy_ == "margin" and auto.multi_label_ is False
    again = np.r_[lab, first_auto]
    assert auto.query(X, 7, exclude=again).tolist() == margin.query(X, 7, exclude=again).tolist()


def test_refit_switches_task_and_auto_follows(data) -> None:
    X, Y = data
    learner = ActiveLearner(LogisticRegression(), random_state=0).fit(X[LAB], Y[LAB])
    assert learner.strategy_.name == "mmu"
    learner.fit(X[LAB], Y[LAB, 0])
    assert learner.multi_label_ is False and learner.strategy_.name == "margin"
    assert learner.predict_proba(X[:2]).shape == (2, 2)


def test_strategy_for_the_other_task_is_refused_with_the_ones_that_fit(data) -> None:
    X, Y = data
    with pytest.raises(InvalidInputError, match=r"'margin' is for single-label.*mean_margin"):
        ActiveLearner(LogisticRegression(), "margin").fit(X[LAB], Y[LAB])
    with pytest.raises(InvalidInputError, match=r"'lci' is for multi-label.*margin"):
        ActiveLearner(LogisticRegression(), "lci").fit(X[LAB], Y[LAB, 0])
    learner = ActiveLearner(LogisticRegression(), "mean_margin")
    assert len(learner.query(X, 3)) == 3  # before any fit: the cold start, whatever the task


@pytest.mark.parametrize(
    ("bad", "match"),
    [
        (lambda Y: np.where(Y == 1, 2, 0), "binary indicator .* holds 2"),
        (lambda Y: np.where(Y == 1, np.nan, 0.0), "missing values"),
        (lambda Y: Y * 0.5, "holds 0.5"),
        (lambda Y: Y[:-1], "X has 40 rows but Y has 39"),
        (lambda Y: np.array([[f"{v}" for v in row] for row in Y]), "0/1 numbers"),
    ],
    ids=["two", "nan", "half", "rows", "strings"],
)
def test_bad_indicators_are_clear_errors(data, bad, match: str) -> None:
    X, Y = data
    learner = ActiveLearner(LogisticRegression())
    with pytest.raises(InvalidInputError, match=match):
        learner.fit(X[LAB], bad(Y[LAB]))
    assert not learner.is_fitted


def test_label_sets_instead_of_an_indicator_name_the_fix(data) -> None:
    X, _ = data
    sets = [("a", "b"), ("a",), ("b", "c"), ()] * 10
    with pytest.raises(InvalidInputError, match="MultiLabelBinarizer"):
        ActiveLearner(LogisticRegression()).fit(X[LAB], sets)


class _BadMultiOutput(ClassifierMixin, BaseEstimator):
    """Claims multi-output but returns one (n, 2) array for every target."""

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def fit(self, X, Y):  # type: ignore[no-untyped-def]
        self.classes_ = np.array([0, 1])
        return self

    def predict_proba(self, X):  # type: ignore[no-untyped-def]
        return np.full((len(X), 2), 0.5)


def test_estimator_without_usable_multi_output_proba(data) -> None:
    X, Y = data
    learner = ActiveLearner(_BadMultiOutput())
    with pytest.raises(EstimatorError, match=r"shape \(1, 2\) for 4 classes.*OneVsRest"):
        learner.fit(X[LAB], Y[LAB])  # refused at fit, not at the first query
    assert not learner.is_fitted
    with pytest.raises(EstimatorError, match=r"no predict_proba.*CalibratedClassifierCV"):
        ActiveLearner(OneVsRestClassifier(LinearSVC())).fit(X[LAB], Y[LAB])
