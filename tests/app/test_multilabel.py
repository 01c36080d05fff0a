"""Multi-label labeling through the app (``ActiveLabeler(..., multi_label=True)``), headless.

Real parts: the Yeast data set (river's file), real SQLite store files, real retrains in
a thread; front-end messages are shaped exactly as ``_batch.js`` sends them. Each test
says what it proves; the store file is always read back with a fresh ``SessionStore``.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from app_helpers import front_end
from helpers import import_or_skip
from sklearn.linear_model import LogisticRegression

from alwidgets import InvalidInputError, StoreMismatchError, UnknownLabelError
from alwidgets.app import ActiveLabeler
from alwidgets.app._status import histogram_of
from alwidgets.stopping import stopping_hint
from alwidgets.store import SessionStore

N_POOL = 300
VIEW = "view-ml"


@pytest.fixture(scope="module")
def yeast() -> tuple[np.ndarray, pd.DataFrame, list[str]]:
    import_or_skip("river", 'the Yeast data set ships in river; pip install -e ".[data]"')
    from alwidgets.datasets import load_yeast

    X, Y = load_yeast()
    return X.to_numpy()[:N_POOL], Y.iloc[:N_POOL].reset_index(drop=True), list(Y.columns)


@pytest.fixture
def make(tmp_path: Path, yeast: Any) -> Any:
    X, _, classes = yeast
    made: list[ActiveLabeler] = []

    def build(**kw: Any) -> ActiveLabeler:
        kw.setdefault("classes", classes)
        kw.setdefault("estimator", LogisticRegression(max_iter=300))
        kw.setdefault("store", tmp_path / "tags.alw")
        kw.setdefault("batch_size", 6)
        kw.setdefault("random_state", 0)
        kw.setdefault("retrain_in", "thread")
        kw.setdefault("multi_label", True)
        labeler = ActiveLabeler(kw.pop("X", X), **kw)
        made.append(labeler)
        return labeler

    yield build
    for labeler in made:
        labeler.close()


def truth(Y: pd.DataFrame, item: int) -> tuple[str, ...]:
    return tuple(c for c in Y.columns if Y.loc[item, c])


def answer_batch(labeler: ActiveLabeler, Y: pd.DataFrame) -> list[int]:
    batch = list(labeler.batch)
    for item in batch:
        labeler.label(item, truth(Y, item))
    return batch


def press(labeler: ActiveLabeler, seq: int, pos: int, **content: Any) -> list[dict[str, Any]]:
    front_end(labeler.batch_widget, type="action", seq=seq, key=str(pos), session=VIEW,
              batch=labeler.batch_widget.batch_id, seconds=1.0, **content)  # fmt: skip
    return [m for m in labeler.batch_widget.sent if m.get("seq") == seq]


def stored(path: Path) -> dict[Any, Any]:
    with SessionStore(path) as store:
        assert store.multi_label
        return dict(store.labels["label"].items())


def test_sets_are_stored_as_given_and_the_model_learns_them(make, yeast, tmp_path) -> None:
    """Python labels of sets (any iterable, any order, empty) land in a multi-label store
    in class order; the retrain fits the multi-label model on the store's indicator,
    scores micro- and macro-F1 (3-fold CV), and the cards suggest predicted sets."""
    _, Y, classes = yeast
    lab = make()
    given: dict[int, tuple[str, ...]] = {}
    for _ in range(3):
        for item in lab.batch:
            given[item] = truth(Y, item)
            lab.label(item, set(given[item]) if item % 2 else list(reversed(given[item])))
        lab.retrain(wait=True)
    first = next(iter(given))
    lab.undo()  # the last answer goes; relabel it as "none of these"
    last = list(given)[-1]
    lab.label(last, [])
    given[last] = ()
    assert stored(tmp_path / "tags.alw") == given
    learner = lab.learner
    assert learner.multi_label_ and list(learner.classes_) == classes
    assert learner.strategy_.name == "mmu"  # "auto" on a multi-label task
    curve = lab.learning_curve
    assert curve["n_labels"].tolist() == [6, 12, 18]
    assert curve["score"].iloc[1:].between(0.05, 1).all()  # micro-F1, CV from 9 labels on
    assert curve["macro_f1"].iloc[1:].between(0, 1).all()
    assert (curve["macro_f1"].iloc[1:] <= curve["score"].iloc[1:] + 1e-9).all()  # rare classes
    assert set(curve["strategy"]) == {"mmu"} and set(curve["metric"]) == {"micro-F1 (CV)"}
    card = lab.batch_widget.cards[0]
    proba = np.array(card["proba"])
    assert proba.shape == (len(classes),)
    assert card["suggestion"] == np.flatnonzero(proba >= 0.5).tolist()
    assert "auto → mmu" in lab.batch_widget.status["text"]
    events = lab.store.events
    assert set(events.loc[events["action"] == "label", "strategy"]) <= {"cold_start", "mmu"}
    assert first in lab.labels.index


def test_classes_with_no_positive_and_empty_sets_do_not_crash(make, yeast) -> None:
    """A first batch answered "none of these" and one class only: a model is fit (constant
    priors), cards get suggestions, the stats panel counts per class and "none"."""
    lab = make()
    batch = list(lab.batch)
    for item in batch[:-1]:
        lab.label(item, [])
    lab.label(batch[-1], ["Class3"])
    lab.retrain(wait=True)
    assert lab.last_error is None and lab.model_version == 1
    assert all(isinstance(c["suggestion"], list) for c in lab.batch_widget.cards)
    per = lab.stats.state["per_class"]
    assert per["Class3"] == 1 and per["Class1"] == 0 and per["∅ none of these"] == 5
    assert lab._ctl.mirror.answers([lab._ctl.mirror.pos(batch[-1])]) == {
        str(batch[-1]): {"action": "label", "class_index": None, "class_indices": [2]}
    }


def test_chip_messages_label_undo_and_are_validated(make, yeast, tmp_path) -> None:
    """The front end's ``class_indices`` become sets in the store (acked, synced back as
    ``class_indices``); malformed sets and single-label messages are refused with a nack
    and write nothing; Backspace's undo message reverts the set."""
    lab = make()
    cards = lab.batch_widget.cards
    a, b = int(cards[0]["key"]), int(cards[1]["key"])
    replies = press(lab, 1, a, action="label", class_indices=[3, 0])
    assert [m["type"] for m in replies] == ["ack"]
    assert lab.batch_widget.answers[str(a)]["class_indices"] == [0, 3]
    replies = press(lab, 2, b, action="label", class_indices=[])  # none of these
    assert [m["type"] for m in replies] == ["ack"]
    for seq, bad in enumerate(
        [{"class_indices": [0, 0]}, {"class_indices": [99]}, {"class_index": 1},
         {"class_indices": "0"}, {"class_indices": [True]}],
        start=3,
    ):  # fmt: skip
        replies = press(lab, seq, b, action="label", **bad)
        assert [m["type"] for m in replies] == ["nack"], bad
    ids = lab.ids
    assert stored(tmp_path / "tags.alw") == {ids[a]: ("Class1", "Class4"), ids[b]: ()}
    front_end(lab.batch_widget, type="undo", seq=8, key=str(b), target_seq=2, session=VIEW)
    assert stored(tmp_path / "tags.alw") == {ids[a]: ("Class1", "Class4")}
    replies = press(lab, 9, b, action="skip")
    assert [m["type"] for m in replies] == ["ack"]


