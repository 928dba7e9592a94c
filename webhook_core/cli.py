"""``webhook-try``: try one "Send via webhook" action by hand, as a bot builder's test button does.

    webhook-try action.yaml --var token=t-1 --subscriber-field first_name=Анна --dry-run
    webhook-try action.yaml --vars vars.yaml --show '{result.promo.code}'
    webhook-try action.yaml --retries --simulate
    python -m webhook_core --help

The action file holds what a scenario's ``webhook:`` block holds (see
:mod:`webhook_core.actionfile`). ``--dry-run`` prints the exact request and
sends nothing; otherwise it is sent to the real handler and the answer, what
``save_to`` would store and each ``--show`` template are printed. ``--retries``
runs the real schedule (rule E1), sleeping between attempts; ``--simulate``
runs it without waiting. Exit status: 0 the action succeeded (or a dry run),
1 the handler's answer was a failure (rule D1), 2 a setting or a file that
cannot work (rule A4), 130 interrupted. See ``docs/try-an-action.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import sys
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta, timezone
from typing import Any, Final, NoReturn, TextIO

from . import __version__
from .action import WebhookAction
from .actionfile import (
    ActionFileError,
    action_from_file,
    check_name,
    load_file,
    subscriber_fields,
    subscriber_from_file,
    variables_from_file,
)
from .errors import ConfigurationError, LimitExceeded
from .flow import Subscriber, check_timezone, reserved_variables
from .request import PreparedRequest, prepare_request
from .retry import RETRY_SCHEDULE, attempt_offsets, now, retry_delay
from .template import render_report
from .tryout import (
    Attempt,
    Recorder,
    Report,
    for_terminal,
    format_duration,
    json_for_terminal,
    render_json,
    render_text,
)
from .yamlfile import place_of

__all__ = ["build_parser", "main", "run"]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_BAD_INPUT: Final = 2
EXIT_INTERRUPTED: Final = 130

Sleep = Callable[[float], Awaitable[object]]


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line (as every other bad input is), not the
    whole usage block before it."""

    def error(self, message: str) -> NoReturn:
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="webhook-try",
        description=(
            "Try one 'Send via webhook' action by hand: render it with variables, a subscriber "
            "and a clock, print the exact request, send it to the real handler, and show the "
            "answer and what 'save_to' would store."
        ),
        epilog=(
            "Example: webhook-try action.yaml --var token=t-1 "
            "--subscriber-field first_name=Anna --dry-run. "
            "Exit status: 0 success or dry run, 1 the attempt failed, 2 bad input."
        ),
    )
    parser.add_argument(
        "action",
        metavar="ACTION",
        help="a YAML or JSON file (or - for standard input) holding url, method, headers, "
        "params and save_to, as a scenario's webhook: block (also accepted under 'webhook:')",
    )
    given = parser.add_argument_group("variables, subscriber and clock")
    given.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a variable, as text (repeatable); NAME may be dotted (order.id=17 sets "
        "{order.id}); NAME:=JSON gives a typed value (order:='{\"id\": 17}', n:=5)",
    )
    given.add_argument(
        "--vars",
        action="append",
        default=[],
        metavar="FILE",
        help="a YAML or JSON file of variables (repeatable; later ones and --var win)",
    )
    given.add_argument(
        "--subscriber",
        metavar="FILE",
        help=f"a YAML or JSON file of the subscriber's fields ({', '.join(subscriber_fields())})",
    )
    given.add_argument(
        "--subscriber-field",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="one of the subscriber's fields, e.g. first_name=Anna (repeatable; wins over "
        "--subscriber)",
    )
    given.add_argument("--bot-id", default="", metavar="ID", help="the bot's id, {bot_id}")
    given.add_argument(
        "--now",
        metavar="TIME",
        help="the clock for {date}, {time}, {datetime} and {timestamp}, ISO 8601 "
        "(2026-01-01T09:00:00Z; without an offset: UTC); default: the real clock",
    )
    given.add_argument(
        "--timezone",
        default="UTC",
        metavar="ZONE",
        help="the bot's time zone, an IANA name (default: UTC)",
    )
    mode = parser.add_argument_group("what to do")
    mode.add_argument(
        "--dry-run",
        action="store_true",
        help="print the exact request that would be sent, and send nothing",
    )
    mode.add_argument(
        "--retries",
        action="store_true",
        help=f"on failure, retry on the real schedule (rule E1: {_schedule_text()}), "
        "printing each attempt; Ctrl-C stops",
    )
    mode.add_argument(
        "--simulate",
        action="store_true",
        help="retry at once instead of waiting, and show the time each attempt would have "
        "had (implies --retries); with --dry-run: only show the schedule's times",
    )
    mode.add_argument(
        "--show",
        action="append",
        default=[],
        metavar="TEMPLATE",
        help="a template to render after the answer is saved, e.g. '{result.promo.code}' "
        "(repeatable)",
    )
    mode.add_argument(
        "--timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="time limit of each attempt (rule C9; default: 10)",
    )
    mode.add_argument("--json", action="store_true", help="print one JSON document, for scripts")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _schedule_text() -> str:
    return ", ".join(format_duration(wait) for wait in RETRY_SCHEDULE)


