"""``--sender-cmd``: a process that stops reading its stdin, or floods its stderr, is bounded.

Real child processes over real pipes. The waits are the harness's own time
limits (made short here): the processes never answer, so nothing depends on
how fast the machine is.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from collections.abc import Coroutine
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from scenarios import process
from scenarios.errors import ScenarioError
from scenarios.implementations import FlowContext
from scenarios.process import CommandImplementation

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
ACTION = {"url": "http://127.0.0.1:9/x", "method": "GET"}
#: More than any pipe holds: the write can only end if the process reads.
BIG = FlowContext({"saved": "x" * 4_000_000}, {})

# Answers hello, then never reads stdin again (a process stuck in its own work).
DEAF = """\
import json, sys, time
sys.stdin.readline()
sys.stdout.write(json.dumps({"protocol": 2, "renders": True}) + "\\n")
sys.stdout.flush()
time.sleep(600)
"""

# Writes a stderr line longer than the harness reads at once, then a lot more
# stderr, then answers every attempt with a failure that gives up.
NOISY = """\
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message["op"] == "close":
        break
    if message["op"] == "hello":
        sys.stdout.write(json.dumps({"protocol": 2, "renders": False}) + "\\n")
        sys.stdout.flush()
        continue
    sys.stderr.write("p" * 3_000_000 + "\\n")
    for n in range(2000):
        sys.stderr.write(f"progress {n} " + "q" * 500 + "\\n")
    sys.stderr.write("the last words\\n")
    sys.stderr.flush()
    sys.stdout.write(json.dumps({"ok": False, "error": "status 500", "retry_at": None}) + "\\n")
    sys.stdout.flush()
"""


def _command(tmp_path: Path, program: str) -> str:
    script = tmp_path / "sender.py"
    script.write_text(program)
    return shlex.join([sys.executable, str(script)])


@pytest.mark.parametrize(
    "ask",
    [
        pytest.param("attempt", id="attempt"),
        pytest.param("render", id="render"),
    ],
)
async def test_a_process_that_stops_reading_fails_the_scenario_in_its_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, ask: str
) -> None:
    monkeypatch.setattr(process, "ANSWER_GRACE", 0.3)
    monkeypatch.setattr(process, "RENDER_WAIT", 0.5)
    implementation = CommandImplementation(_command(tmp_path, DEAF))
    asked: Coroutine[Any, Any, Any]
    if ask == "attempt":
        asked = implementation.deliver(ACTION, BIG, time_limit=0.2).attempt(NOW)
    else:
        asked = implementation.render("{saved}", BIG, now=NOW, kind="message")
    try:
        with pytest.raises(ScenarioError, match="did not answer within") as caught:
            await asyncio.wait_for(asked, 120)  # only keeps a regression from freezing the suite
        assert "it was stopped" in str(caught.value)
    finally:
        await asyncio.wait_for(implementation.aclose(), 120)


async def test_closing_a_process_that_reads_nothing_does_not_hang(tmp_path: Path) -> None:
    implementation = CommandImplementation(_command(tmp_path, "import time\ntime.sleep(600)\n"))
    handle = await implementation._ensure()
    assert handle.process.stdin is not None
    handle.process.stdin.write(b"x" * 4_000_000)  # left in the pipe, never read
    await asyncio.wait_for(implementation.aclose(), 120)
    assert handle.process.returncode is not None


async def test_a_flood_of_stderr_keeps_a_short_tail_and_the_process_answering(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(process, "LINE_LIMIT", 1_000_000)
    monkeypatch.setattr(process, "ANSWER_GRACE", 0.3)
    implementation = CommandImplementation(_command(tmp_path, NOISY))
    try:
        for _ in range(2):  # stderr is still read after the long line
            delivery = implementation.deliver(ACTION, FlowContext({}, {}), time_limit=30)
            report = await asyncio.wait_for(delivery.attempt(NOW), 120)
            assert report.error == "status 500"
        handle = implementation._process
        assert handle is not None
        await asyncio.sleep(0)
        assert len(handle.stderr) <= process.STDERR_LINES
        assert all(len(line) <= process.STDERR_LINE_CHARS + 40 for line in handle.stderr)
    finally:
        await asyncio.wait_for(implementation.aclose(), 120)


# Answers hello, then every render with what ANSWER holds (a line of JSON text).
ANSWERS = """\
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message["op"] == "close":
        break
    if message["op"] == "hello":
        sys.stdout.write(json.dumps({"protocol": 2}) + "\\n")
    else:
        sys.stdout.write(ANSWER + "\\n")
    sys.stdout.flush()
