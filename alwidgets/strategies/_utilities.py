"""Utilities: map model output to one score per item (higher = more worth labeling).

All functions are pure numpy, never modify their input, and return float64.

Examples
--------
>>> import numpy as np
>>> proba = np.array([[0.9, 0.1], [0.5, 0.5]])
>>> margin(proba)
array([0.2, 1. ])
>>> least_confidence(proba)
array([0.1, 0.5])
>>> entropy(proba).round(3)
array([0.325, 0.693])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from alwidgets.exceptions import InvalidInputError

__all__ = ["entropy", "kl_max", "knn_density", "least_confidence", "margin", "vote_entropy"]


def _proba(proba: Any, name: str = "proba") -> np.ndarray:
    arr = np.asarray(proba)
    if arr.ndim != 2 or arr.shape[1] < 1:
        raise InvalidInputError(
            f"{name} must have shape (n_items, n_classes), got {arr.shape}; pass the output "
            "of predict_proba."
        )
    if arr.dtype.kind not in "fiu":
        raise InvalidInputError(f"{name} must be numeric probabilities, got dtype {arr.dtype}.")
    return arr


def _columns(proba: np.ndarray) -> np.ndarray:
    """Class-major contiguous copy (n_classes, n_items) in float precision: fast row reductions."""
    dtype = proba.dtype if proba.dtype.kind == "f" else np.float64
    return np.ascontiguousarray(proba.T, dtype=dtype)


def _top_two(proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Largest and second-largest value per row, in the input's float precision.

    One contiguous pass per class over a transposed copy: for the handful of
    classes typical in labeling this is several times faster than ``np.partition``.
    """
    cols = _columns(proba)
    first = cols[0].copy()
    second = np.full(len(first), 0.0 if len(cols) == 1 else -np.inf, dtype=cols.dtype)
    tmp = np.empty_like(first)
    for col in cols[1:]:
        np.minimum(first, col, out=tmp)
        np.maximum(second, tmp, out=second)
        np.maximum(first, col, out=first)
    return first, second


def least_confidence(proba: Any) -> np.ndarray:
    """``1 - max_c p(c|x)``: how unsure the model is of its top guess, in ``[0, 1 - 1/k]``.

    Parameters
    ----------
    proba : array-like of shape (n_items, n_classes)

    Returns
    -------
    ndarray of float64, shape (n_items,)

    Examples
    --------
    >>> least_confidence([[0.7, 0.2, 0.1]])
    array([0.3])
    """
    cols = _columns(_proba(proba))
    return np.subtract(1.0, cols.max(axis=0), dtype=np.float64)


def margin(proba: Any) -> np.ndarray:
    """``1 - (p_1 - p_2)``: one minus the gap between the two most likely classes, in ``[0, 1]``.

    Scheffer et al. (2001). A score of 1 means a tie between the top two classes.

    Parameters
    ----------
    proba : array-like of shape (n_items, n_classes)

    Returns
    -------
    ndarray of float64, shape (n_items,)

    Examples
    --------
    >>> margin([[0.6, 0.3, 0.1]])
    array([0.7])
    """
    first, second = _top_two(_proba(proba))
    gap = np.subtract(first, second, out=first)
    out = np.subtract(1.0, gap, dtype=np.float64)
    return np.clip(out, 0.0, 1.0, out=out)


def entropy(proba: Any) -> np.ndarray:
    """Shannon entropy ``-Σ p log p`` in nats, in ``[0, log k]``.

    Examples
    --------
    >>> entropy([[1.0, 0.0], [0.5, 0.5]]).round(4)
    array([0.    , 0.6931])
    """
    cols = _columns(_proba(proba))  # a copy: the input is never touched
    logs = np.maximum(cols, np.finfo(cols.dtype).tiny)  # p = 0 contributes 0 · log(tiny) = 0
    np.log(logs, out=logs)
    logs *= cols
    return np.maximum(-logs.sum(axis=0, dtype=np.float64), 0.0)


