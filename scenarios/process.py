"""``--sender-cmd``: an implementation in another process, spoken to in JSON lines.

The protocol (``docs/sender-protocol.md``): the harness writes one JSON object
per line to the process's stdin and reads one answer line from its stdout for
each: ``hello`` (the capabilities handshake), ``render`` (a message text or a
set-variable value), ``attempt`` (send, or resend, a webhook) and ``close``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import shlex
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from webhook_core import MISSING

from .errors import ScenarioError
from .implementations import (
    ERROR_KINDS,
    AttemptReport,
    Capabilities,
    ConfigurationProblem,
    Delivery,
    FlowContext,
    Rendered,
    RenderKind,
    RequestSnapshot,
)

__all__ = [
    "ANSWER_GRACE",
    "LINE_LIMIT",
    "PROTOCOL",
    "RENDER_WAIT",
    "CommandImplementation",
    "report_from_json",
]

#: The protocol's version, sent in ``hello`` and expected back.
PROTOCOL: Final = 2

#: The longest answer line read from a process: a saved value may be a whole 1 MiB
#: body (rule D4), six times longer once JSON-escaped, beside the request it answers.
LINE_LIMIT = 64 * 1024 * 1024
#: How long past an attempt's own time limit the harness waits for its answer line.
ANSWER_GRACE = 30.0
#: How long the harness waits for the answer to ``hello`` or ``render`` (writing the
#: message included: a process that stops reading its stdin must not freeze the run).
RENDER_WAIT = 60.0
#: How long a process whose output has ended may take to exit before it is taken for
#: one that runs on (and stopped): its exit code is read when it comes, however slow
#: the machine, not after a fixed glance.
EXIT_WAIT = 5.0
#: The stderr kept for failure reports: the last lines, each cut to a length, so that
#: a process that floods stderr (or writes it without line ends) costs bounded memory.
STDERR_LINES = 20
STDERR_LINE_CHARS = 2000
#: How long the close message may take to write before the process is killed.
CLOSE_WAIT = 5.0


@dataclass
class _Process:
    process: asyncio.subprocess.Process
    stderr: list[str] = field(default_factory=list)
    greeted: bool = False  # answered ``hello``: every process is greeted before other work


def _problem(answer: Mapping[str, Any], reason: str) -> ScenarioError:
    return ScenarioError(
        f"--sender-cmd: the answer {_shorten(answer)} does not follow the protocol "
        f"({reason}); see docs/sender-protocol.md"
    )


def _time(answer: Mapping[str, Any], key: str) -> datetime | None:
    text = answer.get(key)
    if text is None:
        return None
    try:
        when = datetime.fromisoformat(text)
    except (TypeError, ValueError):
        raise _problem(answer, f"{key}: expected an ISO 8601 time with an offset") from None
    if when.tzinfo is None:
        raise _problem(answer, f"{key}: expected an ISO 8601 time with an offset")
    return when


def _request(answer: Mapping[str, Any]) -> RequestSnapshot | None:
    """The request as sent: text where text goes. ``str()`` made a ``null`` body "None",
    a header value of 5 "5" and a body object its Python repr, in the failure report."""
    request = answer.get("request")
    if request is None:
        return None
    if not isinstance(request, Mapping):
        raise _problem(
            answer,
            "request: expected an object with method, url, headers and body; "
            f"got {_json_text(request)}",
        )
    method, url = _text(answer, request, "method"), _text(answer, request, "url")
    body = _text(answer, request, "body", "")
    headers = request.get("headers", [])
    if not isinstance(headers, list):
        raise _problem(
            answer, f"request.headers: expected a list of [name, value]; got {_json_text(headers)}"
        )
    for index, pair in enumerate(headers):
        if not (
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
        ):
            raise _problem(
                answer,
                f"request.headers[{index}]: expected [name, value], both text; "
                f"got {_json_text(pair)}",
            )
    return RequestSnapshot(method, url, [(name, value) for name, value in headers], body)


def _text(
    answer: Mapping[str, Any], request: Mapping[str, Any], name: str, default: str | None = None
) -> str:
    """``request[name]``, which must be text (``default`` when it is absent)."""
    value = request.get(name, default)
    if not isinstance(value, str):
        raise _problem(answer, f"request.{name}: expected text; got {_json_text(value)}")
    return value


def _json_text(value: Any) -> str:
    """``value`` as the JSON line wrote it (``null``, ``5``), shortened."""
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 80 else f"{text[:80]}... ({len(text)} characters)"


def _configuration(answer: Mapping[str, Any]) -> ConfigurationProblem | None:
    problem = answer.get("configuration_error")
    if problem is None:
        return None
    if not isinstance(problem, Mapping) or not isinstance(problem.get("field"), str):
        raise _problem(
            answer, "configuration_error: expected an object with field (a path), value, message"
        )
    return ConfigurationProblem(
        problem["field"], problem.get("value"), str(problem.get("message") or "")
    )


def report_from_json(answer: Mapping[str, Any]) -> AttemptReport:
    """An answer line of an ``attempt`` as a report; :class:`ScenarioError` if it is not one."""
    ok = answer.get("ok")
    if not isinstance(ok, bool):
        raise _problem(answer, "ok: expected true or false")
    status = answer.get("status")
    if status is not None and (
        isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599
    ):
        raise _problem(answer, "status: expected an HTTP status (100 to 599) or null")
    kind = answer.get("error_kind")
    configuration = _configuration(answer)
    if configuration is not None:
        kind = kind or "configuration"
    if kind is not None and kind not in ERROR_KINDS:
        raise _problem(answer, f"error_kind: expected one of {', '.join(ERROR_KINDS)}")
    missing = answer.get("missing", [])
    if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
        raise _problem(answer, "missing: expected a list of texts")
    error = answer.get("error")
    if error is not None and not isinstance(error, str):
        raise _problem(answer, "error: expected the failure's message as text, or null")
    return AttemptReport(
        ok=ok,
        status=status,
        value=answer.get("value", MISSING),
        error=None if error is None else str(error),
        error_kind=kind,
        retry_at=_time(answer, "retry_at"),
        configuration_error=configuration,
        request=_request(answer),
        missing=tuple(missing),
    )


class _CommandDelivery:
    def __init__(
        self,
        owner: CommandImplementation,
        number: int,
        spec: Mapping[str, Any],
        context: FlowContext,
        time_limit: float,
    ) -> None:
        self.owner = owner
        self.id = f"d{number}"
        self.time_limit = time_limit
        self.first: dict[str, Any] | None = {
            "action": dict(spec),
            "context": context.to_json(),
            "time_limit": time_limit,
        }

    async def attempt(self, now: datetime) -> AttemptReport:
        message: dict[str, Any] = {"op": "attempt", "delivery": self.id, "now": now.isoformat()}
        if self.first is not None:
            message.update(self.first)
            self.first = None
        answer = await self.owner.exchange(message, wait=self.time_limit + ANSWER_GRACE)
        return report_from_json(answer)


class _NotJson(ValueError):
    """An answer Python's parser reads but JSON does not allow, or that says two things."""


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Python's parser keeps the last of a key given twice: `{"ok": true, "ok": false}` is
    # an answer that says both, and which one was meant is not the harness's guess.
    answer = dict(pairs)
    if len(answer) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _NotJson(f"the key {key!r} is given twice in one object")
            seen.add(key)
    return answer


