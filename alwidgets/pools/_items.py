"""What the app shows for a Dask pool: items fetched only for the cards on screen.

:class:`LazyItems` answers ``items[pos]`` (what the app's card builder asks) without
holding the items: from a Dask DataFrame or Series it fetches only that row
(from the partition holding it) (row counts per partition are computed once), and from a
function it calls ``fn(item_id)``. :func:`dask_ids` gives the ids of a Dask pool:
``range(n)`` for an array (nothing stored), the index for a DataFrame.

Examples
--------
>>> import pandas as pd, dask.dataframe as dd
>>> frame = dd.from_pandas(pd.DataFrame({"text": list("abcdefg")}), npartitions=3)
>>> items = LazyItems(frame["text"], ids=range(7))
>>> items[5], len(items)
('f', 7)
>>> LazyItems(lambda item_id: f"item {item_id}", ids=["x", "y"])[1]
'item y'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from alwidgets.exceptions import InvalidInputError
from alwidgets.pools._check import check_dask_pool, is_dask_array, is_dask_collection
from alwidgets.pools._compute import run_graph

__all__ = ["LazyItems", "dask_ids", "dask_pool_features"]


def dask_ids(X: Any) -> Sequence[Any]:
    """Item ids of a Dask pool: ``range(n)`` for an array, the computed index for a DataFrame."""
    if is_dask_array(X):
        return range(int(X.shape[0]))
    index = run_graph([], X.index)
    return list(index)


def dask_pool_features(X: Any, *, name: str = "X") -> Any:
    """The Dask array a model scores: ``X`` itself, or a DataFrame's numeric columns with known lengths."""
    if is_dask_collection(X) and not is_dask_array(X):
        frame = X.to_frame() if not hasattr(X, "columns") else X
        numeric = frame.select_dtypes("number")
        if numeric.shape[1] != frame.shape[1]:
            dropped = [c for c in frame.columns if c not in set(numeric.columns)]
            raise InvalidInputError(
                f"{name} has non-numeric columns {dropped[:5]}; pass the model's features "
                "(numeric columns) as X and the rest as items=."
            )
        X = numeric.to_dask_array(lengths=True)
    return check_dask_pool(X, name=name)


def _rows_at(frame: Any, local: int) -> Any:
    return frame.iloc[[local]]


class LazyItems:
    """``items[pos]`` for a pool whose items are not in the kernel.

    Parameters
    ----------
    source : Dask array, DataFrame or Series, or callable
        Where the items live, or ``fn(item_id) -> item``.
    ids : sequence
        The pool's ids by position (what a function is called with).
    """

    def __init__(self, source: Any, ids: Sequence[Any]) -> None:
        self.source, self.ids = source, ids
        self._offsets: np.ndarray | None = None
        if not callable(source) and not is_dask_collection(source):
            raise InvalidInputError(
                "items for a Dask pool must be a Dask array, DataFrame or Series column, or a "
                f"function item_id -> item, got {type(source).__name__}."
            )

    def __len__(self) -> int:
        return len(self.ids)

    def _starts(self) -> np.ndarray:
        if self._offsets is None:
            lengths = np.asarray(run_graph([], self.source.map_partitions(len)), dtype=np.int64)
            self._offsets = np.concatenate([[0], np.cumsum(lengths)])
            if self._offsets[-1] != len(self.ids):
                raise InvalidInputError(
                    f"items has {int(self._offsets[-1])} rows but the pool has {len(self.ids)}; "
                    "pass one item per pool row."
                )
        return self._offsets

    def __getitem__(self, pos: Any) -> Any:
        pos = int(pos)
        if is_dask_array(self.source):
            from alwidgets.pools._rows import fetch_rows

            return fetch_rows(self.source, [pos])[0]
        if is_dask_collection(self.source):
            starts = self._starts()
            part = int(np.searchsorted(starts, pos, side="right")) - 1
            local = pos - int(starts[part])
            one = self.source.partitions[part].map_partitions(
                _rows_at, local, meta=self.source._meta
            )
            return run_graph([], one).iloc[0]  # only that row leaves the worker
        fn: Callable[[Any], Any] = self.source
        return fn(self.ids[pos])
