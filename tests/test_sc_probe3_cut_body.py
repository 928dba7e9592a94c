"""A 200 whose body is cut short (fewer bytes than its Content-Length, then the connection
closes) fails the attempt (D1): the mock server's ``cut_body`` fault, the reference
sender, and the conformance scenario that catches an implementation keeping the part."""

from __future__ import annotations

import httpx
import pytest

from mockserver import MockServer
from webhook_core import HttpxSender, WebhookAction, prepare_request


async def test_the_cut_body_fault_sends_half_of_what_content_length_says() -> None:
    async with MockServer() as server:
        server.add({"request": {"path": "/cut"}, "response": {"fault": "cut_body"}})
        async with httpx.AsyncClient() as client:
            with pytest.raises(httpx.RemoteProtocolError):
                await client.get(f"{server.url}/cut")


@pytest.mark.rule("D1")
async def test_the_reference_sender_fails_an_attempt_whose_body_is_cut() -> None:
    async with MockServer() as server:
        server.add({"request": {"path": "/cut"}, "response": {"fault": "cut_body"}})
        prepared = prepare_request(WebhookAction(f"{server.url}/cut", "GET", save_to="r"), {})
        async with HttpxSender(timeout=30) as sender:
            outcome = await sender.send_prepared(prepared)
    assert not outcome.ok
    assert outcome.error_kind in ("protocol", "disconnect")
