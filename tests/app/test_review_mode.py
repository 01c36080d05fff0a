"""Review mode: the most suspect labels come back as cards; keep or change; undo; progress."""

from __future__ import annotations

import numpy as np
import pytest
from app_helpers import front_end, press
from sklearn.exceptions import ConvergenceWarning

from alwidgets import InvalidInputError

# the fixture's tiny LogisticRegression(max_iter=200) on raw pixels; irrelevant here
pytestmark = pytest.mark.filterwarnings(
    f"ignore::{ConvergenceWarning.__module__}.ConvergenceWarning"
)


@pytest.fixture
def reviewed(make_labeler, digits):
    """A teaching session whose oracle is wrong on purpose now and then, under review."""
    _, y, _ = digits
    lab = make_labeler(oracle=y, oracle_noise=0.15, compare_with=[], batch_size=8)
    for _ in range(10):
        lab.step()
    assert len(lab.labels) == 80 and lab.oracle_mistakes  # the noisy oracle erred
    return lab, y


def test_review_puts_the_planted_mistakes_first(reviewed) -> None:
    lab, _ = reviewed
    n_events = len(lab.store.events)
    suspects = lab.review()
    mistakes = set(lab.oracle_mistakes)
    k = len(mistakes)
    top = set(suspects.index[:k])
    assert len(top & mistakes) / k >= 0.5  # chance: k / 80
    assert list(suspects.columns) == ["label", "guess", "score", "p_label", "p_guess"]
    assert (suspects["guess"] != suspects["label"]).all()  # n=None: where the models disagree
    # the cards are the suspects, in order, and show the models' guess
    assert lab.batch == list(suspects.index[:8])
    card = lab.batch_widget.cards[0]
    assert card["why"].startswith("review: labeled")
    assert lab.classes[card["suggestion"]] == suspects["guess"].iloc[0]
    assert lab.batch_widget.answers == {}  # nothing answered in this review yet
    assert lab.review_progress == {
        "total": len(suspects), "done": 0, "kept": 0, "changed": 0, "unsure": 0
    }  # fmt: skip
    assert len(lab.store.events) == n_events  # reviewing wrote nothing by itself


def test_change_keep_and_undo_are_events(reviewed) -> None:
    lab, y = reviewed
    lab.review(n=4)
    first, second = lab.batch[:2]
    before = lab.labels["label"].to_dict()
    lab.label(first, int(y[first]))  # the truth: kept or changed, depending on the oracle
    lab.skip(second)  # s on a review card keeps the label
    events = lab.store.events.tail(2)
    assert list(events["action"]) == ["label", "label"]
    assert list(events["strategy"]) == ["review", "review"]
    assert lab.labels.loc[second, "label"] == before[second]  # kept, not skipped
    progress = lab.review_progress
    assert progress["done"] == 2 and progress["kept"] + progress["changed"] == 2
    assert lab.stats.state["review"].startswith("review 2 / 4")
    undone = lab.undo()
    assert undone["item_id"] == second and lab.review_progress["done"] == 1
    assert lab.labels.loc[second, "label"] == before[second]  # the earlier label is back
    assert second in lab.batch and str(second) not in lab.batch_widget.answers  # to answer again
    # history: every earlier label event is still in the store
    assert (lab.store.events["action"] == "label").sum() == 80 + 2


def test_finishing_the_review_fixes_labels_and_resumes_the_ranking(reviewed) -> None:
    lab, y = reviewed
    suspects = lab.review()
    for item in suspects.index:  # in review order, as the cards come
        assert item in lab.batch
        lab.label(item, int(y[item]))
    assert lab.review_progress["done"] == len(suspects)
    assert lab.stats.state["review"].endswith("done")
    fixed = [m for m in lab.oracle_mistakes if m in suspects.index]
    assert fixed and all(lab.labels.loc[m, "label"] == y[m] for m in fixed)
    assert not set(lab.batch) & set(lab.labels.index)  # unlabeled items again
    assert lab.batch_widget.cards[0]["picked"]["strategy"] != "review"


def test_review_from_the_front_end(reviewed) -> None:
    lab, _ = reviewed
    front_end(lab.batch_widget, type="review", n=3)
    assert lab.review_progress["total"] == 3
    key = lab.batch_widget.cards[0]["key"]
    label = lab.labels.loc[int(key), "label"]
    acks = press(lab, 1, key, "label", lab.classes.index(label))
    assert acks and acks[0]["type"] == "ack"
    assert lab.review_progress["kept"] == 1


def test_review_button_says_why_not_yet(make_labeler, digits) -> None:
    _, y, _ = digits
    lab = make_labeler(oracle=y, compare_with=[])
    lab.review_button.click()  # no labels: a notice, not an exception
    assert lab.batch_widget.sent[-1]["type"] == "notice"
    assert "Label more items first" in lab.batch_widget.sent[-1]["text"]
    assert lab.review_progress is None


def test_review_button_leaves_out_classes_with_one_label(make_labeler, digits) -> None:
    _, y, _ = digits
    lab = make_labeler(oracle=y, oracle_noise=0.3, compare_with=[])
    for _ in range(6):  # 24 labels over 10 classes: some classes have a single label
        lab.step()
    counts = lab.labels["label"].value_counts()
    assert (counts == 1).any()
    lab.review_button.click()
    assert lab.review_progress is not None and lab.review_progress["total"] >= 1
    suspects = [lab.labels.loc[i, "label"] for i in lab.batch]
    assert suspects and all(counts[label] >= 2 for label in suspects)


def test_review_button_with_nothing_to_review(make_labeler, digits) -> None:
    X, y, images = digits
    keep = np.flatnonzero(y < 2)  # 0 and 1: every out-of-fold guess is right
    lab = make_labeler(
        X=X[keep], items=images[keep], classes=[0, 1], oracle=y[keep], compare_with=[]
    )
    for _ in range(4):
        lab.step()
    batch = lab.batch
    lab.review_button.click()
    assert lab.review_progress is None and lab.batch == batch  # the cards stay
    assert "Nothing to review" in lab.batch_widget.sent[-1]["text"]


def test_bad_review_input(make_labeler, digits) -> None:
    _, y, _ = digits
    with pytest.raises(InvalidInputError, match="pass oracle=y"):
        make_labeler(oracle_noise=0.1)
    with pytest.raises(InvalidInputError, match=r"share in \[0, 1\)"):
        make_labeler(oracle=y, oracle_noise=1.5)
    lab = make_labeler(oracle=y, compare_with=[])
    with pytest.raises(InvalidInputError, match="Label more items first"):
        lab.review()
    lab.step()
    lab.step()
    with pytest.raises(InvalidInputError, match="n >= 1"):
        lab.review(n=0)
    assert np.all(lab.labels["label"].to_numpy() == y[lab.labels.index])  # no noise: all right
