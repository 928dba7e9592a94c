"""Python-API flows: what a run keeps is bounded, templates are seen without copying the
variables at each block, and a block's text that is not text is a named configuration error."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

import webhook_core
import webhook_core.flow as flow_module
from webhook_core import (
    ConfigurationError,
    Flow,
    FlowRun,
    FlowRuntime,
    FlowState,
    LimitExceeded,
    Message,
    Outcome,
    SetVariable,
    Subscriber,
    Webhook,
    WebhookAction,
)

URL = "http://127.0.0.1:9/x"


class _NeverCalled:
    async def send(self, request: Any) -> Any:
        raise AssertionError("nothing may be sent")

    async def aclose(self) -> None:
        pass


class _Failing:
    def __init__(self) -> None:
        self.sent = 0

    async def send(self, request: httpx.Request) -> Outcome:
        self.sent += 1
        return Outcome(ok=False, status=500, error="status 500", error_kind="status")

    async def aclose(self) -> None:
        pass


# --- bounds ------------------------------------------------------------------------------


def test_the_bounds_are_public() -> None:
    assert webhook_core.MAX_FLOW_BYTES == 64 * 1024 * 1024
    assert webhook_core.MAX_FLOW_ENTRIES == 1_000_000


@pytest.mark.rule("F3")
async def test_messages_past_the_run_byte_bound_pause_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(flow_module, "MAX_FLOW_BYTES", 1000)
    flow = Flow([Message("é" * 50) for _ in range(30)])  # 100 bytes of UTF-8 each
    run = await FlowRuntime(_NeverCalled()).start(flow)  # type: ignore[arg-type]
    assert run.state is FlowState.PAUSED
    assert run.position == 10
    assert len(run.messages) == 10
    assert run.last_error is not None
    assert run.last_error.startswith("configuration error: blocks[10].text: got ")
    assert "1000 bytes" in run.last_error
    assert isinstance(run.error, LimitExceeded)
    assert run.error.field == "blocks[10].text"


async def test_set_values_count_in_the_byte_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow_module, "MAX_FLOW_BYTES", 1000)
    flow = Flow([SetVariable(f"v{i}", "x" * 300) for i in range(5)])
    run = await FlowRuntime(_NeverCalled()).start(flow)  # type: ignore[arg-type]
    assert run.state is FlowState.PAUSED
    assert run.position == 3
    assert run.last_error is not None
    assert run.last_error.startswith("configuration error: blocks[3].value: got ")
    assert "v3" not in run.variables


async def test_requests_kept_count_in_the_byte_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(flow_module, "MAX_FLOW_BYTES", 1000)
    action = WebhookAction(URL, "POST", params=[("a", "x" * 1200)])
    run = await FlowRuntime(_NeverCalled()).start(Flow([Webhook(action)]))  # type: ignore[arg-type]
    assert run.state is FlowState.PAUSED
    assert run.position == 0
    assert run.attempts == []
    assert run.last_error is not None
    assert run.last_error.startswith("configuration error: blocks[0]: got ")


async def test_messages_past_the_entry_bound_pause_the_run(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(flow_module, "MAX_FLOW_ENTRIES", 5)
    run = await FlowRuntime(_NeverCalled()).start(Flow([Message("hi")] * 10))  # type: ignore[arg-type]
    assert run.state is FlowState.PAUSED
    assert run.position == 5
    assert len(run.messages) == 5
    assert run.last_error is not None
    assert run.last_error.startswith("configuration error: blocks[5].text: got ")
    assert "at most 5" in run.last_error


async def test_missing_references_count_in_the_entry_bound(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(flow_module, "MAX_FLOW_ENTRIES", 5)
    run = await FlowRuntime(_NeverCalled()).start(Flow([Message("{a}{b}{c}{d}{e}{f}")]))  # type: ignore[arg-type]
    assert run.state is FlowState.PAUSED
    assert run.messages == []
    assert run.missing == []


async def test_attempts_count_in_the_entry_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    from freezegun import freeze_time

    monkeypatch.setattr(flow_module, "MAX_FLOW_ENTRIES", 3)
    sender = _Failing()
    runtime = FlowRuntime(sender)  # type: ignore[arg-type]
    with freeze_time("2026-01-01 10:00:00", real_asyncio=True) as clock:
        run = await runtime.start(Flow([Webhook(WebhookAction(URL, "GET"))]))
        while (due := runtime.next_due()) is not None:
            clock.move_to(due)
            await runtime.run_due()
    assert sender.sent == 3
    assert len(run.attempts) == 3
    assert run.state is FlowState.PAUSED
    assert run.last_error is not None
    assert run.last_error.startswith("configuration error: blocks[0]: got ")


# --- context() ---------------------------------------------------------------------------


class _CountingDict(dict[str, Any]):
    """Counts the walks over all its items (what a copy does)."""

    walks = 0

    def __iter__(self) -> Iterator[str]:
        type(self).walks += 1
        return super().__iter__()

    def keys(self) -> Any:
        type(self).walks += 1
        return super().keys()

    def items(self) -> Any:
        type(self).walks += 1
        return super().items()


def test_context_does_not_copy_the_variables() -> None:
    variables = _CountingDict({f"v{i}": i for i in range(1000)})
    run = FlowRun(Flow([]), Subscriber(first_name="Anna"), variables)
    _CountingDict.walks = 0
    context = run.context()
    assert context["v999"] == 999
    assert context["first_name"] == "Anna"
    assert _CountingDict.walks == 0


def test_context_reserved_names_win_and_later_sets_are_seen() -> None:
    run = FlowRun(Flow([]), Subscriber(phone="+7999"), {"phone": "mine", "a": 1})
    context = run.context()
    assert context["phone"] == "+7999"
    assert context["a"] == 1
    assert "timestamp" in context
    assert dict(context)["phone"] == "+7999"
    assert len(context) == len(dict(context))


async def test_context_of_a_long_flow_renders_as_before() -> None:
    blocks: list[Any] = [SetVariable(f"v{i}", f"{{v{i - 1}}}+" if i else "0") for i in range(300)]
    blocks.append(Message("{v299}|{first_name}"))
    run = await FlowRuntime(_NeverCalled()).start(Flow(blocks), Subscriber(first_name="A"))  # type: ignore[arg-type]
    assert run.state is FlowState.FINISHED
    assert run.messages[0].text == "0" + "+" * 299 + "|A"


# --- a text that is not text -------------------------------------------------------------


@pytest.mark.rule("A4")
@pytest.mark.parametrize("text", [42, 2.5, None, b"hi", ["a"]], ids=repr)
def test_a_message_text_that_is_not_a_string_is_a_configuration_error(text: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        Message(text)
    assert caught.value.field == "text"
    assert caught.value.value == text
    assert "a template string" in caught.value.expected


@pytest.mark.rule("A4")
@pytest.mark.parametrize("value", [42, True, None, {"a": 1}], ids=repr)
def test_a_set_value_that_is_not_a_string_is_a_configuration_error(value: Any) -> None:
    with pytest.raises(ConfigurationError) as caught:
        SetVariable("x", value)
    assert caught.value.field == "value"
    assert "a template string" in caught.value.expected
