"""SessionStats: a compact panel of labeling progress, pace and model status."""

from __future__ import annotations

import html
import math
import numbers
import threading
from collections.abc import Mapping
from typing import Any

import ipywidgets as widgets

from alwidgets.exceptions import InvalidInputError
from alwidgets.widgets._common import DisplaysWidget

__all__ = ["STATS_KEYS", "SessionStats"]

#: The keys :meth:`SessionStats.update` understands, with what each means.
STATS_KEYS: dict[str, str] = {
    "n_labeled": "int: items with a label",
    "n_total": "int: items in the pool",
    "budget": "int | None: labels planned; when set, the progress bar counts towards it",
    "per_class": "Mapping[label, int]: labels per class, drawn in this order",
    "classes": "Sequence | None: class order for per_class; classes without labels show 0",
    "n_skipped": "int: items skipped",
    "n_unsure": "int: items marked unsure",
    "labels_per_minute": "float | None: recent labeling pace",
    "seconds_per_label": "float | None: median seconds spent per label",
    "median_seconds_per_label": "float | None: the same (the name SessionStore.stats() uses)",
    "active_minutes": "float | None: time spent labeling, breaks left out",
    "per_annotator": "Mapping[str, int]: labels per annotator, shown when there are several",
    "model_version": "int | str | None: version of the model that ranked the batch",
    "model_status": "str | None: e.g. 'ready', 'training…', 'failed: <reason>'",
    "score": "float | None: the latest evaluation score",
    "metric": "str: name of the score, default 'accuracy'",
    "hint": "str | None: a stopping hint, shown highlighted",
    "team": "str | None: the team line (pace per annotator, agreement on shared items)",
    "review": "str | None: progress of a review of suspect labels, e.g. 'review 3 / 10 · 1 changed'",
    "suggestions": "str | None: whose suggestions the cards show (zero-shot or the model) and why",
    "stability": (
        "Mapping | None: the stop signal, alwidgets.stopping.stability_report's 'sentence', "
        "'holds', 'kappas' and 'changed' (last retrains) and 'n_items' (stop-set size)"
    ),
    "prequential": (
        "Mapping | None: alwidgets.stopping.PrequentialAccuracy.report() (its 'sentence'): "
        "how often the model's suggestion matched the answer"
    ),
    # accepted so that SessionStore.stats() can be passed as is; not shown
    "n_events": "int: events in the store (not shown)",
    "n_items": "int: items with any action (not shown)",
    "n_labels": "int: live label actions (not shown)",
    "n_undo": "int: undo events (not shown)",
    "n_conflicts": "int: answers kept as conflicts, not labels (not shown)",
}
_ALIASES = {"median_seconds_per_label": "seconds_per_label"}

_INT_KEYS = (
    "n_labeled",
    "n_total",
    "budget",
    "n_skipped",
    "n_unsure",
    "n_events",
    "n_items",
    "n_labels",
    "n_undo",
    "n_conflicts",
)
_FLOAT_KEYS = ("labels_per_minute", "seconds_per_label", "score", "active_minutes")
_COUNT_MAPS = ("per_class", "per_annotator")
_TEXT_KEYS = ("model_status", "metric", "hint", "review", "team", "suggestions")
_REPORT_KEYS = ("stability", "prequential")  # mappings with a 'sentence'

