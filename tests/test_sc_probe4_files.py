"""A fifth probe of scenario files, through the real plugin: each bad file is refused at
collection at its line, naming the field and what was expected, with no traceback, where
it used to crash (a duration of 400 digits) or mean something else than it said
(``clock: 2026`` was 1970, ``5s5s`` 10 s, ``٥s`` 5 s, ``!!float 1e999`` infinity)."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HUGE = "9" * 400

WEBHOOK = """flow:
  - webhook: {url: "{mock.url}/x", method: GET}
mock:
  stubs:
    - request: {path: /x}
"""

#: (file name, what follows `name:`, the line and text the problem must show)
BAD = [
    (
        "huge_int_time_limit",
        f"time_limit: {HUGE}\nflow: [{{message: x}}]\n",
        ":2: time_limit: a duration of at most 365 days; "
        "got 99999999999999999999... (400 characters)",
    ),
    (
        "huge_int_attempt",
        WEBHOOK + f"expect:\n  attempts: [{HUGE}]\n",
        ":8: expect.attempts[0].at: a duration of at most 365 days",
    ),
    (
        "huge_int_lifetime",
        f"flow: [{{message: x}}]\nmock:\n  crm:\n    amocrm: {{token_lifetime: {HUGE}}}\n",
        ":5: mock.crm.amocrm.token_lifetime: a duration of at most 365 days",
    ),
    (
        "repeated_unit",
        "time_limit: 5s5s\nflow: [{message: x}]\n",
        ":2: time_limit: a duration with each unit once, the largest first "
        "(h, m, s, ms: 1m35s); got '5s5s'",
    ),
    (
        "units_out_of_order",
        WEBHOOK + "expect:\n  attempts: [1m1h]\n",
        ":8: expect.attempts[0].at: a duration with each unit once, the largest first",
    ),
    (
        "arabic_indic_digit",
        'time_limit: "\u0665s"\nflow: [{message: x}]\n',
        ":2: time_limit: a duration like 0s, 5s, 1m35s, 2h31m35s or 250ms; got '\u0665s'",
    ),
    (
        "finer_than_a_microsecond",
        "time_limit: 0.0000001s\nflow: [{message: x}]\n",
        ":2: time_limit: a duration to the microsecond at most (0.000001s); got '0.0000001s'",
    ),
    (
        "quoted_seconds",
        'time_limit: "30"\nflow: [{message: x}]\n',
        ":2: time_limit: a duration like 0s, 5s, 1m35s, 2h31m35s or 250ms; got '30' "
        "(a number of seconds is written 30s, or 30 without quotes)",
    ),
    (
        "clock_a_year",
        "clock: 2026\nflow: [{message: x}]\n",
        ":2: clock: a date and time such as 2026-01-01T09:00:00Z (a number is not read as "
        "Unix seconds or a year); got '2026'",
    ),
    (
        "clock_milliseconds",
        'clock: "1767225600000"\nflow: [{message: x}]\n',
        ":2: clock: a date and time such as 2026-01-01T09:00:00Z (a number is not read as",
    ),
    (
        "clock_nanoseconds",
        "clock: 2026-01-01T09:00:00.123456789Z\nflow: [{message: x}]\n",
        ":2: clock: a time to the microsecond at most (6 digits after the second)",
    ),
    (
        "infinite_variable",
        "variables: {order: {total: !!float 1e999}}\nflow: [{message: x}]\n",
        ":2: variables: inf at order.total is not a JSON number (JSON has no NaN or Infinity)",
    ),
    (
        "infinite_parameter",
        'parametrize: {n: [1, !!float -1e999]}\nflow: [{message: "${n}"}]\n',
        ":2: parametrize: -inf at n[1] is not a JSON number",
    ),
    (
        "machine_time_zone",
        "timezone: localtime\nflow: [{message: x}]\n",
        ":2: timezone: an IANA time zone of a place, like 'Europe/Moscow' or 'UTC' (not the "
        "machine's localtime",
    ),
    (
        "leap_second_zone",
        "timezone: right/UTC\nflow: [{message: x}]\n",
        ":2: timezone: an IANA time zone of a place",
    ),
    (
        "parameter_not_a_word",
        'parametrize: {a-b: [1, 2]}\nflow: [{message: "${a-b}"}]\n',
        ":2: parametrize.a-b: a parameter name of letters, digits and '_' (${name} takes only "
        "those); got 'a-b'",
    ),
    (
        "parameter_with_spaces",
        'parametrize: {p: [1, 2]}\nflow:\n  - message: "${ p }"\n',
        ":4: flow[0].message: '${ p }' with spaces inside the braces is text, not the "
        "parameter; write ${p}",
    ),
    (
        "parameter_unused",
        'parametrize: {p: [1, 2], q: [3, 4]}\nflow: [{message: "${p}"}]\n',
        ":2: parametrize.q: the parameter 'q' is used nowhere (no ${q} in the scenario)",
    ),
    (
        "case_parameter_unused",
        'parametrize:\n  - {p: 1, q: 3}\n  - {p: 1, q: 4}\nflow: [{message: "${p}"}]\n',
        ":4: parametrize[1].q: the parameter 'q' is used nowhere (no ${q} in the scenario), "
        "so this case would make the same scenario as parametrize[0]",
    ),
    (
        "joined_with_a_bom",
        "flow: [{message: x}]\n\ufeff---\nname: b\nflow: [{message: y}]\n",
        ":3: a byte-order mark (U+FEFF, invisible) starts this line, as when files saved "
        "with one are joined; remove it",
    ),
]


def test_each_bad_file_is_refused_at_its_line_without_a_traceback(
    scenario_env: pytest.Pytester,
) -> None:
    for name, body, _ in BAD:
        Path(scenario_env.path, f"{name}.scenario.yaml").write_text(
            f"name: {name}\n{body}", "utf-8"
        )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str() + result.stderr.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "Traceback" not in out
    assert "OverflowError" not in out
    missing = [(name, shown) for name, _, shown in BAD if f"{name}.scenario.yaml{shown}" not in out]
    assert not missing, out


GOOD = """name: good
parametrize: {zone: [Europe/Moscow, UTC]}
timezone: ${zone}
clock: 2026-01-01T09:00:00.123456Z
time_limit: 1.5s
variables: {total: 1.5e+3}
flow:
  - webhook: {url: "{mock.url}/x", method: GET}
  - message: "{total}"
