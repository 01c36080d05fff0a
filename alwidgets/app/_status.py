"""What the app shows, as plain values: pure functions of the core's state.

:func:`batch_state` is the batch widget's synced state (cards, answers, progress);
:func:`status_of` its status line (model in use, training, errors, the store being
unreachable); :func:`panel_stats` the stats panel (with :func:`pace` and
:func:`team_line`); :func:`histogram_of` what the uncertainty histogram shows. The
controller calls them under its lock; the view only shows the result.

Examples
--------
>>> status_of(None, n_labels=3, n_classes_labeled=1, training=False, version=0, error=None)["text"]
'no model yet: need labels from at least 2 classes (have 1)'
>>> pace([(0.0, 2.0), (3.0, 3.0), (6.0, 2.5)])
(20.0, 2.5)
>>> team_line({"ana": 4, "bo": 3}, {"ana": 12.0}, " · κ 0.50 on 4 shared items")
'team: ana 4 (12.0/min), bo 3 · κ 0.50 on 4 shared items'
>>> team_line({"ana": 4}, {}, None) is None
True
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from alwidgets._utils import IDLE_SECONDS
from alwidgets.app._changes import HistogramData
from alwidgets.app._descriptions import zero_shot_suggests
from alwidgets.app._jobs import RankingSnapshot
from alwidgets.app._multilabel import NONE_KEY

__all__ = [
    "UNREACHABLE",
    "batch_state",
    "histogram_of",
    "pace",
    "panel_stats",
    "status_now",
    "status_of",
    "suggesting",
    "suggestions_text",
    "team_line",
]

#: The status line's words while the store does not answer.
UNREACHABLE = "store unreachable — retrying"


def status_of(
    snap: RankingSnapshot | None,
    *,
    n_labels: int,
    n_classes_labeled: int,
    training: bool,
    version: int,
    error: str | None,
    unreachable: bool = False,
    unsaved: int = 0,
    problem: str | None = None,
    suggesting: str | None = None,
) -> dict[str, Any]:
    """The status line: ``{"state", "text", "age", "detail", "error"}``.

    ``state`` is ``ready``, ``waiting`` (no model yet), ``training`` or ``error``; the
    front end appends "trained N s ago" from ``age`` and keeps it ticking. ``problem``
    is something that went wrong while applying a retrain (its model is in use).
    ``suggesting`` (with class descriptions): ``"zero-shot"`` or ``"model"``, whose
    suggestions the cards show.

    >>> status_of(None, n_labels=0, n_classes_labeled=0, training=False, version=0,
    ...           error=None, suggesting="zero-shot")["text"]
    'zero-shot guess from the class descriptions · no model yet'
    """
    status: dict[str, Any] = {"state": "ready", "text": "", "age": None, "detail": ""}
    if snap is not None and snap.fitted:
        status["text"] = f"model v{snap.version}, {snap.n_labels} labels"
        status["age"] = max(0.0, time.time() - snap.trained_at)
        score = snap.metrics.get("score")
        details = [f"{snap.metric_name or 'score'} {score:.3f}"] if score is not None else []
        if suggesting == "zero-shot":
            details.append("suggestions: zero-shot (the model is not better on your labels yet)")
        elif suggesting == "model":
            details.append("suggestions: the model's")
        status["detail"] = " · ".join(details)
    elif suggesting is not None:  # class descriptions: the cards carry zero-shot guesses
        status.update(
            state="waiting", text="zero-shot guess from the class descriptions · no model yet"
        )
        if n_classes_labeled < 2:
            status["detail"] = f"a model needs labels from 2 classes (have {n_classes_labeled})"
    elif n_classes_labeled < 2:
        status.update(
            state="waiting",
            text=f"no model yet: need labels from at least 2 classes (have {n_classes_labeled})",
        )
    else:
        status.update(state="waiting", text="no model yet")
    if training:
        status.update(state="training", detail=f"training v{version} on {n_labels} labels…")
    problems = [f"last retrain failed: {error}"] if error else []
    if problem:
        problems.append(problem)
    if unreachable or unsaved:  # answers are not saved until it is back
        problems.insert(0, UNREACHABLE + (f" · {unsaved} not saved" if unsaved else ""))
    if problems:
        detail = " · ".join(problems)
        status.update(state="error", detail=detail, error=error or detail)
    return status


def pace(
    log: Sequence[tuple[float, float | None]], base: Mapping[str, Any] | None = None
) -> tuple[float | None, float | None]:
    """Labels per minute and median seconds per label over the recent answers.

    ``log`` holds ``(time answered, seconds spent or None)`` per label; breaks longer
    than :data:`alwidgets._utils.IDLE_SECONDS` are left out. ``base``
    (``SessionStore.stats()``) fills in when this session has too few answers yet (a
    resumed session).
    """
    recent = list(log)[-30:]
    lpm = spl = None
    if len(recent) >= 2:
        gaps = np.diff([t for t, _ in recent])
        active = gaps[gaps <= IDLE_SECONDS]
        if active.sum() > 0:
            lpm = 60.0 * len(active) / float(active.sum())
    spent = [s for _, s in recent if s is not None]
    if spent:
        spl = float(np.median(spent))
    base = base or {}
    if lpm is None and np.isfinite(base.get("labels_per_minute", np.nan)):
        lpm = float(base["labels_per_minute"])
    if spl is None and np.isfinite(base.get("median_seconds_per_label", np.nan)):
        spl = float(base["median_seconds_per_label"])
    return lpm, spl


def team_line(
    per_annotator: Mapping[str, int], rates: Mapping[str, float], kappa: str | None
) -> str | None:
    """The stats panel's team line: labels (and pace) per annotator, agreement.

    ``per_annotator`` are live label counts (kept current on every answer); ``rates``
    labels per minute and ``kappa`` the agreement text, both from the store (refreshed
    in the background). ``None`` for a lone annotator.
    """
    counts = {who: n for who, n in per_annotator.items() if n > 0}
    if len(counts) < 2:
        return None
    parts = []
    for who, n in counts.items():
        rate = rates.get(who)
        shown = rate is not None and np.isfinite(rate)
        parts.append(f"{who} {n}" + (f" ({rate:.1f}/min)" if shown else ""))
    return "team: " + ", ".join(parts) + (kappa or "")


def batch_state(queue: Any, mirror: Any) -> dict[str, Any]:
    """The batch widget's synced state: current and prefetched cards, answers, progress."""
    q = queue
    answered = [p for p in q.current.positions if q.answered(p)]
    return {
        "cards": q.current.cards,
        "batch_id": q.current.id,
        "next_cards": q.next.cards,
        "next_batch_id": q.next.id,
        "answers": mirror.answers(answered),
        "progress": {"labeled": mirror.n_labeled, "total": len(mirror.ids)},
    }


