"""ActiveLearner under scikit-learn's own estimator checks, and the contract they imply."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.exceptions
from sklearn.datasets import load_iris
from sklearn.ensemble import RandomForestClassifier
from sklearn.exceptions import SkipTestWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import check_estimator

import alwidgets
from alwidgets import ActiveLearner
from alwidgets.exceptions import ALWidgetsError, InvalidDtypeError, InvalidInputError
from alwidgets.strategies import QueryByCommittee


@pytest.mark.parametrize(
    "estimator",
    [
        ActiveLearner(LogisticRegression()),
        ActiveLearner(LogisticRegression(), strategy="qbc", random_state=0),
    ],
    ids=["margin", "qbc"],
)
def test_scikit_learn_estimator_checks(estimator: ActiveLearner) -> None:
    """Every check of ``sklearn.utils.estimator_checks.check_estimator`` passes.

    The one check scikit-learn itself skips is ``check_array_api_input``: it runs only
    with the environment variable ``SCIPY_ARRAY_API=1`` set before scipy is imported,
    and ActiveLearner does not claim Array API support.
    """
    with warnings.catch_warnings():  # the skip above is reported in the result, as asserted
        warnings.simplefilter("ignore", SkipTestWarning)
        results = check_estimator(estimator, on_fail=None)
    failed = {r["check_name"]: repr(r["exception"]) for r in results if r["status"] == "failed"}
    skipped = {r["check_name"] for r in results if r["status"] == "skipped"}
    assert failed == {}
    assert skipped <= {"check_array_api_input"}
    assert len(results) >= 55


def test_not_fitted_error_is_also_scikit_learns() -> None:
    learner = ActiveLearner(LogisticRegression())
    with pytest.raises(sklearn.exceptions.NotFittedError) as info:
        learner.predict(np.zeros((2, 2)))
    assert isinstance(info.value, ALWidgetsError)
    assert isinstance(info.value, alwidgets.NotFittedError)
    assert isinstance(info.value, RuntimeError)  # as before


def test_sparse_tag_follows_the_wrapped_estimator() -> None:
    assert get_tags(ActiveLearner(LogisticRegression())).input_tags.sparse
    learner = ActiveLearner(LogisticRegression()).fit(
        sp.csr_matrix(np.eye(4)), np.array([0, 1, 0, 1])
    )
    assert learner.predict(sp.csr_matrix(np.eye(4))).shape == (4,)


def test_error_messages_scikit_learn_users_rely_on() -> None:
    learner = ActiveLearner(LogisticRegression())
    X = np.ones((4, 2))
    with pytest.raises(InvalidInputError, match="requires y to be passed"):
        learner.fit(X, None)
    with pytest.raises(ValueError, match="Complex data not supported"):
        learner.fit(X + 1j, [0, 1, 0, 1])
    bad = X.astype(object)
    bad[0, 0] = {"a": 1}
    with pytest.raises(InvalidDtypeError, match=r"argument must be a string.* number"):
        learner.fit(bad, [0, 1, 0, 1])
    numbers_as_objects = np.arange(8.0).reshape(4, 2).astype(object)
    assert learner.fit(numbers_as_objects, [0, 1, 0, 1]).predict(numbers_as_objects).shape == (4,)


@pytest.mark.parametrize("strategy", ["qbc", QueryByCommittee("kl_max")], ids=["qbc", "kl_max"])
def test_fit_is_idempotent_for_a_given_random_state(strategy: object) -> None:
    X, y = load_iris(return_X_y=True)
    labeled = np.r_[0:8, 50:58, 100:108]
    learner = ActiveLearner(
        RandomForestClassifier(n_estimators=5), strategy=strategy, random_state=3
    )
    first = learner.fit(X[labeled], y[labeled])
    probs_1 = [m.predict_proba(X) for m in first.committee_]
    batch_1 = first.query(X, 10, exclude=labeled)
    learner.fit(X[labeled], y[labeled])  # the same learner, fitted again
    probs_2 = [m.predict_proba(X) for m in learner.committee_]
    batch_2 = learner.query(X, 10, exclude=labeled)
    for a, b in zip(probs_1, probs_2, strict=True):
        np.testing.assert_array_equal(a, b)
    assert batch_1.tolist() == batch_2.tolist()
    other = ActiveLearner(RandomForestClassifier(n_estimators=5), strategy=strategy, random_state=3)
    assert (
        other.fit(X[labeled], y[labeled]).query(X, 10, exclude=labeled).tolist() == batch_1.tolist()
    )
