"""Comparing a run with what the scenario expected: a list of :class:`Failure`, never a bool."""

from __future__ import annotations

import json
from typing import Any

from mockserver import MockServer, VerificationError
from mockserver.matching import (
    CompiledMatcher,
    Mismatch,
    json_differences,
    json_mismatches,
    show,
)
from mockserver.report import format_mismatches
from webhook_core.template import MISSING, walk

from .durations import format_duration
from .implementations import ERROR_KINDS
from .loader import LoadedScenario
from .model import AttemptExpectation, MessagePart
from .results import AttemptRecord, Failure, RunResult

__all__ = ["check"]


def _split(report: str) -> tuple[str, list[str]]:
    head, *rest = report.splitlines() or [""]
    while rest and not rest[0].strip():
        rest.pop(0)
    return head, rest


def _requests(loaded: LoadedScenario, server: MockServer) -> list[Failure]:
    expect = loaded.scenario.expect
    if expect.requests is None:
        return []
    failures = []
    patterns = []
    for index, item in enumerate(expect.requests):
        pattern = item.model_dump(by_alias=True, exclude_unset=True, exclude={"count", "at_least"})
        patterns.append(pattern)
        count = item.count
        if count is None and item.at_least is None:
            count = 1
        try:
            server.verify(pattern, count=count, at_least=item.at_least)
        except VerificationError as exc:
            head, rest = _split(exc.report)
            failures.append(Failure(f"expect.requests[{index}]", head, rest))
    if not failures and expect.in_order and len(patterns) > 1:
        try:
            server.verify_order(patterns)
        except VerificationError as exc:
            head, rest = _split(exc.report)
            failures.append(Failure("expect.requests", head, rest))
    return failures


