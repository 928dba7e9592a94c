"""The one model of stubs, shared by Python, YAML/JSON files, the admin API and scenario files.

A :class:`Stub` says which requests it answers (:class:`RequestPattern`) and
how (:class:`ResponseDef`, a sequence of them, or a :class:`Fault`), with an
optional :class:`StateSpec`. Values in a pattern are :class:`Matcher` objects;
a plain value is shorthand for ``{equal: value}``.

These are pydantic models: build them with ``Stub.model_validate(data)`` and
they check everything, naming the field that is wrong.
"""

from __future__ import annotations

import base64
import enum
import math
import re
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import unquote

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    JsonValue,
    PrivateAttr,
    Strict,
    ValidationInfo,
    field_validator,
    model_validator,
)

from .forms import field_keys
from .journal import escape_text
from .jsoncodec import dumps_compact
from .regex import regex_problem
from .templating import count_references, reference_problem
from .wording import not_scalar, shown_input
from .written import BeyondFloat, YamlWord

if TYPE_CHECKING:
    from pydantic.json_schema import JsonSchemaValue
    from pydantic_core import CoreSchema

__all__ = [
    "CrmFaultSpec",
    "Fault",
    "FaultType",
    "Matcher",
    "RequestPattern",
    "ResponseDef",
    "StateSpec",
    "Stub",
]

MATCHER_KEYS = frozenset({"equal", "regex", "contains", "present", "absent"})
_PATH_TEMPLATE = re.compile(r"\{(\w+)\}")
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an HTTP header name (RFC 9110)
#: What may stand in a fake CRM's URL: a Bitrix24 webhook's user id and secret, and an
#: amoCRM subdomain (the profiles check them, and so do scenario files, with these words).
CRM_URL_WORD = re.compile(r"^[A-Za-z0-9_.\-]+$")
CRM_URL_WORD_TEXT = "letters, digits, '_', '-' or '.' (it is part of the webhook URL)"
CRM_SUBDOMAIN = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
CRM_SUBDOMAIN_TEXT = "a host name label (letters, digits and '-', like 'example')"
#: What a header value may not hold: control characters, line breaks among them (TAB is fine).
HEADER_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
#: Response headers that frame the body: the server's to write (a stub's Content-Length
#: is taken only when it equals its body's bytes).
FRAMING_HEADERS = frozenset({"content-length", "transfer-encoding"})


def _framing_words(name: str) -> str:
    return (
        f"header {name}: the server writes it from the body it sends (one that "
        "disagrees with the body breaks the connection for every answer after "
        "it); for a body cut short use fault: cut_body, for a long one "
        "fault: {type: large_body}"
    )


#: A lone surrogate (``"\ud800"`` in JSON): text that no bytes on the wire can carry.
LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _no_surrogate(text: str, what: str) -> None:
    found = LONE_SURROGATE.search(text)
    if found:
        raise ValueError(
            f"{what} holds a lone surrogate (\\u{ord(found.group()):04x} at character "
            f"{found.start()}), which is not text any bytes can carry; give bytes that are "
            "not UTF-8 as base64"
        )


#: An integer JSON values of a stub may hold, in digits at most (the admin API's and a
#: file's bound; Python writes no integer of over 4300 digits as text).
MAX_DIGITS = 4000
_MAX_BITS = int(MAX_DIGITS / math.log10(2))


def _not_json_number(value: Any, path: str = "") -> str | None:
    """Where ``value`` holds NaN or an infinity, which JSON cannot carry, or an integer
    too long to write as text (``10**5000`` from Python), or ``None``."""
    if isinstance(value, float) and (value != value or value in (math.inf, -math.inf)):
        where = f" at {path}" if path else ""
        return f"{value!r}{where} is not a JSON number (JSON has no NaN or Infinity)"
    if isinstance(value, BeyondFloat):  # a file's 1e999: shown as written, not as inf
        where = f" at {path}" if path else ""
        return f"{value}{where} is beyond a float's range (JSON numbers here must be finite)"
    if isinstance(value, int) and value.bit_length() > _MAX_BITS:
        where = f" at {path}" if path else ""
        return f"{_digits(value)}{where}: at most {MAX_DIGITS} digits"
    if isinstance(value, dict):
        for key, item in value.items():
            found = _not_json_number(item, f"{path}.{key}" if path else str(key))
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = _not_json_number(item, f"{path}[{index}]" if path else f"[{index}]")
            if found:
                return found
    return None


