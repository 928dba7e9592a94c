"""Scenario files mean what they say (an eighth probe), real files through the real plugin.

A quoted ``count: "010"`` was ten while ``"2"`` was refused (the loader gave a plain
``010`` and a quoted ``"010"`` as the same text); ``expect.requests:`` with nothing after
it, and every other optional check written with nothing after its key, was null and
checked nothing; a parameter of null gave the item id ``x[None]``, empty text ``x[]``,
and ``1`` and ``"1"`` the same id (a collection error naming the wrong thing)."""

from __future__ import annotations

import re

import pytest

from tests.scenario_files import one_line_scenarios as _file

#: Every whole-number field, with the value in place of ``{}``, and its dotted path.
WHOLE_FIELDS = [
    ("expect: {{requests: [{{path: /a, count: {}}}]}}", "expect.requests[0].count"),
    ("expect: {{requests: [{{path: /a, at_least: {}}}]}}", "expect.requests[0].at_least"),
    ("expect: {{requests_total: {}}}", "expect.requests_total"),
    ("expect: {{attempts: [{{at: 0s, status: {}}}]}}", "expect.attempts[0].status"),
    ("expect: {{attempts: [{{at: 0s, block: {}}}]}}", "expect.attempts[0].block"),
    (
        "mock: {{crm: {{bitrix24: {{}}}}}}, expect: {{crm: {{bitrix24: {{lead: {{count: {}}}}}}}}}",
        "expect.crm.bitrix24.lead.count",
    ),
]


def test_quoted_digits_are_refused_alike_in_every_whole_number_field(
    scenario_env: pytest.Pytester,
) -> None:
    quoted = ['"010"', "'+3'", '"2"']
    bodies = [body.format(value) for body, _ in WHOLE_FIELDS for value in quoted]
    scenario_env.makefile(".scenario.yaml", quoted=_file(*bodies))
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "Traceback" not in out
    assert f"{len(bodies)} problem(s) in " in out
    index = 0
    for _, field in WHOLE_FIELDS:
        for value, number in zip(quoted, (10, 3, 2), strict=True):
            # A quoted "010" was ten, silently: the same words as "2" now.
            assert (
                f"quoted.scenario.yaml:{index + 2}: scenarios[{index}].{field}: a whole number, "
                f"not text (write {number} without quotes); got {value[1:-1]!r}"
            ) in out, (field, value)
            index += 1


def test_plain_yaml_11_digits_stay_decimal_and_data_stays_text(
    scenario_env: pytest.Pytester,
) -> None:
    """The pinned decision (tests/test_yaml_traps.py): a plain ``010`` in a whole-number
    field is ten and ``+3`` three; in variables, messages and parameters ``010`` is the
    text "010" (quoted or not), as it always was."""
    scenario_env.makefile(
        ".scenario.yaml",
        plain="""scenarios:
  - name: counts
    variables: {code: 010, tel: +79001234567, quoted: "010", day: 2026-01-01}
    flow:
      - webhook: {url: "{mock.url}/a", method: GET}
      - message: "{code} {tel} {quoted} {day} ${p}"
    parametrize: {p: [0123]}
    mock:
      stubs: [{request: {path: /a}, response: {status: 200}}]
    expect:
      requests: [{path: /a, count: 01, at_least: +1}]
      requests_total: 001
      attempts: [{at: 0s, status: 0200, block: 00}]
      messages: ["010 +79001234567 010 2026-01-01 0123"]
      variables: {code: "010", quoted: 010}
""",
    )
    result = scenario_env.runpytest_subprocess("-q", "-p", "no:randomly")
    result.assert_outcomes(passed=1)


