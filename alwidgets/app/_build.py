"""Building the labeling core from checked inputs: mirror, team, scheduler, queue.

:func:`build_controller` is what :class:`~alwidgets.ActiveLabeler` runs once the
arguments are checked and the store is open: it mirrors the store's log, decides
whether a team is at work (:func:`team_at_open`), ranks the pool for the first batch
(a cold start, computed here: no model needed; with class descriptions, from the
similarities :func:`~alwidgets.app._inputs.check_inputs` computed) and composes the
:class:`~alwidgets.app._controller.LabelingController`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alwidgets.app._cards import CardMaker
from alwidgets.app._controller import LabelingController
from alwidgets.app._jobs import PoolData
from alwidgets.app._mirror import SessionMirror
from alwidgets.app._queue import BatchQueue
from alwidgets.app._scheduler import RetrainScheduler, last_version
from alwidgets.app._team import TeamRouting
from alwidgets.exceptions import InvalidInputError

__all__ = ["build_controller", "team_at_open"]


def team_at_open(store: Any, annotator: str, overlap: int, events: Any) -> bool:
    """A team is at work from the start: the store is a server, each item wants several
    annotators, or another annotator's events or leases are in the store.

    A lone labeler on a file claims nothing, renews nothing and follows nobody; the
    controller switches to team mode if someone else writes later.
    """
    if store.path is None or overlap > 1:
        return True
    if len(events) and bool((events["annotator"] != annotator).any()):
        return True
    claims = store.claims
    return bool(len(claims) and (claims["annotator"] != annotator).any())


def build_controller(
    inp: Any,
    store: Any,
    data: PoolData,
    *,
    annotator: str,
    overlap: int,
    lease_seconds: float,
) -> LabelingController:
    """The controller for ``inp`` (:class:`~alwidgets.app._inputs.Inputs`) on ``store``.

    Raises
    ------
    InvalidInputError
        The pool cannot be ranked for the first batch (the store is closed first).
    """
    from alwidgets.app._fit import run_job
    from alwidgets.app._signals import Signals

    zero_shot = inp.zero_shot  # with class descriptions: the pool's zero-shot guesses

    mirror = SessionMirror(
        inp.ids, inp.classes, annotator=annotator, mine_only=overlap > 1,
        multi_label=inp.multi_label,
    )  # fmt: skip
    events = store.events
    mirror.load(events)

    def make_team() -> TeamRouting:
        return TeamRouting(
            store, inp.ids, annotator=annotator, overlap=overlap, lease_seconds=lease_seconds
        )

    team = make_team() if team_at_open(store, annotator, overlap, events) else None
    rng = np.random.default_rng(inp.seed)
    sched = RetrainScheduler(
        estimator=inp.estimator, strategy=inp.strategy, classes=inp.classes,
        n_items=len(inp.ids), batch_size=inp.batch_size, retrain_every=inp.retrain_every,
        compare_with=inp.compare_with, seed=inp.seed, rng=rng,
        first_version=last_version(store.models), descriptions=inp.descriptions,
        zero_shot=zero_shot, multi_label=inp.multi_label,
    )  # fmt: skip
    cold = run_job(sched.make_job(False, {}, mirror.handled, []), data)
    if cold.error:
        store.close()
        raise InvalidInputError(
            f"could not rank the pool for the first batch: {cold.error}. Check that X "
            "suits the estimator (e.g. raw text needs a Pipeline with a vectorizer)."
        )
    cards = CardMaker(ids=inp.ids, items=inp.items, display=inp.display, classes=inp.classes,
                      multi_label=inp.multi_label, zero_shot=zero_shot)  # fmt: skip
    queue = BatchQueue(
        cards, batch_size=inp.batch_size, rng=rng, snapshot=cold, handled=mirror.handled,
        claim=None if team is None else (lambda positions, k: team.claim(positions, k)[0]),
    )  # fmt: skip
    return LabelingController(
        store, mirror, queue, sched, team=team, make_team=make_team, annotator=annotator,
        overlap=overlap,
        review=(inp.estimator, inp.X, inp.seed, inp.classes), stats_base=store.stats(),
        signals=Signals(inp.classes, eval_set=inp.X_eval is not None),
    )  # fmt: skip
