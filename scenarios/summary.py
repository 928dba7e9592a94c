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
    """Lines of the report: totals, then one line per rule: scenarios, passed, verdict."""
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
        f"{'rule':<6}{'scenarios':>10}{'passed':>8}  verdict",
    ]
    uncovered = []
    for rule in RULES:
        outcomes = by_rule.get(rule, [])
        if not outcomes:
            uncovered.append(rule)
            lines.append(f"{rule:<6}{0:>10}{0:>8}  not run")
            continue
        good = sum(outcome in _GOOD for outcome in outcomes)
        skipped = sum(outcome == "skipped" for outcome in outcomes)
        verdict = (
            "conforms"
            if good == len(outcomes)
            else ("skipped" if good + skipped == len(outcomes) else "DOES NOT CONFORM")
        )
        lines.append(f"{rule:<6}{len(outcomes):>10}{good:>8}  {verdict}")
    conforming = sum(
        1
        for rule in RULES
        if by_rule.get(rule) and all(outcome in _GOOD for outcome in by_rule[rule])
    )
    lines += [
        "",
        f"{conforming} of {len(RULES)} rules conform"
        + (f"; not run: {', '.join(uncovered)}" if uncovered else ""),
    ]
    return lines
