"""How a validation error reads: pydantic's errors as a person who wrote YAML or JSON
understands them.

Each error names its field as the data was written (``flow[0].webhook``, without
the names pydantic gives union members), says what was expected and what came,
and, where a model's JSON Schema can tell, the closest allowed field to a
misspelt one (``did you mean 'webhook'?``) or the fields a mapping takes.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from functools import cache
from typing import TYPE_CHECKING, Any, Final

from .wording import our_words, shown_input

if TYPE_CHECKING:
    from pydantic import BaseModel, ValidationError

__all__ = [
    "describe_error",
    "dotted_path",
    "explain",
    "fields_at",
    "look_alike",
    "model_schema",
    "shown_loc",
    "skeleton",
    "suggest_field",
    "unseen",
]


def dotted_path(path: Iterable[str | int]) -> str:
    """A field path as errors show it: ``("flow", 0, "webhook")`` is ``flow[0].webhook``."""
    return "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")


def explain(
    error: ValidationError, model: type[BaseModel] | None = None
) -> list[tuple[tuple[str | int, ...], str]]:
    """Each of pydantic's errors as the path the person wrote and what was expected and
    what came; ``model`` (the one validated) makes both read better."""
    schema = model_schema(model) if model is not None else None
    items = error.errors(include_url=False)
    # A misspelt required key (`flоw`, a Cyrillic о) is said once: "unknown field; did you
    # mean 'flow'?" and what differs; "flow: this field is required" beside it said the
    # same thing again, as if two things were wrong.
    misspelt = {
        (tuple(item["loc"][:-1]), skeleton(item["loc"][-1]))
        for item in items
        if item["type"] == "extra_forbidden" and item["loc"] and isinstance(item["loc"][-1], str)
    }
    out = []
    for item in items:
        loc = tuple(item["loc"])
        if (
            item["type"] == "missing"
            and loc
            and isinstance(loc[-1], str)
            and (loc[:-1], loc[-1]) in misspelt
        ):
            continue
        message = describe_error(item, model)
        if loc and loc[-1] == "[key]":  # pydantic's mark for a mapping's key that is wrong
            loc, message = loc[:-1], f"not a key allowed here: {message}"
        out.append((shown_loc(schema, loc) if schema is not None else loc, message))
    return out


def shown_path(loc: Sequence[str | int]) -> str:
    """:func:`dotted_path`, cut in the middle when very deep (data nested 300 levels)."""
    if len(loc) <= 16:
        return dotted_path(loc)
    return f"{dotted_path(loc[:8])}...{dotted_path(loc[-4:])}"


def describe_error(item: Mapping[str, Any], model: type[BaseModel] | None = None) -> str:
    """One of pydantic's validation errors as a person reads it: what was expected, what came.

    With the ``model`` that was validated, an unknown field names the closest known
    field at its place (``did you mean 'webhook'?``), and a value that should have
    been a mapping names the fields that mapping takes.
    """
    message = our_words(item) or str(item["msg"]).removeprefix("Value error, ")
    kind = item["type"]
    if kind == "extra_forbidden":
        known = suggest_field(model_schema(model), item["loc"]) if model is not None else None
        if known is not None:
            return f"unknown field; did you mean {known!r}?{unseen(item['loc'][-1])}"
        return "unknown field (check the spelling, or see the schema)"
    if kind == "missing":
        return "this field is required"
    if kind in ("recursion_loop", "recursion_depth_exceeded"):
        return "nested too deeply to check (at most about 200 levels)"
    if kind in ("model_type", "model_attributes_type", "dataclass_type"):
        # pydantic names the Python class here; the person wrote YAML or JSON.
        names = fields_at(model_schema(model), item["loc"]) if model is not None else []
        shown = ", ".join(names[:8]) + (", ..." if len(names) > 8 else "")
        expected = f"a mapping with the fields {shown}" if names else "a mapping"
        return f"{expected}; got {item.get('input')!r}"
    if "input" in item and kind not in ("value_error", "assertion_error"):
        value = item["input"]
        if isinstance(value, date):  # YAML 1.1 reads an unquoted 2026-01-01 as a date
            return f"{message}; got {value!r}: YAML read it as a date; quote it ('{value}')"
        return f"{message}; got {shown_input(value)}"
    return message


def unseen(key: object, what: str = "the key") -> str:
    """What makes ``key`` differ from a field name that prints alike: a space at an end,
    a letter of another script (Cyrillic ``е`` in ``expect``), an invisible character;
    ``""`` when nothing of the kind is there. ``what`` names ``key`` in the words."""
    if not isinstance(key, str):
        return ""
    if key != key.strip():
        return f" ({what} has a space at an end)"
    import unicodedata

    for index, char in enumerate(key):
        if not char.isascii():
            name = unicodedata.name(char, "a character without a name")
            return f" (character {index + 1} of {what} is U+{ord(char):04X} {name}, not ASCII)"
    return ""


#: Letters of other scripts that print as an ASCII letter (Unicode's confusables for
#: the Latin alphabet, the common ones: Cyrillic and Greek).
_CONFUSABLES: Final = str.maketrans(
    "аеорсухіјѕԁһԛԝӏАВЕКМНОРСТХІЈЅοανικρτυχΑΒΕΖΗΙΚΜΝΟΡΤΥΧ",
    "aeopcyxijsdhqwlABEKMHOPCTXIJSoavikptuxABEZHIKMNOPTYX",
)


def skeleton(text: object) -> object:
    """``text`` as it prints: compatibility forms made plain (fullwidth ``ｅ`` is ``e``),
    accents, invisible characters and spaces at the ends dropped, and Cyrillic or
    Greek letters that print as Latin ones made Latin. Two texts with one skeleton
    cannot be told apart on screen. Anything but a text is itself."""
    if not isinstance(text, str):
        return text
    import unicodedata

    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if unicodedata.category(c) not in ("Mn", "Cf"))
    return plain.translate(_CONFUSABLES).strip()


def look_alike(first: str, second: str) -> bool:
    """Whether two different texts print alike (see :func:`skeleton`)."""
    return first != second and skeleton(first) == skeleton(second)


@cache
def model_schema(model: type[BaseModel]) -> dict[str, Any]:
    """The model's JSON Schema, made once per model (error messages walk it)."""
    return model.model_json_schema()


