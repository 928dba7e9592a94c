"""The second hostile probe of the fake amoCRM, over real sockets: dates in custom
fields and timestamps past what PHP reads as an integer. A value amoCRM refuses is a
400 ``validation-errors`` at its path and nothing is kept; one it takes is read back
as the timestamp it stores."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from mockserver import MockServer
from mockserver.crm import AmoCRM

Account = tuple[AmoCRM, httpx.AsyncClient, dict[str, int]]


@pytest.fixture
async def account() -> AsyncIterator[Account]:
    async with MockServer() as server:
        amo = server.mount(AmoCRM(subdomain="example", per_integration=10**6, per_account=10**6))
        async with httpx.AsyncClient(
            base_url=f"{server.url}/amocrm/example/api/v4",
            headers={"Authorization": f"Bearer {amo.issue_token('bot')}"},
        ) as client:
            made = await client.post(
                "/leads/custom_fields",
                json=[
                    {"name": "Day", "type": "date"},
                    {"name": "Moment", "type": "date_time"},
                    {"name": "Born", "type": "birthday"},
                ],
            )
            fields = {f["type"]: f["id"] for f in made.json()["_embedded"]["custom_fields"]}
            yield amo, client, fields


async def post(client: httpx.AsyncClient, path: str, body: Any) -> httpx.Response:
    """POST ``body`` as JSON escaped to ASCII (a lone surrogate travels as ``\\\\ud800``)."""
    return await client.post(
        path, content=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )


def paths(answer: httpx.Response) -> list[tuple[str, str]]:
    assert answer.status_code == 400, answer.text
    return [
        (error["code"], error["path"])
        for item in answer.json()["validation-errors"]
        for error in item["errors"]
    ]


NEW_YEAR = int(datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp())


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        pytest.param(NEW_YEAR, NEW_YEAR, id="a-timestamp"),
        pytest.param(str(NEW_YEAR), NEW_YEAR, id="digits"),
        pytest.param("2026-01-01T00:00:00+00:00", NEW_YEAR, id="rfc3339"),
        pytest.param("2026-01-01T03:00:00+03:00", NEW_YEAR, id="rfc3339-offset"),
        pytest.param("2026-01-01", NEW_YEAR, id="y-m-d"),
        pytest.param("2026-01-01 00:00:00", NEW_YEAR, id="y-m-d-h-i-s"),
    ],
)
@pytest.mark.parametrize("kind", ["date", "date_time", "birthday"])
async def test_a_date_field_takes_what_the_official_library_sends(
    account: Account, kind: str, given: object, kept: int
) -> None:
    _amo, client, fields = account
    item = {"custom_fields_values": [{"field_id": fields[kind], "values": [{"value": given}]}]}
    assert (await post(client, "/leads", [item])).status_code == 200
    lead = (await client.get("/leads/1")).json()
    assert lead["custom_fields_values"][0]["values"] == [{"value": kept}]


@pytest.mark.parametrize(
    "garbage",
    [
        pytest.param("someday", id="words"),
        pytest.param("2026-02-30", id="no-such-day"),
        pytest.param("2026-01-01T25:00:00", id="no-such-hour"),
        pytest.param("٢٠٢٦-01-01", id="arabic-indic-digits"),
        pytest.param("2026-01-01" + "0" * 10_000, id="10k-characters"),
        pytest.param("2026-01-01\x00", id="nul"),
        pytest.param("\ud800", id="lone-surrogate"),
        pytest.param("", id="empty"),
        pytest.param(1.5, id="a-float"),
        pytest.param(True, id="a-boolean"),
        pytest.param(2**64, id="past-64-bits"),
    ],
)
@pytest.mark.parametrize("kind", ["date", "date_time", "birthday"])
async def test_a_date_field_refuses_what_is_no_date(
    account: Account, kind: str, garbage: object
) -> None:
    amo, client, fields = account
    item = {"custom_fields_values": [{"field_id": fields[kind], "values": [{"value": garbage}]}]}
    answer = await post(client, "/leads", [item])
    assert paths(answer) == [("InvalidType", "custom_fields_values.0.values.0.value")]
    assert amo.records("leads") == []


async def test_an_update_with_a_bad_date_keeps_the_old_value(account: Account) -> None:
    amo, client, fields = account
    field = fields["date"]
    await post(
        client,
        "/leads",
        [{"custom_fields_values": [{"field_id": field, "values": [{"value": NEW_YEAR}]}]}],
    )
    answer = await client.patch(
        "/leads/1",
        json={"custom_fields_values": [{"field_id": field, "values": [{"value": "nope"}]}]},
    )
    assert paths(answer) == [("InvalidType", "custom_fields_values.0.values.0.value")]
    assert amo.records("leads")[0]["custom_fields_values"][0]["values"] == [{"value": NEW_YEAR}]


@pytest.mark.parametrize("key", ["created_at", "updated_at", "closed_at", "closest_task_at"])
async def test_an_entity_timestamp_past_64_bits_is_not_an_int(account: Account, key: str) -> None:
    """PHP's ``json_decode`` reads an integer past 64 bits as a float: "This value
    should be of type int.", as for any float (Krukov/amocrm_api issue #42)."""
    amo, client, _ = account
    answer = await post(client, "/leads", [{"name": "x", key: 10**30}])
    assert paths(answer) == [("InvalidType", key)]
    assert amo.records("leads") == []
    assert (await post(client, "/leads", [{"name": "x", key: 2**63 - 1}])).status_code == 200


