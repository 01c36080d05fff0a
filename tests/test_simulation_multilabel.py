"""simulate / compare / the oracle loop with a multi-label indicator Y."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from threadpoolctl import threadpool_limits

from alwidgets import InvalidInputError, compare, simulate
from alwidgets.simulation import run_oracle_loop


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    X, Y = make_multilabel_classification(
        n_samples=400, n_features=8, n_classes=5, n_labels=2, random_state=3
    )
    return X.astype(float), Y


def _sim(X, Y, **kw):  # type: ignore[no-untyped-def]
    args = dict(initial=10, batch_size=10, budget=40, random_state=0, progress=False)
    return simulate(LogisticRegression(max_iter=500), X, Y, **(args | kw))


def test_curve_columns_and_scores(data) -> None:
    X, Y = data
    curve = _sim(X, Y)
    assert curve.columns.tolist() == [
        "strategy",
        "seed",
        "n_labels",
        "micro_f1",
        "macro_f1",
        "score",
        "classes_seen",
        "seconds",
    ]
    assert curve["strategy"].unique().tolist() == ["mmu"]  # "auto", resolved
    assert curve["n_labels"].tolist() == [10, 20, 30, 40]
    assert (curve["score"] == curve["micro_f1"]).all()
    assert curve[["micro_f1", "macro_f1"]].stack().between(0, 1).all()
    assert (
        curve["classes_seen"].between(1, 5).all() and curve["classes_seen"].is_monotonic_increasing
    )


def test_the_oracle_reveals_rows_and_the_curve_is_reproducible(data) -> None:
    X, Y = data
    curve = _sim(X, Y, strategy="mmc")
    order = curve.attrs["labeled_order"]
    test = curve.attrs["test_positions"]
    assert len(order) == 40 and len(set(order)) == 40 and not set(order) & set(test)
    # the last point, recomputed by hand from the labeled rows: the oracle gave rows of Y
    from alwidgets import ActiveLearner

    learner = ActiveLearner(LogisticRegression(max_iter=500)).fit(X[order], Y[order])
    micro = f1_score(Y[test], learner.predict(X[test]), average="micro", zero_division=0)
    assert curve["micro_f1"].iloc[-1] == pytest.approx(micro)
    again = _sim(X, Y, strategy="mmc")
    assert again.attrs["labeled_order"] == order
    assert np.allclose(again["micro_f1"], curve["micro_f1"])


def test_run_oracle_loop_fits_from_the_first_multi_label_row(data) -> None:
    X, Y = data
    rounds = []
    run_oracle_loop(
        LogisticRegression(), X, Y, "lci", start=[0], target=5, batch_size=2,
        random_state=0, on_round=lambda r: rounds.append((len(r.positions), r.fitted, r.labels.shape)),
    )  # fmt: skip
    assert rounds == [(1, True, (1, 5)), (3, True, (3, 5)), (5, True, (5, 5))]


def test_simulate_with_a_dataframe_and_a_given_test_set(data) -> None:
    X, Y = data
    frame = pd.DataFrame(Y, columns=list("abcde"))
    curve = _sim(X[:300], frame.iloc[:300], X_test=X[300:], y_test=frame.iloc[300:])
    assert curve.attrs["n_test"] == 100 and curve.attrs["test_positions"] is None


def test_compare_reports_micro_by_default_and_macro_on_request(data) -> None:
    X, Y = data
    common = dict(seeds=2, initial=10, batch_size=10, budget=60, progress=False)
    result = compare(
        LogisticRegression(max_iter=500), X, Y, ["auto", "mean_margin", "lci", "mmc"], **common
    )
    assert result.strategies == ["random", "mmu", "mean_margin", "lci", "mmc"]  # + the baseline
    assert result.metric == "micro_f1"
    per_seed = result.per_seed
    assert per_seed["full_score"].between(0, 1).all()
    macro = compare(LogisticRegression(max_iter=500), X, Y, ["mmc"], metric="macro_f1", **common)
    assert macro.metric == "macro_f1"
    full_micro = per_seed[per_seed["strategy"] == "random"]["full_score"].to_numpy()
    full_macro = macro.per_seed[macro.per_seed["strategy"] == "random"]["full_score"].to_numpy()
    assert not np.allclose(full_macro, full_micro)  # the full-data reference follows the metric


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(strategy="margin"), "'margin' is for single-label.*mean_margin"),
        (dict(strategy="qbc"), "'qbc' is for single-label"),
    ],
)
def test_single_label_strategies_are_refused_before_any_work(data, kwargs, match: str) -> None:
    X, Y = data
    with pytest.raises(InvalidInputError, match=match):
        _sim(X, Y, **kwargs)


def test_bad_targets_are_clear_errors(data) -> None:
    X, Y = data
    never = Y.copy()
    never[:, 2] = 0
    with pytest.raises(InvalidInputError, match="class 2 never occurs in y"):
        _sim(X, never)
    with pytest.raises(InvalidInputError, match="binary indicator"):
        _sim(X, Y * 3)
    with pytest.raises(InvalidInputError, match="X has 400 rows but y has 399"):
        _sim(X, Y[:-1])
    with pytest.raises(InvalidInputError, match="y_test is not"):
        _sim(X[:300], Y[:300], X_test=X[300:], y_test=Y[300:, 0])
    with pytest.raises(InvalidInputError, match="y has 5 classes but y_test has 4"):
        _sim(X[:300], Y[:300], X_test=X[300:], y_test=Y[300:, :4])
    with pytest.raises(InvalidInputError, match="unknown metric 'accuracy' for a multi-label"):
        compare(LogisticRegression(), X, Y, ["lci"], seeds=1, budget=20, metric="accuracy")
    with pytest.raises(InvalidInputError, match="'auto' stands for 'mmu'"):
        compare(LogisticRegression(), X, Y, ["mmu", "auto"], seeds=1, budget=20)


def test_single_label_default_is_still_margin(data) -> None:
    X, Y = data
    curve = _sim(X, Y[:, 0])
    assert curve["strategy"].unique().tolist() == ["margin"]
    assert "accuracy" in curve.columns and "micro_f1" not in curve.columns
