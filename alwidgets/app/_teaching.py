"""Teaching mode: an oracle answers through the public API while a class watches.

:class:`Oracle` holds the true labels and, with ``noise``, answers wrong on purpose
now and then (recording which items), to show :meth:`~alwidgets.ActiveLabeler.review`
at work. :meth:`~alwidgets.ActiveLabeler.step` answers the current batch with it
through the same code path as a person's clicks (so the store, the plots and the undo
history are exactly what labeling by hand would give), then waits for the retrain;
:meth:`~alwidgets.ActiveLabeler.run` repeats that in a background thread that the
labeler starts and stops (its body is :func:`run_batches`).

Examples
--------
>>> import numpy as np
>>> ids = ["a", "b", "c"]
>>> oracle = Oracle(np.array([0, 1, 1]), classes=[0, 1], noise=0.0,
...                 rng=np.random.default_rng(0), pos=ids.index)
>>> oracle.answer("c"), oracle.mistakes
(1, [])
>>> noisy = Oracle(np.array([0, 1, 1]), classes=[0, 1], noise=0.99,
...                rng=np.random.default_rng(0), pos=ids.index)
>>> noisy.answer("c"), noisy.mistakes
(0, ['c'])
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from alwidgets._utils import plain
from alwidgets.app._multilabel import oracle_answer
from alwidgets.exceptions import InvalidInputError

__all__ = ["Oracle", "needs_oracle", "run_batches", "start_run", "teach_step"]

logger = logging.getLogger("alwidgets")


class Oracle:
    """True labels aligned with the pool; wrong on purpose with probability ``noise``."""

    def __init__(
        self,
        truth: np.ndarray,
        *,
        classes: list[Any],
        noise: float,
        rng: np.random.Generator,
        pos: Callable[[Any], int],
    ) -> None:
        self.truth, self.classes, self.noise, self._rng = truth, classes, noise, rng
        self.pos = pos  # item id -> its position in the pool
        self.mistakes: list[Any] = []  # ids it answered wrong

    def answer(self, item_id: Any) -> Any:
        """The item's label (now and then a wrong one, recorded); multi-label (an
        indicator ``truth``): its set, one class flipped when wrong on purpose."""
        if self.truth.ndim == 2:
            answer, wrong = oracle_answer(self.truth[self.pos(item_id)], self.classes,
                                          self.noise, self._rng)  # fmt: skip
            if wrong:
                self.mistakes.append(item_id)
            return answer
        truth = plain(self.truth[self.pos(item_id)])
        if self.noise and self._rng.random() < self.noise:
            others = [c for c in self.classes if c != truth]
            if others:
                self.mistakes.append(item_id)
                return others[int(self._rng.integers(len(others)))]
        return truth


def needs_oracle(oracle: Oracle | None, what: str) -> Oracle:
    """``oracle``, or the error that says how to get one."""
    if oracle is None:
        raise InvalidInputError(
            f"{what}() answers with the oracle; create the labeler with oracle=y (true labels)."
        )
    return oracle


def teach_step(labeler: Any, oracle: Oracle) -> list[Any]:
    """One :meth:`~alwidgets.ActiveLabeler.step`, through the labeler's public API: the
    oracle answers the current batch (the path of clicks), then a retrain; the ids."""
    done = list(labeler.batch)
    for item_id in done:
        labeler.label(item_id, oracle.answer(item_id))
    labeler.retrain(wait=True)
    return done


def run_batches(
    labeler: Any,
    n_batches: int | None,
    delay: float,
    stop: threading.Event,
    show: Callable[[str], object],
) -> None:
    """The body of :meth:`~alwidgets.ActiveLabeler.run`'s thread: ``step()`` every
    ``delay`` seconds until ``n_batches`` are done, the pool is, or ``stop`` is set. An
    error stops it and is shown (``show``) above the cards: a class demo should not die
    silently."""
    i = 0
    while not stop.is_set() and (n_batches is None or i < n_batches) and labeler.batch:
        try:
            labeler.step()
        except Exception as err:
            logger.exception("alwidgets: run() stopped")
            show(f"run() stopped: {type(err).__name__}: {err}")
            return
        i += 1
        if stop.wait(delay):
            return


def start_run(
    labeler: Any, n_batches: int | None, delay: float, stop: threading.Event,
    show: Callable[[str], object],
) -> threading.Thread:  # fmt: skip
    """Start :func:`run_batches` in the ``alwidgets-run`` daemon thread; the thread."""
    runner = threading.Thread(
        target=run_batches, args=(labeler, n_batches, delay, stop, show), name="alwidgets-run",
        daemon=True,
    )  # fmt: skip
    runner.start()
    return runner
