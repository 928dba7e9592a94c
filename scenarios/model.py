"""The scenario file model: what a ``*.scenario.yaml`` document may say (pydantic).

A document is a :class:`Scenario`, or ``defaults:`` that later documents of the
same file start from. The mock server's part uses ``mockserver``'s own
:class:`~mockserver.Stub` model: there is one stub dialect, not two.
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import timedelta, timezone
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BeforeValidator,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    JsonValue,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from mockserver import Matcher, RequestPattern
from mockserver.crm.amocrm.entities import ENTITIES as AMOCRM_ENTITIES
from mockserver.crm.bitrix24.schema import ENTITIES as BITRIX24_ENTITIES
from mockserver.models import (
    Flag,
)
from mockserver.written import (
    YamlWord,
    as_written,
    pattern_texts,
    text_matcher,
)
from webhook_core import ConfigurationError, Method, check_timezone, check_variable_name

from .clock import DEFAULT_CLOCK, RealDatetime
from .durations import format_duration
from .fields import (
    DURATION_SCHEMA,
    MARK_NAME,
    METHOD_PATTERN,
    Count,
    Duration,
    MarkName,
    MarkWithArgument,
    Model,
    OptionalText,
    Pair,
    RuleId,
    Text,
    Whole,
    text_value,
)
from .mockspec import (
    MockSpec,
)
from .summary import RULES

__all__ = [
    "AttemptExpectation",
    "Block",
    "ConfigurationErrorExpectation",
    "Defaults",
    "Expect",
    "MessagePart",
    "MockSpec",
    "RequestExpectation",
    "Scenario",
    "SubscriberSpec",
    "UncheckedMethod",
    "WebhookSpec",
    "When",
]

_NUMBER: Final = re.compile(r"[-+]?[0-9]*\.?[0-9]+([eE][-+]?[0-9]+)?")
_FRACTION: Final = re.compile(r"[0-9]:[0-9]{2}[.,]([0-9]+)")


class UncheckedMethod(Model):
    """``method: {unchecked: FETCH}``: a method the loader does not check, for scenarios of
    rule A4 (the implementation under test must refuse it)."""

    unchecked: str


class WebhookSpec(Model):
    """A "Send via webhook" action, as the bot builder shows it (rules A1–A3).

    ``method`` is kept as written (``json post`` stays ``json post``): the
    implementation under test reads it (rule A2), not the loader.
    """

    url: Text = Field(description="a template; {mock.url} is the mock server's base URL")
    method: (
        Annotated[
            str,
            BeforeValidator(text_value),
            WithJsonSchema(
                {
                    "type": "string",
                    "description": "GET, POST, JSON POST, PUT, PATCH or DELETE, in any case",
                    "pattern": METHOD_PATTERN,
                }
            ),
        ]
        | UncheckedMethod
    )
    headers: list[Pair] = Field(default_factory=list)
    params: list[Pair] = Field(default_factory=list)
    save_to: OptionalText = None

    @field_validator("headers", "params", mode="before")
    @classmethod
    def _pairs(cls, value: Any) -> Any:
        if isinstance(value, dict):
            raise ValueError(
                "a list of name: value pairs, one per item (- user.name: '{first_name}'), "
                "since order and repeated names matter (rule A3); got a mapping"
            )
        return value

    @field_validator("method")
    @classmethod
    def _method(cls, value: str | UncheckedMethod) -> str | UncheckedMethod:
        if isinstance(value, UncheckedMethod):
            return value
        try:
            Method.parse(value)
        except ConfigurationError as exc:
            raise ValueError(f"{exc.expected}; got {value!r}") from None
        return value  # as written

    @property
    def method_text(self) -> str:
        """The method as the file wrote it."""
        return self.method.unchecked if isinstance(self.method, UncheckedMethod) else self.method


class SetSpec(Model):
    name: Text
    value: Text

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        try:
            return check_variable_name(value, field="name")
        except ConfigurationError as exc:
            raise ValueError(f"{exc.expected}; got {value!r}") from None


class Block(Model):
    """One block of the bot's flow: exactly one of ``webhook``, ``message``, ``set``."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1, "maxProperties": 1})

    webhook: WebhookSpec | None = None
    message: OptionalText = None
    set: SetSpec | None = None

    @model_validator(mode="after")
    def _one(self) -> Block:
        given = [name for name in ("webhook", "message", "set") if name in self.model_fields_set]
        empty = [name for name in given if getattr(self, name) is None]
        if len(given) == 1 and empty:
            # `- webhook:` with nothing after it was a block that did nothing, silently.
            (name,) = empty
            what = {
                "webhook": "a mapping (url:, method:, ...) indented under it",
                "set": "a mapping {name: ..., value: ...}",
                "message": "text ('' for an empty message)",
            }[name]
            raise ValueError(f"{name}: {what}; got null, which would make a block doing nothing")
        if len(given) != 1:
            raise ValueError(
                f"a block is exactly one of webhook, message, set; got {', '.join(given) or 'none'}"
            )
        return self


