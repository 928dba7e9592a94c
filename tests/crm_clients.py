"""A fake CRM on a real mock server and an HTTP client pointed at it, for the CRM probes.

Each probe file states its own fixture (what portal or account it needs) in one
line through these, instead of repeating the server, the mount and the client.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from mockserver import MockServer
from mockserver.crm import AmoCRM, Bitrix24

#: A Bitrix24 portal, a client of its server, and the portal's webhook path.
Portal = tuple[Bitrix24, httpx.AsyncClient, str]

#: The user fields the Bitrix24 probes of dates read and write.
DATE_FIELDS = {"lead": {"UF_CRM_DAY": "date", "UF_CRM_AT": "datetime"}}


@asynccontextmanager
async def bitrix24_portal(**options: Any) -> AsyncIterator[Portal]:
    """A portal (user 7, secret ``s3cret``, no rate limit unless ``options`` say so)."""
    async with MockServer() as server:
        crm = server.mount(
            Bitrix24(**{"user_id": "7", "secret": "s3cret", "plan": "unlimited", **options})
        )
        async with httpx.AsyncClient(base_url=server.url) as client:
            yield crm, client, crm.webhook_path


@asynccontextmanager
async def bitrix24_client() -> AsyncIterator[httpx.AsyncClient]:
    """A client whose base URL is a portal's webhook (secret ``k``, no rate limit)."""
    async with MockServer() as server:
        crm = server.mount(Bitrix24(secret="k", plan="unlimited"))
        async with httpx.AsyncClient(base_url=server.url + crm.webhook_path) as client:
            yield client


async def call(client: httpx.AsyncClient, path: str, method: str, body: Any) -> httpx.Response:
    """POST ``body`` as JSON, escaped to ASCII, so a lone surrogate travels as ``\\ud800``."""
    return await client.post(
        f"{path}{method}.json",
        content=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )


@asynccontextmanager
async def amocrm_account() -> AsyncIterator[tuple[AmoCRM, httpx.AsyncClient]]:
    """Account ``example`` and a client of its API v4 holding a bearer token, with rate
    limits too high to reach."""
    async with MockServer() as server:
        amo = server.mount(AmoCRM(subdomain="example", per_integration=10**6, per_account=10**6))
        token = amo.issue_token("bot")
        async with httpx.AsyncClient(
            base_url=f"{server.url}/amocrm/example/api/v4",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            yield amo, client


@asynccontextmanager
async def amocrm_client() -> AsyncIterator[httpx.AsyncClient]:
    """The client of :func:`amocrm_account` alone."""
    async with amocrm_account() as (_, client):
        yield client


def code_grant(amo: AmoCRM, app: Any) -> dict[str, str]:
    """The body of ``POST /oauth2/access_token`` that trades integration ``app``'s
    authorization code for tokens (amoCRM's ``authorization_code`` grant)."""
    return {
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "redirect_uri": app.redirect_uri,
        "grant_type": "authorization_code",
        "code": amo.authorization_code(app.client_id),
    }
