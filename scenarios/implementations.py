"""The implementation under test: ``webhook_core`` by default, another Python one, or a process.

The harness owns the bot's flow (the order of blocks, the variables, the
clock); the implementation under test does everything the contract gives the
action: it computes the reserved variables (rule B8) from the subscriber, the
bot and the clock the harness gives it, renders every template (the webhook's
settings, message texts, set-variable values), sends the request, says how it
went and, after a failure, when it would try again (``retry_at``). The harness
compares what comes out with what the scenario expects.

- :class:`ReferenceImplementation`: ``webhook_core``.
- :func:`load_factory`: ``--sender=module:factory``; the factory returns an
  ``Implementation``, or a ``webhook_core.Sender`` which then replaces only
  the HTTP part of the reference implementation.
- :class:`~scenarios.process.CommandImplementation`: ``--sender-cmd "…"``, a
  process speaking the JSON-lines protocol of ``docs/sender-protocol.md``.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
from collections import ChainMap
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Final, Literal, Protocol, runtime_checkable

import httpx

from webhook_core import (
    MISSING,
    ConfigurationError,
    HttpxSender,
    LimitExceeded,
    Outcome,
    Sender,
    Subscriber,
    WebhookAction,
    prepare_request,
    reserved_variables,
    retry_delay,
)
from webhook_core.template import evaluate, render_report

from .errors import ScenarioError

__all__ = [
    "ERROR_KINDS",
    "OVER_LIMIT_CHOICES",
    "TRANSPORT_ERROR_KINDS",
    "AttemptReport",
    "Capabilities",
    "ConfigurationProblem",
    "Delivery",
    "FlowContext",
    "Implementation",
    "ReferenceImplementation",
    "RenderKind",
    "Rendered",
    "RequestSnapshot",
    "capabilities_of",
    "load_factory",
    "reference_render",
    "resolve_factory",
    "webhook_action",
]

#: The kinds of a failed attempt (``error_kind``), as the protocol defines them.
TRANSPORT_ERROR_KINDS: Final = (
    "timeout",
    "connect",
    "disconnect",
    "protocol",
    "redirects",
    "network",
)
#: Every ``error_kind`` an attempt report may carry.
ERROR_KINDS: Final = ("status", *TRANSPORT_ERROR_KINDS, "too_large", "configuration")
#: Rule D3 leaves what happens to a body over the limit to the implementation, which
#: declares its choice: ``truncate`` (save the text of the first 1 MiB), ``fail`` (the
#: attempt fails with kind ``too_large``) or ``discard`` (it succeeds, nothing is saved).
OVER_LIMIT_CHOICES: Final = ("truncate", "fail", "discard")

RenderKind = Literal["message", "set"]


@dataclass(frozen=True)
class Capabilities:
    """What an implementation says of itself, before any scenario runs.

    ``renders``: it renders message texts and set-variable values (rules B1–B8
    through messages); ``False`` means it only delivers webhooks, and scenarios
    that need more are not judged for it. ``over_limit``: its rule D3 choice.
    """

    name: str = ""
    renders: bool = True
    over_limit: str = "truncate"

    @classmethod
    def from_json(cls, data: Any, *, source: str) -> Capabilities:
        if not isinstance(data, Mapping):
            raise ScenarioError(f"{source}: capabilities: expected an object, got {data!r:.100}")
        renders = data.get("renders", True)
        over_limit = data.get("over_limit", "truncate")
        name = data.get("name", "")
        if not isinstance(renders, bool):
            raise ScenarioError(f"{source}: capabilities.renders: expected true or false")
        if not isinstance(name, str):
            raise ScenarioError(f"{source}: capabilities.name: expected text, got {name!r:.100}")
        if over_limit not in OVER_LIMIT_CHOICES:
            raise ScenarioError(
                f"{source}: capabilities.over_limit: expected one of "
                f"{', '.join(OVER_LIMIT_CHOICES)}, got {over_limit!r:.60}"
            )
        return cls(name=str(name), renders=renders, over_limit=over_limit)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "renders": self.renders, "over_limit": self.over_limit}

    def get(self, key: str) -> Any:
        """A capability by name (a scenario's ``when:``)."""
        return getattr(self, key, None)


@dataclass(frozen=True)
class FlowContext:
    """What the harness gives an implementation to render with.

    ``variables`` are the bot's own (set beforehand, saved by webhooks, set by
    blocks, and ``mock``); the reserved variables are not among them: the
    implementation computes those (rule B8) from ``subscriber``, ``bot_id``,
    ``timezone`` and the clock's ``now``. A reserved variable wins over a bot
    variable of the same name.
    """

    variables: Mapping[str, Any]
    subscriber: Mapping[str, str]
    bot_id: str = ""
    timezone: str = "UTC"

    def to_json(self) -> dict[str, Any]:
        return {
            "variables": dict(self.variables),
            "subscriber": dict(self.subscriber),
            "bot_id": self.bot_id,
            "timezone": self.timezone,
        }

    def all_variables(self, now: datetime) -> dict[str, Any]:
        """``webhook_core``'s reading: the bot's variables and the reserved ones over them."""
        reserved = reserved_variables(
            Subscriber(**self.subscriber), bot_id=self.bot_id, at=now, timezone=self.timezone
        )
        return {**self.variables, **reserved}

    def variables_at(self, now: datetime) -> Mapping[str, Any]:
        """The same reading as :meth:`all_variables`, as a view (no copy of the variables:
        a block costs the same however many there are)."""
        reserved = reserved_variables(
            Subscriber(**self.subscriber), bot_id=self.bot_id, at=now, timezone=self.timezone
        )
        return ChainMap(reserved, self.variables)  # type: ignore[arg-type]


@dataclass(frozen=True)
class Rendered:
    """A rendered template: a message's text (or a set-variable's value) and what was missing.

    ``configuration_error`` instead of a value: the template cannot be rendered (it would
    pass the implementation's size limit); the flow pauses there, as for a webhook's.
    """

    value: Any
    missing: tuple[str, ...] = ()
    configuration_error: ConfigurationProblem | None = None


@dataclass(frozen=True)
class RequestSnapshot:
    """The request an attempt sent, as text, for reports."""

    method: str
    url: str
    headers: list[tuple[str, str]]
    body: str

    @classmethod
    def of(cls, request: httpx.Request) -> RequestSnapshot:
        return cls(
            request.method,
            str(request.url),
            [
                (name.decode("latin-1"), value.decode("utf-8", "replace"))
                for name, value in request.headers.raw
            ],
            request.content.decode("utf-8", "replace"),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "url": self.url,
            "headers": [list(pair) for pair in self.headers],
            "body": self.body,
        }


@dataclass(frozen=True)
class ConfigurationProblem:
    """Rule A4's configuration error, as data: the setting as a path, the value, a message.

    ``field`` is ``url``, ``method``, ``save_to``, ``headers[i].name`` or
    ``params[i].name`` (``i`` counts from 0 in the action's list); ``value`` is
    what the setting held (for the URL: after rendering).
    """

    field: str
    value: Any
    message: str = ""

    @classmethod
    def of(cls, exc: ConfigurationError) -> ConfigurationProblem:
        """``webhook_core``'s error as data (a value that is not JSON is shown as its repr)."""
        return cls(exc.field, _jsonable(exc.value), str(exc))

    def __str__(self) -> str:
        return self.message or f"{self.field}: {self.value!r}"

    def to_json(self) -> dict[str, Any]:
        return {"field": self.field, "value": self.value, "message": self.message}


@dataclass(frozen=True)
class AttemptReport:
    """How one attempt went, as the implementation under test tells it.

    ``retry_at`` is when it would try again after a failure (``None``: it gives
    up, or it succeeded). ``configuration_error`` means nothing was sent (A4).
    ``value`` is what "save result to" stores (``MISSING``: nothing is stored).
    """

    ok: bool
    status: int | None = None
    value: Any = MISSING
    error: str | None = None
    error_kind: str | None = None
    retry_at: datetime | None = None
    configuration_error: ConfigurationProblem | None = None
    request: RequestSnapshot | None = None
    missing: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        outcome: Outcome,
        request: httpx.Request,
        *,
        retry_at: datetime | None = None,
        missing: tuple[str, ...] = (),
    ) -> AttemptReport:
        """The report of an attempt sent with ``webhook_core``'s sender."""
        return cls(
            ok=outcome.ok,
            status=outcome.status,
            value=outcome.value,
            error=outcome.error,
            error_kind=outcome.error_kind,
            retry_at=retry_at,
            request=RequestSnapshot.of(request),
            missing=missing,
        )

    @classmethod
    def configuration(cls, exc: ConfigurationError) -> AttemptReport:
        """The report of an action that cannot work: nothing sent, nothing retried."""
        return cls(
            ok=False,
            error=f"configuration error: {exc}",
            error_kind="configuration",
            configuration_error=ConfigurationProblem.of(exc),
        )


