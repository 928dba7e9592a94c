#!/usr/bin/env python3
"""The project's two everyday commands, runnable on a fresh machine with only Python 3.11+.

    python3 tasks.py conformance   # the main job: the conformance suite and its report
    python3 tasks.py test          # every test
    python3 tasks.py lowest        # every test, on the lowest dependency versions allowed

Each makes ``.venv`` beside this file on first use and installs the project
into it (again whenever ``pyproject.toml`` or the version changes), then runs
pytest there. ``lowest`` uses ``.venv-lowest`` instead, with every dependency
(and test tool) pinned to the floor ``pyproject.toml`` gives it (``>=X`` becomes
``==X``; what they depend on in turn is left to pip). Extra arguments go to
pytest: ``python3 tasks.py test -k nesting``.
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
COMMANDS = ("conformance", "test", "lowest")
#: What ``lowest`` leaves out: tests of the suite's strength and of the packaging, and
#: the fuzz tests, which ask nothing of a dependency's version that the rest does not
#: (docs/packaging.md); it leaves out the tests marked ``pytester`` as well.
LOWEST_SKIPS = (
    "tests/test_mutants.py",
    "tests/test_packaging.py",
    "tests/test_crm_bitrix24_fuzz.py",
    "tests/test_crm_amocrm_fuzz.py",
    "tests/test_crm_fuzz.py",
    "tests/test_ms_fuzz.py",
    "tests/test_ms_bytes_fuzz.py",
    "tests/test_sc_fuzz.py",
    "tests/test_ui_fuzz.py",
)
_FLOOR = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(?:>=|==)\s*([^,;\s]+)")


def _python(env: Path) -> Path:
    return (
        env
        / ("Scripts" if os.name == "nt" else "bin")
        / ("python.exe" if os.name == "nt" else "python")
    )


def lowest_constraints() -> list[str]:
    """``name==floor`` for every ``name>=floor`` among the dependencies and the test extras
    (a ``name==version`` pin, as the real CRM clients have, is its own floor)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    pins: dict[str, str] = {}
    for requirement in requirements:
        found = _FLOOR.match(requirement)
        if found is None:
            raise SystemExit(f"tasks.py: {requirement!r} has no >= floor or == pin to try")
        name = found.group(1).lower().replace("_", "-")
        if pins.setdefault(name, found.group(3)) != found.group(3):
            raise SystemExit(f"tasks.py: two floors for {name}: {pins[name]} and {found.group(3)}")
    return [f"{name}=={floor}" for name, floor in sorted(pins.items())]


def ensure_environment(env: Path = VENV, *, extras: str = "dev", lowest: bool = False) -> Path:
    """Create a virtual environment and install the project with ``extras``; its python."""
    if sys.version_info < (3, 11):  # noqa: UP036 (tasks.py may be run by an older python3)
        raise SystemExit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    python = _python(env)
    stamp = env / ".installed"
    # The version is part of the installed metadata, and lives in webhook_core/__init__.py.
    inputs = (ROOT / "pyproject.toml").read_bytes() + (
        ROOT / "webhook_core" / "__init__.py"
    ).read_bytes()
    wanted = hashlib.sha256(inputs).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    if not python.exists():
        print(f"tasks.py: creating {env.name}/", flush=True)
        venv.EnvBuilder(with_pip=True).create(env)
    pip = [str(python), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    install = [*pip, "install", "-e", f"{ROOT}[{extras}]"]
    if lowest:
        constraints = env / "lowest-constraints.txt"
        pins = lowest_constraints()
        constraints.write_text("\n".join(pins) + "\n", encoding="utf-8")
        print(f"tasks.py: installing the lowest versions allowed: {', '.join(pins)}", flush=True)
        install += ["--constraint", str(constraints)]
    else:
        print("tasks.py: installing the project and its test tools", flush=True)
    subprocess.run(install, check=True)
    stamp.write_text(wanted)
    return python


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        if argv and argv[0] in ("-h", "--help", "help"):
            print(__doc__)
            return 0
        print(__doc__, file=sys.stderr)
        got = f"got {argv[0]!r}" if argv else "got none"
        print(f"tasks.py: expected a command, conformance, test or lowest; {got}", file=sys.stderr)
        return 2
    command, rest = argv[0], argv[1:]
    if command == "lowest":
        python = ensure_environment(ROOT / ".venv-lowest", extras="test", lowest=True)
    else:
        python = ensure_environment()
    if command == "conformance":
        # No Hypothesis test is in the suite, and Hypothesis's pytest plugin imports all
        # of Hypothesis at the end of a run to report on none (a tenth of the run).
        args = [str(python), "-m", "pytest", "scenarios", "-q", "-p", "no:hypothesispytest"]
        args += rest
    else:
        args = [str(python), "-m", "pytest", "-n", "2", *rest]
        if command == "lowest":
            # Nor the tests that run pytest again in a subprocess (marker `pytester`: half
            # of the suite's time). The scenario files under scenarios/ still run through
            # the plugin, on the lowest pytest, in this run itself (docs/packaging.md).
            args[3:3] = [*(f"--ignore={path}" for path in LOWEST_SKIPS), "-m", "not pytester"]
    # Let Python keep compiled modules (and pytest its rewritten ones): every pytest
    # process, and every xdist worker, then starts in about half the time.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    # As an activated environment would: `--sender-cmd "python -m scenarios.adapter"` then
    # starts the environment's Python, which has the project installed.
    env["PATH"] = os.pathsep.join([str(python.parent), env.get("PATH", "")])
    # The packages' bytecode, as `pip install` would leave it (quick when up to date):
    # a server or sender started from this checkout, by hand or by a test, then skips
    # compiling (time, and about 1 MiB of a mock server's resident memory).
    packages = [str(ROOT / name) for name in ("webhook_core", "mockserver", "scenarios")]
    subprocess.run([str(python), "-m", "compileall", "-q", *packages], check=True, env=env)
    return subprocess.run(args, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