@pytest.mark.parametrize("key", ["complete_till", "created_at", "duration"])
async def test_a_task_timestamp_past_64_bits_is_not_an_int(account: Account, key: str) -> None:
    amo, client, _ = account
    task = {"text": "Call", "complete_till": NEW_YEAR, key: -(2**63) - 1}
    assert paths(await post(client, "/tasks", [task])) == [("InvalidType", key)]
    assert amo.records("tasks") == []


async def test_a_note_timestamp_past_64_bits_is_not_an_int(account: Account) -> None:
    _, client, _ = account
    await post(client, "/leads", [{"name": "x"}])
    note = {"entity_id": 1, "note_type": "common", "params": {"text": "t"}, "created_at": 2**64}
    assert paths(await post(client, "/leads/notes", [note])) == [("InvalidType", "created_at")]


async def test_a_lone_surrogate_is_kept_by_an_account_with_a_data_file(tmp_path: Path) -> None:
    async with MockServer() as server:
        amo = server.mount(AmoCRM(per_integration=10**6, per_account=10**6, data=tmp_path))
        async with httpx.AsyncClient(
            base_url=f"{server.url}/amocrm/example/api/v4",
            headers={"Authorization": f"Bearer {amo.issue_token('bot')}"},
        ) as client:
            added = await post(client, "/leads", [{"name": "half \ud83d emoji"}])
            assert added.status_code == 200, added.text
            assert (await client.get("/leads/1")).json()["name"] == "half \ud83d emoji"


FORM = {"form_id": "1", "form_name": "Chat", "form_page": "https://example.com", "form_sent_at": 1}
CALL = {"from": "bot", "phone": "79990001122", "called_at": 1, "duration": 30, "service_code": "s"}


@pytest.mark.parametrize(
    ("category", "change", "path"),
    [
        pytest.param("forms", {"created_at": "yesterday"}, "created_at", id="created-words"),
        pytest.param("forms", {"created_at": 1.5}, "created_at", id="created-float"),
        pytest.param("forms", {"created_at": 10**30}, "created_at", id="created-past-64-bits"),
        pytest.param(
            "forms",
            {"metadata": {**FORM, "form_sent_at": "2026-01-01"}},
            "metadata.form_sent_at",
            id="form-sent-at-text",
        ),
        pytest.param(
            "sip", {"metadata": {**CALL, "called_at": "noon"}}, "metadata.called_at", id="called-at"
        ),
        pytest.param(
            "sip", {"metadata": {**CALL, "duration": "long"}}, "metadata.duration", id="duration"
        ),
    ],
)
async def test_an_incoming_items_timestamps_are_ints(
    account: Account, category: str, change: dict[str, Any], path: str
) -> None:
    amo, client, _ = account
    item = {
        "source_uid": "bot",
        "source_name": "Bot",
        "metadata": FORM if category == "forms" else CALL,
        "_embedded": {"leads": [{"name": "x"}]},
        **change,
    }
    answer = await post(client, f"/leads/unsorted/{category}", [item])
    assert paths(answer) == [("InvalidType", path)]
    assert amo.records("leads") == []
    ok = {**item, "created_at": 5, "metadata": FORM if category == "forms" else CALL}
    assert (await post(client, f"/leads/unsorted/{category}", [ok])).status_code == 200
