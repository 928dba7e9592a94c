"""webhook_core under hostile input: a deep parameter name, an answer's lone surrogate."""

from __future__ import annotations

import json

import pytest

from webhook_core import ConfigurationError, Method, WebhookAction, parse_body, prepare_request
from webhook_core.nesting import MAX_SEGMENTS

URL = "http://127.0.0.1:9/x"


@pytest.mark.rule("A4")
@pytest.mark.parametrize("method", [pytest.param(m, id=m.value) for m in Method])
@pytest.mark.parametrize(
    "segments",
    [pytest.param(MAX_SEGMENTS + 1, id="one-too-many"), pytest.param(5000, id="thousands")],
)
def test_a_name_deeper_than_the_limit_is_a_configuration_error(
    method: Method, segments: int
) -> None:
    # It was a RecursionError out of nest() for GET, POST and JSON POST alike.
    name = ".".join(["a"] * segments)
    with pytest.raises(ConfigurationError) as caught:
        WebhookAction(url=URL, method=method, params=[("ok", "1"), (name, "v")])
    assert caught.value.field == "params[1].name"
    assert f"at most {MAX_SEGMENTS} dot-separated segments" in str(caught.value)


@pytest.mark.rule("C1")
def test_a_name_at_the_limit_is_nested_that_deep() -> None:
    action = WebhookAction(
        url=URL, method=Method.JSON_POST, params=[(".".join(["a"] * MAX_SEGMENTS), "v")]
    )
    body = prepare_request(action, {}).body
    assert body is not None
    data = json.loads(body)
    for _ in range(MAX_SEGMENTS - 1):
        data = data["a"]
    assert data == {"a": "v"}


@pytest.mark.rule("D2")
@pytest.mark.parametrize("method", [pytest.param(m, id=m.value) for m in Method])
def test_an_answers_unpaired_surrogate_is_saved_as_a_replacement_character(
    method: Method,
) -> None:
    # Half an emoji, as JavaScript's JSON.stringify writes a string cut in the middle.
    saved = parse_body(b'{"name": "Ann\\ud83d", "\\udc00": ["\\ud83d\\ude00"]}', None)
    assert saved == {"name": "Ann\ufffd", "\ufffd": ["\U0001f600"]}
    # The next webhook that sends it (rule C6) builds its request instead of crashing.
    action = WebhookAction(
        url=URL + "?n={result.name}",
        method=method,
        headers=[("X-Name", "{result.name}")],
        params=[("name", "{result.name}"), ("all", "{result}")],
    )
    request = prepare_request(action, {"result": saved})
    assert "Ann\ufffd".encode() in dict(request.headers)[b"X-Name"]
