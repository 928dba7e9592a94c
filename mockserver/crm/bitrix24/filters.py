"""The ``filter`` and ``order`` of the classic list methods (``crm-lead-list.md``)."""

from __future__ import annotations

import operator as _operator
from collections.abc import Callable, Mapping
from typing import Any, Final

from .dates import instant
from .schema import items, text

__all__ = [
    "compile_date_filter",
    "compile_filter",
    "filter_field",
    "passes",
    "sort_key",
    "split_key",
]


def sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (-1, "")
    raw = text(value)
    try:
        return (0, float(raw))
    except ValueError:
        return (1, raw)


#: Longest first: ``!%=`` before ``!%`` and ``!=``, ``!=%`` before ``!=``.
_OPERATORS: Final = (
    "!%=",
    "!=%",
    ">=",
    "<=",
    "!%",
    "!=",
    "!@",
    "=%",
    "%=",
    ">",
    "<",
    "!",
    "@",
    "%",
    "=",
)


def like(pattern: str, value: str) -> bool:
    """SQL ``LIKE`` as MySQL reads it under the portal's case-blind collation: ``%`` is
    any run of characters, ``_`` any one, the rest itself, case aside. Matched with
    two pointers (one back-up point), never a regular expression: a pattern of many
    ``%`` costs at most its length times the value's, never an exponential search."""
    pattern, value = pattern.lower(), value.lower()
    p = v = 0
    star_p, star_v = -1, 0
    while v < len(value):
        if p < len(pattern) and pattern[p] != "%" and pattern[p] in ("_", value[v]):
            p += 1
            v += 1
        elif p < len(pattern) and pattern[p] == "%":
            star_p, star_v = p, v
            p += 1
        elif star_p >= 0:
            star_v += 1
            p, v = star_p + 1, star_v
        else:
            return False
    return all(char == "%" for char in pattern[p:])


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


Test = Callable[[Any], bool]


def passes(record: Mapping[str, Any], key: str, expected: Any) -> bool:
    """Whether ``record`` passes one filter condition (:func:`compile_filter`, once)."""
    return compile_filter(key, expected)(record)


def compile_filter(key: Any, expected: Any) -> Callable[[Mapping[str, Any]], bool]:
    """One condition as a test of a record, worked out once for a whole list: Bitrix
    filter keys ``ID``, ``>ID``, ``>=ID``, ``<ID``, ``<=ID``, ``!ID``, ``@ID`` (in a
    list), ``!@ID``, ``%TITLE`` (contains), ``!%TITLE`` (does not), ``=%TITLE``/
    ``%=TITLE`` (LIKE, the value's ``%`` and ``_`` its wildcards), ``!%=TITLE``/
    ``!=%TITLE`` (NOT LIKE). On a
    multifield (or a multiple field) a record passes when any of its values does."""
    operator, name = split_key(key)
    scalar = _scalar_test(operator, expected)

    def test(record: Mapping[str, Any]) -> bool:
        actual = record.get(name)
        if isinstance(actual, list):
            if actual and isinstance(actual[0], Mapping):
                return any(scalar(entry["VALUE"]) for entry in actual)
            return any(scalar(value) for value in actual)
        return scalar(actual)

    return test


def _scalar_test(operator: str, expected: Any) -> Test:
    options = (
        frozenset(text(item) for item in items(expected))
        if isinstance(expected, list | Mapping)
        else None
    )
    wanted = text(expected)
    if operator in ("%", "!%"):  # the value is a substring: its own % are not passed
        part = wanted.lower().replace("%", "")
        if operator == "!%":
            return lambda actual: actual is None or part not in text(actual).lower()
        return lambda actual: part in text(actual).lower()
    if operator in ("=%", "%="):  # the value is the LIKE pattern, its % as given
        return lambda actual: like(wanted, text(actual))
    if operator in ("!%=", "!=%"):
        return lambda actual: actual is None or not like(wanted, text(actual))
    if operator in ("!", "!=", "!@"):
        if options is not None:
            return lambda actual: text(actual) not in options
        return lambda actual: text(actual) != wanted
    if operator in (">", "<", ">=", "<="):
        right = sort_key(wanted)
        compare: Callable[[Any, Any], bool] = {
            ">": _operator.gt,
            "<": _operator.lt,
            ">=": _operator.ge,
            "<=": _operator.le,
        }[operator]
        return lambda actual: actual is not None and compare(sort_key(text(actual)), right)
    if options is not None:
        return lambda actual: text(actual) in options
    return lambda actual: (wanted == "" and actual is None) or text(actual) == wanted


_DATE_OPERATORS: Final = ("", "=", "!", "!=", ">", ">=", "<", "<=")


def compile_date_filter(key: Any, expected: Any) -> Callable[[Mapping[str, Any]], bool] | None:
    """A condition on a date field, compared as instants (``2023-10-01T00:00:00``,
    ``01.10.2023`` and ``2023-09-30T21:00:00-03:00`` name the same moment); ``None``
    when the value is no date the portal reads: that condition is dropped, as the
    portal drops a date ``CRestUtil::unConvertDateTime`` cannot read
    (**[inference]**). An operator dates do not have (``%``, ``@``) is
    :func:`compile_filter`'s, on the text."""
    operator, name = split_key(key)
    if operator not in _DATE_OPERATORS or isinstance(expected, list | Mapping):
        return compile_filter(key, expected)
    wanted = instant(text(expected)) if text(expected) else None
    if wanted is None:
        return None
    compare: Callable[[Any, Any], bool] = {
        "": _operator.eq,
        "=": _operator.eq,
        "!": _operator.ne,
        "!=": _operator.ne,
        ">": _operator.gt,
        ">=": _operator.ge,
        "<": _operator.lt,
        "<=": _operator.le,
    }[operator]

    def test(record: Mapping[str, Any]) -> bool:
        actual = record.get(name)
        values = actual if isinstance(actual, list) else [actual]
        for value in values:
            moment = instant(value) if isinstance(value, str) else None
            if moment is not None and compare(moment, wanted):
                return True
        return operator in ("!", "!=") and not any(isinstance(v, str) for v in values)

    return test
