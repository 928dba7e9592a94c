"""A response template naming a part of the request no request has is refused when the
stub is made: ``{request.jsn.a}`` used to render empty on every request, silently."""

from __future__ import annotations

import httpx
import pytest

from mockserver import MockServer, StubError
from mockserver.journal import _VIEW
from mockserver.templating import CONTEXT_KEYS
from scenarios import ScenarioFileError, load_scenario_text


@pytest.mark.parametrize(
    ("response", "wanted"),
    [
        pytest.param({"text": "{request.jsn.a}"}, "did you mean request.json?", id="text"),
        pytest.param(
            {"json": {"a": ["{request.heders.x-token}"]}},
            "did you mean request.headers?",
            id="json-deep",
        ),
        pytest.param({"json": {"{request.qery.k}": 1}}, "request.query?", id="json-key"),
        pytest.param(
            {"text": "ok", "headers": {"X-Calls": "{stub.cals}"}},
            "did you mean stub.calls?",
            id="header",
        ),
        pytest.param({"text": "{request.nothinglike}"}, "expected one of method", id="no-hint"),
    ],
)
def test_an_unknown_part_is_refused_naming_the_field(
    response: dict[str, object], wanted: str
) -> None:
    with pytest.raises(StubError) as caught:
        MockServer([{"request": {"path": "/t"}, "response": response}])
    message = str(caught.value)
    assert "stubs[0].response" in message
    assert wanted in message


@pytest.mark.parametrize(
    "text",
    [
        "{request}",  # the whole request: a mapping, as written
        "{state.x} {other.y} {whatever.z.w}",  # not a context: left as written
        "{request.json.any.depth} {request.path.id} {request.headers.x-token}",
        "{ignore} { not a reference } {",
    ],
)
def test_what_is_not_a_typo_still_loads(text: str) -> None:
    MockServer([{"request": {"path": "/t"}, "response": {"text": text}}])


def test_template_false_takes_any_braces() -> None:
    MockServer(
        [{"request": {"path": "/t"}, "response": {"text": "{request.jsn}", "template": False}}]
    )


def test_the_request_keys_are_the_journal_views() -> None:
    assert set(CONTEXT_KEYS["request"]) == set(_VIEW)


def test_the_stub_keys_are_what_an_answer_renders() -> None:
    stub = {"id": "s1", "request": {"path": "/t"}, "response": {"text": "{stub.id} {stub.calls}"}}
    with MockServer([stub]) as server:
        assert httpx.get(server.url + "/t").text == "s1 1"


def test_a_scenario_file_names_the_line() -> None:
    text = """\
name: typo
flow:
  - webhook: {url: "{mock.url}/t", method: GET}
mock:
  stubs:
    - request: {path: /t}
      response:
        text: "{request.jsn.a}"
"""
    with pytest.raises(ScenarioFileError) as caught:
        load_scenario_text(text, "typo.scenario.yaml")
    assert "typo.scenario.yaml:" in str(caught.value)
    assert "did you mean request.json?" in str(caught.value)
