"""The README's examples, and the reference scenario of docs/scenarios.md, work as written."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest
import yaml

from scenarios import load_scenario_text, run

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_the_scenario_example_runs_green() -> None:
    block = re.search(r"## A scenario\n\n```yaml\n(.*?)```", README, re.S)
    assert block is not None
    yaml.safe_load(block.group(1))
    (loaded,) = load_scenario_text(block.group(1), "README.md")
    (result,) = run(loaded)
    assert result.messages[-1].text == "Your code: ABC"


def test_the_reference_scenario_of_the_docs_runs_green() -> None:
    # It uses every field; a reader copies it, so it must pass as written.
    docs = (ROOT / "docs" / "scenarios.md").read_text(encoding="utf-8")
    block = re.search(r"## A scenario\n\n```yaml\n(.*?)```", docs, re.S)
    assert block is not None
    (loaded,) = load_scenario_text(block.group(1), "docs/scenarios.md")
    (result,) = run(loaded)
    assert result.state == "finished"
    assert len(result.attempts) == 3


def test_the_quick_start_has_exactly_two_commands() -> None:
    start = README.split("## Quick start", 1)[1].split("```", 2)[1]
    commands = [line for line in start.splitlines() if line.strip()]
    assert [line.split("#")[0].strip() for line in commands] == [
        "python3 tasks.py conformance",
        "python3 tasks.py test",
    ]


def test_tasks_py_names_a_wrong_command(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("tasks", ROOT / "tasks.py")
    assert spec is not None
    assert spec.loader is not None
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    assert tasks.main(["conformence"]) == 2
    expected = "expected a command, conformance, test or lowest; got 'conformence'"
    assert expected in capsys.readouterr().err
    assert tasks.main(["--help"]) == 0
    assert "python3 tasks.py conformance" in capsys.readouterr().out
