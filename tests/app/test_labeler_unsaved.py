"""Answers the store could not take (the PostgreSQL server is down) stay "not saved" and
are saved by themselves, once each and in order, when it is back. Real server: the
suite's cluster (``scripts/pg_cluster.py``), stopped with ``pg_ctl stop -m fast``."""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from app_helpers import front_end, needs

from alwidgets.app import ActiveLabeler
from alwidgets.app._status import UNREACHABLE
from alwidgets.exceptions import StoreError
from alwidgets.store import SessionStore

SCRIPT = Path(__file__).parents[2] / "scripts" / "pg_cluster.py"
VIEW = "view-unsaved"


@pytest.fixture
def server(make_labeler: Callable[..., ActiveLabeler]) -> Iterator[dict[str, Any]]:
    """A labeler's session on the suite's server, and a switch to stop/start it."""
    url, data = needs("ALW_DATABASE_URL"), needs("ALW_PGDATA")
    session = f"unsaved{uuid.uuid4().hex[:10]}"
    down = [False]

    def switch(command: str) -> None:
        subprocess.run([sys.executable, str(SCRIPT), command, data], check=True, timeout=120)
        down[0] = command == "pause"

    yield {"store": url, "session": session, "switch": switch}
    if down[0]:
        switch("resume")
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "alw_{session}" CASCADE')


def _press(labeler: ActiveLabeler, seq: int, pos: int, class_index: int) -> list[dict[str, Any]]:
    """A key press on card ``pos``, shaped as _batch.js sends it; the replies to it."""
    front_end(
        labeler.batch_widget, type="action", seq=seq, action="label", key=str(pos),
        class_index=class_index, batch=labeler.batch_widget.batch_id, seconds=1.0,
        session=VIEW,
    )  # fmt: skip
    return _replies(labeler, seq)


def _replies(labeler: ActiveLabeler, seq: int) -> list[dict[str, Any]]:
    return [m for m in labeler.batch_widget.sent if m.get("seq") == seq]


