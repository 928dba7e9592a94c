"""Scenario files written by the tests that probe what a file means."""

from __future__ import annotations


def one_line_scenarios(*scenarios: str) -> str:
    """A ``scenarios:`` list of one-line scenarios: scenario ``i`` is on line ``i + 2``."""
    return "scenarios:\n" + "".join(
        f"  - {{name: s{i}, flow: [{{message: m}}], {body}}}\n" for i, body in enumerate(scenarios)
    )
