"""Marks and options of the plugin that meant something else than they said: an xfail
``strict: "no"`` was strict (pytest takes any non-empty text as true), ``raises:
ValueError`` was text that pytest's ``isinstance`` would raise on once the scenario
failed, and ``--shard ١/٢`` (Arabic-Indic digits) was read as 1/2."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_xfail_keywords_a_scenario_cannot_mean_are_refused_at_their_line(
    scenario_env: pytest.Pytester,
) -> None:
    scenario_env.makefile(
        ".scenario.yaml",
        marks="""scenarios:
  - name: raises
    marks: [{xfail: {raises: ValueError}}]
    flow: [{message: x}]
  - name: strict maybe
    marks: [{xfail: {strict: maybe, reason: r}}]
    flow: [{message: x}]
""",
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    assert (
        "marks.scenario.yaml:3: scenarios[0].marks: xfail: raises takes an exception class, "
        "which a scenario file cannot name (got 'ValueError')"
    ) in out
    assert (
        "marks.scenario.yaml:6: scenarios[1].marks: xfail: strict: true or false; got 'maybe'"
        in out
    )
    assert "Traceback" not in out


@pytest.mark.parametrize("written", ["no", "false", "off", "No"])
def test_xfail_strict_no_is_not_strict(scenario_env: pytest.Pytester, written: str) -> None:
    scenario_env.makefile(
        ".scenario.yaml",
        lenient=f"name: passes\nmarks: [{{xfail: {{strict: {written}, reason: r}}}}]\n"
        "flow: [{message: x}]\n",
    )
    result = scenario_env.runpytest_subprocess("-q", "-p", "no:randomly")
    # Not strict: a scenario that passes is XPASS, not a failure.
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert "1 xpassed" in result.stdout.str()


def test_xfail_strict_true_is_strict(scenario_env: pytest.Pytester) -> None:
    """``strict: 1`` meant strict to pytest; it is refused now, as the scenario's own
    booleans refuse it (tests/test_sc_probe7_strict.py), and ``true`` says it."""
    scenario_env.makefile(
        ".scenario.yaml",
        strict="name: passes\nmarks: [{xfail: {strict: true, reason: r}}]\nflow: [{message: x}]\n",
    )
    result = scenario_env.runpytest_subprocess("-q", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.TESTS_FAILED, result.stdout.str()
    assert "[XPASS(strict)]" in result.stdout.str()


@pytest.mark.parametrize("shard", ["\u0661/\u0662", "1/２"])
def test_a_shard_not_written_in_ascii_digits_stops_the_run(
    scenario_env: pytest.Pytester, shard: str
) -> None:
    scenario_env.makefile(".scenario.yaml", one="name: one\nflow: [{message: x}]\n")
    result = scenario_env.runpytest_subprocess("-q", "-p", "no:randomly", "--shard", shard)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--shard: expected K/N with 1 <= K <= N, such as 2/4" in result.stderr.str()
