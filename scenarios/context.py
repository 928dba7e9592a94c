"""The bot's variables as the implementation under test sees them, at no cost per block.

The runner used to give every block a fresh deep copy of all the variables (a JSON
round trip of the whole context): a flow of n blocks over a context of size s cost
n x s, 50 ms a block once a 1 MB answer was saved. :class:`FlowVariables` does the
same work once per value instead, when a variable is set: the value is turned into
plain JSON data (as the copy did: a tuple becomes a list, a value JSON has no form
for becomes its text, ``1.50`` the number 1.5) and made read-only, deeply. Every
block then gets :meth:`FlowVariables.top_level`, a plain dict of the names whose
values are those shared read-only ones: O(number of variables) whatever the values
hold. The top level is the block's own, as the copy was (an implementation may
serialise it, add its reserved variables to it, change it); the values within are
shared, so they refuse any change (``TypeError`` naming them): what a block reads is
always what the flow set. :class:`ReadOnlyDict` and :class:`ReadOnlyList` are a
``dict`` and a ``list`` to every reader (``isinstance``, ``json.dumps``, ``==``); a
copy of one (``dict(x)``, ``copy.deepcopy``, pickling) is a plain one again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, NoReturn

import yaml

__all__ = ["FlowVariables", "ReadOnlyDict", "ReadOnlyList", "read_only"]

_REFUSAL = (
    "the flow's variables are read-only for the implementation under test "
    "(copy a value before changing it: dict(value), list(value))"
)


def _refuse(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
    raise TypeError(_REFUSAL)


class ReadOnlyDict(dict[str, Any]):
    """A ``dict`` that refuses changes (a value of the flow's variables)."""

    __slots__ = ()
    __setitem__ = __delitem__ = __ior__ = _refuse
    clear = pop = popitem = setdefault = update = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (dict, (dict(self),))

    def __copy__(self) -> dict[str, Any]:
        return dict(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> dict[str, Any]:
        import copy

        return {key: copy.deepcopy(value, memo) for key, value in self.items()}


class ReadOnlyList(list[Any]):
    """A ``list`` that refuses changes (a value of the flow's variables)."""

    __slots__ = ()
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse
    append = extend = insert = pop = remove = clear = sort = reverse = _refuse

    def __reduce__(self) -> tuple[Any, ...]:
        return (list, (list(self),))

    def __copy__(self) -> list[Any]:
        return list(self)

    def __deepcopy__(self, memo: dict[int, Any]) -> list[Any]:
        import copy

        return [copy.deepcopy(item, memo) for item in self]


def _represent_as_plain() -> None:
    """PyYAML picks a representer by the exact type: ``yaml.safe_dump`` of a read-only value
    raised "cannot represent an object" (and ``yaml.dump`` wrote Python tags), where the
    per-block copy gave plain dicts and lists it writes. Registered for these two types
    only, so every dumper writes them as the mapping and the list they are."""
    for representer in (yaml.representer.SafeRepresenter, yaml.representer.Representer):
        representer.add_representer(ReadOnlyDict, representer.represent_dict)
        representer.add_representer(ReadOnlyList, representer.represent_list)


_represent_as_plain()


def read_only(value: Any) -> Any:
    """``value`` with every dict and list in it rebuilt read-only (without recursion, so
    that any depth JSON could be read at can be made read-only too)."""
    if not isinstance(value, dict | list):
        return value
    built: dict[int, Any] = {}
    stack = [value]
    while stack:
        node = stack[-1]
        children = node.values() if isinstance(node, dict) else node
        pending = [c for c in children if isinstance(c, dict | list) and id(c) not in built]
        if pending:
            stack.extend(pending)
            continue
        stack.pop()
        if id(node) in built:
            continue
        if isinstance(node, dict):
            built[id(node)] = ReadOnlyDict(
                {k: built[id(v)] if isinstance(v, dict | list) else v for k, v in node.items()}
            )
        else:
            built[id(node)] = ReadOnlyList(
                [built[id(v)] if isinstance(v, dict | list) else v for v in node]
            )
    return built[id(value)]


def plain_json(value: Any) -> Any:
    """``value`` as JSON would carry it (a tuple a list, ``1.50`` the float 1.5, anything
    JSON has no form for its ``str``): what the per-block copy used to give."""
    return json.loads(json.dumps(value, default=str))


class FlowVariables:
    """The variables given to the implementation: each set once, as read-only JSON data.

    ``view`` is a read-only mapping over them, the same object for every block (the
    harness's own renderings read it); :meth:`top_level` is what an implementation gets.
    """

    __slots__ = ("_values", "view")

    def __init__(self, values: Mapping[str, Any] = MappingProxyType({})) -> None:
        self._values: dict[str, Any] = {}
        self.view: Mapping[str, Any] = MappingProxyType(self._values)
        for name, value in values.items():
            self.set(name, value)

    def top_level(self) -> dict[str, Any]:
        """A plain dict of the variables, the values shared (read-only): O(number of
        variables), whatever the values hold. An implementation may add to it, change or
        serialise it as any dict; the run's own variables stay as the flow set them."""
        return dict(self._values)

    def set(self, name: str, value: Any) -> None:
        """Set ``name`` (a new one goes last; one set again keeps its place, as in a dict)."""
        self._values[name] = read_only(plain_json(value))
