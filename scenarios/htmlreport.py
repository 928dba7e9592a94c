"""The HTML report of a run of scenario files (``--scenario-html PATH``): one file, no network.

A worker turns each scenario's run into plain data (:func:`scenario_record`),
which travels on the test report to the controller under ``-n``; the
controller writes one page (:func:`render_report`): the rule-by-rule
conformance matrix when scenarios pin rules, and for each scenario its flow,
its attempts as a timeline (expected beside actual), the requests the mock
server received, and its failures with their near-miss tables. Every value is
HTML-escaped; the page has no script and a policy that forbids loading anything.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from .durations import format_duration
from .htmlpage import render_report

if TYPE_CHECKING:
    from mockserver import MockServer

    from .loader import LoadedScenario
    from .results import RunResult

__all__ = ["RECORD_LIMIT", "render_report", "scenario_record", "slim_record", "write_report"]

_TEXT_LIMIT: Final = 4000  # characters of a body or a failure's story kept per item
_ROWS_LIMIT: Final = 200  # requests and attempts kept per scenario
_LINE_LIMIT: Final = 1000  # characters of a header, a block's text, a message's line
#: A scenario's page data past this (in characters of JSON) keeps only what
#: :func:`slim_record` keeps: the rows above can still add up to megabytes.
RECORD_LIMIT: Final = 512 * 1024


def _cut(text: str, limit: int = _TEXT_LIMIT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _seconds(delta: timedelta) -> float:
    return round(delta.total_seconds(), 3)


def _headers(pairs: Sequence[tuple[str, str]]) -> list[list[str]]:
    return [[_cut(name, _LINE_LIMIT), _cut(value, _LINE_LIMIT)] for name, value in pairs[:100]]


def _flow(loaded: LoadedScenario) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index, block in enumerate(loaded.scenario.flow[:_ROWS_LIMIT]):
        if block.webhook is not None:
            spec = block.webhook
            text = f"{spec.method} {spec.url}"
            if spec.save_to:
                text += f" → {spec.save_to}"
            extra = [f"header {name}: {value}" for name, value in spec.headers]
            extra += [f"param {name} = {value}" for name, value in spec.params]
            out.append(
                {
                    "kind": "webhook",
                    "text": _cut(text, _LINE_LIMIT),
                    "where": loaded.where("flow", index),
                    "extra": [_cut(line, 500) for line in extra[:50]],
                }
            )
        elif block.message is not None:
            out.append(
                {
                    "kind": "message",
                    "text": _cut(str(block.message), _LINE_LIMIT),
                    "where": loaded.where("flow", index),
                }
            )
        elif block.set is not None:
            value = json.dumps(block.set.value, ensure_ascii=False, default=str)
            out.append(
                {
                    "kind": "set",
                    "text": _cut(f"{block.set.name} = {value}", _LINE_LIMIT),
                    "where": loaded.where("flow", index),
                }
            )
    return out


def _expected(loaded: LoadedScenario) -> list[dict[str, Any]] | None:
    attempts = loaded.scenario.expect.attempts
    if attempts is None:
        return None
    out = []
    for want in attempts:
        parts = [format_duration(want.at)]
        if want.status is not None:
            parts.append(str(want.status))
        if want.ok is not None:
            parts.append("ok" if want.ok else "fails")
        if isinstance(want.error, list):  # any of several kinds will do
            parts.append(" or ".join(want.error))
        elif isinstance(want.error, str):
            parts.append(want.error)
        elif want.error is not None:  # {contains: text}, a part of the message
            parts.append(f"contains {want.error.contains!r}")
        out.append(
            {
                "at": _seconds(want.at),
                "text": "  ".join(parts),
                "status": want.status,
                "ok": want.ok,
                "error": want.error,
                "block": want.block,
            }
        )
    return out


def _attempts(result: RunResult) -> list[dict[str, Any]]:
    out = []
    for attempt in result.attempts[:_ROWS_LIMIT]:
        report = attempt.report
        request = report.request
        out.append(
            {
                "block": attempt.block,
                "number": attempt.number,
                "offset": _seconds(attempt.offset),
                "summary": attempt.summary(),
                "ok": report.ok,
                "status": report.status,
                "error_kind": report.error_kind,
                "error": None if report.error is None else _cut(report.error),
                "request": None
                if request is None
                else {
                    "method": request.method,
                    "url": request.url,
                    "headers": _headers(request.headers),
                    "body": _cut(request.body),
                },
            }
        )
    return out


def _requests(
    result: RunResult, server: MockServer | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The journal's rows, and the near misses of the unmatched requests; a retrying
    sender's identical requests share one near-miss table, which names them all."""
    rows = []
    alike: dict[str, dict[str, Any]] = {}
    for entry in result.requests[:_ROWS_LIMIT]:
        rows.append(
            {
                "seq": entry.seq,
                "offset": _seconds(entry.received_at - result.started_at),
                "method": entry.method,
                "url": entry.url,
                "status": entry.status,
                "stub": entry.stub_id,
                "fault": entry.fault,
                "headers": _headers(entry.raw_headers),
                "body": _cut(entry.text),
            }
        )
        if entry.stub_id is None and not entry.refused and server is not None:
            misses = [miss.to_json() for miss in server.near_misses(entry)]
            key = json.dumps([entry.method, entry.url, entry.text, misses], default=str)
            group = alike.setdefault(
                key,
                {
                    "request": f"{entry.method} {entry.url}",
                    "seqs": [],
                    "stubs": len(server.registry),
                    "misses": misses,
                },
            )
            group["seqs"].append(entry.seq)
    return rows, list(alike.values())