def status_now(
    queue: Any, mirror: Any, sched: Any, unreachable: bool, unsaved: int
) -> dict[str, Any]:
    """:func:`status_of` the controller's parts."""
    status = status_of(
        queue.snapshot,
        n_labels=mirror.n_labeled,
        n_classes_labeled=sum(1 for n in mirror.per_class.values() if n > 0),
        training=sched.running,
        version=sched.version,
        error=sched.last_error,
        unreachable=unreachable,
        unsaved=unsaved,
        problem=sched.apply_problem,
        suggesting=suggesting(queue.snapshot, sched),
    )
    if mirror.multi_label:
        _multi_label_status(status, queue.snapshot, sched.strategy)
    return status


def _multi_label_status(status: dict[str, Any], snap: RankingSnapshot, strategy: Any) -> None:
    """A multi-label labeler's status: no class count to wait for (a model fits on any
    labeled set), and what ``strategy="auto"`` picks with.

    >>> st = {"state": "waiting", "text": "no model yet: need labels from at least 2 classes"}
    >>> _multi_label_status(st, RankingSnapshot(0, 0, np.arange(1), np.zeros(1), None), "auto")
    >>> st["text"]
    'no model yet: the first one trains on the first batch · strategy auto → mmu (multi-label default)'
    """
    if status["text"].startswith("no model yet"):
        status["text"] = "no model yet: the first one trains on the first batch"
    if strategy == "auto":
        from alwidgets.strategies import check_task, get_strategy

        chosen = check_task(get_strategy("auto"), True).name
        status["text"] += f" · strategy auto → {chosen} (multi-label default)"


