"""Files mean what they say: a text field holds the text as written, whatever YAML 1.1
would have read (``+79001234567``, ``0123``, ``1:30``, ``NO``), in scenario and stub files;
number and boolean fields keep their types. See docs/scenarios.md, "How YAML values are read"."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest
import yaml
from hypothesis import assume, given
from hypothesis import strategies as st

from mockserver import StubError
from mockserver.files import load_stub_file
from mockserver.yamlfile import load_documents
from scenarios import ScenarioFileError, load_scenario_text, run
from tests.strategies import json_value

#: Plain scalars YAML 1.1 would turn into something else, and what they are: the text.
CHANGED_BY_YAML_11 = [
    "+79001234567",  # int 79001234567
    "0123",  # octal: 83
    "1:30",  # sexagesimal: 90
    "190:20:30",
    "NO",  # false
    "yes",
    "on",
    "Off",
    "True",
    "0x1F",  # 31
    "0o17",
    "0b101",
    "1_000",  # 1000
    "+1.5",
    ".5",
    "1.",
    "1e3",
    ".inf",
    "-.inf",
    ".NaN",
    "2026-01-01",  # a date
    "2026-01-01T10:00:00Z",
    "=",
    "<<",
    "-0",
    "007",
]
#: Plain scalars whose value, written back, is the same text.
KEPT_AS_VALUES = ["0", "42", "-7", "1.5", "1.50", "-0.25", "2.5e+3", "true", "false"]


def scenario_text(value: str) -> str:
    return f"""\
name: as written
subscriber:
  phone: {value}
  first_name: {value}
bot_id: {value}
flow:
  - webhook:
      url: "{{mock.url}}/hook"
      method: GET
      headers:
        - X-Value: {value}
      params:
        - value: {value}
  - set:
      name: s
      value: {value}
  - message: {value}
"""


@pytest.mark.parametrize("value", CHANGED_BY_YAML_11 + KEPT_AS_VALUES)
def test_text_fields_of_a_scenario_hold_the_text_as_written(value: str) -> None:
    (loaded,) = load_scenario_text(scenario_text(value), "t.scenario.yaml")
    scenario = loaded.scenario
    assert scenario.subscriber.phone == value
    assert scenario.subscriber.first_name == value
    assert scenario.bot_id == value
    webhook = scenario.flow[0].webhook
    assert webhook is not None
    assert webhook.headers == [("X-Value", value)]
    assert webhook.params == [("value", value)]
    assert scenario.flow[1].set is not None
    assert scenario.flow[1].set.value == value
    assert scenario.flow[2].message == value


@pytest.mark.parametrize("value", CHANGED_BY_YAML_11)
def test_json_values_keep_what_yaml_11_would_change_as_text(value: str) -> None:
    text = f"name: n\nflow: [{{message: m}}]\nvariables: {{v: {value}, list: [{value}]}}\n"
    (loaded,) = load_scenario_text(text, "t.scenario.yaml")
    assert loaded.scenario.variables == {"v": value, "list": [value]}


def test_json_values_keep_numbers_booleans_and_null() -> None:
    text = "name: n\nflow: [{message: m}]\nvariables: {a: 5, b: 1.50, c: true, d: null, e: ~}\n"
    (loaded,) = load_scenario_text(text, "t.scenario.yaml")
    assert loaded.scenario.variables == {"a": 5, "b": 1.5, "c": True, "d": None, "e": None}
    assert type(loaded.scenario.variables["b"]) is float


def test_number_and_boolean_fields_keep_their_types() -> None:
    text = """\
name: typed
flow: [{webhook: {url: "{mock.url}/x", method: post}}]
time_limit: 2.5
mock:
  strict: no
  stubs:
    - priority: 1
      optional: yes
      request: {path: /x}
      response: {status: 201, delay_ms: 0}
expect:
  attempts: [0, 5, {at: 35, status: 201, ok: true}]
  requests: [{path: /x, count: 1}]
