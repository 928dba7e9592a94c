"""Dates as the classic ``crm.*`` methods read and write them.

``api-reference/data-types.md`` (bitrix24/b24restdocs): a ``date`` is ``YYYY-MM-DD``,
a ``datetime`` ``YYYY-MM-DDThh:mm:ss±hh:mm``; the examples also write the portal's
site format (``"BIRTHDATE": "11.11.2001"``, ``crm-lead-update.md``) and a datetime
without its offset (``'>DATE_CREATE' => '2023-10-01T00:00:00'``, ``crm-lead-list.md``).
The portal reads them with PHP's ``strtotime`` (``CRestUtil::unConvertDate``) and a
value it cannot read is dropped from ``fields`` rather than refused (**[inference]**,
the pages show no date error for these methods): so is it here, and nothing unreadable
is ever kept. PHP's compact ``20231001`` (with a time, ``20231001T101500``) is read as
``strtotime`` reads it. Read back, a date is midnight of that day and a datetime its instant,
both in the server's time (the fake's clock is UTC) as ``…T00:00:00+00:00``.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta, timezone
from typing import Any, Final

__all__ = ["DATE_KINDS", "instant", "shown_date"]

#: The field types whose values are dates (``crm.*.fields``, userfield types).
DATE_KINDS: Final = frozenset({"date", "datetime"})

_ISO: Final = re.compile(
    r"(?P<y>\d{4})-(?P<m>\d{1,2})-(?P<d>\d{1,2})"
    r"(?:[T ](?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:\.\d{1,6})?)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?)?"
)
_SITE: Final = re.compile(
    r"(?P<d>\d{1,2})\.(?P<m>\d{1,2})\.(?P<y>\d{4})"
    r"(?: (?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?)?"
)
#: PHP's compact forms (``strtotime``'s "datenocolon" and its times): ``20231001``,
#: ``20231001T101500``, ``20231001T1015``, ``20231001 10:15:00``, ``20231001101500``,
#: with an offset or ``Z`` or not. After the date, ``T`` takes an hour alone
#: (``20231001T10``); without it the time needs its minutes (``2023100110`` is
#: ``false`` to PHP).
_COMPACT: Final = re.compile(
    r"(?P<y>\d{4})(?P<m>\d{2})(?P<d>\d{2})"
    r"(?:(?:[Tt]|(?=[ ]?\d{2}:?\d{2})[ ]?)(?P<H>\d{2})(?::?(?P<M>\d{2})(?::?(?P<S>\d{2}))?)?)?"
    r"(?P<tz>Z|[+-]\d{2}:?\d{2})?"
)
#: Longer than any date a client means: the rest is not read at all.
_LONGEST: Final = 40


def instant(value: Any) -> datetime | None:
    """``value`` as an aware instant (UTC when it names no offset), or ``None`` when it
    is not a date the portal reads: only ASCII digits, a real calendar day and time,
    years 1000 to 9999 (``2024-02-30``, ``31.13.2024``, ``²⁰²⁴-01-01`` are ``None``)."""
    if isinstance(value, bool) or not isinstance(value, str):
        return None
    raw = value.strip()
    if len(raw) > _LONGEST or not raw.isascii():
        return None
    found = _ISO.fullmatch(raw) or _SITE.fullmatch(raw) or _COMPACT.fullmatch(raw)
    if found is None:
        return None
    parts = found.groupdict()
    try:
        day = date(int(parts["y"]), int(parts["m"]), int(parts["d"]))
        clock = time(int(parts["H"] or 0), int(parts["M"] or 0), int(parts["S"] or 0))
        zone = _zone(parts.get("tz"))
    except ValueError:
        return None
    if day.year < 1000 or zone is None:
        return None
    return datetime.combine(day, clock, zone)


def _zone(text: str | None) -> timezone | None:
    if not text or text == "Z":
        return timezone.utc
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hours, minutes = int(digits[:2]), int(digits[2:])
    if hours > 14 or minutes > 59:
        return None
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def shown_date(kind: str, moment: datetime) -> str:
    """How the portal returns a stored date (``kind`` ``date``) or datetime."""
    utc = moment.astimezone(timezone.utc)
    if kind == "date":
        return f"{utc.date().isoformat()}T00:00:00+00:00"
    return utc.isoformat(timespec="seconds")
