#!/usr/bin/env python3
"""The project's two everyday commands, runnable on a fresh machine with only Python 3.11+.

    python3 tasks.py conformance   # the main job: the conformance suite and its report
    python3 tasks.py test          # every test

Each makes ``.venv`` beside this file on first use and installs the project
into it (again whenever ``pyproject.toml`` changes), then runs pytest there.
Extra arguments go to pytest: ``python3 tasks.py test -k nesting``.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")
STAMP = VENV / ".installed"


def ensure_environment() -> None:
    """Create the virtual environment and install the project with its test extras."""
    if sys.version_info < (3, 11):  # noqa: UP036 (tasks.py may be run by an older python3)
        raise SystemExit(f"Python 3.11 or newer is needed; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not PYTHON.exists():
        print(f"tasks.py: creating {VENV.name}/", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("tasks.py: installing the project and its test tools", flush=True)
    pip = [str(PYTHON), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(wanted)


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("conformance", "test"):
        if argv and argv[0] in ("-h", "--help", "help"):
            print(__doc__)
            return 0
        print(__doc__, file=sys.stderr)
        got = f"got {argv[0]!r}" if argv else "got none"
        print(f"tasks.py: expected a command, conformance or test; {got}", file=sys.stderr)
        return 2
    ensure_environment()
    command, rest = argv[0], argv[1:]
    if command == "conformance":
        # No Hypothesis test is in the suite, and Hypothesis's pytest plugin imports all
        # of Hypothesis at the end of a run to report on none (a tenth of the run).
        args = [str(PYTHON), "-m", "pytest", "scenarios", "-q", "-p", "no:hypothesispytest"]
        args += rest
    else:
        args = [str(PYTHON), "-m", "pytest", "-n", "2", *rest]
    # Let Python keep compiled modules (and pytest its rewritten ones): every pytest
    # process, and every xdist worker, then starts in about half the time.
    env = {key: value for key, value in os.environ.items() if key != "PYTHONDONTWRITEBYTECODE"}
    # As an activated environment would: `--sender-cmd "python -m scenarios.adapter"` then
    # starts the environment's Python, which has the project installed.
    env["PATH"] = os.pathsep.join([str(BIN), env.get("PATH", "")])
    # The packages' bytecode, as `pip install` would leave it (quick when up to date):
    # a server or sender started from this checkout, by hand or by a test, then skips
    # compiling (time, and about 1 MiB of a mock server's resident memory).
    packages = [str(ROOT / name) for name in ("webhook_core", "mockserver", "scenarios")]
    subprocess.run([str(PYTHON), "-m", "compileall", "-q", *packages], check=True, env=env)
    return subprocess.run(args, cwd=ROOT, env=env).returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
