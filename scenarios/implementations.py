"""The implementation under test: ``webhook_core`` by default, another Python one, or a process.

The harness owns the bot's flow (messages, variables, the clock) and hands each
webhook block to an :class:`Implementation` as a :class:`Delivery`: the
harness calls :meth:`Delivery.attempt` with the clock's time, the
implementation sends the request itself and says how it went and, when it
failed, when it would try again (``retry_at``) or that it gives up. That is
how the retry schedule of any implementation is checked.

- :class:`ReferenceImplementation`: ``webhook_core`` (rendering, nesting,
  encoding, ``HttpxSender``, ``retry_delay``).
- :func:`load_factory`: ``--sender=module:factory``; the factory returns an
  ``Implementation``, or a ``webhook_core.Sender`` which then replaces only
  the HTTP part of the reference implementation.
- :class:`CommandImplementation`: ``--sender-cmd "…"``, a process speaking the
  JSON-lines protocol of ``docs/sender-protocol.md``.
"""

from __future__ import annotations

import asyncio
import importlib
import itertools
import json
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol, runtime_checkable

import httpx

from webhook_core import (
    MISSING,
    ConfigurationError,
    HttpxSender,
    Outcome,
    Sender,
    WebhookAction,
    prepare_request,
    retry_delay,
)

from .errors import ScenarioError

__all__ = [
    "AttemptReport",
    "CommandImplementation",
    "Delivery",
    "Implementation",
    "ReferenceImplementation",
    "RequestSnapshot",
    "load_factory",
]


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
class AttemptReport:
    """How one attempt went, as the implementation under test tells it.

    ``retry_at`` is when it would try again after a failure (``None``: it gives
    up, or it succeeded). ``configuration_error`` means nothing was sent (A4).
    """

    ok: bool
    status: int | None = None
    value: Any = MISSING
    error: str | None = None
    error_kind: str | None = None
    retry_at: datetime | None = None
    configuration_error: str | None = None
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


class Delivery(Protocol):
    """One webhook block being delivered: the first call sends it, later calls retry it."""

    async def attempt(self, now: datetime) -> AttemptReport: ...


@runtime_checkable
class Implementation(Protocol):
    """An implementation of the "Send via webhook" action, as the harness drives it."""

    name: str

    def deliver(
        self, action: Mapping[str, Any], variables: Mapping[str, Any], *, time_limit: float
    ) -> Delivery: ...

    async def aclose(self) -> None: ...


def _action(spec: Mapping[str, Any]) -> WebhookAction:
    return WebhookAction(
        spec["url"],
        spec["method"],
        headers=[tuple(pair) for pair in spec.get("headers", [])],
        params=[tuple(pair) for pair in spec.get("params", [])],
        save_to=spec.get("save_to"),
    )


class _ReferenceDelivery:
    def __init__(
        self,
        owner: ReferenceImplementation,
        spec: Mapping[str, Any],
        variables: Mapping[str, Any],
        time_limit: float,
    ) -> None:
        self.owner = owner
        self.spec = spec
        self.variables = variables
        self.time_limit = time_limit
        self.request: httpx.Request | None = None
        self.missing: tuple[str, ...] = ()
        self.failures = 0

    async def attempt(self, now: datetime) -> AttemptReport:
        if self.request is None:
            try:
                prepared = prepare_request(_action(self.spec), self.variables)
            except ConfigurationError as exc:
                return AttemptReport(ok=False, configuration_error=str(exc))
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


class ReferenceImplementation:
    """``webhook_core`` as the implementation under test (optionally with another sender).

    ``clock`` gives the end of an attempt, from its start, for rule E1 (waits
    count from the end of the failed attempt): by default ``datetime.now``,
    which the frozen clock holds still. A process behind ``--sender-cmd`` has
    no frozen clock and passes ``lambda started: started``.
    """

    name = "webhook_core"

    def __init__(
        self,
        sender: Sender | None = None,
        *,
        clock: Callable[[datetime], datetime] = _wall_clock,
    ) -> None:
        self.sender: Sender = sender if sender is not None else HttpxSender()
        self.clock = clock

    def deliver(
        self, action: Mapping[str, Any], variables: Mapping[str, Any], *, time_limit: float
    ) -> Delivery:
        return _ReferenceDelivery(self, action, variables, time_limit)

    async def aclose(self) -> None:
        await self.sender.aclose()


