"""The tenth probe of the fake Bitrix24 through its client libraries, unchanged.

Each test drives the fake through a real library on a real socket, as an integrator
would, and failed before its fix (docs/hardening.md, "Tenth probe: the fake Bitrix24
through its client libraries"). Where a library needs HTTPS (b24pysdk), the server
serves TLS with a throwaway CA's certificate, as in ``tests/test_crm_b24pysdk.py``.
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timezone

import pytest
import trustme
from b24pysdk import BitrixWebhook, Client, Config
from b24pysdk import constants as sdk_constants
from b24pysdk.errors import BitrixAPIInsufficientScope
from fast_bitrix24 import BitrixAsync
from fast_bitrix24.server_response import ErrorInServerResponseException

from mockserver import MockServer
from mockserver.crm import Bitrix24

#: The moment the portal's clock is frozen at.
FROZEN = datetime(2026, 5, 4, 3, 2, 1, tzinfo=timezone.utc)


@pytest.fixture
def sdk(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Bitrix24, MockServer]]:
    """A portal on HTTPS (user 9, webhook scopes ``crm`` and ``user``) for b24pysdk."""
    Config().configure(default_connect_timeout=120, default_read_timeout=120)
    ca = trustme.CA()
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(context)
    with ca.cert_pem.tempfile() as ca_file, MockServer(ssl_context=context) as server:
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)
        crm = server.mount(
            Bitrix24(user_id="9", secret="lib", plan="unlimited", scope=("crm", "user"))
        )
        crm.clock.freeze(FROZEN)
        yield crm, server
    Config().configure(
        default_connect_timeout=sdk_constants.DEFAULT_CONNECT_TIMEOUT,
        default_read_timeout=sdk_constants.DEFAULT_READ_TIMEOUT,
    )


def sdk_client(server: MockServer, token: str) -> Client:
    """b24pysdk's client of the webhook ``token`` (``user/secret``, or the path
    ``/rest/user/secret/`` that ``issue_webhook`` returns)."""
    token = token.removeprefix("/rest/").strip("/")
    return Client(BitrixWebhook(domain=f"127.0.0.1:{server.port}", webhook_token=token))


@pytest.fixture
async def fast() -> AsyncIterator[tuple[Bitrix24, BitrixAsync]]:
    """A portal on plain HTTP (user 9, webhook scope ``crm`` only) for fast-bitrix24."""
    async with MockServer() as server:
        crm = server.mount(Bitrix24(user_id="9", secret="fast", plan="unlimited"))
        crm.clock.freeze(FROZEN)
        yield crm, BitrixAsync(server.url + crm.webhook_path, verbose=False)


def test_the_sdk_reads_profile_user_current_and_server_time(
    sdk: tuple[Bitrix24, MockServer],
) -> None:
    """``profile`` (``api-reference/common/users/profile.md``, scope ``basic``),
    ``user.current`` (``api-reference/user/user-current.md``, scope ``user``) and
    ``server.time`` (``api-reference/common/system/server-time.md``, scope ``basic``):
    the first calls a client makes to check its webhook; the fake answered each
    ``ERROR_METHOD_NOT_FOUND``."""
    crm, server = sdk
    client = sdk_client(server, "9/lib")
    profile = client.profile().result
    assert profile["ID"] == "9"
    assert profile["ADMIN"] is True
    assert set(profile) == {"ID", "ADMIN", "NAME", "LAST_NAME", "PERSONAL_GENDER", "TIME_ZONE"}
    user = client.user.current().result
    assert (user["ID"], user["ACTIVE"]) == ("9", True)
    assert {"NAME", "LAST_NAME", "EMAIL", "UF_DEPARTMENT"} <= set(user)
    # server.time is the portal's clock, so a test that moves it sees it move
    assert client.server.time().value == FROZEN
    crm.clock.advance(3600)
    assert client.server.time().result == "2026-05-04T04:02:01+00:00"


def test_user_current_needs_a_user_scope_and_profile_none(
    sdk: tuple[Bitrix24, MockServer],
) -> None:
    """A webhook of ``crm`` alone gets ``insufficient_scope`` for ``user.current``
    (its scopes are ``user``, ``user_brief``, ``user_basic``) but ``profile`` and
    ``server.time`` answer any caller (scope ``basic``)."""
    crm, server = sdk
    client = sdk_client(server, crm.issue_webhook("3", ("crm",)))
    assert client.profile().result["ID"] == "3"
    assert client.server.time().value == FROZEN
    with pytest.raises(BitrixAPIInsufficientScope):
        _ = client.user.current().result
    brief = sdk_client(server, crm.issue_webhook("4", ("user_brief",)))
    assert brief.user.current().result["ID"] == "4"


async def test_fast_bitrix24_calls_profile_and_server_time_in_a_batch(
    fast: tuple[Bitrix24, BitrixAsync],
) -> None:
    """fast-bitrix24 sends every ``call()`` as a ``batch`` command, so the methods must be
    known inside ``batch`` too (the fake answered ``ERROR_METHOD_NOT_FOUND`` there)."""
    _, bx = fast
    profile = await bx.call("profile", raw=True)
    assert profile["result"]["ID"] == "9"
    assert await bx.call("server.time", raw=True) == {
        "result": "2026-05-04T03:02:01+00:00",
        "time": profile["time"],
    }
    batch = await bx.call_batch({"halt": 0, "cmd": {"me": "profile", "now": "server.time"}})
    assert batch == {"me": profile["result"], "now": "2026-05-04T03:02:01+00:00"}
    # `scope` with `full` lists every scope the fake has methods of: user.current's too
    assert (await bx.call("scope", {"full": True}, raw=True))["result"] == ["crm", "user"]


async def test_a_batch_command_outside_the_webhooks_scope_is_refused(
    fast: tuple[Bitrix24, BitrixAsync],
) -> None:
    """fast-bitrix24 sends every ``call()`` as a ``batch``, so a webhook of scope
    ``user`` alone created leads through it: the fake checked scopes only for the
    method at the address. ``CRestServerBatchItem::checkAuth`` (the ``rest`` module's
    ``classes/general/rest.php``) checks each command's scope against the caller's and
    throws ``insufficient_scope``, which lands in that command's ``result_error``."""
    crm, bx = fast
    hook = crm.issue_webhook("5", ("user",))
    assert bx.srh.webhook.endswith(crm.webhook_path)
    users_only = BitrixAsync(bx.srh.webhook.removesuffix(crm.webhook_path) + hook, verbose=False)
    with pytest.raises(ErrorInServerResponseException) as refused:
        await users_only.call("crm.lead.add", {"fields": {"TITLE": "not mine"}})
    (error,) = refused.value.args[0].values()
    assert error == {
        "error": "insufficient_scope",
        "error_description": "The request requires higher privileges than provided by the "
        "webhook token",
    }
    assert crm.records("lead") == []
    me = await users_only.call_batch({"halt": 0, "cmd": {"me": "user.current"}})
    assert me["me"]["ID"] == "5"  # its own scope passes
    # event.* inside a batch: a webhook's WRONG_AUTH_TYPE there too (event-bind.md)
    with pytest.raises(ErrorInServerResponseException) as denied:
        await bx.call("event.bind", {"event": "ONCRMLEADADD", "handler": "https://e.x/h"})
    assert [e["error"] for e in denied.value.args[0].values()] == ["WRONG_AUTH_TYPE"]


def test_method_get_says_which_methods_exist_and_may_be_called(
    sdk: tuple[Bitrix24, MockServer],
) -> None:
    """``method.get`` (``api-reference/common/system/method-get.md``, scope ``basic``):
    ``isExisting`` for a method of this portal, spelled in lowercase (``User.Get`` is
    ``false``), ``isAvailable`` when the caller's scopes allow it too; it was
    ``ERROR_METHOD_NOT_FOUND``, so a client checking before it calls found nothing."""
    crm, server = sdk
    client = sdk_client(server, crm.issue_webhook("6", ("crm",)))

    def check(name: str) -> tuple[bool, bool]:
        found = client.method.get(name=name).result
        return found["isExisting"], found["isAvailable"]

    assert check("crm.lead.add") == (True, True)
    assert check("user.current") == (True, False)  # add the scope to the webhook
    assert check("CRM.LEAD.ADD") == (False, False)
    assert check("crm.lead.nothing") == (False, False)
    assert check("method.get") == (True, True)
    assert check("") == (False, False)