"""
    (loaded,) = load_scenario_text(text, "t.scenario.yaml")
    scenario = loaded.scenario
    assert scenario.mock.strict is False
    stub = scenario.mock.stubs[0]
    assert (stub.priority, stub.optional, stub.answers[0].status) == (1, True, 201)
    assert scenario.time_limit.total_seconds() == 2.5
    assert scenario.expect.attempts is not None
    assert [a.at.total_seconds() for a in scenario.expect.attempts] == [0, 5, 35]
    assert scenario.expect.attempts[2].status == 201
    assert scenario.expect.requests is not None
    assert scenario.expect.requests[0].count == 1


@pytest.mark.parametrize(
    ("written", "where", "line"),
    [
        ("subscriber: {phone: ~}", "subscriber.phone", 3),
        ("subscriber: {phone: null}", "subscriber.phone", 3),
        ("subscriber:\n  phone:", "subscriber.phone", 4),
        ("bot_id: ~", "bot_id", 3),
    ],
)
def test_null_in_a_text_field_is_a_problem_that_says_to_quote(
    written: str, where: str, line: int
) -> None:
    text = f"name: n\nflow: [{{message: m}}]\n{written}\n"
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(text, "t.scenario.yaml")
    (problem,) = caught.value.problems
    assert problem.where == f"t.scenario.yaml:{line}"
    assert problem.field == where
    assert problem.message.endswith("; got null")
    assert "write '' for empty text, or quote the word ('null')" in problem.message


def test_null_in_a_pair_value_is_a_problem_at_its_line() -> None:
    text = (
        "name: n\nflow:\n  - webhook:\n      url: u\n      method: GET\n"
        "      params:\n        - q: ~\n"
    )
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(text, "t.scenario.yaml")
    (problem,) = caught.value.problems
    assert problem.where == "t.scenario.yaml:7"
    assert problem.message.endswith("; got null")
    assert "quote" in problem.message


def test_an_unquoted_template_in_a_text_field_says_to_quote_it() -> None:
    text = "name: n\nflow:\n  - webhook:\n      url: {mock.url}\n      method: GET\n"
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(text, "t.scenario.yaml")
    (problem,) = caught.value.problems
    assert problem.where == "t.scenario.yaml:4"
    assert problem.field == "flow[0].webhook.url"
    assert "quote it ('{mock.url}...')" in problem.message


def test_parameters_are_substituted_as_written() -> None:
    text = """\
name: p
parametrize: {code: [0123, 1.50, +7]}
flow: [{message: "code ${code}"}, {set: {name: c, value: "${code}"}}]
"""
    loaded = load_scenario_text(text, "t.scenario.yaml")
    assert [item.id for item in loaded] == ["p[0123]", "p[1.50]", "p[+7]"]
    assert [item.scenario.flow[0].message for item in loaded] == [
        "code 0123",
        "code 1.50",
        "code +7",
    ]
    assert [item.scenario.flow[1].set.value for item in loaded if item.scenario.flow[1].set] == [
        "0123",
        "1.50",
        "+7",
    ]


STUBS = """\
stubs:
  - id: 0123
    request:
      method: GET
      path: /hook
      query: {phone: +79001234567, zip: 0123, t: 1:30, answer: NO, price: 1.50, n: 5}
      headers: {X-Flag: yes}
    response:
      status: 201
      headers: {X-Count: 5, X-Price: 1.50, X-Answer: NO}
      json: {zip: 0123, n: 5, price: 1.50, ok: true, nothing: null}
"""


def check_stub(path: Path) -> None:
    (stub,) = load_stub_file(path)
    assert stub.id == "0123"
    query = {name: matcher.equal for name, matcher in stub.request.query.items()}
    assert query == {
        "phone": "+79001234567",
        "zip": "0123",
        "t": "1:30",
        "answer": "NO",
        "price": "1.50",
        "n": "5",
    }
    assert stub.request.headers["X-Flag"].equal == "yes"
    (answer,) = stub.answers
    assert answer.status == 201
    assert answer.headers == {"X-Count": "5", "X-Price": "1.50", "X-Answer": "NO"}
    assert answer.json_ == {"zip": "0123", "n": 5, "price": 1.5, "ok": True, "nothing": None}


def test_text_fields_of_a_yaml_stub_file_hold_the_text_as_written(tmp_path: Path) -> None:
    path = tmp_path / "stubs.yaml"
    path.write_text(STUBS, encoding="utf-8")
    check_stub(path)


def test_a_json_stub_file_reads_the_same(tmp_path: Path) -> None:
    path = tmp_path / "stubs.json"
    data = {
        "stubs": [
            {
                "id": "0123",
                "request": {
                    "method": "GET",
                    "path": "/hook",
                    "query": {
                        "phone": "+79001234567",
                        "zip": "0123",
                        "t": "1:30",
                        "answer": "NO",
                        "price": 1.50,
                        "n": 5,
                    },
                    "headers": {"X-Flag": "yes"},
                },
                "response": {
                    "status": 201,
                    "headers": {"X-Count": 5, "X-Price": 1.50, "X-Answer": "NO"},
                    "json": {"zip": "0123", "n": 5, "price": 1.5, "ok": True, "nothing": None},
                },
            }
        ]
    }
    # 1.50 as written: json.dumps would write 1.5
    path.write_text(json.dumps(data).replace("1.5,", "1.50,", 2), encoding="utf-8")
    assert path.read_text(encoding="utf-8").count("1.50") == 2
    check_stub(path)


def test_a_json_integer_too_long_to_be_a_number_is_a_problem_not_a_traceback(
    tmp_path: Path,
) -> None:
    path = tmp_path / "stubs.json"
    path.write_text('{"response": {"status": ' + "9" * 5000 + "}}", encoding="utf-8")
    with pytest.raises(StubError) as caught:
        load_stub_file(path)
    (problem,) = caught.value.problems
    assert problem.field == "response.status"


def test_a_phone_number_reaches_the_far_side_as_written(tmp_path: Path) -> None:
    """The whole way: an unquoted +79001234567 in params, sent by the reference sender to a
    real mock server, matched by an unquoted stub matcher, checked against a quoted one."""
    path = tmp_path / "phone.scenario.yaml"
    path.write_text(
        """\
