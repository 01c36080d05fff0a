"""Bad input is refused with a message that names the problem and the fix, and the
store is left exactly as it was."""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from alwidgets.exceptions import ALWidgetsError, InvalidInputError, UnknownLabelError
from alwidgets.store import SessionStore


@pytest.fixture
def store(open_store: Callable[..., SessionStore]) -> Iterator[SessionStore]:
    with open_store(classes=["cat", "dog", 3], annotator="ann") as store:
        store.label(1, "cat")
        store.skip("x")
        yield store


def _unchanged(store: SessionStore, action: Callable[[], Any], error: type, match: str) -> None:
    before = (store.events, len(store), store.labels, store.models)
    with pytest.raises(error, match=match) as info:
        action()
    assert isinstance(info.value, ALWidgetsError | TypeError)
    after = (store.events, len(store), store.labels, store.models)
    pd.testing.assert_frame_equal(after[0], before[0])
    assert after[1] == before[1]
    pd.testing.assert_frame_equal(after[2], before[2])
    pd.testing.assert_frame_equal(after[3], before[3])


BAD_IDS = [
    (None, "item id is None"),
    ("", "item id is an empty string"),
    (1.0, r"has type float; item ids must be int or str.*int\(1\.0\)"),
    (float("nan"), "item id is NaN"),
    (True, "is a bool"),
    (np.bool_(False), "is a bool"),
    ((1, 2), "has type tuple"),
    ([1], "has type list"),
    (object(), "has type object"),
    (b"bytes", "has type bytes"),
    (Decimal("1.5"), "has type Decimal"),
    (2**70, "does not fit in 64 bits"),
    ("\ud800", "not valid Unicode"),
]


@pytest.mark.parametrize(("item_id", "match"), BAD_IDS, ids=[repr(b[0])[:20] for b in BAD_IDS])
@pytest.mark.parametrize("method", ["label", "skip", "unsure"])
def test_bad_item_ids(store: SessionStore, method: str, item_id: Any, match: str) -> None:
    args = (item_id, "cat") if method == "label" else (item_id,)
    _unchanged(store, lambda: getattr(store, method)(*args), InvalidInputError, match)


BAD_LABELS = [
    ("cow", UnknownLabelError, r"'cow' is not one of this session's classes \['cat', 'dog', 3\]"),
    ("3", UnknownLabelError, "Did you mean 3"),
    (None, InvalidInputError, "label is None.*skip"),
    (float("nan"), InvalidInputError, "label is NaN"),
    (np.float64("nan"), InvalidInputError, "label is NaN"),
    (pd.NA, InvalidInputError, "label <NA> has type NAType"),
    ("", InvalidInputError, "empty string"),
    (3.0, InvalidInputError, "has type float"),
    (True, InvalidInputError, "is a bool"),
]


@pytest.mark.parametrize(
    ("label", "error", "match"), BAD_LABELS, ids=[repr(b[0]) for b in BAD_LABELS]
)
def test_bad_labels(store: SessionStore, label: Any, error: type, match: str) -> None:
    _unchanged(store, lambda: store.label(2, label), error, match)


def test_unknown_label_is_also_a_value_error(store: SessionStore) -> None:
    with pytest.raises(ValueError, match="pick one of them"):
        store.label(2, "cow")


BAD_INFO = [
    ({"shown_at": "yesterday"}, "shown_at has type str"),
    ({"shown_at": math.inf}, "not a valid time"),
    ({"shown_at": -5.0}, "not a valid time"),
    ({"shown_at": 4e9}, "in the future"),
    ({"score": "high"}, "score must be a number"),
    ({"score": math.inf}, "score must be finite"),
    ({"rank": 0}, r"rank must be a positive int \(1-based: 1 = first"),
    ({"rank": -1}, "rank must be a positive int"),
    ({"rank": 1.5}, "rank must be a positive int"),
    ({"strategy": 3}, "strategy must be the strategy's name"),
    ({"model_version": 1.5}, "model_version 1.5 has type float"),
    ({"annotator": ""}, "annotator must be a non-empty str"),
    ({"annotator": 7}, "annotator must be a non-empty str"),
]


@pytest.mark.parametrize(("info", "match"), BAD_INFO, ids=[str(b[0]) for b in BAD_INFO])
def test_bad_query_info(store: SessionStore, info: dict[str, Any], match: str) -> None:
    _unchanged(store, lambda: store.label(2, "dog", **info), InvalidInputError, match)


@pytest.mark.parametrize("method", ["label", "skip", "unsure"])
def test_unknown_keyword_lists_the_accepted_ones(store: SessionStore, method: str) -> None:
    args = (2, "dog") if method == "label" else (2,)
    _unchanged(
        store,
        lambda: getattr(store, method)(*args, scor=0.5),
        TypeError,
        rf"{method}\(\) got unexpected keyword argument\(s\) \['scor'\]; accepted: annotator, "
        "shown_at, model_version, score, rank, strategy",
    )


def test_bad_undo_annotator(store: SessionStore) -> None:
    _unchanged(store, lambda: store.undo(annotator=""), InvalidInputError, "non-empty str")


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"version": None, "n_labels": 3}, "version is None"),
        ({"version": 1, "n_labels": -1}, "n_labels must be a non-negative int"),
        ({"version": 1, "n_labels": 2.5}, "n_labels must be a non-negative int"),
        ({"version": 1, "n_labels": 3, "accuracy": [0.5]}, "metric accuracy=.* must be a number"),
    ],
)
def test_bad_log_model(store: SessionStore, kwargs: dict[str, Any], match: str) -> None:
    _unchanged(store, lambda: store.log_model(**kwargs), InvalidInputError, match)


@pytest.mark.parametrize(
    ("classes", "match"),
    [
        ("cat", "classes must be a list of labels, got str"),
        (5, "classes must be a list of labels, got int"),
        ([], "classes is empty"),
        (["a", "a", "b"], r"duplicates \['a'\]"),
        (["a", None], "class is None"),
        (["a", 1.5], "class 1.5 has type float"),
    ],
)
def test_bad_classes_create_nothing(tmp_path: Path, classes: Any, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        SessionStore(tmp_path / "s.db", classes=classes)
    assert not (tmp_path / "s.db").exists()


def test_bad_annotator_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="annotator must be a non-empty str"):
        SessionStore(tmp_path / "s.db", annotator="  ")
    assert not (tmp_path / "s.db").exists()


def test_good_inputs_of_every_accepted_type(store: SessionStore) -> None:
    import datetime as dt

    store.label(np.int64(10), np.int16(3), shown_at=np.datetime64("2020-01-01T00:00:00"))
    store.label(np.str_("s"), np.str_("dog"), shown_at=dt.datetime(2020, 1, 1), score=np.float32(1))
    store.label(-(2**63), "cat", shown_at=pd.Timestamp("2020-01-01", tz="UTC"), rank=np.uint8(2))
    labels = store.labels
    assert labels.index.tolist()[-3:] == [10, "s", -(2**63)]
    assert [type(v) for v in labels["label"].tolist()[-3:]] == [int, str, str]
