"""A report path written as a separate argument outside the project: pytest reads its
rootdir before plugins load and takes the path for a test path, so the project's ini
file was silently dropped (and node ids became ``../../out/a.scenario.yaml``)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makefile(".scenario.yaml", one="name: one\nflow: [{message: x}]\n")
    return pytester


@pytest.mark.parametrize("option", ["--conformance-json", "--scenario-html"])
def test_a_report_path_outside_the_project_as_two_arguments_is_a_usage_error(
    env: pytest.Pytester, option: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    out = tmp_path_factory.mktemp("out")  # beside the project, not in it
    target = out / "report.out"
    target.write_text("from an earlier run\n")
    result = env.runpytest_subprocess(option, str(target))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert f"{option}={target}" in err
    assert "rootdir" in err
    assert "Traceback" not in result.stdout.str() + err


@pytest.mark.parametrize("option", ["--conformance-json", "--scenario-html"])
def test_the_same_path_with_an_equals_sign_runs(
    env: pytest.Pytester, option: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    target = tmp_path_factory.mktemp("out") / "report.out"
    target.write_text("from an earlier run\n")
    result = env.runpytest_subprocess(f"{option}={target}")
    assert result.ret == pytest.ExitCode.OK
    assert target.is_file()


def test_a_report_path_inside_the_project_as_two_arguments_runs(env: pytest.Pytester) -> None:
    target = Path("reports", "c.json")
    target.parent.mkdir()
    target.write_text("{}\n")
    result = env.runpytest_subprocess("--conformance-json", str(target))
    assert result.ret == pytest.ExitCode.OK
