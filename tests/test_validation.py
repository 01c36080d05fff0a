"""Shared input checks: every bad input gets a typed error that names the fix."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from hypothesis import example, given, settings
from hypothesis import strategies as st
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.svm import SVC

from alwidgets._check_classes import (
    check_classes,
    check_eval_set,
    check_label,
    check_oracle,
    check_oracle_noise,
)
from alwidgets._validation import (
    allows_nan,
    check_estimator,
    check_exclude,
    check_ids,
    check_int,
    check_n,
    check_team,
    check_X,
    check_y,
    nonfinite_block,
    resolve_seed,
)
from alwidgets.exceptions import (
    ALWidgetsError,
    DuplicateIdError,
    EstimatorError,
    InvalidInputError,
    UnknownLabelError,
)


class TestCheckX:
    def test_accepts_arrays_sparse_frames_without_copying(self) -> None:
        X = np.ones((4, 2))
        assert check_X(X) is X
        df = pd.DataFrame({"a": [1.0, 2.0], "txt": ["x", "y"]})
        assert check_X(df) is df
        csr = sp.csr_matrix(X)
        assert check_X(csr) is csr
        assert check_X(sp.coo_matrix(X)).format == "csr"
        assert check_X([[1, 2], [3, 4]]).shape == (2, 2)

    def test_nan_in_array_names_row_and_column_and_suggests_imputation(self) -> None:
        X = np.zeros((70_000, 3))
        X[66_000, 2] = np.nan
        X[66_001, 0] = np.inf
        with pytest.raises(InvalidInputError) as info:
            check_X(X)
        msg = str(info.value)
        assert "2 NaN/inf value(s) in 2 row(s)" in msg
        assert "first at row 66000, column 2" in msg
        assert "SimpleImputer" in msg

    def test_nan_in_dataframe_names_the_column(self) -> None:
        df = pd.DataFrame({"age": [1.0, np.nan], "name": ["a", "b"]})
        with pytest.raises(InvalidInputError, match=r"column 'age'.*SimpleImputer"):
            check_X(df)

    def test_nan_in_sparse(self) -> None:
        X = sp.csr_matrix(np.array([[0.0, np.nan], [1.0, 0.0]]))
        with pytest.raises(InvalidInputError, match="1 NaN/inf stored value"):
            check_X(X)

    def test_allow_nan_still_rejects_inf(self) -> None:
        X = np.array([[np.nan, 1.0]])
        assert check_X(X, allow_nan=True) is X
        with pytest.raises(InvalidInputError, match="inf value"):
            check_X(np.array([[np.inf, 1.0]]), allow_nan=True)

    def test_huge_finite_values_are_not_mistaken_for_inf(self) -> None:
        X = np.full((10, 2), np.finfo(np.float32).max, dtype=np.float32)
        assert check_X(X) is X  # the fast sum overflows; the exact check clears it

    @pytest.mark.parametrize(
        ("X", "match"),
        [
            (np.ones(3), "2-D.*reshape"),
            (np.ones((2, 2, 2)), "flatten"),
            (np.ones((0, 2)), "0 row"),
            (np.array([["a", "b"]]), "not numbers"),
            (None, "is None"),
        ],
    )
    def test_bad_shapes_and_types(self, X: object, match: str) -> None:
        with pytest.raises(InvalidInputError, match=match):
            check_X(X)

    def test_raw_text_only_when_allowed(self) -> None:
        texts = np.array(["spam here", "ham there"], dtype=object)
        assert check_X(texts, allow_text=True) is texts
        assert len(check_X(["a b", "c"], allow_text=True)) == 2
        assert check_X(pd.Series(["x", "y"]), allow_text=True).shape == (2,)
        with pytest.raises(InvalidInputError, match="raw text must be a 1-D"):
            check_X(np.array([1.0, 2.0]), allow_text=True)
        with pytest.raises(InvalidInputError, match="2-D"):
            check_X(texts)


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.sampled_from([0.0, 1.5, -2.0, 1e308, -1e308, np.nan, np.inf, -np.inf]), max_size=12
    ),
    st.booleans(),
    st.sampled_from([np.float64, np.float32]),
)
@example([1e308, 1e308], False, np.float64)  # the sum overflows, every value is finite
@example([1e308, 1e308, np.nan], True, np.float64)
@example([0.0, -np.inf], True, np.float64)
def test_nonfinite_block_is_the_exact_test(
    values: list[float], allow_nan: bool, dtype: type
) -> None:
    """The fast path (a finite sum) never hides a NaN/inf, and huge finite values whose
    sum overflows are not mistaken for one."""
    with np.errstate(over="ignore"):
        block = np.array(values, dtype=dtype).reshape(-1, 1)
    exact = bool(np.isinf(block).any()) if allow_nan else not bool(np.isfinite(block).all())
    assert nonfinite_block(block, allow_nan) is exact


def test_nonfinite_block_integer_blocks_are_clean() -> None:
    assert nonfinite_block(np.array([[1, 2], [3, 4]]), allow_nan=False) is False
    assert nonfinite_block(np.array([True, False]), allow_nan=False) is False


class TestCheckY:
    def test_good_labels(self) -> None:
        assert check_y([0, 1, 1], 3).tolist() == [0, 1, 1]
        assert check_y(pd.Series(["a", "b"]), 2).tolist() == ["a", "b"]
        assert check_y(np.array([1.0, 2.0]), 2).dtype.kind == "f"

    def test_column_vector_warns_and_ravels_like_scikit_learn(self) -> None:
        from sklearn.exceptions import DataConversionWarning

        with pytest.warns(DataConversionWarning, match="column-vector y"):
            out = check_y(np.array([[0], [1], [1]]), 3)
        assert out.tolist() == [0, 1, 1]

    @pytest.mark.parametrize(
        ("y", "match"),
        [
            ([0, 0, 0], "only one class.*another class"),
            ([0, 1], "X has 3 rows but y has 2"),
            (None, "requires y to be passed"),
            ([0.5, 1.2, 2.0], "continuous"),
            ([0, np.nan, 1], "missing label"),
            (np.array([0, None, 1], dtype=object), "missing label"),
            (np.array([0, "a", 1], dtype=object), "mixes label types"),
            (np.array([{}, {}, {}], dtype=object), r"type \['dict'\]"),
            (np.array([1.5, 2, 3], dtype=object), r"type \['float'\]"),
            (np.zeros((3, 2)), "1-D"),
            (np.array([1 + 1j, 2, 3]), "integers, strings or booleans"),
        ],
    )
    def test_bad_labels(self, y: object, match: str) -> None:
        with pytest.raises(InvalidInputError, match=match):
            check_y(y, 3)


@pytest.mark.parametrize("n", [0, -3, 1.0, "5", None, True])
def test_check_n_rejects(n: object) -> None:
    with pytest.raises(InvalidInputError, match="positive integer"):
        check_n(n)


def test_check_n_accepts_numpy_ints() -> None:
    assert check_n(np.int32(4)) == 4


class TestCheckExclude:
    def test_positions_and_masks(self) -> None:
        assert check_exclude(None, 3) is None
        assert check_exclude([], 3) is None
        assert check_exclude(np.zeros(3, dtype=bool), 3) is None
        assert check_exclude([2, 2], 3).tolist() == [False, False, True]
        assert check_exclude(np.array([1.0]), 3).tolist() == [False, True, False]
        mask = np.array([True, False, False])
        out = check_exclude(mask, 3)
        assert out is not mask and out.tolist() == mask.tolist()

    @pytest.mark.parametrize(
        ("exclude", "match"),
        [
            ([3], "position 3, outside"),
            ([-1], "position -1, outside"),
            (np.array([True, False]), "mask of length 2"),
            (["a"], "integer positions"),
            ([[0, 1]], "1-D"),
        ],
    )
    def test_bad_exclude(self, exclude: object, match: str) -> None:
        with pytest.raises(InvalidInputError, match=match):
            check_exclude(exclude, 3)


class TestCheckEstimator:
    @pytest.mark.parametrize(
        "est",
        [
            LogisticRegression(),
            make_pipeline(SimpleImputer(), LogisticRegression()),
            CalibratedClassifierCV(SVC()),
            HistGradientBoostingClassifier(max_iter=5),
        ],
        ids=["classifier", "pipeline", "calibrated", "nan-tolerant"],
    )
    def test_accepts_classifiers_and_pipelines(self, est: Any) -> None:
        """The very object comes back (not a clone), unfitted and with its parameters."""
        params = est.get_params(deep=False)
        assert check_estimator(est) is est
        assert est.get_params(deep=False) == params
        assert not hasattr(est, "classes_"), "checking must not fit the estimator"

    @pytest.mark.parametrize(
        ("est", "match"),
        [
            (SVC(), r"CalibratedClassifierCV\(SVC\(\), ensemble=False\).*SVC\(probability=True\)"),
            (
                make_pipeline(SVC()),
                r"Pipeline has no predict_proba.*CalibratedClassifierCV\(SVC\(\)",
            ),
            (LogisticRegression, r"pass LogisticRegression\(\)"),
            (LinearRegression(), "regressor"),
            (object(), "no fit method"),
        ],
    )
    def test_rejects(self, est: object, match: str) -> None:
        with pytest.raises(EstimatorError, match=match) as info:
            check_estimator(est)
        assert isinstance(info.value, TypeError)

    def test_allows_nan(self) -> None:
        assert allows_nan(HistGradientBoostingClassifier())
        assert allows_nan(make_pipeline(SimpleImputer(), LogisticRegression()))
        assert not allows_nan(LogisticRegression())


def test_check_ids() -> None:
    assert check_ids(np.array([1, 2])) == [1, 2]
    assert type(check_ids(np.array([1, 2]))[0]) is int
    with pytest.raises(DuplicateIdError, match="'a' appears 2 times"):
        check_ids(["a", "a"])
    with pytest.raises(InvalidInputError, match="one id per item"):
        check_ids([1, 2], 3)
    with pytest.raises(InvalidInputError, match="hashable"):
        check_ids([[1], [2]])


class TestScalarArguments:
    def test_check_int(self) -> None:
        assert check_int(np.int8(3), "budget", 1, "total labels") == 3
        assert type(check_int(np.int64(0), "initial", 0, "start")) is int
        for bad in (True, 2.0, "2", -1):
            with pytest.raises(
                InvalidInputError, match=r"initial must be an integer >= 0 \(start\)"
            ):
                check_int(bad, "initial", 0, "start")

    def test_resolve_seed(self) -> None:
        assert resolve_seed(5) == 5 and resolve_seed(np.uint16(5)) == 5
        a, b = np.random.default_rng(1), np.random.default_rng(1)
        assert resolve_seed(a) == resolve_seed(b)  # drawn from the generator: replayable
        assert resolve_seed(None) != resolve_seed(None)  # fresh entropy (2**-64 to collide)
        with pytest.raises(InvalidInputError, match="must be >= 0, got -1"):
            resolve_seed(-1)
        for bad in (True, 1.5, "0"):
            with pytest.raises(InvalidInputError, match=r"pass e\.g\. random_state=0"):
                resolve_seed(bad)

    def test_check_team(self) -> None:
        assert check_team(np.int64(2), 0.5) == (2, 0.5)
        assert type(check_team(1, 60)[1]) is float
        for overlap in (0, True, 1.0, None):
            with pytest.raises(InvalidInputError, match="use 1 \\(no item twice\\)"):
                check_team(overlap, 60)
        for lease in (0, -1, np.inf, np.nan, True, "60"):
            with pytest.raises(InvalidInputError, match=r"e\.g\. lease_seconds=300"):
                check_team(1, lease)


class TestClassesAndLabels:
    def test_check_classes(self) -> None:
        assert check_classes(np.array([3, 1])) == [3, 1]
        assert type(check_classes(pd.Index([0, 1]))[0]) is int
        for bad, match in [
            ("ab", "must be a list of labels"),
            ({"a", "b"}, "must be a list of labels"),
            (["a"], "has 1 label"),
            ([1, 1], "1 appears twice"),
            ([True, False], "int or a str"),
            ([1.5, 2.5], "int or a str"),
        ]:
            with pytest.raises(InvalidInputError, match=match):
                check_classes(bad)

    def test_check_label(self) -> None:
        got = check_label(np.int64(1), [0, 1])
        assert got == 1 and type(got) is int
        with pytest.raises(UnknownLabelError, match=r"'1' is not one of the classes \[0, 1\]"):
            check_label("1", [0, 1])

    def test_check_eval_set(self) -> None:
        X_eval, y_eval = check_eval_set([np.zeros((3, 2)), ["a", "b", "a"]], ["a", "b"])
        assert X_eval.shape == (3, 2) and y_eval.tolist() == ["a", "b", "a"]
        with pytest.raises(InvalidInputError, match="a pair"):
            check_eval_set(np.zeros((3, 2)), ["a", "b"])
        with pytest.raises(InvalidInputError, match="3 rows but eval_set y has 2"):
            check_eval_set((np.zeros((3, 2)), ["a", "b"]), ["a", "b"])
        with pytest.raises(UnknownLabelError, match=r"labels \['c'\] that are not in"):
            check_eval_set((np.zeros((2, 2)), ["a", "c"]), ["a", "b"])

    def test_check_oracle(self) -> None:
        truth = np.array([0, 1, 1], dtype=np.int8)
        assert check_oracle(truth, [7, 8, 9], [0, 1]) is truth  # int labels: never copied
        got = check_oracle({7: "x", 8: "y"}.__getitem__, [7, 8], ["x", "y"])
        assert got.tolist() == ["x", "y"]
        assert check_oracle([np.int64(1), 0], ["a", "b"], [0, 1]).tolist() == [1, 0]
        with pytest.raises(UnknownLabelError, match=r"oracle has labels \[2\]"):
            check_oracle(np.array([0, 2]), [7, 8], [0, 1])
        with pytest.raises(UnknownLabelError, match=r"oracle has labels \['z'\]"):
            check_oracle(["x", "z"], [7, 8], ["x", "y"])
        with pytest.raises(InvalidInputError, match="2 labels but the pool has 3 items"):
            check_oracle(np.array([0, 1]), [7, 8, 9], [0, 1])

    def test_check_oracle_noise(self) -> None:
        assert check_oracle_noise(0, None) == 0.0
        assert check_oracle_noise(np.float32(0.25), [0]) == 0.25
        for bad in (1, 1.0, -0.1, True, "0.1"):
            with pytest.raises(InvalidInputError, match=r"a share in \[0, 1\)"):
                check_oracle_noise(bad, [0])
        with pytest.raises(InvalidInputError, match="pass oracle=y"):
            check_oracle_noise(0.1, None)


def test_every_error_is_an_alwidgets_error() -> None:
    for bad in (lambda: check_n(0), lambda: check_y([1], 1), lambda: check_X(np.ones(2))):
        with pytest.raises(ALWidgetsError):
            bad()


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 50), st.data())
def test_check_exclude_positions_and_masks_agree(n: int, data: st.DataObject) -> None:
    positions = data.draw(st.lists(st.integers(0, n - 1), max_size=2 * n))
    mask = check_exclude(positions, n)
    expected = np.zeros(n, dtype=bool)
    expected[positions] = True
    if positions:
        assert mask is not None and np.array_equal(mask, expected)
        again = check_exclude(mask, n)
        assert again is not None and np.array_equal(again, expected)
    else:
        assert mask is None
