"""A minimal bot-scenario runtime, called a *flow* here (rules E2–E4, F1–F3).

A :class:`Flow` is a sequence of blocks for one subscriber: :class:`Webhook`,
:class:`Message` and :class:`SetVariable`. :class:`FlowRuntime` runs flows
with a :class:`~webhook_core.sender.Sender` and a
:class:`~webhook_core.retry.Dispatcher`: a failed webhook leaves the run
*waiting* with a due time; :meth:`FlowRuntime.run_due` resends the very same
request when the clock gets there (E3); after the sixth failure the run is
*paused* with the last error (E2) until an operator resumes it.
"""

from __future__ import annotations

import enum
from collections import ChainMap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any, Final
from zoneinfo import ZoneInfo

import httpx

from .action import WebhookAction, check_variable_name
from .errors import ConfigurationError, LimitExceeded
from .request import PreparedRequest, prepare_request
from .retry import RETRY_SCHEDULE, Dispatcher, now, retry_delay
from .sender import Outcome, Sender
from .template import evaluate, render_report, utf8_size

__all__ = [
    "MAX_FLOW_BYTES",
    "MAX_FLOW_ENTRIES",
    "Attempt",
    "Block",
    "Flow",
    "FlowRun",
    "FlowRuntime",
    "FlowState",
    "Message",
    "SentMessage",
    "SetVariable",
    "Subscriber",
    "Webhook",
    "check_timezone",
    "reserved_variables",
]


#: The most one run keeps of message texts, set-variable values (as UTF-8) and requests
#: prepared (URL, header values, body; once per block run, whatever its attempts).
#: Each is bounded (``MAX_RENDERED_BYTES``, ``MAX_REQUEST_BYTES``), but thousands of
#: ``Message("{result}{result}")`` blocks would keep gigabytes.
MAX_FLOW_BYTES = 64 * 1024 * 1024
#: The most entries one run keeps in ``messages``, ``attempts`` and ``missing`` together.
MAX_FLOW_ENTRIES = 1_000_000


def _check_template(value: object, field: str) -> None:
    """A block's template is text; anything else is a configuration error naming it."""
    if not isinstance(value, str):
        raise ConfigurationError(
            field=field,
            value=value,
            expected="a template string (write a number as text, e.g. '15': "
            "a template is kept as written)",
        )


class FlowState(enum.Enum):
    """F3: where a run stands."""

    RUNNING = "running"
    WAITING = "waiting"
    PAUSED = "paused"
    FINISHED = "finished"


@dataclass(frozen=True, slots=True)
class Webhook:
    """A block that sends a webhook action."""

    action: WebhookAction


@dataclass(frozen=True, slots=True)
class Message:
    """A block that renders ``text`` and "sends" it to the subscriber."""

    text: str

    def __post_init__(self) -> None:
        _check_template(self.text, "text")


@dataclass(frozen=True, slots=True)
class SetVariable:
    """A block that sets ``name`` to the rendered ``value``.

    As in a JSON POST parameter (C6), a value that is exactly one reference
    keeps the referenced value's type, so ``{result.promo}`` copies an object.
    """

    name: str
    value: str

    def __post_init__(self) -> None:
        check_variable_name(self.name, field="name")
        _check_template(self.value, "value")


Block = Webhook | Message | SetVariable


@dataclass(frozen=True, slots=True)
class Subscriber:
    """Who the flow runs for; these fields fill the reserved variables of rule B8."""

    user_id: str = ""
    first_name: str = ""
    last_name: str = ""
    username: str = ""
    phone: str = ""
    email: str = ""
    channel: str = ""


@dataclass(frozen=True, slots=True)
class Flow:
    """Blocks run in order for one subscriber; ``timezone`` is the bot's (B8)."""

    blocks: tuple[Block, ...]
    bot_id: str = ""
    timezone: str = "UTC"

    def __init__(self, blocks: Sequence[Block], *, bot_id: str = "", timezone: str = "UTC") -> None:
        check_timezone(timezone)
        for index, block in enumerate(blocks):
            if not isinstance(block, Webhook | Message | SetVariable):
                raise ConfigurationError(
                    field=f"blocks[{index}]",
                    value=block,
                    expected="a Webhook, Message or SetVariable block",
                )
            if isinstance(block, Webhook) and not isinstance(block.action, WebhookAction):
                raise ConfigurationError(
                    field=f"blocks[{index}].action", value=block.action, expected="a WebhookAction"
                )
        object.__setattr__(self, "blocks", tuple(blocks))
        object.__setattr__(self, "bot_id", bot_id)
        object.__setattr__(self, "timezone", timezone)


_NOT_PLACES: Final = frozenset({"localtime", "posixrules", "Factory"})


