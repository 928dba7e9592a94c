"""Golden text: a failing scenario's report keeps its shape.

Regenerate after an intended change with ``UPDATE_GOLDEN=1 pytest tests/test_sc_golden.py``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

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


@pytest.mark.parametrize(
    ("expected", "table"),
    [
        pytest.param(
            ["one", "two"],
            ["#  expected     actual", "1  equal 'one'  'one'", "2  equal 'two'  (none)  <<<<<"],
            id="a-message-short",
        ),
        pytest.param(
            [],
            ["#  expected  actual", "1  (none)    'one'  <<<<<"],
            id="a-message-too-many",
        ),
        pytest.param(
            [{"regex": "^t"}],
            ["#  expected    actual", "1  regex '^t'  'one'  <<<<<"],
            id="a-message-differs",
        ),
    ],
)
def test_messages_are_compared_row_by_row(expected: list[object], table: list[str]) -> None:
    # The flow pauses at the webhook (no stub answers it), so its second message is never
    # sent: a run sends fewer messages than the flow has (more than it has is refused).
    flow = [
        {"message": "one"},
        {"webhook": {"url": "{mock.url}/none", "method": "GET"}},
        {"message": "two"},
    ]
    scenario = {"name": "m", "flow": flow, "expect": {"messages": expected}}
    with pytest.raises(ScenarioFailed) as caught:
        run(scenario)
    report = str(caught.value)
    wrong = sum(line.endswith("<<<<<") for line in table)
    assert f"expect.messages: expected {len(expected)} message(s), got 1; {wrong} differ" in report
    lines = [line.strip() for line in report.splitlines()]
    start = lines.index(table[0])
    assert lines[start : start + len(table)] == table


@pytest.mark.parametrize(
    ("report", "shown"),
    [
        pytest.param({"ok": True, "status": 201}, "201", id="success"),
        pytest.param(
            {"ok": False, "status": 503, "error": "status 503", "error_kind": "status"},
            "503",
            id="status",
        ),
        pytest.param(
            {
                "ok": False,
                "error": "timeout: no answer within 1 s",
                "error_kind": "timeout",
            },
            "timeout: no answer within 1 s",
            id="kind-already-said",
        ),
        pytest.param(
            {"ok": False, "error": "connection dropped: reset", "error_kind": "disconnect"},
            "disconnect: connection dropped: reset",
            id="kind-added",
        ),
        pytest.param({"ok": False}, "error: ", id="nothing-said"),
    ],
)
def test_an_attempt_reads_as_its_status_or_its_error_once(
    report: dict[str, Any], shown: str
) -> None:
    from datetime import datetime, timedelta, timezone

    from scenarios.implementations import AttemptReport
    from scenarios.results import AttemptRecord

    at = datetime(2026, 1, 1, tzinfo=timezone.utc)
    record = AttemptRecord(0, 1, at, timedelta(0), AttemptReport(**report))
    assert record.summary() == shown


def test_a_structured_variable_that_differs_is_shown_where_it_differs() -> None:
    expected = {f"k{i}": i for i in range(10)} | {"deep": {"list": [1, 2]}}
    actual = {f"k{i}": i + (i < 9) for i in range(10)} | {"deep": {"list": [1, 3]}}
    scenario = {
        "name": "v",
        "variables": {"r": actual},
        "flow": [{"message": "x"}],
        "expect": {"variables": {"r": {"equal": expected}}},
    }
    with pytest.raises(ScenarioFailed) as caught:
        run(scenario)
    report = str(caught.value)
    assert "variable r: 10 place(s) differ from what was expected" in report
    rows = [line.split() for line in report.splitlines()]
    assert ["r.k0", "equal", "0", "1", "<<<<<"] in rows
    assert ["r.k7", "equal", "7", "8", "<<<<<"] in rows
    assert ["r", "and", "2", "more", "difference(s)", "<<<<<"] in rows  # k8 and deep.list.1
    assert not any(row[:1] == ["r.k9"] for row in rows)  # k9 is the same


@pytest.mark.parametrize("source", [5, [], None])
def test_run_names_what_it_takes(source: object) -> None:
    with pytest.raises(TypeError, match=r"run\(\) takes a scenario as a dict, a \*\.scenario"):
        run(source)  # type: ignore[arg-type]
