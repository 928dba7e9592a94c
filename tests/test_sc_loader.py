"""Loading scenario files: line numbers, defaults, parameters, and every problem at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios import (
    ScenarioFileError,
    load_scenario_file,
    load_scenario_text,
    run,
    scenario_from_dict,
)

MULTI = """\
defaults:
  subscriber: {first_name: Anna}
  mock:
    stubs: [{request: {path: /a}}]
---
name: first
flow:
  - webhook: {url: "{mock.url}/a", method: GET}
---
name: second
subscriber: {last_name: Lee}
flow:
  - message: hi
"""

ONE_DOCUMENT = """\
defaults:
  subscriber: {first_name: Anna}
scenarios:
  - name: first
    flow:
      - message: hi
  - name: second
    parametrize: {method: [GET, POST]}
    flow:
      - webhook: {url: "{mock.url}/a", method: "${method}"}
"""


def test_documents_with_defaults() -> None:
    first, second = load_scenario_text(MULTI, "multi.scenario.yaml")
    assert (first.id, second.id) == ("first", "second")
    assert first.scenario.subscriber.first_name == "Anna"
    assert second.scenario.subscriber.first_name == "Anna"
    assert second.scenario.subscriber.last_name == "Lee"
    assert len(second.scenario.mock.stubs) == 1
    assert first.line_of("name") == 6
    assert second.where("flow", 0) == "multi.scenario.yaml:13"


def test_one_document_form_and_parameters() -> None:
    loaded = load_scenario_text(ONE_DOCUMENT, "one.scenario.yaml")
    assert [item.id for item in loaded] == ["first", "second[GET]", "second[POST]"]
    assert [item.params for item in loaded[1:]] == [{"method": "GET"}, {"method": "POST"}]
    assert loaded[2].scenario.flow[0].webhook is not None
    assert loaded[2].scenario.flow[0].webhook.method == "POST"
    assert loaded[2].line_of("flow", 0) == 10
    assert loaded[0].scenario.subscriber.first_name == "Anna"


def test_parameter_cases_keep_types() -> None:
    (loaded,) = scenario_from_dict(
        {
            "name": "typed",
            "parametrize": [{"status": 503}],
            "flow": [{"message": "status ${status}"}],
            "mock": {"stubs": [{"request": {"path": "/x"}, "response": {"status": "${status}"}}]},
        }
    )
    assert loaded.scenario.mock.stubs[0].answers[0].status == 503
    assert loaded.scenario.flow[0].message == "status 503"
    assert loaded.id == "typed[503]"


BROKEN = """\
scenarios:
  - name: one
    flow:
      - webhook:
          url: "{mock.url}/a"
          method: HEAD
          params:
            - a: 1
              b: 2
      - message: hi
        set: {name: x, value: y}
    expect:
      attempts: [0s, 5x]
      state: done
      requests:
        - {method: [GET]}
  - name: two
    flow: []
    mock:
      stubs:
        - request: {path: nope}
  - name: one
    flow: [{message: "${nope}"}]
  - name: three
    flow: [{message: x}]
    bogus: 1
    marks: [smoke, "skip(reason='x')"]
