"""Dotted paths into stored values (rule B2): ``result.promo.code``, ``result.items.0.name``.

A segment walks into a mapping by key; a segment of ASCII decimal digits in
canonical form (``0``, ``7``, ``12``, never ``07``) indexes a list. Mapping keys
are compared as text, so ``{"0": …}`` is reached by ``.0`` as a PHP array would be.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, Final

from .errors import PathNotFound

__all__ = ["MISSING", "lookup", "split_path"]

# At most 19 digits: no list is longer than that reaches, and ``int()`` of 4 300 digits
# or more raises (a path segment of 5 000 digits into a list was a ValueError).
_INDEX: Final = re.compile(r"0|[1-9][0-9]{0,18}")


class _Missing:
    """The sentinel for "no value here", distinct from a stored ``None``."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False


MISSING: Final = _Missing()


def split_path(path: str | Sequence[str | int]) -> list[str]:
    """Split ``"a.b.0"`` into ``["a", "b", "0"]``; a sequence is taken segment by segment."""
    if isinstance(path, str):
        return path.split(".") if path else []
    return [str(segment) for segment in path]


# What a type is for a path: a mapping, a sequence to index, or a leaf. Asked of
# the ABCs once per type (an ABC ``isinstance`` is a Python call each time), for at
# most ``_MAX_SHAPES`` types.
_MAPPING: Final = 0
_SEQUENCE: Final = 1
_LEAF: Final = 2
_MAX_SHAPES: Final = 1024
_SHAPES: dict[type, int] = {
    dict: _MAPPING,
    list: _SEQUENCE,
    str: _LEAF,
    bytes: _LEAF,
    int: _LEAF,
    float: _LEAF,
    bool: _LEAF,
    type(None): _LEAF,
}


def _shape(value: Any) -> int:
    if isinstance(value, Mapping):
        shape = _MAPPING
    elif isinstance(value, Sequence) and not isinstance(value, str | bytes):
        shape = _SEQUENCE
    else:
        shape = _LEAF
    if len(_SHAPES) < _MAX_SHAPES:
        _SHAPES[type(value)] = shape
    return shape


def step(value: Any, segment: str) -> Any:
    """Walk one segment into ``value``; return ``MISSING`` when there is nothing there."""
    kind = type(value)
    if kind is dict:
        return value.get(segment, MISSING)
    shape = _SHAPES.get(kind)
    if shape is None:
        shape = _shape(value)
    if shape == _MAPPING:
        return value.get(segment, MISSING)
    if shape == _SEQUENCE:
        if _INDEX.fullmatch(segment):
            index = int(segment)
            if index < len(value):
                return value[index]
        return MISSING
    return MISSING


def lookup(value: Any, path: str | Sequence[str | int], default: Any = MISSING) -> Any:
    """Return what ``path`` reaches inside ``value``.

    ``lookup({"promo": {"code": "ABC"}}, "promo.code") == "ABC"``. An empty path
    returns ``value`` itself. When the path leads nowhere, ``default`` is
    returned if given, else :class:`PathNotFound` names the failing segment.
    """
    current = value
    for segment in split_path(path):
        found = step(current, segment)
        if found is MISSING:
            if default is not MISSING:
                return default
            shown = path if isinstance(path, str) else ".".join(split_path(path))
            raise PathNotFound(path=shown, at=segment, reason=_describe(current, segment))
        current = found
    return current


def _describe(container: Any, segment: str) -> str:
    if isinstance(container, Mapping):
        return "no such key"
    if isinstance(container, Sequence) and not isinstance(container, str | bytes):
        if _INDEX.fullmatch(segment):
            return f"index out of range for a list of {len(container)}"
        if segment.isascii() and segment.isdigit() and segment[0] != "0":
            return f"index out of range for a list of {len(container)}"
        return "a list is indexed by decimal digits"
    return f"{type(container).__name__} has no members"
