"""Durations as scenario files write them: ``0s``, ``5s``, ``1m35s``, ``2h31m35s``, ``250ms``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final

__all__ = ["MAX_DURATION", "format_duration", "parse_duration"]

_PART: Final = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")
_UNITS: Final = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """``"1m35s"`` → 95 s; a bare number is seconds. ``ValueError`` says what is expected."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"a duration like 5s or 1m35s; got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a duration of zero or more; got {value!r}")
        return _bounded(float(value), value)
    text = value.strip().replace(" ", "")
    if not text or _PART.sub("", text):
        raise ValueError(f"a duration like 0s, 5s, 1m35s, 2h31m35s or 250ms; got {value!r}")
    return _bounded(sum(float(n) * _UNITS[unit] for n, unit in _PART.findall(text)), value)


#: The longest duration a scenario may give: far past any retry schedule.
MAX_DURATION: Final = timedelta(days=365)


def _bounded(seconds: float, given: object) -> timedelta:
    if not seconds <= MAX_DURATION.total_seconds():  # also NaN
        raise ValueError(f"a duration of at most 365 days; got {given!r}")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """95 s → ``"1m35s"``; ``0s`` for zero; milliseconds when there are any."""
    total_ms = round(value.total_seconds() * 1000)
    sign = "-" if total_ms < 0 else ""
    total_ms = abs(total_ms)
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    out = ""
    if hours:
        out += f"{hours}h"
    if minutes:
        out += f"{minutes}m"
    if seconds or (not out and not millis):
        out += f"{seconds}s"
    if millis:
        out += f"{millis}ms"
    return sign + out