def load_factory(spec: str) -> Implementation:
    """``module:factory`` → the implementation the factory returns (see the module docstring)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ScenarioError(f"--sender: expected module:factory, got {spec!r}")
    try:
        factory = getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise ScenarioError(f"--sender: cannot load {spec!r}: {exc}") from exc
    made = factory()
    if isinstance(made, Implementation):
        return made
    if hasattr(made, "send") and hasattr(made, "aclose"):
        return ReferenceImplementation(made)
    raise ScenarioError(
        f"--sender: {spec!r} returned {type(made).__name__}; expected an Implementation "
        "(deliver, aclose) or a webhook_core Sender (send, aclose)"
    )


@dataclass
class _Process:
    process: asyncio.subprocess.Process
    stderr: list[str] = field(default_factory=list)


class _CommandDelivery:
    def __init__(
        self,
        owner: CommandImplementation,
        number: int,
        spec: Mapping[str, Any],
        variables: Mapping[str, Any],
        time_limit: float,
    ) -> None:
        self.owner = owner
        self.id = f"d{number}"
        self.first: dict[str, Any] | None = {
            "action": dict(spec),
            "variables": dict(variables),
            "time_limit": time_limit,
        }

    async def attempt(self, now: datetime) -> AttemptReport:
        message: dict[str, Any] = {"op": "attempt", "delivery": self.id, "now": now.isoformat()}
        if self.first is not None:
            message.update(self.first)
            self.first = None
        answer = await self.owner.exchange(message)
        try:
            retry_at = answer.get("retry_at")
            request = answer.get("request")
            return AttemptReport(
                ok=bool(answer["ok"]),
                status=answer.get("status"),
                value=answer.get("value", MISSING),
                error=answer.get("error"),
                error_kind=answer.get("error_kind"),
                retry_at=datetime.fromisoformat(retry_at) if retry_at else None,
                configuration_error=answer.get("configuration_error"),
                request=RequestSnapshot(
                    request["method"],
                    request["url"],
                    [tuple(p) for p in request.get("headers", [])],
                    request.get("body", ""),
                )
                if request
                else None,
                missing=tuple(answer.get("missing", ())),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ScenarioError(
                f"--sender-cmd: the answer {answer!r} does not follow the protocol ({exc}); "
                "see docs/sender-protocol.md"
            ) from exc


class CommandImplementation:
    """An implementation in another process, spoken to in JSON lines over stdin/stdout."""

    def __init__(self, command: str) -> None:
        self.command = command
        self.name = f"command {command!r}"
        self._process: _Process | None = None
        self._numbers = itertools.count(1)
        self._lock = asyncio.Lock()

    async def _ensure(self) -> _Process:
        if self._process is None or self._process.process.returncode is not None:
            process = await asyncio.create_subprocess_exec(
                *shlex.split(self.command),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            self._process = _Process(process)
            asyncio.get_running_loop().create_task(self._drain(self._process))
        return self._process

    @staticmethod
    async def _drain(handle: _Process) -> None:
        assert handle.process.stderr is not None
        async for line in handle.process.stderr:
            handle.stderr.append(line.decode("utf-8", "replace").rstrip())
            del handle.stderr[:-20]

    async def exchange(self, message: dict[str, Any]) -> dict[str, Any]:
        """Send one message, read one answer line."""
        async with self._lock:
            handle = await self._ensure()
            stdin, stdout = handle.process.stdin, handle.process.stdout
            assert stdin is not None
            assert stdout is not None
            try:
                stdin.write(json.dumps(message, ensure_ascii=False, default=str).encode() + b"\n")
                await stdin.drain()
                line = await stdout.readline()
            except (BrokenPipeError, ConnectionResetError):
                line = b""
            if not line:
                await asyncio.sleep(0.05)
                tail = "\n".join(handle.stderr[-10:])
                raise ScenarioError(
                    f"--sender-cmd {self.command!r} stopped answering "
                    f"(exit code {handle.process.returncode}); its last stderr lines:\n{tail}"
                )
            try:
                answer = json.loads(line)
            except ValueError as exc:
                raise ScenarioError(
                    f"--sender-cmd {self.command!r} answered {line[:200]!r}, which is not one "
                    "JSON object per line; see docs/sender-protocol.md"
                ) from exc
            if not isinstance(answer, dict):
                raise ScenarioError(f"--sender-cmd answered {answer!r}; expected a JSON object")
            return answer

    def deliver(
        self, action: Mapping[str, Any], variables: Mapping[str, Any], *, time_limit: float
    ) -> Delivery:
        return _CommandDelivery(self, next(self._numbers), action, variables, time_limit)

    async def aclose(self) -> None:
        if self._process is not None and self._process.process.returncode is None:
            process = self._process.process
            assert process.stdin is not None
            try:
                process.stdin.write(b'{"op": "close"}\n')
                await process.stdin.drain()
                process.stdin.close()
                await asyncio.wait_for(process.wait(), 5)
            except (TimeoutError, BrokenPipeError, ConnectionResetError):
                process.kill()
                await process.wait()
        self._process = None
