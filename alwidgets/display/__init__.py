"""Renderers: how one pool item looks on a labeling card.

A *renderer* turns one item into a self-contained, safe HTML fragment (a ``str``).
The labeling widget puts that fragment on a card; nothing here knows about widgets,
models or labels (layer 7 of ``docs/ARCHITECTURE.md``).

Built-in kinds (see :func:`available_renderers`):

``"auto"``
    Guess from the item: a pandas ``Series`` or a mapping → ``"row"``; a numeric
    2-D array, or 3-D with 1, 3 or 4 channels last → ``"image"``; a 1-D numeric
    array → ``"row"`` (numeric lists and tuples likewise); a :class:`pathlib.Path`, or a ``str`` naming an existing
    ``.png``/``.jpg``/``.jpeg``/``.gif``/``.webp``/``.bmp`` file → ``"image_file"``;
    PNG/JPEG/GIF bytes → an embedded image; any other ``str`` → ``"text"``; an
    object with ``_repr_html_`` (e.g. a DataFrame) → ``"html"``; an object with
    ``_repr_png_`` (e.g. a PIL image) → an embedded PNG; anything else → its ``str``
    as text.
``"image"``
    A numpy array: ``(H, W)`` grayscale, ``(H, W, 1)``, ``(H, W, 3)`` RGB or
    ``(H, W, 4)`` RGBA, encoded as an inline PNG (no Pillow needed). See
    :func:`render_image` for how values are scaled to 0–255.
``"image_file"``
    An image file read from disk and embedded as a base64 ``data:`` URI.
``"text"``
    Escaped text, optional highlighted terms, long texts truncated with "…" and
    the rest behind a "more" toggle (:func:`render_text`).
``"row"``
    A two-column key/value table with compact number formatting (:func:`render_row`).
``"html"``
    Trusted HTML passed through unchanged (a ``str`` or an object's ``_repr_html_``).

Any callable ``item -> str | object with _repr_html_`` is accepted wherever a kind
is; a string it returns is treated as trusted HTML. :func:`register_renderer` adds a
named kind. To give the labeling app options (highlight terms, a fixed image scale),
pass such a callable, e.g.
``ActiveLabeler(..., display=functools.partial(render, highlight=["free", "win"]))``.

Renderers return self-contained fragments: inline styles or one small ``<style>``
sheet scoped by an ``alw-`` class, colours from JupyterLab's ``--jp-*`` theme
variables with fallbacks, and all user text HTML-escaped (except ``"html"``).

Examples
--------
>>> import numpy as np
>>> from alwidgets.display import render
>>> render("a <b>bold</b> claim", highlight=["claim"])
'<div class="alw-text" ...>a &lt;b&gt;bold&lt;/b&gt; <mark ...>claim</mark></div>'
>>> render(np.eye(8)).startswith('<img class="alw-image" src="data:image/png;base64,')
True
>>> "<table" in render({"age": 42, "income": 51234.5678})
True
"""

from __future__ import annotations

from alwidgets.display._image import render_image, render_image_file
from alwidgets.display._png import encode_png, png_data_uri
from alwidgets.display._registry import (
    available_renderers,
    get_renderer,
    register_renderer,
    render,
    render_html,
    unregister_renderer,
)
from alwidgets.display._row import render_row
from alwidgets.display._text import render_text

__all__ = [
    "available_renderers",
    "encode_png",
    "get_renderer",
    "png_data_uri",
    "register_renderer",
    "render",
    "render_html",
    "render_image",
    "render_image_file",
    "render_row",
    "render_text",
    "unregister_renderer",
]
