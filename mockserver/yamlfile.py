"""YAML (and JSON) with line numbers kept for every node, and pydantic errors placed on them.

``load_documents(text, source)`` returns one :class:`Document` per YAML
document: the plain data and a map from each key path to its line, so that an
error at ``("stubs", 2, "request", "method")`` is reported as ``file:17``.
Duplicate keys are errors here (PyYAML would keep the last one silently), and
keys are always the text as written (``on:`` is ``"on"``, not YAML 1.1's ``True``).

``load_json_document(text, source)`` reads JSON with the ``json`` module (JSON's
own rules: ``1e3`` is a number, ``NaN`` is not JSON) and finds lines only when an
error needs one, so a server started from JSON stub files never loads PyYAML.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from pydantic import BaseModel, ValidationError

from .errors import Problem
from .validation import dotted_path, explain, shown_path
from .written import YamlNumber, YamlWord, number_or_text

if TYPE_CHECKING:
    import yaml

__all__ = [
    "Document",
    "load_documents",
    "load_json_document",
    "not_utf8",
    "problems_from_validation",
]

Path = tuple[str | int, ...]


@dataclass
class Document:
    """One YAML document: its data, where it starts, and the line of every key path."""

    data: Any
    source: str
    line: int
    lines: dict[Path, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)
    #: Finds ``lines`` when first needed (a JSON document is read without them).
    locate: Callable[[], dict[Path, int]] | None = field(default=None, repr=False)

    def line_of(self, path: Iterable[str | int]) -> int:
        """The line of the deepest part of ``path`` the document has."""
        if self.locate is not None:
            self.lines, self.locate = self.locate(), None
        parts = tuple(path)
        while parts:
            if parts in self.lines:
                return self.lines[parts]
            parts = parts[:-1]
        return self.lines.get((), self.line)

    def where(self, path: Iterable[str | int]) -> str:
        """``file:line`` of ``path``; just the source for data that came without lines
        (a dict given from Python)."""
        if not self.lines and self.locate is None:
            return self.source
        return f"{self.source}:{self.line_of(path)}"


#: At most this many values are built from one file: aliases (``*name``) repeat what
#: an anchor (``&name``) holds, and nested ones can expand a small file without end.
MAX_VALUES: Final = 1_000_000
#: And at most this much text (keys and scalars, in characters) beyond the file's own
#: length: without aliases what is built is never longer than the file, so this is
#: what aliases may add (a 1 MB string repeated through aliases would build gigabytes).
MAX_EXPANSION: Final = 32 * 1024 * 1024


class _TooLarge(Exception):
    def __init__(self, message: str, path: Path = (), document: Document | None = None) -> None:
        super().__init__(message)
        self.message, self.path, self.document = message, path, document


class _Builder:
    def __init__(self, source: str, size: int = 0, *, marked: bool = False) -> None:
        import yaml

        #: Plain scalars YAML 1.1 reads as numbers or dates are given as YamlNumber.
        self.marked = marked
        self.yaml = yaml
        self.source = source
        self.constructor = yaml.SafeLoader("")
        self.built = 0
        #: Characters of text still allowed to be built: the file's own and MAX_EXPANSION.
        self.size, self.budget = size, size + MAX_EXPANSION
        self.left = self.budget
        self.open: set[int] = set()  # the collections being built, to catch self-reference
        self.done: set[int] = set()  # the collections built: one met again is an alias
        self.alias_at: Path | None = None  # where the outermost alias being built is used

    def document(self, node: yaml.Node) -> Document:
        document = Document(None, self.source, node.start_mark.line + 1)
        document.data = self.build(node, (), document)
        self.done.clear()
        # The constructor remembers every node it built (with their marks): let them go
        # with the document's nodes, not with the constructor, which sits in a
        # reference cycle and would keep them for the garbage collector to find.
        self.constructor.constructed_objects.clear()
        return document

    def close(self) -> None:
        self.constructor.dispose()

    def build(self, node: yaml.Node, path: Path, document: Document) -> Any:
        document.lines.setdefault(path, node.start_mark.line + 1)
        self.built += 1
        if self.built > MAX_VALUES:
            raise _TooLarge(
                f"more than {MAX_VALUES} values once aliases (*name) are expanded; "
                "an anchor (&name) repeated inside itself, or a file too large to be a definition"
            )
        if isinstance(node, self.yaml.ScalarNode):
            self.left -= len(node.value)
            if self.left < 0:
                self.too_long(path, document)
            tag = node.tag
            if tag == _STR:
                return node.value  # the common case, without the constructor's bookkeeping
            # Plain (style None, or "" from libyaml) and tagged by its look, not by an
            # explicit !!int: then the text as written decides (an explicit tag is obeyed).
            if tag in _IMPLICIT and not node.style and _implicit(tag, node.value):
                value = _plain(tag, node.value)
                if self.marked and tag in _NUMERIC and type(value) is str:
                    return YamlNumber(value)
                return value
            try:
                return self.constructor.construct_object(node, deep=True)
            except (ValueError, TypeError, OverflowError):
                # An explicit tag the value cannot be (`!!float x`, `!!int 12ab`).
                document.problems.append(
                    Problem(
                        f"{self.source}:{node.start_mark.line + 1}",
                        shown_path(path),
                        f"the tag {node.tag.replace('tag:yaml.org,2002:', '!!')} cannot read "
                        f"{node.value[:60]!r}; remove the tag, or quote the value for text",
                    )
                )
                return None
        if node.tag not in _COLLECTIONS:
            # A tag on a mapping or list was ignored: `!!python/object/apply:os.system [x]`
            # read as the list [x] (nothing ran), `!!set {a, b}` as {a: null, b: null}.
            document.problems.append(
                Problem(
                    f"{self.source}:{node.start_mark.line + 1}",
                    dotted_path(path),
                    f"the tag {node.tag.replace('tag:yaml.org,2002:', '!!')} would change what "
                    "this mapping or list is; remove it",
                )
            )
            return None
        if id(node) in self.open:
            document.problems.append(
                Problem(
                    f"{self.source}:{node.start_mark.line + 1}",
                    dotted_path(path),
                    "an alias here refers to a mapping or list that contains it; "
                    "the data cannot contain itself",
                )
            )
            return None
        outermost = self.alias_at is None and id(node) in self.done
        if outermost:
            self.alias_at = path
        self.open.add(id(node))
        try:
            return self.build_collection(node, path, document)
        finally:
            self.open.discard(id(node))
            self.done.add(id(node))
            if outermost:
                self.alias_at = None

    def too_long(self, path: Path, document: Document) -> None:
        # An alias has no line of its own here (it is its anchor's node): name the
        # mapping or list that holds it, the outermost one being expanded.
        path = self.alias_at if self.alias_at is not None else path
        raise _TooLarge(
            f"aliases (*name) expand this file past {self.budget:,} characters of text "
            f"(its own {self.size:,} and at most {MAX_EXPANSION:,} more); "
            "an anchor (&name) holding a large value is repeated too often",
            path[:-1],
            document,
        )

    def build_collection(self, node: yaml.Node, path: Path, document: Document) -> Any:
        if not isinstance(node, self.yaml.MappingNode):
            return [self.build(item, (*path, i), document) for i, item in enumerate(node.value)]
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        merges = 0
        for key_node, value_node in node.value:
            line = key_node.start_mark.line + 1
            if key_node.tag == _MERGE:
                merges += 1
                if merges == 2:  # the second's keys silently replaced the first's
                    document.problems.append(
                        Problem(
                            f"{self.source}:{line}",
                            dotted_path((*path, "<<")),
                            "a merge key (<<) is given twice in the same mapping; merge "
                            "several with one: <<: [*a, *b] (the first given wins)",
                        )
                    )
                self.merge(value_node, path, document, merged)
                continue
            # Keys are text as written: `200:` is "200", and `on:` stays "on" (not True).
            if not isinstance(key_node, self.yaml.ScalarNode):
                document.problems.append(
                    Problem(
                        f"{self.source}:{line}",
                        dotted_path(path),
                        "a mapping key must be a plain value, not a list or mapping",
                    )
                )
                continue
            key: str = key_node.value
            self.left -= len(key)
            if key in result:
                document.problems.append(
                    Problem(
                        f"{self.source}:{line}",
                        dotted_path((*path, key)),
                        "this key is given twice in the same mapping; only one is allowed",
                    )
                )
            document.lines[(*path, key)] = line
            result[key] = self.build(value_node, (*path, key), document)
        if merged:
            # YAML's merge key: what `<<: *name` brings comes first; keys written here win
            # (and keep their own lines, which building the merged mapping overwrote).
            for key_node, _ in node.value:
                if key_node.tag != _MERGE and isinstance(key_node, self.yaml.ScalarNode):
                    document.lines[(*path, key_node.value)] = key_node.start_mark.line + 1
            result = {**merged, **result}
        return result

    def merge(self, node: yaml.Node, path: Path, document: Document, into: dict[Any, Any]) -> None:
        """``<<: *name`` or ``<<: [*a, *b]``: their keys into ``into``, the first given winning."""
        sources = node.value if isinstance(node, self.yaml.SequenceNode) else [node]
        # Built last to first, so that the first's values (and their lines) are the ones kept.
        for source in reversed(sources):
            value = self.build(source, path, document)
            if isinstance(value, dict):
                into.update(value)
            # None from a mapping: already reported (a mapping that merges itself); from a
            # scalar, `<<: ~` (or `<<:` with nothing) merged nothing, silently
            elif value is not None or isinstance(source, self.yaml.ScalarNode):
                document.problems.append(
                    Problem(
                        f"{self.source}:{source.start_mark.line + 1}",
                        dotted_path(path),
                        "a merge key (<<) takes a mapping (<<: *name) or a list of them"
                        + ("; got null" if value is None else ""),
                    )
                )


_STR: Final = "tag:yaml.org,2002:str"
_MERGE: Final = "tag:yaml.org,2002:merge"
#: The tags a mapping or list has when none is written.
_COLLECTIONS: Final = ("tag:yaml.org,2002:map", "tag:yaml.org,2002:seq")
_NULL: Final = "tag:yaml.org,2002:null"
_BOOL: Final = "tag:yaml.org,2002:bool"
_INT: Final = "tag:yaml.org,2002:int"
_FLOAT: Final = "tag:yaml.org,2002:float"
#: The tags YAML 1.1 gives plain scalars by their look (``yes``, ``0123``, ``1:30``,
#: ``2026-01-01``, ``=``, ``<<`` as a value).
_IMPLICIT: Final = frozenset(
    {_NULL, _BOOL, _INT, _FLOAT, _MERGE, "tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:value"}
)
#: Plain scalars of these tags kept as text are marked (``load_documents(marked=True)``).
_NUMERIC: Final = frozenset({_INT, _FLOAT, "tag:yaml.org,2002:timestamp"})
_BOOLEANS: Final = {"true": True, "false": False}
_DECIMAL: Final = re.compile(r"0|-?[1-9][0-9]*")
_FRACTION: Final = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+(?:[eE][-+]?[0-9]+)?")


def _implicit(tag: str, text: str) -> bool:
    """YAML 1.1 gives a plain ``text`` this ``tag`` by its look (no ``!!tag`` written)."""
    import yaml

    resolvers = yaml.resolver.Resolver.yaml_implicit_resolvers.get(text[:1], ())
    return tag == _MERGE or any(each == tag and regexp.match(text) for each, regexp in resolvers)


def _plain(tag: str, text: str) -> Any:
    """A plain scalar YAML 1.1 would make a non-string: a value only where writing it back
    gives ``text`` again, else ``text`` (see :mod:`mockserver.written`)."""
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return _BOOLEANS.get(text, YamlWord(text))
    if tag == _INT:
        return number_or_text(text) if _DECIMAL.fullmatch(text) else text
    if tag == _FLOAT and _FRACTION.fullmatch(text):
        return number_or_text(text)
    return text


#: ``key: value`` where the value is not quoted (its extent is found by _value_at).
_UNQUOTED: Final = re.compile(r"([\w.$-]+):[ \t]+(?=[^'\"\s])")
#: Lines longer than this get no hint (finding the values costs up to its square).
_HINT_LIMIT: Final = 2000
#: An unquoted item of a flow list with braces in it.
_ITEM: Final = re.compile(r"[\[,]\s*((?:[^'\"\s,\[\]{][^,\]]*?)?\$?\{[\w.\-]*\}[^,\]]*)")
#: A template or path parameter: ``{mock.url}``, ``${http_method}``, ``{code}``.
_BRACES: Final = re.compile(r"\$?\{[\w.\-]*\}")


def _value_at(line: str, start: int) -> str:
    """The plain value starting at ``start``: up to a ``,`` or a ``}``/``]`` that closes
    something opened before it (the flow collection around it), or the line's end."""
    depth = 0
    for index in range(start, len(line)):
        char = line[index]
        if char in "{[":
            depth += 1
        elif char in "}]":
            depth -= 1
            if depth < 0:
                return line[start:index].rstrip()
        elif (char == "," and depth == 0) or (char == "#" and line[index - 1] in " \t"):
            return line[start:index].rstrip()
    return line[start:].rstrip()


