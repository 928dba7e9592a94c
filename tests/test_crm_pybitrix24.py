"""The fake Bitrix24 driven by pybitrix24 (1.1.0), unchanged, over HTTPS on a real socket.

pybitrix24 always calls ``https://{hostname}/…`` with ``urllib``, so the only setting is
the CA bundle (``SSL_CERT_FILE``, which ``ssl`` reads for every new context) and, for
OAuth, ``auth_hostname`` = the mock server (it serves the ``/oauth/token/`` endpoint).
"""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
import trustme
from pybitrix24 import Bitrix24 as PyBitrix24

from mockserver import MockServer
from mockserver.crm import Bitrix24


@pytest.fixture
def portal(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Bitrix24, MockServer]]:
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with ca.cert_pem.tempfile() as ca_file, MockServer(ssl_context=context) as server:
        monkeypatch.setenv("SSL_CERT_FILE", ca_file)
        crm = server.mount(
            Bitrix24(
                user_id="1",
                secret="pyb",
                plan="unlimited",
                client_id="local.pyb",
                client_secret="pyb-secret",
            )
        )
        crm.clock.freeze(datetime(2026, 2, 1, tzinfo=timezone.utc))
        yield crm, server


def test_the_integrators_round_by_webhook(portal: tuple[Bitrix24, MockServer]) -> None:
    crm, server = portal
    bx = PyBitrix24(f"127.0.0.1:{server.port}", user_id=1)

    def call(method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        answer: dict[str, Any] = bx.call_webhook("pyb", method, params)
        return answer

    assert (
        call(
            "crm.contact.userfield.add", {"fields": {"FIELD_NAME": "TG", "USER_TYPE_ID": "string"}}
        )["result"]
        == 1
    )
    made = call(
        "crm.contact.add",
        {
            "fields": {
                "NAME": "Олег",
                "UF_CRM_TG": "@oleg",
                "PHONE": [{"VALUE": "+79990001122", "VALUE_TYPE": "WORK"}],
                "EMAIL": [{"VALUE": "oleg@example.com", "VALUE_TYPE": "HOME"}],
            }
        },
    )
    contact_id = made["result"]
    contact = call("crm.contact.get", {"id": contact_id})["result"]
    assert (contact["NAME"], contact["UF_CRM_TG"], contact["LAST_NAME"]) == ("Олег", "@oleg", None)
    assert contact["EMAIL"][0]["VALUE_TYPE"] == "HOME"
    assert call(
        "crm.contact.update",
        {
            "id": contact_id,
            "fields": {"PHONE": [{"VALUE": "+78880000000", "VALUE_TYPE": "MOBILE"}]},
        },
    )["result"]
    phones = call("crm.contact.get", {"id": contact_id})["result"]["PHONE"]
    assert [p["VALUE"] for p in phones] == ["+79990001122", "+78880000000"]  # no ID: appended
    for number in range(60):
        call(
            "crm.contact.add",
            {"fields": {"NAME": f"n{number}", "TYPE_ID": "PARTNER" if number < 7 else "CLIENT"}},
        )
    seen: list[str] = []
    start: int | None = 0
    while start is not None:
        page = call("crm.contact.list", {"select": ["ID"], "start": start})
        seen += [row["ID"] for row in page["result"]]
        start = page.get("next")
    assert seen == [str(n) for n in range(1, 62)]
    partners = call("crm.contact.list", {"filter": {"TYPE_ID": "PARTNER"}, "select": ["ID"]})
    assert partners["total"] == 7
    assert call("crm.contact.delete", {"id": contact_id})["result"] is True
    missing = call("crm.contact.get", {"id": contact_id})
    assert missing == {"error": "", "error_description": "Not found"}
    batch = bx.call_batch_webhook(
        "pyb",
        {
            "company": ("crm.company.add", {"fields": {"TITLE": "Acme"}}),
            "link": ("crm.contact.update", {"id": 2, "fields": {"COMPANY_ID": "$result[company]"}}),
            "read": ("crm.contact.get", {"id": 2}),
            "bad": ("crm.contact.get", {"id": 999}),
        },
    )["result"]
    assert batch["result"]["read"]["COMPANY_ID"] == str(batch["result"]["company"])
    assert batch["result_error"] == {"bad": {"error": "", "error_description": "Not found"}}
    assert set(batch["result_time"]) == {"company", "link", "read"}
    assert len(crm.records("contact")) == 60


def test_oauth_code_expiry_and_refresh(portal: tuple[Bitrix24, MockServer]) -> None:
    """The application's round: code → tokens at /oauth/token/, calls with auth=, the
    token expires on the server's clock, refresh_tokens() gets a working one."""
    crm, server = portal
    host = f"127.0.0.1:{server.port}"
    bx = PyBitrix24(host, client_id="local.pyb", client_secret="pyb-secret", auth_hostname=host)
    tokens = bx.obtain_tokens(crm.issue_code(user_id="3"))
    assert tokens["expires_in"] == 3600
    assert bx.call("crm.lead.add", {"fields": {"TITLE": "via app"}})["result"] == 1
    crm.clock.advance(3600)
    expired = bx.call("crm.lead.list")
    assert expired == {
        "error": "expired_token",
        "error_description": "The access token provided has expired.",
    }
    renewed = bx.refresh_tokens()
    assert renewed["access_token"] != tokens["access_token"]
    assert bx.call("crm.lead.list")["total"] == 1
    wrong = PyBitrix24(host, client_id="local.pyb", client_secret="guess", auth_hostname=host)
    wrong._refresh_token = renewed["refresh_token"]
    assert wrong.refresh_tokens()["error"] == "invalid_client"


def test_event_binding_through_the_client(portal: tuple[Bitrix24, MockServer]) -> None:
    """The bot's side is another server (plain HTTP here): the portal POSTs to it."""
    import asyncio

    crm, server = portal
    host = f"127.0.0.1:{server.port}"
    bx = PyBitrix24(host, client_id="local.pyb", client_secret="pyb-secret", auth_hostname=host)
    bx.obtain_tokens(crm.issue_code())
    with MockServer() as bot:
        bot.stub({"method": "POST", "path": "/hooks/b24"}, {"status": 200})
        handler = f"{bot.url}/hooks/b24"
        assert bx.call_event_bind("ONCRMDEALADD", handler)["result"] is True
        assert bx.call("crm.deal.add", {"fields": {"TITLE": "evented"}})["result"] == 1
        loop = server._loop
        assert loop is not None
        asyncio.run_coroutine_threadsafe(crm.events_sent(), loop).result(30)
        posted = [(r.form["event"], r.form["data"]) for r in bot.requests]  # type: ignore[index]
    assert posted == [("ONCRMDEALADD", {"FIELDS": {"ID": "1"}})]
    assert bx.call_event_unbind("ONCRMDEALADD", handler)["result"] == {"count": 1}
