"""From out-of-fold probabilities to "how likely is this label wrong", and choosing how.

Several scores turn an item's out-of-fold probabilities and its given label into a
suspicion score (higher = more likely wrong); which one ranks wrong labels best
depends on the data (measured in ``benchmarks/bench_review.py``). ``"auto"`` lets
the data choose with a check it allows without any known-wrong label
(:func:`check_scores`): each item's given label against **made-up wrong labels**
for the same item. An out-of-fold probability row never depended on the item's own
label, so pairing the row with another class is exactly what a uniformly flipped
label looks like to the judges; the score that best tells the made-up wrong labels
from the given ones (AUROC) is used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import roc_auc_score

from alwidgets.exceptions import InvalidInputError

__all__ = [
    "AUTO_CANDIDATES",
    "SCORES",
    "check_scores",
    "choose_score",
    "class_thresholds",
    "label_scores",
    "pair_scores",
]

#: Every score :func:`label_scores` knows, and ``"auto"`` (chosen by :func:`check_scores`).
SCORES = ("auto", "self_confidence", "class_normalized", "margin", "confidence_margin")
#: The scores ``"auto"`` chooses among, in order of preference on a tie.
AUTO_CANDIDATES = ("self_confidence", "class_normalized", "confidence_margin")
#: At most this many made-up (item, wrong class) pairs per check (sampled beyond it).
MAX_PAIRS = 200_000


def class_thresholds(proba: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Per class ``j``: the mean probability of ``j`` over the items labeled ``j``.

    Confident learning's per-class threshold: how sure the model typically is about
    its own class. Classes with no item get 1.

    Examples
    --------
    >>> import numpy as np
    >>> class_thresholds(np.array([[0.9, 0.1], [0.7, 0.3], [0.4, 0.6]]), np.array([0, 0, 1]))
    array([0.8, 0.6])
    """
    k = proba.shape[1]
    out = np.ones(k)
    for j in range(k):
        mine = given == j
        if mine.any():
            out[j] = max(float(proba[mine, j].mean()), 1e-6)
    return out


def _check_method(method: str, allowed: Sequence[str] = SCORES[1:]) -> None:
    if method not in allowed:
        raise InvalidInputError(f"unknown score {method!r}; choose one of {list(allowed)}.")


def _plain(proba: np.ndarray, rows: np.ndarray, labels: np.ndarray, method: str) -> np.ndarray:
    own = proba[rows, labels]
    if method == "self_confidence":
        return 1.0 - own
    other = proba[rows].copy()
    other[np.arange(len(rows)), labels] = -np.inf
    return other.max(axis=1) - own  # margin


def pair_scores(
    proba: np.ndarray,
    given: np.ndarray,
    rows: np.ndarray,
    labels: np.ndarray,
    method: str,
) -> np.ndarray:
    """Suspicion of label ``labels[m]`` for item ``rows[m]``, in the context of the given labels.

    The context matters for the scores that look at the whole labeled set: the
    per-class thresholds of ``class_normalized`` and the percentile ranks of
    ``confidence_margin`` come from the items with their ``given`` labels.

    Examples
    --------
    >>> import numpy as np
    >>> proba = np.array([[0.9, 0.1], [0.2, 0.8]])
    >>> pair_scores(proba, np.array([0, 1]), np.array([0, 0]), np.array([0, 1]), "margin")
    array([-0.8,  0.8])
    """
    _check_method(method)
    rows, labels = np.asarray(rows, dtype=np.int64), np.asarray(labels, dtype=np.int64)
    if method in ("self_confidence", "margin"):
        return _plain(proba, rows, labels, method)
    if method == "class_normalized":
        scaled = proba / class_thresholds(proba, given)
        return 1.0 - scaled[rows, labels]
    # confidence_margin: the mean of two mid-rank percentiles among the given labels'
    # scores (ties share their middle rank, so a value above every given one ranks
    # above the highest given one instead of tying with it)
    everyone = np.arange(len(given))
    parts = []
    for part in ("self_confidence", "margin"):
        reference = np.sort(_plain(proba, everyone, given, part))
        values = _plain(proba, rows, labels, part)
        below = np.searchsorted(reference, values, side="left")
        upto = np.searchsorted(reference, values, side="right")
        parts.append((below + upto) / (2 * len(reference)))
    return np.mean(parts, axis=0)