def _quote_hint(line: str) -> str | None:
    """Why a line with ``{...}`` in a value does not parse, and the fix: YAML reads a
    ``{`` that starts a value, or any ``{`` inside ``{ }`` or ``[ ]``, as a mapping."""
    if len(line) > _HINT_LIMIT:  # a minified file's one long line: no guessing at its values
        return None
    for found in _UNQUOTED.finditer(line):
        value = _value_at(line, found.end())
        if _BRACES.search(value) is None or ": " in value:
            continue
        key = found.group(1)
        if value.startswith("["):  # [/a/{code}]: the item to quote
            item = _ITEM.search(value)
            if item is None:
                continue
            quoted = json.dumps(item.group(1), ensure_ascii=False)
            return f" (inside {{ }} or [ ], quote a value with {{ or }} in it: {quoted})"
        quoted = f"{key}: {json.dumps(value, ensure_ascii=False)}"
        if value.startswith(("{", "${")) and not line[: found.start()].rstrip().endswith(
            ("{", ",", "[")
        ):
            return f" (quote a value that starts with '{{': {quoted})"
        return f" (inside {{ }} or [ ], quote a value with {{ or }} in it: {quoted})"
    return None


def load_documents(
    text: str, source: str, *, marked: bool = False
) -> tuple[list[Document], list[Problem]]:
    """Every document of ``text``, and the problems found while reading (syntax, duplicates).

    ``marked``: a plain scalar YAML 1.1 would read as a number, a date or a time, kept as
    its text, is a :class:`~mockserver.written.YamlNumber` (``010``, not ``"010"``)."""
    import yaml

    # libyaml's parser when PyYAML has it (it keeps line marks too), else the pure-Python one.
    loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    builder = _Builder(source, len(text), marked=marked)
    documents: list[Document] = []
    try:
        for node in yaml.compose_all(text, Loader=loader):
            if node is not None:
                documents.append(builder.document(node))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        message = " ".join(part for part in (exc.context, exc.problem) if part)
        text_lines = text.splitlines()
        if mark is not None and mark.line < len(text_lines) and "\t" in text_lines[mark.line]:
            message += " (a tab on that line? YAML indents with spaces)"
        marks = [m.line for m in (exc.problem_mark, exc.context_mark) if m is not None]
        for number in sorted(set(marks), reverse=True):
            hint = _quote_hint(text_lines[number]) if number < len(text_lines) else None
            if hint is not None:
                line = number + 1
                message += hint
                break
        return documents, [Problem(f"{source}:{line}", "", f"YAML syntax: {message}")]
    except yaml.reader.ReaderError as exc:
        # A character YAML does not allow: its line, not the offset PyYAML gives.
        line = text.count("\n", 0, exc.position) + 1
        column = exc.position - (text.rfind("\n", 0, exc.position) + 1) + 1
        character = exc.character if isinstance(exc.character, str) else chr(exc.character)
        message = (
            f"YAML: the character U+{ord(character):04X} at column {column}: {exc.reason} "
            '(write it as an escape in a double-quoted value, e.g. "\\x00")'
        )
        return documents, [Problem(f"{source}:{line}", "", message)]
    except yaml.YAMLError as exc:
        return documents, [Problem(source, "", f"YAML: {exc}")]
    except RecursionError:
        message = "the data nests too deeply to read"
        return [], [Problem(source, "", message)]
    except _TooLarge as exc:
        if exc.document is None:
            return [], [Problem(source, "", exc.message)]
        where = f"{source}:{exc.document.line_of(exc.path)}"
        return [], [Problem(where, shown_path(exc.path), exc.message)]
    finally:
        builder.close()
    problems = [problem for document in documents for problem in document.problems]
    return documents, problems


