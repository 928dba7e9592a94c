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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from .action import WebhookAction, check_variable_name
from .errors import ConfigurationError, LimitExceeded
from .request import PreparedRequest, prepare_request
from .retry import RETRY_SCHEDULE, Dispatcher, now, retry_delay
from .sender import Outcome, Sender
from .template import evaluate, render_report

__all__ = [
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


def check_timezone(name: object, *, field: str = "timezone") -> str:
    """The bot's time zone (B8), an IANA name; :class:`ConfigurationError` naming it if unknown."""
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
    _request: PreparedRequest | None = None
    _failures: int = 0

    def context(self) -> dict[str, Any]:
        """What templates see: the variables, with the reserved ones read now (B8)."""
        reserved = reserved_variables(
            self.subscriber, bot_id=self.flow.bot_id, at=now(), timezone=self.flow.timezone
        )
        return {**self.variables, **reserved}

    def __repr__(self) -> str:
        due = f" due {self.due_at.isoformat()}" if self.due_at else ""
        return f"<FlowRun {self.state.value} at block {self.position}{due}>"


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
        await self._advance(run)
        return run

    async def _advance(self, run: FlowRun) -> None:
        blocks = run.flow.blocks
        while run.position < len(blocks):
            block = blocks[run.position]
            if isinstance(block, Webhook):
                try:
                    prepared = prepare_request(block.action, run.context())
                except ConfigurationError as exc:
                    self._refuse(run, exc)
                    return
                run.missing.extend(prepared.missing)
                run._request = prepared
                run._failures = 0
                if not await self._attempt(run):
                    return
            elif isinstance(block, Message):
                try:
                    rendering = render_report(block.text, run.context())
                except LimitExceeded as exc:
                    self._refuse(run, exc.at(f"blocks[{run.position}].text", block.text))
                    return
                run.missing.extend(rendering.missing)
                run.messages.append(
                    SentMessage(run.position, rendering.text, now(), rendering.missing)
                )
            else:
                try:
                    value, missing = evaluate(block.value, run.context())
                except LimitExceeded as exc:
                    self._refuse(run, exc.at(f"blocks[{run.position}].value", block.value))
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
        run.last_error = f"configuration error: {exc}"

    async def _attempt(self, run: FlowRun) -> bool:
        """One attempt of the pending request; True when it succeeded and the run may go on."""
        request = run._request
        assert request is not None
        block = run.flow.blocks[run.position]
        assert isinstance(block, Webhook)
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
