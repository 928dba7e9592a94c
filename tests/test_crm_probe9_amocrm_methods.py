"""Ninth probe, amoCRM's HTTP methods: ``HEAD`` is the ``GET`` without its body, every 405
names the path's methods in ``Allow`` (RFC 9110 §9.3.2, §15.5.6), a lead's ``DELETE`` is
refused and not offered, and ``/oauth2/access_token`` takes ``POST`` only (RFC 6749 §3.2).
The rate limit counts on the server's driven clock. A refresh token or code refused is
refused as league/oauth2-server refuses it: expiry before revocation, another
integration's named as such."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import AmoCRM
from tests.crm_clients import amocrm_account, code_grant

AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
#: amoCRM's refresh token lives three months (the fake's ``REFRESH_LIFETIME``, 90 days).
THREE_MONTHS = 90 * 86_400
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
        pytest.param("PUT", "/leads/custom_fields/1", "DELETE, GET, HEAD, PATCH", id="put-field"),
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


@pytest.fixture
async def oauth() -> AsyncIterator[tuple[AmoCRM, httpx.AsyncClient]]:
    """An account on a frozen clock, two integrations, a client of its token endpoint."""
    async with MockServer() as server:
        amo = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
        amo.clock.freeze(AT)
        async with httpx.AsyncClient(base_url=f"{server.url}/amocrm/example") as client:
            yield amo, client


async def _refresh(client: httpx.AsyncClient, app: Any, token: str) -> httpx.Response:
    return await client.post(
        "/oauth2/access_token",
        json={
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "redirect_uri": app.redirect_uri,
            "grant_type": "refresh_token",
            "refresh_token": token,
        },
    )


async def test_a_refresh_token_spent_and_expired_says_expired(
    oauth: tuple[AmoCRM, httpx.AsyncClient],
) -> None:
    """``validateOldRefreshToken`` checks ``expire_time`` before revocation: a refresh
    token used once (then "has been revoked") says "has expired" once its three months
    are up. It kept saying "has been revoked"."""
    amo, client = oauth
    app = amo.add_integration("bot", redirect_uri="https://bot.example/cb")
    first = (await client.post("/oauth2/access_token", json=code_grant(amo, app))).json()
    assert (await _refresh(client, app, first["refresh_token"])).status_code == 200
    spent = await _refresh(client, app, first["refresh_token"])
    assert (spent.status_code, spent.json()["hint"]) == (401, "Token has been revoked")
    amo.clock.advance(THREE_MONTHS)
    late = await _refresh(client, app, first["refresh_token"])
    assert (late.status_code, late.json()["hint"]) == (401, "Token has expired")


async def test_a_code_spent_and_expired_says_expired(
    oauth: tuple[AmoCRM, httpx.AsyncClient],
) -> None:
    amo, client = oauth
    app = amo.add_integration("bot", redirect_uri="https://bot.example/cb")
    asked = code_grant(amo, app)
    assert (await client.post("/oauth2/access_token", json=asked)).status_code == 200
    amo.clock.advance(20 * 60)
    late = await client.post("/oauth2/access_token", json=asked)
    assert (late.status_code, late.json()["hint"]) == (400, "Authorization code has expired")


async def test_another_integrations_grant_is_named_so(
    oauth: tuple[AmoCRM, httpx.AsyncClient],
) -> None:
    """The token decrypts (it is this account's) but is not the caller's: league says
    "Token is not linked to client" (401) and "Authorization code was not issued to this
    client" (400). Both were "Cannot decrypt ...", and the refresh token's a 400."""
    amo, client = oauth
    app = amo.add_integration("bot", redirect_uri="https://bot.example/cb")
    other = amo.add_integration("other", redirect_uri="https://other.example/cb")
    mine = (await client.post("/oauth2/access_token", json=code_grant(amo, app))).json()
    borrowed = await _refresh(client, other, mine["refresh_token"])
    assert (borrowed.status_code, borrowed.json()["hint"]) == (
        401,
        "Token is not linked to client",
    )
    assert (await _refresh(client, app, mine["refresh_token"])).status_code == 200  # unspent
    code = {**code_grant(amo, other), "code": amo.authorization_code(app.client_id)}
    taken = await client.post("/oauth2/access_token", json=code)
    assert (taken.status_code, taken.json()["hint"]) == (
        400,
        "Authorization code was not issued to this client",
    )
    garbage = await _refresh(client, app, "def50200garbage")
    assert garbage.status_code == 401  # invalidRefreshToken, like every refresh refusal
    assert garbage.json() == {
        "hint": "Cannot decrypt the refresh token",
        "title": "Некорректный запрос",
        "type": "https://developers.amocrm.ru/v3/errors/OAuthProblemJson",
        "status": 401,
        "detail": "В запросе отсутствует ряд параметров или параметры невалидны",
    }