def label_scores(
    proba: np.ndarray, given: np.ndarray, method: str = "class_normalized"
) -> np.ndarray:
    """Score per item, higher = more likely wrong, from probabilities and given label columns.

    * ``self_confidence``: ``1 - p(given)`` (the plain baseline).
    * ``class_normalized``: ``1 - p(given) / t(given)`` with ``t`` the class's
      threshold (:func:`class_thresholds`): a class the model is always unsure
      about (a rare or hard class) does not fill the queue just by being hard.
    * ``margin``: ``max(p(other class)) - p(given)`` (confident learning's normalized
      margin, shifted): an item the model finds ambiguous among several classes is
      less suspect than one it confidently puts in another class.
    * ``confidence_margin``: the mean of the ``self_confidence`` and ``margin``
      percentile ranks among the items (mid-ranks, in [0, 1]): wrong labels rank high
      on both.

    Examples
    --------
    >>> import numpy as np
    >>> proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    >>> label_scores(proba, np.array([0, 0, 1]), "self_confidence").round(2).tolist()
    [0.1, 0.8, 0.6]
    >>> label_scores(proba, np.array([0, 0, 1]), "class_normalized").round(2).tolist()
    [-0.64, 0.64, 0.0]
    """
    given = np.asarray(given, dtype=np.int64)
    return pair_scores(proba, given, np.arange(len(given)), given, method)


def check_scores(
    proba: np.ndarray,
    given: np.ndarray,
    candidates: Sequence[str] = AUTO_CANDIDATES,
    *,
    random_state: int | None = None,
    max_pairs: int = MAX_PAIRS,
) -> dict[str, float]:
    """How well each score tells made-up wrong labels from the given ones (AUROC).

    Negatives: every item with its given label (mostly right). Positives: every item
    with each *other* class as a made-up label (a random sample of them when there
    are more than ``max_pairs`` pairs), each item weighted equally. The rows are
    out-of-fold, so a made-up label looks to the judges exactly like a label flipped
    at random; no label is assumed known to be wrong. NaN when there is nothing to
    compare (fewer than two items).

    Examples
    --------
    >>> import numpy as np
    >>> # class 1 is always predicted with low confidence, even for its own items
    >>> proba = np.array([[0.95, 0.05]] * 6 + [[0.7, 0.3]] * 4)
    >>> given = np.array([0] * 6 + [1] * 4)
    >>> {k: round(v, 2) for k, v in check_scores(proba, given).items()}
    {'self_confidence': 0.84, 'class_normalized': 1.0, 'confidence_margin': 0.84}
    """
    for c in candidates:
        _check_method(c)
    given = np.asarray(given, dtype=np.int64)
    n, k = proba.shape
    if n < 2 or k < 2:
        return {c: float("nan") for c in candidates}
    rng = np.random.default_rng(random_state)
    per_item = min(k - 1, max(1, max_pairs // n))
    # each item's wrong classes in a random order; the first `per_item` are used
    offsets = np.argsort(rng.random((n, k - 1)), axis=1)[:, :per_item] + 1
    rows = np.repeat(np.arange(n), per_item)
    labels = ((given[:, None] + offsets) % k).ravel()
    truth = np.r_[np.zeros(n), np.ones(len(rows))]
    weights = np.r_[np.ones(n), np.full(len(rows), 1.0 / per_item)]
    out = {}
    for c in candidates:
        scores = np.r_[label_scores(proba, given, c), pair_scores(proba, given, rows, labels, c)]
        out[c] = float(roc_auc_score(truth, scores, sample_weight=weights))
    return out


def choose_score(checked: dict[str, float]) -> str:
    """The candidate with the highest check AUROC; the earlier one on a tie (or all NaN).

    Examples
    --------
    >>> choose_score({"self_confidence": 0.81, "class_normalized": 0.83})
    'class_normalized'
    >>> choose_score({"self_confidence": 0.8, "class_normalized": 0.8})
    'self_confidence'
    """
    names = list(checked)
    best = names[0]
    for name in names[1:]:
        value, top = checked[name], checked[best]
        if np.isfinite(value) and (not np.isfinite(top) or value > top + 1e-12):
            best = name
    return best


def check_score_name(score: Any) -> str:
    """``score`` if it is one of :data:`SCORES`, else the error that lists them."""
    if not isinstance(score, str) or score not in SCORES:
        raise InvalidInputError(f"unknown score {score!r}; choose one of {list(SCORES)}.")
    return score
