"""A session over time: what the store records about a pick, and resuming a session."""

from __future__ import annotations

import time

import pytest
from app_helpers import press
from sklearn.linear_model import LogisticRegression

import alwidgets.app._labeler as labeler_module


class SlowFit(LogisticRegression):
    """A real classifier whose fit takes a while (a model slower than the resume wait)."""

    def __init__(self, max_iter: int = 200) -> None:
        super().__init__(max_iter=max_iter)

    def fit(self, X, y, sample_weight=None):  # type: ignore[override]
        time.sleep(0.4)
        return super().fit(X, y, sample_weight)


def strategies(lab) -> set[str]:
    return {c["picked"]["strategy"] for c in lab.batch_widget.cards}


def label_two_batches(make_labeler, y, path) -> list:
    first = make_labeler(store=path)
    done = []
    for _ in range(2):
        for item in list(first.batch):
            first.label(item, int(y[item]))
            done.append(item)
    first.retrain(wait=True)
    first.close()
    return done


def slow_resume(make_labeler, y, tmp_path, monkeypatch):
    """Resume a two-batch session with a model slower than the resume wait."""
    path = tmp_path / "resume.alw"
    label_two_batches(make_labeler, y, path)
    monkeypatch.setattr(labeler_module, "RESUME_WAIT_S", 0.0)
    return make_labeler(store=path, estimator=SlowFit())


def test_the_stored_rank_is_the_rank_the_card_shows(make_labeler, digits) -> None:
    _, y, _ = digits
    lab = make_labeler()
    shown = {}
    for round_ in range(3):  # cold start, then batches ranked by a model
        if round_ == 2:
            lab.retrain(wait=True)
            lab.next_batch()
        for seq, card in enumerate(list(lab.batch_widget.cards), start=10 * round_):
            shown[card["item_id"]] = card["rank"]
            assert card["why"].endswith(f"#{card['rank']}")
            press(lab, seq, card["key"], "label", class_index=int(y[card["item_id"]]))
    events = lab.store.events.set_index("item_id")
    stored = {item: int(events.loc[item, "rank"]) for item in shown}
    assert stored == shown
    assert all(rank >= 1 for rank in stored.values())  # 1-based
    assert set(events["strategy"]) == {"cold_start", "margin"}


def test_a_resumed_session_starts_with_a_batch_from_a_model(make_labeler, digits, tmp_path):
    _, y, _ = digits
    path = tmp_path / "resume.alw"
    labeled = label_two_batches(make_labeler, y, path)
    again = make_labeler(store=path)
    # the fit on the stored labels was quick: no cold-start card is ever shown
    assert again.model_version >= 1
    assert strategies(again) == {"margin"}
    assert {c["picked"]["strategy"] for c in again.batch_widget.next_cards} == {"margin"}
    assert not set(again.batch) & set(labeled)
    # the model re-created from the same labels adds no learning-curve point
    assert again.learning_curve["n_labels"].tolist() == [4, 8]


def test_a_slow_resume_fit_replaces_the_untouched_cold_start_batch(
    make_labeler, digits, tmp_path, monkeypatch
) -> None:
    again = slow_resume(make_labeler, digits[1], tmp_path, monkeypatch)
    assert again.model_version == 0 and strategies(again) == {"cold_start"}
    cold_id = again.batch_widget.batch_id
    again.retrain(wait=True)  # the fit under way: waits for it, does not start another
    assert again.model_version == 3  # v1, v2 were the first session's
    assert strategies(again) == {"margin"}  # nothing was answered: swapped
    assert again.batch_widget.batch_id != cold_id
    assert not set(again.batch) & {c["item_id"] for c in again.batch_widget.next_cards}


def test_a_slow_resume_fit_keeps_a_cold_start_batch_already_begun(
    make_labeler, digits, tmp_path, monkeypatch
) -> None:
    _, y, _ = digits
    again = slow_resume(make_labeler, y, tmp_path, monkeypatch)
    begun = list(again.batch)
    again.label(begun[0], int(y[begun[0]]))  # before the model is ready
    again.retrain(wait=True)
    assert again.model_version >= 1
    assert again.batch == begun  # the person's batch stays as it is
    assert {c["picked"]["strategy"] for c in again.batch_widget.next_cards} == {"margin"}


@pytest.mark.parametrize("wait", [0.0, 30.0])
def test_resume_in_manual_mode_does_not_fit(make_labeler, digits, tmp_path, monkeypatch, wait):
    _, y, _ = digits
    path = tmp_path / "resume.alw"
    label_two_batches(make_labeler, y, path)
    monkeypatch.setattr(labeler_module, "RESUME_WAIT_S", wait)
    again = make_labeler(store=path, retrain_every=0)
    assert again.model_version == 0 and strategies(again) == {"cold_start"}
