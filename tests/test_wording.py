"""Problems are in our words: pydantic's own phrases ("Input should be greater than or equal
to 200", "List should have at least 1 item after validation") never reach a person, in
scenario files, stub files or the admin API; each names the field and what was expected."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from mockserver import MockServer, StubError
from mockserver.files import load_stub_file
from scenarios import ScenarioFileError, scenario_from_dict
from tests.strategies import json_value

#: Pydantic's phrasing; none may appear in a problem.
PYDANTIC = re.compile(
    r"Input should|should have at (least|most)|after validation|Value error|valid string"
    r"|valid integer|Field required|Extra inputs|unable to parse|should be a valid",
    re.IGNORECASE,
)

#: How pydantic names a union's member in an error's path (never shown).
TYPE_NAME = re.compile(r"(dict|list|str)\[|json-or-python|function-")

SCENARIO: dict[str, Any] = {
    "name": "n",
    "description": "d",
    "rules": ["A1"],
    "marks": ["smoke"],
    "clock": "2026-01-01T09:00:00Z",
    "timezone": "UTC",
    "bot_id": "b",
    "time_limit": "5s",
    "subscriber": {"user_id": "1", "phone": "+7"},
    "variables": {"a": 1},
    "flow": [
        {
            "webhook": {
                "url": "{mock.url}/x",
                "method": "POST",
                "headers": [{"X-A": "1"}],
                "params": [{"p": "1"}],
                "save_to": "r",
            }
        },
        {"message": "m"},
        {"set": {"name": "v", "value": "1"}},
    ],
    "mock": {
        "strict": True,
        "stubs": [
            {
                "id": "s",
                "priority": 1,
                "request": {"method": "POST", "path": "/x", "query": {"q": "1"}},
                "responses": [{"status": 200, "headers": {"X-B": "2"}, "delay_ms": 0}],
                "when_exhausted": "cycle",
                "state": {"scenario": "s", "set": "t"},
                "optional": False,
            }
        ],
        "crm": {
            "bitrix24": {"user_id": "1", "plan": "standard", "faults": [{"method": "crm.x"}]},
            "amocrm": {"subdomain": "ex", "duplicate_control": True},
        },
    },
    "expect": {
        "state": "finished",
        "requests": [{"path": "/x", "count": 1, "at_least": 1}],
        "requests_total": 1,
        "messages": ["m"],
        "variables": {"r.a": 1},
        "attempts": [0, {"at": "5s", "status": 200, "ok": True, "block": 0}],
        "missing": ["x"],
        "crm": {"bitrix24": {"lead": {"count": 1}}},
    },
    "parametrize": {"x": [1]},
}


def paths(value: Any, at: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [at] if at else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*at, index))
    return found


ALL_PATHS = paths(SCENARIO)

JUNK = st.one_of(
    json_value,
    st.sampled_from([-1, 0, 700, 10**30, 1.5, "", "x", [], {}, [[]], None, True, "5x"]),
)


def replaced(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(data)
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return data


def test_the_base_scenario_is_valid() -> None:
    assert scenario_from_dict(copy.deepcopy(SCENARIO))


@given(path=st.sampled_from(ALL_PATHS), value=JUNK)
def test_no_scenario_problem_speaks_pydantic(path: tuple[Any, ...], value: Any) -> None:
    try:
        scenario_from_dict(replaced(SCENARIO, path, value))
    except ScenarioFileError as exc:
        for problem in exc.problems:
            assert not PYDANTIC.search(problem.message), problem
            assert problem.message.strip()
            assert not TYPE_NAME.search(problem.field), problem


@given(path=st.sampled_from(paths(SCENARIO["mock"]["stubs"][0])), value=JUNK)
def test_no_stub_problem_speaks_pydantic(path: tuple[Any, ...], value: Any) -> None:
    stub = replaced(SCENARIO["mock"]["stubs"][0], path, value)
    try:
        MockServer().add(stub)
    except StubError as exc:
        for problem in exc.problems:
            assert not PYDANTIC.search(problem.message), problem


@pytest.mark.parametrize(
    ("text", "field", "message"),
    [
        ("response: {status: 100}", "response.status", "a number of at least 200; got 100"),
        ("response: {status: 700}", "response.status", "a number of at most 599; got 700"),
        ("responses: []", "responses", "a list of at least 1 item; got []"),
        ("priority: x", "priority", "a whole number, not text; got 'x'"),
        ("optional: maybe", "optional", "true or false, not text; got 'maybe'"),
        ("response: {delay_ms: -1}", "response.delay_ms", "a number of at least 0; got -1"),
        ("when_exhausted: never", "when_exhausted", "one of 'repeat_last', 'cycle' or 'fail'"),
        ("state: {scenario: ''}", "state.scenario", "text that is not empty; got ''"),
        ("request: {path: {code}}", "request.path", "text; got {'code': None}"),
    ],
)
def test_stub_file_problems_name_the_field_and_what_was_expected(
    tmp_path: Path, text: str, field: str, message: str
) -> None:
    path = tmp_path / "stubs.yaml"
    path.write_text(text + "\n", encoding="utf-8")
    with pytest.raises(StubError) as caught:
        load_stub_file(path)
    (problem,) = caught.value.problems
    assert problem.where == f"{path}:1"
    assert problem.field == field
    assert message in problem.message


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"flow": []}, "flow", "a list of at least 1 item; got []"),
        ({"name": ""}, "name", "text that is not empty; got ''"),
        ({"parametrize": {}}, "parametrize", "{name: [values]}"),
        ({"expect": {"requests_total": -1}}, "expect.requests_total", "a number of at least 0"),
        ({"expect": {"state": "done"}}, "expect.state", "one of 'finished', 'paused' or 'waiting'"),
        ({"clock": "soon"}, "clock", "a date and time such as 2026-01-01T09:00:00Z; got 'soon'"),
    ],
)
def test_scenario_problems_name_the_field_and_what_was_expected(
    change: dict[str, Any], field: str, message: str
) -> None:
    data = {"name": "n", "flow": [{"message": "m"}], **change}
    with pytest.raises(ScenarioFileError) as caught:
        scenario_from_dict(data)
    (problem,) = caught.value.problems
    assert problem.field == field
    assert message in problem.message
    assert not PYDANTIC.search(problem.message)


def test_a_huge_value_is_shown_cut_and_a_huge_number_stays_text() -> None:
    from scenarios import load_scenario_text

    digits = "9" * 5000
    text = f"name: n\nflow: [{{message: m}}]\nexpect: {{requests_total: {digits}}}\n"
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(text, "f.scenario.yaml")
    (problem,) = caught.value.problems
    assert problem.where == "f.scenario.yaml:3"
    assert problem.message.startswith("a whole number of at most 4000 digits, not 5,000; got '999")
    assert problem.message.endswith("999' (5,002 characters)")
    assert len(problem.message) < 300
    (loaded,) = load_scenario_text(
        f"name: n\nflow: [{{message: m}}]\nvariables: {{a: {digits}}}\n", "f.scenario.yaml"
    )
    assert loaded.scenario.variables == {"a": digits}


@pytest.mark.parametrize(
    ("name", "text"),
    [("s.yaml", "priority: ~\n"), ("s.json", '{"priority": null}')],
)
def test_null_is_shown_as_a_file_writes_it(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(StubError) as caught:
        load_stub_file(path)
    (problem,) = caught.value.problems
    assert problem.message == "a whole number; got null"


def test_null_in_a_stub_text_field_says_to_quote(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("response:\n  headers:\n    X-A: ~\n", encoding="utf-8")
    with pytest.raises(StubError) as caught:
        load_stub_file(path)
    (problem,) = caught.value.problems
    assert problem.where == f"{path}:3"
    assert problem.message.endswith("write '' for empty text, or quote the word ('null'); got null")
