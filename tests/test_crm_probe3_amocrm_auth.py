"""The third probe of the fake amoCRM, over real sockets: credentials that are not ASCII
(a bearer token whose signature part is ``é``, a ``client_secret`` of ``é`` at
``/oauth2/access_token``) are refused as any wrong one is, never a 500: Python's
``hmac.compare_digest`` raises on non-ASCII text."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import AmoCRM

REDIRECT = "https://bot.example/oauth"
WRONG_LOGIN = "Неверный логин или пароль"


@pytest.fixture
async def site() -> AsyncIterator[tuple[AmoCRM, httpx.AsyncClient]]:
    async with MockServer() as server:
        amo = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
        async with httpx.AsyncClient(base_url=f"{server.url}/amocrm/example") as client:
            yield amo, client


@pytest.mark.parametrize(
    "credential",
    [
        pytest.param(b"Bearer a.b.\xc3\xa9", id="signature-not-ascii"),
        pytest.param(b"Bearer \xc3\xa9.\xc3\xa9.\xc3\xa9", id="every-part-not-ascii"),
        pytest.param(b"Bearer eyJhbGciOiJIUzI1NiJ9.e30.\xff", id="a-latin-1-byte"),
    ],
)
async def test_a_token_that_is_not_ascii_is_a_401(
    site: tuple[AmoCRM, httpx.AsyncClient], credential: bytes
) -> None:
    _, client = site
    answer = await client.get("/api/v4/leads", headers={"Authorization": credential})
    assert answer.status_code == 401
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert answer.json()["detail"] == WRONG_LOGIN


@pytest.mark.parametrize("secret", ["é", "секрет", "\udcff"])
async def test_a_client_secret_that_is_not_ascii_is_the_documented_refusal(
    site: tuple[AmoCRM, httpx.AsyncClient], secret: str
) -> None:
    amo, client = site
    app = amo.add_integration("bot", redirect_uri=REDIRECT)
    body = {
        "client_id": app.client_id,
        "client_secret": secret,
        "redirect_uri": REDIRECT,
        "grant_type": "authorization_code",
        "code": amo.authorization_code(app.client_id),
    }
    answer = await client.post(  # json.dumps escapes to ASCII: a lone surrogate travels
        "/oauth2/access_token",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 400
    assert answer.json()["hint"] == "Check the `client_secret` parameter"
