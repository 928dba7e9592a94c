"""The scenarios plugin, run through pytest itself (pytester): collection, reports, options."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CONFORMANCE = ROOT / "scenarios" / "conformance"

GOOD = """\
scenarios:
  - name: promo code
    rules: [D2]
    marks: [smoke]
    flow:
      - webhook: {url: "{mock.url}/promo", method: GET, save_to: result}
      - message: "{result.code}"
    mock:
      stubs:
        - request: {path: /promo}
          response: {json: {code: ABC}}
    expect:
      messages: [ABC]

  - name: skipped one
    marks: [{skip: not today}]
    flow: [{message: x}]

  - name: known bug
    marks: [{xfail: the far side is wrong}]
    flow: [{message: x}]
    expect:
      messages: [y]

  - name: wrong code
    flow:
      - webhook: {url: "{mock.url}/promo", method: GET, save_to: result}
    mock:
      stubs:
        - request: {path: /promo}
          response: {json: {code: ABC}}
    expect:
      variables: {result.code: XYZ}
"""


@pytest.fixture
def env(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    pytester.makeini(
        "[pytest]\nmarkers =\n    smoke: quick ones\n"
        "asyncio_default_fixture_loop_scope = function\n"
    )
    return pytester


MARKS = """\
scenarios:
  - name: skipped on this system
    marks: [{skipif: {condition: "sys.platform == '%s'", reason: not here}}]
    flow: [{message: x}]
  - name: kept elsewhere
    marks: [{skipif: {condition: "sys.platform == 'nowhere'", reason: never}}, smoke]
    flow: [{message: x}]
  - name: with arguments
    marks: [{smoke: [1, 2]}]
    flow: [{message: x}]
"""


def test_marks_take_keyword_and_positional_arguments(env: pytest.Pytester) -> None:
    env.makefile(".scenario.yaml", marks=MARKS % sys.platform)
    env.makeconftest(
        """
        def pytest_collection_modifyitems(items):
            for item in items:
                print("ARGS", item.name, [m.args for m in item.iter_markers("smoke")])
        """
    )
    result = env.runpytest_subprocess("-rs", "-s")
    result.assert_outcomes(passed=2, skipped=1)
    result.stdout.fnmatch_lines(
        [
            "ARGS kept elsewhere [()]",
            "ARGS with arguments [(1, 2)]",
            "SKIPPED * marks.scenario.yaml:2: not here",
        ]
    )


def test_an_unregistered_mark_under_strict_markers_names_file_and_line(
    env: pytest.Pytester,
) -> None:
    env.makefile(
        ".scenario.yaml",
        marks="scenarios:\n  - name: a\n    flow: [{message: x}]\n"
        "  - name: b\n    marks: [smoke, nightly]\n    flow: [{message: x}]\n",
    )
    result = env.runpytest_subprocess("--strict-markers")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(
        ["*marks.scenario.yaml:5: scenarios?1?.marks: 'nightly' not found in `markers`*"]
    )
    assert "Traceback" not in result.stdout.str()


RULED = """\
scenarios:
  - name: pins E1
    rules: [E1, E2]
    flow: [{message: x}]
  - name: pins C9
    rules: [C9]
    flow: [{message: x}]
  - name: pins nothing
    flow: [{message: x}]
