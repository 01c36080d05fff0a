"""Multi-label targets: telling the task apart, checking indicators, binary relevance.

scikit-learn's convention decides the task: a 1-D ``y`` is single-label, a 2-D binary
indicator ``Y`` (n_items × n_classes, as ``MultiLabelBinarizer`` gives) is multi-label.
Shared by the learner, the simulations and the review (layer 0: numpy and scikit-learn
only).

* :func:`is_indicator` — whether a target is a 2-D indicator (multi-label).
* :func:`check_indicator` — validate one, return it as ``uint8`` with its classes.
* :class:`MultiLabelModel` — any probabilistic classifier made multi-label (binary
  relevance, or the user's own multi-output estimator as is); a class with no positive
  (or no negative) yet gets a constant prior instead of a model.
* :func:`as_multilabel` — wrap an estimator (a Pipeline: its last step) for ``fit(X, Y)``.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
>>> Y = np.array([[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0]])  # class 2 never occurs yet
>>> model = as_multilabel(LogisticRegression()).fit(X, Y)
>>> model.predict_proba(X).shape
(4, 3)
>>> model.predict_proba(X)[:, 2].round(3).tolist()   # the constant prior (0 + 1) / (4 + 2)
[0.167, 0.167, 0.167, 0.167]
>>> model.predict(X).tolist()
[[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 1, 0]]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from alwidgets._check_x import is_dataframe
from alwidgets._thresholds import DEFAULT_THRESHOLD, check_threshold, cv_thresholds
from alwidgets._utils import n_rows, take_rows
from alwidgets.exceptions import EstimatorError, InvalidInputError

__all__ = [
    "MultiLabelModel",
    "as_multilabel",
    "check_classes_occur",
    "check_indicator",
    "inherit_input_tags",
    "is_indicator",
]

_FIX = (
    "pass the binary classifier itself (e.g. LogisticRegression(): alwidgets fits one per "
    "class) or wrap it as OneVsRestClassifier(...)"
)


def is_indicator(y: Any) -> bool:
    """True for a 2-D target with more than one column (a multi-label indicator).

    A single column is a column vector of single labels, as in scikit-learn.

    Examples
    --------
    >>> is_indicator([[0, 1], [1, 1]]), is_indicator([0, 1]), is_indicator([[0], [1]])
    (True, False, False)
    """
    if y is None:
        return False
    shape = getattr(y, "shape", None)
    if shape is None:
        try:
            shape = np.asarray(y).shape
        except ValueError:  # ragged lists (label sets): not an indicator
            return False
    return len(shape) == 2 and shape[1] > 1


def check_indicator(
    Y: Any, n_samples: int | None = None, *, name: str = "Y"
) -> tuple[np.ndarray, np.ndarray]:
    """Validate a multi-label indicator; return it as ``uint8`` and its classes.

    Parameters
    ----------
    Y : ndarray, scipy sparse matrix, DataFrame or nested list, shape (n_items, n_classes)
        0/1 (or boolean) per item and class. A DataFrame's columns are the classes.
    n_samples : int, optional
        Expected number of rows (the rows of ``X``).
    name : str, default "Y"

    Returns
    -------
    Y : ndarray of uint8, shape (n_items, n_classes)
    classes : ndarray
        Column names of a DataFrame, else ``0 .. n_classes - 1``.

    Raises
    ------
    InvalidInputError
        Not 2-D, missing values, values other than 0/1, or a row count that does not match.

    Examples
    --------
    >>> Y, classes = check_indicator([[1, 0], [0, 1], [1, 1]], 3)
    >>> Y.dtype, classes.tolist()
    (dtype('uint8'), [0, 1])
    >>> check_indicator([[1, 2], [0, 1]])
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: Y must be a binary indicator (0/1 per item and class) but holds 2; ...
    """
    classes: np.ndarray | None = None
    if is_dataframe(Y) and hasattr(Y, "columns"):
        classes = np.asarray(Y.columns.tolist(), dtype=object)
        if all(isinstance(c, int | np.integer) for c in classes):
            classes = classes.astype(np.int64)
        elif all(isinstance(c, str) for c in classes):
            classes = classes.astype(str)
        arr = Y.to_numpy()
    elif sp.issparse(Y):
        arr = Y.toarray()
    else:
        arr = np.asarray(Y)
    if arr.ndim != 2 or arr.shape[1] < 2:
        raise InvalidInputError(
            f"{name} must be 2-D (one 0/1 column per class, at least two classes), got shape "
            f"{arr.shape}; build it with sklearn.preprocessing.MultiLabelBinarizer."
        )
    if n_samples is not None and arr.shape[0] != n_samples:
        raise InvalidInputError(
            f"X has {n_samples} rows but {name} has {arr.shape[0]}; pass one row of {name} per item."
        )
    if arr.dtype == object:
        try:
            arr = arr.astype(np.float64)
        except (TypeError, ValueError) as err:
            raise InvalidInputError(
                f"{name} must hold 0/1 numbers; got non-numeric values ({err}). For label sets "
                "use MultiLabelBinarizer().fit_transform(label_sets)."
            ) from err
    if arr.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"{name} must hold 0/1 numbers, got dtype {arr.dtype}; for label sets use "
            "MultiLabelBinarizer().fit_transform(label_sets)."
        )
    if arr.dtype.kind == "f" and np.isnan(arr).any():
        row = int(np.flatnonzero(np.isnan(arr).any(axis=1))[0])
        raise InvalidInputError(
            f"{name} has missing values (NaN), first in row {row}; pass only labeled items, "
            "with 0 or 1 for every class."
        )
    if arr.dtype.kind != "b":
        bad = (arr != 0) & (arr != 1)
        if bad.any():
            value = arr[bad].flat[0]
            shown = int(value) if float(value).is_integer() else float(value)
            raise InvalidInputError(
                f"{name} must be a binary indicator (0/1 per item and class) but holds {shown}; "
                "for one class per item pass a 1-D y, for label sets use "
                "MultiLabelBinarizer().fit_transform(label_sets)."
            )
    if classes is None:
        classes = np.arange(arr.shape[1])
    return np.ascontiguousarray(arr, dtype=np.uint8), classes


def check_classes_occur(Y: np.ndarray, classes: np.ndarray, *, name: str = "Y") -> None:
    """Raise when a class column never occurs (no positive): it can never be learned.

    For data sets with every label known (simulations, review). While labeling, a class
    with no positive *yet* is normal and the learner gives it a constant prior.

    Examples
    --------
    >>> check_classes_occur(np.array([[1, 0], [1, 0]], dtype=np.uint8), np.array(["a", "b"]))
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: class 'b' never occurs in Y (no item has it); drop its column ...
    """
    never = np.flatnonzero(Y.sum(axis=0) == 0)
    if len(never):
        names = [classes[j].item() if hasattr(classes[j], "item") else classes[j] for j in never]
        raise InvalidInputError(
            f"class {names[0]!r} never occurs in {name} (no item has it); drop its column "
            f"(classes that never occur: {names}), or label an item of that class."
        )


def inherit_input_tags(tags: Any, estimator: Any) -> Any:
    """Copy ``estimator``'s input tags (sparse, NaN, raw text) into a wrapper's ``tags``."""
    from sklearn.utils import get_tags

    try:
        inner = get_tags(estimator).input_tags
    except Exception:  # not a scikit-learn estimator: keep the defaults
        return tags
    tags.input_tags.sparse = inner.sparse
    tags.input_tags.allow_nan = inner.allow_nan
    tags.input_tags.string = inner.string
    return tags


def _is_wrapper(estimator: Any) -> bool:
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.multioutput import MultiOutputClassifier

    return isinstance(estimator, OneVsRestClassifier | MultiOutputClassifier)


def _native(estimator: Any) -> bool:
    """Whether the estimator fits a 2-D indicator itself (its tags say multi-output)."""
    if _is_wrapper(estimator):
        return True
    try:
        from sklearn.utils import get_tags

        return bool(get_tags(estimator).target_tags.multi_output)
    except Exception:  # not a scikit-learn estimator: treat it as a binary classifier
        return False


def _positive_column(proba: Any, where: str) -> np.ndarray:
    """p(class applies) from one output's (n, 2) probabilities."""
    arr = np.asarray(proba, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise EstimatorError(
            f"{where} returned probabilities of shape {arr.shape} for a 0/1 class; expected "
            f"(n, 2). {_FIX[0].upper()}{_FIX[1:]}."
        )
    return arr[:, 1]


class MultiLabelModel(ClassifierMixin, BaseEstimator):
    """A probabilistic classifier made multi-label: ``predict_proba`` is (n, n_classes).

    Column ``j`` of :meth:`predict_proba` is the probability that class ``j`` applies.
    How ``estimator`` is used:

    * a ``OneVsRestClassifier``, ``MultiOutputClassifier`` or an estimator whose tags say
      it fits a 2-D target (random forests, k-NN ...) is fit once on the indicator;
    * any other classifier is fit once per class on that class's 0/1 column (binary
      relevance).

    A class whose column is constant in the training rows (no positive yet, or no
    negative) gets no model but a constant prior ``(positives + 1) / (n + 2)`` (Laplace),
    so a class nobody has tagged yet never crashes a fit.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
        Cloned at every :meth:`fit`.
    threshold : float or "cv", default 0.5
        :meth:`predict`'s decision threshold for every class, or ``"cv"``: per class,
        the threshold that maximises its F1 on 3-fold out-of-fold probabilities of the
        labeled items (SCut, ``alwidgets._thresholds``; costs 3 more fits per class).

    Attributes
    ----------
    classes_ : ndarray
        The classes (columns of ``Y``; a DataFrame's column names).
    prior_ : ndarray of float64
        The Laplace prior of every class (used for the constant ones).
    fitted_classes_ : ndarray of int
        Column indices of the classes that have a model.
    estimators_ : list
        Binary relevance: one fitted clone per entry of ``fitted_classes_``.
    estimator_ : classifier or None
        The fitted clone when the estimator is fit on the indicator as a whole.
    thresholds_ : ndarray of float64
        The decision threshold of every class.
    """

    def __init__(self, estimator: Any, threshold: float | str = DEFAULT_THRESHOLD) -> None:
        self.estimator = estimator
        self.threshold = threshold

    def __sklearn_tags__(self) -> Any:
        """Multi-output; accepts the input the wrapped estimator accepts (sparse, NaN, text)."""
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        return inherit_input_tags(tags, self.estimator)

    def fit(self, X: Any, Y: Any) -> MultiLabelModel:
        """Fit on items ``X`` and their indicator ``Y`` (n_items × n_classes)."""
        threshold = check_threshold(self.threshold)
        Y, self.classes_ = check_indicator(Y, n_rows(X))
        n = Y.shape[0]
        positives = Y.sum(axis=0, dtype=np.int64)
        self.prior_ = (positives + 1.0) / (n + 2.0)
        self.fitted_classes_ = np.flatnonzero((positives > 0) & (positives < n))
        self.estimators_: list[Any] = []
        self.estimator_: Any = None
        cols = self.fitted_classes_
        base = self.estimator.estimator if _is_wrapper(self.estimator) else self.estimator
        fixed = DEFAULT_THRESHOLD if threshold == "cv" else float(threshold)
        self.thresholds_ = np.full(len(positives), fixed)
        if threshold == "cv":
            self.thresholds_ = cv_thresholds(base, X, Y, cols)
        if len(cols) == 0:
            return self
        if _native(self.estimator) and len(cols) >= 2:
            try:
                self.estimator_ = clone(self.estimator).fit(X, Y[:, cols])
            except ValueError as err:
                raise EstimatorError(
                    f"{type(self.estimator).__name__} could not be fit on a multi-label "
                    f"indicator ({err}); {_FIX}."
                ) from err
            self._fitted_proba(take_rows(X, slice(0, 1)))  # its output is usable: fail now
        else:
            self.estimators_ = [clone(base).fit(X, Y[:, j]) for j in cols]
        return self

    def _fitted_proba(self, X: Any) -> np.ndarray:
        cols = self.fitted_classes_
        name = type(self.estimator).__name__
        if self.estimator_ is None:
            return np.column_stack(
                [_positive_column(e.predict_proba(X), name) for e in self.estimators_]
            )
        out = self.estimator_.predict_proba(X)
        if isinstance(out, list):  # MultiOutputClassifier, forests: one (n, 2) per class
            if len(out) != len(cols):
                raise EstimatorError(
                    f"{name}.predict_proba returned {len(out)} outputs for {len(cols)} "
                    f"classes; {_FIX}."
                )
            return np.column_stack([_positive_column(p, name) for p in out])
        arr = np.asarray(out, dtype=np.float64)
        if arr.ndim != 2 or arr.shape[1] != len(cols):
            raise EstimatorError(
                f"{name}.predict_proba returned shape {arr.shape} for {len(cols)} classes; "
                f"multi-label needs (n_items, n_classes) or one (n_items, 2) array per class; "
                f"{_FIX}."
            )
        return arr

    def predict_proba(self, X: Any) -> np.ndarray:
        """Probability that each class applies, shape (n_items, n_classes), float64."""
        n = n_rows(X)
        proba = np.tile(self.prior_, (n, 1))
        if len(self.fitted_classes_) and n:
            proba[:, self.fitted_classes_] = self._fitted_proba(X)
        return proba

    def predict(self, X: Any) -> np.ndarray:
        """The indicator of the classes whose probability reaches ``thresholds_``, (n, k)."""
        return (self.predict_proba(X) >= self.thresholds_).astype(np.int64)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Micro-averaged F1 of :meth:`predict` against the indicator ``y``."""
        from sklearn.metrics import f1_score

        Y, _ = check_indicator(y, n_rows(X))
        return float(
            f1_score(
                Y, self.predict(X), average="micro", sample_weight=sample_weight, zero_division=0
            )
        )


def as_multilabel(estimator: Any) -> Any:
    """The estimator ready for ``fit(X, Y)``: a :class:`MultiLabelModel` (a Pipeline's last step).

    The steps of a Pipeline before the classifier are fit once on the items, not once
    per class.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn.linear_model import LogisticRegression
    >>> as_multilabel(make_pipeline(StandardScaler(), LogisticRegression()))[-1]
    MultiLabelModel(estimator=LogisticRegression())
    """
    if hasattr(estimator, "steps") and estimator.steps:
        from sklearn.pipeline import Pipeline

        steps = list(estimator.steps)
        last_name, last = steps[-1]
        if not isinstance(last, MultiLabelModel):
            steps[-1] = (last_name, MultiLabelModel(last))
        params = {k: v for k, v in estimator.get_params(deep=False).items() if k != "steps"}
        return Pipeline(steps, **params)
    if isinstance(estimator, MultiLabelModel):
        return estimator
    return MultiLabelModel(estimator)
