"""Scenario files mean what they say (a seventh probe): values the harness read as
something else, silently. A quoted ``"off"``, ``"no"``, ``"yes"`` or ``"0"`` and the
numbers 0 and 1 were booleans in ``mock.strict``, ``expect.in_order``, an attempt's
``ok``, ``when.renders`` and xfail's ``strict``/``run`` (pydantic's lax mode); ``"2"``,
``2.0`` and ``1_000`` were the counts 2, 2 and 1000; ``expect.requests: []`` and an empty
``expect.crm`` entry checked nothing; a parameter of null, a list or a mapping put into
text became Python's ``None``, ``[1, 2]``, ``{'k': 1}``; ``{skipif: false}`` skipped
always (the argument is the reason); ``- webhook:`` with nothing under it was a block
doing nothing and ``bitrix24:`` mounted no portal; ``{mock.bitrix24}`` with no fake Bitrix24 was
rendered as nothing, and the run failed on the URL left. Each is now a problem at its
line, at collection, through the real plugin."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.scenario_files import one_line_scenarios as _file

ROOT = Path(__file__).resolve().parent.parent


#: Each wrong boolean, and the problem its line (2 + its index) must show.
BOOLEANS = [
    ('mock: {strict: "off"}', "mock.strict: true or false, not text; got 'off'"),
    ("mock: {strict: 'no'}", "mock.strict: true or false, not text; got 'no'"),
    ("mock: {strict: 0}", "mock.strict: true or false, not a number; got 0"),
    ('expect: {in_order: "yes"}', "expect.in_order: true or false, not text; got 'yes'"),
    ("expect: {in_order: 1}", "expect.in_order: true or false, not a number; got 1"),
    (
        'expect: {attempts: [{at: 0s, ok: "0"}]}',
        "expect.attempts[0].ok: true or false, not text; got '0'",
    ),
    ('when: {renders: "no"}', "when.renders: true or false, not text; got 'no'"),
    (
        'mock: {crm: {amocrm: {duplicate_control: "off"}}}',
        "mock.crm.amocrm.duplicate_control: true or false, not text; got 'off'",
    ),
    (
        'mock: {stubs: [{request: {path: /a}, optional: "yes"}]}',
        "mock.stubs[0].optional: true or false, not text; got 'yes'",
    ),
]

#: Each wrong count or status, and its problem.
NUMBERS = [
    (
        'expect: {requests: [{path: /a, count: "2"}]}',
        "expect.requests[0].count: a whole number, not text (write 2 without quotes); got '2'",
    ),
    (
        "expect: {requests: [{path: /a, count: 2.0}]}",
        "expect.requests[0].count: a whole number, written without a fraction or an exponent",
    ),
    (
        "expect: {requests: [{path: /a, count: 0x10}]}",
        "expect.requests[0].count: a whole number, not text; got '0x10'",
    ),
    (
        "expect: {requests: [{path: /a, at_least: 1_000}]}",
        "expect.requests[0].at_least: a whole number, not text; got '1_000'",
    ),
    ('expect: {requests_total: "3"}', "expect.requests_total: a whole number, not text"),
    (
        'expect: {attempts: [{at: 0s, status: "200"}]}',
        "expect.attempts[0].status: a whole number, not text (write 200 without quotes)",
    ),
    (
        "expect: {attempts: [{at: 0s, status: 200.0}]}",
        "expect.attempts[0].status: a whole number, written without a fraction",
    ),
    (
        "expect: {crm: {bitrix24: {leads: {count: '1'}}}}",
        "expect.crm.bitrix24.leads.count: a whole number, not text",
    ),
]

#: Expectations that checked nothing, and the problem.
EMPTY = [
    (
        "expect: {requests: []}",
        "expect.requests: a list of at least 1 request pattern (an empty list checks "
        "nothing); to say that no request arrived, write requests_total: 0",
    ),
    ("expect: {crm: {bitrix24: {}}}", "expect.crm.bitrix24: a mapping of at least 1 item"),
    (
        "expect: {crm: {bitrix24: {leads: {}}}}",
        "expect.crm.bitrix24.leads: count or records (not empty): an empty mapping checks nothing",
    ),
    (
        "expect: {crm: {amocrm: {leads: {records: []}}}}",
        "expect.crm.amocrm.leads: count or records (not empty): an empty records list "
        "without count checks nothing; to say there are none, write count: 0",
    ),
]


def test_values_read_as_something_else_are_refused_at_their_line(
    scenario_env: pytest.Pytester,
) -> None:
    files = {"booleans": BOOLEANS, "numbers": NUMBERS, "empty": EMPTY}
    for stem, cases in files.items():
        scenario_env.makefile(".scenario.yaml", **{stem: _file(*(body for body, _ in cases))})
    scenario_env.makefile(
        ".scenario.yaml",
        # Marks are checked once the file's scenarios are read: a file of their own.
        xfail="""scenarios:
  - {name: a, flow: [{message: m}], marks: [{xfail: {strict: "no", reason: r}}]}
  - {name: b, flow: [{message: m}], marks: [{xfail: {run: '0', reason: r}}]}
  - {name: c, flow: [{message: m}], marks: [{xfail: {strict: 1, reason: r}}]}
  - {name: d, flow: [{message: m}], marks: [{xfail: {strict: off, run: yes}}]}
