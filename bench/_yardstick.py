"""How fast this machine runs Python right now: the figures of one bench run are
comparable with another run's only through it (the VM's speed has varied by 2.5x
between days, with nothing else running)."""

from __future__ import annotations

import time

#: The yardstick on the quiet machine the docs' reference figures were taken on.
REFERENCE_SECONDS = 0.51


def yardstick() -> str:
    """One line: the best of three runs of a fixed pure-Python loop, against the
    reference machine's."""
    best = float("inf")
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(10_000_000):
            pass
        best = min(best, time.perf_counter() - start)
    return (
        f"machine yardstick: 10^7 empty loop turns in {best:.2f} s "
        f"({best / REFERENCE_SECONDS:.2f}x the reference {REFERENCE_SECONDS} s; "
        "absolute times scale with it)"
    )
