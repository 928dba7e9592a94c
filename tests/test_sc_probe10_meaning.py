"""Scenario files mean what they say (a tenth probe), real files through the real plugin.

An expectation the flow as written could never meet passed collection and failed after
every run: more ``expect.messages`` than the flow has ``message:`` blocks, attempts of
a flow without webhook blocks, or an
``expect.variables`` path whose variable nothing of the scenario sets (the subscriber's
``first_name`` among them: it is not one of the flow's variables)."""

from __future__ import annotations

import pytest

from tests.scenario_files import one_line_scenarios as _file


def test_expectations_the_flow_can_never_meet_are_refused(
    scenario_env: pytest.Pytester,
) -> None:
    scenario_env.makefile(
        ".scenario.yaml",
        unmet=_file(
            "expect: {messages: [m, n]}",
            "expect: {variables: {never.set: 1}}",
            "expect: {variables: {first_name: Анна}}",
            "variables: {a: 1}, expect: {variables: {a: 1, b: {present: true}}}",
            # kept: what is set, {absent: true}, {mock.*}, as many messages as blocks
            "variables: {a: 1}, expect: {messages: [m], variables: {a: 1, x: {absent: true},"
            " mock.url: {present: true}}, attempts: []}",
            "expect: {attempts: [0s, {at: 5s}]}",
        ),
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "Traceback" not in out
    assert "5 problem(s) in " in out
    assert (
        "unmet.scenario.yaml:2: scenarios[0].expect.messages[1]: at most 1 message(s): the "
        "flow has 1 message block (flow[0]), each sending one; got 2 expected messages"
    ) in out
    assert (
        "unmet.scenario.yaml:3: scenarios[1].expect.variables.never.set: a variable this "
        "scenario sets (variables:, a set: block or a webhook's save_to: none); nothing sets "
        "never, so this check fails after every run"
    ) in out
    assert (
        "unmet.scenario.yaml:4: scenarios[2].expect.variables.first_name: a variable this "
        "scenario sets (variables:, a set: block or a webhook's save_to: none); nothing sets "
        "first_name (first_name is the subscriber's, not one of the flow's variables)"
    ) in out
    assert (
        "unmet.scenario.yaml:5: scenarios[3].expect.variables.b: a variable this scenario "
        "sets (variables:, a set: block or a webhook's save_to: a); nothing sets b"
    ) in out
    assert "unmet.scenario.yaml:6:" not in out
    assert (
        "unmet.scenario.yaml:7: scenarios[5].expect.attempts[0]: attempts of the flow's "
        "webhook blocks, and this flow has none (write attempts: [] for none); got 2 "
        "expected attempts"
    ) in out


def test_what_set_blocks_and_save_to_set_may_be_expected(scenario_env: pytest.Pytester) -> None:
    scenario_env.makefile(
        ".scenario.yaml",
        kept=(
            "scenarios:\n"
            "  - name: set and saved\n"
            "    flow:\n"
            "      - set: {name: b, value: x}\n"
            "      - webhook: {url: '{mock.url}/x', method: GET, save_to: c}\n"
            "      - message: '{c.d}'\n"
            "    mock: {stubs: [{request: {path: /x}, response: {json: {d: 1}}}]}\n"
            "    expect: {messages: ['1'], variables: {b: x, c.d: 1}}\n"
        ),
    )
    result = scenario_env.runpytest_subprocess("-q", "-p", "no:randomly")
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    result.assert_outcomes(passed=1)


def test_a_name_under_defaults_is_refused_by_the_loader_and_the_schema(
    scenario_env: pytest.Pytester,
) -> None:
    """A scenario without a name took the one of ``defaults:``, silently; a second one
    was then "already used" at a line that writes no name."""
    import json
    from pathlib import Path

    import jsonschema
    import yaml

    text = "defaults: {name: every, marks: [smoke]}\nscenarios:\n  - {flow: [{message: m}]}\n"
    scenario_env.makefile(".scenario.yaml", named=text)
    schema = Path(__file__).parent.parent / "scenarios" / "schema" / "scenario.schema.json"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(yaml.safe_load(text), json.loads(schema.read_text(encoding="utf-8")))
    jsonschema.validate(
        yaml.safe_load(text.replace("name: every, ", "")),
        json.loads(schema.read_text(encoding="utf-8")),
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert (
        "named.scenario.yaml:1: defaults.name: a name identifies one scenario: write it in "
        "each scenario, not under defaults:"
    ) in out


def test_names_that_print_alike_are_refused(scenario_env: pytest.Pytester) -> None:
    """Two scenarios whose names differ only in what no one sees (a zero-width space, a
    space at an end, an accent composed differently) were two items printed alike."""
    scenario_env.makefile(
        ".scenario.yaml",
        alike=(
            "scenarios:\n"
            '  - {name: "s9\\u200b", flow: [{message: m}]}\n'
            '  - {name: "s9", flow: [{message: m}]}\n'
            '  - {name: "\\u00e9", flow: [{message: m}]}\n'
            '  - {name: "e\\u0301", flow: [{message: m}]}\n'
            '  - {name: " lead", flow: [{message: m}]}\n'
            '  - {name: "lead", flow: [{message: m}]}\n'
            '  - {name: "a\\u202eb", flow: [{message: m}]}\n'
            # kept: letters of any script, inner spaces
            '  - {name: "заявка в CRM", flow: [{message: m}]}\n'
        ),
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "Traceback" not in out
    assert "4 problem(s) in " in out
    assert (
        "alike.scenario.yaml:2: scenarios[0].name: a name without invisible characters (it "
        "holds U+200B ZERO WIDTH SPACE: two names would print alike); got 's9\\u200b'"
    ) in out
    assert (
        "alike.scenario.yaml:5: scenarios[3].name: the name 'e\u0301' is already used at line 4 "
        "(the same letters, composed differently); names identify scenarios"
    ) in out
    assert "alike.scenario.yaml:6: scenarios[4].name: a name without spaces at either end" in out
    assert (
        "alike.scenario.yaml:8: scenarios[6].name: a name without invisible characters "
        "(it holds U+202E RIGHT-TO-LEFT OVERRIDE" in out
    )


def test_a_key_that_prints_like_a_field_says_what_differs(scenario_env: pytest.Pytester) -> None:
    """``flоw`` (a Cyrillic о) said "unknown field; did you mean 'flow'?", and the reader
    saw the same word twice; ``expect`` with a zero-width space, or a space at its end,
    likewise. The problem now names what differs."""
    scenario_env.makefile(
        ".scenario.yaml",
        keys=(
            "scenarios:\n"
            "  - {name: s0, fl\u043ew: [{message: m}]}\n"
            '  - {name: s1, flow: [{webhook: {url: "{mock.url}/x", method: GET, '
            "save_t\u043e: r}}]}\n"
            '  - {name: s2, flow: [{message: m}], "expect\\u200b": {messages: [m]}}\n'
            "  - {name: s3, flow: [{message: m}], 'expect ': {messages: [m]}}\n"
            "  - {name: s4, flow: [{message: m}], \uff45xpect: {messages: [m]}}\n"
        ),
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert (
        "keys.scenario.yaml:2: scenarios[0].fl\u043ew: unknown field; did you mean 'flow'? "
        "(character 3 of the key is U+043E CYRILLIC SMALL LETTER O, not ASCII)"
    ) in out
    assert (
        "unknown field; did you mean 'save_to'? (character 7 of the key is U+043E CYRILLIC "
        "SMALL LETTER O, not ASCII)"
    ) in out
    assert (
        "did you mean 'expect'? (character 7 of the key is U+200B ZERO WIDTH SPACE, not ASCII)"
    ) in out
    assert (
        "keys.scenario.yaml:5: scenarios[3].expect : unknown field; did you mean 'expect'? "
        "(the key has a space at an end)" in out
    )
    assert "(character 1 of the key is U+FF45 FULLWIDTH LATIN SMALL LETTER E, not ASCII)" in out


def test_an_empty_document_or_item_is_named_in_yaml_words(scenario_env: pytest.Pytester) -> None:
    """``---`` twice, or a ``---`` left at the end, said "a scenario is a mapping, got
    NoneType" (Python's name of null); ``- 5`` said "got int"."""
    scenario_env.makefile(
        ".scenario.yaml", documents="---\n---\nname: a\nflow: [{message: m}]\n---\n"
    )
    scenario_env.makefile(".scenario.yaml", items="scenarios:\n  -\n  - 5\n  - [a]\n  - text\n")
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "NoneType" not in out
    assert "got int" not in out
    empty = (
        ": an empty document (nothing between two --- lines, or after the last): remove a "
        "---, or write a scenario there"
    )
    assert f"documents.scenario.yaml:2{empty}" in out
    assert f"documents.scenario.yaml:6{empty}" in out
    assert (
        "items.scenario.yaml:2: scenarios[0]: a scenario is a mapping, got null (nothing "
        "after the -)"
    ) in out
    assert "items.scenario.yaml:3: scenarios[1]: a scenario is a mapping, got 5" in out
    assert "items.scenario.yaml:4: scenarios[2]: a scenario is a mapping, got a list" in out
    assert "items.scenario.yaml:5: scenarios[3]: a scenario is a mapping, got 'text'" in out


def test_a_merge_key_twice_or_of_null_is_refused(scenario_env: pytest.Pytester) -> None:
    """``{<<: *a, <<: *b}`` took the second's keys over the first's, silently (a key
    written twice is a problem, and ``<<`` was not); ``<<: ~`` merged nothing."""
    scenario_env.makefile(
        ".scenario.yaml",
        merges=(
            "scenarios:\n"
            "  - &a {name: s0, flow: [{message: m}], expect: {messages: [m]}}\n"
            "  - &b {name: s1, flow: [{message: n}], expect: {messages: [n]}}\n"
            "  - {<<: *a, <<: *b, name: s2}\n"
            "  - {name: s3, flow: [{message: m}], expect: {<<: ~}}\n"
            "  - {<<: [*a, ~], name: s4}\n"
            "  - {<<: [*a, *b], name: s5}\n"  # kept: several in one, the first wins
        ),
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "3 problem(s) in " in out
    assert (
        "merges.scenario.yaml:4: scenarios[2].<<: a merge key (<<) is given twice in the same "
        "mapping; merge several with one: <<: [*a, *b] (the first given wins)"
    ) in out
    null = "a merge key (<<) takes a mapping (<<: *name) or a list of them; got null"
    assert f"merges.scenario.yaml:5: scenarios[3].expect: {null}" in out
    assert f"merges.scenario.yaml:6: scenarios[4]: {null}" in out


def test_a_misspelt_keyword_of_xfail_skip_or_skipif_is_refused(
    scenario_env: pytest.Pytester,
) -> None:
    """pytest reads the keywords it knows: ``{xfail: {stirct: true}}`` was not strict,
    silently, skipif's other keywords did nothing, and ``{skip: {reson: r}}`` was a
    TypeError once the scenario ran."""
    scenario_env.makefile(
        ".scenario.yaml",
        marks=_file(
            "marks: [{xfail: {reason: r, stirct: true}}]",
            "marks: [{skip: {reson: r}}]",
            "marks: [{skipif: {condition: true, reason: r, extra: 1}}]",
            # kept: every keyword pytest reads
            "marks: [{xfail: {condition: false, reason: r, run: true, strict: true}}]",
        ),
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "3 problem(s) in " in out
    assert (
        "marks.scenario.yaml:2: scenarios[0].marks: xfail: 'stirct' is not a keyword of "
        "xfail; did you mean 'strict'? it takes condition, reason, run, strict"
    ) in out
    assert (
        "marks.scenario.yaml:3: scenarios[1].marks: skip: 'reson' is not a keyword of skip; "
        "did you mean 'reason'? it takes reason"
    ) in out
    assert (
        "marks.scenario.yaml:4: scenarios[2].marks: skipif: 'extra' is not a keyword of "
        "skipif; it takes condition, reason"
    ) in out
