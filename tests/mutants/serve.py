"""A mutant behind ``--sender-cmd``: ``python -m tests.mutants.serve NAME`` (``honest`` too)."""

from __future__ import annotations

import sys

from scenarios.adapter import main

from .catalogue import MUTANTS
from .honest import Honest

if __name__ == "__main__":
    name = sys.argv[1] if len(sys.argv) > 1 else "honest"
    if name != "honest" and name not in MUTANTS:
        print(f"tests.mutants.serve: no mutant {name!r}", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(Honest() if name == "honest" else MUTANTS[name]()))
