"""Teaching mode for :class:`~alwidgets.ActiveLabeler`: the oracle answers, a class watches.

:meth:`TeachingMixin.step` answers the current batch with the true labels through the
same code path as a person's clicks (so the store, the plots and the undo history are
exactly what labeling by hand would give), then waits for the retrain;
:meth:`TeachingMixin.run` repeats that in a background thread so the notebook stays
responsive, and :meth:`TeachingMixin.stop` ends it.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

import numpy as np

from alwidgets.exceptions import InvalidInputError

__all__ = ["TeachingMixin"]

logger = logging.getLogger("alwidgets")


class TeachingMixin:
    """``step`` / ``run`` / ``stop`` on top of the labeler's public API."""

    oracle: np.ndarray | None
    oracle_noise: float
    oracle_mistakes: list[Any]
    classes: list[Any]
    _noise_rng: np.random.Generator
    batch_widget: Any
    _runner: threading.Thread | None
    _stop_run: threading.Event

    if TYPE_CHECKING:  # provided by ActiveLabeler

        @property
        def batch(self) -> list[Any]: ...

        def label(self, item_id: Any, label: Any) -> None: ...

        def retrain(
            self, wait: bool = False, timeout: float | None = None, force: bool = False
        ) -> None: ...

        def _pos(self, item_id: Any) -> int: ...

    def step(self) -> list[Any]:
        """Answer the current batch with the oracle (the same path as clicks) and retrain.

        Returns the ids that were labeled. Needs ``oracle=``.
        """
        if self.oracle is None:
            raise InvalidInputError(
                "step() answers with the oracle; create the labeler with oracle=y (true labels)."
            )
        done = self.batch
        for item_id in done:
            self.label(item_id, self._oracle_answer(item_id))
        self.retrain(wait=True)
        return done

    def _oracle_answer(self, item_id: Any) -> Any:
        """The oracle's label; with ``oracle_noise``, now and then a wrong one (recorded)."""
        assert self.oracle is not None
        truth = self.oracle[self._pos(item_id)]
        if self.oracle_noise and self._noise_rng.random() < self.oracle_noise:
            others = [c for c in self.classes if c != truth]
            if others:
                self.oracle_mistakes.append(item_id)
                return others[int(self._noise_rng.integers(len(others)))]
        return truth

    def run(self, n_batches: int | None = None, delay: float = 0.5, wait: bool = False) -> None:
        """Let the loop run on its own with the oracle, one batch every ``delay`` seconds.

        Runs in a background thread so the notebook stays responsive (``wait=True``
        blocks until it ends); :meth:`stop` ends it. ``n_batches=None`` runs until the
        pool is exhausted.
        """
        if self.oracle is None:
            raise InvalidInputError(
                "run() answers with the oracle; create the labeler with oracle=y (true labels)."
            )
        self.stop()
        self._stop_run.clear()

        def loop() -> None:
            i = 0
            while not self._stop_run.is_set() and (n_batches is None or i < n_batches):
                if not self.batch:
                    break
                try:
                    self.step()
                except Exception as err:  # show it; a class demo should not die silently
                    logger.exception("alwidgets: run() stopped")
                    self.batch_widget.notice(f"run() stopped: {type(err).__name__}: {err}", "error")
                    break
                i += 1
                if self._stop_run.wait(delay):
                    break

        self._runner = threading.Thread(target=loop, name="alwidgets-run", daemon=True)
        self._runner.start()
        if wait:
            self._runner.join()

    def stop(self) -> None:
        """Stop a running :meth:`run` loop (after its current step)."""
        self._stop_run.set()
        if self._runner is not None and self._runner is not threading.current_thread():
            self._runner.join()
        self._runner = None
