"""Form and query bodies decoded the way PHP's ``parse_str`` fills ``$_POST`` (pure).

``user%5Bname%5D=Anna&tags%5B%5D=a`` becomes ``{"user": {"name": "Anna"}, "tags": ["a"]}``.
Later names win; ``[]`` appends; dots and spaces in a top-level name become
``_`` as PHP makes them (so a literal ``user.name=…`` arrives as ``user_name``);
text after a closing bracket is dropped; a name starting with ``[`` is dropped.
Nodes whose keys are ``0..n-1`` in order read as lists, as ``json_encode`` prints them.

A percent-escape that is not UTF-8 (``name=caf%E9``) keeps its byte, as PHP keeps it
(``"caf\\xe9"``, four bytes), written ``\\xNN`` (``caf\\xe9``) as the journal writes
every undecodable byte, never U+FFFD (which loses it); :func:`has_undecodable` tells.
"""

from __future__ import annotations

import re
from typing import Any, Final
from urllib.parse import unquote_plus, unquote_to_bytes

__all__ = ["field_keys", "has_undecodable", "parse_php_form", "php_pairs"]

_SEGMENT: Final = re.compile(r"\[([^\]]*)\]")
_BRACKETS: Final = re.compile(r"(?:\[[^\[\]]*\])+")
_MAX_DEPTH: Final = 64  # PHP's max_input_nesting_level


def php_pairs(text: str) -> list[tuple[str, str]]:
    """The raw ``(name, value)`` pairs of an urlencoded text, decoded, in order."""
    pairs = []
    for part in text.split("&"):
        if not part:
            continue
        name, _, value = part.partition("=")
        pairs.append((_decoded(name), _decoded(value)))
    return pairs


def _decoded(text: str) -> str:
    """``+`` and percent-escapes decoded; a byte that is not UTF-8 written ``\\xNN``."""
    if "%" not in text and "+" not in text:
        return text
    decoded = unquote_plus(text, errors="surrogateescape")
    if decoded.isascii():
        return decoded
    try:
        decoded.encode("utf-8")
    except UnicodeEncodeError:
        try:
            return decoded.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
        except UnicodeEncodeError:  # a lone surrogate given as text, not a byte
            return decoded.encode("utf-8", "backslashreplace").decode("utf-8")
    return decoded


def has_undecodable(text: str) -> bool:
    """Whether a percent-escape in the urlencoded ``text`` is not UTF-8."""
    if "%" not in text:
        return False
    try:
        unquote_to_bytes(text).decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def field_keys(name: str) -> tuple[str, ...]:
    """The keys a query or form matcher's name points at in the decoded data.

    Dotted (``user.name``, ``tags.0``) or as the field is sent, in PHP brackets
    (``user[name]``, ``tags[0]``); both read the same. An empty key (``tags[]``,
    ``user..name``) is kept, for the caller to refuse.
    """
    opening = name.find("[")
    if opening > 0 and _BRACKETS.fullmatch(name, opening):
        return (*name[:opening].split("."), *_SEGMENT.findall(name, opening))
    return tuple(name.split("."))


def _split(name: str) -> list[str] | None:
    """PHP's reading of a field name into its keys (``None``: PHP drops the field)."""
    opening = name.find("[")
    if opening == 0:
        return None
    if opening < 0 or "]" not in name[opening:]:
        base = name
        rest = ""
    else:
        base, rest = name[:opening], name[opening:]
    # PHP turns spaces and dots in the base name into underscores (and a lone '[' too).
    base = base.replace(".", "_").replace(" ", "_")
    if not rest:
        return [base.replace("[", "_")]
    keys = [base]
    position = 0
    for match in _SEGMENT.finditer(rest):
        if match.start() != position:
            break
        keys.append(match.group(1))
        position = match.end()
        if len(keys) > _MAX_DEPTH:
            break
    return keys


def _as_lists(node: Any) -> Any:
    if isinstance(node, dict):
        for key, child in node.items():
            node[key] = _as_lists(child)
        if node and all(key == str(index) for index, key in enumerate(node)):
            return list(node.values())
    return node


#: A key PHP reads as an integer: decimal, no sign or leading zero, within PHP_INT_MAX.
_PHP_INT: Final = re.compile(r"0|[1-9][0-9]{0,18}")
_PHP_INT_MAX: Final = 2**63 - 1


def _integer_key(key: str) -> int | None:
    if _PHP_INT.fullmatch(key):
        number = int(key)
        if number <= _PHP_INT_MAX:
            return number
    return None


def parse_php_form(text: str) -> dict[str, Any] | list[Any]:
    """Decode an urlencoded text as PHP does into nested data (see the module docstring).

    ``[]`` appends at the node's next free index, one more than its largest integer key
    so far, kept per node as PHP keeps it (finding it by reading every key made 1 300
    appends take 0.2 s, and a form of 200 000 hours)."""
    root: dict[str, Any] = {}
    # Each node's next free index, by id; the nodes are held so that ids stay theirs.
    free: dict[int, int] = {}
    held: list[dict[str, Any]] = [root]
    for name, value in php_pairs(text):
        keys = _split(name)
        if keys is None or keys[0] == "":
            continue
        node = root
        for index, key in enumerate(keys):
            last = index == len(keys) - 1
            if key == "":
                next_free = free.get(id(node), 0)
                if next_free > _PHP_INT_MAX:
                    break  # PHP: "the next element is already occupied"; not added
                key = str(next_free)
            number = _integer_key(key)
            if number is not None and number >= free.get(id(node), 0):
                free[id(node)] = number + 1
            if last:
                node[key] = value
            else:
                child = node.get(key)
                if not isinstance(child, dict):
                    child = {}
                    held.append(child)
                    node[key] = child
                node = child
    result: dict[str, Any] | list[Any] = _as_lists(root)
    return result
