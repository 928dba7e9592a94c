"""Rendered text has a size bound: a saved value repeated a thousand times is a named
configuration error, raised before anything that large is built (never a MemoryError)."""

from __future__ import annotations

import io
import json
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from scenarios import run
from webhook_core import (
    MAX_RENDERED_BYTES,
    MAX_REQUEST_BYTES,
    ConfigurationError,
    Flow,
    FlowRuntime,
    FlowState,
    LimitExceeded,
    Message,
    Method,
    SetVariable,
    Webhook,
    WebhookAction,
    prepare_request,
)
from webhook_core.cli import main
from webhook_core.encoding import encode_query
from webhook_core.template import evaluate, render, render_report

URL = "http://127.0.0.1:9/x"
MIB = 1024 * 1024
#: A saved answer as large as rule D3 lets one be.
ANSWER = "x" * MIB


@pytest.fixture
def peak() -> Iterator[Callable[[], int]]:
    """The most memory Python allocated while the test ran (what was built, not the inputs)."""
    tracemalloc.start()
    try:
        yield lambda: tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_limits_are_what_the_docs_say() -> None:
    assert MAX_RENDERED_BYTES == 4 * MIB
    assert MAX_REQUEST_BYTES == 8 * MIB


@pytest.mark.rule("A4")
@pytest.mark.parametrize(
    "render_it",
    [
        pytest.param(lambda t, v: render(t, v), id="render"),
        pytest.param(lambda t, v: render_report(t, v), id="render_report"),
        pytest.param(lambda t, v: evaluate(t, v), id="evaluate"),
    ],
)
def test_a_value_repeated_a_thousand_times_stops_at_the_limit(
    render_it: Callable[[str, dict[str, Any]], Any], peak: Callable[[], int]
) -> None:
    template = "{result}" * 1000  # 1 000 MiB if it were built
    with pytest.raises(LimitExceeded) as caught:
        render_it(template, {"result": ANSWER})
    error = caught.value
    assert isinstance(error, ConfigurationError)
    assert (error.field, error.value, error.limit) == ("template", template, MAX_RENDERED_BYTES)
    assert "at most 4 MiB (4194304 bytes of UTF-8)" in str(error)
    assert peak() < 2 * MAX_RENDERED_BYTES


@pytest.mark.parametrize(
    "variables",
    [
        pytest.param({"result": {"a": {"b": ANSWER}}}, id="dotted"),
        pytest.param({"result": [ANSWER]}, id="an object, as JSON"),
    ],
)
def test_dotted_and_object_references_count_too(variables: dict[str, Any]) -> None:
    reference = "{result.a.b}" if "a" in variables["result"] else "{result}"
    with pytest.raises(LimitExceeded):
        render(reference * 5, variables)


