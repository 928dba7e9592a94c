"""Rule C8 on a real socket: a subscriber's CR, LF or NUL never ends a header line (pinned
by the second probe on the built request), and the C1 controls, which the docs call
controls too (U+0085 NEL, U+009B CSI), were sent as they came: they are spaces now."""

from __future__ import annotations

import pytest

from tests.farside import scripted_server
from webhook_core import HttpxSender, Method, WebhookAction, prepare_request

HOSTILE = "a\r\nX-Injected: 1\x00b\x85c\x9bd\u2028e\rHost: evil.example\n"


@pytest.mark.rule("C8")
@pytest.mark.parametrize("method", [Method.GET, Method.POST, Method.JSON_POST])
async def test_a_hostile_header_value_is_one_header_line_on_the_wire(method: Method) -> None:
    async with scripted_server([(200, "ok")]) as server:
        action = WebhookAction(
            server.url + "/h", method, headers=[("X-Name", "{first_name}")], params=[("p", "1")]
        )
        async with HttpxSender(timeout=30) as sender:
            outcome = await sender.send_prepared(prepare_request(action, {"first_name": HOSTILE}))
    assert outcome.ok
    (received,) = server.received
    names = [name.lower() for name, _ in received.raw_headers]
    assert b"x-injected" not in names
    assert names.count(b"host") == 1
    assert dict(received.raw_headers)[b"X-Name"] == (
        "a  X-Injected: 1 b c d\u2028e Host: evil.example".encode()
    )


@pytest.mark.rule("C8")
def test_c1_controls_become_spaces_in_a_header_value() -> None:
    action = WebhookAction("http://127.0.0.1:9/", "GET", headers=[("X-A", "{v}")])
    for control in map(chr, range(0x80, 0xA0)):
        headers = dict(prepare_request(action, {"v": f"x{control}y"}).headers)
        assert headers[b"X-A"] == b"x y", hex(ord(control))
