"""Ninth probe, amoCRM's HTTP methods: ``HEAD`` is the ``GET`` without its body, every 405
names the path's methods in ``Allow`` (RFC 9110 §9.3.2, §15.5.6), a lead's ``DELETE`` is
refused and not offered, and ``/oauth2/access_token`` takes ``POST`` only (RFC 6749 §3.2).
The rate limit counts on the server's driven clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import AmoCRM
from tests.crm_clients import amocrm_account

AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
UID = "0" * 40
#: One concrete path of every API route.
PATHS = [
    "/account",
    "/leads/pipelines",
    "/leads/pipelines/1",
    "/leads/pipelines/1/statuses",
    "/users",
    "/users/1",
    "/leads/custom_fields",
    "/contacts/custom_fields/1",
    "/leads/complex",
    "/events",
    "/events/abc",
    "/contacts/tags",
    "/leads/notes",
    "/leads/1/notes",
    "/leads/1/notes/1",
    "/leads/1/link",
    "/leads/1/unlink",
    "/leads/1/links",
    "/companies/link",
    "/companies/unlink",
    "/leads/unsorted",
    "/leads/unsorted/forms",
    f"/leads/unsorted/{UID}",
    f"/leads/unsorted/{UID}/accept",
    f"/leads/unsorted/{UID}/decline",
    "/tasks",
    "/tasks/1",
    "/webhooks",
    "/leads",
    "/companies/1",
]
METHODS = ["GET", "HEAD", "POST", "PATCH", "DELETE", "PUT", "OPTIONS"]


@pytest.fixture
async def account() -> AsyncIterator[tuple[AmoCRM, httpx.AsyncClient]]:
    async with amocrm_account() as (amo, client):
        created = await client.post("/leads", json=[{"name": "one"}, {"name": "two"}])
        assert created.status_code == 200
        yield amo, client


def _headers(response: httpx.Response) -> dict[str, str]:
    return {k: v for k, v in response.headers.items() if k != "date"}


@pytest.mark.parametrize(
    "path",
    [
        pytest.param("/leads", id="a-list"),
        pytest.param("/leads/2?with=contacts", id="one-lead"),
        pytest.param("/leads/9", id="no-such-lead-204"),
        pytest.param("/leads?limit=0", id="a-refused-query-400"),
        pytest.param("/account", id="account"),
        pytest.param("/leads/1/links", id="links"),
    ],
)
async def test_head_is_the_get_without_its_body(
    account: tuple[AmoCRM, httpx.AsyncClient], path: str
) -> None:
    _, client = account
    got = await client.get(path)
    head = await client.head(path)
    assert head.status_code == got.status_code
    assert _headers(head) == _headers(got)
    assert head.content == b""


async def test_no_body_follows_a_head_on_the_wire() -> None:
    """What httpx would not show: the bytes after the head's headers, up to the close."""
    async with MockServer() as server:
        amo = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
        token = amo.issue_token("bot")
        host, port = server.url.removeprefix("http://").split(":")
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"HEAD /amocrm/example/api/v4/account HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {token}\r\nConnection: close\r\n\r\n".encode()
        )
        answer = await reader.read()
        writer.close()
    head, _, rest = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 ")
    assert b"Content-Length: " in head
    assert rest == b""


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        pytest.param("PUT", "/leads/5", "GET, HEAD, PATCH", id="put-lead"),
        pytest.param("DELETE", "/leads", "GET, HEAD, PATCH, POST", id="delete-leads"),
        pytest.param("POST", "/account", "GET, HEAD", id="post-account"),
        pytest.param("GET", "/leads/complex", "POST", id="get-complex"),
        pytest.param("HEAD", "/leads/complex", "POST", id="head-complex"),
        pytest.param("DELETE", "/tasks/1", "GET, HEAD, PATCH", id="delete-task"),
        pytest.param("PUT", "/leads/custom_fields/1", "DELETE, GET, HEAD", id="put-field"),
        pytest.param("OPTIONS", "/webhooks", "DELETE, GET, HEAD, POST", id="options-hooks"),
    ],
)
async def test_a_405_says_what_the_path_allows(
    account: tuple[AmoCRM, httpx.AsyncClient], method: str, path: str, allow: str
) -> None:
    _, client = account
    answer = await client.request(method, path)
    assert answer.status_code == 405
    assert answer.headers["allow"] == allow
    assert answer.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("entity", ["leads", "contacts", "companies"])
