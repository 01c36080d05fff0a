"""SessionStats: the progress / pace / model panel."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from typing import Any

import ipywidgets as widgets
import pytest

from alwidgets import InvalidInputError
from alwidgets.store import SessionStore
from alwidgets.widgets import STATS_KEYS, SessionStats


def text_of(html: str) -> str:
    """The visible text of the panel, tags and the style sheet stripped."""
    html = re.sub(r"<style>.*?</style>", "", html)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def bar_widths(html: str) -> list[str]:
    return re.findall(r'class="alw-fill" style="width:([\d.]+)%"', html)


def test_is_an_html_widget_with_a_class_hook() -> None:
    s = SessionStats()
    assert isinstance(s.widget, widgets.HTML)
    assert "alw-stats" in s.widget._dom_classes
    assert text_of(s.html) == "0 labeled"


def test_progress_against_pool() -> None:
    s = SessionStats({"n_labeled": 25, "n_total": 200})
    assert "25 / 200 labeled (12.5%)" in text_of(s.html)
    assert bar_widths(s.html)[0] == "12.5"


def test_progress_against_budget_mentions_pool() -> None:
    s = SessionStats({"n_labeled": 50, "n_total": 1797, "budget": 200})
    assert "50 / 200 budget (25.0%) · pool 1,797" in text_of(s.html)
    assert bar_widths(s.html)[0] == "25.0"


def test_per_class_bars_in_declared_order_with_zeros() -> None:
    s = SessionStats({"per_class": {"dog": 2, "cat": 4}, "classes": ["cat", "bird", "dog"]})
    rows = re.findall(r'title="([^"]*)"', s.html)
    assert rows == ["cat", "bird", "dog"]
    assert bar_widths(s.html) == ["100.0", "0.0", "50.0"]


def test_update_merges_and_none_clears() -> None:
    s = SessionStats({"n_labeled": 3, "model_version": 2, "model_status": "ready"})
    s.update({"model_status": "training…"})
    assert s.state["n_labeled"] == 3 and s.state["model_version"] == 2
    assert "model v2 · training…" in text_of(s.html)
    s.update(model_status=None)
    assert "model_status" not in s.state
    assert "training" not in s.html


def test_pace_model_score_and_hint_lines() -> None:
    s = SessionStats(
        {
            "labels_per_minute": 12.34,
            "seconds_per_label": 150.0,
            "n_skipped": 2,
            "n_unsure": 1,
            "score": 0.9123,
            "metric": "accuracy (CV)",
            "hint": "accuracy has not improved for 3 rounds: consider stopping",
        }
    )
    text = text_of(s.html)
    assert "12.3 labels/min · 2.5 min per label (median) · 2 skipped · 1 unsure" in text
    assert "accuracy (CV) 0.912" in text
    assert 'class="alw-hint"' in s.html and "consider stopping" in text


def test_nan_rates_are_not_shown() -> None:
    s = SessionStats({"labels_per_minute": float("nan"), "seconds_per_label": float("nan")})
    assert "labels/min" not in s.html and "per label" not in s.html


def test_user_text_is_escaped() -> None:
    s = SessionStats(
        {"per_class": {"<img src=x>": 1}, "hint": "<b>stop</b>", "model_status": "<i>"}
    )
    assert "<img" not in s.html and "<b>stop" not in s.html and "<i>" not in s.html
    assert "&lt;img src=x&gt;" in s.html


def test_accepts_session_store_stats_as_is(tmp_path: Path) -> None:
    with SessionStore(tmp_path / "s.db", classes=["a", "b"], annotator="ann") as store:
        for i in range(3):
            store.label(i, "a", shown_at=time.time() - 4.0)
        store.label(3, "b", annotator="bob", shown_at=time.time() - 4.0)
        store.skip(4)
        stats = store.stats()
    s = SessionStats({"n_total": 10, "classes": ["a", "b"]})
    s.update(stats)
    text = text_of(s.html)
    assert "4 / 10 labeled" in text
    assert "1 skipped" in text and "per label (median)" in text
    assert "by ann 3, bob 1" in text
    assert 3.9 <= s.state["seconds_per_label"] < 30  # shown 4 s before answering


def test_unknown_key_is_a_clear_error() -> None:
    with pytest.raises(InvalidInputError, match=r"unknown stats key\(s\) \['n_lables'\]"):
        SessionStats().update({"n_lables": 3})


@pytest.mark.parametrize(
    ("stats", "match"),
    [
        ({"n_labeled": -1}, "int >= 0"),
        ({"n_total": 2.5}, "int >= 0"),
        ({"n_labeled": True}, "int >= 0"),
        ({"labels_per_minute": "fast"}, "must be a number"),
        ({"hint": 3}, "must be a str"),
        ({"per_class": {"a": -2}}, "count >= 0"),
        ({"per_class": [1, 2]}, "count >= 0"),
        ({"classes": "ab"}, "list of classes"),
    ],
)
def test_bad_values_are_rejected_and_state_unchanged(stats: dict[str, Any], match: str) -> None:
    s = SessionStats({"n_labeled": 4})
    before = s.html
    with pytest.raises(InvalidInputError, match=match):
        s.update({"n_skipped": 1, **stats})
    assert s.html == before and "n_skipped" not in s.state


def test_every_documented_key_is_accepted() -> None:
    samples: dict[str, Any] = {
        "per_class": {"x": 1},
        "per_annotator": {"a": 1},
        "classes": ["x"],
        "model_version": 3,
        "stability": {"sentence": "predictions still changing", "holds": False},
        "prequential": {"sentence": "matched on 5 of the last 6 labels"},
    }
    s = SessionStats()
    for key in STATS_KEYS:
        text_keys = {"model_status", "metric", "hint", "review", "team", "suggestions"}
        value = samples.get(key, "text" if key in text_keys else 1)
        s.update({key: value})
    assert s.state["n_labeled"] == 1


def test_review_progress_is_shown_and_cleared() -> None:
    s = SessionStats({"review": "review 3 / 10 · 1 changed"})
    assert "review 3 / 10 · 1 changed" in text_of(s.html)
    s.update(review=None)
    assert "review 3" not in s.html


def test_many_classes_use_two_columns() -> None:
    few = SessionStats({"per_class": {str(k): 1 for k in range(6)}})
    many = SessionStats({"per_class": {str(k): 1 for k in range(10)}})
    assert 'class="alw-per-class"' in few.html
    assert 'class="alw-per-class alw-two-col"' in many.html
    assert len(bar_widths(many.html)) == 10


def test_time_to_budget_from_the_pace() -> None:
    s = SessionStats({"n_labeled": 40, "budget": 100, "labels_per_minute": 12.0})
    assert "≈ 5.0 min to budget" in text_of(s.html)
    s.update(n_labeled=100)
    assert "to budget" not in s.html


def test_concurrent_updates_are_serialized() -> None:
    """Four threads each own one number; the panel must end showing every one's last
    value (an update rendered from an older state and written last would lose one)."""
    s = SessionStats({"n_total": 10_000, "per_class": {"a": 0}})
    keys = {"n_labeled": 7000, "n_skipped": 299, "n_unsure": 399, "labels_per_minute": 12.5}

    def work(key: str) -> None:
        for i in range(300):
            s.update({key: keys[key] - 299 + i})  # ends at keys[key]

    threads = [threading.Thread(target=work, args=(k,)) for k in keys]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert {k: s.state[k] for k in keys} == keys
    assert s.html == SessionStats(s.state).html  # what is shown is the final state


def test_stop_signal_prequential_and_suggestions_lines() -> None:
    """The stop signal shows its sentence and the last retrains' κ and changed shares,
    highlighted once it holds; the prequential and suggestions lines are plain text."""
    s = SessionStats()
    changing = {
        "sentence": "predictions still changing: mean κ 0.950 over the last 3 retrains",
        "holds": False,
        "kappas": [0.9, 0.95, float("nan")],
        "changed": [0.05, 0.02, 0.0],
        "n_items": 240,
    }
    s.update(
        stability=changing,
        prequential={"sentence": "the model's suggestion matched your answer on 5 of 6"},
        suggestions="suggestions by zero-shot: the closest class description",
    )
    text = text_of(s.html)
    assert "predictions still changing" in text
    assert "stop set of 240: κ 0.900 · 0.950 · n/a, changed 5.0 % · 2.0 % · 0.0 %" in text
    assert 'data-holds="false"' in s.html
    assert "matched your answer on 5 of 6" in text and "suggestions by zero-shot" in text
    s.update(stability={**changing, "sentence": "predictions stable", "holds": True})
    assert 'data-holds="true"' in s.html and "predictions stable" in text_of(s.html)
    s.update(stability=None, prequential=None, suggestions=None)
    assert "stop set" not in s.html and "matched" not in s.html


@pytest.mark.parametrize("bad", ["stable", {"holds": True}, {"sentence": 3}])
def test_a_report_without_a_sentence_is_rejected(bad: Any) -> None:
    with pytest.raises(InvalidInputError, match="'sentence'"):
        SessionStats().update(stability=bad)
