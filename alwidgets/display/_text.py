"""The text renderer: escaped, whitespace kept, terms highlighted, long texts folded."""

from __future__ import annotations

import html
import numbers
import re
from typing import Any

from alwidgets.display._row import is_missing
from alwidgets.exceptions import InvalidInputError

__all__ = ["render_text"]

_TEXT_STYLE = "white-space:pre-wrap;overflow-wrap:anywhere;line-height:1.4;text-align:left"
_MARK_STYLE = "background:var(--jp-warn-color3,#ffe08a);color:inherit"


def _highlight(text: str, pattern: re.Pattern[str] | None) -> str:
    if pattern is None:
        return html.escape(text)
    parts: list[str] = []
    pos = 0
    for match in pattern.finditer(text):
        if match.end() == match.start():
            continue
        parts.append(html.escape(text[pos : match.start()]))
        parts.append(f'<mark style="{_MARK_STYLE}">{html.escape(match.group(0))}</mark>')
        pos = match.end()
    parts.append(html.escape(text[pos:]))
    return "".join(parts)


def render_text(
    text: Any,
    *,
    highlight: str | list[str] | tuple[str, ...] | None = None,
    max_chars: int | None = 600,
    case_sensitive: bool = False,
    max_total: int | None = 20_000,
) -> str:
    """Render text safely: HTML-escaped, whitespace kept, terms highlighted.

    Parameters
    ----------
    text : str
        The text (other objects are converted with ``str``).
    highlight : str or sequence of str, optional
        Terms to mark with ``<mark>`` (plain substrings, not regexes; the longest wins
        where terms overlap).
    max_chars : int or None, default 600
        Longer texts show their first ``max_chars`` characters and "…"; the rest is
        behind a "more" toggle (``<details>``). ``None`` shows everything at once.
    case_sensitive : bool, default False
        Whether highlighting matches case.
    max_total : int or None, default 20,000
        Characters sent at most (a card is not the place for a whole book); the
        cut is stated ("N more characters not shown"). ``None`` sends everything.

    Returns
    -------
    str
        A ``<div class="alw-text">`` element.

    Examples
    --------
    >>> render_text("Free money!!", highlight="free")
    '<div class="alw-text" ...><mark ...>Free</mark> money!!</div>'
    >>> "more" in render_text("x" * 50, max_chars=10)
    True
    """
    if isinstance(highlight, str):
        highlight = [highlight]
    for name, limit in (("max_chars", max_chars), ("max_total", max_total)):
        if limit is not None and (not isinstance(limit, numbers.Integral) or limit < 1):
            raise InvalidInputError(f"{name} must be a positive int or None, got {limit!r}.")
    if is_missing(text) or (isinstance(text, str) and not text):
        return '<div class="alw-text" style="opacity:0.6;font-style:italic">(empty)</div>'
    s = text if isinstance(text, str) else str(text)
    terms = sorted(
        {t for t in (highlight or ()) if isinstance(t, str) and t}, key=len, reverse=True
    )
    bad = [t for t in (highlight or ()) if not isinstance(t, str)]
    if bad:
        raise InvalidInputError(f"highlight terms must be strings, got {bad[:3]!r}.")
    pattern = (
        re.compile("|".join(map(re.escape, terms)), 0 if case_sensitive else re.IGNORECASE)
        if terms
        else None
    )
    dropped = ""
    if max_total is not None and len(s) > max_total:
        dropped = (
            f'<span style="opacity:0.6;font-style:italic"> … {len(s) - max_total:,} more '
            "characters not shown</span>"
        )
        s = s[:max_total]
    if max_chars is None or len(s) <= max_chars:
        return (
            f'<div class="alw-text" style="{_TEXT_STYLE}">{_highlight(s, pattern)}{dropped}</div>'
        )
    cut = max_chars
    if pattern is not None:  # do not cut through a highlighted term
        for m in pattern.finditer(s):
            if m.start() < cut < m.end():
                cut = m.start()
                break
    head, tail = s[:cut], s[cut:]
    return (
        f'<div class="alw-text" style="{_TEXT_STYLE}">{_highlight(head, pattern)}…'
        f'<details class="alw-more" style="display:inline"><summary style="display:inline;'
        f'cursor:pointer;color:var(--jp-content-link-color,#1a73e8)">more '
        f"({len(tail):,} chars)</summary>{_highlight(tail, pattern)}{dropped}</details></div>"
    )
