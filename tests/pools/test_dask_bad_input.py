"""Dask pools that cannot be scored get a clear error naming the fix."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp
from pool_helpers import first_labels, make_pool, require_dask
from sklearn.linear_model import LogisticRegression

from alwidgets import ActiveLearner
from alwidgets.exceptions import InvalidInputError
from alwidgets.pools import fetch_rows

da = require_dask()

X, Y = make_pool(600)
LABELED = first_labels(Y)


@pytest.fixture
def fitted() -> ActiveLearner:
    return ActiveLearner(LogisticRegression(max_iter=300), random_state=0).fit(
        X[LABELED], Y[LABELED]
    )


def test_unknown_chunk_sizes_name_compute_chunk_sizes(fitted: ActiveLearner) -> None:
    pool = da.from_array(X, chunks=(100, 6))
    unknown = pool[pool[:, 0] > -100]  # boolean indexing: row counts unknown until computed
    with pytest.raises(InvalidInputError, match=r"compute_chunk_sizes\(\)"):
        fitted.query(unknown, 5)
    assert len(fitted.query(unknown.compute_chunk_sizes(), 5)) == 5


def test_columns_in_several_chunks_are_rechunked_with_a_note(fitted: ActiveLearner) -> None:
    pool = da.from_array(X, chunks=(100, 2))
    with pytest.warns(UserWarning, match=r"chunks=\(rows, -1\)"):
        got = fitted.query(pool, 5, exclude=LABELED)
    expected = ActiveLearner(LogisticRegression(max_iter=300), random_state=0).fit(
        X[LABELED], Y[LABELED]
    )
    np.testing.assert_array_equal(got, expected.query(X, 5, exclude=LABELED))


@pytest.mark.parametrize(
    ("pool", "match"),
    [
        (lambda: da.from_array(X[:, :4], chunks=(100, 4)), "fitted on 6"),
        (lambda: da.from_array(X.astype(str), chunks=(100, 6)), r"astype\('float32'\)"),
        (lambda: da.from_array(X[:, 0], chunks=100), "2-D"),
        (lambda: da.from_array(X, chunks=(100, 6)).map_blocks(sp.csr_matrix), "sparse"),
    ],
    ids=["width", "dtype", "1-D", "sparse"],
)
def test_refused_pools(fitted: ActiveLearner, pool: Any, match: str) -> None:
    """Refused from the array's metadata alone: no block is computed, the learner is as it was."""
    from dask.callbacks import Callback

    bad, before = pool(), dict(vars(fitted))
    graphs: list[int] = []
    with Callback(start=lambda dsk: graphs.append(len(dsk))):
        with pytest.raises(InvalidInputError, match=match):
            fitted.query(bad, 5)
        assert graphs == [], "the pool was computed before it was refused"
        assert vars(fitted).keys() == before.keys()
        assert all(vars(fitted)[k] is v for k, v in before.items())
        fitted.query(da.from_array(X, chunks=(100, 6)), 5)  # the callback does see a query
    assert graphs, "no graph ran for a good pool: the check above could not fail"


def test_dask_dataframe_is_refused_with_the_conversion() -> None:
    import dask.dataframe as dd
    import pandas as pd

    frame = dd.from_pandas(pd.DataFrame(X), npartitions=3)
    lrn = ActiveLearner(LogisticRegression(), random_state=0)
    with pytest.raises(InvalidInputError, match=r"to_dask_array\(lengths=True\)"):
        lrn.query(frame, 5)


def test_nan_in_a_block_names_the_row(fitted: ActiveLearner) -> None:
    bad = X.copy()
    bad[345, 2] = np.nan
    with pytest.raises(InvalidInputError, match="first at row 345"):
        fitted.query(da.from_array(bad, chunks=(100, 6)), 5)


def test_bad_exclude_and_positions(fitted: ActiveLearner) -> None:
    pool = da.from_array(X, chunks=(100, 6))
    with pytest.raises(InvalidInputError, match=r"outside \[0, 600\)"):
        fitted.query(pool, 5, exclude=[600])
    with pytest.raises(InvalidInputError, match="one entry per pool row"):
        fitted.query(pool, 5, exclude=np.zeros(10, dtype=bool))
    with pytest.raises(InvalidInputError, match=r"\[0, 600\)"):
        fetch_rows(pool, [-1])


def test_a_whole_pool_selector_is_refused(fitted: ActiveLearner) -> None:
    def first_rows(ctx: Any, n: int, rng: Any) -> Any:
        return np.arange(n)

    lrn = ActiveLearner(LogisticRegression(max_iter=300), first_rows, random_state=0)
    lrn.fit(X[LABELED], Y[LABELED])
    with pytest.raises(InvalidInputError, match="cannot run blockwise"):
        lrn.query(da.from_array(X, chunks=(100, 6)), 5)
    assert len(lrn.query(X, 5)) == 5  # still fine in memory


def test_simulate_and_compare_stay_in_memory() -> None:
    from alwidgets import compare, simulate

    pool = da.from_array(X, chunks=(100, 6))
    with pytest.raises(InvalidInputError, match="run in memory"):
        simulate(LogisticRegression(), pool, Y, budget=30, progress=False)
    with pytest.raises(InvalidInputError, match="run in memory"):
        compare(LogisticRegression(), pool, Y, seeds=1, budget=30, progress=False)
