"""ActiveLearner: scikit-learn conventions, chunked queries, cold start, committees, errors."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import make_column_transformer
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.feature_selection import SelectKBest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from threadpoolctl import threadpool_limits

from alwidgets import (
    ActiveLearner,
    EstimatorError,
    InvalidInputError,
    NotFittedError,
    UnknownStrategyError,
)
from alwidgets.strategies import QueryByCommittee, available_strategies, get_strategy


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    return make_classification(
        n_samples=300, n_features=6, n_informative=4, n_classes=3, random_state=1
    )


def _labeled(y: np.ndarray, per_class: int = 3) -> np.ndarray:
    return np.concatenate([np.flatnonzero(y == c)[:per_class] for c in np.unique(y)])


# ------------------------------------------------------------- conventions
def test_init_only_stores_parameters_and_clone_works() -> None:
    est = LogisticRegression()
    learner = ActiveLearner(est, strategy="entropy", random_state=4, chunk_size=100)
    assert learner.get_params(deep=False) == {
        "estimator": est,
        "strategy": "entropy",
        "random_state": 4,
        "chunk_size": 100,
        "descriptions": None,
        "train_on_descriptions": True,
        "describe_per_class": 3,
    }
    assert not learner.is_fitted
    assert not [k for k in vars(learner) if k.endswith("_")]
    copy = clone(learner)
    assert copy.get_params()["strategy"] == "entropy" and copy.estimator is not est


def test_fit_clones_and_returns_self(data) -> None:
    X, y = data
    est = LogisticRegression()
    learner = ActiveLearner(est)
    lab = _labeled(y)
    assert learner.fit(X[lab], y[lab]) is learner
    assert learner.is_fitted
    assert not hasattr(est, "coef_"), "the user's estimator is never fitted"
    assert learner.estimator_ is not est
    assert learner.classes_.tolist() == [0, 1, 2]
    assert learner.n_features_in_ == 6
    assert learner.committee_ is None


def test_pass_throughs_match_the_fitted_estimator(data) -> None:
    X, y = data
    learner = ActiveLearner(LogisticRegression()).fit(X[:100], y[:100])
    assert np.array_equal(learner.predict_proba(X), learner.estimator_.predict_proba(X))
    assert np.array_equal(learner.predict(X), learner.estimator_.predict(X))
    assert learner.score(X, y) == pytest.approx(np.mean(learner.predict(X) == y))


@pytest.mark.parametrize("method", ["predict", "predict_proba"])
def test_prediction_before_fit_raises(data, method: str) -> None:
    with pytest.raises(NotFittedError, match=r"call fit\(X_labeled, y\) first"):
        getattr(ActiveLearner(LogisticRegression()), method)(data[0])
    with pytest.raises(NotFittedError):
        ActiveLearner(LogisticRegression()).score(data[0], data[1])


# ------------------------------------------------------------------- query
def test_query_returns_best_first_and_keeps_scores(data) -> None:
    X, y = data
    lab = _labeled(y)
    learner = ActiveLearner(LogisticRegression(), "margin", random_state=0).fit(X[lab], y[lab])
    idx = learner.query(X, 10, exclude=lab)
    s = learner.scores_
    assert s.dtype == np.float64 and s.shape == (len(X),)
    assert np.isnan(s[lab]).all()
    assert np.all(np.diff(s[idx]) <= 0)
    rest = np.setdiff1d(np.setdiff1d(np.arange(len(X)), idx), lab)
    assert s[idx].min() >= s[rest].max()


def test_bool_mask_and_positions_are_the_same_exclusion(data) -> None:
    X, y = data
    lab = _labeled(y)
    mask = np.zeros(len(X), dtype=bool)
    mask[lab] = True
    a = ActiveLearner(LogisticRegression(), random_state=0).fit(X[lab], y[lab])
    b = ActiveLearner(LogisticRegression(), random_state=0).fit(X[lab], y[lab])
    assert np.array_equal(a.query(X, 5, exclude=lab), b.query(X, 5, exclude=mask))


def test_query_before_fit_uses_cold_start(data) -> None:
    X, _ = data
    learner = ActiveLearner(LogisticRegression(), "margin", random_state=0)
    idx = learner.query(X, 6)
    assert learner.last_strategy_ == "cold_start"
    assert len(set(idx.tolist())) == 6
    assert not learner.is_fitted
    rnd = ActiveLearner(LogisticRegression(), "random", random_state=0)
    rnd.query(X, 6)
    assert rnd.last_strategy_ == "random", "random needs no model"


def test_seeds_make_queries_reproducible(data) -> None:
    X, _ = data
    runs = [
        ActiveLearner(LogisticRegression(), "random", random_state=s).query(X, 8) for s in (1, 1, 2)
    ]
    assert np.array_equal(runs[0], runs[1]) and not np.array_equal(runs[0], runs[2])
    rng = np.random.default_rng(0)
    a = ActiveLearner(LogisticRegression(), "random", random_state=rng)
    assert not np.array_equal(a.query(X, 8), a.query(X, 8)), "one generator, consumed"


def test_set_params_changes_the_strategy(data) -> None:
    X, y = data
    lab = _labeled(y)
    learner = ActiveLearner(LogisticRegression(), "margin", random_state=0).fit(X[lab], y[lab])
    learner.query(X, 3)
    learner.set_params(strategy="entropy")
    learner.query(X, 3)
    assert learner.last_strategy_ == "entropy"


def test_sparse_and_dataframe_pools(data) -> None:
    X, y = data
    lab = _labeled(y)
    learner = ActiveLearner(LogisticRegression(), random_state=0).fit(X[lab], y[lab])
    assert len(learner.query(sp.csr_matrix(X), 4)) == 4
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)])
    df["color"] = np.where(y == 0, "red", "blue")
    pipe = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["color"]), remainder=StandardScaler()),
        LogisticRegression(),
    )
    for strategy in ("margin", "coreset", "badge", "cold_start"):
        frame_learner = ActiveLearner(pipe, strategy, random_state=0)
        first = frame_learner.query(df, 4)  # before fit: preprocessing fitted without labels
        frame_learner.fit(df.iloc[lab], y[lab])
        nxt = frame_learner.query(df, 4, exclude=lab)
        assert len(first) == len(nxt) == 4 and not set(nxt.tolist()) & set(lab.tolist())


def test_raw_text_with_a_vectorizer_pipeline() -> None:
    words = ["cheap", "pills", "meeting", "lunch", "offer", "report", "win", "notes"]
    rng = np.random.default_rng(0)
    texts = np.array([" ".join(rng.choice(words, 5)) for _ in range(120)], dtype=object)
    y = np.array([int("cheap" in t or "win" in t) for t in texts])
    pipe = make_pipeline(TfidfVectorizer(), LogisticRegression())
    for strategy in ("margin", "badge", "coreset", "cluster_margin", "density", "qbc"):
        learner = ActiveLearner(pipe, strategy, random_state=0)
        first = learner.query(texts, 8)
        assert learner.last_strategy_ == "cold_start"
        lab = np.r_[first, np.flatnonzero(y == 0)[:2], np.flatnonzero(y == 1)[:2]]
        learner.fit(texts[lab], y[lab])
        nxt = learner.query(texts, 8, exclude=lab)
        assert len(nxt) == 8 and not set(nxt.tolist()) & set(lab.tolist())


def test_nan_friendly_estimators_accept_nan(data) -> None:
    X, y = data
    Xn = X.copy()
    Xn[::7, 0] = np.nan
    learner = ActiveLearner(HistGradientBoostingClassifier(max_iter=5), random_state=0)
    learner.fit(Xn[:60], y[:60])
    assert len(learner.query(Xn, 5)) == 5


# --------------------------------------------------------------- committee
def test_committee_is_bagged_seeded_and_sized(data) -> None:
    X, y = data
    lab = _labeled(y, 5)
    strat = QueryByCommittee(n_members=3)
    a = ActiveLearner(RandomForestClassifier(n_estimators=5), strat, random_state=0)
    a.fit(X[lab], y[lab])
    assert len(a.committee_) == 3
    seeds = {m.random_state for m in a.committee_}
    assert len(seeds) == 3, "members get distinct seeds"
    for m in a.committee_:
        assert m.classes_.tolist() == [0, 1, 2], "stratified bootstrap keeps every class"
    b = ActiveLearner(
        RandomForestClassifier(n_estimators=5), QueryByCommittee(n_members=3), random_state=0
    ).fit(X[lab], y[lab])
    assert np.array_equal(a.query(X, 5), b.query(X, 5))
    default = ActiveLearner(LogisticRegression(), "qbc", random_state=0).fit(X[lab], y[lab])
    assert len(default.committee_) == 5


# ---------------------------------------------------------------- memory
def test_extra_memory_does_not_grow_with_the_pool() -> None:
    """Peak traced memory of a margin query minus ``scores_`` stays at about one chunk."""
    rng = np.random.default_rng(0)
    X_lab = rng.normal(size=(60, 8)).astype(np.float32)
    y_lab = np.arange(60) % 4
    learner = ActiveLearner(LogisticRegression(), "margin", random_state=0, chunk_size=4096)
    learner.fit(X_lab, y_lab)
    extra = []
    for n_pool in (50_000, 200_000):
        pool = rng.normal(size=(n_pool, 8)).astype(np.float32)
        learner.query(pool[:5000], 3)  # warm up
        tracemalloc.start()
        learner.query(pool, 10)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        extra.append(peak - 8 * n_pool)  # minus scores_ (float64 per row)
    assert extra[1] < 4 * 2**20, extra
    assert extra[1] < extra[0] + 2**20, f"grew with the pool: {extra}"


# ---------------------------------------------------------------- errors
def test_estimator_without_predict_proba(data) -> None:
    X, y = data
    with pytest.raises(EstimatorError, match="no predict_proba"):
        ActiveLearner(SVC()).query(X, 3)  # caught before the first fit, too
    with pytest.raises(InvalidInputError, match="chunk_size must be a positive integer"):
        ActiveLearner(LogisticRegression(), chunk_size=0).query(X, 3)
    with pytest.raises(EstimatorError, match=r"CalibratedClassifierCV\(SVC\(\), ensemble=False\)"):
        ActiveLearner(SVC()).fit(X, y)
    calibrated = CalibratedClassifierCV(SVC(), ensemble=False)
    assert len(ActiveLearner(calibrated).fit(X[:60], y[:60]).query(X, 3)) == 3


@pytest.mark.parametrize("n", [0, -1, 2.5, "3"])
def test_bad_n(data, n: object) -> None:
    with pytest.raises(InvalidInputError, match="positive integer"):
        ActiveLearner(LogisticRegression()).query(data[0], n)  # type: ignore[arg-type]


def test_one_class_and_bad_labels(data) -> None:
    X, y = data
    with pytest.raises(InvalidInputError, match="only one class"):
        ActiveLearner(LogisticRegression()).fit(X[:5], np.zeros(5))
    with pytest.raises(InvalidInputError, match="X has 5 rows but y has 4"):
        ActiveLearner(LogisticRegression()).fit(X[:5], y[:4])
    with pytest.raises(InvalidInputError, match="continuous"):
        ActiveLearner(LogisticRegression()).fit(X[:5], np.linspace(0, 1, 5))


def test_nan_in_pool_or_training_data(data) -> None:
    X, y = data
    bad = X.copy()
    bad[3, 2] = np.nan
    learner = ActiveLearner(LogisticRegression()).fit(X[:60], y[:60])
    with pytest.raises(InvalidInputError, match=r"X_pool contains .*row 3.*SimpleImputer"):
        learner.query(bad, 3)
    with pytest.raises(InvalidInputError, match="SimpleImputer"):
        ActiveLearner(LogisticRegression()).fit(bad[:60], y[:60])


def test_wrong_shapes(data) -> None:
    X, y = data
    learner = ActiveLearner(LogisticRegression()).fit(X[:60], y[:60])
    with pytest.raises(InvalidInputError, match="fitted on 6"):
        learner.query(X[:, :4], 3)
    with pytest.raises(InvalidInputError, match="2-D"):
        learner.query(X[:, 0], 3)
    with pytest.raises(InvalidInputError, match="outside the pool"):
        learner.query(X, 3, exclude=[len(X)])


def test_unknown_strategy_at_query(data) -> None:
    with pytest.raises(
        UnknownStrategyError, match="available: adaptive, auto, badge, cluster_margin"
    ):
        ActiveLearner(LogisticRegression(), "bald").query(data[0], 3)


# ---------------------------------------------------------- property test
@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 40),
    excluded=st.sets(st.integers(0, 59), max_size=60),
    strategy=st.sampled_from(
        [s for s in available_strategies("single") if "descriptions" not in get_strategy(s).needs]
    ),
)
def test_query_invariants(n: int, excluded: set[int], strategy: str) -> None:
    X, y = make_classification(
        n_samples=60, n_features=4, n_informative=2, n_redundant=0, random_state=0
    )
    lab = np.r_[np.flatnonzero(y == 0)[:3], np.flatnonzero(y == 1)[:3]]
    learner = ActiveLearner(LogisticRegression(), strategy, random_state=0).fit(X[lab], y[lab])
    exclude = sorted(excluded)
    idx = learner.query(X, n, exclude=exclude)
    assert len(idx) == min(n, 60 - len(excluded))
    assert len(set(idx.tolist())) == len(idx)
    assert not set(idx.tolist()) & excluded
    assert np.isnan(learner.scores_[exclude]).all()


def test_cold_start_needs_numeric_features_or_unsupervised_preprocessing(data) -> None:
    X, _ = data
    df = pd.DataFrame({"color": ["red", "blue"] * 10, "size": np.arange(20.0)})
    with pytest.raises(InvalidInputError, match=r"numeric features.*OneHotEncoder"):
        ActiveLearner(LogisticRegression()).query(df, 3)
    supervised = make_pipeline(SelectKBest(k=2), LogisticRegression())
    with pytest.raises(EstimatorError, match="strategy='random' for the first batch"):
        ActiveLearner(supervised).query(X, 3)
    assert len(ActiveLearner(supervised, "random").query(X, 3)) == 3


def test_sparse_pool_with_nan_is_reported(data) -> None:
    X, y = data
    learner = ActiveLearner(LogisticRegression()).fit(X[:60], y[:60])
    bad = sp.csr_matrix(X)
    bad.data[5] = np.inf
    with pytest.raises(
        InvalidInputError, match=r"1 NaN/inf stored value\(s\) in 1 row\(s\) \(first at row 0\)"
    ):
        learner.query(bad, 3)


def test_ranking_most_of_the_pool_is_sorted_and_complete(data) -> None:
    X, y = data
    lab = _labeled(y)
    learner = ActiveLearner(LogisticRegression(), random_state=0, chunk_size=50).fit(X[lab], y[lab])
    ranked = learner.query(X, 250, exclude=lab)  # more than a chunk: ranked once at the end
    s = learner.scores_
    assert len(ranked) == 250 and not set(ranked.tolist()) & set(lab.tolist())
    assert np.all(s[ranked][:-1] >= s[ranked][1:])
    rest = np.setdiff1d(np.setdiff1d(np.arange(len(X)), ranked), lab)
    assert s[ranked].min() >= s[rest].max()


def test_fitted_learner_with_pool_cache_pickles() -> None:
    """A learner that cached per-pool work (cluster-margin) still pickles, e.g. to a worker."""
    import pickle

    from sklearn.datasets import load_iris
    from sklearn.linear_model import LogisticRegression

    X, y = load_iris(return_X_y=True)
    learner = ActiveLearner(
        LogisticRegression(max_iter=500), strategy="cluster_margin", random_state=0
    )
    learner.fit(X[::5], y[::5])
    first = learner.query(X, 5)
    assert learner._pool_cache._held is not None  # the cache exists
    clone_ = pickle.loads(pickle.dumps(learner))
    assert clone_._pool_cache._held is None  # a weak reference to the pool is not pickled
    np.testing.assert_array_equal(clone_.predict(X), learner.predict(X))
    assert len(clone_.query(X, 5)) == len(first)
