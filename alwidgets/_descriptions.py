"""Class descriptions: checking ``{class: description}`` once, for every layer that takes them.

A description says in words what the items of a class are about ("a negative movie
review: the film is bad"). The features layer embeds them, the learner and the
simulations hand them on; each checks them here, so the messages are the same
everywhere.

Examples
--------
>>> check_descriptions({"spam": "an unsolicited advertising e-mail", "ham": "a normal e-mail"})
{'spam': 'an unsolicited advertising e-mail', 'ham': 'a normal e-mail'}
>>> check_descriptions({"spam": "ads", "ham": ""})
Traceback (most recent call last):
...
alwidgets.exceptions.InvalidInputError: the description of class 'ham' is empty; ...
>>> check_descriptions({"spam": "ads", "ham": "mail"}, classes=["spam", "ham", "phishing"])
Traceback (most recent call last):
...
alwidgets.exceptions.InvalidInputError: no description for class(es) ['phishing']; ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from alwidgets._utils import plain
from alwidgets.exceptions import InvalidInputError, UnknownLabelError

__all__ = [
    "SimilarityMemo",
    "check_descriptions",
    "check_labels_described",
    "description_similarity",
    "description_texts",
    "similarity_step",
    "with_description_rows",
]

_HOW = (
    "write one short sentence per class saying what its items are about, e.g. "
    "{'positive': 'a positive movie review: the film is good', "
    "'negative': 'a negative movie review: the film is bad'}"
)


def check_descriptions(
    descriptions: Any, classes: Iterable[Any] | None = None, *, name: str = "descriptions"
) -> dict[Any, str]:
    """Validate ``{class: description}``; with ``classes``, every class and no other.

    Parameters
    ----------
    descriptions : mapping
        Class → a non-empty string. Order is kept (it is the column order of
        similarities and zero-shot scores).
    classes : iterable, optional
        The task's classes. A key that is not one of them is an
        :class:`~alwidgets.exceptions.UnknownLabelError`; a class without a key an
        :class:`~alwidgets.exceptions.InvalidInputError`.
    name : str
        Used in messages.

    Returns
    -------
    dict
        A copy, keys as Python values (numpy scalars unwrapped), values stripped.

    Raises
    ------
    InvalidInputError
        Not a mapping, fewer than two classes, a description that is not a
        non-empty string, or a class without a description.
    UnknownLabelError
        A description for a class that is not one of ``classes``.
    """
    if not isinstance(descriptions, Mapping):
        raise InvalidInputError(
            f"{name} must be a dict {{class: description}}, got {type(descriptions).__name__}; "
            f"{_HOW}."
        )
    if len(descriptions) < 2:
        raise InvalidInputError(
            f"{name} must describe at least two classes, got {len(descriptions)}; {_HOW}."
        )
    out: dict[Any, str] = {}
    for key, text in descriptions.items():
        if not isinstance(text, str):
            raise InvalidInputError(
                f"the description of class {key!r} must be a string, got "
                f"{type(text).__name__} ({text!r}); {_HOW}."
            )
        if not text.strip():
            raise InvalidInputError(f"the description of class {key!r} is empty; {_HOW}.")
        out[plain(key)] = text.strip()
    if classes is not None:
        known = [plain(c) for c in classes]
        unknown = [k for k in out if k not in known]
        if unknown:
            raise UnknownLabelError(
                f"{name} for unknown class(es) {unknown}; the classes are {known}. Use the "
                "class names exactly as they appear in the labels."
            )
        missing = [c for c in known if c not in out]
        if missing:
            raise InvalidInputError(
                f"no description for class(es) {missing}; describe every class (the cold "
                "start balances over the described classes), or pass no descriptions."
            )
    return out


def description_texts(descriptions: Any) -> list[str]:
    """The description strings, in order, from a mapping or a sequence of strings.

    Examples
    --------
    >>> description_texts({"a": "first", "b": "second"})
    ['first', 'second']
    >>> description_texts(["first", "second"])
    ['first', 'second']
    >>> description_texts("one string")
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: descriptions must be a dict {class: description} ...
    """
    if isinstance(descriptions, Mapping):
        return list(check_descriptions(descriptions).values())
    if isinstance(descriptions, str | bytes) or not isinstance(descriptions, Iterable):
        raise InvalidInputError(
            "descriptions must be a dict {class: description} or a list of strings, got "
            f"{type(descriptions).__name__}; {_HOW}."
        )
    texts = list(descriptions)
    as_dict = check_descriptions(dict(enumerate(texts)))
    return list(as_dict.values())


def similarity_step(estimator: Any) -> tuple[Any, Any]:
    """The step that embeds descriptions — a Pipeline's first step, or the estimator
    itself — and its ``similarity`` method (``None`` when it has none).

    >>> from sklearn.linear_model import LogisticRegression
    >>> step, fn = similarity_step(LogisticRegression())
    >>> type(step).__name__, fn
    ('LogisticRegression', None)
    """
    steps = getattr(estimator, "steps", None)
    step = steps[0][1] if steps else estimator
    fn = getattr(step, "similarity", None)
    return step, (fn if callable(fn) else None)


def description_similarity(estimator: Any, X: Any, descriptions: Mapping[Any, str]) -> np.ndarray:
    """Similarity of every row of ``X`` to every description, from the estimator's first step.

    The first step of a Pipeline (or the estimator itself) must have a
    ``similarity(X, descriptions)`` method, as :class:`~alwidgets.features.TextFeatures`
    has; it embeds texts and descriptions with the same model.

    Raises
    ------
    InvalidInputError
        No such step: the message names the fix.
    """
    step, fn = similarity_step(estimator)
    if fn is None:
        raise InvalidInputError(
            "class descriptions are embedded by the model's first step, but "
            f"{type(step).__name__} cannot embed text; use a Pipeline that starts with "
            "TextFeatures, e.g. make_pipeline(TextFeatures(), LogisticRegression()), on raw "
            "texts. With precomputed features, pass strategy=DescriptionColdStart(similarity="
            "features @ description_embeddings.T) for the first batch instead."
        )
    return np.asarray(fn(X, descriptions), dtype=np.float64)


def check_labels_described(descriptions: Any, y: np.ndarray) -> None:
    """Every label in ``y`` must be a described class (an ``UnknownLabelError`` names the rest)."""
    desc = check_descriptions(descriptions)
    unknown = [v for v in np.unique(y).tolist() if v not in desc]
    if unknown:
        raise UnknownLabelError(
            f"labels {unknown} have no description; the descriptions cover {list(desc)}. "
            "Describe every class, with the class names exactly as in the labels."
        )


class SimilarityMemo:
    """The last :func:`description_similarity`, kept while pool, descriptions and model stay."""

    def __init__(self) -> None:
        self.key: tuple[Any, ...] | None = None
        self.value: np.ndarray | None = None

    def get(self, estimator: Any, X: Any, descriptions: Any) -> np.ndarray:
        from alwidgets._label_free import pool_fingerprint

        desc = check_descriptions(descriptions)
        key = (pool_fingerprint(X), tuple(desc.items()), repr(estimator))
        if self.value is None or key != self.key:
            self.value = description_similarity(estimator, X, desc)
            self.key = key
        return self.value


def with_description_rows(
    estimator: Any, X: Any, y: np.ndarray, descriptions: Any
) -> tuple[Any, np.ndarray]:
    """``X`` and ``y`` with one extra labeled row per class: its description.

    The rows come from the first step's ``description_rows(descriptions)`` (raw
    description texts for :class:`~alwidgets.features.TextFeatures`, their embeddings
    for :class:`~alwidgets.features.PrecomputedEmbeddings`), so they are in the same
    input space as ``X``. Unchanged when the step has no such method.
    """
    steps = getattr(estimator, "steps", None)
    step = steps[0][1] if steps else estimator
    make = getattr(step, "description_rows", None)
    if not callable(make):
        return X, y
    desc = check_descriptions(descriptions)
    y_out = np.concatenate(
        [y, np.asarray(list(desc), dtype=y.dtype if y.dtype == object else None)]
    )
    return _append(X, make(desc)), y_out


def _append(X: Any, rows: Any) -> Any:
    import scipy.sparse as sp

    if isinstance(X, list | tuple):
        return [*X, *list(rows)]
    if hasattr(X, "iloc"):
        import pandas as pd

        extra = (
            pd.Series(list(rows), name=X.name)
            if X.ndim == 1
            else pd.DataFrame(np.asarray(rows), columns=X.columns)
        )
        return pd.concat([X, extra], ignore_index=True)
    if sp.issparse(X):
        return sp.vstack([X, sp.csr_matrix(np.asarray(rows))], format="csr")
    X = np.asarray(X)
    rows = np.asarray(rows, dtype=X.dtype if X.ndim == 2 else object)
    return np.concatenate([X, rows]) if X.ndim == 1 else np.vstack([X, rows])
