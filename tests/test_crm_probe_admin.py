"""The fake CRMs' admin API given what cannot work, and asked for more than it keeps:
a 400 naming the field (or the bound), never a silently broken webhook or fault, and
nothing that grows without bound."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import AmoCRM, Bitrix24, CrmFault
from mockserver.crm import base as crm_base
from mockserver.crm.amocrm import profile as amo_profile
from mockserver.crm.bitrix24 import portal as b24_portal


@pytest.fixture
async def admin() -> AsyncIterator[tuple[MockServer, httpx.AsyncClient]]:
    async with MockServer() as server:
        server.mount(Bitrix24(plan="unlimited"))
        server.mount(AmoCRM())
        async with httpx.AsyncClient(base_url=server.url) as client:
            yield server, client


@pytest.mark.parametrize(
    ("body", "field"),
    [
        pytest.param(
            {"method": "crm.lead.add", "kind": "redirect", "location": "http://a\r\nX-Evil: 1"},
            "location",
            id="location-with-a-line-break",
        ),
        pytest.param(
            {"method": "crm.lead.add", "kind": "redirect", "location": "javascript:alert(1)"},
            "location",
            id="location-not-http",
        ),
        pytest.param(
            {"method": "crm.lead.add", "kind": "commit_then_hang", "seconds": 1e308},
            "seconds",
            id="hang-past-a-day",
        ),
    ],
)
@pytest.mark.parametrize("kind", ["bitrix24", "amocrm"])
async def test_a_fault_that_cannot_work_is_refused_at_its_field(
    admin: tuple[MockServer, httpx.AsyncClient], kind: str, body: dict[str, Any], field: str
) -> None:
    server, client = admin
    answer = await client.post(f"/__admin/crm/{kind}/faults", json=body)
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == [field]
    assert server.profile(kind).faults == []


async def test_a_redirect_fault_to_an_http_url_still_redirects(
    admin: tuple[MockServer, httpx.AsyncClient],
) -> None:
    server, client = admin
    body = {"method": "crm.lead.add", "kind": "redirect", "location": "https://other.example"}
    assert (await client.post("/__admin/crm/bitrix24/faults", json=body)).status_code == 201
    portal = server.profile("bitrix24")
    answer = await client.post(f"{portal.webhook_path}crm.lead.add", json={})
    assert answer.status_code == 302
    assert answer.headers["location"].startswith("https://other.example/rest/")


async def test_faults_are_bounded_and_spent_ones_make_room(
    admin: tuple[MockServer, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, client = admin
    monkeypatch.setattr(crm_base, "MAX_FAULTS", 3)
    portal = server.profile("bitrix24")
    for _ in range(3):
        body = {"method": "crm.lead.list", "call": 1, "status": 503}
        assert (await client.post("/__admin/crm/bitrix24/faults", json=body)).status_code == 201
    full = await client.post("/__admin/crm/bitrix24/faults", json={"method": "crm.lead.get"})
    assert full.status_code == 400
    assert "at most 3 faults" in full.json()["detail"]
    # Each call=1 fault counts that call: one call spends all three.
    assert (await client.post(f"{portal.webhook_path}crm.lead.list", json={})).status_code == 503
    again = await client.post("/__admin/crm/bitrix24/faults", json={"method": "crm.lead.get"})
    assert again.status_code == 201
    assert [f.method for f in portal.faults] == ["crm.lead.get"]


def test_add_fault_in_process_says_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(crm_base, "MAX_FAULTS", 1)
    portal = Bitrix24()
    portal.add_fault(CrmFault(method="crm.lead.add"))
    with pytest.raises(ValueError, match="at most 1 faults"):
        portal.add_fault(CrmFault(method="crm.lead.add"))


@pytest.mark.parametrize(
    "user_id",
    [
        pytest.param("a/b", id="a-slash"),
        pytest.param("a b", id="a-space"),
        pytest.param("", id="empty"),
        pytest.param("x" * 200, id="200-characters"),
    ],
)
async def test_a_webhook_for_a_user_id_no_url_can_carry_is_refused(
    admin: tuple[MockServer, httpx.AsyncClient], user_id: str
) -> None:
    server, client = admin
    portal = server.profile("bitrix24")
    before = dict(portal.webhooks)
    answer = await client.post("/__admin/crm/bitrix24/webhooks", json={"user_id": user_id})
    assert answer.status_code == 400
    assert [e["field"] for e in answer.json()["errors"]] == ["user_id"]
    assert portal.webhooks == before


async def test_webhooks_are_bounded(
    admin: tuple[MockServer, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, client = admin
    monkeypatch.setattr(b24_portal, "MAX_WEBHOOKS", 3)
    portal = server.profile("bitrix24")
    made = [await client.post("/__admin/crm/bitrix24/webhooks", json={}) for _ in range(3)]
    assert [m.status_code for m in made] == [201, 201, 400]  # the first is the portal's own
    assert "at most 3 webhooks" in made[-1].json()["detail"]
    assert len(portal.webhooks) == 3
    revoked = made[0].json()["path"].rstrip("/").rsplit("/", 1)[1]
    assert (await client.delete(f"/__admin/crm/bitrix24/webhooks/{revoked}")).status_code == 204
    assert (await client.post("/__admin/crm/bitrix24/webhooks", json={})).status_code == 201


async def test_amocrm_long_lived_tokens_and_integrations_are_bounded(
    admin: tuple[MockServer, httpx.AsyncClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    server, client = admin
    monkeypatch.setattr(amo_profile, "MAX_TOKENS", 2)
    monkeypatch.setattr(amo_profile, "MAX_INTEGRATIONS", 2)
    amo = server.profile("amocrm")
    tokens = [await client.post("/__admin/crm/amocrm/tokens", json={}) for _ in range(3)]
    assert [t.status_code for t in tokens] == [201, 201, 400]
    assert "at most 2 long-lived tokens" in tokens[-1].json()["detail"]
    assert len(amo.tokens) == 2
    apps = [await client.post("/__admin/crm/amocrm/integrations", json={}) for _ in range(3)]
    assert [a.status_code for a in apps] == [201, 201, 400]
    assert "at most 2 integrations" in apps[-1].json()["detail"]
    assert len(amo.oauth.integrations) == 2


async def test_revoking_a_token_or_webhook_takes_it_once(
    admin: tuple[MockServer, httpx.AsyncClient],
) -> None:
    server, client = admin
    issued = await client.post("/__admin/crm/amocrm/tokens", json={})
    token = issued.json()["token"]
    assert token in server.profile("amocrm").tokens
    assert (await client.delete(f"/__admin/crm/amocrm/tokens/{token}")).status_code == 204
    assert token not in server.profile("amocrm").tokens
    again = await client.delete(f"/__admin/crm/amocrm/tokens/{token}")
    assert (again.status_code, again.json()["title"]) == (404, "No such token")
    # Bitrix24 has webhooks, not amoCRM's tokens: neither revokes what the other holds.
    other = await client.delete(f"/__admin/crm/bitrix24/tokens/{token}")
    assert other.status_code == 404
    unknown = await client.delete("/__admin/crm/bitrix24/webhooks/nosuchsecret")
    assert (unknown.status_code, unknown.json()["title"]) == (404, "No such webhook")