def check_timezone(name: object, *, field: str = "timezone") -> str:
    """The bot's time zone (B8), an IANA name; :class:`ConfigurationError` naming it if unknown."""
    if isinstance(name, str) and (name in _NOT_PLACES or name.startswith(("posix/", "right/"))):
        # Files of the zone database that are not a place's time: `localtime` is the
        # machine's own zone (a link to /etc/localtime), `right/` counts leap seconds
        # (27 s off), `posix/` and `posixrules` are copies other machines may lack.
        raise ConfigurationError(
            field=field,
            value=name,
            expected="an IANA time zone of a place, like 'Europe/Moscow' or 'UTC' (not the "
            "machine's localtime, nor posix/, right/, posixrules or Factory)",
        )
    try:
        ZoneInfo(name)  # type: ignore[arg-type]
    except (ValueError, KeyError, OSError, TypeError) as exc:
        raise ConfigurationError(
            field=field, value=name, expected="an IANA time zone like 'Europe/Moscow' or 'UTC'"
        ) from exc
    return name  # type: ignore[return-value]


@lru_cache(maxsize=256)
def _clock_fields(second: int, timezone: str) -> tuple[str, str, str]:
    local = datetime.fromtimestamp(second, ZoneInfo(timezone))
    return (local.strftime("%d.%m.%Y"), local.strftime("%H:%M"), local.isoformat())


