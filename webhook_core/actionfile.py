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
from collections.abc import Iterable
from typing import Any, Final

from .action import RESERVED_VARIABLES, WebhookAction, check_variable_name
from .errors import ConfigurationError
from .flow import Subscriber
from .template import format_value
from .yamlfile import ActionFileError, Located, Place, Scalar, dotted, load_file, place_of, plain

__all__ = [
    "ACTION_FIELDS",
    "ActionFileError",
    "Located",
    "action_from_file",
    "check_name",
    "load_file",
    "subscriber_fields",
    "subscriber_from_file",
    "typed",
    "variables_from_file",
]

#: The keys of a scenario's ``webhook:`` block.
ACTION_FIELDS: Final = ("url", "method", "headers", "params", "save_to")
_SUBSCRIBER_FIELDS: Final = tuple(Subscriber.__dataclass_fields__)


def _text(located: Located, value: Any, place: Place, what: str = "text") -> str:
    """A text field: the text as written (an empty YAML value is the empty text)."""
    if isinstance(value, Scalar) and not (value.exact and value.value is None):
        return value.text
    if isinstance(value, Scalar):
        raise located.error(place, value=None, expected=f'{what}; write "" for empty text')
    raise located.error(place, value=plain(value), expected=what)


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
