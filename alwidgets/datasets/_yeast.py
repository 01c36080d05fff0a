"""The Yeast multi-label data set, read from the file the river package ships."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pandas as pd

from alwidgets.exceptions import OptionalDependencyError, require

YEAST_FILE = "yeast.csv.gz"
N_FEATURES, N_CLASSES = 103, 14


def load_yeast() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Load Yeast: 2,417 genes, 103 numeric features, any of 14 functional classes.

    A classic multi-label benchmark (Elisseeff & Weston 2002, "A kernel method for
    multi-labelled classification", NeurIPS; the MULAN version, OpenML 40597): each gene
    of *Saccharomyces cerevisiae* is described by micro-array expression and phylogenetic
    profiles and annotated with a subset of 14 top-level functional categories
    (``Class1`` .. ``Class14``); 4.2 classes per gene on average. The file ships inside
    the ``river`` package (BSD-3-Clause), so nothing is downloaded; install it with
    ``pip install "alwidgets[data]"``.

    Returns
    -------
    X : pandas.DataFrame, shape (2417, 103)
        Float features ``Att1`` .. ``Att103`` (already standardised-looking, centred).
    Y : pandas.DataFrame, shape (2417, 14)
        0/1 (``uint8``) columns ``Class1`` .. ``Class14``: the multi-label indicator
        that ``ActiveLearner.fit``, ``simulate`` and ``compare`` take as is.

    Raises
    ------
    alwidgets.OptionalDependencyError
        If river is not installed, or its wheel no longer holds the file.

    Examples
    --------
    >>> from alwidgets.datasets import load_yeast
    >>> X, Y = load_yeast()
    >>> X.shape, Y.shape
    ((2417, 103), (2417, 14))
    >>> round(float(Y.sum(axis=1).mean()), 2)
    4.24
    >>> Y.columns[:3].tolist()
    ['Class1', 'Class2', 'Class3']
    """
    X, Y = _yeast()
    return X.copy(), Y.copy()  # callers may modify their copy


@functools.lru_cache(maxsize=1)
def _yeast() -> tuple[pd.DataFrame, pd.DataFrame]:
    river: Any = require("river", "data", "load_yeast()")  # the top module only: cheap
    path = Path(river.__file__).parent / "datasets" / YEAST_FILE
    if not path.is_file():
        raise OptionalDependencyError(
            f"load_yeast() reads {YEAST_FILE} from the river package, but river "
            f"{getattr(river, '__version__', '?')} has no such file; install a version that "
            'ships it: pip install "alwidgets[data]"'
        )
    frame = pd.read_csv(path)
    features = [f"Att{i}" for i in range(1, N_FEATURES + 1)]
    classes = [f"Class{i}" for i in range(1, N_CLASSES + 1)]
    X = frame[features].astype("float64")
    Y = frame[classes].astype("uint8")
    for part in (X, Y):
        part.attrs["source"] = "Yeast (Elisseeff & Weston 2002; MULAN), shipped in river"
        part.attrs["license"] = "river: BSD-3-Clause"
    return X, Y
