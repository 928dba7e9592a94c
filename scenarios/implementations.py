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
import contextlib
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
    "resolve_factory",
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


#: The longest answer line read from a process: a saved value may be a whole 1 MiB
#: body (rule D4), six times longer once JSON-escaped, beside the request it answers.
LINE_LIMIT = 64 * 1024 * 1024
#: How long past an attempt's own time limit the harness waits for its answer line.
ANSWER_GRACE = 30.0


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
        self.time_limit = time_limit
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
        answer = await self.owner.exchange(message, wait=self.time_limit + ANSWER_GRACE)
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
                f"--sender-cmd: the answer {_shorten(answer)} does not follow the protocol "
                f"({exc}); see docs/sender-protocol.md"
            ) from exc


def _shorten(value: Any, limit: int = 300) -> str:
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text)} characters)"


class CommandImplementation:
    """An implementation in another process, spoken to in JSON lines over stdin/stdout.

    A process that breaks the protocol (a line that is not one JSON object, no
    answer in time, an answer line over :data:`LINE_LIMIT`) fails the scenario
    at hand and is stopped: its deliveries cannot be trusted any more, and the
    next scenario starts a new one instead of reading the rest of a broken line.
    """

    def __init__(self, command: str) -> None:
        self.command = command
        self.name = f"command {command!r}"
        self._process: _Process | None = None
        self._numbers = itertools.count(1)
        self._lock = asyncio.Lock()

    async def _ensure(self) -> _Process:
        if self._process is None or self._process.process.returncode is not None:
            try:
                process = await asyncio.create_subprocess_exec(
                    *shlex.split(self.command),
                    stdin=asyncio.subprocess.PIPE,
                    stdout=asyncio.subprocess.PIPE,
                    stderr=asyncio.subprocess.PIPE,
                    limit=LINE_LIMIT,
                )
            except (OSError, ValueError) as exc:
                raise ScenarioError(f"--sender-cmd {self.command!r} cannot start: {exc}") from exc
            self._process = _Process(process)
            asyncio.get_running_loop().create_task(self._drain(self._process))
        return self._process

    @staticmethod
    async def _drain(handle: _Process) -> None:
        assert handle.process.stderr is not None
        async for line in handle.process.stderr:
            handle.stderr.append(line.decode("utf-8", "replace").rstrip())
            del handle.stderr[:-20]

    async def _read_answer(self, handle: _Process, message: dict[str, Any], wait: float) -> bytes:
        stdin, stdout = handle.process.stdin, handle.process.stdout
        assert stdin is not None
        assert stdout is not None
        try:
            stdin.write(json.dumps(message, ensure_ascii=False, default=str).encode() + b"\n")
            await stdin.drain()
            return await asyncio.wait_for(stdout.readline(), wait)
        except (BrokenPipeError, ConnectionResetError):
            return b""
        except TimeoutError:
            await self._stop(handle)
            raise ScenarioError(
                f"--sender-cmd {self.command!r} did not answer within {wait:g} s "
                f"(the attempt's time limit and {ANSWER_GRACE:g} s more); it was stopped"
                f"{self._stderr_tail(handle)}"
            ) from None
        except ValueError:  # asyncio's StreamReader: the line is over its limit
            await self._stop(handle)
            raise ScenarioError(
                f"--sender-cmd {self.command!r} answered a line over {LINE_LIMIT} bytes; "
                "it was stopped"
            ) from None

    async def exchange(self, message: dict[str, Any], *, wait: float = 60.0) -> dict[str, Any]:
        """Send one message, read one answer line (waiting at most ``wait`` seconds)."""
        async with self._lock:
            handle = await self._ensure()
            line = await self._read_answer(handle, message, wait)
            if not line:
                await asyncio.sleep(0.05)
                raise ScenarioError(
                    f"--sender-cmd {self.command!r} stopped answering "
                    f"(exit code {handle.process.returncode}){self._stderr_tail(handle)}"
                )
            try:
                answer = json.loads(line)
            except ValueError as exc:
                await self._stop(handle)
                raise ScenarioError(
                    f"--sender-cmd {self.command!r} answered {line[:200]!r}, which is not one "
                    "JSON object per line (it was stopped); see docs/sender-protocol.md"
                ) from exc
            if not isinstance(answer, dict):
                await self._stop(handle)
                raise ScenarioError(
                    f"--sender-cmd answered {_shorten(answer)}; expected a JSON object "
                    "(it was stopped)"
                )
            return answer

    @staticmethod
    def _stderr_tail(handle: _Process) -> str:
        tail = "\n".join(handle.stderr[-10:])
        return f"; its last stderr lines:\n{tail}" if tail else "; it wrote nothing to stderr"

    @staticmethod
    async def _stop(handle: _Process, *, wait: float = 0.0) -> None:
        """End the process: at once, or after ``wait`` seconds to exit of itself."""
        process = handle.process
        if wait and process.returncode is None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), wait)
        if process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.kill()
        # asyncio reports the exit only once the pipes reach their end: read what is
        # left of stdout (a half-read line, say), or waiting for the exit never ends.
        assert process.stdout is not None
        with contextlib.suppress(TimeoutError, ValueError, ConnectionError):
            await asyncio.wait_for(process.stdout.read(), 5)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(process.wait(), 5)

    def deliver(
        self, action: Mapping[str, Any], variables: Mapping[str, Any], *, time_limit: float
    ) -> Delivery:
        return _CommandDelivery(self, next(self._numbers), action, variables, time_limit)

    async def aclose(self) -> None:
        handle, self._process = self._process, None
        if handle is None:
            return
        stdin = handle.process.stdin
        assert stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            stdin.write(b'{"op": "close"}\n')
            await stdin.drain()
            stdin.close()
        await self._stop(handle, wait=5.0)