# One rule set per panel instead of inline styles on every element; JupyterLab theme
# variables with fallbacks, so the panel reads in light and dark themes.
_CSS = (
    "<style>"
    ".alw-stats-panel{font-size:var(--jp-ui-font-size1,13px);color:var(--jp-ui-font-color1,inherit);"
    "display:flex;flex-direction:column;gap:3px;min-width:14em}"
    ".alw-stats-panel .alw-muted{opacity:0.7}"
    ".alw-stats-panel .alw-bar{display:block;height:6px;width:100%;border-radius:3px;overflow:hidden;"
    "background:var(--jp-layout-color3,rgba(128,128,128,0.25))}"
    ".alw-stats-panel .alw-fill{display:block;height:100%;background:var(--jp-brand-color1,#3b82f6)}"
    ".alw-stats-panel .alw-per-class{display:grid;grid-template-columns:minmax(3em,max-content) 1fr "
    "auto;gap:1px 6px;align-items:center;margin-top:2px;line-height:1.25}"
    # two columns of classes: name | bar | count, then a spacer column, then the same again,
    # so a count never touches the next class's name; bars keep a minimum width
    ".alw-stats-panel .alw-per-class.alw-two-col{grid-template-columns:minmax(1.5em,max-content) "
    "minmax(2em,1fr) minmax(3ch,max-content) 1.25em minmax(1.5em,max-content) minmax(2em,1fr) "
    "minmax(3ch,max-content)}"
    ".alw-stats-panel .alw-two-col .alw-class{max-width:8em}"
    ".alw-stats-panel .alw-class{max-width:12em;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}"
    ".alw-stats-panel .alw-count{text-align:right;font-variant-numeric:tabular-nums}"
    ".alw-stats-panel .alw-hint{margin-top:4px;padding:2px 6px;border-left:3px solid "
    "var(--jp-warn-color1,#f59e0b);background:var(--jp-warn-color3,rgba(245,158,11,0.12))}"
    ".alw-stats-panel .alw-stop{margin-top:4px;padding:2px 6px;border-left:3px solid "
    "var(--jp-layout-color4,rgba(128,128,128,0.5))}"
    ".alw-stats-panel .alw-stop[data-holds=true]{border-left-color:var(--jp-success-color1,#16a34a);"
    "background:var(--jp-success-color3,rgba(22,163,74,0.10))}"
    "</style>"
)


def _bar(fraction: float) -> str:
    pct = 100.0 * min(max(fraction, 0.0), 1.0)
    return f'<span class="alw-bar"><span class="alw-fill" style="width:{pct:.1f}%"></span></span>'


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.1f} s"
    return f"{seconds / 60:.1f} min"


def _stop_signal(report: Mapping[str, Any]) -> str:
    """The stop signal: its sentence, then κ and the changed share of the last retrains.

    >>> _stop_signal({"sentence": "predictions stable", "holds": True, "kappas": [0.995, 1.0],
    ...               "changed": [0.004, 0.0], "n_items": 240})  # doctest: +NORMALIZE_WHITESPACE
    '<div class="alw-stop" data-holds="true"><div class="alw-stop-sentence">predictions
    stable</div><div class="alw-muted">stop set of 240: κ 0.995 · 1.000, changed 0.4 % · 0.0 %
    (last retrains)</div></div>'
    """
    holds = "true" if report.get("holds") else "false"
    inner = f'<div class="alw-stop-sentence">{html.escape(report["sentence"])}</div>'
    kappas = [k for k in report.get("kappas") or [] if isinstance(k, numbers.Real)]
    if kappas:
        ks = " · ".join("n/a" if not math.isfinite(k) else f"{k:.3f}" for k in kappas)
        changed = " · ".join(f"{100 * c:.1f} %" for c in report.get("changed") or [])
        size = report.get("n_items")
        head = f"stop set of {size:,}: " if isinstance(size, numbers.Integral) else ""
        inner += f'<div class="alw-muted">{head}κ {ks}, changed {changed} (last retrains)</div>'
    return f'<div class="alw-stop" data-holds="{holds}">{inner}</div>'


