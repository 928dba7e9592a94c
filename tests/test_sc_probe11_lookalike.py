"""Scenario files mean what they say (an eleventh probe, 4), real files through the real
plugin: a misspelt failure kind (``error: timeuot``) was read as a part of the message
and failed after the run; a variable named with a look-alike letter (``оrder``, a
Cyrillic о) while the templates say ``{order}`` was a missing reference at run time;
``flоw`` for ``flow`` was reported twice (unknown, and "flow: this field is required")."""

from __future__ import annotations

import pytest

_WEBHOOK = '{name: s%d, flow: [{webhook: {url: "{mock.url}/x", method: GET}}], '
_PAUSED = "expect: {state: paused, attempts: [{at: 0s, error: %s}]}}\n"


def _attempts(*errors: str) -> str:
    return "scenarios:\n" + "".join(
        "  - " + _WEBHOOK % i + _PAUSED % error for i, error in enumerate(errors)
    )


def test_a_misspelt_failure_kind_is_refused_at_its_line(scenario_env: pytest.Pytester) -> None:
    scenario_env.makefile(
        ".scenario.yaml",
        kinds=_attempts("timeuot", "redirect", "[timeout, conect]", "[connect, nowhere]"),
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "Traceback" not in out
    assert "4 problem(s) in " in out
    assert (
        "kinds.scenario.yaml:2: scenarios[0].expect.attempts[0].error: a failure kind (status, "
        "timeout, connect, disconnect, protocol, redirects, network, too_large, configuration) "
        "or a part of the message; got 'timeuot': did you mean 'timeout'? (to look for "
        "'timeuot' in the message, write {contains: timeuot})"
    ) in out
    assert "got 'redirect': did you mean 'redirects'?" in out
    assert (
        "kinds.scenario.yaml:4: scenarios[2].expect.attempts[0].error[1]: a failure kind"
    ) in out
    assert "got 'conect': did you mean 'connect'? a list holds kinds only" in out
    assert "scenarios[3].expect.attempts[0].error[1]: a failure kind" in out
    assert "got 'nowhere': a list holds kinds only" in out


def test_a_message_part_said_so_or_far_from_a_kind_is_taken(
    scenario_env: pytest.Pytester,
) -> None:
    scenario_env.makefile(
        ".scenario.yaml",
        parts=_attempts(
            "{contains: timeuot}", "timeout", '"timed out"', "Timeuot", "refused", "[redirects]"
        ),
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert "6 tests collected" in result.stdout.str()


def test_a_reference_that_prints_like_a_variable_is_refused(
    scenario_env: pytest.Pytester,
) -> None:
    scenario_env.makefile(
        ".scenario.yaml",
        alike=(
            "scenarios:\n"
            "  - {name: s0, variables: {\u043erder: 1}, flow: [{message: 'n {order}'}]}\n"
            "  - {name: s1, flow: [{set: {name: t\u043etal, value: '2'}}, "
            "{message: '{total}'}]}\n"
            '  - {name: s2, flow: [{webhook: {url: "{mock.url}/x", method: GET, save_to: '
            "r\u0435sult}}, {message: '{result.id}'}], expect: {attempts: [{at: 0s}]}}\n"
            "  - {name: s3, variables: {order: 1}, flow: [{message: '{\u043erder}'}]}\n"
        ),
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "4 problem(s) in " in out
    assert (
        "alike.scenario.yaml:2: scenarios[0].flow[0].message: {order} prints like the "
        "variable '\u043erder' this scenario sets, and is not it (character 1 of the "
        "variable's name is U+043E CYRILLIC SMALL LETTER O, not ASCII): write the two alike"
    ) in out
    assert "{total} prints like the variable 't\u043etal'" in out
    assert "{result} prints like the variable 'r\u0435sult'" in out
    assert (
        "{\u043erder} prints like the variable 'order' this scenario sets, and is not it "
        "(character 1 of the reference is U+043E CYRILLIC SMALL LETTER O, not ASCII)"
    ) in out


def test_a_look_alike_of_a_required_key_is_one_problem(scenario_env: pytest.Pytester) -> None:
    scenario_env.makefile(
        ".scenario.yaml",
        required=(
            "scenarios:\n"
            "  - {name: s0, fl\u043ew: [{message: m}]}\n"
            "  - {name: s1, flow: [{set: {n\u0430me: x, value: '1'}}]}\n"
            "  - {name: s2, flw: [{message: m}]}\n"
        ),
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "scenarios[0].fl\u043ew: unknown field; did you mean 'flow'?" in out
    assert "scenarios[0].flow: this field is required" not in out
    assert "scenarios[1].flow[0].set.n\u0430me: unknown field; did you mean 'name'?" in out
    assert "scenarios[1].flow[0].set.name: this field is required" not in out
    # A key that is not a look-alike leaves "required" beside it: two things to fix.
    assert "scenarios[2].flow: this field is required" in out
    assert "4 problem(s) in " in out