"""


@pytest.mark.parametrize(
    ("options", "selected"),
    [
        (["--rule", "E1"], ["pins E1"]),
        (["--rule", "e2,c9"], ["pins C9", "pins E1", "test_marked"]),
        (["--rule", "C9", "--rule", "A1"], ["pins C9"]),
        (["-k", "C9"], ["pins C9"]),
        (["-k", "E1 or C9"], ["pins C9", "pins E1"]),
    ],
)
def test_selecting_by_rule(env: pytest.Pytester, options: list[str], selected: list[str]) -> None:
    env.makefile(".scenario.yaml", ruled=RULED)
    env.makepyfile(
        test_python="""
        import pytest

        @pytest.mark.rule("E2")
        def test_marked():
            pass

        def test_unmarked():
            pass
        """
    )
    result = env.runpytest_subprocess("--collect-only", "-q", *options)
    names = sorted(line.split("::")[-1] for line in result.stdout.lines if "::" in line)
    assert names == sorted(selected)


def test_the_conformance_report_as_json(env: pytest.Pytester) -> None:
    env.makefile(".scenario.yaml", checks=GOOD)
    result = env.runpytest_subprocess(
        "-n", "2", "--conformance-json", "out/report.json", "--conformance-report=on"
    )
    result.stdout.fnmatch_lines(["*conformance report (JSON): written to out/report.json*"])
    data = json.loads((env.path / "out" / "report.json").read_text(encoding="utf-8"))
    assert data["implementation"] == "webhook_core (reference)"
    assert data["outcomes"] == {"failed": 1, "passed": 1, "skipped": 1, "xfailed": 1}
    assert data["rules"]["D2"] == {"scenarios": 1, "passed": 1, "verdict": "conforms"}
    assert data["rules"]["A1"]["verdict"] == "not run"
    assert "A1" in data["not_run"]
    assert "D2" not in data["not_run"]
    assert data["conforming"] == 1
    assert data["scenarios"]["checks.scenario.yaml::wrong code"] == {
        "rules": [],
        "outcome": "failed",
        "not_judged": [],
    }


def test_a_qa_engineers_own_failing_scenario_is_a_failed_scenario_not_a_verdict(
    env: pytest.Pytester,
) -> None:
    mine = GOOD.replace("expect:\n      messages: [ABC]", "expect:\n      messages: [XYZ]")
    env.makefile(".scenario.yaml", mine=mine)
    result = env.runpytest_subprocess("-p", "no:randomly")
    result.assert_outcomes(passed=0, failed=2, skipped=1, xfailed=1)
    assert "conformance report" not in result.stdout.str()
    assert "DOES NOT CONFORM" not in result.stdout.str()
    # Asked for, the report judges them; --rule asks for it too; off silences the suite's.
    on = env.runpytest_subprocess("--conformance-report=on")
    on.stdout.fnmatch_lines(["*conformance report*", "*D2 * 1 * 0  DOES NOT CONFORM*"])
    ruled = env.runpytest_subprocess("--rule", "D2")
    ruled.stdout.fnmatch_lines(["*D2 * 1 * 0  DOES NOT CONFORM*"])
    shutil.copytree(CONFORMANCE, env.path / "conformance")
    suite = env.runpytest_subprocess("conformance/f_flow.scenario.yaml", "mine.scenario.yaml")
    suite.stdout.fnmatch_lines(["*conformance report*", "*F1 * conforms*"])
    assert "DOES NOT CONFORM" not in suite.stdout.str()
    off = env.runpytest_subprocess("conformance/f_flow.scenario.yaml", "--conformance-report=off")
    assert "conformance report" not in off.stdout.str()


def test_a_conformance_json_that_cannot_be_written_fails_the_run(env: pytest.Pytester) -> None:
    env.makefile(".scenario.yaml", one="name: one\nflow: [{message: x}]\n")
    (env.path / "blocker").write_text("")
    result = env.runpytest_subprocess("-o", "scenario_conformance_json=blocker/report.json")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stdout.fnmatch_lines(["*conformance report (JSON): cannot write blocker/report.json*"])


SLOW = """\
scenarios:
  - name: a delay under the default limit
    flow: [{message: x}]
    mock:
      strict: false
      stubs:
        - request: {path: /x}
          response: {delay_ms: 2500}
  - name: a hang under a short limit
    time_limit: 300ms
    flow: [{message: x}]
    mock:
      strict: false
      stubs:
        - request: {path: /y}
          responses: [{text: ok}, {fault: {type: no_response, seconds: 30}}]
  - name: a portal that hangs after the write
    flow: [{message: x}]
    mock:
      crm:
        bitrix24:
          faults: [{method: crm.lead.add, kind: commit_then_hang}]