_ESCAPE: Final = re.compile(r"\\(?:u[0-9a-fA-F]{4}|.)")


class _NotJson(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON value")


_STRING_OR_CONSTANT: Final = re.compile(r'"(?:[^"\\]|\\.)*"|(-?Infinity|NaN)')


def _constant_line(text: str, name: str) -> int | None:
    """The line of the first ``NaN``/``Infinity`` outside a string (the json module's
    ``parse_constant`` is not told where it is)."""
    for found in _STRING_OR_CONSTANT.finditer(text):
        if found.group(1) == name:
            return text.count("\n", 0, found.start()) + 1
    return None


def load_json_document(text: str, source: str) -> tuple[list[Document], list[Problem]]:
    """One JSON document, read by the ``json`` module; its lines are found on first use.

    A duplicate key sends the text through :func:`load_documents`, which names each
    duplicate with its line.
    """
    if not text.strip():
        return [], []
    duplicated = False

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicated
        result = dict(items)
        duplicated = duplicated or len(result) != len(items)
        return result

    try:
        data = json.loads(
            text,
            object_pairs_hook=pairs,
            parse_constant=_reject_constant,
            parse_float=number_or_text,  # 1e999 stays its text (BeyondFloat), refused as written
            parse_int=number_or_text,
        )
    except json.JSONDecodeError as exc:
        return [], [
            Problem(f"{source}:{exc.lineno}", "", f"JSON syntax: {exc.msg} (column {exc.colno})")
        ]
    except _NotJson as exc:
        line = _constant_line(text, str(exc).split(" ", 1)[0])
        where = f"{source}:{line}" if line else source
        return [], [Problem(where, "", f"JSON syntax: {exc}")]
    except RecursionError:
        return [], [Problem(source, "", "the JSON nests too deeply to read")]
    if duplicated:
        return load_documents(text, source)

    def locate() -> dict[Path, int]:
        documents, problems = load_documents(text, source)
        if problems or not documents:
            # YAML 1.1 reads some JSON escapes differently (``\/``, surrogate pairs);
            # lines are all that is wanted here, and escapes never span one.
            plain = _ESCAPE.sub(lambda found: "x" * len(found.group()), text)
            documents, _ = load_documents(plain, source)
        return documents[0].lines if documents else {}

    return [Document(data, source, 1, locate=locate)], []


def problems_from_validation(
    error: ValidationError,
    document: Document,
    prefix: Path = (),
    model: type[BaseModel] | None = None,
) -> list[Problem]:
    """Pydantic's errors as problems with ``file:line`` and the dotted field path; with
    the validated ``model``, an unknown field's message names the closest known one."""
    return [
        Problem(document.where((*prefix, *loc)), shown_path((*prefix, *loc)), message)
        for loc, message in explain(error, model)
    ]


#: Byte-order marks of the encodings YAML allows besides UTF-8 (longest first).
_OTHER_BOMS: Final = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def not_utf8(data: bytes, exc: UnicodeDecodeError, source: str) -> Problem:
    """The problem of a file that is not UTF-8: its line and column, never a byte offset."""
    for bom, name in _OTHER_BOMS:
        if data.startswith(bom):
            return Problem(
                f"{source}:1",
                "",
                f"the file is {name} (its byte-order mark says so); save it as UTF-8",
            )
    line = data.count(b"\n", 0, exc.start) + 1
    column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
    byte = data[exc.start]
    return Problem(
        f"{source}:{line}",
        "",
        f"byte 0x{byte:02x} at column {column} is not UTF-8 ({exc.reason}); save the file as UTF-8",
    )
