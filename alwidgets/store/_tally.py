"""Per-annotator counts and pace, kept up to date from the events after the last one seen.

:meth:`SessionStore.annotator_stats <alwidgets.store.SessionStore.annotator_stats>`
reads one row per new event (its action, annotator and times, and for an undo the
action and times of the event it reverts) and updates running totals: the live
answers per action, the active labeling time and a sorted list of each annotator's
seconds per label (for the median). A team's app asks after every few events, so
the work per call is the number of new events, never the session's size.

The numbers are those of :meth:`SessionStore.stats`, split by annotator: an answer
costs the time since its item was shown or since the annotator's previous event,
whichever is shorter, and a cost above ``idle_seconds`` is a break that counts
nothing; the median is over live labels that know when their item was shown.

Examples
--------
>>> import sqlite3
>>> from alwidgets.store._migrations import _DDL, _statements
>>> conn = sqlite3.connect(":memory:")
>>> for statement in _statements(_DDL):
...     _ = conn.execute(statement)
>>> sql = ("INSERT INTO events (action, item_id, label, annotator, shown_at, answered_at, "
...        "undoes) VALUES (?, ?, ?, ?, ?, ?, ?)")
>>> _ = conn.execute(sql, ("label", 1, "a", "ana", 0.0, 4.0, None))
>>> _ = conn.execute(sql, ("label", 2, "b", "ana", 4.0, 6.0, None))
>>> _ = conn.execute(sql, ("skip", 3, None, "bo", 0.0, 3.0, None))
>>> tally = Tally(600.0)
>>> tally.update(conn)
>>> tally.frame()[["n_labels", "n_skipped", "median_seconds_per_label"]].to_dict("index")
{'ana': {'n_labels': 2, 'n_skipped': 0, 'median_seconds_per_label': 3.0}, 'bo': {'n_labels': 0, 'n_skipped': 1, 'median_seconds_per_label': nan}}
>>> _ = conn.execute(sql, ("undo", 2, "b", "ana", None, 7.0, 2))
>>> tally.update(conn)  # reads only the new event
>>> frame = tally.frame()
>>> int(frame.loc["ana", "n_labels"]), float(frame.loc["ana", "median_seconds_per_label"])
(1, 4.0)
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["COLUMNS", "Tally"]

#: The columns of ``annotator_stats()``.
COLUMNS = (
    "n_labels",
    "n_skipped",
    "n_unsure",
    "n_conflicts",
    "active_minutes",
    "labels_per_minute",
    "median_seconds_per_label",
)
_COUNTED = {"label": "n_labels", "skip": "n_skipped", "unsure": "n_unsure"}
_COUNTED["conflict"] = "n_conflicts"

_NEW_SQL = """
SELECT e.id, e.action, e.annotator, e.shown_at, e.answered_at, t.action, t.shown_at,
       t.answered_at
FROM events AS e LEFT JOIN events AS t ON t.id = e.undoes
WHERE e.id > ? ORDER BY e.id
"""


def _seconds(shown: float | None, answered: float | None) -> float:
    return math.nan if shown is None or answered is None else float(answered - shown)


@dataclass
class _Annotator:
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(_COUNTED.values(), 0))
    active: float = 0.0  # seconds
    last: float = math.nan  # answer time of the previous event
    label_seconds: list[float] = field(default_factory=list)  # sorted

    def row(self) -> list[Any]:
        n = self.counts["n_labels"]
        minutes = self.active / 60.0
        times = self.label_seconds
        median = float(np.median(times)) if times else math.nan
        rate = n / minutes if minutes > 0 else math.nan
        return [*(self.counts[c] for c in COLUMNS[:4]), minutes, rate, median]


class Tally:
    """Running per-annotator totals; :meth:`update` reads the events after the last seen."""

    def __init__(self, idle_seconds: float) -> None:
        self.idle_seconds = idle_seconds
        self.last_id = 0
        self._people: dict[str, _Annotator] = {}

    def update(self, conn: Any) -> None:
        """Fold in the events written (by anyone) since the last update."""
        rows = conn.execute(_NEW_SQL, (self.last_id,)).fetchall()
        for row in rows:
            self._add(*row)
        if rows:
            self.last_id = int(rows[-1][0])

    def _add(
        self,
        _: int,
        action: str,
        who: str,
        shown: float | None,
        answered: float,
        undone_action: str | None,
        undone_shown: float | None,
        undone_answered: float | None,
    ) -> None:
        person = self._people.setdefault(who, _Annotator())
        seconds = _seconds(shown, answered)
        gap = answered - person.last
        cost = float(np.fmin(seconds, gap))  # the shorter; either may be unknown (NaN)
        if math.isfinite(cost) and 0 <= cost <= self.idle_seconds:
            person.active += cost
        person.last = answered
        if action in _COUNTED:
            person.counts[_COUNTED[action]] += 1
            if action == "label" and math.isfinite(seconds):
                bisect.insort(person.label_seconds, seconds)
        elif undone_action in _COUNTED:  # an undo: its target (the same annotator's) is gone
            person.counts[_COUNTED[undone_action]] -= 1
            gone = _seconds(undone_shown, undone_answered)
            if undone_action == "label" and math.isfinite(gone):
                times = person.label_seconds
                at = bisect.bisect_left(times, gone)
                if at < len(times) and times[at] == gone:
                    del times[at]

    def frame(self) -> pd.DataFrame:
        """One row per annotator (sorted by name), the columns :data:`COLUMNS`."""
        names = sorted(self._people)
        rows = [self._people[name].row() for name in names]
        frame = pd.DataFrame(
            rows, columns=list(COLUMNS), index=pd.Index(names, dtype="str", name="annotator")
        )
        ints = dict.fromkeys(COLUMNS[:4], np.int64)
        return frame.astype({**ints, **dict.fromkeys(COLUMNS[4:], float)})
