"""The register of mutants: ``@mutant("A2")`` on a class of :mod:`tests.mutants.honest`."""

from __future__ import annotations

from collections.abc import Callable

from .honest import Honest

MUTANTS: dict[str, type[Honest]] = {}


def mutant(*rules: str) -> Callable[[type[Honest]], type[Honest]]:
    """Register a mutant and the rules its bug breaks."""

    def register(cls: type[Honest]) -> type[Honest]:
        cls.RULES = rules  # type: ignore[attr-defined]
        cls.name = cls.__name__
        MUTANTS[cls.__name__] = cls
        return cls

    return register
