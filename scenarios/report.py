"""The failure report of a scenario: what was expected where in the file, and what happened.

It shows each unmet expectation with its ``file:line`` and YAML lines, the
near misses or timeline behind it, then the run: the flow's state, the
attempts, the messages, the variables, the journal and the rendered request.
The mock server's address is written ``{mock.url}`` so reports read the same
on every run (golden-tested).
"""

from __future__ import annotations

import json
import re
from typing import Any

from .durations import format_duration
from .loader import LoadedScenario
from .results import Failure, RunResult

__all__ = ["failure_report", "field_path"]

_INDEX = re.compile(r"\[(\d+)\]")
#: A report's longest line, and the most rows of one kind it lists: a run can hold
#: megabytes (two hundred messages of a saved 1 MiB answer); its report stays readable.
LINE_LIMIT = 2000
ROWS_LIMIT = 200


def _rows(rows: list[str], what: str, indent: str = "  ") -> list[str]:
    if len(rows) <= ROWS_LIMIT:
        return rows
    return [*rows[:ROWS_LIMIT], f"{indent}... and {len(rows) - ROWS_LIMIT} more {what}"]


def _line(text: str) -> str:
    if len(text) <= LINE_LIMIT:
        return text
    return f"{text[: LINE_LIMIT - 40]}... ({len(text):,} characters)"


def field_path(field: str) -> tuple[str | int, ...]:
    """``expect.requests[0]`` → ``("expect", "requests", 0)``."""
    parts: list[str | int] = []
    for piece in field.split("."):
        name = _INDEX.sub("", piece)
        if name:
            parts.append(name)
        parts += [int(number) for number in _INDEX.findall(piece)]
    return tuple(parts)


def _variables(result: RunResult) -> str:
    shown = {k: v for k, v in result.variables.items() if k != "mock"}
    text = json.dumps(shown, ensure_ascii=False, default=str, sort_keys=True)
    return text if len(text) <= 400 else text[:397] + "..."


def _what_happened(loaded: LoadedScenario, result: RunResult) -> list[str]:
    lines = ["What happened", "-------------"]
    state = result.state
    if result.last_error:
        state += f"; last error: {result.last_error}"
    lines.append(f"Flow: {state}")
    if result.attempts:
        lines.append(f"Attempts (offsets from {result.started_at.isoformat()}):")
        rows = []
        for attempt in result.attempts:
            request = attempt.report.request
            target = f"{request.method} {request.url}" if request else ""
            rows.append(
                f"  flow[{attempt.block}] #{attempt.number} +{format_duration(attempt.offset)}"
                f"  {target} -> {attempt.summary()}"
            )
        lines += _rows(rows, "attempts")
    lines.append("Messages:" if result.messages else "Messages: (none)")
    lines += _rows([f"  {message.text!r}" for message in result.messages], "messages")
    lines.append(f"Variables: {_variables(result)}")
    if result.missing:
        lines.append(f"References without a value: {', '.join(sorted(set(result.missing)))}")
    lines.append(
        "Requests the mock server received:"
        if result.requests
        else "Requests the mock server received: (none)"
    )
    rows = []
    for entry in result.requests:
        offset = format_duration(entry.received_at - result.started_at)
        answer = f"stub {entry.stub_id}" if entry.stub_id else "no stub matched"
        fault = f", fault {entry.fault}" if entry.fault else ""
        status = entry.status if entry.status is not None else "no answer"
        rows.append(
            f"  #{entry.seq} +{offset} {entry.method} {entry.url} -> {status} ({answer}{fault})"
        )
    lines += _rows(rows, "requests")
    last_block = result.attempts[-1].block if result.attempts else None
    first = next(
        (a.report.request for a in result.attempts if a.block == last_block and a.report.request),
        None,
    )
    if last_block is not None:
        # The step behind the attempts: the last webhook block the flow reached.
        step = loaded.lines_of("flow", last_block)
        where = f"flow[{last_block}], {loaded.where('flow', last_block)}"
        lines.append(f"The webhook block ({where}):" if step else f"The webhook block ({where})")
        lines += [f"  {number:>4} | {text}" for number, text in step]
    if first is not None:
        lines.append("Rendered request (its attempt 1):")
        lines.append(f"  {first.method} {first.url}")
        lines += _rows([f"  {name}: {value}" for name, value in first.headers], "headers")
        if first.body:
            body = first.body if len(first.body) <= 600 else first.body[:597] + "..."
            lines += ["", f"  {body}"]
    return lines


def failure_report(loaded: LoadedScenario, result: RunResult, failures: list[Failure]) -> str:
    """The whole story of a failed scenario, as text."""
    lines = [
        f"Scenario {loaded.id!r} failed: {len(failures)} expectation(s) not met",
        f"  at {loaded.where('name')}",
        "",
    ]
    for number, failure in enumerate(failures, 1):
        path = field_path(failure.field)
        lines.append(f"{number}) {failure.field}: {failure.message}")
        yaml_lines = loaded.lines_of(*path) if path and path[0] != "mock" else []
        if yaml_lines:
            lines.append(f"   {loaded.source}:{yaml_lines[0][0]}")
            lines += [f"   {number_:>4} | {text}" for number_, text in yaml_lines]
        details = [f"   {detail}" if detail else "" for detail in failure.details]
        lines += _rows(details, "lines", indent="   ")
        lines.append("")
    lines += _what_happened(loaded, result)
    text = "\n".join(_line(line) for line in "\n".join(lines).split("\n")) + "\n"
    if result.mock_url:
        text = text.replace(result.mock_url, "{mock.url}")
    return _strip_port(text, result)


def _strip_port(text: str, result: RunResult) -> str:
    """Host headers carry the port too: ``127.0.0.1:43211`` → ``{mock.host}``."""
    if not result.mock_url:
        return text
    host = result.mock_url.removeprefix("http://")
    return text.replace(host, "{mock.host}")


def summary(result: RunResult) -> dict[str, Any]:
    return {
        "state": result.state,
        "attempts": len(result.attempts),
        "requests": len(result.requests),
    }