def test_the_limit_is_in_bytes_of_utf8_and_exact() -> None:
    two_bytes = "é" * (MAX_RENDERED_BYTES // 2)  # exactly the limit in UTF-8
    assert render("{a}", {"a": two_bytes}) == two_bytes
    with pytest.raises(LimitExceeded):
        render("{a}!", {"a": two_bytes})
    ascii_text = "y" * MAX_RENDERED_BYTES
    assert render("{a}", {"a": ascii_text}) == ascii_text
    with pytest.raises(LimitExceeded):
        render("{a}{b}", {"a": ascii_text, "b": "z"})


def test_a_long_literal_counts_as_rendered_text() -> None:
    with pytest.raises(LimitExceeded):
        render("y" * (MAX_RENDERED_BYTES + 1), {})


def test_text_under_the_limit_renders_as_before() -> None:
    assert render_report("{a}-{b}-{nope}", {"a": ANSWER, "b": 2}).text == f"{ANSWER}-2-"


# --- in a request ------------------------------------------------------------------------


@pytest.mark.rule("A4")
@pytest.mark.parametrize("method", [pytest.param(m, id=m.value) for m in Method])
@pytest.mark.parametrize(
    ("where", "field"),
    [
        pytest.param("url", "url", id="url"),
        pytest.param("header", "headers[1].value", id="header"),
        pytest.param("param", "params[1].value", id="param"),
    ],
)
def test_each_setting_names_itself(method: Method, where: str, field: str) -> None:
    huge = "{result}" * 1000
    action = WebhookAction(
        URL + ("?q=" + huge if where == "url" else ""),
        method,
        headers=[("X-A", "a"), ("X-B", huge if where == "header" else "b")],
        params=[("a", "1"), ("b", huge if where == "param" else "2")],
    )
    with pytest.raises(LimitExceeded) as caught:
        prepare_request(action, {"result": ANSWER})
    assert caught.value.field == field
    assert caught.value.value == (action.url if where == "url" else huge)


@pytest.mark.rule("A4")
@pytest.mark.parametrize("method", [pytest.param(m, id=m.value) for m in Method])
def test_the_whole_request_is_bounded(method: Method, peak: Callable[[], int]) -> None:
    # Three values of 3 MiB: each under the text limit, 9 MiB together.
    three = "{r}{r}{r}"
    action = WebhookAction(
        URL, method, params=[("a", three), ("b", three)], headers=[("X-C", three)]
    )
    with pytest.raises(LimitExceeded) as caught:
        prepare_request(action, {"r": ANSWER})
    error = caught.value
    assert error.field == "request"
    assert error.limit == MAX_REQUEST_BYTES
    assert isinstance(error.value, int)
    assert error.value > MAX_REQUEST_BYTES
    assert "a request of at most 8 MiB" in str(error)
    assert peak() < 4 * MAX_REQUEST_BYTES


@pytest.mark.rule("C6")
def test_an_object_referenced_by_many_json_parameters_is_counted_each_time(
    peak: Callable[[], int],
) -> None:
    answer = {f"k{i}": "v" * 1000 for i in range(1024)}  # a 1 MiB JSON answer, saved
    params = [(f"p{i}", "{result}") for i in range(1000)]  # 1 000 MiB of body if built
    action = WebhookAction(URL, Method.JSON_POST, params=params)
    with pytest.raises(LimitExceeded) as caught:
        prepare_request(action, {"result": answer})
    assert caught.value.field == "request"
    assert peak() < 4 * MAX_REQUEST_BYTES


@pytest.mark.rule("C6")
def test_an_object_sent_once_or_a_few_times_is_sent_whole() -> None:
    answer = {f"k{i}": "v" * 1000 for i in range(1024)}
    action = WebhookAction(
        URL, Method.JSON_POST, params=[("a", "{result}"), ("b", "{result}"), ("c", "x")]
    )
    body = prepare_request(action, {"result": answer}).body
    assert body is not None
    assert json.loads(body) == {"a": answer, "b": answer, "c": "x"}


@pytest.mark.rule("C5")
def test_percent_encoding_counts_towards_the_request() -> None:
    # 3 MiB of UTF-8, under the text limit; a form writes each é as %C3%A9: 9 MiB.
    value = "é" * (3 * MIB // 2)
    action = WebhookAction(URL, Method.POST, params=[("a", "{v}")])
    with pytest.raises(LimitExceeded) as caught:
        prepare_request(action, {"v": value})
    assert caught.value.field == "request"
    assert caught.value.value > MAX_REQUEST_BYTES


def test_encode_query_stops_at_its_limit() -> None:
    data = {f"k{i}": "v" for i in range(100)}
    assert encode_query(data, limit=len(encode_query(data))) == encode_query(data)
    with pytest.raises(LimitExceeded):
        encode_query(data, limit=len(encode_query(data)) - 1)


def test_a_request_just_under_the_limit_is_built() -> None:
    action = WebhookAction(URL, Method.POST, params=[("a", "{v}"), ("b", "{v}")])
    prepared = prepare_request(action, {"v": "y" * (3 * MIB)})
    assert prepared.body is not None
    assert len(prepared.body) > 6 * MIB


# --- in a flow ---------------------------------------------------------------------------


class _NeverCalled:
    async def send(self, request: Any) -> Any:
        raise AssertionError("nothing may be sent")

    async def aclose(self) -> None:
        pass


@pytest.mark.rule("F3")
@pytest.mark.parametrize(
    ("block", "field"),
    [
        pytest.param(Message("{r}" * 1000), "blocks[1].text", id="message"),
        pytest.param(SetVariable("x", "{r}" * 1000), "blocks[1].value", id="set"),
        pytest.param(
            Webhook(WebhookAction(URL, "POST", params=[("a", "{r}" * 1000)])),
            "params[0].value",
            id="webhook",
        ),
    ],
)
async def test_a_flow_pauses_at_a_block_past_the_limit(block: Any, field: str) -> None:
    flow = Flow([Message("hello"), block, Message("never")])
    run_ = await FlowRuntime(_NeverCalled()).start(flow, variables={"r": ANSWER})  # type: ignore[arg-type]
    assert run_.state is FlowState.PAUSED
    assert run_.position == 1
    assert [message.text for message in run_.messages] == ["hello"]
    assert run_.last_error is not None
    assert run_.last_error.startswith(f"configuration error: {field}: got ")
    assert "at most 4 MiB" in run_.last_error
    assert "x" not in run_.variables


# --- in a scenario -----------------------------------------------------------------------


def _scenario(block: dict[str, Any], field: str) -> dict[str, Any]:
    return {
        "name": "past the limit",
        "variables": {"r": ANSWER},
        "flow": [{"message": "hi"}, block, {"message": "never"}],
        "expect": {
            "state": "paused",
            "configuration_error": {"field": field},
            "messages": ["hi"],
        },
    }


@pytest.mark.parametrize(
    ("block", "field"),
    [
        pytest.param({"message": "{r}" * 5}, "message", id="message"),
        pytest.param({"set": {"name": "x", "value": "{r}" * 5}}, "set.value", id="set"),
        pytest.param(
            {"webhook": {"url": "{mock.url}/x", "method": "POST", "params": [{"a": "{r}" * 5}]}},
            "params[0].value",
            id="webhook",
        ),
    ],
)
def test_a_scenario_sees_the_configuration_error_as_data(block: dict[str, Any], field: str) -> None:
    (result,) = run(_scenario(block, field))
    assert result.state == "paused"
    assert result.configuration_error is not None
    assert result.configuration_error.field == field
    assert result.requests == []


def test_the_adapter_answers_a_render_past_the_limit_as_a_configuration_error() -> None:
    from scenarios.process import CommandImplementation

    implementation = CommandImplementation(f"{sys.executable} -m scenarios.adapter")
    (result,) = run(
        _scenario({"message": "{r}" * 5}, "message"),
        implementation=implementation,  # type: ignore[arg-type]
    )
    assert result.configuration_error is not None
    assert result.configuration_error.field == "message"
    assert "at most 4 MiB" in result.configuration_error.message


# --- webhook-try -------------------------------------------------------------------------


def _call(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_webhook_try_names_the_setting_and_its_line(tmp_path: Path) -> None:
    action = tmp_path / "a.yaml"
    action.write_text(
        'url: "http://127.0.0.1:9/x"\nmethod: POST\nheaders:\n  - X-A: a\n'
        '  - X-Big: "{r}{r}{r}{r}{r}"\n',
        encoding="utf-8",
    )
    code, out, err = _call(str(action), "--var", f"r={ANSWER}", "--dry-run")
    assert code == 2
    assert out == ""
    assert err.count("\n") == 1
    assert err.startswith(f"webhook-try: {action}:5: headers[1].value: got '{{r}}")
    assert "at most 4 MiB" in err


def test_webhook_try_show_past_the_limit_is_one_line(tmp_path: Path) -> None:
    action = tmp_path / "a.yaml"
    action.write_text('url: "http://127.0.0.1:9/x"\nmethod: GET\n', encoding="utf-8")
    code, _, err = _call(str(action), "--var", f"r={ANSWER}", "--dry-run", "--show", "{r}" * 5)
    assert code == 2
    assert err.count("\n") == 1
    assert err.startswith("webhook-try: --show: got '{r}{r}")