NULL_CHECKS = [
    (
        "expect: {requests: }",
        "expect.requests: a list of at least 1 request pattern; to say that no request "
        "arrived, write requests_total: 0 (nothing after requests: checks nothing; indent "
        "what goes under it, or remove the key)",
    ),
    (
        "expect: {messages: }",
        "expect.messages: a list of the messages sent, in order; to say that none was, "
        "write messages: [] (nothing after messages: checks nothing",
    ),
    ("expect: {attempts: }", "expect.attempts: a list of attempts"),
    ("expect: {missing: }", "expect.missing: a list of template references"),
    ("expect: {error: }", "expect.error: the paused flow's last error"),
    ("expect: {configuration_error: }", "expect.configuration_error: {field: params[1].name}"),
    ("expect: {requests_total: }", "expect.requests_total: a whole number of requests"),
    ("expect: {requests: [{path: /a, count: }]}", "expect.requests[0].count: a whole number"),
    ("expect: {requests: [{path: /a, at_least: }]}", "expect.requests[0].at_least: a whole"),
    ("expect: {attempts: [{at: 0s, status: }]}", "expect.attempts[0].status: an HTTP status"),
    ("expect: {attempts: [{at: 0s, ok: }]}", "expect.attempts[0].ok: true or false (nothing"),
    ("expect: {attempts: [{at: 0s, error: }]}", "expect.attempts[0].error: a failure kind"),
    ("expect: {attempts: [{at: 0s, block: }]}", "expect.attempts[0].block: the index of"),
    (
        "mock: {crm: {bitrix24: {}}}, expect: {crm: {bitrix24: {lead: {count: 1, records: }}}}",
        "expect.crm.bitrix24.lead.records: a list of records",
    ),
    ("expect_failure: ", "expect_failure: the failure this scenario must end in"),
    ("when: {renders: }", "when.renders: true or false (nothing after renders: checks"),
    ("when: {over_limit: }", "when.over_limit: one of truncate, fail or discard (nothing"),
    ("parametrize: ", "parametrize: {name: [values]} or a list of {name: value} cases"),
]


def test_a_check_with_nothing_after_its_key_is_refused(scenario_env: pytest.Pytester) -> None:
    """``expect.requests:`` with its list not indented under it (null) checked nothing,
    silently, as an omitted key does; so did every optional check, and ``parametrize:``
    ran one case. Each is refused at its line, saying what to write."""
    scenario_env.makefile(".scenario.yaml", nulls=_file(*(body for body, _ in NULL_CHECKS)))
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "Traceback" not in out
    assert f"{len(NULL_CHECKS)} problem(s) in " in out
    for index, (_, message) in enumerate(NULL_CHECKS):
        assert f"nulls.scenario.yaml:{index + 2}: scenarios[{index}].{message}" in out, message


def test_nulls_that_are_data_are_kept(scenario_env: pytest.Pytester) -> None:
    """Null is a value a variable can hold and a description can be absent: kept."""
    scenario_env.makefile(
        ".scenario.yaml",
        data="""name: null data
description:
variables: {nothing: ~}
flow: [{message: m}]
expect: {variables: {nothing: ~}, messages: [m]}
""",
    )
    result = scenario_env.runpytest_subprocess("-q", "-p", "no:randomly")
    result.assert_outcomes(passed=1)


#: Parameter values and the id each gives (inside ``x[...]``).
IDS = [
    ("~", "null"),
    ("true", "true"),
    ("false", "false"),
    ("''", "\\empty"),
    ("'a b'", "a_b"),
    ("a_b", "a_b-case5"),  # shows as the one before: made unique by its place
    ("a/b", "a/b"),
    ("'a[1]'", "a[1]"),
    ("Иван", "Иван"),
    ('"zero\\u200bwidth"', "zero\\u200bwidth"),
    ("'" + "z" * 60 + "'", "z" * 40 + "..."),
    ("'" + "z" * 60 + "y'", "z" * 40 + "...-case11"),
    ("1", "1"),
    ("'1'", "1-case13"),
    ("'a::b'", "a\\x3a:b"),
    ("'it''s, (x)'", "it\\x27s\\x2c_\\x28x\\x29"),
    ("'back\\slash'", "back\\\\slash"),
]


