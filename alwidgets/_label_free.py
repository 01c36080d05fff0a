"""Leading Pipeline steps that need no labels: fit them once on the whole pool.

In active learning the labeled rows are few and the pool is all there is. A
Pipeline fit on the labeled rows only learns its scaling, encoding or projection from
a few dozen items. Steps that never look at ``y`` can learn from every item instead.

:func:`label_free_steps` counts the leading steps known to ignore ``y`` (a short,
conservative list of scikit-learn transformers, and any step that declares
``__alwidgets_label_free__ = True``, like :class:`~alwidgets.features.TextFeatures`);
:func:`prefit_label_free` fits them on the pool and returns the Pipeline with those
steps frozen (:class:`sklearn.frozen.FrozenEstimator`: ``fit`` is a no-op and
``clone`` keeps the fitted step), so every retrain and every committee member reuses
them. :func:`pool_fingerprint` tells whether a pool is the one they were fit on.

Examples
--------
>>> import numpy as np
>>> from sklearn.decomposition import PCA
>>> from sklearn.feature_selection import SelectKBest
>>> from sklearn.linear_model import LogisticRegression
>>> from sklearn.pipeline import make_pipeline
>>> from sklearn.preprocessing import StandardScaler
>>> label_free_steps(make_pipeline(StandardScaler(), PCA(2), LogisticRegression()))
2
>>> label_free_steps(make_pipeline(StandardScaler(), SelectKBest(k=2), LogisticRegression()))
1
>>> label_free_steps(LogisticRegression())
0
>>> pool = np.arange(20.0).reshape(10, 2)
>>> model = prefit_label_free(make_pipeline(StandardScaler(), LogisticRegression()), pool)
>>> model[0].mean_.tolist()  # the pool's mean, not the labeled rows'
[9.0, 10.0]
>>> _ = model.fit(pool[:2], [1, 0])
>>> model[0].mean_.tolist()  # the fit on two labeled rows did not refit the scaler
[9.0, 10.0]
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import clone

from alwidgets._check_x import check_X, is_dask_collection
from alwidgets._utils import n_rows, take_rows
from alwidgets.exceptions import InvalidInputError

__all__ = ["PrefitCache", "label_free_steps", "pool_fingerprint", "prefit_label_free"]

#: The scikit-learn transformers whose ``fit`` never reads ``y`` (exact classes: a
#: subclass may do anything) and whose pool statistics are simply better estimates.
#: Anything else stays fit on the labeled rows. Not the vocabulary-learning text
#: vectorizers (Count/Tfidf, TfidfTransformer): fit on the pool, a TF-IDF +
#: LogisticRegression model was worse at 20-50 labels on three text sets (a new text's row
#: spreads over words no label has seen, where a vocabulary of the labeled texts keeps
#: only known words, renormalised); see ``benchmarks/results/text.md``.
_KNOWN = {
    "sklearn.preprocessing": (
        "StandardScaler",
        "MinMaxScaler",
        "MaxAbsScaler",
        "RobustScaler",
        "Normalizer",
        "OneHotEncoder",
        "OrdinalEncoder",
    ),
    "sklearn.impute": ("SimpleImputer",),
    "sklearn.decomposition": ("PCA", "TruncatedSVD"),
}


def _known_types() -> tuple[type, ...]:
    import importlib

    out = []
    for module, names in _KNOWN.items():
        mod = importlib.import_module(module)
        out += [getattr(mod, n) for n in names]
    return tuple(out)


def _is_label_free(step: Any) -> bool:
    """True for a step known to ignore ``y`` (recursively for pipelines, unions, columns)."""
    if step is None or step in ("passthrough", "drop"):
        return True
    if getattr(type(step), "__alwidgets_label_free__", False) is True:
        return True
    if type(step) in _known_types():
        return True
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import FeatureUnion, Pipeline

    if type(step) is Pipeline:
        return all(_is_label_free(s) for _, s in step.steps)
    if type(step) is FeatureUnion:
        return all(_is_label_free(s) for _, s in step.transformer_list)
    if type(step) is ColumnTransformer:
        return _is_label_free(step.remainder) and all(
            _is_label_free(s) for _, s, _ in step.transformers
        )
    return False


def label_free_steps(estimator: Any) -> int:
    """How many leading steps of a Pipeline (never its last one) ignore ``y``.

    0 for anything that is not a :class:`sklearn.pipeline.Pipeline`. A step counts
    when it is one of scikit-learn's scalers (Standard/MinMax/MaxAbs/Robust,
    Normalizer), encoders (OneHot/Ordinal), SimpleImputer, PCA or TruncatedSVD —
    exactly those classes — a Pipeline, FeatureUnion or ColumnTransformer made only of
    them, or a step whose class sets ``__alwidgets_label_free__ = True`` (like
    ``TextFeatures``). Counting stops at the first step that does not. Not the text
    vectorizers that learn a vocabulary (see ``_KNOWN``).
    """
    from sklearn.pipeline import Pipeline

    if not isinstance(estimator, Pipeline):
        return 0
    count = 0
    for _, step in estimator.steps[:-1]:
        if not _is_label_free(step):
            break
        count += 1
    return count


def prefit_label_free(estimator: Any, X_pool: Any) -> Any:
    """A clone of ``estimator`` whose label-free leading steps are fit on ``X_pool`` and frozen.

    Parameters
    ----------
    estimator : Pipeline or any estimator
        Returned as an unfitted clone when it has no label-free leading step.
    X_pool : array-like, sparse matrix, DataFrame or sequence of str
        Every item (labeled or not).

    Returns
    -------
    estimator
        A Pipeline whose first :func:`label_free_steps` steps are fitted
        :class:`sklearn.frozen.FrozenEstimator` objects (shared by its clones) and whose
        other steps are unfitted clones.
    """
    from sklearn.frozen import FrozenEstimator
    from sklearn.pipeline import Pipeline

    k = label_free_steps(estimator)
    if k == 0:
        return clone(estimator)
    head = Pipeline([(name, clone(step)) for name, step in estimator.steps[:k]])
    head.fit(X_pool)
    steps = [(name, FrozenEstimator(step)) for name, step in head.steps]
    steps += [(name, clone(step)) for name, step in estimator.steps[k:]]
    return Pipeline(steps, memory=estimator.memory, verbose=estimator.verbose)


def _rows_digest(rows: Any) -> bytes:
    if sp.issparse(rows):
        csr = sp.csr_matrix(rows)
        return b"".join(
            np.ascontiguousarray(a).tobytes() for a in (csr.data, csr.indices, csr.indptr)
        )
    if hasattr(rows, "iloc"):
        import pandas as pd

        return pd.util.hash_pandas_object(rows, index=False).to_numpy().tobytes()
    arr = np.asarray(rows)
    if arr.dtype.kind in "OUS":
        return "\x1f".join(map(str, arr.ravel().tolist())).encode("utf-8", "surrogatepass")
    return np.ascontiguousarray(arr).tobytes()


def pool_fingerprint(X: Any, sample: int = 64) -> tuple[Any, ...]:
    """A cheap identity of a pool: its type, shape and a hash of ``sample`` evenly spaced rows.

    Two calls on the same pool agree; a pool of another size or with other rows at
    the sampled positions differs. Costs ``O(sample)`` rows, whatever the pool size.

    Examples
    --------
    >>> pool_fingerprint(["a", "b", "c"]) == pool_fingerprint(["a", "b", "c"])
    True
    >>> pool_fingerprint(["a", "b", "c"]) == pool_fingerprint(["a", "b", "d"])
    False
    """
    n = n_rows(X)
    positions = np.unique(np.linspace(0, max(n - 1, 0), num=min(sample, n)).astype(np.int64))
    digest = hashlib.sha256(_rows_digest(take_rows(X, positions)) if n else b"").hexdigest()
    return (type(X).__name__, n, tuple(getattr(X, "shape", (n,))), digest)


class PrefitCache:
    """One fitted label-free head per learner, kept while the pool stays the same.

    :meth:`model` returns :func:`prefit_label_free` of the estimator for a pool, fitting
    only when the estimator's parameters or the pool's :func:`pool_fingerprint` changed
    since the last call (a pool passed again is not fit again).
    """

    def __init__(self) -> None:
        self.key: tuple[Any, ...] | None = None
        self.prefit: Any = None
        self.fits = 0  # how many times the label-free steps were fit (for tests)

    def for_fit(self, estimator: Any, X_unlabeled: Any, *, allow_nan: bool) -> Any:
        """The estimator a learner clones for one fit: label-free steps fit on the pool.

        ``estimator`` itself without a pool or without such steps; a Dask pool is refused
        (the steps are fit on it in memory, once).
        """
        if X_unlabeled is None or label_free_steps(estimator) == 0:
            return estimator
        if is_dask_collection(X_unlabeled):
            raise InvalidInputError(
                "X_unlabeled must be in memory (the label-free steps are fit on it once); "
                "pass a sample of the Dask pool, e.g. X.compute() if it fits."
            )
        X_unlabeled = check_X(X_unlabeled, name="X_unlabeled", allow_nan=allow_nan, allow_text=True)
        return self.model(estimator, X_unlabeled)

    def model(self, estimator: Any, X_pool: Any) -> Any:
        if label_free_steps(estimator) == 0:
            return clone(estimator)
        key = (repr(estimator.get_params(deep=True)), pool_fingerprint(X_pool))
        if key != self.key:
            self.prefit = prefit_label_free(estimator, X_pool)
            self.key = key
            self.fits += 1
        return clone(self.prefit)
