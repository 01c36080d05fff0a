"""The registry of display kinds, the ``"auto"`` guesser and :func:`render`."""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from alwidgets.display._image import (
    IMAGE_SUFFIXES,
    MAGIC_MIME,
    embed_bytes,
    render_image,
    render_image_file,
)
from alwidgets.display._row import render_row
from alwidgets.display._text import render_text
from alwidgets.exceptions import InvalidInputError

__all__ = [
    "available_renderers",
    "get_renderer",
    "register_renderer",
    "render",
    "render_html",
    "unregister_renderer",
]

Renderer = Callable[..., str]


def render_html(item: Any) -> str:
    """Pass trusted HTML through: a ``str`` as is, or the object's ``_repr_html_()``.

    Only use this for HTML you trust; it is not escaped.

    Examples
    --------
    >>> render_html("<b>ok</b>")
    '<b>ok</b>'
    """
    if isinstance(item, str):
        return item
    repr_html = getattr(item, "_repr_html_", None)
    if callable(repr_html):
        out = repr_html()
        if isinstance(out, str):
            return out
    raise InvalidInputError(
        f"kind='html' needs a str or an object with _repr_html_(), got {type(item).__name__}; "
        "use kind='auto' or 'text' instead."
    )


def _is_image_array(arr: np.ndarray) -> bool:
    numeric = arr.dtype == np.bool_ or np.issubdtype(arr.dtype, np.number)
    shaped = arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3, 4))
    return bool(numeric and shaped and not np.issubdtype(arr.dtype, np.complexfloating))


def _render_auto(item: Any, **options: Any) -> str:
    unknown = sorted(set(options) - set().union(*_OPTIONS.values()))
    if unknown:
        raise InvalidInputError(
            f"unknown display option(s) {unknown}; the built-in kinds accept "
            f"{sorted(set().union(*_OPTIONS.values()))}."
        )
    return _dispatch(item, options)