@pytest.mark.parametrize(
    ("bad", "error", "words"),
    [
        (["Class1", "Nope"], UnknownLabelError, "'Nope' is not one of the classes"),
        (["Class1", "Class1"], InvalidInputError, "more than once"),
        ("Class1", InvalidInputError, "pass ['Class1']"),
        (None, InvalidInputError, "set of classes"),
    ],
)
def test_bad_sets_raise_and_change_nothing(make, tmp_path, bad, error, words) -> None:
    lab = make()
    item = lab.batch[0]
    lab.label(lab.batch[1], ["Class2"])
    before = lab.store.events
    with pytest.raises(error, match=words.replace("[", r"\[").replace("]", r"\]")):
        lab.label(item, bad)
    pd.testing.assert_frame_equal(lab.store.events, before)


def test_a_set_in_a_single_label_labeler_and_the_other_kind_of_store(make, tmp_path) -> None:
    """A set where one class is expected is refused; a store of the other kind is refused
    by the constructor, naming the fix, and left untouched."""
    single = make(multi_label=False, store=tmp_path / "single.alw")
    with pytest.raises(InvalidInputError, match="multi_label=True"):
        single.label(single.batch[0], ["Class1"])
    single.label(single.batch[0], "Class1")
    single.close()
    with pytest.raises(StoreMismatchError, match=r"multi_label=False\) to continue"):
        make(store=tmp_path / "single.alw")
    multi = make(store=tmp_path / "multi.alw")
    multi.label(multi.batch[0], ["Class1"])
    multi.close()
    with pytest.raises(StoreMismatchError, match=r"holds a multi-label session"):
        make(store=tmp_path / "multi.alw", multi_label=False)
    with SessionStore(tmp_path / "single.alw") as store:
        assert not store.multi_label and store.labels["label"].tolist() == ["Class1"]
    assert len(stored(tmp_path / "multi.alw")) == 1


