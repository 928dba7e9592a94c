"""The fake amoCRM's OAuth 2.0 over real HTTP: the code and refresh grants, JWT access
tokens whose expiry is on the server's clock, and the refusals amoCRM sends."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from freezegun import freeze_time

from mockserver import MockServer
from mockserver.crm import AmoCRM

START = datetime(2026, 3, 1, 12, 0, tzinfo=timezone.utc)
REDIRECT = "https://bot.example/amo/callback"


def claims(token: str) -> dict[str, Any]:
    header, payload, signature = token.split(".")
    assert signature
    assert json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))["typ"] == "JWT"
    decoded: dict[str, Any] = json.loads(
        base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    )
    return decoded


@pytest.fixture
async def site() -> AsyncIterator[tuple[AmoCRM, httpx.AsyncClient, Any]]:
    with freeze_time(START, real_asyncio=True) as clock:
        async with MockServer() as server:
            amo = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
            async with httpx.AsyncClient(base_url=f"{server.url}/amocrm/example") as client:
                yield amo, client, clock


def grant(amo: AmoCRM, **extra: str) -> dict[str, str]:
    app = amo.add_integration("bot", redirect_uri=REDIRECT)
    return {
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": REDIRECT,
        "grant_type": "authorization_code",
        "code": amo.authorization_code(app.client_id),
        **extra,
    }


async def test_code_grant_gives_a_jwt_that_expires_on_the_server_clock(
    site: tuple[AmoCRM, httpx.AsyncClient, Any],
) -> None:
    amo, client, clock = site
    answer = await client.post("/oauth2/access_token", json=grant(amo))
    assert answer.status_code == 200
    tokens = answer.json()
    assert (tokens["token_type"], tokens["expires_in"]) == ("Bearer", 86400)
    jwt = claims(tokens["access_token"])
    assert jwt["iat"] == int(START.timestamp())
    assert jwt["exp"] == jwt["iat"] + 86400
    assert {"jti", "account_id", "aud", "sub", "api_domain", "base_domain", "scopes"} <= set(jwt)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.get("/api/v4/leads", headers=headers)).status_code == 204
    clock.tick(timedelta(seconds=86399))
    assert (await client.get("/api/v4/leads", headers=headers)).status_code == 204
    clock.tick(timedelta(seconds=1))
    expired = await client.get("/api/v4/leads", headers=headers)
    assert expired.status_code == 401
    assert expired.headers["content-type"].startswith("application/problem+json")
    assert expired.json() == {
        "title": "Unauthorized",
        "type": "https://httpstatus.es/401",
        "status": 401,
        "detail": "Неверный логин или пароль",
    }


async def test_refresh_rotates_and_a_spent_refresh_token_is_revoked(
    site: tuple[AmoCRM, httpx.AsyncClient, Any],
) -> None:
    amo, client, clock = site
    asked = grant(amo)
    first = (await client.post("/oauth2/access_token", json=asked)).json()
    clock.tick(timedelta(days=2))
    refresh = {**asked, "grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    del refresh["code"]
    second = await client.post("/oauth2/access_token", json=refresh)
    assert second.status_code == 200
    fresh = second.json()
    assert fresh["refresh_token"] != first["refresh_token"]
    assert claims(fresh["access_token"])["exp"] == int((START + timedelta(days=3)).timestamp())
    headers = {"Authorization": f"Bearer {fresh['access_token']}"}
    assert (await client.get("/api/v4/account", headers=headers)).status_code == 200
    again = await client.post("/oauth2/access_token", json=refresh)
    assert again.status_code == 401
    assert again.json()["hint"] == "Token has been revoked"
    clock.tick(timedelta(days=91))
    late = {**refresh, "refresh_token": fresh["refresh_token"]}
    assert (await client.post("/oauth2/access_token", json=late)).json()["hint"] == (
        "Token has expired"
    )


@pytest.mark.parametrize(
    ("change", "hint"),
    [
        pytest.param({"client_id": "nope"}, "Check the `client_id` parameter", id="client-id"),
        pytest.param({"client_secret": "x"}, "Check the `client_secret` parameter", id="secret"),
        pytest.param(
            {"redirect_uri": "https://evil.example/"},
            "Redirect URI is not associated with client",
            id="redirect",
        ),
        pytest.param({"code": "garbage"}, "Cannot decrypt the authorization code", id="code"),
        pytest.param({"grant_type": "password"}, "Check the `grant_type` parameter", id="grant"),
    ],
)
async def test_refusals_are_shaped_as_amocrm_sends_them(
    site: tuple[AmoCRM, httpx.AsyncClient, Any], change: dict[str, str], hint: str
) -> None:
    amo, client, _ = site
    answer = await client.post("/oauth2/access_token", json=grant(amo, **change))
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json() == {
        "hint": hint,
        "title": "Некорректный запрос",
        "type": "https://developers.amocrm.ru/v3/errors/OAuthProblemJson",
        "status": 400,
        "detail": "В запросе отсутствует ряд параметров или параметры невалидны",
    }


async def test_a_code_works_once_and_for_twenty_minutes(
    site: tuple[AmoCRM, httpx.AsyncClient, Any],
) -> None:
    amo, client, clock = site
    asked = grant(amo)
    assert (await client.post("/oauth2/access_token", data=asked)).status_code == 200  # a form
    reused = await client.post("/oauth2/access_token", json=asked)
    assert reused.json()["hint"] == "Authorization code has been revoked"
    late = {**asked, "code": amo.authorization_code(asked["client_id"])}
    clock.tick(timedelta(minutes=20))
    assert (await client.post("/oauth2/access_token", json=late)).json()["hint"] == (
        "Authorization code has expired"
    )


async def test_host_routing_serves_the_token_endpoint_too(
    site: tuple[AmoCRM, httpx.AsyncClient, Any],
) -> None:
    amo, client, _ = site
    origin = str(client.base_url).split("/amocrm/")[0]
    answer = await client.post(
        origin + "/oauth2/access_token", json=grant(amo), headers={"Host": "example.amocrm.ru"}
    )
    assert answer.status_code == 200
    other = await client.post(
        origin + "/oauth2/access_token", json=grant(amo), headers={"Host": "other.amocrm.ru"}
    )
    assert other.status_code == 401
    assert (await client.get("/oauth2/authorize")).status_code == 404
    # The shared OAuth host (amocrm-sdk refreshes there): tokens, but no API.
    shared = await client.post(
        origin + "/oauth2/access_token", json=grant(amo), headers={"Host": "www.amocrm.ru"}
    )
    assert shared.status_code == 200
    token = shared.json()["access_token"]
    api = await client.get(
        origin + "/api/v4/leads",
        headers={"Host": "www.amocrm.ru", "Authorization": f"Bearer {token}"},
    )
    assert (api.status_code, api.json()["detail"]) == (401, "Account 'www' not found")


async def test_long_lived_tokens_are_jwts_with_their_own_expiry(
    site: tuple[AmoCRM, httpx.AsyncClient, Any],
) -> None:
    amo, client, clock = site
    token = amo.issue_token("private", lifetime=86400)
    assert claims(token)["exp"] == int(START.timestamp()) + 86400
    headers = {"Authorization": f"Bearer {token}"}
    assert (await client.get("/api/v4/leads", headers=headers)).status_code == 204
    clock.tick(timedelta(days=1))
    assert (await client.get("/api/v4/leads", headers=headers)).status_code == 401
    forged = token.rsplit(".", 1)[0] + ".c2lnbmF0dXJl"
    assert (
        await client.get("/api/v4/leads", headers={"Authorization": f"Bearer {forged}"})
    ).status_code == 401


async def test_tokens_and_integrations_survive_a_restart(tmp_path: Any) -> None:
    with freeze_time(START, real_asyncio=True):
        first = AmoCRM(data=tmp_path)
        app = first.add_integration("bot", redirect_uri=REDIRECT)
        long_lived = first.issue_token("private")
        code = first.authorization_code(app.client_id)
        first.store.close()
        async with MockServer() as server:
            amo = server.mount(AmoCRM(data=tmp_path))
            async with httpx.AsyncClient(base_url=f"{server.url}/amocrm/example") as client:
                headers = {"Authorization": f"Bearer {long_lived}"}
                assert (await client.get("/api/v4/leads", headers=headers)).status_code == 204
                body = {
                    "client_id": app.client_id,
                    "client_secret": app.client_secret,
                    "redirect_uri": REDIRECT,
                    "grant_type": "authorization_code",
                    "code": code,
                }
                tokens = (await client.post("/oauth2/access_token", json=body)).json()
                headers = {"Authorization": f"Bearer {tokens['access_token']}"}
                assert (await client.get("/api/v4/leads", headers=headers)).status_code == 204
            amo.store.close()


async def test_integrations_and_codes_through_the_admin_api(
    site: tuple[AmoCRM, httpx.AsyncClient, Any],
) -> None:
    """An out-of-process test (mockserver --crm amocrm) gets what the owner's consent gives."""
    amo, client, _ = site
    admin = str(client.base_url).split("/amocrm/")[0] + "/__admin/crm/amocrm"
    wrong = await client.post(admin + "/integrations", json={"redirect": "x"})
    assert wrong.status_code == 400
    assert (
        await client.post(admin + "/integrations", json={"redirect_uri": "nope"})
    ).status_code == 400
    made = await client.post(
        admin + "/integrations", json={"name": "bot", "redirect_uri": REDIRECT}
    )
    assert made.status_code == 201
    app = made.json()
    assert set(app) == {"name", "client_id", "client_secret", "redirect_uri", "code"}
    body = {**app, "grant_type": "authorization_code"}
    del body["name"]
    assert (await client.post("/oauth2/access_token", json=body)).status_code == 200
    again = await client.post(admin + f"/integrations/{app['client_id']}/codes")
    assert (
        await client.post("/oauth2/access_token", json={**body, "code": again.json()["code"]})
    ).status_code == 200
    assert (await client.post(admin + "/integrations/nope/codes")).status_code == 404
    assert amo.oauth.integrations[app["client_id"]].name == "bot"


