"""The admin API under /__admin/: JSON in and out, problem+json for bad input."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from mockserver import MockServer

JSON = {"Content-Type": "application/json"}
WHOLE = "a whole number of requests, 0 or more (digits 0-9, at most 18)"


@pytest.fixture
async def admin() -> AsyncIterator[tuple[MockServer, httpx.AsyncClient]]:
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        yield server, client


async def test_stubs_add_list_delete(admin: tuple[MockServer, httpx.AsyncClient]) -> None:
    _server, client = admin
    created = await client.post(
        "/__admin/stubs",
        json={"name": "ping", "request": {"path": "/ping"}, "response": {"json": {"pong": 1}}},
    )
    assert created.status_code == 201
    stub_id = created.json()["id"]
    assert (await client.get("/ping")).json() == {"pong": 1}
    listed = (await client.get("/__admin/stubs")).json()["stubs"]
    assert [(s["id"], s["name"], s["calls"]) for s in listed] == [(stub_id, "ping", 1)]
    many = await client.post(
        "/__admin/stubs", json={"stubs": [{"request": {"path": "/a"}}, {"request": {"path": "/b"}}]}
    )
    assert len(many.json()["stubs"]) == 2
    # A list, as a stub file holds it, works too; a key beside "stubs" is not ignored.
    as_file = await client.post("/__admin/stubs", json=[{"request": {"path": "/c"}}])
    assert as_file.status_code == 201
    assert [stub["request"]["path"] for stub in as_file.json()["stubs"]] == ["/c"]
    beside = await client.post(
        "/__admin/stubs", json={"stubs": [{"request": {"path": "/d"}}], "priorty": 1}
    )
    assert beside.status_code == 400
    assert beside.json()["errors"] == [{"field": "priorty", "message": "unknown key beside stubs"}]
    assert (await client.get("/d")).status_code == 404  # nothing added
    assert (await client.delete(f"/__admin/stubs/{stub_id}")).status_code == 204
    assert (await client.delete(f"/__admin/stubs/{stub_id}")).status_code == 404
    assert (await client.get("/ping")).status_code == 404
    assert (await client.delete("/__admin/stubs")).status_code == 204
    assert (await client.get("/__admin/stubs")).json() == {"stubs": []}


async def test_answers_are_utf8_as_written(admin: tuple[MockServer, httpx.AsyncClient]) -> None:
    _, client = admin
    await client.post("/__admin/stubs", json={"request": {"path": "/a"}, "name": "Анна"})
    await client.post("/a", data={"name": "Анна"})
    for path in ("/__admin/stubs", "/__admin/requests"):
        response = await client.get(path)
        assert response.headers["content-type"] == "application/json; charset=utf-8"
        assert "Анна" in response.content.decode("utf-8")
        assert "\\u0410" not in response.text


async def test_invalid_stub_is_400_problem_naming_fields(
    admin: tuple[MockServer, httpx.AsyncClient],
) -> None:
    _, client = admin
    response = await client.post(
        "/__admin/stubs",
        json={
            "stubs": [
                {"request": {"path": "/ok"}},
                {"request": {"method": 7}, "response": {"status": 42}},
            ]
        },
    )
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert [e["field"] for e in body["errors"]] == [
        "stubs[1].request.method",
        "stubs[1].response.status",
    ]
    assert (await client.get("/__admin/stubs")).json() == {"stubs": []}  # nothing half-added


async def test_admin_errors_read_like_the_stub_files(
    admin: tuple[MockServer, httpx.AsyncClient],
) -> None:
    _, client = admin
    response = await client.post(
        "/__admin/stubs", json={"request": {"pathx": "/ok", "method": 7}, "response": {}}
    )
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors["request.pathx"] == "unknown field; did you mean 'path'?"
    assert "got 7" in errors["request.method"]


@pytest.mark.parametrize("body", [b"{not json", b"", b"\xff\xfe", b"[" * 100_000 + b"]" * 100_000])
async def test_bad_json_is_400_and_server_keeps_serving(
    admin: tuple[MockServer, httpx.AsyncClient], body: bytes
) -> None:
    server, client = admin
    response = await client.post("/__admin/stubs", content=body, headers=JSON)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["title"] == "Body is not JSON"
    server.add({"request": {"path": "/alive"}})
    assert (await client.get("/alive")).status_code == 200


async def test_requests_list_filter_find_clear(admin: tuple[MockServer, httpx.AsyncClient]) -> None:
    server, client = admin
    server.add({"request": {"path": "/x"}})
    await client.post("/x", json={"a": 1})
    await client.get("/y")
    listed = (await client.get("/__admin/requests")).json()
    assert [(r["method"], r["path"]) for r in listed["requests"]] == [("POST", "/x"), ("GET", "/y")]
    assert listed["requests"][0]["json"] == {"a": 1}
    assert (listed["cap"], listed["dropped"]) == (10_000, 0)
    unmatched = (await client.get("/__admin/requests", params={"unmatched": "true"})).json()
    assert [r["path"] for r in unmatched["requests"]] == ["/y"]
    by_method = (await client.get("/__admin/requests", params={"method": "post"})).json()
    assert len(by_method["requests"]) == 1
    found = (await client.post("/__admin/requests/find", json={"json_paths": {"a": 1}})).json()
    assert found["count"] == 1
    bad = await client.post("/__admin/requests/find", json={"method": []})
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["field"] == "method"
    near = (await client.get("/__admin/near-misses")).json()["unmatched"]
    assert near[0]["request"]["path"] == "/y"
    assert near[0]["near_misses"][0]["mismatches"][0]["field"] == "path"
    assert (await client.delete("/__admin/requests")).status_code == 204
    assert (await client.get("/__admin/requests")).json()["requests"] == []


@pytest.mark.parametrize("body", [False, 7, "stubs", None, [1, 2]])
async def test_a_stub_body_of_the_wrong_shape_is_400(
    admin: tuple[MockServer, httpx.AsyncClient], body: object
) -> None:
    _, client = admin
    response = await client.post("/__admin/stubs", content=json.dumps(body), headers=JSON)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["message"].startswith("a mapping with the fields")


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"limit": "abc"}, "limit", f"{WHOLE}; got 'abc'"),
        ({"limit": "-1"}, "limit", f"{WHOLE}; got '-1'"),
        pytest.param({"limit": "²"}, "limit", f"{WHOLE}; got '²'", id="superscript-digit"),
        pytest.param({"limit": "٣"}, "limit", f"{WHOLE}; got '٣'", id="arabic-indic-digit"),
        pytest.param(
            {"limit": "9" * 5000},
            "limit",
            f"{WHOLE}; got '{'9' * 40}... (5000 characters)'",
            id="5000-digits",
        ),
        ({"unmatched": "maybe"}, "unmatched", "true or false (also 1/0, yes/no); got 'maybe'"),
        ({"methd": "GET"}, "methd", "unknown query parameter; did you mean 'method'?"),
        ({"q": "x"}, "q", "unknown query parameter (method, path, unmatched, limit)"),
    ],
)
async def test_a_journal_query_that_cannot_be_read_is_400(
    admin: tuple[MockServer, httpx.AsyncClient], query: dict[str, str], field: str, message: str
) -> None:
    _, client = admin
    response = await client.get("/__admin/requests", params=query)
    assert response.status_code == 400
    assert response.json()["errors"] == [{"field": field, "message": message}]


async def test_journal_query_limit_and_flags(admin: tuple[MockServer, httpx.AsyncClient]) -> None:
    server, client = admin
    server.add({"request": {"path": "/x"}})
    for path in ("/x", "/y", "/z"):
        await client.get(path)
    listed = await client.get("/__admin/requests", params={"limit": "2", "unmatched": "YES"})
    assert [r["path"] for r in listed.json()["requests"]] == ["/y", "/z"]
    none = await client.get("/__admin/requests", params={"limit": "0", "unmatched": "0"})
    assert none.json()["requests"] == []


async def test_state_through_the_api(admin: tuple[MockServer, httpx.AsyncClient]) -> None:
    server, client = admin
    assert (
        await client.put("/__admin/state", json={"scenario": "s", "state": "paid", "key": "7"})
    ).status_code == 204
    assert server.state("s", key="7") == "paid"
    states = (await client.get("/__admin/state")).json()["states"]
    assert states == [{"scenario": "s", "key": "7", "state": "paid"}]
    bad = await client.put("/__admin/state", json={"scenario": ""})
    assert [e["field"] for e in bad.json()["errors"]] == ["scenario", "state"]
    misspelt = await client.put("/__admin/state", json={"scenario": "s", "state": "x", "kye": "7"})
    assert misspelt.json()["errors"] == [
        {"field": "kye", "message": "unknown field; did you mean 'key'?"}
    ]
    assert server.state("s") == "Started"  # nothing set from a request that was refused
    assert (await client.delete("/__admin/state")).status_code == 204
    assert server.state("s", key="7") == "Started"


async def test_reset_health_and_unknown(admin: tuple[MockServer, httpx.AsyncClient]) -> None:
    server, client = admin
    server.add({"request": {"path": "/z"}})
    await client.get("/z")
    assert (await client.get("/__admin/health")).json() == {
        "status": "ok",
        "stubs": 1,
        "in_flight": 0,
        "requests": 1,
    }
    assert (await client.post("/__admin/reset")).status_code == 204
    assert (len(server.stubs), len(server.requests)) == (0, 0)
    missing = await client.get("/__admin/nothing")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert len(server.requests) == 0  # admin requests are not journaled


async def test_wrong_method_on_an_admin_path_is_405_with_allow(
    admin: tuple[MockServer, httpx.AsyncClient],
) -> None:
    _, client = admin
    response = await client.patch("/__admin/stubs")
    assert response.status_code == 405
    assert response.headers["allow"] == "DELETE, GET, POST"
    assert response.json()["status"] == 405
    head = await client.head("/__admin/health")
    assert (head.status_code, head.content) == (200, b"")
    # The path parameters of one call do not leak into the next.
    assert (await client.delete("/__admin/stubs/abc")).json()["detail"] == "no stub has id 'abc'"
    assert (await client.delete("/__admin/stubs/xyz")).json()["detail"] == "no stub has id 'xyz'"


def test_an_absolute_form_target_reaches_the_admin_api() -> None:
    import socket

    with (
        MockServer() as server,
        socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock,
    ):
        sock.sendall(
            f"GET {server.url}/__admin/health HTTP/1.1\r\n"
            "Host: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 200 ")
    assert answer.endswith(b'"requests": 0}')
