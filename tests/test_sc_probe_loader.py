"""Hostile scenario files: what they would make is bounded, and each mistake is named at
file:line."""

from __future__ import annotations

from pathlib import Path
from typing import get_args

import pytest

from scenarios import ScenarioFileError, load_scenario_text
from scenarios.loader import MAX_ITEMS
from scenarios.parameters import MAX_CASES


def _problems(text: str) -> list[tuple[str, str, str]]:
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(text, "x.scenario.yaml")
    return [(p.where, p.field, p.message) for p in caught.value.problems]


def _grid(anchor: str) -> str:
    """Three lists of ten: a thousand cases."""
    return f"{{a: &{anchor} [0,1,2,3,4,5,6,7,8,9], b: *{anchor}, c: *{anchor}}}"


def test_a_grid_that_multiplies_past_the_limit_is_refused_at_its_line() -> None:
    # Six aliases of one list of ten: a million combinations from a few lines.
    lists = ", ".join(f"{name}: *ten" for name in "bcdef")
    text = (
        "name: x\n"
        "flow: [{message: m}]\n"
        f"parametrize: {{a: &ten [0, 1, 2, 3, 4, 5, 6, 7, 8, 9], {lists}}}\n"
    )
    ((where, field, message),) = _problems(text)
    assert (where, field) == ("x.scenario.yaml:3", "parametrize")
    assert f"at most {MAX_CASES:,} cases" in message
    assert "10 x 10 x 10 x 10 x 10 x 10 = 1,000,000" in message


def test_a_grid_at_the_limit_is_every_case() -> None:
    text = f"name: x\nflow: [{{message: '${{a}}${{b}}${{c}}'}}]\nparametrize: {_grid('ten')}\n"
    assert len(load_scenario_text(text, "x.scenario.yaml")) == MAX_CASES


def test_a_list_of_cases_past_the_limit_is_refused() -> None:
    cases = ", ".join(["{a: 1}"] * (MAX_CASES + 1))
    text = f"name: x\nflow: [{{message: m}}]\nparametrize: [{cases}]\n"
    ((where, field, message),) = _problems(text)
    assert (where, field) == ("x.scenario.yaml:3", "parametrize")
    assert f"at most {MAX_CASES:,} cases; got {MAX_CASES + 1:,}" in message