def suggesting(snap: RankingSnapshot, sched: Any) -> str | None:
    """Whose suggestions the cards show: ``"zero-shot"``, ``"model"`` (``None``: no
    class descriptions, only the model suggests)."""
    if sched.descriptions is None:
        return None
    return "zero-shot" if zero_shot_suggests(snap) else "model"


def suggestions_text(snap: RankingSnapshot, sched: Any) -> str | None:
    """The stats panel's line on whose suggestions the cards show, and why."""
    who = suggesting(snap, sched)
    if who is None:
        return None
    if not snap.fitted:
        return ("suggestions by zero-shot: the closest class description (cosine "
                "similarity), until a model's are better on your labels")  # fmt: skip
    pref, phase = sched.preference, snap.phase
    text = f"suggestions by {who}" if pref is None else f"suggestions by {pref.reason}"
    if phase is not None and phase.describe:  # the learner's description phase
        text += f"; next picks by {phase.reason}"
    return text


def panel_stats(
    mirror: Any,
    queue: Any,
    sched: Any,
    team: Any,
    log: Sequence[tuple[float, float | None]],
    base: Mapping[str, Any],
) -> dict[str, Any]:
    """The stats panel (keys of :data:`~alwidgets.widgets.STATS_KEYS`) from in-memory
    counters: no store query on the key path."""
    snap = queue.snapshot
    lpm, spl = pace(log, base)
    score = snap.metrics.get("score")
    training, fitted = sched.running, snap.fitted
    status = "training…" if training else ("failed" if sched.last_error else "ready")
    per = mirror.per_annotator
    per_class = {str(c): mirror.per_class.get(c, 0) for c in mirror.classes}
    if mirror.multi_label:  # items each class applies to, and those that named none
        per_class[NONE_KEY] = mirror.per_class.get((), 0)
    return {
        "n_labeled": mirror.n_labeled,
        "per_class": per_class,
        "n_skipped": mirror.actions["skip"],
        "n_unsure": mirror.actions["unsure"],
        "labels_per_minute": lpm,
        "seconds_per_label": spl,
        "model_version": snap.version if fitted else None,
        "model_status": status if fitted or training else None,
        "score": float(score) if score is not None and np.isfinite(score) else None,
        "metric": snap.metric_name or "accuracy",
        "suggestions": suggestions_text(snap, sched),
        "per_annotator": {who: n for who, n in per.items() if n > 0},
        "team": None if team is None else team_line(per, team.rates, team.kappa),
        "review": None if queue.review is None else queue.review.status(),
    }


def histogram_of(queue: Any, mirror: Any) -> HistogramData | None:
    """The ranking's scores without the handled items, the batch marked (``None``:
    cold-start scores are not uncertainties; multi-label ``random``: the model's
    mean-margin utility instead of its coin flips)."""
    snap = queue.snapshot
    if not snap.fitted or len(snap.scores) != len(mirror.ids):
        return None
    batch = list(queue.current.positions)
    scores = snap.utility if snap.utility is not None else snap.scores
    counts = snap.histogram if not isinstance(scores, np.ndarray) else None
    return HistogramData(scores, mirror.handled.copy(), batch, counts)
