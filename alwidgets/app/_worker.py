"""Where retrains run: :func:`~alwidgets.app._fit.run_job` (a pure function, in
:mod:`._fit`) in a thread or a worker process.

:class:`RetrainWorker` runs jobs one at a time, either in a thread (enough when the
estimator's fit and predict release the GIL, as numpy/BLAS/Cython code does) or in a
worker process that maps the pool read-only (a file written once; see
:func:`alwidgets.pools.share_read_only`), never a second copy (needed for Python-heavy
models, which would otherwise starve the kernel's message handling).

At interpreter exit a labeler that was never closed is closed by an :mod:`atexit` hook
(see :func:`at_exit`), so a script that never calls ``close()`` exits quietly.
"""

from __future__ import annotations

import atexit
import logging
import os
import signal
import threading
import weakref
from collections.abc import Callable
from concurrent.futures import Executor, Future, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import replace
from typing import Any

from alwidgets.app._fit import run_job
from alwidgets.app._jobs import LazyLearner, PoolData, RankingSnapshot, RetrainJob, failed_snapshot

__all__ = ["RetrainWorker", "at_exit", "choose_mode", "run_job"]

logger = logging.getLogger("alwidgets")

#: Pools smaller than this are pickled to a worker process; larger ones are shared.
SHARE_MIN_BYTES = 1 << 20

# ---- process workers: the pool is given once, at start-up (a read-only map) ----
_WORKER_DATA: PoolData | None = None


def _init_worker(data: PoolData, niceness: int) -> None:
    global _WORKER_DATA
    _WORKER_DATA = data
    # Interrupting the kernel (Jupyter signals the kernel's process group, this worker
    # included) is meant for the user's cell, not for a retrain: ignored here, so the
    # worker neither dies nor prints a KeyboardInterrupt traceback; shutdown() stops it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if niceness and hasattr(os, "nice"):
        # a retrain may take every core it gets; the kernel answering key presses and
        # the browser drawing them come first
        os.nice(niceness)


def _run_in_worker(job: RetrainJob) -> RankingSnapshot:
    if _WORKER_DATA is None:  # pragma: no cover - the initializer always ran
        raise RuntimeError("retrain worker was started without pool data")
    snap = run_job(job, _WORKER_DATA)
    if snap.model is not None:
        snap = replace(snap, model=LazyLearner.packed(snap.model.get()))
    return snap


def _ping() -> bool:
    return True


def choose_mode(estimator: Any, strategy: Any) -> tuple[str, str]:
    """Where ``retrain_in="auto"`` runs fits: ``("process" | "thread", why)``.

    A worker process keeps even Python-heavy models from slowing the kernel (see
    ``benchmarks/README.md``), so it is the choice in notebooks. A thread is used when
    a process could not work: the estimator or strategy is defined in ``__main__`` (a
    notebook cell or script; a spawned process cannot import it), or the program is a
    script (spawning re-imports it, which re-runs code not under
    ``if __name__ == "__main__"``).

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> choose_mode(LogisticRegression(), "margin")[0] in ("process", "thread")
    True
    """
    import pickle
    import sys

    main = sys.modules.get("__main__")
    if getattr(main, "__file__", None):
        return "thread", "running as a script"
    try:
        blob = pickle.dumps((estimator, strategy))
    except Exception as err:  # lambdas, open handles...
        return "thread", f"the estimator or strategy cannot be pickled ({type(err).__name__})"
    if b"__main__" in blob:
        return "thread", "the estimator or strategy is defined in the notebook (__main__)"
    return "process", "a worker process keeps fits from slowing the kernel"