class SubscriberSpec(Model):
    """The subscriber; these fill the reserved variables (rule B8)."""

    user_id: Text = "1"
    first_name: Text = ""
    last_name: Text = ""
    username: Text = ""
    phone: Text = ""
    email: Text = ""
    channel: Text = "telegram"


def _null_refused(hints: dict[str, str]) -> Any:
    """A before-validator of the optional checks ``hints`` names: written with nothing
    after the key (null), each checked nothing, silently, as an omitted key does; the
    mapping or list under it was usually not indented. ``hints``: what goes there."""

    def refuse(cls: type, value: Any, info: ValidationInfo) -> Any:
        if value is None:
            name = info.field_name
            raise ValueError(
                f"{hints[str(name)]} (nothing after {name}: checks nothing; indent what goes "
                "under it, or remove the key)"
            )
        return value

    return field_validator(*hints, mode="before")(refuse)


class RequestExpectation(RequestPattern):
    """A request the far side must have received: a mock-server pattern and how many times."""

    count: Count | None = Field(default=None, description="exactly this many (default 1)")
    at_least: Count | None = None

    _no_null = _null_refused(
        {"count": "a whole number (default 1)", "at_least": "a whole number, the fewest times"}
    )

    @model_validator(mode="before")
    @classmethod
    def _texts(cls, data: Any) -> Any:
        return pattern_texts(data)


def _attempt(value: Any) -> Any:
    if isinstance(value, str | int | float) and not isinstance(value, bool):
        return {"at": value}
    return value


class MessagePart(Model):
    """A part of a failed attempt's message, said so: ``{contains: timeuot}`` is looked
    for in the message, never taken for a misspelt kind."""

    contains: Text


class AttemptExpectation(Model):
    """One attempt: when (offset from the clock's start) and, optionally, how it went."""

    at: Duration
    status: Whole | None = None
    ok: Flag | None = None
    error: OptionalText | list[Text] | MessagePart = Field(
        default=None,
        description="the failure kind (status, timeout, connect, disconnect, protocol, "
        "redirects, network, too_large, configuration), a list of kinds any of which will "
        "do, or else a part of the failure's message ({contains: text} says so: a single "
        "word close to a kind is refused as a misspelt kind)",
    )
    block: Count | None = None

    _no_null = _null_refused(
        {
            "status": "an HTTP status",
            "ok": "true or false",
            "error": "a failure kind, a list of kinds, or a part of the failure's message",
            "block": "the index of a webhook block of the flow",
        }
    )


class _AttemptSchema:
    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {"anyOf": [DURATION_SCHEMA, handler(core_schema)]}


Attempt = Annotated[AttemptExpectation, BeforeValidator(_attempt), _AttemptSchema]


class RecordsExpectation(Model):
    """The records of one entity type of a fake CRM, in id order."""

    count: Count | None = None
    records: list[dict[str, Matcher]] | None = Field(
        default=None, description="each record's fields by dotted path (PHONE.0.VALUE)"
    )

    _no_null = _null_refused(
        {
            "count": "a whole number of records (0: there are none)",
            "records": "a list of records, each {field: value}",
        }
    )

    @model_validator(mode="after")
    def _checks_something(self) -> RecordsExpectation:
        # `leads: {}` and `leads: {records: []}` checked nothing, "there are none" not.
        if self.count is None and not self.records:
            raise ValueError(
                "count or records (not empty): "
                + (
                    "an empty records list without count checks nothing; to say there "
                    "are none, write count: 0"
                    if self.records == []
                    else "an empty mapping checks nothing (count: 1, records: [...])"
                )
            )
        return self


