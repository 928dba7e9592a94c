"""``--sender-cmd``'s process: a process that breaks the protocol fails one scenario, not all.

These talk to real child processes (small Python programs) over real pipes.
"""

from __future__ import annotations

import asyncio
import shlex
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scenarios import implementations, process
from scenarios.errors import ScenarioError
from scenarios.implementations import FlowContext, reference_render
from scenarios.process import CommandImplementation

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=timezone.utc)
ACTION = {"url": "http://127.0.0.1:9/x", "method": "GET"}
CONTEXT = FlowContext({}, {})

# Answers every attempt with a failure that gives up; ``BAD`` says what the first
# process started in the directory does wrong instead (later ones behave).
PROGRAM = """\
import json, pathlib, sys, time
here = pathlib.Path(sys.argv[1])
first = not (here / "started").exists()
(here / "started").touch()
for line in sys.stdin:
    message = json.loads(line)
    if message["op"] == "close":
        break
    if message["op"] == "hello":
        sys.stdout.write(json.dumps({"protocol": 2, "renders": False}) + "\\n")
        sys.stdout.flush()
        continue
    (here / "seen").write_text(message["delivery"])
    if first and BAD == "silent":
        time.sleep(60)
    elif first and BAD == "long":
        sys.stdout.write(json.dumps({"ok": False, "error": "x" * 5000}) + "\\n")
    elif first and BAD == "garbage":
        sys.stdout.write("debug: about to answer\\n")
    else:
        sys.stdout.write(json.dumps({"ok": False, "error": "status 500", "retry_at": None}) + "\\n")
    sys.stdout.flush()
"""


def command(tmp_path: Path, bad: str) -> str:
    script = tmp_path / "sender.py"
    script.write_text(f"BAD = {bad!r}\n{PROGRAM}")
    return shlex.join([sys.executable, str(script), str(tmp_path)])


async def attempt(implementation: CommandImplementation) -> str | None:
    report = await implementation.deliver(ACTION, CONTEXT, time_limit=0.2).attempt(NOW)
    return report.error


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ("silent", "did not answer within 0.5 s (the attempt's time limit and 0.3 s more)"),
        ("long", "answered a line over 1024 bytes; it was stopped"),
        ("garbage", "answered b'debug: about to answer\\n', which is not one JSON object"),
    ],
)
async def test_a_broken_answer_fails_that_attempt_and_the_next_gets_a_new_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bad: str, message: str
) -> None:
    monkeypatch.setattr(process, "ANSWER_GRACE", 0.3)
    monkeypatch.setattr(process, "LINE_LIMIT", 1024)
    implementation = CommandImplementation(command(tmp_path, bad))
    try:
        with pytest.raises(ScenarioError, match=r"--sender-cmd .*") as caught:
            await attempt(implementation)
        assert message in str(caught.value)
        # The broken process is gone; the next delivery is answered by a new one.
        assert await attempt(implementation) == "status 500"
        assert (tmp_path / "seen").read_text() == "d2"
    finally:
        started = time.monotonic()
        await asyncio.wait_for(implementation.aclose(), 10)
    assert time.monotonic() - started < 5  # the close does not hang on a full pipe


async def test_closing_while_a_long_line_waits_unread_does_not_hang(tmp_path: Path) -> None:
    # The process has written more than a pipe holds and waits for it to be read.
    script = tmp_path / "flood.py"
    script.write_text("import sys\nsys.stdin.readline()\nsys.stdout.write('x' * 4_000_000)\n")
    implementation = CommandImplementation(shlex.join([sys.executable, str(script)]))
    handle = await implementation._ensure()
    assert handle.process.stdin is not None
    handle.process.stdin.write(b"{}\n")
    await asyncio.sleep(0.2)
    await asyncio.wait_for(implementation.aclose(), 10)
    assert handle.process.returncode is not None


async def test_a_command_that_cannot_start_is_a_scenario_error(tmp_path: Path) -> None:
    implementation = CommandImplementation(str(tmp_path / "gone"))
    with pytest.raises(ScenarioError, match=r"--sender-cmd '.*gone' cannot start: .*No such file"):
        await attempt(implementation)
    await implementation.aclose()


