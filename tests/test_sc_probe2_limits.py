"""A scenario's run keeps a bounded amount of text: every message is bounded, and so is the
sum of them (a flow of thousands of long messages kept gigabytes)."""

from __future__ import annotations

import pytest

from scenarios import ScenarioError, run
from scenarios.runner import MAX_RUN_TEXT
from webhook_core import MAX_RENDERED_BYTES

ANSWER = "x" * (1024 * 1024)


def test_the_run_stops_at_the_block_that_passes_the_limit() -> None:
    per_block = 4 * len(ANSWER)
    assert per_block <= MAX_RENDERED_BYTES
    blocks = MAX_RUN_TEXT // per_block  # the last block that still fits
    flow = [{"message": "{r}{r}{r}{r}"}] * (blocks + 5)
    with pytest.raises(ScenarioError) as caught:
        run({"name": "long", "variables": {"r": ANSWER}, "flow": flow})
    assert str(caught.value).startswith(f"flow[{blocks}]: the run's messages and set values")
    assert "64 MiB" in str(caught.value)


def test_set_values_count_too() -> None:
    flow = [{"set": {"name": f"v{i}", "value": "{r}{r}{r}{r}"}} for i in range(20)]
    with pytest.raises(ScenarioError, match=r"^flow\[16\]: the run's messages"):
        run({"name": "sets", "variables": {"r": ANSWER}, "flow": flow})


def test_a_run_under_the_limit_keeps_everything() -> None:
    (result,) = run({"name": "fits", "variables": {"r": ANSWER}, "flow": [{"message": "{r}"}] * 10})
    assert [len(message.text) for message in result.messages] == [len(ANSWER)] * 10