class _BadInput(Exception):
    """A problem with the command line itself, said as one line."""


def _assignment(text: str, option: str) -> tuple[str, str, bool]:
    """``NAME=VALUE`` → (name, value, False); ``NAME:=JSON`` → (name, json, True)."""
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise _BadInput(f"{option}: got {text!r}, expected NAME=VALUE")
    if name.endswith(":"):
        return name[:-1], value, True
    return name, value, False


def _set_path(variables: dict[str, Any], name: str, value: Any, option: str) -> None:
    segments = name.split(".")
    try:
        check_name(segments[0], option=option)
    except ConfigurationError as exc:
        raise _BadInput(f"{option} {name}: {exc.expected}; got {segments[0]!r}") from None
    if "" in segments:
        raise _BadInput(f"{option}: got {name!r}, expected dot-separated segments, none empty")
    node = variables
    for segment in segments[:-1]:
        child = node.get(segment)
        if not isinstance(child, dict):
            child = node[segment] = {}
        node = child
    node[segments[-1]] = value


def _variables(args: argparse.Namespace) -> dict[str, Any]:
    variables: dict[str, Any] = {}
    for path in args.vars:
        variables.update(variables_from_file(load_file(path)))
    for text in args.var:
        name, value, is_json = _assignment(text, "--var")
        typed: Any = value
        if is_json:
            try:
                typed = json.loads(value, parse_constant=_no_constant)
            except (ValueError, RecursionError) as exc:
                shown = value if len(value) <= 80 else f"{value[:60]}... ({len(value)} characters)"
                reason = str(exc) if isinstance(exc, ValueError) else "nested too deeply"
                raise _BadInput(
                    f"--var {name}:=: got {shown!r}, expected JSON ({reason})"
                ) from None
        _set_path(variables, name, typed, "--var")
    return variables


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _subscriber(args: argparse.Namespace) -> Subscriber:
    fields: dict[str, str] = {}
    if args.subscriber:
        fields.update(subscriber_from_file(load_file(args.subscriber)))
    for text in args.subscriber_field:
        name, value, _ = _assignment(text, "--subscriber-field")
        if name not in subscriber_fields():
            expected = ", ".join(subscriber_fields())
            raise _BadInput(f"--subscriber-field: got {name!r}, expected one of {expected}")
        fields[name] = value
    return Subscriber(**fields)


def _clock(text: str | None) -> datetime | None:
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise _BadInput(
            f"--now: got {text!r}, expected an ISO 8601 time like 2026-01-01T09:00:00Z"
        ) from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
    try:
        utc = moment.astimezone(timezone.utc)
    except OverflowError:
        utc = None
    # {timestamp} is Unix seconds, and the whole schedule must fit before the year 10000.
    if utc is None or not 1970 <= utc.year <= 9998:
        raise _BadInput(f"--now: got {text!r}, expected a time from 1970 to 9998")
    return utc


