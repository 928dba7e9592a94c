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


def test_the_documented_full_schedule_and_error_placement_hold() -> None:
    from scenarios import run

    text = """\
name: always 503
flow:
  - webhook: {url: "{mock.url}/x", method: post}
mock:
  stubs:
    - request: {method: post, path: /x}
      response: {status: 503}
expect:
  state: paused
  error: {contains: "503"}
  attempts: [0s, 5s, 35s, 1m35s, 31m35s, 2h31m35s]
"""
    (loaded,) = load_scenario_text(text, "t.scenario.yaml")
    (result,) = run(loaded)
    offsets = [attempt.started_at - result.started_at for attempt in result.attempts]
    assert [offset.total_seconds() for offset in offsets] == [0, 5, 35, 95, 1895, 9095]
    # A bare number is seconds.
    (loaded,) = load_scenario_text(
        text.replace("[0s, 5s, 35s, 1m35s, 31m35s, 2h31m35s]", "[0, 5, 35, 95, 1895, 9095]"),
        "t.scenario.yaml",
    )
    run(loaded)


@pytest.mark.parametrize("method", ["json post", "Json Post", "JSON_POST"])
def test_methods_are_read_in_any_case(method: str) -> None:
    text = f"name: n\nflow:\n  - webhook: {{url: u, method: {method}}}\n"
    (loaded,) = load_scenario_text(text, "t.scenario.yaml")
    webhook = loaded.scenario.flow[0].webhook
    assert webhook is not None
    # Accepted in any case, and kept as written: the implementation under test reads it
    # (rule A2), not the loader.
    assert webhook.method == method


def test_parametrize_in_defaults_applies_to_the_scenarios_after_it() -> None:
    text = """\
defaults:
  parametrize: {http_method: [PUT, PATCH]}
scenarios:
  - name: every method
    flow:
      - webhook: {url: "{mock.url}/x", method: "${http_method}"}
"""
    loaded = load_scenario_text(text, "t.scenario.yaml")
    assert [item.id for item in loaded] == ["every method[PUT]", "every method[PATCH]"]


@pytest.mark.parametrize(
    ("written", "expected"),
    [("count: 010", 10), ("count: +3", 3)],
)
def test_number_fields_read_text_as_decimal(written: str, expected: int) -> None:
    text = f"name: n\nflow: [{{message: m}}]\nexpect:\n  requests: [{{path: /x, {written}}}]\n"
    (loaded,) = load_scenario_text(text, "t.scenario.yaml")
    assert loaded.scenario.expect.requests is not None
    assert loaded.scenario.expect.requests[0].count == expected


@pytest.mark.parametrize(
    ("written", "field"),
    [("response: {status: 0x1F4}", "response.status"), ("priority: 1:30", "priority")],
)
def test_a_number_yaml_11_would_read_is_a_problem_in_a_number_field(
    tmp_path: Path, written: str, field: str
) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(written + "\n", encoding="utf-8")
    with pytest.raises(StubError) as caught:
        load_stub_file(path)
    (problem,) = caught.value.problems
    assert problem.field == field
    assert "a whole number" in problem.message


def test_a_syntax_error_on_a_very_long_line_is_reported_without_a_hint() -> None:
    from mockserver.yamlfile import load_documents

    line = "r: {" + ", ".join(f"k{i}: /a/{{b}}" for i in range(20_000)) + "}\n"
    documents, problems = load_documents(line, "f.yaml")
    assert documents == []
    (problem,) = problems
    assert problem.where == "f.yaml:1"
    assert "quote" not in problem.message


@pytest.mark.parametrize(
    ("text", "field", "where_it_goes"),
    [
        (
            "flow:\n  - webhook: {url: u, method: GET, error: x}\n",
            "flow[0].webhook.error",
            "under expect:",
        ),
        ("flow: [{message: m}]\nerror: x\n", "error", "under expect:"),
        (
            "flow: [{message: m}]\nexpect: {parametrize: {a: [1]}}\n",
            "expect.parametrize",
            "beside name:",
        ),
        (
            "flow:\n  - parametrize: {a: [1]}\n    message: m\n",
            "flow[0].parametrize",
            "beside name:",
        ),
    ],
)
def test_a_key_in_the_wrong_place_says_where_it_goes(
    text: str, field: str, where_it_goes: str
) -> None:
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text("name: n\n" + text, "t.scenario.yaml")
    (problem,) = caught.value.problems
    assert problem.where == "t.scenario.yaml:3"
    assert problem.field == field
    assert problem.message.startswith("unknown field here; ")
    assert where_it_goes in problem.message


def test_the_docs_example_of_where_parametrize_goes_loads() -> None:
    import re

    docs = (Path(__file__).resolve().parent.parent / "docs" / "scenarios.md").read_text(
        encoding="utf-8"
    )
    section = docs.split("### Where things go", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    text = "\n".join(line.removeprefix("  ") for line in block.group(1).splitlines())
    loaded = load_scenario_text(text, "docs/scenarios.md")
    assert [item.id for item in loaded] == [
        f"every method[{m}]" for m in ("PUT", "PATCH", "DELETE")
    ]


@pytest.mark.parametrize(
    ("written", "tag"),
    [
        ("!!python/object/apply:os.system [echo hi]", "!!python/object/apply:os.system"),
        ("!!set {a, b}", "!!set"),
        ("!!omap [{a: 1}]", "!!omap"),
        ("!custom {a: 1}", "!custom"),
    ],
)
def test_a_tag_on_a_mapping_or_list_is_a_problem_at_its_line(
    tmp_path: Path, written: str, tag: str
) -> None:
    """A tag on a collection used to be dropped: `!!set {a, b}` read as {a: null, b: null}."""
    stubs = tmp_path / "stubs.yaml"
    stubs.write_text(f"- request: {{method: GET, path: /a}}\n  response: {written}\n")
    with pytest.raises(StubError) as caught:
        load_stub_file(stubs)
    (problem,) = caught.value.problems
    assert problem.where == f"{stubs}:2"
    assert f"the tag {tag} would change what this mapping or list is" in problem.message
    text = f"name: n\nvariables:\n  v: {written}\nflow:\n  - message: hi\n"
    with pytest.raises(ScenarioFileError) as caught_scenario:
        load_scenario_text(text, "t.scenario.yaml")
    assert any(
        p.where == "t.scenario.yaml:3" and f"the tag {tag}" in p.message
        for p in caught_scenario.value.problems
    ), caught_scenario.value.problems


def test_the_plain_tags_of_a_mapping_and_a_list_are_still_taken(tmp_path: Path) -> None:
    stubs = tmp_path / "stubs.yaml"
    stubs.write_text(
        "- !!map\n  request: !!map {method: GET, path: /a}\n  response: {status: 201}\n"
    )
    (stub,) = load_stub_file(stubs)
    assert stub.response is not None
    assert stub.response.status == 201


def test_a_stub_file_past_the_bound_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mockserver.files

    monkeypatch.setattr(mockserver.files, "MAX_STUB_FILE_BYTES", 64)
    stubs = tmp_path / "stubs.yaml"
    stubs.write_text("- request: {method: GET, path: /a}\n  response: {status: 201}\n" * 2)
    with pytest.raises(StubError) as caught:
        load_stub_file(stubs)
    (problem,) = caught.value.problems
    assert problem.where == str(stubs)
    assert problem.message.startswith("more than 64 bytes")
    stubs.write_text("- request: {method: GET, path: /a}\n  response: {status: 201}\n")
    assert len(load_stub_file(stubs)) == 1