def test_bad_multi_label_arguments_are_refused_before_a_store_exists(make, yeast, tmp_path) -> None:
    _X, Y, _classes = yeast
    path = tmp_path / "never.alw"
    with pytest.raises(InvalidInputError, match="single-label tasks"):
        make(store=path, strategy="margin")
    with pytest.raises(InvalidInputError, match="single-label tasks"):
        make(store=path, oracle=Y, compare_with=["entropy"])
    with pytest.raises(InvalidInputError, match="one 0/1 column per class"):
        make(store=path, oracle=Y.iloc[:, :5])
    with pytest.raises(UnknownLabelError, match="oracle"):
        make(store=path, oracle=lambda i: ["Nope"])
    with pytest.raises(InvalidInputError, match="multi_label must be True or False"):
        make(store=path, multi_label="yes")
    assert not path.exists()


def test_resume_restores_sets_counts_and_undo(make, yeast, tmp_path) -> None:
    _, Y, _ = yeast
    lab = make()
    done = answer_batch(lab, Y)
    lab.close()
    again = make()
    assert again._ctl.mirror.n_labeled == len(done)
    counts = again.stats.state["per_class"]
    assert counts["Class1"] == sum(int(Y.loc[i, "Class1"]) for i in done)
    assert again.undo()["label"] == truth(Y, done[-1])
    assert len(stored(tmp_path / "tags.alw")) == len(done) - 1


def test_review_asks_about_one_class_and_records_kept_or_changed_sets(make, yeast) -> None:
    """A review of 60 labeled sets: one row per suspect (item, class)
    bit with the class named; the card shows the given set pre-chosen and the suspect
    class; answers change or keep the set and are tagged ``review``."""
    _, Y, classes = yeast
    lab = make(batch_size=10)
    for _ in range(6):
        answer_batch(lab, Y)
    frame = lab.review()
    assert len(frame) and {"label", "class", "given", "score", "p"} <= set(frame.columns)
    assert frame["class"].isin(classes).all()
    card = lab.batch_widget.cards[0]
    first = frame.iloc[0]
    assert card["item_id"] == frame.index[0]
    assert card["suggestion"] == [classes.index(c) for c in first["label"]]
    assert card["suspect"] == classes.index(first["class"])
    assert repr(first["class"]) in card["why"]
    positions = [int(c["key"]) for c in lab.batch_widget.cards[:2]]
    items = [lab.ids[p] for p in positions]
    keep = tuple(lab.labels.loc[items[0], "label"])
    lab.label(items[0], keep)  # kept
    now = tuple(lab.labels.loc[items[1], "label"])
    lab.label(items[1], [c for c in classes if (c in now) != (c == "Class14")])  # changed
    progress = lab.review_progress
    assert progress["kept"] == 1 and progress["changed"] == 1
    events = lab.store.events
    assert events["strategy"].iloc[-2:].tolist() == ["review", "review"]


