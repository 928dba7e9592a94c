"""The fourth probe of the fake amoCRM with hostile input, over real sockets: ids and
numbers are ASCII digits as PHP reads them (never Python's ``int``, which takes ``٣``,
``1_0`` and `` 5`` and fails past 4 300 digits with a 500), a numeric custom field takes
what PHP's ``is_numeric`` takes and is finite, and ``request_id`` comes back as JSON
would write it, never as a Python ``repr``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.crm_clients import amocrm_client

HUGE = "9" * 5000


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with amocrm_client() as opened:
        for _ in range(3):
            await opened.post("/leads", json=[{"name": "lead"}])
        await opened.post("/leads/3/notes", json=[{"note_type": "common", "params": {"text": "t"}}])
        yield opened


@pytest.mark.parametrize(
    ("method", "path"),
    [
        pytest.param("GET", f"/leads/{HUGE}", id="get-a-lead"),
        pytest.param("PATCH", f"/leads/{HUGE}", id="patch-a-lead"),
        pytest.param("GET", f"/tasks/{HUGE}", id="a-task"),
        pytest.param("GET", f"/leads/{HUGE}/notes", id="a-leads-notes"),
        pytest.param("GET", f"/leads/3/notes/{HUGE}", id="a-note"),
        pytest.param("GET", f"/leads/{HUGE}/links", id="links"),
        pytest.param("GET", f"/leads/custom_fields/{HUGE}", id="a-custom-field"),
        pytest.param("GET", f"/leads/pipelines/{HUGE}", id="a-pipeline"),
        pytest.param("GET", f"/users/{HUGE}", id="a-user"),
        pytest.param("GET", "/leads/%D9%A3", id="an-arabic-three-is-not-lead-3"),
        pytest.param("GET", "/leads/%EF%BC%93", id="a-fullwidth-three"),
        pytest.param("GET", "/leads/3/notes/%D9%A1", id="an-arabic-one-is-not-note-1"),
    ],
)
async def test_an_id_that_is_no_number_php_reads_is_no_api_method(
    client: httpx.AsyncClient, method: str, path: str
) -> None:
    answer = await client.request(method, path, json={"name": "x"})
    assert answer.status_code == 404, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "is not an API method" in answer.json()["detail"]


async def test_a_long_but_64_bit_id_is_a_missing_lead(client: httpx.AsyncClient) -> None:
    assert (await client.get("/leads/9223372036854775807")).status_code == 204


@pytest.mark.parametrize(
    ("params", "path"),
    [
        pytest.param({"limit": "1_0"}, "limit", id="underscore"),
        pytest.param({"limit": " 5"}, "limit", id="space"),
        pytest.param({"page": "٣"}, "page", id="arabic-digit"),
        pytest.param({"filter[id]": "²"}, "filter.id", id="superscript"),
        pytest.param({"filter[price][from]": "1_000"}, "filter.price.from", id="range-underscore"),
    ],
)
async def test_a_list_number_is_ascii_digits(
    client: httpx.AsyncClient, params: dict[str, Any], path: str
) -> None:
    answer = await client.get("/leads", params=params)
    assert answer.status_code == 400, answer.text
    assert answer.json()["validation-errors"][0]["errors"][0]["path"] == path


async def test_a_signed_list_number_is_still_read(client: httpx.AsyncClient) -> None:
    answer = await client.get("/leads", params={"filter[id]": "+2"})
    assert [lead["id"] for lead in answer.json()["_embedded"]["leads"]] == [2]


def numeric(value: Any) -> list[dict[str, Any]]:
    return [
        {"name": "n", "custom_fields_values": [{"field_id": 203, "values": [{"value": value}]}]}
    ]


@pytest.mark.parametrize(
    "value",
    ["nan", "NAN", "inf", "-Infinity", "1e400", HUGE, "1_000", "٣", "0x1A", "1.2.3", ""],
)
async def test_a_numeric_field_refuses_what_is_no_finite_php_number(
    client: httpx.AsyncClient, value: str
) -> None:
    answer = await client.post("/leads", json=numeric(value))
    assert answer.status_code == 400, answer.text
    error = answer.json()["validation-errors"][0]["errors"][0]
    assert error["path"] == "custom_fields_values.0.values.0.value"


@pytest.mark.parametrize("value", ["15", "-2.5", ".5", "1e3", " 7", "7 ", 42, 1.25])
async def test_a_numeric_field_takes_what_php_reads_as_a_number(
    client: httpx.AsyncClient, value: Any
) -> None:
    answer = await client.post("/leads", json=numeric(value))
    assert answer.status_code == 200, answer.text


@pytest.mark.parametrize(
    ("given", "echoed"),
    [
        pytest.param("abc", "abc", id="text"),
        pytest.param(7, "7", id="a-number"),
        pytest.param(None, "0", id="null-is-the-place"),
        pytest.param({"a": 1}, '{"a":1}', id="an-object"),
        pytest.param([1, "x"], '[1,"x"]', id="a-list"),
        pytest.param(True, "true", id="a-boolean"),
    ],
)
async def test_request_id_is_echoed_as_json_writes_it(
    client: httpx.AsyncClient, given: Any, echoed: str
) -> None:
    added = await client.post("/leads", json=[{"name": "x", "request_id": given}])
    assert added.json()["_embedded"]["leads"][0]["request_id"] == echoed
    refused = await client.post("/leads", json=[{"name": 5, "request_id": given}])
    assert refused.json()["validation-errors"][0]["request_id"] == echoed
    tags = await client.post("/leads/tags", json=[{"name": f"t{echoed}", "request_id": given}])
    assert tags.json()["_embedded"]["tags"][0]["request_id"] == echoed
    task = await client.post(
        "/tasks", json=[{"text": "t", "complete_till": 1, "request_id": given}]
    )
    assert task.json()["_embedded"]["tasks"][0]["request_id"] == echoed


@pytest.mark.parametrize("method", ["POST", "PATCH"])
@pytest.mark.parametrize("kind", ["contacts", "companies"])
@pytest.mark.parametrize("value", [5, "x", {"id": 1}])
async def test_linked_entities_that_are_no_list_are_invalid_type(
    client: httpx.AsyncClient, method: str, kind: str, value: Any
) -> None:
    answer = await client.request(
        method, "/leads", json=[{"id": 1, "name": "a", "_embedded": {kind: value}}]
    )
    assert answer.status_code == 400, answer.text
    paths = [e["path"] for e in answer.json()["validation-errors"][0]["errors"]]
    assert f"_embedded.{kind}" in paths


@pytest.mark.parametrize("params", ["x", 5, ["text"], None])
@pytest.mark.parametrize("where", ["/leads/3/notes/1", "/leads/notes"])
async def test_an_update_cannot_make_a_notes_params_no_object(
    client: httpx.AsyncClient, params: Any, where: str
) -> None:
    body: Any = {"params": params} if where.endswith("/1") else [{"id": 1, "params": params}]
    answer = await client.patch(where, json=body)
    assert answer.status_code == 400, answer.text
    assert answer.json()["validation-errors"][0]["errors"][0]["path"] == "params"
    found = await client.get("/leads/notes", params={"query": "t"})
    assert [note["id"] for note in found.json()["_embedded"]["notes"]] == [1]


async def test_a_webhook_destination_is_at_most_2048_characters(
    client: httpx.AsyncClient,
) -> None:
    long = "https://bot.example/" + "x" * 2029
    refused = await client.post("/webhooks", json={"destination": long, "settings": ["add_lead"]})
    assert refused.status_code == 400, refused.text
    error = refused.json()["validation-errors"][0]["errors"][0]
    assert (error["path"], len(refused.content) < 1000) == ("destination", True)
    kept = await client.post("/webhooks", json={"destination": long[:-1], "settings": ["add_lead"]})
    assert kept.status_code == 200, kept.text


@pytest.mark.parametrize("name", ["query", "with"])
@pytest.mark.parametrize("suffix", ["[]", "[a]"])
async def test_query_and_with_are_text_not_a_list(
    client: httpx.AsyncClient, name: str, suffix: str
) -> None:
    answer = await client.get("/leads", params={f"{name}{suffix}": "lead"})
    assert answer.status_code == 400, answer.text
    assert answer.json()["validation-errors"][0]["errors"][0]["path"] == name
