"""Verification over the journal: counts, order, strictness, each failure a readable story.

``MockServer.verify``, ``verify_order``, ``verify_no_unmatched`` and
``assert_all_called`` check their arguments and call these. Every request a
story names is written with :func:`~mockserver.journal.escape_text`, so a path
holding a line break cannot forge a line of the report.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from .errors import VerificationError
from .journal import Journal, RecordedRequest, escape_text
from .matching import CompiledPattern
from .report import NearMiss, format_near_misses, pattern_label, rank

if TYPE_CHECKING:
    from .stubs import StubRegistry

__all__ = [
    "assert_all_called",
    "matching",
    "matching_in_turns",
    "verify",
    "verify_no_unmatched",
    "verify_order",
]

#: Entries matched between two turns of the event loop when the admin API searches.
TURN_ENTRIES = 64


def _named(entry: RecordedRequest) -> str:
    return escape_text(f"#{entry.seq} {entry.method} {entry.url}")


def _received(entries: list[RecordedRequest]) -> list[str]:
    return ["", "Received:", *([f"  {_named(e)}" for e in entries] or ["  (nothing)"])]


def matching(entries: list[RecordedRequest], compiled: CompiledPattern) -> list[RecordedRequest]:
    """The entries ``compiled`` matches; large bodies parsed for it are let go again."""
    found = []
    for entry in entries:
        if compiled.matches(entry):
            found.append(entry)
        entry.forget_views()
    return found


async def matching_in_turns(
    entries: list[RecordedRequest], compiled: CompiledPattern
) -> list[RecordedRequest]:
    """:func:`matching`, letting other clients in after every :data:`TURN_ENTRIES` entries
    (a search of a full journal, whose bodies it may parse, took about a second)."""
    found: list[RecordedRequest] = []
    for start in range(0, len(entries), TURN_ENTRIES):
        found += matching(entries[start : start + TURN_ENTRIES], compiled)
        await asyncio.sleep(0)
    return found


def verify(
    journal: Journal,
    compiled: CompiledPattern,
    *,
    count: int | None,
    at_least: int | None,
    at_most: int | None,
) -> list[RecordedRequest]:
    """The requests matching ``compiled``, or :class:`VerificationError` when their
    number is not as asked (no bound given: at least one)."""
    entries = journal.entries()
    found = matching(entries, compiled)
    if count is None and at_least is None and at_most is None:
        at_least = 1
    problems = []
    if count is not None and len(found) != count:
        problems.append(f"exactly {count}")
    if at_least is not None and len(found) < at_least:
        problems.append(f"at least {at_least}")
    if at_most is not None and len(found) > at_most:
        problems.append(f"at most {at_most}")
    if not problems:
        return found
    lines = [
        f"Expected {' and '.join(problems)} request(s) matching {pattern_label(compiled)}, "
        f"got {len(found)}",
    ]
    lines += ["", "Pattern:", *_pattern_lines(compiled)]
    if found:
        lines += ["", "Matching requests:"]
        lines += [f"  {_named(entry)}" for entry in found]
    # Near misses explain too few matches; too many are explained by the list above.
    if len(found) < max(count or 0, at_least or 0):
        others = [entry for entry in entries if entry not in found]
        misses = rank(_near_miss(compiled, entry) for entry in others)
        lines += ["", *format_near_misses(misses, len(others), "requests")]
    _overflow(journal, lines)
    raise VerificationError("\n".join(lines))


def verify_order(journal: Journal, compiled: list[CompiledPattern]) -> list[RecordedRequest]:
    """The requests matching ``compiled`` in this order (others may come between), or
    :class:`VerificationError` naming the step that never came."""
    entries = journal.entries()
    chosen: list[RecordedRequest] = []
    position = 0
    for index, pattern in enumerate(compiled):
        while position < len(entries) and not pattern.matches(entries[position]):
            entries[position].forget_views()
            position += 1
        if position == len(entries):
            lines = [
                f"Expected requests in order; step {index + 1} of {len(compiled)} "
                f"({pattern_label(pattern)}) never came after the previous ones",
                "",
                "Expected order:",
            ]
            for number, item in enumerate(compiled, 1):
                mark = "ok " if number <= index else ">> " if number == index + 1 else "   "
                lines.append(f"  {mark}{number}. {pattern_label(item)}")
            lines += _received(entries)
            _overflow(journal, lines)
            raise VerificationError("\n".join(lines))
        chosen.append(entries[position])
        position += 1
    return chosen


def verify_no_unmatched(journal: Journal, report: Callable[[RecordedRequest], str]) -> None:
    """:class:`VerificationError` when a request found no stub, with each one's ``report``."""
    unmatched = journal.unmatched()
    if unmatched:
        # A sender that retries sends the same request again and again: its
        # report is told once, with the numbers of every request alike.
        alike: dict[str, list[int]] = {}
        for entry in unmatched:
            alike.setdefault(report(entry), []).append(entry.seq)
        reports = [
            story if len(seqs) == 1 else _retitle(story, seqs) for story, seqs in alike.items()
        ]
        head = f"{len(unmatched)} request(s) matched no stub\n\n"
        raise VerificationError(head + "\n".join(reports))


def assert_all_called(registry: StubRegistry, journal: Journal) -> None:
    """:class:`VerificationError` when a stub that is not ``optional`` never answered."""
    idle = [e.stub.label() for e in registry.entries() if not e.calls and not e.stub.optional]
    if idle:
        lines = [f"{len(idle)} stub(s) were never called:"] + [f"  {label}" for label in idle]
        lines += _received(journal.entries())
        raise VerificationError("\n".join(lines))


def _near_miss(compiled: CompiledPattern, entry: RecordedRequest) -> NearMiss:
    miss = NearMiss(f"request {_named(entry)}", compiled.difference(entry), compiled.field_count)
    entry.forget_views()
    return miss


def _overflow(journal: Journal, lines: list[str]) -> None:
    note = journal.overflow_note()
    if note:
        lines += ["", note]


def _pattern_lines(pattern: CompiledPattern) -> list[str]:
    """The pattern as it would be written: ``{equal: x}`` matchers as their plain value,
    on one line when it is short."""
    data = pattern.pattern.model_dump(by_alias=True, exclude_unset=True, exclude_defaults=True)
    for field in ("query", "headers", "form", "json_paths"):
        matchers = data.get(field) or {}
        for name, matcher in matchers.items():
            if isinstance(matcher, dict) and set(matcher) == {"equal"}:
                matchers[name] = matcher["equal"]
    line = json.dumps(data, ensure_ascii=False)
    if len(line) <= 96:
        return ["  " + line]
    return ["  " + line for line in json.dumps(data, ensure_ascii=False, indent=2).splitlines()]


def _retitle(report: str, seqs: list[int]) -> str:
    """An unmatched report that stands for several identical requests: say which."""
    numbers = ", ".join(f"#{seq}" for seq in seqs)
    title = f"{len(seqs)} requests alike were not matched ({numbers})"
    _, _, rest = report.partition("\n")
    _, _, rest = rest.partition("\n")
    return f"{title}\n{'=' * len(title)}\n{rest}"
