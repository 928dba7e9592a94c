"""Reading an action, variables and a subscriber from YAML or JSON files, for ``webhook-try``.

An action file holds what a scenario's ``webhook:`` block holds (``url``,
``method``, ``headers``, ``params``, ``save_to``), at the top level or under a
``webhook:`` key, so a block can be copied out of a scenario as it is. It is
read here with PyYAML (or ``json`` for ``*.json``) and made into a
:class:`~webhook_core.WebhookAction`; this module imports neither the scenario
harness nor the mock server.

What a value means:

- In the action and the subscriber every value is text, and it is **the text as
  written**: ``+79001234567`` stays ``+79001234567``, ``0123`` stays ``0123``,
  ``1:30`` and ``NO`` stay as they are (YAML 1.1 would make them a number, 83, 90
  and ``false``). An empty value is the empty text.
- In a variables file a plain scalar keeps the type YAML gives it only when
  rendering that value back (rule B4) gives exactly the text written: ``17``,
  ``-2``, ``2.5``, ``true`` and ``false`` are a number or a boolean; ``+7900``,
  ``0123``, ``1:30``, ``1.50``, ``yes``, ``2026-01-01`` are the text written.
  ``null``, ``~`` and an empty value are null. JSON files follow JSON's rules.

Every problem is a :class:`ActionFileError` naming ``file:line`` and the field.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from .action import RESERVED_VARIABLES, WebhookAction, check_variable_name
from .errors import ConfigurationError
from .flow import Subscriber
from .template import format_value

__all__ = [
    "ACTION_FIELDS",
    "ActionFileError",
    "Located",
    "action_from_file",
    "load_file",
    "subscriber_from_file",
    "variables_from_file",
]

Place = tuple[str | int, ...]

#: The keys of a scenario's ``webhook:`` block.
ACTION_FIELDS: Final = ("url", "method", "headers", "params", "save_to")
_SUBSCRIBER_FIELDS: Final = tuple(Subscriber.__dataclass_fields__)

#: At most this many values are read from one file: aliases (``*a``) repeat what an
#: anchor holds, and nested ones could expand a small file without end.
MAX_VALUES: Final = 100_000
#: At most this many bytes are read from one file.
MAX_FILE_BYTES: Final = 10 * 1024 * 1024

_FIELD_PART: Final = re.compile(r"(\w+)|\[(\d+)\]")


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
        try:
            value = self.constructor.construct_object(node, deep=True)
        except yaml.YAMLError:
            value = node.value
        return Scalar(node.value, value, exact=False)


# --- interpreting ----------------------------------------------------------------------


def _text(located: Located, value: Any, place: Place, what: str = "text") -> str:
    """A text field: the text as written (an empty YAML value is the empty text)."""
    if isinstance(value, Scalar) and not (value.exact and value.value is None):
        return value.text
    if isinstance(value, Scalar):
        raise located.error(place, value=None, expected=f'{what}; write "" for empty text')
    raise located.error(place, value=plain(value), expected=what)


def plain(value: Any) -> Any:
    """Data with :class:`Scalar` leaves as plain values (for messages)."""
    if isinstance(value, Scalar):
        return value.text
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain(item) for item in value]
    return value


def typed(value: Any) -> Any:
    """A variables file's value: a scalar keeps its YAML type only when it renders back
    (rule B4) to exactly the text written; otherwise it is that text. ``null``/``~``/empty
    are null."""
    if isinstance(value, dict):
        return {key: typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [typed(item) for item in value]
    if not isinstance(value, Scalar):
        return value
    if value.exact or value.value is None:
        return value.value
    if value.text == "":
        return None
    if isinstance(value.value, bool | int | float) and format_value(value.value) == value.text:
        return value.value
    return value.text


def _unknown(located: Located, key: str, place: Place, allowed: Iterable[str]) -> ActionFileError:
    allowed = tuple(allowed)
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    return located.error(
        (*place, key), value=key, expected=f"one of {', '.join(allowed)}{hint}", name=key
    )


def _pairs(located: Located, value: Any, place: Place) -> list[tuple[str, str]]:
    what = dotted(place)
    if value is None or (isinstance(value, Scalar) and value.text == "" and not value.exact):
        return []
    if isinstance(value, dict):
        raise located.error(
            place,
            value=plain(value),
            expected=f"a list of name: value pairs, one per item (- user.name: '{{first_name}}'), "
            f"since order and repeated names matter (rule A3); {what} is a mapping",
        )
    if not isinstance(value, list):
        raise located.error(place, value=plain(value), expected="a list of name: value pairs")
    pairs: list[tuple[str, str]] = []
    for index, item in enumerate(value):
        at = (*place, index)
        if isinstance(item, dict) and len(item) == 1:
            ((name, text),) = item.items()
            pairs.append((name, _text(located, text, (*at, name), "text (a template)")))
        elif isinstance(item, list) and len(item) == 2:
            name = _text(located, item[0], (*at, 0), "a name")
            pairs.append((name, _text(located, item[1], (*at, 1), "text (a template)")))
        else:
            raise located.error(
                at, value=plain(item), expected="a pair written as '- Name: value' or [Name, value]"
            )
    return pairs


def action_from_file(located: Located) -> WebhookAction:
    """The :class:`WebhookAction` a file holds, its configuration errors placed at file:line."""
    data = located.data
    prefix: Place = ()
    if isinstance(data, dict) and "webhook" in data and len(data) == 1:
        data, prefix = data["webhook"], ("webhook",)
    if not isinstance(data, dict):
        raise located.error(
            prefix,
            value=plain(data),
            expected="a mapping with url and method (and headers, params, save_to), "
            "as a scenario's webhook: block",
        )
    for key in data:
        if key not in ACTION_FIELDS:
            raise _unknown(located, key, prefix, ACTION_FIELDS)
    for key in ("url", "method"):
        if key not in data:
            raise located.error(
                prefix, value=None, expected=f"a {key!r} (rule A1)", name=dotted((*prefix, key))
            )
    fields: dict[str, Any] = {
        "url": _text(located, data["url"], (*prefix, "url"), "an http(s) URL template"),
        "method": _text(located, data["method"], (*prefix, "method"), "a method"),
        "headers": _pairs(located, data.get("headers"), (*prefix, "headers")),
        "params": _pairs(located, data.get("params"), (*prefix, "params")),
    }
    save_to = data.get("save_to")
    if save_to is not None and not (isinstance(save_to, Scalar) and save_to.value is None):
        fields["save_to"] = _text(located, save_to, (*prefix, "save_to"), "a variable name")
    try:
        return WebhookAction(
            fields["url"],
            fields["method"],
            headers=fields["headers"],
            params=fields["params"],
            save_to=fields.get("save_to"),
        )
    except ConfigurationError as exc:
        place = (*prefix, *place_of(exc.field))
        raise located.error(
            place, value=exc.value, expected=exc.expected, name=dotted(place)
        ) from None


def variables_from_file(located: Located) -> dict[str, Any]:
    """The bot's variables a file holds: a mapping of names to values (see :func:`typed`)."""
    data = located.data
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise located.error((), value=plain(data), expected="a mapping of variable names to values")
    variables: dict[str, Any] = {}
    for name, value in data.items():
        try:
            check_name(name)
        except ConfigurationError as exc:
            raise located.error((name,), value=exc.value, expected=exc.expected) from None
        variables[name] = typed(value)
    return variables