def test_parameter_ids_are_readable_unique_and_selectable(
    scenario_env: pytest.Pytester,
) -> None:
    values = ", ".join(value for value, _ in IDS)
    scenario_env.makefile(
        ".scenario.yaml",
        ids=f"""name: x
variables: {{v: "${{p}}"}}
flow: [{{message: m}}]
parametrize: {{p: [{values}]}}
""",
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.OK, out
    listed = [line for line in out.splitlines() if line.startswith("ids.scenario.yaml::")]
    assert listed == [f"ids.scenario.yaml::x[{shown}]" for _, shown in IDS]
    # Each id is one word of -k's (letters, digits, + - . / [ ] \ :), so -k selects it.
    for _, shown in IDS:
        assert re.fullmatch(r"(\w|:|\+|-|\.|\[|\]|\\|/)+", f"x[{shown}]"), shown
    for shown in ("null", "\\empty", "a_b-case5", "Иван", "1-case13", "a\\x3a:b"):
        chosen = scenario_env.runpytest_subprocess("-q", "-p", "no:randomly", "-k", f"x[{shown}]")
        chosen.assert_outcomes(passed=1)


def test_the_same_case_twice_is_named_at_the_value(scenario_env: pytest.Pytester) -> None:
    """Two equal cases were "the name 'x[1]' is already used" (or, with unique ids, the
    same scenario run twice); ``1`` and ``"1"`` were that too, and are two cases now."""
    scenario_env.makefile(
        ".scenario.yaml",
        twice="""scenarios:
  - name: grid
    variables: {v: "${p}", w: "${q}"}
    flow: [{message: m}]
    parametrize:
      q: [a]
      p: [1, "1", 2, 1]
  - name: listed
    variables: {v: "${p}"}
    flow: [{message: m}]
    parametrize:
      - {p: ~}
      - {p: ~}
""",
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert (
        "twice.scenario.yaml:7: scenarios[0].parametrize.p[3]: the value '1' is given twice "
        "in this list (also at parametrize.p[0]); each value makes a case: remove one"
    ) in out
    assert (
        "twice.scenario.yaml:13: scenarios[1].parametrize[1]: this case is the same as "
        "parametrize[0]; remove one"
    ) in out


def test_checks_that_could_never_be_met_are_refused(scenario_env: pytest.Pytester) -> None:
    """A request has one text per header name, whatever its case: two names differing in
    case, a list, a mapping or null as a header's value never matched, and showed only
    once the scenario ran. ``{skipif: 'False'}`` (or a Python condition as text) was the
    reason of a skipif without a condition: skipped always, where pytest reads the text
    as the condition. ``parametrize: {p: 1}`` was "unknown parameter ${p}; parameters
    are: none (add parametrize:)"."""
    scenario_env.makefile(
        ".scenario.yaml",
        never=_file(
            "expect: {requests: [{path: /a, headers: {Content-Type: a, content-type: b}}]}",
            "expect: {requests: [{path: /a, headers: {X-A: [a, b]}}]}",
            "expect: {requests: [{path: /a, headers: {X-A: }}]}",
            "expect: {requests: [{path: /a, headers: {X-A: {equal: {k: 1}}}}]}",
            "marks: [{skipif: 'False'}]",
            "marks: [{skipif: \"sys.platform == 'win32'\"}]",
            "marks: [{skipif: false}]",
            "variables: {v: '${p}'}, parametrize: {p: 1}",
        ),
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "Traceback" not in out
    expected = [
        "expect.requests[0].headers: 'Content-Type' and 'content-type' name the same header "
        "(header names are case-insensitive); give it once",
        "expect.requests[0].headers: X-A: a header's value is text, never a list; a header "
        "sent twice arrives as its values joined with ', ' (write 'a, b', or use contains:)",
        "expect.requests[0].headers: X-A: a header's value is text, never null; for a header "
        "that must not be sent, write {absent: true}",
        "expect.requests[0].headers: X-A: a header's value is text, never a mapping",
        "marks: {skipif: 'False'}: a skipif without a condition skips always (the text is "
        "its reason); write {skipif: {condition: ..., reason: ...}}, or {skip: why} to skip "
        "always",
        "marks: {skipif: \"sys.platform == 'win32'\"}: a skipif without a condition",
        "marks: {skipif: false}: the argument is the reason, so this would skip the scenario "
        "always; give a reason as text ({skip: why} to skip always); for a condition write "
        "{skipif: {condition: false, reason: ...}}",
        "parametrize: {name: [values]} (every combination; each list not empty) or a list "
        "of {name: value} cases; got {'p': 1}",
    ]
    assert f"{len(expected)} problem(s) in " in out
    for index, message in enumerate(expected):
        assert f"never.scenario.yaml:{index + 2}: scenarios[{index}].{message}" in out, message


def test_what_reads_right_is_kept(scenario_env: pytest.Pytester) -> None:
    """Kept: YAML's merge keys work (``<<: *a``, keys written beside it win); an alias is
    built anew where it is used, so nothing written once is shared and changed; a
    header matched in any case once; ``{skip: why}``; a skipif with its condition."""
    scenario_env.makefile(
        ".scenario.yaml",
        kept="""scenarios:
  - &first
    name: first
    variables: &vars {code: "1"}
    flow:
      - &hook {webhook: {url: "{mock.url}/a", method: JSON POST, params: [[code, "{code}"]]}}
    mock: {stubs: [{request: {path: /a}}]}
    expect:
      requests: [{path: /a, headers: {content-TYPE: {contains: json}}, json: {code: "1"}}]
  - <<: *first
    name: second
    variables: {<<: *vars, code: "2"}
    expect: {requests: [{path: /a, json: {code: "2"}}]}
  - name: skipped
    flow: [*hook]
    marks: [{skip: why}, {skipif: {condition: "sys.platform == 'nowhere'", reason: r}}]
""",
    )
    result = scenario_env.runpytest_subprocess("-q", "-p", "no:randomly", "-rs")
    result.assert_outcomes(passed=2, skipped=1)


def test_a_misspelt_crm_entity_is_refused(scenario_env: pytest.Pytester) -> None:
    """A fake CRM holds no records of a type it does not know: Bitrix24's ``leads:`` (it
    says ``lead``), ``Lead:`` or amoCRM's ``lead:`` with ``count: 0`` passed always."""
    scenario_env.makefile(
        ".scenario.yaml",
        entities=_file(
            "mock: {crm: {bitrix24: {}}}, expect: {crm: {bitrix24: {leads: {count: 0}}}}",
            "mock: {crm: {bitrix24: {}}}, expect: {crm: {bitrix24: {Lead: {count: 0}}}}",
            "mock: {crm: {amocrm: {}}}, expect: {crm: {amocrm: {lead: {count: 0}}}}",
        ),
        right=_file(
            "mock: {crm: {bitrix24: {}}}, expect: {crm: {bitrix24: {lead: {count: 0}}}}",
            "mock: {crm: {amocrm: {}}}, expect: {crm: {amocrm: {leads: {count: 0}}}}",
        ),
    )
    result = scenario_env.runpytest_subprocess(
        "-q", "-p", "no:randomly", "--continue-on-collection-errors"
    )
    out = result.stdout.str()
    assert "Traceback" not in out
    for index, (crm, entity, meant, known) in enumerate(
        [
            ("bitrix24", "leads", "lead", "lead, contact, deal, company"),
            ("bitrix24", "Lead", "lead", "lead, contact, deal, company"),
            ("amocrm", "lead", "leads", "leads, contacts, companies"),
        ]
    ):
        assert (
            f"entities.scenario.yaml:{index + 2}: scenarios[{index}].expect.crm: {crm}.{entity}: "
            f"no such entity in the fake {crm}; did you mean {meant!r}? (its entities: {known})"
        ) in out
    result.assert_outcomes(passed=2, errors=1)