name: phone as written
subscriber: {phone: +79001234567}
flow:
  - webhook:
      url: "{mock.url}/hook"
      method: GET
      headers:
        - X-Zip: 0123
      params:
        - phone: +79001234567
        - from_subscriber: "{phone}"
        - t: 1:30
        - answer: NO
        - price: 1.50
mock:
  stubs:
    - request:
        path: /hook
        query: {phone: +79001234567, t: 1:30, answer: NO, price: 1.50}
        headers: {X-Zip: 0123}
      response: {json: {ok: true}}
expect:
  requests:
    - path: /hook
      query:
        phone: "+79001234567"
        from_subscriber: "+79001234567"
        t: "1:30"
        answer: "NO"
        price: "1.50"
      headers: {X-Zip: "0123"}
""",
        encoding="utf-8",
    )
    (result,) = run(path)
    (request,) = result.requests
    assert dict(parse_qsl(request.query_string)) == {
        "phone": "+79001234567",
        "from_subscriber": "+79001234567",
        "t": "1:30",
        "answer": "NO",
        "price": "1.50",
    }
    assert request.headers["x-zip"] == "0123"


# -- the property: whatever plain scalar a text field holds, it is the text as written ------

_SCALAR_ALPHABET = "0123456789+-.:_eExXoObB~yYnNtTrRuUfFaAlLsSiI =<"


def plain_scalar(text: str) -> bool:
    """``text`` is read back by YAML as one plain scalar with exactly that text."""
    try:
        node = yaml.compose(f"k: {text}\n", Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return False
    if not isinstance(node, yaml.MappingNode) or len(node.value) != 1:
        return False
    value = node.value[0][1]
    return isinstance(value, yaml.ScalarNode) and value.style is None and value.value == text


plain_scalars = (
    st.text(alphabet=_SCALAR_ALPHABET, min_size=1, max_size=14)
    | st.from_regex(r"[-+]?[0-9_]{1,6}([.:][0-9_]{0,4})?([eE][-+]?[0-9]{1,3})?", fullmatch=True)
    | st.sampled_from(CHANGED_BY_YAML_11 + KEPT_AS_VALUES)
).filter(plain_scalar)

_NULLS = {"~", "null", "Null", "NULL"}


@given(value=plain_scalars)
def test_any_plain_scalar_in_a_text_field_is_the_text_as_written(value: str) -> None:
    assume(value.strip() == value)
    text = scenario_text(value)
    if value in _NULLS:
        with pytest.raises(ScenarioFileError, match="got null"):
            load_scenario_text(text, "t.scenario.yaml")
        return
    (loaded,) = load_scenario_text(text, "t.scenario.yaml")
    scenario = loaded.scenario
    webhook = scenario.flow[0].webhook
    assert webhook is not None
    assert scenario.subscriber.phone == value
    assert webhook.params == [("value", value)]
    assert webhook.headers == [("X-Value", value)]
    assert scenario.flow[2].message == value


@given(value=plain_scalars)
def test_any_plain_scalar_read_as_a_value_writes_back_as_the_same_text(value: str) -> None:
    """The rule itself: a plain scalar is a number, boolean or null only when that value,
    written back as JSON, is the text of the file (a float keeps its own text)."""
    ((document,), _) = load_documents(f"k: {value}\n", "f.yaml")
    read = document.data["k"]
    if isinstance(read, str):
        assert read == value
    elif read is None:
        assert value in _NULLS
    elif isinstance(read, float):
        assert json.loads(value) == read
        assert getattr(read, "text", None) == value
    else:
        assert json.dumps(read) == value


@given(value=plain_scalars)
def test_any_plain_scalar_in_a_stub_matcher_is_the_text_as_written(
    tmp_path_factory: pytest.TempPathFactory, value: str
) -> None:
    assume(value.strip() == value and value not in _NULLS)
    path = tmp_path_factory.mktemp("stubs") / "s.yaml"
    path.write_text(
        f"request:\n  query:\n    q: {value}\nresponse:\n  headers:\n    X-V: {value}\n",
        encoding="utf-8",
    )
    (stub,) = load_stub_file(path)
    assert stub.request.query["q"].equal == value
    assert stub.answers[0].headers["X-V"] == value


def test_expected_messages_and_errors_are_text_as_written() -> None:
    text = """\
