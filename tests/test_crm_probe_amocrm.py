"""Hostile bodies against the fake amoCRM over real sockets: each is the API's own
``validation-errors`` answer (or a plain success), never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import AmoCRM


@pytest.fixture
async def account() -> AsyncIterator[tuple[AmoCRM, httpx.AsyncClient]]:
    async with MockServer() as server:
        amo = server.mount(AmoCRM(subdomain="example", per_integration=10**6, per_account=10**6))
        token = amo.issue_token("bot")
        async with httpx.AsyncClient(
            base_url=f"{server.url}/amocrm/example/api/v4",
            headers={"Authorization": f"Bearer {token}"},
        ) as client:
            yield amo, client


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param(["select"], id="a-list"),
        pytest.param({"a": 1}, id="an-object"),
        pytest.param(5, id="a-number"),
    ],
)
async def test_a_custom_field_whose_type_is_not_text_is_not_supported_choice(
    account: tuple[AmoCRM, httpx.AsyncClient], kind: Any
) -> None:
    _, client = account
    answer = await client.post(
        "/leads/custom_fields", json=[{"name": "Odd", "type": kind, "enums": [{"value": "a"}]}]
    )
    assert answer.status_code == 400
    errors = answer.json()["validation-errors"][0]["errors"]
    assert {"code": "NotSupportedChoice", "path": "type"} in [
        {"code": e["code"], "path": e["path"]} for e in errors
    ]
