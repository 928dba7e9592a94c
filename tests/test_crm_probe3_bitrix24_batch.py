"""The third probe of the fake Bitrix24, over real sockets: a ``batch`` of more than 50
commands: the first 50 run, each one past them is that command's
``ERROR_BATCH_LENGTH_EXCEEDED``."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.crm_clients import DATE_FIELDS, Portal, bitrix24_portal, call


@pytest.fixture
async def portal() -> AsyncIterator[Portal]:
    async with bitrix24_portal(userfields=DATE_FIELDS) as opened:
        yield opened


# --- batch past 50 commands ---------------------------------------------------------

LENGTH = {"error": "ERROR_BATCH_LENGTH_EXCEEDED", "error_description": "Max batch length exceeded"}


async def test_a_batch_of_52_runs_the_first_50_and_refuses_the_rest(portal: Portal) -> None:
    crm, client, path = portal
    commands = {f"c{i}": f"crm.lead.add?fields[TITLE]=n{i}" for i in range(52)}
    answer = await call(client, path, "batch", {"cmd": commands})
    assert answer.status_code == 200
    result = answer.json()["result"]
    assert list(result["result"]) == [f"c{i}" for i in range(50)]
    assert result["result_error"] == {"c50": LENGTH, "c51": LENGTH}
    assert len(crm.records("lead")) == 50


async def test_a_batch_past_50_with_halt_stops_at_the_51st(portal: Portal) -> None:
    crm, client, path = portal
    commands = [f"crm.lead.add?fields[TITLE]=n{i}" for i in range(60)]
    answer = await call(client, path, "batch", {"halt": 1, "cmd": commands})
    assert answer.status_code == 200
    result = answer.json()["result"]
    assert len(result["result"]) == 50
    assert result["result_error"] == {"50": LENGTH}
    assert len(crm.records("lead")) == 50


async def test_a_batch_of_exactly_50_has_no_error(portal: Portal) -> None:
    _, client, path = portal
    commands = [f"crm.lead.add?fields[TITLE]=n{i}" for i in range(50)]
    result = (await call(client, path, "batch", {"cmd": commands})).json()["result"]
    assert len(result["result"]) == 50
    assert result["result_error"] == []
