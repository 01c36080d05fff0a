"""Team sessions: durable label latency on PostgreSQL, team throughput, claims under load.

Baselines measured in the same run:

* latency — a raw ``INSERT`` + ``COMMIT`` of the same row through the same driver
  (psycopg 3, one connection, a plain table with no triggers) on the same server, and
  the SQLite store (``synchronous=FULL``) on the local disk; the PostgreSQL store both
  as a lone labeler writes and as a team member does (``overlap=1``, leases held: the
  claim check, the renewal and the lease deletion in the same round trip);
* throughput and claim time — the same annotator loop with 1 process (no contention).

Uses the server in ``ALW_DATABASE_URL`` or starts a throwaway one with
``scripts/pg_cluster.py`` (and stops it afterwards).
"""

from __future__ import annotations

import contextlib
import importlib.util
import multiprocessing as mp
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from alwidgets.store import SessionStore
from benchmarks._common import md_table, percentiles

CLASSES = ["neg", "pos"]
BATCH = 5


@contextlib.contextmanager
def _server() -> Iterator[str]:
    url = os.environ.get("ALW_DATABASE_URL")
    if url:
        yield url
        return
    path = Path(__file__).parents[1] / "scripts" / "pg_cluster.py"
    spec = importlib.util.spec_from_file_location("pg_cluster", path)
    assert spec is not None and spec.loader is not None
    cluster = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cluster)
    url, data = cluster.start()
    try:
        yield url
    finally:
        cluster.stop(data)


def _drop(url: str, session: str) -> None:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "alw_{session}" CASCADE')


def _latencies(url: str, tmp: Path, n: int) -> dict[str, list[float]]:
    """Seconds per durable label: PG store, raw psycopg INSERT+COMMIT, SQLite store."""
    import psycopg
    from psycopg.types.json import Jsonb

    session = f"bench{uuid.uuid4().hex[:8]}"
    pg = SessionStore(url, session=session, classes=CLASSES, annotator="bench")
    checked_session = f"bench{uuid.uuid4().hex[:8]}"
    team = SessionStore(url, session=checked_session, classes=CLASSES, annotator="bench")
    team.claim(range(8), 8, lease_seconds=3600.0)  # a batch on screen: writes renew it
    lite = SessionStore(tmp / "bench.db", classes=CLASSES, annotator="bench")
    raw = psycopg.connect(url, autocommit=True)
    table = f"raw_{session}"
    raw.execute(
        f"CREATE TABLE {table} (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, "
        "item_id jsonb NOT NULL, label jsonb, annotator text NOT NULL, answered_at float8)"
    )
    out: dict[str, list[float]] = {"store": [], "checked": [], "raw": [], "sqlite": []}
    rng = np.random.default_rng(0)
    items = rng.integers(0, 10 * n, size=n).tolist()
    block = 100  # interleave so server and disk noise hit all three alike
    try:
        for start in range(0, n, block):
            for item in items[start : start + block]:
                t0 = time.perf_counter()
                pg.label(item, "pos")
                out["store"].append(time.perf_counter() - t0)
            for item in items[start : start + block]:
                t0 = time.perf_counter()
                team.label(item, "pos", overlap=1)
                out["checked"].append(time.perf_counter() - t0)
            for item in items[start : start + block]:
                t0 = time.perf_counter()
                with raw.transaction():
                    raw.execute(
                        f"INSERT INTO {table} (item_id, label, annotator, answered_at) "
                        "VALUES (%s, %s, %s, %s)",
                        (Jsonb(item), Jsonb("pos"), "bench", time.time()),
                    )
                out["raw"].append(time.perf_counter() - t0)
            for item in items[start : start + block]:
                t0 = time.perf_counter()
                lite.label(item, "pos")
                out["sqlite"].append(time.perf_counter() - t0)
    finally:
        raw.execute(f"DROP TABLE {table}")
        raw.close()
        pg.close()
        team.close()
        lite.close()
        _drop(url, session)
        _drop(url, checked_session)
    return out


def _annotator(
    target: str, session: str | None, name: str, batches: int, pool: int, go: float, queue: Any
) -> None:
    """One annotator process: claim a batch of the ranking, label it (``overlap=1``: the
    claim is enforced at write), repeat."""
    from alwidgets.exceptions import LabelConflictError

    store = SessionStore(target, session=session, classes=CLASSES, annotator=name)
    while time.time() < go:
        time.sleep(0.0005)
    claim_s, acked = [], []
    ranking = list(range(pool))
    for _ in range(batches):
        t0 = time.perf_counter()
        batch = store.claim(ranking, BATCH)
        claim_s.append(time.perf_counter() - t0)
        for item in batch:
            try:
                acked.append((store.label(item, CLASSES[item % 2], overlap=1), item))
            except LabelConflictError as err:  # none expected: leases last 300 s
                acked.append((err.event_id, item))
    queue.put((name, claim_s, acked, time.time()))
    store.close()