def _jsonable(value: Any) -> Any:
    return value if isinstance(value, str | int | float | bool | type(None)) else repr(value)


class Delivery(Protocol):
    """One webhook block being delivered: the first call sends it, later calls retry it."""

    async def attempt(self, now: datetime) -> AttemptReport: ...


@runtime_checkable
class Implementation(Protocol):
    """An implementation of the "Send via webhook" action, as the harness drives it.

    It may also have ``capabilities()`` (a :class:`Capabilities` or its JSON
    form) and ``async render(template, context, *, now, kind) -> Rendered``;
    without ``render`` it only delivers webhooks (see :func:`capabilities_of`).
    """

    def deliver(
        self, action: Mapping[str, Any], context: FlowContext, *, time_limit: float
    ) -> Delivery: ...

    async def aclose(self) -> None: ...


#: How long the harness waits for an implementation's ``render()``, ``capabilities()``
#: or ``aclose()``: one that never returns must not freeze the run. Longer than
#: ``--sender-cmd``'s own waits (``process.RENDER_WAIT``), which stop a process first.
CALL_LIMIT = 90.0


async def bounded_call(call: Callable[[], Any], what: str) -> Any:
    """``call()``, awaited if it gives an awaitable, within :data:`CALL_LIMIT` seconds;
    :class:`ScenarioError` naming ``what`` when it raises or does not return in time."""
    try:
        async with asyncio.timeout(CALL_LIMIT):
            result = call()
            if inspect.isawaitable(result):
                result = await result
            return result
    except ScenarioError:
        raise
    except TimeoutError:
        raise ScenarioError(
            f"the implementation's {what} did not return within {CALL_LIMIT:g} s"
        ) from None
    except Exception as exc:
        raise ScenarioError(
            f"the implementation's {what} raised {type(exc).__name__}: {exc}"
        ) from exc