"""


def test_every_problem_with_line_field_and_expectation(tmp_path: Path) -> None:
    path = tmp_path / "broken.scenario.yaml"
    path.write_text(BROKEN)
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_file(path)
    got = [str(problem).replace(str(path), "F") for problem in caught.value.problems]
    assert got == [
        "F:6: scenarios[0].flow[0].webhook.method: one of GET, POST, JSON POST, PUT, PATCH, "
        "DELETE; got 'HEAD'",
        "F:8: scenarios[0].flow[0].webhook.params[0]: a pair written as '- Name: value' or "
        "[Name, value]; got {'a': 1, 'b': 2}",
        "F:10: scenarios[0].flow[1]: a block is exactly one of webhook, message, set; "
        "got message, set",
        "F:13: scenarios[0].expect.attempts[1].at: a duration like 0s, 5s, 1m35s, 2h31m35s or "
        "250ms; got '5x'",
        "F:14: scenarios[0].expect.state: one of 'finished', 'paused' or 'waiting'; got 'done'",
        "F:16: scenarios[0].expect.requests[0].method: text; got ['GET']",
        "F:18: scenarios[1].flow: a list of at least 1 item; got []",
        "F:21: scenarios[1].mock.stubs[0].request.path: a path starting with '/'; got 'nope'",
        "F:23: scenarios[2].flow[0].message: unknown parameter ${nope}; parameters are: none "
        "(add parametrize:)",
        "F:26: scenarios[3].bogus: unknown field (check the spelling, or see the schema)",
        "F:27: scenarios[3].marks: a mark name like smoke, or one {name: argument} like "
        "{xfail: reason}; got \"skip(reason='x')\" at marks[1]",
    ]
    assert str(caught.value).startswith(f"11 problem(s) in {path}:")


def test_duplicate_names_are_reported() -> None:
    text = "scenarios:\n  - {name: a, flow: [{message: x}]}\n  - {name: a, flow: [{message: y}]}\n"
    with pytest.raises(ScenarioFileError, match="the name 'a' is already used at line 2"):
        load_scenario_text(text, "dup.scenario.yaml")


@pytest.mark.parametrize(
    "grid",
    ["5", "{m: []}", "{m: x}", "[{m: a}, 3]", "[]", "{}"],
)
def test_a_parametrize_of_neither_shape_gets_one_clear_message(grid: str) -> None:
    text = f"name: p\nparametrize: {grid}\nflow: [{{message: x}}]\n"
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(text, "p.scenario.yaml")
    (problem,) = caught.value.problems
    assert str(problem).startswith(
        "p.scenario.yaml:2: parametrize: {name: [values]} (every combination; each list not "
        "empty) or a list of {name: value} cases; got "
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("86400000000000", "a duration of at most 365 days"),
        ("999999999h", "a duration of at most 365 days"),
        # Not numbers in a file (YAML 1.1's .nan and .inf are text here): not a duration.
        (".nan", "a duration like 0s, 5s.*; got '.nan'"),
        (".inf", "a duration like 0s, 5s.*; got '.inf'"),
    ],
)
def test_a_duration_past_any_schedule_is_a_problem(value: str, expected: str) -> None:
    text = f"name: t\nflow: [{{message: x}}]\nexpect: {{attempts: [{value}]}}\n"
    with pytest.raises(ScenarioFileError, match=expected):
        load_scenario_text(text, "t.yaml")


def test_a_time_limit_must_be_above_zero() -> None:
    with pytest.raises(ScenarioFileError, match=r"t.yaml:2: time_limit: a time limit above 0, "):
        load_scenario_text("name: t\ntime_limit: 0s\nflow: [{message: x}]\n", "t.yaml")


def test_an_unknown_time_zone_is_a_problem_of_the_file() -> None:
    text = "name: t\ntimezone: Mars/Olympus\nflow: [{message: '{date}'}]\n"
    with pytest.raises(ScenarioFileError, match=r"t.yaml:2: timezone: an IANA time zone like "):
        load_scenario_text(text, "t.yaml")


def test_parameter_values_that_repeat_make_cases_that_repeat() -> None:
    # It was "the name 'u[x]' is already used"; the value given twice is named now.
    text = "name: u\nparametrize: {m: [x, x]}\nflow: [{message: '${m}'}]\n"
    match = r"u.scenario.yaml:2: parametrize.m\[1\]: the value 'x' is given twice in this list"
    with pytest.raises(ScenarioFileError, match=match):
        load_scenario_text(text, "u.scenario.yaml")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("name: x\nflow: [\n", "YAML syntax", id="syntax"),
        pytest.param("", "holds no scenarios", id="empty"),
        pytest.param("- 1\n", "a scenario is a mapping", id="list"),
        pytest.param("scenarios: 5\n", "expected a list of scenarios", id="scenarios-not-list"),
        pytest.param("name: x\nname: y\nflow: [{message: m}]\n", "given twice", id="dup-key"),
        pytest.param("defaults: 3\n", "defaults", id="defaults-not-mapping"),
        pytest.param("scenarios: []\nextra: 1\n", "unknown key beside scenarios", id="extra"),
        pytest.param(
            "name: x\nflow: [{message: m}]\nvariables: {a: &a [1, *a]}\n",
            r"x.scenario.yaml:3: variables.a\[1\]: an alias here refers to a mapping or list "
            "that contains it",
            id="self-reference",
        ),
        pytest.param(
            "name: x\nflow: [{message: m}]\nvariables:\n  a: &a [x, x, x, x, x, x, x, x, x, x]\n"
            + "".join(
                f"  l{i}: &l{i} [{', '.join([f'*{prev}'] * 10)}]\n"
                for i, prev in enumerate(["a", "l1", "l2", "l3", "l4", "l5", "l6"], 1)
            ),
            "more than 1000000 values once aliases",
            id="billion-laughs",
        ),
        pytest.param(
            "name: x\nflow:\n\t- message: m\n",
            r"x.scenario.yaml:3: YAML syntax: .* \(a tab on that line\? YAML indents with spaces\)",
            id="tab",
        ),
    ],
)
def test_broken_files(text: str, message: str) -> None:
    with pytest.raises(ScenarioFileError, match=message):
        load_scenario_text(text, "x.scenario.yaml")


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ScenarioFileError, match="cannot read"):
        load_scenario_file(tmp_path / "missing.scenario.yaml")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param(
            "variables: {date: x, 'bad name': 1, ignore: 2}",
            r"t.yaml:2: variables: a variable name of letters, digits and '_' "
            r"\(no dots or spaces\); got 'bad name'; and a name other than 'ignore'",
            id="variable-names",
        ),
        pytest.param(
            "expect: {variables: {'': 1, 'a..b': 2, ok: 3}}",
            r"t.yaml:2: expect.variables: dotted paths with no empty segment, "
            r"like result.promo.code; got '', 'a..b'",
            id="expected-variable-paths",
        ),
        pytest.param(
            "mock: {crm: {bitrix24: {secret: 'a/b'}, amocrm: {subdomain: 'a b'}}}",
            r"t.yaml:2: mock.crm.bitrix24.secret: letters, digits, '_', '-' or '.' \(it is part "
            r"of the webhook URL\); got 'a/b'\n.*t.yaml:2: mock.crm.amocrm.subdomain: a host "
            r"name label",
            id="crm-names-in-urls",
        ),
        pytest.param(
            "expect: {crm: {hubspot: {}}}",
            r"t.yaml:2: expect.crm.hubspot: not a key allowed here: "
            r"'bitrix24' or 'amocrm'; got 'hubspot'",
            id="unknown-crm-key",
        ),
    ],
)
def test_names_that_cannot_work_are_problems_of_the_file(text: str, says: str) -> None:
    with pytest.raises(ScenarioFileError, match=says):
        load_scenario_text(f"name: t\n{text}\nflow: [{{message: x}}]\n", "t.yaml")


@pytest.mark.parametrize("field", ["params", "headers"])
def test_pairs_given_as_a_mapping_say_why_a_list(field: str) -> None:
    text = f"name: t\nflow:\n  - webhook: {{url: 'http://h', method: GET, {field}: {{a: 1}}}}\n"
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(text, "t.yaml")
    message = str(caught.value)
    assert f"t.yaml:3: flow[0].webhook.{field}: a list of name: value pairs" in message
    assert "order and repeated names matter (rule A3); got a mapping" in message


def test_a_variable_may_bear_a_reserved_name_and_the_reserved_value_wins() -> None:
    # Rule B8's decision: reserved variables override variables of the same name.
    text = (
        "name: t\nsubscriber: {first_name: Анна}\nvariables: {first_name: Other}\n"
        "flow: [{message: '{first_name}'}]\nexpect: {messages: [Анна]}\n"
    )
    (result,) = run(load_scenario_text(text, "t.yaml")[0])
    assert result.messages[0].text == "Анна"


def test_a_merge_key_gives_defaults_that_keys_written_beside_it_override() -> None:
    # YAML's merge key: `<<: *base` takes base's keys; a key written beside it wins.
    text = (
        "scenarios:\n"
        "  - &one\n"
        "    name: one\n"
        "    subscriber: &who {first_name: A, last_name: B}\n"
        "    flow: [{message: '{first_name} {last_name}'}]\n"
        "    expect: {messages: [A B]}\n"
        "  - <<: *one\n"
        "    name: two\n"
        "    subscriber: {<<: *who, last_name: C}\n"
        "    expect: {messages: [A C]}\n"
        "  - <<: *one\n"
        "    name: three\n"
        "    name: four\n"
    )
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(text, "m.yaml")
    # Only the key written twice beside the merge is a problem, at its own line.
    assert str(caught.value).splitlines()[1:] == [
        "  m.yaml:13: scenarios[2].name: this key is given twice in the same mapping; "
        "only one is allowed"
    ]
    one, two = load_scenario_text(text.rsplit("  - <<: *one\n", 1)[0], "m.yaml")
    assert (one.scenario.name, two.scenario.name) == ("one", "two")
    assert two.scenario.subscriber.last_name == "C"
    assert [run(loaded)[0].messages[0].text for loaded in (one, two)] == ["A B", "A C"]


def test_each_unknown_parameter_is_named_where_it_is_first_used() -> None:
    text = (
        "name: p\n"
        "parametrize: {method: [GET]}\n"
        "flow:\n"
        "  - webhook: {url: '{mock.url}/${path}', method: '${method}'}\n"
        "  - message: '${greeting} ${path}'\n"
        "variables: {'${key}': 1}\n"
    )
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(text, "p.yaml")
    assert str(caught.value).splitlines()[1:] == [
        "  p.yaml:4: flow[0].webhook.url: unknown parameter ${path}; parameters are: method",
        "  p.yaml:5: flow[1].message: unknown parameter ${greeting}; parameters are: method",
        "  p.yaml:6: variables.${key}: unknown parameter ${key}; parameters are: method",
    ]


def test_numbers_yaml_reads_in_bot_id_and_subscriber_fields_are_their_text() -> None:
    text = (
        "name: n\nbot_id: 7\nsubscriber: {user_id: 42, phone: 79001234567}\n"
        "flow: [{message: '{bot_id} {user_id} {phone}'}]\n"
    )
    (loaded,) = load_scenario_text(text, "n.yaml")
    assert (loaded.scenario.bot_id, loaded.scenario.subscriber.user_id) == ("7", "42")
    (result,) = run(loaded)
    assert result.messages[0].text == "7 42 79001234567"