def check_name(name: str, *, option: str = "") -> str:
    """A variable given by hand: a word, not ``ignore``, not reserved (rule B8: those come
    from the subscriber, the bot and the clock, and would win over it)."""
    check_variable_name(name, field=option or name, reserved_ok=True)
    if name in RESERVED_VARIABLES:
        if name == "bot_id":
            source = "the bot: use --bot-id"
        elif name in ("date", "time", "datetime", "timestamp"):
            source = "the clock: use --now and --timezone"
        else:
            source = f"the subscriber: use --subscriber-field {name}=..."
        raise ConfigurationError(
            field=option or name,
            value=name,
            expected=f"a name that is not reserved (rule B8: {{{name}}} is filled from {source})",
        )
    return name


def subscriber_from_file(located: Located) -> dict[str, str]:
    """The subscriber's fields a file holds (user_id, first_name, …), each the text written."""
    data = located.data
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise located.error(
            (), value=plain(data), expected=f"a mapping of {', '.join(_SUBSCRIBER_FIELDS)}"
        )
    fields: dict[str, str] = {}
    for key, value in data.items():
        if key not in _SUBSCRIBER_FIELDS:
            raise _unknown(located, key, (), _SUBSCRIBER_FIELDS)
        fields[key] = _text(located, value, (key,))
    return fields


def subscriber_fields() -> tuple[str, ...]:
    """The subscriber's fields, as ``--subscriber-field`` takes them."""
    return _SUBSCRIBER_FIELDS
