"""Parameters of a scenario (``parametrize:``): ``${name}`` substituted in a scenario's
body, the cases' readable ids, and the problems of cases that cannot be what they say
(a parameter a case does not set, two cases alike, values used nowhere)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Final

from mockserver.errors import Problem
from mockserver.validation import dotted_path
from mockserver.wording import not_scalar
from mockserver.written import as_written
from mockserver.yamlfile import Document

__all__ = [
    "MAX_CASES",
    "Place",
    "Uses",
    "case_ids",
    "case_token",
    "not_text",
    "same_cases",
    "substitute",
    "twin_problem",
    "unknown_parameters",
    "unusable",
]

_PARAM: Final = re.compile(r"\$\{(\w+)\}")
#: ``${ name }``: with spaces inside it is not a parameter (a reference to a variable
#: takes them, ``{ name }``, and this one does not, so it would be sent as text).
_SPACED: Final = re.compile(r"\$\{\s+(\w+)\s*\}|\$\{(\w+)\s+\}")
#: The most cases one ``parametrize:`` may make: a grid of a few lists multiplies
#: (six lists of ten are a million items), and every case is a scenario to build.
MAX_CASES: Final = 1000


Place = tuple[str | int, ...]


@dataclass
class Uses:
    """What substituting the parameters met: names used, names not given, and ``${ name }``
    of a given name written with spaces (which is text, not the parameter)."""

    used: set[str] = field(default_factory=set)
    unknown: dict[str, Place] = field(default_factory=dict)
    spaced: dict[str, Place] = field(default_factory=dict)
    #: A parameter of null, a list or a mapping put inside text, where it was Python's
    #: ``None``, ``[1, 2]`` or ``{'k': 1}`` (not JSON, not what the file wrote).
    not_text: dict[str, Place] = field(default_factory=dict)


def substitute(value: Any, params: dict[str, Any], uses: Uses, at: Place) -> Any:
    """``value`` with each ``${name}`` replaced; a name not in ``params`` is kept as written
    and put in ``uses.unknown`` with the first place it was used."""
    if isinstance(value, str):
        if "${" not in value:
            return value
        for match in _SPACED.finditer(value):
            if match.group(1) in params:
                uses.spaced.setdefault(match.group(1), at)
        whole = _PARAM.fullmatch(value)
        if whole is not None:
            name = whole.group(1)
            if name in params:
                uses.used.add(name)
                return params[name]
            uses.unknown.setdefault(name, at)
            return value

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in params:
                uses.unknown.setdefault(name, at)
                return match.group(0)
            uses.used.add(name)
            item = as_written(params[name])  # a parameter 0123 or 1.50 as written
            if item is None or isinstance(item, dict | list):
                uses.not_text.setdefault(name, at)
            return item if isinstance(item, str) else str(item)

        return _PARAM.sub(replace, value)
    if isinstance(value, dict):
        return {
            str(as_written(substitute(key, params, uses, (*at, key)))): substitute(
                item, params, uses, (*at, key)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [substitute(item, params, uses, (*at, i)) for i, item in enumerate(value)]
    return value


def unknown_parameters(
    document: Document,
    prefix: tuple[str | int, ...],
    grid: Any,
    combos: list[dict[str, Any]],
    number: int,
    uses: Uses,
) -> list[Problem]:
    """The problems of ``${name}`` uses that case ``number`` does not set. A listed case
    that leaves out a parameter another case sets is the case's mistake, said at the case
    (it read "parameters are: none (add parametrize:)" under a ``parametrize:``)."""
    params = combos[number]
    listed = isinstance(grid, list) and bool(grid)
    every: set[str] = set().union(*combos) if listed else set(params)
    problems = []
    for name, at in uses.unknown.items():
        if listed and (name in every or not every):
            # Another case sets it, or no case sets anything: the case is what is wrong.
            where = (*prefix, "parametrize", number)
            elsewhere = sorted(every - set(params))
            sets = ", ".join(sorted(params)) if params else "nothing (an empty case)"
            message = (
                f"this case does not set ${{{name}}} (used at {dotted_path((*prefix, *at))}); "
                f"it sets {sets}; each case sets every parameter the scenario uses"
                + (f" (other cases set {', '.join(elsewhere)})" if elsewhere else "")
            )
        else:
            where = (*prefix, *at)
            known = ", ".join(sorted(every)) or "none (add parametrize:)"
            message = f"unknown parameter ${{{name}}}; parameters are: {known}"
        problems.append(Problem(document.where(where), dotted_path(where), message))
    return problems


_ID_KEPT: Final = re.compile(r"[\w+\-./\[\]]|:(?!:)")
#: The longest a value is shown in an id; longer text is cut, and ``...`` ends it.
MAX_ID_VALUE: Final = 40


def _id_value(value: Any) -> str:
    """One parameter in a case's id: null, true, false and numbers as YAML writes them;
    text with spaces as ``_``, other characters ``-k`` cannot take (quotes, commas,
    controls, invisible ones) escaped as ``\\xNN``/``\\uNNNN`` (as pytest's ids do),
    empty text as ``\\empty``, a list or mapping as its JSON; cut past :data:`MAX_ID_VALUE`."""
    if value is None or isinstance(value, bool | int | float):
        text = str(as_written(value)) if value is not None else "null"
    elif isinstance(value, str):
        if value == "":
            return "\\empty"  # a word -k takes; a backslash written is shown doubled
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    out: list[str] = []
    size = 0
    for index, char in enumerate(text):
        if char == " ":
            piece = "_"
        elif char == "\\":
            piece = "\\\\"
        elif _ID_KEPT.match(text, index) and char.isprintable():
            piece = char
        else:
            piece = char.encode("unicode_escape").decode("ascii")
            if not piece.startswith("\\"):  # a printable character -k cannot take
                piece = f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"
        if size + len(piece) > MAX_ID_VALUE:
            out.append("...")
            break
        out.append(piece)
        size += len(piece)
    return "".join(out)


def case_token(params: dict[str, Any]) -> str:
    """The values of a case, as its id shows them: ``ok-200``."""
    return "-".join(_id_value(value) for value in params.values())


def case_ids(combos: list[dict[str, Any]]) -> list[str]:
    """Each case's id, readable and unique: a case whose values show alike to an earlier
    one's (``1`` and ``"1"``, ``a b`` and ``a_b``, two long texts cut alike) gets
    ``-case<i>``, its place in the list of cases, so that ids never collide and an
    earlier case's id does not change when a later one is added."""
    out: list[str] = []
    used: set[str] = set()
    for number, params in enumerate(combos):
        token = case_token(params)
        if token in used:
            token = f"{token}-case{number}"
            while token in used:
                token += "_"
        used.add(token)
        out.append(token)
    return out


def same_cases(combos: list[dict[str, Any]]) -> dict[int, int]:
    """Each case with the same values as an earlier one, and that one's number (``1`` and
    ``"1"`` are not the same, nor ``1.0`` and ``1.00``: they are written differently)."""
    first: dict[str, int] = {}
    twins: dict[int, int] = {}
    for number, params in enumerate(combos):
        key = json.dumps(
            [[name, type(value).__name__, as_written(value)] for name, value in params.items()],
            default=str,
            sort_keys=True,
        )
        twin = first.setdefault(key, number)
        if twin != number:
            twins[number] = twin
    return twins


def twin_problem(
    document: Document,
    prefix: Place,
    grid: Any,
    combos: list[dict[str, Any]],
    number: int,
    twin: int,
) -> Problem:
    """Case ``number`` has the values of case ``twin``: in a grid, a value given twice in
    one of its lists (named at that value), else a listed case given twice."""
    place: Place = ("parametrize", number)
    message = f"this case is the same as parametrize[{twin}]; remove one"
    if isinstance(grid, dict):
        place = ("parametrize",)
        for name, values in grid.items():
            keys = [(type(value).__name__, repr(as_written(value))) for value in values]
            again = next((j for j, key in enumerate(keys) if key in keys[:j]), None)
            if again is not None:
                place = ("parametrize", name, again)
                message = (
                    f"the value {as_written(values[again])!r} is given twice in this list "
                    f"(also at parametrize.{name}[{keys.index(keys[again])}]); each value "
                    "makes a case: remove one"
                )
                break
    return Problem(document.where((*prefix, *place)), dotted_path((*prefix, *place)), message)


def not_text(name: str, value: Any) -> str:
    kind = not_scalar(value)
    return (
        f"the parameter {name!r} is {kind} in this case, and ${{{name}}} inside text takes "
        f"text, a number or a boolean; to keep {kind}, make the value exactly '${{{name}}}'"
    )


def unusable(
    params: dict[str, Any], uses: Uses, grid: Any, number: int, seen: dict[str, int]
) -> list[tuple[Place, str]]:
    """Parameters no ``${name}`` can use (a name that is not a word), used nowhere so
    that cases would be the same, or written ``${ name }`` (text, not the parameter).

    A parameter used nowhere only names the item (``status[ok-200]``): that is a problem
    when it is what sets cases apart, a grid's list of several values, or a listed case
    whose used parameters are those of an earlier case."""
    found: list[tuple[Place, str]] = []
    twin: int | None = None
    if not isinstance(grid, dict):
        key = repr(sorted((name, repr(params[name])) for name in params if name in uses.used))
        twin = seen.setdefault(key, number)
        twin = None if twin == number else twin
    for name in params:
        place: Place = (
            ("parametrize", name) if isinstance(grid, dict) else ("parametrize", number, name)
        )
        if not re.fullmatch(r"\w+", name):
            found.append(
                (
                    place,
                    "a parameter name of letters, digits and '_' (${name} takes only those); "
                    f"got {name!r}",
                )
            )
        elif name in uses.spaced:
            found.append(
                (
                    uses.spaced[name],
                    f"'${{ {name} }}' with spaces inside the braces is text, not the parameter; "
                    f"write ${{{name}}}",
                )
            )
        elif name not in uses.used and not isinstance(grid, dict):
            if twin is not None:
                found.append(
                    (
                        place,
                        f"the parameter {name!r} is used nowhere (no ${{{name}}} in the "
                        f"scenario), so this case would make the same scenario as "
                        f"parametrize[{twin}]",
                    )
                )
        elif name not in uses.used and len(grid[name]) > 1:
            # One value used nowhere only names the item (`x[1]`); more make identical cases.
            found.append(
                (
                    place,
                    f"the parameter {name!r} is used nowhere (no ${{{name}}} in the scenario), "
                    f"so its {len(grid[name])} values would make the same scenario",
                )
            )
    return found