class _Canned:
    """Stands in for the process: answers every attempt with one given line's object."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer

    async def exchange(self, message: dict[str, Any], *, wait: float) -> Any:
        return self.answer


answer_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30) | st.floats(allow_nan=False),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
answers = st.fixed_dictionaries(
    {},
    optional={
        key: answer_values
        | st.sampled_from(
            ["2026-01-01T09:00:05+00:00", "not a date", ["GET", "u"], {"method": "GET", "url": "u"}]
        )
        for key in (
            "ok", "status", "value", "error", "error_kind", "retry_at", "request", "missing",
            "configuration_error",
        )
    },
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(answer=answers)
def test_any_answer_object_is_a_report_or_a_protocol_error(answer: dict[str, Any]) -> None:
    delivery = process._CommandDelivery(_Canned(answer), 1, ACTION, CONTEXT, 0.2)  # type: ignore[arg-type]
    try:
        report = asyncio.run(delivery.attempt(NOW))
    except ScenarioError as exc:
        message = str(exc)
    else:
        assert report.ok is answer["ok"]
        return
    assert "does not follow the protocol" in message


class _CannedProcess(CommandImplementation):
    """A command implementation whose process answers every line with one given object."""

    def __init__(self, answer: Any) -> None:
        super().__init__("canned")
        self.answer = answer

    async def exchange(self, message: dict[str, Any], *, wait: float = 60.0) -> Any:
        return self.answer


render_answers = st.fixed_dictionaries(
    {}, optional={"value": answer_values, "missing": answer_values | st.lists(st.text(max_size=5))}
)


@settings(max_examples=200, deadline=None)
@given(answer=render_answers, kind=st.sampled_from(["message", "set"]))
def test_any_render_answer_is_a_rendering_or_a_protocol_error(
    answer: dict[str, Any], kind: str
) -> None:
    implementation = _CannedProcess(answer)
    try:
        rendered = asyncio.run(implementation.render("{x}", CONTEXT, now=NOW, kind=kind))  # type: ignore[arg-type]
    except ScenarioError as exc:
        message = str(exc)
    else:
        assert rendered.value == answer["value"]
        assert kind == "set" or isinstance(rendered.value, str)
        return
    assert "does not follow the protocol" in message


@pytest.mark.parametrize(
    ("hello", "says"),
    [
        ({"protocol": 1}, "expected protocol 2 and its capabilities"),
        ({"protocol": 2, "renders": "yes"}, "capabilities.renders: expected true or false"),
        ({"protocol": 2, "over_limit": "keep"}, "capabilities.over_limit: expected one of"),
    ],
)
def test_a_wrong_hello_answer_is_named(hello: dict[str, Any], says: str) -> None:
    with pytest.raises(ScenarioError, match="--sender-cmd") as caught:
        asyncio.run(_CannedProcess(hello).capabilities())
    assert says in str(caught.value)


def test_an_attempt_that_never_ends_stops_the_run_with_its_block(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scenarios import ScenarioFailed, run, runner
    from tests.broken_senders import hangs

    monkeypatch.setattr(runner, "ATTEMPT_GRACE", 0.2)
    scenario = {
        "name": "hangs",
        "time_limit": "100ms",
        "flow": [{"webhook": {"url": "{mock.url}/x", "method": "GET"}}],
        "mock": {"strict": False},
    }
    started = time.monotonic()
    with pytest.raises(ScenarioFailed) as caught:
        run(scenario, implementation=hangs())
    assert time.monotonic() - started < 5
    (stopped, state) = caught.value.failures
    assert (stopped.field, stopped.message) == (
        "flow[0]",
        "the implementation did not finish attempt 1 within 300ms (its time limit, 100ms, "
        "and 0.2 s more); the run stopped there",
    )
    assert state.field == "expect.state"


class _Scripted:
    """A Python implementation that reports what it is told, attempt after attempt."""

    def __init__(self, reports: list[dict[str, Any]]) -> None:
        self.reports = reports

    async def render(self, template: str, context: Any, *, now: datetime, kind: str) -> Any:
        return reference_render(template, context.all_variables(now), kind)

    def deliver(self, action: Any, context: Any, *, time_limit: float) -> Any:
        reports = iter(self.reports)

        class Delivery:
            async def attempt(self, now: datetime) -> Any:
                fields = next(reports, {"ok": True})
                shift = fields.pop("retry_in", None)
                retry_at = now + timedelta(seconds=shift) if shift is not None else None
                return implementations.AttemptReport(retry_at=retry_at, **fields)

        return Delivery()

    async def aclose(self) -> None:
        pass


scripted_reports = st.lists(
    st.fixed_dictionaries(
        {"ok": st.booleans()},
        optional={
            "status": st.none() | st.integers(100, 599),
            "value": answer_values,
            "error": st.none() | st.text(max_size=20),
            "error_kind": st.none() | st.sampled_from(["status", "timeout", "connect", "x"]),
            "retry_in": st.none() | st.integers(-10, 10_000),
            "missing": st.lists(st.text(max_size=5), max_size=2).map(tuple),
        },
    ),
    max_size=8,
)


@settings(max_examples=60, deadline=None)
@given(reports=scripted_reports, expect_state=st.sampled_from(["finished", "paused", "waiting"]))
def test_whatever_an_implementation_reports_the_run_ends_in_a_verdict(
    reports: list[dict[str, Any]], expect_state: str
) -> None:
    from scenarios import ScenarioFailed, run

    scenario = {
        "name": "scripted",
        "flow": [
            {"webhook": {"url": "{mock.url}/a", "method": "GET", "save_to": "r"}},
            {"message": "{r.code}"},
            {"webhook": {"url": "{mock.url}/b", "method": "POST"}},
        ],
        "mock": {"strict": False},
        "expect": {"state": expect_state, "attempts": ["0s", "5s"], "variables": {"r": 1}},
    }
    try:
        run(scenario, implementation=_Scripted(reports))
    except ScenarioFailed as exc:
        report = exc.report
    else:
        return
    assert report.startswith("Scenario 'scripted' failed")


@pytest.mark.parametrize(
    ("lines", "says"),
    [
        pytest.param(["garbage"], "line 1 from the harness ('garbage') is not JSON", id="not-json"),
        pytest.param(
            ["[1]"],
            "expected an object with op 'hello', 'render', 'attempt', 'close'",
            id="not-object",
        ),
        pytest.param(
            ['{"op": "send"}'], "op 'hello', 'render', 'attempt', 'close'", id="unknown-op"
        ),
        pytest.param(
            ['{"op": "render", "template": 1, "context": {}}'],
            "render: expected a template (text) and a context",
            id="bad-render",
        ),
        pytest.param(['{"op": "attempt"}'], "delivery: expected a text", id="no-delivery"),
        pytest.param(
            ['{"op": "attempt", "delivery": "d", "now": "soon"}'],
            "now: expected an ISO 8601 time",
            id="bad-now",
        ),
        pytest.param(
            ['{"op": "attempt", "delivery": "d", "now": "2026-01-01T09:00:00+00:00"}'],
            "action: expected an object with the first attempt of delivery 'd'",
            id="retry-of-an-unknown-delivery",
        ),
        pytest.param(
            [
                '{"op": "attempt", "delivery": "d", "now": "2026-01-01T09:00:00+00:00", '
                '"action": {}, "context": {}, "time_limit": "ten"}'
            ],
            "time_limit: expected seconds above 0",
            id="bad-time-limit",
        ),
    ],
)
def test_the_example_adapter_names_a_bad_line_instead_of_a_traceback(
    lines: list[str], says: str
) -> None:
    import subprocess

    done = subprocess.run(
        [sys.executable, "-m", "scenarios.adapter"],
        input="\n".join(lines) + "\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("scenarios.adapter: ")
    assert says in done.stderr
    assert "Traceback" not in done.stderr


def test_the_example_adapter_answers_a_configuration_error_and_closes() -> None:
    import json
    import subprocess

    first = {
        "op": "attempt",
        "delivery": "d1",
        "now": NOW.isoformat(),
        "action": {"url": "", "method": "GET"},
        "context": {"variables": {}, "subscriber": {}},
    }
    done = subprocess.run(
        [sys.executable, "-m", "scenarios.adapter"],
        input=json.dumps(first) + "\n" + '{"op": "close"}\n',
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    (answer,) = [json.loads(line) for line in done.stdout.splitlines()]
    assert answer["ok"] is False
    assert answer["error_kind"] == "configuration"
    assert answer["configuration_error"]["field"] == "url"
    assert answer["configuration_error"]["value"] == ""
    assert "retry_at" not in answer or answer["retry_at"] is None