def _json_only(value: Any) -> Any:
    problem = _not_json_number(value)
    if problem:
        raise ValueError(problem)
    return value


def _yaml_flag(value: Any) -> Any:
    """A plain ``yes``/``off`` of a YAML file as the boolean YAML 1.1 reads it; quoted
    text, JSON's ``"true"`` and numbers stay what they are (and are refused)."""
    if isinstance(value, YamlWord) and (flag := value.flag()) is not None:
        return flag
    return value


# Numbers and booleans of stubs are what they say: pydantic's lax mode would read the
# text "200" as 200, 200.0 and true as numbers and "yes", 1 as true, without a word.
#: A whole number, given as one (not text, a float or a boolean).
WholeNumber = Annotated[int, Strict()]
#: A number, whole or not, given as one (not text or a boolean).
Number = Annotated[float, Strict()]
#: ``true`` or ``false`` (and YAML 1.1's plain words for them in a YAML file).
Flag = Annotated[bool, Strict(), BeforeValidator(_yaml_flag)]


#: The longest deliberate wait a stub may ask for: a day (longer is a mistake, and a
#: number past a float's range would fail when the wait starts).
MAX_WAIT_MS = 86_400_000
#: A stub's ``priority`` lies within plus or minus this: a 32-bit int's range, as
#: WireMock's priorities (a stub brought over with ``2147483647`` is taken); a 26-digit
#: priority is a slip, not an order.
MAX_PRIORITY = 2**31 - 1
#: A ``slow_body`` fault's chunk, at most (its body is ten chunks; one is held).
MAX_CHUNK = 1024 * 1024
#: A ``large_body`` fault's size, at most: 1 TiB (it is streamed; a Content-Length past
#: 2**63 is one no client reads).
MAX_LARGE_BODY = 1 << 40


def _digits(value: int) -> str:
    """An integer for a message: as written, or its length when too long to show."""
    if -(10**40) < value < 10**40:
        return str(value)
    return f"an integer of about {int(value.bit_length() * 0.30103) + 1} digits"


def _at_most(limit: int) -> Callable[[int], int]:
    def check(value: int) -> int:
        if value > limit:
            raise ValueError(f"a number of at most {limit}; got {_digits(value)}")
        return value

    return check


def _priority(value: int) -> int:
    if not -MAX_PRIORITY <= value <= MAX_PRIORITY:
        raise ValueError(
            f"a whole number from {-MAX_PRIORITY} to {MAX_PRIORITY} (lowest wins); "
            f"got {_digits(value)}"
        )
    return value


#: What a stub's ``path`` may not hold: control characters (C0, DEL, C1). A request's
#: path is matched decoded, so such a character only arrives percent-encoded (``%00``);
#: written raw in a stub it is a slip (a YAML ``"\0"``, a pasted line break).
PATH_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
#: A percent-escape (``%C3%A9``): a stub's path is compared with the decoded path.
_PERCENT_ESCAPE = re.compile(r"%[0-9A-Fa-f]{2}")
#: The longest key of digits a path into data may hold: walking a list, Python reads
#: no index of over 4300 digits (a dict's key of 19 digits, a snowflake id, is fine).
_MAX_INDEX_DIGITS = 4000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)