class _Clock:
    """The wall clock (rule E6), shifted to ``--now``; when simulating, waits only move it."""

    def __init__(self, start: datetime | None) -> None:
        self.shift = (start - now()) if start is not None else timedelta(0)

    def now(self) -> datetime:
        return now() + self.shift


async def _send(
    action: WebhookAction,
    prepared: PreparedRequest,
    args: argparse.Namespace,
    clock: _Clock,
    report: Report,
    sleep: Sleep,
    progress: Callable[[str], None],
) -> None:
    """Send, and on failure (with --retries) resend the very same request (rule E3)."""
    from .sender import HttpxSender
    from .transport import AiohttpTransport

    retries = args.retries or args.simulate
    recorder = Recorder(AiohttpTransport())
    sender = HttpxSender(recorder, timeout=args.timeout)
    request = prepared.request
    start = clock.now()
    try:
        failures = 0
        while True:
            started = clock.now()
            recorder.hops.clear()
            outcome = await sender.send(request)
            finished = clock.now()
            attempt = Attempt(failures + 1, started, started - start, outcome, list(recorder.hops))
            report.attempts.append(attempt)
            if retries:
                progress(report.attempt_line(attempt))
            if outcome.ok or not retries:
                break
            failures += 1
            delay = retry_delay(failures)
            if delay is None:
                break
            due = finished + delay
            progress(report.wait_line(delay, due, simulated=args.simulate))
            if args.simulate:
                clock.shift += due - clock.now()
            else:
                while (left := (due - clock.now()).total_seconds()) > 0:
                    await sleep(left)
    finally:
        await sender.aclose()
        await recorder.aclose()
    last = report.attempts[-1].outcome
    if last.ok:
        report.state = "finished"
        if action.save_to is not None:
            report.saved = (action.save_to, last.value)
            report.context[action.save_to] = last.value
    else:
        report.state = "paused" if retries else "failed"


def main(
    argv: Sequence[str] | None = None,
    *,
    sleep: Sleep | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run ``webhook-try`` with ``argv``; return the exit status.

    ``sleep`` waits between retries (default ``asyncio.sleep``); tests pass one that
    moves a frozen clock instead.
    """
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    for stream in (out, err):
        # A console or file in cp1252 (Windows, redirected) cannot write "Анна" or "→":
        # what it cannot write is escaped, instead of a UnicodeEncodeError at the end.
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None and getattr(stream, "errors", "strict") == "strict":
            reconfigure(errors="backslashreplace")
    ascii_only = not _writes_utf8(out)
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage line argparse printed
        return exc.code if isinstance(exc.code, int) else EXIT_BAD_INPUT
    try:
        report = _prepare(args)
    except (ConfigurationError, _BadInput) as exc:
        return _bad_input(exc, args, out, err, ascii_only=ascii_only)
    except RecursionError:
        too_deep = _BadInput("a value is nested too deeply to use")
        return _bad_input(too_deep, args, out, err, ascii_only=ascii_only)

    def progress(line: str) -> None:
        print(for_terminal(line), file=err if args.json else out, flush=True)

    if not args.dry_run:
        if not args.json:
            print(render_text(report, part="request"), file=out, flush=True)
            if report.retries:
                print(file=out, flush=True)
        try:
            asyncio.run(
                _send(
                    report.action,
                    report.prepared,
                    args,
                    report.clock,
                    report,
                    sleep or asyncio.sleep,
                    progress,
                )
            )
        except KeyboardInterrupt:
            print("webhook-try: stopped (Ctrl-C) before the next attempt", file=err)
            return EXIT_INTERRUPTED
    elif args.simulate:
        offsets = attempt_offsets()
        report.schedule = [report.start + offset for offset in offsets]
    try:
        report.shows = [(show, render_report(show, report.context)) for show in args.show]
    except LimitExceeded as exc:
        return _bad_input(exc.at("--show", exc.value), args, out, err, ascii_only=ascii_only)
    if args.json:
        print(render_json(report, ascii_only=ascii_only), file=out)
    else:
        print(render_text(report, part="request" if args.dry_run else "answer"), file=out)
    if args.dry_run or report.state == "finished":
        return EXIT_OK
    return EXIT_FAILED


def _prepare(args: argparse.Namespace) -> Report:
    located = load_file(args.action)
    action = action_from_file(located)
    variables = _variables(args)
    subscriber = _subscriber(args)
    zone = check_timezone(args.timezone, field="--timezone")
    if not math.isfinite(args.timeout) or args.timeout <= 0:
        raise _BadInput(f"--timeout: got {args.timeout!r}, expected seconds above 0")
    clock = _Clock(_clock(args.now))
    start = clock.now()
    reserved = reserved_variables(subscriber, bot_id=args.bot_id, at=start, timezone=zone)
    context = {**variables, **reserved}
    _check_sendable(action, context, args.show)
    try:
        prepared = prepare_request(action, context)
    except ConfigurationError as exc:
        # Only what rendering tells is left: the URL once its variables are in, or a
        # value (or the whole request) past its size limit.
        wrapped = isinstance(located.data, dict) and "webhook" in located.data
        prefix: tuple[str | int, ...] = ("webhook",) if wrapped else ()
        if isinstance(exc, LimitExceeded):
            place = prefix if exc.field == "request" else (*prefix, *place_of(exc.field))
            raise located.error(
                place, value=exc.value, expected=exc.expected, name=exc.field
            ) from None
        raise located.error(
            (*prefix, "url"),
            value=exc.value,
            expected=f"{exc.expected} (the URL as rendered)",
            name="url",
        ) from None
    return Report(
        action=action,
        prepared=prepared,
        context=context,
        clock=clock,
        start=start,
        timezone=zone,
        retries=args.retries or args.simulate,
        simulate=args.simulate,
        dry_run=args.dry_run,
    )


def _unsendable(value: Any) -> str | None:
    """Why ``value`` cannot go into a request or onto the terminal, if it cannot."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            try:
                item.encode()
            except UnicodeEncodeError:  # a lone surrogate: JSON's "\\ud83d", or argv's bytes
                return "text that UTF-8 can encode (no unpaired surrogate, no undecodable byte)"
        elif isinstance(item, float) and not math.isfinite(item):
            return "a number JSON can write (1e999 is out of range)"
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list | tuple):
            stack.extend(item)
    return None


