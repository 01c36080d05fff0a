"""A minimal PNG encoder (zlib + struct, no Pillow) and the value scaling for images."""

from __future__ import annotations

import base64
import math
import struct
import zlib
from typing import Any

import numpy as np

from alwidgets.exceptions import InvalidInputError

__all__ = ["check_image_shape", "encode_png", "png_data_uri", "to_uint8"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# PNG colour type by channel count: gray, gray+alpha, RGB, RGBA.
_PNG_COLOR_TYPE = {1: 0, 2: 4, 3: 2, 4: 6}


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
        PNG_SIGNATURE
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def to_uint8(image: np.ndarray, vmin: float | None, vmax: float | None, invert: bool) -> np.ndarray:
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
    arr = check_image_shape(image)
    png = encode_png(to_uint8(arr, vmin, vmax, invert))
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def check_image_shape(image: Any, max_pixels: int | None = None) -> np.ndarray:
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