def reserved_variables(
    subscriber: Subscriber, *, bot_id: str = "", at: datetime, timezone: str = "UTC"
) -> dict[str, Any]:
    """Rule B8: the subscriber's fields, ``bot_id``, and the clock in the bot's time zone."""
    check_timezone(timezone)
    second = int(at.timestamp() // 1)
    date, time, stamp = _clock_fields(second, timezone)
    return {
        "user_id": subscriber.user_id,
        "first_name": subscriber.first_name,
        "last_name": subscriber.last_name,
        "username": subscriber.username,
        "phone": subscriber.phone,
        "email": subscriber.email,
        "channel": subscriber.channel,
        "bot_id": bot_id,
        "date": date,
        "time": time,
        "datetime": stamp,
        "timestamp": second,
    }


@dataclass(frozen=True, slots=True)
class Attempt:
    """One try of a webhook block: its number (1–6), the request, when, and the outcome."""

    block: int
    number: int
    prepared: PreparedRequest
    started_at: datetime
    finished_at: datetime
    outcome: Outcome

    @property
    def request(self) -> httpx.Request:
        """The request sent (the same object for every attempt of a block, rule E3)."""
        return self.prepared.request

    def __repr__(self) -> str:
        at = f"{self.started_at:%H:%M:%S}"
        return f"<Attempt block={self.block} #{self.number} at {at} {self.outcome!r}>"


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message block's rendered text, when it was sent, and references that were missing."""

    block: int
    text: str
    at: datetime
    missing: tuple[str, ...] = ()


@dataclass(eq=False)
class FlowRun:
    """One subscriber's pass through a flow: variables, what happened, and the state (F3)."""

    flow: Flow
    subscriber: Subscriber
    variables: dict[str, Any]
    state: FlowState = FlowState.RUNNING
    position: int = 0
    due_at: datetime | None = None
    last_error: str | None = None
    messages: list[SentMessage] = field(default_factory=list)
    attempts: list[Attempt] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    #: The configuration error that paused the run, if one did (``last_error`` says it).
    error: ConfigurationError | None = None
    _request: PreparedRequest | None = None
    _failures: int = 0
    _held_bytes: int = 0  # of MAX_FLOW_BYTES
    _held_entries: int = 0  # of MAX_FLOW_ENTRIES

    def context(self) -> Mapping[str, Any]:
        """What templates see: the variables, with the reserved ones read now (B8).

        A view, not a copy (a copy at each block made long flows quadratic): the
        reserved names win over variables of the same name.
        """
        reserved = reserved_variables(
            self.subscriber, bot_id=self.flow.bot_id, at=now(), timezone=self.flow.timezone
        )
        return ChainMap(reserved, self.variables)

    def _hold(self, field: str, value: Any, size: int, entries: int) -> None:
        """Count what the run is about to keep; past a bound, a configuration error naming
        ``field`` (the run then pauses there, rule A4), never a silent cut."""
        if self._held_bytes + size > MAX_FLOW_BYTES:
            raise LimitExceeded(
                field=field,
                value=value,
                limit=MAX_FLOW_BYTES,
                what="run's messages, set values and requests in all",
            )
        if self._held_entries + entries > MAX_FLOW_ENTRIES:
            raise ConfigurationError(
                field=field,
                value=value,
                expected=f"at most {MAX_FLOW_ENTRIES} messages, attempts and missing "
                "references kept by one run; this block passes that (fewer blocks, or "
                "split the flow)",
            )
        self._held_bytes += size
        self._held_entries += entries

    def __repr__(self) -> str:
        due = f" due {self.due_at.isoformat()}" if self.due_at else ""
        return f"<FlowRun {self.state.value} at block {self.position}{due}>"


def _request_size(prepared: PreparedRequest) -> int:
    """What a kept request holds: the URL, the header values and the body, in bytes."""
    size = len(str(prepared.url)) + len(prepared.body or b"")
    return size + sum(len(name) + len(value) for name, value in prepared.headers)


class FlowRuntime:
    """Runs flows: blocks in order, failed webhooks retried on the schedule, without sleeping."""

    def __init__(
        self,
        sender: Sender,
        *,
        dispatcher: Dispatcher | None = None,
        schedule: Sequence[timedelta] = RETRY_SCHEDULE,
    ) -> None:
        self.sender = sender
        self.dispatcher = dispatcher if dispatcher is not None else Dispatcher()
        self.schedule = tuple(schedule)

    async def start(
        self,
        flow: Flow,
        subscriber: Subscriber | None = None,
        variables: Mapping[str, Any] | None = None,
    ) -> FlowRun:
        """Start ``flow`` and run it until it finishes, waits for a retry, or pauses."""
        run = FlowRun(flow, subscriber or Subscriber(), dict(variables or {}))
        await self._advance(run)
        return run

    def next_due(self) -> datetime | None:
        """When the earliest pending retry is due, or ``None``."""
        return self.dispatcher.next_due()

    async def run_due(self, at: datetime | None = None) -> int:
        """Run every retry due now (or at ``at``); return how many attempts were made."""
        return await self.dispatcher.run_due(at)

    async def resume(self, run: FlowRun) -> FlowRun:
        """An operator resumes a paused run: its webhook starts again with a fresh schedule."""
        if run.state is not FlowState.PAUSED:
            raise ConfigurationError(
                field="run.state", value=run.state.value, expected="a paused run to resume"
            )
        run.state = FlowState.RUNNING
        run.last_error = None
        run.error = None
        await self._advance(run)
        return run

    async def _advance(self, run: FlowRun) -> None:
        blocks = run.flow.blocks
        while run.position < len(blocks):
            block = blocks[run.position]
            if isinstance(block, Webhook):
                try:
                    prepared = prepare_request(block.action, run.context())
                    run._hold(
                        f"blocks[{run.position}]",
                        str(prepared.url),
                        _request_size(prepared),
                        len(prepared.missing),
                    )
                except ConfigurationError as exc:
                    self._refuse(run, exc)
                    return
                run.missing.extend(prepared.missing)
                run._request = prepared
                run._failures = 0
                if not await self._attempt(run):
                    return
            elif isinstance(block, Message):
                where = f"blocks[{run.position}].text"
                try:
                    rendering = render_report(block.text, run.context())
                except LimitExceeded as exc:
                    self._refuse(run, exc.at(where, block.text))
                    return
                try:
                    run._hold(
                        where, block.text, utf8_size(rendering.text), 1 + len(rendering.missing)
                    )
                except ConfigurationError as exc:
                    self._refuse(run, exc)
                    return
                run.missing.extend(rendering.missing)
                run.messages.append(
                    SentMessage(run.position, rendering.text, now(), rendering.missing)
                )
            else:
                where = f"blocks[{run.position}].value"
                try:
                    value, missing = evaluate(block.value, run.context())
                except LimitExceeded as exc:
                    self._refuse(run, exc.at(where, block.value))
                    return
                size = utf8_size(value) if isinstance(value, str) else 0
                try:
                    run._hold(where, block.value, size, len(missing))
                except ConfigurationError as exc:
                    self._refuse(run, exc)
                    return
                run.missing.extend(missing)
                run.variables[block.name] = value
            run.position += 1
        run.state = FlowState.FINISHED

    @staticmethod
    def _refuse(run: FlowRun, exc: ConfigurationError) -> None:
        """A block that cannot work (rule A4; a text past its size limit): the run pauses
        there with the error, and nothing is sent or shown."""
        run.state = FlowState.PAUSED
        run.error = exc
        run.last_error = f"configuration error: {exc}"
        run.due_at = None

    async def _attempt(self, run: FlowRun) -> bool:
        """One attempt of the pending request; True when it succeeded and the run may go on."""
        request = run._request
        assert request is not None
        block = run.flow.blocks[run.position]
        assert isinstance(block, Webhook)
        try:
            run._hold(f"blocks[{run.position}]", str(request.url), 0, 1)
        except ConfigurationError as exc:
            self._refuse(run, exc)
            return False
        started = now()
        send_prepared = getattr(self.sender, "send_prepared", None)
        if send_prepared is not None:
            outcome = await send_prepared(request)
        else:
            outcome = await self.sender.send(request.request)
        finished = now()
        run.attempts.append(
            Attempt(run.position, run._failures + 1, request, started, finished, outcome)
        )
        if outcome.ok:
            if block.action.save_to is not None:
                run.variables[block.action.save_to] = outcome.value
            run._request = None
            return True
        run._failures += 1
        delay = retry_delay(run._failures, self.schedule)
        if delay is None:
            run.state = FlowState.PAUSED
            run.last_error = outcome.error
            run.due_at = None
            return False
        run.state = FlowState.WAITING
        run.last_error = outcome.error
        run.due_at = finished + delay

        async def retry() -> None:
            await self._retry(run)

        self.dispatcher.schedule(run.due_at, retry)
        return False

    async def _retry(self, run: FlowRun) -> None:
        if run.state is not FlowState.WAITING:
            return
        run.state = FlowState.RUNNING
        run.due_at = None
        if await self._attempt(run):
            run.last_error = None
            run.position += 1
            await self._advance(run)