"""


def test_a_stub_that_holds_its_answer_warns_at_collection(env: pytest.Pytester) -> None:
    env.makefile(".scenario.yaml", slow=SLOW)
    result = env.runpytest_subprocess("-p", "no:cacheprovider", "--collect-only", "-q")
    result.stdout.fnmatch_lines(
        [
            "*slow.scenario.yaml:7: SlowScenarioWarning: scenario 'a delay under the default "
            "limit': delay_ms: 2500 holds the answer, so each attempt that meets it waits 2s500ms "
            "of real time*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*slow.scenario.yaml:22: SlowScenarioWarning: scenario 'a portal that hangs after "
            "the write': bitrix24's commit_then_hang fault holds the answer, so each attempt "
            "that meets it waits 10s of real time*",
        ]
    )
    assert "a hang under a short limit" not in result.stdout.str().split("warnings summary")[1]


def test_an_unknown_rule_is_a_usage_error(env: pytest.Pytester) -> None:
    env.makefile(".scenario.yaml", ruled=RULED)
    result = env.runpytest_subprocess("--rule", "E1,Z9")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--rule: Z9 is not a rule of the contract" in result.stderr.str()


def test_items_marks_and_report(env: pytest.Pytester) -> None:
    env.makefile(".scenario.yaml", checks=GOOD)
    result = env.runpytest_subprocess("-v", "-rA", "--conformance-report=on")
    result.assert_outcomes(passed=1, failed=1, skipped=1, xfailed=1)
    result.stdout.fnmatch_lines(
        [
            "*checks.scenario.yaml::promo code PASSED*",
            "*checks.scenario.yaml::skipped one SKIPPED*",
        ]
    )
    result.stdout.fnmatch_lines(
        [
            "*Scenario 'wrong code' failed: 1 expectation(s) not met",
            "*at *checks.scenario.yaml:25",
            "*1) expect.variables.result.code: variable result.code: "
            "expected equal 'XYZ', got 'ABC'",
            "*checks.scenario.yaml:33",
            "*33 |       variables: {result.code: XYZ}",
            "*What happened*",
        ]
    )
    assert "Traceback" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*conformance report*", "*D2 * 1 * 1  conforms*"])
    selected = env.runpytest_subprocess("-m", "smoke")
    selected.assert_outcomes(passed=1, deselected=3)


def test_collection_errors_are_all_reported_without_traceback(env: pytest.Pytester) -> None:
    env.makefile(
        ".scenario.yaml",
        bad="""\
scenarios:
  - name: x
    flow:
      - webhook: {url: "{mock.url}", method: HEAD}
  - name: y
    flow: [{mesage: hi}]
