"""The skip-or-fail rule itself: a skip outside CI, a failure with ``CI=true``."""

from __future__ import annotations

import pytest
from helpers import import_or_skip, in_ci, skip_or_fail_in_ci


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("TRUE", True), (" True ", True), ("false", False), ("", False), ("1", False)],
)
def test_in_ci_reads_both_spellings(
    monkeypatch: pytest.MonkeyPatch, value: str, expected: bool
) -> None:
    monkeypatch.setenv("CI", value)
    assert in_ci() is expected
    monkeypatch.delenv("CI")
    assert in_ci() is False


def test_skips_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="needs node"):
        skip_or_fail_in_ci("needs node")


def test_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match=r"^CI=true but needs node$"):
        skip_or_fail_in_ci("needs node")


def test_import_or_skip(monkeypatch: pytest.MonkeyPatch) -> None:
    assert import_or_skip("json", "stdlib").dumps(1) == "1"
    monkeypatch.setenv("CI", "false")
    with pytest.raises(pytest.skip.Exception, match=r"the 'x' extra .*alw_no_such_module"):
        import_or_skip("alw_no_such_module", "the 'x' extra")
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true but the 'x' extra"):
        import_or_skip("alw_no_such_module", "the 'x' extra")
