"""Per-class decision thresholds of the multi-label model (SCut, out of fold)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from alwidgets import ActiveLearner, InvalidInputError
from alwidgets._multilabel import MultiLabelModel, as_multilabel
from alwidgets._thresholds import best_f1_threshold, check_threshold, cv_thresholds


@settings(max_examples=80, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.floats(0, 1, allow_nan=False), st.integers(0, 1)), min_size=1, max_size=30
    )
)
def test_best_f1_threshold_reaches_the_best_f1_of_any_cut(data) -> None:
    p = np.array([d[0] for d in data])
    y = np.array([d[1] for d in data])
    t = best_f1_threshold(p, y)
    got = f1_score(y, p >= t, zero_division=0)
    best = max(f1_score(y, p >= c, zero_division=0) for c in np.r_[p, 1.1])
    assert got == pytest.approx(best)


def test_check_threshold_names_both_forms() -> None:
    assert check_threshold("cv") == "cv" and check_threshold(0.25) == 0.25
    for bad in (0.0, 1.0, "CV", True, None, -0.1):
        with pytest.raises(InvalidInputError, match="probability in \\(0, 1\\) or 'cv'"):
            check_threshold(bad)
    with pytest.raises(ValueError):
        MultiLabelModel(LogisticRegression(), threshold=2).fit(np.eye(4), np.eye(4)[:, :2])


def test_cv_thresholds_fit_each_class_and_keep_half_without_enough_labels() -> None:
    X, Y = make_multilabel_classification(
        n_samples=200, n_features=5, n_classes=4, n_labels=1, random_state=0
    )
    Y[:, 3] = 0
    Y[0, 3] = 1  # one positive: cannot be judged out of fold
    t = cv_thresholds(LogisticRegression(), X, Y, np.array([0, 1, 2, 3]))
    assert t[3] == 0.5 and ((t > 0) & (t < 1)).all()
    # each threshold is the F1-best cut of that class's out-of-fold probabilities
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    for j in range(3):
        held = cross_val_predict(
            LogisticRegression(),
            X,
            Y[:, j],
            cv=StratifiedKFold(3, shuffle=True, random_state=0),
            method="predict_proba",
        )[:, 1]
        assert t[j] == pytest.approx(best_f1_threshold(held, Y[:, j]))


def test_model_with_cv_thresholds_predicts_with_them_and_helps_rare_classes() -> None:
    X, Y = make_multilabel_classification(
        n_samples=1200, n_features=10, n_classes=6, n_labels=1, random_state=1
    )
    train, test = slice(0, 300), slice(300, None)
    fixed = as_multilabel(make_pipeline(StandardScaler(), LogisticRegression())).fit(
        X[train], Y[train]
    )
    tuned = make_pipeline(StandardScaler(), MultiLabelModel(LogisticRegression(), threshold="cv"))
    tuned.fit(X[train], Y[train])
    model = tuned[-1]
    assert model.thresholds_.shape == (6,) and not np.allclose(model.thresholds_, 0.5)
    expected = (tuned.predict_proba(X[test]) >= model.thresholds_).astype(np.int64)
    np.testing.assert_array_equal(tuned.predict(X[test]), expected)
    np.testing.assert_array_equal(fixed[-1].thresholds_, np.full(6, 0.5))
    macro_fixed = f1_score(Y[test], fixed.predict(X[test]), average="macro")
    macro_tuned = f1_score(Y[test], tuned.predict(X[test]), average="macro")
    assert macro_tuned > macro_fixed


def test_the_learner_keeps_a_thresholded_model_and_a_fixed_threshold() -> None:
    X, Y = make_multilabel_classification(n_samples=120, n_features=5, n_classes=3, random_state=0)
    learner = ActiveLearner(MultiLabelModel(LogisticRegression(), threshold=0.3)).fit(X, Y)
    assert learner.estimator_.thresholds_.tolist() == [0.3, 0.3, 0.3]
    np.testing.assert_array_equal(learner.predict(X), learner.predict_proba(X) >= 0.3)
