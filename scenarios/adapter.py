"""An example implementation process for ``--sender-cmd``: ``python -m scenarios.adapter``.

It speaks the JSON-lines protocol of ``docs/sender-protocol.md`` and does the
work with ``webhook_core`` (the reference implementation), so the conformance
suite can run through a process boundary exactly as it would for an
implementation in another language. It reads the time only from the ``now``
the harness sends: the harness's clock stands still during an attempt.
"""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime
from typing import Any

from webhook_core import MISSING, ConfigurationError, check_timezone
from webhook_core.actionfile import subscriber_fields

from .implementations import (
    AttemptReport,
    Delivery,
    FlowContext,
    ReferenceImplementation,
    capabilities_of,
)
from .process import PROTOCOL


def answer(report: AttemptReport) -> dict[str, Any]:
    """An attempt report as the protocol's answer line, exactly as the report says it
    (a wrong report stays wrong: the harness judges it)."""
    out: dict[str, Any] = {
        "ok": report.ok,
        "status": report.status,
        "error": report.error,
        "error_kind": report.error_kind,
        "retry_at": report.retry_at.isoformat() if report.retry_at else None,
        "missing": list(report.missing),
        "request": report.request.to_json() if report.request else None,
    }
    if report.configuration_error is not None:
        out["configuration_error"] = report.configuration_error.to_json()
    if report.value is not MISSING:
        out["value"] = report.value
    return out


def context_of(data: dict[str, Any]) -> FlowContext:
    """The protocol's ``context`` object."""
    return FlowContext(
        variables=data.get("variables", {}),
        subscriber=data.get("subscriber", {}),
        bot_id=str(data.get("bot_id", "")),
        timezone=str(data.get("timezone", "UTC")),
    )


OPS = ("hello", "render", "attempt", "close")


def _now(message: dict[str, Any], where: str) -> datetime:
    try:
        return datetime.fromisoformat(str(message.get("now")))
    except ValueError:
        raise ProtocolError(f"{where}: now: expected an ISO 8601 time") from None


class ProtocolError(Exception):
    """A line from the harness that is not a message of the protocol."""


def _read(line: str, number: int, known: dict[str, Delivery]) -> dict[str, Any]:
    """One harness line as a message, or :class:`ProtocolError` saying what was wrong."""
    shown = line.strip()
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    where = f"line {number} from the harness ({shown!r})"
    try:
        message = json.loads(line)
    except ValueError as exc:
        raise ProtocolError(f"{where} is not JSON: {exc}") from None
    except RecursionError:
        raise ProtocolError(f"{where} is not JSON: nested too deeply to read") from None
    if not isinstance(message, dict) or message.get("op") not in OPS:
        raise ProtocolError(f"{where}: expected an object with op {', '.join(map(repr, OPS))}")
    if message["op"] in ("close", "hello"):
        return message
    if message["op"] == "render":
        if not isinstance(message.get("template"), str) or not isinstance(
            message.get("context"), dict
        ):
            raise ProtocolError(f"{where}: render: expected a template (text) and a context")
        _check_context(message["context"], where)
        _now(message, where)
        return message
    if not isinstance(message.get("delivery"), str):
        raise ProtocolError(f"{where}: delivery: expected a text")
    _now(message, where)
    if message["delivery"] not in known:
        for field in ("action", "context"):
            if not isinstance(message.get(field), dict):
                raise ProtocolError(
                    f"{where}: {field}: expected an object with the first attempt "
                    f"of delivery {message['delivery']!r}"
                )
        limit = message.get("time_limit", 10)
        if isinstance(limit, bool) or not isinstance(limit, int | float) or not 0 < limit < 1e9:
            raise ProtocolError(f"{where}: time_limit: expected seconds above 0")
        _check_action(message["action"], where)
        _check_context(message["context"], where)
    return message


