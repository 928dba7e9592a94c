"""What one file may build: aliases (``*name``) cannot expand a small file into gigabytes,
counted in values and in characters of text, with the problem at file:line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver import StubError
from mockserver.files import load_stub_file
from mockserver.yamlfile import MAX_EXPANSION, load_documents
from scenarios import ScenarioFileError, load_scenario_text

BIG = "x" * 100_000


def laughs(prefix: str, indent: str = "") -> str:
    """A large string repeated through three levels of ten aliases: 100 MB from 100 KB."""
    return (
        f"{indent}a: &a {BIG}\n"
        f"{indent}b: &b [{', '.join(['*a'] * 10)}]\n"
        f"{indent}c: &c [{', '.join(['*b'] * 10)}]\n"
        f"{indent}d: &d [{', '.join(['*c'] * 10)}]\n"
    )


def test_a_billion_laughs_of_a_large_string_is_refused_in_a_scenario_file() -> None:
    text = "name: x\nflow: [{message: m}]\nvariables:\n" + laughs("", "  ")
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(text, "x.scenario.yaml")
    (problem,) = caught.value.problems
    # Line 7 is `d:`, the list whose aliases go past the limit (c holds 10 MB).
    assert problem.where == "x.scenario.yaml:7"
    assert problem.field.startswith("variables.d")
    assert f"at most {MAX_EXPANSION:,} more" in problem.message
    assert "aliases (*name) expand this file past" in problem.message


def test_a_billion_laughs_of_a_large_string_is_refused_in_a_stub_file(tmp_path: Path) -> None:
    path = tmp_path / "stubs.yaml"
    path.write_text(
        "response:\n  json:\n" + laughs("", "    ") + "request: {path: /x}\n", encoding="utf-8"
    )
    with pytest.raises(StubError) as caught:
        load_stub_file(path)
    (problem,) = caught.value.problems
    assert problem.where == f"{path}:6"
    assert "characters of text" in problem.message


def test_large_keys_repeated_through_aliases_count_too() -> None:
    keys = ", ".join(f"{i:04d}{'k' * 996}: 1" for i in range(100))  # 100 KB of keys
    text = f"a: &a {{{keys}}}\nb: &b [{', '.join(['*a'] * 20)}]\nc: &c [{', '.join(['*b'] * 20)}]\n"
    documents, problems = load_documents(text, "f.yaml")
    assert documents == []
    (problem,) = problems
    assert problem.where == "f.yaml:3"


def test_a_large_string_used_a_few_times_is_fine() -> None:
    text = f"a: &a {BIG}\nb: [*a, *a, *a, *a, *a]\n"
    ((document,), problems) = load_documents(text, "f.yaml")
    assert problems == []
    assert document.data["b"] == [BIG] * 5


def test_a_large_file_without_aliases_is_not_refused() -> None:
    # What is built without aliases is never longer than the file itself.
    text = "".join(f"k{i}: {'y' * 1000}\n" for i in range(40_000))  # 40 MB
    assert len(text) > MAX_EXPANSION
    ((document,), problems) = load_documents(text, "f.yaml")
    assert problems == []
    assert len(document.data) == 40_000
