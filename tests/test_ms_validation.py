"""Error texts: an unknown field names the closest known field at its place."""

from __future__ import annotations

from typing import Any

import pytest

from mockserver.models import Stub
from mockserver.validation import fields_at, shown_loc, suggest_field
from scenarios.model import Scenario

# A schema of the shapes pydantic writes: references, unions, maps and a model that
# contains itself.
SCHEMA: dict[str, Any] = {
    "$defs": {
        "Node": {
            "type": "object",
            "properties": {"label": {"type": "string"}, "children": {"$ref": "#/$defs/Kids"}},
        },
        "Kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}},
        "Text": {"type": "object", "properties": {"text": {"type": "string"}}},
        "Json": {"type": "object", "properties": {"json": {}, "status": {"type": "integer"}}},
    },
    "type": "object",
    "properties": {
        "tree": {"$ref": "#/$defs/Node"},
        "answer": {"anyOf": [{"$ref": "#/$defs/Text"}, {"$ref": "#/$defs/Json"}, {"type": "null"}]},
        "by_name": {"type": "object", "additionalProperties": {"$ref": "#/$defs/Text"}},
    },
}


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("tre",), "tree"),
        (("tree", "children", 3, "children", 0, "lable"), "label"),  # through the self-reference
        (("answer", "stauts"), "status"),  # any branch of a union
        (("answer", "Json", "jsn"), "json"),  # pydantic's name of the member is passed over
        (("by_name", "anyone", "txt"), "text"),  # the values of a map
        (("tree", "qqqqq"), None),  # nothing close
        (("tree", 0), None),  # not a key
        ((), None),
    ],
)
def test_suggestions_follow_the_schema(loc: tuple[str | int, ...], expected: str | None) -> None:
    assert suggest_field(SCHEMA, loc) == expected


def test_a_suggestion_is_a_field_of_that_place_not_of_another() -> None:
    schema = Scenario.model_json_schema()
    # "path" is a field of a stub's request, not of a webhook step.
    assert suggest_field(schema, ("flow", 0, "webhook", "pth")) != "path"
    assert suggest_field(schema, ("mock", "stubs", 0, "request", "pth")) == "path"
    assert suggest_field(Stub.model_json_schema(), ("respnse",)) == "response"


def test_a_value_that_should_be_a_mapping_names_the_fields_it_takes() -> None:
    from scenarios import ScenarioFileError, load_scenario_text

    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(
            "name: a\nflow: [5, {webhook: x}]\nmock: {stubs: [{response: []}]}\n", "f"
        )
    assert [str(problem) for problem in caught.value.problems] == [
        "f:2: flow[0]: a mapping with the fields webhook, message, set; got 5",
        "f:2: flow[1].webhook: a mapping with the fields url, method, headers, params, "
        "save_to; got 'x'",
        "f:3: mock.stubs[0].response: a mapping with the fields status, headers, json, text, "
        "base64, delay_ms, fault, template; got []",
    ]
    assert "instance of" not in str(caught.value)  # no Python class names


def test_fields_at_lists_a_places_fields_in_order() -> None:
    assert fields_at(SCHEMA, ("tree", "children", 0)) == ["label", "children"]
    assert fields_at(SCHEMA, ("answer",)) == ["text", "json", "status"]
    assert fields_at(SCHEMA, ("tree", "label")) == []


PATHS = [
    (("variables", "e", "list", 1, "dict", "f"), ("variables", "e", 1, "f")),
    (("variables", "list", "list", 0), ("variables", "list", 0)),
    (
        ("mock", "stubs", 0, "response", "json", "dict", "d"),
        ("mock", "stubs", 0, "response", "json", "d"),
    ),
    (("flow", 0, "webhok"), ("flow", 0, "webhok")),
    (("flow", 0, "webhook", "method"), ("flow", 0, "webhook", "method")),
]


@pytest.mark.parametrize(
    ("loc", "shown"), PATHS, ids=["json", "key-list", "json-or-null", "unknown-key", "plain"]
)
def test_paths_are_shown_as_written(
    loc: tuple[str | int, ...], shown: tuple[str | int, ...]
) -> None:
    assert shown_loc(Scenario.model_json_schema(), loc) == shown


def test_an_unquoted_date_is_the_text_as_written() -> None:
    # YAML 1.1 would read a date; files keep the text (mockserver.written).
    from scenarios import load_scenario_text

    text = "name: a\nflow: [{message: m}]\nvariables: {e: [1, {f: 2026-01-01}]}\n"
    (loaded,) = load_scenario_text(text, "f")
    assert loaded.scenario.variables == {"e": [1, {"f": "2026-01-01"}]}


def test_data_nested_too_deeply_to_check_gets_a_short_path_and_plain_words() -> None:
    from scenarios import ScenarioFileError, load_scenario_text

    depth = 300
    text = f"name: a\nflow: [{{message: m}}]\nvariables: {{a: {'[' * depth}1{']' * depth}}}\n"
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(text, "f")
    (problem,) = caught.value.problems
    assert str(problem) == (
        "f:3: variables.a[0][0][0][0][0][0]...[0][0][0][0]: "
        "nested too deeply to check (at most about 200 levels)"
    )
