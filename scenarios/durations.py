"""Durations as scenario files write them: ``0s``, ``5s``, ``1m35s``, ``2h31m35s``, ``250ms``."""

from __future__ import annotations

import math
import re
from datetime import timedelta
from decimal import Decimal
from typing import Final

__all__ = ["MAX_DURATION", "format_duration", "parse_duration"]

# ASCII digits only (``\d`` would take ``٥s`` as 5 s, which the JSON Schema refuses).
_PART: Final = re.compile(r"([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)")
_UNITS: Final = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
#: The order units are written in: each at most once, the largest first (``1h5s``), so
#: that ``5s5s`` or ``1m1h`` (a slip, whatever it meant) is not quietly added up.
_ORDER: Final = ("h", "m", "s", "ms")


def parse_duration(value: str | int | float | timedelta) -> timedelta:
    """``"1m35s"`` → 95 s; a bare number is seconds. ``ValueError`` says what is expected."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError(f"a duration like 5s or 1m35s; got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise ValueError(f"a duration of zero or more; got {value!r}")
        if isinstance(value, int) and value > MAX_DURATION.total_seconds():
            # float() of an int of 400 digits raises OverflowError, not a problem at its line.
            raise ValueError(f"a duration of at most 365 days; got {_short(value)}")
        if isinstance(value, float) and math.isfinite(value):
            _to_the_microsecond([(repr(float(value)), "s")], value)
        return _bounded(float(value), value)
    text = value.strip().replace(" ", "")
    if not text or _PART.sub("", text):
        hint = ""
        if re.fullmatch(r"[0-9]+(\.[0-9]+)?", text):
            hint = f" (a number of seconds is written {text}s, or {text} without quotes)"
        raise ValueError(f"a duration like 0s, 5s, 1m35s, 2h31m35s or 250ms; got {value!r}{hint}")
    parts = _PART.findall(text)
    units = [unit for _, unit in parts]
    if units != sorted(set(units), key=_ORDER.index):
        raise ValueError(
            f"a duration with each unit once, the largest first (h, m, s, ms: 1m35s); got {value!r}"
        )
    _to_the_microsecond(parts, value)
    return _bounded(sum(float(n) * _UNITS[unit] for n, unit in parts), value)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:20]}... ({len(text)} characters)"


_MICROSECONDS: Final = {"h": 3_600_000_000, "m": 60_000_000, "s": 1_000_000, "ms": 1000}


def _to_the_microsecond(parts: list[tuple[str, str]], given: object) -> None:
    """A duration is held to the microsecond: finer digits would be dropped, unsaid."""
    total = sum((Decimal(number) * _MICROSECONDS[unit] for number, unit in parts), Decimal(0))
    if total != total.to_integral_value():
        raise ValueError(f"a duration to the microsecond at most (0.000001s); got {given!r}")


#: The longest duration a scenario may give: far past any retry schedule.
MAX_DURATION: Final = timedelta(days=365)


def _bounded(seconds: float, given: object) -> timedelta:
    if not seconds <= MAX_DURATION.total_seconds():  # also NaN
        raise ValueError(f"a duration of at most 365 days; got {_short(given)}")
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
