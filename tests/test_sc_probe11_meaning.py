"""Scenario files mean what they say (an eleventh probe), real files through the real plugin.

What the tenth probe left: an empty ``when:`` asked for nothing and was taken,
``in_order:`` with no ``expect.requests`` ordered nothing, an empty text in
``expect.missing`` named no reference and could never be met, and a name had no
length limit (a 100 000-character name made a node id, a report line and a JUnit
test case that long)."""

from __future__ import annotations

import pytest

from tests.scenario_files import one_line_scenarios as _file


def test_fields_that_check_nothing_are_refused_at_their_line(
    scenario_env: pytest.Pytester,
) -> None:
    scenario_env.makefile(
        ".scenario.yaml",
        nothing=_file(
            "when: {}",
            "expect: {in_order: false}",
            "expect: {in_order: true, requests_total: 0}",
            "expect: {missing: [first_name, ' ']}",
            "expect: {in_order: false, requests: [{path: /a}]}, mock: {stubs: []}",
        ).replace("name: s4", "name: " + "x" * 301),
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "Traceback" not in out
    assert "5 problem(s) in " in out
    assert (
        "nothing.scenario.yaml:2: scenarios[0].when: a capability to ask for (over_limit:, "
        "renders:); an empty when: asks for nothing, so remove it"
    ) in out
    for line, index in ((3, 1), (4, 2)):
        assert (
            f"nothing.scenario.yaml:{line}: scenarios[{index}].expect.in_order: says in which "
            "order expect.requests arrived, and this scenario has no expect.requests: add "
            "them, or remove in_order"
        ) in out
    assert (
        "nothing.scenario.yaml:5: scenarios[3].expect.missing[1]: a reference as the template "
        "writes it (first_name, result.promo.code); got ' ', which no reference is"
    ) in out
    assert (
        "nothing.scenario.yaml:6: scenarios[4].name: a name of at most 300 characters (it is "
        "the test's node id, and a line of every report); got 301: "
    ) in out


def test_the_same_fields_used_as_meant_are_taken(scenario_env: pytest.Pytester) -> None:
    scenario_env.makefile(
        ".scenario.yaml",
        meant=_file(
            "when: {renders: true}",
            "expect: {missing: [], requests_total: 0}",
        ).replace("name: s1", "name: " + "y" * 300),
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert "2 tests collected" in result.stdout.str()