"""


async def test_a_context_with_an_unpaired_surrogate_is_sent_escaped(tmp_path: Path) -> None:
    # A value the process itself saved ("\\ud83d", half an emoji) comes back in the context;
    # it has no UTF-8 form, and was reported as "a line over 64 MiB".
    program = f"ANSWER = {json.dumps(json.dumps({'value': 'ok'}))}\n{ANSWERS}"
    implementation = CommandImplementation(_command(tmp_path, program))
    try:
        context = FlowContext({"name": "Ann\ud83d"}, {})
        rendered = await asyncio.wait_for(
            implementation.render("{name}", context, now=NOW, kind="message"), 120
        )
        assert rendered.value == "ok"
    finally:
        await asyncio.wait_for(implementation.aclose(), 120)


async def test_an_answer_nested_too_deep_to_read_is_a_protocol_problem(tmp_path: Path) -> None:
    program = f"ANSWER = '[' * 100_000 + ']' * 100_000\n{ANSWERS}"
    implementation = CommandImplementation(_command(tmp_path, program))
    try:
        rendering = implementation.render("x", FlowContext({}, {}), now=NOW, kind="message")
        with pytest.raises(ScenarioError, match="which is not one JSON object per line"):
            await asyncio.wait_for(rendering, 120)
    finally:
        await asyncio.wait_for(implementation.aclose(), 120)


HELLO = '{"op": "hello", "protocol": 2}'
NOW_TEXT = "2026-01-01T09:00:00+00:00"


def _attempt_line(action: object, context: object) -> str:
    return json.dumps(
        {
            "op": "attempt",
            "delivery": "d1",
            "now": NOW_TEXT,
            "action": action,
            "context": context,
            "time_limit": 1,
        }
    )


def _render_line(context: object) -> str:
    return json.dumps(
        {"op": "render", "kind": "message", "template": "{a}", "context": context, "now": NOW_TEXT}
    )


GOOD_ACTION = {"url": "http://127.0.0.1:9/x", "method": "GET"}


@pytest.mark.parametrize(
    ("line", "says"),
    [
        pytest.param("[" * 100_000, "nested too deeply", id="deep"),
        pytest.param(
            _attempt_line({"url": "u"}, {}), "action: expected url and method", id="no-method"
        ),
        pytest.param(
            _attempt_line({**GOOD_ACTION, "headers": [["X"]]}, {}), "action.headers", id="half-pair"
        ),
        pytest.param(
            _attempt_line({**GOOD_ACTION, "save_to": 5}, {}), "action.save_to", id="save-to"
        ),
        pytest.param(
            _attempt_line(GOOD_ACTION, {}).replace('"time_limit": 1', '"time_limit": NaN'),
            "time_limit: expected seconds above 0",
            id="time-limit-nan",
        ),
        pytest.param(_render_line({"variables": 5}), "context.variables", id="variables"),
        pytest.param(
            _render_line({"subscriber": {"nick": "x"}}), "'nick' is not one of", id="field"
        ),
        pytest.param(_render_line({"subscriber": {"phone": 7}}), "object of texts", id="phone-int"),
        pytest.param(_render_line({"timezone": "Mars/Base"}), "context.timezone", id="zone"),
        pytest.param(_render_line({"bot_id": 5}), "context.bot_id", id="bot-id"),
    ],
)
def test_the_example_adapter_names_a_line_of_the_wrong_shape(line: str, says: str) -> None:
    # Each was a traceback (KeyError, TypeError, RecursionError, ZoneInfo's own).
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "scenarios.adapter"],
        input=f"{HELLO}\n{line}\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("scenarios.adapter: line 2 from the harness")
    assert says in done.stderr
    assert "Traceback" not in done.stderr


def test_the_example_adapter_answers_an_unpaired_surrogate_escaped() -> None:
    import subprocess

    line = _render_line({"variables": {"a": "Ann\ud83d"}})
    done = subprocess.run(
        [sys.executable, "-m", "scenarios.adapter"],
        input=f"{HELLO}\n{line}\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stderr) == (0, "")
    answer = json.loads(done.stdout.splitlines()[1])
    assert answer == {"value": "Ann\ud83d", "missing": []}


async def test_a_command_that_never_answers_hello_is_not_started_for_every_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each scenario waited the whole hello time limit for a new process: hours for a suite.
    monkeypatch.setattr(process, "RENDER_WAIT", 0.5)
    script = tmp_path / "mute.py"
    script.write_text(
        "import pathlib, sys, time\n"
        "with open(sys.argv[1], 'a') as log:\n"
        "    log.write('started\\n')\n"
        "time.sleep(600)\n"
    )
    starts = tmp_path / "starts"
    implementation = CommandImplementation(shlex.join([sys.executable, str(script), str(starts)]))
    try:
        messages = []
        for _ in range(3):
            rendering = implementation.render("x", FlowContext({}, {}), now=NOW, kind="message")
            with pytest.raises(ScenarioError) as caught:
                await asyncio.wait_for(rendering, 120)
            messages.append(str(caught.value))
        assert "did not answer within 0.5 s" in messages[0]
        assert all("not started again for the rest of the run" in m for m in messages[1:])
        assert starts.read_text() == "started\n"
    finally:
        await asyncio.wait_for(implementation.aclose(), 120)


async def test_a_command_that_answered_hello_once_is_started_again_after_a_break(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(process, "ANSWER_GRACE", 0.3)
    # From tests/test_sc_process.py's program: the first process hangs on its first attempt.
    from tests.test_sc_process import command

    implementation = CommandImplementation(command(tmp_path, "silent"))
    try:
        delivery = implementation.deliver(ACTION, FlowContext({}, {}), time_limit=0.2)
        with pytest.raises(ScenarioError, match="did not answer within"):
            await asyncio.wait_for(delivery.attempt(NOW), 120)
        delivery = implementation.deliver(ACTION, FlowContext({}, {}), time_limit=0.2)
        report = await asyncio.wait_for(delivery.attempt(NOW), 120)
        assert report.error == "status 500"
    finally:
        await asyncio.wait_for(implementation.aclose(), 120)