def test_a_file_of_too_many_items_is_refused_once() -> None:
    scenarios = "".join(
        f"  - {{name: s{n}, flow: [{{message: '${{a}}${{b}}${{c}}'}}], "
        f"parametrize: {_grid(f't{n}')}}}\n"
        for n in range(MAX_ITEMS // MAX_CASES + 2)
    )
    problems = _problems("scenarios:\n" + scenarios)
    assert [field for _, field, _ in problems] == ["scenarios[10]"]
    assert f"at most {MAX_ITEMS:,} items" in problems[0][2]


@pytest.mark.parametrize(
    ("when", "field", "says"),
    [
        pytest.param("{over_limt: fail}", "when.over_limt", "unknown field", id="misspelt-key"),
        pytest.param("{over_limit: fial}", "when.over_limit", "truncate", id="unknown-choice"),
        pytest.param("{renders: maybe}", "when.renders", "", id="not-a-boolean"),
        pytest.param("[over_limit]", "when", "", id="not-a-mapping"),
    ],
)
def test_a_when_no_implementation_can_declare_is_a_problem(
    when: str, field: str, says: str
) -> None:
    # Otherwise the scenario would be 'not applicable' for every implementation, silently.
    ((where, got_field, message),) = _problems(f"name: x\nflow: [{{message: m}}]\nwhen: {when}\n")
    assert (where, got_field) == ("x.scenario.yaml:3", field)
    assert says in message


def test_a_when_names_the_choices_of_every_implementation() -> None:
    from scenarios.implementations import OVER_LIMIT_CHOICES
    from scenarios.model import When

    choice, _none = get_args(When.model_fields["over_limit"].annotation)
    assert get_args(choice) == OVER_LIMIT_CHOICES
    (loaded,) = load_scenario_text(
        "name: x\nflow: [{message: m}]\nwhen: {over_limit: fail, renders: no}\n", "x"
    )
    assert loaded.scenario.when.items() == [("over_limit", "fail"), ("renders", False)]


@pytest.mark.parametrize(
    "clock",
    [
        pytest.param("9999-12-31T23:59:59+00:00", id="no-room-for-the-schedule"),
        pytest.param("9998-12-31T23:00:00-05:00", id="past-9998-in-utc"),
        pytest.param("0001-01-01T00:00:00+01:00", id="before-year-1-in-utc"),
        pytest.param("1969-12-31T23:59:59Z", id="before-unix-time"),
    ],
)
def test_a_clock_the_retry_schedule_cannot_run_on_is_a_problem(clock: str) -> None:
    # It used to load and then fail the run as the implementation's OverflowError.
    ((where, field, message),) = _problems(f"name: x\nclock: {clock}\nflow: [{{message: m}}]\n")
    assert (where, field) == ("x.scenario.yaml:2", "clock")
    assert "a time from 1970 to 9998" in message


@pytest.mark.parametrize(
    "clock",
    [pytest.param("1970-01-01T00:00:00Z", id="first"), pytest.param("9998-06-01", id="last")],
)
def test_a_clock_at_either_end_loads(clock: str) -> None:
    (loaded,) = load_scenario_text(f"name: x\nclock: {clock}\nflow: [{{message: m}}]\n", "x")
    assert loaded.scenario.clock.year in (1970, 9998)


@pytest.mark.parametrize(
    ("attempts", "field", "says"),
    [
        pytest.param(
            "[{at: 0, block: 7}]",
            "block",
            "a webhook block of the flow (1 here); got 7",
            id="block-past-the-flow",
        ),
        pytest.param("[{at: 0, block: 0}]", "block", "(1 here); got 0", id="block-a-message"),
        pytest.param("[{at: 0, status: 99}]", "status", "an HTTP status, 100 to 599", id="status"),
        pytest.param("[{at: 0, error: []}]", "error", "not empty", id="no-kind"),
        pytest.param(
            "[0s, 5s, 1s]", "at", "each at or after the one before (5s); got 1s", id="back-in-time"
        ),
    ],
)
def test_an_attempt_no_run_can_make_is_a_problem_at_its_line(
    attempts: str, field: str, says: str
) -> None:
    # Each loaded, and the scenario could only ever fail at run time.
    text = (
        "name: x\n"
        "flow:\n"
        "  - message: m\n"
        '  - webhook: {url: "{mock.url}/x", method: GET}\n'
        f"expect:\n  attempts: {attempts}\n"
    )
    problems = _problems(text)
    assert [(where, f) for where, f, _ in problems] == [
        ("x.scenario.yaml:6", f"expect.attempts[{2 if field == 'at' else 0}].{field}")
    ]
    assert says in problems[0][2]


@pytest.mark.parametrize(
    "name",
    [
        pytest.param('"two\\nlines"', id="line-break"),
        pytest.param('"nul\\x00"', id="nul"),
        pytest.param('"tab\\tname"', id="tab"),
        pytest.param('"sep\\u2028"', id="line-separator"),
        pytest.param('"  "', id="blank"),
        pytest.param('"a::b"', id="node-id-separator"),
    ],
)
def test_a_name_pytest_cannot_print_or_select_is_a_problem(name: str) -> None:
    # A line break or NUL broke the terminal's and JUnit's lines; "a::b" could not be
    # selected as file::a::b.
    ((where, field, message),) = _problems(f"name: {name}\nflow: [{{message: m}}]\n")
    assert (where, field) == ("x.scenario.yaml:1", "name")
    assert message.startswith("a name ")


def test_a_name_of_any_printable_text_loads() -> None:
    (loaded,) = load_scenario_text(
        'name: "Анна: промо [1] / 50% {x} — ok"\nflow: [{message: m}]\n', "x"
    )
    assert loaded.scenario.name == "Анна: промо [1] / 50% {x} — ok"


@pytest.mark.parametrize(
    "kind", [pytest.param("large", id="large"), pytest.param("endless", id="dev-zero")]
)
def test_a_file_past_the_size_limit_is_refused_without_reading_it_all(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    # It was read whole: a symlink to /dev/zero never ended, and took all memory.
    from scenarios import loader

    monkeypatch.setattr(loader, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "x.scenario.yaml"
    if kind == "large":
        path.write_text("name: x\nflow: [{message: m}]\n" + "# padding\n" * 200)
    else:
        path.symlink_to("/dev/zero")
    with pytest.raises(ScenarioFileError) as caught:
        loader.load_scenario_file(path)
    ((where, field, message),) = [(p.where, p.field, p.message) for p in caught.value.problems]
    assert (where, field) == (str(path), "")
    assert message.startswith("more than 1,000 bytes")
