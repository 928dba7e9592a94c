"""Reading ``*.scenario.yaml`` files: line numbers kept, defaults merged, parameters expanded,
every problem of the file reported at once with ``file:line``, the field and what was expected."""

from __future__ import annotations

import copy
import itertools
import json
import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from mockserver.errors import Problem
from mockserver.validation import dotted_path
from mockserver.wording import not_scalar
from mockserver.written import YamlNumber, as_written, unmarked
from mockserver.yamlfile import Document, load_documents, not_utf8, problems_from_validation

from .durations import format_duration
from .errors import ScenarioFileError
from .model import Scenario

__all__ = [
    "LoadedScenario",
    "load_scenario_bytes",
    "load_scenario_file",
    "load_scenario_text",
    "scenario_from_dict",
]

_PARAM: Final = re.compile(r"\$\{(\w+)\}")
#: ``${ name }``: with spaces inside it is not a parameter (a reference to a variable
#: takes them, ``{ name }``, and this one does not, so it would be sent as text).
_SPACED: Final = re.compile(r"\$\{\s+(\w+)\s*\}|\$\{(\w+)\s+\}")
#: The most cases one ``parametrize:`` may make: a grid of a few lists multiplies
#: (six lists of ten are a million items), and every case is a scenario to build.
MAX_CASES: Final = 1000
#: The most items (scenarios, each case counted) one file may make.
MAX_ITEMS: Final = 10_000


@dataclass
class LoadedScenario:
    """A validated scenario, where it came from, and its parameters.

    ``prefix`` is where the scenario sits in its YAML document: ``()`` for a
    document of its own, ``("scenarios", 3)`` in a ``scenarios:`` list.
    """

    scenario: Scenario
    source: str
    document: Document
    prefix: tuple[str | int, ...] = ()
    params: dict[str, Any] = field(default_factory=dict)
    #: What ``[...]`` holds in the id (:func:`case_ids`); made from ``params`` if not given.
    case: str | None = None

    @property
    def id(self) -> str:
        """``name`` or ``name[GET]`` for a parametrized one."""
        if not self.params:
            return self.scenario.name
        return f"{self.scenario.name}[{self.case or case_token(self.params)}]"

    @property
    def line(self) -> int:
        """Where the scenario starts."""
        return self.document.line_of(self.prefix)

    def where(self, *path: str | int) -> str:
        """``file:line`` of a field of this scenario."""
        return self.document.where((*self.prefix, *path))

    def line_of(self, *path: str | int) -> int:
        return self.document.line_of((*self.prefix, *path))

    def lines_of(self, *path: str | int, context: int = 0) -> list[tuple[int, str]]:
        """The YAML text of a field (its first line and the more-indented lines below)."""
        try:
            text = Path(self.source).read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        start = self.line_of(*path) - 1
        if not 0 <= start < len(text):
            return []
        first = text[start]
        indent = len(first) - len(first.lstrip())
        end = start + 1
        while end < len(text) and (
            not text[end].strip() or len(text[end]) - len(text[end].lstrip()) > indent
        ):
            end += 1
        while end > start + 1 and not text[end - 1].strip():
            end -= 1
        end = min(end, start + 12)
        return [(number + 1, text[number]) for number in range(max(0, start - context), end)]


def _merge(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        merged = dict(base)
        for key, value in override.items():
            merged[key] = _merge(base[key], value) if key in base else value
        return merged
    return override


Place = tuple[str | int, ...]


@dataclass
class _Uses:
    """What substituting the parameters met: names used, names not given, and ``${ name }``
    of a given name written with spaces (which is text, not the parameter)."""

    used: set[str] = field(default_factory=set)
    unknown: dict[str, Place] = field(default_factory=dict)
    spaced: dict[str, Place] = field(default_factory=dict)
    #: A parameter of null, a list or a mapping put inside text, where it was Python's
    #: ``None``, ``[1, 2]`` or ``{'k': 1}`` (not JSON, not what the file wrote).
    not_text: dict[str, Place] = field(default_factory=dict)


def _substitute(value: Any, params: dict[str, Any], uses: _Uses, at: Place) -> Any:
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
            str(as_written(_substitute(key, params, uses, (*at, key)))): _substitute(
                item, params, uses, (*at, key)
            )
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_substitute(item, params, uses, (*at, i)) for i, item in enumerate(value)]
    return value