@pytest.mark.parametrize("tail", ["", "/5"], ids=["list", "one"])
async def test_an_entity_delete_is_refused_and_not_offered(
    account: tuple[AmoCRM, httpx.AsyncClient], entity: str, tail: str
) -> None:
    _, client = account
    answer = await client.delete(f"/{entity}{tail}")
    assert answer.status_code == 405
    assert answer.json()["detail"] == (
        f"{entity} cannot be deleted through the API (amoCRM API v4 has no DELETE for them)"
    )
    allowed = answer.headers["allow"].split(", ")
    assert "DELETE" not in allowed
    assert allowed == (["GET", "HEAD", "PATCH", "POST"] if not tail else ["GET", "HEAD", "PATCH"])


@pytest.mark.parametrize("path", PATHS)
async def test_allow_lists_exactly_the_methods_that_are_not_a_405(
    account: tuple[AmoCRM, httpx.AsyncClient], path: str
) -> None:
    """No route has ``PUT``: its 405 gives the list, and every other method is a 405 if
    and only if it is not on it (what each method then answers does not matter here)."""
    _, client = account
    allow = (await client.put(path)).headers["allow"].split(", ")
    assert allow == sorted(allow)
    assert ("HEAD" in allow) == ("GET" in allow)
    for method in METHODS:
        answer = await client.request(method, path)
        assert (answer.status_code == 405) == (method not in allow), (method, path)
        if answer.status_code == 405:
            assert answer.headers["allow"] == ", ".join(allow)


@pytest.mark.parametrize("method", ["GET", "HEAD", "PUT", "DELETE", "OPTIONS"])
@pytest.mark.parametrize(
    ("prefix", "host"),
    [
        pytest.param("/amocrm/example", None, id="path-routing"),
        pytest.param("", "www.amocrm.ru", id="shared-host"),
    ],
)
async def test_the_token_endpoint_takes_post_only(
    method: str, prefix: str, host: str | None
) -> None:
    """league/oauth2-server's own server routes ``POST /access_token`` and nothing else
    (its examples: ``$app->post('/access_token', ...)``; Slim answers 405 with ``Allow``),
    as RFC 6749 §3.2 asks; it used to be a 404, as for a path that is not there."""
    async with MockServer() as server:
        server.mount(AmoCRM())
        headers = {"Host": host} if host else {}
        async with httpx.AsyncClient(base_url=server.url + prefix, headers=headers) as client:
            answer = await client.request(method, "/oauth2/access_token")
            missing = await client.request(method, "/oauth2/authorize")
    assert answer.status_code == 405
    assert answer.headers["allow"] == "POST"
    assert answer.headers["content-type"].startswith("application/problem+json")
    if method != "HEAD":
        assert answer.json()["detail"].endswith("/oauth2/access_token: use POST")
    assert missing.status_code == 404  # another path under /oauth2 is still not there


async def test_the_rate_limit_counts_on_the_driven_clock() -> None:
    """Frozen, the clock never lets a second pass, however long the machine takes; moved a
    second on (as the admin API moves it for a server in another process), the window
    opens again. No freezegun and no sleep: only the profile's own clock."""
    async with MockServer() as server:
        amo = server.mount(AmoCRM(per_integration=2, block_after=10**6))
        amo.clock.freeze(AT)
        headers = {"Authorization": f"Bearer {amo.issue_token('bot')}"}
        async with httpx.AsyncClient(base_url=server.url, headers=headers) as client:
            api = "/amocrm/example/api/v4/leads"
            assert [(await client.get(api)).status_code for _ in range(3)] == [204, 204, 429]
            moved = await client.post("/__admin/crm/amocrm/clock", json={"advance": 0.999})
            assert moved.status_code == 200
            assert (await client.get(api)).status_code == 429
            await client.post("/__admin/crm/amocrm/clock", json={"advance": 0.001})
            assert [(await client.get(api)).status_code for _ in range(3)] == [204, 204, 429]
