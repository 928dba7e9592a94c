"""The flow runtime: blocks, saving, waiting, pausing, resuming (rules D4, E1–E6, F1–F3)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from freezegun import freeze_time
from hypothesis import given
from hypothesis import strategies as st

from tests.farside import scripted_server
from webhook_core import (
    MAX_ATTEMPTS,
    ConfigurationError,
    Flow,
    FlowRuntime,
    FlowState,
    HttpxSender,
    Message,
    Outcome,
    SetVariable,
    Subscriber,
    Webhook,
    WebhookAction,
    attempt_offsets,
)

START = datetime(2026, 1, 1, 10, 0, tzinfo=UTC)
ANNA = Subscriber(user_id="1", first_name="Anna")


class ScriptedSender:
    """A sender whose outcomes are given in advance: True for success, False for failure."""

    def __init__(self, script: list[bool], value: Any = "ok") -> None:
        self.script = list(script)
        self.value = value
        self.requests: list[httpx.Request] = []

    async def send(self, request: httpx.Request) -> Outcome:
        self.requests.append(request)
        ok = self.script.pop(0) if self.script else False
        if ok:
            return Outcome(ok=True, status=200, value=self.value)
        return Outcome(ok=False, status=500, error="status 500", error_kind="status")

    async def aclose(self) -> None:
        pass


async def run_to_rest(runtime: FlowRuntime, clock: Any) -> None:
    """Move the frozen clock to each due time and run what is due, until nothing is pending."""
    while (due := runtime.next_due()) is not None:
        clock.move_to(due)
        await runtime.run_due()


def hook(url: str = "http://far.example/hook", **kwargs: Any) -> Webhook:
    return Webhook(WebhookAction(url, kwargs.pop("method", "JSON POST"), **kwargs))


@pytest.mark.rule("F1", "F2")
async def test_blocks_run_in_order_and_saved_result_is_usable_by_path() -> None:
    sender = ScriptedSender([True], value={"promo": {"code": "ABC", "percent": 15}})
    flow = Flow(
        [
            Message("Hi {first_name}"),
            SetVariable("greeting", "hello {first_name}"),
            hook(params=[("g", "{greeting}")], save_to="result"),
            Message("Your code: {result.promo.code} ({result.promo.percent}%)"),
            SetVariable("promo", "{result.promo}"),
            Message("{promo.code}"),
        ]
    )
    run = await FlowRuntime(sender).start(flow, ANNA)
    assert run.state is FlowState.FINISHED
    assert [message.text for message in run.messages] == ["Hi Anna", "Your code: ABC (15%)", "ABC"]
    assert run.variables["promo"] == {"code": "ABC", "percent": 15}
    assert sender.requests[0].content == b'{"g":"hello Anna"}'


@pytest.mark.rule("E1", "E2", "E4", "F3")
async def test_waits_then_pauses_after_the_sixth_failure() -> None:
    sender = ScriptedSender([False] * 6)
    flow = Flow([hook(save_to="result"), Message("after")])
    runtime = FlowRuntime(sender)
    with freeze_time(START, real_asyncio=True) as clock:
        run = await runtime.start(flow, ANNA, {"result": "before"})
        assert run.state is FlowState.WAITING
        assert run.due_at == START + timedelta(seconds=5)
        assert run.messages == []
        await run_to_rest(runtime, clock)
    assert run.state is FlowState.PAUSED
    assert run.last_error == "status 500"
    assert [a.started_at - START for a in run.attempts] == list(attempt_offsets())
    assert [a.number for a in run.attempts] == [1, 2, 3, 4, 5, 6]
    assert run.messages == []
    assert run.variables["result"] == "before"


@pytest.mark.rule("E3")
async def test_a_retry_resends_the_very_request() -> None:
    sender = ScriptedSender([False, True])
    flow = Flow([hook(params=[("at", "{time}"), ("n", "{n}")]), Message("{n}")])
    runtime = FlowRuntime(sender)
    with freeze_time(START, real_asyncio=True) as clock:
        run = await runtime.start(flow, ANNA, {"n": 1})
        run.variables["n"] = 2
        await run_to_rest(runtime, clock)
    first, second = sender.requests
    assert first is second
    assert first.content == b'{"at":"10:00","n":1}'
    assert run.messages[0].text == "2"


@pytest.mark.rule("D4")
async def test_a_failed_attempt_never_changes_the_variable() -> None:
    sender = ScriptedSender([False, False, True], value="fresh")
    runtime = FlowRuntime(sender)
    with freeze_time(START, real_asyncio=True) as clock:
        run = await runtime.start(Flow([hook(save_to="result")]), ANNA, {"result": "old"})
        assert run.variables["result"] == "old"
        clock.move_to(run.due_at)
        await runtime.run_due()
        assert run.variables["result"] == "old"
        await run_to_rest(runtime, clock)
    assert run.variables["result"] == "fresh"
    assert run.state is FlowState.FINISHED


@pytest.mark.rule("E2", "F3")
async def test_an_operator_resumes_a_paused_run_with_a_fresh_schedule() -> None:
    sender = ScriptedSender([False] * 6 + [False, True])
    runtime = FlowRuntime(sender)
    with freeze_time(START, real_asyncio=True) as clock:
        run = await runtime.start(Flow([hook(), Message("done")]), ANNA)
        await run_to_rest(runtime, clock)
        assert run.state is FlowState.PAUSED
        resumed_at = datetime.now(UTC)
        await runtime.resume(run)
        assert run.state is FlowState.WAITING
        assert run.due_at == resumed_at + timedelta(seconds=5)
        await run_to_rest(runtime, clock)
    assert run.state is FlowState.FINISHED
    assert [m.text for m in run.messages] == ["done"]
    with pytest.raises(ConfigurationError, match="paused"):
        await runtime.resume(run)


@pytest.mark.rule("A4")
async def test_configuration_error_after_rendering_pauses_without_sending() -> None:
    sender = ScriptedSender([True])
    run = await FlowRuntime(sender).start(Flow([hook("{target}")]), ANNA, {"target": "ftp://x"})
    assert run.state is FlowState.PAUSED
    assert "url" in (run.last_error or "")
    assert sender.requests == []
    assert run.attempts == []


@pytest.mark.rule("E1", "E2", "E4", "F3")
@given(st.lists(st.booleans(), min_size=1, max_size=8))
def test_attempts_fall_exactly_on_the_schedule(outcomes: list[bool]) -> None:
    async def scenario() -> None:
        sender = ScriptedSender(outcomes)
        runtime = FlowRuntime(sender)
        with freeze_time(START, real_asyncio=True) as clock:
            run = await runtime.start(Flow([hook(), Message("after")]), ANNA)
            await run_to_rest(runtime, clock)
        within = outcomes[:MAX_ATTEMPTS]
        succeeded = True in within
        expected_attempts = within.index(True) + 1 if succeeded else MAX_ATTEMPTS
        assert len(run.attempts) == expected_attempts
        offsets = list(attempt_offsets())[:expected_attempts]
        assert [a.started_at - START for a in run.attempts] == offsets
        if succeeded:
            assert run.state is FlowState.FINISHED
            assert run.messages[0].at - START == offsets[-1]
        else:
            assert run.state is FlowState.PAUSED
            assert run.messages == []

    asyncio.run(scenario())


@pytest.mark.rule("E1", "E5", "D1", "F2")
async def test_whole_schedule_over_real_http_in_no_time() -> None:
    script = [
        (503, "busy"),
        (429, "slow down"),
        (410, "gone"),
        (500, "x"),
        (404, "?"),
        (200, {"promo": {"code": "ABC"}}),
    ]
    async with scripted_server(script) as far, HttpxSender() as sender:
        runtime = FlowRuntime(sender)
        flow = Flow(
            [
                hook(far.url + "/hook", params=[("id", "{user_id}")], save_to="result"),
                Message("code {result.promo.code}"),
            ]
        )
        with freeze_time(START, real_asyncio=True) as clock:
            run = await runtime.start(flow, ANNA)
            await run_to_rest(runtime, clock)
    assert run.state is FlowState.FINISHED
    assert [a.outcome.status for a in run.attempts] == [503, 429, 410, 500, 404, 200]
    assert [a.started_at - START for a in run.attempts] == list(attempt_offsets())
    assert run.messages[-1].text == "code ABC"
    assert len({r.body for r in far.received}) == 1


@pytest.mark.rule("F1")
def test_a_webhook_block_without_an_action_is_refused_when_the_flow_is_made() -> None:
    with pytest.raises(ConfigurationError) as caught:
        Flow([Message("hi"), Webhook("http://h/")])  # type: ignore[arg-type]
    assert caught.value.field == "blocks[1].action"
    assert caught.value.value == "http://h/"
