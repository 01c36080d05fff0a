"""Renderers: item -> safe HTML (alwidgets.display)."""

from __future__ import annotations

import base64
import re
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from alwidgets import InvalidInputError, display
from alwidgets.display import (
    available_renderers,
    encode_png,
    get_renderer,
    register_renderer,
    render,
    render_image,
    render_image_file,
    render_row,
    render_text,
    unregister_renderer,
)

# --------------------------------------------------------------- PNG decoding


def decode_png(data: bytes) -> np.ndarray:
    """Independent minimal PNG reader for unfiltered 8-bit images (checks every CRC)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        tag, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(tag + body), f"bad CRC in {tag!r}"
        chunks.append((tag, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1][0] == b"IEND"
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert depth == 8 and interlace == 0
    channels = {0: 1, 4: 2, 2: 3, 6: 4}[color]
    raw = zlib.decompress(b"".join(b for t, b in chunks if t == b"IDAT"))
    rows = np.frombuffer(raw, np.uint8).reshape(height, 1 + width * channels)
    assert np.all(rows[:, 0] == 0)  # filter type "none" on every scanline
    return rows[:, 1:].reshape(height, width, channels)


def pixels_of(html: str) -> np.ndarray:
    match = re.search(r'src="data:image/png;base64,([^"]+)"', html)
    assert match, html[:200]
    return decode_png(base64.b64decode(match.group(1)))


# --------------------------------------------------------------------- PNG


@settings(max_examples=60, deadline=None)
@given(
    arrays(
        np.uint8,
        st.tuples(st.integers(1, 17), st.integers(1, 17), st.sampled_from([1, 2, 3, 4])),
    )
)
def test_png_round_trips_every_pixel(image: np.ndarray) -> None:
    np.testing.assert_array_equal(decode_png(encode_png(image)), image)


def test_png_accepts_2d_as_grayscale() -> None:
    image = np.arange(12, dtype=np.uint8).reshape(3, 4)
    out = decode_png(encode_png(image))
    assert out.shape == (3, 4, 1)
    np.testing.assert_array_equal(out[:, :, 0], image)


def test_png_accepts_non_contiguous_views() -> None:
    image = np.arange(64, dtype=np.uint8).reshape(8, 8)[::2, ::-1]
    np.testing.assert_array_equal(decode_png(encode_png(image))[:, :, 0], image)


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (np.zeros((2, 2), dtype=np.float64), "uint8"),
        (np.zeros((2, 2, 5), dtype=np.uint8), "C in 1, 2, 3 or 4"),
        (np.zeros((0, 3), dtype=np.uint8), "non-empty"),
        (np.zeros(4, dtype=np.uint8), r"\(H, W\)"),
    ],
)
def test_png_rejects_bad_arrays(image: np.ndarray, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        encode_png(image)


# ------------------------------------------------------------- image arrays


def test_float_unit_range_is_scaled_by_255() -> None:
    px = pixels_of(render_image(np.array([[0.0, 0.5, 1.0]])))
    np.testing.assert_array_equal(px[0, :, 0], [0, 128, 255])


def test_float_other_range_is_min_max_normalised() -> None:
    px = pixels_of(render_image(np.array([[2.0, 4.0, 6.0]])))
    np.testing.assert_array_equal(px[0, :, 0], [0, 128, 255])


def test_vmin_vmax_fix_the_scale_across_images() -> None:
    # scikit-learn digits are 0..16; a faint digit must stay faint with vmax=16
    px = pixels_of(render_image(np.array([[0.0, 4.0, 8.0]]), vmin=0, vmax=16))
    np.testing.assert_array_equal(px[0, :, 0], [0, 64, 128])


def test_vmax_not_above_vmin_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="greater than vmin"):
        render_image(np.zeros((2, 2)), vmin=1, vmax=1)


def test_uint8_and_small_ints_are_unchanged_large_ints_normalised() -> None:
    np.testing.assert_array_equal(
        pixels_of(render_image(np.array([[0, 7, 200]], dtype=np.uint8)))[0, :, 0], [0, 7, 200]
    )
    np.testing.assert_array_equal(
        pixels_of(render_image(np.array([[0, 7, 200]], dtype=np.int64)))[0, :, 0], [0, 7, 200]
    )
    np.testing.assert_array_equal(
        pixels_of(render_image(np.array([[0, 500, 1000]], dtype=np.int16)))[0, :, 0],
        [0, 128, 255],
    )


def test_bool_nan_constant_and_invert() -> None:
    np.testing.assert_array_equal(
        pixels_of(render_image(np.array([[True, False]])))[0, :, 0], [255, 0]
    )
    np.testing.assert_array_equal(
        pixels_of(render_image(np.array([[np.nan, 0.0, 1.0, np.inf]])))[0, :, 0], [0, 0, 255, 0]
    )
    np.testing.assert_array_equal(pixels_of(render_image(np.full((2, 2), 7.0)))[..., 0], 0)
    np.testing.assert_array_equal(
        pixels_of(render_image(np.array([[0.0, 1.0]]), invert=True))[0, :, 0], [255, 0]
    )


def test_rgb_and_rgba_keep_their_channels() -> None:
    rgb = np.zeros((2, 3, 3), dtype=np.uint8)
    rgb[..., 0] = 255
    np.testing.assert_array_equal(pixels_of(render_image(rgb)), rgb)
    rgba = np.full((2, 2, 4), 9, dtype=np.uint8)
    assert pixels_of(render_image(rgba)).shape == (2, 2, 4)


def test_input_array_is_not_mutated() -> None:
    image = np.array([[0.2, 0.9], [np.nan, 3.0]])
    before = image.copy()
    render_image(image, invert=True)
    np.testing.assert_array_equal(image, before)


def test_small_images_are_enlarged_crisply_and_large_ones_capped() -> None:
    small = render_image(np.zeros((8, 8)))
    assert 'width="96" height="96"' in small and "image-rendering:pixelated" in small
    mnist = render_image(np.zeros((28, 28)))
    assert 'width="112"' in mnist  # whole-number factor: 4x
    big = render_image(np.zeros((300, 600), dtype=np.uint8))
    assert 'width="256" height="128"' in big and "pixelated" not in big
    assert 'width="40" height="20"' in render_image(np.zeros((4, 8)), size=40)


@pytest.mark.parametrize("size", [0, -3, 2.5, "big"])
def test_bad_size_is_rejected(size: Any) -> None:
    with pytest.raises(InvalidInputError, match="size must be a positive int"):
        render_image(np.zeros((2, 2)), size=size)


@pytest.mark.parametrize(
    ("image", "match"),
    [
        (np.zeros((3, 8, 8)), "channels-first"),
        (np.zeros(64), r"reshape\(8, 8\)"),
        (np.zeros((2, 2, 2, 2)), r"\(H, W, 3\)"),
        (np.zeros((0, 5)), "got \\(0, 5\\)"),
        (np.array([["a", "b"]]), "needs numbers"),
    ],
)
def test_bad_images_name_the_expected_shapes(image: np.ndarray, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        render_image(image)


def test_too_many_pixels_is_a_clear_error() -> None:
    with pytest.raises(InvalidInputError, match="downsample"):
        render_image(np.zeros((20, 20), dtype=np.uint8), max_pixels=100)


def test_alt_text_is_escaped() -> None:
    assert 'alt="a &quot;b&quot; &lt;c&gt;"' in render_image(np.zeros((2, 2)), alt='a "b" <c>')


# ---------------------------------------------------------------- image files


@pytest.fixture
def png_file(tmp_path: Path) -> Path:
    path = tmp_path / "digit.png"
    path.write_bytes(encode_png(np.arange(16, dtype=np.uint8).reshape(4, 4)))
    return path


def test_image_file_is_embedded_byte_for_byte(png_file: Path) -> None:
    html = render_image_file(png_file)
    np.testing.assert_array_equal(
        pixels_of(html)[..., 0], np.arange(16, dtype=np.uint8).reshape(4, 4)
    )
    assert 'alt="digit.png"' in html


def test_image_file_errors(tmp_path: Path, png_file: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        render_image_file(tmp_path / "missing.png")
    with pytest.raises(InvalidInputError, match="max_bytes"):
        render_image_file(png_file, max_bytes=10)
    with pytest.raises(InvalidInputError, match="not a supported image file"):
        render_image_file(tmp_path / "notes.txt")


def test_jpeg_suffix_gets_jpeg_mime(tmp_path: Path) -> None:
    path = tmp_path / "photo.JPG"
    path.write_bytes(b"\xff\xd8\xff\xe0fake")
    assert 'src="data:image/jpeg;base64,' in render_image_file(path)


# ----------------------------------------------------------------------- text


def test_text_is_escaped() -> None:
    html = render_text('<script>alert("x")</script> & more')
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; more" in html


def test_highlight_is_case_insensitive_and_escapes_terms() -> None:
    html = render_text("Win a <PRIZE> now, prize!", highlight=["prize", "<"])
    marks = re.findall(r"<mark[^>]*>(.*?)</mark>", html)
    assert marks == ["&lt;", "PRIZE", "prize"]


def test_highlight_case_sensitive_and_longest_term_wins() -> None:
    html = render_text("New York and new", highlight=["New", "New York"], case_sensitive=True)
    assert re.findall(r"<mark[^>]*>(.*?)</mark>", html) == ["New York"]


def test_highlight_terms_are_literal_not_regex() -> None:
    html = render_text("costs $5.00 (or 5x00)", highlight=["5.00", "("])
    assert re.findall(r"<mark[^>]*>(.*?)</mark>", html) == ["5.00", "("]


def test_truncation_keeps_head_and_puts_rest_behind_toggle() -> None:
    text = "".join(str(i % 10) for i in range(100))
    html = render_text(text, max_chars=30)
    visible = html.split("<details")[0]
    assert text[:30] + "…" in visible and text[30:] not in visible
    assert "more (70 chars)" in html
    assert html.count(text[30:]) == 1  # the rest is sent once, behind the toggle


def test_truncation_does_not_cut_through_a_highlight() -> None:
    html = render_text("aaaa keyword bbbbbbbbbbbbbbbb", highlight=["keyword"], max_chars=8)
    assert re.findall(r"<mark[^>]*>(.*?)</mark>", html) == ["keyword"]


@pytest.mark.parametrize("missing", [None, float("nan"), ""])
def test_missing_text_is_shown_as_empty(missing: Any) -> None:
    assert "(empty)" in render_text(missing)


def test_no_truncation_when_max_chars_is_none() -> None:
    assert "details" not in render_text("x" * 5000, max_chars=None)


def test_very_long_texts_are_capped_and_say_so() -> None:
    html = render_text("a" * 50_000, max_chars=None, max_total=1000)
    assert html.count("a") < 1100 and "49,000 more characters not shown" in html
    html = render_text("b" * 50_000, max_chars=100, max_total=1000)
    assert "more (900 chars)" in html and "49,000 more characters not shown" in html


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"highlight": [1]}, "must be strings"),
        ({"max_chars": 0}, "max_chars must be a positive int"),
        ({"max_total": -5}, "max_total must be a positive int"),
    ],
)
def test_text_option_errors(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        render_text("text", **kwargs)


# ------------------------------------------------------------------------ row


def cells(html: str) -> dict[str, str]:
    return dict(re.findall(r"<th[^>]*>(.*?)</th><td[^>]*>(.*?)</td>", html))


def test_row_formats_numbers_compactly() -> None:
    row = {
        "int": 1234567,
        "float": 3.14159265,
        "tiny": 1.5e-7,
        "huge": 1.2e12,
        "year": 2019,
        "money": 51234.5678,
        "big": 1e16,
        "na": pd.NA,
        "nat": pd.NaT,
        "nan": float("nan"),
        "none": None,
        "flag": True,
        "np": np.int64(5),
    }
    got = cells(render_row(row))
    assert got["int"] == "1,234,567"
    assert got["float"] == "3.142"
    assert got["tiny"] == "1.500e-07"
    assert got["huge"] == "1,200,000,000,000"
    assert got["year"] == "2019" and got["money"] == "51,235" and got["big"] == "1.000e+16"
    assert all("—" in got[k] for k in ("nan", "none", "na", "nat"))
    assert got["flag"] == "true" and got["np"] == "5"


def test_row_escapes_keys_and_values_and_truncates_long_strings() -> None:
    got = cells(render_row({"<k>": "<b>" + "x" * 200}, max_chars=10))
    assert list(got) == ["&lt;k&gt;"]
    assert got["&lt;k&gt;"].endswith("&lt;b&gt;xxxxxxx…</span>")


def test_row_summarises_extra_fields() -> None:
    html = render_row(pd.Series(np.arange(50.0)), max_fields=5)
    assert len(cells(html)) == 5 and "… 45 more" in html


def test_row_rejects_2d_and_bad_max_fields() -> None:
    with pytest.raises(InvalidInputError, match="one record at a time"):
        render_row(np.zeros((2, 2)))
    with pytest.raises(InvalidInputError, match="max_fields"):
        render_row({"a": 1}, max_fields=0)


# ----------------------------------------------------------------------- auto


class WithHtml:
    def _repr_html_(self) -> str:
        return "<em>custom</em>"


class WithPng:
    def _repr_png_(self) -> bytes:
        return encode_png(np.zeros((2, 2), dtype=np.uint8))


def test_auto_dispatch(png_file: Path) -> None:
    assert render(np.zeros((8, 8))).startswith('<img class="alw-image"')
    assert render(np.zeros((8, 8, 3), dtype=np.uint8)).startswith('<img class="alw-image"')
    assert render(np.arange(3.0)).startswith('<div class="alw-row-card"')
    assert render({"a": 1}).startswith('<div class="alw-row-card"')
    assert render(pd.Series({"a": 1})).startswith('<div class="alw-row-card"')
    assert render(str(png_file)).startswith('<img class="alw-image"')
    assert render(png_file).startswith('<img class="alw-image"')
    assert render("no/such/file.png").startswith('<div class="alw-text"')
    assert render("hello").startswith('<div class="alw-text"')
    assert render(png_file.read_bytes()).startswith('<img class="alw-image"')
    assert render(b"\x00plain bytes").startswith('<div class="alw-text"')
    assert render(WithHtml()) == "<em>custom</em>"
    assert render(WithPng()).startswith('<img class="alw-image" src="data:image/png')
    assert "<table" in render(pd.DataFrame({"a": [1]}))  # DataFrame._repr_html_
    assert render(42) == render("42")
    assert render([1.5, 2, 3]).startswith('<div class="alw-row-card"')
    assert render([[0, 255], [255, 0]]).startswith('<img class="alw-image"')
    assert render(["a", "b"]) == render("['a', 'b']")
    assert render([[1], [2, 3]]).startswith('<div class="alw-text"')  # ragged


def test_partial_of_render_passes_options_through_the_app() -> None:
    import functools

    html = get_renderer(functools.partial(render, highlight=["cat"]))("a cat")
    assert "<mark" in html


def test_auto_passes_each_renderer_only_its_options() -> None:
    # one set of options for a mixed pool: images ignore `highlight`, text ignores `size`
    opts: dict[str, Any] = {"highlight": ["cat"], "size": 64}
    assert 'width="64"' in render(np.zeros((8, 8)), **opts)
    assert "<mark" in render("a cat", **opts)


def test_auto_rejects_options_no_renderer_knows() -> None:
    with pytest.raises(InvalidInputError, match=r"unknown display option\(s\) \['colour'\]"):
        render("x", colour="red")


def test_explicit_kind_rejects_foreign_options() -> None:
    with pytest.raises(InvalidInputError, match="does not take option"):
        render("x", kind="text", size=3)


def test_html_kind_passes_through_and_rejects_other_types() -> None:
    assert render("<b>trusted</b>", kind="html") == "<b>trusted</b>"
    assert render(WithHtml(), kind="html") == "<em>custom</em>"
    with pytest.raises(InvalidInputError, match="kind='html' needs a str"):
        render(3, kind="html")


# ------------------------------------------------------------------- registry


def test_unknown_kind_lists_the_known_ones() -> None:
    with pytest.raises(InvalidInputError, match=r"'video'.*'image_file'.*'text'"):
        render("x", kind="video")
    with pytest.raises(InvalidInputError, match="str or a callable"):
        get_renderer(3)  # type: ignore[arg-type]


def test_callables_may_return_str_or_repr_html_objects() -> None:
    assert render(2, kind=lambda x: f"<i>{x * 2}</i>") == "<i>4</i>"
    assert render(2, kind=lambda x: WithHtml()) == "<em>custom</em>"

    def bad(item: object) -> int:
        return 1

    with pytest.raises(InvalidInputError, match="bad returned int"):
        render(2, kind=bad)


def test_register_and_unregister() -> None:
    def shout(item: object, *, times: int = 1) -> str:
        return "<b>" + str(item).upper() * times + "</b>"

    register_renderer("test-shout", shout)
    try:
        assert "test-shout" in available_renderers()
        assert render("hi", kind="test-shout", times=2) == "<b>HIHI</b>"
        with pytest.raises(InvalidInputError, match="overwrite=True"):
            register_renderer("test-shout", shout)
        register_renderer("test-shout", lambda item: "<i/>", overwrite=True)
        assert render("hi", kind="test-shout") == "<i/>"
    finally:
        unregister_renderer("test-shout")
    assert "test-shout" not in available_renderers()


def test_builtins_are_protected() -> None:
    with pytest.raises(InvalidInputError, match="built-in"):
        register_renderer("text", lambda item: "", overwrite=True)
    with pytest.raises(InvalidInputError, match="no user renderer"):
        unregister_renderer("text")
    with pytest.raises(InvalidInputError, match="non-empty str"):
        register_renderer("", lambda item: "")
    with pytest.raises(InvalidInputError, match="must be callable"):
        register_renderer("x", "not callable")  # type: ignore[arg-type]


def test_public_names_are_exported() -> None:
    for name in display.__all__:
        assert callable(getattr(display, name)), name


def test_images_have_a_default_alt_text() -> None:
    assert 'alt="image 8×4"' in render_image(np.zeros((8, 4)))


def test_text_renderer_accepts_arrays_as_text() -> None:
    assert "[1 2]" in render_text(np.array([1, 2]))