_SHAPES: Final = (
    "type", "properties", "items", "additionalProperties", "$ref", "anyOf", "oneOf", "allOf",
    "enum", "const",
)  # fmt: skip
_KINDS: Final = ("list", "dict", "str", "int", "float", "bool", "none")
#: How pydantic names the members of a union in an error's path (a JSON value's kinds,
#: a validator's ``function-after[...]``, a model's class name).
_TAG: Final = re.compile(r"(list|dict|str|int|float|bool|none|[A-Z]\w*|[\w-]+\[.*\])$")


class _Schema:
    """Walks a model's JSON Schema along pydantic's error paths."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self.root = schema
        self.definitions = schema.get("$defs", {})

    def expand(self, start: Any) -> list[Mapping[str, Any]]:
        """``start`` and every node it stands for: references followed, unions opened."""
        out: list[Mapping[str, Any]] = []
        queue, seen = deque([start]), set()
        while queue:
            node = queue.popleft()
            if not isinstance(node, Mapping) or id(node) in seen:
                continue
            seen.add(id(node))
            out.append(node)
            if isinstance(node.get("$ref"), str):
                queue.append(self.definitions.get(node["$ref"].rsplit("/", 1)[-1]))
            for combinator in ("anyOf", "oneOf", "allOf"):
                queue.extend(node.get(combinator) or [])
        return out

    @staticmethod
    def is_any(node: Mapping[str, Any]) -> bool:
        """A node that allows any JSON value (pydantic's ``JsonValue``)."""
        return not any(key in node for key in _SHAPES)

    def step(self, nodes: list[Mapping[str, Any]], part: str | int) -> list[Mapping[str, Any]]:
        found: list[Any] = []
        for node in nodes:
            properties = node.get("properties") or {}
            if self.is_any(node):
                found.append(node)  # inside a JSON value, everything is a JSON value
            elif isinstance(part, int):
                found.append(node.get("items"))
            elif part in properties:
                found.append(properties[part])
            elif isinstance(node.get("additionalProperties"), Mapping):
                found.append(node["additionalProperties"])
        return [each for item in found if item is not None for each in self.expand(item)]


def _nodes_at(schema: Mapping[str, Any], loc: Sequence[str | int]) -> list[Mapping[str, Any]]:
    """The schema's nodes for the value at ``loc``: every branch of a union, references
    followed; a part of ``loc`` that no branch knows (pydantic's name of a union
    member) is passed over."""
    walk = _Schema(schema)
    nodes = walk.expand(schema)
    for part in loc:
        nodes = walk.step(nodes, part) or nodes
    return nodes


def shown_loc(schema: Mapping[str, Any], loc: Sequence[str | int]) -> tuple[str | int, ...]:
    """Pydantic's error path as the person wrote the data: without the names pydantic
    gives union members (``variables.e.list[1].dict.f`` is ``variables.e[1].f``)."""
    walk = _Schema(schema)
    nodes = walk.expand(schema)
    parts = list(loc)
    out: list[str | int] = []
    index = 0
    while index < len(parts):
        part, last = parts[index], index == len(parts) - 1
        if not last and part in _KINDS and any(walk.is_any(node) for node in nodes):
            index += 1  # a JSON value's kind, before the index or key it names
            continue
        following = walk.step(nodes, part)
        tagged = isinstance(part, str) and _TAG.fullmatch(part) is not None
        # A union member's name last (``dict[str,...]``): the value there is the field.
        if last and tagged and not following and "[" in str(part):
            break
        if following or last or not tagged:
            out.append(part)
            nodes = following or nodes
        index += 1
    return tuple(out)


def fields_at(schema: Mapping[str, Any], loc: Sequence[str | int]) -> list[str]:
    """The field names of the mapping expected at ``loc``, in the schema's order."""
    names: dict[str, None] = {}
    for node in _nodes_at(schema, loc):
        names.update(dict.fromkeys(node.get("properties") or {}))
    return list(names)


def suggest_field(schema: Mapping[str, Any], loc: Sequence[str | int]) -> str | None:
    """The known key closest to the unknown last key of ``loc``, if one is close.

    ``schema`` is the JSON Schema of the validated model; ``loc`` is pydantic's path
    of the error.
    """
    import difflib

    if not loc or not isinstance(loc[-1], str):
        return None
    close = difflib.get_close_matches(loc[-1], fields_at(schema, loc[:-1]), n=1, cutoff=0.6)
    return close[0] if close else None
