"""Tenth probe: the fake amoCRM through its client libraries (aioamocrm, amocrm-api-wrapper),
unchanged, on a real socket. Each test is a call a library makes (or a link the fake's own
answer gives it) that the fake answered as amoCRM would not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from aioamocrm import AmoCRMClient, OAuth2
from amocrm_api import AmoOAuthClient

from mockserver import MockServer
from mockserver.crm import AmoCRM

REDIRECT = "https://bot.example/amo"


@pytest.fixture
async def aio() -> AsyncIterator[tuple[AmoCRM, AmoCRMClient]]:
    async with MockServer() as server:
        fake = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
        app = fake.add_integration("bot", redirect_uri=REDIRECT)
        async with AmoCRMClient(
            auth=OAuth2(app.client_id, app.client_secret, REDIRECT),
            base_url=f"{server.url}/amocrm/example",
            rate_limit=None,
        ) as client:
            await client.exchange_code(fake.authorization_code(app.client_id))
            yield fake, client


@pytest.fixture
def wrapper() -> Iterator[AmoOAuthClient]:
    with MockServer() as server:
        fake = server.mount(AmoCRM(per_integration=10**6, per_account=10**6))
        made = AmoOAuthClient(
            access_token=fake.issue_token("wrapper"),
            refresh_token="unused",
            crm_url=f"{server.url}/amocrm/example",
            client_id="id",
            client_secret="secret",
            redirect_uri="https://example.invalid/",
        )
        yield made


def read(api: AmoOAuthClient, url: str) -> dict[str, Any]:
    """A GET through the wrapper's own session and answer handling: its GET methods pass
    ``json=`` to httpx's ``get``, which httpx 0.28 refuses whatever the server."""
    response = api._session.get(url)
    return api._finalize_response(response, "get", url, None, 0, lambda _: None)


async def test_a_status_is_found_at_its_own_link(aio: tuple[AmoCRM, AmoCRMClient]) -> None:
    # The official library's Statuses::getOne is GET leads/pipelines/{id}/statuses/{id},
    # and every status the fake shows links there; it was a 404 "not an API method".
    _, client = aio
    statuses = await client.pipelines.statuses(1)
    for status in statuses:
        shown = await client.request("GET", status.links["self"]["href"])
        assert shown["id"] == status.id
        assert (shown["name"], shown["pipeline_id"], shown["type"]) == (
            status.name,
            1,
            status.type,
        )
    missing = await client.request("GET", "leads/pipelines/1/statuses/999")
    assert missing is None  # 204, as for a missing pipeline


def test_the_wrapper_reads_one_status(wrapper: AmoOAuthClient) -> None:
    url = wrapper.crm_url + "/api/v4/leads/pipelines/1/statuses/142"
    shown = read(wrapper, url)
    assert (shown["id"], shown["name"], shown["type"]) == (142, "Успешно реализовано", 0)


async def test_event_types_are_listed(aio: tuple[AmoCRM, AmoCRMClient]) -> None:
    # GET /events/types (the official library's EventTypes) was taken for the event whose
    # id is "types" and answered 204.
    _, client = aio
    await client.leads.create([{"name": "one"}])
    listed = await client.request("GET", "events/types")
    kinds = listed["_embedded"]["events_types"]
    keys = [kind["key"] for kind in kinds]
    assert {"lead_added", "lead_status_changed", "common_note_added"} <= set(keys)
    assert all(isinstance(k["type"], int) and isinstance(k["lang"], str) for k in kinds)
    assert listed["_total_items"] == len(kinds) == len(set(keys))
    english = await client.request("GET", "events/types", params={"language_code": "en"})
    assert english["_embedded"]["events_types"][0]["lang"] == "Lead added"
    # Every key the feed writes is one of them.
    feed = await client.request("GET", "events")
    assert {event["type"] for event in feed["_embedded"]["events"]} <= set(keys)


def test_event_types_through_the_wrapper_session(wrapper: AmoOAuthClient) -> None:
    listed = read(wrapper, wrapper.crm_url + "/api/v4/events/types")
    assert listed["_embedded"]["events_types"][0]["key"] == "lead_added"
    assert httpx.URL(listed["_links"]["self"]["href"]).path.endswith("/api/v4/events/types")
