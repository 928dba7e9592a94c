"""Values as a file wrote them: how a plain YAML scalar is read, and text fields kept as text.

YAML 1.1, which PyYAML follows, reads ``+79001234567`` as the number 79001234567,
``0123`` as 83 (octal), ``1:30`` as 90 (sexagesimal) and ``NO`` as false; turned
back into text, each is no longer what was written. Here a plain scalar becomes a
number, a boolean or null only when writing that value back gives the same text:

- ``null``, ``Null``, ``NULL``, ``~`` and an empty value are null;
- ``true`` and ``false`` are booleans;
- a decimal integer without a sign or leading zero (``0``, ``42``, ``-7``) is an int;
- a decimal with a fraction (``1.5``, ``-0.25``, ``1.50``, ``2.5e+3``) is a float that
  keeps its text (:class:`WrittenFloat`: ``1.50`` is the number 1.5 and the text "1.50");
- everything else is the text as written: ``+79001234567``, ``0123``, ``1:30``, ``NO``,
  ``yes``, ``on``, ``0x1F``, ``1_000``, ``.5``, ``1e3``, ``.inf``, ``2026-01-01``, ``=``.

A field that is text then takes the scalar's text (:func:`as_written`); a field
that holds any JSON value keeps numbers and booleans as such. :func:`stub_texts`
applies this to the text fields of a stub. A plain word YAML 1.1 reads as a boolean
(``yes``, ``no``, ``on``, ``off``, ``True``) is a :class:`YamlWord`: text, but marked,
so that a boolean field of a stub reads it as YAML 1.1 does while a quoted ``'yes'``
(or JSON's ``"yes"``) is refused there. A stub's number and boolean fields take only
numbers and booleans (``status: "200"`` and ``priority: 010`` are refused, naming the
field); a scenario's own fields read the text the way their type does (``strict: no``
is false, ``count: 010`` is ten).
"""

from __future__ import annotations

import math
from typing import Any, Final

__all__ = [
    "MAX_DIGITS",
    "BeyondFloat",
    "WrittenFloat",
    "YamlNumber",
    "YamlWord",
    "as_written",
    "crm_fault_texts",
    "number_or_text",
    "pattern_texts",
    "stub_texts",
    "text_matcher",
]

#: Longer integers stay text (Python refuses to convert more than 4300 digits).
MAX_DIGITS: Final = 4000


class WrittenFloat(float):
    """A float read from a file that remembers how it was written (``1.50``, ``2.5e+3``)."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> WrittenFloat:
        value = super().__new__(cls, text)
        value.text = text
        return value

    def __reduce__(self) -> tuple[type[WrittenFloat], tuple[str]]:
        return (WrittenFloat, (self.text,))


class BeyondFloat(str):
    """A number a file wrote that no float holds (``1e999``, ``-2.5e+999``), kept as its
    text: a number field and a JSON value both refuse it, showing it as written (a
    float would read it as ``inf``, which JSON cannot carry); a text field takes it."""

    __slots__ = ()


class YamlWord(str):
    """A plain scalar YAML 1.1 reads as a boolean (``yes``, ``Off``, ``TRUE``), kept as its
    text: text fields take the text, a stub's boolean fields the boolean (:meth:`flag`)."""

    __slots__ = ()

    def flag(self) -> bool | None:
        """The boolean YAML 1.1 reads this word as (``None`` for a word it does not)."""
        return _YAML_11_BOOLEANS.get(self.lower())


class YamlNumber(str):
    """A plain scalar YAML 1.1 reads as a number, a date or a time (``010``, ``+3``,
    ``1e3``, ``0x1F``, ``1:20``, ``2026-01-01``), kept as its text and marked as plain.

    Only a reader asked for it gives these (``load_documents(..., marked=True)``): a
    whole-number field of a scenario reads a plain ``count: 010`` as ten, and refuses
    a quoted ``"010"`` as text, as it refuses ``"2"``; everywhere else the scenario
    loader gives the plain text (see :func:`unmarked`)."""

    __slots__ = ()


_YAML_11_BOOLEANS: Final = {
    **dict.fromkeys(("yes", "true", "on"), True),
    **dict.fromkeys(("no", "false", "off"), False),
}


