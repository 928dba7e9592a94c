"""``--sender-cmd`` answers that say something other than the protocol allows, through the
real plugin: a key given twice (Python's parser kept the last, silently), ``NaN`` or
``Infinity`` (not JSON, and saved into a variable), a status no HTTP answer has, an
error that is not text, a name that is not text. Each fails the scenario naming it."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

SENDER = r"""
import json, sys
mode = sys.argv[1]
for line in sys.stdin:
    op = json.loads(line).get("op")
    if op == "hello":
        if mode == "hello-twice":
            print('{"protocol": 2, "renders": true, "renders": false}', flush=True)
        elif mode == "hello-name":
            print('{"protocol": 2, "name": {"x": 1}}', flush=True)
        else:
            print('{"protocol": 2, "renders": true}', flush=True)
    elif op == "render":
        print('{"value": "hi", "missing": []}', flush=True)
    elif op == "attempt":
        print({
            "value-infinity": '{"ok": true, "status": 200, "value": Infinity}',
            "value-nan": '{"ok": true, "status": 200, "value": {"a": [NaN]}}',
            "ok-twice": '{"ok": false, "status": 200, "ok": true}',
            "status": '{"ok": true, "status": 99999}',
            "error": '{"ok": false, "status": 500, "error": {"a": 1}}',
        }.get(mode, '{"ok": true, "status": 200}'), flush=True)
    elif op == "close":
        break
"""

SCENARIO = """name: s
flow:
  - message: hi
  - webhook: {url: "{mock.url}/x", method: GET, save_to: r}
mock: {strict: false}
"""


@pytest.fixture
def env(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]))
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makefile(".scenario.yaml", s=SCENARIO)
    Path(pytester.path, "sender.py").write_text(SENDER, "utf-8")
    return pytester


@pytest.mark.parametrize(
    ("mode", "says"),
    [
        pytest.param(
            "hello-twice", "the key 'renders' is given twice in one object", id="hello-key-twice"
        ),
        pytest.param(
            "hello-name", "capabilities.name: expected text, got {'x': 1}", id="hello-name"
        ),
        pytest.param(
            "value-infinity",
            "Infinity is not a JSON value (JSON has no NaN or Infinity)",
            id="infinity",
        ),
        pytest.param("value-nan", "NaN is not a JSON value", id="nan-inside"),
        pytest.param("ok-twice", "the key 'ok' is given twice in one object", id="ok-twice"),
        pytest.param("status", "status: expected an HTTP status (100 to 599) or null", id="status"),
        pytest.param("error", "error: expected the failure's message as text, or null", id="error"),
    ],
)
def test_an_answer_the_protocol_does_not_allow_fails_the_scenario_naming_it(
    env: pytest.Pytester, mode: str, says: str
) -> None:
    command = f"{sys.executable} sender.py {mode}"
    result = env.runpytest_subprocess("-q", "-p", "no:randomly", "--sender-cmd", command)
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, out
    assert says in out
    assert "Traceback" not in out


def test_a_process_that_follows_the_protocol_still_passes(env: pytest.Pytester) -> None:
    command = f"{sys.executable} sender.py plain"
    result = env.runpytest_subprocess("-q", "-p", "no:randomly", "--sender-cmd", command)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()


async def test_a_silent_hello_is_named_as_such_not_as_an_attempts_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first message to a process is ``hello``, waited on for ``RENDER_WAIT``; the
    timeout said "the attempt's time limit and 30 s more" when an attempt came first."""
    import asyncio
    import shlex
    from datetime import datetime, timezone

    from scenarios import process
    from scenarios.errors import ScenarioError
    from scenarios.implementations import FlowContext
    from scenarios.process import CommandImplementation

    monkeypatch.setattr(process, "RENDER_WAIT", 0.5)
    script = tmp_path / "silent.py"
    script.write_text("import sys, time\nsys.stdin.readline()\ntime.sleep(600)\n")
    implementation = CommandImplementation(shlex.join([sys.executable, str(script)]))
    action = {"url": "http://127.0.0.1:9/x", "method": "GET", "headers": [], "params": []}
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    try:
        delivery = implementation.deliver(action, FlowContext({}, {}), time_limit=0.2)
        with pytest.raises(ScenarioError) as caught:
            await asyncio.wait_for(delivery.attempt(now), 120)
        assert "did not answer within 0.5 s (the wait for an answer to hello)" in str(caught.value)
    finally:
        await asyncio.wait_for(implementation.aclose(), 120)


CLOSES_ITS_OUTPUT = r"""
import json, os, sys, time
marker = sys.argv[1]
for line in sys.stdin:
    op = json.loads(line).get("op")
    if op == "hello":
        print('{"protocol": 2}', flush=True)
    elif op == "render":
        if not os.path.exists(marker):
            open(marker, "w").close()
            os.close(1)  # its output ends; it runs on
            time.sleep(600)
        print('{"value": "hi", "missing": []}', flush=True)
"""


async def test_a_process_whose_output_ends_while_it_runs_is_stopped_and_started_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """It was kept: every later scenario failed with 'stopped answering (exit code None)'."""
    import asyncio
    import shlex
    from datetime import datetime, timezone

    from scenarios import process
    from scenarios.errors import ScenarioError
    from scenarios.implementations import FlowContext
    from scenarios.process import CommandImplementation

    monkeypatch.setattr(process, "EXIT_WAIT", 0.5)  # it sleeps 600 s: never exits in time
    script = tmp_path / "closes.py"
    script.write_text(CLOSES_ITS_OUTPUT)
    command = shlex.join([sys.executable, str(script), str(tmp_path / "closed-once")])
    implementation = CommandImplementation(command)
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    try:
        first = implementation.render("x", FlowContext({}, {}), now=now, kind="message")
        with pytest.raises(ScenarioError, match="its output ended while it kept running"):
            await asyncio.wait_for(first, 60)
        second = implementation.render("x", FlowContext({}, {}), now=now, kind="message")
        rendered = await asyncio.wait_for(second, 60)
        assert rendered.value == "hi"
    finally:
        await asyncio.wait_for(implementation.aclose(), 120)


EXITS_SLOWLY = r"""
import json, os, sys, time
for line in sys.stdin:
    op = json.loads(line).get("op")
    if op == "hello":
        print('{"protocol": 2}', flush=True)
    elif op == "render":
        os.close(1)  # its output ends first, as when a process winds down
        time.sleep(0.5)  # then it takes its time to exit: a loaded machine
        os._exit(3)
"""


async def test_a_process_that_exits_slowly_after_its_output_ends_is_named_by_its_exit_code(
    tmp_path: Path,
) -> None:
    """The harness glanced 50 ms after the output ended: a process still exiting then (a
    slow or loaded machine) was said to "keep running", stopped, and its exit code lost."""
    import asyncio
    import shlex
    from datetime import datetime, timezone

    from scenarios.errors import ScenarioError
    from scenarios.implementations import FlowContext
    from scenarios.process import CommandImplementation

    script = tmp_path / "exits.py"
    script.write_text(EXITS_SLOWLY)
    implementation = CommandImplementation(shlex.join([sys.executable, str(script)]))
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    try:
        render = implementation.render("x", FlowContext({}, {}), now=now, kind="message")
        with pytest.raises(ScenarioError) as caught:
            await asyncio.wait_for(render, 60)
        assert "stopped answering (exit code 3)" in str(caught.value)
    finally:
        await asyncio.wait_for(implementation.aclose(), 120)
