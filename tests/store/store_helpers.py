"""Helpers of the store tests: where a test session lives, the test server, team checks."""

from __future__ import annotations

import json
import os
import uuid
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from helpers import skip_or_fail_in_ci

from alwidgets.store import SessionStore


def database_url() -> str:
    """The test server's URL (``ALW_DATABASE_URL``); skip without it, fail in CI."""
    url = os.environ.get("ALW_DATABASE_URL")
    reason = ""
    if not url:
        reason = (
            "needs a PostgreSQL server: ALW_DATABASE_URL is not set (`make test` starts one; "
            'by hand: eval "$(python scripts/pg_cluster.py start)")'
        )
    else:
        try:
            import psycopg  # noqa: F401
        except ImportError:
            reason = 'needs psycopg: pip install "alwidgets[postgres]"'
    if reason:
        skip_or_fail_in_ci(reason)
    assert url is not None
    return url


def drop_session(session: str) -> None:
    """Remove a test session's schema from the test server."""
    import psycopg
    from psycopg import sql

    with psycopg.connect(database_url(), autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(f"alw_{session}"))
        )


class Target:
    """Where a test's session lives: a file, or a fresh session on the test server.

    ``open(**kwargs)`` opens (or reopens) that session; ``fresh()`` makes another.
    """

    def __init__(self, backend: str, directory: Path) -> None:
        self.backend, self.directory = backend, directory
        self.session: str | None = None
        if backend == "sqlite":
            self.target: Any = directory / f"s{uuid.uuid4().hex[:8]}.db"
        else:
            self.target = database_url()
            self.session = f"t{uuid.uuid4().hex[:16]}"
        self.children: list[Target] = []

    def open(self, **kwargs: Any) -> SessionStore:
        return SessionStore(self.target, session=self.session, **kwargs)

    def fresh(self) -> Target:
        self.children.append(Target(self.backend, self.directory))
        return self.children[-1]

    def cleanup(self) -> None:
        for child in self.children:
            child.cleanup()
        if self.session is not None:
            drop_session(self.session)


def team_env(
    monkeypatch: pytest.MonkeyPatch,
    directory: Path,
    session: str | None,
    items: int,
    overlap: int,
    lease: float,
) -> Path:
    """Set what ``store_writer.py team`` reads; return the file that starts the writers."""
    go = directory / f"go-{session or 'file'}"
    monkeypatch.setenv("ALW_TEST_SESSION", session or "")
    monkeypatch.setenv("ALW_TEST_OVERLAP", str(overlap))
    monkeypatch.setenv("ALW_TEST_LEASE", str(lease))
    monkeypatch.setenv("ALW_TEST_ITEMS", str(items))
    monkeypatch.setenv("ALW_TEST_GO", str(go))
    return go


def acknowledged(lines: list[str]) -> list[tuple[int, Any]]:
    """``(event id, item)`` of every label a team writer printed as acknowledged."""
    out = []
    for line in lines:
        if line.startswith("E "):
            _, event_id, _, item = line.split(" ", 3)
            out.append((int(event_id), json.loads(item)))
    return out


def check_team(
    store: SessionStore, acked: dict[str, list[tuple[int, Any]]], overlap: int, *, killed: int = 0
) -> dict[Any, list[str]]:
    """Every acknowledged label is stored; at most ``killed`` more (committed, then killed
    before it could print); no item has more than ``overlap`` labels, one per person."""
    events = store.events
    assert not events.index.duplicated().any()
    for name, pairs in acked.items():  # every acknowledged label is there, as acknowledged
        for event_id, item in pairs:
            assert events.loc[event_id, "item_id"] == item
            assert events.loc[event_id, "annotator"] == name
    labeled: dict[Any, list[str]] = defaultdict(list)
    for item, who in zip(events["item_id"], events["annotator"], strict=True):
        labeled[item].append(who)
    n_acked = sum(len(p) for p in acked.values())
    assert n_acked <= len(events) <= n_acked + killed
    for who in labeled.values():
        assert len(who) == len(set(who)) <= overlap  # k labels from k different people
    return labeled


def finish_team(names: list[str], writers: list[Any]) -> dict[str, list[tuple[int, Any]]]:
    """Wait for every team writer to finish cleanly; their acknowledged labels by name."""
    acked = {}
    for name, writer in zip(names, writers, strict=True):
        lines, err = writer.finish(timeout=300)
        assert writer.proc.returncode == 0, err
        assert lines[-1] == "DONE"
        acked[name] = acknowledged(lines)
    return acked


def apply_ops(store: SessionStore, ops: list[tuple[Any, ...]], check: Any = None) -> None:
    """Run ``(action, item, label, annotator[, read])`` ops; ``check(store)`` after reads."""
    import warnings

    from alwidgets.store import NothingToUndoWarning

    for action, item, label, who, *read in ops:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NothingToUndoWarning)
            if action == "undo":
                store.undo(annotator=who)
            elif action == "label":
                store.label(item, label, annotator=who)
            else:
                getattr(store, action)(item, annotator=who)
        if read and read[0] and check is not None:  # patched incrementally from here on
            check(store)