class ConfigurationErrorExpectation(Model):
    """Rule A4: the setting the implementation refused (a path like ``params[1].name``) and,
    optionally, the value it names."""

    field: str = Field(min_length=1)
    value: Matcher | None = None


class Expect(Model):
    """What must have happened once the flow comes to rest."""

    state: Literal["finished", "paused", "waiting"] = "finished"
    error: Matcher | None = Field(default=None, description="the paused flow's last error")
    requests: list[RequestExpectation] | None = None
    in_order: Flag = True
    requests_total: Count | None = None
    messages: list[Matcher] | None = None
    variables: dict[str, Matcher] = Field(default_factory=dict)
    attempts: list[Attempt] | None = None
    missing: list[Text] | None = Field(
        default=None, description="template references that found no value (rule B3)"
    )
    configuration_error: ConfigurationErrorExpectation | None = Field(
        default=None, description="the flow paused on this configuration error (rule A4)"
    )
    crm: dict[
        Literal["bitrix24", "amocrm"],
        Annotated[dict[str, RecordsExpectation], Field(min_length=1)],
    ] = Field(default_factory=dict, description="records the fake CRMs hold after the run")

    _no_null = _null_refused(
        {
            "error": "the paused flow's last error: a text or a matcher ({contains: '503'})",
            "requests": "a list of at least 1 request pattern; to say that no request "
            "arrived, write requests_total: 0",
            "requests_total": "a whole number of requests (0: none arrived)",
            "messages": "a list of the messages sent, in order; to say that none was, "
            "write messages: []",
            "attempts": "a list of attempts ({at: 0s, status: 200}); to say that none was "
            "made, write attempts: []",
            "missing": "a list of template references that found no value; to say that "
            "none did, write missing: []",
            "configuration_error": "{field: params[1].name} (and optionally value:)",
        }
    )

    @field_validator("error", mode="before")
    @classmethod
    def _error_text(cls, value: Any) -> Any:
        return text_matcher(value)

    @field_validator("requests")
    @classmethod
    def _some_requests(
        cls, value: list[RequestExpectation] | None
    ) -> list[RequestExpectation] | None:
        # An empty list checked nothing: "no request arrived" was not what ran.
        if value == []:
            raise ValueError(
                "a list of at least 1 request pattern (an empty list checks nothing); "
                "to say that no request arrived, write requests_total: 0"
            )
        return value

    @field_validator("crm")
    @classmethod
    def _entity_names(
        cls, value: dict[str, dict[str, RecordsExpectation]]
    ) -> dict[str, dict[str, RecordsExpectation]]:
        # A fake CRM has no records of a type it does not know, so `Leads: {count: 0}` or
        # Bitrix24's `leads:` (it says lead) passed always, and `count: 1` failed on the
        # wrong cause. A name close to one of the CRM's own entities is a misspelling.
        import difflib

        for crm, entities in value.items():
            known = BITRIX24_ENTITIES if crm == "bitrix24" else AMOCRM_ENTITIES
            for entity in entities:
                if entity in known:
                    continue
                close = [name for name in known if name == entity.lower()] or (
                    difflib.get_close_matches(entity.lower(), known, n=1, cutoff=0.75)
                )
                if close:
                    raise ValueError(
                        f"{crm}.{entity}: no such entity in the fake {crm}; did you mean "
                        f"{close[0]!r}? (its entities: {', '.join(known)})"
                    )
        return value

    @field_validator("messages", mode="before")
    @classmethod
    def _message_texts(cls, value: Any) -> Any:
        return [text_matcher(item) for item in value] if isinstance(value, list) else value

    @field_validator("variables")
    @classmethod
    def _paths(cls, value: dict[str, Matcher]) -> dict[str, Matcher]:
        empty = [path for path in value if "" in path.split(".")]
        if empty:
            raise ValueError(
                "dotted paths with no empty segment, like result.promo.code; got "
                + ", ".join(repr(path) for path in empty)
            )
        return value


#: An implementation's rule D3 choice (``scenarios.implementations.OVER_LIMIT_CHOICES``).
OverLimit = Literal["truncate", "fail", "discard"]