class Matcher(_Model):
    """How one value is matched: exactly one of ``equal``, ``regex`` (a search),
    ``contains``, ``present: true`` or ``absent: true``."""

    equal: JsonValue = None
    regex: str | None = None
    contains: str | None = None
    present: Flag | None = None
    absent: Flag | None = None

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        if isinstance(data, dict) and data and set(data) <= MATCHER_KEYS:
            return data
        return {"equal": data}

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        full = handler.resolve_ref_schema(handler(core_schema))
        return {
            "description": "a value to equal, or one of {equal|regex|contains|present|absent: …}",
            "anyOf": [{**full, "minProperties": 1, "maxProperties": 1}, {}],
        }

    _equal_json = field_validator("equal", mode="before")(classmethod(lambda cls, v: _json_only(v)))

    @model_validator(mode="after")
    def _exactly_one(self) -> Matcher:
        chosen = [key for key in sorted(MATCHER_KEYS) if key in self.model_fields_set]
        if len(chosen) != 1:
            raise ValueError(
                "a matcher takes exactly one of equal, regex, contains, present, absent; "
                f"got {', '.join(chosen) or 'none'}"
            )
        (key,) = chosen
        if key != "equal" and getattr(self, key) is None:
            expected = "a text" if key in ("regex", "contains") else "true"
            raise ValueError(f"{key}: expected {expected}, got null")
        if self.regex is not None:
            problem = regex_problem(self.regex)
            if problem is not None:
                raise ValueError(problem)
        if self.present is False or self.absent is False:
            raise ValueError("use present: true or absent: true")
        return self

    @property
    def kind(self) -> str:
        return next(key for key in sorted(MATCHER_KEYS) if key in self.model_fields_set)

    def describe(self, limit: int = 60) -> str:
        """``equal 'x'``, ``regex '^a'``, ``present``…: for reports, cut at ``limit``."""
        kind = self.kind
        if kind in ("present", "absent"):
            return kind
        text = repr(getattr(self, kind))
        if len(text) > limit:
            text = text[: limit - 3] + "..."
        return f"{kind} {text}"


MatcherMap = dict[str, Matcher]


def long_index(keys: Iterable[str]) -> str | None:
    """Why a key of a path into data cannot be walked: digits past 4000, which Python
    will not read as a list's index (walking a list to it was a 500); ``None`` when
    each key is fine."""
    for key in keys:
        if len(key) > _MAX_INDEX_DIGITS and key.isascii() and key.isdigit():
            return (
                f"a key of {len(key):,} digits, which no list index can be (at most "
                f"{_MAX_INDEX_DIGITS} digits)"
            )
    return None


def _path_text(path: str) -> None:
    """Why a stub's ``path`` could never be what it seems to say, raised. A request's path
    is matched percent-decoded and without its query, so a control character, ``?``,
    ``#`` or a ``%`` escape only ever meets a request that encoded it (``%00``, ``%3F``):
    written in a stub, each is a slip. ``path_regex`` matches such a path on purpose.
    A brace that is no ``{name}`` parameter is a literal: a request's path holds it
    decoded (``%7B``), and ``/search/{}`` matches it."""
    if (
        path.isascii()
        and path.isprintable()
        and "?" not in path
        and "#" not in path
        and "%" not in path
    ):
        return  # the usual path, in C: no control character, surrogate, ?, # or escape
    shown = shown_input(path)
    if found := PATH_CONTROL.search(path):
        raise ValueError(
            f"a path without control characters; got {shown} ({found.group()!r} at "
            f"character {found.start()}): a request's path is matched decoded, so one "
            "holds it only percent-encoded; to match that, use path_regex ('\\x00')"
        )
    if found := LONE_SURROGATE.search(path):
        raise ValueError(
            f"a path without a lone surrogate (\\u{ord(found.group()):04x} at character "
            f"{found.start()}); a request's byte that is not UTF-8 is matched as the "
            "journal writes it, '\\xNN' (/caf\\xe9), or use path_regex"
        )
    if "?" in path:
        raise ValueError(
            f"a path without '?'; got {shown}: a request's path is matched without its "
            "query, so give the query as query: {name: value}"
        )
    if "#" in path:
        raise ValueError(
            f"a path without '#'; got {shown}: a client never sends the fragment "
            "(the part from '#' on)"
        )
    if found := _PERCENT_ESCAPE.search(path):
        decoded = unquote(path, errors="replace")
        raise ValueError(
            f"a path written decoded; got {shown}, with the escape {found.group()!r}: a "
            f"request's path is matched decoded, so write {shown_input(decoded)}; "
            "to match the escape as written, use path_regex"
        )


