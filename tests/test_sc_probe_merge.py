"""``python -m scenarios.merge`` given reports that are not what ``--conformance-json`` writes:
one line naming the file and the field, exit 2, never a traceback or a made-up verdict."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scenarios import merge

GOOD: dict[str, Any] = {
    "format": 2,
    "implementation": "x",
    "scenarios": {"a.scenario.yaml::a": {"rules": ["E1"], "outcome": "passed"}},
}


def _merge(tmp_path: Path, report: Any, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    path = tmp_path / "r.json"
    path.write_text(report if isinstance(report, str) else json.dumps(report), encoding="utf-8")
    code = merge.main([str(path)])
    captured = capsys.readouterr()
    return code, captured.err


def _entry(**fields: Any) -> dict[str, Any]:
    return {**GOOD, "scenarios": {"a": {"rules": ["E1"], "outcome": "passed", **fields}}}


@pytest.mark.parametrize(
    ("report", "says"),
    [
        pytest.param("[" * 100_000, "nested too deeply", id="deep"),
        pytest.param({**GOOD, "selected": 5}, "selected: expected a list of rule", id="sel-int"),
        pytest.param({**GOOD, "selected": "E1"}, "selected: expected a list", id="sel-text"),
        pytest.param({**GOOD, "capabilities": 5}, "capabilities: expected an object", id="caps"),
        pytest.param(_entry(not_judged=5), "scenarios['a']: expected", id="not-judged-int"),
        pytest.param(_entry(not_judged="E1"), "scenarios['a']: expected", id="not-judged-text"),
        pytest.param(_entry(rules=["Z9"]), "scenarios['a']: expected", id="unknown-rule"),
        pytest.param(_entry(outcome="bogus"), "outcome: one of", id="unknown-outcome"),
    ],
)
def test_a_report_of_the_wrong_shape_is_named_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], report: Any, says: str
) -> None:
    code, err = _merge(tmp_path, report, capsys)
    assert code == 2
    (line,) = err.splitlines()
    assert line.startswith(f"scenarios.merge: {tmp_path / 'r.json'}: ")
    assert says in line


def test_a_report_over_the_size_limit_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(merge, "MAX_REPORT_BYTES", 10)
    code, err = _merge(tmp_path, GOOD, capsys)
    assert code == 2
    assert "over the 10 bytes a report may have" in err
    assert "not JSON" not in err


def test_a_good_report_still_merges(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _merge(tmp_path, _entry(not_judged=[]), capsys)
    assert (code, err) == (0, "")


def test_a_report_that_never_ends_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its size (0) was checked, then it was read until memory ran out.
    monkeypatch.setattr(merge, "MAX_REPORT_BYTES", 1000)
    endless = tmp_path / "zero.json"
    endless.symlink_to("/dev/zero")
    assert merge.main([str(endless)]) == 2
    assert "over the 1000 bytes a report may have" in capsys.readouterr().err
