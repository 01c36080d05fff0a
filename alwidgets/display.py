"""Renderers: how one pool item looks on a labeling card.

A *renderer* turns one item into a self-contained, safe HTML fragment (a ``str``).
The labeling widget puts that fragment on a card; nothing here knows about widgets,
models or labels (layer 5 of ``DESIGN.md``).

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

import base64
import html
import inspect
import math
import numbers
import re
import struct
import sys
import zlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from alwidgets.exceptions import InvalidInputError

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

Renderer = Callable[..., str]

#: File suffixes embedded as images, with their MIME types.
IMAGE_SUFFIXES: dict[str, str] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
}

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_MAGIC_MIME = (
    (_PNG_SIGNATURE, "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
# PNG colour type by channel count: gray, gray+alpha, RGB, RGBA.
_PNG_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}

_TEXT_STYLE = "white-space:pre-wrap;overflow-wrap:anywhere;line-height:1.4;text-align:left"
_MARK_STYLE = "background:var(--jp-warn-color3,#ffe08a);color:inherit"
# One rule set per table instead of inline styles on every cell (3-4x less HTML).
_ROW_CSS = (
    "<style>.alw-row{border-collapse:collapse;font-size:0.9em;margin:auto}"
    ".alw-row th,.alw-row td{padding:1px 6px;border-bottom:1px solid var(--jp-border-color2,#e0e0e0)}"
    ".alw-row th{text-align:left;font-weight:600;opacity:0.75}"
    ".alw-row td{text-align:right;font-variant-numeric:tabular-nums}"
    ".alw-row .alw-na,.alw-row .alw-rest{opacity:0.55}</style>"
)


# --------------------------------------------------------------------------- PNG


def encode_png(image: np.ndarray) -> bytes:
    """Encode a ``uint8`` array as PNG bytes, with only ``zlib`` and ``struct``.

    Parameters
    ----------
    image : ndarray of uint8
        ``(H, W)`` grayscale or ``(H, W, C)`` with ``C`` in 1 (gray), 2 (gray + alpha),
        3 (RGB) or 4 (RGBA).

    Returns
    -------
    bytes
        A complete PNG file (8 bits per channel, no filtering).

    Raises
    ------
    InvalidInputError
        If the array is not ``uint8`` or has another shape. Use :func:`render_image`
        to scale arrays of other dtypes.

    Examples
    --------
    >>> import numpy as np
    >>> png = encode_png(np.zeros((2, 3), dtype=np.uint8))
    >>> png[:8] == b"\\x89PNG\\r\\n\\x1a\\n", len(png) > 40
    (True, True)
    """
    arr = np.asarray(image)
    if arr.dtype != np.uint8:
        raise InvalidInputError(
            f"encode_png needs a uint8 array, got dtype {arr.dtype}; "
            "scale it first, e.g. with render_image(), or arr.astype(np.uint8)."
        )
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in _PNG_COLOR_TYPE or 0 in arr.shape:
        raise InvalidInputError(
            f"encode_png got an array of shape {np.shape(image)}; expected a non-empty "
            "(H, W) or (H, W, C) array with C in 1, 2, 3 or 4."
        )
    height, width, channels = arr.shape
    # Each scanline starts with its filter type byte (0 = none).
    raw = np.zeros((height, 1 + width * channels), dtype=np.uint8)
    raw[:, 1:] = arr.reshape(height, width * channels)

    def chunk(tag: bytes, data: bytes) -> bytes:
        body = tag + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOR_TYPE[channels], 0, 0, 0)
    return (
        _PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def _to_uint8(
    image: np.ndarray, vmin: float | None, vmax: float | None, invert: bool
) -> np.ndarray:
    """Scale an image array to uint8 (rules documented in :func:`render_image`)."""
    arr = np.asarray(image)
    if arr.dtype == np.bool_:
        out = arr.astype(np.uint8) * np.uint8(255)
    elif not (np.issubdtype(arr.dtype, np.integer) or np.issubdtype(arr.dtype, np.floating)):
        raise InvalidInputError(
            f"an image needs numbers, got dtype {arr.dtype}; pass a numeric (uint8, int "
            "or float) array, or use kind='text' / 'row' for other data."
        )
    elif arr.dtype == np.uint8 and vmin is None and vmax is None:
        out = arr
    else:
        values = arr.astype(np.float64)
        finite = np.isfinite(values)
        if vmin is None or vmax is None:
            lo, hi = (
                (float(values[finite].min()), float(values[finite].max()))
                if finite.any()
                else (0.0, 1.0)
            )
            if np.issubdtype(arr.dtype, np.integer) and lo >= 0 and hi <= 255:
                lo, hi = 0.0, 255.0
            elif np.issubdtype(arr.dtype, np.floating) and lo >= 0 and hi <= 1:
                lo, hi = 0.0, 1.0
            lo = lo if vmin is None else float(vmin)
            hi = hi if vmax is None else float(vmax)
        else:
            lo, hi = float(vmin), float(vmax)
        if not hi > lo:
            if vmin is not None and vmax is not None:
                raise InvalidInputError(
                    f"vmax ({vmax}) must be greater than vmin ({vmin}); pass a valid range."
                )
            hi = lo + 1.0  # constant image: render as the bottom of the range
        scaled = (np.clip(values, lo, hi) - lo) * (255.0 / (hi - lo))
        scaled[~finite] = 0.0
        out = np.rint(scaled).astype(np.uint8)
    return 255 - out if invert else out


def png_data_uri(
    image: np.ndarray,
    *,
    vmin: float | None = None,
    vmax: float | None = None,
    invert: bool = False,
) -> str:
    """Return a ``data:image/png;base64,...`` URI for an image array.

    Parameters are those of :func:`render_image`.

    Examples
    --------
    >>> import numpy as np
    >>> png_data_uri(np.zeros((1, 1), dtype=np.uint8))[:22]
    'data:image/png;base64,'
    """
    arr = _check_image_shape(image)
    png = encode_png(_to_uint8(arr, vmin, vmax, invert))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _check_image_shape(image: Any, max_pixels: int | None = None) -> np.ndarray:
    arr = np.asarray(image)
    ok = arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3, 4))
    if not ok or 0 in arr.shape:
        hint = ""
        if arr.ndim == 3 and arr.shape[0] in (1, 3, 4):
            hint = " It looks channels-first: pass image.transpose(1, 2, 0)."
        elif arr.ndim == 1 and math.isqrt(arr.size) ** 2 == arr.size and arr.size > 1:
            side = math.isqrt(arr.size)
            hint = f" A flat vector of {arr.size} pixels? pass image.reshape({side}, {side})."
        raise InvalidInputError(
            f"an image must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); "
            f"got {arr.shape}.{hint}"
        )
    if max_pixels is not None and arr.shape[0] * arr.shape[1] > max_pixels:
        raise InvalidInputError(
            f"the image has {arr.shape[0]}×{arr.shape[1]} pixels, more than max_pixels="
            f"{max_pixels:,}; downsample it (e.g. image[::4, ::4]) or raise max_pixels."
        )
    return arr


# ------------------------------------------------------------------ renderers


def render_image(
    image: Any,
    *,
    size: int | None = None,
    vmin: float | None = None,
    vmax: float | None = None,
    invert: bool = False,
    alt: str | None = None,
    max_pixels: int = 4_000_000,
) -> str:
    """Render an image array as an inline ``<img>`` with a PNG ``data:`` URI.

    Values become 0–255 gray levels (or colour channels) like this:

    * ``uint8``: unchanged; ``bool``: ``False`` → 0, ``True`` → 255.
    * other integers within 0–255: unchanged; floats within [0, 1]: times 255.
    * anything else is rescaled linearly from its own ``[min, max]`` to 0–255, per image.
      Pass ``vmin``/``vmax`` to fix the range instead (e.g. ``vmax=16`` for scikit-learn's
      8×8 digits), so every card uses the same scale.
    * NaN and ±inf become 0.

    Small images are shown enlarged with nearest-neighbour scaling
    (``image-rendering: pixelated``), so an 8×8 digit stays crisp.

    Parameters
    ----------
    image : array-like
        ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)``; channels last.
    size : int, optional
        Display size of the longer side in CSS pixels. Default: small images are
        enlarged by a whole factor to about 96–128 px; larger ones keep their size up to
        256 px.
    vmin, vmax : float, optional
        Value range mapped to black and white.
    invert : bool, default False
        Show high values dark (e.g. ink on paper for digits).
    alt : str, optional
        Alternative text for screen readers (default: ``"image H×W"``).
    max_pixels : int, default 4,000,000
        Larger images raise an error instead of bloating the notebook.

    Returns
    -------
    str
        An ``<img>`` element.

    Raises
    ------
    InvalidInputError
        If the shape or dtype cannot be an image (the message names the accepted shapes).

    Examples
    --------
    >>> import numpy as np
    >>> html = render_image(np.arange(64.0).reshape(8, 8), invert=True)
    >>> 'width="96"' in html and "pixelated" in html
    True
    >>> render_image(np.zeros((3, 8, 8)))
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: an image must have shape (H, W), (H, W, 1), (H, W, 3) or (H, W, 4); got (3, 8, 8). It looks channels-first: pass image.transpose(1, 2, 0).
    """
    arr = _check_image_shape(image, max_pixels)
    uri = png_data_uri(arr, vmin=vmin, vmax=vmax, invert=invert)
    height, width = arr.shape[:2]
    if alt is None:
        alt = f"image {height}×{width}"
    longest = max(height, width)
    if size is None:
        scale = math.ceil(96 / longest) if longest < 96 else 1
        target = min(longest * scale, 256)
    else:
        if not isinstance(size, numbers.Integral) or size <= 0:
            raise InvalidInputError(f"size must be a positive int (CSS pixels), got {size!r}.")
        target = int(size)
    disp_w = max(1, round(width * target / longest))
    disp_h = max(1, round(height * target / longest))
    pixelated = "image-rendering:pixelated;" if target > longest else ""
    return (
        f'<img class="alw-image" src="{uri}" width="{disp_w}" height="{disp_h}" '
        f'alt="{html.escape(alt)}" style="{pixelated}max-width:100%;height:auto;'
        f'display:block;margin:auto">'
    )


def _embed_bytes(data: bytes, mime: str, size: int | None, alt: str) -> str:
    uri = f"data:{mime};base64," + base64.b64encode(data).decode("ascii")
    dims = f'width="{int(size)}" ' if size is not None else ""
    return (
        f'<img class="alw-image" src="{uri}" {dims}alt="{html.escape(alt)}" '
        f'style="max-width:100%;max-height:256px;display:block;margin:auto">'
    )


def render_image_file(
    path: str | Path,
    *,
    size: int | None = None,
    alt: str | None = None,
    max_bytes: int = 5_000_000,
) -> str:
    """Embed an image file (PNG, JPEG, GIF, WebP, BMP) as a base64 ``data:`` URI.

    Parameters
    ----------
    path : str or Path
        The file; its suffix decides the MIME type.
    size : int, optional
        Display width in CSS pixels (default: natural size, at most 256 px high).
    alt : str, optional
        Alternative text; defaults to the file name.
    max_bytes : int, default 5,000,000
        Larger files raise an error (they would bloat the notebook and the comm).

    Returns
    -------
    str
        An ``<img>`` element.

    Raises
    ------
    InvalidInputError
        If the file is missing, too large, or not a supported image type.

    Examples
    --------
    >>> import tempfile, pathlib, numpy as np
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "dot.png"
    >>> _ = p.write_bytes(encode_png(np.zeros((2, 2), dtype=np.uint8)))
    >>> render_image_file(p)[:55]
    '<img class="alw-image" src="data:image/png;base64,iVBOR'
    """
    p = Path(path)
    mime = IMAGE_SUFFIXES.get(p.suffix.lower())
    if mime is None:
        raise InvalidInputError(
            f"{str(p)!r} is not a supported image file; use one of "
            f"{', '.join(sorted(IMAGE_SUFFIXES))}, or kind='text' to show the path."
        )
    if not p.is_file():
        raise InvalidInputError(f"image file {str(p)!r} does not exist; check the path.")
    n_bytes = p.stat().st_size
    if n_bytes > max_bytes:
        raise InvalidInputError(
            f"image file {str(p)!r} has {n_bytes:,} bytes, more than max_bytes={max_bytes:,}; "
            "make a smaller thumbnail, or pass a larger max_bytes."
        )
    return _embed_bytes(p.read_bytes(), mime, size, p.name if alt is None else alt)


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
    if _is_missing(text) or (isinstance(text, str) and not text):
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


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float | np.floating):
        return math.isnan(value)
    if isinstance(value, np.datetime64 | np.timedelta64):
        return bool(np.isnat(value))
    pd = sys.modules.get("pandas")
    return pd is not None and (value is pd.NA or value is pd.NaT)


def _format_value(value: Any, precision: int, max_chars: int) -> str:
    if _is_missing(value):
        return '<span class="alw-na">—</span>'
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    if isinstance(value, numbers.Real):
        v = float(value)
        if isinstance(value, numbers.Integral) or abs(v) >= 10**precision:
            # whole numbers; thousands separators only from 10,000 (years stay 2019)
            if not math.isfinite(v) or abs(v) >= 1e15:
                return f"{v:.{precision - 1}e}" if math.isfinite(v) else str(v)
            n = int(value) if isinstance(value, numbers.Integral) else round(v)
            return f"{n:,}" if abs(n) >= 10_000 else str(n)
        if v != 0 and abs(v) < 10 ** -(precision - 1):
            return f"{v:.{precision - 1}e}"
        return f"{v:.{precision}g}"
    s = str(value)
    if len(s) > max_chars:
        return f'<span title="{html.escape(s[:5000], quote=True)}">{html.escape(s[:max_chars])}…</span>'
    return html.escape(s)


def render_row(
    row: Any,
    *,
    max_fields: int = 30,
    precision: int = 4,
    max_chars: int = 80,
) -> str:
    """Render a record as a two-column key/value table.

    Parameters
    ----------
    row : pandas.Series, mapping or 1-D array-like
        Keys are the index / mapping keys / positions.
    max_fields : int, default 30
        More fields are summarised as "… N more".
    precision : int, default 4
        Significant digits for floats below ``10**precision``; larger numbers are shown
        whole, with thousands separators from 10,000 on; tiny ones (and whole numbers
        from 1e15) in scientific notation. Missing values (None, NaN, NA, NaT) show "—".
    max_chars : int, default 80
        Longer string values are truncated with "…" (full value in the ``title``).

    Returns
    -------
    str
        A ``<div class="alw-row-card">`` holding a ``<table class="alw-row">``.

    Examples
    --------
    >>> html = render_row({"name": "Adélie", "mass_g": 3750.0, "ratio": 0.123456, "n": 12000})
    >>> ">3750<" in html, ">0.1235<" in html, ">12,000<" in html
    (True, True, True)
    """
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(row, pd.Series):
        items = list(zip(row.index, row.array, strict=True))
    elif isinstance(row, Mapping):
        items = list(row.items())
    else:
        arr = np.asarray(row, dtype=object) if not isinstance(row, np.ndarray) else row
        if arr.ndim != 1:
            raise InvalidInputError(
                f"a row must be a Series, a dict or a 1-D sequence; got shape {arr.shape}. "
                "Pass one record at a time (e.g. df.iloc[i])."
            )
        items = list(enumerate(arr.tolist()))
    if not isinstance(max_fields, numbers.Integral) or max_fields < 1:
        raise InvalidInputError(f"max_fields must be a positive int, got {max_fields!r}.")
    rows = [
        f"<tr><th>{html.escape(str(key))}</th><td>{_format_value(value, precision, max_chars)}"
        "</td></tr>"
        for key, value in items[:max_fields]
    ]
    if len(items) > max_fields:
        rows.append(
            f'<tr><td colspan="2" class="alw-rest">… {len(items) - max_fields} more</td></tr>'
        )
    return (
        f'<div class="alw-row-card">{_ROW_CSS}<table class="alw-row">{"".join(rows)}</table></div>'
    )


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


# ----------------------------------------------------------------------- auto


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
        for magic, mime in _MAGIC_MIME:
            if item.startswith(magic):
                return _embed_bytes(bytes(item), mime, options.get("size"), "")
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
            return _embed_bytes(png, "image/png", options.get("size"), "")
    return call(render_text, str(item))


# ------------------------------------------------------------------- registry

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