def _header_name(name: str) -> None:
    if not _TOKEN.fullmatch(name):
        raise ValueError(f"a header name of letters, digits and !#$%&'*+-.^_`|~; got {name!r}")


class RequestPattern(_Model):
    """Which requests a stub answers. Every field given must match; an empty pattern matches all.

    ``path`` is exact, or a template whose ``{name}`` segments capture values
    (``/users/{id}``); ``path_regex`` is a full match. ``json`` is equality of
    the parsed body, ``json_subset`` ignores extra fields; ``json_paths`` and
    ``form`` take dotted paths (``user.name``, ``items.0.code``), with form
    fields decoded from PHP bracket names first (``user[name]`` is ``user.name``).
    ``body`` matches the raw text.
    """

    method: str = "ANY"
    path: str | None = None
    path_regex: str | None = None
    query: MatcherMap = Field(default_factory=dict)
    headers: MatcherMap = Field(default_factory=dict)
    json_: JsonValue = Field(default=None, alias="json")
    json_subset: JsonValue = None
    json_paths: MatcherMap = Field(default_factory=dict)
    form: MatcherMap = Field(default_factory=dict)
    body: Matcher | None = None

    _json_values = field_validator("json_", "json_subset", mode="before")(
        classmethod(lambda cls, v: _json_only(v))
    )

    @field_validator("method")
    @classmethod
    def _method(cls, value: str) -> str:
        method = value.strip().upper()
        if not re.fullmatch(r"[A-Z]+", method):
            raise ValueError(f"an HTTP method like GET or POST, or ANY; got {value!r}")
        return method

    @field_validator("path")
    @classmethod
    def _path(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith("/"):
            raise ValueError(f"a path starting with '/'; got {shown_input(value)}")
        _path_text(value)
        names = _PATH_TEMPLATE.findall(value or "")
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            shown = ", ".join(f"{{{name}}}" for name in twice)
            raise ValueError(f"each path parameter once; {shown} appears more than once")
        return value

    @field_validator("path_regex")
    @classmethod
    def _regex(cls, value: str | None) -> str | None:
        if value is not None:
            problem = regex_problem(value)
            if problem is not None:
                raise ValueError(problem)
        return value

    @field_validator("headers")
    @classmethod
    def _headers_can_match(cls, value: MatcherMap) -> MatcherMap:
        # A request has one text per header name, whatever its case (a header sent twice
        # is its values joined with ", "): `Content-Type:` and `content-type:` were both
        # compared with it, and a list, a mapping or null never equals text; each check
        # could never be met, which showed only when no request matched.
        seen: dict[str, str] = {}
        for name, matcher in value.items():
            _header_name(name)
            if name.lower() in seen:
                raise ValueError(
                    f"{seen[name.lower()]!r} and {name!r} name the same header (header "
                    "names are case-insensitive); give it once"
                )
            seen[name.lower()] = name
            if matcher.kind == "equal" and (
                matcher.equal is None or isinstance(matcher.equal, list | dict)
            ):
                kind = not_scalar(matcher.equal)
                if matcher.equal is None:
                    hint = "; for a header that must not be sent, write {absent: true}"
                elif isinstance(matcher.equal, list):
                    hint = (
                        "; a header sent twice arrives as its values joined with ', ' "
                        "(write 'a, b', or use contains:)"
                    )
                else:  # a matcher misspelt ({regx: a}) reads as a mapping to equal
                    hint = "; a matcher is one of {equal|regex|contains|present|absent: ...}"
                raise ValueError(f"{name}: a header's value is text, never {kind}{hint}")
        return value

    @field_validator("query", "form", "json_paths")
    @classmethod
    def _names(cls, value: MatcherMap, info: ValidationInfo) -> MatcherMap:
        dotted = info.field_name == "json_paths"
        for name in value:
            keys = name.split(".") if dotted else field_keys(name)
            if "" in keys:
                example = "items.0" if dotted else "tags.0 or tags[0]"
                raise ValueError(
                    f"{name!r} has an empty key, so it names no one field; "
                    f"name each key, as in {example}"
                )
            if problem := long_index(keys):
                raise ValueError(f"{shown_input(name)}: {problem}")
        return value

    @model_validator(mode="after")
    def _one_path(self) -> RequestPattern:
        if self.path is not None and self.path_regex is not None:
            raise ValueError("give path or path_regex, not both")
        if "json" in self.model_fields_set and "json_subset" in self.model_fields_set:
            raise ValueError("give json or json_subset, not both")
        return self

    @property
    def path_parameters(self) -> tuple[str, ...]:
        return tuple(_PATH_TEMPLATE.findall(self.path or ""))


class FaultType(enum.StrEnum):
    """What can go wrong on purpose (WireMock's four, and more)."""

    CONNECTION_RESET = "connection_reset"  # RST instead of an answer
    EMPTY_RESPONSE = "empty_response"  # close without a reply
    MALFORMED_RESPONSE = "malformed_response"  # a status line that is not HTTP
    RANDOM_DATA_THEN_CLOSE = "random_data_then_close"  # garbage bytes, then close
    NO_RESPONSE = "no_response"  # hold the connection, say nothing (client time limit)
    SLOW_BODY = "slow_body"  # the body dribbled in chunks
    INVALID_JSON = "invalid_json"  # 200, application/json, a broken body
    NON_UTF8 = "non_utf8"  # text/plain; charset=utf-8 with invalid bytes
    LARGE_BODY = "large_body"  # a body of ``size`` bytes
    CUT_BODY = "cut_body"  # a Content-Length, half of that body, then the connection closes


#: Faults that break the connection instead of answering.
CONNECTION_FAULTS = frozenset(
    {
        FaultType.CONNECTION_RESET,
        FaultType.EMPTY_RESPONSE,
        FaultType.MALFORMED_RESPONSE,
        FaultType.RANDOM_DATA_THEN_CLOSE,
        FaultType.NO_RESPONSE,
    }
)


#: Faults that send a body (broken, slow, huge, cut): a 204 or 304 has none to send.
BODY_FAULTS = frozenset(
    {
        FaultType.SLOW_BODY,
        FaultType.INVALID_JSON,
        FaultType.NON_UTF8,
        FaultType.LARGE_BODY,
        FaultType.CUT_BODY,
    }
)


class Fault(_Model):
    """A fault, with its options. ``fault: connection_reset`` is shorthand for ``{type: …}``."""

    type: FaultType
    seconds: Number = Field(
        default=60.0, gt=0, le=MAX_WAIT_MS / 1000, description="no_response: how long to hold"
    )
    chunk_size: Annotated[WholeNumber, AfterValidator(_at_most(MAX_CHUNK))] = Field(
        default=16, gt=0, description="slow_body: bytes per chunk"
    )
    chunk_delay_ms: WholeNumber = Field(
        default=100, ge=0, le=MAX_WAIT_MS, description="slow_body: pause between chunks"
    )
    size: Annotated[WholeNumber, AfterValidator(_at_most(MAX_LARGE_BODY))] = Field(
        default=2 * 1024 * 1024, gt=0, description="large_body: bytes"
    )
    fill: str = Field(
        default="x",
        min_length=1,
        max_length=256,
        description="large_body: the text repeated (as UTF-8) to make the body, cut at size",
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthand(cls, data: Any) -> Any:
        return {"type": data} if isinstance(data, str) else data

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        full = handler.resolve_ref_schema(handler(core_schema))
        kinds = full["properties"]["type"]
        return {"anyOf": [kinds, full]}


class ResponseDef(_Model):
    """An answer: status, headers, one body (``json``, ``text`` or ``base64``), a delay, a fault.

    Strings in headers and bodies are templates over the request (``{request.json.user.name}``,
    ``{request.query.id}``, ``{request.path.id}``, ``{request.headers.x-token}``) unless
    ``template: false``; a reference to anything else is left as written.
    """

    status: WholeNumber = Field(
        default=200, ge=200, le=599, description="a final status: 1xx never ends a request"
    )
    headers: dict[str, str] = Field(default_factory=dict)
    json_: JsonValue = Field(default=None, alias="json")
    text: str | None = None
    base64: str | None = None
    delay_ms: WholeNumber = Field(default=0, ge=0, le=MAX_WAIT_MS)
    fault: Fault | None = None
    template: Flag = True

    _json_body = field_validator("json_", mode="before")(classmethod(lambda cls, v: _json_only(v)))

    @field_validator("headers")
    @classmethod
    def _headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            _header_name(name)
            if name.lower() == "transfer-encoding":
                raise ValueError(_framing_words(name))
            if HEADER_CONTROL.search(text):
                raise ValueError(
                    f"header {name}: a value without control characters such as line "
                    f"breaks; got {text!r}"
                )
            _no_surrogate(text, f"header {name}")
        return value

    @field_validator("text")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        if value is not None:
            _no_surrogate(value, "the text")
        return value

    @model_validator(mode="after")
    def _one_body(self) -> ResponseDef:
        given = [name for name in ("json_", "text", "base64") if name in self.model_fields_set]
        if len(given) > 1:
            names = ", ".join(name.rstrip("_") for name in given)
            raise ValueError(f"give one body (json, text or base64); got {names}")
        # An empty text or base64 (``text: ""``) is no body: what a 204 sends, as ever.
        given = [name for name in given if name == "json_" or getattr(self, name)]
        if given and self.status in (204, 304):
            # aiohttp drops it without a word: the stub would say what is never served.
            raise ValueError(
                f"a {self.status} answer has no body (RFC 9110), and this one gives "
                f"{given[0].rstrip('_')}: drop it, or answer 200"
            )
        if self.fault is not None and self.status in (204, 304) and self.fault.type in BODY_FAULTS:
            # aiohttp sent no Content-Length and then the bytes anyway (slow, large, cut):
            # they were read as the start of the next answer on the connection.
            raise ValueError(
                f"fault: a {self.status} answer has no body (RFC 9110), and the fault "
                f"{self.fault.type.value} sends one: drop the fault, or answer 200"
            )
        if self.base64 is not None:
            try:
                base64.b64decode(self.base64, validate=True)
            except ValueError as exc:
                raise ValueError(f"base64 does not decode: {exc}") from exc
        return self

    @model_validator(mode="after")
    def _content_length(self) -> ResponseDef:
        # One equal to the body's bytes (a recorded answer's) is what aiohttp sends
        # anyway; only one that disagrees, or cannot be known, breaks the framing.
        for name, text in self.headers.items():
            if name.lower() != "content-length":
                continue
            length = None if self.fault is not None else self._static_length()
            if length is None or text.strip() != str(length):
                known = "" if length is None else f"; this body is {length} bytes"
                raise ValueError(f"headers: {_framing_words(name)}{known}")
        return self

    def _static_length(self) -> int | None:
        """The bytes of the body the server sends, when no template changes them."""
        if self.template:
            references: dict[Any, int] = {}
            count_references(self.json_ if self.has_json else self.text, references)
            if references:
                return None
        if self.has_json:
            return len(dumps_compact(self.json_).encode("utf-8", "backslashreplace"))
        if self.text is not None:
            return len(self.text.encode())
        if self.base64 is not None:
            return len(base64.b64decode(self.base64))
        return 0

    @model_validator(mode="after")
    def _references(self) -> ResponseDef:
        if self.template:
            for where, value in (
                ("headers", self.headers),
                ("json", self.json_),
                ("text", self.text),
            ):
                if (problem := reference_problem(value)) is not None:
                    raise ValueError(f"{where}: {problem}")
        return self

    @property
    def has_json(self) -> bool:
        return "json_" in self.model_fields_set


class StateSpec(_Model):
    """A state machine: the stub matches only in state ``required`` of ``scenario`` (when
    given) and moves it to ``set``. With ``key`` (a template over the request, like
    ``{request.json.order_id}``) each key has a state of its own. States start at ``Started``."""

    scenario: str = Field(min_length=1)
    required: str | None = None
    set: str | None = None
    key: str | None = None

    @field_validator("key")
    @classmethod
    def _key(cls, value: str | None) -> str | None:
        # A reference no request has renders empty: every request would share one key.
        if value is not None and (problem := reference_problem(value)) is not None:
            raise ValueError(problem)
        return value


class Stub(_Model):
    """A stub: a pattern, an answer (or a sequence of answers), and how it behaves.

    When several stubs match, the lowest ``priority`` wins, then the one added last.
    ``responses`` are given in turn; ``when_exhausted`` says what follows the last:
    ``repeat_last`` (default), ``cycle`` or ``fail`` (answer 500 and report it).
    An ``optional`` stub may go unused in a strict test.
    """

    id: str | None = Field(default=None, min_length=1)
    name: str | None = None
    # The bounds are checked, not written in the JSON Schema: the scenario schema is
    # generated from this model too, and is another package's file.
    priority: Annotated[WholeNumber, AfterValidator(_priority)] = 5
    request: RequestPattern = Field(default_factory=RequestPattern)
    response: ResponseDef | None = None
    responses: Annotated[list[ResponseDef], Field(min_length=1)] | None = None
    when_exhausted: Literal["repeat_last", "cycle", "fail"] = "repeat_last"
    state: StateSpec | None = None
    optional: Flag = False
    #: Where the stub was written (``file:line``), when it came from a file; or how to
    #: find it (a JSON file's lines are found only when a report needs one).
    _source: str | Callable[[], str] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _one_answer(self) -> Stub:
        if self.response is not None and self.responses is not None:
            raise ValueError("give response or responses, not both")
        return self

    @property
    def answers(self) -> list[ResponseDef]:
        if self.responses is not None:
            return self.responses
        return [self.response or ResponseDef()]

    @property
    def source(self) -> str | None:
        """``file:line`` of the stub when it came from a stub or scenario file."""
        if callable(self._source):
            self._source = self._source()
        return self._source

    def located(self, where: str | Callable[[], str] | None) -> Stub:
        """This stub, marked as written at ``where`` (``file:line``, or a function that
        finds it when first asked) for reports."""
        self._source = where
        return self

    def label(self) -> str:
        """How a report names this stub (and where it was written, when from a file)."""
        name = f" {self.name!r}" if self.name else ""
        where = f" at {self.source}" if self._source else ""
        # An id may hold a line break or an escape sequence: reports stay one line each.
        return f"stub{name} ({escape_text(str(self.id))}){where}"


class CrmFaultSpec(_Model):
    """A fault of a fake CRM, as scenario files and the admin API give it
    (``mockserver.crm.CrmFault`` is what a profile runs)."""

    method: str = Field(min_length=1, description="the CRM method or 'VERB /path' it hits")
    kind: Literal["error", "commit_then_drop", "commit_then_hang", "html", "redirect"] = "error"
    call: WholeNumber | None = Field(
        default=None, ge=1, description="the Nth call (default: every)"
    )
    status: WholeNumber = Field(default=500, ge=200, le=599)
    code: str = "INTERNAL_SERVER_ERROR"
    message: str = "Internal server error"
    seconds: Number = Field(default=30.0, gt=0, le=MAX_WAIT_MS / 1000)
    # A Location header: an http(s) URL, nothing a header line cannot carry.
    location: str = Field(default="", pattern=r"^(https?://[^\s\x00-\x1f\x7f]+)?$")
