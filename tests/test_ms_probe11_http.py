"""Eleventh probe: what the HTTP probes left (docs/hardening.md, "Eleventh probe").

Real server, real sockets; the fake CRM's work is held by an ``asyncio.Event``."""

from __future__ import annotations

import asyncio

from mockserver import MockServer

from .test_ms_hardening import LIVENESS, exchange
from .test_ms_probe9_http import _THEN_B, _TO_CRM, _sent, _Waiting


def _reset(port: int) -> bytes:
    return (
        b"POST /__admin/reset HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
        b"Content-Length: 0\r\nConnection: close\r\n\r\n" % port
    )


async def test_a_crm_requests_log_line_after_a_reset_says_the_journal_forgot_it() -> None:
    # The line came when the CRM answered, with the number from before the reset: "#1
    # POST /crm -> 200" after the new journal's own "#1 GET /b -> 404".
    lines: list[str] = []
    async with MockServer([{"request": {"path": "/b"}}], log=lines.append) as server:
        crm = server.mount(_Waiting())
        waiting, writer = await _sent(server.port, _TO_CRM)
        await asyncio.wait_for(crm.arrived.wait(), LIVENESS)
        assert (await exchange(server.port, _reset(server.port))).startswith(b"HTTP/1.1 20")
        assert (await exchange(server.port, _THEN_B)).startswith(b"HTTP/1.1 404 ")
        crm.go.set()
        answer = await asyncio.wait_for(waiting.read(), LIVENESS)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 200 ")
        assert [(e.seq, e.path) for e in server.requests] == [(1, "/b")]
    requests = [line for line in lines if line.startswith("#")]
    assert requests[-2].startswith("#1 GET /b -> 404 (NO MATCH)")
    assert requests[-1] == (
        "#1 POST /crm -> 200 (stub crm:waiting), forgotten by a reset while the CRM "
        "worked (not in the journal)"
    )


async def test_a_crm_requests_log_line_without_a_reset_is_as_ever() -> None:
    lines: list[str] = []
    async with MockServer(log=lines.append) as server:
        crm = server.mount(_Waiting())
        waiting, writer = await _sent(server.port, _TO_CRM)
        await asyncio.wait_for(crm.arrived.wait(), LIVENESS)
        crm.go.set()
        await asyncio.wait_for(waiting.read(), LIVENESS)
        writer.close()
    assert [line for line in lines if line.startswith("#")] == [
        "#1 POST /crm -> 200 (stub crm:waiting)"
    ]
