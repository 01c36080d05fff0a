"""While a labeler is open, full garbage collections skip the kernel's older objects."""

from __future__ import annotations

import gc

import pytest

from alwidgets.app import _heap


@pytest.fixture(autouse=True)
def _no_frozen_objects(monkeypatch):
    """Each test starts with nothing frozen and no holder (a labeler an earlier test in
    this worker left open would hold the heap frozen)."""
    monkeypatch.setattr(_heap, "_holders", 0)
    monkeypatch.setattr(_heap, "_ours", True)
    gc.unfreeze()
    yield
    gc.unfreeze()


def test_a_labeler_freezes_the_older_objects_and_close_gives_them_back(make_labeler) -> None:
    older = [{"n": i} for i in range(1000)]  # a kernel's objects from before the labeler
    first = make_labeler()
    frozen = gc.get_freeze_count()
    assert frozen >= len(older)
    second = make_labeler()  # a second labeler: its own objects too
    assert gc.get_freeze_count() > frozen
    first.close()
    assert gc.get_freeze_count() > 0  # the second one still labels
    second.close()
    assert gc.get_freeze_count() == 0


def test_a_process_that_froze_objects_itself_keeps_them_frozen() -> None:
    gc.freeze()
    mine = gc.get_freeze_count()
    _heap.hold()
    _heap.release()
    assert gc.get_freeze_count() >= mine


def test_cyclic_garbage_frozen_with_a_labeler_is_collected_after_close(make_labeler) -> None:
    import weakref

    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle: only the cycle collector frees it
    ref = weakref.ref(a)
    lab = make_labeler()
    del a, b
    gc.collect()
    assert ref() is not None  # frozen with the labeler: kept while it is open
    lab.close()
    gc.collect()
    assert ref() is None