def scenario_record(
    loaded: LoadedScenario,
    *,
    result: RunResult | None,
    error: BaseException | None,
    server: MockServer | None,
) -> dict[str, Any]:
    """One scenario's run as plain data (JSON types only, so xdist can carry it)."""
    from .errors import ScenarioFailed

    record: dict[str, Any] = {
        "name": loaded.id,
        "where": loaded.where("name"),
        "rules": list(loaded.scenario.rules),
        "flow": _flow(loaded),
        "expected": _expected(loaded),
        "failures": [],
        "problem": None,
    }
    if isinstance(error, ScenarioFailed):
        result = error.result
        record["failures"] = [
            {
                "field": failure.field,
                "message": _cut(failure.message),
                "details": [_cut(line, 1000) for line in failure.details[:400]],
            }
            for failure in error.failures[:_ROWS_LIMIT]
        ]
    elif error is not None:
        record["problem"] = _cut(f"{type(error).__name__}: {error}")
    if result is not None:
        requests, misses = _requests(result, server)
        record |= {
            "started_at": result.started_at.isoformat(),
            "state": result.state,
            "last_error": None if result.last_error is None else _cut(result.last_error),
            "messages": [_cut(message.text) for message in result.messages[:_ROWS_LIMIT]],
            "attempts": _attempts(result),
            "requests": requests,
            "near_misses": misses,
        }
    # JSON types only (what xdist can carry), and the mock server's address written
    # {mock.url}, so that reports read the same on every run, as the text report does.
    text = json.dumps(record, ensure_ascii=False, default=str)
    if result is not None and result.mock_url:
        mock = result.mock_url
        text = text.replace(mock, "{mock.url}").replace(mock.split("://")[-1], "{mock.host}")
    loaded_back: dict[str, Any] = json.loads(text)
    if len(text) > RECORD_LIMIT:
        return slim_record(loaded_back, f"its run's data came to {len(text):,} characters")
    return loaded_back


#: What a scenario's page data keeps when it is cut down: what it is, where, and why it failed.
_SLIM_KEYS: Final = ("name", "where", "rules", "failures", "problem", "state", "last_error")


def slim_record(record: Mapping[str, Any], why: str) -> dict[str, Any]:
    """``record`` without its flow, requests and attempts, saying ``why`` on the page."""
    slim = {key: record[key] for key in _SLIM_KEYS if key in record}
    slim["failures"] = [
        {**failure, "details": failure["details"][:20]} for failure in slim.get("failures", [])
    ]
    slim["note"] = f"Requests, attempts and messages are left out: {why}."
    return slim


def write_report(
    path: str | Path,
    records: Mapping[str, Mapping[str, Any]],
    *,
    implementation: str,
    selected: Collection[str] = (),
) -> Path:
    """Write the page to ``path`` (its folder is made); ``OSError`` when it cannot be."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(
        render_report(records, implementation=implementation, selected=selected), "utf-8"
    )
    return target