class RetrainWorker:
    """Runs one retrain at a time in a thread or a process and reports each result.

    Parameters
    ----------
    data : PoolData
        The pool (sent once to a worker process).
    on_done : callable
        Called with each :class:`RankingSnapshot` (in a background thread).
    mode : {"thread", "process"}
        Where fits run.
    niceness : int, default 10
        Added to a worker process's nice value (lower CPU priority than the kernel).
    """

    def __init__(
        self,
        data: PoolData,
        on_done: Callable[[RankingSnapshot], None],
        mode: str = "thread",
        niceness: int = 10,
    ) -> None:
        self.mode = mode
        self.niceness = niceness
        self._data = data
        self._on_done = on_done
        self._executor: Executor | None = None
        self._lock = threading.Lock()
        #: Why a process worker was given up for a thread (``None``: it was not).
        self.fallback_reason: str | None = None
        self._fallback_told = False
        #: Set by :meth:`shutdown`: results that arrive later are dropped, not applied.
        self.closed = False
        self._shared: Any = None  # the pool's file, mapped read-only by a worker process

    def _process_data(self) -> PoolData:
        """What a worker process is sent: a dense in-memory pool as a read-only memory map
        of a file written once (only its path is pickled), never a second copy."""
        from alwidgets.pools import can_share, share_read_only

        X = self._data.X
        if not can_share(X) or X.nbytes < SHARE_MIN_BYTES:
            return self._data
        if self._shared is None:
            self._shared = share_read_only(X)
        return replace(self._data, X=self._shared)

    def _get_executor(self) -> Executor:
        with self._lock:
            if self._executor is None:
                if self.mode == "process":
                    import multiprocessing as mp

                    self._executor = ProcessPoolExecutor(
                        max_workers=1,
                        mp_context=mp.get_context("spawn"),
                        initializer=_init_worker,
                        initargs=(self._process_data(), self.niceness),
                    )
                else:
                    self._executor = ThreadPoolExecutor(
                        max_workers=1, thread_name_prefix="alwidgets-retrain"
                    )
            return self._executor

    def warm_up(self) -> None:
        """Start a worker process now (imports + pool transfer), not at the first retrain."""
        if self.mode == "process":
            self._get_executor().submit(_ping)

    def submit(self, job: RetrainJob, applied: threading.Event) -> None:
        """Start ``job``; ``applied`` is set once ``on_done`` has run with its result."""
        with self._lock:
            closed, mode = self.closed, self.mode
        if closed:
            applied.set()
            return
        try:
            executor = self._get_executor()
            if mode == "process":
                future: Future[RankingSnapshot] = executor.submit(_run_in_worker, job)
            else:
                future = executor.submit(run_job, job, self._data)
        except RuntimeError:  # "cannot schedule new futures after (interpreter) shutdown"
            applied.set()
            return

        def done(fut: Future[RankingSnapshot]) -> None:
            with self._lock:
                closed = self.closed
            if closed or fut.cancelled():  # shut down meanwhile: nobody to tell
                applied.set()
                return
            try:
                err = fut.exception()
                if err is not None and mode == "process":
                    # run_job never raises: the process itself failed (pickling, killed,
                    # out of memory). Labeling goes on with fits in a thread.
                    self._fall_back(err)
                    self.submit(job, applied)
                    return
                self._on_done(failed_snapshot(job, err) if err is not None else fut.result())
            except Exception:  # never let a callback error kill the worker silently
                logger.exception("alwidgets: applying retrain v%s failed", job.version)
            applied.set()

        future.add_done_callback(done)

    def _fall_back(self, err: BaseException) -> None:
        logger.warning(
            "alwidgets: the retrain process failed (%s: %s); retraining in a thread from now on",
            type(err).__name__,
            err,
        )
        with self._lock:
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
            self.mode = "thread"
            self.fallback_reason = f"{type(err).__name__}: {err}"
            self._close_shared()

    def fallback_news(self) -> str | None:
        """Why fits moved to a thread — once, the first time it is asked after the move."""
        with self._lock:
            if self.fallback_reason is None or self._fallback_told:
                return None
            self._fallback_told = True
            return self.fallback_reason

    def shutdown(self) -> None:
        """Stop the worker: queued jobs are cancelled, a running one's result is dropped."""
        with self._lock:
            self.closed = True
            if self._executor is not None:
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = None
            self._close_shared()

    def _close_shared(self) -> None:
        """Delete the pool's file (a worker's open map stays valid until it exits)."""
        if self._shared is not None:
            self._shared.close()
            self._shared = None


# ---- interpreter exit: close what is still open ----
_OPEN: weakref.WeakSet[Any] = weakref.WeakSet()
_registered = False


def _close_all_at_exit() -> None:
    for owner in list(_OPEN):
        try:
            owner._close_at_exit()
        except Exception:  # exiting anyway: never print a traceback on the way out
            logger.debug("alwidgets: closing at exit failed", exc_info=True)


def at_exit(owner: Any) -> None:
    """Call ``owner._close_at_exit()`` at interpreter exit unless it is gone by then.

    Held weakly (an unclosed labeler is not kept alive). A plain :mod:`atexit` hook,
    which runs after the standard library has joined its executor threads; that is
    enough because nothing then goes wrong on the way: a retrain still running finishes
    (the interpreter waits for it either way), its result is applied quietly (a
    learning-curve point is logged; widgets without a kernel send nothing), and a
    follow-up job it asks for is refused by the executor ("cannot schedule new futures
    after interpreter shutdown"), which :meth:`RetrainWorker.submit` takes as closed.
    The companion and teaching threads are daemons. Then this hook closes the rest.
    """
    global _registered
    _OPEN.add(owner)
    if not _registered:
        _registered = True
        atexit.register(_close_all_at_exit)
