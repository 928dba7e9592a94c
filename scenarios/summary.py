"""The conformance report: each rule of the contract and how its scenarios did."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
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
#: The outcome of a scenario for another documented choice than the implementation's.
NOT_APPLICABLE = "not applicable"


def rule_verdicts(
    results: dict[str, tuple[list[str], str]], selected: Collection[str] = ()
) -> dict[str, dict[str, Any]]:
    """Each rule of the contract: how many scenarios pinned it, how many passed, the verdict
    (``conforms``, ``DOES NOT CONFORM``, ``skipped``, ``not run``, or ``not judged``).

    ``selected`` (``--rule``): only these rules are judged. Another rule that the selected
    scenarios also pin ran only some of its scenarios, so it is ``not judged``.
    """
    by_rule: dict[str, list[str]] = defaultdict(list)
    for rules, outcome in results.values():
        if outcome == NOT_APPLICABLE:  # for another documented choice: judges nothing here
            continue
        for rule in rules:
            by_rule[rule].append(outcome)
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
        verdicts[rule] = {
            "scenarios": len(outcomes),
            "passed": good,
            "not_judged": unjudged,
            "verdict": verdict,
        }
    return verdicts


def conformance_data(
    results: dict[str, tuple[list[str], str]],
    implementation: str,
    selected: Collection[str] = (),
) -> dict[str, Any]:
    """The report as data (``--conformance-json``): the implementation, the outcome counts,
    each rule's verdict, and each scenario's rules and outcome."""
    verdicts = rule_verdicts(results, selected)
    return {
        "implementation": implementation,
        "outcomes": dict(sorted(Counter(outcome for _, outcome in results.values()).items())),
        "conforming": sum(v["verdict"] == "conforms" for v in verdicts.values()),
        "not_run": [rule for rule, v in verdicts.items() if v["verdict"] == "not run"],
        "not_judged": [rule for rule, v in verdicts.items() if v["verdict"] == _NOT_JUDGED],
        "rules": verdicts,
        "scenarios": {
            nodeid: {"rules": rules, "outcome": outcome}
            for nodeid, (rules, outcome) in results.items()
        },
    }


def conformance_summary(
    results: dict[str, tuple[list[str], str]],
    implementation: str,
    selected: Collection[str] = (),
) -> list[str]:
    """Lines of the report: totals, then one line per rule: scenarios, passed, verdict.

    A run of the whole suite lists every rule. A partial run (one file, ``-k``) lists
    the rules it ran, and names the others on the last line: a QA engineer running one
    file of their own should not read thirty rows of "not run". With ``--rule``
    (``selected``), the other rules its scenarios pin are named, not judged.
    """
    totals = Counter(outcome for _, outcome in results.values())
    lines = [
        f"implementation: {implementation}",
        "scenarios: "
        + ", ".join(f"{count} {outcome}" for outcome, count in sorted(totals.items())),
        "",
    ]
    verdicts = rule_verdicts(results, selected)
    shown = [rule for rule, v in verdicts.items() if v["verdict"] != "not run"]
    unjudged = [rule for rule, v in verdicts.items() if v["verdict"] == _NOT_JUDGED]
    uncovered = [rule for rule, v in verdicts.items() if v["verdict"] == "not run"]
    if shown:
        lines.append(f"{'rule':<6}{'scenarios':>10}{'passed':>8}  verdict")
    for rule in shown:
        v = verdicts[rule]
        lines.append(f"{rule:<6}{v['scenarios']:>10}{v['passed']:>8}  {v['verdict']}")
    conforming = sum(v["verdict"] == "conforms" for v in verdicts.values())
    failing = [rule for rule, v in verdicts.items() if v["verdict"] == "DOES NOT CONFORM"]
    if not shown:
        lines.append("no scenario of this run pins a rule")
        return lines
    lines.append("")
    if selected and set(unjudged) - set(selected):
        lines.append(
            f"also pinned by these scenarios, not judged (only the scenarios of "
            f"{', '.join(sorted(selected))} ran): "
            + ", ".join(rule for rule in unjudged if rule not in selected)
        )
    capability = [rule for rule in unjudged if not selected or rule in selected]
    if capability:
        lines.append(
            "not judged (scenarios the implementation declared it cannot run, such as "
            f"messages for one that only delivers webhooks): {', '.join(capability)}"
        )
    verdict_line = f"{conforming} of {len(RULES)} rules conform"
    extra = []
    if failing:
        extra.append(f"{len(failing)} do not: {', '.join(failing)}")
    if unjudged:
        extra.append(f"{len(unjudged)} not judged")
    if uncovered:
        extra.append(f"{len(uncovered)} not run: {', '.join(uncovered)}")
    if extra:
        verdict_line += f" ({'; '.join(extra)})"
    lines.append(verdict_line)
    return lines
