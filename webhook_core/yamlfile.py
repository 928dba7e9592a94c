"""YAML and JSON files with the line of every key path, for ``webhook-try``'s files.

:func:`load_file` reads a file into plain data whose leaves are :class:`Scalar`:
the text as the file wrote it beside the value the file's rules give it, so that
the reader of each kind of file decides what a value means (the action's
values are always the text written; see :mod:`webhook_core.actionfile`).
PyYAML's composer gives the nodes; JSON is read by ``json`` (JSON's rules) and
its lines found with the composer when it can. Every problem is an
:class:`ActionFileError` with ``file:line``. Files are capped at
:data:`MAX_FILE_BYTES` and :data:`MAX_VALUES`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from .errors import ConfigurationError

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_VALUES",
    "ActionFileError",
    "Located",
    "Place",
    "Scalar",
    "dotted",
    "load_file",
    "place_of",
    "plain",
]

Place = tuple[str | int, ...]

#: At most this many values are read from one file: aliases (``*a``) repeat what an
#: anchor holds, and nested ones could expand a small file without end.
MAX_VALUES: Final = 100_000
#: At most this many characters are read from one file.
MAX_FILE_BYTES: Final = 10 * 1024 * 1024

_FIELD_PART: Final = re.compile(r"(\w+)|\[(\d+)\]")
#: The tags a mapping or list has when none is written.
_PLAIN: Final = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
_VALUE: Final = "tag:yaml.org,2002:value"


class ActionFileError(ConfigurationError):
    """A file that cannot be read as an action, variables or a subscriber.

    ``source`` and ``line`` say where (``line`` is 0 when unknown); ``field``,
    ``value`` and ``expected`` what, as for :class:`ConfigurationError`.
    """

    def __init__(self, *, source: str, line: int, field: str, value: Any, expected: str) -> None:
        self.source = source
        self.line = line
        super().__init__(field=field, value=value, expected=expected)
        self.args = (f"{self.where}: {self.args[0]}",)

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.line else self.source


@dataclass(frozen=True, slots=True)
class Scalar:
    """A scalar as the file wrote it: its text, and the value the file's rules give it.

    ``exact``: the value is what the file means (a quoted YAML string, any JSON value);
    otherwise it is a plain YAML scalar, whose type :func:`typed` decides.
    """

    text: str
    value: Any
    exact: bool


@dataclass
class Located:
    """A file's data, with the line of every key path (``("params", 2)`` → 7)."""

    data: Any
    source: str
    lines: dict[Place, int] = field(default_factory=dict)

    def line_of(self, place: Iterable[str | int]) -> int:
        """The line of the deepest part of ``place`` that the file has (0 if none)."""
        parts = tuple(place)
        while parts:
            if parts in self.lines:
                return self.lines[parts]
            parts = parts[:-1]
        return self.lines.get((), 0)

    def error(self, place: Place, *, value: Any, expected: str, name: str = "") -> ActionFileError:
        return ActionFileError(
            source=self.source,
            line=self.line_of(place),
            field=name or dotted(place),
            value=value,
            expected=expected,
        )


def dotted(place: Place) -> str:
    """``("params", 2, "name")`` → ``params[2].name``."""
    out = ""
    for part in place:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the file)"


def place_of(field_name: str) -> Place:
    """``params[2].name`` → ``("params", 2, "name")``: a ConfigurationError's field, placed."""
    parts: list[str | int] = []
    for word, index in _FIELD_PART.findall(field_name):
        parts.append(int(index) if index else word)
    return tuple(parts)