def _check_action(action: dict[str, Any], where: str) -> None:
    """The fields of an ``action`` have the protocol's types (their values are the
    implementation's to judge: a wrong URL or name is a configuration error, rule A4)."""
    if not isinstance(action.get("url"), str) or not isinstance(action.get("method"), str):
        raise ProtocolError(f"{where}: action: expected url and method (texts)")
    for field in ("headers", "params"):
        pairs = action.get(field, [])
        if not isinstance(pairs, list) or not all(
            isinstance(pair, list) and len(pair) == 2 and all(isinstance(p, str) for p in pair)
            for pair in pairs
        ):
            raise ProtocolError(f"{where}: action.{field}: expected a list of [name, template]")
    if action.get("save_to") is not None and not isinstance(action["save_to"], str):
        raise ProtocolError(f"{where}: action.save_to: expected a text or null")


def _check_context(context: dict[str, Any], where: str) -> None:
    subscriber = context.get("subscriber", {})
    if not isinstance(context.get("variables", {}), dict):
        raise ProtocolError(f"{where}: context.variables: expected an object")
    if not isinstance(subscriber, dict) or not all(
        isinstance(value, str) for value in subscriber.values()
    ):
        raise ProtocolError(f"{where}: context.subscriber: expected an object of texts")
    unknown = sorted(set(subscriber) - set(subscriber_fields()))
    if unknown:
        raise ProtocolError(
            f"{where}: context.subscriber: {unknown[0]!r} is not one of "
            f"{', '.join(subscriber_fields())}"
        )
    for field in ("bot_id", "timezone"):
        if not isinstance(context.get(field, ""), str):
            raise ProtocolError(f"{where}: context.{field}: expected a text")
    try:
        check_timezone(context.get("timezone", "UTC"))
    except ConfigurationError as exc:
        raise ProtocolError(f"{where}: context.timezone: {exc.expected}") from None


def _line(out: dict[str, Any]) -> str:
    try:
        return json.dumps(out, ensure_ascii=False).encode().decode() + "\n"
    except UnicodeEncodeError:  # an unpaired surrogate the harness sent: JSON's \\ud83d
        return json.dumps(out) + "\n"


async def serve(implementation: Any = None) -> None:
    """Answer the harness on stdin/stdout with ``implementation`` (by default ``webhook_core``,
    whose retry waits then count from the ``now`` of each attempt)."""
    if implementation is None:
        implementation = ReferenceImplementation(clock=lambda started: started)
    deliveries: dict[str, Delivery] = {}
    loop = asyncio.get_running_loop()
    number = 0
    try:
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                break
            number += 1
            message = _read(line, number, deliveries)
            op = message["op"]
            if op == "close":
                break
            if op == "hello":
                capabilities = await capabilities_of(implementation)
                out: dict[str, Any] = {"protocol": PROTOCOL, **capabilities.to_json()}
            elif op == "render":
                rendered = await implementation.render(
                    message["template"],
                    context_of(message["context"]),
                    now=datetime.fromisoformat(message["now"]),
                    kind="set" if message.get("kind") == "set" else "message",
                )
                out = {"value": rendered.value, "missing": list(rendered.missing)}
                if rendered.configuration_error is not None:
                    out = {"configuration_error": rendered.configuration_error.to_json()}
            else:
                key = message["delivery"]
                if key not in deliveries:
                    deliveries[key] = implementation.deliver(
                        message["action"],
                        context_of(message["context"]),
                        time_limit=float(message.get("time_limit", 10)),
                    )
                report = await deliveries[key].attempt(datetime.fromisoformat(message["now"]))
                out = answer(report)
            sys.stdout.write(_line(out))
            sys.stdout.flush()
    finally:
        await implementation.aclose()


def main(implementation: Any = None) -> int:
    """Serve the protocol on stdin/stdout; 2 (with a message on stderr) for a bad line."""
    try:
        asyncio.run(serve(implementation))
    except ProtocolError as exc:
        print(f"scenarios.adapter: {exc} (docs/sender-protocol.md)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