class When(Model):
    """The capabilities an implementation must have declared for a scenario to apply."""

    over_limit: OverLimit | None = Field(
        default=None, description="rule D3's choice for a body over 1 MiB"
    )
    renders: Flag | None = Field(
        default=None, description="whether it renders messages and set values itself"
    )

    _no_null = _null_refused(
        {
            "over_limit": "one of truncate, fail or discard",
            "renders": "true or false",
        }
    )

    def items(self) -> list[tuple[str, Any]]:
        """The capabilities asked for, as ``(name, value)``."""
        return [(key, value) for key, value in self if value is not None]


#: What the JSON Schema says of a name (the model's check is ``Scenario._name``): not
#: empty, no space at either end, no ``::``, no control, line-separating or common
#: invisible (format) characters.
#: The longest name: it is a pytest item's (a node id, a line of the report, a JUnit
#: test case); the longest in the project's own files is under a hundred characters.
MAX_NAME: Final = 300
NAME_PATTERN: Final = (
    r"^(?!\s)(?!.*\s$)(?!.*::)"
    r"[^\x00-\x1f\x7f-\x9f\u00ad\u2028\u2029\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]+$"
)


class Scenario(Model):
    """One scenario: a subscriber, a flow, the far side, and what must happen."""

    model_config = ConfigDict(
        extra="forbid", populate_by_name=True, frozen=True, json_schema_extra={"title": "Scenario"}
    )

    name: Text = Field(
        min_length=1, json_schema_extra={"pattern": NAME_PATTERN, "maxLength": MAX_NAME}
    )
    description: OptionalText = None
    rules: list[RuleId] = Field(default_factory=list, description="rule ids this scenario pins")
    marks: list[MarkName | MarkWithArgument] = Field(
        default_factory=list,
        description="pytest marks: a name (smoke), or one {name: argument}: a reason for "
        "skip/xfail/skipif, a list of arguments, or a mapping of keyword arguments",
    )
    when: When = Field(
        default_factory=When,
        description="run only for an implementation that declared these capabilities "
        "(over_limit: truncate): a choice the rules leave to the implementation",
    )
    clock: RealDatetime = DEFAULT_CLOCK
    timezone: Text = "UTC"
    bot_id: Text = "bot-1"
    subscriber: SubscriberSpec = Field(default_factory=SubscriberSpec)
    variables: dict[str, JsonValue] = Field(default_factory=dict)
    flow: list[Block] = Field(min_length=1)
    mock: MockSpec = Field(default_factory=MockSpec)
    expect: Expect = Field(default_factory=Expect)
    expect_failure: Annotated[Matcher | None, BeforeValidator(text_matcher)] = Field(
        default=None, description="this scenario must fail, with a report matching this"
    )
    time_limit: Duration = Field(
        default=timedelta(seconds=10), description="the sender's time limit per attempt (rule C9)"
    )
    parametrize: (
        Annotated[dict[str, Annotated[list[JsonValue], Field(min_length=1)]], Field(min_length=1)]
        | Annotated[list[dict[str, JsonValue]], Field(min_length=1)]
        | None
    ) = Field(
        default=None,
        description="run once per case: {name: [values]} for every combination, or a list "
        "of {name: value} cases; ${name} in any string takes the value",
    )

    _no_null = _null_refused(
        {"expect_failure": "the failure this scenario must end in: a text or a matcher"}
    )

    @field_validator("parametrize", mode="before")
    @classmethod
    def _parametrize_shape(cls, value: Any) -> Any:
        # One message for both shapes, instead of pydantic's two about a union.
        grid = (
            isinstance(value, dict)
            and value
            and all(isinstance(values, list) and values for values in value.values())
        )
        cases = isinstance(value, list) and value and all(isinstance(c, dict) for c in value)
        if value is None:
            # Nothing after `parametrize:` (the grid not indented under it) ran one case.
            raise ValueError(
                "{name: [values]} or a list of {name: value} cases (nothing after "
                "parametrize: makes no cases; indent what goes under it, or remove the key)"
            )
        if grid or cases:
            return value
        raise ValueError(
            "{name: [values]} (every combination; each list not empty) or a list of "
            f"{{name: value}} cases; got {value!r}"
        )

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        # The name is the pytest item's: it is printed on one line, written to JUnit XML,
        # and selected by node id (file::name), which "::" would split.
        if not value.strip():
            raise ValueError(f"a name that is not only spaces; got {value!r}")
        if len(value) > MAX_NAME:
            raise ValueError(
                f"a name of at most {MAX_NAME} characters (it is the test's node id, and a "
                f"line of every report); got {len(value):,}: {value[:40]!r}…"
            )
        if any(unicodedata.category(char) in ("Cc", "Zl", "Zp") for char in value):
            raise ValueError(f"a name of one line, without control characters; got {value!r}")
        if "::" in value:
            raise ValueError(f"a name without '::' (it separates a node id's parts); got {value!r}")
        if value != value.strip():
            raise ValueError(
                "a name without spaces at either end (' lead' and 'lead' are two scenarios "
                f"that print alike); got {value!r}"
            )
        hidden = next((c for c in value if unicodedata.category(c) == "Cf"), None)
        if hidden is not None:
            raise ValueError(
                f"a name without invisible characters (it holds U+{ord(hidden):04X} "
                f"{unicodedata.name(hidden, 'a format character')}: two names would print "
                f"alike); got {value!r}"
            )
        return value

    @field_validator("rules")
    @classmethod
    def _rules(cls, value: list[str]) -> list[str]:
        wrong = [rule for rule in value if rule not in RULES]
        if wrong:
            raise ValueError(
                f"rule ids of the contract, {RULES[0]}..{RULES[-1]} (A1-A4, B1-B8, C1-C9, "
                f"D1-D4, E1-E6, F1-F3); got {wrong!r}"
            )
        return value

    @field_validator("marks", mode="before")
    @classmethod
    def _xfail_flags(cls, value: Any) -> Any:
        # xfail's strict and run are booleans, read as the scenario's own are: a plain
        # `no`/`off` is YAML 1.1's false (the plugin refuses text, quoted `"no"`, and
        # numbers, which pytest would take as true or false by their truth).
        if not isinstance(value, list):
            return value
        return [_xfail_flag_words(mark) for mark in value]

    @field_validator("marks")
    @classmethod
    def _marks(cls, value: list[str | dict[str, JsonValue]]) -> list[str | dict[str, JsonValue]]:
        for index, mark in enumerate(value):
            names = [mark] if isinstance(mark, str) else list(mark)
            if len(names) != 1 or not MARK_NAME.fullmatch(names[0]):
                raise ValueError(
                    "a mark name like smoke, or one {name: argument} like {xfail: reason}; "
                    f"got {mark!r} at marks[{index}]"
                )
        return value

    @field_validator("time_limit")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError(
                f"a time limit above 0, such as 300ms or 10s; got {format_duration(value)}"
            )
        return value

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str) -> str:
        try:
            return check_timezone(value)
        except ConfigurationError as exc:
            raise ValueError(f"{exc.expected}; got {value!r}") from None

    @field_validator("clock", mode="before")
    @classmethod
    def _written_time(cls, value: Any) -> Any:
        # pydantic reads a number (or digits as text) as Unix seconds, or as milliseconds
        # past 2e10: `clock: 2026` was 1970-01-01T00:33:46Z, without a word.
        text = as_written(value)
        if isinstance(text, str) and _NUMBER.fullmatch(text.strip()):
            raise ValueError(
                "a date and time such as 2026-01-01T09:00:00Z (a number is not read as "
                f"Unix seconds or a year); got {text!r}"
            )
        if isinstance(text, str) and (digits := _FRACTION.search(text)) and len(digits[1]) > 6:
            raise ValueError(
                f"a time to the microsecond at most (6 digits after the second); got {text!r}"
            )
        return value

    @field_validator("clock")
    @classmethod
    def _aware(cls, value: RealDatetime) -> RealDatetime:
        value = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        try:
            year = value.astimezone(timezone.utc).year
        except OverflowError:
            year = 0
        # {timestamp} is Unix seconds, and the whole retry schedule (and the far side's
        # day-long tokens) must fit before the year 10000, as for webhook-try's --now.
        if not 1970 <= year <= 9998:
            raise ValueError(f"a time from 1970 to 9998; got {value.isoformat()}")
        return value

    @field_validator("variables", "parametrize")
    @classmethod
    def _finite(cls, value: Any) -> Any:
        # `!!float 1e999` (or a Python dict) gives inf, which no JSON carries: the
        # implementation under test would get `Infinity`, or refuse the request.
        found = _not_finite(value)
        if found is not None:
            number, at = found
            raise ValueError(
                f"{number!r} at {at or 'the top'} is not a JSON number (JSON has no NaN or "
                "Infinity); quote it for text"
            )
        return value

    @field_validator("variables")
    @classmethod
    def _variable_names(cls, value: dict[str, JsonValue]) -> dict[str, JsonValue]:
        problems = []
        for name in value:
            if name == "mock":
                problems.append("'mock' is the harness's own variable ({mock.url})")
                continue
            try:
                check_variable_name(name, field="variables", reserved_ok=True)
            except ConfigurationError as exc:
                problems.append(f"{exc.expected}; got {name!r}")
        if problems:
            raise ValueError("; and ".join(problems))
        return value


