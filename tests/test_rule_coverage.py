"""Every rule of docs/semantics.md is pinned by at least one test marked with it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def documented_rules() -> set[str]:
    text = (ROOT / "docs" / "semantics.md").read_text(encoding="utf-8")
    return set(re.findall(r"^\| ([A-F]\d) \|", text, flags=re.MULTILINE))


def cited_rules() -> set[str]:
    cited: set[str] = set()
    for path in (ROOT / "tests").glob("test_*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "rule"
            ):
                cited.update(
                    arg.value
                    for arg in node.args
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                )
    return cited


def test_all_rules_a1_to_f3_are_documented() -> None:
    expected = {f"A{i}" for i in range(1, 5)} | {f"B{i}" for i in range(1, 9)}
    expected |= {f"C{i}" for i in range(1, 10)} | {f"D{i}" for i in range(1, 5)}
    expected |= {f"E{i}" for i in range(1, 7)} | {f"F{i}" for i in range(1, 4)}
    assert documented_rules() == expected


def test_every_rule_is_cited_by_a_test() -> None:
    assert documented_rules() - cited_rules() == set()


def test_no_test_cites_an_unknown_rule() -> None:
    assert cited_rules() - documented_rules() == set()
