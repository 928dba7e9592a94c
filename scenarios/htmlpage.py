"""The HTML report's page (pure): the conformance matrix, each scenario's story and timeline.

Every value is HTML-escaped through :func:`_e`; cells given to :func:`_table` are
built from escaped parts. The page has no script and a Content-Security-Policy
that forbids loading anything, so it opens the same from a CI artifact, offline.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from datetime import datetime, timedelta, timezone
from html import escape
from typing import Any, Final

from .durations import format_duration
from .summary import RULES, rule_verdicts
from .timeline import Mark, timeline_svg

__all__ = ["render_report"]


def _e(value: object) -> str:
    return escape("" if value is None else str(value), quote=True)


_STYLE: Final = """
body {
    font: 14px/1.45 system-ui, sans-serif;
    color: #1d232a;
    margin: 0 auto;
    max-width: 1100px;
    padding: 16px;
}
h1 { font-size: 20px; }
h2 { font-size: 17px; margin-top: 28px; }
h3 { font-size: 14px; margin: 14px 0 4px; }
table { border-collapse: collapse; width: 100%; margin: 4px 0 8px; }
th, td {
    text-align: left;
    padding: 3px 8px;
    border-bottom: 1px solid #d9dee3;
    vertical-align: top;
}
th { background: #f4f6f8; font-size: 12px; color: #66717d; }
.mono, pre, td.mono { font-family: ui-monospace, monospace; font-size: 12.5px; }
pre {
    background: #f4f6f8;
    padding: 8px;
    white-space: pre-wrap;
    word-break: break-all;
    max-height: 28em;
    overflow: auto;
}
.badge {
    display: inline-block;
    white-space: nowrap;
    min-width: 5.5em;
    text-align: center;
    border-radius: 9px;
    padding: 0 8px;
    font-size: 12px;
    font-weight: 600;
}
.badge.passed, .badge.conforms, .badge.xfailed { background: #d3f2dc; color: #19703a; }
.badge.failed, .badge.DOES-NOT-CONFORM, .badge.xpassed, .badge.error {
    background: #fbe0dd;
    color: #b42318;
}
.badge.skipped, .badge.not-run, .badge.not-judged { background: #eceff2; color: #66717d; }
a.failed, a.error, a.xpassed { color: #b42318; }
section.scenario.failed, section.scenario.error, section.scenario.xpassed {
    border-left: 4px solid #b42318;
}
section.scenario {
    border: 1px solid #d9dee3;
    border-radius: 6px;
    margin: 10px 0;
    padding: 4px 12px;
}
section.scenario > details > summary { cursor: pointer; font-weight: 600; padding: 4px 0; }
.where, .muted { color: #66717d; font-size: 12px; }
.failure { border-left: 3px solid #b42318; padding-left: 10px; margin: 8px 0; }
td.actual { color: #b42318; }
tr.wrong td { background: #fff1ef; }
svg.timeline {
    max-width: 100%;
    height: auto;
    background: #fcfcfd;
    border: 1px solid #e6e9ec;
    border-radius: 4px;
}
svg .axis { stroke: #66717d; stroke-width: 1.5; }
svg .grid { stroke: #e6e9ec; }
svg .tick, svg .caption, svg .lane { font: 11px system-ui, sans-serif; fill: #66717d; }
svg .lane { font-weight: 600; }
svg .label { font: 11px ui-monospace, monospace; fill: #1d232a; }
svg .label.minor { fill: #66717d; font-size: 10px; }
svg .attempt circle { stroke-width: 2; }
svg .expected circle { fill: #fff; stroke: #1f5fbf; }
svg .actual.ok circle { fill: #19703a; stroke: #19703a; }
svg .actual.failed circle { fill: #b42318; stroke: #b42318; }
svg .actual.any circle { fill: #66717d; stroke: #66717d; }
svg .wrong circle { stroke: #b42318; stroke-width: 3; }
svg .expected.wrong circle { fill: #fde4e1; }
svg .pair { stroke: #9aa5b1; stroke-dasharray: 3 3; }
svg .pair.wrong { stroke: #b42318; stroke-width: 2; }
"""


def _badge(text: str) -> str:
    return f'<span class="badge {_e(text.replace(" ", "-"))}">{_e(text)}</span>'


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, cls: str = "") -> str:
    """A table; cells are given already escaped (or built from escaped parts)."""
    head = "".join(f"<th>{_e(name)}</th>" for name in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table class="{_e(cls)}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _matrix(
    records: Mapping[str, Mapping[str, Any]], anchors: Mapping[str, str], selected: Collection[str]
) -> str:
    results = {
        nodeid: (list(r.get("rules", [])), str(r["outcome"])) for nodeid, r in records.items()
    }
    if not any(rules for rules, _ in results.values()):
        return ""
    # The same verdicts as the terminal report: a rule a scenario cannot certify for this
    # implementation (the harness did that part) is "not judged" there, never "conforms".
    uncertain = {
        nodeid: list(r["not_judged"]) for nodeid, r in records.items() if r.get("not_judged")
    }
    verdicts = rule_verdicts(results, selected, uncertain)
    pinned: dict[str, list[str]] = {rule: [] for rule in RULES}
    for nodeid, (rules, outcome) in results.items():
        for rule in rules:
            name = _e(records[nodeid]["name"])
            link = f'<a href="#{anchors[nodeid]}" class="{_e(outcome)}">{name}</a>'
            pinned.setdefault(rule, []).append(link)
    unrun = [rule for rule, v in verdicts.items() if v["verdict"] == "not run"]
    # A partial run (one file, -k) lists the rules it ran, and names the others once.
    shown = [rule for rule in verdicts if rule not in unrun or len(unrun) == len(RULES)]
    rows = [
        [
            f'<span class="mono">{_e(rule)}</span>',
            _e(verdicts[rule]["scenarios"]),
            _e(verdicts[rule]["passed"]),
            _badge(verdicts[rule]["verdict"]),
            ", ".join(pinned.get(rule, [])),
        ]
        for rule in shown
    ]
    conforming = sum(v["verdict"] == "conforms" for v in verdicts.values())
    tail = f" Not run: {_e(', '.join(unrun))}." if unrun else ""
    return (
        '<section id="conformance"><h2>Conformance, rule by rule</h2>'
        f"<p>{conforming} of {len(RULES)} rules conform.{tail}</p>"
        + _table(
            ["rule", "scenarios", "passed", "verdict", "scenarios that pin it"], rows, cls="matrix"
        )
        + "</section>"
    )


def _marks(record: Mapping[str, Any]) -> tuple[list[Mark] | None, list[Mark]]:
    actual_rows = record.get("attempts") or []
    expected_rows = record.get("expected")
    actual = []
    expected: list[Mark] | None = None
    for index, got in enumerate(actual_rows):
        want = expected_rows[index] if expected_rows and index < len(expected_rows) else None
        wrong = expected_rows is not None and (want is None or not _same(want, got))
        label = format_duration(timedelta(seconds=got["offset"]))
        actual.append(Mark(got["offset"], label, got["summary"], ok=got["ok"], wrong=wrong))
    if expected_rows is not None:
        expected = []
        for index, want in enumerate(expected_rows):
            got = actual_rows[index] if index < len(actual_rows) else None
            wrong = got is None or not _same(want, got)
            label = format_duration(timedelta(seconds=want["at"]))
            expected.append(Mark(want["at"], label, want["text"], ok=want["ok"], wrong=wrong))
    return expected, actual


def _same(want: Mapping[str, Any], got: Mapping[str, Any]) -> bool:
    if abs(want["at"] - got["offset"]) > 0.0005:
        return False
    if want.get("block") is not None and want["block"] != got["block"]:
        return False
    if want.get("status") is not None and want["status"] != got["status"]:
        return False
    if want.get("ok") is not None and want["ok"] != got["ok"]:
        return False
    error = want.get("error")
    if error is None:
        return True
    # A kind, part of the message, or a list of kinds any of which will do.
    wanted = error if isinstance(error, list) else [error]
    message = got.get("error") or ""
    return not got["ok"] and any(
        kind == got.get("error_kind") or kind in message for kind in wanted
    )


def _timeline(record: Mapping[str, Any]) -> str:
    expected, actual = _marks(record)
    if not actual and not expected:
        return ""
    rows_total = max(len(expected or []), len(actual))
    rows = []
    for index in range(rows_total):
        want = expected[index] if expected is not None and index < len(expected) else None
        got = actual[index] if index < len(actual) else None
        wrong = (want is not None and want.wrong) or (got is not None and got.wrong)
        rows.append(
            (
                wrong,
                [
                    _e(index + 1),
                    _e(want.detail) if want else ("" if expected is None else "(none)"),
                    _e(f"{got.label}  {got.detail}") if got else "(none)",
                ],
            )
        )
    table_rows = "".join(
        f'<tr class="{"wrong" if wrong else ""}">'
        + "".join(f'<td class="mono">{cell}</td>' for cell in cells)
        + "</tr>"
        for wrong, cells in rows
    )
    title = f"attempts of {record['name']}: expected beside actual"
    return (
        "<h3>Attempts</h3>"
        + timeline_svg(expected, actual, title=title)
        + '<table class="attempts"><thead><tr>'
        + "<th>#</th><th>expected</th><th>actual</th></tr></thead>"
        + f"<tbody>{table_rows}</tbody></table>"
    )


def _near_misses(record: Mapping[str, Any]) -> str:
    parts = []
    for item in record.get("near_misses") or []:
        seqs = ", ".join(f"#{seq}" for seq in item["seqs"])
        parts.append(
            f'<div class="near-miss"><h3>Not matched: {_e(seqs)} {_e(item["request"])}</h3>'
        )
        if not item["misses"]:
            parts.append(
                f'<p class="muted">No stub came close ({_e(item["stubs"])} registered).</p>'
            )
        for number, miss in enumerate(item["misses"], 1):
            fields = len({m["field"] for m in miss["mismatches"]})
            parts.append(
                f"<p>{number}. {_e(miss['label'])}: "
                f"{fields} of {_e(miss['checked'])} field(s) differ</p>"
            )
            parts.append(
                _table(
                    ["field", "expected", "actual"],
                    [
                        [
                            f'<span class="mono">{_e(m["field"])}</span>',
                            f'<span class="mono">{_e(m["expected"])}</span>',
                            f'<span class="mono actual">{_e(m["actual"])}</span>',
                        ]
                        for m in miss["mismatches"]
                    ],
                )
            )
        parts.append("</div>")
    return "".join(parts)


def _block(index: int, block: Mapping[str, Any], record: Mapping[str, Any]) -> str:
    """One block of the flow; a webhook with its headers and parameters, and the
    request its first attempt sent (folded)."""
    extra = block.get("extra") or []
    out = (
        f'<li><span class="badge skipped">{_e(block["kind"])}</span> '
        f'<span class="mono">{_e(block["text"])}</span> '
        f'<span class="where">{_e(block["where"])}</span>'
    )
    if extra:
        out += '<ul class="mono">' + "".join(f"<li>{_e(line)}</li>" for line in extra) + "</ul>"
    first = next(
        (a for a in record.get("attempts") or [] if a["block"] == index and a["request"]), None
    )
    if first is not None:
        request = first["request"]
        lines = [f"{request['method']} {request['url']}"]
        lines += [f"{name}: {value}" for name, value in request["headers"]]
        if request["body"]:
            lines += ["", request["body"]]
        out += (
            '<details class="sent"><summary>the request it sent (attempt 1)</summary>'
            f"<pre>{_e(chr(10).join(lines))}</pre></details>"
        )
    return out + "</li>"


def _scenario(record: Mapping[str, Any], anchor: str, nodeid: str) -> str:
    outcome = str(record["outcome"])
    bad = outcome in ("failed", "error", "xpassed")
    rules = ", ".join(record.get("rules") or []) or "none"
    parts = [
        f'<section class="scenario {_e(outcome)}" id="{anchor}" data-outcome="{_e(outcome)}">',
        f"<details{' open' if bad else ''}>",
        f"<summary>{_badge(outcome)} {_e(record['name'])}</summary>",
        f'<p class="where">{_e(record["where"])} · rules: {_e(rules)} · '
        f'<span class="mono">{_e(nodeid)}</span></p>',
    ]
    if record.get("problem"):
        parts.append(f"<h3>Error</h3><pre>{_e(record['problem'])}</pre>")
    if record.get("note"):
        parts.append(f'<p class="muted">{_e(record["note"])}</p>')
    if record.get("skip_reason"):
        parts.append(f'<p class="muted">{_e(record["skip_reason"])}</p>')
    for number, failure in enumerate(record.get("failures") or [], 1):
        details = "\n".join(failure["details"])
        parts.append(
            f'<div class="failure"><h3>{number}) {_e(failure["field"])}: '
            f"{_e(failure['message'])}</h3>"
            + (f"<pre>{_e(details)}</pre>" if details.strip() else "")
            + "</div>"
        )
    flow = record.get("flow") or []
    if flow:
        items = "".join(_block(index, block, record) for index, block in enumerate(flow))
        state = record.get("state")
        tail = f" — the flow ended {_e(state)}" if state else ""
        error = record.get("last_error")
        tail += f"; last error: {_e(error)}" if error else ""
        parts.append(f'<h3>Flow</h3><ol class="flow">{items}</ol><p class="muted">{tail}</p>')
    parts.append(_timeline(record))
    requests = record.get("requests")
    if requests is not None:
        rows = [
            [
                _e(f"#{r['seq']}"),
                _e("+" + format_duration(timedelta(seconds=r["offset"]))),
                f'<span class="mono">{_e(r["method"])} {_e(r["url"])}</span>'
                + (f"<pre>{_e(r['body'])}</pre>" if r["body"] else ""),
                _e(r["status"] if r["status"] is not None else "no answer"),
                _e(r["stub"] or "no stub matched")
                + (f" (fault {_e(r['fault'])})" if r["fault"] else ""),
            ]
            for r in requests
        ]
        parts.append(f"<h3>Requests the mock server received ({len(requests)})</h3>")
        parts.append(
            _table(["#", "at", "request", "status", "answered by"], rows, cls="requests")
            if rows
            else '<p class="muted">(none)</p>'
        )
    parts.append(_near_misses(record))
    parts.append("</details></section>")
    return "".join(parts)


def render_report(
    records: Mapping[str, Mapping[str, Any]],
    *,
    implementation: str,
    selected: Collection[str] = (),
    generated: datetime | None = None,
) -> str:
    """The whole page. ``records`` maps node ids to :func:`scenario_record` data with an
    ``outcome`` (passed, failed, skipped, xfailed, xpassed, error)."""
    when = (generated or datetime.now(timezone.utc)).strftime("%Y-%m-%d %H:%M:%S UTC")
    anchors = {nodeid: f"s{number}" for number, nodeid in enumerate(records, 1)}
    counts: dict[str, int] = {}
    for record in records.values():
        counts[str(record["outcome"])] = counts.get(str(record["outcome"]), 0) + 1
    totals = ", ".join(f"{count} {outcome}" for outcome, count in sorted(counts.items())) or "none"
    index_rows = [
        [
            _badge(str(r["outcome"])),
            f'<a href="#{anchors[nodeid]}">{_e(r["name"])}</a>',
            _e(", ".join(r.get("rules") or [])),
            _e(r["where"]),
        ]
        for nodeid, r in records.items()
    ]
    body = [
        "<h1>Scenario report</h1>",
        f'<p>implementation: <span class="mono">{_e(implementation)}</span> · '
        f"generated {_e(when)} · "
        f"scenarios: {_e(totals)}</p>",
        _matrix(records, anchors, selected),
        "<h2>Scenarios</h2>",
        _table(["outcome", "scenario", "rules", "file"], index_rows, cls="index"),
        *(_scenario(record, anchors[nodeid], nodeid) for nodeid, record in records.items()),
    ]
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; '
        "style-src 'unsafe-inline'; img-src data:\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Scenario report: {_e(totals)}</title><style>{_STYLE}</style></head><body>"
        + "".join(body)
        + "</body></html>\n"
    )