def _no_constant(name: str) -> Any:
    raise _NotJson(f"{name} is not a JSON value (JSON has no NaN or Infinity)")


def _line(message: dict[str, Any]) -> bytes:
    """One message as a line of UTF-8 JSON."""
    try:
        return json.dumps(message, ensure_ascii=False, default=str).encode() + b"\n"
    except UnicodeEncodeError:  # an unpaired surrogate (half an emoji) has no UTF-8 form:
        return json.dumps(message, default=str).encode() + b"\n"  # JSON's \\ud83d escape


def _keep(tail: list[str], line: bytes) -> None:
    text = line[: STDERR_LINE_CHARS * 4].decode("utf-8", "replace").rstrip()
    if len(text) > STDERR_LINE_CHARS:
        text = f"{text[:STDERR_LINE_CHARS]}... (cut)"
    tail.append(text)
    del tail[:-STDERR_LINES]


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
        self._capabilities: Capabilities | None = None
        self._greeted_once = False  # some process of the command has answered hello
        self._refused: str | None = None  # why the command is not started again

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
        """Read stderr to its end in chunks (a line may be any length), keeping a short tail."""
        stream = handle.process.stderr
        assert stream is not None
        partial = b""
        while chunk := await stream.read(65536):
            *lines, rest = (partial + chunk).split(b"\n")
            for line in lines:
                _keep(handle.stderr, line)
            # Of a line without an end only its start is kept: the buffer stays bounded.
            partial = rest[: STDERR_LINE_CHARS * 4]
        if partial:
            _keep(handle.stderr, partial)

    async def _read_answer(self, handle: _Process, message: dict[str, Any], wait: float) -> bytes:
        stdin, stdout = handle.process.stdin, handle.process.stdout
        assert stdin is not None
        assert stdout is not None

        line = _line(message)

        async def write_then_read() -> bytes:
            stdin.write(line)
            await stdin.drain()  # a process that reads nothing: bounded by ``wait`` too
            return await stdout.readline()

        try:
            return await asyncio.wait_for(write_then_read(), wait)
        except (BrokenPipeError, ConnectionResetError):
            return b""
        except TimeoutError:
            await self._stop(handle)
            why = (
                f"the attempt's time limit and {ANSWER_GRACE:g} s more"
                if message.get("op") == "attempt"
                else f"the wait for an answer to {message.get('op')}"
            )
            raise ScenarioError(
                f"--sender-cmd {self.command!r} did not answer within {wait:g} s "
                f"({why}); it was stopped{self._stderr_tail(handle)}"
            ) from None
        except ValueError:  # asyncio's StreamReader: the line is over its limit
            await self._stop(handle)
            raise ScenarioError(
                f"--sender-cmd {self.command!r} answered a line over {LINE_LIMIT} bytes; "
                "it was stopped"
            ) from None

    async def exchange(
        self, message: dict[str, Any], *, wait: float | None = None
    ) -> dict[str, Any]:
        """Send one message, read one answer line (waiting at most ``wait`` seconds,
        :data:`RENDER_WAIT` if not given)."""
        if wait is None:
            wait = RENDER_WAIT
        async with self._lock:
            if self._refused is not None:
                raise ScenarioError(self._refused)
            handle = await self._ensure()
            if not handle.greeted:
                try:
                    answer = await self._one(
                        handle, {"op": "hello", "protocol": PROTOCOL}, RENDER_WAIT
                    )
                    self._capabilities = self._hello(answer)
                except ScenarioError as exc:
                    if not self._greeted_once:  # a command that never works: say so at once
                        await self._stop(handle)
                        self._refused = (
                            f"{exc}\n(not started again for the rest of the run: no process of "
                            "this command has answered hello)"
                        )
                    raise
                handle.greeted = self._greeted_once = True
                if message.get("op") == "hello":
                    return answer
            return await self._one(handle, message, wait)

    async def _one(self, handle: _Process, message: dict[str, Any], wait: float) -> dict[str, Any]:
        line = await self._read_answer(handle, message, wait)
        if not line:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(handle.process.wait(), EXIT_WAIT)
            if handle.process.returncode is None:
                # Its stdout ended but it runs on: reusing it would fail every later
                # scenario the same way. Stopped, the next scenario starts a new one.
                await self._stop(handle)
                raise ScenarioError(
                    f"--sender-cmd {self.command!r} stopped answering: its output ended "
                    f"while it kept running (it was stopped){self._stderr_tail(handle)}"
                )
            raise ScenarioError(
                f"--sender-cmd {self.command!r} stopped answering "
                f"(exit code {handle.process.returncode}){self._stderr_tail(handle)}"
            )
        try:
            answer = json.loads(line, object_pairs_hook=_unique_keys, parse_constant=_no_constant)
        except _NotJson as exc:
            await self._stop(handle)
            raise ScenarioError(
                f"--sender-cmd {self.command!r} answered {line[:200]!r}: {exc} "
                "(it was stopped); see docs/sender-protocol.md"
            ) from None
        except (ValueError, RecursionError) as exc:  # RecursionError: nested too deeply
            await self._stop(handle)
            raise ScenarioError(
                f"--sender-cmd {self.command!r} answered {line[:200]!r}, which is not one "
                "JSON object per line (it was stopped); see docs/sender-protocol.md"
            ) from exc
        if not isinstance(answer, dict):
            await self._stop(handle)
            raise ScenarioError(
                f"--sender-cmd answered {_shorten(answer)}; expected a JSON object (it was stopped)"
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

    async def capabilities(self) -> Capabilities:
        """The process's answer to ``hello`` (asked once; a new process is not asked again)."""
        if self._capabilities is None:
            self._capabilities = self._hello(
                await self.exchange({"op": "hello", "protocol": PROTOCOL})
            )
        return self._capabilities

    def _hello(self, answer: dict[str, Any]) -> Capabilities:
        if answer.get("protocol") != PROTOCOL:
            raise ScenarioError(
                f"--sender-cmd {self.command!r} answered hello with {_shorten(answer)}; "
                f"expected protocol {PROTOCOL} and its capabilities (docs/sender-protocol.md)"
            )
        return Capabilities.from_json(answer, source=f"--sender-cmd {self.command!r}")

    async def render(
        self, template: str, context: FlowContext, *, now: datetime, kind: RenderKind
    ) -> Rendered:
        answer = await self.exchange(
            {
                "op": "render",
                "kind": kind,
                "template": template,
                "context": context.to_json(),
                "now": now.isoformat(),
            }
        )
        configuration = _configuration(answer)
        if configuration is not None:  # it cannot render this (past its size limit, say)
            return Rendered("", configuration_error=configuration)
        if "value" not in answer:
            raise _problem(answer, "value: expected the rendered text or value")
        missing = answer.get("missing", [])
        if not isinstance(missing, list) or not all(isinstance(m, str) for m in missing):
            raise _problem(answer, "missing: expected a list of texts")
        value = answer["value"]
        if kind == "message" and not isinstance(value, str):
            raise _problem(answer, "value: a message renders to a text")
        return Rendered(value, tuple(missing))

    def deliver(
        self, action: Mapping[str, Any], context: FlowContext, *, time_limit: float
    ) -> Delivery:
        return _CommandDelivery(self, next(self._numbers), action, context, time_limit)

    async def aclose(self) -> None:
        handle, self._process = self._process, None
        if handle is None:
            return
        stdin = handle.process.stdin
        assert stdin is not None
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
            stdin.write(b'{"op": "close"}\n')
            await asyncio.wait_for(stdin.drain(), CLOSE_WAIT)  # it may read nothing
            stdin.close()
        await self._stop(handle, wait=CLOSE_WAIT)
