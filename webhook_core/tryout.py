"""What ``webhook-try`` saw and how it prints it: for people (as ``curl -v`` shows an
exchange) and as JSON for scripts. The command itself is :mod:`webhook_core.cli`."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final, Literal
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import httpx

from .action import WebhookAction
from .paths import MISSING
from .request import PreparedRequest
from .retry import MAX_ATTEMPTS
from .sender import Outcome
from .template import Rendering

__all__ = [
    "Attempt",
    "Hop",
    "Recorder",
    "Report",
    "for_terminal",
    "format_duration",
    "json_for_terminal",
    "render_json",
    "render_text",
]

#: At most this much of a failed answer's body is read to show it (the sender reads none).
FAILED_BODY_LIMIT: Final = 64 * 1024
#: At most this many characters of a body are printed for people (``--json`` has it all).
SHOWN_BODY_LIMIT: Final = 16 * 1024


#: What a terminal acts on instead of showing: C0 controls but TAB and LF (ESC starts the
#: ANSI sequences that recolour, clear the screen, retitle the window or write hyperlinks;
#: a CR rewrites the line), DEL, C1 (U+009B is a one-character CSI), and the
#: bidirectional overrides and isolates that reorder what is shown (CVE-2021-42574).
_TERMINAL_UNSAFE: Final = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]"
)
#: In JSON, C0 is escaped already; the rest is escaped too, and reads back the same.
_JSON_UNSAFE: Final = re.compile(
    r"[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]"
)


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code == 0x0D:
        return "\\r"
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def for_terminal(text: str) -> str:
    """``text`` with what a terminal would act on (escape sequences, CR, C1, bidi
    overrides) written as ``\\x1b``, ``\\r``, ``\\u202e``: an answer, a header or a
    variable can never drive the terminal of the person trying an action."""
    return _TERMINAL_UNSAFE.sub(_escaped, text)


def json_for_terminal(document: str) -> str:
    """A JSON document with DEL, C1 and the bidi controls as ``\\u`` escapes (JSON has
    escaped C0 already): the same JSON, safe on a terminal."""
    return _JSON_UNSAFE.sub(lambda match: f"\\u{ord(match.group()):04x}", document)


def format_duration(value: timedelta) -> str:
    """95 s → ``1m35s``, as scenario files write durations; milliseconds when there are any."""
    total_ms = round(value.total_seconds() * 1000)
    sign = "-" if total_ms < 0 else ""
    hours, rest = divmod(abs(total_ms), 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    out = (f"{hours}h" if hours else "") + (f"{minutes}m" if minutes else "")
    if seconds or (not out and not millis):
        out += f"{seconds}s"
    if millis:
        out += f"{millis}ms"
    return sign + out


def _decoded(raw: bytes) -> str:
    """Header bytes as the HTTP client writes and reads them: UTF-8, else Latin-1."""
    try:
        return raw.decode()
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _text_pairs(pairs: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    return [(_decoded(name), _decoded(value)) for name, value in pairs]


@dataclass
class Hop:
    """One request and its answer's head (a redirect makes more than one per attempt)."""

    method: str
    url: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes | None = None  # read only for a failed answer (status 400 or more)


