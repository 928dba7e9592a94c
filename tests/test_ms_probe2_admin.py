"""The admin API with hostile JSON: a body is refused with a 400 naming what is wrong,
never read differently from what it says."""

from __future__ import annotations

import json

import httpx
import pytest

from mockserver import MockServer

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("body", "key"),
    [
        pytest.param(b'{"request": {"path": "/x", "path": "/y"}}', "request.path", id="nested"),
        pytest.param(b'{"name": "a", "name": "b"}', "name", id="top-level"),
        pytest.param(
            b'[{"request": {"path": "/a"}}, {"id": "i", "id": "j"}]', "[1].id", id="in-a-list"
        ),
        pytest.param(
            b'{"response": {"json": {"k": 1, "k": 2}}}', "response.json.k", id="in-a-json-body"
        ),
    ],
)
async def test_a_key_given_twice_is_refused_naming_it(body: bytes, key: str) -> None:
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.post("/__admin/stubs", content=body, headers=JSON)
        assert answer.status_code == 400, answer.text
        problem = answer.json()
        assert problem["title"] == "Body has a key given twice"
        assert [error["field"] for error in problem["errors"]] == [key]
        assert server.stubs == []


async def test_a_duplicate_key_in_find_is_refused_too() -> None:
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        body = b'{"path": "/a", "path": "/b"}'
        answer = await client.post("/__admin/requests/find", content=body, headers=JSON)
        assert answer.status_code == 400
        assert answer.json()["errors"][0]["field"] == "path"


async def test_the_same_key_in_different_objects_is_fine() -> None:
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        body = b'[{"request": {"path": "/a"}}, {"request": {"path": "/b"}}]'
        answer = await client.post("/__admin/stubs", content=body, headers=JSON)
        assert answer.status_code == 201, answer.text
        assert len(server.stubs) == 2


async def test_more_stubs_than_a_server_holds_are_refused_before_they_are_built(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A 64 MiB body of "{}" items is 22 million stubs, about 4 KB of memory each.
    import mockserver.admin

    monkeypatch.setattr(mockserver.admin, "MAX_STUBS", 10)
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        answer = await client.post(
            "/__admin/stubs", content=b"[" + b",".join([b"{}"] * 11) + b"]", headers=JSON
        )
        assert answer.status_code == 413, answer.text
        assert answer.json()["errors"][0]["field"] == "stubs"
        assert "at most 10" in answer.json()["detail"]
        assert server.stubs == []
        first = b"[" + b",".join([b'{"id": "s%d"}' % n for n in range(8)]) + b"]"
        assert (await client.post("/__admin/stubs", content=first, headers=JSON)).status_code == 201
        more = b'[{"id": "s0"}, {"id": "n1"}, {"id": "n2"}, {"id": "n3"}]'
        answer = await client.post("/__admin/stubs", content=more, headers=JSON)
        assert answer.status_code == 413  # 8 + 3 new ones: 11
        assert len(server.stubs) == 8
        replacing = b'[{"id": "s0"}, {"id": "s1"}, {"id": "n1"}, {"id": "n2"}]'
        assert (
            await client.post("/__admin/stubs", content=replacing, headers=JSON)
        ).status_code == 201
        assert len(server.stubs) == 10


async def test_the_bytes_of_stubs_the_admin_api_holds_are_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 100 000 stubs is a bound on count; each may carry a body of up to 64 MiB.
    import mockserver.admin

    monkeypatch.setattr(mockserver.admin, "MAX_STUB_BYTES", 3000)

    def stub(name: str, size: int) -> bytes:
        body = {"id": name, "request": {"path": f"/{name}"}, "response": {"text": "x" * size}}
        return json.dumps([body]).encode()

    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:

        async def add(name: str, size: int = 1000) -> httpx.Response:
            return await client.post("/__admin/stubs", content=stub(name, size), headers=JSON)

        assert (await add("a")).status_code == 201
        assert (await add("b")).status_code == 201
        refused = await add("c")
        assert refused.status_code == 413, refused.text
        assert refused.json()["title"] == "Too many stub bytes"
        assert "at most 3000 bytes" in refused.json()["detail"]
        assert [s.id for s in server.stubs] == ["b", "a"]
        assert server.registry.weight == len(stub("a", 1000)) + len(stub("b", 1000))
        # A stub replaced by id gives its bytes back; so does one removed.
        assert (await add("a", 10)).status_code == 201
        assert server.registry.weight == len(stub("a", 10)) + len(stub("b", 1000))
        assert (await add("c")).status_code == 201
        assert (await client.delete("/__admin/stubs/b")).status_code == 204
        assert server.registry.weight == len(stub("a", 10)) + len(stub("c", 1000))
        assert (await client.delete("/__admin/stubs")).status_code == 204
        assert server.registry.weight == 0
        assert (await add("d", 2000)).status_code == 201
        # Stubs given in Python are the user's own, and not counted.
        server.add({"request": {"path": "/big"}, "response": {"text": "y" * 10_000}})
        assert server.registry.weight == len(stub("d", 2000))