name: messages
flow: [{message: "1.50"}, {message: "007"}, {message: "NO"}]
expect:
  messages: [1.50, 007, {equal: NO}]
"""
    (loaded,) = load_scenario_text(text, "t.scenario.yaml")
    expect = loaded.scenario.expect
    assert expect.messages is not None
    assert [matcher.equal for matcher in expect.messages] == ["1.50", "007", "NO"]
    (result,) = run(loaded)
    assert [message.text for message in result.messages] == ["1.50", "007", "NO"]


def test_fake_crm_faults_keep_their_text_as_written() -> None:
    text = """\
name: faults
flow: [{message: m}]
mock:
  crm:
    bitrix24:
      faults: [{method: crm.lead.add, code: 0123, message: NO}]
"""
    (loaded,) = load_scenario_text(text, "t.scenario.yaml")
    bitrix24 = loaded.scenario.mock.crm.bitrix24
    assert bitrix24 is not None
    (fault,) = bitrix24.faults
    assert (fault.code, fault.message) == ("0123", "NO")


@given(value=json_value)
def test_a_file_written_by_pyyaml_reads_back_the_same(value: Any) -> None:
    """What a YAML 1.1 writer (PyYAML's safe_dump) writes keeps its meaning: it quotes the
    text YAML 1.1 would read otherwise, and every number it writes is one here."""
    text = yaml.safe_dump({"name": "n", "flow": [{"message": "m"}], "variables": {"v": value}})
    (loaded,) = load_scenario_text(text, "t.scenario.yaml")
    assert loaded.scenario.variables == {"v": value}


@pytest.mark.parametrize(
    ("written", "value"),
    [("!!float 1", 1.0), ("!!str 5", "5"), ('!!int "12"', 12), ("!!null x", None)],
)
def test_an_explicit_tag_is_obeyed(written: str, value: Any) -> None:
    ((document,), problems) = load_documents(f"v: {written}\n", "f.yaml")
    assert problems == []
    assert document.data == {"v": value}
    assert type(document.data["v"]) is type(value)


@pytest.mark.parametrize("written", ["!!float x", "!!int x", '!!int "12ab"'])
def test_an_explicit_tag_the_value_cannot_be_is_a_problem_at_its_line(written: str) -> None:
    _, problems = load_documents(f"a: 1\nv: {written}\n", "f.yaml")
    (problem,) = problems
    assert problem.where == "f.yaml:2"
    assert problem.field == "v"
    assert "cannot read" in problem.message
    assert "remove the tag, or quote the value for text" in problem.message


def test_a_parameter_in_a_key_is_put_as_written() -> None:
    text = """\
name: k
parametrize: {code: [1.50, 0123]}
flow: [{message: m}]
mock:
  stubs: [{response: {json: {"${code}": x}}}]
"""
    loaded = load_scenario_text(text, "t.scenario.yaml")
    bodies = [item.scenario.mock.stubs[0].answers[0].json_ for item in loaded]
    assert bodies == [{"1.50": "x"}, {"0123": "x"}]


@pytest.mark.parametrize("written", ["count: true", "at_least: false"])
def test_a_boolean_in_a_count_is_a_problem_not_one(written: str) -> None:
    text = (
        f"name: n\nflow: [{{message: m}}]\nexpect:\n  requests:\n    - path: /x\n      {written}\n"
    )
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(text, "t.scenario.yaml")
    (problem,) = caught.value.problems
    assert problem.where == "t.scenario.yaml:6"
    assert problem.message.startswith("a whole number; got ")
