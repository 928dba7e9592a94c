"""``--scenario-html`` stays bounded: a scenario's page data, and the whole page of a big run."""

from __future__ import annotations

from pathlib import Path

import pytest

from scenarios import htmlreport

ROOT = Path(__file__).resolve().parent.parent

# Two hundred messages of a 100 KB text each, a long last error, and a failure whose
# message holds the text too: 40 MB of page data for one scenario, if nothing is cut.
_MESSAGES = "\n".join(["  - message: '{big}'"] * 200)
BIG = (
    f'name: big\nvariables: {{big: "{"x" * 100_000}"}}\nflow:\n{_MESSAGES}\n'
    '  - webhook: {url: "{mock.url}/x?{big}", method: GET}\n'
    "mock: {strict: false, stubs: [{request: {path: /x}, responses: [{status: 500}]}]}\n"
    'expect: {state: paused, messages: ["{big}"]}\n'
)


def test_one_scenarios_page_data_is_bounded(scenario_env: pytest.Pytester) -> None:
    scenario_env.makefile(".scenario.yaml", big=BIG)
    result = scenario_env.runpytest_subprocess(
        "--scenario-html", "run.html", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(failed=1)
    page = (scenario_env.path / "run.html").read_bytes()
    assert b"big" in page
    assert len(page) < htmlreport.RECORD_LIMIT * 3  # the page's own markup beside the data


def test_a_runs_page_data_is_bounded_and_names_every_scenario(
    scenario_env: pytest.Pytester,
) -> None:
    # The limit made small in the run's own process: past it, a scenario keeps its name,
    # place, rules, outcome and failures, not its requests and attempts.
    scenario_env.makeconftest(
        "from scenarios import plugin_reports\nplugin_reports.HTML_TOTAL_LIMIT = 20_000\n"
    )
    cases = "\n".join(f"  - name: s{n}\n    flow: [{{message: '{'y' * 3000}'}}]" for n in range(30))
    scenario_env.makefile(".scenario.yaml", many=f"scenarios:\n{cases}\n")
    result = scenario_env.runpytest_subprocess(
        "--scenario-html", "run.html", "-p", "no:cacheprovider"
    )
    result.assert_outcomes(passed=30)
    page = (scenario_env.path / "run.html").read_text("utf-8")
    assert all(f"s{n}" in page for n in range(30))
    assert page.count("y" * 3000) < 30
    assert len(page) < 20_000 + 30 * 3000 + 200_000
    assert "page data past 20,000 characters" in result.stdout.str()


def test_a_failure_report_of_a_huge_run_is_bounded() -> None:
    from scenarios import ScenarioFailed, run
    from scenarios.report import LINE_LIMIT, ROWS_LIMIT

    scenario = {
        "name": "big",
        "variables": {"big": "x" * 100_000},
        "flow": [{"message": "{big}"}] * (ROWS_LIMIT + 50),
        "expect": {"messages": ["x"]},
    }
    with pytest.raises(ScenarioFailed) as caught:
        run(scenario)
    report = caught.value.report
    # It was 40 MB: every message whole, twice (the table of messages, then the run).
    assert len(report) < 3 * ROWS_LIMIT * LINE_LIMIT
    assert max(len(line) for line in report.splitlines()) <= LINE_LIMIT
    assert "... and 50 more messages" in report
    assert "(100,004 characters)" in report  # the message as repr() writes it
