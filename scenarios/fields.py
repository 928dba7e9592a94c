"""The value types of scenario files: text, whole numbers, durations, pairs, rule ids
and mark names, each with the words its refusal says (pydantic annotations), and the
strict base model every part of a scenario file is built on."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Final

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    PlainSerializer,
    WithJsonSchema,
)

from mockserver.models import (
    WholeNumber,
)
from mockserver.wording import NULL_TEXT as NULL_TEXT_EXPECTED
from mockserver.written import (
    YamlNumber,
    as_written,
)
from webhook_core import Method

from .durations import format_duration, parse_duration
from .summary import RULES

__all__ = [
    "DURATION_SCHEMA",
    "MARK_NAME",
    "METHOD_PATTERN",
    "NULL_TEXT",
    "RULE_ID",
    "Count",
    "Duration",
    "MarkName",
    "MarkWithArgument",
    "Model",
    "OptionalText",
    "Pair",
    "RuleId",
    "Text",
    "Whole",
    "text_value",
]


RULE_ID = re.compile(r"[A-F][1-9]")
MARK_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# For editors and check-jsonschema; the loader checks the same with its own message.
RuleId = Annotated[str, WithJsonSchema({"type": "string", "enum": list(RULES)})]
MarkName = Annotated[str, WithJsonSchema({"type": "string", "pattern": f"^{MARK_NAME.pattern}$"})]
MarkWithArgument = Annotated[
    dict[str, JsonValue],
    WithJsonSchema(
        {
            "type": "object",
            "minProperties": 1,
            "maxProperties": 1,
            "propertyNames": {"pattern": f"^{MARK_NAME.pattern}$"},
        }
    ),
]


def _duration(value: Any) -> timedelta:
    if isinstance(value, str | int | float | timedelta) and not isinstance(value, bool):
        return parse_duration(value)
    raise ValueError(f"a duration like 5s or 1m35s; got {value!r}")


DURATION_SCHEMA = {
    "anyOf": [
        {"type": "string", "pattern": r"^\s*(\d+(\.\d+)?(ms|h|m|s)\s*)+$"},
        {"type": "number", "minimum": 0},
    ],
    "examples": ["0s", "5s", "1m35s", "2h31m35s", "250ms"],
}

Duration = Annotated[
    timedelta,
    BeforeValidator(_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(DURATION_SCHEMA),
]


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


def _pair(value: Any) -> Any:
    """``{Name: value}`` or ``[Name, value]`` → ``(name, value)``."""
    if isinstance(value, dict) and len(value) == 1:
        ((name, item),) = value.items()
        return (name, item)
    if isinstance(value, list | tuple) and len(value) == 2:
        return tuple(value)
    raise ValueError(f"a pair written as '- Name: value' or [Name, value]; got {value!r}")


#: Why a null cannot stand where text goes (``phone: ~``): YAML reads ``~``, ``null`` and
#: an empty value as "no value", and whether empty text or the word was meant is unclear.
NULL_TEXT: Final = f"{NULL_TEXT_EXPECTED}; got null"


def text_value(value: Any) -> Any:
    """A text field's value as the file wrote it: ``phone: +79001234567`` stays
    "+79001234567", ``n: 5`` is "5", ``price: 1.50`` is "1.50" (see mockserver.written)."""
    if value is None:
        raise ValueError(NULL_TEXT)
    if isinstance(value, dict) and len(value) == 1 and None in value.values():
        # `url: {mock.url}/x` unquoted: YAML reads the braces as a mapping.
        (key,) = value
        raise ValueError(
            f"text, got a mapping: YAML reads a value starting with '{{' as one; "
            f"quote it ('{{{key}}}...')"
        )
    return as_written(value)


#: Text as written, even where YAML would read a number or boolean (``bot_id: 7``,
#: ``phone: +79001234567``).
Text = Annotated[
    str,
    BeforeValidator(text_value),
    WithJsonSchema({"type": ["string", "number", "boolean"]}),
]


#: Digits YAML 1.1 reads as another number (``010`` octal, ``+3``), which the loader keeps
#: as text, marked as plain (:class:`~mockserver.written.YamlNumber`).
_YAML_DIGITS: Final = re.compile(r"[-+]?[0-9]{1,18}")


def _whole(value: Any) -> Any:
    if isinstance(value, bool):  # pydantic would read true as 1
        raise ValueError(f"a whole number; got {str(value).lower()}")
    if isinstance(value, YamlNumber) and _YAML_DIGITS.fullmatch(value):
        # A plain `count: 010` is ten (decimal), `+3` three; a quoted "010" is plain text
        # (the loader marks what YAML wrote plain), refused as "2" is.
        return int(value)
    if isinstance(value, str) and _YAML_DIGITS.fullmatch(value):
        # Quoted digits are text, whichever they are ("2", "010", "+3"): one message.
        raise ValueError(
            f"a whole number, not text (write {int(value)} without quotes); got {value!r}"
        )
    return value


#: A whole number given as one, as a stub's are (:data:`mockserver.models.WholeNumber`):
#: pydantic's lax mode read ``"2"`` (quoted: text) and ``2.0`` as 2, silently. A plain
#: ``010`` or ``+3`` is read as decimal, as before (docs/scenarios.md).
Whole = Annotated[WholeNumber, BeforeValidator(_whole)]
#: A whole number of at least 0.
Count = Annotated[WholeNumber, Field(ge=0), BeforeValidator(_whole)]


def _optional_text(value: Any) -> Any:
    return None if value is None else text_value(value)


#: Text that may be left out (``null`` means not given).
OptionalText = Annotated[
    str | None,
    BeforeValidator(_optional_text),
    WithJsonSchema({"type": ["string", "number", "boolean", "null"]}),
]


Pair = Annotated[
    tuple[str, Annotated[str, BeforeValidator(text_value)]],
    BeforeValidator(_pair),
    WithJsonSchema(
        {
            "description": "- Name: value (or [Name, value])",
            "anyOf": [
                {
                    "type": "object",
                    "minProperties": 1,
                    "maxProperties": 1,
                    "additionalProperties": {"type": ["string", "number", "boolean"]},
                },
                {
                    "type": "array",
                    "minItems": 2,
                    "maxItems": 2,
                    "items": {"type": ["string", "number", "boolean"]},
                },
            ],
        }
    ),
]


def _any_case(word: str) -> str:
    """A JSON Schema pattern for ``word`` in any case (ECMA regexes have no flag for it),
    with ``[ _]`` where it has a space, as rule A2's ``Method.parse`` reads it."""
    return "".join(
        "[ _]" if char == " " else f"[{char.upper()}{char.lower()}]" if char.isalpha() else char
        for char in word
    )


METHOD_PATTERN: Final = "^(" + "|".join(_any_case(m.value) for m in Method) + ")$"
