"""The mutants: :class:`~tests.mutants.honest.Honest` with one realistic bug each.

Each names the rules its bug breaks (``RULES``); ``tests/test_mutants.py``
checks that the conformance suite fails each one in a scenario that pins one
of those rules, and that every rule of the contract has such a mutant. The
bugs are the kind a developer writing from the rules makes: a regex a little
too strict, a library default left in place, an off-by-one in a schedule.
"""

from __future__ import annotations

from collections.abc import Callable

from . import answers, heldout, more, request, settings
from .honest import Honest
from .registry import MUTANTS, mutant

_GROUPS = (settings, request, answers, more, heldout)  # importing them registers their mutants


def factory(name: str) -> Callable[[], Honest]:
    """``--sender=tests.mutants.catalogue:<name>`` works through these module attributes."""
    return MUTANTS[name]


def __getattr__(name: str) -> Callable[[], Honest]:
    if name in MUTANTS:
        return MUTANTS[name]
    raise AttributeError(name)


__all__ = ["MUTANTS", "factory", "mutant"]