def vote_entropy(votes: Any, n_classes: int | None = None) -> np.ndarray:
    """Entropy of the committee's vote distribution (Dagan & Engelson 1995), in nats.

    Parameters
    ----------
    votes : array-like of int, shape (n_members, n_items)
        Class index (0 .. n_classes-1) each committee member predicts for each item.
    n_classes : int, optional
        Number of classes; defaults to ``votes.max() + 1``.

    Returns
    -------
    ndarray of float64, shape (n_items,), in ``[0, log(min(n_members, n_classes))]``

    Examples
    --------
    >>> vote_entropy([[0, 0, 1], [0, 1, 0]], n_classes=2).round(4)
    array([0.    , 0.6931, 0.6931])
    """
    arr = np.asarray(votes)
    if arr.ndim != 2 or arr.dtype.kind not in "iu":
        raise InvalidInputError(
            f"votes must be integers of shape (n_members, n_items), got {arr.shape} {arr.dtype}."
        )
    k = int(arr.max()) + 1 if n_classes is None else int(n_classes)
    if arr.size and (arr.min() < 0 or arr.max() >= k):
        raise InvalidInputError(f"votes must be class indices in [0, {k}); got values outside.")
    m = arr.shape[0]
    counts = np.zeros((arr.shape[1], k))
    for row in arr:
        counts[np.arange(arr.shape[1]), row] += 1.0
    return entropy(counts / max(m, 1))


def kl_max(probas: Any) -> np.ndarray:
    """Largest KL divergence of any member from the consensus (McCallum & Nigam 1998).

    Parameters
    ----------
    probas : array-like of shape (n_members, n_items, n_classes)

    Returns
    -------
    ndarray of float64, shape (n_items,), non-negative

    Examples
    --------
    >>> same = [[[0.5, 0.5]], [[0.5, 0.5]]]
    >>> kl_max(same)
    array([0.])
    >>> kl_max([[[0.9, 0.1]], [[0.1, 0.9]]]).round(3)
    array([0.368])
    """
    arr = np.asarray(probas, dtype=np.float64)
    if arr.ndim != 3:
        raise InvalidInputError(
            f"probas must have shape (n_members, n_items, n_classes), got {arr.shape}."
        )
    consensus = arr.mean(axis=0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(arr > 0, arr / consensus[None], 1.0)
        terms = np.where(arr > 0, arr * np.log(ratio), 0.0)
    return np.maximum(terms.sum(axis=2).max(axis=0), 0.0)


def knn_density(
    features: Any, reference: Any | None = None, *, n_neighbors: int = 10
) -> np.ndarray:
    """kNN density estimate: ``1 / (1 + mean distance to the k nearest reference points)``.

    Uses scikit-learn's :class:`~sklearn.neighbors.NearestNeighbors`, which works
    through the distances in bounded blocks: no ``n × n`` matrix is ever built.
    Pass a (seeded) sample of the pool as ``reference`` to keep it cheap on large
    pools. Higher = the item sits in a denser, more representative region.

    Parameters
    ----------
    features : array-like or sparse matrix of shape (n_items, n_features)
    reference : array-like or sparse matrix, optional
        Points that define the density; defaults to ``features`` (self excluded).
    n_neighbors : int, default=10

    Returns
    -------
    ndarray of float64, shape (n_items,), in ``(0, 1]``

    Examples
    --------
    >>> pts = np.array([[0.0], [0.1], [0.2], [5.0]])
    >>> d = knn_density(pts, n_neighbors=2)
    >>> bool(d[1] > d[3])
    True
    """
    from sklearn.neighbors import NearestNeighbors

    own = reference is None
    ref: Any = features if own else reference
    n_ref = ref.shape[0]
    k = min(n_neighbors + (1 if own else 0), n_ref)
    if k < 1 or (own and k < 2):
        return np.ones(features.shape[0])
    if features.shape[0] * n_ref <= 2**18 and not (sp.issparse(features) or sp.issparse(ref)):
        # small: one block of numpy distances beats starting a neighbour search
        from sklearn.metrics.pairwise import euclidean_distances

        block = euclidean_distances(features, ref)
        dist = np.partition(block, k - 1, axis=1)[:, :k] if k < n_ref else block
        dist = np.sort(dist, axis=1)
    else:
        dist, _ = NearestNeighbors(n_neighbors=k).fit(ref).kneighbors(features)
    if own:
        dist = dist[:, 1:]
    return 1.0 / (1.0 + dist.mean(axis=1))
