"""Dotted parameter names to nested data, with PHP semantics (rules C1–C3).

``nest([("user.name", "Anna"), ("user.last_name", "Lee")])`` gives
``{"user": {"name": "Anna", "last_name": "Lee"}}``. It behaves like the common
PHP dot-set helper followed by ``json_encode``:

- later pairs win (C2): a scalar met on the way is replaced by an object, and a
  later scalar replaces a whole object;
- a node whose keys are exactly ``0..n-1`` in that order becomes a list (C3);
- a name with an empty segment (``a..b``, ``.a``, ``a.``) is a configuration
  error (A4), reported with the pair's position.

Values placed by a pair are kept as they are: an object taken from a variable
(rule C6) is copied before anything is merged into it, never mutated.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from .errors import ConfigurationError

__all__ = ["MAX_SEGMENTS", "flatten", "nest", "split_name"]

#: The most segments a parameter name may have (rule A4): each is a level of the
#: body, built and encoded recursively; a name of a thousand dots would otherwise
#: crash the action with a RecursionError instead of a configuration error.
MAX_SEGMENTS = 100


def split_name(name: str, *, field: str = "name") -> list[str]:
    """Split a dotted parameter name, rejecting empty segments and more than
    :data:`MAX_SEGMENTS` of them (rule A4)."""
    segments = name.split(".", MAX_SEGMENTS)
    if "" in segments:
        raise ConfigurationError(
            field=field,
            value=name,
            expected="dot-separated segments that are not empty (like 'user.name')",
        )
    if len(segments) > MAX_SEGMENTS:
        raise ConfigurationError(
            field=field,
            value=name,
            expected=f"at most {MAX_SEGMENTS} dot-separated segments (levels of the body)",
        )
    return segments


def nest(
    pairs: Iterable[tuple[str, Any]] | Mapping[str, Any],
) -> dict[str, Any] | list[Any]:
    """Build nested data from ordered ``(dotted_name, value)`` pairs (or a mapping's items,
    in its order).

    The root follows rule C3 like every other node, except that no pairs give
    ``{}``. Raises :class:`ConfigurationError` naming ``params[i].name`` for a
    name with an empty segment.
    """
    if isinstance(pairs, Mapping):
        pairs = pairs.items()
    root: dict[str, Any] = {}
    # Nodes built here, safe to mutate and to turn into lists. Holding them keeps
    # their ids from being reused by a caller's object while this runs.
    owned: dict[int, dict[str, Any]] = {id(root): root}
    for index, (name, value) in enumerate(pairs):
        if name and "." not in name:
            root[name] = value
            continue
        segments = split_name(name, field=f"params[{index}].name")
        node = root
        for segment in segments[:-1]:
            child = node.get(segment)
            if not (type(child) is dict and id(child) in owned):
                if isinstance(child, Mapping):
                    child = {str(key): item for key, item in child.items()}
                elif isinstance(child, list):
                    child = {str(position): item for position, item in enumerate(child)}
                else:
                    child = {}
                owned[id(child)] = child
                node[segment] = child
            node = child
        node[segments[-1]] = value
    if not root:
        return root
    return _listify(root, owned)


def _listify(node: dict[str, Any], owned: dict[int, dict[str, Any]]) -> dict[str, Any] | list[Any]:
    for key, child in node.items():
        if type(child) is dict and id(child) in owned:
            node[key] = _listify(child, owned)
    if all(key == str(position) for position, key in enumerate(node)):
        return list(node.values())
    return node


def flatten(data: Mapping[str, Any] | Sequence[Any], prefix: str = "") -> list[tuple[str, Any]]:
    """The inverse of :func:`nest`: leaves as ``(dotted_name, value)`` pairs, in order.

    An empty object or list is a leaf of its own.
    """
    pairs: list[tuple[str, Any]] = []
    items: Iterable[tuple[Any, Any]]
    items = data.items() if isinstance(data, Mapping) else enumerate(data)
    for key, value in items:
        name = f"{prefix}{key}"
        if isinstance(value, Mapping | list | tuple) and value:
            pairs.extend(flatten(value, name + "."))
        else:
            pairs.append((name, value))
    return pairs