class Recorder(httpx.AsyncBaseTransport):
    """An httpx transport that keeps the head of each answer, and a failed answer's body.

    The sender never reads a failed answer's body (rule D4 saves nothing from it);
    the person trying an action wants to see why it failed, so at most
    :data:`FAILED_BODY_LIMIT` bytes of it are read here and kept.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.hops: list[Hop] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        hop = Hop(
            request.method,
            str(request.url),
            response.status_code,
            response.reason_phrase,
            _text_pairs(response.headers.raw),
        )
        self.hops.append(hop)
        if response.status_code < 400:
            return response
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in response.aiter_raw():
                chunks.append(chunk)
                size += len(chunk)
                if size >= FAILED_BODY_LIMIT:
                    break
        except httpx.TransportError:
            pass  # the status is what counts; the body is only shown
        finally:
            await response.aclose()
        hop.body = b"".join(chunks)[:FAILED_BODY_LIMIT]
        return httpx.Response(
            response.status_code,
            headers=response.headers.raw,
            content=hop.body,
            request=request,
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()


@dataclass(frozen=True, slots=True)
class Attempt:
    """One attempt: its number, when (``at``, and ``offset`` from the first), what came of it."""

    number: int
    at: datetime
    offset: timedelta
    outcome: Outcome
    hops: list[Hop]


@dataclass
class Report:
    """Everything ``webhook-try`` prints, built up as it runs."""

    action: WebhookAction
    prepared: PreparedRequest
    context: dict[str, Any]
    clock: Any
    start: datetime
    timezone: str
    retries: bool = False
    simulate: bool = False
    dry_run: bool = False
    state: str = "dry-run"
    attempts: list[Attempt] = field(default_factory=list)
    saved: tuple[str, Any] | None = None
    shows: list[tuple[str, Rendering]] = field(default_factory=list)
    schedule: list[datetime] = field(default_factory=list)

    def local(self, moment: datetime) -> str:
        """A time in the bot's time zone, as a person reads it."""
        return moment.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M:%S %Z")

    def attempt_line(self, attempt: Attempt) -> str:
        outcome = attempt.outcome
        result = _outcome_text(outcome)
        return (
            f"attempt {attempt.number} of {MAX_ATTEMPTS} at {self.local(attempt.at)} "
            f"(+{format_duration(attempt.offset)}): {result}"
        )

    def wait_line(self, delay: timedelta, due: datetime, *, simulated: bool) -> str:
        how = "simulated, not waiting" if simulated else "waiting; Ctrl-C stops"
        return f"  next attempt in {format_duration(delay)}, at {self.local(due)} ({how})"


def _outcome_text(outcome: Outcome) -> str:
    if outcome.ok:
        return f"{outcome.status} (success)" + (" (body cut at the size limit)" * outcome.truncated)
    return f"failed: {outcome.error}"


# --- the request as it goes on the wire ------------------------------------------------


def wire_head(prepared: PreparedRequest) -> list[tuple[str, str]]:
    """The headers on the wire, in order, as the reference sender's HTTP client (aiohttp)
    writes them: ``Host`` first, the action's, then ``Content-Length`` when there is a body."""
    headers = [("Host", prepared.url.netloc.decode("ascii"))]
    headers += _text_pairs(prepared.headers)
    if prepared.body is not None:
        headers.append(("Content-Length", str(len(prepared.body))))
    return headers


def _target(url: httpx.URL) -> str:
    return url.raw_path.decode("ascii")


def _body_text(body: bytes) -> str:
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        return repr(body)


def _decoded_form(query: str) -> list[str]:
    return [f"#   {name} = {value}" for name, value in parse_qsl(query, keep_blank_values=True)]


def _request_lines(report: Report) -> list[str]:
    prepared = report.prepared
    action = report.action
    lines = [f"{action.method.value} {prepared.url}"]
    lines.append(f"> {prepared.method} {_target(prepared.url)} HTTP/1.1")
    lines += [f"> {name}: {value}" for name, value in wire_head(prepared)]
    lines.append(">")
    query = prepared.url.query.decode("ascii")
    if prepared.body is not None:
        text = _body_text(prepared.body)
        lines.append(_cut(text))
        if prepared.body and action.method.value != "JSON POST":
            lines += ["# the body, decoded:", *_decoded_form(text)]
    elif query:
        lines += ["# the query, decoded:", *_decoded_form(query)]
    if prepared.missing:
        names = ", ".join(f"{{{name}}}" for name in dict.fromkeys(prepared.missing))
        lines.append(f"! not found, rendered as empty text (rule B3): {names}")
    return lines


def _cut(text: str) -> str:
    if len(text) <= SHOWN_BODY_LIMIT:
        return text
    return f"{text[:SHOWN_BODY_LIMIT]}\n… ({len(text)} characters in all; --json has them all)"


def _value_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, indent=2)


def _answer_lines(report: Report) -> list[str]:
    lines: list[str] = []
    if not report.attempts:
        return lines
    last = report.attempts[-1]
    lines.append("")
    for index, hop in enumerate(last.hops):
        if index:
            lines.append(f"> {hop.method} {hop.url}")
        lines.append(f"< HTTP/1.1 {hop.status} {hop.reason}".rstrip())
        lines += [f"< {name}: {value}" for name, value in hop.headers]
        lines.append("<")
        if hop.body is not None:
            lines.append(_cut(_body_text(hop.body)))
    outcome = last.outcome
    if outcome.ok:
        lines.append(_cut(_value_text(outcome.value)))
    lines.append("")
    if outcome.ok:
        if report.saved is not None:
            name, value = report.saved
            kind = "text" if isinstance(value, str) else "an object"
            kind = "a list" if isinstance(value, list) else kind
            shown = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
            lines.append(f"saved into {{{name}}} ({kind}): {_cut(shown)}")
        else:
            lines.append("success; the action has no save_to, so nothing is saved")
    elif report.state == "paused":
        lines.append(
            f"all {len(report.attempts)} attempts failed: the bot's scenario would be paused "
            f"here (rule E2); last error: {outcome.error}"
        )
    else:
        lines.append(f"the attempt failed: {outcome.error}")
        lines.append(
            "nothing is saved (rule D4); the bot would retry in 5s (rule E1; --retries "
            "runs the schedule, --simulate without waiting)"
        )
    return lines