def as_written(value: Any) -> Any:
    """The text of a scalar as the file wrote it; anything else (null, a list, a mapping,
    text) is returned as it is."""
    if isinstance(value, str):
        return str(value) if isinstance(value, YamlWord | YamlNumber | BeyondFloat) else value
    if isinstance(value, WrittenFloat):
        return value.text
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, int | float):
        return repr(value) if isinstance(value, float) else str(value)
    return value


def unmarked(value: Any) -> Any:
    """``value`` with every :class:`YamlNumber` in it made plain text (without recursion)."""
    if isinstance(value, YamlNumber):
        return str(value)
    if not isinstance(value, dict | list):
        return value
    root: list[Any] = [value]
    stack: list[tuple[Any, Any, Any]] = [(root, 0, value)]
    while stack:
        holder, key, item = stack.pop()
        if isinstance(item, dict):
            copied: Any = dict(item)
            stack.extend((copied, name, each) for name, each in item.items())
        elif isinstance(item, list):
            copied = list(item)
            stack.extend((copied, index, each) for index, each in enumerate(item))
        elif isinstance(item, YamlNumber):
            copied = str(item)
        else:
            continue
        holder[key] = copied
    return root[0]


def number_or_text(text: str) -> Any:
    """A JSON number's text as a value: a float keeps its text; an integer too long to be
    one stays text (a number field then says it is not a number), and so does a float
    beyond a float's range, marked (:class:`BeyondFloat`) to be refused as written."""
    if "." in text or "e" in text or "E" in text:
        value = WrittenFloat(text)
        return value if math.isfinite(value) else BeyondFloat(text)
    return int(text) if len(text) <= MAX_DIGITS else text


_MATCHER_KEYS: Final = ("equal", "regex", "contains")


def _text_at(data: dict[str, Any], key: str) -> None:
    if key in data:
        data[key] = as_written(data[key])


def text_matcher(value: Any) -> Any:
    """A matcher of text (a value, or ``{equal|regex|contains: …}``) with its scalars as
    written: ``zip: 0123`` matches "0123", ``price: 1.50`` matches "1.50"."""
    if value is None:
        return value
    if isinstance(value, dict):
        if value and set(value) <= {*_MATCHER_KEYS, "present", "absent"}:
            value = dict(value)
            for key in _MATCHER_KEYS:
                _text_at(value, key)
        return value
    return as_written(value)


def _matchers(value: Any) -> Any:
    if isinstance(value, dict):
        return {name: text_matcher(item) for name, item in value.items()}
    return value


def pattern_texts(data: Any) -> Any:
    """A request pattern with its text fields as written: method, paths, and the matchers
    of query, headers, form and the raw body (they match text)."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for key in ("method", "path", "path_regex"):
        _text_at(data, key)
    for key in ("query", "headers", "form"):
        if key in data:
            data[key] = _matchers(data[key])
    if "body" in data:
        data["body"] = text_matcher(data["body"])
    return data


def _response(data: Any) -> Any:
    if not isinstance(data, dict):
        return data
    data = dict(data)
    if isinstance(data.get("headers"), dict):
        data["headers"] = {name: as_written(item) for name, item in data["headers"].items()}
    for key in ("text", "base64"):
        _text_at(data, key)
    return data


def crm_fault_texts(data: Any) -> Any:
    """A fake CRM's fault with its text fields as written (``code: 0123``, ``message: NO``)."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for key in ("method", "code", "message", "location"):
        _text_at(data, key)
    return data


def stub_texts(data: Any) -> Any:
    """A stub's data with every text field as written (``X-Count: 5`` is the header "5",
    ``price: 1.50`` in a query matcher matches "1.50"); numbers, booleans and JSON bodies
    are left as they are."""
    if not isinstance(data, dict):
        return data
    data = dict(data)
    for key in ("id", "name"):
        _text_at(data, key)
    if "request" in data:
        data["request"] = pattern_texts(data["request"])
    if "response" in data:
        data["response"] = _response(data["response"])
    if isinstance(data.get("responses"), list):
        data["responses"] = [_response(item) for item in data["responses"]]
    if isinstance(data.get("state"), dict):
        state = dict(data["state"])
        for key in ("scenario", "required", "set", "key"):
            _text_at(state, key)
        data["state"] = state
    return data
