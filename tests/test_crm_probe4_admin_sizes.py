"""The fourth probe of the fake CRMs' admin API: what it keeps per webhook, token and
integration (up to 1 000 of each) is bounded in bytes too, so no request of the 64 MiB a
body may hold can make a thousand of them hold gigabytes. A longer value is a 400 naming
its field, and nothing is kept."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import AmoCRM, Bitrix24


@pytest.fixture
async def admin() -> AsyncIterator[tuple[MockServer, httpx.AsyncClient]]:
    async with MockServer() as server:
        server.mount(Bitrix24(plan="unlimited"))
        server.mount(AmoCRM())
        async with httpx.AsyncClient(base_url=server.url) as client:
            yield server, client


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        pytest.param("bitrix24/webhooks", {"scope": ["crm"] * 65}, "scope", id="65-scopes"),
        pytest.param("bitrix24/webhooks", {"scope": ["c" * 65]}, "scope.0", id="a-long-scope"),
        pytest.param("bitrix24/webhooks", {"scope": ["crm\nx"]}, "scope.0", id="a-line-break"),
        pytest.param("bitrix24/oauth", {"scope": ["x" * 1_000_000]}, "scope.0", id="app-scope"),
        pytest.param("amocrm/tokens", {"integration": "i" * 257}, "integration", id="integration"),
        pytest.param("amocrm/integrations", {"name": "n" * 257}, "name", id="name"),
        pytest.param(
            "amocrm/integrations",
            {"redirect_uri": "https://a/" + "x" * 2048},
            "redirect_uri",
            id="redirect-uri",
        ),
    ],
)
async def test_a_value_past_its_bound_is_refused_at_its_field(
    admin: tuple[MockServer, httpx.AsyncClient], path: str, body: dict[str, Any], field: str
) -> None:
    server, client = admin
    kind = path.split("/")[0]
    before = server.profile(kind).to_json()
    answer = await client.post(f"/__admin/crm/{path}", json=body)
    assert answer.status_code == 400, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert server.profile(kind).to_json().keys() == before.keys()


@pytest.mark.parametrize(
    ("path", "body"),
    [
        pytest.param("bitrix24/webhooks", {"scope": ["crm", "user_brief", "im"]}, id="scopes"),
        pytest.param("bitrix24/oauth", {"scope": ["crm"] * 64}, id="64-scopes"),
        pytest.param("amocrm/tokens", {"integration": "i" * 256}, id="integration"),
        pytest.param("amocrm/integrations", {"name": "n" * 256}, id="name"),
    ],
)
async def test_a_value_at_its_bound_is_kept(
    admin: tuple[MockServer, httpx.AsyncClient], path: str, body: dict[str, Any]
) -> None:
    _, client = admin
    answer = await client.post(f"/__admin/crm/{path}", json=body)
    assert answer.status_code == 201, answer.text


def test_in_process_a_webhooks_scopes_are_bounded_too() -> None:
    portal = Bitrix24()
    with pytest.raises(ValueError, match="scope"):
        portal.issue_webhook("1", ("crm",) * 65)
    with pytest.raises(ValueError, match="scope"):
        portal.issue_webhook("1", ("x" * 65,))
    with pytest.raises(ValueError, match="scope"):
        portal.issue_app_tokens("1", ("x" * 65,))


def test_in_process_an_integrations_name_and_uri_are_bounded_too() -> None:
    account = AmoCRM()
    with pytest.raises(ValueError, match="integration"):
        account.issue_token("i" * 257)
    with pytest.raises(ValueError, match="name"):
        account.add_integration("n" * 257)
    with pytest.raises(ValueError, match="redirect_uri"):
        account.add_integration("n", redirect_uri="https://a/" + "x" * 2048)


def test_the_admin_api_bounds_a_scope_as_the_portal_does() -> None:
    from mockserver import admin_crm
    from mockserver.crm.bitrix24 import oauth

    assert (
        oauth.SCOPE_WORD.pattern,
        oauth.MAX_SCOPES,
    ) == (admin_crm.SCOPE_WORD, admin_crm.MAX_SCOPES)
