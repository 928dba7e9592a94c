"""Seventh probe, amoCRM's tokens: a JWT is valid from its ``nbf`` (and ``iat``) to its
``exp`` on the server's clock, as league/oauth2-server's ``BearerTokenValidator`` (lcobucci's
``LooseValidAt``, no leeway) judges it; before ``nbf`` it is the 401 a wrong token gets."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import httpx

from mockserver import MockServer
from mockserver.crm import AmoCRM
from tests.crm_clients import code_grant

AT = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
UNAUTHORIZED = {
    "title": "Unauthorized",
    "type": "https://httpstatus.es/401",
    "status": 401,
    "detail": "Неверный логин или пароль",
}


async def test_a_token_is_refused_before_its_nbf_and_taken_from_it() -> None:
    async with MockServer() as server:
        amo = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
        amo.clock.freeze(AT)
        long_lived = amo.issue_token("bot")
        app = amo.add_integration("bot", redirect_uri="https://bot.example/cb")
        async with httpx.AsyncClient(base_url=f"{server.url}/amocrm/example") as client:
            granted = await client.post(
                "/oauth2/access_token",
                json=code_grant(amo, app),
            )
            oauth = granted.json()["access_token"]
            for token in (long_lived, oauth):
                headers = {"Authorization": f"Bearer {token}"}
                assert (await client.get("/api/v4/leads", headers=headers)).status_code == 204
                # The driven clock, through the admin API as a test in another process
                # moves it: a second before the token's nbf.
                amo.clock.freeze(AT - timedelta(seconds=1))
                early = await client.get("/api/v4/leads", headers=headers)
                assert early.status_code == 401, token
                assert early.headers["content-type"].startswith("application/problem+json")
                assert early.json() == UNAUTHORIZED
                moved = await client.post(
                    f"{server.url}/__admin/crm/amocrm/clock", json={"advance": 1}
                )
                assert moved.status_code == 200
                assert (await client.get("/api/v4/leads", headers=headers)).status_code == 204
