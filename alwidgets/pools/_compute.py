"""Run a Dask graph on whatever scheduler is active, with progress, Ctrl-C and cluster loss.

* A ``distributed.Client`` that the user made the default (``Client(...)``, or
  ``dask.config.set(scheduler=client)``) is used; otherwise Dask's default
  scheduler. alwidgets never starts a cluster.
* A long computation shows a progress bar after two seconds (tqdm on a cluster,
  Dask's ``ProgressBar`` on the local scheduler; in a notebook and a terminal);
  ``dask.config.set({"alwidgets.progress": False})`` turns it off, a number sets the
  delay in seconds.
* Ctrl-C (``KeyboardInterrupt``) cancels the submitted futures and propagates.
* A cluster that goes away (client disconnected, no workers, futures lost) raises
  :class:`~alwidgets.exceptions.ClusterError` after at most
  ``alwidgets.cluster-timeout`` seconds (Dask config, default 30), never a hang.

Examples
--------
>>> import dask
>>> run_graph([dask.delayed(sum)([1, 2])], dask.delayed(len)("abc"))
3
"""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any

from alwidgets.exceptions import ALWidgetsError, ClusterError, require

__all__ = ["active_client", "cluster_timeout", "run_graph", "scatter_once"]


def _dask() -> Any:
    return require("dask", "dask", "a pool held as a Dask array")


def active_client() -> Any:
    """The ``distributed.Client`` Dask would use now, or None (never creates one)."""
    if "distributed" not in sys.modules:
        return None
    try:
        get = _dask().base.get_scheduler()
    except ValueError:  # configured for distributed, but no client is left
        return None
    client = getattr(get, "__self__", None)
    from distributed import Client

    return client if isinstance(client, Client) else None


def cluster_timeout() -> float:
    """Seconds a lost cluster may take to come back before :class:`ClusterError` (Dask config)."""
    return float(_dask().config.get("alwidgets.cluster-timeout", 30.0))


def _progress_delay() -> float | None:
    """Seconds before the bar shows, or None for no bar (``alwidgets.progress``)."""
    value = _dask().config.get("alwidgets.progress", True)
    if value is False or value is None:
        return None
    return 2.0 if value is True else float(value)


def scatter_once(obj: Any) -> Any:
    """Put ``obj`` on the cluster once: a future on every worker, or a single graph key locally."""
    client = active_client()
    if client is not None:
        try:
            # in a list: scatter would otherwise send the items of a tuple one by one
            return client.scatter([obj], broadcast=True, hash=False, timeout=cluster_timeout())[0]
        except (OSError, TimeoutError) as err:
            raise _lost(client, err) from err
    import uuid

    return _dask().delayed(obj, name=f"alwidgets-model-{uuid.uuid4().hex}", traverse=False)


def _lost(client: Any, err: BaseException | None = None) -> ClusterError:
    why = f" ({type(err).__name__}: {err})" if err is not None else ""
    return ClusterError(
        f"the Dask cluster behind {client!r} went away during the computation{why}; nothing "
        "was changed (labels, model and ranking are as before). Check the cluster, then "
        "retry; a new or restarted cluster needs its Client created again."
    )


def run_graph(leaves: Sequence[Any], final: Any) -> Any:
    """Compute ``final`` (which depends on the Dask ``leaves``); the leaves only drive the bar."""
    client = active_client()
    if client is None:
        dask = _dask()
        delay = _progress_delay()
        if delay is not None and leaves:
            from dask.diagnostics import ProgressBar

            with ProgressBar(minimum=delay):
                return dask.compute(final)[0]
        return dask.compute(final)[0]
    return _run_on_client(client, list(leaves), final)


def _run_on_client(client: Any, leaves: list[Any], final: Any) -> Any:
    from distributed import CancelledError, wait
    from tqdm.auto import tqdm

    timeout = cluster_timeout()
    try:
        futures = client.compute([*leaves, final])
    except (OSError, TimeoutError) as err:
        raise _lost(client, err) from err
    result = futures[-1]
    delay = _progress_delay()
    bar = tqdm(
        total=len(leaves),
        delay=delay or 0.0,
        disable=delay is None or not leaves,
        desc="scoring blocks",
    )
    lost_since: float | None = None
    try:
        while not result.done():
            done = sum(f.done() for f in futures[:-1])
            bar.update(done - bar.n)
            healthy = client.status == "running" and bool(client.scheduler_info().get("workers"))
            if healthy:
                lost_since = None
            elif lost_since is None:
                lost_since = time.monotonic()
            elif time.monotonic() - lost_since > timeout:
                raise _lost(client)
            try:  # returns as soon as the result is in
                wait(result, timeout=0.1)
            except TimeoutError:
                continue
            except CancelledError:  # reported below, from the result
                break
            except Exception:  # e.g. "No clients found": wait() takes the default client,
                if client.status == "running":  # gone once it closed with its cluster
                    raise
                time.sleep(0.1)  # the health check above reports the lost cluster
        bar.update(len(leaves) - bar.n)
        try:
            return result.result()
        except ALWidgetsError:
            raise
        except (CancelledError, OSError, TimeoutError) as err:
            raise _lost(client, err) from err
        except Exception as err:
            if type(err).__name__ == "KilledWorker":
                raise _lost(client, err) from err
            raise
    except BaseException:
        if client.status == "running":
            client.cancel(futures)
        raise
    finally:
        bar.close()
        del futures, result
