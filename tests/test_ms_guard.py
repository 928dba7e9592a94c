"""The admin API refuses cross-origin and DNS-rebinding requests, and takes a token for
deliberate remote use: over real sockets, with the headers a browser would send."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from aiohttp.test_utils import make_mocked_request

from mockserver import MockServer
from mockserver.guard import AdminGuard, check_admin_request

STUB = json.dumps({"request": {"path": "/planted"}, "response": {"text": "owned"}})


@pytest.fixture
async def server() -> AsyncIterator[MockServer]:
    async with MockServer([{"name": "kept", "request": {"path": "/kept"}}]) as made:
        yield made


@pytest.fixture
async def client(server: MockServer) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=server.url) as made:
        yield made


async def test_a_foreign_pages_text_plain_post_adds_no_stub(
    server: MockServer, client: httpx.AsyncClient
) -> None:
    # What <form enctype=text/plain> or fetch(..., {mode: "no-cors"}) sends: no preflight.
    response = await client.post(
        "/__admin/stubs",
        content=STUB,
        headers={"Content-Type": "text/plain", "Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "Origin 'https://evil.example' is not this server" in response.json()["detail"]
    assert [stub.name for stub in server.stubs] == ["kept"]
    assert (await client.get("/planted")).status_code == 404


async def test_a_foreign_page_cannot_reset_the_server(
    server: MockServer, client: httpx.AsyncClient
) -> None:
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},  # a sandboxed frame or a file:// page
        {"Origin": f"http://127.0.0.1:{server.port + 1}"},  # another local server's page
        {"Origin": f"https://127.0.0.1:{server.port}"},  # another scheme
    ):
        response = await client.post("/__admin/reset", headers=headers)
        assert response.status_code == 403, headers
    assert [stub.name for stub in server.stubs] == ["kept"]


async def test_a_text_plain_write_without_origin_is_415(
    server: MockServer, client: httpx.AsyncClient
) -> None:
    for kind in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"):
        response = await client.post("/__admin/stubs", content=STUB, headers={"Content-Type": kind})
        assert response.status_code == 415, kind
        assert response.json()["detail"] == f"Content-Type: expected application/json, got {kind!r}"
    response = await client.put(
        "/__admin/state", content='{"scenario": "s", "state": "x"}', headers={}
    )
    assert response.status_code == 415
    assert server.registry.states == {}


async def test_dns_rebinding_cannot_read_the_journal(
    server: MockServer, client: httpx.AsyncClient
) -> None:
    await client.get("/kept", headers={"Authorization": "secret of the user"})
    for host in (f"evil.example:{server.port}", "evil.example", "127.0.0.1.evil.example", ""):
        response = await client.get("/__admin/requests", headers={"Host": host})
        assert response.status_code == 403, host
        assert "secret" not in response.text
        assert "DNS rebinding" in response.json()["detail"]


@pytest.mark.parametrize(
    "host",
    ["127.0.0.1:{port}", "localhost:{port}", "LOCALHOST:{port}", "127.0.0.1", "[::1]:{port}"],
)
async def test_this_servers_own_names_are_welcome(
    server: MockServer, client: httpx.AsyncClient, host: str
) -> None:
    name = host.format(port=server.port)
    origin = f"http://{name}" if ":" in name.replace("[::1]", "") else None
    headers = {"Host": name} | ({"Origin": origin} if origin else {})
    response = await client.post(
        "/__admin/stubs",
        content=STUB,
        headers=headers | {"Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201, response.text


async def test_stub_traffic_is_not_guarded(server: MockServer, client: httpx.AsyncClient) -> None:
    # The system under test may send anything: only /__admin/ is guarded.
    response = await client.post(
        "/kept",
        content="x",
        headers={
            "Host": "crm.example",
            "Origin": "http://evil.example",
            "Content-Type": "text/plain",
        },
    )
    assert response.status_code == 200


async def test_a_bodiless_write_from_a_script_still_works(client: httpx.AsyncClient) -> None:
    # curl -X POST .../__admin/reset: no body, no content type, no Origin.
    assert (await client.post("/__admin/reset")).status_code == 204
    assert (await client.delete("/__admin/requests")).status_code == 204


async def test_named_extra_hosts_are_allowed() -> None:
    async with (
        MockServer(admin_hosts=["mock.test"]) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        ok = await client.get(
            "/__admin/health",
            headers={
                "Host": f"mock.test:{server.port}",
                "Origin": f"http://mock.test:{server.port}",
            },
        )
        assert ok.status_code == 200
        other = await client.get("/__admin/health", headers={"Host": "other.test"})
        assert other.status_code == 403


async def test_a_token_admits_remote_use_and_nothing_else() -> None:
    async with (
        MockServer(admin_token="s3cret") as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        missing = await client.get("/__admin/health")
        assert missing.status_code == 401
        assert missing.headers["www-authenticate"].startswith("Bearer")
        wrong = await client.get("/__admin/health", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        assert "the one given is wrong" in wrong.json()["detail"]
        remote = {"Authorization": "Bearer s3cret", "Host": "mock.ci.internal:8080"}
        assert (await client.get("/__admin/health", headers=remote)).status_code == 200
        added = await client.post(
            "/__admin/stubs", content=STUB, headers=remote | {"Content-Type": "application/json"}
        )
        assert added.status_code == 201
        plain = await client.post(
            "/__admin/stubs", content=STUB, headers=remote | {"Content-Type": "text/plain"}
        )
        assert plain.status_code == 415


async def test_the_guard_is_reusable_for_pages_of_the_same_server(server: MockServer) -> None:
    good = make_mocked_request("GET", "/__admin/ui/", headers={"Host": f"localhost:{server.port}"})
    assert check_admin_request(server, good) is None
    evil = make_mocked_request(
        "GET", "/__admin/ui/", headers={"Host": "evil.example", "Origin": "http://evil.example"}
    )
    refusal = check_admin_request(server, evil)
    assert refusal is not None
    assert refusal.status == 403
    guard = AdminGuard.build(host="0.0.0.0", port=80, allowed_hosts=["Box.Lan"])
    assert guard.check(make_mocked_request("GET", "/", headers={"Host": "box.lan"})) is None
    assert guard.check(make_mocked_request("GET", "/", headers={"Host": "0.0.0.0"})) is not None


async def test_the_guard_as_middleware_protects_an_application_of_the_same_server(
    server: MockServer,
) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestClient, TestServer

    from mockserver.guard import admin_middleware

    async def page(request: web.Request) -> web.Response:
        return web.Response(text="<p>dashboard</p>", content_type="text/html")

    app = web.Application(middlewares=[admin_middleware(server)])
    app.router.add_get("/__admin/ui/", page)
    async with TestClient(TestServer(app, host="127.0.0.1", port=0)) as client:
        # The guard checks names against the mock server's port, so use that in Host.
        own = {"Host": f"127.0.0.1:{server.port}"}
        assert (await client.get("/__admin/ui/", headers=own)).status == 200
        evil = {"Host": "evil.example", "Origin": "http://evil.example"}
        assert (await client.get("/__admin/ui/", headers=evil)).status == 403


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
async def test_a_request_a_browser_marks_as_from_elsewhere_is_refused(
    server: MockServer, client: httpx.AsyncClient, site: str
) -> None:
    response = await client.get("/__admin/requests", headers={"Sec-Fetch-Site": site})
    assert response.status_code == 403
    assert f"Sec-Fetch-Site: {site}" in response.json()["detail"]
    same = await client.get("/__admin/requests", headers={"Sec-Fetch-Site": "same-origin"})
    assert same.status_code == 200


async def test_with_a_token_a_page_loads_without_it_but_the_host_is_still_checked() -> None:
    async with MockServer(admin_token="t") as server:
        page = make_mocked_request("GET", "/__admin/ui/", headers={"Host": "127.0.0.1"})
        assert check_admin_request(server, page, api=False) is None
        refusal = check_admin_request(server, page)
        assert refusal is not None
        assert refusal.status == 401
        rebound = make_mocked_request("GET", "/__admin/ui/", headers={"Host": "evil.example"})
        refusal = check_admin_request(server, rebound, api=False)
        assert refusal is not None
        assert refusal.status == 403


async def test_a_token_set_after_start_takes_effect(
    server: MockServer, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/__admin/health")).status_code == 200
    server.admin_token = "later"
    assert (await client.get("/__admin/health")).status_code == 401
    server.admin_token = None
    server.admin_hosts = ("mock.test",)
    named = {"Host": f"mock.test:{server.port}"}
    assert (await client.get("/__admin/health", headers=named)).status_code == 200
