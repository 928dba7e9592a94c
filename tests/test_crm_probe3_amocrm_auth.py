"""The third probe of the fake amoCRM, over real sockets: credentials that are not ASCII
(a bearer token whose signature part is ``é``, a ``client_secret`` of ``é`` at
``/oauth2/access_token``) are refused as any wrong one is, never a 500: Python's
``hmac.compare_digest`` raises on non-ASCII text."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest
from freezegun import freeze_time

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


async def test_an_expired_refresh_token_stays_expired_whatever_else_happens() -> None:
    """amoCRM's refresh token carries its own expiry: once it has passed, the answer is
    "Token has expired" (401), not "Cannot decrypt" because another integration was
    granted something since (the fake used to forget expired grants at the next one)."""
    start = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
    with freeze_time(start, real_asyncio=True) as clock:
        async with MockServer() as server:
            amo = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
            app = amo.add_integration("bot", redirect_uri=REDIRECT)
            other = amo.add_integration("other", redirect_uri=REDIRECT)
            asked = {
                "client_id": app.client_id,
                "client_secret": app.client_secret,
                "redirect_uri": REDIRECT,
                "grant_type": "authorization_code",
                "code": amo.authorization_code(app.client_id),
            }
            async with httpx.AsyncClient(base_url=f"{server.url}/amocrm/example") as client:
                tokens = (await client.post("/oauth2/access_token", json=asked)).json()
                clock.tick(timedelta(days=91))
                amo.authorization_code(other.client_id)  # someone else's consent, later
                refresh = {
                    **asked,
                    "grant_type": "refresh_token",
                    "refresh_token": tokens["refresh_token"],
                }
                del refresh["code"]
                late = await client.post("/oauth2/access_token", json=refresh)
    assert (late.status_code, late.json()["hint"]) == (401, "Token has expired")
