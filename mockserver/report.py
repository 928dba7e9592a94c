"""Readable stories for misses: near misses of a request, closest requests of a pattern (pure).

Every report names the stub or request, says how many of the checked fields
differ, and lists each differing field with what was expected and what came,
as WireMock's "Request was not matched" table does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .journal import RecordedRequest, escape_text
from .matching import CompiledPattern, Mismatch

__all__ = ["NearMiss", "describe_request", "format_mismatches", "rank"]

_BODY_LIMIT = 400


@dataclass(frozen=True)
class NearMiss:
    """A stub (or a request) that almost matched, and how far off it was."""

    label: str
    mismatches: list[Mismatch]
    checked: int

    @property
    def differing(self) -> int:
        """How many of the pattern's fields differ (a JSON body's rows count as one)."""
        return len({mismatch.of or mismatch.field for mismatch in self.mismatches})

    @property
    def distance(self) -> float:
        return self.differing / max(self.checked, 1)

    def to_json(self) -> dict[str, object]:
        return {
            "label": self.label,
            "checked": self.checked,
            "mismatches": [
                {"field": m.field, "expected": m.expected, "actual": m.actual}
                for m in self.mismatches
            ],
        }


def rank(candidates: Iterable[NearMiss], limit: int = 3) -> list[NearMiss]:
    """The closest ``limit`` misses: fewest differing fields relative to those checked."""
    misses = [miss for miss in candidates if miss.mismatches]
    misses.sort(key=lambda miss: (miss.distance, miss.differing))
    return misses[:limit]


def describe_request(request: RecordedRequest) -> list[str]:
    """The request as lines: request line, headers, body (cut at a readable length)."""
    lines = [escape_text(f"{request.method} {request.url}")]
    lines += [escape_text(f"{name}: {value}") for name, value in request.raw_headers]
    if request.body:
        text = request.text
        length = request.body_length or len(request.body)
        if len(text) > _BODY_LIMIT or length > len(request.body):
            text = text[:_BODY_LIMIT] + f"... ({length} bytes in all)"
        # The body keeps its lines, but nothing in it may drive the terminal.
        lines += ["", *(escape_text(line) for line in text.splitlines())]
    return lines


def format_mismatches(mismatches: list[Mismatch], indent: str = "   ") -> list[str]:
    """A table of differing fields: field, expected, actual."""
    rows = [("field", "expected", "actual")] + [
        (escape_text(m.field), escape_text(m.expected), escape_text(m.actual)) for m in mismatches
    ]
    widths = [max(len(row[column]) for row in rows) for column in range(3)]
    lines = []
    for number, (field, expected, actual) in enumerate(rows):
        marker = "" if number == 0 else "  <<<<<"
        line = f"{field:<{widths[0]}}  {expected:<{widths[1]}}  {actual:<{widths[2]}}{marker}"
        lines.append(indent + line.rstrip())
    return lines


def format_near_misses(misses: list[NearMiss], total: int, what: str) -> list[str]:
    if not misses:
        return [f"No {what} to compare with." if total == 0 else f"No {what} came close."]
    lines = [f"Closest {what} ({len(misses)} of {total}):"]
    for number, miss in enumerate(misses, 1):
        lines.append("")
        lines.append(f"{number}. {miss.label}: {miss.differing} of {miss.checked} field(s) differ")
        lines += format_mismatches(miss.mismatches)
    return lines


def unmatched_report(request: RecordedRequest, misses: list[NearMiss], total_stubs: int) -> str:
    """The story of a request that no stub answered."""
    lines = ["Request was not matched", "=======================", ""]
    if request.refused:
        # Nothing of it could be read, so no stub can be compared with it.
        lines += [f"A request the HTTP parser refused (answered 400): {request.note}"]
        return "\n".join(lines) + "\n"
    lines += describe_request(request)
    if request.note:
        lines += ["", f"Note: {request.note}"]
    lines.append("")
    lines += format_near_misses(misses, total_stubs, "stubs")
    return "\n".join(lines) + "\n"


def pattern_label(pattern: CompiledPattern) -> str:
    source = pattern.pattern
    where = source.path or (f"~{source.path_regex}" if source.path_regex else "any path")
    return f"{source.method} {where}"