def _word_flag(value: Any) -> Any:
    """A plain ``no``/``off`` as YAML 1.1's boolean; anything else as it is."""
    if isinstance(value, YamlWord) and (flag := value.flag()) is not None:
        return flag
    return value


#: The keywords of a mark that are booleans (``condition`` is one, or Python as text).
_FLAG_KEYWORDS: Final = {"xfail": ("strict", "run", "condition"), "skipif": ("condition",)}


def _xfail_flag_words(mark: Any) -> Any:
    """A mark with YAML 1.1's plain words as the booleans they are where a boolean goes
    (``{xfail: {strict: no}}``, ``{skipif: {condition: off, reason: r}}``); a reason that
    is a boolean or null is refused: pytest would skip or xfail always, the reason being
    ``False``."""
    if not (isinstance(mark, dict) and len(mark) == 1):
        return mark
    ((name, argument),) = mark.items()
    if name not in ("skip", "skipif", "xfail"):
        return mark
    if isinstance(argument, dict):
        flags = _FLAG_KEYWORDS.get(name, ())
        return {
            name: {
                key: _word_flag(item) if key in flags else item for key, item in argument.items()
            }
        }
    if isinstance(argument, list):
        return {name: [_word_flag(item) for item in argument]} if name != "skip" else mark
    flag = _word_flag(argument)
    if flag is None:
        raise ValueError(
            f"{{{name}: null}}: the reason is text ({{{name}: why}}); null was the reason 'None'"
        )
    if isinstance(flag, bool):
        written = as_written(argument)
        condition = (
            f"; for a condition write {{{name}: {{condition: {written}, reason: ...}}}}"
            if name != "skip"
            else ""
        )
        reason = "{skip: why} to skip always" if name == "skipif" else f"{{{name}: why}}"
        raise ValueError(
            f"{{{name}: {written}}}: the argument is the reason, so this would "
            f"{'xfail' if name == 'xfail' else 'skip'} the scenario always; give a reason "
            f"as text ({reason}){condition}"
        )
    if name == "skipif" and isinstance(argument, str):
        # Taken as the reason, with no condition: skipped always. pytest reads a text
        # argument of skipif as its condition, so `{skipif: "sys.platform == 'win32'"}`
        # or `{skipif: 'False'}` read as a condition, and skipped everywhere.
        raise ValueError(
            f"{{skipif: {argument[:60]!r}}}: a skipif without a condition skips always (the "
            "text is its reason); write {skipif: {condition: ..., reason: ...}}, or "
            "{skip: why} to skip always"
        )
    return mark


def _not_finite(value: Any) -> tuple[float, str] | None:
    """The first NaN or infinity in ``value`` and its place (``a.b[1]``), without recursion."""
    stack: list[tuple[Any, str]] = [(value, "")]
    while stack:
        item, at = stack.pop()
        if isinstance(item, float) and not math.isfinite(item):
            return item, at
        if isinstance(item, dict):
            stack.extend((v, f"{at}.{k}" if at else str(k)) for k, v in item.items())
        elif isinstance(item, list | tuple):
            stack.extend((v, f"{at}[{i}]") for i, v in enumerate(item))
    return None


class Defaults(Model):
    """A document holding only ``defaults:``; later documents of the file start from it."""

    defaults: dict[str, Any]