# --- reading -------------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        if path == "-":
            import sys

            return sys.stdin.read(MAX_FILE_BYTES + 1)
        with open(path, encoding="utf-8") as handle:
            text = handle.read(MAX_FILE_BYTES + 1)
    except UnicodeDecodeError as exc:
        raise ActionFileError(
            source=path, line=0, field="(the file)", value=exc.reason, expected="UTF-8 text"
        ) from None
    except OSError as exc:
        raise ActionFileError(
            source=path,
            line=0,
            field="(the file)",
            value=exc.strerror or str(exc),
            expected="a file that can be read",
        ) from None
    if len(text) > MAX_FILE_BYTES:
        raise ActionFileError(
            source=path,
            line=0,
            field="(the file)",
            value=f"more than {MAX_FILE_BYTES} characters",
            expected="a file of at most 10 MiB",
        )
    return text


def load_file(path: str, *, text: str | None = None) -> Located:
    """Read a YAML or JSON file (``-`` is standard input; ``*.json`` is read as JSON)."""
    if text is None:
        text = _read(path)
    if path.lower().endswith(".json"):
        return _load_json(text, path)
    return _load_yaml(text, path)


def _load_json(text: str, source: str) -> Located:
    def no_constant(name: str) -> Any:
        raise ValueError(f"{name} is not JSON")

    try:
        data = json.loads(
            text,
            parse_constant=no_constant,
            parse_int=lambda digits: Scalar(digits, int(digits), exact=True),
            parse_float=lambda digits: Scalar(digits, float(digits), exact=True),
            object_pairs_hook=_unique_pairs,
        )
    except RecursionError:
        raise _too_deep(source) from None
    except json.JSONDecodeError as exc:
        raise ActionFileError(
            source=source, line=exc.lineno, field="(the file)", value=exc.msg, expected="JSON"
        ) from None
    except ValueError as exc:
        raise ActionFileError(
            source=source, line=0, field="(the file)", value=str(exc), expected="JSON"
        ) from None
    located = Located(_json_scalars(data), source)
    try:
        _Walker(source, located.lines).walk_lines(text)
    except (Exception, RecursionError):  # lines are a help; JSON that PyYAML cannot read has none
        located.lines.clear()
    return located


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"the key {key!r} is written twice")
        data[key] = _json_scalars(value)
    return data


def _json_scalars(value: Any) -> Any:
    """JSON values as :class:`Scalar` leaves (numbers already are, with their digits)."""
    if isinstance(value, list):
        return [_json_scalars(item) for item in value]
    if isinstance(value, str):
        return Scalar(value, value, exact=True)
    if isinstance(value, bool):
        return Scalar("true" if value else "false", value, exact=True)
    if value is None:
        return Scalar("", None, exact=True)
    return value


def _load_yaml(text: str, source: str) -> Located:
    import yaml

    try:
        # The pure-Python loader: libyaml's composer (CSafeLoader) in PyYAML 6.0 recurses
        # in C and crashes the process on a file nested 50 000 deep; this one raises
        # RecursionError. An action file is small, so its speed does not matter.
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        located = Located(None, source)
        if node is not None:
            located.data = _Walker(source, located.lines).walk(node, ())
    except RecursionError:
        raise _too_deep(source) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 0
        problem = exc.problem or str(exc)
        hint = _flow_hint(text, line, problem)
        raise ActionFileError(
            source=source, line=line, field="(the file)", value=problem, expected=f"YAML{hint}"
        ) from None
    except yaml.YAMLError as exc:
        raise ActionFileError(
            source=source, line=0, field="(the file)", value=str(exc), expected="YAML"
        ) from None
    return located


def _too_deep(source: str) -> ActionFileError:
    return ActionFileError(
        source=source,
        line=0,
        field="(the file)",
        value="values nested too deeply to read",
        expected="a file nested less deeply",
    )


def _flow_hint(text: str, line: int, problem: str) -> str:
    lines = text.splitlines()
    if "expected ','" in problem and 0 < line <= len(lines) and "{" in lines[line - 1]:
        return "; a value with '{', '}' or ',' inside '{...}' must be quoted: path: \"/x/{code}\""
    return ""


