"""Golden text: a failing scenario's report keeps its shape.

Regenerate after an intended change with ``UPDATE_GOLDEN=1 pytest tests/test_sc_golden.py``.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scenarios import ScenarioFailed, load_scenario_file, run

GOLDEN = Path(__file__).parent / "golden"


def test_failure_report() -> None:
    source = GOLDEN / "failing_scenarios.yaml"
    (loaded,) = load_scenario_file(source)
    with pytest.raises(ScenarioFailed) as caught:
        run(loaded)
    report = caught.value.report.replace(str(source), "FILE")
    expected = GOLDEN / "failing_scenarios.txt"
    if os.environ.get("UPDATE_GOLDEN"):
        expected.write_text(report, encoding="utf-8")
    assert report == expected.read_text(encoding="utf-8")
    assert [failure.field for failure in caught.value.failures] == [
        "expect.requests[0]",
        "expect.messages",
        "expect.variables.result.code",
        "expect.attempts",
    ]
