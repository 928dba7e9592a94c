"""Pydantic's validation errors in our words: what the field expected, said as a person
who wrote YAML or JSON reads it ("a number of at least 200", not "Input should be greater
than or equal to 200"; "a list of at least 1 item", not "List should have at least 1 item
after validation"). :func:`mockserver.validation.describe_error` adds the field and what came.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Final

from .written import MAX_DIGITS as _MAX_DIGITS
from .written import BeyondFloat

__all__ = ["NULL_TEXT", "SHOWN_LIMIT", "not_scalar", "our_words", "shown_input"]


#: What came is shown up to this many characters (a 5000-digit number, a 1 MB string).
SHOWN_LIMIT: Final = 200


def not_scalar(value: Any) -> str:
    """What a value that is not text, a number or a boolean is, in a message: ``null``,
    ``a list`` or ``a mapping``."""
    return "null" if value is None else "a list" if isinstance(value, list) else "a mapping"


def shown_input(value: Any) -> str:
    """What came, for a message: ``repr``, but null, true and false as a file writes them,
    a number as the file wrote it (``1e3``), and cut in the middle past
    :data:`SHOWN_LIMIT` characters."""
    from .written import WrittenFloat

    if isinstance(value, BeyondFloat):
        return str(value)  # a number as written, not quoted as text
    if value is None or isinstance(value, bool):
        return "null" if value is None else str(value).lower()  # as YAML and JSON write them
    text = value.text if isinstance(value, WrittenFloat) else repr(value)
    if len(text) <= SHOWN_LIMIT:
        return text
    half = SHOWN_LIMIT // 2 - 10
    return f"{text[:half]}...{text[-half:]} ({len(text):,} characters)"


def _items(count: Any) -> str:
    return f"{count} item" if count == 1 else f"{count} items"


def _characters(count: Any) -> str:
    return f"{count} character" if count == 1 else f"{count} characters"


def _collection(context: Mapping[str, Any]) -> str:
    kind = str(context.get("field_type", "")).lower()
    return {"dictionary": "a mapping", "tuple": "a list", "set": "a list"}.get(kind, "a list")


def _expected(context: Mapping[str, Any]) -> str:
    expected = str(context.get("expected", ""))
    return f"one of {expected}" if "," in expected else expected


_WORDS: Final[dict[str, Callable[[Mapping[str, Any]], str]]] = {
    "greater_than_equal": lambda c: f"a number of at least {c.get('ge')}",
    "greater_than": lambda c: f"a number above {c.get('gt')}",
    "less_than_equal": lambda c: f"a number of at most {c.get('le')}",
    "less_than": lambda c: f"a number below {c.get('lt')}",
    "multiple_of": lambda c: f"a multiple of {c.get('multiple_of')}",
    "finite_number": lambda c: "a finite number (not NaN or infinity)",
    "too_short": lambda c: f"{_collection(c)} of at least {_items(c.get('min_length'))}",
    "too_long": lambda c: f"{_collection(c)} of at most {_items(c.get('max_length'))}",
    "string_too_short": lambda c: (
        "text that is not empty"
        if c.get("min_length") == 1
        else f"text of at least {_characters(c.get('min_length'))}"
    ),
    "string_too_long": lambda c: f"text of at most {_characters(c.get('max_length'))}",
    "string_pattern_mismatch": lambda c: f"text matching {c.get('pattern')}",
    "string_type": lambda c: "text",
    "string_unicode": lambda c: "text (UTF-8)",
    "int_type": lambda c: "a whole number",
    "int_parsing": lambda c: "a whole number",
    "int_from_float": lambda c: "a whole number (no fraction)",
    "int_parsing_size": lambda c: "a whole number of a size a computer can hold",
    "float_type": lambda c: "a number",
    "float_parsing": lambda c: "a number",
    "bool_type": lambda c: "true or false",
    "bool_parsing": lambda c: "true or false",
    "list_type": lambda c: "a list",
    "tuple_type": lambda c: "a list",
    "set_type": lambda c: "a list",
    "dict_type": lambda c: "a mapping",
    "mapping_type": lambda c: "a mapping",
    "none_required": lambda c: "null (nothing)",
    "literal_error": _expected,
    "enum": _expected,
    "datetime_type": lambda c: "a date and time such as 2026-01-01T09:00:00Z",
    "datetime_parsing": lambda c: "a date and time such as 2026-01-01T09:00:00Z",
    "datetime_from_date_parsing": lambda c: "a date and time such as 2026-01-01T09:00:00Z",
    "date_type": lambda c: "a date such as 2026-01-01",
    "date_parsing": lambda c: "a date such as 2026-01-01",
    "timedelta_type": lambda c: "a duration like 5s or 1m35s",
    "timedelta_parsing": lambda c: "a duration like 5s or 1m35s",
    "bytes_type": lambda c: "text",
    "json_type": lambda c: "a JSON value",
    "json_invalid": lambda c: "valid JSON",
    "is_instance_of": lambda c: "a value of another kind",
    "url_type": lambda c: "a URL",
    "url_parsing": lambda c: "a URL",
}


#: Text expected where a file wrote null: which of two things was meant is unclear.
NULL_TEXT: Final = (
    "text (YAML reads ~, null and an empty value as no value): "
    "write '' for empty text, or quote the word ('null')"
)


_DECIMAL: Final = re.compile(r"-?(?:0|[1-9][0-9]*)")
_FRACTION: Final = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")


def _unquote_hint(text: str, number: re.Pattern[str]) -> str:
    """`` (write 200 without quotes)`` for text that reads as a number (the number not
    repeated when long: the message shows what came anyway)."""
    if not number.fullmatch(text):
        return ""
    return f" (write {text} without quotes)" if len(text) <= 40 else " (write it without quotes)"


def _strict_words(kind: str, value: Any) -> str | None:
    """What a strict number or boolean field says of a value of another kind (text that
    reads as one, a boolean for a number, a number for a boolean)."""
    if isinstance(value, BeyondFloat) and kind in ("int_type", "float_type"):
        # A file's unquoted 1e999: a number, but one no float holds.
        if kind == "int_type":
            return "a whole number, written without a fraction or an exponent"
        return "a number within a float's range (about 1.8e308 at most)"
    if kind == "int_type":
        if isinstance(value, str):
            digits = len(value.lstrip("-"))
            if digits > _MAX_DIGITS and _DECIMAL.fullmatch(value):
                # A file's integer too long for Python stays text: it was not quoted.
                return f"a whole number of at most {_MAX_DIGITS} digits, not {digits:,}"
            return f"a whole number, not text{_unquote_hint(value, _DECIMAL)}"
        if isinstance(value, bool):
            return "a whole number, not true or false"
        if isinstance(value, float):
            return "a whole number, written without a fraction or an exponent"
    if kind == "float_type":
        if isinstance(value, str):
            return f"a number, not text{_unquote_hint(value, _FRACTION)}"
        if isinstance(value, bool):
            return "a number, not true or false"
    if kind == "bool_type":
        if isinstance(value, str):
            hint = f" (write {value} without quotes)" if value in ("true", "false") else ""
            return f"true or false, not text{hint}"
        if isinstance(value, int | float):
            return "true or false, not a number"
    return None


def our_words(item: Mapping[str, Any]) -> str | None:
    """What the field expected, for one of pydantic's error dicts; ``None`` where the
    message is ours already (a validator's) or the kind is not known here."""
    if item.get("type") == "string_type" and "input" in item and item["input"] is None:
        return NULL_TEXT
    if "input" in item and (strict := _strict_words(str(item.get("type")), item["input"])):
        return strict
    words = _WORDS.get(str(item.get("type")))
    if words is None:
        return None
    return words(item.get("ctx") or {})
