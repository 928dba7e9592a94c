"""Exceptions of ``mockserver``.

The tree::

    MockServerError                         root
    ├── StubError(ValueError)              invalid stubs: every problem, each with where and what
    └── VerificationError(AssertionError)  a verification failed; ``report`` tells the story

Context travels as keyword-only attributes; the message is rendered from them.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MockServerError", "Problem", "StubError", "VerificationError"]


class MockServerError(Exception):
    """Root of every error raised by ``mockserver``."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a definition: ``where`` (``file:line`` or ``stubs[0]``), the
    ``field`` path, and the ``message`` saying what was expected and what came."""

    where: str
    field: str
    message: str

    def __str__(self) -> str:
        location = f"{self.where}: " if self.where else ""
        field = f"{self.field}: " if self.field else ""
        return f"{location}{field}{self.message}"


class StubError(MockServerError, ValueError):
    """Stub definitions that cannot be used. ``problems`` lists all of them, not the first."""

    def __init__(self, problems: list[Problem], *, source: str = "") -> None:
        self.problems = list(problems)
        self.source = source
        head = f"{len(self.problems)} problem(s) in {source or 'the stub definitions'}"
        super().__init__("\n".join([head, *(f"  {problem}" for problem in self.problems)]))


class VerificationError(MockServerError, AssertionError):
    """A verification failed. ``report`` is the readable story (near misses included)."""

    def __init__(self, report: str) -> None:
        self.report = report
        super().__init__(report)
