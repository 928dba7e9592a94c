"""The stub-file JSON Schema: current, valid, and in agreement with the loader."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from mockserver.files import load_stub_file
from mockserver.schema import STUBS_SCHEMA_PATH, main, render, stub_file_schema

ROOT = Path(__file__).resolve().parent.parent
SCHEMA: dict[str, Any] = json.loads(STUBS_SCHEMA_PATH.read_text(encoding="utf-8"))


def _scenario_stubs() -> list[Any]:
    """Every stub of the conformance and rehearsal scenarios: all of them load."""
    stubs = []
    for path in sorted((ROOT / "scenarios").glob("*/*.scenario.yaml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            for scenario in (document or {}).get("scenarios", [document]):
                stubs += (scenario.get("mock") or {}).get("stubs", [])
    return stubs


STUBS = _scenario_stubs()


def test_the_checked_in_schema_is_current_and_valid() -> None:
    assert STUBS_SCHEMA_PATH.read_text(encoding="utf-8") == render(stub_file_schema()), (
        "run: python -m mockserver.schema"
    )
    jsonschema.Draft202012Validator.check_schema(SCHEMA)


def test_every_stub_the_suite_uses_is_valid_under_the_schema() -> None:
    assert len(STUBS) > 30
    # Parametrized stubs hold ${name} where the schema wants a number; those are left out.
    plain = [stub for stub in STUBS if "${" not in json.dumps(stub)]
    jsonschema.validate(plain, SCHEMA)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("- request: {path: /a}\n", id="list"),
        pytest.param("stubs:\n  - request: {path: /a}\n", id="under-stubs"),
        pytest.param("request: {path: /a}\n---\nrequest: {path: /b}\n", id="documents"),
        pytest.param('{"$schema": "s.json", "stubs": [{"response": {"status": 201}}]}', id="json"),
    ],
)
def test_every_form_the_loader_takes_the_schema_takes(tmp_path: Path, text: str) -> None:
    path = tmp_path / ("stubs.json" if text.startswith("{") else "stubs.yaml")
    path.write_text(text)
    assert load_stub_file(path)
    for document in yaml.safe_load_all(text):
        jsonschema.validate(document, SCHEMA)


@pytest.mark.parametrize(
    "document",
    [
        pytest.param([{"request": {"path": "/a", "methd": "GET"}}], id="misspelt-field"),
        pytest.param([{"response": {"status": 2000}}], id="status-out-of-range"),
        pytest.param({"stubs": [], "extra": 1}, id="extra-key-beside-stubs"),
    ],
)
def test_what_the_loader_refuses_the_schema_refuses(document: Any) -> None:
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(document, SCHEMA)


def test_check_jsonschema_takes_a_stub_file(tmp_path: Path) -> None:
    path = tmp_path / "stubs.yaml"
    path.write_text(
        "# yaml-language-server: $schema=stubs.schema.json\n"
        "- request: {method: POST, path: /crm/lead, form: {user.name: Анна}}\n"
        "  responses: [{status: 503}, {json: {id: 1}}]\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--schemafile", str(STUBS_SCHEMA_PATH), path],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_command_writes_prints_and_checks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "editor" / "stubs.schema.json"
    assert main(["--output", str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == SCHEMA
    assert main(["-o", "-"]) == 0
    assert json.loads(capsys.readouterr().out) == SCHEMA
    assert main(["--check"]) == 0


@pytest.mark.parametrize("package", ["mockserver", "scenarios"])
def test_the_command_without_options_prints_and_writes_nothing(
    package: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """After ``pip install`` the package's copy sits in site-packages: a bare
    ``python -m …schema`` must not rewrite it; it prints the schema."""
    module = importlib.import_module(f"{package}.schema")
    attribute = "STUBS_SCHEMA_PATH" if package == "mockserver" else "SCHEMA_PATH"
    copy = tmp_path / "installed" / "copy.schema.json"
    copy.parent.mkdir()
    copy.write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(module, attribute, copy)
    monkeypatch.chdir(tmp_path)
    result = subprocess.run(
        [sys.executable, "-c", f"import sys, {package}.schema as m; sys.exit(m.main([]))"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["$schema"].startswith("https://json-schema.org/")
    # In-process too, with the copy moved aside: it stays as it was.
    assert module.main([]) == 0
    assert copy.read_text(encoding="utf-8") == "{}\n"
    assert list(tmp_path.iterdir()) == [copy.parent]


@pytest.mark.parametrize("package", ["mockserver", "scenarios"])
def test_write_saves_into_a_project_and_says_where(
    package: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = subprocess.run(
        [sys.executable, "-m", f"{package}.schema", "--write", "schemas/x.schema.json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    written = tmp_path / "schemas" / "x.schema.json"
    assert json.loads(written.read_text(encoding="utf-8"))["$id"].endswith(".schema.json")
    assert f"wrote {written.resolve()}" in result.stderr
    assert "# yaml-language-server: $schema=schemas/x.schema.json" in result.stderr


def test_update_rewrites_the_packages_own_copy_and_check_sees_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from mockserver import schema

    stale = tmp_path / "stubs.schema.json"
    stale.write_text("{}\n", encoding="utf-8")
    monkeypatch.setattr(schema, "STUBS_SCHEMA_PATH", stale)
    assert schema.main(["--check"]) == 1
    assert "is stale: run python -m mockserver.schema --update" in capsys.readouterr().err
    assert schema.main(["--update"]) == 0
    assert schema.main(["--check"]) == 0
    assert json.loads(stale.read_text(encoding="utf-8")) == SCHEMA
