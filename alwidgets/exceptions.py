"""Exceptions raised by alwidgets.

Every error raised for bad input or an out-of-order call is a subclass of
:class:`ALWidgetsError`, and also of the builtin exception a Python user would
expect (``ValueError`` for bad values, ``TypeError`` for wrong types), so both
``except ALWidgetsError`` and ``except ValueError`` work.

Messages say what is wrong *and* what to do about it.

Examples
--------
>>> from alwidgets.exceptions import ALWidgetsError, InvalidInputError
>>> try:
...     raise InvalidInputError("X has 3 rows but y has 2; pass one label per row.")
... except ValueError as err:
...     isinstance(err, ALWidgetsError)
True
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError as _SklearnNotFittedError

__all__ = [
    "ALWidgetsError",
    "ClusterError",
    "DuplicateIdError",
    "EstimatorError",
    "InvalidDtypeError",
    "InvalidInputError",
    "LabelConflictError",
    "LabelConflictWarning",
    "NotFittedError",
    "OptionalDependencyError",
    "StoreError",
    "StoreMismatchError",
    "UnknownLabelError",
    "UnknownStrategyError",
]


class ALWidgetsError(Exception):
    """Base class of every error alwidgets raises on purpose."""


class InvalidInputError(ALWidgetsError, ValueError):
    """Input data has the wrong shape, type or values (NaN/inf, one class only, ``n <= 0``)."""


class InvalidDtypeError(InvalidInputError, TypeError):
    """Values of a type that cannot be used as features (e.g. dicts in an object array)."""


class UnknownLabelError(InvalidInputError):
    """A label that is not one of the session's classes."""


class DuplicateIdError(InvalidInputError):
    """Item ids must be unique within a pool."""


class UnknownStrategyError(ALWidgetsError, ValueError):
    """A strategy name that is not registered."""


class EstimatorError(ALWidgetsError, TypeError):
    """The estimator cannot be used for active learning (e.g. it has no ``predict_proba``)."""


class NotFittedError(ALWidgetsError, _SklearnNotFittedError, RuntimeError):
    """A method that needs a fitted learner was called before ``fit``.

    Also scikit-learn's :class:`sklearn.exceptions.NotFittedError` (so
    ``except sklearn.exceptions.NotFittedError`` and scikit-learn's own checks work),
    which is a ``ValueError`` and an ``AttributeError``, and a ``RuntimeError`` as before.

    Examples
    --------
    >>> import sklearn.exceptions
    >>> issubclass(NotFittedError, sklearn.exceptions.NotFittedError)
    True
    """


class StoreError(ALWidgetsError, OSError):
    """The session store file cannot be opened, read or written."""


class StoreMismatchError(StoreError, ValueError):
    """The file is not a session store, or belongs to a session with other classes."""


class LabelConflictError(ALWidgetsError, RuntimeError):
    """A label refused because enough other annotators labeled the item first.

    ``SessionStore.label(item_id, label, overlap=k)`` raises it when ``k`` or more
    *other* annotators hold a live label on the item: the answer is kept, as a
    ``conflict`` event (in ``events``, not a label). Nothing else changed.

    Attributes
    ----------
    event_id : int
        The conflict event that keeps the answer.
    item_id : int or str
        The item.
    others : list of str
        The annotators whose labels were there first.

    Examples
    --------
    >>> err = LabelConflictError(123, 17, ["bo"], 1)
    >>> print(err)
    item 17 was labeled by bo meanwhile (overlap=1): your answer is kept as conflict event #123, not as a label.
    >>> err.event_id, err.item_id, err.others
    (123, 17, ['bo'])
    """

    def __init__(self, event_id: int, item_id: object, others: list[str], overlap: int) -> None:
        self.event_id, self.item_id, self.others = event_id, item_id, list(others)
        self.overlap = overlap
        names = " and ".join(
            [", ".join(self.others[:-1]), self.others[-1]] if len(self.others) > 1 else self.others
        )
        super().__init__(
            f"item {item_id!r} was labeled by {names or 'others'} meanwhile (overlap={overlap}): "
            f"your answer is kept as conflict event #{event_id}, not as a label."
        )

    def __reduce__(self) -> tuple[object, ...]:  # picklable (e.g. from a worker process)
        return (type(self), (self.event_id, self.item_id, self.others, self.overlap))


class LabelConflictWarning(ALWidgetsError, UserWarning):
    """A label given in Python (``ActiveLabeler.label``) was kept as a conflict, not a
    label: enough colleagues labeled the item first (see :class:`LabelConflictError`).

    The labeler goes on (the item counts as answered); the warning names who was first.
    """


class ClusterError(ALWidgetsError, RuntimeError):
    """The Dask cluster holding a pool went away or failed while alwidgets computed on it."""


class OptionalDependencyError(ALWidgetsError, ImportError):
    """An optional dependency is missing; the message names the extra to install."""


def require(module: str, extra: str, purpose: str) -> object:
    """Import an optional dependency lazily, or say which extra installs it.

    Parameters
    ----------
    module : str
        Importable module name, e.g. ``"pyarrow"``.
    extra : str
        Name of the alwidgets extra that installs it, e.g. ``"parquet"``.
    purpose : str
        What the caller wanted to do, for the message.

    Returns
    -------
    module
        The imported module.

    Examples
    --------
    >>> require("json", "none", "read JSON").__name__
    'json'
    >>> require("not_a_real_module_xyz", "demo", "run the demo")
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.OptionalDependencyError: run the demo needs 'not_a_real_module_xyz'; install it with: pip install "alwidgets[demo]"
    """
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise OptionalDependencyError(
            f'{purpose} needs {module!r}; install it with: pip install "alwidgets[{extra}]"'
        ) from err
