"""Which labels are likely wrong: a review queue from out-of-fold probabilities.

* :func:`suspect_labels` — labeled items ranked by how likely their label is wrong;
  with a multi-label 0/1 indicator, the (item, class) bits that look wrong, with the
  given set, the out-of-fold guessed set and the class whose bit is suspect.
* :func:`label_scores`, :func:`check_scores`, :func:`out_of_fold_proba` — its parts:
  the scores, the check that chooses among them, out-of-fold probabilities.

Examples
--------
>>> from alwidgets.review import suspect_labels
>>> suspect_labels.__name__
'suspect_labels'
"""

from __future__ import annotations

from alwidgets.review._multilabel import out_of_fold_multilabel
from alwidgets.review._oof import out_of_fold_proba
from alwidgets.review._scores import SCORES, check_scores, label_scores
from alwidgets.review._suspect import likely_wrong, suspect_labels

__all__ = [
    "SCORES",
    "check_scores",
    "label_scores",
    "likely_wrong",
    "out_of_fold_multilabel",
    "out_of_fold_proba",
    "suspect_labels",
]
