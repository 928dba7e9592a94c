"""The conformance report: each rule of the contract and how its scenarios did."""

from __future__ import annotations

from collections import Counter, defaultdict

__all__ = ["RULES", "conformance_summary"]

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


def conformance_summary(
    results: dict[str, tuple[list[str], str]], implementation: str
) -> list[str]:
    """Lines of the report: totals, then one line per rule: scenarios, passed, verdict.

    A run of the whole suite lists every rule. A partial run (one file, ``-k``) lists
    the rules it ran, and names the others on the last line: a QA engineer running one
    file of their own should not read thirty rows of "not run".
    """
    totals = Counter(outcome for _, outcome in results.values())
    by_rule: dict[str, list[str]] = defaultdict(list)
    for rules, outcome in results.values():
        for rule in rules:
            by_rule[rule].append(outcome)
    lines = [
        f"implementation: {implementation}",
        "scenarios: "
        + ", ".join(f"{count} {outcome}" for outcome, count in sorted(totals.items())),
        "",
    ]
    ran = [rule for rule in RULES if by_rule.get(rule)]
    uncovered = [rule for rule in RULES if not by_rule.get(rule)]
    if ran:
        lines.append(f"{'rule':<6}{'scenarios':>10}{'passed':>8}  verdict")
    for rule in ran:
        outcomes = by_rule[rule]
        good = sum(outcome in _GOOD for outcome in outcomes)
        skipped = sum(outcome == "skipped" for outcome in outcomes)
        verdict = (
            "conforms"
            if good == len(outcomes)
            else ("skipped" if good + skipped == len(outcomes) else "DOES NOT CONFORM")
        )
        lines.append(f"{rule:<6}{len(outcomes):>10}{good:>8}  {verdict}")
    conforming = sum(1 for rule in ran if all(outcome in _GOOD for outcome in by_rule[rule]))
    if not uncovered:
        verdict_line = f"{conforming} of {len(RULES)} rules conform"
    elif ran:
        verdict_line = (
            f"{conforming} of the {len(ran)} rules run conform; "
            f"{len(uncovered)} of {len(RULES)} not run: {', '.join(uncovered)}"
        )
    else:
        verdict_line = "no scenario of this run pins a rule"
    if ran:
        lines.append("")
    lines.append(verdict_line)
    return lines