async def capabilities_of(implementation: Any) -> Capabilities:
    """What ``implementation`` declares (``capabilities()``, plain or async), else the defaults:
    it renders when it has a ``render`` method, and truncates an over-limit body."""
    declared = getattr(implementation, "capabilities", None)
    if declared is None:
        return Capabilities(renders=callable(getattr(implementation, "render", None)))
    if callable(declared):
        declared = await bounded_call(declared, "capabilities()")
    if isinstance(declared, Capabilities):
        return declared
    return Capabilities.from_json(declared, source="the implementation")


def webhook_action(spec: Mapping[str, Any]) -> WebhookAction:
    """The protocol's ``action`` object as ``webhook_core``'s :class:`WebhookAction` (may raise
    :class:`ConfigurationError`)."""
    return WebhookAction(
        spec["url"],
        spec["method"],
        headers=[tuple(pair) for pair in spec.get("headers", [])],
        params=[tuple(pair) for pair in spec.get("params", [])],
        save_to=spec.get("save_to"),
    )


def reference_render(template: str, variables: Mapping[str, Any], kind: str) -> Rendered:
    """``webhook_core``'s rendering: a message as text; a set-variable value as for a JSON
    POST parameter (a lone reference keeps its type). Past ``webhook_core``'s size limit
    it is a configuration error of the setting (``message``, ``set.value``)."""
    try:
        if kind == "set":
            value, missing = evaluate(template, variables)
            return Rendered(value, missing)
        rendering = render_report(template, variables)
    except LimitExceeded as exc:
        exc = exc.at("set.value" if kind == "set" else "message", template)
        return Rendered("", configuration_error=ConfigurationProblem.of(exc))
    return Rendered(rendering.text, rendering.missing)