def _wait_for(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_widget_answers_while_the_server_is_down_are_saved_once_when_it_is_back(
    make_labeler: Callable[..., ActiveLabeler], digits: Any, server: dict[str, Any]
) -> None:
    _, y, _ = digits
    switch = server.pop("switch")
    labeler = make_labeler(annotator="ana", **server)
    batch = [labeler._ctl.mirror.pos(i) for i in labeler.batch]
    assert len(batch) == 4
    first_batch = labeler.batch_widget.batch_id
    assert [m["type"] for m in _press(labeler, 1, batch[0], int(y[batch[0]]))] == ["ack"]
    switch("pause")
    (kept,) = _press(labeler, 2, batch[1], int(y[batch[1]]))  # the store gives up after ~5 s
    assert kept["type"] == "unsaved" and kept["key"] == str(batch[1])
    assert "store unreachable" in kept["error"]
    t0 = time.monotonic()
    (queued,) = _press(labeler, 3, batch[2], int(y[batch[2]]))  # behind it, at once
    assert queued["type"] == "unsaved" and time.monotonic() - t0 < 2.0
    # any other error is still a plain nack: a card that is not in the pool
    front_end(
        labeler.batch_widget, type="action", seq=4, action="label", key="99999",
        class_index=0, batch=labeler.batch_widget.batch_id, seconds=1.0, session=VIEW,
    )  # fmt: skip
    (bad,) = _replies(labeler, 4)
    assert bad["type"] == "nack" and "not in the pool" in bad["error"]
    status = labeler.batch_widget.status
    assert status["state"] == "error" and status["detail"] == f"{UNREACHABLE} · 2 not saved"
    assert labeler._ctl.mirror.n_labeled == 1  # the mirror follows the store: not yet
    # undo is refused while answers are unsaved, from the widget and from Python
    front_end(
        labeler.batch_widget, type="undo", seq=5, key=str(batch[2]), target_seq=3, session=VIEW
    )
    (refused,) = _replies(labeler, 5)
    assert refused["type"] == "nack" and "2 answer(s) are not saved yet" in refused["error"]
    with pytest.raises(StoreError, match="not saved yet"):
        labeler.undo()
    (last,) = _press(labeler, 6, batch[3], int(y[batch[3]]))  # the batch is answered
    assert last["type"] == "unsaved"
    assert labeler.batch_widget.batch_id == first_batch  # the kernel waits for the store
    switch("resume")
    _wait_for(lambda: all(m["type"] == "ack" for s in (2, 3, 6) for m in _replies(labeler, s)[-1:]))
    acks = [m["seq"] for m in labeler.batch_widget.sent if m["type"] == "ack"]
    assert acks == [1, 2, 3, 6]  # in the order they were given
    _wait_for(lambda: labeler.batch_widget.batch_id != first_batch)  # the batch ended as usual
    assert UNREACHABLE not in labeler.batch_widget.status.get("detail", "")
    assert labeler._ctl.unsaved_items() == [] and labeler._ctl.mirror.n_labeled == 4
    with SessionStore(server["store"], session=server["session"]) as store:
        events = store.events
        assert events["item_id"].tolist() == batch  # each once, in order
        assert store.labels["label"].to_dict() == {p: int(y[p]) for p in batch}
    # undo works again: it takes back the last answer given
    assert labeler.undo()["item_id"] == batch[3]


def test_a_python_call_still_raises_and_keeps_nothing(
    make_labeler: Callable[..., ActiveLabeler], digits: Any, server: dict[str, Any]
) -> None:
    _, y, _ = digits
    switch = server.pop("switch")
    labeler = make_labeler(annotator="ana", **server)
    item = labeler.batch[0]
    switch("pause")
    with pytest.raises(StoreError, match="store unreachable"):
        labeler.label(item, int(y[item]))
    assert labeler._ctl.unsaved_items() == []  # the caller decides
    assert labeler.batch_widget.status["detail"] == UNREACHABLE
    switch("resume")
    labeler.label(item, int(y[item]))
    assert labeler.labels.index.tolist() == [item]


def test_close_with_unsaved_answers_warns_tries_once_more_and_names_the_lost(
    make_labeler: Callable[..., ActiveLabeler], digits: Any, server: dict[str, Any]
) -> None:
    _, y, _ = digits
    switch = server.pop("switch")
    labeler = make_labeler(annotator="ana", **server)
    pos = [labeler._ctl.mirror.pos(i) for i in labeler.batch[:2]]
    switch("pause")
    for seq, p in enumerate(pos, start=1):
        assert _press(labeler, seq, p, int(y[p]))[-1]["type"] == "unsaved"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        labeler.close()
    texts = [str(w.message) for w in caught if issubclass(w.category, RuntimeWarning)]
    assert any("closing with 2 answer(s) not saved" in t for t in texts), texts
    lost = [t for t in texts if "could not be saved and are lost" in t]
    assert len(lost) == 1 and all(repr(labeler.ids[p]) in lost[0] for p in pos)
    assert not [m for m in labeler.batch_widget.sent if m["type"] == "ack"]
    switch("resume")
    with SessionStore(server["store"], session=server["session"]) as store:
        assert len(store.events) == 0  # nothing acknowledged, nothing recorded


def test_unsaved_answers_are_saved_at_close_when_the_store_is_back(
    make_labeler: Callable[..., ActiveLabeler], digits: Any, server: dict[str, Any]
) -> None:
    _, y, _ = digits
    switch = server.pop("switch")
    labeler = make_labeler(annotator="ana", **server)
    p = labeler._ctl.mirror.pos(labeler.batch[0])
    switch("pause")
    assert _press(labeler, 1, p, int(y[p]))[-1]["type"] == "unsaved"
    switch("resume")
    with warnings.catch_warnings():  # "closing with 1 answer(s) not saved yet" if close
        warnings.simplefilter("ignore", RuntimeWarning)  # comes before the retry
        labeler.close()  # whoever writes it (the retry or close), it is written once
    assert _replies(labeler, 1)[-1]["type"] == "ack"
    with SessionStore(server["store"], session=server["session"]) as store:
        assert store.events["item_id"].tolist() == [p]
        assert np.array_equal(store.labels.index.to_numpy(), [p])
