"""The conformance report: each rule of the contract and how its scenarios did."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection, Mapping
from typing import Any

__all__ = ["RULES", "conformance_data", "conformance_summary", "rule_verdicts"]

#: The rule ids of the contract (``webhook-action.md``), in order.
RULES: tuple[str, ...] = (
    *(f"A{i}" for i in range(1, 5)),
    *(f"B{i}" for i in range(1, 9)),
    *(f"C{i}" for i in range(1, 10)),
    *(f"D{i}" for i in range(1, 5)),
    *(f"E{i}" for i in range(1, 7)),
    *(f"F{i}" for i in range(1, 4)),
)

_GOOD = {"passed", "xfailed"}


_NOT_JUDGED = "not judged"
#: The version of ``--conformance-json``'s layout (``python -m scenarios.merge`` reads it).
REPORT_FORMAT = 2
#: The outcome of a scenario for another documented choice than the implementation's.
NOT_APPLICABLE = "not applicable"


def rule_verdicts(
    results: dict[str, tuple[list[str], str]],
    selected: Collection[str] = (),
    uncertain: Mapping[str, Collection[str]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Each rule of the contract: how many scenarios pinned it, how many passed, the verdict
    (``conforms``, ``DOES NOT CONFORM``, ``skipped``, ``not run``, or ``not judged``).

    ``selected`` (``--rule``): only these rules are judged. Another rule that the selected
    scenarios also pin ran only some of its scenarios, so it is ``not judged``.
    ``uncertain``: per scenario, the rules its passing cannot certify (the harness did that
    part of the work); they count as ``not judged`` there, and a failure still counts.
    """
    by_rule: dict[str, list[str]] = defaultdict(list)
    for nodeid, (rules, outcome) in results.items():
        if outcome == NOT_APPLICABLE:  # for another documented choice: judges nothing here
            continue
        unproven = set((uncertain or {}).get(nodeid, ()))
        for rule in rules:
            certified = outcome not in _GOOD or rule not in unproven
            by_rule[rule].append(outcome if certified else _NOT_JUDGED)
    verdicts: dict[str, dict[str, Any]] = {}
    for rule in RULES:
        outcomes = by_rule.get(rule, [])
        good = sum(outcome in _GOOD for outcome in outcomes)
        skipped = sum(outcome == "skipped" for outcome in outcomes)
        unjudged = sum(outcome == _NOT_JUDGED for outcome in outcomes)
        if not outcomes:
            verdict = "not run"
        elif selected and rule not in selected:
            verdict = _NOT_JUDGED
        elif good == len(outcomes):
            verdict = "conforms"
        elif good + skipped + unjudged < len(outcomes):
            verdict = "DOES NOT CONFORM"
        elif unjudged:
            verdict = _NOT_JUDGED  # the implementation cannot be asked what these scenarios ask
        else:
            verdict = "skipped"
        verdicts[rule] = {"scenarios": len(outcomes), "passed": good, "verdict": verdict}
    return verdicts


def conformance_data(
    results: dict[str, tuple[list[str], str]],
    implementation: str,
    selected: Collection[str] = (),
    capabilities: dict[str, Any] | None = None,
    uncertain: Mapping[str, Collection[str]] | None = None,
) -> dict[str, Any]:
    """The report as data (``--conformance-json``): the implementation, the outcome counts,
    each rule's verdict, and each scenario's rules and outcome."""
    verdicts = rule_verdicts(results, selected, uncertain)
    return {
        "format": REPORT_FORMAT,
        "implementation": implementation,
        "capabilities": capabilities,
        "selected": sorted(selected),
        "outcomes": dict(sorted(Counter(outcome for _, outcome in results.values()).items())),
        "conforming": sum(v["verdict"] == "conforms" for v in verdicts.values()),
        "not_run": [rule for rule, v in verdicts.items() if v["verdict"] == "not run"],
        "not_judged": [rule for rule, v in verdicts.items() if v["verdict"] == _NOT_JUDGED],
        "rules": verdicts,
        "scenarios": {
            nodeid: {
                "rules": rules,
                "outcome": outcome,
                "not_judged": sorted((uncertain or {}).get(nodeid, ())),
            }
            for nodeid, (rules, outcome) in results.items()
        },
    }


def describe_capabilities(capabilities: dict[str, Any]) -> str:
    """``renders messages and set values; over_limit: truncate`` (the report's second line)."""
    renders = (
        "renders messages and set values"
        if capabilities.get("renders", True)
        else "delivers webhooks only (renders: false)"
    )
    return f"{renders}; over_limit: {capabilities.get('over_limit', 'truncate')}"


def conformance_summary(
    results: dict[str, tuple[list[str], str]],
    implementation: str,
    selected: Collection[str] = (),
    capabilities: dict[str, Any] | None = None,
    uncertain: Mapping[str, Collection[str]] | None = None,
) -> list[str]:
    """Lines of the report: totals, then one line per rule: scenarios, passed, verdict.

    A run of the whole suite lists every rule. A partial run (one file, ``-k``) lists
    the rules it ran, and names the others on the last line: a QA engineer running one
    file of their own should not read thirty rows of "not run". With ``--rule``
    (``selected``), the other rules its scenarios pin are named, not judged.
    """
    totals = Counter(outcome for _, outcome in results.values())
    lines = [f"implementation: {implementation}"]
    if capabilities:
        lines.append(f"capabilities: {describe_capabilities(capabilities)}")
    lines += [
        "scenarios: "
        + ", ".join(f"{count} {outcome}" for outcome, count in sorted(totals.items())),
        "",
    ]
    verdicts = rule_verdicts(results, selected, uncertain)
    outside = {rule for rule in verdicts if selected and rule not in selected}
    ran = [
        rule
        for rule, v in verdicts.items()
        if v["verdict"] != "not run" and not (rule in outside and v["verdict"] == _NOT_JUDGED)
    ]
    unjudged = [rule for rule, v in verdicts.items() if v["verdict"] == _NOT_JUDGED]
    unselected = [rule for rule in unjudged if rule in outside]
    incapable = [rule for rule in unjudged if rule not in outside]
    uncovered = [rule for rule, v in verdicts.items() if v["verdict"] == "not run"]
    if ran:
        lines.append(f"{'rule':<6}{'scenarios':>10}{'passed':>8}  verdict")
    for rule in ran:
        v = verdicts[rule]
        lines.append(f"{rule:<6}{v['scenarios']:>10}{v['passed']:>8}  {v['verdict']}")
    conforming = sum(verdicts[rule]["verdict"] == "conforms" for rule in ran)
    if not uncovered:
        verdict_line = f"{conforming} of {len(RULES)} rules conform"
    elif ran:
        verdict_line = (
            f"{conforming} of {len(RULES)} rules conform ({len(ran)} run; "
            + (f"{len(unjudged)} not judged; " if unjudged else "")
            + f"{len(uncovered)} not run: {', '.join(uncovered)})"
        )
    else:
        verdict_line = "no scenario of this run pins a rule"
    if unselected:
        lines.append(
            f"also pinned by these scenarios, not judged (only the scenarios of "
            f"{', '.join(sorted(selected))} ran): {', '.join(unselected)}"
        )
    if incapable:
        lines.append(
            "not judged: the harness did part of the work for this implementation in some "
            "of their scenarios (it renders no messages, or computes no reserved variables), "
            f"so passing them proves nothing of it: {', '.join(incapable)}"
        )
    if ran:
        lines.append("")
    lines.append(verdict_line)
    return lines
