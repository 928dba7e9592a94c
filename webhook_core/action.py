"""The settings of one "Send via webhook" action (rules A1–A4).

A :class:`WebhookAction` is checked when it is made: everything that can be
known to fail before rendering raises :class:`ConfigurationError` naming the
field and the value. What only rendering can tell (a URL that is not http(s)
once its variables are in) is checked by :func:`webhook_core.build_request`.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from .errors import ConfigurationError
from .nesting import split_name
from .template import parse_template

__all__ = [
    "FRAMING_HEADERS",
    "RESERVED_VARIABLES",
    "Method",
    "WebhookAction",
    "check_variable_name",
]

#: Rule B8: filled from the subscriber, the bot and the clock; never a "save to" target.
RESERVED_VARIABLES: Final = frozenset(
    {
        "user_id",
        "first_name",
        "last_name",
        "username",
        "phone",
        "email",
        "channel",
        "bot_id",
        "date",
        "time",
        "datetime",
        "timestamp",
    }
)

#: Headers that frame the message; the sender owns them, a user may not set them.
FRAMING_HEADERS: Final = frozenset({"content-length", "transfer-encoding"})

_VARIABLE_NAME: Final = re.compile(r"\w+")
_HEADER_NAME: Final = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # RFC 9110 token


class Method(enum.Enum):
    """The six methods of rule A2. ``value`` is the spelling the platform shows."""

    GET = "GET"
    POST = "POST"
    JSON_POST = "JSON POST"
    PUT = "PUT"
    PATCH = "PATCH"
    DELETE = "DELETE"

    @property
    def http_method(self) -> str:
        """The HTTP method on the wire (``JSON POST`` is an HTTP ``POST``)."""
        return "POST" if self is Method.JSON_POST else self.value

    @classmethod
    def parse(cls, text: str | Method, *, field: str = "method") -> Method:
        """Accept ``get``, ``JSON POST``, ``json_post``… (case-insensitive; rule A2)."""
        if isinstance(text, Method):
            return text
        if isinstance(text, str):
            key = text.upper().replace(" ", "_")
            if key in cls.__members__ and text.count(" ") + text.count("_") <= 1:
                return cls[key]
        raise ConfigurationError(
            field=field,
            value=text,
            expected="one of GET, POST, JSON POST, PUT, PATCH, DELETE",
        )


def check_variable_name(name: object, *, field: str, reserved_ok: bool = False) -> str:
    """A variable that may be written: word characters, not reserved (B8), not ``ignore`` (B5).

    ``reserved_ok``: a bot variable set beforehand may bear a reserved name (the reserved
    value then wins, rule B8); a "save result to" target may not.
    """
    if not isinstance(name, str) or not _VARIABLE_NAME.fullmatch(name):
        raise ConfigurationError(
            field=field,
            value=name,
            expected="a variable name of letters, digits and '_' (no dots or spaces)",
        )
    if name in RESERVED_VARIABLES and not reserved_ok:
        raise ConfigurationError(
            field=field,
            value=name,
            expected=f"a name that is not reserved ({', '.join(sorted(RESERVED_VARIABLES))})",
        )
    if name == "ignore":
        raise ConfigurationError(
            field=field, value=name, expected="a name other than 'ignore' ({ignore} is a tag)"
        )
    return name


def _pairs(items: Iterable[tuple[str, str]], what: str) -> tuple[tuple[str, str], ...]:
    if isinstance(items, Mapping):
        raise ConfigurationError(
            field=what,
            value=items,
            expected="an ordered list of (name, value) pairs, since order and repeated "
            "names matter (rule A3); a mapping's .items() gives one",
        )
    pairs: list[tuple[str, str]] = []
    for index, item in enumerate(items):
        if not (isinstance(item, tuple | list) and len(item) == 2):
            raise ConfigurationError(
                field=f"{what}[{index}]", value=item, expected="a (name, value) pair"
            )
        name, value = item
        if not isinstance(name, str):
            raise ConfigurationError(field=f"{what}[{index}].name", value=name, expected="text")
        if not isinstance(value, str):
            raise ConfigurationError(
                field=f"{what}[{index}].value", value=value, expected="text (a template)"
            )
        pairs.append((name, value))
    return tuple(pairs)


@dataclass(frozen=True, slots=True)
class WebhookAction:
    """One webhook action: URL, method, ordered headers and parameters, and "save result to".

    ``headers`` and ``params`` are ordered ``(name, value)`` pairs (rule A3);
    values are templates, names are not. Invalid settings raise
    :class:`ConfigurationError` here, before anything is sent (rule A4).
    """

    url: str
    method: Method
    headers: tuple[tuple[str, str], ...] = field(default=())
    params: tuple[tuple[str, str], ...] = field(default=())
    save_to: str | None = None

    def __init__(
        self,
        url: str,
        method: str | Method,
        *,
        headers: Iterable[tuple[str, str]] = (),
        params: Iterable[tuple[str, str]] = (),
        save_to: str | None = None,
    ) -> None:
        if not isinstance(url, str) or not url.strip():
            raise ConfigurationError(field="url", value=url, expected="an http(s) URL template")
        parse_template(url)
        set_ = object.__setattr__
        set_(self, "url", url.strip())
        set_(self, "method", Method.parse(method))
        header_pairs = _pairs(headers, "headers")
        for index, (name, _) in enumerate(header_pairs):
            if not _HEADER_NAME.fullmatch(name):
                raise ConfigurationError(
                    field=f"headers[{index}].name",
                    value=name,
                    expected="an HTTP header name (letters, digits and !#$%&'*+-.^_`|~)",
                )
            if name.lower() in FRAMING_HEADERS:
                raise ConfigurationError(
                    field=f"headers[{index}].name",
                    value=name,
                    expected="a header other than Content-Length or Transfer-Encoding "
                    "(the sender sets those from the body)",
                )
        param_pairs = _pairs(params, "params")
        for index, (name, _) in enumerate(param_pairs):
            split_name(name, field=f"params[{index}].name")
        set_(self, "headers", header_pairs)
        set_(self, "params", param_pairs)
        if save_to is not None:
            check_variable_name(save_to, field="save_to")
        set_(self, "save_to", save_to)

    def __repr__(self) -> str:
        extra = f" save_to={self.save_to!r}" if self.save_to else ""
        return f"<WebhookAction {self.method.value} {self.url!r}{extra}>"
