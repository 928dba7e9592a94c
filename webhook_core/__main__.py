"""``python -m webhook_core``: the ``webhook-try`` command (see :mod:`webhook_core.cli`)."""

from __future__ import annotations

from .cli import run

if __name__ == "__main__":
    run()