def scenario_from_dict(
    data: dict[str, Any], *, source: str = "<dict>", document: Document | None = None
) -> list[LoadedScenario]:
    """Validate one scenario mapping (expanding ``parametrize``); raise with every problem."""
    document = document or Document(data, source, 1)
    problems: list[Problem] = []
    loaded = _expand(data, document, (), problems)
    if problems:
        raise ScenarioFileError(problems, source=source)
    return loaded


def _unknown_parameters(
    document: Document,
    prefix: tuple[str | int, ...],
    grid: Any,
    combos: list[dict[str, Any]],
    number: int,
    uses: _Uses,
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


def _expand(
    data: dict[str, Any],
    document: Document,
    prefix: tuple[str | int, ...],
    problems: list[Problem],
    stubs_at: tuple[Document, Place] | None = None,
) -> list[LoadedScenario]:
    """The scenarios of ``data`` (one per parameter case); ``stubs_at`` is where its
    ``mock.stubs`` were written (the scenario's own, or those of ``defaults:``)."""
    grid = data.get("parametrize")
    combos: list[dict[str, Any]] = [{}]
    #: Whether ``parametrize`` has a shape that makes cases (else the model refuses it).
    shaped = False
    if isinstance(grid, dict) and grid and all(isinstance(v, list) and v for v in grid.values()):
        names = list(grid)
        cases = math.prod(len(grid[name]) for name in names)
        if cases > MAX_CASES:
            sizes = " x ".join(str(len(grid[name])) for name in names)
            problems.append(
                Problem(
                    document.where((*prefix, "parametrize")),
                    dotted_path((*prefix, "parametrize")),
                    f"at most {MAX_CASES:,} cases (every combination of the lists); "
                    f"got {sizes} = {cases:,}: split the scenario, or list the cases",
                )
            )
            return []
        combos = [
            dict(zip(names, values, strict=True))
            for values in itertools.product(*(grid[name] for name in names))
        ]
        shaped = True
    elif isinstance(grid, list) and grid and all(isinstance(case, dict) for case in grid):
        if len(grid) > MAX_CASES:
            problems.append(
                Problem(
                    document.where((*prefix, "parametrize")),
                    dotted_path((*prefix, "parametrize")),
                    f"at most {MAX_CASES:,} cases; got {len(grid):,}: split the scenario",
                )
            )
            return []
        combos = [dict(case) for case in grid]
        shaped = True
    out = []
    #: For listed cases: each case's values of the parameters it uses, and its number, so
    #: that one differing from another only in a parameter used nowhere is found.
    seen: dict[str, int] = {}
    ids = _case_ids(combos)
    twins = _same_cases(combos)
    for number, params in enumerate(combos):
        twin = twins.get(number)
        if twin is not None:
            # The same values twice were two scenarios named alike (or, with ids made
            # unique, the same scenario run twice).
            problems.append(_twin_problem(document, prefix, grid, combos, number, twin))
            break
        uses = _Uses()
        body = {key: value for key, value in data.items() if key != "parametrize"}
        if params or "${" in repr(body):
            body = _substitute(body, params, uses, ())
        if "parametrize" in data:
            body["parametrize"] = data["parametrize"]
        if uses.unknown and not (grid is not None and not shaped):
            # (A `parametrize:` of the wrong shape made no cases: the model says so, not
            # "unknown parameter ${p}; parameters are: none (add parametrize:)".)
            problems += _unknown_parameters(document, prefix, grid, combos, number, uses)
            break
        if uses.not_text:
            problems += [
                Problem(
                    document.where((*prefix, *at)),
                    dotted_path((*prefix, *at)),
                    _not_text(name, params[name]),
                )
                for name, at in uses.not_text.items()
            ]
            break
        unusable = (
            _unusable(params, uses, grid, number, seen)
            if number == 0 or not isinstance(grid, dict)
            else []
        )
        if unusable:
            problems += [
                Problem(document.where((*prefix, *at)), dotted_path((*prefix, *at)), message)
                for at, message in unusable
            ]
            break
        body = _unmarked(body)
        try:
            scenario = Scenario.model_validate(body)
        except ValidationError as exc:
            problems += [
                _placed(problem)
                for problem in problems_from_validation(exc, document, prefix, Scenario)
            ]
            break
        crossed = (
            _attempt_problems(scenario)
            + _mock_references(scenario, body)
            + _unmounted_checks(scenario)
        )
        if crossed:
            problems += [
                Problem(document.where((*prefix, *at)), dotted_path((*prefix, *at)), message)
                for at, message in crossed
            ]
            break
        written, at = stubs_at or (document, (*prefix, "mock", "stubs"))
        if written.lines or written.locate is not None:  # from a file: reports say where
            for index, stub in enumerate(scenario.mock.stubs):
                stub.located(written.where((*at, index)))
        out.append(
            LoadedScenario(
                scenario, document.source, document, prefix, unmarked(params), ids[number]
            )
        )
    return out


def _whole_places(body: dict[str, Any]) -> Iterator[Place]:
    """Where a scenario holds whole numbers (``scenarios.model.Count``/``Whole``)."""
    expect = body.get("expect")
    if not isinstance(expect, dict):
        return
    yield ("expect", "requests_total")
    for key, fields in (("requests", ("count", "at_least")), ("attempts", ("status", "block"))):
        items = expect.get(key)
        for index, item in enumerate(items if isinstance(items, list) else ()):
            if isinstance(item, dict):
                yield from ((("expect", key, index, name)) for name in fields)
    crm = expect.get("crm")
    for name, entities in crm.items() if isinstance(crm, dict) else ():
        for entity, records in entities.items() if isinstance(entities, dict) else ():
            if isinstance(records, dict):
                yield ("expect", "crm", name, entity, "count")


def _unmarked(body: dict[str, Any]) -> dict[str, Any]:
    """``body`` with the loader's marks (:class:`YamlNumber`) made plain text, except in
    whole-number fields: there a plain ``010`` or ``+3`` is read as decimal (a decision
    pinned by tests/test_yaml_traps.py), and a quoted ``"010"`` is text, refused as
    ``"2"`` is. Everywhere else (variables, bodies, parameters) it is the text written."""
    kept: list[tuple[Place, YamlNumber]] = []
    for place in _whole_places(body):
        holder: Any = body
        for part in place[:-1]:
            holder = holder[part]
        value = holder.get(place[-1]) if isinstance(holder, dict) else None
        if isinstance(value, YamlNumber):
            kept.append((place, value))
    plain: dict[str, Any] = unmarked(body)
    for place, value in kept:
        holder = plain
        for part in place[:-1]:
            holder = holder[part]
        holder[place[-1]] = value
    return plain


#: Characters a case's id keeps as written: what ``-k`` takes in a word (``\\w``, which
#: holds the letters and digits of every script, and ``+ - . / [ ]``), but ``:`` only
#: alone (``::`` separates a node id's parts) and ``\\`` doubled (it starts an escape).
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


def _case_ids(combos: list[dict[str, Any]]) -> list[str]:
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


def _same_cases(combos: list[dict[str, Any]]) -> dict[int, int]:
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


def _twin_problem(
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


def _not_text(name: str, value: Any) -> str:
    kind = not_scalar(value)
    return (
        f"the parameter {name!r} is {kind} in this case, and ${{{name}}} inside text takes "
        f"text, a number or a boolean; to keep {kind}, make the value exactly '${{{name}}}'"
    )


def _unusable(
    params: dict[str, Any], uses: _Uses, grid: Any, number: int, seen: dict[str, int]
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


def _attempt_problems(scenario: Scenario) -> list[tuple[Place, str]]:
    """``expect.attempts`` that no run can give: a block that is not a webhook of the
    flow, a status that is not HTTP's, no kind at all, or offsets going back in time."""
    webhooks = [i for i, block in enumerate(scenario.flow) if block.webhook is not None]
    found: list[tuple[Place, str]] = []
    previous = None
    for index, want in enumerate(scenario.expect.attempts or ()):
        at: Place = ("expect", "attempts", index)
        if want.block is not None and want.block not in webhooks:
            found.append(
                (
                    (*at, "block"),
                    f"the index of a webhook block of the flow ({', '.join(map(str, webhooks))}"
                    f" here); got {want.block}"
                    if webhooks
                    else f"the index of a webhook block, and this flow has none; got {want.block}",
                )
            )
        if want.status is not None and not 100 <= want.status <= 599:
            found.append(((*at, "status"), f"an HTTP status, 100 to 599; got {want.status}"))
        if want.error == []:
            found.append(((*at, "error"), "a kind, a list of kinds (not empty), or a text"))
        if previous is not None and want.at < previous:
            found.append(
                (
                    (*at, "at"),
                    "attempts in the order they happen, each at or after the one before "
                    f"({format_duration(previous)}); got {format_duration(want.at)}",
                )
            )
        previous = want.at
    return found


#: What ``{mock.<name>}`` names (``scenarios.runner`` sets them): always, and with each
#: fake CRM of ``mock.crm``.
MOCK_KEYS: Final = ("url", "host")
MOCK_CRM_KEYS: Final = {
    "bitrix24": ("bitrix24",),
    "amocrm": (
        "amocrm",
        "amocrm_token",
        "amocrm_oauth",
        "amocrm_client_id",
        "amocrm_client_secret",
        "amocrm_redirect_uri",
        "amocrm_code",
    ),
}
_CRM_NAMES: Final = {"bitrix24": "Bitrix24", "amocrm": "amoCRM"}


def _mock_references(scenario: Scenario, body: dict[str, Any]) -> list[tuple[Place, str]]:
    """``{mock.<name>}`` in the flow that the run would not have: a fake CRM's URL with
    no ``mock.crm`` for it, or a misspelt name. Either rendered as nothing (rule B3), and
    the run failed later, naming the URL left (``/crm.lead.add.json``), not the cause."""
    import difflib

    from webhook_core.template import references

    mounted = {name for name in MOCK_CRM_KEYS if getattr(scenario.mock.crm, name) is not None}
    known = [*MOCK_KEYS, *(key for name in sorted(mounted) for key in MOCK_CRM_KEYS[name])]
    found: list[tuple[Place, str]] = []
    for text, at in _nodes(body.get("flow"), ("flow",)):
        if not isinstance(text, str) or "mock" not in text:
            continue
        try:
            refs = references(text)
        except ValueError:  # the implementation under test judges a template (rule A4)
            continue
        for ref in refs:
            if ref.path[0] != "mock" or len(ref.path) < 2 or ref.path[1] in known:
                continue
            key = ref.path[1]
            crm = next((name for name, keys in MOCK_CRM_KEYS.items() if key in keys), None)
            if crm is not None:
                message = (
                    f"{{mock.{key}}} is the fake {_CRM_NAMES[crm]}'s, and this scenario has "
                    f"none: add mock: {{crm: {{{crm}: {{}}}}}}"
                )
            else:
                every = [*MOCK_KEYS, *itertools.chain.from_iterable(MOCK_CRM_KEYS.values())]
                close = difflib.get_close_matches(key, every, n=1)
                hint = f"did you mean {{mock.{close[0]}}}? " if close else ""
                message = (
                    f"{{mock.{key}}} is not the harness's; {hint}this scenario has "
                    + ", ".join(f"{{mock.{name}}}" for name in known)
                )
            found.append((at, message))
            break
    return found


def _unmounted_checks(scenario: Scenario) -> list[tuple[Place, str]]:
    """``expect.crm`` entries for a fake CRM the scenario does not mount: the check could
    only fail, and it failed after the run (saying the CRM was not mounted), not at
    collection where the file is."""
    found: list[tuple[Place, str]] = []
    for crm in scenario.expect.crm:
        if getattr(scenario.mock.crm, crm) is None:
            found.append(
                (
                    ("expect", "crm", crm),
                    f"checks the fake {_CRM_NAMES[crm]}'s records, and this scenario mounts "
                    f"none: add mock: {{crm: {{{crm}: {{}}}}}} (here or under defaults:)",
                )
            )
    return found


def _nodes(value: Any, at: Place = ()) -> Iterator[tuple[Any, Place]]:
    """Every value in ``value`` (itself first) and its place, in the order written;
    without recursion."""
    stack: list[tuple[Any, Place]] = [(value, at)]
    while stack:
        item, place = stack.pop()
        yield item, place
        if isinstance(item, dict):
            stack.extend((v, (*place, k)) for k, v in reversed(item.items()))
        elif isinstance(item, list):
            stack.extend((v, (*place, i)) for i, v in reversed(list(enumerate(item))))


#: Keys people put in the wrong place, and where they go.
_PLACES: Final = {
    "parametrize": "parametrize: is a key of the scenario itself, beside name: and flow: "
    "(or of defaults:)",
    "error": "error: (the paused flow's last error) goes under expect: "
    "(expect: {state: paused, error: {contains: '503'}}); one attempt's is "
    "expect.attempts[i].error",
}


def _placed(problem: Problem) -> Problem:
    """An unknown field that is a known key in the wrong place says where it goes."""
    key = problem.field.rpartition(".")[2]
    if key in _PLACES and problem.message.startswith("unknown field"):
        return Problem(problem.where, problem.field, f"unknown field here; {_PLACES[key]}")
    return problem


_FILE_KEYS: Final = frozenset({"scenarios", "defaults"})
_TOO_MANY: Final = f"at most {MAX_ITEMS:,} items (scenarios and their cases) in one file; split it"


def load_scenario_text(text: str, source: str) -> list[LoadedScenario]:
    """Every scenario of a file's text; :class:`ScenarioFileError` lists every problem.

    A file is either YAML documents that are each a scenario (or ``defaults:``
    for the documents after it), or one document with ``scenarios:`` (a list)
    and optionally ``defaults:``; the second form is what tools that read one
    document per file, such as ``check-jsonschema``, can validate.
    """
    documents, problems = load_documents(text, source, marked=True)
    defaults: dict[str, Any] = {}
    #: Each ``defaults:`` given so far and its document, so that a mistake written there
    #: is reported there (once), not at every scenario that inherits it.
    written_defaults: list[tuple[Document, dict[str, Any]]] = []
    #: Where the stubs of ``defaults`` were written, if it has any.
    default_stubs: tuple[Document, Place] | None = None
    loaded: list[LoadedScenario] = []
    names: dict[str, int] = {}

    def add(item: Any, document: Document, prefix: tuple[str | int, ...]) -> None:
        if not isinstance(item, dict):
            problems.append(
                Problem(
                    document.where(prefix),
                    dotted_path(prefix),
                    f"a scenario is a mapping, got {type(item).__name__}",
                )
            )
            return
        if len(loaded) >= MAX_ITEMS:
            if not any(problem.message == _TOO_MANY for problem in problems):
                problems.append(Problem(document.where(prefix), dotted_path(prefix), _TOO_MANY))
            return
        item = {key: value for key, value in item.items() if key != "$schema"}
        merged = _merge(copy.deepcopy(defaults), item)
        own = isinstance(item.get("mock"), dict) and "stubs" in item["mock"]
        stubs_at = (document, (*prefix, "mock", "stubs")) if own else default_stubs
        before = len(problems)
        expanded = _expand(merged, document, prefix, problems, stubs_at)
        if written_defaults and len(problems) > before:
            problems[before:] = _in_defaults(problems[before:], item, prefix, written_defaults)
        for found in expanded:
            if found.id in names:
                problems.append(
                    Problem(
                        found.where("name"),
                        dotted_path((*prefix, "name")),
                        f"the name {found.id!r} is already used at line {names[found.id]}; "
                        "names identify scenarios",
                    )
                )
            names[found.id] = found.line_of("name")
            loaded.append(found)

    for document in documents:
        data = document.data
        if isinstance(data, dict) and (
            "scenarios" in data or set(data) - {"$schema"} == {"defaults"}
        ):
            for key in sorted(set(data) - _FILE_KEYS - {"$schema"}):
                problems.append(
                    Problem(
                        document.where((key,)),
                        key,
                        "unknown key beside scenarios: (expected defaults or scenarios)",
                    )
                )
            if "defaults" in data:
                if isinstance(data["defaults"], dict):
                    defaults = _merge(defaults, data["defaults"])
                    written_defaults.append((document, data["defaults"]))
                    mock = data["defaults"].get("mock")
                    if isinstance(mock, dict) and "stubs" in mock:
                        default_stubs = (document, ("defaults", "mock", "stubs"))
                else:
                    problems.append(
                        Problem(
                            document.where(("defaults",)),
                            "defaults",
                            "expected a mapping of scenario fields",
                        )
                    )
            items = data.get("scenarios", [])
            if not isinstance(items, list):
                problems.append(
                    Problem(
                        document.where(("scenarios",)), "scenarios", "expected a list of scenarios"
                    )
                )
                continue
            for index, item in enumerate(items):
                add(item, document, ("scenarios", index))
        else:
            add(data, document, ())
    if not loaded and not problems:
        problems.append(Problem(f"{source}:1", "", "the file holds no scenarios"))
    if problems:
        problems = list(dict.fromkeys(problems))  # a mistake in defaults: said once
        problems.sort(key=_problem_line)
        raise ScenarioFileError(problems, source=source)
    return loaded


def _paths(data: Any) -> dict[str, Place]:
    """Every path written in ``data``, as problems show it (``subscriber.phone``), and its
    place (the first written, where two read alike)."""
    found: dict[str, Place] = {}
    for _, at in _nodes(data):
        if at:
            found.setdefault(dotted_path(at), at)
    return found


def _in_defaults(
    found: list[Problem],
    item: dict[str, Any],
    prefix: Place,
    written: list[tuple[Document, dict[str, Any]]],
) -> list[Problem]:
    """``found`` with each problem of a field the scenario took from ``defaults:`` (not
    written in the scenario itself) placed where the defaults wrote it."""
    own = _paths(item)
    sources = [(document, _paths(data)) for document, data in reversed(written)]
    start = dotted_path(prefix)
    out = []
    for problem in found:
        field = problem.field
        if start and not field.startswith(start):
            out.append(problem)
            continue
        relative = field[len(start) :].lstrip(".")
        moved = None
        if relative and relative not in own:
            for document, paths in sources:
                # The longest path of the defaults that the field is, or lies inside.
                at = max(
                    (p for text, p in paths.items() if _within(relative, text)),
                    key=len,
                    default=None,
                )
                if at is not None and dotted_path(at) not in own:
                    moved = Problem(
                        document.where(("defaults", *at)),
                        f"defaults.{relative}",
                        problem.message,
                    )
                    break
        out.append(moved or problem)
    return out


def _within(field: str, path: str) -> bool:
    return field == path or field.startswith((f"{path}.", f"{path}["))


def _problem_line(problem: Problem) -> int:
    line = problem.where.rpartition(":")[2]
    return int(line) if line.isdigit() else 0


#: The longest scenario file read: far beyond any suite's (the conformance suite's
#: largest is a few dozen KiB), and short of a file that never ends (``/dev/zero``).
MAX_FILE_BYTES = 64 * 1024 * 1024


def read_scenario_bytes(path: Path) -> bytes:
    """A scenario file's bytes; :class:`OSError`, or :class:`ScenarioFileError` for a file
    over :data:`MAX_FILE_BYTES` (read no further than that)."""
    with path.open("rb") as handle:
        data = handle.read(MAX_FILE_BYTES + 1)
    if len(data) > MAX_FILE_BYTES:
        raise ScenarioFileError(
            [
                Problem(
                    str(path),
                    "",
                    f"more than {MAX_FILE_BYTES:,} bytes; a scenario file is far smaller "
                    "(split it into several)",
                )
            ],
            source=str(path),
        )
    return data


def load_scenario_file(path: str | Path) -> list[LoadedScenario]:
    """Every scenario of a ``*.scenario.yaml`` file."""
    file = Path(path)
    try:
        data = read_scenario_bytes(file)
    except OSError as exc:
        raise ScenarioFileError(
            [Problem(str(file), "", f"cannot read: {exc}")], source=str(file)
        ) from exc
    return load_scenario_bytes(data, str(file))


def load_scenario_bytes(data: bytes, source: str) -> list[LoadedScenario]:
    """Every scenario of a file's bytes, read as ``Path.read_text`` would: UTF-8, with
    ``\\r\\n`` and ``\\r`` line ends read as ``\\n``."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        problem = not_utf8(data, exc, source)
        raise ScenarioFileError([problem], source=source) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "\n\ufeff" in text:
        # Files saved with a byte-order mark and joined (`cat a.yaml b.yaml`): YAML only
        # said "did not find expected key" at a line that looks right.
        line = text.count("\n", 0, text.index("\n\ufeff")) + 2
        raise ScenarioFileError(
            [
                Problem(
                    f"{source}:{line}",
                    "",
                    "a byte-order mark (U+FEFF, invisible) starts this line, as when files "
                    "saved with one are joined; remove it",
                )
            ],
            source=source,
        )
    return load_scenario_text(text, source)