""",
        reasons="""scenarios:
  - {name: a, flow: [{message: m}], marks: [{skipif: false}]}
  - {name: b, flow: [{message: m}], marks: [{xfail: no}]}
  - {name: c, flow: [{message: m}], marks: [{skip: ~}]}
""",
        mockrefs="""scenarios:
  - name: no portal
    flow: [{webhook: {url: '{mock.bitrix24}/crm.lead.add.json', method: POST}}]
  - name: misspelt
    mock: {crm: {amocrm: {}}}
    flow: [{message: 'token {mock.amocrm_tokn}'}, {message: '{mock.url} {mock.host} {mock}'}]
""",
        nulls="""scenarios:
  - name: webhook indented wrong
    flow:
      - webhook:
      - message: m
  - {name: no message, flow: [{message: }]}
  - {name: no portal, flow: [{message: m}], mock: {crm: {bitrix24: }}}
""",
        params="""scenarios:
  - name: null in text ${code}
    flow: [{message: m}]
    parametrize: {code: [1, ~]}
  - name: list
    flow: [{message: 'codes ${codes}'}]
    parametrize: [{codes: 1}, {codes: [1, 2]}]
  - name: whole values keep their type
    variables: {codes: '${codes}'}
    flow: [{message: m}]
    parametrize: {codes: [~, [1, 2], {k: 1}]}
