"""One verdict from the ``--conformance-json`` reports of a suite split across machines.

    python -m scenarios.merge shard-1.json shard-2.json [--output conformance.json]

Each machine runs its share (``pytest --pyargs scenarios.conformance --shard 2/4
--conformance-json shard-2.json``); this prints the rule-by-rule report of all of
them together and, with ``--output``, writes it as one report of the same layout.
Exit status: 0 when every rule that ran conforms, 1 when one does not or a
scenario failed, 2 when the reports cannot be merged (unreadable, another layout,
another implementation or ``--rule`` selection, or the same scenario in two).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from .summary import (
    NOT_APPLICABLE,
    REPORT_FORMAT,
    RULES,
    conformance_data,
    conformance_summary,
)

__all__ = ["MergeError", "main", "merge_reports"]


#: A report larger than this is refused, not read: a whole suite's report is far smaller
#: (about 150 bytes per scenario), and merging holds every report in memory at once.
MAX_REPORT_BYTES = 64 * 1024 * 1024


class MergeError(ValueError):
    """Reports that cannot be merged, and why (naming the file)."""


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:  # not by its size: /dev/zero says 0 and never ends
            raw = handle.read(MAX_REPORT_BYTES + 1)
        if len(raw) > MAX_REPORT_BYTES:
            raise MergeError(f"{path}: over the {MAX_REPORT_BYTES} bytes a report may have")
        data = json.loads(raw.decode("utf-8"))
    except MergeError:
        raise
    except OSError as exc:
        raise MergeError(f"{path}: cannot read it: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise MergeError(f"{path}: not JSON ({exc})") from None
    except RecursionError:
        raise MergeError(f"{path}: not a report (values nested too deeply to read)") from None
    if not isinstance(data, dict) or data.get("format") != REPORT_FORMAT:
        raise MergeError(
            f"{path}: not a --conformance-json report of format {REPORT_FORMAT} "
            f"(got format {data.get('format') if isinstance(data, dict) else None!r})"
        )
    _check_layout(path, data)
    return data


#: What a scenario's outcome can be in a report (pytest's, and the summary's own).
OUTCOMES = frozenset({"passed", "failed", "skipped", "xfailed", "xpassed", "error", NOT_APPLICABLE})


def _rule_ids(value: Any) -> bool:
    return isinstance(value, list) and all(rule in RULES for rule in value)


def _check_layout(path: Path, data: dict[str, Any]) -> None:
    """Every field the merge reads has the type and values a report of this format has."""
    scenarios = data.get("scenarios")
    if not isinstance(scenarios, dict) or not isinstance(data.get("implementation"), str):
        raise MergeError(f"{path}: expected 'implementation' (a text) and 'scenarios' (an object)")
    if data.get("selected") is not None and not _rule_ids(data["selected"]):
        raise MergeError(f"{path}: selected: expected a list of rule ids (A1..F3)")
    if data.get("capabilities") is not None and not isinstance(data["capabilities"], dict):
        raise MergeError(f"{path}: capabilities: expected an object or null")
    for nodeid, entry in scenarios.items():
        if not (
            isinstance(entry, dict)
            and _rule_ids(entry.get("rules"))
            and entry.get("outcome") in OUTCOMES
            and (entry.get("not_judged") is None or _rule_ids(entry["not_judged"]))
        ):
            raise MergeError(
                f"{path}: scenarios[{nodeid!r}]: expected {{rules: [rule ids], outcome: one of "
                f"{', '.join(sorted(OUTCOMES))}, not_judged: [rule ids]}}; got {entry!r:.200}"
            )


def merge_reports(paths: list[Path]) -> dict[str, Any]:
    """The merged report (the layout of ``--conformance-json``); :class:`MergeError` if the
    reports do not belong together."""
    if not paths:
        raise MergeError("give the --conformance-json reports to merge")
    reports = [(path, _read(path)) for path in paths]
    first_path, first = reports[0]
    results: dict[str, tuple[list[str], str]] = {}
    unjudged: dict[str, list[str]] = {}
    seen_in: dict[str, Path] = {}
    for path, data in reports:
        for key, what in (("implementation", "implementation"), ("selected", "--rule selection")):
            if data.get(key) != first.get(key):
                raise MergeError(
                    f"{path}: its {what} is {data.get(key)!r}, {first_path}'s is "
                    f"{first.get(key)!r}: reports of different runs cannot make one verdict"
                )
        for nodeid, entry in data["scenarios"].items():
            if nodeid in results:
                raise MergeError(
                    f"{path} and {seen_in[nodeid]} both ran {nodeid!r}: the shards overlap "
                    "(give each machine its own --shard K/N)"
                )
            results[nodeid] = (list(entry["rules"]), entry["outcome"])
            unjudged[nodeid] = [str(rule) for rule in entry.get("not_judged") or ()]
            seen_in[nodeid] = path
    return conformance_data(
        results,
        first["implementation"],
        first.get("selected") or (),
        first.get("capabilities"),
        unjudged,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m scenarios.merge",
        description="Merge the --conformance-json reports of a suite split across machines "
        "into one rule-by-rule verdict.",
    )
    parser.add_argument("reports", nargs="+", type=Path, metavar="REPORT.json")
    parser.add_argument("-o", "--output", type=Path, help="also write the merged report here")
    args = parser.parse_args(argv)
    try:
        merged = merge_reports(args.reports)
    except MergeError as exc:
        print(f"scenarios.merge: {exc}", file=sys.stderr)
        return 2
    results = {
        nodeid: (entry["rules"], entry["outcome"]) for nodeid, entry in merged["scenarios"].items()
    }
    unjudged = {nodeid: entry["not_judged"] for nodeid, entry in merged["scenarios"].items()}
    print(f"merged {len(args.reports)} report(s), {len(results)} scenario(s)")
    summary = conformance_summary(
        results, merged["implementation"], merged["selected"], merged["capabilities"], unjudged
    )
    for line in summary:
        print(line)
    if args.output is not None:
        try:
            args.output.parent.mkdir(parents=True, exist_ok=True)
            args.output.write_text(json.dumps(merged, ensure_ascii=False, indent=2) + "\n", "utf-8")
        except OSError as exc:
            print(
                f"scenarios.merge: cannot write {args.output}: {exc.strerror or exc}",
                file=sys.stderr,
            )
            return 2
    failing = any(v["verdict"] == "DOES NOT CONFORM" for v in merged["rules"].values())
    failed = any(outcome in ("failed", "error") for _, outcome in results.values())
    return 1 if failing or failed else 0


if __name__ == "__main__":
    sys.exit(main())
