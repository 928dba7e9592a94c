"""An answer's templates render at most 64 MiB: a stub of a few bytes that repeats
``{request.body}`` a thousand times over a large body would otherwise build gigabytes
(64 GB over a 64 MiB body) and the server would be killed for memory."""

from __future__ import annotations

import httpx
import pytest

from mockserver import MockServer
from mockserver.templating import MAX_RENDERED

BODY = b"x" * 65536


async def test_a_template_that_would_render_too_much_is_a_500_saying_why() -> None:
    stub = {"id": "echo", "response": {"text": "{request.body}" * 1100}}
    async with MockServer(stubs=[stub]) as server, httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.post("/echo", content=BODY)
        assert answer.status_code == 500
        assert answer.headers["content-type"].startswith("application/problem+json")
        problem = answer.json()
        assert problem["title"] == "Response too large"
        assert "stub (echo)" in problem["detail"]
        assert f"more than the {MAX_RENDERED:,}" in problem["detail"]
        (entry,) = server.requests
        assert (entry.status, entry.stub_id) == (500, "echo")
        assert entry.note == problem["detail"]
        # The next request is answered as ever: nothing was left half done.
        small = await client.post("/echo", content=b"ab")
        assert small.status_code == 200
        assert small.text == "ab" * 1100
    with pytest.raises(AssertionError, match="would render"):
        server.check()


@pytest.mark.parametrize(
    "response",
    [
        pytest.param({"json": ["{request.json}"] * 300}, id="json-typed"),
        pytest.param({"json": {"{request.method}": ["{request.body}"] * 300}}, id="json-keys"),
        pytest.param({"headers": {"X-Echo": "{request.body}" * 300}}, id="header"),
        pytest.param({"text": "{request}" * 300}, id="whole-request"),
    ],
)
async def test_every_kind_of_template_is_bounded(response: dict[str, object]) -> None:
    body = b'"' + b"\\u0000" * 40_000 + b'"'  # JSON escapes: six bytes each, twice over
    async with MockServer(stubs=[{"response": response}]) as server:
        async with httpx.AsyncClient(base_url=server.url) as client:
            answer = await client.post("/x", content=body)
        assert answer.status_code == 500, answer.text[:200]
        assert answer.json()["title"] == "Response too large"


async def test_an_answer_under_the_bound_is_rendered_whole() -> None:
    # 1000 copies of 64 KiB and the template's own text: 62.5 MiB, under the 64.
    stub = {"response": {"text": "{request.body}" * 1000}}
    async with MockServer(stubs=[stub]) as server, httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.post("/echo", content=BODY)
        assert answer.status_code == 200
        assert len(answer.content) == 1000 * len(BODY)
        assert server.errors == []


async def test_a_state_key_that_would_render_too_much_does_not_match() -> None:
    # A key is rendered for every request the stub is tried on: {request.body} a
    # thousand times over a 64 KiB body was a 64 MB key (64 GB over a 64 MiB body).
    stub = {
        "id": "keyed",
        "request": {"path": "/k"},
        "state": {"scenario": "order", "key": "{request.body}" * 1000, "set": "paid"},
    }
    async with MockServer(stubs=[stub]) as server, httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.post("/k", content=BODY)
        assert answer.status_code == 404
        assert "state.key" in answer.text
        assert "a key of at most 1,048,576 bytes" in answer.text
        assert dict(server.registry.states) == {}
        small = await client.post("/k", content=b"7")
        assert small.status_code == 200
        assert dict(server.registry.states) == {("order", "7" * 1000): "paid"}