""",
    )
    result = scenario_env.runpytest_subprocess("--co", "-q", "-p", "no:randomly")
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.INTERRUPTED, out
    assert "Traceback" not in out
    for stem, cases in files.items():
        assert f"{len(cases)} problem(s) in " in out
        for index, (_, message) in enumerate(cases):
            assert f"{stem}.scenario.yaml:{index + 2}: scenarios[{index}].{message}" in out
    assert (
        "xfail.scenario.yaml:2: scenarios[0].marks: xfail: strict: true or false; "
        "got 'no' (text, being quoted)"
    ) in out
    assert "xfail.scenario.yaml:3: scenarios[1].marks: xfail: run: true or false; got '0'" in out
    assert (
        "xfail.scenario.yaml:4: scenarios[2].marks: xfail: strict: true or false; got 1 (a number)"
    ) in out
    assert "xfail.scenario.yaml:5:" not in out  # plain off and yes are YAML 1.1's booleans
    assert (
        "reasons.scenario.yaml:2: scenarios[0].marks: {skipif: false}: the argument is the "
        "reason, so this would skip the scenario always; give a reason as text ({skip: "
        "why} to skip always); for a condition write {skipif: {condition: false, reason: ...}}"
    ) in out
    assert "reasons.scenario.yaml:3: scenarios[1].marks: {xfail: no}: the argument" in out
    assert (
        "reasons.scenario.yaml:4: scenarios[2].marks: {skip: null}: the reason is text "
        "({skip: why}); null was the reason 'None'"
    ) in out
    assert (
        "mockrefs.scenario.yaml:3: scenarios[0].flow[0].webhook.url: {mock.bitrix24} is the "
        "fake Bitrix24's, and this scenario has none: add mock: {crm: {bitrix24: {}}}"
    ) in out
    assert (
        "mockrefs.scenario.yaml:6: scenarios[1].flow[0].message: {mock.amocrm_tokn} is not "
        "the harness's; did you mean {mock.amocrm_token}? this scenario has {mock.url}, "
        "{mock.host}, {mock.amocrm}, "
    ) in out
    assert "scenarios[1].flow[1]" not in out
    assert (
        "nulls.scenario.yaml:4: scenarios[0].flow[0]: webhook: a mapping (url:, method:, ...) "
        "indented under it; got null, which would make a block doing nothing"
    ) in out
    assert (
        "nulls.scenario.yaml:6: scenarios[1].flow[0]: message: text ('' for an empty "
        "message); got null"
    ) in out
    assert (
        "nulls.scenario.yaml:7: scenarios[2].mock.crm: bitrix24: a mapping of its settings, "
        "{} for the defaults; got null, which would mount no fake bitrix24"
    ) in out
    assert (
        "params.scenario.yaml:2: scenarios[0].name: the parameter 'code' is null in this "
        "case, and ${code} inside text takes text, a number or a boolean; to keep null, "
        "make the value exactly '${code}'"
    ) in out
    assert (
        "params.scenario.yaml:6: scenarios[1].flow[0].message: the parameter 'codes' is a "
        "list in this case"
    ) in out
    assert "params.scenario.yaml:8" not in out
    assert "params.scenario.yaml:9" not in out


def test_plain_yaml_words_are_the_booleans_they_say(scenario_env: pytest.Pytester) -> None:
    """``strict: no`` (unquoted, YAML 1.1's false) still turns strictness off, as a stub's
    ``optional: yes`` is true: the decision of the fourth probe, kept; so does a mark's
    ``condition: no``, which was the text "no" (a NameError once pytest evaluated it)."""
    scenario_env.makefile(
        ".scenario.yaml",
        words="""scenarios:
  - name: not strict
    flow: [{message: m}]
    mock: {strict: no, stubs: [{request: {path: /never}}]}
    expect: {in_order: Off, requests: [{path: /never, count: 0}], requests_total: 0}
  - name: strict
    flow: [{message: m}]
    mock: {strict: true, stubs: [{request: {path: /never}}]}
  - name: skipped when yes
    flow: [{message: m}]
    marks: [{skipif: {condition: yes, reason: said yes}}]
  - name: run when no
    flow: [{message: m}]
    marks: [{skipif: {condition: no, reason: said no}}, {xfail: {condition: off, reason: r}}]
""",
    )
    result = scenario_env.runpytest_subprocess("-q", "-p", "no:randomly", "-rs")
    # `condition: no` was the text "no", which pytest evaluates as Python: a NameError.
    result.assert_outcomes(passed=2, failed=1, skipped=1)
    result.stdout.fnmatch_lines(["Scenario 'strict' failed*", "SKIPPED * said yes"])


SENDER = r"""
import json, sys
for line in sys.stdin:
    op = json.loads(line).get("op")
    if op == "hello":
        print('{"protocol": 2, "renders": true}', flush=True)
    elif op == "render":
        print('{"value": "hi", "missing": []}', flush=True)
    elif op == "attempt":
        print(json.dumps({"ok": True, "status": 200, "request": {
            "method": "GET", "url": "http://x/", "headers": [["X-Count", 5]], "body": None}}),
            flush=True)
    elif op == "close":
        break
"""


def test_a_sender_cmd_request_that_is_not_text_fails_the_scenario(
    scenario_env: pytest.Pytester,
) -> None:
    """An answer's ``request`` (shown in failure reports) was made text with ``str()``: a
    null body read "None", a header value 5 "5"; the protocol says text."""
    import sys

    scenario_env.makefile(
        ".scenario.yaml",
        s='name: s\nflow: [{webhook: {url: "{mock.url}/x", method: GET}}]\nmock: {strict: false}\n',
    )
    Path(scenario_env.path, "sender.py").write_text(SENDER, "utf-8")
    result = scenario_env.runpytest_subprocess(
        "-q", "-p", "no:randomly", "--sender-cmd", f"{sys.executable} sender.py"
    )
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, out
    # The first field that is not text, named, with what the line wrote.
    assert "(request.body: expected text; got null); see docs/sender-protocol.md" in out
    assert "Traceback" not in out


def test_the_mock_names_the_loader_knows_are_the_ones_the_runner_sets() -> None:
    """The loader refuses ``{mock.<name>}`` that the run would not have; its list must be
    the runner's, or a name the runner adds is refused (or one it drops rendered empty)."""
    import asyncio

    from mockserver import MockServer
    from scenarios.crosschecks import MOCK_CRM_KEYS, MOCK_KEYS
    from scenarios.loader import load_scenario_text
    from scenarios.runner import _mount_crms

    (loaded,) = load_scenario_text(
        "name: n\nflow: [{message: m}]\nmock: {crm: {bitrix24: {}, amocrm: {}}}\n", "n.yaml"
    )

    async def mounted() -> set[str]:
        async with MockServer() as server:
            return set(_mount_crms(loaded.scenario, server))

    every = {key for keys in MOCK_CRM_KEYS.values() for key in keys}
    assert asyncio.run(mounted()) == every
    assert not every & set(MOCK_KEYS)  # the two the runner sets whatever is mounted
