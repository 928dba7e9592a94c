"""What a scenario run produced, and what did not meet its expectations (plain data)."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from mockserver import RecordedRequest

from .implementations import AttemptReport, ConfigurationProblem

__all__ = ["AttemptRecord", "Failure", "RunResult", "SentMessage"]


@dataclass(frozen=True)
class AttemptRecord:
    """One attempt as the harness saw it: which block, which try, when, and the report."""

    block: int
    number: int
    started_at: datetime
    offset: timedelta
    report: AttemptReport

    def summary(self) -> str:
        """``200``, ``503``, ``timeout: no complete answer within 10 s``."""
        report = self.report
        if report.ok:
            return str(report.status)
        if report.error_kind == "status" and report.status is not None:
            return str(report.status)
        kind = report.error_kind or "error"
        error = report.error or ""
        return error if error.startswith(f"{kind}:") else f"{kind}: {error}"


@dataclass(frozen=True)
class SentMessage:
    block: int
    text: str
    offset: timedelta


@dataclass
class RunResult:
    """Everything a run did: state, messages, variables, attempts, what the far side received."""

    started_at: datetime
    state: str = "running"
    last_error: str | None = None
    variables: dict[str, Any] = field(default_factory=dict)
    messages: list[SentMessage] = field(default_factory=list)
    attempts: list[AttemptRecord] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    mock_url: str = ""
    configuration_error: ConfigurationProblem | None = None


@dataclass(frozen=True)
class Failure:
    """One expectation that was not met: the field (``expect.requests[0]``), what went wrong,
    and the lines that tell the story (near misses, a timeline)."""

    field: str
    message: str
    details: list[str] = dataclasses.field(default_factory=list)
