"""Authoring traps from the docs, each a precise problem at file:line that says what to do."""

from __future__ import annotations

from pathlib import Path

import pytest

from mockserver import StubError
from mockserver.files import load_stub_file
from scenarios import ScenarioFileError, load_scenario_text


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        (
            "  - webhook: {method: ${http_method}, url: /x}",
            'inside { } or [ ], quote a value with { or } in it: method: "${http_method}"',
        ),
        (
            "  - webhook: {url: /crm/promo/{code}, method: GET}",
            'inside { } or [ ], quote a value with { or } in it: url: "/crm/promo/{code}"',
        ),
        (
            "  - webhook: {method: GET, url: /crm/promo/{code}}",
            'inside { } or [ ], quote a value with { or } in it: url: "/crm/promo/{code}"',
        ),
        (
            "  - webhook:\n      url: {mock.url}/promo\n      method: GET",
            "quote a value that starts with '{': url: \"{mock.url}/promo\"",
        ),
    ],
)
def test_an_unquoted_brace_in_a_value_says_to_quote_it(line: str, hint: str) -> None:
    text = f"name: n\nparametrize: {{http_method: [GET]}}\nflow:\n{line}\n"
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(text, "t.scenario.yaml")
    (problem,) = caught.value.problems
    first = 4 + ("url: {mock.url}" in line)
    assert problem.where == f"t.scenario.yaml:{first}"
    assert problem.message.startswith("YAML syntax: ")
    assert hint in problem.message


def test_a_stub_path_template_in_flow_style_says_to_quote_it(tmp_path: Path) -> None:
    path = tmp_path / "stubs.yaml"
    path.write_text(
        "stubs:\n  - request: {method: GET, path: /crm/promo/{code}}\n"
        "    response: {json: {code: A}}\n",
        encoding="utf-8",
    )
    with pytest.raises(StubError) as caught:
        load_stub_file(path)
    (problem,) = caught.value.problems
    assert problem.where == f"{path}:2"
    assert 'quote a value with { or } in it: path: "/crm/promo/{code}"' in problem.message


def test_an_unquoted_brace_in_a_flow_list_names_the_item() -> None:
    text = "name: n\nflow: [{message: m}]\nexpect:\n  missing: [a, {b}/c]\n"
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(text, "t.scenario.yaml")
    (problem,) = caught.value.problems
    assert problem.where == "t.scenario.yaml:4"
    assert 'quote a value with { or } in it: "{b}/c"' in problem.message


def test_a_flow_mapping_left_open_has_no_false_hint() -> None:
    text = "name: n\nflow: [{message: m}\n"
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(text, "t.scenario.yaml")
    (problem,) = caught.value.problems
    assert "quote" not in problem.message


def test_a_whole_template_unquoted_in_a_stub_is_a_mapping_and_says_so(tmp_path: Path) -> None:
    path = tmp_path / "stubs.yaml"
    path.write_text("request:\n  path: {code}\n", encoding="utf-8")
    with pytest.raises(StubError) as caught:
        load_stub_file(path)
    (problem,) = caught.value.problems
    assert problem.where == f"{path}:2"
    assert problem.field == "request.path"
    assert "text; got {'code': None}" in problem.message
