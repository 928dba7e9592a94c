"""The package a user installs: built as a user builds it (sdist, then the wheel from the
sdist), installed into a fresh virtual environment, and run from there: the example project,
the conformance suite and both commands. Also the one version, the license and the changelog.

The build and the install take about twenty seconds (pip's cache is warm); they run in the
normal test command because missing package data shows up nowhere else.
"""

from __future__ import annotations

import email
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import venv
import zipfile
from pathlib import Path

import webhook_core

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
BIN = "Scripts" if os.name == "nt" else "bin"


def test_the_version_is_written_once() -> None:
    project = PYPROJECT["project"]
    assert "version" not in project
    assert "version" in project["dynamic"]
    attr = PYPROJECT["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "webhook_core.__version__"
    assert re.fullmatch(r"\d+\.\d+\.\d+([ab]\d+|rc\d+)?", webhook_core.__version__)
    # The installed metadata (here the editable install of this checkout) agrees.
    assert importlib.metadata.version("webhook-harness") == webhook_core.__version__
    written = [
        path
        for folder in ("webhook_core", "mockserver", "scenarios", "tests", "bench", "examples")
        for path in (ROOT / folder).rglob("*.py")
        # Not what a bench installs beside it (bench/.peers/: Tavern, the user's venv).
        if not any(part.startswith(".") for part in path.relative_to(ROOT).parts)
        and webhook_core.__version__ in path.read_text("utf-8")
    ]
    assert written == [ROOT / "webhook_core" / "__init__.py"]


def test_license_build_floor_and_changelog() -> None:
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert license_text.startswith("MIT License\n")
    assert 'THE SOFTWARE IS PROVIDED "AS IS"' in license_text
    assert PYPROJECT["project"]["license"] == "MIT"
    # PEP 639's `license = "MIT"` (an SPDX expression) is read from setuptools 77 on.
    (setuptools,) = [r for r in PYPROJECT["build-system"]["requires"] if "setuptools" in r]
    floor = tuple(int(part) for part in setuptools.split(">=")[1].split("."))
    assert floor >= (77,)
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert changelog.startswith("# Changelog\n")
    assert "\n## Unreleased\n" in changelog
    assert f"\n## {webhook_core.__version__}\n" in changelog


def clean_env() -> dict[str, str]:
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONDONTWRITEBYTECODE")
    return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST_")}


def run(
    args: list[str | Path], cwd: Path, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(arg) for arg in args],
        cwd=cwd,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, f"{args}\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
    return result


def test_the_wheel_installs_and_runs_from_a_fresh_environment(tmp_path: Path) -> None:
    # 1. Build as a user does: `python -m build` makes the sdist, then the wheel from it,
    #    so a file missing from the sdist fails here too.
    dist = tmp_path / "dist"
    run([sys.executable, "-m", "build", "--outdir", dist, ROOT], cwd=tmp_path)
    version = webhook_core.__version__
    wheel = dist / f"webhook_harness-{version}-py3-none-any.whl"
    sdist = dist / f"webhook_harness-{version}.tar.gz"
    assert wheel.is_file()
    assert sdist.is_file()
    with tarfile.open(sdist) as archive:
        in_sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    for wanted in (
        "LICENSE",
        "CHANGELOG.md",
        "tasks.py",
        "docs/try-an-action.md",
        "examples/promo-bot/README.md",
        "examples/demo.py",
        "tests/test_wc_cli.py",
        "scenarios/conformance/e_retries.scenario.yaml",
    ):
        assert wanted in in_sdist, wanted
    assert not [name for name in in_sdist if "__pycache__" in name or name.startswith(".venv")]

    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        meta = email.message_from_bytes(
            archive.read(f"webhook_harness-{version}.dist-info/METADATA")
        )
        entry_points = archive.read(f"webhook_harness-{version}.dist-info/entry_points.txt")
    assert meta["Version"] == version
    assert meta["License-Expression"] == "MIT"
    assert f"webhook_harness-{version}.dist-info/licenses/LICENSE" in names
    for package in ("webhook_core", "mockserver", "scenarios"):
        assert f"{package}/py.typed" in names
    shipped = {
        path.relative_to(ROOT).as_posix()
        for pattern in (
            "scenarios/schema/*.json",
            "scenarios/conformance/*.yaml",
            "scenarios/rehearsals/*.yaml",
            "mockserver/schema/*.json",
        )
        for path in ROOT.glob(pattern)
    }
    assert len(shipped) > 10
    assert shipped <= names, shipped - names
    assert b"webhook-try = webhook_core.cli:run" in entry_points
    assert b"mockserver = mockserver.cli:run" in entry_points

    # 2. A fresh environment with nothing but the wheel and what it asks for.
    env_dir = tmp_path / "env"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / BIN / "python"
    pip = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check", "-q"]
    run([*pip, "install", wheel], cwd=tmp_path)
    where = run(
        [python, "-c", "import webhook_core, scenarios; print(webhook_core.__file__)"],
        cwd=tmp_path,
    )
    assert Path(where.stdout.strip()).is_relative_to(env_dir)

    # 3. The example project, copied out, passes under the installed plugin.
    project = tmp_path / "promo-bot"
    shutil.copytree(ROOT / "examples" / "promo-bot", project)
    result = run([python, "-m", "pytest", "-q", "-p", "no:cacheprovider"], cwd=project)
    assert re.search(r"\b8 passed\b", result.stdout), result.stdout

    # 4. The conformance suite from the installed copy.
    result = run(
        [
            python,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--pyargs",
            "scenarios.conformance",
        ],
        cwd=tmp_path,
    )
    assert "34 of 34 rules conform" in result.stdout, result.stdout
    result = run(
        [
            python,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--pyargs",
            "scenarios.rehearsals",
        ],
        cwd=tmp_path,
    )
    assert re.search(r"\b\d+ passed\b", result.stdout), result.stdout
    assert "failed" not in result.stdout

    # 5. Both commands are on the environment's PATH.
    scripts = env_dir / BIN
    result = run(
        [
            scripts / "webhook-try",
            project / "actions" / "promo.yaml",
            "--vars",
            project / "actions" / "vars.yaml",
            "--dry-run",
        ],
        cwd=project,
    )
    assert "> POST /api/promo HTTP/1.1" in result.stdout
    result = run([scripts / "mockserver", "--help"], cwd=project)
    assert "--stubs" in result.stdout


def load_tasks() -> object:
    import importlib.util

    spec = importlib.util.spec_from_file_location("tasks", ROOT / "tasks.py")
    assert spec is not None
    assert spec.loader is not None
    tasks = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks)
    return tasks


def test_tasks_lowest_pins_every_floor() -> None:
    tasks = load_tasks()
    pins = tasks.lowest_constraints()  # type: ignore[attr-defined]
    project = PYPROJECT["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    names = {re.split(r"[\[<>=!~; ]", r, maxsplit=1)[0].lower() for r in requirements}
    assert {pin.split("==")[0] for pin in pins} == names
    for requirement in requirements:
        operator = ">=" if ">=" in requirement else "=="  # a pin is its own floor
        name, floor = (part.strip() for part in requirement.split(operator))
        assert f"{name.lower()}=={floor}" in pins


def test_what_lowest_leaves_out_is_there_and_is_no_more_than_the_slow_kinds() -> None:
    # A renamed file would silently come back into (or a wrong name stay out of) the run.
    skips = load_tasks().LOWEST_SKIPS  # type: ignore[attr-defined]
    for path in skips:
        assert (ROOT / path).is_file(), path
        assert path in {"tests/test_mutants.py", "tests/test_packaging.py"} or path.endswith(
            "_fuzz.py"
        )
