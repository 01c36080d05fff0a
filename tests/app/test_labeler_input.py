"""Bad input fails early, with a typed error that says what to do."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.svm import SVC

from alwidgets import (
    DuplicateIdError,
    EstimatorError,
    InvalidInputError,
    StoreMismatchError,
    UnknownLabelError,
    UnknownStrategyError,
)
from alwidgets.store import SessionStore


def test_duplicate_ids_in_a_dataframe_index(make_labeler, digits) -> None:
    X, _, _ = digits
    df = pd.DataFrame(X[:20], index=[0, 1] * 10)
    with pytest.raises(DuplicateIdError, match="unique"):
        make_labeler(X=df, items=None, display="auto")


def test_nan_features_are_rejected_with_a_fix(make_labeler, digits) -> None:
    X = digits[0].copy()
    X[5, 3] = np.nan
    with pytest.raises(InvalidInputError, match="NaN"):
        make_labeler(X=X)


def test_estimator_without_predict_proba(make_labeler) -> None:
    with pytest.raises(EstimatorError, match="probability=True"):
        make_labeler(estimator=SVC())


def test_unknown_strategy(make_labeler) -> None:
    with pytest.raises(UnknownStrategyError):
        make_labeler(strategy="most_fun")


def test_store_of_another_session_with_other_classes(make_labeler, tmp_path) -> None:
    path = tmp_path / "cats.alw"
    with SessionStore(path, classes=["cat", "dog"]) as store:
        store.label(0, "cat")
    with pytest.raises(StoreMismatchError, match="classes"):
        make_labeler(store=path)
    with SessionStore(path) as store, pytest.raises(StoreMismatchError, match="classes"):
        make_labeler(store=store)
    with SessionStore(path) as store:  # untouched
        assert store.labels["label"].to_dict() == {0: "cat"}


def test_bad_classes(make_labeler) -> None:
    with pytest.raises(InvalidInputError, match="at least 2"):
        make_labeler(classes=[1])
    with pytest.raises(InvalidInputError, match="unique"):
        make_labeler(classes=[1, 2, 1])
    with pytest.raises(InvalidInputError, match="list of labels"):
        make_labeler(classes="ab")


def test_items_must_match_the_pool(make_labeler, digits) -> None:
    with pytest.raises(InvalidInputError, match="one item"):
        make_labeler(items=digits[2][:10])


def test_eval_set_labels_must_be_classes(make_labeler, digits) -> None:
    X, y, _ = digits
    with pytest.raises(UnknownLabelError, match="eval_set"):
        make_labeler(eval_set=(X[:5], y[:5] + 20))


def test_oracle_must_align_and_use_the_classes(make_labeler, digits) -> None:
    _, y, _ = digits
    with pytest.raises(InvalidInputError, match="one true label per row"):
        make_labeler(oracle=y[:5])
    with pytest.raises(UnknownLabelError, match="oracle"):
        make_labeler(oracle=y + 10)
    with pytest.raises(InvalidInputError, match="needs an oracle"):
        make_labeler(compare_with=["random"])


def test_other_options(make_labeler) -> None:
    with pytest.raises(InvalidInputError, match="'thread' or 'process'"):
        make_labeler(retrain_in="gpu")
    with pytest.raises(InvalidInputError, match="batch_size"):
        make_labeler(batch_size=0)
    with pytest.raises(InvalidInputError, match="file path or a SessionStore"):
        make_labeler(store=42)


def test_string_ids_from_a_dataframe_round_trip(make_labeler, digits) -> None:
    X, y, _ = digits
    df = pd.DataFrame(X[:40], index=[f"img_{i}" for i in range(40)])
    lab = make_labeler(X=df, items=None, display="auto")
    item = lab.batch[0]
    assert isinstance(item, str) and item.startswith("img_")
    lab.label(item, int(y[int(item[4:])]))
    assert lab.labels.index.tolist() == [item]
    assert "<table" in lab.batch_widget.cards[1]["html"]  # rows of a DataFrame by default


def test_raw_text_without_a_vectorizer_fails_before_the_first_batch(make_labeler) -> None:
    with pytest.raises(InvalidInputError, match=r"could not rank the pool.*vectorizer"):
        make_labeler(
            X=["cheap pills", "lunch at noon"] * 10,
            items=None,
            display="text",
            classes=["ham", "spam"],
        )
