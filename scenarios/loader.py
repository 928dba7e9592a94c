"""Reading ``*.scenario.yaml`` files: line numbers kept, defaults merged, parameters expanded,
every problem of the file reported at once with ``file:line``, the field and what was expected."""

from __future__ import annotations

import copy
import itertools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from pydantic import ValidationError

from mockserver.errors import Problem
from mockserver.yamlfile import Document, load_documents, problems_from_validation

from .errors import ScenarioFileError
from .model import Scenario

__all__ = ["LoadedScenario", "load_scenario_file", "load_scenario_text", "scenario_from_dict"]

_PARAM: Final = re.compile(r"\$\{(\w+)\}")


@dataclass
class LoadedScenario:
    """A validated scenario, where it came from, and its parameters."""

    scenario: Scenario
    source: str
    line: int
    document: Document
    params: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """``name`` or ``name[GET]`` for a parametrized one."""
        if not self.params:
            return self.scenario.name
        values = "-".join(str(value) for value in self.params.values())
        return f"{self.scenario.name}[{values}]"

    def where(self, *path: str | int) -> str:
        """``file:line`` of a field of this scenario."""
        return self.document.where(path)

    def line_of(self, *path: str | int) -> int:
        return self.document.line_of(path)

    def lines_of(self, *path: str | int, context: int = 0) -> list[tuple[int, str]]:
        """The YAML text of a field (its first line and the more-indented lines below)."""
        try:
            text = Path(self.source).read_text(encoding="utf-8").splitlines()
        except OSError:
            return []
        start = self.line_of(*path) - 1
        if not 0 <= start < len(text):
            return []
        indent = len(text[start]) - len(text[start].lstrip())
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


def _substitute(value: Any, params: dict[str, Any], unknown: set[str]) -> Any:
    if isinstance(value, str):
        whole = _PARAM.fullmatch(value)
        if whole is not None:
            name = whole.group(1)
            if name in params:
                return params[name]
            unknown.add(name)
            return value

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in params:
                unknown.add(name)
                return match.group(0)
            item = params[name]
            return item if isinstance(item, str) else str(item)

        return _PARAM.sub(replace, value)
    if isinstance(value, dict):
        return {
            str(_substitute(key, params, unknown)): _substitute(item, params, unknown)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_substitute(item, params, unknown) for item in value]
    return value


def scenario_from_dict(
    data: dict[str, Any], *, source: str = "<dict>", document: Document | None = None
) -> list[LoadedScenario]:
    """Validate one scenario mapping (expanding ``parametrize``); raise with every problem."""
    document = document or Document(data, source, 1)
    problems: list[Problem] = []
    loaded = _expand(data, document, problems)
    if problems:
        raise ScenarioFileError(problems, source=source)
    return loaded


def _expand(
    data: dict[str, Any], document: Document, problems: list[Problem]
) -> list[LoadedScenario]:
    grid = data.get("parametrize")
    combos: list[dict[str, Any]] = [{}]
    if isinstance(grid, dict) and grid and all(isinstance(v, list) and v for v in grid.values()):
        names = list(grid)
        combos = [
            dict(zip(names, values, strict=True))
            for values in itertools.product(*(grid[name] for name in names))
        ]
    elif isinstance(grid, list) and grid and all(isinstance(case, dict) for case in grid):
        combos = [dict(case) for case in grid]
    out = []
    for params in combos:
        unknown: set[str] = set()
        body = {key: value for key, value in data.items() if key != "parametrize"}
        body = _substitute(body, params, unknown)
        if "parametrize" in data:
            body["parametrize"] = data["parametrize"]
        if unknown:
            known = ", ".join(sorted(params)) or "none (add parametrize:)"
            problems.append(
                Problem(
                    document.where(()),
                    "",
                    f"unknown parameter(s) {', '.join(sorted('${' + u + '}' for u in unknown))}; "
                    f"parameters are: {known}",
                )
            )
            break
        try:
            scenario = Scenario.model_validate(body)
        except ValidationError as exc:
            problems += problems_from_validation(exc, document)
            break
        out.append(LoadedScenario(scenario, document.source, document.line, document, params))
    return out


def load_scenario_text(text: str, source: str) -> list[LoadedScenario]:
    """Every scenario of a file's text; :class:`ScenarioFileError` lists every problem."""
    documents, problems = load_documents(text, source)
    defaults: dict[str, Any] = {}
    loaded: list[LoadedScenario] = []
    names: dict[str, int] = {}
    for document in documents:
        data = document.data
        if not isinstance(data, dict):
            problems.append(
                Problem(
                    document.where(()), "", f"a scenario is a mapping, got {type(data).__name__}"
                )
            )
            continue
        data = {key: value for key, value in data.items() if key != "$schema"}
        if "defaults" in data:
            if set(data) != {"defaults"} or not isinstance(data["defaults"], dict):
                problems.append(
                    Problem(
                        document.where(("defaults",)),
                        "defaults",
                        "a defaults document holds only 'defaults:' with a mapping under it",
                    )
                )
            else:
                defaults = _merge(defaults, data["defaults"])
            continue
        merged = _merge(copy.deepcopy(defaults), data)
        document.data = merged
        for item in _expand(merged, document, problems):
            if item.id in names:
                problems.append(
                    Problem(
                        document.where(("name",)),
                        "name",
                        f"the name {item.id!r} is already used at line "
                        f"{names[item.id]}; names identify scenarios",
                    )
                )
            names[item.id] = document.line_of(("name",))
            loaded.append(item)
    if not documents and not problems:
        problems.append(Problem(f"{source}:1", "", "the file holds no scenarios"))
    if problems:
        problems.sort(
            key=lambda p: (
                int(p.where.rpartition(":")[2] or 0) if p.where.rpartition(":")[2].isdigit() else 0
            )
        )
        raise ScenarioFileError(problems, source=source)
    return loaded


def load_scenario_file(path: str | Path) -> list[LoadedScenario]:
    """Every scenario of a ``*.scenario.yaml`` file."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioFileError(
            [Problem(str(file), "", f"cannot read: {exc}")], source=str(file)
        ) from exc
    return load_scenario_text(text, str(file))
