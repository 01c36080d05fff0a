"""Multi-label in the app: what differs when an answer is a *set* of classes.

``ActiveLabeler(..., multi_label=True)`` runs the same core as a single-label labeler
(controller, mirror, queue, scheduler, store, team, review); only the values differ. An
answer is a tuple of classes in the session's class order (``()`` = none of these), as
the store keeps it. This module holds those differences, one function each, so the
rest of the app branches in few places:

* checking answers (:func:`check_answer`), front-end messages (:func:`message_label`),
  the oracle (:func:`check_oracle_sets`, :func:`oracle_answer`) and an eval set
  (:func:`check_eval_sets`);
* what a retrain trains on (:func:`indicator`) and how it is scored
  (:func:`curve_metrics`: micro- and macro-F1 of the multi-label model,
  :func:`alwidgets._multilabel.as_multilabel`, on the eval set or 3-fold CV);
* what a card suggests (:func:`suggestion`: the predicted set, pre-toggled on the
  chips, with per-class probabilities) and what a review card asks
  (:func:`review_fields`);
* the review's suspects, one per (item, class) bit (:func:`find_set_suspects`).

Examples
--------
>>> check_answer({"sport", "politics"}, ["politics", "economy", "sport"], True)
('politics', 'sport')
>>> check_answer("sport", ["politics", "sport"], True)
Traceback (most recent call last):
...
alwidgets.exceptions.InvalidInputError: this labeler is multi-label: an answer is the set of classes that apply, got the bare class 'sport'; pass ['sport'] (or [] for none of them).
>>> indicator([("a",), (), ("a", "b")], ["a", "b"]).tolist()
[[1, 0], [0, 0], [1, 1]]
>>> suggestion(np.array([0.9, 0.2, 0.5]))
{'suggestion': [0, 2], 'confidence': None, 'proba': [0.9, 0.2, 0.5]}
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from alwidgets._check_classes import check_label
from alwidgets._utils import plain
from alwidgets.exceptions import InvalidInputError, UnknownLabelError

__all__ = [
    "NONE_KEY",
    "check_answer",
    "check_eval_sets",
    "check_oracle_sets",
    "curve_metrics",
    "find_set_suspects",
    "indicator",
    "message_label",
    "oracle_answer",
    "review_fields",
    "suggestion",
]

#: The stats panel's row for the answers that named no class.
NONE_KEY = "∅ none of these"

#: Fewest labeled items before a multi-label curve point is cross-validated (3 folds).
MIN_FOR_CV = 9


def _is_set(value: Any) -> bool:
    return isinstance(value, Iterable) and not isinstance(value, str | bytes | Mapping)


def check_answer(label: Any, classes: list[Any], multi_label: bool) -> Any:
    """One class (single-label) or a tuple of classes in class order (multi-label).

    Raises :class:`~alwidgets.UnknownLabelError` for a class not in ``classes``, and
    :class:`~alwidgets.InvalidInputError` for a class named twice, a bare class where a
    set is expected, or a set in a single-label labeler; each names the fix.

    >>> check_answer(["politics", "politics"], ["politics", "sport"], True)
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: labels ['politics', 'politics'] name 'politics' more than once; list each class once.
    >>> check_answer(["cat"], ["cat", "dog"], False)
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: this labeler is single-label: an answer is one class, got ['cat']; pass one of ['cat', 'dog'], or create the labeler with multi_label=True for sets of classes.
    """
    if not multi_label:
        if _is_set(label) or isinstance(label, Mapping):
            raise InvalidInputError(
                f"this labeler is single-label: an answer is one class, got {label!r}; pass "
                f"one of {classes!r}, or create the labeler with multi_label=True for sets "
                "of classes."
            )
        return check_label(label, classes)
    if label is None or not _is_set(label):
        raise InvalidInputError(
            "this labeler is multi-label: an answer is the set of classes that apply, got the "
            f"bare class {label!r}; pass [{label!r}] (or [] for none of them)."
        )
    given = [plain(c) for c in label]
    unknown = [c for c in given if c not in classes]
    if unknown:
        raise UnknownLabelError(
            f"{unknown[0]!r} is not one of the classes {classes!r}; an answer lists classes "
            "among them ([] for none of them)."
        )
    for c in given:
        if given.count(c) > 1:
            raise InvalidInputError(
                f"labels {given!r} name {c!r} more than once; list each class once."
            )
    return tuple(c for c in classes if c in given)


def message_label(msg: Mapping[str, Any], classes: list[Any], multi_label: bool) -> Any:
    """The label of a front-end ``label`` action: ``class_index`` (single-label) or
    ``class_indices`` (multi-label, checked by the widget: ints in range, each once).

    >>> message_label({"class_indices": [2, 0]}, ["a", "b", "c"], True)
    ('a', 'c')
    >>> message_label({"class_index": 1}, ["a", "b", "c"], True)
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: this labeler is multi-label: a label action carries class_indices (the set of classes), not class_index.
    """
    if not multi_label:
        return classes[msg["class_index"]]
    indices = msg.get("class_indices")
    if not isinstance(indices, list | tuple):
        raise InvalidInputError(
            "this labeler is multi-label: a label action carries class_indices (the set of "
            "classes), not class_index."
        )
    return tuple(classes[i] for i in sorted(set(int(i) for i in indices)))


def indicator(labels: Iterable[Sequence[Any]], classes: list[Any]) -> np.ndarray:
    """Label sets as a 0/1 ``uint8`` matrix, one column per class in class order."""
    column = {c: j for j, c in enumerate(classes)}
    rows = list(labels)
    out = np.zeros((len(rows), len(classes)), dtype=np.uint8)
    for i, row in enumerate(rows):
        for c in row:
            out[i, column[plain(c)]] = 1
    return out


def _sets_to_indicator(values: Sequence[Any], classes: list[Any], what: str) -> np.ndarray:
    try:
        sets = [check_answer(v, classes, True) for v in values]
    except InvalidInputError as err:
        raise type(err)(f"{what}: {err}") from None
    return indicator(sets, classes)


def _as_indicator(Y: Any, n: int, classes: list[Any], what: str) -> np.ndarray:
    """An indicator (columns in class order; a DataFrame's by name) or one set per row."""
    from alwidgets._multilabel import check_indicator, is_indicator

    if isinstance(Y, pd.DataFrame):
        missing = [c for c in classes if c not in Y.columns]
        if missing or len(Y.columns) != len(classes):
            raise InvalidInputError(
                f"{what} has columns {list(Y.columns)!r}; pass one 0/1 column per class "
                f"{classes!r}."
            )
        Y = Y[classes]
    if is_indicator(Y):
        arr, _ = check_indicator(Y, n, name=what)
        if arr.shape[1] != len(classes):
            raise InvalidInputError(
                f"{what} has {arr.shape[1]} columns but there are {len(classes)} classes; "
                "pass one 0/1 column per class, in class order."
            )
        return arr
    values = list(Y)
    if len(values) != n:
        raise InvalidInputError(
            f"{what} has {len(values)} rows but {n} are needed; pass one set of classes per item."
        )
    return _sets_to_indicator(values, classes, what)


def check_oracle_sets(oracle: Any, ids: Sequence[Any], classes: list[Any]) -> np.ndarray:
    """A multi-label oracle as an indicator aligned with the pool: an indicator (array,
    sparse, DataFrame with the classes as columns), one set per item, or a function
    ``item_id -> set of classes``.

    >>> check_oracle_sets(lambda i: ["b"] if i else [], [0, 1], ["a", "b"]).tolist()
    [[0, 0], [0, 1]]
    """
    if callable(oracle):
        return _sets_to_indicator([oracle(i) for i in ids], classes, "oracle")
    return _as_indicator(oracle, len(ids), classes, "oracle")


def check_eval_sets(eval_set: Any, classes: list[Any]) -> tuple[Any, np.ndarray]:
    """``(X_test, Y_test)`` of a multi-label eval set: ``Y_test`` an indicator or sets."""
    from alwidgets._validation import check_X, n_rows

    if not isinstance(eval_set, tuple | list) or len(eval_set) != 2:
        raise InvalidInputError("eval_set must be a pair (X_test, Y_test).")
    X_eval = check_X(eval_set[0], name="eval_set X", allow_text=True)
    return X_eval, _as_indicator(eval_set[1], n_rows(X_eval), classes, "eval_set Y")


def oracle_answer(
    row: np.ndarray, classes: list[Any], noise: float, rng: np.random.Generator
) -> tuple[tuple[Any, ...], bool]:
    """The oracle's set for one item, and whether it is wrong on purpose (``noise``:
    one class, drawn at random, flipped).

    >>> oracle_answer(np.array([1, 0, 1]), ["a", "b", "c"], 0.0, np.random.default_rng(0))
    (('a', 'c'), False)
    """
    bits = np.asarray(row, dtype=np.uint8).copy()
    wrong = bool(noise) and rng.random() < noise
    if wrong:
        j = int(rng.integers(len(classes)))
        bits[j] = 1 - bits[j]
    return tuple(c for c, b in zip(classes, bits, strict=True) if b), wrong


def suggestion(proba: np.ndarray | None) -> dict[str, Any]:
    """A card's multi-label suggestion: the predicted set (``p >= 0.5``, class indices,
    pre-toggled on the chips) and the per-class probabilities (``None``: no model)."""
    if proba is None:
        return {"suggestion": None, "confidence": None, "proba": None}
    p = np.asarray(proba, dtype=np.float64)
    return {
        "suggestion": [int(j) for j in np.flatnonzero(p >= 0.5)],
        "confidence": None,
        "proba": [round(float(v), 4) for v in p],
    }


def review_fields(info: Mapping[str, Any], classes: list[Any]) -> dict[str, Any]:
    """What a multi-label review card shows: the given set pre-toggled (Enter keeps it),
    the suspect class marked, and the question.

    >>> review_fields({"label": ("a",), "class": "b", "given": 0, "p": 0.8, "score": 0.7},
    ...               ["a", "b"])["why"]
    "review: is 'b' missing here? (given {'a'})"
    """
    given = tuple(info["label"])
    suspect = info["class"]
    shown = "{" + ", ".join(repr(c) for c in given) + "}" if given else "none of these"
    ask = f"is {suspect!r} right here?" if info["given"] else f"is {suspect!r} missing here?"
    why = f"review: {ask} (given {shown})"
    why_long = (
        f"{why}: the models trained without this item give {suspect!r} p={info['p']:.2f} "
        f"(suspicion {info['score']:.2f}). Toggle {suspect!r} and press Enter to change the "
        "set, Enter or s to keep it."
    )
    return {
        "suggestion": [classes.index(c) for c in given if c in classes],
        "confidence": None,
        "suspect": classes.index(suspect) if suspect in classes else None,
        "why": why,
        "why_long": why_long,
    }


def curve_metrics(
    estimator: Any, X: Any, Y: np.ndarray, X_eval: Any, Y_eval: Any, cv: bool, seed: int
) -> tuple[dict[str, float], str]:
    """A multi-label curve point: ``score`` (micro-F1; ``score_std`` over CV folds) and
    ``macro_f1``, of the multi-label model (binary relevance with constant priors), on
    the eval set or, without one, 3-fold CV once :data:`MIN_FOR_CV` items are labeled."""
    from sklearn.base import clone
    from sklearn.model_selection import KFold

    from alwidgets._multilabel import as_multilabel
    from alwidgets._thresholds import micro_macro_f1
    from alwidgets._utils import take_rows

    if X_eval is not None:
        model = as_multilabel(clone(estimator)).fit(X, Y)
        micro, macro = micro_macro_f1(np.asarray(Y_eval), np.asarray(model.predict(X_eval)))
        return {"score": micro, "macro_f1": macro}, "micro-F1 (eval set)"
    if not cv or len(Y) < MIN_FOR_CV:
        return {}, "micro-F1 (CV)"
    folds = KFold(n_splits=3, shuffle=True, random_state=seed)
    micros, macros = [], []
    for train, test in folds.split(np.zeros(len(Y))):
        model = as_multilabel(clone(estimator)).fit(take_rows(X, train), Y[train])
        mi, ma = micro_macro_f1(Y[test], np.asarray(model.predict(take_rows(X, test))))
        micros.append(mi)
        macros.append(ma)
    return {
        "score": float(np.mean(micros)),
        "score_std": float(np.std(micros)),
        "macro_f1": float(np.mean(macros)),
    }, "micro-F1 (CV)"


def find_set_suspects(
    estimator: Any, X: Any, labels: Mapping[int, tuple[Any, ...]], classes: list[Any], seed: int
) -> pd.DataFrame:
    """:func:`~alwidgets.review.suspect_labels` on the labeled sets: one row per suspect
    (item, class) bit (index = positions; columns ``label`` (the given set), ``guess``,
    ``class``, ``given``, ``score``, ``p``). Classes with fewer than 2 items with and 2
    without them cannot be judged out of fold and are left out."""
    from alwidgets._utils import take_rows
    from alwidgets.review import suspect_labels

    positions = np.array(sorted(labels), dtype=np.intp)
    Y = indicator([labels[int(p)] for p in positions], classes)
    pos, neg = Y.sum(axis=0), len(Y) - Y.sum(axis=0)
    judged = [j for j in range(len(classes)) if pos[j] >= 2 and neg[j] >= 2]
    if len(positions) < 4 or len(judged) < 2:
        raise InvalidInputError(
            f"review needs a few labeled sets to judge them out of fold: at least 2 classes "
            f"each given on 2 items and missing on 2 (now {len(judged)} of {len(classes)}, "
            f"{len(positions)} labeled items). Label more items first."
        )
    frame_Y = pd.DataFrame(Y[:, judged], columns=[classes[j] for j in judged], index=positions)
    frame = suspect_labels(estimator, take_rows(X, positions), frame_Y, random_state=seed)
    frame["label"] = [labels[int(p)] for p in frame.index]  # the whole given set
    return frame