""",
    )
    result = env.runpytest_subprocess()
    assert result.ret == 2
    text = result.stdout.str()
    assert "ERROR bad.scenario.yaml" in text
    assert "2 problem(s) in " in text
    assert (
        "bad.scenario.yaml:4: scenarios[0].flow[0].webhook.method: one of GET, POST, JSON POST, "
        "PUT, PATCH, DELETE; got 'HEAD'" in text
    )
    assert (
        "bad.scenario.yaml:6: scenarios[1].flow[0].mesage: unknown field; did you mean 'message'?"
        in text
    )
    assert "Traceback" not in text


def test_reportinfo_points_at_the_scenario_line(env: pytest.Pytester) -> None:
    env.makefile(".scenario.yaml", checks=GOOD)
    items, _ = env.inline_genitems()
    lines = {item.name: item.reportinfo()[1] for item in items}
    assert lines["promo code"] == 1
    assert lines["wrong code"] == 24


def test_python_fixtures(env: pytest.Pytester) -> None:
    env.makepyfile(
        test_fixtures="""
        from datetime import datetime, timezone

        def test_runner(scenario_runner):
            (result,) = scenario_runner({"name": "n", "flow": [{"message": "{time}"}]})
            assert result.messages[0].text == "09:00"

        def test_clock(frozen_clock):
            assert datetime.now(timezone.utc) == datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
    """
    )
    env.runpytest_subprocess().assert_outcomes(passed=2)


def test_the_runner_fixture_fails_at_the_tests_own_line(env: pytest.Pytester) -> None:
    env.makepyfile(
        test_failing="""
        def test_wrong_message(scenario_runner):
            scenario_runner({"name": "n", "flow": [{"message": "hi"}], "expect": {"messages": [1]}})

        def test_misspelt(scenario_runner):
            scenario_runner({"name": "n", "flow": [{"mesage": "hi"}]})
    """
    )
    result = env.runpytest_subprocess()
    result.assert_outcomes(failed=2)
    result.stdout.fnmatch_lines(
        [
            "E       scenarios.errors.ScenarioFailed: Scenario 'n' failed: 1 expectation(s)*",
            "E         at <dict>",  # a dict has no lines to point at
            "*expect.messages: expected 1 message(s), got 1; 1 differ*",
            "test_failing.py:2: ScenarioFailed",
            "E       scenarios.errors.ScenarioFileError: 1 problem(s) in <dict>:",
            "E         <dict>: flow?0?.mesage: unknown field; did you mean 'message'?",
            "test_failing.py:5: ScenarioFileError",
        ]
    )
    text = result.stdout.str()
    assert "runner.py" not in text
    assert "asyncio/" not in text  # no frame of the event loop's


def test_conformance_suite_under_xdist(env: pytest.Pytester) -> None:
    shutil.copytree(CONFORMANCE, env.path / "conformance")
    result = env.runpytest_subprocess("-n", "2", "conformance")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0
    assert outcomes["passed"] >= 90
    result.stdout.fnmatch_lines(["*34 of 34 rules conform*"])


def test_a_broken_implementation_fails_the_right_scenarios(env: pytest.Pytester) -> None:
    shutil.copytree(CONFORMANCE, env.path / "conformance")
    result = env.runpytest_subprocess(
        "conformance", "--sender=tests.broken_senders:literal_dots", "-p", "no:randomly"
    )
    text = result.stdout.str()
    failed = [line for line in text.splitlines() if line.startswith("FAILED conformance/")]
    for name in (
        "source example - user and group nesting as a form",
        "source example - user and group nesting as JSON",
        "keys 0..n-1 in order make a list, anything else an object",
        "POST sends the same encoding as a form body",
    ):
        assert any(name in line for line in failed), name
    result.stdout.fnmatch_lines(
        [
            "*form.user.name*equal '*'*(absent)*<<<<<*",
            "*implementation: factory tests.broken_senders:literal_dots*",
            "*C1 * DOES NOT CONFORM*",
            "*E1 * conforms*",
        ]
    )
    assert not any("retries at 5 s" in line for line in failed)


def test_an_implementation_without_retries_fails_the_schedule(env: pytest.Pytester) -> None:
    shutil.copytree(CONFORMANCE, env.path / "conformance")
    result = env.runpytest_subprocess(
        "conformance/e_retries.scenario.yaml", "--sender=tests.broken_senders:no_retries"
    )
    result.stdout.fnmatch_lines(
        [
            "*expect.attempts: expected 5 attempt(s) at these offsets, got 1; 4 differ*",
            "*E1 * DOES NOT CONFORM*",
        ]
    )


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (
            "retries_now",
            "*flow[[]0]: the implementation asked to retry at +0s, not after attempt 1 at +0s: "
            "a retry schedule must move forward; the run stopped there*",
        ),
        (
            "retries_forever",
            "*flow[[]0]: the implementation kept retrying: 100 attempts (the contract's schedule "
            "has 6); the run stopped there*",
        ),
    ],
)
def test_an_implementation_whose_retries_never_end_is_stopped(
    env: pytest.Pytester, factory: str, message: str
) -> None:
    env.makefile(
        ".scenario.yaml",
        endless='name: endless\nflow: [{webhook: {url: "{mock.url}/x", method: GET}}]\n'
        "mock: {strict: false}\n",
    )
    result = env.runpytest_subprocess(f"--sender=tests.broken_senders:{factory}")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([message])


def test_the_whole_suite_through_a_process(env: pytest.Pytester) -> None:
    # All of it: the 1 MiB answer of rule D4 included, which is longer than a pipe
    # reader takes by default. --pyargs: as from a project that installed the package.
    result = env.runpytest_subprocess(
        "--pyargs", "scenarios.conformance", f"--sender-cmd={sys.executable} -m scenarios.adapter"
    )
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()
    assert outcomes["passed"] >= 90
    result.stdout.fnmatch_lines(
        ["*implementation: process*scenarios.adapter*", "*34 of 34 rules conform*"]
    )


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("--sender=nowhere.at.all:make", "--sender: cannot load 'nowhere.at.all:make': No module"),
        ("--sender=make", "--sender: expected module:factory, got 'make'"),
        ("--sender=os:sep", "--sender: 'os:sep' is a str; expected a factory to call"),
        ("--sender-cmd=/no/such/sender --flag", "'/no/such/sender' is not an executable program"),
        ("--sender-cmd=node 'unclosed", "No closing quotation"),
    ],
)
def test_a_wrong_implementation_option_stops_the_run_with_one_message(
    env: pytest.Pytester, option: str, message: str
) -> None:
    env.makefile(".scenario.yaml", one=GOOD)
    result = env.runpytest_subprocess(option)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str()
    assert "Traceback" not in result.stderr.str() + result.stdout.str()


def test_a_process_that_misbehaves_is_reported(env: pytest.Pytester) -> None:
    env.makefile(".scenario.yaml", one=GOOD.split("\n  - name: skipped one")[0] + "\n")
    result = env.runpytest_subprocess("--sender-cmd=python -c 'print(42)'")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*--sender-cmd answered 42; expected a JSON object*"])


GC_PROBE = """\
import gc

