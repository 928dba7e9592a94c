"""The ``filter`` and ``order`` of the classic list methods (``crm-lead-list.md``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from .schema import items, text

__all__ = ["filter_field", "passes", "sort_key", "split_key"]


def sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (-1, "")
    raw = text(value)
    try:
        return (0, float(raw))
    except ValueError:
        return (1, raw)


_OPERATORS: Final = (">=", "<=", "!=", "!@", "=%", "%=", ">", "<", "!", "@", "%", "=")


def split_key(key: Any) -> tuple[str, str]:
    """A filter key's operator and field name (``">=ID"`` is ``(">=", "ID")``)."""
    name = str(key)
    for prefix in _OPERATORS:
        if name.startswith(prefix):
            return prefix, name[len(prefix) :].upper()
    return "", name.upper()


def filter_field(key: Any) -> str:
    """The field a filter key reads (``">=DATE_CREATE"`` reads ``DATE_CREATE``)."""
    return split_key(key)[1]


def passes(record: Mapping[str, Any], key: str, expected: Any) -> bool:
    """Bitrix filter keys: ``ID``, ``>ID``, ``>=ID``, ``<ID``, ``<=ID``, ``!ID``, ``@ID``
    (in a list), ``!@ID``, ``%TITLE`` (contains), ``=%TITLE``/``%=TITLE`` (LIKE)."""
    operator, name = split_key(key)
    actual = record.get(name)
    if isinstance(actual, list) and actual and isinstance(actual[0], Mapping):
        values = [entry["VALUE"] for entry in actual]
        return any(passes({"X": value}, operator + "X", expected) for value in values)
    if isinstance(actual, list):
        return any(passes({"X": value}, operator + "X", expected) for value in actual)
    options = (
        [text(item) for item in items(expected)] if isinstance(expected, list | Mapping) else None
    )
    raw = text(actual)
    wanted = text(expected)
    if operator in ("%", "=%", "%="):
        pattern = wanted.lower().replace("%", "")
        if operator == "=%":
            return (
                raw.lower().startswith(pattern) if wanted.endswith("%") else raw.lower() == pattern
            )
        if operator == "%=":
            return (
                raw.lower().endswith(pattern) if wanted.startswith("%") else raw.lower() == pattern
            )
        return pattern in raw.lower()
    if operator in ("!", "!=", "!@"):
        return raw not in options if options is not None else raw != wanted
    if operator in (">", "<", ">=", "<="):
        if actual is None:
            return False
        left, right = sort_key(raw), sort_key(wanted)
        return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[
            operator
        ]
    if options is not None:
        return raw in options
    if wanted == "" and actual is None:
        return True
    return raw == wanted
