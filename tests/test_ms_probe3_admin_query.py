"""Query parameters on admin endpoints that take none: refused naming them, as
``GET /__admin/requests`` refuses one it does not know. ``near-misses?limit=1``
answered every unmatched request, silently."""

from __future__ import annotations

import httpx
import pytest

from mockserver import MockServer


@pytest.mark.parametrize(
    ("method", "target"),
    [
        pytest.param("GET", "/__admin/near-misses?limit=1", id="near-misses"),
        pytest.param("GET", "/__admin/stubs?limit=1", id="stubs"),
        pytest.param("GET", "/__admin/state?scenario=s", id="state"),
        pytest.param("GET", "/__admin/health?verbose=1", id="health"),
        pytest.param("DELETE", "/__admin/stubs?id=a", id="delete-stubs"),
        pytest.param("DELETE", "/__admin/requests?path=/a", id="delete-requests"),
        pytest.param("POST", "/__admin/reset?states=false", id="reset"),
        pytest.param("GET", "/__admin/crm?name=bitrix24", id="crm"),
    ],
)
async def test_a_query_parameter_an_endpoint_does_not_take_is_refused(
    method: str, target: str
) -> None:
    async with (
        MockServer([{"id": "a"}]) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        answer = await client.request(method, target)
        assert answer.status_code == 400, answer.text
        assert answer.headers["Content-Type"].startswith("application/problem+json")
        (error,) = answer.json()["errors"]
        assert error["field"] == target.split("?")[1].split("=")[0]
        assert "takes no query parameters" in error["message"]
        assert [stub.id for stub in server.stubs] == ["a"]  # nothing was done


async def test_the_journal_still_takes_its_own() -> None:
    async with MockServer() as server, httpx.AsyncClient(base_url=server.url) as client:
        assert (await client.get("/__admin/requests?limit=1&unmatched=true")).status_code == 200
        assert (await client.get("/__admin/health")).status_code == 200