COLLECTING = gc.isenabled()  # this module is collected after one.scenario.yaml

def test_probe():
    print("FROZEN", gc.get_freeze_count() > 0)
    print("GC WHILE COLLECTING", COLLECTING, "AFTER", gc.isenabled())
"""


@pytest.mark.parametrize(
    ("with_scenarios", "ini", "frozen"),
    [
        pytest.param(True, None, True, id="scenarios-freeze"),
        pytest.param(True, "false", False, id="opted-out"),
        pytest.param(False, None, False, id="no-scenarios-no-freeze"),
    ],
)
def test_gc_freeze_after_collecting_scenarios(
    env: pytest.Pytester, with_scenarios: bool, ini: str | None, frozen: bool
) -> None:
    env.makepyfile(test_probe=GC_PROBE)
    if with_scenarios:
        env.makefile(".scenario.yaml", one="name: one\nflow: [{message: x}]\n")
    options = ["-s", "-p", "no:cacheprovider"]
    if ini is not None:
        options += ["-o", f"scenario_gc_freeze={ini}"]
    result = env.runpytest_subprocess(*options)
    result.assert_outcomes(passed=2 if with_scenarios else 1)
    result.stdout.fnmatch_lines([f"*FROZEN {frozen}*"])
    # From the first scenario file to the end of collection, no automatic collections;
    # always back on for the run.
    result.stdout.fnmatch_lines([f"*GC WHILE COLLECTING {not frozen} AFTER True*"])


def test_gc_comes_back_on_when_collection_fails(env: pytest.Pytester) -> None:
    env.makefile(".scenario.yaml", one="name: one\nflow: [{message: x}]\n")
    env.makefile(".scenario.yaml", two="name: two\nflow: [{mesage: x}]\n")
    env.makeconftest(
        """
        import gc, pytest
        @pytest.hookimpl(trylast=True)
        def pytest_sessionfinish(session):
            print("GC AT THE END", gc.isenabled())
        """
    )
    result = env.runpytest_subprocess("-s", "-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*GC AT THE END True*"])


# --- a suite split across machines ----------------------------------------------------


def _merge(*args: str) -> tuple[int, str, str]:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "scenarios.merge", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


def test_a_suite_split_across_machines_merges_into_one_verdict(env: pytest.Pytester) -> None:
    shutil.copytree(CONFORMANCE, env.path / "conformance")
    whole = env.runpytest_subprocess("conformance", "--collect-only", "-q")
    total = sum("::" in line for line in whole.stdout.lines)
    ran: list[int] = []
    for k in (1, 2, 3):
        shard = env.runpytest_subprocess(
            "conformance", "--shard", f"{k}/3", "--conformance-json", f"shard-{k}.json"
        )
        outcomes = shard.parseoutcomes()
        assert outcomes.get("failed", 0) == 0
        ran.append(outcomes.get("passed", 0) + outcomes.get("skipped", 0))
    assert sum(ran) == total
    assert all(ran)
    parts = [json.loads((env.path / f"shard-{k}.json").read_text()) for k in (1, 2, 3)]
    ids = [set(part["scenarios"]) for part in parts]
    assert not (ids[0] & ids[1])
    assert not (ids[1] & ids[2])
    assert not (ids[0] & ids[2])
    status, out, _ = _merge(*(str(env.path / f"shard-{k}.json") for k in (1, 2, 3)),
                            "-o", str(env.path / "merged.json"))  # fmt: skip
    assert status == 0, out
    assert f"merged 3 report(s), {total} scenario(s)" in out
    assert out.rstrip().endswith("34 of 34 rules conform")
    merged = json.loads((env.path / "merged.json").read_text())
    assert merged["conforming"] == 34
    assert len(merged["scenarios"]) == total
    # The same scenario in two reports: the shards overlap.
    status, _, err = _merge(str(env.path / "shard-1.json"), str(env.path / "shard-1.json"))
    assert status == 2
    assert "the shards overlap" in err


def test_merged_shards_of_a_wrong_implementation_do_not_conform(env: pytest.Pytester) -> None:
    shutil.copytree(CONFORMANCE, env.path / "conformance")
    for k in (1, 2):
        env.runpytest_subprocess(
            "conformance/c_request.scenario.yaml", "--shard", f"{k}/2",
            "--sender=tests.mutants.catalogue:LiteralDots", "--conformance-json", f"m{k}.json",
        )  # fmt: skip
    status, out, _ = _merge(str(env.path / "m1.json"), str(env.path / "m2.json"))
    assert status == 1
    assert "DOES NOT CONFORM" in out
    env.runpytest_subprocess(
        "conformance/c_request.scenario.yaml", "--shard", "2/2", "--conformance-json", "ref.json"
    )
    status, _, err = _merge(str(env.path / "m1.json"), str(env.path / "ref.json"))
    assert status == 2
    assert "reports of different runs cannot make one verdict" in err


@pytest.mark.parametrize("shard", ["0/2", "3/2", "x", "1/0", "1-2"])
def test_a_wrong_shard_is_a_usage_error(env: pytest.Pytester, shard: str) -> None:
    env.makefile(".scenario.yaml", one="name: one\nflow: [{message: x}]\n")
    result = env.runpytest_subprocess("--shard", shard)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--shard: expected K/N with 1 <= K <= N" in result.stderr.str()


def test_merge_names_the_report_it_cannot_read(tmp_path: Path) -> None:
    (tmp_path / "junk.json").write_text("{not json")
    (tmp_path / "other.json").write_text('{"format": 1}')
    status, _, err = _merge(str(tmp_path / "junk.json"))
    assert status == 2
    assert f"{tmp_path / 'junk.json'}: not JSON" in err
    status, _, err = _merge(str(tmp_path / "other.json"))
    assert status == 2
    assert "not a --conformance-json report of format 2" in err
    status, _, err = _merge(str(tmp_path / "missing.json"))
    assert status == 2
    assert "cannot read it" in err
    assert "Traceback" not in err


def test_a_delivery_only_implementation_is_never_certified_for_what_it_does_not_do(
    env: pytest.Pytester,
) -> None:
    shutil.copytree(CONFORMANCE, env.path / "conformance")
    result = env.runpytest_subprocess(
        "conformance", "--sender=tests.broken_senders:delivery_only",
        "--conformance-json", "report.json", "--scenario-html", "report.html",
    )  # fmt: skip
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0
    result.stdout.fnmatch_lines(
        [
            "*capabilities: delivers webhooks only (renders: false); over_limit: fail*",
            "*B5 * not judged*",
            "*E4 * conforms*",
            "*not judged: the harness did part of the work for this implementation*F1, F2",
        ]
    )
    data = json.loads((env.path / "report.json").read_text())
    assert data["capabilities"] == {"name": "delivery only", "renders": False, "over_limit": "fail"}
    assert data["rules"]["B5"]["verdict"] == "not judged"
    assert data["rules"]["C4"]["verdict"] == "conforms"
    assert data["not_judged"] == [f"B{i}" for i in range(1, 9)] + ["F1", "F2"]
    assert "34 of 34 rules conform" not in result.stdout.str()
    (ignore,) = [e for i, e in data["scenarios"].items() if "ignore blocks are output" in i]
    assert ignore == {"rules": ["B5"], "outcome": "passed", "not_judged": ["B5"]}
    # The HTML report's matrix gives the same verdicts as the terminal and the JSON.
    page = (env.path / "report.html").read_text()
    b5 = page[page.index(">B5<") :]
    b5 = b5[: b5.index("</tr>")]
    assert "not judged" in b5
    assert "conforms" not in b5


def test_an_implementation_of_the_first_protocol_still_runs_but_b8_is_not_judged(
    env: pytest.Pytester,
) -> None:
    shutil.copytree(CONFORMANCE, env.path / "conformance")
    result = env.runpytest_subprocess("conformance", "--sender=tests.broken_senders:legacy")
    outcomes = result.parseoutcomes()
    assert outcomes.get("failed", 0) == 0, result.stdout.str()
    result.stdout.fnmatch_lines(["*B8 * not judged*", "*C8 * conforms*"])
    # A failure still counts: a wrong one of the first protocol does not conform.
    broken = env.runpytest_subprocess(
        "conformance/c_request.scenario.yaml", "--sender=tests.broken_senders:legacy_literal_dots"
    )
    broken.stdout.fnmatch_lines(["*C1 * DOES NOT CONFORM*"])