def test_spent_grants_make_room_before_live_ones() -> None:
    from mockserver.crm.amocrm import oauth

    amo = AmoCRM()
    app = amo.add_integration("bot", redirect_uri=REDIRECT)
    live = amo.authorization_code(app.client_id)
    for _ in range(oauth.MAX_GRANTS + 5):
        spent = amo.authorization_code(app.client_id)
        amo.oauth.grants[spent]["used"] = True
    assert len(amo.oauth.grants) <= oauth.MAX_GRANTS
    assert live in amo.oauth.grants


async def test_faults_on_the_token_endpoint(site: tuple[AmoCRM, httpx.AsyncClient, Any]) -> None:
    """A refresh that reaches amoCRM but whose answer is lost has spent the refresh token:
    the retry with the same one is refused, as in amoCRM (what aioamocrm's docs warn of)."""
    from mockserver.crm import CrmFault

    amo, client, _ = site
    asked = grant(amo)
    first = (await client.post("/oauth2/access_token", json=asked)).json()
    refresh = {k: v for k, v in asked.items() if k != "code"}
    refresh.update(grant_type="refresh_token", refresh_token=first["refresh_token"])
    amo.add_fault(CrmFault("POST /oauth2/access_token", kind="commit_then_drop", call=1))
    with pytest.raises(httpx.ReadError):
        await client.post("/oauth2/access_token", json=refresh)
    again = await client.post("/oauth2/access_token", json=refresh)
    assert (again.status_code, again.json()["hint"]) == (401, "Token has been revoked")
    amo.add_fault(CrmFault("POST /oauth2/access_token", kind="html", status=502, call=1))
    assert (await client.post("/oauth2/access_token", json=refresh)).status_code == 502
    assert [call["method"] for call in amo.calls][-1] == "POST /oauth2/access_token"