def _cut(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _crm(loaded: LoadedScenario, server: MockServer) -> list[Failure]:
    failures: list[Failure] = []
    for name, entities in loaded.scenario.expect.crm.items():
        try:
            profile = server.profile(name)
        except KeyError as exc:
            failures.append(Failure(f"expect.crm.{name}", str(exc.args[0])))
            continue
        for entity, expected in entities.items():
            records = profile.records(entity)
            field = f"expect.crm.{name}.{entity}"
            shown = [f"  {_cut(json.dumps(r, ensure_ascii=False, default=str))}" for r in records]
            if expected.count is not None and len(records) != expected.count:
                failures.append(
                    Failure(
                        field,
                        f"expected {expected.count} {entity} record(s) in {name}, "
                        f"found {len(records)}",
                        ["records:", *(shown or ["  (none)"])],
                    )
                )
                continue
            for index, fields in enumerate(expected.records or []):
                if index >= len(records):
                    failures.append(
                        Failure(
                            f"{field}.records[{index}]",
                            f"expected a record #{index + 1}, found {len(records)}",
                            ["records:", *shown],
                        )
                    )
                    break
                record = records[index]
                wrong = [
                    Mismatch(path, matcher.describe(), show(value))
                    for path, matcher in fields.items()
                    if not _match(matcher, value := walk(record, path.split(".")), as_text=False)
                ]
                if wrong:
                    failures.append(
                        Failure(
                            f"{field}.records[{index}]",
                            f"{entity} #{index + 1} in {name}: {len(wrong)} of {len(fields)} "
                            "field(s) differ",
                            [
                                *format_mismatches(wrong, indent=""),
                                "",
                                f"{entity} #{index + 1} as {name} holds it:",
                                *json.dumps(
                                    record, ensure_ascii=False, indent=2, default=str
                                ).splitlines(),
                            ],
                        )
                    )
    return failures


def _attempt_ok(expected: AttemptExpectation, actual: AttemptRecord) -> bool:
    report = actual.report
    if expected.at != actual.offset:
        return False
    if expected.block is not None and expected.block != actual.block:
        return False
    if expected.status is not None and expected.status != report.status:
        return False
    if expected.ok is not None and expected.ok != report.ok:
        return False
    return expected.error is None or (not report.ok and _error_matches(expected.error, report))


def _error_matches(expected: str | list[str] | MessagePart, report: Any) -> bool:
    """A kind of the protocol (or any of a list) is compared with ``error_kind``, never with
    the message's wording; anything else is looked for in the message (a QA engineer's own
    scenario checking their own implementation's text)."""
    if isinstance(expected, list):
        return report.error_kind in expected
    if isinstance(expected, MessagePart):
        return expected.contains in (report.error or "")
    if expected in ERROR_KINDS:
        return bool(report.error_kind == expected)
    return expected in (report.error or "")


def _describe_expected(expected: AttemptExpectation) -> str:
    parts = [format_duration(expected.at)]
    if expected.status is not None:
        parts.append(str(expected.status))
    if expected.ok is not None:
        parts.append("ok" if expected.ok else "fails")
    if expected.error is not None:
        error = expected.error
        parts.append(
            " or ".join(error)
            if isinstance(error, list)
            else f"contains {error.contains!r}"
            if isinstance(error, MessagePart)
            else error
        )
    return "  ".join(parts)


def _table(rows: list[tuple[str, str, bool]]) -> list[str]:
    """Expected beside actual, one numbered row each, the rows that differ marked."""
    width = max(len(left) for left, _, _ in [("expected", "", False), *rows])
    number = len(str(len(rows)))
    table = [f"{'#':>{number}}  {'expected':<{width}}  actual"]
    for index, (left, right, bad) in enumerate(rows, start=1):
        table.append(f"{index:>{number}}  {left:<{width}}  {right}" + ("  <<<<<" if bad else ""))
    return table


def _attempts(loaded: LoadedScenario, result: RunResult) -> list[Failure]:
    expected = loaded.scenario.expect.attempts
    if expected is None:
        return []
    actual = result.attempts
    rows: list[tuple[str, str, bool]] = []
    for index in range(max(len(expected), len(actual))):
        want = expected[index] if index < len(expected) else None
        got = actual[index] if index < len(actual) else None
        left = _describe_expected(want) if want else "(none)"
        right = f"{format_duration(got.offset):<8}  {got.summary()}" if got else "(none)"
        rows.append((left, right, want is None or got is None or not _attempt_ok(want, got)))
    wrong = sum(bad for _, _, bad in rows)
    if not wrong:
        return []
    message = (
        f"expected {len(expected)} attempt(s) at these offsets, got {len(actual)}; {wrong} differ"
    )
    return [
        Failure(
            "expect.attempts",
            message,
            [f"offsets from the clock's start, {result.started_at.isoformat()}:", *_table(rows)],
        )
    ]


def _messages(loaded: LoadedScenario, result: RunResult) -> list[Failure]:
    expected = loaded.scenario.expect.messages
    if expected is None:
        return []
    texts = [message.text for message in result.messages]
    rows: list[tuple[str, str, bool]] = []
    for index in range(max(len(expected), len(texts))):
        want = expected[index] if index < len(expected) else None
        got = texts[index] if index < len(texts) else None
        left = want.describe() if want is not None else "(none)"
        right = repr(got) if got is not None else "(none)"
        bad = want is None or got is None or not _match(want, got, as_text=True)
        rows.append((left, right, bad))
    wrong = sum(bad for _, _, bad in rows)
    if not wrong:
        return []
    message = f"expected {len(expected)} message(s), got {len(texts)}; {wrong} differ"
    return [Failure("expect.messages", message, _table(rows))]


def _match(matcher: Any, value: Any, *, as_text: bool) -> bool:
    return CompiledMatcher(matcher).test(value, as_text=as_text)


def _configuration_error(loaded: LoadedScenario, result: RunResult) -> list[Failure]:
    """Rule A4 as data: the field (a path) and the value, never the message's wording."""
    expected = loaded.scenario.expect.configuration_error
    if expected is None:
        return []
    got = result.configuration_error
    if got is None:
        return [
            Failure(
                "expect.configuration_error",
                f"expected a configuration error on {expected.field}, got none"
                + (f" (the flow is {result.state})" if result.state else ""),
            )
        ]
    failures = []
    if got.field != expected.field:
        failures.append(
            Failure(
                "expect.configuration_error.field",
                f"the configuration error names field {got.field!r}; expected {expected.field!r}",
                [f"its message: {got.message}"] if got.message else [],
            )
        )
    if expected.value is not None and not _match(expected.value, got.value, as_text=False):
        failures.append(
            Failure(
                "expect.configuration_error.value",
                f"the configuration error names value {show(got.value)}; expected "
                f"{expected.value.describe()}",
            )
        )
    return failures


def check(loaded: LoadedScenario, result: RunResult, server: MockServer) -> list[Failure]:
    """Every expectation of ``loaded`` that ``result`` does not meet."""
    scenario = loaded.scenario
    expect = scenario.expect
    failures: list[Failure] = []
    if result.state != expect.state:
        details = [f"last error: {result.last_error}"] if result.last_error else []
        failures.append(
            Failure(
                "expect.state",
                f"expected the flow to be {expect.state}, it is {result.state}",
                details,
            )
        )
    if expect.error is not None:
        value = result.last_error if result.last_error is not None else MISSING
        if not _match(expect.error, value, as_text=True):
            failures.append(
                Failure(
                    "expect.error",
                    f"the last error: expected {expect.error.describe()}, got {show(value)}",
                )
            )
    failures += _configuration_error(loaded, result)
    failures += _requests(loaded, server)
    if expect.requests_total is not None and len(result.requests) != expect.requests_total:
        failures.append(
            Failure(
                "expect.requests_total",
                f"expected {expect.requests_total} request(s) in all, got {len(result.requests)}",
            )
        )
    if scenario.mock.strict:
        try:
            server.check()
        except VerificationError as exc:
            head, rest = _split(exc.report)
            failures.append(Failure("mock", f"the mock server is strict: {head}", rest))
    failures += _messages(loaded, result)
    for path, matcher in expect.variables.items():
        value = walk(result.variables, path.split("."))
        if _match(matcher, value, as_text=False):
            continue
        wanted = matcher.equal if matcher.kind == "equal" else None
        if isinstance(wanted, dict | list) and isinstance(value, dict | list):
            # Two structures: where they part, not both cut at sixty characters.
            count = len(json_differences(wanted, value))
            rows = json_mismatches(path, wanted, value)
            failures.append(
                Failure(
                    f"expect.variables.{path}",
                    f"variable {path}: {count} place(s) differ from what was expected",
                    format_mismatches(rows, indent=""),
                )
            )
            continue
        failures.append(
            Failure(
                f"expect.variables.{path}",
                f"variable {path}: expected {matcher.describe()}, got {show(value)}",
            )
        )
    failures += _attempts(loaded, result)
    failures += _crm(loaded, server)
    if expect.missing is not None and sorted(set(result.missing)) != sorted(set(expect.missing)):
        failures.append(
            Failure(
                "expect.missing",
                f"references without a value: expected {sorted(expect.missing)}, "
                f"got {sorted(set(result.missing))}",
            )
        )
    return failures
