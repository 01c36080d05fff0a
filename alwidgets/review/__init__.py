"""Which labels are likely wrong: a review queue from out-of-fold probabilities.

* :func:`suspect_labels` — labeled items ranked by how likely their label is wrong.

Examples
--------
>>> from alwidgets.review import suspect_labels
>>> suspect_labels.__name__
'suspect_labels'
"""

from __future__ import annotations

from alwidgets.review._oof import out_of_fold_proba
from alwidgets.review._suspect import label_scores, suspect_labels

__all__ = ["label_scores", "out_of_fold_proba", "suspect_labels"]