class _ReferenceDelivery:
    def __init__(
        self,
        owner: ReferenceImplementation,
        spec: Mapping[str, Any],
        context: FlowContext,
        time_limit: float,
    ) -> None:
        self.owner = owner
        self.spec = spec
        self.context = context
        self.time_limit = time_limit
        self.request: httpx.Request | None = None
        self.missing: tuple[str, ...] = ()
        self.failures = 0

    async def attempt(self, now: datetime) -> AttemptReport:
        if self.request is None:
            try:
                prepared = prepare_request(
                    webhook_action(self.spec), self.context.variables_at(now)
                )
            except ConfigurationError as exc:
                return AttemptReport.configuration(exc)
            self.request, self.missing = prepared.request, prepared.missing
        sender = self.owner.sender
        if isinstance(sender, HttpxSender):
            sender.timeout = self.time_limit
        outcome = await sender.send(self.request)
        finished = self.owner.clock(now)
        retry_at = None
        if not outcome.ok:
            self.failures += 1
            delay = retry_delay(self.failures)
            retry_at = finished + delay if delay is not None else None
        return AttemptReport.of(outcome, self.request, retry_at=retry_at, missing=self.missing)


def _wall_clock(started: datetime) -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class ReferenceImplementation:
    """``webhook_core`` as the implementation under test (optionally with another sender).

    ``clock`` gives the end of an attempt, from its start, for rule E1 (waits
    count from the end of the failed attempt): by default ``datetime.now``,
    which the frozen clock holds still. A process behind ``--sender-cmd`` has
    no frozen clock and passes ``lambda started: started``.
    """

    sender: Sender = field(default_factory=HttpxSender)
    clock: Callable[[datetime], datetime] = _wall_clock
    name: str = "webhook_core"

    def capabilities(self) -> Capabilities:
        return Capabilities(name=self.name, renders=True, over_limit="truncate")

    async def render(
        self, template: str, context: FlowContext, *, now: datetime, kind: RenderKind
    ) -> Rendered:
        return reference_render(template, context.variables_at(now), kind)

    def deliver(
        self, action: Mapping[str, Any], context: FlowContext, *, time_limit: float
    ) -> Delivery:
        return _ReferenceDelivery(self, action, context, time_limit)

    async def aclose(self) -> None:
        await self.sender.aclose()


def resolve_factory(spec: str) -> Callable[[], Any]:
    """``module:factory`` → the factory itself (imported, not called)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ScenarioError(f"--sender: expected module:factory, got {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ScenarioError(f"--sender: cannot load {spec!r}: {exc}") from exc
    if not callable(factory):
        raise ScenarioError(
            f"--sender: {spec!r} is a {type(factory).__name__}; expected a factory to call"
        )
    return factory  # type: ignore[no-any-return]


def load_factory(spec: str) -> Implementation:
    """``module:factory`` → the implementation the factory returns (see the module docstring)."""
    factory = resolve_factory(spec)
    try:
        made = factory()
    except Exception as exc:
        raise ScenarioError(f"--sender: {spec!r} raised {type(exc).__name__}: {exc}") from exc
    if isinstance(made, Implementation):
        return made
    if hasattr(made, "send") and hasattr(made, "aclose"):
        return ReferenceImplementation(made)
    raise ScenarioError(
        f"--sender: {spec!r} returned {type(made).__name__}; expected an Implementation "
        "(deliver, aclose) or a webhook_core Sender (send, aclose)"
    )
