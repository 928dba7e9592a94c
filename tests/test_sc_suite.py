"""The conformance suite itself: every rule pinned, the schema current and valid."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
import yaml

from scenarios import ScenarioFileError, load_scenario_file
from scenarios.docgen import render_section
from scenarios.schema import SCHEMA_PATH, render
from scenarios.summary import RULES

ROOT = Path(__file__).resolve().parent.parent
CONFORMANCE = ROOT / "scenarios" / "conformance"
FILES = sorted(CONFORMANCE.glob("*.scenario.yaml"))
ALL_FILES = sorted((ROOT / "scenarios").rglob("*.scenario.yaml"))


def all_scenarios() -> list:  # type: ignore[type-arg]
    return [loaded for path in FILES for loaded in load_scenario_file(path)]


def test_every_rule_has_a_scenario() -> None:
    pinned = {rule for loaded in all_scenarios() for rule in loaded.scenario.rules}
    assert [rule for rule in RULES if rule not in pinned] == []


def test_every_rule_of_the_contract_is_known() -> None:
    semantics = (ROOT / "docs" / "semantics.md").read_text(encoding="utf-8")
    assert set(re.findall(r"^\| ([A-F]\d) \|", semantics, flags=re.MULTILINE)) == set(RULES)


def test_each_source_example_is_a_scenario_of_its_own() -> None:
    names = [loaded.scenario.name for loaded in all_scenarios()]
    examples = [name for name in names if name.startswith("source example")]
    assert any("user and group" in name for name in examples)
    assert any("promo code" in name for name in examples)
    assert any("retries at 5 s, 30 s, 1 min, 30 min, 2 h" in name for name in examples)


def test_negative_scenarios_exist() -> None:
    assert sum(loaded.scenario.expect_failure is not None for loaded in all_scenarios()) >= 3


def test_semantics_lists_the_scenarios_of_each_rule() -> None:
    semantics = (ROOT / "docs" / "semantics.md").read_text(encoding="utf-8")
    assert semantics.endswith(render_section()), "run: python -m scenarios.docgen"


def test_schema_is_current() -> None:
    assert SCHEMA_PATH.read_text(encoding="utf-8") == render(), "run: python -m scenarios.schema"


def test_the_schema_command_writes_checks_and_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from scenarios.schema import main

    target = tmp_path / "editor" / "scenario.schema.json"
    assert main(["--output", str(target)]) == 0
    assert target.read_text(encoding="utf-8") == render()
    assert main(["-o", "-"]) == 0
    assert json.loads(capsys.readouterr().out) == json.loads(render())
    assert main(["--check"]) == 0
    assert main(["-o", str(tmp_path / "file" / "x.json")]) == 0
    (tmp_path / "blocker").write_text("")
    assert main(["-o", str(tmp_path / "blocker" / "x.json")]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_the_schema_check_fails_on_a_stale_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from scenarios import schema

    stale = tmp_path / "scenario.schema.json"
    stale.write_text("{}\n")
    monkeypatch.setattr(schema, "SCHEMA_PATH", stale)
    assert schema.main(["--check"]) == 1
    assert "is stale" in capsys.readouterr().err


def test_schema_is_a_valid_json_schema() -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("path", ALL_FILES, ids=[path.name for path in ALL_FILES])
def test_conformance_files_are_valid_under_the_schema(path: Path) -> None:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
        jsonschema.validate(document, schema)
    assert path.read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=../schema/scenario.schema.json"
    )


def test_check_jsonschema_accepts_every_file() -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--schemafile",
            str(SCHEMA_PATH),
            *map(str, ALL_FILES),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("method", ["GET", "get", "JSON POST", "json_post", "Json Post", "delete"])
def test_the_schema_takes_every_spelling_of_a_method_the_loader_takes(
    tmp_path: Path, method: str
) -> None:
    path = tmp_path / "ok.scenario.yaml"
    path.write_text(
        f"scenarios:\n  - {{name: x, flow: [{{webhook: {{url: u, method: {method}}}}}]}}\n"
    )
    load_scenario_file(path)
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param("{name: x, flow: [{mesage: hi}]}", id="unknown-field"),
        pytest.param("{name: x, flow: [{message: hi}], marks: ['skip(reason=1)']}", id="mark"),
        pytest.param("{name: x, flow: [{message: hi}], marks: [{a: 1, b: 2}]}", id="mark-args"),
        pytest.param("{name: x, flow: [{message: hi}], rules: [Z9]}", id="rule-id"),
        pytest.param("{name: x, flow: [{message: hi}], rules: [A9]}", id="rule-not-in-contract"),
        pytest.param("{name: x, flow: [{message: hi}], rules: [b1]}", id="rule-lower-case"),
        pytest.param("{name: x, flow: [{message: hi}], parametrize: {}}", id="empty-grid"),
        pytest.param("{name: x, flow: [{webhook: {url: u, method: FETCH}}]}", id="method"),
        pytest.param("{name: x, flow: [{message: a, set: {name: b, value: c}}]}", id="two-in-one"),
        pytest.param("{name: x, flow: [{}]}", id="empty-block"),
        pytest.param("{name: 'x ', flow: [{message: hi}]}", id="name-space-at-end"),
        pytest.param('{name: "x\\u200b", flow: [{message: hi}]}', id="name-invisible"),
        pytest.param("{name: 'a::b', flow: [{message: hi}]}", id="name-node-id"),
        pytest.param("{name: " + "x" * 301 + ", flow: [{message: hi}]}", id="name-too-long"),
    ],
)
def test_the_schema_rejects_what_the_loader_rejects(tmp_path: Path, scenario: str) -> None:
    path = tmp_path / "bad.scenario.yaml"
    path.write_text(f"scenarios:\n  - {scenario}\n")
    with pytest.raises(ScenarioFileError):
        load_scenario_file(path)
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(SCHEMA_PATH), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1


def test_a_rule_id_outside_the_contract_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "mine.scenario.yaml"
    path.write_text("scenarios:\n  - name: x\n    rules: [A1, F4]\n    flow: [{message: hi}]\n")
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_file(path)
    message = str(caught.value)
    assert f"{path}:3" in message
    assert "rule ids of the contract, A1..F3" in message
    assert "['F4']" in message
