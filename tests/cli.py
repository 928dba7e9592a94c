"""Running ``python -m mockserver`` as a real process in tests."""

from __future__ import annotations

import os
import subprocess
import sys


def spawn_mockserver(*args: str) -> subprocess.Popen[str]:
    """``python -m mockserver ARGS``, unbuffered, with stdout and stderr piped as text."""
    return subprocess.Popen(
        [sys.executable, "-m", "mockserver", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
