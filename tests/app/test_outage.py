"""The real PostgreSQL server goes away while a labeler works: a retrain that ends during
the outage, key presses given during it, leases that lapse during it. The suite's server
is paused and resumed with ``scripts/pg_cluster.py`` (``pg_ctl stop -m fast``/start)."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from app_helpers import front_end, needs
from sklearn.linear_model import LogisticRegression

from alwidgets.app import ActiveLabeler
from alwidgets.store import SessionStore

SCRIPT = Path(__file__).parents[2] / "scripts" / "pg_cluster.py"


class SlowFit(LogisticRegression):
    """A real classifier whose fit takes a while (long enough to stop the server in it)."""

    def __init__(self, max_iter: int = 200, pause: float = 3.0) -> None:
        super().__init__(max_iter=max_iter)
        self.pause = pause

    def fit(self, X, y, sample_weight=None):  # type: ignore[no-untyped-def,override]
        time.sleep(self.pause)
        return super().fit(X, y, sample_weight)


@pytest.fixture
def server() -> Iterator[dict[str, Any]]:
    """A fresh session on the suite's server, and ``switch("pause" | "resume")``."""
    url, data = needs("ALW_DATABASE_URL"), needs("ALW_PGDATA")
    session = f"outage{uuid.uuid4().hex[:10]}"
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


def _wait_for(check: Callable[[], bool], timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_retrain_that_ends_while_the_server_is_away_does_not_stop_retraining(
    make_labeler: Callable[..., ActiveLabeler], digits: Any, server: dict[str, Any]
) -> None:
    _, y, _ = digits
    switch = server.pop("switch")
    lab = make_labeler(annotator="ana", estimator=SlowFit(), retrain_every=0, **server)
    for item in lab.batch:
        lab.label(item, int(y[item]))
    lab.retrain()  # a 3 s fit: the server goes away during it
    running = lab._ctl.job_event()
    assert running is not None
    switch("pause")
    try:
        assert running.wait(120)  # applied: its curve point could not be logged
        assert lab._ctl.job_event() is None  # the scheduler is free again
        status = lab.batch_widget.status
        assert status["state"] == "error" and "curve point was not saved" in status["detail"]
        assert lab.model_version == 1  # the model itself is in use
    finally:
        switch("resume")
    new = next(i for i in lab.batch if not lab._ctl.mirror.handled[lab._ctl.mirror.pos(i)])
    lab.label(new, int(y[new]))
    lab.retrain(wait=True, timeout=120)
    assert lab.model_version == 2 and lab.last_error is None
    assert lab.learning_curve["n_labels"].tolist() == [5]  # v2's point; v1's was lost
    assert "curve point" not in lab.batch_widget.status.get("detail", "")


def test_key_presses_during_a_pause_mid_run_are_saved_once_each(
    make_labeler: Callable[..., ActiveLabeler], digits: Any, server: dict[str, Any]
) -> None:
    """A person keeps pressing keys while the server stops and starts again: every
    answer is kept ("not saved") and then saved once, in order; none is refused."""
    _, y, _ = digits
    switch = server.pop("switch")
    lab = make_labeler(annotator="ana", batch_size=8, retrain_every=0, **server)
    w = lab.batch_widget
    pressed: list[int] = []
    done = threading.Event()

    def person() -> None:  # one key every 0.4 s, whatever the server does
        for seq in range(1, 15):
            # the front end runs ahead to the prefetched cards when a batch is done
            cards = [*w.cards, *w.next_cards]
            card = next(c for c in cards if c["key"] not in w.answers
                        and int(c["key"]) not in pressed)  # fmt: skip
            pos = int(card["key"])
            pressed.append(pos)
            front_end(w, type="action", seq=seq, action="label", key=str(pos),
                      class_index=int(y[pos]), batch=w.batch_id, seconds=0.4,
                      session="view-mid")  # fmt: skip
            time.sleep(0.4)
        done.set()

    worker = threading.Thread(target=person)
    worker.start()
    _wait_for(lambda: len(pressed) >= 4)
    switch("pause")  # mid-run, longer than the store's own retry (~5 s)
    time.sleep(8)
    switch("resume")
    worker.join(timeout=300)
    assert done.is_set()
    _wait_for(lambda: lab._ctl.unsaved_items() == [], timeout=120)
    replies = [m for m in w.sent if m.get("type") in ("ack", "nack", "unsaved")]
    assert not [m for m in replies if m["type"] == "nack"], replies
    acks = [m["seq"] for m in replies if m["type"] == "ack"]
    assert acks == list(range(1, 15))  # every answer saved, in the order given
    assert [m for m in replies if m["type"] == "unsaved"]  # some waited for the server
    with SessionStore(server["store"], session=server["session"]) as store:
        events = store.events
        assert events["item_id"].tolist() == pressed  # once each, in order
        assert store.labels["label"].to_dict() == {p: int(y[p]) for p in pressed}


def test_leases_lost_in_an_outage_are_taken_back_and_lost_cards_replaced(
    make_labeler: Callable[..., ActiveLabeler], server: dict[str, Any]
) -> None:
    switch = server.pop("switch")
    ana = make_labeler(annotator="ana", lease_seconds=2, **server)
    ana._companion.stop()  # ticks by hand (sync), so the race below is the test's
    ana._companion_thread.join(timeout=30)
    shown = [ana._ctl.mirror.pos(i) for i in ana.batch] + list(ana._ctl.queue.next.positions)
    assert len(shown) == 8
    with SessionStore(server["store"], session=server["session"]) as store:
        assert set(store.claims["item_id"]) == set(shown)
    switch("pause")
    time.sleep(4)  # longer than a lease: every lease lapses
    switch("resume")
    with SessionStore(server["store"], session=server["session"], annotator="bo") as bo:
        taken = bo.claim([shown[1], shown[5]], 2, lease_seconds=60)  # lapsed: free to take
        assert taken == [shown[1], shown[5]]
        ana.sync()  # renew: nothing extended; claim again: 6 of 8 come back
        claims = bo.claims
    mine = set(claims.loc[claims["annotator"] == "ana", "item_id"])
    now = [ana._ctl.mirror.pos(i) for i in ana.batch] + list(ana._ctl.queue.next.positions)
    assert len(now) == 8 and shown[1] not in now and shown[5] not in now  # replaced
    assert set(now) == mine  # and every card on screen or prefetched is leased again
    assert set(shown) - {shown[1], shown[5]} <= mine
    notices = [m["text"] for m in ana.batch_widget.sent if m["type"] == "notice"]
    assert any("a colleague took" in t and repr(shown[1]) in t for t in notices), notices