class _Walker:
    """Composed YAML nodes to plain data with :class:`Scalar` leaves, and their lines."""

    def __init__(self, source: str, lines: dict[Place, int]) -> None:
        import yaml

        self.yaml = yaml
        self.source = source
        self.lines = lines
        self.count = 0
        self.constructor = yaml.constructor.SafeConstructor()

    def walk_lines(self, text: str) -> None:
        node = self.yaml.compose(text, Loader=self.yaml.SafeLoader)
        if node is not None:
            self.walk(node, ())

    def walk(self, node: Any, place: Place) -> Any:
        yaml = self.yaml
        self.count += 1
        if self.count > MAX_VALUES:
            raise ActionFileError(
                source=self.source,
                line=node.start_mark.line + 1,
                field=dotted(place),
                value=f"more than {MAX_VALUES} values",
                expected="a smaller file (aliases count each time they are used)",
            )
        self.lines.setdefault(place, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _PLAIN:
            # A tag on a mapping or list was ignored: `!!python/object/apply:os.system [x]`
            # read as the list [x] (nothing ran), `!!set {a, b}` as {a: null, b: null}.
            raise self.tagged(node, place)
        if isinstance(node, yaml.MappingNode):
            data: dict[str, Any] = {}
            merged: list[Any] = []
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise ActionFileError(
                        source=self.source,
                        line=key_node.start_mark.line + 1,
                        field=dotted(place),
                        value="a key that is a list or a mapping",
                        expected="text keys",
                    )
                key = key_node.value
                if key_node.tag == "tag:yaml.org,2002:merge":
                    merged.append(self.walk(value_node, place))
                    continue
                if key in data:
                    raise ActionFileError(
                        source=self.source,
                        line=key_node.start_mark.line + 1,
                        field=dotted((*place, key)),
                        value=key,
                        expected="each key once (this one is written twice)",
                    )
                self.lines[(*place, key)] = key_node.start_mark.line + 1
                data[key] = self.walk(value_node, (*place, key))
            # ``<<: *base`` (or a list of them): a key written beside it wins, then the first.
            for value in merged:
                for mapping in value if isinstance(value, list) else [value]:
                    if not isinstance(mapping, dict):
                        raise ActionFileError(
                            source=self.source,
                            line=node.start_mark.line + 1,
                            field=dotted((*place, "<<")),
                            value=plain(mapping),
                            expected="a mapping (or a list of mappings) to merge",
                        )
                    for key, item in mapping.items():
                        data.setdefault(key, item)
            return data
        if isinstance(node, yaml.SequenceNode):
            return [self.walk(item, (*place, index)) for index, item in enumerate(node.value)]
        if node.style in ("'", '"', "|", ">") or node.tag == "tag:yaml.org,2002:str":
            return Scalar(node.value, node.value, exact=True)
        if node.tag == _VALUE and node.value == "=":
            # YAML 1.1 gives a plain `=` the value tag by its look, which no safe
            # constructor builds: it is the text "=" (Hypothesis found it).
            return Scalar(node.value, node.value, exact=False)
        try:
            value = self.constructor.construct_object(node, deep=True)
        except ValueError:  # an integer of 4 300 digits or more: its text
            value = node.value
        except yaml.YAMLError:  # a tag no safe reader has (`!!python/name:os.system x`)
            raise self.tagged(node, place) from None
        return Scalar(node.value, value, exact=False)

    def tagged(self, node: Any, place: Place) -> ActionFileError:
        tag = str(node.tag).replace("tag:yaml.org,2002:", "!!")
        return ActionFileError(
            source=self.source,
            line=node.start_mark.line + 1,
            field=dotted(place),
            value=f"the tag {tag}",
            expected="a value without a YAML tag (a tag would change what it is; remove it)",
        )


def plain(value: Any) -> Any:
    """Data with :class:`Scalar` leaves as plain values (for messages)."""
    if isinstance(value, Scalar):
        return value.text
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value