def _check_sendable(action: WebhookAction, context: dict[str, Any], shows: list[str]) -> None:
    """A value that would crash the sender, or the printing, is bad input named here."""
    places: list[tuple[str, Any]] = [("the action's url", action.url)]
    places += [(f"the action's headers[{i}]", pair) for i, pair in enumerate(action.headers)]
    places += [(f"the action's params[{i}]", pair) for i, pair in enumerate(action.params)]
    places += [(f"variable {name!r}", value) for name, value in context.items()]
    places += [("--show", template) for template in shows]
    for place, value in places:
        reason = _unsendable(value)
        if reason is not None:
            shown = ascii(value)
            shown = shown if len(shown) <= 80 else f"{shown[:60]}... ({len(shown)} characters)"
            raise _BadInput(f"{place}: got {shown}, expected {reason}")


def _writes_utf8(stream: TextIO) -> bool:
    encoding = getattr(stream, "encoding", None) or "utf-8"
    return encoding.lower().replace("-", "").replace("_", "") in ("utf8", "utf8sig")


def _bad_input(
    exc: ConfigurationError | _BadInput,
    args: argparse.Namespace,
    out: TextIO,
    err: TextIO,
    *,
    ascii_only: bool = False,
) -> int:
    line = str(exc).replace("\n", " ")
    print(f"webhook-try: {for_terminal(line)}", file=err)
    if args.json:
        problem: dict[str, Any] = {"message": line}
        if isinstance(exc, ConfigurationError):
            problem.update(field=exc.field, expected=exc.expected, value=_jsonable(exc.value))
        if isinstance(exc, ActionFileError):
            problem.update(file=exc.source, line=exc.line)
        print(json_for_terminal(json.dumps({"error": problem}, ensure_ascii=ascii_only)), file=out)
    return EXIT_BAD_INPUT


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return repr(value)
    return value


def run() -> None:
    """The console script's entry point."""
    sys.exit(main())
