"""A retry schedule as a picture: expected beside actual attempts on one SVG timeline (pure).

The axis is logarithmic in ``1 + seconds``, so 0 s, 5 s, 35 s and 2 h 31 min 35 s
all have room on one line: each tick is a round duration, labelled as scenario
files write durations (``1m35s``). Every text is HTML-escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from typing import Final

from .durations import format_duration

__all__ = ["Mark", "timeline_svg"]

_TICKS: Final = (
    0, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200, 3 * 3600, 6 * 3600, 12 * 3600, 86400,
    2 * 86400, 7 * 86400, 30 * 86400, 365 * 86400,
)  # fmt: skip
_WIDTH: Final = 960
_LEFT: Final = 90
_RIGHT: Final = 60
_EXPECTED_Y: Final = 52
_ACTUAL_Y: Final = 102
_AXIS_Y: Final = 186
_HEIGHT: Final = 236
_LABEL_ROOM: Final = 56  # pixels a label needs before the next may sit on the same line


@dataclass(frozen=True)
class Mark:
    """One attempt on the picture: when (seconds from the clock's start), what, and how it went."""

    offset: float
    label: str
    detail: str
    ok: bool | None = None
    #: This attempt differs from its counterpart on the other line.
    wrong: bool = False


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _span(marks: Sequence[Mark]) -> float:
    longest = max((mark.offset for mark in marks), default=0.0)
    return max(longest * 1.05, 60.0)


def _x(seconds: float, span: float) -> float:
    usable = _WIDTH - _LEFT - _RIGHT
    return _LEFT + usable * math.log10(1 + max(seconds, 0.0)) / math.log10(1 + span)


def _short(detail: str) -> str:
    """What an attempt's second label line says: ``500``, ``timeout``…"""
    word = detail.split(":", 1)[0].strip()
    return word if len(word) <= 12 else word[:11] + "…"


def _labels(marks: Sequence[Mark], span: float, y: int, above: bool) -> list[str]:
    """Each mark's label (under actual attempts, with what came back), staggered onto a
    second row when it would overlap the one before."""
    out: list[str] = []
    last = -1e9
    row = 0
    for mark in sorted(marks, key=lambda item: item.offset):
        x = _x(mark.offset, span)
        row = (row + 1) % 2 if x - last < _LABEL_ROOM else 0
        last = x if row == 0 else last
        if above:
            ty = y - 12 - 14 * row
            out.append(
                f'<text x="{x:.1f}" y="{ty}" text-anchor="middle" class="label">'
                f"{_e(mark.label)}</text>"
            )
            continue
        ty = y + 20 + 28 * row
        out.append(
            f'<text x="{x:.1f}" y="{ty}" text-anchor="middle" class="label">{_e(mark.label)}</text>'
        )
        if mark.detail:
            out.append(
                f'<text x="{x:.1f}" y="{ty + 12}" text-anchor="middle" class="label minor">'
                f"{_e(_short(mark.detail))}</text>"
            )
    return out


def _dot(mark: Mark, span: float, y: int, kind: str, number: int) -> str:
    x = _x(mark.offset, span)
    state = "ok" if mark.ok else "failed" if mark.ok is False else "any"
    state += " wrong" if mark.wrong else ""
    title = f"{kind} attempt {number}: +{format_duration(timedelta(seconds=mark.offset))}"
    title += f" {mark.detail}" if mark.detail else ""
    return (
        f'<g class="attempt {kind} {state}" data-offset="{mark.offset:g}" data-number="{number}">'
        f"<title>{_e(title)}</title>"
        f'<circle cx="{x:.1f}" cy="{y}" r="7"/></g>'
    )


def timeline_svg(expected: Sequence[Mark] | None, actual: Sequence[Mark], *, title: str) -> str:
    """The SVG: a line of expected attempts (when the scenario gives them) above the actual
    ones, the i-th of each joined (red where they differ), on a logarithmic time axis."""
    span = _span([*(expected or ()), *actual])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" '
        f'viewBox="0 0 {_WIDTH} {_HEIGHT}" width="{_WIDTH}" height="{_HEIGHT}" '
        f'data-span="{span:g}">',
        f"<title>{_e(title)}</title>",
        f'<line x1="{_LEFT}" y1="{_AXIS_Y}" x2="{_WIDTH - _RIGHT + 20}" y2="{_AXIS_Y}" '
        'class="axis"/>',
    ]
    ticks = [tick for tick in _TICKS if tick <= span]
    for tick in ticks:
        x = _x(tick, span)
        parts.append(
            f'<line x1="{x:.1f}" y1="{_EXPECTED_Y - 22}" x2="{x:.1f}" y2="{_AXIS_Y + 4}" '
            'class="grid"/>'
        )
        shown = format_duration(timedelta(seconds=tick))
        parts.append(
            f'<text x="{x:.1f}" y="{_AXIS_Y + 18}" text-anchor="middle" class="tick">'
            f"{_e(shown)}</text>"
        )
    parts.append(
        f'<text x="{_LEFT}" y="{_AXIS_Y + 38}" class="caption">time since the clock&#39;s start '
        "(logarithmic scale) · hollow: expected · green: answered · red: failed · "
        "red ring or line: differs from what was expected</text>"
    )
    if expected is not None:
        parts.append(f'<text x="8" y="{_EXPECTED_Y + 4}" class="lane">expected</text>')
        for index, (want, got) in enumerate(zip(expected, actual, strict=False)):
            wrong = want.wrong or got.wrong
            parts.append(
                f'<line x1="{_x(want.offset, span):.1f}" y1="{_EXPECTED_Y + 7}" '
                f'x2="{_x(got.offset, span):.1f}" y2="{_ACTUAL_Y - 7}" '
                f'class="pair{" wrong" if wrong else ""}" data-number="{index + 1}"/>'
            )
        parts += [
            _dot(mark, span, _EXPECTED_Y, "expected", n) for n, mark in enumerate(expected, 1)
        ]
        parts += _labels(expected, span, _EXPECTED_Y, above=True)
    parts.append(f'<text x="8" y="{_ACTUAL_Y + 4}" class="lane">actual</text>')
    parts += [_dot(mark, span, _ACTUAL_Y, "actual", n) for n, mark in enumerate(actual, 1)]
    parts += _labels(actual, span, _ACTUAL_Y, above=False)
    if not actual:
        parts.append(
            f'<text x="{_LEFT}" y="{_ACTUAL_Y + 4}" class="caption">no attempt was made</text>'
        )
    parts.append("</svg>")
    return "".join(parts)
