"""The ``mockserver`` pytest fixtures, run through pytest itself."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

TESTS = """
import httpx
import pytest

def test_matched(mockserver):
    mockserver.add({"request": {"path": "/ok"}, "response": {"text": "fine"}})
    assert httpx.get(mockserver.url + "/ok").text == "fine"

def test_unmatched(mockserver):
    mockserver.add({"name": "lead", "request": {"path": "/lead"}})
    httpx.get(mockserver.url + "/lead")
    httpx.get(mockserver.url + "/leed")

def test_unused(mockserver):
    mockserver.add({"name": "never", "request": {"path": "/never"}})

@pytest.mark.mockserver_lenient
def test_lenient(mockserver):
    httpx.get(mockserver.url + "/whatever")

def test_reset_between_tests(mockserver):
    assert mockserver.stubs == [] and mockserver.requests == []

def test_factory(mockserver_factory):
    crm = mockserver_factory([{"request": {"path": "/crm"}, "response": {"json": {"id": 1}}}])
    other = mockserver_factory()
    assert crm.url != other.url
    assert httpx.get(crm.url + "/crm").json() == {"id": 1}
"""


def test_strict_by_default(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_it=TESTS)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=6, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_unmatched*",
            "*1 request(s) matched no stub*",
            "*GET /leed*",
            "*Closest stubs (1 of 1)*",
            "*1. stub 'lead' (*): 1 of 1 field(s) differ",
            "*path*/lead*/leed*<<<<<",
        ]
    )
    result.stdout.fnmatch_lines(
        ["*ERROR at teardown of test_unused*", "*1 stub(s) were never called*", "*'never'*"]
    )
    text = result.stdout.str()
    # The story is told once per failing test, not again as an exception's context.
    # (pytest's short summary repeats the message in full when it runs on CI, so
    # only the ERRORS section is counted.)
    errors = text.split("short test summary info")[0]
    assert errors.count("1 request(s) matched no stub") == 1
    assert "During handling of the above exception" not in text


def test_lenient_option(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_it=TESTS)
    result = pytester.runpytest_subprocess("--mockserver-lenient")
    result.assert_outcomes(passed=6)


def test_under_xdist(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_it=TESTS)
    result = pytester.runpytest_subprocess("-n", "2", "--mockserver-lenient")
    result.assert_outcomes(passed=6)


FAILING = """
import httpx


def test_fails_on_its_own(mockserver):
    httpx.get(mockserver.url + "/nope")
    assert False, "the test's own failure"


def test_factory_fails_on_its_own(mockserver_factory):
    server = mockserver_factory([{"request": {"path": "/never"}}])
    assert False, "another failure"
"""


def test_a_failing_test_gets_the_story_beside_its_failure_not_a_second_error(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_failing=FAILING)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(failed=2, errors=0)
    result.stdout.fnmatch_lines(
        [
            "*the test's own failure*",
            "*- mock server at http://127.0.0.1:* -*",
            "1 request(s) matched no stub",
            "GET /nope",
            "*another failure*",
            "*- mock server at http://127.0.0.1:* -*",
            "1 stub(s) were never called:",
        ]
    )
    assert "ERROR at teardown" not in result.stdout.str()


def test_an_ini_strictness_that_is_no_truth_value_stops_the_run_naming_it(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The subprocess imports this checkout's plugin, not an installed copy.
    root = Path(__file__).resolve().parent.parent
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(root), os.environ.get("PYTHONPATH", "")]))
    pytester.makeini("[pytest]\nmockserver_strict = maybe\n")
    pytester.makepyfile(test_it="def test_a(mockserver):\n    pass\n")
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*mockserver_strict*true or false*'maybe'*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


MISUSED = """
import asyncio
import httpx
import pytest

@pytest.mark.asyncio
async def test_stops_the_shared_server(mockserver):
    mockserver.add({"request": {"path": "/x"}})
    async with httpx.AsyncClient() as client:
        assert (await client.get(mockserver.url + "/x")).status_code == 200
    await asyncio.wait_for(mockserver.stop(), 30)  # from this test's loop, not the server's

def test_the_next_test_gets_a_running_server(mockserver):
    mockserver.add({"request": {"path": "/y"}})
    assert httpx.get(mockserver.url + "/y").status_code == 200

def test_a_stopped_factory_server_in_a_failing_test(mockserver_factory):
    server = mockserver_factory([{"request": {"path": "/never"}}])
    server.stop_thread()
    assert False, "the test's own failure"

def test_last(mockserver):
    pass
"""


def test_a_stopped_server_is_told_never_an_internal_error(pytester: pytest.Pytester) -> None:
    """A test that stopped its server used to end the whole run with an INTERNALERROR
    (the report hook asked the stopped server for its URL), and a test that stopped the
    shared server left every later test a stopped one."""
    pytester.makepyfile(test_it=MISUSED)
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    text = result.stdout.str()
    assert "INTERNALERROR" not in text
    result.assert_outcomes(passed=3, failed=1, errors=1)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_stops_the_shared_server*",
            "*this test stopped the mock server the `mockserver` fixture shares*",
        ]
    )
    result.stdout.fnmatch_lines(["*the test's own failure*", "*mock server (stopped)*"])