def _schedule_lines(report: Report) -> list[str]:
    lines = ["", "If every attempt fails, the schedule (rule E1) sends it at:"]
    for number, moment in enumerate(report.schedule, start=1):
        offset = format_duration(moment - report.start)
        lines.append(f"  attempt {number}  +{offset:<10} {report.local(moment)}")
    lines.append("and then the bot's scenario is paused (rule E2).")
    return lines


def _show_lines(report: Report) -> list[str]:
    if not report.shows:
        return []
    lines = [""]
    for template, rendering in report.shows:
        lines.append(f"{template} → {rendering.text}")
        if rendering.missing:
            names = ", ".join(f"{{{name}}}" for name in dict.fromkeys(rendering.missing))
            lines.append(f"  ! not found, rendered as empty text (rule B3): {names}")
    return lines


def render_text(report: Report, *, part: Literal["request", "answer"]) -> str:
    """For people: ``request`` is the request (and, in a dry run, the rest); ``answer``
    what came back and what it became."""
    if part == "request":
        lines = _request_lines(report)
        if report.dry_run:
            lines.append("")
            lines.append("(dry run: nothing was sent)")
            if report.schedule:
                lines += _schedule_lines(report)
            lines += _show_lines(report)
        return for_terminal("\n".join(lines))
    return for_terminal("\n".join(_answer_lines(report) + _show_lines(report)))


# --- JSON ------------------------------------------------------------------------------


def _hop_json(hop: Hop) -> dict[str, Any]:
    data: dict[str, Any] = {
        "method": hop.method,
        "url": hop.url,
        "status": hop.status,
        "reason": hop.reason,
        "headers": [list(pair) for pair in hop.headers],
    }
    if hop.body is not None:
        data["body"] = _body_text(hop.body)
    return data


def _attempt_json(attempt: Attempt) -> dict[str, Any]:
    outcome = attempt.outcome
    return {
        "attempt": attempt.number,
        "at": attempt.at.isoformat(),
        "offset": format_duration(attempt.offset),
        "ok": outcome.ok,
        "status": outcome.status,
        "error": outcome.error,
        "error_kind": outcome.error_kind,
        "truncated": outcome.truncated,
        "value": None if outcome.value is MISSING else outcome.value,
        "exchanges": [_hop_json(hop) for hop in attempt.hops],
    }


def render_json(report: Report, *, ascii_only: bool = False) -> str:
    """For scripts: one JSON document (its keys are listed in docs/try-an-action.md);
    ``ascii_only`` writes every other character as JSON's ``\\u`` escape."""
    prepared = report.prepared
    body = None if prepared.body is None else _body_text(prepared.body)
    data: dict[str, Any] = {
        "action": {
            "method": report.action.method.value,
            "url": report.action.url,
            "save_to": report.action.save_to,
        },
        "request": {
            "method": prepared.method,
            "url": str(prepared.url),
            "headers": [list(pair) for pair in wire_head(prepared)],
            "body": body,
            "missing": list(dict.fromkeys(prepared.missing)),
        },
        "state": report.state,
        "attempts": [_attempt_json(attempt) for attempt in report.attempts],
        "saved": None
        if report.saved is None
        else {"variable": report.saved[0], "value": report.saved[1]},
        "shows": [
            {"template": template, "text": rendering.text, "missing": list(rendering.missing)}
            for template, rendering in report.shows
        ],
    }
    if report.schedule:
        data["schedule"] = [
            {
                "attempt": number,
                "offset": format_duration(moment - report.start),
                "at": moment.isoformat(),
            }
            for number, moment in enumerate(report.schedule, start=1)
        ]
    return json_for_terminal(json.dumps(data, ensure_ascii=ascii_only, indent=2))
