"""Exceptions of ``scenarios``.

The tree::

    ScenarioError                               root
    ├── ScenarioFileError(ValueError)             a scenario file that cannot be used: every problem
    └── ScenarioFailed(AssertionError)            a scenario ran and did not do what it expected

    SlowScenarioWarning(UserWarning)            a scenario will wait on the real clock

Context travels as keyword-only attributes; the pytest report reads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mockserver.errors import Problem

if TYPE_CHECKING:
    from .results import Failure, RunResult

__all__ = [
    "Problem",
    "ScenarioError",
    "ScenarioFailed",
    "ScenarioFileError",
    "SlowScenarioWarning",
]


class ScenarioError(Exception):
    """Root of every error raised by ``scenarios``."""


class ScenarioFileError(ScenarioError, ValueError):
    """A scenario file with problems; ``problems`` holds all of them with ``file:line``."""

    def __init__(self, problems: list[Problem], *, source: str) -> None:
        self.problems = list(problems)
        self.source = source
        lines = [f"{len(self.problems)} problem(s) in {source}:"]
        lines += [f"  {problem}" for problem in self.problems]
        super().__init__("\n".join(lines))


class ScenarioFailed(ScenarioError, AssertionError):
    """A scenario's expectations were not met. ``failures`` lists each; ``result`` is the run."""

    def __init__(
        self, *, name: str, failures: list[Failure], result: RunResult, report: str, **extra: Any
    ) -> None:
        self.name = name
        self.failures = failures
        self.result = result
        self.report = report
        self.extra = extra
        super().__init__(report)


class SlowScenarioWarning(UserWarning):
    """A scenario will wait on the real clock: a stub holds its answer (``no_response``,
    ``delay_ms``) longer than a moment, and the frozen clock does not shorten an HTTP
    exchange. Issued at collection with the stub's ``file:line``."""
