"""Label-free Pipeline steps fit once on the whole pool: which steps, the vocabulary, no refit."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline, make_union
from sklearn.preprocessing import StandardScaler, TargetEncoder

from alwidgets import ActiveLearner, InvalidInputError, simulate
from alwidgets._descriptions import with_description_rows
from alwidgets._label_free import label_free_steps, pool_fingerprint
from alwidgets.datasets import load_spam
from alwidgets.features import PrecomputedEmbeddings, TextFeatures


class MyScaler(StandardScaler):
    """A subclass may read y: not trusted."""


class Declared(StandardScaler):
    __alwidgets_label_free__ = True


class PoolTextFeatures(TextFeatures):
    """TextFeatures stays fit on the labeled rows unless a subclass opts in."""

    __alwidgets_label_free__ = True


@pytest.mark.parametrize(
    ("steps", "expected"),
    [
        ([TfidfVectorizer(), LogisticRegression()], 0),  # measured worse fit on the pool
        ([TextFeatures(embeddings=None), TruncatedSVD(5), LogisticRegression()], 0),
        ([PoolTextFeatures(embeddings=None), TruncatedSVD(5), LogisticRegression()], 2),
        (
            [
                StandardScaler(),
                SelectKBest(k=5),
                StandardScaler(with_mean=False),
                LogisticRegression(),
            ],
            1,
        ),
        ([StandardScaler(), TargetEncoder(), LogisticRegression()], 1),
        ([MyScaler(), LogisticRegression()], 0),
        ([Declared(), LogisticRegression()], 1),
        ([make_union(StandardScaler(), TruncatedSVD(2)), LogisticRegression()], 1),
        ([make_union(StandardScaler(), SelectKBest(k=2)), LogisticRegression()], 0),
        (
            [
                ColumnTransformer([("s", StandardScaler(), [0])], remainder="drop"),
                LogisticRegression(),
            ],
            1,
        ),
        ([StandardScaler()], 0),  # the last step is the model: never counted
    ],
)
def test_only_steps_known_to_ignore_y_count(steps: list[object], expected: int) -> None:
    assert label_free_steps(make_pipeline(*steps)) == expected
    assert label_free_steps(LogisticRegression()) == 0


@pytest.fixture(scope="module")
def texts() -> tuple[np.ndarray, np.ndarray]:
    df = load_spam().iloc[:400]
    return df["text"].to_numpy(), df["label"].to_numpy()


def test_vocabulary_comes_from_the_pool_and_is_fit_once(texts) -> None:
    X, y = texts
    model = make_pipeline(PoolTextFeatures(embeddings=None), LogisticRegression())
    learner = ActiveLearner(model, random_state=0)
    labeled = np.r_[np.flatnonzero(y == "spam")[:5], np.flatnonzero(y == "ham")[:5]]
    learner.fit(X[labeled], y[labeled], X_unlabeled=X)
    vocabulary = learner.estimator_[0].vectorizer_.vocabulary_
    assert vocabulary == TfidfVectorizer().fit(X).vocabulary_  # every word of the pool
    vectorizer = learner.estimator_[0].estimator
    for more in (20, 40):  # retrains on more labels reuse the fitted vectorizer
        labeled = np.r_[labeled, np.setdiff1d(np.arange(more), labeled)][: len(labeled) + 10]
        learner.fit(X[labeled], y[labeled], X_unlabeled=X)
        assert learner.estimator_[0].estimator is vectorizer
    assert learner._prefit.fits == 1
    # labels only: the vocabulary of ten texts
    alone = ActiveLearner(model).fit(X[labeled[:10]], y[labeled[:10]])
    assert len(alone.estimator_[0].vectorizer_.vocabulary_) < len(vocabulary) / 5
    # another pool: fit again
    learner.fit(X[labeled], y[labeled], X_unlabeled=X[:300])
    assert learner._prefit.fits == 2 and learner.estimator_[0].estimator is not vectorizer


def test_scaler_statistics_come_from_the_pool_and_committees_share_them() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(loc=5.0, scale=2.0, size=(500, 3))
    y = (X[:, 0] > 5).astype(int)
    learner = ActiveLearner(make_pipeline(StandardScaler(), LogisticRegression()), "qbc", 0)
    learner.fit(X[:12], y[:12], X_unlabeled=X)
    np.testing.assert_allclose(learner.estimator_[0].mean_, X.mean(axis=0))
    scaler = learner.estimator_[0].estimator
    assert all(m[0].estimator is scaler for m in learner.committee_)
    assert len(learner.query(X, 5, exclude=np.arange(12))) == 5


def test_simulate_fits_label_free_steps_on_the_pool(texts) -> None:
    X, y = texts
    model = make_pipeline(PoolTextFeatures(embeddings=None), LogisticRegression(C=10, max_iter=500))
    curve = simulate(
        model, X, y, initial=20, batch_size=20, budget=60, random_state=0, progress=False
    )
    assert curve["n_labels"].tolist() == [20, 40, 60]
    assert curve["accuracy"].iloc[-1] > 0.7


def test_x_unlabeled_is_checked() -> None:
    learner = ActiveLearner(make_pipeline(StandardScaler(), LogisticRegression()))
    with pytest.raises(InvalidInputError, match="X_unlabeled"):
        learner.fit(np.eye(4), [0, 1, 0, 1], X_unlabeled=np.ones((3, 4, 2)))
    with pytest.raises(InvalidInputError, match="X_unlabeled"):
        learner.fit(np.eye(4), [0, 1, 0, 1], X_unlabeled=np.full((3, 4), np.inf))


def test_pool_fingerprint_sees_size_and_content() -> None:
    X = np.arange(20.0).reshape(10, 2)
    assert pool_fingerprint(X) == pool_fingerprint(X.copy())
    assert pool_fingerprint(X) != pool_fingerprint(X[:9])
    Y = X.copy()
    Y[9, 1] = -1
    assert pool_fingerprint(X) != pool_fingerprint(Y)
    assert pool_fingerprint(sp.csr_matrix(X)) == pool_fingerprint(sp.csr_matrix(X))


def _embed(texts: list[str]) -> np.ndarray:
    return np.array([[1.0, 0.0] if "a" in t else [0.0, 1.0] for t in texts])


def test_description_rows_in_the_input_space_of_x() -> None:
    desc = {0: "about a", 1: "about b"}
    model = make_pipeline(PrecomputedEmbeddings(_embed), LogisticRegression())
    X2, y2 = with_description_rows(model, np.eye(2)[[0, 0]], np.array([0, 0]), desc)
    assert X2.shape == (4, 2) and y2.tolist() == [0, 0, 0, 1]
    text_model = make_pipeline(TfidfVectorizer(), LogisticRegression())  # no description_rows
    same, labels = with_description_rows(text_model, ["x"], np.array(["a"]), {"a": "A", "b": "B"})
    assert same == ["x"] and labels.tolist() == ["a"]
