"""Eleventh probe: a fake CRM's row on the dashboard while the CRM works and once it
has answered, through the live feed (docs/hardening.md, "Eleventh probe")."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx

from mockserver import MockServer
from mockserver.ui import UI_PREFIX

from .test_ms_hardening import LIVENESS
from .test_ms_probe9_http import _TO_CRM, _sent, _Waiting

API = UI_PREFIX + "api/"


async def _events(stream: httpx.Response) -> AsyncIterator[tuple[str, Any]]:
    name = ""
    async for line in stream.aiter_lines():
        if line.startswith("event: "):
            name = line.removeprefix("event: ")
        elif line.startswith("data: "):
            yield name, json.loads(line.removeprefix("data: "))


def _crm_rows(data: Any) -> list[tuple[Any, Any, Any]]:
    return [(r["seq"], r["status"], r["answering"]) for r in data["rows"] if r["url"] == "/crm"]


async def test_a_crm_row_is_sent_again_when_the_crm_answers() -> None:
    # The feed sent the row once, when journaled (status null): the page read "no
    # answer" until it was loaded again.
    async with (
        MockServer() as server,
        httpx.AsyncClient(base_url=server.url, timeout=30) as client,
    ):
        crm = server.mount(_Waiting())
        seen: list[tuple[str, list[tuple[Any, Any, Any]]]] = []
        writer = None
        async with asyncio.timeout(60), client.stream("GET", API + "events") as stream:
            async for name, data in _events(stream):
                if name == "hello":
                    waiting, writer = await _sent(server.port, _TO_CRM)
                    await asyncio.wait_for(crm.arrived.wait(), LIVENESS)
                    continue
                seen.append((name, _crm_rows(data)))
                if name == "rows" and _crm_rows(data):
                    crm.go.set()
                    assert (await waiting.read()).startswith(b"HTTP/1.1 200 ")
                if name == "answered":
                    break
        assert writer is not None
        writer.close()
        assert seen == [("rows", [(1, None, True)]), ("answered", [(1, 200, False)])]


async def test_a_crm_row_loaded_before_the_feed_opened_is_sent_when_answered() -> None:
    async with (
        MockServer() as server,
        httpx.AsyncClient(base_url=server.url, timeout=30) as client,
    ):
        crm = server.mount(_Waiting())
        waiting, writer = await _sent(server.port, _TO_CRM)
        await asyncio.wait_for(crm.arrived.wait(), LIVENESS)
        page = (await client.get(API + "requests")).json()
        assert _crm_rows(page) == [(1, None, True)]  # the page reads "in progress"
        async with asyncio.timeout(60), client.stream("GET", API + "events") as stream:
            async for name, data in _events(stream):
                if name == "hello":
                    crm.go.set()
                    assert (await waiting.read()).startswith(b"HTTP/1.1 200 ")
                elif name == "answered":
                    assert _crm_rows(data) == [(1, 200, False)]
                    break
        writer.close()
        page = (await client.get(API + "requests")).json()
        assert _crm_rows(page) == [(1, 200, False)]


async def test_a_crm_row_forgotten_by_a_reset_is_not_sent_again() -> None:
    # After a reset the old number may be another request's: the page reloads instead.
    async with (
        MockServer([{"request": {"path": "/b"}}]) as server,
        httpx.AsyncClient(base_url=server.url, timeout=30) as client,
    ):
        crm = server.mount(_Waiting())
        names: list[str] = []
        async with asyncio.timeout(60), client.stream("GET", API + "events") as stream:
            async for name, data in _events(stream):
                names.append(name)
                if name == "hello":
                    waiting, writer = await _sent(server.port, _TO_CRM)
                    await asyncio.wait_for(crm.arrived.wait(), LIVENESS)
                elif name == "rows" and _crm_rows(data):
                    server.reset_requests()
                elif name == "reset":
                    crm.go.set()
                    assert (await waiting.read()).startswith(b"HTTP/1.1 200 ")
                    writer.close()
                    await client.get("/b")  # a row after the CRM's answer: its tick or later
                elif name == "rows":
                    assert [r["url"] for r in data["rows"]] == ["/b"]
                    break
        assert names == ["hello", "rows", "reset", "rows"]
