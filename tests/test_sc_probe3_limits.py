"""A scenario run's bound on what it keeps is in bytes of UTF-8 (it counted characters:
64 Mi Cyrillic characters are 128 MiB) and in entries (the missing references of a
message were kept without a count)."""

from __future__ import annotations

import pytest

import scenarios.runner as runner_module
from scenarios import ScenarioError, run


def test_the_run_bound_counts_bytes_of_utf8(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "MAX_RUN_TEXT", 100)
    flow = [{"message": "я" * 30}, {"message": "я" * 30}]  # 60 characters, 120 bytes
    with pytest.raises(ScenarioError, match=r"^flow\[1\]: the run's messages"):
        run({"name": "cyrillic", "flow": flow})


def test_missing_references_are_bounded_in_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runner_module, "MAX_RUN_ENTRIES", 10)
    flow = [{"message": "{a}{b}{c}{d}"}] * 5
    with pytest.raises(ScenarioError, match=r"^flow\[2\]: the run keeps at most 10 "):
        run({"name": "missing", "flow": flow})


def test_a_run_within_both_bounds_is_unchanged() -> None:
    (result,) = run({"name": "fits", "flow": [{"message": "я {a}"}] * 3})
    assert [message.text for message in result.messages] == ["я "] * 3
    assert result.missing == ["a", "a", "a"]