mock:
  stubs:
    - request: {path: /x}
expect:
  attempts: [0s]
  messages: ["1500.0"]
"""


def test_what_the_probe_refuses_leaves_the_good_spellings_running(
    scenario_env: pytest.Pytester,
) -> None:
    scenario_env.makefile(".scenario.yaml", good=GOOD)
    result = scenario_env.runpytest_subprocess("-q", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert "2 passed" in result.stdout.str()


DEFAULTS = """defaults:
  time_limt: 5s
  subscriber: {phone: ~}
scenarios:
  - name: a
    flow: [{message: x}]
  - name: b
    subscriber: {phone: ~}
    flow: [{message: y}]
"""


def test_a_mistake_in_defaults_is_reported_once_where_it_is_written(
    scenario_env: pytest.Pytester,
) -> None:
    """It was reported at every scenario's first line (`- name: a`), where it is not."""
    scenario_env.makefile(".scenario.yaml", defaults=DEFAULTS)
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert "3 problem(s)" in out
    assert "defaults.scenario.yaml:2: defaults.time_limt: unknown field; did you mean" in out
    assert "defaults.scenario.yaml:3: defaults.subscriber.phone: text" in out
    # The scenario that writes the same mistake itself is told at its own line.
    assert "defaults.scenario.yaml:8: scenarios[1].subscriber.phone: text" in out
    assert "scenarios[0]" not in out


LABELLED = """name: status
parametrize:
  - {label: ok, status: 200}
  - {label: error, status: 500}
flow: [{message: "${status}"}]
"""


def test_a_listed_parameter_used_nowhere_may_name_each_case() -> None:
    """A label that only names each listed case (``status[ok-200]``) was refused as "used
    nowhere", though the cases differ: only one that makes two cases the same is."""
    from scenarios.loader import load_scenario_text

    loaded = load_scenario_text(LABELLED, "labelled.scenario.yaml")
    assert [item.id for item in loaded] == ["status[ok-200]", "status[error-500]"]
