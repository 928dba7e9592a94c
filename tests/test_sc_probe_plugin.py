"""The plugin's options and ini keys: a bad value stops the run with one line naming it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def env(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makefile(".scenario.yaml", one="name: one\nflow: [{message: x}]\n")
    return pytester


@pytest.mark.parametrize(
    ("key", "value"),
    [
        # Read only under xdist, on the controller: without a check, silently ignored.
        pytest.param("scenario_xdist_share", "maybe", id="xdist-share"),
        pytest.param("scenario_gc_freeze", "2", id="gc-freeze"),
    ],
)
def test_a_wrong_boolean_ini_value_is_a_usage_error_naming_the_key(
    env: pytest.Pytester, key: str, value: str
) -> None:
    result = env.runpytest_subprocess("-o", f"{key}={value}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert f"{key}: expected true or false" in result.stderr.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


@pytest.mark.parametrize(
    "rule",
    [pytest.param("", id="empty"), pytest.param(",", id="comma"), pytest.param(" ", id="space")],
)
def test_a_rule_option_with_no_id_is_a_usage_error(env: pytest.Pytester, rule: str) -> None:
    # --rule "$RULES" with an empty variable ran every scenario instead of the chosen ones.
    result = env.runpytest_subprocess("--rule", rule)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--rule: expected rule ids such as E1 or E1,E2" in result.stderr.str()


def test_a_trailing_comma_in_rule_is_still_the_rules_before_it(env: pytest.Pytester) -> None:
    env.makefile(".scenario.yaml", two="name: two\nrules: [E1]\nflow: [{message: x}]\n")
    result = env.runpytest_subprocess("--rule", "E1,", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, deselected=1)


def test_a_scenarios_run_is_not_kept_once_it_is_reported(env: pytest.Pytester) -> None:
    # Every request and saved value of every scenario lived to the end of the session.
    env.makefile(
        ".scenario.yaml",
        two="scenarios:\n"
        "  - {name: a, flow: [{message: x}]}\n"
        "  - {name: b, flow: [{message: y}], expect: {messages: [z]}}\n",
    )
    env.makeconftest(
        "import json\n"
        "def pytest_sessionfinish(session):\n"
        "    kept = {item.name: getattr(item, 'result', 'gone') for item in session.items}\n"
        "    with open('kept.json', 'w') as out:\n"
        "        json.dump({name: value is None for name, value in kept.items()}, out)\n"
    )
    result = env.runpytest_subprocess("-p", "no:cacheprovider", "--scenario-html", "run.html")
    result.assert_outcomes(passed=2, failed=1)
    kept = json.loads((env.path / "kept.json").read_text())
    assert kept == {"one": True, "a": True, "b": True}
    assert "Requests the mock server received" in (env.path / "run.html").read_text("utf-8")


@pytest.mark.parametrize(
    ("mark", "says"),
    [
        # It ended the whole run after the first test, naming neither file nor line.
        pytest.param(
            '{filterwarnings: "bogus::"}',
            "filterwarnings: a warning filter like 'ignore::DeprecationWarning'; got 'bogus::' "
            "(invalid action: 'bogus')",
            id="filterwarnings",
        ),
        # Both did nothing at all.
        pytest.param("{usefixtures: [tmp_path]}", "a scenario takes no fixtures", id="usefixtures"),
        pytest.param(
            "{parametrize: [a, [1, 2]]}", "parametrize is a key of the scenario", id="parametrize"
        ),
    ],
)
def test_a_mark_a_scenario_cannot_use_is_a_problem_at_its_line(
    env: pytest.Pytester, mark: str, says: str
) -> None:
    env.makefile(
        ".scenario.yaml",
        marked=f"scenarios:\n  - name: ok\n    flow: [{{message: x}}]\n"
        f"  - name: marked\n    marks: [{mark}]\n    flow: [{{message: x}}]\n",
    )
    result = env.runpytest_subprocess("-p", "no:cacheprovider", "marked.scenario.yaml")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([f"*marked.scenario.yaml:5: scenarios[[]1[]].marks: {says}*"])