def _team(target: str, session: str | None, n_proc: int, batches: int, pool: int) -> dict:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    SessionStore(target, session=session, classes=CLASSES).close()
    go = time.time() + 3.0  # every process started and connected by then
    procs = [
        ctx.Process(target=_annotator, args=(target, session, f"a{i}", batches, pool, go, queue))
        for i in range(n_proc)
    ]
    for proc in procs:
        proc.start()
    results = [queue.get(timeout=600) for _ in procs]
    for proc in procs:
        proc.join(timeout=60)
    wall = max(r[3] for r in results) - go
    acked = {name: pairs for name, _, pairs, _ in results}
    with SessionStore(target, session=session) as store:
        events = store.events
    lost = sum(
        1 for pairs in acked.values() for eid, item in pairs if eid not in events.index
    ) + sum(  # or stored under another item
        1
        for pairs in acked.values()
        for eid, item in pairs
        if eid in events.index and events.loc[eid, "item_id"] != item
    )
    double = int(events.loc[events["action"] == "label", "item_id"].duplicated().sum())
    conflicts = int((events["action"] == "conflict").sum())
    n_labels = sum(len(p) for p in acked.values())
    claims = [s for _, c, _, _ in results for s in c]
    return {
        "labels": n_labels,
        "per_s": n_labels / wall,
        "lost": lost,
        "double": double,
        "conflicts": conflicts,
        "claim": percentiles(claims),
    }


def main(quick: bool = False) -> str:
    n = 200 if quick else 2000
    batches = 4 if quick else 20
    pool = 2000
    with _server() as url, tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        lat = _latencies(url, tmp, n)
        team_rows = []
        for backend in ("postgresql", "sqlite"):
            for n_proc in (1, 4, 8):
                if backend == "postgresql":
                    session: str | None = f"team{uuid.uuid4().hex[:8]}"
                    target = url
                else:
                    session, target = None, str(tmp / f"team{n_proc}.db")
                result = _team(target, session, n_proc, batches, pool)
                if session is not None:
                    _drop(url, session)
                team_rows.append((backend, n_proc, result))
    base = {b: r["per_s"] for b, p, r in team_rows if p == 1}
    raw50, raw95 = percentiles(lat["raw"])
    lines = [
        "## Team sessions (PostgreSQL store)",
        "",
        f"Durable label latency, {n} labels each, interleaved in blocks of 100 (local "
        "PostgreSQL 15 on 127.0.0.1, `fsync` on; SQLite on the local disk, "
        "`synchronous=FULL`). Raw = `INSERT` + `COMMIT` of the same row through psycopg 3 "
        "into a table without triggers. `overlap=1`: the team write (claim check, renewal "
        "of the writer's 8 leases, lease deletion on the filled item; one round trip).",
        "",
        md_table(
            ["write", "p50 ms", "p95 ms", "p50 / raw", "p95 / raw"],
            [
                (name, p50 * 1e3, p95 * 1e3, p50 / raw50, p95 / raw95)
                for name, (p50, p95) in (
                    ("PostgreSQL store `label()`", percentiles(lat["store"])),
                    (
                        "PostgreSQL store `label(..., overlap=1)`, leases held",
                        percentiles(lat["checked"]),
                    ),
                    ("raw psycopg INSERT+COMMIT", (raw50, raw95)),
                    ("SQLite store `label()`", percentiles(lat["sqlite"])),
                )
            ],
        ),
        "",
        f"Team throughput: N annotator processes at once, each {batches} batches of "
        f"{BATCH} claimed from the same ranking of {pool} items (overlap 1) and labeled "
        "with `overlap=1` and no think time; claim = time to get a batch (p50/p95).",
        "",
        md_table(
            [
                "store",
                "annotators",
                "labels",
                "labels/s",
                "× 1 annotator",
                "claim p50 ms",
                "claim p95 ms",
                "lost",
                "double-labeled",
                "conflicts",
            ],
            [
                (
                    backend,
                    n_proc,
                    r["labels"],
                    r["per_s"],
                    r["per_s"] / base[backend],
                    r["claim"][0] * 1e3,
                    r["claim"][1] * 1e3,
                    r["lost"],
                    r["double"],
                    r["conflicts"],
                )
                for backend, n_proc, r in team_rows
            ],
        ),
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(main(quick=True))