class SessionStats(DisplaysWidget):
    """A small HTML panel: labeled / total, labels per class, pace, model status, hint.

    :meth:`update` takes a plain dict and *merges* it into what is shown, so callers
    may send only what changed (e.g. the model status after a retrain); a value of
    ``None`` clears that entry. The keys are listed in :data:`STATS_KEYS`; an unknown
    key raises :class:`~alwidgets.InvalidInputError` (it is most likely a typo).

    The panel is an :class:`ipywidgets.HTML` (``.widget``) styled with JupyterLab's
    ``--jp-*`` theme variables (with fallbacks), so it reads in light and dark themes.
    All text is HTML-escaped.

    Parameters
    ----------
    stats : dict, optional
        Initial values.

    Examples
    --------
    >>> s = SessionStats()
    >>> s.update({"n_labeled": 12, "n_total": 1797, "per_class": {"0": 7, "1": 5}})
    >>> "12 / 1,797 labeled" in s.widget.value
    True
    >>> s.update({"model_status": "training…"})
    >>> s.state["n_labeled"], s.state["model_status"]
    (12, 'training…')
    """

    def __init__(self, stats: Mapping[str, Any] | None = None) -> None:
        self._state: dict[str, Any] = {"n_labeled": 0, "metric": "accuracy"}
        self._lock = threading.Lock()  # the app updates from the UI and a retrain thread
        self.widget = widgets.HTML(layout=widgets.Layout(width="100%"))
        self.widget.add_class("alw-stats")
        self.update(stats or {})

    @property
    def state(self) -> dict[str, Any]:
        """A copy of the values currently shown."""
        return dict(self._state)

    @property
    def html(self) -> str:
        """The panel's current HTML."""
        return str(self.widget.value)

    def update(self, stats: Mapping[str, Any] | None = None, **more: Any) -> None:
        """Merge ``stats`` (and keyword arguments) into the panel and redraw it once.

        Raises
        ------
        InvalidInputError
            For an unknown key or a value of the wrong type.
        """
        new = {**dict(stats or {}), **more}
        unknown = sorted(set(new) - set(STATS_KEYS), key=str)
        if unknown:
            raise InvalidInputError(
                f"unknown stats key(s) {unknown}; SessionStats understands {list(STATS_KEYS)}."
            )
        new = {_ALIASES.get(k, k): v for k, v in new.items()}
        for key, value in new.items():
            self._check(key, value)
        with self._lock:
            for key, value in new.items():
                if value is None:
                    self._state.pop(key, None)
                elif key == "classes":
                    self._state[key] = list(value)
                elif key in _COUNT_MAPS:
                    self._state[key] = {k: int(v) for k, v in value.items()}
                elif key in _REPORT_KEYS:
                    self._state[key] = dict(value)
                elif key in _INT_KEYS:
                    self._state[key] = int(value)
                elif key in _FLOAT_KEYS:
                    self._state[key] = float(value)
                else:
                    self._state[key] = value
            self.widget.value = self._render()

    # ------------------------------------------------------------- helpers
    @staticmethod
    def _check(key: str, value: Any) -> None:
        if value is None:
            return
        if key in _INT_KEYS:
            ok = (
                isinstance(value, numbers.Integral)
                and not isinstance(value, bool)
                and int(value) >= 0
            )
            if not ok:
                raise InvalidInputError(f"stats[{key!r}] must be an int >= 0, got {value!r}.")
        elif key in _FLOAT_KEYS:
            ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
            if not ok:
                raise InvalidInputError(f"stats[{key!r}] must be a number, got {value!r}.")
        elif key in _TEXT_KEYS:
            if not isinstance(value, str):
                raise InvalidInputError(f"stats[{key!r}] must be a str, got {value!r}.")
        elif key in _COUNT_MAPS:
            ok = isinstance(value, Mapping) and all(
                isinstance(v, numbers.Integral) and not isinstance(v, bool) and int(v) >= 0
                for v in value.values()
            )
            if not ok:
                raise InvalidInputError(
                    f"stats[{key!r}] must map each name to a count >= 0, got {value!r}."
                )
        elif key in _REPORT_KEYS:
            if not isinstance(value, Mapping) or not isinstance(value.get("sentence"), str):
                raise InvalidInputError(
                    f"stats[{key!r}] must be a mapping with a 'sentence' (str), got {value!r}."
                )
        elif key == "classes" and (
            isinstance(value, str | bytes) or not hasattr(value, "__iter__")
        ):
            raise InvalidInputError(
                f"stats['classes'] must be a list of classes, got {value!r}; e.g. ['cat', 'dog']."
            )

    def _render(self) -> str:
        st = self._state
        n = st.get("n_labeled", 0)
        total = st.get("n_total")
        budget = st.get("budget")
        parts: list[str] = []

        # progress line + bar
        goal = budget if budget else total
        if goal:
            label = "budget" if budget else "labeled"
            pct = f" ({100.0 * n / goal:.1f}%)"
            head = f"<b>{n:,} / {goal:,} {label}</b>{pct}"
            if budget and total:
                head += f' <span class="alw-muted">· pool {total:,}</span>'
            parts.append(f'<div class="alw-progress">{head}{_bar(n / goal)}</div>')
        else:
            parts.append(f'<div class="alw-progress"><b>{n:,} labeled</b></div>')

        # per-class counts as small bars
        per_class: dict[Any, int] = dict(st.get("per_class", {}))
        if "classes" in st:  # the declared order, zeros included, then any others
            order = {c: per_class.get(c, per_class.get(str(c), 0)) for c in st["classes"]}
            shown = {str(c) for c in order}
            order.update({k: v for k, v in per_class.items() if str(k) not in shown})
            per_class = order
        if per_class:
            top = max(per_class.values()) or 1
            two_col = len(per_class) > 6
            gap = '<span class="alw-col-gap" aria-hidden="true"></span>'
            rows = "".join(
                f'<span class="alw-class" title="{html.escape(str(k))}">{html.escape(str(k))}</span>'
                f'{_bar(v / top)}<span class="alw-count">{v:,}</span>'
                + (gap if two_col and i % 2 == 0 else "")  # fills the spacer column
                for i, (k, v) in enumerate(per_class.items())
            )
            two = " alw-two-col" if two_col else ""
            parts.append(f'<div class="alw-per-class{two}">{rows}</div>')

        # pace and other actions
        pace: list[str] = []
        lpm = st.get("labels_per_minute")
        if lpm is not None and math.isfinite(lpm):
            pace.append(f"{lpm:.1f} labels/min")
        spl = st.get("seconds_per_label")
        if spl is not None and math.isfinite(spl):
            pace.append(f"{_duration(spl)} per label (median)")
        if budget and lpm is not None and math.isfinite(lpm) and lpm > 0 and n < budget:
            pace.append(f"≈ {_duration(60.0 * (budget - n) / lpm)} to budget")
        active = st.get("active_minutes")
        if active is not None and math.isfinite(active) and active > 0:
            pace.append(f"{_duration(60.0 * active)} active")
        for key, word in (("n_skipped", "skipped"), ("n_unsure", "unsure")):
            if st.get(key):
                pace.append(f"{st[key]:,} {word}")
        annotators: dict[str, int] = st.get("per_annotator", {})
        if len(annotators) > 1:
            who = ", ".join(f"{html.escape(str(k))} {v:,}" for k, v in annotators.items())
            pace.append(f"by {who}")
        if pace:
            parts.append(f'<div class="alw-pace alw-muted">{" · ".join(pace)}</div>')
        if st.get("team"):
            parts.append(f'<div class="alw-team alw-muted">{html.escape(st["team"])}</div>')

        # model
        model: list[str] = []
        if st.get("model_version") is not None:
            model.append(f"model v{html.escape(str(st['model_version']))}")
        if st.get("model_status"):
            model.append(html.escape(st["model_status"]))
        score = st.get("score")
        if score is not None and math.isfinite(score):
            model.append(f"{html.escape(st.get('metric', 'accuracy'))} {score:.3f}")
        if model:
            parts.append(f'<div class="alw-model alw-muted">{" · ".join(model)}</div>')

        if st.get("suggestions"):
            text = html.escape(st["suggestions"])
            parts.append(f'<div class="alw-suggestions alw-muted">{text}</div>')
        if st.get("prequential"):
            text = html.escape(st["prequential"]["sentence"])
            parts.append(f'<div class="alw-prequential alw-muted">{text}</div>')
        if st.get("stability"):
            parts.append(_stop_signal(st["stability"]))
        if st.get("review"):
            parts.append(f'<div class="alw-review">{html.escape(st["review"])}</div>')
        if st.get("hint"):
            parts.append(f'<div class="alw-hint">{html.escape(st["hint"])}</div>')
        return f'<div class="alw-stats-panel">{_CSS}{"".join(parts)}</div>'
