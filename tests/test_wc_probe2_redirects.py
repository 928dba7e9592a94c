"""A handler that redirects to a Location that is no URL: a failed attempt, not an exception."""

from __future__ import annotations

import httpx
import pytest

from mockserver import MockServer
from webhook_core import HttpxSender, Method, WebhookAction, prepare_request


@pytest.mark.rule("D1")
@pytest.mark.parametrize("client", ["direct", "httpx"])
@pytest.mark.parametrize(
    "location",
    [
        pytest.param("http://[::1", id="unclosed-bracket"),
        pytest.param("http://xn--/", id="empty-a-label"),
    ],
)
async def test_a_redirect_to_no_url_is_a_protocol_failure(location: str, client: str) -> None:
    # InvalidURL and IDNAError came out of send(): the far side's answer crashed the sender.
    async with MockServer() as server:
        server.add(
            {
                "request": {"path": "/r"},
                "response": {"status": 302, "headers": {"Location": location}},
            }
        )
        prepared = prepare_request(WebhookAction(server.url + "/r", Method.GET), {})
        if client == "direct":
            async with HttpxSender(timeout=30) as sender:
                outcome = await sender.send_prepared(prepared)
        else:
            async with httpx.AsyncClient() as http, HttpxSender(http, timeout=30) as sender:
                outcome = await sender.send(prepared.request)
    assert not outcome.ok
    assert outcome.error_kind == "protocol"
    assert outcome.error is not None
    if client == "direct":  # httpx's client words its own refusal
        assert f"redirects to {location!r}, which is no URL" in outcome.error