def test_teaching_with_an_indicator_oracle_races_random_and_reports_mistakes(make, yeast) -> None:
    _, Y, _ = yeast
    lab = make(oracle=Y, oracle_noise=0.3, batch_size=8)
    lab.run(n_batches=3, delay=0, wait=True)
    curve = lab.learning_curve
    assert curve["n_labels"].tolist() == [8, 16, 24]
    assert curve["random_score"].iloc[1:].between(0, 1).all()  # the raced baseline, micro-F1
    labels = lab.labels["label"]
    wrong = set(lab.oracle_mistakes)
    assert wrong and wrong <= set(labels.index)
    for item, given in labels.items():
        assert (given == truth(Y, item)) == (item not in wrong)
    signals = lab._ctl.signals
    hist = signals._history
    assert len(hist) == 3 and hist[-1].shape[1] == Y.shape[1]  # indicator predictions
    stability = lab.stats.state["stability"]  # κ between successive models' predicted sets
    assert len(stability["kappas"]) == 2 and all(-1 <= k <= 1 for k in stability["kappas"])
    hint = stopping_hint(lab.learning_curve, score_column="score")  # raises if it fails
    assert signals.hint == hint  # the app's hint is that one (not a swallowed error)


def test_a_function_oracle_and_an_eval_set_of_sets(make, yeast) -> None:
    _X, Y, _classes = yeast
    from alwidgets.datasets import load_yeast

    X_all, Y_all = load_yeast()
    sets = [truth(Y_all, i) for i in range(2000, 2200)]
    lab = make(oracle=lambda i: truth(Y, i), eval_set=(X_all.to_numpy()[2000:2200], sets),
               compare_with=["lci"])  # fmt: skip
    lab.step()
    lab.step()
    curve = lab.learning_curve
    assert set(curve["metric"]) == {"micro-F1 (eval set)"}
    assert curve[["score", "macro_f1", "lci_score"]].notna().all().all()
    assert lab.learning_curve_plot.series[:2] == ["micro-F1 · mmu", "macro-F1 · mmu"]


def test_the_histogram_shows_the_mean_margin_under_random(make, yeast) -> None:
    """With ``random`` the strategy's scores are coin flips; the histogram and the cards
    show the model's mean margin over classes instead (and its axis says so)."""
    from alwidgets.strategies import mean_margin

    X, Y, _ = yeast
    lab = make(strategy="random")
    answer_batch(lab, Y)
    lab.retrain(wait=True)
    snap = lab.snapshot
    expected = mean_margin(lab.learner.predict_proba(X))
    np.testing.assert_allclose(snap.utility, expected)
    hist = lab._ctl.read(lambda c: histogram_of(c.queue, c.mirror))
    np.testing.assert_allclose(hist.scores, expected)
    assert "mean margin" in lab.batch_widget.next_cards[0]["why"]
    assert lab.histogram.widget.layout.xaxis.title.text.startswith("mean margin")


def test_warnings_none_on_the_happy_path(make, yeast) -> None:
    _, Y, _ = yeast
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        lab = make()
        answer_batch(lab, Y)
        lab.retrain(wait=True)
    assert lab.model_version == 1


def test_a_dask_pool_labels_sets_too(make, yeast) -> None:
    """A pool on Dask: the multi-label model fits on the fetched rows, the cards get
    predicted sets and the histogram keeps the strategy's candidate scores."""
    da = import_or_skip("dask.array", 'Dask pools need pip install -e ".[dask]"')
    X, Y, _ = yeast
    lab = make(X=da.from_array(X, chunks=(100, -1)))
    for _ in range(2):
        answer_batch(lab, Y)
        lab.retrain(wait=True)
    assert lab.last_error is None and lab.model_version == 2
    assert lab.snapshot.utility is None  # no pool-wide pass on a cluster
    assert all(isinstance(c["suggestion"], list) for c in lab.batch_widget.cards)
    assert lab.labels["label"].map(lambda s: isinstance(s, tuple)).all()
