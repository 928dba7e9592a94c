"""The examples work as their READMEs say: the project's scenarios pass under pytest (copied
out of the checkout), its stubs serve its action file through ``webhook-try``, every dry run
its README shows exits 0, and ``examples/demo.py`` prints what happened."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from webhook_core.cli import main

from .cli import spawn_mockserver

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "promo-bot"
README = (EXAMPLE / "README.md").read_text(encoding="utf-8")


def run_pytest(where: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=300,
        env={key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")},
    )


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The example, copied out of the checkout as a user would copy it."""
    copy = tmp_path / "promo-bot"
    shutil.copytree(EXAMPLE, copy)
    return copy


def test_the_example_project_passes_under_pytest(project: Path) -> None:
    result = run_pytest(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(r"\b8 passed\b", result.stdout), result.stdout
    names = run_pytest(project, "--collect-only").stdout
    for name in ("[telegram]", "[whatsapp]", "[vk]", "a lost answer after the write"):
        assert name in names


def test_a_broken_expectation_in_the_example_fails(project: Path) -> None:
    path = project / "scenarios" / "crm.scenario.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("{count: 2}", "{count: 1}"))
    result = run_pytest(project, "scenarios/crm.scenario.yaml")
    assert result.returncode == 1
    assert "1 failed, 1 passed" in result.stdout


def test_the_smoke_mark_selects_the_smoke_scenario(project: Path) -> None:
    result = run_pytest(project, "-m", "smoke")
    assert result.returncode == 0, result.stdout
    assert re.search(r"\b1 passed, 7 deselected\b", result.stdout), result.stdout


@pytest.fixture
def backend() -> Iterator[str]:
    """``mockserver --stubs examples/promo-bot/stubs`` as a real process; its URL."""
    process = spawn_mockserver("--stubs", str(EXAMPLE / "stubs"))
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        found = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert found, line + (process.stderr.read() if process.stderr else "")
        yield found.group(0)
    finally:
        process.terminate()
        process.communicate(timeout=30)


def try_action(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue() + err.getvalue()


def test_the_action_file_against_the_stub_directory(backend: str) -> None:
    actions = EXAMPLE / "actions"
    given = [
        str(actions / "promo.yaml"),
        "--vars",
        str(actions / "vars.yaml"),
        "--subscriber",
        str(actions / "subscriber.yaml"),
        "--var",
        f"mock.url={backend}",
        "--show",
        "{promo.code}",
    ]
    code, out = try_action(*given, "--json")
    assert code == 0, out
    data = json.loads(out)
    assert data["saved"] == {
        "variable": "promo",
        "value": {"code": "SPRING-15", "percent": 15, "for": "Анна"},
    }
    assert data["shows"][0]["text"] == "SPRING-15"
    body = json.loads(data["request"]["body"])
    assert body["user"] == {"id": "1001", "name": "Анна", "phone": "+79001234567"}
    # Without the token the backend's second stub says why.
    code, out = try_action(*given, "--var", "api_token=")
    assert code == 1
    assert "< HTTP/1.1 401 Unauthorized" in out
    assert "missing or bad Authorization header" in out


def readme_commands(prefix: str) -> list[str]:
    blocks = re.findall(r"```\n(.*?)```", README, re.S)
    return [
        line.split("  #")[0].strip()
        for block in blocks
        for line in block.splitlines()
        if line.startswith(prefix)
    ]


@pytest.mark.parametrize("command", readme_commands("webhook-try"), ids=lambda c: c[:60])
def test_every_webhook_try_command_in_the_readme_works(command: str, backend: str) -> None:
    argv = shlex.split(command)[1:]
    argv = [part.replace("actions/", f"{EXAMPLE}/actions/") for part in argv]
    if "--dry-run" not in argv:
        argv += ["--var", f"mock.url={backend}"]
    code, out = try_action(*argv)
    assert code == 0, out
    if "--simulate" in argv:
        assert "attempt 6  +2h31m35s   2026-03-01 14:31:35 MSK" in out
    if "--show" in argv:
        assert "{promo.code} → SPRING-15" in out


def test_the_readme_names_the_commands_a_newcomer_needs() -> None:
    for command in ("pip install", "python -m build", "pytest", "mockserver --stubs stubs"):
        assert command in README
    assert len(readme_commands("webhook-try")) >= 3


def test_the_demo_prints_what_happened() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "demo.py")],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[1] == "  attempt 1 at +0:00:00  failed: status 503 Service Unavailable"
    assert lines[2].startswith("  attempt 2 at +0:00:05  failed: connection dropped")
    assert lines[3] == "  attempt 3 at +0:00:35  200"
    assert "message: Анна, your code is ABC (-15%)" in lines


def test_the_projects_readme_dry_run_works() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Try one action by hand", 1)[1]
    command = re.search(r"```\n(webhook-try .*?)```", section, re.S)
    assert command is not None
    argv = shlex.split(command.group(1).replace("\\\n", " "))[1:]
    argv = [str(ROOT / part) if part.startswith("examples/") else part for part in argv]
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    assert '{"user":{"id":"","name":"Анна","phone":""}' in out.getvalue()
    assert "> Authorization: Bearer t-1" in out.getvalue()


@pytest.mark.parametrize(
    ("pattern", "schema"),
    [
        ("scenarios/*.scenario.yaml", ROOT / "scenarios" / "schema" / "scenario.schema.json"),
        ("stubs/*.yaml", ROOT / "mockserver" / "schema" / "stubs.schema.json"),
    ],
    ids=["scenarios", "stubs"],
)
def test_the_example_files_are_valid_under_their_schemas(pattern: str, schema: Path) -> None:
    import jsonschema
    import yaml

    document_schema = json.loads(schema.read_text(encoding="utf-8"))
    paths = sorted(EXAMPLE.glob(pattern))
    assert paths
    for path in paths:
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            jsonschema.validate(document, document_schema)


def test_https_with_the_mock_servers_own_ca(tmp_path: Path) -> None:
    """``mockserver --tls`` prints its CA file; ``SSL_CERT_FILE`` makes webhook-try trust it."""
    process = spawn_mockserver("--tls", "--stubs", str(EXAMPLE / "stubs"))
    try:
        assert process.stdout is not None
        ca_file = process.stdout.readline().split()[5]
        url = re.search(r"https://127\.0\.0\.1:\d+", process.stdout.readline())
        assert url is not None
        argv = [
            sys.executable,
            "-m",
            "webhook_core",
            str(EXAMPLE / "actions" / "promo.yaml"),
            "--vars",
            str(EXAMPLE / "actions" / "vars.yaml"),
            "--var",
            f"mock.url={url.group(0)}",
            "--json",
        ]
        env = {k: v for k, v in os.environ.items() if k not in ("SSL_CERT_FILE", "SSL_CERT_DIR")}
        refused = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
        assert refused.returncode == 1
        assert "CERTIFICATE_VERIFY_FAILED" in json.loads(refused.stdout)["attempts"][0]["error"]
        trusted = subprocess.run(
            argv, capture_output=True, text=True, env={**env, "SSL_CERT_FILE": ca_file}, timeout=60
        )
        assert trusted.returncode == 0, trusted.stdout + trusted.stderr
        assert json.loads(trusted.stdout)["saved"]["value"]["code"] == "SPRING-15"
    finally:
        process.terminate()
        process.communicate(timeout=30)
