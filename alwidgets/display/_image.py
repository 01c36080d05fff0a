"""Image renderers: arrays as inline PNGs, image files and image bytes as data URIs."""

from __future__ import annotations

import base64
import html
import math
import numbers
from pathlib import Path
from typing import Any

from alwidgets.display._png import PNG_SIGNATURE, check_image_shape, png_data_uri
from alwidgets.exceptions import InvalidInputError

__all__ = ["IMAGE_SUFFIXES", "MAGIC_MIME", "embed_bytes", "render_image", "render_image_file"]

#: File suffixes embedded as images, with their MIME types.
IMAGE_SUFFIXES: dict[str, str] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
}

MAGIC_MIME = (
    (PNG_SIGNATURE, "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


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
    arr = check_image_shape(image, max_pixels)
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


def embed_bytes(data: bytes, mime: str, size: int | None, alt: str) -> str:
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
    >>> from alwidgets.display import encode_png
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
    return embed_bytes(p.read_bytes(), mime, size, p.name if alt is None else alt)
