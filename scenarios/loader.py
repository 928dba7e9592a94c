"""Reading ``*.scenario.yaml`` files: line numbers kept, defaults merged, parameters expanded,
every problem of the file reported at once with ``file:line``, the field and what was expected."""

from __future__ import annotations

import copy
import itertools
import math
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from mockserver.errors import Problem
from mockserver.validation import dotted_path
from mockserver.wording import shown_input
from mockserver.written import YamlNumber, unmarked
from mockserver.yamlfile import Document, load_documents, not_utf8, problems_from_validation

from .crosschecks import (
    attempt_problems,
    checks_of_nothing,
    look_alike_references,
    mock_references,
    nodes,
    unmet_by_the_flow,
    unmounted_checks,
)
from .errors import ScenarioFileError
from .model import Scenario
from .parameters import (
    MAX_CASES,
    Place,
    Uses,
    case_ids,
    case_token,
    not_text,
    same_cases,
    substitute,
    twin_problem,
    unknown_parameters,
    unusable,
)

__all__ = [
    "LoadedScenario",
    "load_scenario_bytes",
    "load_scenario_file",
    "load_scenario_text",
    "scenario_from_dict",
]

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
    ids = case_ids(combos)
    twins = same_cases(combos)
    for number, params in enumerate(combos):
        twin = twins.get(number)
        if twin is not None:
            # The same values twice were two scenarios named alike (or, with ids made
            # unique, the same scenario run twice).
            problems.append(twin_problem(document, prefix, grid, combos, number, twin))
            break
        uses = Uses()
        body = {key: value for key, value in data.items() if key != "parametrize"}
        if params or "${" in repr(body):
            body = substitute(body, params, uses, ())
        if "parametrize" in data:
            body["parametrize"] = data["parametrize"]
        if uses.unknown and not (grid is not None and not shaped):
            # (A `parametrize:` of the wrong shape made no cases: the model says so, not
            # "unknown parameter ${p}; parameters are: none (add parametrize:)".)
            problems += unknown_parameters(document, prefix, grid, combos, number, uses)
            break
        if uses.not_text:
            problems += [
                Problem(
                    document.where((*prefix, *at)),
                    dotted_path((*prefix, *at)),
                    not_text(name, params[name]),
                )
                for name, at in uses.not_text.items()
            ]
            break
        wasted = (
            unusable(params, uses, grid, number, seen)
            if number == 0 or not isinstance(grid, dict)
            else []
        )
        if wasted:
            problems += [
                Problem(document.where((*prefix, *at)), dotted_path((*prefix, *at)), message)
                for at, message in wasted
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
            attempt_problems(scenario)
            + mock_references(scenario, body)
            + look_alike_references(scenario, body)
            + unmounted_checks(scenario)
            + unmet_by_the_flow(scenario)
            + checks_of_nothing(scenario)
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
    names: dict[str, tuple[int, str]] = {}

    def add(item: Any, document: Document, prefix: tuple[str | int, ...]) -> None:
        if not isinstance(item, dict):
            if item is None and not prefix:  # `---` then nothing, or `---` twice
                message = (
                    "an empty document (nothing between two --- lines, or after the last): "
                    "remove a ---, or write a scenario there"
                )
            elif item is None:
                message = "a scenario is a mapping, got null (nothing after the -)"
            elif isinstance(item, list):
                message = "a scenario is a mapping, got a list"
            else:
                message = f"a scenario is a mapping, got {shown_input(item)}"
            problems.append(Problem(document.where(prefix), dotted_path(prefix), message))
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
            # 'é' written as one character or as e and an accent prints alike
            same = unicodedata.normalize("NFC", found.id)
            if same in names:
                line, written = names[same]
                how = "" if written == found.id else " (the same letters, composed differently)"
                problems.append(
                    Problem(
                        found.where("name"),
                        dotted_path((*prefix, "name")),
                        f"the name {found.id!r} is already used at line {line}{how}; "
                        "names identify scenarios",
                    )
                )
            names[same] = (found.line_of("name"), found.id)
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
                    if "name" in data["defaults"]:
                        problems.append(
                            Problem(
                                document.where(("defaults", "name")),
                                "defaults.name",
                                "a name identifies one scenario: write it in each scenario, "
                                "not under defaults: (a scenario without one took it)",
                            )
                        )
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
    for _, at in nodes(data):
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