def _pick(fn: Renderer, options: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``options`` that ``fn`` accepts (auto mode mixes kinds)."""
    accepted = _OPTIONS.get(fn.__name__, set())
    return {k: v for k, v in options.items() if k in accepted}


def _dispatch(item: Any, options: dict[str, Any]) -> str:
    def call(fn: Renderer, value: Any) -> str:
        return fn(value, **_pick(fn, options))

    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(item, pd.Series):
        return call(render_row, item)
    if isinstance(item, Mapping):
        return call(render_row, item)
    if isinstance(item, np.ndarray):
        if item.ndim == 1:
            return call(render_row, item)
        if item.ndim >= 2 and _is_image_array(item):
            return call(render_image, item)
        return call(render_text, repr(item))
    if isinstance(item, list | tuple) and item:
        try:
            arr = np.asarray(item)
        except ValueError:  # ragged
            arr = np.empty(0, dtype=object)
        if arr.dtype.kind in "biuf":
            if arr.ndim == 1:
                return call(render_row, arr)
            if _is_image_array(arr):
                return call(render_image, arr)
        return call(render_text, str(item))
    if isinstance(item, Path):
        return call(render_image_file, item)
    if isinstance(item, str):
        if Path(item).suffix.lower() in IMAGE_SUFFIXES and len(item) < 4096:
            try:
                is_file = Path(item).is_file()
            except OSError:
                is_file = False
            if is_file:
                return call(render_image_file, item)
        return call(render_text, item)
    if isinstance(item, bytes | bytearray):
        for magic, mime in MAGIC_MIME:
            if item.startswith(magic):
                return embed_bytes(bytes(item), mime, options.get("size"), "")
        return call(render_text, repr(item))
    repr_html = getattr(item, "_repr_html_", None)
    if callable(repr_html) and not isinstance(item, type):
        out = repr_html()
        if isinstance(out, str):
            return out
    repr_png = getattr(item, "_repr_png_", None)
    if callable(repr_png) and not isinstance(item, type):
        png = repr_png()
        if isinstance(png, bytes):
            return embed_bytes(png, "image/png", options.get("size"), "")
    return call(render_text, str(item))


_RENDERERS: dict[str, Renderer] = {
    "auto": _render_auto,
    "image": render_image,
    "image_file": render_image_file,
    "text": render_text,
    "row": render_row,
    "html": render_html,
}
_BUILTIN = frozenset(_RENDERERS)


def _keyword_options(fn: Renderer) -> set[str]:
    params = inspect.signature(fn).parameters.values()
    return {p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}


# Options each built-in renderer accepts, by function name (used to validate and,
# for "auto", to pass each renderer only its own options).
_OPTIONS: dict[str, set[str]] = {
    fn.__name__: _keyword_options(fn) for name, fn in _RENDERERS.items() if name != "auto"
}


def available_renderers() -> list[str]:
    """Names of the registered kinds, sorted.

    Examples
    --------
    >>> available_renderers()
    ['auto', 'html', 'image', 'image_file', 'row', 'text']
    """
    return sorted(_RENDERERS)


def register_renderer(name: str, fn: Renderer, *, overwrite: bool = False) -> None:
    """Register ``fn`` as the renderer for kind ``name``.

    Parameters
    ----------
    name : str
        The kind, used as ``render(item, kind=name)`` or ``ActiveLabeler(display=name)``.
    fn : callable
        ``fn(item, **options) -> str`` (HTML) or an object with ``_repr_html_``.
    overwrite : bool, default False
        Replace an existing user kind of the same name. Built-in kinds cannot be replaced.

    Examples
    --------
    >>> register_renderer("shout", lambda item: f"<b>{str(item).upper()}</b>", overwrite=True)
    >>> render("hi", kind="shout")
    '<b>HI</b>'
    >>> unregister_renderer("shout")
    """
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"a renderer name must be a non-empty str, got {name!r}.")
    if not callable(fn):
        raise InvalidInputError(f"renderer {name!r} must be callable, got {type(fn).__name__}.")
    if name in _BUILTIN:
        raise InvalidInputError(
            f"{name!r} is a built-in kind and cannot be replaced; register under another name."
        )
    if name in _RENDERERS and not overwrite:
        raise InvalidInputError(
            f"a renderer named {name!r} is already registered; pass overwrite=True to replace it."
        )
    _RENDERERS[name] = fn


def unregister_renderer(name: str) -> None:
    """Remove a kind added with :func:`register_renderer` (built-ins stay).

    Examples
    --------
    >>> unregister_renderer("never-registered")
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: no user renderer named 'never-registered'; registered user kinds: [].
    """
    if name in _BUILTIN or name not in _RENDERERS:
        user = sorted(set(_RENDERERS) - _BUILTIN)
        raise InvalidInputError(f"no user renderer named {name!r}; registered user kinds: {user}.")
    del _RENDERERS[name]


def _as_html(out: Any, source: str) -> str:
    if isinstance(out, str):
        return out
    repr_html = getattr(out, "_repr_html_", None)
    if callable(repr_html):
        result = repr_html()
        if isinstance(result, str):
            return result
    raise InvalidInputError(
        f"the display function {source} returned {type(out).__name__}; "
        "return an HTML string or an object with _repr_html_()."
    )


def get_renderer(kind: str | Callable[..., Any] = "auto") -> Renderer:
    """Return the renderer for ``kind``: a function ``(item, **options) -> str``.

    Parameters
    ----------
    kind : str or callable
        A registered kind (see :func:`available_renderers`), or a function
        ``item -> str | object with _repr_html_``; a string it returns is trusted HTML.

    Raises
    ------
    InvalidInputError
        For an unknown kind; the message lists the known ones.

    Examples
    --------
    >>> get_renderer("text")("<x>")
    '<div class="alw-text" ...>&lt;x&gt;</div>'
    >>> get_renderer("video")
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: unknown display kind 'video'; use one of ['auto', 'html', ...] or a function item -> HTML str.
    """
    if isinstance(kind, str):
        fn = _RENDERERS.get(kind)
        if fn is None:
            raise InvalidInputError(
                f"unknown display kind {kind!r}; use one of {available_renderers()} "
                "or a function item -> HTML str."
            )
        if kind in _BUILTIN:
            return fn
        user_fn = fn
    elif callable(kind):
        user_fn = kind
    else:
        raise InvalidInputError(
            f"display kind must be a str or a callable, got {type(kind).__name__}; "
            f"use one of {available_renderers()} or a function item -> HTML str."
        )
    source = getattr(user_fn, "__name__", repr(user_fn))

    def wrapped(item: Any, **options: Any) -> str:
        return _as_html(user_fn(item, **options), source)

    return wrapped


def render(item: Any, kind: str | Callable[..., Any] = "auto", **options: Any) -> str:
    """Render one item as an HTML fragment.

    Parameters
    ----------
    item : object
        The item to show (see the module docstring for how ``"auto"`` decides).
    kind : str or callable, default "auto"
        A registered kind or a function ``item -> str | object with _repr_html_``.
    **options
        Passed to the renderer, e.g. ``highlight=`` for text, ``size=``/``vmax=`` for
        images, ``max_fields=`` for rows.

    Returns
    -------
    str
        HTML.

    Examples
    --------
    >>> render(3.5)
    '<div class="alw-text" ...>3.5</div>'
    >>> render("plain", kind=lambda s: f"<i>{s}</i>")
    '<i>plain</i>'
    """
    fn = get_renderer(kind)
    accepted = _OPTIONS.get(fn.__name__) if fn in _RENDERERS.values() else None
    if accepted is not None and kind != "auto":
        unknown = sorted(set(options) - accepted)
        if unknown:
            raise InvalidInputError(
                f"display kind {kind!r} does not take option(s) {unknown}; "
                f"it accepts {sorted(accepted)}."
            )
    return fn(item, **options)
