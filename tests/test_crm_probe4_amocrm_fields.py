"""The fourth probe of the fake amoCRM's created custom fields, over real sockets: an
option's ``enum_id`` is the account's, unique across fields (a field's 10th option had the
next field's first id), options of one field have distinct values, and what a field keeps
is bounded (999 options of 255 characters, a name of 255), since 500 fields may be made
per entity type."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.crm_clients import amocrm_client


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with amocrm_client() as opened:
        yield opened


def select(name: str, count: int, **more: Any) -> dict[str, Any]:
    options = [{"value": f"{name} {n}", "sort": n} for n in range(count)]
    return {"name": name, "type": "select", "enums": options, **more}


async def test_option_ids_are_unique_across_fields(client: httpx.AsyncClient) -> None:
    made = await client.post("/leads/custom_fields", json=[select("a", 12), select("b", 3)])
    assert made.status_code == 200, made.text
    fields = made.json()["_embedded"]["custom_fields"]
    ids = [option["id"] for field in fields for option in field["enums"]]
    assert len(ids) == len(set(ids)) == 15
    # Each option is its own field's: a value by the other field's enum_id is refused.
    first_b = fields[1]["enums"][0]["id"]
    lead = [
        {
            "name": "x",
            "custom_fields_values": [
                {"field_id": fields[0]["id"], "values": [{"enum_id": first_b}]}
            ],
        }
    ]
    assert (await client.post("/leads", json=lead)).status_code == 400


async def test_a_field_reads_back_every_option_it_was_given(client: httpx.AsyncClient) -> None:
    made = await client.post("/leads/custom_fields", json=[select("c", 999)])
    assert made.status_code == 200, made.text
    key = made.json()["_embedded"]["custom_fields"][0]["id"]
    shown = (await client.get(f"/leads/custom_fields/{key}")).json()
    assert len(shown["enums"]) == 999
    assert len({option["id"] for option in shown["enums"]}) == 999


@pytest.mark.parametrize(
    ("spec", "path"),
    [
        pytest.param(select("d", 1000), "enums", id="1000-options"),
        pytest.param(
            {"name": "e", "type": "select", "enums": [{"value": "v" * 256}]},
            "enums.0.value",
            id="a-long-option",
        ),
        pytest.param(
            {"name": "f", "type": "select", "enums": [{"value": "same"}, {"value": "same"}]},
            "enums.1.value",
            id="the-same-option-twice",
        ),
        pytest.param({"name": "n" * 256, "type": "text"}, "name", id="a-long-name"),
    ],
)
async def test_a_field_past_its_bounds_is_refused_at_its_path(
    client: httpx.AsyncClient, spec: dict[str, Any], path: str
) -> None:
    answer = await client.post("/leads/custom_fields", json=[spec])
    assert answer.status_code == 400, answer.text
    errors = answer.json()["validation-errors"][0]["errors"]
    assert [error["path"] for error in errors] == [path]
    listed = await client.get("/leads/custom_fields", params={"limit": 250})
    assert all(
        field["name"] != spec["name"] for field in listed.json()["_embedded"]["custom_fields"]
    )
