"""Scenario files mean what they say (a ninth probe), real files through the real plugin.

A listed ``parametrize:`` case that left out a parameter another case set was reported
as "unknown parameter ${p}; parameters are: none (add parametrize:)" under the very
``parametrize:`` it asked for, at the place the parameter was used, not at the case;
an ``expect.crm`` check of a fake CRM the scenario does not mount passed collection and
could only fail after the run."""

from __future__ import annotations

import pytest

from tests.scenario_files import one_line_scenarios as _file


def test_a_case_that_leaves_out_a_parameter_is_named_at_the_case(
    scenario_env: pytest.Pytester,
) -> None:
    scenario_env.makefile(
        ".scenario.yaml",
        cases=_file(
            "parametrize: [{}], expect: {messages: ['${p}']}",
            "parametrize: [{p: 1}, {q: 2}], expect: {messages: ['${p}']}",
            "parametrize: [{p: 1}], expect: {messages: ['${p}']}",
        ),
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "Traceback" not in out
    assert "add parametrize:" not in out
    assert "2 problem(s) in " in out
    assert (
        "cases.scenario.yaml:2: scenarios[0].parametrize[0]: this case does not set ${p} "
        "(used at scenarios[0].expect.messages[0]); it sets nothing (an empty case); each "
        "case sets every parameter the scenario uses"
    ) in out
    assert (
        "cases.scenario.yaml:3: scenarios[1].parametrize[1]: this case does not set ${p} "
        "(used at scenarios[1].expect.messages[0]); it sets q; each case sets every "
        "parameter the scenario uses (other cases set p)"
    ) in out


def test_without_parametrize_an_unknown_parameter_still_says_add_it(
    scenario_env: pytest.Pytester,
) -> None:
    scenario_env.makefile(".scenario.yaml", plain=_file("expect: {messages: ['${p}']}"))
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert (
        "plain.scenario.yaml:2: scenarios[0].expect.messages[0]: unknown parameter ${p}; "
        "parameters are: none (add parametrize:)"
    ) in out


def test_a_crm_check_without_that_crm_is_refused_at_collection(
    scenario_env: pytest.Pytester,
) -> None:
    scenario_env.makefile(
        ".scenario.yaml",
        crm=_file(
            "expect: {crm: {bitrix24: {lead: {count: 0}}}}",
            "mock: {crm: {bitrix24: {}}}, expect: {crm: {amocrm: {leads: {count: 0}}}}",
            "mock: {crm: {amocrm: {}}}, expect: {crm: {amocrm: {leads: {count: 0}}}}",
        ),
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "Traceback" not in out
    assert "2 problem(s) in " in out
    assert (
        "crm.scenario.yaml:2: scenarios[0].expect.crm.bitrix24: checks the fake Bitrix24's "
        "records, and this scenario mounts none: add mock: {crm: {bitrix24: {}}}"
    ) in out
    assert (
        "crm.scenario.yaml:3: scenarios[1].expect.crm.amocrm: checks the fake amoCRM's "
        "records, and this scenario mounts none: add mock: {crm: {amocrm: {}}}"
    ) in out


def test_a_crm_mounted_under_defaults_counts(scenario_env: pytest.Pytester) -> None:
    scenario_env.makefile(
        ".scenario.yaml",
        defaults=(
            "defaults: {mock: {crm: {bitrix24: {}}}}\n"
            + _file("expect: {crm: {bitrix24: {lead: {count: 0}}}}")
        ),
    )
    result = scenario_env.runpytest_subprocess("-q", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=1)


def test_a_parameter_no_case_sets_is_named_where_it_is_used(
    scenario_env: pytest.Pytester,
) -> None:
    """A name that no case sets is most likely misspelt where it is used."""
    scenario_env.makefile(
        ".scenario.yaml",
        typo=_file("parametrize: [{p: 1}, {p: 2, q: 3}], expect: {messages: ['${pp}']}"),
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert (
        "typo.scenario.yaml:2: scenarios[0].expect.messages[0]: unknown parameter ${pp}; "
        "parameters are: p, q"
    ) in out
